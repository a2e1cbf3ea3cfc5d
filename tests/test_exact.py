"""The exact (quadrature) posterior: its collapsed likelihood, its grid, and its agreement with NUTS."""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from radon_utils.data import load_radon
import radon_utils.exact as exact_module
from radon_utils.exact import (
    SCALES,
    ExactPosteriorError,
    _collapse,
    _county_stats,
    exact_posterior,
    log_marginal_likelihood,
)
from radon_utils.models import build_model
from radon_utils.priors import Prior
from radon_utils.sampling import sample

PARAMETERS = ("mu_a", "mu_b", "sigma_a", "sigma_b", "eps")


@pytest.fixture(scope="module")
def radon() -> pd.DataFrame:
    return load_radon()


@pytest.fixture(scope="module")
def exact(radon):
    return exact_posterior(radon)


def dense_covariance(data: pd.DataFrame, sigma_a, sigma_b, eps, tau_a=100.0, tau_b=100.0):
    """Return the design X = [1, floor] and the full covariance of log_radon with everything but the scales integrated out."""
    floor = data["floor"].to_numpy(dtype=float)
    _, county = np.unique(data["county_code"].to_numpy(), return_inverse=True)
    z_a = np.zeros((len(data), county.max() + 1))
    z_a[np.arange(len(data)), county] = 1.0
    z_b = z_a * floor[:, None]
    x = np.column_stack([np.ones_like(floor), floor])
    cov = (
        eps**2 * np.eye(len(data))
        + sigma_a**2 * z_a @ z_a.T
        + sigma_b**2 * z_b @ z_b.T
        + x @ np.diag([tau_a**2, tau_b**2]) @ x.T
    )
    return x, cov


def synthetic(n_counties: int, homes: int, *, seed: int, first_floor: bool = True) -> pd.DataFrame:
    """A small radon-shaped table drawn from the model (sigma_a=0.4, sigma_b=0.3, eps=0.7)."""
    rng = np.random.default_rng(seed)
    county = np.repeat(np.arange(n_counties), homes)
    floor = rng.integers(0, 2, size=county.size) if first_floor else np.zeros(county.size, dtype=int)
    a = 1.5 + 0.4 * rng.standard_normal(n_counties)
    b = -0.7 + 0.3 * rng.standard_normal(n_counties)
    y = a[county] + b[county] * floor + 0.7 * rng.standard_normal(county.size)
    return pd.DataFrame(
        {
            "county": [f"C{c}" for c in county],
            "county_code": county,
            "floor": floor,
            "log_radon": y,
            "log_uranium": np.zeros(county.size),
        }
    )


SCALE_POINTS = [
    (0.33, 0.26, 0.72),  # near the posterior mean
    (1.5, 1e-6, 0.4),  # sigma_b almost zero
    (0.05, 2.0, 1.3),
    (0.0, 0.0, 0.8),  # no county variation at all
]


@pytest.mark.parametrize(("sigma_a", "sigma_b", "eps"), SCALE_POINTS)
def test_collapsed_likelihood_equals_a_dense_multivariate_normal(radon, sigma_a, sigma_b, eps):
    _, cov = dense_covariance(radon, sigma_a, sigma_b, eps)
    dense = stats.multivariate_normal(np.zeros(len(radon)), cov).logpdf(radon["log_radon"].to_numpy())
    assert log_marginal_likelihood(radon, sigma_a, sigma_b, eps) == pytest.approx(dense, rel=1e-8)


def test_collapsed_likelihood_uses_the_priors_of_mu(radon):
    priors = {"mu_a": Prior("Normal", 2.0), "mu_b": Prior("Normal", 0.5)}
    _, cov = dense_covariance(radon, 0.3, 0.2, 0.7, tau_a=2.0, tau_b=0.5)
    dense = stats.multivariate_normal(np.zeros(len(radon)), cov).logpdf(radon["log_radon"].to_numpy())
    assert log_marginal_likelihood(radon, 0.3, 0.2, 0.7, priors=priors) == pytest.approx(dense, rel=1e-8)


