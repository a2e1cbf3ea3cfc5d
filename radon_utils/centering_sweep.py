"""The evidence of the centering chapter: two sweeps, each a CSV of one row per fit.

``python -m radon_utils.centering_sweep crossover`` rewrites ``data/crossover_sweep.csv``: surveys
simulated from the radon model at the Minnesota posterior's means (:func:`simulation_truth`),
85 counties of 1 to 256 homes each (:data:`HOMES_PER_COUNTY`), fitted centered and non-centered
with several seeds; the efficiency of each fit for ``sigma_a`` and ``sigma_b``.

``python -m radon_utils.centering_sweep forms`` rewrites ``data/forms_sweep.csv``: Minnesota and
the whole survey fitted centered, non-centered and mixed (the counties chosen by
:func:`~radon_utils.centering.choose_centered` from a pilot fit with the same seed), with the
diagnostics and the smallest bulk ESS over the population parameters.

Each file is replaced only when every fit completed and gave its numbers (written beside, then
renamed): a run stopped by Ctrl-C or an error leaves the old file byte for byte.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

from ._sweep_common import read_sweep, round_measured, write_when_complete
from .centering import (
    PILOT_SETTINGS,
    SCALES,
    choose_centered,
    scales_from_fit,
    simulate_survey,
)
from .data import load_radon
from .diagnostics import HYPERPARAMETERS, count_divergences, gradient_evaluations, max_rhat
from .exact import exact_posterior
from .models import PURE_PARAMETERIZATIONS, build_model
from .sampling import compile_nutpie, sample
from .survey import load_survey, model_table

__all__ = [
    "HOMES_PER_COUNTY",
    "SIMULATED_COUNTIES",
    "CROSSOVER_SEEDS",
    "SIMULATION_SEED",
    "FORMS",
    "DATASETS",
    "FORMS_SEEDS",
    "CROSSOVER_COLUMNS",
    "FORMS_COLUMNS",
    "TIMING_COLUMNS",
    "CROSSOVER_PATH",
    "FORMS_PATH",
    "COMMAND",
    "load_crossover_sweep",
    "load_forms_sweep",
    "efficiency",
    "simulation_truth",
    "run_crossover_sweep",
    "run_forms_sweep",
    "measured_crossover",
    "largest_county_corr",
    "intercept_corr",
    "main",
]

#: Homes per county of the simulated surveys.
HOMES_PER_COUNTY = (1, 2, 4, 8, 16, 32, 64, 128, 256)
#: Counties of each simulated survey, as many as Minnesota has.
SIMULATED_COUNTIES = 85
#: Sampler seeds of each simulated survey, and the seed of the surveys themselves.
CROSSOVER_SEEDS = range(1, 6)
SIMULATION_SEED = 0
#: The forms of the model compared on real data, and the data sets. ``"mixed at the means"`` is
#: the rule applied at the pilot's posterior means of the scales instead of their 10% quantiles.
FORMS = ("centered", "noncentered", "mixed", "mixed at the means")
DATASETS = ("minnesota", "national")
FORMS_SEEDS = range(1, 11)

CROSSOVER_COLUMNS = [
    "homes_per_county",
    "parameterization",
    "seed",
    "divergences",
    "max_rhat",
    "ess_sigma_a",
    "ess_sigma_b",
    "gradient_evaluations",
    "sampling_seconds",
    "true_sigma_a",
    "true_sigma_b",
    "true_eps",
]
FORMS_COLUMNS = [
    "dataset",
    "parameterization",
    "seed",
    "divergences",
    "max_rhat",
    "ess_min",
    "ess_min_parameter",
    "ess_sigma_a",
    "ess_sigma_b",
    "sigma_a_mean",
    "sigma_b_mean",
    "largest_county_corr",
    "gradient_evaluations",
    "sampling_seconds",
    "pilot_seconds",
    "centered_a",
    "centered_b",
    "counties",
]
#: Columns that differ between two runs of the same fit (the re-run tests skip them).
TIMING_COLUMNS = ["sampling_seconds", "pilot_seconds"]
_COUNTS = [
    "homes_per_county",
    "seed",
    "divergences",
    "gradient_evaluations",
    "centered_a",
    "centered_b",
    "counties",
]
_TEXT = ["parameterization", "dataset", "ess_min_parameter"]

#: Where the committed files live, relative to the repository root.
CROSSOVER_PATH = Path("data") / "crossover_sweep.csv"
FORMS_PATH = Path("data") / "forms_sweep.csv"
#: The command that rewrites them, followed by ``crossover`` or ``forms``.
COMMAND = "python -m radon_utils.centering_sweep"


def load_crossover_sweep(path: str | Path | None = None) -> pd.DataFrame:
    """The committed crossover sweep (``data/crossover_sweep.csv``) with :func:`efficiency`
    columns."""
    table = read_sweep(CROSSOVER_PATH, path, CROSSOVER_COLUMNS, command=f"{COMMAND} crossover")
    return efficiency(table)


def load_forms_sweep(path: str | Path | None = None) -> pd.DataFrame:
    """The committed comparison of the three forms (``data/forms_sweep.csv``) with
    :func:`efficiency` columns."""
    return efficiency(read_sweep(FORMS_PATH, path, FORMS_COLUMNS, command=f"{COMMAND} forms"))


def efficiency(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with, for each ``ess_*`` column, the same per second of sampling (``*_per_s``)
    and per thousand gradient evaluations (``*_per_kgrad``)."""
    table = table.copy()
    for col in [c for c in table.columns if c.startswith("ess_") and c != "ess_min_parameter"]:
        table[f"{col}_per_s"] = table[col] / table["sampling_seconds"]
        table[f"{col}_per_kgrad"] = 1000 * table[col] / table["gradient_evaluations"]
    return table


