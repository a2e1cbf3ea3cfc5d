"""The mixed parameterization, the rule that chooses it, and the centering chapter's two sweeps."""

import numpy as np
import pandas as pd
import pytest
from rerun_tolerance import BOOK_SAMPLING, assert_fitted, assert_rerun_agrees, spy_on
from sweep_helpers import ROOT

import radon_utils.centering_sweep as centering_sweep
from radon_utils.centering import (
    choose_centered,
    crossover_homes,
    informative_homes,
    scales_from_fit,
    simulate_survey,
)
from radon_utils.centering_sweep import (
    CROSSOVER_COLUMNS,
    CROSSOVER_PATH,
    CROSSOVER_SEEDS,
    DATASETS,
    FORMS,
    FORMS_COLUMNS,
    FORMS_PATH,
    FORMS_SEEDS,
    HOMES_PER_COUNTY,
    TIMING_COLUMNS,
    _finish,
    efficiency,
    load_crossover_sweep,
    load_forms_sweep,
    measured_crossover,
    run_crossover_sweep,
    run_forms_sweep,
)
from radon_utils.models import build_model

CROSSOVER_SWEEP, FORMS_SWEEP = ROOT / CROSSOVER_PATH, ROOT / FORMS_PATH
#: The scales the crossover surveys were simulated with: inputs, the same on every machine.
TRUTH_COLUMNS = ["true_sigma_a", "true_sigma_b", "true_eps"]
TRUTH = {"mu_a": 1.5, "mu_b": -0.6, "sigma_a": 0.3, "sigma_b": 0.25, "eps": 0.7}


def _point(model, values):
    """A point of ``model``'s free (transformed) variables from a dict of constrained values."""
    point = model.initial_point()
    for rv in model.free_RVs:
        value_var = model.rvs_to_values[rv]
        transform = model.rvs_to_transforms.get(rv)
        raw = np.asarray(values[rv.name], dtype=float)
        point[value_var.name] = transform.forward(raw).eval() if transform is not None else raw
    return point


@pytest.fixture(scope="module")
def small(radon) -> pd.DataFrame:
    """Four counties of the Minnesota table: fast to build, uneven in homes."""
    keep = radon.groupby("county").size().sort_values().index[[0, 20, 60, -1]]
    return radon[radon["county"].isin(keep)].reset_index(drop=True)


@pytest.mark.parametrize("all_centered, pure", [(True, "centered"), (False, "noncentered")])
def test_a_mixed_model_that_centers_all_or_none_is_the_pure_form(small, all_centered, pure):
    counties = sorted(small["county"].unique())
    choice = {e: pd.Series(all_centered, index=counties) for e in ("a", "b")}
    mixed, reference = build_model(small, "mixed", centered=choice), build_model(small, pure)
    rng = np.random.default_rng(1)
    top = {"mu_a": 1.2, "mu_b": -0.5, "sigma_a": 0.4, "sigma_b": 0.2, "eps": 0.8}
    effects = {e: rng.normal(size=len(counties)) for e in ("a", "b")}
    names = {e: (e if all_centered else f"z_{e}") for e in ("a", "b")}
    values = top | {f"{e}_sampled": effects[e] for e in effects}
    reference_values = top | {names[e]: effects[e] for e in effects}
    assert mixed.compile_logp()(_point(mixed, values)) == pytest.approx(
        reference.compile_logp()(_point(reference, reference_values))
    )


def test_a_mixed_model_exposes_a_and_b_with_the_county_dims(small):
    counties = sorted(small["county"].unique())
    choice = {
        "a": pd.Series([True, False, True, False], index=counties[::-1]),
        "b": np.zeros(4, bool),
    }
    model = build_model(small, "mixed", centered=choice)
    assert {"a", "b"} <= {v.name for v in model.deterministics}
    assert model.named_vars_to_dims["a"] == ("county",) == model.named_vars_to_dims["a_sampled"]
    # A Series is read by county name, whatever its order: a_j = a_sampled_j where centered.
    point = _point(
        model,
        {
            "mu_a": 1.0,
            "sigma_a": 0.5,
            "mu_b": 0.0,
            "sigma_b": 0.5,
            "eps": 1.0,
            "a_sampled": np.arange(4.0),
            "b_sampled": np.zeros(4),
        },
    )
    (a_of_values,) = model.replace_rvs_by_values([model["a"]])
    a = model.compile_fn(a_of_values, inputs=model.value_vars, on_unused_input="ignore")(point)
    is_centered = choice["a"].loc[list(model.coords["county"])].to_numpy()
    expected = np.where(is_centered, np.arange(4.0), 1.0 + np.arange(4.0) * 0.5)
    np.testing.assert_allclose(a, expected)