def test_collapsed_likelihood_broadcasts_over_arrays_of_scales(radon):
    sigma_b = np.array([1e-4, 0.1, 0.3, 1.0])
    together = log_marginal_likelihood(radon, 0.3, sigma_b[:, None], np.array([0.6, 0.8]))
    assert together.shape == (4, 2)
    for i, sb in enumerate(sigma_b):
        for j, e in enumerate((0.6, 0.8)):
            assert together[i, j] == pytest.approx(log_marginal_likelihood(radon, 0.3, sb, e), rel=1e-12)


def test_collapsed_likelihood_rejects_nonpositive_eps_and_negative_scales(radon):
    with pytest.raises(ValueError, match="eps"):
        log_marginal_likelihood(radon, 0.3, 0.2, 0.0)
    with pytest.raises(ValueError, match="sigma_a and sigma_b"):
        log_marginal_likelihood(radon, -0.3, 0.2, 0.7)


def test_conditional_moments_of_mu_equal_generalised_least_squares():
    data = synthetic(6, 5, seed=3)
    sigma_a, sigma_b, eps, tau = 0.4, 0.25, 0.7, 10.0
    x, cov_with_mu = dense_covariance(data, sigma_a, sigma_b, eps, tau_a=tau, tau_b=tau)
    cov = cov_with_mu - tau**2 * x @ x.T  # covariance of y given mu
    precision = x.T @ np.linalg.solve(cov, x) + np.eye(2) / tau**2
    mean = np.linalg.solve(precision, x.T @ np.linalg.solve(cov, data["log_radon"].to_numpy()))
    variance = np.diag(np.linalg.inv(precision))
    got = _collapse(_county_stats(data), sigma_a, sigma_b, eps, tau, tau)
    np.testing.assert_allclose(np.ravel(got.mu_mean), mean, rtol=1e-10)
    np.testing.assert_allclose(np.ravel(got.mu_var), variance, rtol=1e-10)


def test_doubling_the_grid_moves_every_summary_by_less_than_1e_3(radon, exact):
    fine = exact_posterior(radon, grid_size=96)
    for name in PARAMETERS:
        assert abs(fine.mean[name] - exact.mean[name]) < 1e-3, name
        assert abs(fine.sd[name] - exact.sd[name]) < 1e-3, name
    assert abs(fine.prob_below("sigma_b", 0.1) - exact.prob_below("sigma_b", 0.1)) < 1e-3


def test_grid_reaches_far_below_sigma_b_1e_4_and_its_edges_carry_no_mass(exact):
    assert exact.axes["sigma_b"][0] < 1e-8
    assert exact.prob_below("sigma_b", 1e-4) < 1e-3  # what a grid starting at 1e-4 would miss
    for name in SCALES:
        edges = exact.marginal_weights(name)[[0, 1, -2, -1]]
        assert np.all(edges < 1e-9), (name, edges)
    assert exact.weights.sum() == pytest.approx(1.0, abs=1e-12)


def test_radon_posterior_is_where_the_book_expects(exact):
    # mu_b: first floors have about half the radon of basements; sigma_b: small but not zero.
    assert -0.8 < exact.mean["mu_b"] < -0.5
    assert 0.6 < exact.mean["eps"] < 0.8
    assert 0.15 < exact.mean["sigma_b"] < 0.4
    assert 0.05 < exact.prob_below("sigma_b", 0.1) < 0.3
    assert all(exact.sd[name] > 0 for name in PARAMETERS)


@pytest.mark.parametrize("name", SCALES)
def test_marginal_density_integrates_to_one_and_matches_prob_below(exact, name):
    nodes, density = exact.density(name)
    assert np.all(np.diff(nodes) > 0) and np.all(density >= 0)
    sigma = np.linspace(0.0, nodes[-1], 40001)
    _, smooth = exact.density(name, at=sigma)
    assert integrate.trapezoid(smooth, sigma) == pytest.approx(1.0, abs=1e-5)
    cut = exact.mean[name]
    below = np.linspace(0.0, cut, 40001)
    _, smooth_below = exact.density(name, at=below)
    assert integrate.trapezoid(smooth_below, below) == pytest.approx(exact.prob_below(name, cut), abs=1e-5)