def simulation_truth() -> dict[str, float]:
    """The parameters the surveys are simulated with: the exact posterior means on Minnesota."""
    return dict(exact_posterior(load_radon()).mean)


def run_crossover_sweep(
    homes_per_county: Iterable[int] = HOMES_PER_COUNTY, seeds: Iterable[int] = CROSSOVER_SEEDS
) -> pd.DataFrame:
    """Fit each simulated survey centered and non-centered with every seed; one row per fit."""
    truth = simulation_truth()
    rows = []
    for homes in homes_per_county:
        data = simulate_survey(homes, truth, counties=SIMULATED_COUNTIES, seed=SIMULATION_SEED)
        for parameterization in PURE_PARAMETERIZATIONS:
            model = build_model(data, parameterization)
            compile_nutpie(model)  # before the clock runs
            for seed in seeds:
                idata, seconds = _timed_fit(model, seed)
                ess = az.ess(idata, var_names=["sigma_a", "sigma_b"], method="bulk")
                rows.append(
                    {
                        "homes_per_county": homes,
                        "parameterization": parameterization,
                        "seed": seed,
                        "divergences": count_divergences(idata),
                        "max_rhat": max_rhat(idata, list(HYPERPARAMETERS)),
                        "ess_sigma_a": float(ess["sigma_a"]),
                        "ess_sigma_b": float(ess["sigma_b"]),
                        "gradient_evaluations": gradient_evaluations(idata),
                        "sampling_seconds": seconds,
                        **{f"true_{k}": truth[k] for k in SCALES},
                    }
                )
    return _finish(rows, CROSSOVER_COLUMNS)


def run_forms_sweep(
    seeds: Iterable[int] = FORMS_SEEDS,
    datasets: Iterable[str] = DATASETS,
    forms: Iterable[str] = FORMS,
) -> pd.DataFrame:
    """Fit each data set in each form with every seed; the mixed form's counties are chosen from
    a pilot fit with the same seed. One row per fit."""
    tables = {"minnesota": load_radon, "national": lambda: model_table(load_survey())}
    rows = []
    for dataset in datasets:
        data = tables[dataset]()
        pure = {p: build_model(data, p) for p in PURE_PARAMETERIZATIONS if p in forms}
        for model in pure.values():
            compile_nutpie(model)
        for seed in seeds:
            start = time.perf_counter()
            pilot = sample(
                build_model(data, "noncentered"), seed=seed, cache=False, **PILOT_SETTINGS
            )
            pilot_seconds = time.perf_counter() - start  # its compile included
            choices = {
                "mixed": choose_centered(data, scales_from_fit(pilot)),
                "mixed at the means": choose_centered(data, scales_from_fit(pilot, quantile=None)),
            }
            for form in forms:
                choice = choices.get(form, choices["mixed"])
                model = pure.get(form) or build_model(data, "mixed", centered=choice)
                compile_nutpie(model)
                idata, seconds = _timed_fit(model, seed)
                ess = az.ess(idata, var_names=list(HYPERPARAMETERS), method="bulk")
                ess = {name: float(ess[name]) for name in HYPERPARAMETERS}
                slowest = min(ess, key=ess.get)
                rows.append(
                    {
                        "dataset": dataset,
                        "parameterization": form,
                        "seed": seed,
                        "divergences": count_divergences(idata),
                        "max_rhat": max_rhat(idata),
                        "ess_min": ess[slowest],
                        "ess_min_parameter": slowest,
                        "ess_sigma_a": ess["sigma_a"],
                        "ess_sigma_b": ess["sigma_b"],
                        "sigma_a_mean": float(idata.posterior["sigma_a"].mean()),
                        "sigma_b_mean": float(idata.posterior["sigma_b"].mean()),
                        "largest_county_corr": largest_county_corr(idata, data),
                        "gradient_evaluations": gradient_evaluations(idata),
                        "sampling_seconds": seconds,
                        "pilot_seconds": pilot_seconds if form in choices else math.nan,
                        "centered_a": _centered_count(form, choice, "a"),
                        "centered_b": _centered_count(form, choice, "b"),
                        "counties": len(choice["a"]),
                    }
                )
    return _finish(rows, FORMS_COLUMNS)


