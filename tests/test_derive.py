"""make data verifies the raw files before deriving, and replaces radon.csv only when it
succeeded."""

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radon_utils.data import RadonDataError, write_csv
from radon_utils.derive import (
    RADON_OFFSET,
    RAW_SHA256,
    county_codes,
    derive_radon,
    fips_code,
    log_radon,
)
from radon_utils.derive import main as derive_main

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
CSV = ROOT / "data" / "radon.csv"
#: The first line of srrs2.dat that holds a Minnesota home, and a line well inside them.
FIRST_MINNESOTA_LINE = 5082
INSIDE_MINNESOTA = 5401


@pytest.fixture
def raw_lines() -> list[str]:
    return (RAW / "srrs2.dat").read_text().splitlines(keepends=True)


@pytest.fixture
def out(tmp_path) -> Path:
    """A copy of the committed radon.csv for make data to (not) overwrite."""
    path = tmp_path / "out" / "radon.csv"
    path.parent.mkdir()
    path.write_bytes(CSV.read_bytes())
    return path


def raw_folder(tmp_path, srrs_text: str) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "srrs2.dat").write_text(srrs_text)
    (folder / "cty.dat").write_bytes((RAW / "cty.dat").read_bytes())
    return folder


def refused_and_untouched(folder: Path, out: Path, message: str) -> None:
    """make data on ``folder`` exits with ``message`` and leaves ``out`` byte for byte, with no
    leftovers."""
    with pytest.raises(SystemExit, match=message) as stop:
        derive_main(["--raw", str(folder), "--out", str(out)])
    assert f"{out} was not changed" in str(stop.value)
    assert out.read_bytes() == CSV.read_bytes()
    assert [p.name for p in out.parent.iterdir()] == ["radon.csv"]


def test_the_readme_quotes_the_sha256_the_code_checks_and_the_committed_files_have_them():
    readme = (ROOT / "data" / "README.md").read_text()
    quoted = dict(re.findall(r"^\| `raw/(\S+)` \| `([0-9a-f]{64})` \|$", readme, flags=re.M))
    assert quoted == RAW_SHA256
    for name, digest in RAW_SHA256.items():
        assert hashlib.sha256((RAW / name).read_bytes()).hexdigest() == digest


def test_the_derivations_shared_with_the_whole_survey():
    assert fips_code(pd.Series([27, 42]), pd.Series([1, 3])).tolist() == [27001, 42003]
    assert RADON_OFFSET == 0.1
    np.testing.assert_allclose(log_radon(pd.Series([0.0, 2.2])), np.log([0.1, 2.3]))
    names = pd.Series(["WRIGHT", "AITKIN", "WRIGHT", "BECKER"], index=[7, 8, 9, 10])
    assert county_codes(names).to_dict() == {7: 2, 8: 0, 9: 2, 10: 1}


def test_a_survey_cut_at_a_line_boundary_is_refused_and_radon_csv_is_kept(tmp_path, raw_lines, out):
    """Every line of such a file is whole (it would give 319 homes in 26 counties), so only its
    sha256 gives it away."""
    folder = raw_folder(tmp_path, "".join(raw_lines[: INSIDE_MINNESOTA - 1]))
    refused_and_untouched(
        folder, out, r"srrs2\.dat is not the committed survey file: its sha256 is [0-9a-f]{64}"
    )


def test_a_survey_cut_mid_line_names_the_file_and_line(tmp_path, raw_lines, out):
    """The message names the file and line, where pandas alone would say 'cannot convert float
    NaN to integer'."""
    cut = "".join(raw_lines[: INSIDE_MINNESOTA - 1]) + raw_lines[INSIDE_MINNESOTA - 1][:40]
    folder = raw_folder(tmp_path, cut)
    message = rf"srrs2\.dat, line {INSIDE_MINNESOTA}: the last line does not end with a newline"
    refused_and_untouched(folder, out, message)


def test_a_line_with_a_field_missing_names_the_file_and_line(tmp_path, raw_lines, out):
    fields = raw_lines[FIRST_MINNESOTA_LINE - 1].split(",")
    raw_lines[FIRST_MINNESOTA_LINE - 1] = ",".join(fields[:5] + fields[6:])
    folder = raw_folder(tmp_path, "".join(raw_lines))
    refused_and_untouched(
        folder, out, rf"srrs2\.dat, line {FIRST_MINNESOTA_LINE}: 24 fields where the header has 25"
    )


@pytest.mark.parametrize("value", ["inf", "-Infinity", "1e400", "nan", "   ", "0.3x"])
def test_a_reading_that_is_not_a_finite_number_names_the_file_line_and_column(
    tmp_path, raw_lines, out, value
):
    fields = raw_lines[FIRST_MINNESOTA_LINE - 1].split(",")
    fields[18] = value  # activity
    raw_lines[FIRST_MINNESOTA_LINE - 1] = ",".join(fields)
    folder = raw_folder(tmp_path, "".join(raw_lines))
    message = (
        rf"srrs2\.dat, line {FIRST_MINNESOTA_LINE}: column 'activity' holds .*not a finite number"
    )
    refused_and_untouched(folder, out, message)


def test_a_fractional_floor_code_is_refused_not_truncated(tmp_path, raw_lines, out):
    fields = raw_lines[FIRST_MINNESOTA_LINE - 1].split(",")
    fields[7] = "0.5"  # floor
    raw_lines[FIRST_MINNESOTA_LINE - 1] = ",".join(fields)
    folder = raw_folder(tmp_path, "".join(raw_lines))
    refused_and_untouched(
        folder, out, rf"line {FIRST_MINNESOTA_LINE}: column 'floor' holds '0.5', not a whole number"
    )


def test_an_edited_county_file_is_refused_even_when_well_formed(tmp_path, out):
    folder = raw_folder(tmp_path, (RAW / "srrs2.dat").read_text())
    (folder / "cty.dat").write_text((RAW / "cty.dat").read_text().replace("AITKIN", "AITKEN"))
    refused_and_untouched(folder, out, r"cty\.dat is not the committed survey file")


def test_a_state_whose_county_has_no_uranium_reading_is_refused_with_the_homes_named():
    """Arizona's LA PAZ county has Uppm 0, whose log is -inf."""
    with pytest.raises(
        RadonDataError, match=r"the AZ table .* no finite log_uranium \(idnum \d+, \d+\)"
    ):
        derive_radon(RAW / "srrs2.dat", RAW / "cty.dat", state="AZ")


def test_a_raw_folder_that_is_a_file_is_refused(tmp_path, out):
    with pytest.raises(SystemExit):
        derive_main(["--raw", str(RAW / "srrs2.dat"), "--out", str(out)])
    assert out.read_bytes() == CSV.read_bytes()


def test_a_write_interrupted_halfway_leaves_the_old_file_and_no_temporary_file(
    tmp_path, monkeypatch
):
    target = tmp_path / "radon.csv"
    target.write_bytes(CSV.read_bytes())
    written = pd.DataFrame.to_csv

    def half_then_ctrl_c(self, stream, **kwargs):
        written(self.head(3), stream, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        write_csv(pd.read_csv(CSV), target)
    assert target.read_bytes() == CSV.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["radon.csv"]


def test_a_write_keeps_the_files_permissions(tmp_path):
    target = tmp_path / "radon.csv"
    target.write_text("old\n")
    target.chmod(0o644)
    write_csv(pd.DataFrame({"a": [1]}), target)
    assert target.read_text() == "a\n1\n"
    assert target.stat().st_mode & 0o777 == 0o644
