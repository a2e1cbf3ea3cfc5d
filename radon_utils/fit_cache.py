"""Keep finished fits on disk, so that a chapter does not sample again what another one sampled.

Chapters 2, 3 and 4 all fit the centered model with the same seed, and chapters 4 and 5 the
non-centered one; each fit costs a compilation of several seconds.
:func:`radon_utils.sampling.sample` stores every fit under a key made of everything that decides
its draws: the model's log density and deterministics (their graph, data and coordinates), the
sampler and its settings, the seed, a fingerprint of the source of ``radon_utils.sampling``
(which ``sample`` puts in the settings it passes: this module does not know its callers), the
versions of Python and of the packages that compute
(:func:`radon_utils.machine.package_versions`), and the processor and compiled kernels that
round their arithmetic (:func:`radon_utils.machine.floating_point_environment`). The same key
gives the same draws (NUTS here is reproducible by seed on one kind of machine), so a stored fit
is exactly the fit that sampling again would give; change anything in that list and the key
changes.

Where: ``$RADON_FIT_CACHE`` if set (a folder, or ``0``/``off`` to keep nothing), else
``_build/fits`` in the repository (found by walking up from the working directory to
``_config.yml``). Set but empty counts as unset. ``make clean`` empties it.

Only whole fits are kept: the caller's ``check`` refuses an incomplete fit before it is stored
and a stored fit before it is returned, and a file appears under its key only once completely
written (written beside, then renamed), so an interrupted run leaves nothing a later run trusts.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import arviz as az
import numpy as np
import pymc as pm
import pytensor
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant
from pytensor.graph.traversal import ancestors

from .machine import floating_point_environment, package_versions

__all__ = [
    "FIT_CACHE_ENV_VAR",
    "OFF",
    "cache_dir",
    "model_fingerprint",
    "fit_key",
    "cached_fit",
]

#: Environment variable naming the folder; ``0``, ``off``, ``false`` or ``no`` turn the cache off.
FIT_CACHE_ENV_VAR = "RADON_FIT_CACHE"
OFF = ("0", "off", "false", "no")

log = logging.getLogger(__name__)


def cache_dir(start: str | os.PathLike | None = None) -> Path | None:
    """The folder fits are kept in, or None when the cache is off or no repository is found."""
    setting = os.environ.get(FIT_CACHE_ENV_VAR, "").strip()
    if setting:  # set but empty is unset: Path("") would be the working directory
        return None if setting.lower() in OFF else Path(setting)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").exists() and (folder / "radon_utils").is_dir():
            return folder / "_build" / "fits"
    return None


def model_fingerprint(model: pm.Model) -> str:
    """A hash of what the sampler sees and stores: the log density and the deterministics (their
    graph, every constant and data value in it), the coordinates and the initial values."""
    outputs = [model.logp(), *model.replace_rvs_by_values(model.deterministics)]
    digest = hashlib.sha256()
    text = io.StringIO()
    pytensor.printing.debugprint(outputs, file=text, print_type=True)
    digest.update(text.getvalue().encode())
    for var in ancestors(outputs):
        if isinstance(var, Constant):
            digest.update(np.ascontiguousarray(var.data).tobytes())
        elif isinstance(var, SharedVariable):
            value = var.get_value(borrow=True)
            if isinstance(value, np.ndarray):
                digest.update(np.ascontiguousarray(value).tobytes())
    coords = sorted((name, [str(v) for v in values]) for name, values in model.coords.items())
    dims = sorted(
        (name, tuple(d or () for d in dims)) for name, dims in model.named_vars_to_dims.items()
    )
    initvals = sorted((rv.name, repr(value)) for rv, value in model.rvs_to_initial_values.items())
    digest.update(repr((coords, dims, initvals)).encode())
    return digest.hexdigest()


def fit_key(model: pm.Model, settings: Mapping[str, object]) -> str:
    """The key of a fit of ``model`` with the sampler ``settings`` (seed, draws, sampler... and
    whatever else the caller wants in the key, such as a fingerprint of its own source)."""
    parts = {
        "model": model_fingerprint(model),
        "settings": sorted((k, repr(v)) for k, v in settings.items()),
        "versions": package_versions(),
        "floating_point": floating_point_environment(),
    }
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def cached_fit(
    model: pm.Model,
    settings: Mapping[str, object],
    fit: Callable[[], az.InferenceData],
    check: Callable[[az.InferenceData], None] | None = None,
) -> az.InferenceData:
    """Return the stored fit of ``model`` with ``settings``; if none, run ``fit()`` and store it.

    ``check`` raises if a fit must not be kept (e.g. it has fewer draws than asked). It runs on a
    new fit before it is stored, so an error leaves nothing behind, and on a stored fit before it
    is returned: a stored fit it refuses is fitted again and replaced.
    """
    folder = cache_dir()
    if folder is None:
        return fit()
    path = folder / f"{fit_key(model, settings)}.pkl"
    stored = _read(path, check)
    if stored is not None:
        return stored
    idata = fit()
    if check is not None:
        check(idata)
    _store(idata, folder, path)
    return idata


def _read(path: Path, check: Callable[[az.InferenceData], None] | None) -> az.InferenceData | None:
    """The fit stored at ``path`` if there is one and it passes ``check``, else None."""
    if not path.exists():
        return None
    try:
        with path.open("rb") as stored:
            idata = pickle.load(stored)
        if not isinstance(idata, az.InferenceData):
            raise TypeError(f"it holds a {type(idata).__name__}, not a fit")
        if check is not None:
            check(idata)
    except Exception as error:
        # A truncated, foreign or incomplete fit: sample again and replace it.
        log.warning("ignoring the stored fit %s (%s)", path, error)
        return None
    log.info("reusing the fit stored in %s", path)
    return idata


def _store(idata: az.InferenceData, folder: Path, path: Path) -> None:
    """Write ``idata`` beside ``path``, then rename: chapters executed side by side never read half
    a file, and an interrupted write leaves no file under the key."""
    partial = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
            partial = Path(tmp.name)
            pickle.dump(idata, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
    except OSError as error:
        # A read-only or full disk costs the next chapter time, not this one its fit.
        if partial is not None:
            partial.unlink(missing_ok=True)
        log.warning(
            "could not store the fit in %s (%s); set %s=off to stop trying",
            folder,
            error,
            FIT_CACHE_ENV_VAR,
        )
    except BaseException:  # Ctrl-C or a fit that cannot be pickled: leave nothing half-written
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise
