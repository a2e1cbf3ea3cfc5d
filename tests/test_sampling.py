"""sample(): the book's sampling defaults, reproducible, with divergences recorded."""

import subprocess
import sys

import arviz as az
import numpy as np
import pytest

from radon_utils.diagnostics import count_divergences, divergent_steps
from radon_utils.exact import exact_posterior
from radon_utils.models import build_model
from radon_utils.sampling import IncompleteFitError, sample, show_progress
from radon_utils.sweep import COLUMNS, SLOPE_PROBS, fit_row

#: What nutpie stores for the non-centered model: the variables the sampler moves.
FREE = ["mu_a", "sigma_a", "mu_b", "sigma_b", "eps", "z_a", "z_b"]
SHORT = {"seed": 11, "draws": 60, "tune": 100, "chains": 2, "progressbar": False}


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


def test_fit_row_reports_every_sweep_column(short_run, radon):
    exact_slopes = exact_posterior(radon).county_effects("b", probs=SLOPE_PROBS)
    row = fit_row(short_run, short_run.posterior["county"].values[0], exact_slopes)
    assert set(row) == set(COLUMNS) - {
        "seed",
        "parameterization",
        "target_accept",
        "sampling_seconds",
    }
    assert 0 < row["sigma_b_min"] <= row["sigma_b_median"] <= row["sigma_b_max"]


def test_store_divergences_keeps_where_each_failing_step_began_and_ended(radon):
    centered = build_model(
        radon, "centered"
    )  # seed 3 gives a short centered run with one divergence
    settings = {
        "seed": 3,
        "draws": 200,
        "tune": 200,
        "chains": 2,
        "progressbar": False,
        "cache": False,
    }
    plain = sample(centered, **settings)
    stored = sample(centered, **settings, store_divergences=True)
    assert plain.posterior["sigma_b"].equals(stored.posterior["sigma_b"]), "the draws changed"
    steps = divergent_steps(stored, str(stored.posterior["county"].values[0]))
    assert len(steps) == count_divergences(stored) > 0
    assert list(steps.columns) == ["sigma_b_start", "b_start", "sigma_b_end", "b_end"]
    assert (steps[["sigma_b_start", "sigma_b_end"]] > 0).all().all()
    with pytest.raises(ValueError, match="store_divergences=True"):
        divergent_steps(plain, "x")
    with pytest.raises(ValueError, match="needs sampler='nutpie'"):
        sample(centered, seed=3, sampler="pymc", store_divergences=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sampler": "metropolis"}, "unknown sampler 'metropolis'; use one of 'nutpie', 'pymc'"),
        ({"target_accept": 1.2}, "target_accept must lie strictly between 0 and 1"),
        ({"draws": 0}, "draws must be a positive whole number"),
        ({"chains": 2.5}, "chains must be a positive whole number"),
        ({"tune": -1}, "tune must be a whole number >= 0"),
        ({"tune": 0}, "tune=0 is not possible with nutpie.*sampler='pymc'"),
        ({"seed": -1}, r"seed must be a whole number from 0 to 2\*\*64 - 1"),
        ({"seed": 2**64}, r"seed must be a whole number from 0 to 2\*\*64 - 1"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"seed": "7"}, "seed must be a whole number"),
        ({"draws": True}, "draws must be a positive whole number"),
        ({"target_accept": "0.9"}, "target_accept must lie strictly between 0 and 1"),
    ],
)
def test_bad_settings_are_refused_before_any_work(model, kwargs, message):
    """Left to nutpie, a negative seed would raise OverflowError and tune=0 panic in Rust code."""
    with pytest.raises(ValueError, match=message):
        sample(model, **({"seed": 1} | kwargs))


def test_something_other_than_a_model_is_a_type_error():
    with pytest.raises(TypeError, match=r"model must be a pymc\.Model"):
        sample("the centered model", seed=1)


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


def test_a_stored_fit_is_read_back_as_the_very_same_fit_without_sampling(
    model, short_run, tmp_path, monkeypatch
):
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


class FakeRun:
    """Stands in for nutpie's background sampler: ``wait`` gives ``result`` or raises ``error``."""

    def __init__(self, result=None, error=None):
        self.result, self.error, self.cancelled = result, error, False

    def wait(self):
        if self.error is not None:
            raise self.error
        return self.result

    def cancel(self):
        self.cancelled = True


def fake_nutpie(monkeypatch, run: FakeRun) -> list[dict]:
    """Make nutpie.sample hand out ``run``; returns the list of the calls' keyword arguments."""
    calls = []

    def start(compiled, **kwargs):
        calls.append(kwargs)
        return run

    monkeypatch.setattr("nutpie.sample", start)
    return calls


def as_nutpie_returns(fit: az.InferenceData) -> az.InferenceData:
    """``fit`` as nutpie hands it over: the free variables only, no deterministics added yet."""
    return az.InferenceData(
        posterior=fit.posterior[FREE].copy(deep=True), sample_stats=fit.sample_stats.copy()
    )


@pytest.fixture
def store(tmp_path, monkeypatch):
    folder = tmp_path / "fits"
    monkeypatch.setenv("RADON_FIT_CACHE", str(folder))
    return folder


