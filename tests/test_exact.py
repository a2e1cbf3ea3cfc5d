"""The exact (quadrature) posterior: its collapsed likelihood, its grid, and its agreement with
NUTS."""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import radon_utils.exact as exact_module
from radon_utils.data import county_index, load_radon
from radon_utils.exact import (
    DROPPED_MASS,
    SCALES,
    ExactPosteriorError,
    _collapse,
    _county_moments,
    _county_stats,
    _county_totals,
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
    """Return the design X = [1, floor] and the full covariance of log_radon with everything but
    the scales integrated out."""
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
    floor = (
        rng.integers(0, 2, size=county.size) if first_floor else np.zeros(county.size, dtype=int)
    )
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
    dense = stats.multivariate_normal(np.zeros(len(radon)), cov).logpdf(
        radon["log_radon"].to_numpy()
    )
    assert log_marginal_likelihood(radon, sigma_a, sigma_b, eps) == pytest.approx(dense, rel=1e-8)


def test_collapsed_likelihood_uses_the_priors_of_mu(radon):
    priors = {"mu_a": Prior("Normal", 2.0), "mu_b": Prior("Normal", 0.5)}
    _, cov = dense_covariance(radon, 0.3, 0.2, 0.7, tau_a=2.0, tau_b=0.5)
    dense = stats.multivariate_normal(np.zeros(len(radon)), cov).logpdf(
        radon["log_radon"].to_numpy()
    )
    assert log_marginal_likelihood(radon, 0.3, 0.2, 0.7, priors=priors) == pytest.approx(
        dense, rel=1e-8
    )


def test_collapsed_likelihood_broadcasts_over_arrays_of_scales(radon):
    sigma_b = np.array([1e-4, 0.1, 0.3, 1.0])
    together = log_marginal_likelihood(radon, 0.3, sigma_b[:, None], np.array([0.6, 0.8]))
    assert together.shape == (4, 2)
    for i, sb in enumerate(sigma_b):
        for j, e in enumerate((0.6, 0.8)):
            assert together[i, j] == pytest.approx(
                log_marginal_likelihood(radon, 0.3, sb, e), rel=1e-12
            )


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
    covariance = np.linalg.inv(precision)
    got = _collapse(_county_stats(data, county_index(data)[0]), sigma_a, sigma_b, eps, tau, tau)
    np.testing.assert_allclose(np.ravel(got.mu_mean), mean, rtol=1e-10)
    np.testing.assert_allclose(np.ravel(got.mu_var), np.diag(covariance), rtol=1e-10)
    assert float(got.mu_cov) == pytest.approx(covariance[0, 1], rel=1e-10)


def test_doubling_the_grid_moves_every_summary_by_less_than_1e_3(radon, exact):
    fine = exact_posterior(radon, grid_size=96)
    for name in PARAMETERS:
        assert abs(fine.mean[name] - exact.mean[name]) < 1e-3, name
        assert abs(fine.sd[name] - exact.sd[name]) < 1e-3, name
    assert abs(fine.prob_below("sigma_b", 0.1) - exact.prob_below("sigma_b", 0.1)) < 1e-3
    # Measured: quantiles moved by < 1e-6 and modes by < 1e-7.
    for name in SCALES:
        probs = [0.001, 0.05, 0.5, 0.95, 0.999]
        np.testing.assert_allclose(
            fine.quantile(name, probs), exact.quantile(name, probs), atol=1e-5
        )
        assert fine.marginal_mode(name) == pytest.approx(exact.marginal_mode(name), abs=1e-6)


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
    assert integrate.trapezoid(smooth_below, below) == pytest.approx(
        exact.prob_below(name, cut), abs=1e-5
    )


def test_the_density_of_sigma_b_on_the_grids_nodes_is_there_for_plots(exact):
    nodes, density = exact.density("sigma_b")
    assert nodes.shape == density.shape
    np.testing.assert_array_equal(nodes, exact.axes["sigma_b"])
    assert not np.shares_memory(nodes, exact.axes["sigma_b"])  # a plot may change its copy
    # The density of sigma_b levels off to a positive constant as sigma_b -> 0.
    assert density[0] > 0.1
    assert density[0] == pytest.approx(density[5], rel=1e-6)


def test_prob_below_is_a_distribution_function(exact):
    thresholds = [0.0, 1e-6, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 10.0]
    probs = [exact.prob_below("sigma_b", x) for x in thresholds]
    assert probs[0] == 0.0 and probs[-1] == pytest.approx(1.0, abs=1e-9)
    assert np.all(np.diff(probs) >= 0)


@pytest.mark.parametrize("name", ["mu_a", "tau", "sigma"])
def test_the_marginals_of_the_scales_reject_unknown_names(exact, name):
    with pytest.raises(ValueError, match="sigma_a, sigma_b, eps"):
        exact.prob_below(name, 0.1)
    with pytest.raises(ValueError, match="sigma_a, sigma_b, eps"):
        exact.density(name)
    with pytest.raises(ValueError, match="sigma_a, sigma_b, eps"):
        exact.quantile(name, 0.5)
    with pytest.raises(ValueError, match="sigma_a, sigma_b, eps"):
        exact.marginal_mode(name)


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
            r"sigma_b is not identified by these data: no home has floor = 1, "
            r".* its HalfCauchy\(5\) prior, whose mean and variance do not exist.*HalfNormal"
        ),
    ):
        exact_posterior(radon.assign(floor=0))


