"""Centered or non-centered, county by county: the rule, the scales it reads, simulated surveys.

A county's effect is sampled better centered when its own data pin it down more tightly than the
population does, and non-centered when they do not (Papaspiliopoulos, Roberts and Skold, 2007;
Betancourt and Girolami, 2015). For a county with ``n`` homes, ``n_1`` of them on the first floor,
and the model's scales ``sigma_a``, ``sigma_b``, ``eps``:

* its intercept's data precision is about ``n / eps**2`` and the population's ``1 / sigma_a**2``;
* its slope's data precision is about ``n_0 n_1 / n / eps**2`` (the floor contrast; 0 without a
  first-floor reading) and the population's ``1 / sigma_b**2``.

:func:`choose_centered` centers an effect where the first exceeds the second, i.e. where a county
has more *informative homes* (:func:`informative_homes`) than ``eps**2 / sigma**2``
(:func:`crossover_homes`). Which ``sigma`` to put in matters: the choice must hold over most of
the posterior, not only at its centre, so :func:`pilot_scales` reads a low quantile
(:data:`SCALE_QUANTILE`) of each population scale from a short pilot fit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .data import MODEL_COLUMNS, validate_radon
from .models import EFFECTS, build_model
from .sampling import sample

__all__ = [
    "SCALES",
    "SCALE_QUANTILE",
    "PILOT_SETTINGS",
    "MAX_SIMULATED_HOMES",
    "informative_homes",
    "crossover_homes",
    "choose_centered",
    "pilot_scales",
    "scales_from_fit",
    "simulate_survey",
]

#: The scales the rule reads: the two population scales and the homes' scatter.
SCALES = ("sigma_a", "sigma_b", "eps")
#: Which quantile of each population scale the rule is applied at: a choice that holds down to
#: the scale's 10% quantile holds over nine tenths of the posterior.
SCALE_QUANTILE = 0.1
#: A pilot fit is short: it only has to locate the scales, not to estimate anything well.
PILOT_SETTINGS = {"draws": 300, "tune": 300, "chains": 2}
#: The most homes per county :func:`simulate_survey` draws.
MAX_SIMULATED_HOMES = 1024


def informative_homes(data: pd.DataFrame) -> pd.DataFrame:
    """Per county (indexed by name): ``homes`` (``n``), ``first_floor`` (``n_1``), and the homes
    that inform each effect, ``a`` = ``n`` and ``b`` = ``n_0 n_1 / n``."""
    data = validate_radon(
        data, source="the data passed to informative_homes", required=MODEL_COLUMNS
    )
    by_county = data.groupby("county")["floor"]
    homes, first = by_county.size(), by_county.sum()
    return pd.DataFrame(
        {
            "homes": homes,
            "first_floor": first,
            "a": homes.astype(float),
            "b": (homes - first) * first / homes,
        }
    )


def crossover_homes(scales: Mapping[str, float]) -> dict[str, float]:
    """For each effect, the informative homes at which a county's data are as precise as the
    population: ``eps**2 / sigma_a**2`` for ``"a"``, ``eps**2 / sigma_b**2`` for ``"b"``."""
    _check_scales(scales)
    return {effect: scales["eps"] ** 2 / scales[f"sigma_{effect}"] ** 2 for effect in EFFECTS}


def choose_centered(data: pd.DataFrame, scales: Mapping[str, float]) -> dict[str, pd.Series]:
    """Which counties to center, for :func:`~radon_utils.models.build_model`'s ``centered=``:
    for each effect, a boolean Series by county name, ``True`` where the county has more
    informative homes than :func:`crossover_homes` gives for ``scales``.

    Override any choice by editing the Series before passing it on.
    """
    homes = informative_homes(data)
    threshold = crossover_homes(scales)
    return {
        effect: (homes[effect] > threshold[effect]).rename(f"center_{effect}") for effect in EFFECTS
    }


def pilot_scales(
    data: pd.DataFrame, *, seed: int, quantile: float | None = SCALE_QUANTILE, cache: bool = True
) -> dict[str, float]:
    """The scales :func:`choose_centered` reads, from a short non-centered fit of ``data``
    (:data:`PILOT_SETTINGS`); see :func:`scales_from_fit`."""
    pilot = sample(build_model(data, "noncentered"), seed=seed, cache=cache, **PILOT_SETTINGS)
    return scales_from_fit(pilot, quantile)


def scales_from_fit(idata, quantile: float | None = SCALE_QUANTILE) -> dict[str, float]:
    """The ``quantile`` of ``sigma_a`` and ``sigma_b`` in the fit ``idata`` and the mean of
    ``eps``; with ``quantile=None``, the means of all three."""
    if quantile is not None and not 0 < quantile < 1:
        raise ValueError(
            "quantile must lie strictly between 0 and 1 (or be None for the means), "
            f"got {quantile!r}"
        )
    post = idata.posterior
    scales = {
        name: float(post[name].mean() if quantile is None else post[name].quantile(quantile))
        for name in ("sigma_a", "sigma_b")
    }
    return scales | {"eps": float(post["eps"].mean())}


def simulate_survey(
    homes_per_county: int,
    truth: Mapping[str, float],
    *,
    counties: int = 85,
    first_floor_every: int = 4,
    seed: int = 0,
) -> pd.DataFrame:
    """A survey drawn from the radon model with the parameters ``truth`` (``mu_a``, ``mu_b``,
    ``sigma_a``, ``sigma_b``, ``eps``): ``counties`` counties of ``homes_per_county`` homes each,
    every ``first_floor_every``-th home (the 2nd, 6th, ...) on the first floor.

    The county effects and the homes depend on ``seed`` only, and a smaller survey is the first
    homes of a larger one: the surveys of one seed are nested, so that only the number of homes
    changes between them. Columns as :func:`~radon_utils.data.load_radon` gives (no uranium).
    """
    if (
        int(homes_per_county) != homes_per_county
        or not 1 <= homes_per_county <= MAX_SIMULATED_HOMES
    ):
        raise ValueError(
            f"homes_per_county must be a whole number from 1 to {MAX_SIMULATED_HOMES}, "
            f"got {homes_per_county!r}"
        )
    missing = [k for k in ("mu_a", "mu_b", *SCALES) if k not in truth]
    if missing:
        raise ValueError(f"truth lacks {', '.join(missing)}: give all five parameters of the model")
    rng = np.random.default_rng(seed)
    a = rng.normal(truth["mu_a"], truth["sigma_a"], counties)
    b = rng.normal(truth["mu_b"], truth["sigma_b"], counties)
    # Every possible home's noise is drawn, so that the first n homes do not depend on n.
    noise = rng.normal(0.0, truth["eps"], (counties, MAX_SIMULATED_HOMES))[
        :, : int(homes_per_county)
    ]
    home = np.arange(int(homes_per_county))
    floor = (home % first_floor_every == 1).astype(int)
    county_code = np.repeat(np.arange(1, counties + 1), len(home))
    floors = np.tile(floor, counties)
    log_radon = (a[:, None] + b[:, None] * floor[None, :] + noise).ravel()
    return pd.DataFrame(
        {
            "county": [f"C{code:03d}" for code in county_code],
            "county_code": county_code,
            "floor": floors,
            "log_radon": log_radon,
        }
    )


def _check_scales(scales: Mapping[str, float]) -> None:
    bad = [k for k in SCALES if not isinstance(scales.get(k), (int, float)) or not scales[k] > 0]
    if bad:
        raise ValueError(
            f"scales needs positive numbers for {', '.join(SCALES)}; "
            f"{', '.join(bad)} missing or not positive "
            "(e.g. scales = pilot_scales(data, seed=1))"
        )
