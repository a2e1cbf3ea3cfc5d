"""Binder installs radon_utils once, editable, JupyterLab renders every cell, and the package
offers its main names."""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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


def test_the_package_offers_the_names_the_prose_uses_without_importing_pymc_up_front():
    import radon_utils
    from radon_utils import Prior, build_model, exact_posterior, load_radon, sample
    from radon_utils.data import load_radon as load_radon_home
    from radon_utils.exact import exact_posterior as exact_home
    from radon_utils.models import build_model as build_home
    from radon_utils.priors import Prior as prior_home
    from radon_utils.sampling import sample as sample_home

    assert (Prior, build_model, exact_posterior, load_radon, sample) == (
        prior_home,
        build_home,
        exact_home,
        load_radon_home,
        sample_home,
    )
    assert set(radon_utils.__all__) <= set(dir(radon_utils))
    with pytest.raises(AttributeError, match="the package offers"):
        radon_utils.no_such_helper  # noqa: B018
    light = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, radon_utils, radon_utils.quiet; print('pymc' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert light.stdout.strip() == "False"
