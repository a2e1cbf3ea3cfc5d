"""What decides a computation's last digits besides its inputs: the processor, the compiled
kernels chosen for it, and the library versions; and the record of them beside each sweep file.

A seed reproduces its draws only where all of this is the same. Compiled code (nutpie's model
through numba, PyTensor's C code, NumPy's vector loops, OpenBLAS) is built or chosen for the
processor it runs on, and another vector width, fused multiply-add or thread count changes how
sums are rounded. NUTS amplifies a difference in the last bit until, a few hundred iterations
later, the chains are as different as another seed's; an optimizer on a density without a top
stops at another point. So the same seed gives the same draws on the same kind of machine with
the same versions, and the same conclusions everywhere.

:func:`floating_point_environment` describes this machine; the fit cache puts it in every key
(:mod:`radon_utils.fit_cache`), and each sweep command writes it, with the versions and the date,
beside the file it writes (:func:`write_provenance`, ``data/<sweep>.provenance.json``).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ._atomic import replace_file

__all__ = [
    "VERSIONED_PACKAGES",
    "SIMULATION_ENV_VARS",
    "processor_name",
    "floating_point_environment",
    "package_versions",
    "provenance_path",
    "provenance",
    "write_provenance",
    "read_provenance",
]

#: The packages whose versions decide a sweep's numbers, recorded beside every sweep file.
VERSIONED_PACKAGES = (
    "pymc",
    "pytensor",
    "nutpie",
    "numba",
    "numpy",
    "scipy",
    "arviz",
    "xarray",
    "pandas",
)

#: The settings that stand in for another processor (``make test-other-cpu``); recorded when set.
SIMULATION_ENV_VARS = (
    "NUMBA_CPU_NAME",
    "NUMBA_CPU_FEATURES",
    "NPY_DISABLE_CPU_FEATURES",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "PYTENSOR_FLAGS",
)


def processor_name() -> str:
    """The processor's model name (``/proc/cpuinfo``), or what :mod:`platform` knows of it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def floating_point_environment() -> dict[str, object]:
    """Everything on this machine that chooses how the book's compiled code rounds: the processor
    and its vector extensions, the target numba compiles for, NumPy's vector loops in use, the
    BLAS kernel and its threads, PyTensor's compiler flags, and the simulation settings if set.

    Two machines with the same record compute the same draws from the same seed."""
    import numba
    from llvmlite import binding
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    from pytensor import config
    from threadpoolctl import threadpool_info

    blas = [
        {k: info.get(k) for k in ("prefix", "architecture", "num_threads")}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return {
        "processor": processor_name(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "numba_target": numba.config.CPU_NAME or binding.get_host_cpu_name(),
        "numba_features": numba.config.CPU_FEATURES or "host",
        "numpy_vector_loops": [t for t in __cpu_dispatch__ if __cpu_features__.get(t)],
        "blas": blas,
        "pytensor_cxxflags": config.gcc__cxxflags,
        "settings": {k: os.environ[k] for k in SIMULATION_ENV_VARS if k in os.environ},
    }


def package_versions() -> dict[str, str]:
    """Python's version and those of :data:`VERSIONED_PACKAGES` installed here."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance_path(sweep_file: str | os.PathLike) -> Path:
    """Where the record of ``data/x.csv`` lives: ``data/x.provenance.json``."""
    path = Path(sweep_file)
    return path.with_name(f"{path.stem}.provenance.json")


def provenance(sweep_file: str | os.PathLike, command: str) -> dict[str, object]:
    """The record of ``sweep_file`` as written now by ``command`` on this machine."""
    path = Path(sweep_file)
    return {
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "command": command,
        "written": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": package_versions(),
        "environment": floating_point_environment(),
    }


def write_provenance(sweep_file: str | os.PathLike, command: str) -> Path:
    """Write :func:`provenance` beside ``sweep_file``, all or nothing."""
    out = provenance_path(sweep_file)
    text = json.dumps(provenance(sweep_file, command), indent=2) + "\n"
    replace_file(out, lambda stream: stream.write(text))
    return out


def read_provenance(sweep_file: str | os.PathLike) -> dict[str, object]:
    """The record beside ``sweep_file``; a clear error if there is none."""
    path = provenance_path(sweep_file)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the record of where {Path(sweep_file).name} was computed is "
            "written by the sweep command with the file; restore it with `git checkout -- data`"
        )
    return json.loads(path.read_text(encoding="utf-8"))
