"""One-line summaries of a fit that several chapters and the seed sweep report."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd

__all__ = [
    "HYPERPARAMETERS",
    "count_divergences",
    "gradient_evaluations",
    "max_rhat",
    "ess_bulk",
    "funnel_spread_ratio",
    "divergent_steps",
    "county_intervals",
]

#: Top-level (population) parameters that every form of the model shares.
HYPERPARAMETERS = ("mu_a", "sigma_a", "mu_b", "sigma_b", "eps")


def count_divergences(idata: az.InferenceData) -> int:
    """Number of divergent transitions after warm-up, over all chains."""
    return int(idata.sample_stats["diverging"].sum())


def gradient_evaluations(idata: az.InferenceData) -> int:
    """Gradient evaluations (leapfrog steps) of the kept draws over all chains: what a fit cost."""
    return int(idata.sample_stats["n_steps"].sum())


def max_rhat(idata: az.InferenceData, var_names: list[str] | None = None) -> float:
    """Largest rank-normalized R-hat over the sampled parameters (``var_names``: which ones)."""
    rhat = az.rhat(idata, var_names=var_names)
    return float(max(float(rhat[name].max()) for name in rhat.data_vars))


def ess_bulk(idata: az.InferenceData, name: str = "sigma_b") -> float:
    """Bulk effective sample size of the scalar parameter ``name``."""
    return float(az.ess(idata, var_names=[name], method="bulk")[name])


def funnel_spread_ratio(idata: az.InferenceData, coordinate: str, county: str) -> float:
    """How much a funnel narrows: the sd of ``coordinate`` (``"b"`` or ``"z_b"``) for ``county`` in
    the draws with the lowest quarter of ``sigma_b``, over its sd in the highest quarter.

    About 1 when the coordinate does not depend on ``sigma_b``; well below 1 in a funnel.
    """
    x = idata.posterior[coordinate].sel(county=county).to_numpy().ravel()
    s = idata.posterior["sigma_b"].to_numpy().ravel()
    low, high = np.quantile(s, [0.25, 0.75])
    return float(x[s <= low].std() / x[s >= high].std())


def divergent_steps(idata: az.InferenceData, county: str) -> pd.DataFrame:
    """Where each divergent transition's failing leapfrog step began and ended: one row per
    divergence, with ``sigma_b`` and ``county``'s slope ``b`` at the step's start and end.

    Needs a fit made with ``sample(..., store_divergences=True)``. nutpie stores the points in the
    sampler's unconstrained coordinates (``sigma_b_log__``, ``b_0``, ``b_1``, ...), which this
    translates back.
    """
    stats = idata.sample_stats
    if "divergence_start" not in stats:
        raise ValueError(
            "the fit has no divergence locations: sample it with store_divergences=True"
        )
    counties = list(idata.posterior["county"].to_numpy())
    if county not in counties:
        raise ValueError(
            f"unknown county {county!r}; the fit's counties are {', '.join(counties[:5])}, ..."
        )
    coordinates = {"sigma_b": "sigma_b_log__", "b": f"b_{counties.index(county)}"}
    diverging = stats["diverging"].to_numpy().astype(bool)
    columns = {}
    for end in ("start", "end"):
        points = stats[f"divergence_{end}"]
        for name, coordinate in coordinates.items():
            values = points.sel(unconstrained_parameter=coordinate).to_numpy()[diverging]
            columns[f"{name}_{end}"] = np.exp(values) if name == "sigma_b" else values
    return pd.DataFrame(columns)


def county_intervals(
    idata: az.InferenceData, effect: str = "b", probs: tuple[float, float] = (0.05, 0.95)
) -> pd.DataFrame:
    """Posterior mean and central interval of each county's ``effect`` (``"a"`` or ``"b"``) from
    the draws: columns ``mean`` and ``q05``, ``q95`` (for the default ``probs``), indexed by county,
    like ``ExactPosterior.county_effects`` so that the two compare row by row."""
    draws = idata.posterior[effect]
    quantiles = draws.quantile(list(probs), dim=("chain", "draw"))
    table = pd.DataFrame(
        {"mean": draws.mean(("chain", "draw")).to_numpy()},
        index=pd.Index(draws["county"].to_numpy(), name="county"),
    )
    for p in probs:
        table[f"q{round(100 * p):02d}"] = quantiles.sel(quantile=p).to_numpy()
    return table
