"""Execute one chapter in a fresh kernel; print its wall time and the kernel's peak memory as JSON.

Run as its own process (``bench/run.py`` does), so that the peak resident memory of the
children it waited for is the kernel's alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

__all__ = ["main"]


def main() -> None:
    path = Path(sys.argv[1])
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"chapter": path.stem, "seconds": seconds, "peak_mib": peak_kib / 1024}))


if __name__ == "__main__":
    main()
