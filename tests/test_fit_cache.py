"""The fit cache: a fit is stored under a key of all that decides its draws, and read back."""

from pathlib import Path

import arviz as az
import numpy as np
import pytest

import radon_utils.fit_cache as fit_cache
from radon_utils.fit_cache import (
    FIT_CACHE_ENV_VAR,
    cache_dir,
    cached_fit,
    fit_key,
    model_fingerprint,
)
from radon_utils.models import build_model
from radon_utils.priors import Prior

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "sampler": "nutpie",
    "seed": 1,
    "draws": 10,
    "tune": 10,
    "chains": 2,
    "cores": 2,
    "target_accept": 0.8,
}


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    """A fit cache in a temporary folder."""
    folder = tmp_path / "fits"
    monkeypatch.setenv(FIT_CACHE_ENV_VAR, str(folder))
    return folder


class CountingFit:
    """Stands in for a sampler: returns a small fit and counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self) -> az.InferenceData:
        self.calls += 1
        rng = np.random.default_rng(self.calls)
        return az.from_dict(
            posterior={"sigma_b": rng.random((2, 10))},
            sample_stats={"diverging": rng.random((2, 10)) < 0.3},
        )


@pytest.fixture(scope="module")
def centered(radon):
    return build_model(radon, "centered")


def test_the_same_model_built_twice_has_the_same_fingerprint(radon, centered):
    assert model_fingerprint(build_model(radon, "centered")) == model_fingerprint(centered)


@pytest.mark.parametrize(
    "change", ["parameterization", "one reading", "one floor", "a prior's scale", "county names"]
)
def test_the_fingerprint_changes_with_anything_that_changes_the_model(radon, centered, change):
    data, parameterization, priors = radon.copy(), "centered", None
    if change == "parameterization":
        parameterization = "noncentered"
    elif change == "one reading":
        data.loc[500, "log_radon"] += 0.01  # mid-table: not in any printed summary
    elif change == "one floor":  # held in pm.Data, a shared variable, not a constant
        data.loc[0, "floor"] = 1 - data.loc[0, "floor"]
    elif change == "a prior's scale":
        priors = {"sigma_b": Prior("HalfCauchy", 4.0)}
    else:
        data["county"] = data["county"].str.lower()
    assert model_fingerprint(build_model(data, parameterization, priors)) != model_fingerprint(
        centered
    )


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_the_key_changes_with_every_sampler_setting(centered, setting):
    changed = dict(SETTINGS)
    changed[setting] = (
        "pymc"
        if setting == "sampler"
        else (0.95 if setting == "target_accept" else SETTINGS[setting] + 1)
    )
    assert fit_key(centered, changed) != fit_key(centered, SETTINGS)


def test_the_key_changes_with_the_processor_and_its_kernels(centered, monkeypatch):
    """A fit stored on one kind of machine is not read back as another's: its draws differ."""
    here = fit_key(centered, SETTINGS)
    other = fit_cache.floating_point_environment() | {"numba_target": "generic"}
    monkeypatch.setattr(fit_cache, "floating_point_environment", lambda: other)
    assert fit_key(centered, SETTINGS) != here


def test_a_stored_fit_is_read_back_instead_of_fitting_again(centered, store):
    fit = CountingFit()
    first = cached_fit(centered, SETTINGS, fit)
    second = cached_fit(centered, SETTINGS, fit)
    assert fit.calls == 1
    np.testing.assert_array_equal(second.posterior["sigma_b"], first.posterior["sigma_b"])
    assert second.sample_stats["diverging"].dtype == bool
    assert len(list(store.glob("*.pkl"))) == 1 and not list(store.glob("*.tmp"))
    cached_fit(centered, {**SETTINGS, "seed": 2}, fit)
    assert fit.calls == 2, "another seed must be fitted, not read back"


def test_an_unreadable_stored_fit_is_fitted_again_and_replaced(centered, store):
    fit = CountingFit()
    cached_fit(centered, SETTINGS, fit)
    (stored,) = store.glob("*.pkl")
    stored.write_bytes(b"not a pickle")
    cached_fit(centered, SETTINGS, fit)
    assert fit.calls == 2
    cached_fit(centered, SETTINGS, fit)
    assert fit.calls == 2, "the replaced file should be read back"


