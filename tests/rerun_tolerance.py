"""How a sweep row re-run today must agree with the committed file, on any machine: the one place
that says which column is compared how, and why.

A seed reproduces its draws only on the same kind of machine with the same versions
(:mod:`radon_utils.machine`). Elsewhere the compiled code rounds a few last bits differently, NUTS
amplifies the difference, and after a few hundred iterations a re-run is as different from the
file's row as a fit with another seed would be; an optimizer on a density without a top stops at
another point on its way down. So a re-run is checked for what it must share with the file on
every machine:

1. **What was fitted, exactly.** Identifiers and settings in the row (seed, parameterization,
   target_accept, homes per county, dataset, counties) must be equal. What the sampler or the
   optimizer was handed is recorded by a spy (:func:`spy_on`) and must be the book's: the priors
   (:data:`BOOK_PRIORS`), the number of homes and counties, and the sampler settings
   (:data:`BOOK_SAMPLING`, the row's own ``target_accept``). Another prior scale, another
   ``target_accept`` passed to the sampler or a dropped county fails here, whatever the numbers.
2. **Each number, within the spread of the file's own seeds.** The committed file holds the same
   fit with many seeds (10 or 20; 5 for the crossover surveys). The standard deviation of a
   column over the other seeds of the row's configuration is that number's Monte Carlo error, as
   measured (for a sampler that does not mix, larger than the MCSE it reports, which is the
   point). A re-run must lie within :data:`SPREAD_FACTOR` of those standard deviations of the
   file's value. The difference of two independent runs has sd sqrt(2) sigma, so 8 sigma is 5.7 sd
   of the difference; with sigma estimated from 9 degrees of freedom (10 seeds) a re-run on another
   machine falls outside about once in 3,000 comparisons, from 19 (20 seeds) once in 50,000, while
   a changed computation (another formula, data or quantity) moves a column by far more than its
   Monte Carlo error.
   Scales suit each column (:func:`scale_of`): posterior means, shares, correlations and ratios
   as they are; ESS, step sizes and gradient counts on the log scale (so the band is a factor:
   ESS within ``exp(8 sigma_log)``); R-hat as ``log(R-hat - 1)`` (a factor on its excess over 1);
   divergence counts as ``log(1 + n)``.
3. **What the book claims of every seed holds for the re-run too.** Where every seed of the file
   agrees (the non-centered fit's 0 divergences, no slope interval that misses the exact mean),
   the spread is 0 and the re-run must give the same value: "zero where a chapter says none".
   Where a configuration has fewer than :data:`MIN_SEEDS` seeds (the crossover surveys), the
   spread is pooled over the file's other configurations of the same parameterization (their
   deviations from their own means), so that it is not estimated from 4 degrees of freedom.
4. **Not compared:** seconds (they measure the machine), and the columns that describe the
   divergent transitions when one of the two runs has none (they are empty by definition).

The MAP sweep's optimizer runs are checked by what chapter 7 claims of them
(:func:`assert_map_rerun_agrees`), not by a spread: they have no seeds to measure one from.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "SPREAD_FACTOR",
    "MIN_SEEDS",
    "BOOK_PRIORS",
    "BOOK_SAMPLING",
    "scale_of",
    "Fitted",
    "spy_on",
    "assert_fitted",
    "assert_rerun_agrees",
    "assert_map_rerun_agrees",
]

#: A re-run must lie within this many standard deviations (over the file's seeds) of the file.
SPREAD_FACTOR = 8.0
#: A configuration with fewer seeds than this has its spread pooled over the file (see above).
MIN_SEEDS = 10

#: The priors every sweep file was computed with (chapter 1; ``radon_utils.priors``), as PyMC
#: prints them.
BOOK_PRIORS = {
    "mu_a": "Normal(0, 100)",
    "sigma_a": "HalfCauchy(5)",
    "mu_b": "Normal(0, 100)",
    "sigma_b": "HalfCauchy(5)",
    "eps": "HalfCauchy(5)",
}
#: The book's sampling settings (``radon_utils.sampling``), which every full fit of a sweep used.
BOOK_SAMPLING = {"draws": 1000, "tune": 1000, "chains": 4, "target_accept": 0.8}


def _rhat_excess(x: float) -> float:
    # R-hat below 1 happens by a hair with rank normalization; 1e-4 is far below any that matters.
    return math.log(max(x - 1, 1e-4))


_SCALES: dict[str, Callable[[float], float]] = {
    "as is": float,
    "log": math.log,
    "log(1 + n)": math.log1p,
    "log(R-hat - 1)": _rhat_excess,
}


def scale_of(column: str) -> str:
    """The scale on which ``column`` is compared, by what it measures (its name)."""
    if column == "divergences":
        return "log(1 + n)"
    if "rhat" in column:
        return "log(R-hat - 1)"
    if column.startswith(("ess", "step_size", "gradient_evaluations")) or "ess_" in column:
        return "log"
    return "as is"


@dataclass(frozen=True)
class Fitted:
    """What one call handed the sampler or the optimizer: the model's priors as PyMC prints them,
    the size of each of its dimensions, and the call's settings with their defaults filled in."""

    priors: dict[str, str]
    sizes: dict[str, int]
    settings: dict[str, object]


