"""The book build is strict: a failing cell or a dangling reference fails it."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tiny_book(tmp_path: Path, page_source: str, reference: bool = False, folder: str = "") -> Path:
    """A copy of the book's configuration with one notebook chapter holding ``page_source``, in
    ``folder`` (e.g. ``chapters``); with ``reference``, its text points at a figure that does not
    exist."""
    book = tmp_path / "book"
    (book / folder).mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    page = f"{folder}/page" if folder else "page"
    (book / "_toc.yml").write_text(f"format: jb-book\nroot: intro\nchapters:\n  - file: {page}\n")
    (book / "intro.md").write_text("# A tiny book\n\nIt has one page.\n")
    heading = (
        "# A page\n\nSee {ref}`fig-nowhere` if the source says so." if reference else "# A page\n"
    )
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": heading},
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": page_source,
            },
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (book / f"{page}.ipynb").write_text(json.dumps(notebook))
    return book


def _tiny_book_with_makefile(tmp_path: Path, page_source: str, reference: bool = False) -> Path:
    """A tiny book laid out like ours (its one chapter in chapters/), with our Makefile, .venv."""
    book = _tiny_book(tmp_path, page_source, reference, folder="chapters")
    shutil.copy(ROOT / "Makefile", book / "Makefile")
    for name in ("requirements.txt", "pyproject.toml", "postBuild"):
        # copy2 keeps their times, so the installed .venv counts as current.
        shutil.copy2(ROOT / name, book / name)
    (book / ".venv").symlink_to(ROOT / ".venv")
    return book


def _make_book(book: Path, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["make", "book"],
        cwd=book,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
    )
    # Tracebacks come in colour.
    result.output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    return result


@pytest.mark.parametrize(
    ("source", "reference", "expected"),
    [
        ("raise RuntimeError('a chapter that fails')", False, "RuntimeError: a chapter that fails"),
        ("print('fine')", True, "fig-nowhere"),
    ],
    ids=["failing cell", "dangling reference"],
)
def test_make_book_fails_strictly_on(tmp_path, source, reference, expected):
    book = _tiny_book_with_makefile(tmp_path, source, reference)
    result = _make_book(book)
    assert result.returncode != 0, "make book passed a broken book"
    assert expected in result.output
    assert not (book / "_build" / "html" / ".built").exists(), (
        "a failed build left the mark of a finished one"
    )


def test_make_book_builds_a_sound_book_and_a_second_run_does_nothing(tmp_path):
    book = _tiny_book_with_makefile(tmp_path, "print('fine')")
    first = _make_book(book)
    assert first.returncode == 0, first.output[-3000:]
    assert (book / "_build" / "html" / "chapters" / "page.html").exists()
    second = _make_book(book)
    assert second.returncode == 0 and "sphinx-build" not in second.output, second.output[-3000:]


def test_a_number_recorded_in_a_removed_cell_reaches_the_text_below_it(tmp_path):
    """Sphinx runs a removed cell only when the next shown one runs; the book's extension runs it
    first."""
    book = _tiny_book_with_makefile(tmp_path, "print('fine')")
    page = book / "chapters" / "page.ipynb"
    notebook = json.loads(page.read_text())
    notebook["cells"] = [
        {"cell_type": "markdown", "metadata": {}, "source": "# A page"},
        {
            "cell_type": "code",
            "metadata": {"tags": ["remove-cell"]},
            "execution_count": None,
            "outputs": [],
            "source": "from radon_utils.numbers import ChapterNumbers\n"
            "numbers = ChapterNumbers('page')\n"
            "numbers.record(answer=(0.4219, '.2f'), county='Itasca')",
        },
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": "The answer is {eval}`numbers.answer` in {eval}`numbers.county`.",
        },
    ]
    page.write_text(json.dumps(notebook))
    result = _make_book(book, RADON_NUMBERS=str(book / "_build" / "numbers"))
    assert result.returncode == 0, result.output[-3000:]
    html = (book / "_build" / "html" / "chapters" / "page.html").read_text()
    assert "The answer is 0.42 in Itasca." in re.sub(r"<[^>]+>", "", html)
    assert json.loads((book / "_build" / "numbers" / "page.json").read_text()) == {
        "answer": 0.4219,
        "county": "Itasca",
    }
