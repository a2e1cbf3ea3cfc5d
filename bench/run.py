"""``make bench``: measure the book's speed and write ``bench/RESULTS.md``.

Reports medians over repeats. Timings are reported here and never asserted in tests.

Two steps: :func:`measure` runs everything and returns plain results (:class:`Results`), and
:func:`render` turns those into the Markdown of ``bench/RESULTS.md``, judging each against the
targets below.
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
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from samplers import RUNS, WHOLE_SURVEY  # bench/ is on sys.path when this file runs

from radon_utils.diagnostics import HYPERPARAMETERS
from radon_utils.models import PARAMETERIZATIONS, PURE_PARAMETERIZATIONS
from radon_utils.sampling import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_SAMPLER, DEFAULT_TUNE

__all__ = [
    "ROOT",
    "HISTORY",
    "PACKAGES",
    "MAKE",
    "COLD_BOOK_MAX_S",
    "REBUILD_MAX_S",
    "MAKE_TEST_MAX_S",
    "SAMPLER_MIN_RATIO",
    "WHOLE_SURVEY_SAMPLING_MAX_S",
    "MIXED_MIN_RATIO",
    "MIXED_MAX_DIVERGENCES",
    "KERNEL_PEAK_MAX_MIB",
    "FORM_DATASETS",
    "SamplerMedians",
    "Machine",
    "Chapter",
    "BookBuild",
    "Results",
    "measure",
    "measure_machine",
    "bench_samplers",
    "sampler_medians",
    "bench_chapters",
    "bench_book",
    "bench_make_test",
    "fresh_copy",
    "run_json",
    "timed",
    "render",
    "main",
]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: Earlier results, kept by hand: what changed and what it did to the measurements.
HISTORY = ROOT / "bench" / "HISTORY.md"
PACKAGES = ("pymc", "pytensor", "nutpie", "numba", "arviz", "numpy", "jupyter-book", "myst-nb")
#: `make` in a copy that shares this checkout's .venv: never reinstall there (the stamp may be
#: older than requirements.txt), which would point the editable install of radon_utils at the copy.
MAKE = ["make", "-o", ".venv/.installed"]

# The targets of the report's first table (bench/HISTORY.md says where they come from and what
# earlier runs measured). A missed target is reported in bold, never asserted.

#: Cold `make book` in a fresh clone (what CI and a new contributor wait for), in seconds: a minute
#: and a half, what the build took when the chapters were executed ahead of Sphinx.
COLD_BOOK_MAX_S = 90
#: `make book` again with nothing changed, in seconds: short enough to run after every edit.
REBUILD_MAX_S = 5
#: `make test` in a fresh clone, install excluded, in seconds: five minutes for the whole check.
MAKE_TEST_MAX_S = 300
#: The default sampler's ESS(sigma_b) per second over the best sampler's, on its worst model:
#: within 10% of the best, a gap smaller than that is no reason to change the book's default.
SAMPLER_MIN_RATIO = 0.9
#: Sampling the whole survey with the book's settings, in seconds: chapter 8 fits it while the
#: reader waits, so half a minute at most.
WHOLE_SURVEY_SAMPLING_MAX_S = 30
#: The mixed form's smallest ESS per second of sampling over the better pure form's: the same 10%
#: margin as for the samplers; below it, choosing counties to center does not pay.
MIXED_MIN_RATIO = 0.9
#: Divergences of the mixed form in any run: one means a biased fit, whatever its speed.
MIXED_MAX_DIVERGENCES = 0
#: Largest kernel over the chapters, in MiB: Binder gives a session about 1 GB (README), and
#: JupyterLab's own server needs the rest.
KERNEL_PEAK_MAX_MIB = 800

#: The data sets of the three-forms comparison, as the suffix of their model names in
#: ``samplers.RUNS``.
FORM_DATASETS = {"Minnesota": "", "whole survey": WHOLE_SURVEY}

#: Medians over seeds of one (model, sampler) pair of ``bench/samplers.py``.
SamplerMedians = dict[tuple[str, str], dict[str, float]]


@dataclass(frozen=True)
class Machine:
    """Where and when the benchmark ran (taken at its start)."""

    date: str
    architecture: str
    cores: int | None
    cpu: str
    system: str
    release: str
    python: str
    packages: dict[str, str]
    load_average: tuple[float, float, float]


@dataclass(frozen=True)
class Chapter:
    """One chapter run alone in a fresh kernel: median seconds and largest peak over its runs."""

    chapter: str
    seconds: float
    peak_mib: float
    runs: int


@dataclass(frozen=True)
class BookBuild:
    """`make book` in a fresh copy, then again unchanged: medians over ``runs``."""

    cold_s: float
    rebuild_s: float
    runs: int


@dataclass(frozen=True)
class Results:
    """Everything one benchmark run measured; ``None`` where a part was skipped."""

    machine: Machine
    #: Cores the samplers ran on (``sample`` uses one per chain, at most the machine's).
    sampling_cores: int
    samplers: SamplerMedians
    chapters: list[Chapter]
    book: BookBuild | None
    make_test_s: float | None
    #: How long the benchmark itself took.
    seconds: float


# Measuring


def measure(seeds: list[int], repeats: int, skip_book: bool, skip_make_test: bool) -> Results:
    """Run every part of the benchmark (printing which one runs) and return what it measured."""
    start = time.perf_counter()
    machine = measure_machine()
    print("samplers ...", flush=True)
    samplers = sampler_medians(bench_samplers(seeds))
    print("chapters ...", flush=True)
    chapters = bench_chapters(repeats)
    book = None
    if not skip_book:
        print("book ...", flush=True)
        book = bench_book(repeats)
    make_test_s = None
    if not skip_make_test:
        print("make test ...", flush=True)
        make_test_s = bench_make_test()
    return Results(
        machine=machine,
        sampling_cores=min(DEFAULT_CHAINS, os.cpu_count() or 1),
        samplers=samplers,
        chapters=chapters,
        book=book,
        make_test_s=make_test_s,
        seconds=time.perf_counter() - start,
    )


def measure_machine() -> Machine:
    """The machine, the package versions and the load, now."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return Machine(
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        architecture=platform.machine(),
        cores=os.cpu_count(),
        cpu=cpu,
        system=platform.system(),
        release=platform.release(),
        python=platform.python_version(),
        packages={p: version(p) for p in PACKAGES},
        load_average=os.getloadavg(),
    )


