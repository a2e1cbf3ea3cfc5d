"""The book's sampling defaults, in one place."""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import signal
import sys
import threading
import weakref
from contextlib import contextmanager
from numbers import Real

import arviz as az
import numpy as np
import pymc as pm

from .fit_cache import cached_fit

__all__ = [
    "SAMPLERS",
    "DEFAULT_SAMPLER",
    "DEFAULT_CHAINS",
    "DEFAULT_DRAWS",
    "DEFAULT_TUNE",
    "DEFAULT_TARGET_ACCEPT",
    "MAX_SEED",
    "PROGRESS_ENV_VAR",
    "IncompleteFitError",
    "show_progress",
    "compile_nutpie",
    "sample",
    "require_complete",
]

#: Samplers :func:`sample` can use. nutpie is the default: on this model it samples
#: several times faster than PyMC's own NUTS once compiled (see ``bench/RESULTS.md``).
SAMPLERS = ("nutpie", "pymc")
DEFAULT_SAMPLER = "nutpie"

DEFAULT_CHAINS = 4
DEFAULT_DRAWS = 1000
DEFAULT_TUNE = 1000
DEFAULT_TARGET_ACCEPT = 0.8
#: The largest seed nutpie takes (an unsigned 64-bit integer).
MAX_SEED = 2**64 - 1

#: Set to 0 to hide progress bars (the Makefile does so for builds and tests).
PROGRESS_ENV_VAR = "RADON_PROGRESS"

_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class IncompleteFitError(RuntimeError):
    """A fit with fewer draws than asked or with NaN draws: never stored, never returned."""


def show_progress() -> bool:
    """Whether to draw progress bars: yes for a person at a notebook, no in builds, tests and CI."""
    setting = os.environ.get(PROGRESS_ENV_VAR)
    if setting is not None:
        return setting.strip().lower() not in ("0", "false", "no", "off", "")
    return not os.environ.get("CI")


def compile_nutpie(model: pm.Model):
    """Return the nutpie-compiled ``model``, compiling it once per model object.

    It stores only the variables the sampler moves; :func:`sample` computes the deterministics
    afterwards. Stored draw by draw during sampling, the deterministics of the whole-survey model
    (936 county effects) would raise a kernel's peak memory by about 110 MiB.
    """
    import nutpie

    if model not in _compiled:
        free = [rv.name for rv in model.free_RVs]
        _compiled[model] = nutpie.compile_pymc_model(model, var_names=free)
    return _compiled[model]


