"""Binder installs radon_utils once, editable, and JupyterLab renders every cell."""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_has_no_build_system_so_binder_does_not_install_the_package_twice():
    # repo2docker runs `pip install .` after requirements.txt when pyproject.toml has both
    # [project] and [build-system]; requirements.txt already installs the package (`-e .`).
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "project" in pyproject and "build-system" not in pyproject
    assert "-e ." in (ROOT / "requirements.txt").read_text().splitlines()


def test_postbuild_sets_jupyterlab_to_render_every_cell(tmp_path):
    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    python = prefix / "bin" / "python"
    python.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'print(\"{prefix}\")'\n")
    python.chmod(0o755)
    env = {**os.environ, "PATH": f"{prefix / 'bin'}:{os.environ['PATH']}"}
    subprocess.run(["bash", str(ROOT / "postBuild")], check=True, env=env)
    overrides = json.loads((prefix / "share/jupyter/lab/settings/overrides.json").read_text())
    assert overrides["@jupyterlab/notebook-extension:tracker"]["windowingMode"] == "none"
