"""The book build is strict: a failing cell or a dangling reference fails it."""

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _build_command() -> list[str]:
    """The Makefile's own build command, so the test checks what `make book` runs."""
    out = subprocess.run(["make", "-s", "--no-print-directory", "jb-build-command"], cwd=ROOT, check=True, capture_output=True, text=True)
    command = shlex.split(out.stdout.strip())
    command[0] = str(ROOT / command[0])
    return command


def _tiny_book(tmp_path: Path, page_source: str, reference: bool = False, folder: str = "") -> Path:
    """A copy of the book's configuration with one notebook chapter holding ``page_source``, in
    ``folder`` (e.g. ``chapters``); with ``reference``, its text points at a figure that does not exist."""
    book = tmp_path / "book"
    (book / folder).mkdir(parents=True)
    for name in ("_config.yml", "references.bib"):
        shutil.copy(ROOT / name, book / name)
    page = f"{folder}/page" if folder else "page"
    (book / "_toc.yml").write_text(f"format: jb-book\nroot: intro\nchapters:\n  - file: {page}\n")
    (book / "intro.md").write_text("# A tiny book\n\nIt has one page.\n")
    heading = "# A page\n\nSee {ref}`fig-nowhere` if the source says so." if reference else "# A page\n"
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": heading},
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": page_source},
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (book / f"{page}.ipynb").write_text(json.dumps(notebook))
    return book


@pytest.mark.parametrize(
    ("source", "reference", "expected"),
    [
        ("raise RuntimeError('a cell that fails')", False, "RuntimeError"),
        ("print('fine')", True, "fig-nowhere"),
    ],
    ids=["failing cell", "dangling reference"],
)
def test_the_strict_build_fails_on(tmp_path, source, reference, expected):
    book = _tiny_book(tmp_path, source, reference)
    result = subprocess.run([*_build_command(), str(book)], capture_output=True, text=True, timeout=600)
    assert result.returncode != 0, "the strict build passed a broken book"
    assert expected in result.stdout + result.stderr


def test_the_same_strict_build_passes_a_sound_book(tmp_path):
    book = _tiny_book(tmp_path, "print('fine')")
    result = subprocess.run([*_build_command(), str(book)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _tiny_book_with_makefile(tmp_path: Path, page_source: str) -> Path:
    """A tiny book laid out like ours (its one chapter in chapters/), with our Makefile and .venv."""
    book = _tiny_book(tmp_path, page_source, folder="chapters")
    shutil.copy(ROOT / "Makefile", book / "Makefile")
    for name in ("requirements.txt", "pyproject.toml"):
        shutil.copy2(ROOT / name, book / name)  # keeps their times, so the installed .venv counts as current
    (book / ".venv").symlink_to(ROOT / ".venv")
    return book


def test_make_book_runs_the_chapters_before_the_build_and_the_build_reuses_their_outputs(tmp_path):
    book = _tiny_book_with_makefile(tmp_path, "print('fine')")
    result = subprocess.run(["make", "book"], cwd=book, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "chapters/page.ipynb: Using cached notebook" in result.stdout + result.stderr
    assert (book / "_build" / "html" / "chapters" / "page.html").exists()


def test_make_book_fails_on_a_failing_chapter_with_its_traceback(tmp_path):
    book = _tiny_book_with_makefile(tmp_path, "raise RuntimeError('a chapter that fails')")
    result = subprocess.run(["make", "book"], cwd=book, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0, "make book passed a book whose chapter fails"
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # the traceback comes in colour
    assert "RuntimeError: a chapter that fails" in plain
