"""Keep the chapters as the repository stores them: no outputs, no stored numbers, no edit marks.

A chapter run and saved in JupyterLab carries its outputs, execution counts and, in each markdown
cell, the values of its ``{eval}`` roles (``metadata.user_expressions``). The repository keeps the
chapters without any of these (the book build and the tests run them), with the kernel metadata
JupyterLab writes, so that a chapter opens unmodified. ``make strip`` runs :func:`strip` on every
chapter; ``tests/test_notebooks.py`` checks the result.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from ._atomic import replace_file

__all__ = [
    "KERNELSPEC",
    "LANGUAGE_INFO",
    "HIDDEN_ON_SITE",
    "SOLUTION_START",
    "SOLUTION_END",
    "solution_cells",
    "problems",
    "strip",
    "main",
]

#: The kernel metadata JupyterLab writes for this book's kernel (Python 3.11, ipykernel).
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: The ``language_info`` the kernel reports; JupyterLab marks a notebook modified when it differs.
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": "3.11.7",
}
#: Cell tags that hide a cell's code on the site; in JupyterLab such a cell shows collapsed.
HIDDEN_ON_SITE = ("remove-cell", "remove-input", "hide-input")
#: The markers of sphinx-exercise's gated solutions: the cells between them are a solution, which
#: the site shows collapsed in a dropdown, so their code shows collapsed in JupyterLab too.
SOLUTION_START, SOLUTION_END = "{solution-start}", "{solution-end}"


def solution_cells(notebook: dict) -> set[int]:
    """Indices of the code cells inside a gated solution (``solution-start`` ... ``-end``)."""
    inside, found = False, set()
    for index, cell in enumerate(notebook.get("cells", [])):
        text = "".join(cell.get("source", []))
        if cell["cell_type"] == "markdown":
            if SOLUTION_START in text:
                inside = True
            if SOLUTION_END in text:
                inside = False
        elif inside:
            found.add(index)
    return found


def _collapsed_in_lab(notebook: dict) -> dict[int, str]:
    """The code cells JupyterLab should show collapsed, by index, each with the reason: hidden on
    the site (its tags), or part of a solution."""
    reasons = {index: "part of a solution" for index in solution_cells(notebook)}
    for index, cell in enumerate(notebook.get("cells", [])):
        tags = set(HIDDEN_ON_SITE) & set(cell.get("metadata", {}).get("tags", []))
        if cell["cell_type"] == "code" and tags:
            reasons[index] = f"hidden on the site ({', '.join(sorted(tags))})"
    return reasons


def problems(notebook: dict) -> list[str]:
    """What in ``notebook`` (parsed JSON) differs from how the repository keeps chapters."""
    found = []
    collapsed = _collapsed_in_lab(notebook)
    if notebook.get("metadata", {}).get("kernelspec") != KERNELSPEC:
        found.append("its kernelspec is not the book's")
    if notebook.get("metadata", {}).get("language_info") != LANGUAGE_INFO:
        found.append("its language_info is not the one the book's kernel reports")
    for index, cell in enumerate(notebook.get("cells", [])):
        where = f"cell {index} ({cell.get('id', 'no id')})"
        if cell["cell_type"] == "code" and (
            cell.get("outputs") or cell.get("execution_count") is not None
        ):
            found.append(f"{where} has outputs or an execution count")
        if "user_expressions" in cell.get("metadata", {}):
            found.append(f"{where} stores the values of its {{eval}} roles")
        if index in collapsed and not cell["metadata"].get("jupyter", {}).get("source_hidden"):
            found.append(f"{where} is {collapsed[index]} but not collapsed in JupyterLab")
    return found


def strip(path: str | os.PathLike) -> bool:
    """Put the chapter at ``path`` in the repository's form; return whether anything changed."""
    path = Path(path)
    original = path.read_text(encoding="utf-8")
    notebook = json.loads(original)
    notebook["metadata"]["kernelspec"] = dict(KERNELSPEC)
    notebook["metadata"]["language_info"] = dict(LANGUAGE_INFO)
    collapsed = _collapsed_in_lab(notebook)
    for index, cell in enumerate(notebook["cells"]):
        cell.get("metadata", {}).pop("user_expressions", None)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            if index in collapsed:
                cell["metadata"].setdefault("jupyter", {})["source_hidden"] = True
    text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    if text == original:
        return False
    replace_file(path, lambda stream: stream.write(text))
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if strip(path):
            print(f"stripped {path}")


if __name__ == "__main__":
    main()
