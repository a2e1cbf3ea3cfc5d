"""maximize_density is find_MAP's objective from any start.

trace_from is tested in tests/test_map_sweep.py, which re-runs it.
"""

import numpy as np
import pymc as pm
import pytest

from radon_utils.models import build_model
from radon_utils.modes import as_point, default_start, maximize_density, random_start


@pytest.fixture(scope="module")
def centered(radon):
    return build_model(radon, "centered")


def test_from_the_default_start_l_bfgs_b_returns_what_find_map_returns(centered):
    expected, report = pm.find_MAP(model=centered, progressbar=False, return_raw=True)
    point, result = maximize_density(centered, default_start(centered), "L-BFGS-B")
    assert set(point) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(point[name], value, rtol=1e-9, err_msg=name)
    assert (result.success, result.nit) == (report.success, report.nit)


def test_the_report_holds_the_log_density_at_the_point_without_the_jacobian(centered):
    point, result = maximize_density(centered, default_start(centered), "BFGS")
    logp = centered.compile_logp(jacobian=False)
    values = {v.name: point[v.name] for v in centered.value_vars}
    assert -result.fun == pytest.approx(float(logp(values)))
    assert point["sigma_b"] == pytest.approx(np.exp(point["sigma_b_log__"]))


def test_a_random_start_moves_every_number_by_about_one_and_depends_only_on_the_seed(centered):
    x = default_start(centered)
    first = random_start(centered, np.random.default_rng(3))
    assert first.shape == x.shape == (175,)
    assert np.std(first - x) == pytest.approx(1, abs=0.15)
    np.testing.assert_array_equal(first, random_start(centered, np.random.default_rng(3)))
    assert as_point(centered, x)["sigma_b"] == pytest.approx(
        np.exp(centered.initial_point()["sigma_b_log__"])
    )


def test_a_start_of_the_wrong_size_is_refused_with_the_fix(centered):
    with pytest.raises(
        ValueError, match=r"x0 has shape \(3,\), but the model has 175 free numbers"
    ):
        maximize_density(centered, np.zeros(3))
