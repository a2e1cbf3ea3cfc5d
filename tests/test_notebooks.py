"""The chapters are kept as JupyterLab opens them unmodified: no outputs, no stored numbers."""

import json
import shutil
from pathlib import Path

import pytest

from radon_utils.notebooks import (
    LANGUAGE_INFO,
    SOLUTION_END,
    problems,
    solution_cells,
    strip,
)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_committed_chapter_is_stripped_and_carries_the_kernel_metadata(path):
    found = problems(json.loads(path.read_text(encoding="utf-8")))
    assert not found, f"{path.name}: {'; '.join(found)}. Run `make strip`."


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_chapter_has_no_empty_code_cell(path):
    """Run All in JupyterLab gives an empty cell no execution count (the Lab check then waits
    for it), and the site shows it as an empty box."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    empty = [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "code" and not "".join(c["source"]).strip()
    ]
    assert not empty, f"{path.name}: empty code cells at {empty}"


def test_strip_undoes_a_save_in_jupyterlab(tmp_path):
    path = tmp_path / "chapter.ipynb"
    shutil.copy(CHAPTERS[0], path)
    notebook = json.loads(path.read_text())
    code = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    code.update(
        execution_count=3, outputs=[{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    )
    markdown = next(c for c in notebook["cells"] if c["cell_type"] == "markdown")
    markdown["metadata"]["user_expressions"] = [
        {"expression": "numbers.n", "result": {"status": "ok"}}
    ]
    notebook["metadata"]["language_info"] = {**LANGUAGE_INFO, "version": "3.11.0"}
    path.write_text(json.dumps(notebook))
    assert len(problems(json.loads(path.read_text()))) == 3

    assert strip(path) is True
    assert problems(json.loads(path.read_text())) == []
    assert path.read_text() == CHAPTERS[0].read_text(), (
        "stripping should give back the committed chapter"
    )
    assert strip(path) is False


def test_the_code_of_a_solution_is_collapsed_in_jupyterlab(tmp_path):
    """A solution is closed on the site, so its code cells are collapsed in JupyterLab too; the
    cells after ``solution-end`` are not part of it."""
    path = tmp_path / "chapter.ipynb"
    shutil.copy(CHAPTERS[0], path)
    notebook = json.loads(path.read_text())
    inside = sorted(solution_cells(notebook))
    assert inside, "the chapter should have solutions with code"
    last_end = max(
        i for i, c in enumerate(notebook["cells"]) if SOLUTION_END in "".join(c["source"])
    )
    assert all(index < last_end for index in inside)
    assert not any(c["cell_type"] == "code" for c in notebook["cells"][last_end:-1])
    del notebook["cells"][inside[0]]["metadata"]["jupyter"]
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    assert any("part of a solution" in found for found in problems(json.loads(path.read_text())))

    assert strip(path) is True
    assert path.read_text() == CHAPTERS[0].read_text()


def recorded_names(source: str) -> list[str]:
    """Names a code cell records, as regular expressions: the keywords of its
    ``numbers.record(...)`` calls, and the keys of a ``**{...}`` passed to it (an f-string key
    matches any word where it has a field)."""
    import ast
    import re

    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: no records there
        return []
    patterns = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "record"):
            continue
        for keyword in node.keywords:
            if keyword.arg:
                patterns.append(re.escape(keyword.arg))
                continue
            assert isinstance(keyword.value, ast.Dict), (
                "record numbers by name or with a literal **{...}"
            )
            for key in keyword.value.keys:
                if isinstance(key, ast.Constant):
                    patterns.append(re.escape(key.value))
                else:
                    assert isinstance(key, ast.JoinedStr), (
                        "a recorded name must be a string or an f-string"
                    )
                    patterns.append(
                        "".join(
                            re.escape(part.value) if isinstance(part, ast.Constant) else r"\w+"
                            for part in key.values
                        )
                    )
    return patterns


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_number_the_text_shows_is_recorded_in_a_cell_above_it(path):
    """Inline execution and JupyterLab both need the number before the text that shows it."""
    import re

    recorded: list[str] = []
    missing = []
    for index, cell in enumerate(json.loads(path.read_text())["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            recorded += recorded_names(source)
            continue
        for name in re.findall(r"\{eval\}`numbers\.(\w+)`", source):
            if not any(re.fullmatch(pattern, name) for pattern in recorded):
                missing.append((index, name))
    assert not missing, f"shown before they are recorded (cell index, name): {missing}"
