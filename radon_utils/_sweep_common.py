"""What the sweep commands share: reading a committed sweep file, the seed range of their command
lines, refusing a row without its numbers, the rounding they store, and the one step that
replaces a file only when every fit completed, with the record of where it was computed beside it.

Used by :mod:`radon_utils.sweep`, :mod:`radon_utils.map_sweep`, :mod:`radon_utils.national_sweep`
and :mod:`radon_utils.centering_sweep`; nothing here fits a model.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Iterable
from numbers import Real
from pathlib import Path

import pandas as pd

from .data import find_file, write_csv
from .machine import write_provenance

__all__ = [
    "DIGITS",
    "read_sweep",
    "add_seed_range",
    "seed_range",
    "not_finite",
    "round_measured",
    "write_when_complete",
]

#: Significant digits kept in every sweep file: enough to compare re-runs, few enough to read.
DIGITS = 6


def read_sweep(
    relative: Path,
    path: str | Path | None,
    columns: Iterable[str],
    *,
    command: str,
    takes: str | None = None,
    older: str | None = None,
    **read_csv,
) -> pd.DataFrame:
    """The committed sweep file ``relative`` (found from the working directory upwards), or
    ``path`` if given, read by :func:`pandas.read_csv` with ``read_csv``'s arguments.

    Refuses a file that lacks any of ``columns``: it is from an older sweep (``older`` names it in
    the message), which ``command`` rewrites; ``takes`` says how long that takes, for the message
    when the file is missing.
    """
    hint = f"regenerate it with `{command}`" + (f" ({takes})" if takes else "")
    where = find_file(relative, path, hint=hint)
    table = pd.read_csv(where, **read_csv)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        why = f"it is from an older {older}; " if older else ""
        raise ValueError(f"{where} lacks the column(s) {', '.join(missing)}: {why}run `{command}`")
    return table


def add_seed_range(parser: argparse.ArgumentParser, seeds: range) -> None:
    """Give ``parser`` the options ``--first`` and ``--last`` seed, by default ``seeds``' ends."""
    first, last = min(seeds), max(seeds)
    parser.add_argument("--first", type=int, default=first, help=f"first seed (default {first})")
    parser.add_argument("--last", type=int, default=last, help=f"last seed (default {last})")


def seed_range(parser: argparse.ArgumentParser, args: argparse.Namespace) -> range:
    """The seeds from ``--first`` to ``--last``; a negative or empty range stops the command
    (``parser.error``) before any fit."""
    if args.first < 0:
        parser.error(f"--first ({args.first}) must be 0 or more: seeds are whole numbers from 0")
    if args.last < args.first:
        parser.error(f"--last ({args.last}) must not be below --first ({args.first})")
    return range(args.first, args.last + 1)


def not_finite(row: dict, columns: Iterable[str]) -> list[str]:
    """The ``columns`` of ``row`` that hold no finite number (missing, not a number, NaN or
    infinite): what makes a sweep refuse the row."""
    return [c for c in columns if not isinstance(row.get(c), Real) or not math.isfinite(row[c])]


def round_measured(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``table`` with the floats of ``columns`` rounded to :data:`DIGITS` significant digits (empty
    cells stay empty): what every sweep file stores, so that a re-run compares to the file."""
    table = table.copy()
    for col in columns:
        table[col] = table[col].map(lambda x: x if math.isnan(x) else float(f"{x:.{DIGITS}g}"))
    return table


def write_when_complete(
    make_table: Callable[[], pd.DataFrame], out: Path, what: str, rows: str
) -> None:
    """Write ``make_table()`` to ``out`` (beside, then renamed) only if it returns; if it raises,
    Ctrl-C included, say that ``out`` was not changed and re-raise. The step every sweep command
    ends with; ``what`` names the sweep and ``rows`` its rows in the messages.

    Beside ``out`` goes the record of this machine, the versions, the date and the command line
    (:func:`~radon_utils.machine.write_provenance`): a seed gives the file's numbers again only
    where that record is the same."""
    start = time.perf_counter()
    try:
        table = make_table()
    except BaseException:
        print(
            f"{what} stopped before every one of its {rows} completed; {out} was not changed",
            file=sys.stderr,
        )
        raise
    write_csv(table, out)
    write_provenance(out, " ".join(["python", *sys.orig_argv[1:]]))
    print(f"wrote {out}: {len(table)} {rows} in {time.perf_counter() - start:.0f} s")
