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

from radon_utils.centering import choose_centered, pilot_scales
from radon_utils.data import load_radon
from radon_utils.diagnostics import (
    HYPERPARAMETERS,
    count_divergences,
    ess_bulk,
    gradient_evaluations,
)
from radon_utils.models import PARAMETERIZATIONS, PURE_PARAMETERIZATIONS, build_model
from radon_utils.quiet import filter_known_warnings
from radon_utils.sampling import DEFAULT_SAMPLER, SAMPLERS, compile_nutpie, sample
from radon_utils.survey import load_survey, model_table

__all__ = ["WHOLE_SURVEY", "RUNS", "time_nutpie", "time_pymc", "main"]

#: The suffix of the whole-survey rows.
WHOLE_SURVEY = ", whole survey"
#: What can be measured: (model, sampler) pairs, the model named as in the results table. Every
#: sampler on the two pure forms; the book's own (nutpie) on the mixed form and the whole survey.
RUNS = (
    [(p, sampler) for p in PURE_PARAMETERIZATIONS for sampler in SAMPLERS]
    + [("mixed", DEFAULT_SAMPLER)]
    + [(p + WHOLE_SURVEY, DEFAULT_SAMPLER) for p in PARAMETERIZATIONS]
)


def time_nutpie(model: pm.Model, seed: int) -> dict[str, float]:
    """Compile and sample ``model`` with the book's ``sample`` (nutpie); seconds for each part,
    and the fit."""
    start = time.perf_counter()
    compile_nutpie(model)
    compiled_at = time.perf_counter()
    idata = sample(model, seed=seed, cache=False, progressbar=False)
    end = time.perf_counter()
    return {
        "compile_s": compiled_at - start,
        "sample_s": end - compiled_at,
        "total_s": end - start,
        "idata": idata,
    }


def time_pymc(model: pm.Model, seed: int) -> dict[str, float]:
    """Sample ``model`` with PyMC's NUTS through ``sample``; its own sampling time, the rest
    counted as compile."""
    start = time.perf_counter()
    idata = sample(model, seed=seed, sampler="pymc", cache=False, progressbar=False)
    end = time.perf_counter()
    sampling = float(idata.sample_stats.attrs["sampling_time"])
    return {
        "compile_s": end - start - sampling,
        "sample_s": sampling,
        "total_s": end - start,
        "idata": idata,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--model", choices=sorted({m for m, _ in RUNS}), required=True)
    parser.add_argument("--sampler", choices=sorted({s for _, s in RUNS}), required=True)
    args = parser.parse_args()
    if (args.model, args.sampler) not in RUNS:
        parser.error(f"no benchmark of {args.model} with {args.sampler}; choose one of {RUNS}")
    filter_known_warnings()
    parameterization = args.model.removesuffix(WHOLE_SURVEY)
    data = model_table(load_survey()) if args.model.endswith(WHOLE_SURVEY) else load_radon()
    pilot_s = 0.0
    if parameterization == "mixed":  # the counties to center, from a pilot fit (compile included)
        start = time.perf_counter()
        choice = choose_centered(data, pilot_scales(data, seed=args.seed, cache=False))
        pilot_s = time.perf_counter() - start
        model = build_model(data, "mixed", centered=choice)
    else:
        model = build_model(data, parameterization)
    result = (time_nutpie if args.sampler == "nutpie" else time_pymc)(model, args.seed)
    idata = result.pop("idata")
    ess = {name: ess_bulk(idata, name) for name in HYPERPARAMETERS}
    print(
        json.dumps(
            {
                "seed": args.seed,
                "parameterization": args.model,
                "sampler": args.sampler,
                **result,
                "pilot_s": pilot_s,
                "divergences": count_divergences(idata),
                "ess_sigma_b": ess["sigma_b"],
                "ess_min": min(ess.values()),
                "gradients": gradient_evaluations(idata),
            }
        )
    )


if __name__ == "__main__":
    main()
