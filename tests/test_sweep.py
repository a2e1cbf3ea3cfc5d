"""The committed seed sweep is complete and reproducible by its command."""

from pathlib import Path

import pandas as pd
import pytest

from radon_utils.sweep import COLUMNS, DEFAULT_SEEDS, run_sweep

SWEEP = Path(__file__).resolve().parents[1] / "data" / "seed_sweep.csv"


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return pd.read_csv(SWEEP)


def test_the_sweep_file_covers_both_parameterizations_for_every_seed(committed):
    assert list(committed.columns) == COLUMNS
    assert len(DEFAULT_SEEDS) >= 20
    for parameterization in ("centered", "noncentered"):
        seeds = committed.loc[committed["parameterization"] == parameterization, "seed"]
        assert sorted(seeds) == list(DEFAULT_SEEDS)


def test_two_seeds_rerun_give_the_rows_in_the_file(committed):
    seeds = [min(DEFAULT_SEEDS), max(DEFAULT_SEEDS)]
    rerun = run_sweep(seeds)
    stored = committed[committed["seed"].isin(seeds)]
    key = ["seed", "parameterization"]
    rerun, stored = (t.sort_values(key).reset_index(drop=True) for t in (rerun, stored))
    pd.testing.assert_frame_equal(rerun[key + ["divergences"]], stored[key + ["divergences"]], check_dtype=False)
    # Same seed, same machine kind: the same draws; allow for the file's rounding only.
    for col in ("ess_sigma_b", "max_rhat", "sigma_b_mean", "sigma_b_min"):
        pd.testing.assert_series_equal(rerun[col], stored[col], rtol=1e-5, check_dtype=False)
