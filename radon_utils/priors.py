"""Priors of the radon model, in one form that both PyMC and the exact posterior read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real

import numpy as np
from scipy import stats

__all__ = [
    "LOCATION_FAMILIES",
    "SCALE_FAMILIES",
    "PARAMETERS",
    "Prior",
    "DEFAULT_PRIORS",
    "resolve_priors",
]

#: Families a prior may have: the location priors take ``Normal``, the scales a half family.
LOCATION_FAMILIES = ("Normal",)
SCALE_FAMILIES = ("HalfCauchy", "HalfNormal", "Exponential")

#: The model's top-level parameters, with the kind of prior each one takes.
PARAMETERS = {
    "mu_a": "location",
    "mu_b": "location",
    "sigma_a": "scale",
    "sigma_b": "scale",
    "eps": "scale",
}


@dataclass(frozen=True)
class Prior:
    """A one-parameter prior: ``Normal(0, scale)``, ``HalfCauchy(scale)``, ``HalfNormal(scale)``
    or ``Exponential`` with mean ``scale``."""

    family: str
    scale: float

    def __post_init__(self) -> None:
        known = LOCATION_FAMILIES + SCALE_FAMILIES
        if self.family not in known:
            raise ValueError(f"unknown prior family {self.family!r}; use one of {', '.join(known)}")
        if isinstance(self.scale, bool) or not isinstance(self.scale, Real):
            raise TypeError(
                f"a prior's scale must be a number, got {type(self.scale).__name__} {self.scale!r}"
            )
        if not np.isfinite(self.scale) or self.scale <= 0:
            raise ValueError(f"a prior's scale must be a positive number, got {self.scale!r}")

    def __str__(self) -> str:
        return (
            f"{self.family}(0, {self.scale:g})"
            if self.family == "Normal"
            else f"{self.family}({self.scale:g})"
        )

    def to_pymc(self, name: str, **kwargs):
        """Create this prior as a PyMC random variable called ``name`` (inside a model context)."""
        import pymc as pm

        if self.family == "Normal":
            return pm.Normal(name, mu=0.0, sigma=self.scale, **kwargs)
        if self.family == "HalfCauchy":
            return pm.HalfCauchy(name, beta=self.scale, **kwargs)
        if self.family == "HalfNormal":
            return pm.HalfNormal(name, sigma=self.scale, **kwargs)
        return pm.Exponential(name, scale=self.scale, **kwargs)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log density at ``x`` (NumPy, for the exact posterior)."""
        if self.family == "Normal":
            return stats.norm.logpdf(x, scale=self.scale)
        if self.family == "HalfCauchy":
            return stats.halfcauchy.logpdf(x, scale=self.scale)
        if self.family == "HalfNormal":
            return stats.halfnorm.logpdf(x, scale=self.scale)
        return stats.expon.logpdf(x, scale=self.scale)


#: The book's priors: weakly informative locations and HalfCauchy(5) scales.
DEFAULT_PRIORS: dict[str, Prior] = {
    "mu_a": Prior("Normal", 100.0),
    "mu_b": Prior("Normal", 100.0),
    "sigma_a": Prior("HalfCauchy", 5.0),
    "sigma_b": Prior("HalfCauchy", 5.0),
    "eps": Prior("HalfCauchy", 5.0),
}


def resolve_priors(priors: Mapping[str, Prior] | None = None) -> dict[str, Prior]:
    """Return the book's default priors with ``priors`` laid over them, after checking each one."""
    if priors is not None and not isinstance(priors, Mapping):
        raise TypeError(
            f"priors must be a mapping from parameter name to Prior, e.g. "
            f"{{'sigma_b': Prior('HalfNormal', 1.0)}}, got {type(priors).__name__} {priors!r:.60}"
        )
    resolved = dict(DEFAULT_PRIORS)
    for name, prior in (priors or {}).items():
        if name not in PARAMETERS:
            raise ValueError(
                f"no parameter {name!r} takes a prior; the parameters are {', '.join(PARAMETERS)}"
            )
        if not isinstance(prior, Prior):
            raise TypeError(
                f"the prior of {name!r} must be a radon_utils.Prior, got {type(prior).__name__}"
            )
        allowed = LOCATION_FAMILIES if PARAMETERS[name] == "location" else SCALE_FAMILIES
        if prior.family not in allowed:
            raise ValueError(
                f"{name} is a {PARAMETERS[name]}; its prior must be one of "
                f"{', '.join(allowed)}, got {prior.family}"
            )
        resolved[name] = prior
    return resolved
