"""The book's sampling defaults, in one place."""

from __future__ import annotations

import os
import weakref

import arviz as az
import pymc as pm

from .fit_cache import cached_fit

#: Samplers :func:`sample` can use. nutpie is the default: on this model it samples
#: several times faster than PyMC's own NUTS once compiled (see ``bench/RESULTS.md``).
SAMPLERS = ("nutpie", "pymc")
DEFAULT_SAMPLER = "nutpie"

DEFAULT_CHAINS = 4
DEFAULT_DRAWS = 1000
DEFAULT_TUNE = 1000
DEFAULT_TARGET_ACCEPT = 0.8

#: Set to 0 to hide progress bars (the Makefile does so for builds and tests).
PROGRESS_ENV_VAR = "RADON_PROGRESS"

_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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
    seed: int,
    draws: int = DEFAULT_DRAWS,
    tune: int = DEFAULT_TUNE,
    chains: int = DEFAULT_CHAINS,
    target_accept: float = DEFAULT_TARGET_ACCEPT,
    sampler: str = DEFAULT_SAMPLER,
    progressbar: bool | None = None,
    cache: bool = True,
) -> az.InferenceData:
    """Draw ``chains x draws`` posterior samples of ``model`` with NUTS after ``tune`` warm-up steps.

    Returns ArviZ ``InferenceData`` with ``posterior`` and ``sample_stats`` (including
    ``diverging``). nutpie prints no divergence warnings: count them from
    ``idata.sample_stats.diverging``. The same ``seed`` gives the same draws.

    A fit already made with the same model, settings and seed (in this or another chapter) is
    read back from disk instead of sampled again (see :mod:`radon_utils.fit_cache`); pass
    ``cache=False`` to sample regardless, e.g. to time it.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; use one of {', '.join(map(repr, SAMPLERS))}")
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must lie strictly between 0 and 1, got {target_accept!r}")
    for name, value in (("draws", draws), ("chains", chains)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    if int(tune) != tune or tune < 0:
        raise ValueError(f"tune must be a whole number >= 0, got {tune!r}")
    if progressbar is None:
        progressbar = show_progress()
    cores = min(chains, os.cpu_count() or 1)

    settings = {"sampler": sampler, "seed": seed, "draws": draws, "tune": tune, "chains": chains,
                "cores": cores, "target_accept": target_accept}

    def draw() -> az.InferenceData:
        if sampler == "nutpie":
            import nutpie

            idata = nutpie.sample(
                compile_nutpie(model),
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                seed=seed,
                target_accept=target_accept,
                save_warmup=False,
                progress_bar=progressbar,
            )
            if model.deterministics:
                idata.posterior = pm.compute_deterministics(
                    idata.posterior, model=model, merge_dataset=True, progressbar=False
                )
            return idata
        return pm.sample(
            model=model,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=seed,
            target_accept=target_accept,
            progressbar=progressbar,
            compute_convergence_checks=False,
        )

    return cached_fit(model, settings, draw) if cache else draw()