def test_sigma_b_grid_and_density_are_there_for_plots(exact):
    assert exact.sigma_b_grid.shape == exact.sigma_b_density.shape
    np.testing.assert_allclose(exact.density("sigma_b")[1], exact.sigma_b_density)
    # The density of sigma_b levels off to a positive constant as sigma_b -> 0.
    assert exact.sigma_b_density[0] > 0.1
    assert exact.sigma_b_density[0] == pytest.approx(exact.sigma_b_density[5], rel=1e-6)


def test_prob_below_is_a_distribution_function(exact):
    thresholds = [0.0, 1e-6, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 10.0]
    probs = [exact.prob_below("sigma_b", x) for x in thresholds]
    assert probs[0] == 0.0 and probs[-1] == pytest.approx(1.0, abs=1e-9)
    assert np.all(np.diff(probs) >= 0)


@pytest.mark.parametrize("name", ["mu_a", "tau", "sigma"])
def test_prob_below_and_density_reject_unknown_names(exact, name):
    with pytest.raises(ValueError, match="sigma_a, sigma_b, eps"):
        exact.prob_below(name, 0.1)
    with pytest.raises(ValueError, match="sigma_a, sigma_b, eps"):
        exact.density(name)


def test_half_normal_priors_give_a_finite_normalised_posterior_that_moves_sensibly(radon, exact):
    half_normal = {name: Prior("HalfNormal", 1.0) for name in SCALES}
    post = exact_posterior(radon, priors=half_normal)
    assert all(math.isfinite(post.mean[n]) and math.isfinite(post.sd[n]) for n in PARAMETERS)
    assert post.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert post.priors["sigma_b"] == Prior("HalfNormal", 1.0)
    # 919 homes dominate both weak priors: the posteriors are close but not identical.
    for name in PARAMETERS:
        assert abs(post.mean[name] - exact.mean[name]) < 0.25 * exact.sd[name]
    assert post.mean["sigma_b"] != exact.mean["sigma_b"]
    # A tight prior on sigma_b pulls it towards zero.
    tight = exact_posterior(radon, priors={"sigma_b": Prior("HalfNormal", 0.05)})
    assert tight.mean["sigma_b"] < 0.5 * exact.mean["sigma_b"]
    assert tight.prob_below("sigma_b", 0.1) > 0.9


def test_without_first_floor_homes_sigma_b_and_mu_b_keep_their_priors(radon):
    basements = radon[radon["floor"] == 0]
    post = exact_posterior(basements, priors={"sigma_b": Prior("HalfNormal", 1.0)})
    assert post.mean["sigma_b"] == pytest.approx(math.sqrt(2 / math.pi), abs=1e-6)
    assert post.sd["sigma_b"] == pytest.approx(math.sqrt(1 - 2 / math.pi), abs=1e-6)
    assert post.prob_below("sigma_b", 0.1) == pytest.approx(2 * stats.norm.cdf(0.1) - 1, abs=1e-6)
    assert post.mean["mu_b"] == pytest.approx(0.0, abs=1e-9)
    assert post.sd["mu_b"] == pytest.approx(100.0, rel=1e-9)
    # ... and the evidence p(y) does not depend on sigma_b's prior.
    other = exact_posterior(basements, priors={"sigma_b": Prior("Exponential", 0.3)})
    assert other.log_evidence == pytest.approx(post.log_evidence, abs=1e-6)
    assert other.mean["sigma_a"] == pytest.approx(post.mean["sigma_a"], abs=1e-8)


def test_without_first_floor_homes_a_half_cauchy_sigma_b_is_refused_as_not_identified(radon):
    """It used to report sigma_b mean 83.9 and P(sigma_b < 0.01) = 0.0085; the truth is its
    HalfCauchy(5) prior: an infinite mean and P = 0.00127."""
    with pytest.raises(
        ExactPosteriorError,
        match=(
            r"sigma_b is not identified by these data: no home has floor = 1, .* its HalfCauchy\(5\) "
            r"prior, whose mean and variance do not exist.*HalfNormal"
        ),
    ):
        exact_posterior(radon.assign(floor=0))


