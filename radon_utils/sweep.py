"""The seed sweep: both parameterizations, a ladder of ``target_accept``, many seeds; a row per fit.

``make sweep`` runs ``python -m radon_utils.sweep`` and rewrites ``data/seed_sweep.csv``. The
chapters read every statement of the form "on every seed" from that file (:func:`load_sweep`), so
a reader can open the evidence; a test re-runs a few rows and checks they match the file.

The file is replaced only when every fit completed and gave its numbers, in one step (written
beside, then renamed): a sweep stopped by Ctrl-C or an error leaves the old file byte for byte.
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
from .data import funnel_county, load_radon
from .diagnostics import (
    HYPERPARAMETERS,
    count_divergences,
    county_intervals,
    divergent_steps,
    funnel_spread_ratio,
    gradient_evaluations,
    max_rhat,
)
from .exact import exact_posterior
from .models import PURE_PARAMETERIZATIONS, build_model
from .sampling import compile_nutpie, sample

__all__ = [
    "COLUMNS",
    "DIVERGENCE_COLUMNS",
    "NONCENTERED_COLUMNS",
    "TIMING_COLUMNS",
    "DEFAULT_SEEDS",
    "TARGET_ACCEPTS",
    "NECK",
    "SLOPE_PROBS",
    "RELATIVE_PATH",
    "load_sweep",
    "run_sweep",
    "fit_row",
    "rounded",
    "main",
]

#: Columns of the sweep file, in order; ``data/README.md`` says what each one means.
COLUMNS = [
    "seed",
    "parameterization",
    "target_accept",
    "divergences",
    "max_rhat",
    "rhat_sigma_b",
    "ess_sigma_b",
    "ess_tail_sigma_b",
    "ebfmi_min",
    "step_size",
    "sigma_b_mean",
    "sigma_b_mcse_mean",
    "sigma_b_median",
    "sigma_b_min",
    "sigma_b_max",
    "p_sigma_b_below_0_1",
    "p_sigma_b_below_0_1_chain_min",
    "p_sigma_b_below_0_1_chain_max",
    "mu_a_mean",
    "mu_b_mean",
    "eps_mean",
    "sigma_a_min",
    "ess_sigma_a",
    "rhat_sigma_a",
    "slope_spread_correlation",
    "funnel_ratio_b",
    "funnel_ratio_z",
    "step_in_b",
    "slope_mean_error_max",
    "slope_intervals_missing_exact_mean",
    "slope_width_ratio_min",
    "slope_width_ratio_median",
    "divergent_sigma_b_median",
    "divergent_sigma_b_max",
    "divergent_share_below_median",
    "divergence_start_sigma_b_median",
    "divergence_start_sigma_b_max",
    "divergence_log_sigma_b_jump_median",
    "gradient_evaluations",
    "sampling_seconds",
]
#: Columns with no value when a fit has no divergence (left empty in the file).
DIVERGENCE_COLUMNS = [c for c in COLUMNS if c.startswith("divergen") and c != "divergences"]
#: Columns that only the non-centered model has (empty for the centered one).
NONCENTERED_COLUMNS = ["funnel_ratio_z"]
#: Columns that differ between two runs of the same fit (the re-run test skips them).
TIMING_COLUMNS = ["sampling_seconds"]

#: Seeds the committed file covers.
DEFAULT_SEEDS = range(1, 21)
#: The ``target_accept`` ladder: the default 0.8 and the three usual remedies.
TARGET_ACCEPTS = (0.8, 0.9, 0.95, 0.99)
#: "The neck": the book's threshold for a small ``sigma_b``.
NECK = 0.1
#: The county slopes are compared with the exact posterior by their central 90% intervals.
SLOPE_PROBS = (0.05, 0.95)

#: Where the committed file lives, relative to the repository root: the one place that names it.
RELATIVE_PATH = Path("data") / "seed_sweep.csv"


def load_sweep(path: str | Path | None = None) -> pd.DataFrame:
    """The committed sweep (``data/seed_sweep.csv``, found from the working directory upwards)."""
    return read_sweep(
        RELATIVE_PATH, path, COLUMNS, command="make sweep", takes="it takes a while", older="sweep"
    )


def run_sweep(
    seeds: Iterable[int] = DEFAULT_SEEDS,
    target_accepts: Iterable[float] = TARGET_ACCEPTS,
    parameterizations: Iterable[str] = PURE_PARAMETERIZATIONS,
    data: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Fit each parameterization once per seed and ``target_accept`` with the book's other
    defaults; one row per fit (see :data:`COLUMNS`).

    Every fit must complete (:func:`~radon_utils.sampling.sample` raises otherwise, and Ctrl-C
    arrives as ``KeyboardInterrupt``) and give its numbers, else nothing is returned. Fits are
    sampled afresh (not read from the fit cache), so that their seconds are real.
    """
    data = load_radon() if data is None else data
    county = funnel_county(data)
    exact_slopes = exact_posterior(data).county_effects("b", probs=SLOPE_PROBS)
    models = {p: build_model(data, p) for p in parameterizations}
    for model in models.values():  # compiled before the clock runs: the seconds are sampling only
        compile_nutpie(model)
    rows = []
    for target_accept in target_accepts:
        for seed in seeds:
            for parameterization, model in models.items():
                start = time.perf_counter()
                idata = sample(
                    model,
                    seed=seed,
                    target_accept=target_accept,
                    cache=False,
                    store_divergences=True,
                )
                seconds = time.perf_counter() - start
                row = {
                    "seed": seed,
                    "parameterization": parameterization,
                    "target_accept": target_accept,
                }
                row |= fit_row(idata, county, exact_slopes) | {"sampling_seconds": seconds}
                _check_row(row)
                rows.append(row)
    return rounded(pd.DataFrame(rows, columns=COLUMNS))


