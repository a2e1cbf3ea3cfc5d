"""``make bench``: measure the book's speed and write ``bench/RESULTS.md``.

Reports medians over repeats. Timings are reported here and never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACKAGES = ("pymc", "pytensor", "nutpie", "numba", "arviz", "numpy", "jupyter-book", "myst-nb")


def run_json(args: list[str], env: dict | None = None) -> object:
    """Run a command that prints JSON on its last line; return the parsed JSON."""
    out = subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(args: list[str], cwd: Path, env: dict | None = None) -> float:
    """Seconds a command takes; it must succeed."""
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - start


def bench_samplers(seeds: list[int]) -> list[dict]:
    return run_json([sys.executable, "bench/samplers.py", "--seeds", *map(str, seeds)])


def bench_chapters(repeats: int) -> list[dict]:
    results = []
    for notebook in sorted((ROOT / "chapters").glob("*.ipynb")):
        runs = [run_json([sys.executable, "bench/chapter.py", str(notebook)]) for _ in range(repeats)]
        results.append(
            {"chapter": notebook.stem, "seconds": statistics.median(r["seconds"] for r in runs),
             "peak_mib": max(r["peak_mib"] for r in runs), "runs": len(runs)}
        )
    return results


def bench_book(repeats: int) -> dict[str, float]:
    """Cold build of a fresh copy (empty execution and compile caches), then a no-change rebuild."""
    build = [str(BIN / "jupyter-book"), "build", "-W", "-n", "--keep-going", "."]
    cold, warm = [], []
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "book"
            for name in files:
                (copy / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, copy / name)
            env = os.environ | {
                "PYTENSOR_FLAGS": f"base_compiledir={tmp}/pytensor",
                "NUMBA_CACHE_DIR": f"{tmp}/numba",
                "RADON_PROGRESS": "0",
            }
            cold.append(timed(build, copy, env))
            warm.append(timed(build, copy, env))
    return {"cold_s": statistics.median(cold), "rebuild_s": statistics.median(warm), "runs": repeats}


def bench_make_test() -> float:
    """`make test` in this checkout with its environment installed (so install is excluded)."""
    return timed(["make", "test"], ROOT, os.environ | {"RADON_PROGRESS": "0"})


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
        f"- python {platform.python_version()}; " + ", ".join(f"{p} {version(p)}" for p in PACKAGES),
        f"- load average at the start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
    ]
    return lines


def sampler_table(rows: list[dict]) -> list[str]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["parameterization"], row["sampler"]), []).append(row)
    medians = {}
    for key, runs in groups.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("compile_s", "sample_s", "total_s", "divergences", "ess_sigma_b")}
        med["ess_per_sample_s"] = statistics.median(r["ess_sigma_b"] / r["sample_s"] for r in runs)
        med["ess_per_total_s"] = statistics.median(r["ess_sigma_b"] / r["total_s"] for r in runs)
        med["runs"] = len(runs)
        medians[key] = med
    lines = [
        "| model | sampler | compile s | sampling s | whole call s | divergences | ESS(sigma_b) | ESS/s sampling | ESS/s whole call | ratio to best (sampling) | ratio to best (whole call) | runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for parameterization in ("centered", "noncentered"):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="sampler benchmark seeds")
    parser.add_argument("--repeats", type=int, default=2, help="runs per chapter and per book build")
    parser.add_argument("--skip-book", action="store_true", help="skip the cold book build")
    parser.add_argument("--skip-make-test", action="store_true", help="skip timing `make test`")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()

    start = time.perf_counter()
    report = ["# Benchmark results", "", "Written by `make bench` (`bench/run.py`); medians over the runs listed.", ""]
    report += machine() + [""]
    print("samplers ...", flush=True)
    report += ["## Samplers (4 chains x 1000 draws after 1000 tuning steps, 2 cores)", ""]
    report += sampler_table(bench_samplers(args.seeds)) + [""]
    print("chapters ...", flush=True)
    report += ["## Chapters (each in a fresh kernel, warm compile cache)", "", "| chapter | seconds | kernel peak MiB | runs |", "|---|---|---|---|"]
    for row in bench_chapters(args.repeats):
        report.append(f"| {row['chapter']} | {row['seconds']:.1f} | {row['peak_mib']:.0f} | {row['runs']} |")
    report.append("")
    if not args.skip_book:
        print("book ...", flush=True)
        book = bench_book(args.repeats)
        report += ["## Book build (strict)", "", "| what | seconds | runs |", "|---|---|---|",
                   f"| cold build: fresh copy, empty execution and compile caches | {book['cold_s']:.0f} | {book['runs']} |",
                   f"| no-change rebuild | {book['rebuild_s']:.1f} | {book['runs']} |", ""]
    if not args.skip_make_test:
        print("make test ...", flush=True)
        report += ["## `make test` (environment installed, so install excluded)", "", f"{bench_make_test():.0f} s", ""]
    report += [f"The benchmark itself took {time.perf_counter() - start:.0f} s."]
    args.out.write_text("\n".join(report) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