def test_with_one_county_of_first_floor_homes_sigma_b_has_no_variance_and_is_refused(radon):
    upstairs = radon.loc[radon["floor"] == 1, "county"].iloc[0]
    one = radon[(radon["floor"] == 0) | (radon["county"] == upstairs)]
    message = rf"only one county with a first-floor home \({upstairs}\).*variance does not exist"
    with pytest.raises(ExactPosteriorError, match=message):
        exact_posterior(one)
    post = exact_posterior(one, priors={"sigma_b": Prior("HalfNormal", 1.0)})  # a prior with a variance
    assert math.isfinite(post.sd["sigma_b"])


def test_a_single_county_leaves_sigma_a_without_a_variance_and_is_refused(radon):
    with pytest.raises(ExactPosteriorError, match=r"sigma_a is not identified.*only one county \(HENNEPIN\)"):
        exact_posterior(radon[radon["county"] == "HENNEPIN"])


@pytest.mark.parametrize("case", ["constant everywhere", "constant within county and floor"])
def test_log_radon_without_spread_within_county_and_floor_is_refused_as_improper(radon, case):
    """Constant log_radon used to give 'IndexError: index 0 is out of bounds'."""
    if case == "constant everywhere":
        data, message = radon.assign(log_radon=1.0), r"the same value \(1\) in every row"
    else:
        cell_mean = radon.groupby(["county_code", "floor"])["log_radon"].transform("mean")
        data, message = radon.assign(log_radon=cell_mean), "one value within every county and floor"
    with pytest.raises(ExactPosteriorError, match=message + ".*improper"):
        exact_posterior(data)


def test_the_exact_posterior_reads_only_the_models_columns(radon, exact):
    """The whole-survey table has gaps in log_uranium, which the exact posterior never reads."""
    gaps = radon.assign(log_uranium=np.where(radon.index % 7 == 0, np.nan, radon["log_uranium"]))
    assert exact_posterior(gaps).mean == exact.mean
    without = gaps.drop(columns="log_uranium")
    assert log_marginal_likelihood(without, 0.3, 0.2, 0.7) == log_marginal_likelihood(radon, 0.3, 0.2, 0.7)


def test_mass_on_the_grids_edge_is_an_error_not_a_number(radon, monkeypatch):
    choose = exact_module._choose_grid

    def box_cut_at_the_mode_of_sigma_b(*args):
        coords, lo, hi = choose(*args)
        hi[1] = 0.5 * (lo[1] + hi[1])
        return coords, lo, hi

    monkeypatch.setattr(exact_module, "_choose_grid", box_cut_at_the_mode_of_sigma_b)
    with pytest.raises(ExactPosteriorError, match=r"holds .* of the mass of sigma_b on its highest node"):
        exact_posterior(radon)


def test_a_grid_too_coarse_for_the_posterior_is_refused_and_a_finer_one_suggested(radon):
    with pytest.raises(ExactPosteriorError, match=r"too coarse .* odd and even nodes .* Pass a larger grid_size"):
        exact_posterior(radon, grid_size=12)


def test_small_synthetic_data_set_is_handled_and_converges():
    data = synthetic(8, 6, seed=11)
    coarse = exact_posterior(data)
    fine = exact_posterior(data, grid_size=96)
    for name in PARAMETERS:
        assert math.isfinite(coarse.mean[name])
        assert abs(coarse.mean[name] - fine.mean[name]) < 1e-3
        assert abs(coarse.sd[name] - fine.sd[name]) < 1e-3


def test_grid_size_must_be_sensible(radon):
    with pytest.raises(ValueError, match="grid_size"):
        exact_posterior(radon, grid_size=3)
    with pytest.raises(ValueError, match="grid_size"):
        exact_posterior(radon, grid_size=(32, 32))


SEED = 20240607


def test_long_noncentered_nuts_run_agrees_with_the_exact_means_within_3_mcse(radon, exact):
    idata = sample(build_model(radon, "noncentered"), seed=SEED, draws=2500, tune=1000, chains=4, target_accept=0.9)
    mcse = az.mcse(idata, var_names=list(PARAMETERS))
    for name in PARAMETERS:
        estimate = float(idata.posterior[name].mean())
        error = float(mcse[name])
        assert abs(estimate - exact.mean[name]) < 3 * error, (name, estimate, exact.mean[name], error)
