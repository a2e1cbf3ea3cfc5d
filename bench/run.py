"""``make bench``: measure the book's speed and write ``bench/RESULTS.md``.

Reports medians over repeats. Timings are reported here and never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from radon_utils.sampling import DEFAULT_SAMPLER

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: Earlier results, kept by hand: what changed and what it did to the measurements.
HISTORY = ROOT / "bench" / "HISTORY.md"
PACKAGES = ("pymc", "pytensor", "nutpie", "numba", "arviz", "numpy", "jupyter-book", "myst-nb")


def run_json(args: list[str], env: dict | None = None) -> object:
    """Run a command that prints JSON on its last line; return the parsed JSON."""
    out = subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(args: list[str], cwd: Path, env: dict | None = None) -> float:
    """Seconds a command takes; it must succeed."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(args)} failed in {cwd}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )
    return time.perf_counter() - start


def bench_samplers(seeds: list[int]) -> list[dict]:
    """Every (model, sampler) of ``bench/samplers.py`` for every seed, each in a fresh process."""
    from samplers import RUNS  # bench/ is on sys.path when this file runs

    return [
        run_json(
            [
                sys.executable,
                "bench/samplers.py",
                "--seed",
                str(seed),
                "--model",
                model,
                "--sampler",
                sampler,
            ]
        )
        for seed in seeds
        for model, sampler in RUNS
    ]


def bench_chapters(repeats: int) -> list[dict]:
    """Each chapter alone in a fresh kernel, as a reader who opens it first meets it: warm compile
    cache, but no stored fits (``RADON_FIT_CACHE=off``)."""
    env = os.environ | {"RADON_FIT_CACHE": "off", "RADON_PROGRESS": "0"}
    results = []
    for notebook in sorted((ROOT / "chapters").glob("*.ipynb")):
        runs = [
            run_json([sys.executable, "bench/chapter.py", str(notebook)], env=env)
            for _ in range(repeats)
        ]
        results.append(
            {
                "chapter": notebook.stem,
                "seconds": statistics.median(r["seconds"] for r in runs),
                "peak_mib": max(r["peak_mib"] for r in runs),
                "runs": len(runs),
            }
        )
    return results


#: `make` in a copy that shares this checkout's .venv: never reinstall there (the stamp may be older
#: than requirements.txt), which would point the editable install of radon_utils at the copy.
MAKE = ["make", "-o", ".venv/.installed"]


def fresh_copy(tmp: str) -> tuple[Path, dict]:
    """A clone of the last commit in ``tmp`` that uses this checkout's installed ``.venv``, and an
    environment whose PyTensor and numba compile caches are empty: a fresh clone, install excluded.
    (A clone, not a copy of the files: the tests list the repository's files with git.)"""
    copy = Path(tmp) / "book"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(copy)], check=True)
    (copy / ".venv").symlink_to(BIN.parent)
    env = os.environ | {
        "PYTENSOR_FLAGS": f"base_compiledir={tmp}/pytensor",
        "NUMBA_CACHE_DIR": f"{tmp}/numba",
    }
    env.pop("RADON_FIT_CACHE", None)
    return copy, env


def bench_book(repeats: int) -> dict[str, float]:
    """`make book` in a fresh copy (no built site, empty fit and compile caches), then again unchanged."""
    cold, warm = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            copy, env = fresh_copy(tmp)
            cold.append(timed(MAKE + ["book"], copy, env))
            warm.append(timed(MAKE + ["book"], copy, env))
    return {
        "cold_s": statistics.median(cold),
        "rebuild_s": statistics.median(warm),
        "runs": repeats,
    }


def bench_make_test() -> float:
    """`make test` in a fresh copy (empty caches, as on CI), install excluded."""
    with tempfile.TemporaryDirectory() as tmp:
        copy, env = fresh_copy(tmp)
        return timed(MAKE + ["test"], copy, env)


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}",
        f"- python {platform.python_version()}; "
        + ", ".join(f"{p} {version(p)}" for p in PACKAGES),
        f"- load average at the start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
    ]
    return lines


