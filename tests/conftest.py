"""Shared fixtures: the radon table, loaded once per test session."""

import pandas as pd
import pytest

from radon_utils.data import load_radon
from radon_utils.fit_cache import FIT_CACHE_ENV_VAR


@pytest.fixture(scope="module", autouse=True)
def no_stored_fits():
    """The unit tests sample for real: no fit is read from or written to the fit cache.

    Module-scoped, so it is in force before any module-scoped fixture samples and is lifted
    before the chapters run under nbval (which may reuse the fits the book build stored).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(FIT_CACHE_ENV_VAR, "off")
        yield


@pytest.fixture(scope="session")
def radon() -> pd.DataFrame:
    """The committed Minnesota radon table."""
    return load_radon()
