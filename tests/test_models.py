"""build_model: one factory, two parameterizations, the same priors and names."""

import numpy as np
import pytest

from radon_utils.data import county_index
from radon_utils.models import PURE_PARAMETERIZATIONS, build_model
from radon_utils.priors import DEFAULT_PRIORS, Prior, resolve_priors

SHARED = {"mu_a", "sigma_a", "mu_b", "sigma_b", "eps", "a", "b"}


@pytest.fixture(scope="module")
def models(radon):
    return {p: build_model(radon, p) for p in PURE_PARAMETERIZATIONS}


def test_both_parameterizations_expose_the_same_names(models):
    for model in models.values():
        assert SHARED <= set(model.named_vars)
    assert {"z_a", "z_b"} <= set(models["noncentered"].named_vars)
    assert not {"z_a", "z_b"} & set(models["centered"].named_vars)


def test_the_centered_model_samples_the_county_effects_directly(models):
    free = {rv.name for rv in models["centered"].free_RVs}
    assert free == SHARED
    noncentered_free = {rv.name for rv in models["noncentered"].free_RVs}
    assert noncentered_free == {"mu_a", "sigma_a", "mu_b", "sigma_b", "eps", "z_a", "z_b"}
    assert {d.name for d in models["noncentered"].deterministics} == {"a", "b"}


def test_counties_and_homes_are_named_coordinates(models, radon):
    for model in models.values():
        assert len(model.coords["county"]) == 85
        assert model.coords["county"][0] == "AITKIN"
        assert len(model.coords["obs_id"]) == len(radon)
        assert model.named_vars_to_dims["b"] == ("county",)


def test_both_parameterizations_get_identical_priors(models):
    point = {
        "mu_a": 1.3,
        "mu_b": -0.6,
        "sigma_a_log__": np.log(0.3),
        "sigma_b_log__": np.log(0.2),
        "eps_log__": np.log(0.7),
    }
    logps = []
    for model in models.values():
        hyper = [model[name] for name in ("mu_a", "mu_b", "sigma_a", "sigma_b", "eps")]
        logps.append(
            model.compile_logp(vars=hyper)(
                point | {k: v for k, v in model.initial_point().items() if k not in point}
            )
        )
    assert logps[0] == pytest.approx(logps[1])


def test_the_two_parameterizations_define_the_same_joint_density_up_to_the_jacobian(models, radon):
    # b = mu_b + z_b * sigma_b: p_noncentered(z) = p_centered(b) * sigma_b^85, likewise for a.
    rng = np.random.default_rng(1)
    hyper = {"mu_a": 1.4, "mu_b": -0.6, "sigma_a": 0.35, "sigma_b": 0.25, "eps": 0.7}
    z_a, z_b = rng.normal(size=85), rng.normal(size=85)
    a, b = hyper["mu_a"] + z_a * hyper["sigma_a"], hyper["mu_b"] + z_b * hyper["sigma_b"]
    logs = {f"{k}_log__": np.log(hyper[k]) for k in ("sigma_a", "sigma_b", "eps")}
    centered = models["centered"].compile_logp(jacobian=False)(
        logs | {"mu_a": hyper["mu_a"], "mu_b": hyper["mu_b"], "a": a, "b": b}
    )
    noncentered = models["noncentered"].compile_logp(jacobian=False)(
        logs | {"mu_a": hyper["mu_a"], "mu_b": hyper["mu_b"], "z_a": z_a, "z_b": z_b}
    )
    jacobian = 85 * (np.log(hyper["sigma_a"]) + np.log(hyper["sigma_b"]))
    assert noncentered == pytest.approx(centered + jacobian)


def test_an_unknown_parameterization_lists_the_valid_ones(radon):
    with pytest.raises(ValueError, match="'centered', 'noncentered'"):
        build_model(radon, "uncentered")


def test_priors_can_be_replaced_one_by_one(radon):
    model = build_model(radon, "noncentered", priors={"sigma_b": Prior("HalfNormal", 1.0)})
    assert model["sigma_b"].owner.op.name == "halfnormal"
    assert model["sigma_a"].owner.op.name == "halfcauchy"


def test_bad_priors_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="no parameter 'tau'"):
        resolve_priors({"tau": Prior("HalfNormal", 1.0)})
    with pytest.raises(ValueError, match="sigma_b is a scale; its prior must be one of HalfCauchy"):
        resolve_priors({"sigma_b": Prior("Normal", 1.0)})
    with pytest.raises(ValueError, match="positive"):
        Prior("HalfNormal", -1.0)
    with pytest.raises(ValueError, match="unknown prior family 'Gamma'"):
        Prior("Gamma", 1.0)
    with pytest.raises(TypeError, match=r"radon_utils\.Prior"):
        resolve_priors({"eps": 5.0})


def test_default_priors_are_the_books():
    assert {name: str(p) for name, p in DEFAULT_PRIORS.items()} == {
        "mu_a": "Normal(0, 100)",
        "mu_b": "Normal(0, 100)",
        "sigma_a": "HalfCauchy(5)",
        "sigma_b": "HalfCauchy(5)",
        "eps": "HalfCauchy(5)",
    }


@pytest.mark.parametrize("family", ["Normal", "HalfCauchy", "HalfNormal", "Exponential"])
def test_a_priors_numpy_density_matches_pymc(family):
    import pymc as pm

    prior = Prior(family, 2.5)
    x = np.array([0.1, 1.0, 7.0])
    with pm.Model():
        rv = prior.to_pymc("x")
    np.testing.assert_allclose(pm.logp(rv, x).eval(), prior.logpdf(x), rtol=1e-6)


def test_the_county_dimension_is_county_index(models, radon):
    index, counties = county_index(radon)
    for model in models.values():
        assert list(model.coords["county"]) == counties.tolist()
        np.testing.assert_array_equal(model["county_index"].get_value(), index)


def test_a_subset_of_counties_gets_its_own_compact_index(radon):
    subset = radon[radon["county"].isin(["HENNEPIN", "AITKIN", "ST LOUIS"])]
    model = build_model(subset)
    assert list(model.coords["county"]) == ["AITKIN", "HENNEPIN", "ST LOUIS"]
    assert model["county_index"].get_value().max() == 2


def test_bad_data_for_build_model_says_what_table_to_pass(radon):
    from radon_utils.data import RadonDataError

    with pytest.raises(
        RadonDataError,
        match=r"the data passed to build_model lacks the column.*floor.*like load_radon",
    ):
        build_model(radon.drop(columns="floor"))


@pytest.mark.parametrize(
    "priors", [[Prior("HalfNormal", 1.0)], "HalfNormal", ("sigma_b", Prior("HalfNormal", 1.0))]
)
def test_priors_that_are_not_a_mapping_are_a_type_error(radon, priors):
    """A list or a string is refused up front, with an example, instead of an AttributeError
    from deep inside."""
    with pytest.raises(
        TypeError,
        match=r"priors must be a mapping from parameter name to Prior, e\.g\. \{'sigma_b'",
    ):
        build_model(radon, priors=priors)


@pytest.mark.parametrize("scale", ["5", None, True])
def test_a_prior_scale_that_is_not_a_number_is_a_type_error(scale):
    with pytest.raises(TypeError, match="a prior's scale must be a number"):
        Prior("HalfCauchy", scale)


def test_data_that_is_not_a_table_is_a_type_error():
    with pytest.raises(
        TypeError, match="the data passed to build_model must be a pandas DataFrame"
    ):
        build_model({"floor": [0, 1]})