def measured_crossover(table: pd.DataFrame, column: str) -> float:
    """The homes per county at which the centered fits of the crossover sweep become as efficient
    as the non-centered ones in ``column`` (e.g. ``"ess_sigma_a_per_kgrad"``): the median over
    seeds of each form at each size, and the first size where the centered median overtakes,
    interpolated on log scales between it and the size before. NaN if it never does."""
    medians = table.groupby(["homes_per_county", "parameterization"])[column].median().unstack()
    log_ratio = np.log(medians["centered"] / medians["noncentered"])
    homes = log_ratio.index.to_numpy(dtype=float)
    above = np.flatnonzero(log_ratio.to_numpy() > 0)
    if len(above) == 0:
        return math.nan
    i = above[0]
    if i == 0:
        return float(homes[0])
    r0, r1 = log_ratio.iloc[i - 1], log_ratio.iloc[i]
    share = r0 / (r0 - r1)
    return float(np.exp(np.log(homes[i - 1]) + share * (np.log(homes[i]) - np.log(homes[i - 1]))))


def largest_county_corr(idata: az.InferenceData, data: pd.DataFrame) -> float:
    """:func:`intercept_corr` of the county with the most homes in ``data``."""
    return intercept_corr(idata, data.groupby("county").size().idxmax())


def intercept_corr(idata: az.InferenceData, county: str) -> float:
    """The correlation between ``log(sigma_a)`` and the coordinate the sampler moves for the
    intercept of ``county``: ``a`` (centered), ``z_a`` (non-centered) or ``a_sampled`` (mixed).
    Near 0 when the two move independently, far from 0 on the inverted funnel's ridge (its sign
    is that of ``mu_a - a``)."""
    post = idata.posterior
    name = next(n for n in ("a_sampled", "z_a", "a") if n in post)
    coordinate = post[name].sel(county=county).to_numpy().ravel()
    return float(np.corrcoef(np.log(post["sigma_a"].to_numpy().ravel()), coordinate)[0, 1])


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m radon_utils.centering_sweep {crossover,forms} [--out FILE]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("crossover", "forms"), help="which sweep to run")
    parser.add_argument(
        "--out", type=Path, help="CSV to write (default: the committed file under data/)"
    )
    args = parser.parse_args(argv)
    if args.which == "crossover":
        make: Callable[[], pd.DataFrame] = run_crossover_sweep
        out, what = args.out or CROSSOVER_PATH, "the crossover sweep"
    else:
        make, out, what = run_forms_sweep, args.out or FORMS_PATH, "the forms sweep"
    write_when_complete(make, out, what, "fits")


def _timed_fit(model, seed: int) -> tuple[az.InferenceData, float]:
    """A fresh fit (not read from the fit cache, so that its seconds are real) and its seconds."""
    start = time.perf_counter()
    idata = sample(model, seed=seed, cache=False)
    return idata, time.perf_counter() - start


def _centered_count(form: str, choice: dict[str, pd.Series], effect: str) -> int:
    """How many counties have ``effect`` centered in a fit of ``form``."""
    if form.startswith("mixed"):
        return int(choice[effect].sum())
    return len(choice[effect]) if form == "centered" else 0


def _finish(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """The rows as a table, every number present (a fit that gave none stops the sweep), rounded
    as stored."""
    table = pd.DataFrame(rows, columns=columns)
    numeric = [c for c in columns if c not in _TEXT and c not in TIMING_COLUMNS]
    missing = table[numeric].isna()
    if missing.any(axis=None):
        bad = missing.any(axis=1)
        raise ValueError(
            f"{int(bad.sum())} fit(s) gave no {', '.join(missing.columns[missing.any()])}: "
            f"{table.loc[bad, ['parameterization', 'seed']].to_dict('records')}; "
            "the file was not written"
        )
    return round_measured(table, [c for c in columns if c not in _COUNTS and c not in _TEXT])


if __name__ == "__main__":
    main()
