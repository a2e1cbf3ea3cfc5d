"""Derive the tidy radon table from the raw EPA survey files.

The raw files ``srrs2.dat`` (one row per home) and ``cty.dat`` (one row per
county, with its soil uranium) live in ``data/raw/``. ``make data`` runs this
module to rebuild ``data/radon.csv``; the same code derives any state's table.

The steps follow Gelman & Hill (2007) and PyMC's radon primer.

Nothing is derived from a damaged file. Each raw file is checked line by line (every line
has the header's number of fields and ends with a newline, so a file cut mid-line is refused
with its line named), every number it contributes must be finite, and its sha256 must be the
one recorded in :data:`RAW_SHA256` (quoted in ``data/README.md``), which refuses a file cut at a
line boundary too. ``data/radon.csv`` is replaced in one step, only once all of that passed.

The reading, the checks and the derived columns (:func:`fips_code`, :func:`log_radon`,
:func:`county_codes`) are public because :mod:`radon_utils.survey` derives the whole survey
with them, so that its Minnesota rows match ``data/radon.csv``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
from pathlib import Path

import numpy as np
import pandas as pd

from .data import RadonDataError, validate_radon, write_csv

__all__ = [
    "COLUMNS",
    "RADON_OFFSET",
    "RAW_SHA256",
    "RAW_HINT",
    "derive_radon",
    "main",
    "read_raw",
    "numeric_column",
    "verify_raw_file",
    "fips_code",
    "log_radon",
    "county_codes",
]

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

#: The sha256 of each committed raw file, by name: the one record of them (``data/README.md``
#: quotes it, and a test checks that it does). A changed file is refused, whatever the change.
RAW_SHA256 = {
    "srrs2.dat": "241219ed05d4bf7dc171ca279c69db7f8d87ae666feae86161c973483a054877",
    "cty.dat": "5aa648547b9b565d77b9f55defd2f292520441cc6df7a27206802006dade7b63",
}

#: How to get the committed raw files back.
RAW_HINT = (
    "restore the committed raw files with `git checkout -- data/raw` "
    "(data/README.md says where they come from)"
)

#: Raw columns each file must have for the Minnesota table.
_HOME_COLUMNS = ("idnum", "state", "stfips", "cntyfips", "county", "floor", "activity")
_COUNTY_COLUMNS = ("stfips", "ctfips", "Uppm")


def derive_radon(srrs_path: Path | str, cty_path: Path | str, state: str = "MN") -> pd.DataFrame:
    """Return one row per surveyed home of ``state``, with its county's log uranium.

    ``county_code`` numbers the state's counties 0, 1, ... in alphabetical order. Raises
    :class:`~radon_utils.data.RadonDataError` naming the file and line of any damage, or the
    file whose sha256 is not the recorded one (see the module's docstring).
    """
    srrs_path, cty_path = Path(srrs_path), Path(cty_path)
    homes = _homes_of_state(srrs_path, state)
    counties = read_raw(cty_path, _COUNTY_COLUMNS)
    for col in ("stfips", "ctfips"):
        counties[col] = numeric_column(counties, col, cty_path, whole=True)
    counties["fips"] = fips_code(counties["stfips"], counties["ctfips"])
    counties = counties[counties["fips"].isin(homes["fips"])].drop_duplicates(subset="fips")
    counties["uranium"] = numeric_column(counties, "Uppm", cty_path)

    table = homes.merge(
        counties[["fips", "uranium"]], on="fips", how="left", validate="many_to_one"
    )
    table["radon"] = table["activity"]
    table["log_radon"] = log_radon(table["radon"])
    with np.errstate(divide="ignore"):  # a zero reading gives -inf, which the check below names
        table["log_uranium"] = np.log(table["uranium"])
    table["county_code"] = county_codes(table["county"])
    table = table[COLUMNS].reset_index(drop=True)

    _check_measured(table, f"the {state} table derived from {srrs_path} and {cty_path}")
    verify_raw_file(srrs_path, RAW_SHA256["srrs2.dat"])
    verify_raw_file(cty_path, RAW_SHA256["cty.dat"])
    return table


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m radon_utils.derive --raw data/raw --out data/radon.csv``.

    Writes ``--out`` only when the derivation succeeded, in one step; on bad input it exits
    with the reason and leaves ``--out`` as it was.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--raw", type=Path, default=Path("data/raw"), help="folder with srrs2.dat and cty.dat"
    )
    parser.add_argument("--out", type=Path, default=Path("data/radon.csv"), help="CSV to write")
    parser.add_argument("--state", default="MN", help="two-letter state code (default MN)")
    args = parser.parse_args(argv)
    if not args.raw.is_dir():
        parser.error(
            f"--raw {args.raw} is not a folder; pass the folder holding srrs2.dat and cty.dat"
        )
    try:
        table = derive_radon(args.raw / "srrs2.dat", args.raw / "cty.dat", state=args.state)
        # What load_radon will demand of the file (floor 0 or 1, one code per county...).
        validate_radon(
            table, source=f"the {args.state} table derived from {args.raw}", hint=RAW_HINT
        )
    except RadonDataError as error:
        raise SystemExit(f"radon_utils.derive: {error}\n{args.out} was not changed.") from error
    write_csv(table, args.out)
    print(f"wrote {args.out}: {len(table)} homes, {table['county'].nunique()} counties")


def read_raw(path: Path, columns: tuple[str, ...] = (), hint: str = RAW_HINT) -> pd.DataFrame:
    """Read a raw file as text columns stripped of padding, refusing a file that is missing, empty,
    lacks one of ``columns``, or has a line that is cut short or damaged (see :func:`_check_lines`).

    The frame's index ``i`` is the file's line ``i + 2`` (line 1 is the header). A blank field
    is missing (NaN), e.g. the county name of a few Pennsylvania homes.
    """
    if path.is_dir():
        raise RadonDataError(f"{path} is a folder, not a raw survey file; {hint}")
    if not path.is_file():
        raise RadonDataError(f"{path} does not exist; {hint}")
    _check_lines(path, hint)
    try:
        frame = _read_stripped(path)
    except pd.errors.EmptyDataError:
        raise RadonDataError(f"{path} is empty; {hint}") from None
    if frame.empty:
        raise RadonDataError(f"{path} has no rows; {hint}")
    missing = [col for col in columns if col not in frame.columns]
    if missing:
        raise RadonDataError(f"{path} lacks the column(s) {', '.join(missing)}; {hint}")
    return frame


def numeric_column(
    frame: pd.DataFrame, col: str, path: Path, *, whole: bool = False, hint: str = RAW_HINT
) -> pd.Series:
    """Column ``col`` of a frame :func:`read_raw` returned, as finite numbers (whole ones if
    ``whole``); a blank, text, ``inf`` or fraction is refused with the file and line named."""
    values = pd.to_numeric(frame[col], errors="coerce")
    bad = ~np.isfinite(values.to_numpy(dtype=float))
    if whole:
        bad |= values.to_numpy(dtype=float) % 1 != 0
    if bad.any():
        label = frame.index[int(np.flatnonzero(bad)[0])]
        kind = "whole number" if whole else "finite number"
        raise RadonDataError(
            f"{path}, line {int(label) + 2}: column {col!r} holds {frame[col].loc[label]!r}, "
            f"not a {kind} (the file may be damaged); {hint}"
        )
    # Python's own float parsing, as the committed radon.csv was made with (bit for bit).
    numbers = frame[col].astype(float)
    return numbers.astype(int) if whole else numbers


def verify_raw_file(path: Path, expected: str, hint: str = RAW_HINT) -> None:
    """Refuse ``path`` unless its sha256 is ``expected``: a file cut at a line boundary or edited
    reads as well-formed, but it is not the survey the book's figures come from."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise RadonDataError(
            f"{path} is not the committed survey file: its sha256 is {digest}, but data/README.md "
            f"records {expected} (it may be cut short, edited or another edition); {hint}"
        )


