"""Silence the library warnings known to be harmless here, by name, and nothing else."""

from __future__ import annotations

import warnings

__all__ = ["KNOWN_HARMLESS", "filter_known_warnings"]

#: (category, message pattern, why it is harmless). Every other warning still shows.
KNOWN_HARMLESS = [
    (
        FutureWarning,
        r"\s*ArviZ is undergoing a major refactor",
        "ArviZ 0.23 announces its 1.0 rewrite once a day on import; the book pins 0.23.",
    ),
]


def filter_known_warnings() -> None:
    """Hide the warnings in :data:`KNOWN_HARMLESS`; call it before importing ArviZ or PyMC."""
    for category, pattern, _why in KNOWN_HARMLESS:
        warnings.filterwarnings("ignore", message=pattern, category=category)
