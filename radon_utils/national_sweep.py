"""The national seed sweep: the whole survey's model over many seeds, each beside Minnesota alone.

``python -m radon_utils.national_sweep`` rewrites ``data/national_sweep.csv``: one row per seed and
parameterization of the whole-survey model (:func:`~radon_utils.survey.load_survey`), with its
diagnostics, its population parameters, and, where a Minnesota comparison applies
(:data:`MINNESOTA_COMPARISON`), the same numbers from the Minnesota table alone, fitted with the
same seed, and how Minnesota's 85 counties move between the two fits. The appendix on the whole
survey reads every statement of the form "on every seed" from that file
(:func:`load_national_sweep`); a test re-runs one row and checks it matches the file.

The file is replaced only when every fit completed and gave its numbers, in one step (written
beside, then renamed): a run stopped by Ctrl-C or an error leaves the old file byte for byte.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Iterable
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

from ._sweep_common import (
    add_seed_range,
    not_finite,
    read_sweep,
    round_measured,
    seed_range,
    write_when_complete,
)
from .data import load_radon
from .diagnostics import HYPERPARAMETERS, count_divergences, gradient_evaluations, max_rhat
from .models import build_model
from .sampling import compile_nutpie, sample
from .survey import load_survey, model_table
from .sweep import NECK

__all__ = [
    "POPULATION_COLUMNS",
    "POOLING_COLUMNS",
    "MINNESOTA_COLUMNS",
    "COLUMNS",
    "TIMING_COLUMNS",
    "COUNT_COLUMNS",
    "DEFAULT_SEEDS",
    "DEFAULT_PARAMETERIZATIONS",
    "MINNESOTA_COMPARISON",
    "FEW_HOMES",
    "MANY_HOMES",
    "RELATIVE_PATH",
    "COMMAND",
    "load_national_sweep",
    "run_national_sweep",
    "fit_row",
    "population_summary",
    "county_estimates",
    "pooling_summary",
    "main",
]

#: Columns the population of a fit is summarized by (:func:`population_summary`), without prefix.
POPULATION_COLUMNS = [f"{name}_mean" for name in HYPERPARAMETERS] + [
    "sigma_b_sd",
    "p_sigma_b_below_0_1",
]
#: Columns comparing Minnesota's counties between the two fits (:func:`pooling_summary`).
POOLING_COLUMNS = [
    "shift_a_mean",
    "share_a_lower",
    "shift_a_max",
    "shift_a_few_homes",
    "shift_a_many_homes",
    "spread_b_minnesota",
    "spread_b_national",
    "shift_b_mean",
]
#: Columns that need the Minnesota-alone fit: empty for a parameterization without one.
MINNESOTA_COLUMNS = [f"minnesota_{c}" for c in POPULATION_COLUMNS] + POOLING_COLUMNS
#: Columns of the file, in order; ``data/README.md`` says what each one means.
COLUMNS = [
    "seed",
    "parameterization",
    "divergences",
    "max_rhat",
    "ess_sigma_b",
    "ess_population_min",
    *POPULATION_COLUMNS,
    *MINNESOTA_COLUMNS,
    "gradient_evaluations",
    "sampling_seconds",
]
#: Columns that differ between two runs of the same fit (the re-run test skips them).
TIMING_COLUMNS = ["sampling_seconds"]
#: Columns holding counts, stored as whole numbers rather than rounded floats.
COUNT_COLUMNS = ["seed", "divergences", "gradient_evaluations"]

#: Seeds the committed file covers.
DEFAULT_SEEDS = range(1, 11)
#: Parameterizations of the national model the committed file covers.
DEFAULT_PARAMETERIZATIONS = ("noncentered",)
#: For each national parameterization, the parameterization of the Minnesota-alone fit it is
#: compared with (same seed); one without an entry leaves :data:`MINNESOTA_COLUMNS` empty.
MINNESOTA_COMPARISON = {"noncentered": "noncentered"}

#: A Minnesota county with at most this many homes counts as "few homes" ...
FEW_HOMES = 3
#: ... and one with at least this many as "many homes".
MANY_HOMES = 20

#: Where the committed file lives, relative to the repository root.
RELATIVE_PATH = Path("data") / "national_sweep.csv"
#: The command that rewrites it.
COMMAND = "python -m radon_utils.national_sweep"


def load_national_sweep(path: str | Path | None = None) -> pd.DataFrame:
    """The committed national sweep (``data/national_sweep.csv``, found from the working
    directory upwards)."""
    return read_sweep(
        RELATIVE_PATH,
        path,
        COLUMNS,
        command=COMMAND,
        takes="about five minutes",
        older="national sweep",
    )


def run_national_sweep(
    seeds: Iterable[int] = DEFAULT_SEEDS,
    parameterizations: Iterable[str] = DEFAULT_PARAMETERIZATIONS,
    survey: pd.DataFrame | None = None,
    minnesota: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Fit the whole-survey model once per seed and parameterization with the book's sampling
    defaults, and the Minnesota table alone with the same seed; one row per national fit (see
    :data:`COLUMNS`).

    Every fit must complete (:func:`~radon_utils.sampling.sample` raises otherwise, and Ctrl-C
    arrives as ``KeyboardInterrupt``) and give its numbers, else nothing is returned. Fits are
    sampled afresh (not read from the fit cache), so that their seconds are real.
    """
    survey = load_survey() if survey is None else survey
    minnesota = load_radon() if minnesota is None else minnesota
    parameterizations = list(parameterizations)
    national = {p: build_model(model_table(survey), p) for p in parameterizations}
    compared = [MINNESOTA_COMPARISON[p] for p in parameterizations if p in MINNESOTA_COMPARISON]
    alone = {p: build_model(minnesota, p) for p in dict.fromkeys(compared)}
    for model in (*national.values(), *alone.values()):  # compiled before the clock runs
        compile_nutpie(model)
    rows = []
    for seed in seeds:
        minnesota_fits: dict[str, az.InferenceData] = {}
        for parameterization, model in national.items():
            start = time.perf_counter()
            idata = sample(model, seed=seed, cache=False)
            seconds = time.perf_counter() - start
            partner = MINNESOTA_COMPARISON.get(parameterization)
            if partner is not None and partner not in minnesota_fits:
                minnesota_fits[partner] = sample(alone[partner], seed=seed, cache=False)
            row = {"seed": seed, "parameterization": parameterization}
            row |= fit_row(idata, minnesota_fits.get(partner), minnesota) | {
                "sampling_seconds": seconds
            }
            _check_row(row)
            rows.append(row)
    return _rounded(pd.DataFrame(rows, columns=COLUMNS))


