"""The MAP sweep: the optimizer from many starts, and NUTS started at the MAP over many seeds.

``python -m radon_utils.map_sweep`` rewrites ``data/map_sweep.csv``. Chapter 7 reads every
statement about "every start" or "every seed" from that file (:func:`load_map_sweep`), so a
reader can open the evidence; a test re-runs a few rows and checks they match the file. One row
per run, of two kinds:

- ``optimize``: :func:`~radon_utils.modes.maximize_density` (``find_MAP``'s objective) on each
  parameterization, with L-BFGS-B and BFGS, from ``find_MAP``'s default start and from three
  random starts per seed (:func:`~radon_utils.modes.random_start`).
- ``sample from MAP``: nutpie's NUTS on the centered model, started exactly at the MAP that
  L-BFGS-B finds from the default start (``find_MAP``'s answer), one short run per seed
  (:func:`~radon_utils.modes.trace_from`).

The same command writes the same file: the optimizer is deterministic given its start, every
start comes from a seeded generator, and nutpie's draws are fixed by its seed. The file is
replaced only when every run completed and gave its numbers, in one step (written beside, then
renamed): a sweep stopped by Ctrl-C or an error leaves the old file byte for byte.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm

from ._sweep_common import read_sweep, round_measured, write_when_complete
from .data import load_radon
from .models import PURE_PARAMETERIZATIONS, build_model
from .modes import (
    SHORT_DRAWS,
    SHORT_TUNE,
    default_start,
    maximize_density,
    random_start,
    trace_from,
)

__all__ = [
    "COLUMNS",
    "KINDS",
    "METHODS",
    "OPTIMIZE_SEEDS",
    "RANDOM_STARTS",
    "SAMPLE_SEEDS",
    "RELATIVE_PATH",
    "load_map_sweep",
    "run_map_sweep",
    "main",
]

#: Columns of the file, in order, with their types; ``data/README.md`` says what each one means.
#: A column that does not apply to a row's kind is left empty.
COLUMNS = {
    "kind": "string",
    "parameterization": "string",
    "start": "string",
    "seed": "Int64",
    "start_index": "Int64",
    "method": "string",
    "success": "boolean",
    "message": "string",
    "iterations": "Int64",
    "evaluations": "Int64",
    "log_density": "float64",
    "sigma_b": "float64",
    "slope_sd": "float64",
    "sigma_b_max": "float64",
}
#: The two kinds of row.
KINDS = ("optimize", "sample from MAP")
#: The optimizers: ``find_MAP``'s default, and the classic quasi-Newton method it is a variant of.
METHODS = ("L-BFGS-B", "BFGS")
#: Seeds of the generators that draw the random starts, and how many starts each draws.
OPTIMIZE_SEEDS = range(0, 20)
RANDOM_STARTS = 3
#: Seeds of the short NUTS runs started at the MAP.
SAMPLE_SEEDS = range(1, 21)

#: Where the committed file lives, relative to the repository root.
RELATIVE_PATH = Path("data") / "map_sweep.csv"

_COMMAND = "python -m radon_utils.map_sweep"
_MEASURED = ["log_density", "sigma_b", "slope_sd", "sigma_b_max"]
_REQUIRED = {
    "optimize": [
        "success",
        "message",
        "iterations",
        "evaluations",
        "log_density",
        "sigma_b",
        "slope_sd",
    ],
    "sample from MAP": ["iterations", "sigma_b_max"],
}


def load_map_sweep(path: str | Path | None = None) -> pd.DataFrame:
    """The committed MAP sweep (``data/map_sweep.csv``, found from the working directory upwards),
    with its columns' types (whole numbers and ``success`` may be empty)."""
    table = read_sweep(
        RELATIVE_PATH,
        path,
        COLUMNS,
        command=_COMMAND,
        takes="a few minutes",
        older="MAP sweep",
        keep_default_na=False,
        na_values=[""],
    )
    return _typed(table)