def sampler_medians(rows: list[dict]) -> dict[tuple[str, str], dict[str, float]]:
    """Medians over seeds, by (model, sampler)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["parameterization"], row["sampler"]), []).append(row)
    medians = {}
    for key, runs in groups.items():
        keys = (
            "compile_s",
            "sample_s",
            "total_s",
            "divergences",
            "ess_sigma_b",
            "ess_min",
            "pilot_s",
        )
        med = {k: statistics.median(r[k] for r in runs) for k in keys}
        med["ess_per_sample_s"] = statistics.median(r["ess_sigma_b"] / r["sample_s"] for r in runs)
        med["ess_per_total_s"] = statistics.median(r["ess_sigma_b"] / r["total_s"] for r in runs)
        med["ess_min_per_sample_s"] = statistics.median(r["ess_min"] / r["sample_s"] for r in runs)
        med["ess_min_per_kgrad"] = statistics.median(
            1000 * r["ess_min"] / r["gradients"] for r in runs
        )
        med["divergences_max"] = max(r["divergences"] for r in runs)
        med["runs"] = len(runs)
        medians[key] = med
    return medians


def sampler_table(medians: dict[tuple[str, str], dict[str, float]]) -> list[str]:
    lines = [
        "| model | sampler | compile s | sampling s | whole call s | divergences | ESS(sigma_b) | ESS/s sampling | ESS/s whole call | ratio to best (sampling) | ratio to best (whole call) | runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for parameterization in dict.fromkeys(k[0] for k in medians):  # in the order measured
        keys = [k for k in medians if k[0] == parameterization]
        best_s = max(medians[k]["ess_per_sample_s"] for k in keys)
        best_t = max(medians[k]["ess_per_total_s"] for k in keys)
        for key in sorted(keys):
            m = medians[key]
            lines.append(
                f"| {key[0]} | {key[1]} | {m['compile_s']:.1f} | {m['sample_s']:.1f} | {m['total_s']:.1f} | {m['divergences']:.0f} "
                f"| {m['ess_sigma_b']:.0f} | {m['ess_per_sample_s']:.1f} | {m['ess_per_total_s']:.2f} "
                f"| {m['ess_per_sample_s'] / best_s:.2f} | {m['ess_per_total_s'] / best_t:.2f} | {m['runs']} |"
            )
    return lines


#: The data sets of the three-forms comparison, as the suffix of their model names in ``samplers.RUNS``.
FORM_DATASETS = {"Minnesota": "", "whole survey": ", whole survey"}
FORMS = ("centered", "noncentered", "mixed")


def forms_table(medians: dict) -> list[str]:
    """The three forms on each data set with nutpie: smallest bulk ESS over the population parameters."""
    lines = [
        "| data | form | divergences (most in a run) | min ESS | min ESS/s sampling | min ESS/1000 gradients | pilot s | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for dataset, suffix in FORM_DATASETS.items():
        for form in FORMS:
            m = medians.get((form + suffix, "nutpie"))
            if m:
                lines.append(
                    f"| {dataset} | {form} | {m['divergences_max']:.0f} | {m['ess_min']:.0f} | {m['ess_min_per_sample_s']:.1f} "
                    f"| {m['ess_min_per_kgrad']:.2f} | {m['pilot_s']:.1f} | {m['runs']} |"
                )
    return lines


def mixed_over_best_pure(medians: dict, suffix: str) -> float | None:
    """The mixed form's median min-ESS/s of sampling over the better pure form's, or None if not measured."""
    keys = [(form + suffix, "nutpie") for form in FORMS]
    if not all(k in medians for k in keys):
        return None
    best_pure = max(medians[k]["ess_min_per_sample_s"] for k in keys[:2])
    return medians[keys[2]]["ess_min_per_sample_s"] / best_pure


def ratio_to_best(medians: dict, sampler: str, measure: str) -> float:
    """The smallest, over the Minnesota models, of ``sampler``'s ESS(sigma_b)/s over the best's."""
    ratios = []
    for parameterization in ("centered", "noncentered"):
        keys = [k for k in medians if k[0] == parameterization]
        ratios.append(
            medians[(parameterization, sampler)][measure] / max(medians[k][measure] for k in keys)
        )
    return min(ratios)


def targets_table(
    medians: dict | None, chapters: list[dict] | None, book: dict | None, make_test_s: float | None
) -> list[str]:
    """Each target against what this run measured."""
    rows = []

    def add(what: str, target: str, value: float | None, unit: str, ok: bool | None) -> None:
        shown = (
            "not measured"
            if value is None
            else f"{value:.{2 if unit == 'x' else 0 if value >= 100 else 1}f} {unit}".strip()
        )
        verdict = "" if ok is None else ("met" if ok else "**missed**")
        rows.append(f"| {what} | {target} | {shown} | {verdict} |")

    if book:
        add(
            "cold book build (`make book`, fresh copy)",
            "<= 90 s",
            book["cold_s"],
            "s",
            book["cold_s"] <= 90,
        )
        add(
            "no-change rebuild (`make book` again)",
            "<= 5 s",
            book["rebuild_s"],
            "s",
            book["rebuild_s"] <= 5,
        )
    if make_test_s is not None:
        add(
            "`make test`, fresh copy, install excluded",
            "<= 300 s",
            make_test_s,
            "s",
            make_test_s <= 300,
        )
    if medians:
        for measure, label in (("ess_per_sample_s", "sampling"), ("ess_per_total_s", "whole call")):
            r = ratio_to_best(medians, DEFAULT_SAMPLER, measure)
            add(
                f"default sampler ({DEFAULT_SAMPLER}) ESS(sigma_b)/s of {label}, worst model, over the best",
                ">= 0.9x",
                r,
                "x",
                r >= 0.9,
            )
        survey = medians.get(("noncentered, whole survey", "nutpie"))
        if survey:
            add(
                "whole survey, 4 x 1000 draws: sampling",
                "< 30 s",
                survey["sample_s"],
                "s",
                survey["sample_s"] < 30,
            )
            add(
                "whole survey, 4 x 1000 draws: compile + sampling",
                "(report)",
                survey["total_s"],
                "s",
                None,
            )
        for dataset, suffix in FORM_DATASETS.items():
            ratio = mixed_over_best_pure(medians, suffix)
            if ratio is not None:
                add(
                    f"mixed form on {dataset}: min ESS/s of sampling over the better pure form",
                    ">= 0.9x",
                    ratio,
                    "x",
                    ratio >= 0.9,
                )
                divergences = medians[("mixed" + suffix, "nutpie")]["divergences_max"]
                add(
                    f"mixed form on {dataset}: divergences, most in a run",
                    "0",
                    divergences,
                    "",
                    divergences == 0,
                )
    if chapters:
        peak = max(c["peak_mib"] for c in chapters)
        add(
            "largest kernel peak over the chapters (Binder: about 1 GB a session)",
            "<= 800 MiB",
            peak,
            "MiB",
            peak <= 800,
        )
    return ["| what | target | measured | |", "|---|---|---|---|", *rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[1, 2, 3], help="sampler benchmark seeds"
    )
    parser.add_argument(
        "--repeats", type=int, default=2, help="runs per chapter and per book build"
    )
    parser.add_argument("--skip-book", action="store_true", help="skip the cold book build")
    parser.add_argument("--skip-make-test", action="store_true", help="skip timing `make test`")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()

    start = time.perf_counter()
    body: list[str] = []
    print("samplers ...", flush=True)
    medians = sampler_medians(bench_samplers(args.seeds))
    body += [
        "## Samplers (4 chains x 1000 draws after 1000 tuning steps, 2 cores)",
        "",
        "Each fit runs in a fresh process (warm PyTensor cache on disk), as in a reader's fresh kernel.",
        "The whole survey is fitted with the book's sampler only.",
        "",
    ]
    body += sampler_table(medians) + [""]
    body += [
        "## Three forms (nutpie; the smallest bulk ESS over mu_a, sigma_a, mu_b, sigma_b, eps)",
        "",
        "The mixed form centers the counties `choose_centered` picks from a pilot fit (its seconds, compile",
        "included, in the pilot column and not in the sampling). Chapter 6 and `data/forms_sweep.csv` hold",
        "the same comparison over ten seeds.",
        "",
    ]
    body += forms_table(medians) + [""]
    print("chapters ...", flush=True)
    chapters = bench_chapters(args.repeats)
    body += [
        "## Chapters (each alone in a fresh kernel: warm compile cache, no stored fits)",
        "",
        "| chapter | seconds | kernel peak MiB | runs |",
        "|---|---|---|---|",
    ]
    body += [
        f"| {c['chapter']} | {c['seconds']:.1f} | {c['peak_mib']:.0f} | {c['runs']} |"
        for c in chapters
    ]
    body += [f"| all, one after the other | {sum(c['seconds'] for c in chapters):.1f} | | |", ""]
    book = None
    if not args.skip_book:
        print("book ...", flush=True)
        book = bench_book(args.repeats)
        body += [
            "## Book build (`make book`: Sphinx runs the chapters as it reads them, two at a time)",
            "",
            "| what | seconds | runs |",
            "|---|---|---|",
            f"| cold: fresh copy, no built site, empty fit and compile caches | {book['cold_s']:.0f} | {book['runs']} |",
            f"| no-change rebuild | {book['rebuild_s']:.1f} | {book['runs']} |",
            "",
        ]
    make_test_s = None
    if not args.skip_make_test:
        print("make test ...", flush=True)
        make_test_s = bench_make_test()
        body += [
            "## `make test` (fresh copy, empty caches, install excluded)",
            "",
            f"{make_test_s:.0f} s",
            "",
        ]

    report = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`bench/run.py`); medians over the runs listed.",
        "Timings are reported here and never asserted by the tests.",
        "",
    ]
    report += machine() + ["", "## Targets", ""]
    report += targets_table(medians, chapters, book, make_test_s) + [""] + body
    report += [f"The benchmark itself took {time.perf_counter() - start:.0f} s.", ""]
    report += HISTORY.read_text().splitlines() if HISTORY.exists() else []
    args.out.write_text("\n".join(report) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
