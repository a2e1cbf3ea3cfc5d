"""The committed national seed sweep is complete and reproducible by its command."""

import pandas as pd
import pytest
from rerun_tolerance import BOOK_SAMPLING, assert_fitted, assert_rerun_agrees, spy_on
from sweep_helpers import ROOT, assert_left_as_it_was, copy_of, fake_sample

import radon_utils.national_sweep as national_sweep
from radon_utils.national_sweep import (
    COLUMNS,
    DEFAULT_PARAMETERIZATIONS,
    DEFAULT_SEEDS,
    MINNESOTA_COLUMNS,
    RELATIVE_PATH,
    TIMING_COLUMNS,
    load_national_sweep,
    main,
    pooling_summary,
    run_national_sweep,
)

SWEEP = ROOT / RELATIVE_PATH


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return load_national_sweep(SWEEP)


def test_the_file_has_one_complete_row_per_seed_and_parameterization(committed):
    assert list(committed.columns) == COLUMNS
    assert len(DEFAULT_SEEDS) >= 10
    assert sorted(committed["parameterization"].unique()) == sorted(DEFAULT_PARAMETERIZATIONS)
    for parameterization, rows in committed.groupby("parameterization"):
        assert sorted(rows["seed"]) == list(DEFAULT_SEEDS), parameterization
    assert committed.notna().all().all(), (
        "every parameterization in the file has a Minnesota comparison"
    )


def test_load_national_sweep_finds_the_committed_file_and_refuses_an_old_one(tmp_path):
    pd.testing.assert_frame_equal(load_national_sweep(), pd.read_csv(SWEEP))
    old = tmp_path / "old.csv"
    old.write_text("seed,parameterization,divergences\n1,noncentered,0\n")
    with pytest.raises(
        ValueError, match=r"older national sweep; run `python -m radon_utils.national_sweep`"
    ):
        load_national_sweep(old)


def test_a_row_rerun_matches_the_file(committed, monkeypatch):
    """One seed (a national fit takes half a minute): the national fit and the Minnesota one
    beside it are the file's, and their numbers lie within the spread of the file's seeds
    (tests/rerun_tolerance.py)."""
    seed = min(DEFAULT_SEEDS)
    fits = spy_on(monkeypatch, national_sweep, "sample")
    rerun = run_national_sweep([seed])
    assert len(rerun) == len(DEFAULT_PARAMETERIZATIONS)
    assert_fitted(fits, [(12448, 468), (919, 85)], BOOK_SAMPLING | {"seed": seed})
    assert_rerun_agrees(
        rerun,
        committed,
        key=["seed", "parameterization"],
        not_compared=TIMING_COLUMNS,
    )


def test_pooling_summary_measures_shifts_national_minus_minnesota():
    estimates = pd.DataFrame(
        {
            "homes": [1, 3, 20, 40],
            "a_minnesota": [1.0, 1.0, 1.0, 1.0],
            "a_national": [0.6, 0.8, 0.9, 1.1],
            "b_minnesota": [-0.4, -0.8, -0.6, -0.6],
            "b_national": [-0.7, -0.7, -0.7, -0.7],
        },
        index=["A", "B", "C", "D"],
    )
    summary = pooling_summary(estimates)
    assert summary["shift_a_mean"] == pytest.approx(-0.15)
    assert summary["share_a_lower"] == 0.75
    assert summary["shift_a_max"] == pytest.approx(0.1)
    assert summary["shift_a_few_homes"] == pytest.approx(-0.3)  # homes <= FEW_HOMES (3)
    assert summary["shift_a_many_homes"] == pytest.approx(0.0)  # homes >= MANY_HOMES (20)
    assert summary["spread_b_national"] == 0
    assert summary["spread_b_minnesota"] == pytest.approx(pd.Series([-0.4, -0.8, -0.6, -0.6]).std())
    assert summary["shift_b_mean"] == pytest.approx(-0.1)


ROW = {c: 1.0 for c in COLUMNS[2:]} | {"divergences": 0, "gradient_evaluations": 1000}


@pytest.fixture
def out(tmp_path):
    """A copy of the committed file for the command to (not) replace."""
    return copy_of(SWEEP, tmp_path)


def fake_fits(monkeypatch, stop_at: int | None = None, row: dict = ROW) -> list[tuple[str, int]]:
    """Fits that take no time on no data; the ``stop_at``-th one is interrupted by Ctrl-C.
    Returns which model (national or Minnesota) was fitted with which seed."""
    fitted = []
    monkeypatch.setattr(national_sweep, "load_survey", lambda: "survey")
    monkeypatch.setattr(national_sweep, "load_radon", lambda: "minnesota")
    monkeypatch.setattr(national_sweep, "model_table", lambda survey: "national")
    monkeypatch.setattr(national_sweep, "build_model", lambda data, parameterization: data)
    monkeypatch.setattr(national_sweep, "compile_nutpie", lambda model: None)
    monkeypatch.setattr(
        national_sweep,
        "sample",
        fake_sample(fitted, stop_at, record=lambda model, seed: (model, seed)),
    )
    monkeypatch.setattr(
        national_sweep,
        "fit_row",
        lambda national, minnesota, data: {k: v for k, v in row.items() if k != "sampling_seconds"},
    )
    return fitted


def test_an_interrupted_run_leaves_the_file_byte_for_byte(out, monkeypatch, capsys):
    fake_fits(monkeypatch, stop_at=3)
    with pytest.raises(KeyboardInterrupt):
        main(["--first", "1", "--last", "3", "--out", str(out)])
    assert_left_as_it_was(out, SWEEP, capsys.readouterr().err)


def test_a_fit_without_finite_numbers_stops_the_run_before_it_writes(out, monkeypatch):
    fake_fits(monkeypatch, row=ROW | {"shift_a_mean": float("nan")})
    with pytest.raises(ValueError, match=r"seed 1 \(noncentered\) gave no finite shift_a_mean"):
        main(["--first", "1", "--last", "2", "--out", str(out)])
    assert out.read_bytes() == SWEEP.read_bytes()


def test_a_completed_run_replaces_the_file_with_every_row(out, monkeypatch):
    fitted = fake_fits(monkeypatch)
    main(["--first", "4", "--last", "5", "--out", str(out)])
    assert fitted == [("national", 4), ("minnesota", 4), ("national", 5), ("minnesota", 5)]
    table = pd.read_csv(out)
    assert list(table.columns) == COLUMNS
    assert table[["seed", "parameterization"]].values.tolist() == [
        [4, "noncentered"],
        [5, "noncentered"],
    ]
    assert table.notna().all().all()


def test_a_parameterization_without_a_minnesota_comparison_leaves_those_columns_empty(monkeypatch):
    fitted = fake_fits(monkeypatch, row=ROW | dict.fromkeys(MINNESOTA_COLUMNS, float("nan")))
    table = run_national_sweep([1], ["centered"])
    assert fitted == [("national", 1)], "no Minnesota fit is made when none is compared"
    assert table[MINNESOTA_COLUMNS].isna().all().all()
    assert table.drop(columns=MINNESOTA_COLUMNS).notna().all().all()


def test_a_bad_seed_range_is_refused_before_any_fit(out, monkeypatch):
    fitted = fake_fits(monkeypatch)
    for argv in (["--first", "-1"], ["--first", "5", "--last", "4"]):
        with pytest.raises(SystemExit):
            main([*argv, "--out", str(out)])
    assert fitted == [] and out.read_bytes() == SWEEP.read_bytes()