def fips_code(state_fips: pd.Series, county_fips: pd.Series) -> pd.Series:
    """The five-digit FIPS code of a county, ``state * 1000 + county`` (27001 is Aitkin County,
    Minnesota): the key that joins a home of ``srrs2.dat`` to its county's row of ``cty.dat``.

    Takes whole numbers, as :func:`numeric_column` returns them with ``whole=True``.
    """
    return state_fips * 1000 + county_fips


def log_radon(radon: pd.Series) -> pd.Series:
    """The modelled outcome, ``log(radon + RADON_OFFSET)``: the offset keeps the few readings of
    exactly 0 pCi/L finite (at ``log(0.1)``) instead of dropping those homes."""
    return np.log(radon + RADON_OFFSET)


def county_codes(names: pd.Series) -> pd.Series:
    """Number the distinct ``names`` 0, 1, ... in sorted (alphabetical) order, one code per row.

    This makes the ``county_code`` column: of the counties in ``data/radon.csv``, of the areas
    (``"<state>:<county>"``) in the whole survey. :func:`radon_utils.data.county_index` reads
    it back as the index the models use.
    """
    ordered = sorted(names.unique())
    return names.map({name: code for code, name in enumerate(ordered)})


def _homes_of_state(srrs_path: Path, state: str) -> pd.DataFrame:
    """The homes of ``state`` in ``srrs2.dat``, with their numbers checked and ``fips`` added."""
    homes = read_raw(srrs_path, _HOME_COLUMNS)
    in_state = homes[homes["state"] == state].copy()
    if in_state.empty:
        known = ", ".join(sorted(homes["state"].dropna().unique()))
        raise RadonDataError(
            f"no homes for state {state!r} in {srrs_path}; the states there are: {known}"
        )
    for col in ("idnum", "stfips", "cntyfips", "floor"):
        in_state[col] = numeric_column(in_state, col, srrs_path, whole=True)
    in_state["activity"] = numeric_column(in_state, "activity", srrs_path)
    in_state["fips"] = fips_code(in_state["stfips"], in_state["cntyfips"])
    return in_state


