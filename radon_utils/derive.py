"""Derive the tidy radon table from the raw EPA survey files.

The raw files ``srrs2.dat`` (one row per home) and ``cty.dat`` (one row per
county, with its soil uranium) live in ``data/raw/``. ``make data`` runs this
module to rebuild ``data/radon.csv``; the same code derives any state's table.

The steps follow Gelman & Hill (2007) and PyMC's radon primer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

#: Columns written to ``data/radon.csv``, in this order.
COLUMNS = [
    "idnum",
    "state",
    "county",
    "county_code",
    "fips",
    "floor",
    "radon",
    "log_radon",
    "uranium",
    "log_uranium",
]

#: Added to every reading before the log, because a few homes read exactly 0 pCi/L.
RADON_OFFSET = 0.1


def _read_stripped(path: Path) -> pd.DataFrame:
    """Read a comma-separated raw file with names and text values stripped of padding."""
    frame = pd.read_csv(path, skipinitialspace=True, dtype=str)
    frame.columns = frame.columns.str.strip()
    return frame.apply(lambda col: col.str.strip())


def derive_radon(srrs_path: Path | str, cty_path: Path | str, state: str = "MN") -> pd.DataFrame:
    """Return one row per surveyed home of ``state``, with its county's log uranium.

    ``county_code`` numbers the state's counties 0, 1, ... in alphabetical order.
    """
    homes = _read_stripped(Path(srrs_path))
    homes = homes[homes["state"] == state].copy()
    if homes.empty:
        known = ", ".join(sorted(_read_stripped(Path(srrs_path))["state"].unique()))
        raise ValueError(f"no homes for state {state!r} in {srrs_path}; the states there are: {known}")
    homes["fips"] = homes["stfips"].astype(int) * 1000 + homes["cntyfips"].astype(int)

    counties = _read_stripped(Path(cty_path))
    counties["fips"] = counties["stfips"].astype(int) * 1000 + counties["ctfips"].astype(int)
    counties = counties[counties["fips"].isin(homes["fips"])].drop_duplicates(subset="fips")
    counties["uranium"] = counties["Uppm"].astype(float)

    table = homes.merge(counties[["fips", "uranium"]], on="fips", how="left", validate="many_to_one")
    table["idnum"] = table["idnum"].astype(int)
    table["floor"] = table["floor"].astype(int)
    table["radon"] = table["activity"].astype(float)
    table["log_radon"] = np.log(table["radon"] + RADON_OFFSET)
    table["log_uranium"] = np.log(table["uranium"])
    names = sorted(table["county"].unique())
    table["county_code"] = table["county"].map({name: code for code, name in enumerate(names)})
    return table[COLUMNS].reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m radon_utils.derive --raw data/raw --out data/radon.csv``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=Path("data/raw"), help="folder with srrs2.dat and cty.dat")
    parser.add_argument("--out", type=Path, default=Path("data/radon.csv"), help="CSV to write")
    parser.add_argument("--state", default="MN", help="two-letter state code (default MN)")
    args = parser.parse_args(argv)
    table = derive_radon(args.raw / "srrs2.dat", args.raw / "cty.dat", state=args.state)
    table.to_csv(args.out, index=False, lineterminator="\n")
    print(f"wrote {args.out}: {len(table)} homes, {table['county'].nunique()} counties")


if __name__ == "__main__":
    main()