def stored_files(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


CTRL_C_SCRIPT = """
import _thread, signal, sys, threading
# As in an interactive session: a process started in the background inherits SIGINT ignored, and
# then a simulated Ctrl-C (interrupt_main) does nothing at all.
signal.signal(signal.SIGINT, signal.default_int_handler)
from radon_utils.data import load_radon
from radon_utils.models import build_model
from radon_utils.sampling import compile_nutpie, sample

model = build_model(load_radon(), "noncentered")
compile_nutpie(model)
done = threading.Event()

def press_ctrl_c():  # after 1 s, and again each second, as a user would until it stops
    while not done.wait(1.0):
        _thread.interrupt_main()

threading.Thread(target=press_ctrl_c, daemon=True).start()
try:
    sample(model, seed=11, draws=10**6, tune=100, chains=2, progressbar=False)
except KeyboardInterrupt:
    done.set()
    sys.exit(0)
done.set()
sys.exit("sampling returned although Ctrl-C was pressed")
"""


def test_ctrl_c_while_nutpie_samples_reaches_the_caller_and_stores_nothing(store):
    """nutpie's blocking call would catch it and return the draws so far, to be stored as the fit.

    Run in a fresh interpreter, as a user's session would be, with Python's own Ctrl-C handler: a
    `make test` started in the background (`make test &`) passes SIGINT down ignored, and the
    simulated presses would then never arrive (the test would time out)."""
    result = subprocess.run(
        [sys.executable, "-c", CTRL_C_SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert stored_files(store) == []


def test_an_interrupt_stops_the_chains_and_drops_their_draws(model, short_run, store, monkeypatch):
    run = FakeRun(error=KeyboardInterrupt())
    fake_nutpie(monkeypatch, run)
    with pytest.raises(KeyboardInterrupt):
        sample(model, **SHORT)
    assert run.cancelled and stored_files(store) == []


@pytest.mark.parametrize("damage", ["NaN draws", "fewer draws"])
def test_a_partial_trace_is_neither_stored_nor_returned(
    model, short_run, store, monkeypatch, damage
):
    partial = as_nutpie_returns(short_run)
    if damage == "NaN draws":  # nutpie pads a chain stopped early with NaN
        for name in FREE:
            partial.posterior[name][1, 30:] = np.nan
    else:
        partial = partial.isel(draw=slice(0, 40))
    calls = fake_nutpie(monkeypatch, FakeRun(result=partial))
    with pytest.raises(IncompleteFitError, match="neither stored nor returned"):
        sample(model, **SHORT)
    assert stored_files(store) == []
    fake_nutpie(monkeypatch, FakeRun(result=as_nutpie_returns(short_run)))
    fit = sample(model, **SHORT)  # sampled again, not read back
    np.testing.assert_array_equal(fit.posterior["b"], short_run.posterior["b"])
    assert len(calls) == 1 and len(stored_files(store)) == 1


def test_pymcs_short_trace_after_ctrl_c_reaches_the_caller_as_an_interrupt(
    model, short_run, store, monkeypatch
):
    """PyMC, too, catches Ctrl-C and returns the draws so far."""
    monkeypatch.setattr("pymc.sample", lambda **kwargs: short_run.isel(draw=slice(0, 10)))
    with pytest.raises(KeyboardInterrupt, match="after 10 of 60 draws"):
        sample(model, sampler="pymc", **SHORT)
    assert stored_files(store) == []


def test_an_unseeded_fit_is_never_stored_nor_read_back(model, short_run, store, monkeypatch):
    """Stored under the key 'None', one unseeded fit would be returned for every later one."""
    calls = fake_nutpie(monkeypatch, FakeRun(result=as_nutpie_returns(short_run)))
    for _ in range(2):
        sample(model, **(SHORT | {"seed": None}))
    assert [call["seed"] for call in calls] == [None, None]
    assert stored_files(store) == []


def test_a_panic_inside_nutpie_arrives_as_a_runtime_error(model, monkeypatch):
    """pyo3's PanicException is a BaseException, which `except Exception` does not catch."""
    panic = type("PanicException", (BaseException,), {})
    run = FakeRun(error=panic("Poisond sampler state mutex"))
    fake_nutpie(monkeypatch, run)
    with pytest.raises(RuntimeError, match=r"nutpie failed inside its Rust code.*Poisond"):
        sample(model, **(SHORT | {"cache": False}))
    assert run.cancelled


def test_ctrl_c_while_the_chains_start_still_stops_them(model, short_run, store, monkeypatch):
    """A press that lands inside nutpie.sample, before we hold the run, must not leave the chains
    running with nothing to stop them (a process could then not exit until they finished)."""
    import _thread

    run = FakeRun(result=as_nutpie_returns(short_run))

    def start_and_press(*args, **kwargs):
        _thread.interrupt_main()  # as if Ctrl-C came while nutpie was starting its chains
        return run

    monkeypatch.setattr("nutpie.sample", start_and_press)
    with pytest.raises(KeyboardInterrupt):
        sample(model, **SHORT)
    assert run.cancelled and stored_files(store) == []