def bench_samplers(seeds: list[int]) -> list[dict]:
    """Every (model, sampler) of ``bench/samplers.py`` for every seed, each in a fresh process."""
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


def sampler_medians(rows: list[dict]) -> SamplerMedians:
    """Medians over seeds, by (model, sampler), in the order measured."""
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


def bench_chapters(repeats: int) -> list[Chapter]:
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
            Chapter(
                chapter=notebook.stem,
                seconds=statistics.median(r["seconds"] for r in runs),
                peak_mib=max(r["peak_mib"] for r in runs),
                runs=len(runs),
            )
        )
    return results


def bench_book(repeats: int) -> BookBuild:
    """`make book` in a fresh copy (no built site, empty fit and compile caches), then again
    unchanged."""
    cold, warm = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            copy, env = fresh_copy(tmp)
            cold.append(timed([*MAKE, "book"], copy, env))
            warm.append(timed([*MAKE, "book"], copy, env))
    return BookBuild(
        cold_s=statistics.median(cold), rebuild_s=statistics.median(warm), runs=repeats
    )


def bench_make_test() -> float:
    """`make test` in a fresh copy (empty caches, as on CI), install excluded."""
    with tempfile.TemporaryDirectory() as tmp:
        copy, env = fresh_copy(tmp)
        return timed([*MAKE, "test"], copy, env)


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


# Reporting


