"""One-line summaries of a fit that several chapters and the seed sweep report."""

from __future__ import annotations

import arviz as az
import numpy as np

#: Top-level parameters that both parameterizations share.
HYPERPARAMETERS = ("mu_a", "sigma_a", "mu_b", "sigma_b", "eps")


def count_divergences(idata: az.InferenceData) -> int:
    """Number of divergent transitions after warm-up, over all chains."""
    return int(idata.sample_stats["diverging"].sum())


def max_rhat(idata: az.InferenceData, var_names: list[str] | None = None) -> float:
    """Largest rank-normalized R-hat over the sampled parameters (``var_names``: which ones)."""
    rhat = az.rhat(idata, var_names=var_names)
    return float(max(float(rhat[name].max()) for name in rhat.data_vars))


def ess_bulk(idata: az.InferenceData, name: str = "sigma_b") -> float:
    """Bulk effective sample size of the scalar parameter ``name``."""
    return float(az.ess(idata, var_names=[name], method="bulk")[name])


def fit_summary(idata: az.InferenceData) -> dict[str, float]:
    """The numbers the book reports about a fit: divergences, ESS and mean of ``sigma_b``,
    the smallest ``sigma_b`` reached, and the worst R-hat of the shared parameters."""
    sigma_b = idata.posterior["sigma_b"].to_numpy()
    return {
        "divergences": count_divergences(idata),
        "ess_sigma_b": ess_bulk(idata, "sigma_b"),
        "max_rhat": max_rhat(idata, ["mu_a", "sigma_a", "mu_b", "sigma_b", "eps", "a", "b"]),
        "sigma_b_mean": float(np.mean(sigma_b)),
        "sigma_b_min": float(np.min(sigma_b)),
    }