def test_with_one_county_of_first_floor_homes_sigma_b_has_no_variance_and_is_refused(radon):
    upstairs = radon.loc[radon["floor"] == 1, "county"].iloc[0]
    one = radon[(radon["floor"] == 0) | (radon["county"] == upstairs)]
    message = rf"only one county with a first-floor home \({upstairs}\).*variance does not exist"
    with pytest.raises(ExactPosteriorError, match=message):
        exact_posterior(one)
    post = exact_posterior(
        one, priors={"sigma_b": Prior("HalfNormal", 1.0)}
    )  # a prior with a variance
    assert math.isfinite(post.sd["sigma_b"])


def test_a_single_county_leaves_sigma_a_without_a_variance_and_is_refused(radon):
    with pytest.raises(
        ExactPosteriorError, match=r"sigma_a is not identified.*only one county \(HENNEPIN\)"
    ):
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
    assert log_marginal_likelihood(without, 0.3, 0.2, 0.7) == log_marginal_likelihood(
        radon, 0.3, 0.2, 0.7
    )


def test_mass_on_the_grids_edge_is_an_error_not_a_number(radon, monkeypatch):
    choose = exact_module._choose_grid

    def box_cut_at_the_mode_of_sigma_b(*args):
        coords, lo, hi = choose(*args)
        hi[1] = 0.5 * (lo[1] + hi[1])
        return coords, lo, hi

    monkeypatch.setattr(exact_module, "_choose_grid", box_cut_at_the_mode_of_sigma_b)
    with pytest.raises(
        ExactPosteriorError, match=r"holds .* of the mass of sigma_b on its highest node"
    ):
        exact_posterior(radon)


def test_a_grid_too_coarse_for_the_posterior_is_refused_and_a_finer_one_suggested(radon):
    with pytest.raises(
        ExactPosteriorError, match=r"too coarse .* odd and even nodes .* Pass a larger grid_size"
    ):
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


# --- Quantiles and the marginal mode of the scales --------------------------------------------


@pytest.fixture(scope="module")
def basements(radon):
    """Without first-floor homes, under a HalfNormal(1) prior, sigma_b's posterior is its prior."""
    return exact_posterior(radon[radon["floor"] == 0], priors={"sigma_b": Prior("HalfNormal", 1.0)})


def test_quantile_of_a_known_posterior_is_its_quantile(basements):
    probs = np.array([0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999])
    sigma = basements.quantile("sigma_b", probs)
    # As accurate as the grid's probabilities (~1e-7), which in the thin tail is ~3e-5 in sigma.
    np.testing.assert_allclose(stats.halfnorm.cdf(sigma), probs, atol=1e-6)
    np.testing.assert_allclose(sigma, stats.halfnorm.ppf(probs), rtol=1e-4)


@pytest.mark.parametrize("name", SCALES)
def test_quantile_inverts_prob_below_and_increases(exact, name):
    probs = np.linspace(0.001, 0.999, 41)
    sigma = exact.quantile(name, probs)
    assert sigma.shape == probs.shape and np.all(np.diff(sigma) > 0)
    back = [exact.prob_below(name, s) for s in sigma]
    np.testing.assert_allclose(back, probs, atol=1e-9)
    assert exact.quantile(name, 0.0) == 0.0 and exact.quantile(name, 1.0) == math.inf
    assert isinstance(exact.quantile(name, 0.5), float)
    assert exact.quantile(name, [[0.25], [0.75]]).shape == (2, 1)


@pytest.mark.parametrize("q", [-0.1, 1.5, math.nan, [0.5, 2.0]])
def test_quantile_refuses_a_q_that_is_not_a_probability(exact, q):
    with pytest.raises(ValueError, match="q must be a probability"):
        exact.quantile("sigma_b", q)