def sample(
    model: pm.Model,
    *,
    seed: int | None,
    draws: int = DEFAULT_DRAWS,
    tune: int = DEFAULT_TUNE,
    chains: int = DEFAULT_CHAINS,
    target_accept: float = DEFAULT_TARGET_ACCEPT,
    sampler: str = DEFAULT_SAMPLER,
    progressbar: bool | None = None,
    cache: bool = True,
    store_divergences: bool = False,
) -> az.InferenceData:
    """Draw ``chains x draws`` posterior samples of ``model`` by NUTS after ``tune`` warm-up steps.

    Returns ArviZ ``InferenceData`` with ``posterior`` and ``sample_stats`` (including
    ``diverging``). nutpie prints no divergence warnings: count them from
    ``idata.sample_stats.diverging``. The same ``seed`` gives the same draws on the same kind of
    machine with the same versions (:mod:`radon_utils.machine`); ``seed=None`` gives new draws
    each time (never stored, never read back).

    A fit already made with the same model, settings and seed (in this or another chapter) is
    read back from disk instead of sampled again (see :mod:`radon_utils.fit_cache`); pass
    ``cache=False`` to sample regardless, e.g. to time it.

    ``store_divergences=True`` (nutpie only) also keeps where each divergent leapfrog step began
    and ended, in the sampler's unconstrained coordinates (``sample_stats.divergence_start`` and
    ``divergence_end``, e.g. ``sigma_b_log__``): a divergent transition returns a draw from
    before the blow-up, so the draw alone does not say where the integrator failed. The draws are
    the same as without it.

    Only a complete fit is returned or stored: Ctrl-C while sampling raises ``KeyboardInterrupt``
    (the draws so far are dropped), and a fit with fewer draws than asked or with NaN draws raises
    :class:`IncompleteFitError`. A failure inside nutpie's Rust code (a panic, which ``except
    Exception`` would not catch) arrives as ``RuntimeError``.
    """
    _check_settings(
        model,
        seed=seed,
        draws=draws,
        tune=tune,
        chains=chains,
        target_accept=target_accept,
        sampler=sampler,
    )
    if store_divergences and sampler != "nutpie":
        raise ValueError(
            "store_divergences=True needs sampler='nutpie' "
            "(PyMC's NUTS does not keep where a divergence began)"
        )
    seed = None if seed is None else int(seed)
    draws, tune, chains = int(draws), int(tune), int(chains)
    if progressbar is None:
        progressbar = show_progress()
    cores = min(chains, os.cpu_count() or 1)

    settings = {
        "sampler": sampler,
        "seed": seed,
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "cores": cores,
        "target_accept": target_accept,
    }
    if store_divergences:  # only then, so that the other fits' stored keys stay as they were
        settings["store_divergences"] = True

    def check(idata: az.InferenceData) -> None:
        require_complete(idata, chains=chains, draws=draws)

    def draw() -> az.InferenceData:
        run = _sample_nutpie if sampler == "nutpie" else _sample_pymc
        idata = run(model, settings, progressbar=progressbar)
        check(idata)
        return idata

    if not cache or seed is None:  # an unseeded fit is one of many: storing it would fix its draws
        return draw()
    return cached_fit(
        model, settings | {"sampling_source": _source_fingerprint()}, draw, check=check
    )


def require_complete(idata: az.InferenceData, *, chains: int, draws: int) -> None:
    """Raise :class:`IncompleteFitError` unless ``idata`` holds ``chains x draws`` posterior draws,
    none of them NaN (nutpie pads the chains of an interrupted run with NaN)."""
    if "posterior" not in idata.groups():
        raise IncompleteFitError("the fit has no posterior group; sample again")
    post = idata.posterior
    got = (post.sizes.get("chain", 0), post.sizes.get("draw", 0))
    if got != (chains, draws):
        raise IncompleteFitError(
            f"the fit holds {got[0]} chain(s) of {got[1]} draws "
            f"where {chains} of {draws} were asked "
            "(sampling was interrupted?); it is neither stored nor returned; sample again"
        )
    for name, values in post.data_vars.items():
        missing = int(np.isnan(values.to_numpy()).sum()) if values.dtype.kind == "f" else 0
        if missing:
            raise IncompleteFitError(
                f"the fit's draws of {name!r} hold {missing} NaN value(s) (sampling stopped before "
                "every chain finished?); it is neither stored nor returned; sample again"
            )


@functools.cache
def _source_fingerprint() -> str:
    """A hash of this module's source, part of every stored fit's key: an edit here re-samples."""
    return hashlib.sha256(inspect.getsource(sys.modules[__name__]).encode()).hexdigest()


def _check_settings(
    model: object,
    *,
    seed: object,
    draws: object,
    tune: object,
    chains: object,
    target_accept: object,
    sampler: object,
) -> None:
    """Refuse settings that would fail later, or inside the sampler, with a message saying why."""
    if not isinstance(model, pm.Model):
        raise TypeError(
            f"model must be a pymc.Model (e.g. from build_model), got {type(model).__name__}"
        )
    if sampler not in SAMPLERS:
        raise ValueError(
            f"unknown sampler {sampler!r}; use one of {', '.join(map(repr, SAMPLERS))}"
        )
    if not isinstance(target_accept, Real) or not 0 < target_accept < 1:
        raise ValueError(f"target_accept must lie strictly between 0 and 1, got {target_accept!r}")
    for name, value in (("draws", draws), ("chains", chains)):
        if not _is_whole(value) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    if not _is_whole(tune) or tune < 0:
        raise ValueError(f"tune must be a whole number >= 0, got {tune!r}")
    if tune == 0 and sampler == "nutpie":
        raise ValueError(
            "tune=0 is not possible with nutpie, which needs at least one warm-up step to adapt "
            "(it panics otherwise); pass tune >= 1, or sampler='pymc' to sample without warm-up"
        )
    if seed is not None and (not _is_whole(seed) or not 0 <= seed <= MAX_SEED):
        raise ValueError(
            "seed must be a whole number from 0 to 2**64 - 1 "
            f"(or None for fresh, unstored draws), got {seed!r}"
        )


