"""The seed sweep: both parameterizations fitted over many seeds, one CSV row per fit.

``make sweep`` runs ``python -m radon_utils.sweep`` and rewrites ``data/seed_sweep.csv``, which
the divergences chapter reads; a test re-runs two seeds and checks they match the file.

The file is replaced only when every fit completed and every number in it is finite, in one
step (written beside, then renamed): a sweep stopped by Ctrl-C or an error leaves the old file
byte for byte.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterable
from numbers import Real
from pathlib import Path

import pandas as pd

from .data import load_radon, write_csv
from .diagnostics import fit_summary
from .models import PARAMETERIZATIONS, build_model
from .sampling import DEFAULT_TARGET_ACCEPT, sample

__all__ = ["COLUMNS", "DEFAULT_SEEDS", "DIGITS", "RELATIVE_PATH", "main", "rounded", "run_sweep"]

#: Columns of the sweep file, in order.
COLUMNS = ["seed", "parameterization", "divergences", "ess_sigma_b", "max_rhat", "sigma_b_mean", "sigma_b_min"]

#: Seeds the committed file covers.
DEFAULT_SEEDS = range(1, 21)

#: Where the committed file lives, relative to the repository root.
RELATIVE_PATH = Path("data") / "seed_sweep.csv"

#: Significant digits kept in the file: enough to compare re-runs, few enough to read.
DIGITS = 6


def run_sweep(
    seeds: Iterable[int] = DEFAULT_SEEDS,
    data: pd.DataFrame | None = None,
    target_accept: float = DEFAULT_TARGET_ACCEPT,
) -> pd.DataFrame:
    """Fit both parameterizations once per seed with the book's defaults; one row per fit.

    Every fit must complete (:func:`~radon_utils.sampling.sample` raises otherwise, and Ctrl-C
    arrives as ``KeyboardInterrupt``) and give finite numbers, else nothing is returned.
    """
    data = load_radon() if data is None else data
    models = {p: build_model(data, p) for p in PARAMETERIZATIONS}
    rows = []
    for seed in seeds:
        for parameterization, model in models.items():
            idata = sample(model, seed=seed, target_accept=target_accept)
            row = {"seed": seed, "parameterization": parameterization} | fit_summary(idata)
            _check_row(row)
            rows.append(row)
    return rounded(pd.DataFrame(rows, columns=COLUMNS))


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """The sweep table with floats rounded to :data:`DIGITS` significant digits, as stored."""
    table = table.copy()
    for col in ("ess_sigma_b", "max_rhat", "sigma_b_mean", "sigma_b_min"):
        table[col] = table[col].map(lambda x: float(f"{x:.{DIGITS}g}"))
    return table


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m radon_utils.sweep [--seeds 1-20] [--out data/seed_sweep.csv]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, default=min(DEFAULT_SEEDS), help="first seed (default 1)")
    parser.add_argument("--last", type=int, default=max(DEFAULT_SEEDS), help="last seed (default 20)")
    parser.add_argument("--out", type=Path, default=RELATIVE_PATH, help="CSV to write")
    args = parser.parse_args(argv)
    if args.first < 0:
        parser.error(f"--first ({args.first}) must be 0 or more: seeds are whole numbers from 0")
    if args.last < args.first:
        parser.error(f"--last ({args.last}) must not be below --first ({args.first})")
    start = time.perf_counter()
    try:
        table = run_sweep(range(args.first, args.last + 1))
    except BaseException:
        print(f"the sweep stopped before every fit completed; {args.out} was not changed", file=sys.stderr)
        raise
    write_csv(table, args.out)
    print(f"wrote {args.out}: {len(table)} fits in {time.perf_counter() - start:.0f} s")


def _check_row(row: dict) -> None:
    """Refuse a row with a missing or non-finite number (a fit that did not give its summary)."""
    bad = [col for col in COLUMNS[2:] if not isinstance(row.get(col), Real) or not math.isfinite(row[col])]
    if bad:
        raise ValueError(
            f"the fit of seed {row['seed']} ({row['parameterization']}) gave no finite {', '.join(bad)}; "
            "the sweep file is written only when every row is complete"
        )


if __name__ == "__main__":
    main()