@pytest.mark.parametrize(
    "centered, message",
    [
        (None, r"centered= goes with parameterization='mixed'"),
        ({"a": np.ones(4, bool)}, r"one entry for each of \('a', 'b'\)"),
        (
            {"a": np.ones(3, bool), "b": np.ones(4, bool)},
            r"centered\['a'\] must hold one boolean per county \(4\)",
        ),
        ({"a": np.ones(4), "b": np.ones(4, bool)}, r"got float64"),
        ({"a": pd.Series(True, index=["X"]), "b": np.ones(4, bool)}, r"no entry for the county"),
    ],
)
def test_a_mixed_model_refuses_a_bad_choice(small, centered, message):
    with pytest.raises(ValueError, match=message):
        build_model(small, "mixed", centered=centered)


def test_a_choice_without_the_mixed_form_is_refused(small):
    with pytest.raises(ValueError, match="only with it"):
        build_model(small, "noncentered", centered={"a": np.ones(4, bool), "b": np.ones(4, bool)})


def test_informative_homes_count_the_floor_contrast():
    data = pd.DataFrame(
        {
            "county": ["A"] * 4 + ["B"] * 3,
            "county_code": [1] * 4 + [2] * 3,
            "floor": [0, 0, 1, 1, 0, 0, 0],
            "log_radon": np.zeros(7),
        }
    )
    homes = informative_homes(data)
    assert homes.loc["A"].to_dict() == {"homes": 4, "first_floor": 2, "a": 4.0, "b": 1.0}
    assert homes.loc["B", "b"] == 0, "no first-floor reading: the slope is not informed"


def test_the_rule_centers_where_the_data_outweigh_the_population():
    scales = {"sigma_a": 0.5, "sigma_b": 0.5, "eps": 1.0}
    assert crossover_homes(scales) == {"a": 4.0, "b": 4.0}
    small, large = simulate_survey(2, TRUTH, counties=2), simulate_survey(64, TRUTH, counties=2)
    data = pd.concat(
        [small, large.assign(county=["D"] * 64 + ["E"] * 64, county_code=[3] * 64 + [4] * 64)]
    )
    choice = choose_centered(data, scales)
    assert choice["a"].to_dict() == {"C001": False, "C002": False, "D": True, "E": True}
    assert choice["b"].to_dict() == {
        "C001": False,
        "C002": False,
        "D": True,
        "E": True,
    }  # 64 homes: 12 informative
    with pytest.raises(ValueError, match="sigma_b missing or not positive"):
        crossover_homes({"sigma_a": 1.0, "eps": 1.0})


def test_simulated_surveys_are_nested_and_shaped_like_the_radon_table():
    small, large = (
        simulate_survey(3, TRUTH, counties=5, seed=2),
        simulate_survey(8, TRUTH, counties=5, seed=2),
    )
    assert list(small.columns) == ["county", "county_code", "floor", "log_radon"]
    assert len(small) == 15 and small["county"].nunique() == 5
    first = large.groupby("county").head(3).reset_index(drop=True)
    pd.testing.assert_frame_equal(first, small)
    assert large.groupby("county")["floor"].sum().eq(2).all(), (
        "homes 2 and 6 of 8 are on the first floor"
    )
    for bad in (0, 2.5, 5000):
        with pytest.raises(ValueError, match="homes_per_county must be a whole number"):
            simulate_survey(bad, TRUTH)
    with pytest.raises(ValueError, match="truth lacks eps"):
        simulate_survey(2, {k: v for k, v in TRUTH.items() if k != "eps"})


def test_scales_from_fit_read_a_quantile_or_the_means():
    import arviz as az

    draws = {
        "sigma_a": np.arange(1.0, 101.0)[None],
        "sigma_b": np.arange(1.0, 101.0)[None],
        "eps": np.full((1, 100), 2.0),
    }
    idata = az.from_dict(posterior=draws)
    assert scales_from_fit(idata, 0.5) == {"sigma_a": 50.5, "sigma_b": 50.5, "eps": 2.0}
    assert scales_from_fit(idata, None)["sigma_a"] == 50.5
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        scales_from_fit(idata, 1.0)