def test_the_marginal_mode_of_sigma_b_is_positive_and_tops_its_density(exact):
    mode = exact.marginal_mode()
    assert mode == exact.marginal_mode("sigma_b")
    # Measured: the marginal density of sigma_b is 1.196 at 0 and 2.979 at its mode 0.2814.
    assert 0.2 < mode < 0.35
    sigma = np.linspace(0.0, 1.0, 10001)
    _, density = exact.density("sigma_b", at=sigma)
    assert mode == pytest.approx(sigma[np.argmax(density)], abs=1e-3)
    on_either_side = exact._log_density("sigma_b", np.array([0.999 * mode, mode, 1.001 * mode]))
    assert on_either_side[1] > max(on_either_side[0], on_either_side[2])
    assert density[0] < 0.5 * np.exp(on_either_side[1])  # the density at 0 is well below the peak
    # Not below the posterior mean, as one might guess: the density's shoulder at sigma_b -> 0
    # (40% of the peak) pulls the mean (0.259) and the median (0.262) below the mode (0.281).
    assert exact.mean["sigma_b"] < exact.quantile("sigma_b", 0.5) < mode


@pytest.mark.parametrize("name", ["sigma_a", "eps"])
def test_the_other_marginal_modes_top_their_densities(exact, name):
    mode = exact.marginal_mode(name)
    values = exact._log_density(name, np.array([0.999 * mode, mode, 1.001 * mode]))
    assert values[1] > max(values[0], values[2])
    assert abs(mode - exact.mean[name]) < exact.sd[name]


def test_a_marginal_density_highest_at_zero_has_its_mode_at_zero(basements):
    """Here sigma_b's posterior is its HalfNormal prior, whose density falls from sigma_b = 0."""
    assert basements.marginal_mode("sigma_b") == 0.0
    assert basements.marginal_mode("sigma_a") > 0.0


def test_the_marginal_density_between_nodes_is_the_grids_own_quadrature(exact):
    for name in SCALES:
        nodes, density = exact.density(name)
        np.testing.assert_allclose(np.exp(exact._log_density(name, nodes)), density, rtol=1e-10)


# --- The county effects ------------------------------------------------------------------------


def dense_county_moments(data: pd.DataFrame, sigma_a, sigma_b, eps, tau_a, tau_b):
    """Posterior means and variances of (mu_a, mu_b, a_1..a_J, b_1..b_J) given the scales, from
    their joint precision matrix built term by term."""
    _, county = np.unique(data["county_code"].to_numpy(), return_inverse=True)
    k = county.max() + 1
    floor = data["floor"].to_numpy(dtype=float)
    rows = np.arange(len(data))
    design = np.zeros((len(data), 2 + 2 * k))  # y = a[county] + b[county] * floor + noise
    design[rows, 2 + county] = 1.0
    design[rows, 2 + k + county] = floor
    deviation = np.zeros((2 * k, 2 + 2 * k))  # a_j - mu_a and b_j - mu_b
    deviation[np.arange(k), 0] = deviation[k + np.arange(k), 1] = -1.0
    deviation[np.arange(2 * k), 2 + np.arange(2 * k)] = 1.0
    scale = np.repeat([sigma_a, sigma_b], k)
    precision = (
        np.diag(np.r_[1 / tau_a**2, 1 / tau_b**2, np.zeros(2 * k)])
        + deviation.T @ (deviation / scale[:, None] ** 2)
        + design.T @ design / eps**2
    )
    covariance = np.linalg.inv(precision)
    mean = covariance @ design.T @ data["log_radon"].to_numpy() / eps**2
    return mean, np.diag(covariance)


def uneven(seed: int) -> pd.DataFrame:
    """Five counties: one without first-floor homes, one with a single home, the rest with four."""
    data = synthetic(5, 4, seed=seed)
    data.loc[data["county_code"] == 0, "floor"] = 0
    return data.drop(index=[4, 5, 6]).reset_index(drop=True)