def run_map_sweep(
    seeds: Iterable[int] = OPTIMIZE_SEEDS,
    sample_seeds: Iterable[int] = SAMPLE_SEEDS,
    parameterizations: Iterable[str] = PURE_PARAMETERIZATIONS,
    data: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every run of the sweep, one row each (see :data:`COLUMNS`), rounded as stored.

    For each parameterization and method: one run from the default start and
    :data:`RANDOM_STARTS` from each of ``seeds``; then one short NUTS run of the centered model
    from its MAP per seed of ``sample_seeds``. Every run must complete and give its numbers
    (Ctrl-C arrives as ``KeyboardInterrupt``), else nothing is returned.
    """
    data = load_radon() if data is None else data
    seeds, rows = list(seeds), []
    for parameterization in parameterizations:
        model = build_model(data, parameterization)
        for start, seed, index, x0 in _starts(model, seeds):
            for method in METHODS:
                point, result = maximize_density(model, x0, method)
                rows.append(
                    {
                        "kind": "optimize",
                        "parameterization": parameterization,
                        "start": start,
                        "seed": seed,
                        "start_index": index,
                        "method": method,
                        "success": bool(result.success),
                        "message": str(result.message),
                        "iterations": int(result.nit),
                        "evaluations": int(result.nfev),
                        "log_density": -float(result.fun),
                        "sigma_b": float(point["sigma_b"]),
                        "slope_sd": float(np.std(point["b"])),
                    }
                )
    sample_seeds = list(sample_seeds)
    if sample_seeds:
        centered = build_model(data, "centered")
        map_point, _ = maximize_density(centered, default_start(centered), "L-BFGS-B")
        for seed in sample_seeds:
            path = trace_from(centered, map_point, seed=seed)
            rows.append(
                {
                    "kind": "sample from MAP",
                    "parameterization": "centered",
                    "start": "MAP",
                    "seed": seed,
                    "method": "NUTS (nutpie)",
                    "iterations": SHORT_TUNE + SHORT_DRAWS,
                    "sigma_b_max": float(path.max()),
                }
            )
    for row in rows:
        _check_row(row)
    return _rounded(_typed(pd.DataFrame(rows, columns=list(COLUMNS))))


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m radon_utils.map_sweep [--out data/map_sweep.csv]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RELATIVE_PATH, help="CSV to write")
    args = parser.parse_args(argv)
    write_when_complete(run_map_sweep, args.out, "the MAP sweep", "runs")


def _starts(
    model: pm.Model, seeds: list[int]
) -> Iterator[tuple[str, int | None, int | None, np.ndarray]]:
    """``(start, seed, start_index, x0)``: the default start, then each seed's random starts."""
    yield "default", None, None, default_start(model)
    for seed in seeds:
        rng = np.random.default_rng(seed)  # the chapter's generator: its starts are this seed's
        for index in range(1, RANDOM_STARTS + 1):
            yield "random", seed, index, random_start(model, rng)


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with :data:`COLUMNS`' types, in their order."""
    return table[list(COLUMNS)].astype(COLUMNS)


def _rounded(table: pd.DataFrame) -> pd.DataFrame:
    """The table with measured floats rounded as stored
    (:func:`~radon_utils._sweep_common.round_measured`)."""
    return round_measured(table, list(_MEASURED))


def _check_row(row: dict) -> None:
    """Refuse a run that did not give the numbers its kind needs (the file is then not written)."""
    bad = [
        col
        for col in _REQUIRED[row["kind"]]
        if row.get(col) is None or (isinstance(row[col], float) and not math.isfinite(row[col]))
    ]
    if bad:
        raise ValueError(
            f"the {row['kind']} run ({row['parameterization']}, start {row['start']}, "
            f"seed {row.get('seed')}, {row['method']}) gave no finite {', '.join(bad)}; "
            "the file is written only when every row is complete"
        )


if __name__ == "__main__":
    main()