def _check_measured(table: pd.DataFrame, source: str) -> None:
    """Refuse a derived table with a missing or infinite measurement, naming the homes (e.g. a
    county absent from ``cty.dat``, or whose ``Uppm`` is 0, has no finite ``log_uranium``)."""
    for col in ("radon", "log_radon", "uranium", "log_uranium"):
        bad = ~np.isfinite(table[col].to_numpy(dtype=float))
        if bad.any():
            homes = table.loc[bad, "idnum"].tolist()
            shown = ", ".join(map(str, homes[:5])) + (
                f" and {len(homes) - 5} more" if len(homes) > 5 else ""
            )
            raise RadonDataError(
                f"{source}: {len(homes)} home(s) have no finite {col} (idnum {shown}); "
                f"their county may be missing from cty.dat or have Uppm 0; {RAW_HINT}"
            )


def _check_lines(path: Path, hint: str) -> None:
    """Refuse a file whose last line lacks its newline (cut mid-line) or whose lines do not all
    have the header's number of comma-separated fields, naming the first such line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RadonDataError(f"{path} is not a text file ({error}); {hint}") from None
    if text and not text.endswith("\n"):
        raise RadonDataError(
            f"{path}, line {text.count(chr(10)) + 1}: the last line does not end with a newline, "
            f"so the file was cut short mid-line; {hint}"
        )
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    for row in reader:
        if len(row) != len(header):
            raise RadonDataError(
                f"{path}, line {reader.line_num}: {len(row)} fields where the header has "
                f"{len(header)} (the file may be cut short or damaged); {hint}"
            )


def _read_stripped(path: Path) -> pd.DataFrame:
    """Read a comma-separated raw file with names and text values stripped of padding."""
    frame = pd.read_csv(path, skipinitialspace=True, dtype=str)
    frame.columns = frame.columns.str.strip()
    return frame.apply(lambda col: col.str.strip())


if __name__ == "__main__":
    main()