@pytest.mark.parametrize(
    ("sigma_a", "sigma_b", "eps"), [(0.4, 0.25, 0.7), (0.05, 1.5, 0.3), (1.0, 1e-3, 0.8)]
)
def test_county_effects_given_the_scales_equal_a_dense_gaussian(sigma_a, sigma_b, eps):
    data = uneven(seed=4)
    tau_a, tau_b = 10.0, 5.0
    mean, variance = dense_county_moments(data, sigma_a, sigma_b, eps, tau_a, tau_b)
    scales = (np.array([v]) for v in (sigma_a, sigma_b, eps))  # one grid node
    county, names = county_index(data)
    stats, totals = _county_stats(data, county), _county_totals(data, county, names)
    got = _county_moments(stats, totals, *scales, tau_a, tau_b)
    k = 5
    for effect, part in (("a", slice(2, 2 + k)), ("b", slice(2 + k, 2 + 2 * k))):
        np.testing.assert_allclose(got[effect][0][0], mean[part], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(got[effect][1][0], variance[part], rtol=1e-8)


def test_county_effects_mix_the_conditionals_over_the_whole_grid():
    data = synthetic(8, 6, seed=11)
    post = exact_posterior(data)
    probs = (0.025, 0.5, 0.975)
    table = post.county_effects("b", probs=probs)
    assert list(table.columns) == ["mean", "sd", "q2.5", "q50", "q97.5"]
    assert list(table.index) == [f"C{c}" for c in range(8)] and table.index.name == "county"
    # The same mixture from every grid node, none dropped.
    sigmas = np.meshgrid(*(post.axes[name] for name in SCALES), indexing="ij")
    means, variances = _county_moments(
        post._stats, post._totals, *(s.ravel() for s in sigmas), 100.0, 100.0
    )["b"]
    weights = post.weights.ravel()[:, None]
    mean = np.sum(weights * means, axis=0)
    sd = np.sqrt(np.sum(weights * (variances + (means - mean) ** 2), axis=0))
    np.testing.assert_allclose(table["mean"], mean, atol=1e-8)
    np.testing.assert_allclose(table["sd"], sd, atol=1e-8)
    for p, column in zip(probs, ["q2.5", "q50", "q97.5"], strict=True):
        at = table[column].to_numpy()
        cdf = np.sum(weights * stats.norm.cdf(at, means, np.sqrt(variances)), axis=0)
        np.testing.assert_allclose(cdf, p, atol=10 * DROPPED_MASS)
    assert np.all(table["q2.5"] < table["mean"]) and np.all(table["mean"] < table["q97.5"])
    assert np.all(table["q2.5"] < table["q50"]) and np.all(table["q50"] < table["q97.5"])
    intercepts = post.county_effects("a")
    assert list(intercepts.columns) == ["mean", "sd", "q05", "q95"]
    assert np.all(intercepts["q05"] < intercepts["q95"])


@pytest.fixture(scope="module")
def slopes(exact):
    return exact.county_effects("b")


def test_county_effects_follow_the_models_county_order(radon, slopes):
    assert list(slopes.index) == list(build_model(radon).coords["county"])


def test_a_slope_without_first_floor_homes_is_mu_b_plus_spread_sigma_b(radon, exact, slopes):
    """With no first-floor home the county's data say nothing about its slope: given the rest,
    b_j ~ Normal(mu_b, sigma_b), so its mean is mu_b's and its variance var(mu_b) + E[sigma_b^2]."""
    upstairs = radon.groupby("county")["floor"].sum()
    for county in upstairs.index[upstairs == 0]:
        row = slopes.loc[county]
        assert row["mean"] == pytest.approx(exact.mean["mu_b"], abs=1e-8)
        second_moment = exact.sd["sigma_b"] ** 2 + exact.mean["sigma_b"] ** 2
        assert row["sd"] ** 2 == pytest.approx(exact.sd["mu_b"] ** 2 + second_moment, rel=1e-7)


def test_slopes_are_surer_where_many_homes_are_on_the_first_floor(radon, slopes):
    upstairs = radon.groupby("county")["floor"].sum()
    many = upstairs.idxmax()  # ST LOUIS, 16 first-floor homes
    width = slopes["q95"] - slopes["q05"]
    for county in upstairs.index[upstairs == 0]:
        assert slopes.loc[county, "sd"] > 1.5 * slopes.loc[many, "sd"]
        assert width[county] > 1.5 * width[many]
    assert np.all(slopes["q05"] < slopes["mean"]) and np.all(slopes["mean"] < slopes["q95"])
    # Partial pooling: the slopes' means (spread 0.10) vary much less than each slope is
    # uncertain (sd 0.27 on average), since each is pulled towards mu_b.
    assert slopes["mean"].std() < 0.5 * slopes["sd"].mean()


@pytest.mark.parametrize(
    ("effect", "probs", "message"),
    [
        ("c", (0.05, 0.95), "unknown effect 'c'"),
        ("b", (0.0, 0.5), "strictly between 0 and 1"),
        ("b", (1.2,), "strictly between 0 and 1"),
        ("b", (0.05, 0.05), "differ"),
    ],
)
def test_county_effects_refuse_unknown_effects_and_improper_probs(exact, effect, probs, message):
    with pytest.raises(ValueError, match=message):
        exact.county_effects(effect, probs=probs)


SEED = 20240607


def test_long_noncentered_nuts_run_agrees_with_the_exact_means_within_3_mcse(radon, exact):
    idata = sample(
        build_model(radon, "noncentered"),
        seed=SEED,
        draws=2500,
        tune=1000,
        chains=4,
        target_accept=0.9,
    )
    mcse = az.mcse(idata, var_names=list(PARAMETERS))
    for name in PARAMETERS:
        estimate = float(idata.posterior[name].mean())
        error = float(mcse[name])
        assert abs(estimate - exact.mean[name]) < 3 * error, (
            name,
            estimate,
            exact.mean[name],
            error,
        )