def fit_row(idata: az.InferenceData, county: str, exact_slopes: pd.DataFrame) -> dict[str, float]:
    """What the sweep stores about one fit (all columns but the settings and the seconds).

    ``county`` is the county whose slope sets the funnel's scale
    (:func:`~radon_utils.data.funnel_county`): ``step_in_b`` is the adapted step size times that
    slope's posterior sd, the distance one leapfrog step moves it. ``exact_slopes`` is the exact
    posterior of the county slopes (``ExactPosterior.county_effects("b", probs=SLOPE_PROBS)``),
    against which the fit's slopes are compared: their largest error of the mean, how many 90%
    intervals miss the exact mean, and the width of the fit's 90% intervals over the exact ones.
    """
    post, stats = idata.posterior, idata.sample_stats
    sigma_b = post["sigma_b"].to_numpy()
    diverging = stats["diverging"].to_numpy().astype(bool)
    below = sigma_b < NECK
    step_size = float(stats["step_size"].isel(draw=-1).mean())
    sigma_b_median = float(np.median(sigma_b))
    spread = post["b"].std("county").to_numpy().ravel()
    summary = az.summary(
        idata, var_names=["sigma_a", "sigma_b"], kind="diagnostics", round_to="none"
    )
    means = post[["mu_a", "mu_b", "eps"]].mean()
    row = {
        "divergences": count_divergences(idata),
        "max_rhat": max_rhat(idata, [*HYPERPARAMETERS, "a", "b"]),
        "rhat_sigma_b": float(summary.loc["sigma_b", "r_hat"]),
        "ess_sigma_b": float(summary.loc["sigma_b", "ess_bulk"]),
        "ess_tail_sigma_b": float(summary.loc["sigma_b", "ess_tail"]),
        "ebfmi_min": float(az.bfmi(idata).min()),
        "step_size": step_size,
        "sigma_b_mean": float(sigma_b.mean()),
        "sigma_b_mcse_mean": float(summary.loc["sigma_b", "mcse_mean"]),
        "sigma_b_median": sigma_b_median,
        "sigma_b_min": float(sigma_b.min()),
        "sigma_b_max": float(sigma_b.max()),
        "p_sigma_b_below_0_1": float(below.mean()),
        "p_sigma_b_below_0_1_chain_min": float(below.mean(axis=1).min()),
        "p_sigma_b_below_0_1_chain_max": float(below.mean(axis=1).max()),
        "mu_a_mean": float(means["mu_a"]),
        "mu_b_mean": float(means["mu_b"]),
        "eps_mean": float(means["eps"]),
        "sigma_a_min": float(post["sigma_a"].min()),
        "ess_sigma_a": float(summary.loc["sigma_a", "ess_bulk"]),
        "rhat_sigma_a": float(summary.loc["sigma_a", "r_hat"]),
        "slope_spread_correlation": float(
            np.corrcoef(np.log(sigma_b.ravel()), np.log(spread))[0, 1]
        ),
        "funnel_ratio_b": funnel_spread_ratio(idata, "b", county),
        "funnel_ratio_z": funnel_spread_ratio(idata, "z_b", county) if "z_b" in post else math.nan,
        "step_in_b": step_size * float(post["b"].sel(county=county).std()),
        "gradient_evaluations": gradient_evaluations(idata),
    } | _slopes_against_exact(idata, exact_slopes)
    row |= dict.fromkeys(DIVERGENCE_COLUMNS, math.nan)
    if diverging.any():
        drawn = sigma_b[diverging]
        steps = divergent_steps(idata, county)
        jump = np.log(steps["sigma_b_end"]) - np.log(steps["sigma_b_start"])
        row |= {
            "divergent_sigma_b_median": float(np.median(drawn)),
            "divergent_sigma_b_max": float(drawn.max()),
            "divergent_share_below_median": float(np.mean(drawn < sigma_b_median)),
            "divergence_start_sigma_b_median": float(steps["sigma_b_start"].median()),
            "divergence_start_sigma_b_max": float(steps["sigma_b_start"].max()),
            "divergence_log_sigma_b_jump_median": float(jump.median()),
        }
    return row


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """The sweep table with measured floats rounded as stored
    (:func:`~radon_utils._sweep_common.round_measured`)."""
    settings = {
        "seed",
        "parameterization",
        "target_accept",
        "divergences",
        "gradient_evaluations",
        "slope_intervals_missing_exact_mean",
    }
    return round_measured(table, [c for c in COLUMNS if c not in settings])


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m radon_utils.sweep [--first 1] [--last 20] [--target-accept ...]
    [--out data/seed_sweep.csv]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_seed_range(parser, DEFAULT_SEEDS)
    parser.add_argument(
        "--target-accept",
        type=float,
        nargs="+",
        default=list(TARGET_ACCEPTS),
        help="the target_accept values (default: 0.8 0.9 0.95 0.99)",
    )
    parser.add_argument("--out", type=Path, default=RELATIVE_PATH, help="CSV to write")
    args = parser.parse_args(argv)
    seeds = seed_range(parser, args)
    bad = [t for t in args.target_accept if not 0 < t < 1]
    if bad:
        parser.error(f"--target-accept values must lie strictly between 0 and 1, got {bad}")
    write_when_complete(lambda: run_sweep(seeds, args.target_accept), args.out, "the sweep", "fits")