@pytest.mark.parametrize("setting", ["0", "off", "OFF", "false", "no"])
def test_the_cache_can_be_turned_off(centered, tmp_path, monkeypatch, setting):
    monkeypatch.setenv(FIT_CACHE_ENV_VAR, setting)
    monkeypatch.chdir(tmp_path)
    assert cache_dir() is None
    fit = CountingFit()
    cached_fit(centered, SETTINGS, fit)
    cached_fit(centered, SETTINGS, fit)
    assert fit.calls == 2 and not list(tmp_path.rglob("*.pkl"))


def test_the_default_folder_is_build_fits_in_the_repository(monkeypatch, tmp_path):
    monkeypatch.delenv(FIT_CACHE_ENV_VAR, raising=False)
    assert cache_dir(start=ROOT / "chapters") == ROOT / "_build" / "fits"
    assert cache_dir(start=tmp_path) is None, "outside the repository nothing is stored"


def test_a_folder_that_cannot_be_written_still_returns_the_fit(centered, tmp_path, monkeypatch):
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("")
    monkeypatch.setenv(FIT_CACHE_ENV_VAR, str(blocker / "fits"))
    fit = CountingFit()
    idata = cached_fit(centered, SETTINGS, fit)
    assert fit.calls == 1 and "sigma_b" in idata.posterior


def refuse_all(idata):
    raise ValueError("incomplete")


def test_a_fit_the_check_refuses_is_not_stored(centered, store):
    fit = CountingFit()
    with pytest.raises(ValueError, match="incomplete"):
        cached_fit(centered, SETTINGS, fit, check=refuse_all)
    assert fit.calls == 1 and not list(store.rglob("*.*"))
    cached_fit(centered, SETTINGS, fit)
    assert fit.calls == 2, "nothing was stored, so the fit is made again"


def test_a_stored_fit_the_check_refuses_is_fitted_again_and_replaced(centered, store):
    fit = CountingFit()
    cached_fit(centered, SETTINGS, fit)
    checked = []

    def refuse_the_first(idata):
        checked.append(idata)
        if len(checked) == 1:
            refuse_all(idata)

    cached_fit(centered, SETTINGS, fit, check=refuse_the_first)
    assert fit.calls == 2 and len(checked) == 2  # the stored fit refused, the new one accepted
    assert len(list(store.glob("*.pkl"))) == 1
    cached_fit(centered, SETTINGS, fit, check=refuse_the_first)
    assert fit.calls == 2, "the replacement is read back"


def test_an_interrupted_store_leaves_no_file_under_the_key(centered, store, monkeypatch):
    def ctrl_c_while_writing(obj, stream, **kwargs):
        stream.write(b"half a pickle")
        raise KeyboardInterrupt

    monkeypatch.setattr("radon_utils.fit_cache.pickle.dump", ctrl_c_while_writing)
    with pytest.raises(KeyboardInterrupt):
        cached_fit(centered, SETTINGS, CountingFit())
    assert list(store.iterdir()) == []


def test_a_setting_that_is_set_but_empty_counts_as_unset(monkeypatch, tmp_path):
    """Path("") would be the working directory, which would then fill with pickles."""
    monkeypatch.setenv(FIT_CACHE_ENV_VAR, "")
    assert cache_dir(start=ROOT / "chapters") == ROOT / "_build" / "fits"
    assert cache_dir(start=tmp_path) is None
    monkeypatch.setenv(FIT_CACHE_ENV_VAR, "  ")
    assert cache_dir(start=tmp_path) is None


def test_the_cache_does_not_know_its_caller_and_sample_puts_its_source_in_the_key(
    monkeypatch, centered
):
    import subprocess
    import sys

    import radon_utils.sampling as sampling

    alone = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, radon_utils.fit_cache; print('radon_utils.sampling' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert alone.stdout.strip() == "False"
    seen = []
    monkeypatch.setattr(
        sampling, "cached_fit", lambda model, settings, draw, check: seen.append(settings)
    )
    sampling.sample(centered, seed=1)
    assert seen and seen[0]["sampling_source"] == sampling._source_fingerprint()
