"""The committed MAP sweep is complete, reproducible by its command, and replaced only whole."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from rerun_tolerance import assert_fitted, assert_map_rerun_agrees, spy_on
from sweep_helpers import ROOT, assert_left_as_it_was, copy_of

import radon_utils.map_sweep as map_sweep
from radon_utils.map_sweep import (
    COLUMNS,
    METHODS,
    OPTIMIZE_SEEDS,
    RANDOM_STARTS,
    RELATIVE_PATH,
    SAMPLE_SEEDS,
    load_map_sweep,
    main,
    run_map_sweep,
)

MAP_SWEEP = ROOT / RELATIVE_PATH
KEY = ["kind", "parameterization", "start", "seed", "start_index", "method"]


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return load_map_sweep(MAP_SWEEP)


def test_the_file_holds_every_start_method_and_seed(committed):
    assert list(pd.read_csv(MAP_SWEEP).columns) == list(COLUMNS)
    assert len(OPTIMIZE_SEEDS) >= 10 and len(SAMPLE_SEEDS) >= 10
    optimized = committed[committed["kind"] == "optimize"]
    for (parameterization, method), runs in optimized.groupby(["parameterization", "method"]):
        assert (runs["start"] == "default").sum() == 1, (parameterization, method)
        random = runs[runs["start"] == "random"]
        expected = [
            (seed, index) for seed in OPTIMIZE_SEEDS for index in range(1, RANDOM_STARTS + 1)
        ]
        assert list(zip(random["seed"], random["start_index"], strict=True)) == expected, (
            parameterization,
            method,
        )
    assert sorted(optimized["parameterization"].unique()) == ["centered", "noncentered"]
    assert sorted(optimized["method"].unique()) == sorted(METHODS)
    sampled = committed[committed["kind"] == "sample from MAP"]
    assert list(sampled["seed"]) == list(SAMPLE_SEEDS)
    assert set(committed["kind"]) == {"optimize", "sample from MAP"}


def test_every_run_has_the_numbers_of_its_kind(committed):
    optimized = committed[committed["kind"] == "optimize"]
    assert (
        optimized[["success", "message", "iterations", "log_density", "sigma_b", "slope_sd"]]
        .notna()
        .all()
        .all()
    )
    assert optimized["sigma_b_max"].isna().all()
    sampled = committed[committed["kind"] == "sample from MAP"]
    assert sampled["sigma_b_max"].notna().all() and (sampled["iterations"] == 300).all()
    assert sampled[["success", "sigma_b", "log_density"]].isna().all().all()


def test_load_map_sweep_finds_the_committed_file_and_refuses_an_old_one(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT / "chapters")  # as a chapter runs: found by walking up
    pd.testing.assert_frame_equal(load_map_sweep(), load_map_sweep(MAP_SWEEP))
    old = tmp_path / "old.csv"
    old.write_text(
        "kind,parameterization,start,seed,method,sigma_b\n"
        "optimize,centered,default,,L-BFGS-B,2e-07\n"
    )
    with pytest.raises(
        ValueError,
        match=r"lacks the column\(s\) start_index, .*run `python -m radon_utils.map_sweep`",
    ):
        load_map_sweep(old)


def test_rows_rerun_match_the_file(committed, monkeypatch):
    """The default starts and seed 10's random starts (the chapter's), both models and methods,
    and seed 10's run from the MAP: the same runs as the file's, ending where chapter 7 says
    they end (tests/rerun_tolerance.py)."""
    optimized = spy_on(monkeypatch, map_sweep, "maximize_density")
    sampled = spy_on(monkeypatch, map_sweep, "trace_from")
    rerun = run_map_sweep(seeds=[10], sample_seeds=[10])
    runs = 2 * 2 * (1 + RANDOM_STARTS)
    assert len(rerun) == runs + 1
    methods = [{"method": m} for m in rerun["method"][:runs]]
    assert_fitted(optimized, (919, 85), [*methods, {"method": "L-BFGS-B"}])  # the last: the MAP
    assert_fitted(sampled, (919, 85), {"seed": 10})
    assert_map_rerun_agrees(rerun, committed, KEY)


# A stand-in for the optimizer and the sampler: fast, and able to stop like Ctrl-C.
RESULT = SimpleNamespace(success=True, message="CONVERGENCE", nit=7, nfev=9, fun=-12.5)
POINT = {"sigma_b": np.float64(2e-7), "b": np.zeros(3)}


@pytest.fixture
def out(tmp_path):
    """A copy of the committed file for the command to (not) replace."""
    return copy_of(MAP_SWEEP, tmp_path)


def fake_runs(
    monkeypatch, stop_optimizing_at=None, stop_sampling_at=None, point=POINT
) -> list[str]:
    """Runs that take no time; the given call is interrupted by Ctrl-C. Returns what ran, in
    order."""
    calls = []

    def optimize(model, x0, method):
        calls.append(method)
        if len(calls) == stop_optimizing_at:
            raise KeyboardInterrupt
        return point, RESULT

    def trace(model, start, *, seed):
        calls.append(f"sample {seed}")
        if sum(c.startswith("sample") for c in calls) == stop_sampling_at:
            raise KeyboardInterrupt
        return np.full((2, 300), 1e-5)

    monkeypatch.setattr(map_sweep, "build_model", lambda data, parameterization: parameterization)
    monkeypatch.setattr(map_sweep, "default_start", lambda model: np.zeros(2))
    monkeypatch.setattr(map_sweep, "random_start", lambda model, rng: rng.normal(size=2))
    monkeypatch.setattr(map_sweep, "maximize_density", optimize)
    monkeypatch.setattr(map_sweep, "trace_from", trace)
    monkeypatch.setattr(map_sweep, "load_radon", lambda: None)
    return calls


@pytest.mark.parametrize("where", ["stop_optimizing_at", "stop_sampling_at"])
def test_a_sweep_interrupted_by_ctrl_c_leaves_the_file_byte_for_byte(
    out, monkeypatch, capsys, where
):
    calls = fake_runs(monkeypatch, **{where: 3})
    with pytest.raises(KeyboardInterrupt):
        main(["--out", str(out)])
    assert calls, "the sweep never started"
    assert_left_as_it_was(out, MAP_SWEEP, capsys.readouterr().err)


def test_a_run_without_finite_numbers_stops_the_sweep_before_it_writes(out, monkeypatch):
    fake_runs(monkeypatch, point={"sigma_b": np.float64(np.nan), "b": np.zeros(3)})
    with pytest.raises(
        ValueError,
        match=r"optimize run \(centered, start default, seed None, L-BFGS-B\) "
        r"gave no finite sigma_b",
    ):
        main(["--out", str(out)])
    assert out.read_bytes() == MAP_SWEEP.read_bytes()


def test_a_completed_sweep_replaces_the_file_with_every_row(out, monkeypatch):
    fake_runs(monkeypatch)
    main(["--out", str(out)])
    table = load_map_sweep(out)
    runs_per_method = 1 + len(OPTIMIZE_SEEDS) * RANDOM_STARTS
    assert len(table) == 2 * len(METHODS) * runs_per_method + len(SAMPLE_SEEDS)
    assert list(pd.read_csv(out).columns) == list(COLUMNS)
    assert table.dtypes.to_dict() == {c: pd.api.types.pandas_dtype(t) for c, t in COLUMNS.items()}
