"""What the tests of the sweep commands share: where the committed files are, a copy of one for a
command to (not) replace, a stand-in for sampling that Ctrl-C can stop, and the check that a
stopped command left the file as it was. How a re-run must agree with a file: rerun_tolerance.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["ROOT", "copy_of", "fake_sample", "assert_left_as_it_was"]

#: The repository: the committed sweep files are ``ROOT / <module>.RELATIVE_PATH``.
ROOT = Path(__file__).resolve().parents[1]


def copy_of(committed: Path, folder: Path) -> Path:
    """A copy of ``committed`` in ``folder``, under its own name, for a command to (not) replace."""
    path = folder / committed.name
    path.write_bytes(committed.read_bytes())
    return path


def fake_sample(
    fitted: list, stop_at: int | None = None, record: Callable = lambda model, seed: seed
) -> Callable:
    """A stand-in for ``sample`` that takes no time and returns the seed: each call appends
    ``record(model, seed)`` to ``fitted``, and the ``stop_at``-th call is interrupted as by
    Ctrl-C."""

    def fit(model, *, seed, **kwargs):
        fitted.append(record(model, seed))
        if len(fitted) == stop_at:
            raise KeyboardInterrupt
        return seed

    return fit


def assert_left_as_it_was(out: Path, committed: Path, stderr: str) -> None:
    """A stopped command left ``out`` byte for byte as ``committed``, left no temporary file beside
    it, and said so on ``stderr``."""
    assert out.read_bytes() == committed.read_bytes()
    assert [p.name for p in out.parent.iterdir()] == [out.name], "no temporary file is left"
    assert f"{out} was not changed" in stderr
