"""Sampler benchmark: one fit of one model with one sampler, timed, in a process of its own.

A fresh process pays what a reader's fresh kernel pays (numba compiles its helpers once per
process, so a second model compiled in the same process looks cheaper than it is). Prints one
JSON row; ``bench/run.py`` runs every (model, sampler, seed) and writes the table in
``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import time

import pymc as pm

from radon_utils.data import load_radon
from radon_utils.diagnostics import count_divergences, ess_bulk
from radon_utils.models import PURE_PARAMETERIZATIONS, build_model
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


#: What can be measured: (model, sampler) pairs, the model named as in the results table.
RUNS = [(p, sampler) for p in PURE_PARAMETERIZATIONS for sampler in ("nutpie", "pymc")] + [(WHOLE_SURVEY, "nutpie")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--model", choices=sorted({m for m, _ in RUNS}), required=True)
    parser.add_argument("--sampler", choices=sorted({s for _, s in RUNS}), required=True)
    args = parser.parse_args()
    if (args.model, args.sampler) not in RUNS:
        parser.error(f"no benchmark of {args.model} with {args.sampler}; choose one of {RUNS}")
    filter_known_warnings()
    if args.model == WHOLE_SURVEY:
        model = build_model(model_table(load_survey()), "noncentered")
    else:
        model = build_model(load_radon(), args.model)
    result = (time_nutpie if args.sampler == "nutpie" else time_pymc)(model, args.seed)
    idata = result.pop("idata")
    print(json.dumps({"seed": args.seed, "parameterization": args.model, "sampler": args.sampler, **result,
                      "divergences": count_divergences(idata), "ess_sigma_b": ess_bulk(idata, "sigma_b")}))


if __name__ == "__main__":
    main()