def _slopes_against_exact(idata: az.InferenceData, exact_slopes: pd.DataFrame) -> dict[str, float]:
    fit = county_intervals(idata, "b", SLOPE_PROBS)
    exact = exact_slopes.loc[fit.index]
    low, high = fit.columns[1:]
    width_ratio = (fit[high] - fit[low]) / (exact[high] - exact[low])
    return {
        "slope_mean_error_max": float((fit["mean"] - exact["mean"]).abs().max()),
        "slope_intervals_missing_exact_mean": int(
            ((exact["mean"] < fit[low]) | (exact["mean"] > fit[high])).sum()
        ),
        "slope_width_ratio_min": float(width_ratio.min()),
        "slope_width_ratio_median": float(width_ratio.median()),
    }


def _check_row(row: dict) -> None:
    """Refuse a row with a missing or non-finite number (a fit that did not give its summary);
    only the divergence columns of a fit without divergences, and the non-centered columns of a
    centered fit, may be empty."""
    may_be_empty = (DIVERGENCE_COLUMNS if row.get("divergences") == 0 else []) + (
        NONCENTERED_COLUMNS if row.get("parameterization") == "centered" else []
    )
    bad = not_finite(row, [c for c in COLUMNS[3:] if c not in may_be_empty])
    if bad:
        raise ValueError(
            f"the fit of seed {row['seed']} ({row['parameterization']}, "
            f"target_accept {row['target_accept']}) gave no finite {', '.join(bad)}; "
            "the sweep file is written only when every row is complete"
        )


if __name__ == "__main__":
    main()
