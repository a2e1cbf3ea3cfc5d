"""The committed seed sweep is complete and reproducible by its command."""

from pathlib import Path

import pandas as pd
import pytest

import radon_utils.sweep as sweep
from radon_utils.sweep import COLUMNS, DEFAULT_SEEDS, main, run_sweep

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


SUMMARY = {"divergences": 3, "ess_sigma_b": 100.0, "max_rhat": 1.01, "sigma_b_mean": 0.25, "sigma_b_min": 0.001}


@pytest.fixture
def out(tmp_path):
    """A copy of the committed sweep file for the command to (not) replace."""
    path = tmp_path / "seed_sweep.csv"
    path.write_bytes(SWEEP.read_bytes())
    return path


def fake_fits(monkeypatch, stop_at: int | None = None, summary: dict = SUMMARY) -> list[int]:
    """Fits that take no time; the ``stop_at``-th one is interrupted by Ctrl-C. Returns the seeds fitted."""
    seeds = []

    def fit(model, *, seed, **kwargs):
        seeds.append(seed)
        if len(seeds) == stop_at:
            raise KeyboardInterrupt
        return seed

    monkeypatch.setattr(sweep, "sample", fit)
    monkeypatch.setattr(sweep, "fit_summary", lambda seed: summary)
    return seeds


def test_a_sweep_interrupted_by_ctrl_c_leaves_the_file_byte_for_byte(out, monkeypatch, capsys):
    """It used to carry on and write an empty row (2,noncentered,0,,,,) in place of a good one."""
    fake_fits(monkeypatch, stop_at=4)
    with pytest.raises(KeyboardInterrupt):
        main(["--first", "1", "--last", "3", "--out", str(out)])
    assert out.read_bytes() == SWEEP.read_bytes()
    assert [p.name for p in out.parent.iterdir()] == [out.name], "no temporary file is left"
    assert f"{out} was not changed" in capsys.readouterr().err


def test_a_fit_without_finite_numbers_stops_the_sweep_before_it_writes(out, monkeypatch):
    fake_fits(monkeypatch, summary=SUMMARY | {"ess_sigma_b": float("nan")})
    with pytest.raises(ValueError, match=r"seed 1 \(centered\) gave no finite ess_sigma_b"):
        main(["--first", "1", "--last", "2", "--out", str(out)])
    assert out.read_bytes() == SWEEP.read_bytes()


def test_a_completed_sweep_replaces_the_file_with_every_row(out, monkeypatch):
    seeds = fake_fits(monkeypatch)
    main(["--first", "4", "--last", "5", "--out", str(out)])
    table = pd.read_csv(out)
    assert seeds == [4, 4, 5, 5]
    assert list(table.columns) == COLUMNS
    assert table[["seed", "parameterization"]].values.tolist() == [
        [4, "centered"], [4, "noncentered"], [5, "centered"], [5, "noncentered"]
    ]
    assert table.notna().all().all()


def test_a_negative_first_seed_is_refused_before_any_fit(out, monkeypatch):
    seeds = fake_fits(monkeypatch)
    with pytest.raises(SystemExit):
        main(["--first", "-1", "--last", "2", "--out", str(out)])
    assert seeds == [] and out.read_bytes() == SWEEP.read_bytes()