def _is_whole(value: object) -> bool:
    """Whether ``value`` is a whole number (``3``, ``np.int64(3)``, ``3.0``), not a bool or text."""
    return isinstance(value, Real) and not isinstance(value, bool) and float(value).is_integer()


def _sample_nutpie(model: pm.Model, settings: dict, *, progressbar: bool) -> az.InferenceData:
    """Sample with nutpie; Ctrl-C stops the chains and arrives as ``KeyboardInterrupt``."""
    import nutpie

    compiled = compile_nutpie(model)  # may take a while: Ctrl-C works as usual meanwhile
    run = None
    try:
        # Not blocking, so that an interrupt is ours to handle: nutpie's blocking call would
        # catch it and return the draws so far as if they were the fit. Ctrl-C is held while the
        # chains start: pressed then, it would leave them running with nothing to stop them.
        with _interrupt_held() as pressed:
            run = nutpie.sample(
                compiled,
                draws=settings["draws"],
                tune=settings["tune"],
                chains=settings["chains"],
                cores=settings["cores"],
                seed=settings["seed"],
                target_accept=settings["target_accept"],
                save_warmup=False,
                store_divergences=settings.get("store_divergences", False),
                progress_bar=progressbar,
                blocking=False,
            )
        if pressed():
            raise KeyboardInterrupt
        idata = run.wait()
    except BaseException as error:
        if run is not None:
            _cancel(run)
        if type(error).__name__ == "PanicException":  # pyo3's, a BaseException
            raise RuntimeError(
                f"nutpie failed inside its Rust code ({error}) with the settings {settings}"
            ) from error
        raise
    # Where a divergent step began and ended is kept; its momentum and gradient (another 11 MB
    # a fit on Minnesota) are not.
    idata.sample_stats = idata.sample_stats.drop_vars(
        ["divergence_momentum", "divergence_start_gradient"], errors="ignore"
    )
    if model.deterministics:
        idata.posterior = pm.compute_deterministics(
            idata.posterior, model=model, merge_dataset=True, progressbar=False
        )
    return idata


def _sample_pymc(model: pm.Model, settings: dict, *, progressbar: bool) -> az.InferenceData:
    """Sample with PyMC's own NUTS; an interrupt reaches the caller as ``KeyboardInterrupt``."""
    idata = pm.sample(
        model=model,
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        cores=settings["cores"],
        random_seed=settings["seed"],
        target_accept=settings["target_accept"],
        progressbar=progressbar,
        compute_convergence_checks=False,
    )
    # PyMC catches Ctrl-C and returns the draws so far: the only way its trace comes out short.
    if idata.posterior.sizes["draw"] < settings["draws"]:
        raise KeyboardInterrupt(
            "PyMC's sampling was interrupted after "
            f"{idata.posterior.sizes['draw']} of {settings['draws']} draws"
        )
    return idata


def _cancel(run) -> None:
    """Stop nutpie's chains and drop their draws; a failure to do so must not hide why we stopped,
    and a second Ctrl-C must not cut the stopping short (the chains would run on)."""
    try:
        with _interrupt_held():
            run.cancel()
    except Exception:  # the error being raised already says what went wrong
        pass


@contextmanager
def _interrupt_held():
    """Hold Ctrl-C (SIGINT) for the duration of the block; yields a function that says whether it
    was pressed meanwhile. Only the main thread can catch signals: elsewhere nothing is held."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    presses = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: presses.append(signum))
    try:
        yield lambda: bool(presses)
    finally:
        signal.signal(signal.SIGINT, previous)
