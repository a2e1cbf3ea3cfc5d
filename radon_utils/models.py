"""The book's one model factory: varying intercepts and floor slopes by county."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from .data import MODEL_COLUMNS, county_index, validate_radon
from .priors import Prior, resolve_priors

__all__ = ["PARAMETERIZATIONS", "PURE_PARAMETERIZATIONS", "EFFECTS", "build_model", "mixed_effect"]

#: The ways of writing the same model: every county centered, none, or a choice per county and
#: effect (``"mixed"``, with ``centered=``; :func:`radon_utils.centering.choose_centered` makes
#: one).
PARAMETERIZATIONS = ("centered", "noncentered", "mixed")
#: The two that need no choice per county.
PURE_PARAMETERIZATIONS = ("centered", "noncentered")
#: The county effects a mixed model takes a choice for.
EFFECTS = ("a", "b")


def build_model(
    data: pd.DataFrame,
    parameterization: str = "centered",
    priors: Mapping[str, Prior] | None = None,
    centered: Mapping[str, object] | None = None,
) -> pm.Model:
    """Return the varying-intercept, varying-slope radon model as a PyMC model.

    The ``county`` dimension holds the counties present in ``data``, numbered by
    :func:`radon_utils.data.county_index` (in ``county_code`` order, 0..K-1 even for a subset).

    ``log_radon ~ Normal(a[county] + b[county] * floor, eps)`` with
    ``a ~ Normal(mu_a, sigma_a)`` and ``b ~ Normal(mu_b, sigma_b)`` by county.
    ``"centered"`` samples ``a`` and ``b`` directly; ``"noncentered"`` samples
    ``z_a, z_b ~ Normal(0, 1)`` and sets ``a = mu_a + z_a * sigma_a`` (same for ``b``)
    as Deterministics, so both models expose the same names and priors.

    ``"mixed"`` takes ``centered={"a": ..., "b": ...}``: for each effect, one boolean per county
    (a sequence in the model's county order, or a Series indexed by county name), ``True`` where
    that county's effect is sampled centered. The sampler then moves ``a_sampled``: ``a_j`` itself
    where centered, ``z_j = (a_j - mu_a) / sigma_a`` elsewhere (same for ``b``); ``a`` and ``b`` are
    Deterministics as in the non-centered model. All True gives the centered posterior, all False
    the non-centered one.
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            f"unknown parameterization {parameterization!r}; "
            f"use one of {', '.join(map(repr, PARAMETERIZATIONS))}"
        )
    if (centered is not None) != (parameterization == "mixed"):
        raise ValueError(
            "centered= goes with parameterization='mixed' and only with it: pass both (e.g. "
            "centered=choose_centered(data, scales)) or neither"
        )
    data = validate_radon(
        data,
        source="the data passed to build_model",
        required=MODEL_COLUMNS,
        hint="pass a table like load_radon() returns (see data/README.md for the columns)",
    )
    prior = resolve_priors(priors)
    home_county, names = county_index(data)
    counties = names.to_list()
    coords = {"county": counties, "obs_id": data.index.to_list()}

    with pm.Model(coords=coords) as model:
        floor = pm.Data("floor", data["floor"].to_numpy(), dims="obs_id")
        county = pm.Data("county_index", home_county, dims="obs_id")

        mu_a = prior["mu_a"].to_pymc("mu_a")
        sigma_a = prior["sigma_a"].to_pymc("sigma_a")
        mu_b = prior["mu_b"].to_pymc("mu_b")
        sigma_b = prior["sigma_b"].to_pymc("sigma_b")

        if parameterization == "centered":
            a = pm.Normal("a", mu=mu_a, sigma=sigma_a, dims="county")
            b = pm.Normal("b", mu=mu_b, sigma=sigma_b, dims="county")
        elif parameterization == "mixed":
            masks = _masks(centered, counties)
            a = mixed_effect("a", mu_a, sigma_a, masks["a"])
            b = mixed_effect("b", mu_b, sigma_b, masks["b"])
        else:
            z_a = pm.Normal("z_a", mu=0.0, sigma=1.0, dims="county")
            z_b = pm.Normal("z_b", mu=0.0, sigma=1.0, dims="county")
            a = pm.Deterministic("a", mu_a + z_a * sigma_a, dims="county")
            b = pm.Deterministic("b", mu_b + z_b * sigma_b, dims="county")

        eps = prior["eps"].to_pymc("eps")
        pm.Normal(
            "log_radon",
            mu=a[county] + b[county] * floor,
            sigma=eps,
            observed=data["log_radon"].to_numpy(),
            dims="obs_id",
        )
    return model


def mixed_effect(name: str, mu, sigma, centered: np.ndarray):
    """One county effect, centered where ``centered`` says so."""
    where = pt.as_tensor_variable(centered)
    sampled = pm.Normal(
        f"{name}_sampled",
        mu=pt.where(where, mu, 0.0),
        sigma=pt.where(where, sigma, 1.0),
        dims="county",
    )
    effect = pt.where(where, sampled, mu + sampled * sigma)
    return pm.Deterministic(name, effect, dims="county")


def _masks(centered: Mapping[str, object], counties: list[str]) -> dict[str, np.ndarray]:
    """The per-county choices of a mixed model as boolean arrays in the model's county order."""
    if not isinstance(centered, Mapping) or set(centered) != set(EFFECTS):
        got = sorted(centered) if isinstance(centered, Mapping) else type(centered).__name__
        raise ValueError(
            f"centered= needs one entry for each of {EFFECTS} (booleans per county), got {got}"
        )
    masks = {}
    for effect in EFFECTS:
        choice = centered[effect]
        if isinstance(choice, pd.Series):
            missing = [c for c in counties if c not in choice.index]
            if missing:
                raise ValueError(
                    f"centered[{effect!r}] has no entry for the county/ies {', '.join(missing[:5])}"
                )
            choice = choice.loc[counties]
        mask = np.asarray(choice)
        if mask.shape != (len(counties),) or mask.dtype != bool:
            raise ValueError(
                f"centered[{effect!r}] must hold one boolean per county ({len(counties)}), "
                f"got {mask.dtype} of shape {mask.shape}"
            )
        masks[effect] = mask
    return masks
