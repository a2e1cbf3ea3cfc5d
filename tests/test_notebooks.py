"""The chapters are kept as JupyterLab opens them unmodified: no outputs, no stored numbers."""

import json
import shutil
from pathlib import Path

import pytest

from radon_utils.notebooks import LANGUAGE_INFO, problems, strip

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_committed_chapter_is_stripped_and_carries_the_kernel_metadata(path):
    found = problems(json.loads(path.read_text(encoding="utf-8")))
    assert not found, f"{path.name}: {'; '.join(found)}. Run `make strip`."


def test_strip_undoes_a_save_in_jupyterlab(tmp_path):
    path = tmp_path / "chapter.ipynb"
    shutil.copy(CHAPTERS[0], path)
    notebook = json.loads(path.read_text())
    code = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    code.update(execution_count=3, outputs=[{"output_type": "stream", "name": "stdout", "text": "hi\n"}])
    markdown = next(c for c in notebook["cells"] if c["cell_type"] == "markdown")
    markdown["metadata"]["user_expressions"] = [{"expression": "numbers.n", "result": {"status": "ok"}}]
    notebook["metadata"]["language_info"] = {**LANGUAGE_INFO, "version": "3.11.0"}
    path.write_text(json.dumps(notebook))
    assert len(problems(json.loads(path.read_text()))) == 3

    assert strip(path) is True
    assert problems(json.loads(path.read_text())) == []
    assert path.read_text() == CHAPTERS[0].read_text(), "stripping should give back the committed chapter"
    assert strip(path) is False
