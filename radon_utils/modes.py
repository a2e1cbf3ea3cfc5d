"""Looking for the most probable point: the optimizer runs of chapter 7 and of the MAP sweep.

``pm.find_MAP`` maximizes one objective from one start: the model's log density in the sampler's
coordinates (positive parameters on the log scale) *without* the Jacobian of that change of
variables, with SciPy's L-BFGS-B, from ``model.initial_point()``. :func:`maximize_density`
maximizes the same objective from any start with any SciPy method, so that chapter 7 and
:mod:`radon_utils.map_sweep` can ask whether an answer is a property of the model or of the
start and the stopping rule. :func:`trace_from` then starts a short NUTS run exactly at such a
point, to see how far the sampler gets from there.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping

import numpy as np
import pymc as pm
from pymc.blocking import DictToArrayBijection, RaveledVars
from scipy.optimize import OptimizeResult, minimize
from threadpoolctl import threadpool_limits

__all__ = [
    "SHORT_TUNE",
    "SHORT_DRAWS",
    "SHORT_CHAINS",
    "maximize_density",
    "default_start",
    "random_start",
    "as_point",
    "trace_from",
]

#: The short run of chapter 7, started at a point: 200 warm-up and 100 kept iterations, two chains.
SHORT_TUNE = 200
SHORT_DRAWS = 100
SHORT_CHAINS = 2


def maximize_density(
    model: pm.Model, x0: np.ndarray, method: str = "L-BFGS-B"
) -> tuple[dict[str, np.ndarray], OptimizeResult]:
    """Maximize ``model``'s log density from the flat vector ``x0``, as ``pm.find_MAP`` does.

    The objective is ``find_MAP``'s: ``model.compile_logp(jacobian=False)`` and its gradient,
    over the free variables in the sampler's coordinates (``sigma_b_log__``, not ``sigma_b``).
    Returns the end point as ``find_MAP`` returns it (every variable, on both scales, and the
    deterministics) and SciPy's report (``success``, ``message``, ``nit``, ``nfev``; ``-fun`` is
    the log density there). Unlike ``find_MAP``, it does not stop after 5000 evaluations: a
    run ends only when the method's own stopping rule fires.

    ``method`` is any gradient method of ``scipy.optimize.minimize`` ("L-BFGS-B", "BFGS", ...).
    SciPy runs with one BLAS thread: its products of vectors of a few hundred numbers gain
    nothing from threads, threads waiting for busy cores can make a run many times slower, and
    one thread adds the numbers in one order on every machine.
    """
    objective, to_point = _objective(model)
    x0 = np.asarray(x0, dtype=float)
    if x0.shape != default_start(model).shape:
        raise ValueError(
            f"x0 has shape {x0.shape}, but the model has {default_start(model).size} free numbers; "
            "start from default_start(model) or random_start(model, rng)"
        )
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(objective, x0, jac=True, method=method)
    return to_point(result.x), result


def default_start(model: pm.Model) -> np.ndarray:
    """``find_MAP``'s start: ``model.initial_point()`` as the flat vector the optimizer moves."""
    return DictToArrayBijection.map(model.initial_point()).data


def random_start(model: pm.Model, rng: np.random.Generator) -> np.ndarray:
    """:func:`default_start` with every number moved by a standard normal draw from ``rng``.

    Every variable moves by about 1 in the sampler's coordinates: a scale by a factor of about
    e, a county slope by about one unit of log radon. Far enough to leave the default's
    neighbourhood, near enough to stay where the data are plausible.
    """
    x = default_start(model)
    return x + rng.normal(size=x.size)


def as_point(model: pm.Model, x: np.ndarray) -> dict[str, np.ndarray]:
    """The flat vector ``x`` as ``find_MAP`` reports a point: every free variable in the sampler's
    coordinates and on its own scale (``sigma_b_log__`` and ``sigma_b``), and the deterministics."""
    return _objective(model)[1](x)


def trace_from(
    model: pm.Model,
    start: Mapping[str, np.ndarray],
    *,
    seed: int,
    var_name: str = "sigma_b",
    tune: int = SHORT_TUNE,
    draws: int = SHORT_DRAWS,
    chains: int = SHORT_CHAINS,
) -> np.ndarray:
    """``var_name``'s path in a short nutpie NUTS run with every chain started exactly at ``start``.

    ``start`` is a point as ``find_MAP`` or :func:`maximize_density` return it; no chain is
    jittered away from it, so the run shows where the sampler goes from *that* point. Returns
    an array of shape ``(chains, tune + draws)``: warm-up first, because leaving the start is
    what the warm-up is for. Ctrl-C stops the chains and arrives as ``KeyboardInterrupt``; a run
    that stopped early raises ``RuntimeError`` rather than return a short path.
    """
    import nutpie

    run = nutpie.sample(
        _compiled_from(model, start),
        tune=tune,
        draws=draws,
        chains=chains,
        cores=chains,
        seed=seed,
        save_warmup=True,
        progress_bar=False,
        blocking=False,
    )
    try:  # not blocking: nutpie's blocking call would take Ctrl-C and return the draws so far
        idata = run.wait()
    except BaseException:
        _cancel(run)
        raise
    path = np.concatenate([idata.warmup_posterior[var_name], idata.posterior[var_name]], axis=1)
    expected = (chains, tune + draws)
    if path.shape[:2] != expected or np.isnan(path).any():
        raise RuntimeError(
            f"the run from the point gave {var_name} of shape {path.shape[:2]}, "
            f"not {expected}, or NaN"
        )
    return path


_objectives: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_from_points: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _objective(model: pm.Model) -> tuple[Callable, Callable]:
    """Minus ``find_MAP``'s objective with its gradient, and the vector-to-point map; compiled
    once per model, as an optimizer calls them thousands of times."""
    if model not in _objectives:
        template = model.initial_point()
        layout = DictToArrayBijection.map(template).point_map_info
        logp = model.compile_logp(jacobian=False)
        dlogp = model.compile_dlogp(jacobian=False)
        reported = pm.util.get_default_varnames(
            model.unobserved_value_vars, include_transformed=True
        )
        report = model.compile_fn(reported, inputs=model.value_vars, point_fn=True)

        def values(x: np.ndarray) -> dict[str, np.ndarray]:
            return DictToArrayBijection.rmap(RaveledVars(x, layout), template)

        def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
            point = values(x)
            return -logp(point), -dlogp(point)

        def to_point(x: np.ndarray) -> dict[str, np.ndarray]:
            return dict(zip((v.name for v in reported), report(values(x)), strict=True))

        _objectives[model] = (objective, to_point)
    return _objectives[model]


def _compiled_from(model: pm.Model, start: Mapping[str, np.ndarray]):
    """nutpie's model started at ``start`` with no jitter, compiled once per model and start."""
    import nutpie

    initial = {rv.name: np.asarray(start[rv.name]) for rv in model.free_RVs}
    key = tuple((name, value.tobytes()) for name, value in initial.items())
    compiled = _from_points.setdefault(model, {})
    if key not in compiled:
        compiled[key] = nutpie.compile_pymc_model(model, initial_points=initial, jitter_rvs=set())
    return compiled[key]


def _cancel(run) -> None:
    """Stop nutpie's chains; a failure to do so must not hide why we stopped."""
    try:
        run.cancel()
    except BaseException:  # the error being raised already says what went wrong
        pass