def fit_row(
    national: az.InferenceData, minnesota: az.InferenceData | None, data: pd.DataFrame
) -> dict[str, float]:
    """What the file stores about one national fit (all columns but the settings and the seconds).

    ``minnesota`` is the fit of the Minnesota table ``data`` alone to compare with, or ``None``,
    which leaves :data:`MINNESOTA_COLUMNS` empty (NaN).
    """
    hyper = az.ess(national, var_names=list(HYPERPARAMETERS), method="bulk")
    row = {
        "divergences": count_divergences(national),
        "max_rhat": max_rhat(national),
        "ess_sigma_b": float(hyper["sigma_b"]),
        "ess_population_min": min(float(hyper[name]) for name in HYPERPARAMETERS),
        **population_summary(national),
        "gradient_evaluations": gradient_evaluations(national),
    }
    if minnesota is None:
        return row | dict.fromkeys(MINNESOTA_COLUMNS, math.nan)
    row |= {f"minnesota_{name}": value for name, value in population_summary(minnesota).items()}
    return row | pooling_summary(county_estimates(minnesota, national, data))


def population_summary(idata: az.InferenceData) -> dict[str, float]:
    """The posterior means of the population parameters, the sd of ``sigma_b`` and the share of
    draws in the neck (``sigma_b < NECK``), keyed as in :data:`COLUMNS` (``mu_a_mean``, ...)."""
    post = idata.posterior
    sigma_b = post["sigma_b"].to_numpy()
    means = {f"{name}_mean": float(post[name].mean()) for name in HYPERPARAMETERS}
    return means | {
        "sigma_b_sd": float(sigma_b.std()),
        "p_sigma_b_below_0_1": float((sigma_b < NECK).mean()),
    }


