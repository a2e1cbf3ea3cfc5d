"""Shared fixtures: the radon table, loaded once per test session."""

import pandas as pd
import pytest

from radon_utils.data import load_radon


@pytest.fixture(scope="session")
def radon() -> pd.DataFrame:
    """The committed Minnesota radon table."""
    return load_radon()
