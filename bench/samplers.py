"""Sampler benchmark: PyMC's NUTS against nutpie on both parameterizations, in one run.

Prints a JSON list of rows (one per sampler, parameterization and repeat); ``bench/run.py`` turns
them into the table in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import time

import pymc as pm

from radon_utils.data import load_radon
from radon_utils.diagnostics import count_divergences, ess_bulk
from radon_utils.models import PARAMETERIZATIONS, build_model
from radon_utils.quiet import filter_known_warnings
from radon_utils.sampling import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE
from radon_utils.survey import load_survey, model_table

#: The label of the whole-survey rows.
WHOLE_SURVEY = "noncentered, whole survey"


def time_nutpie(model: pm.Model, seed: int) -> dict[str, float]:
    """Compile and sample ``model`` with nutpie; seconds for each part, and the fit."""
    import nutpie

    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    compiled_at = time.perf_counter()
    idata = nutpie.sample(compiled, draws=DEFAULT_DRAWS, tune=DEFAULT_TUNE, chains=DEFAULT_CHAINS, cores=2, seed=seed, progress_bar=False)
    end = time.perf_counter()
    return {"compile_s": compiled_at - start, "sample_s": end - compiled_at, "total_s": end - start, "idata": idata}


def time_pymc(model: pm.Model, seed: int) -> dict[str, float]:
    """Sample ``model`` with PyMC's NUTS; its own sampling time, and the rest counted as compile."""
    start = time.perf_counter()
    idata = pm.sample(
        model=model, draws=DEFAULT_DRAWS, tune=DEFAULT_TUNE, chains=DEFAULT_CHAINS, cores=2,
        random_seed=seed, progressbar=False, compute_convergence_checks=False,
    )
    end = time.perf_counter()
    sampling = float(idata.sample_stats.attrs["sampling_time"])
    return {"compile_s": end - start - sampling, "sample_s": sampling, "total_s": end - start, "idata": idata}


def measure(seed: int, label: str, sampler: str, run, model: pm.Model) -> dict:
    """One benchmark row: ``run`` (time_nutpie or time_pymc) on ``model``, timed and diagnosed."""
    result = run(model, seed)
    idata = result.pop("idata")
    return {"seed": seed, "parameterization": label, "sampler": sampler, **result,
            "divergences": count_divergences(idata), "ess_sigma_b": ess_bulk(idata, "sigma_b")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    filter_known_warnings()
    data = load_radon()
    survey = model_table(load_survey())
    rows = []
    for seed in args.seeds:
        # A fresh model object per run, so that each run pays its own compilation.
        for parameterization in PARAMETERIZATIONS:
            for sampler, run in (("nutpie", time_nutpie), ("pymc", time_pymc)):
                rows.append(measure(seed, parameterization, sampler, run, build_model(data, parameterization)))
        # The appendix's fit of the whole survey: non-centered, with the book's sampler only.
        rows.append(measure(seed, WHOLE_SURVEY, "nutpie", time_nutpie, build_model(survey, "noncentered")))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
