"""Helpers shared by the chapters of *Hierarchical Radon*: data, model factory, sampling, plots.

The names a reader meets first are importable from the package itself::

    from radon_utils import Prior, build_model, exact_posterior, load_radon, sample

Each is loaded on first use, so that ``import radon_utils.quiet`` (or the Sphinx extension, or
``make strip``) does not import PyMC.
"""

from __future__ import annotations

import importlib

__all__ = ["Prior", "build_model", "exact_posterior", "load_radon", "sample"]

#: Where each package-level name lives.
_HOMES = {
    "Prior": "priors",
    "build_model": "models",
    "exact_posterior": "exact",
    "load_radon": "data",
    "sample": "sampling",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(
            f"module 'radon_utils' has no attribute {name!r}; "
            f"the package offers {', '.join(__all__)}"
        )
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