def county_estimates(
    minnesota: az.InferenceData, national: az.InferenceData, data: pd.DataFrame
) -> pd.DataFrame:
    """Each Minnesota county's homes and the posterior means of its intercept ``a`` and slope
    ``b`` in both fits: columns ``homes``, ``a_minnesota``, ``a_national``, ``b_minnesota``,
    ``b_national``, indexed by county name (in the national fit the county is ``MN:<name>``)."""
    counties = sorted(data["county"].unique())
    in_survey = [f"MN:{c}" for c in counties]

    def means(idata: az.InferenceData, var: str, names: list[str]) -> np.ndarray:
        return idata.posterior[var].sel(county=names).mean(("chain", "draw")).to_numpy()

    return pd.DataFrame(
        {
            "homes": data.groupby("county").size().loc[counties].to_numpy(),
            "a_minnesota": means(minnesota, "a", counties),
            "a_national": means(national, "a", in_survey),
            "b_minnesota": means(minnesota, "b", counties),
            "b_national": means(national, "b", in_survey),
        },
        index=pd.Index(counties, name="county"),
    )


def pooling_summary(estimates: pd.DataFrame) -> dict[str, float]:
    """How Minnesota's counties move from the Minnesota-alone fit to the national one
    (``estimates`` from :func:`county_estimates`): the intercepts' mean shift, the share that
    moves down, the largest shift (a rise if positive), the mean shift of the counties with at most
    :data:`FEW_HOMES` and with at least :data:`MANY_HOMES` homes; the sd of the slope means in each
    fit and the slopes' mean shift. Shifts are national minus Minnesota alone."""
    shift_a = estimates["a_national"] - estimates["a_minnesota"]
    few, many = estimates["homes"] <= FEW_HOMES, estimates["homes"] >= MANY_HOMES
    return {
        "shift_a_mean": float(shift_a.mean()),
        "share_a_lower": float((shift_a < 0).mean()),
        "shift_a_max": float(shift_a.max()),
        "shift_a_few_homes": float(shift_a[few].mean()),
        "shift_a_many_homes": float(shift_a[many].mean()),
        "spread_b_minnesota": float(estimates["b_minnesota"].std()),
        "spread_b_national": float(estimates["b_national"].std()),
        "shift_b_mean": float((estimates["b_national"] - estimates["b_minnesota"]).mean()),
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m radon_utils.national_sweep [--first 1] [--last 10]
    [--out data/national_sweep.csv]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_seed_range(parser, DEFAULT_SEEDS)
    parser.add_argument("--out", type=Path, default=RELATIVE_PATH, help="CSV to write")
    args = parser.parse_args(argv)
    seeds = seed_range(parser, args)
    write_when_complete(lambda: run_national_sweep(seeds), args.out, "the national sweep", "fits")


def _rounded(table: pd.DataFrame) -> pd.DataFrame:
    """The table with measured floats rounded as stored
    (:func:`~radon_utils._sweep_common.round_measured`)."""
    return round_measured(
        table, [c for c in COLUMNS if c not in COUNT_COLUMNS and c != "parameterization"]
    )


def _check_row(row: dict) -> None:
    """Refuse a row with a missing or non-finite number (a fit that did not give its summary);
    only the Minnesota columns of a parameterization without a Minnesota comparison may be empty."""
    may_be_empty = (
        MINNESOTA_COLUMNS if row.get("parameterization") not in MINNESOTA_COMPARISON else []
    )
    bad = not_finite(row, [c for c in COLUMNS[2:] if c not in may_be_empty])
    if bad:
        raise ValueError(
            f"the fit of seed {row['seed']} ({row['parameterization']}) gave no finite "
            f"{', '.join(bad)}; the national sweep file is written only when every row is complete"
        )


if __name__ == "__main__":
    main()
