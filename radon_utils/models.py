"""The book's one model factory: varying intercepts and floor slopes by county."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pymc as pm

from .data import MODEL_COLUMNS, validate_radon
from .priors import Prior, resolve_priors

#: The two ways of writing the same model.
PARAMETERIZATIONS = ("centered", "noncentered")


def build_model(
    data: pd.DataFrame,
    parameterization: str = "centered",
    priors: Mapping[str, Prior] | None = None,
) -> pm.Model:
    """Return the varying-intercept, varying-slope radon model as a PyMC model.

    ``log_radon ~ Normal(a[county] + b[county] * floor, eps)`` with
    ``a ~ Normal(mu_a, sigma_a)`` and ``b ~ Normal(mu_b, sigma_b)`` by county.
    ``"centered"`` samples ``a`` and ``b`` directly; ``"noncentered"`` samples
    ``z_a, z_b ~ Normal(0, 1)`` and sets ``a = mu_a + z_a * sigma_a`` (same for ``b``)
    as Deterministics, so both models expose the same names and priors.
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            f"unknown parameterization {parameterization!r}; use one of {', '.join(map(repr, PARAMETERIZATIONS))}"
        )
    data = validate_radon(
        data,
        source="the data passed to build_model",
        required=MODEL_COLUMNS,
        hint="pass a table like load_radon() returns (see data/README.md for the columns)",
    )
    prior = resolve_priors(priors)
    # Number the counties present 0..K-1 in code order, so a subset of counties works too.
    codes, county_index = np.unique(data["county_code"].to_numpy(), return_inverse=True)
    names = data.drop_duplicates("county_code").set_index("county_code")["county"]
    counties = names.loc[codes].to_list()
    coords = {"county": counties, "obs_id": data.index.to_list()}

    with pm.Model(coords=coords) as model:
        floor = pm.Data("floor", data["floor"].to_numpy(), dims="obs_id")
        county = pm.Data("county_index", county_index, dims="obs_id")

        mu_a = prior["mu_a"].to_pymc("mu_a")
        sigma_a = prior["sigma_a"].to_pymc("sigma_a")
        mu_b = prior["mu_b"].to_pymc("mu_b")
        sigma_b = prior["sigma_b"].to_pymc("sigma_b")

        if parameterization == "centered":
            a = pm.Normal("a", mu=mu_a, sigma=sigma_a, dims="county")
            b = pm.Normal("b", mu=mu_b, sigma=sigma_b, dims="county")
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