def render(results: Results, history: str = "") -> str:
    """The Markdown of ``bench/RESULTS.md`` for ``results``, followed by ``history`` (the text of
    ``bench/HISTORY.md``)."""
    medians, chapters, book = results.samplers, results.chapters, results.book
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`bench/run.py`); medians over the runs listed.",
        "Timings are reported here and never asserted by the tests.",
        "",
        *_machine_lines(results.machine),
        "",
        "## Targets",
        "",
        *_targets_table(results),
        "",
        f"## Samplers ({DEFAULT_CHAINS} chains x {DEFAULT_DRAWS} draws after {DEFAULT_TUNE} "
        f"tuning steps, {results.sampling_cores} cores)",
        "",
        "Each fit runs in a fresh process (warm PyTensor cache on disk), as in a reader's fresh "
        "kernel.",
        "The whole survey is fitted with the book's sampler only.",
        "",
        *_sampler_table(medians),
        "",
        f"## Three forms ({DEFAULT_SAMPLER}; the smallest bulk ESS over "
        f"{', '.join(HYPERPARAMETERS)})",
        "",
        "The mixed form centers the counties `choose_centered` picks from a pilot fit "
        "(its seconds, compile",
        "included, in the pilot column and not in the sampling). Chapter 6 and "
        "`data/forms_sweep.csv` hold",
        "the same comparison over ten seeds.",
        "",
        *_forms_table(medians),
        "",
        "## Chapters (each alone in a fresh kernel: warm compile cache, no stored fits)",
        "",
        "| chapter | seconds | kernel peak MiB | runs |",
        "|---|---|---|---|",
        *(f"| {c.chapter} | {c.seconds:.1f} | {c.peak_mib:.0f} | {c.runs} |" for c in chapters),
        f"| all, one after the other | {sum(c.seconds for c in chapters):.1f} | | |",
        "",
    ]
    if book is not None:
        lines += [
            "## Book build (`make book`: Sphinx runs the chapters as it reads them, two at a time)",
            "",
            "| what | seconds | runs |",
            "|---|---|---|",
            "| cold: fresh copy, no built site, empty fit and compile caches "
            f"| {book.cold_s:.0f} | {book.runs} |",
            f"| no-change rebuild | {book.rebuild_s:.1f} | {book.runs} |",
            "",
        ]
    if results.make_test_s is not None:
        lines += [
            "## `make test` (fresh copy, empty caches, install excluded)",
            "",
            f"{results.make_test_s:.0f} s",
            "",
        ]
    lines += [f"The benchmark itself took {results.seconds:.0f} s.", "", *history.splitlines()]
    return "\n".join(lines) + "\n"


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
    results = measure(args.seeds, args.repeats, args.skip_book, args.skip_make_test)
    history = HISTORY.read_text() if HISTORY.exists() else ""
    args.out.write_text(render(results, history))
    print(f"wrote {args.out}")


def _machine_lines(machine: Machine) -> list[str]:
    packages = ", ".join(f"{p} {v}" for p, v in machine.packages.items())
    return [
        f"- date: {machine.date}",
        f"- machine: {machine.architecture}, {machine.cores} cores ({machine.cpu}), "
        f"{machine.system} {machine.release}",
        f"- python {machine.python}; {packages}",
        f"- load average at the start: {', '.join(f'{x:.1f}' for x in machine.load_average)}",
    ]


