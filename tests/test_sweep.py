"""The committed seed sweep is complete and reproducible by its command."""

from types import SimpleNamespace

import pandas as pd
import pytest
from rerun_tolerance import BOOK_SAMPLING, assert_fitted, assert_rerun_agrees, spy_on
from sweep_helpers import ROOT, assert_left_as_it_was, copy_of, fake_sample

import radon_utils.sweep as sweep
from radon_utils.sweep import (
    COLUMNS,
    DEFAULT_SEEDS,
    RELATIVE_PATH,
    TARGET_ACCEPTS,
    TIMING_COLUMNS,
    load_sweep,
    main,
    run_sweep,
)

SWEEP = ROOT / RELATIVE_PATH


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return load_sweep(SWEEP)


def test_the_sweep_file_covers_both_parameterizations_for_every_seed_and_target_accept(committed):
    assert list(committed.columns) == COLUMNS
    assert len(DEFAULT_SEEDS) >= 20
    for (parameterization, target_accept), rows in committed.groupby(
        ["parameterization", "target_accept"]
    ):
        assert sorted(rows["seed"]) == list(DEFAULT_SEEDS), (parameterization, target_accept)
    assert sorted(committed["target_accept"].unique()) == list(TARGET_ACCEPTS)
    assert sorted(committed["parameterization"].unique()) == ["centered", "noncentered"]


def test_load_sweep_finds_the_committed_file_and_refuses_an_old_one(tmp_path):
    pd.testing.assert_frame_equal(load_sweep(), pd.read_csv(SWEEP))
    old = tmp_path / "old.csv"
    old.write_text("seed,parameterization,divergences\n1,centered,3\n")
    with pytest.raises(ValueError, match="older sweep; run `make sweep`"):
        load_sweep(old)


def test_rows_rerun_match_the_file(committed, monkeypatch):
    """One seed at the lowest and the highest target_accept, both parameterizations: the same
    fits as the file's, and numbers within the spread of the file's seeds
    (tests/rerun_tolerance.py)."""
    seed, ladder = max(DEFAULT_SEEDS), [min(TARGET_ACCEPTS), max(TARGET_ACCEPTS)]
    fits = spy_on(monkeypatch, sweep, "sample")
    rerun = run_sweep([seed], ladder)
    assert len(rerun) == 4
    assert_fitted(
        fits,
        (919, 85),
        [
            BOOK_SAMPLING | {"target_accept": ta, "seed": seed, "store_divergences": True}
            for ta in rerun["target_accept"]
        ],
    )
    assert_rerun_agrees(
        rerun,
        committed,
        key=["seed", "parameterization", "target_accept"],
        not_compared=TIMING_COLUMNS,
        empty_without_divergences=sweep.DIVERGENCE_COLUMNS,
    )


SUMMARY = {c: 1.0 for c in COLUMNS[3:]} | {"divergences": 3, "gradient_evaluations": 1000}


@pytest.fixture
def out(tmp_path):
    """A copy of the committed sweep file for the command to (not) replace."""
    return copy_of(SWEEP, tmp_path)


def fake_fits(monkeypatch, stop_at: int | None = None, summary: dict = SUMMARY) -> list[int]:
    """Fits that take no time; the ``stop_at``-th one is interrupted by Ctrl-C. Returns the seeds
    fitted."""
    seeds = []
    monkeypatch.setattr(sweep, "sample", fake_sample(seeds, stop_at))
    monkeypatch.setattr(sweep, "compile_nutpie", lambda model: None)
    monkeypatch.setattr(
        sweep, "exact_posterior", lambda data: SimpleNamespace(county_effects=lambda *a, **k: None)
    )
    monkeypatch.setattr(
        sweep,
        "fit_row",
        lambda seed, county, exact: {k: v for k, v in summary.items() if k != "sampling_seconds"},
    )
    return seeds


def test_a_sweep_interrupted_by_ctrl_c_leaves_the_file_byte_for_byte(out, monkeypatch, capsys):
    """It used to carry on and write an empty row (2,noncentered,0,,,,) in place of a good one."""
    fake_fits(monkeypatch, stop_at=4)
    with pytest.raises(KeyboardInterrupt):
        main(["--first", "1", "--last", "3", "--target-accept", "0.8", "--out", str(out)])
    assert_left_as_it_was(out, SWEEP, capsys.readouterr().err)


def test_a_fit_without_finite_numbers_stops_the_sweep_before_it_writes(out, monkeypatch):
    fake_fits(monkeypatch, summary=SUMMARY | {"ess_sigma_b": float("nan")})
    with pytest.raises(
        ValueError, match=r"seed 1 \(centered, target_accept 0\.8\) gave no finite ess_sigma_b"
    ):
        main(["--first", "1", "--last", "2", "--out", str(out)])
    assert out.read_bytes() == SWEEP.read_bytes()


def test_a_completed_sweep_replaces_the_file_with_every_row(out, monkeypatch):
    seeds = fake_fits(monkeypatch)
    main(["--first", "4", "--last", "5", "--target-accept", "0.8", "0.99", "--out", str(out)])
    table = pd.read_csv(out)
    assert seeds == [4, 4, 5, 5] * 2
    assert list(table.columns) == COLUMNS
    assert table[["seed", "parameterization", "target_accept"]].values.tolist() == [
        [seed, name, ta]
        for ta in (0.8, 0.99)
        for seed in (4, 5)
        for name in ("centered", "noncentered")
    ]
    assert table.notna().all().all()


def test_a_fit_without_divergences_may_leave_the_divergence_columns_empty(out, monkeypatch):
    empty = dict.fromkeys(sweep.DIVERGENCE_COLUMNS, float("nan"))
    fake_fits(monkeypatch, summary=SUMMARY | empty | {"divergences": 0})
    main(["--first", "1", "--last", "1", "--target-accept", "0.9", "--out", str(out)])
    table = pd.read_csv(out)
    assert table[sweep.DIVERGENCE_COLUMNS].isna().all().all()
    assert table.drop(columns=sweep.DIVERGENCE_COLUMNS).notna().all().all()


def test_a_bad_target_accept_is_refused_before_any_fit(out, monkeypatch):
    seeds = fake_fits(monkeypatch)
    with pytest.raises(SystemExit):
        main(["--target-accept", "0.8", "1.2", "--out", str(out)])
    assert seeds == [] and out.read_bytes() == SWEEP.read_bytes()


def test_a_negative_first_seed_is_refused_before_any_fit(out, monkeypatch):
    seeds = fake_fits(monkeypatch)
    with pytest.raises(SystemExit):
        main(["--first", "-1", "--last", "2", "--out", str(out)])
    assert seeds == [] and out.read_bytes() == SWEEP.read_bytes()
