"""Every sweep file says where it was computed, and the record is the file's own."""

import hashlib

import pytest
from sweep_helpers import ROOT

from radon_utils import centering_sweep, map_sweep, national_sweep, sweep
from radon_utils.machine import (
    SIMULATION_ENV_VARS,
    floating_point_environment,
    package_versions,
    provenance_path,
    read_provenance,
    write_provenance,
)

SWEEP_FILES = [
    sweep.RELATIVE_PATH,
    map_sweep.RELATIVE_PATH,
    national_sweep.RELATIVE_PATH,
    centering_sweep.CROSSOVER_PATH,
    centering_sweep.FORMS_PATH,
]


@pytest.mark.parametrize("relative", SWEEP_FILES, ids=lambda p: p.name)
def test_every_sweep_file_has_the_record_of_its_own_bytes_and_versions(relative):
    path = ROOT / relative
    record = read_provenance(path)
    assert record["file"] == path.name
    assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), (
        f"{path.name} changed after its record was written: re-run `{record['command']}`"
    )
    installed = {k: v for k, v in package_versions().items() if k != "python"}
    recorded = {k: v for k, v in record["versions"].items() if k != "python"}
    assert recorded == installed, (
        f"{path.name} was computed with other versions than the pinned ones: "
        f"re-run `{record['command']}` (make sweep)"
    )
    assert record["written"][:4] == "2026" and record["command"].startswith("python -m radon_utils")
    assert isinstance(record["environment"], dict) or "not recorded" in record["note"]


def test_the_record_is_written_beside_the_file_and_read_back(tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("a\n1\n")
    assert write_provenance(out, "python -m radon_utils.sweep") == tmp_path / "x.provenance.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv", "x.provenance.json"]
    record = read_provenance(out)
    assert record["environment"] == floating_point_environment()
    assert record["sha256"] == hashlib.sha256(b"a\n1\n").hexdigest()


def test_a_missing_record_is_named_with_how_to_restore_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"x\.provenance\.json is missing.*git checkout"):
        read_provenance(tmp_path / "x.csv")
    assert provenance_path("data/seed_sweep.csv").name == "seed_sweep.provenance.json"


def test_the_environment_names_the_processor_and_the_simulation_settings(monkeypatch):
    here = floating_point_environment()
    assert here["processor"] and here["numba_target"] and here["blas"]
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert floating_point_environment()["settings"]["OPENBLAS_NUM_THREADS"] == "1"
    assert "OPENBLAS_NUM_THREADS" in SIMULATION_ENV_VARS