def _row(cells: list[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _header(columns: list[str]) -> list[str]:
    return [_row(columns), "|" + "---|" * len(columns)]


def _sampler_table(medians: SamplerMedians) -> list[str]:
    lines = _header(
        [
            "model",
            "sampler",
            "compile s",
            "sampling s",
            "whole call s",
            "divergences",
            "ESS(sigma_b)",
            "ESS/s sampling",
            "ESS/s whole call",
            "ratio to best (sampling)",
            "ratio to best (whole call)",
            "runs",
        ]
    )
    for parameterization in dict.fromkeys(k[0] for k in medians):  # in the order measured
        keys = [k for k in medians if k[0] == parameterization]
        best_s = max(medians[k]["ess_per_sample_s"] for k in keys)
        best_t = max(medians[k]["ess_per_total_s"] for k in keys)
        for key in sorted(keys):
            m = medians[key]
            lines.append(
                _row(
                    [
                        *key,
                        f"{m['compile_s']:.1f}",
                        f"{m['sample_s']:.1f}",
                        f"{m['total_s']:.1f}",
                        f"{m['divergences']:.0f}",
                        f"{m['ess_sigma_b']:.0f}",
                        f"{m['ess_per_sample_s']:.1f}",
                        f"{m['ess_per_total_s']:.2f}",
                        f"{m['ess_per_sample_s'] / best_s:.2f}",
                        f"{m['ess_per_total_s'] / best_t:.2f}",
                        m["runs"],
                    ]
                )
            )
    return lines


def _forms_table(medians: SamplerMedians) -> list[str]:
    """The three forms on each data set with the book's sampler: smallest bulk ESS over the
    population parameters."""
    lines = _header(
        [
            "data",
            "form",
            "divergences (most in a run)",
            "min ESS",
            "min ESS/s sampling",
            "min ESS/1000 gradients",
            "pilot s",
            "runs",
        ]
    )
    for dataset, suffix in FORM_DATASETS.items():
        for form in PARAMETERIZATIONS:
            m = medians.get((form + suffix, DEFAULT_SAMPLER))
            if m:
                lines.append(
                    _row(
                        [
                            dataset,
                            form,
                            f"{m['divergences_max']:.0f}",
                            f"{m['ess_min']:.0f}",
                            f"{m['ess_min_per_sample_s']:.1f}",
                            f"{m['ess_min_per_kgrad']:.2f}",
                            f"{m['pilot_s']:.1f}",
                            m["runs"],
                        ]
                    )
                )
    return lines


def _targets_table(results: Results) -> list[str]:
    """Each target against what this run measured."""
    medians, chapters, book = results.samplers, results.chapters, results.book
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
            f"<= {COLD_BOOK_MAX_S} s",
            book.cold_s,
            "s",
            book.cold_s <= COLD_BOOK_MAX_S,
        )
        add(
            "no-change rebuild (`make book` again)",
            f"<= {REBUILD_MAX_S} s",
            book.rebuild_s,
            "s",
            book.rebuild_s <= REBUILD_MAX_S,
        )
    if results.make_test_s is not None:
        add(
            "`make test`, fresh copy, install excluded",
            f"<= {MAKE_TEST_MAX_S} s",
            results.make_test_s,
            "s",
            results.make_test_s <= MAKE_TEST_MAX_S,
        )
    if medians:
        for per, label in (("ess_per_sample_s", "sampling"), ("ess_per_total_s", "whole call")):
            r = _ratio_to_best(medians, DEFAULT_SAMPLER, per)
            add(
                f"default sampler ({DEFAULT_SAMPLER}) ESS(sigma_b)/s of {label}, worst model, "
                "over the best",
                f">= {SAMPLER_MIN_RATIO}x",
                r,
                "x",
                r >= SAMPLER_MIN_RATIO,
            )
        survey = medians.get(("noncentered" + WHOLE_SURVEY, DEFAULT_SAMPLER))
        if survey:
            draws = f"{DEFAULT_CHAINS} x {DEFAULT_DRAWS} draws"
            add(
                f"whole survey, {draws}: sampling",
                f"< {WHOLE_SURVEY_SAMPLING_MAX_S} s",
                survey["sample_s"],
                "s",
                survey["sample_s"] < WHOLE_SURVEY_SAMPLING_MAX_S,
            )
            add(
                f"whole survey, {draws}: compile + sampling",
                "(report)",
                survey["total_s"],
                "s",
                None,
            )
        for dataset, suffix in FORM_DATASETS.items():
            ratio = _mixed_over_best_pure(medians, suffix)
            if ratio is not None:
                add(
                    f"mixed form on {dataset}: min ESS/s of sampling over the better pure form",
                    f">= {MIXED_MIN_RATIO}x",
                    ratio,
                    "x",
                    ratio >= MIXED_MIN_RATIO,
                )
                divergences = medians[("mixed" + suffix, DEFAULT_SAMPLER)]["divergences_max"]
                add(
                    f"mixed form on {dataset}: divergences, most in a run",
                    f"{MIXED_MAX_DIVERGENCES}",
                    divergences,
                    "",
                    divergences <= MIXED_MAX_DIVERGENCES,
                )
    if chapters:
        peak = max(c.peak_mib for c in chapters)
        add(
            "largest kernel peak over the chapters (Binder: about 1 GB a session)",
            f"<= {KERNEL_PEAK_MAX_MIB} MiB",
            peak,
            "MiB",
            peak <= KERNEL_PEAK_MAX_MIB,
        )
    return ["| what | target | measured | |", "|---|---|---|---|", *rows]


def _mixed_over_best_pure(medians: SamplerMedians, suffix: str) -> float | None:
    """The mixed form's median min-ESS/s of sampling over the better pure form's, or None if not
    measured."""
    pure = [(form + suffix, DEFAULT_SAMPLER) for form in PURE_PARAMETERIZATIONS]
    mixed = ("mixed" + suffix, DEFAULT_SAMPLER)
    if not all(k in medians for k in [*pure, mixed]):
        return None
    best_pure = max(medians[k]["ess_min_per_sample_s"] for k in pure)
    return medians[mixed]["ess_min_per_sample_s"] / best_pure


def _ratio_to_best(medians: SamplerMedians, sampler: str, measure: str) -> float:
    """The smallest, over the Minnesota models, of ``sampler``'s ESS(sigma_b)/s over the best's."""
    ratios = []
    for parameterization in PURE_PARAMETERIZATIONS:
        keys = [k for k in medians if k[0] == parameterization]
        ratios.append(
            medians[(parameterization, sampler)][measure] / max(medians[k][measure] for k in keys)
        )
    return min(ratios)


if __name__ == "__main__":
    main()