def test_measured_crossover_interpolates_on_log_scales():
    rows = []
    for homes, c, nc in [(1, 1, 8), (4, 2, 4), (16, 8, 2), (64, 9, 1)]:
        rows += [
            {"homes_per_county": homes, "parameterization": "centered", "x": c},
            {"homes_per_county": homes, "parameterization": "noncentered", "x": nc},
        ]
    table = pd.DataFrame(rows)
    # log ratio -log 2 at 4 homes, +2 log 2 at 16: zero a third of the way, at 4 * 4 ** (1/3)
    assert measured_crossover(table, "x") == pytest.approx(4 ** (4 / 3))
    never = table.assign(x=np.where(table["parameterization"] == "centered", 1, 2))
    assert np.isnan(measured_crossover(never, "x"))


def test_efficiency_divides_every_ess_column():
    table = efficiency(
        pd.DataFrame(
            {
                "ess_min": [100.0],
                "ess_min_parameter": ["mu_a"],
                "sampling_seconds": [2.0],
                "gradient_evaluations": [50_000],
            }
        )
    )
    assert table.loc[0, "ess_min_per_s"] == 50 and table.loc[0, "ess_min_per_kgrad"] == 2


def test_the_committed_sweeps_are_complete():
    crossover = pd.read_csv(CROSSOVER_SWEEP)
    assert list(crossover.columns) == CROSSOVER_COLUMNS
    assert len(crossover) == len(HOMES_PER_COUNTY) * 2 * len(CROSSOVER_SEEDS)
    assert crossover.notna().all().all()
    forms = pd.read_csv(FORMS_SWEEP)
    assert list(forms.columns) == FORMS_COLUMNS
    assert len(forms) == len(DATASETS) * len(FORMS) * len(FORMS_SEEDS) and len(FORMS_SEEDS) >= 10
    assert forms.drop(columns="pilot_seconds").notna().all().all()
    assert (
        forms["pilot_seconds"].notna().eq(forms["parameterization"].str.startswith("mixed")).all()
    )


def test_the_loaders_find_the_files_and_refuse_old_ones(tmp_path):
    assert len(load_crossover_sweep()) == len(pd.read_csv(CROSSOVER_SWEEP))
    assert "ess_min_per_s" in load_forms_sweep().columns
    old = tmp_path / "old.csv"
    old.write_text("seed\n1\n")
    with pytest.raises(ValueError, match=r"run `python -m radon_utils.centering_sweep forms`"):
        load_forms_sweep(old)


def test_a_crossover_row_rerun_matches_the_file(monkeypatch):
    """Both forms on the survey of 4 homes per county, seed 1: the file's fits, and numbers within
    the spread of the file's seeds, pooled over its surveys of 5 seeds each
    (tests/rerun_tolerance.py)."""
    homes, seed = 4, min(CROSSOVER_SEEDS)
    fits = spy_on(monkeypatch, centering_sweep, "sample")
    rerun = run_crossover_sweep([homes], [seed])
    assert_fitted(fits, (85 * homes, 85), BOOK_SAMPLING | {"seed": seed})
    assert_rerun_agrees(
        rerun,
        pd.read_csv(CROSSOVER_SWEEP),
        key=["homes_per_county", "parameterization", "seed"],
        exact=TRUTH_COLUMNS,
        not_compared=TIMING_COLUMNS,
        pool_by=["parameterization"],
    )


def test_a_minnesota_forms_row_rerun_matches_the_file(monkeypatch):
    """The mixed row exercises the whole path (pilot fit, rule, mixed model); the pure forms are
    the models every chapter fits, so one row keeps the test short. Which counties the rule
    centers depends on the pilot's draws, so those counts are compared as numbers, not exactly."""
    seed = min(FORMS_SEEDS)
    fits = spy_on(monkeypatch, centering_sweep, "sample")
    rerun = run_forms_sweep([seed], ["minnesota"], ["mixed"])
    pilot = {"draws": 300, "tune": 300, "chains": 2}  # data/README.md: the pilot fit
    assert_fitted(fits, (919, 85), [pilot | {"seed": seed}, BOOK_SAMPLING | {"seed": seed}])
    assert_rerun_agrees(
        rerun,
        pd.read_csv(FORMS_SWEEP),
        key=["dataset", "parameterization", "seed"],
        exact=["ess_min_parameter", "counties"],
        not_compared=TIMING_COLUMNS,
    )


def test_a_sweep_with_a_missing_number_names_it_and_writes_nothing():
    row = dict.fromkeys(FORMS_COLUMNS, 1.0) | {
        "dataset": "minnesota",
        "parameterization": "mixed",
        "seed": 1,
    }
    with pytest.raises(ValueError, match=r"gave no largest_county_corr.*not written"):
        _finish([row | {"largest_county_corr": float("nan")}], FORMS_COLUMNS)
    assert len(_finish([row], FORMS_COLUMNS)) == 1
