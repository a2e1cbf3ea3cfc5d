"""sample(): the book's sampling defaults, reproducible, with divergences recorded."""

import numpy as np
import pytest

from radon_utils.diagnostics import count_divergences, fit_summary
from radon_utils.models import build_model
from radon_utils.sampling import sample, show_progress


@pytest.fixture(scope="module")
def model(radon):
    return build_model(radon, "noncentered")


@pytest.fixture(scope="module")
def short_run(model):
    return sample(model, seed=11, draws=60, tune=100, chains=2, progressbar=False)


def test_sample_returns_posterior_draws_by_chain_and_county(short_run):
    post = short_run.posterior
    assert post.sizes["chain"] == 2 and post.sizes["draw"] == 60
    assert post["b"].dims == ("chain", "draw", "county")
    assert "ST LOUIS" in post["b"].coords["county"].values


def test_the_deterministics_are_computed_from_the_draws_after_sampling(short_run):
    """nutpie stores only what the sampler moves (less memory); sample() adds a and b afterwards."""
    post = short_run.posterior
    np.testing.assert_allclose(post["b"], post["mu_b"] + post["z_b"] * post["sigma_b"], rtol=1e-12)
    np.testing.assert_allclose(post["a"], post["mu_a"] + post["z_a"] * post["sigma_a"], rtol=1e-12)
    assert list(post.data_vars)[-2:] == ["a", "b"]


def test_sample_records_divergences_after_warm_up(short_run):
    diverging = short_run.sample_stats["diverging"]
    assert diverging.shape == (2, 60)
    assert count_divergences(short_run) == int(diverging.to_numpy().sum())


def test_the_same_seed_gives_the_same_draws_and_another_seed_does_not(model, short_run):
    again = sample(model, seed=11, draws=60, tune=100, chains=2, progressbar=False)
    other = sample(model, seed=12, draws=60, tune=100, chains=2, progressbar=False)
    np.testing.assert_array_equal(again.posterior["sigma_b"], short_run.posterior["sigma_b"])
    assert not np.array_equal(other.posterior["sigma_b"], short_run.posterior["sigma_b"])


def test_pymcs_own_nuts_is_available_with_the_same_output(model):
    idata = sample(model, seed=3, draws=20, tune=30, chains=1, sampler="pymc", progressbar=False)
    assert idata.posterior.sizes["draw"] == 20
    assert "diverging" in idata.sample_stats


def test_fit_summary_reports_the_books_numbers(short_run):
    summary = fit_summary(short_run)
    assert set(summary) == {"divergences", "ess_sigma_b", "max_rhat", "sigma_b_mean", "sigma_b_min"}
    assert 0 < summary["sigma_b_min"] <= summary["sigma_b_mean"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sampler": "metropolis"}, "unknown sampler 'metropolis'; use one of 'nutpie', 'pymc'"),
        ({"target_accept": 1.2}, "target_accept must lie strictly between 0 and 1"),
        ({"draws": 0}, "draws must be a positive whole number"),
        ({"chains": 2.5}, "chains must be a positive whole number"),
        ({"tune": -1}, "tune must be a whole number >= 0"),
    ],
)
def test_bad_settings_are_refused_before_any_work(model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample(model, seed=1, **kwargs)


def test_progress_bars_show_for_a_person_and_hide_in_builds(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("RADON_PROGRESS", raising=False)
    assert show_progress()
    monkeypatch.setenv("CI", "true")
    assert not show_progress()
    monkeypatch.setenv("RADON_PROGRESS", "1")
    assert show_progress()
    monkeypatch.setenv("RADON_PROGRESS", "0")
    assert not show_progress()


def test_a_stored_fit_is_read_back_as_the_very_same_fit_without_sampling(model, short_run, tmp_path, monkeypatch):
    monkeypatch.setenv("RADON_FIT_CACHE", str(tmp_path))
    first = sample(model, seed=11, draws=60, tune=100, chains=2, progressbar=False)

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled again although the fit was stored")

    monkeypatch.setattr("nutpie.sample", no_sampling)
    again = sample(model, seed=11, draws=60, tune=100, chains=2, progressbar=False)
    for fit in (first, again):  # the same draws as the uncached short_run, same types
        for group in ("posterior", "sample_stats"):
            for name, values in short_run[group].items():
                np.testing.assert_array_equal(fit[group][name], values)
                assert fit[group][name].dtype == values.dtype
    with pytest.raises(AssertionError, match="sampled again"):
        sample(model, seed=11, draws=60, tune=100, chains=2, progressbar=False, cache=False)