def _describe(model) -> tuple[dict[str, str], dict[str, int]]:
    lines = model.str_repr().splitlines()
    found = dict(re.match(r"\s*(\w+) ~ (.*)$", line).groups() for line in lines)
    priors = {name: found.get(name, "missing") for name in BOOK_PRIORS}
    return priors, {dim: len(values) for dim, values in model.coords.items()}


def spy_on(monkeypatch, module, name: str) -> list[Fitted]:
    """Replace ``module.<name>`` (``sample``, ``maximize_density``...) by itself plus a record of
    every call, in order; returns the list the calls are appended to."""
    real = getattr(module, name)
    signature = inspect.signature(real)
    calls: list[Fitted] = []

    def spy(model, *args, **kwargs):
        bound = signature.bind(model, *args, **kwargs)
        bound.apply_defaults()
        settings = {k: v for k, v in bound.arguments.items() if k != "model"}
        calls.append(Fitted(*_describe(model), settings))
        return real(model, *args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


def assert_fitted(
    calls: list[Fitted],
    data: tuple[int, int] | list[tuple[int, int]],
    settings: dict | list[dict],
) -> None:
    """Every call fitted a model with the book's priors; the i-th on ``data[i]`` homes in that many
    counties, handed settings that include ``settings[i]`` (a single ``data`` or ``settings``
    stands for every call)."""
    assert calls, "nothing was fitted"
    data = data if isinstance(data, list) else [data] * len(calls)
    settings = settings if isinstance(settings, list) else [settings] * len(calls)
    assert len(calls) == len(data) == len(settings), (
        f"{len(calls)} fits where the file's rows took {len(settings)}"
    )
    for i, (call, (homes, counties), expected) in enumerate(
        zip(calls, data, settings, strict=True)
    ):
        assert call.priors == BOOK_PRIORS, f"fit {i} had other priors: {call.priors}"
        got = (call.sizes.get("obs_id"), call.sizes.get("county"))
        assert got == (homes, counties), (
            f"fit {i} was of {got[0]} homes in {got[1]} counties where the file's had {homes} "
            f"in {counties}"
        )
        handed = {k: call.settings.get(k) for k in expected}
        assert handed == expected, f"fit {i} was handed {handed} where the file's had {expected}"


def _spread(
    committed: pd.DataFrame, row: pd.Series, column: str, config: list[str], pool_by: list[str]
) -> float:
    """The sd of ``column`` (on its scale) over the committed rows of ``row``'s configuration, or
    pooled over every configuration sharing ``pool_by`` when the configuration has few seeds."""
    to_scale = np.vectorize(_SCALES[scale_of(column)], otypes=[float])

    def on_scale(rows: pd.DataFrame) -> pd.Series:
        values = rows[column].astype(float)
        return pd.Series(to_scale(values.to_numpy()), index=rows.index).dropna()

    same = (committed[config] == row[config]).all(axis=1)
    group = on_scale(committed[same])
    if len(group) >= MIN_SEEDS or group.nunique() <= 1:
        return float(group.std(ddof=1)) if group.nunique() > 1 else 0.0
    pool = committed[(committed[pool_by] == row[pool_by]).all(axis=1)]
    squares, degrees = 0.0, 0
    for _, rows in pool.groupby(config):
        values = on_scale(rows)
        if len(values) > 1:
            squares += float(((values - values.mean()) ** 2).sum())
            degrees += len(values) - 1
    return math.sqrt(squares / degrees)


def _stored_row(committed: pd.DataFrame, new: pd.Series, key: list[str]) -> tuple[pd.Series, str]:
    """The one committed row with ``new``'s ``key`` (an empty key cell matches an empty one), and
    the key in words for the messages."""
    same = pd.Series(True, index=committed.index)
    for k in key:
        column = committed[k]
        same &= column.isna() if pd.isna(new[k]) else (column == new[k]).fillna(False)
    where = ", ".join(f"{k} {new[k]}" for k in key if not pd.isna(new[k]))
    assert same.sum() == 1, f"the file has {same.sum()} rows for {where}"
    return committed[same].iloc[0], where


def assert_rerun_agrees(
    rerun: pd.DataFrame,
    committed: pd.DataFrame,
    *,
    key: list[str],
    not_compared: Iterable[str],
    exact: Iterable[str] = (),
    empty_without_divergences: Iterable[str] = (),
    pool_by: list[str] | None = None,
) -> None:
    """Each row of ``rerun`` agrees with the committed row of the same ``key`` as the module's
    docstring says: its ``key`` (found in the file) and the ``exact`` columns equal, every other
    column but ``not_compared`` within :data:`SPREAD_FACTOR` sds over the committed rows of the
    same configuration, the ``key`` but the seed (pooled over ``pool_by`` when they are few).
    Every disagreement is listed, not only the first."""
    exact, skipped = list(exact), set(not_compared)
    config = [k for k in key if k != "seed"]
    may_be_empty = set(empty_without_divergences)
    compared = [c for c in committed.columns if c not in {*skipped, *exact, *key}]
    failures = []
    for _, new in rerun.iterrows():
        old, where = _stored_row(committed, new, key)
        for column in exact:
            same = (pd.isna(new[column]) and pd.isna(old[column])) or new[column] == old[column]
            if not same:
                failures.append(f"{where}: {column} is {new[column]!r}, the file's {old[column]!r}")
        for column in compared:
            got, stored = new[column], old[column]
            if pd.isna(got) or pd.isna(stored):
                if column in may_be_empty and (new["divergences"] == 0 or old["divergences"] == 0):
                    continue
                if not (pd.isna(got) and pd.isna(stored)):
                    failures.append(f"{where}: {column} is {got}, the file's {stored}")
                continue
            scale = scale_of(column)
            to_scale = _SCALES[scale]
            distance = abs(to_scale(float(got)) - to_scale(float(stored)))
            allowed = SPREAD_FACTOR * _spread(committed, old, column, config, pool_by or config)
            if distance > allowed:
                failures.append(
                    f"{where}: {column} is {got:.6g}, the file's {stored:.6g}: {distance:.3g} "
                    f"apart on the {scale} scale, where {SPREAD_FACTOR:g} sd of the file's seeds "
                    f"allow {allowed:.3g}"
                )
    assert not failures, "the re-run disagrees with the file:\n" + "\n".join(failures)


#: Chapter 7's thresholds: a run "collapsed" ``sigma_b`` below this (its ``map_sigma_b < 1e-3``).
COLLAPSED = 1e-3
#: Chapter 7: a collapsed run makes the slopes equal, their sd below 1e-2 x the exact posterior
#: mean of sigma_b (0.26; a lower bound of it is used here, so the test needs no exact posterior).
EQUAL_SLOPES = 1e-2 * 0.25
#: Chapter 7: a non-centered run at the top stopped within 2% of the non-centered MAP's sigma_b,
#: any other below 0.01; a run started at the MAP never reached sigma_b 0.01.
TOP_WIDTH, NEAR_ZERO = 0.02, 0.01
#: A run at the non-centered top has its log density (a proper maximum) to this many units.
TOP_LOG_DENSITY = 0.01


def _outcome(row: pd.Series, top: float) -> str:
    """Where an optimizer run ended, in chapter 7's words."""
    if row["parameterization"] == "noncentered" and row["log_density"] > top - 1:
        return "at the top"
    if row["sigma_b"] < COLLAPSED:
        return "collapsed"
    return "elsewhere"


def assert_map_rerun_agrees(rerun: pd.DataFrame, committed: pd.DataFrame, key: list[str]) -> None:
    """The MAP sweep's re-run rows agree with the file's in what chapter 7 claims of them:

    - the run's identity (``key``) and the iterations of a run from the MAP, exactly;
    - where each optimizer run ended (at the non-centered top, collapsed, elsewhere): the same;
      a collapsed run has equal slopes; a run at the top has the top's log density (to
      :data:`TOP_LOG_DENSITY`) and ``sigma_b`` within 2% of the file's; a non-centered run not at
      the top stopped near 0;
    - the optimizer's verdict where the chapter states it: L-BFGS-B reports success, BFGS on the
      centered model reports failure by precision loss, and a non-centered run near 0 reports
      success. Whether BFGS says "converged" or "precision loss" at the non-centered top depends on
      the last bits of its last line search (it differs between machines), and the chapter says
      nothing of it;
    - a run started at the MAP stays below ``sigma_b`` 0.01.

    Iterations, evaluations and the log density of a collapsed run are not compared: on a density
    without a top they count how far down the optimizer went before a stopping rule fired.
    """
    failures = []
    nc = committed[
        (committed["kind"] == "optimize") & (committed["parameterization"] == "noncentered")
    ]
    top = float(nc["log_density"].max())
    for _, new in rerun.iterrows():
        old, where = _stored_row(committed, new, key)
        if new["kind"] == "sample from MAP":
            if new["iterations"] != old["iterations"]:
                failures.append(f"{where}: {new['iterations']} iterations, not {old['iterations']}")
            if not new["sigma_b_max"] < NEAR_ZERO:
                failures.append(f"{where}: reached sigma_b {new['sigma_b_max']:.3g} from the MAP")
            continue
        outcome = _outcome(new, top)
        if outcome != _outcome(old, top):
            failures.append(f"{where}: ended {outcome}, the file's run {_outcome(old, top)}")
        if outcome == "collapsed" and not new["slope_sd"] < EQUAL_SLOPES:
            failures.append(f"{where}: collapsed with slopes {new['slope_sd']:.3g} apart")
        if outcome == "at the top":
            if abs(new["log_density"] - old["log_density"]) > TOP_LOG_DENSITY:
                failures.append(
                    f"{where}: top log density {new['log_density']}, not {old['log_density']}"
                )
            if abs(new["sigma_b"] / old["sigma_b"] - 1) > TOP_WIDTH:
                failures.append(f"{where}: top at sigma_b {new['sigma_b']}, not {old['sigma_b']}")
        elif new["parameterization"] == "noncentered" and not new["sigma_b"] < NEAR_ZERO:
            failures.append(f"{where}: stopped at sigma_b {new['sigma_b']:.3g}, neither top nor 0")
        stated = new["method"] == "L-BFGS-B" or new["parameterization"] == "centered"
        stated = stated or outcome != "at the top"
        if stated and new["success"] != old["success"]:
            failures.append(f"{where}: success {new['success']}, the file's {old['success']}")
        if (new["method"], new["parameterization"]) == ("BFGS", "centered") and (
            "precision loss" not in new["message"]
        ):
            failures.append(f"{where}: BFGS stopped with {new['message']!r}")
    assert not failures, "the re-run disagrees with the file:\n" + "\n".join(failures)
