"""load_radon finds, reads and checks the radon table; make data rebuilds it byte for byte."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radon_utils.data import (
    RadonDataError,
    county_index,
    find_radon_csv,
    load_radon,
    validate_radon,
)
from radon_utils.derive import derive_radon
from radon_utils.derive import main as derive_main

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "data" / "radon.csv"


def test_the_table_has_the_survey_figures(radon):
    assert len(radon) == 919
    assert radon["county"].nunique() == 85
    assert int(radon["floor"].sum()) == 153
    assert radon["log_radon"].mean() == pytest.approx(1.26478, abs=5e-6)


def test_county_codes_number_counties_alphabetically(radon):
    pairs = radon[["county", "county_code"]].drop_duplicates().sort_values("county_code")
    assert pairs["county_code"].tolist() == list(range(85))
    assert pairs["county"].tolist() == sorted(pairs["county"])


def test_county_index_is_the_county_code_column_and_agrees_with_factorize(radon):
    index, counties = county_index(radon)
    np.testing.assert_array_equal(index, radon["county_code"].to_numpy())
    codes, names = pd.factorize(radon["county"], sort=True)
    np.testing.assert_array_equal(index, codes)
    pd.testing.assert_index_equal(counties, names)
    assert len(counties) == 85
    assert counties[0] == "AITKIN"
    assert (counties[index] == radon["county"].to_numpy()).all()


def test_county_index_numbers_a_subset_of_counties_compactly(radon):
    subset = radon[radon["county"].isin(["ST LOUIS", "AITKIN", "HENNEPIN"])]
    index, counties = county_index(subset)
    assert counties.tolist() == ["AITKIN", "HENNEPIN", "ST LOUIS"]
    assert sorted(set(index.tolist())) == [0, 1, 2]
    assert (counties[index] == subset["county"].to_numpy()).all()


def test_county_index_follows_the_codes_not_the_names():
    table = pd.DataFrame({"county": ["B", "A", "B", "Z"], "county_code": [5, 9, 5, 1]})
    index, counties = county_index(table)
    assert index.tolist() == [1, 2, 1, 0]
    assert counties.tolist() == ["Z", "B", "A"]


def test_county_index_refuses_a_county_with_two_codes(radon):
    with pytest.raises(RadonDataError, match="county and county_code disagree"):
        county_index(radon.assign(county_code=radon["county_code"].where(radon.index != 0, 42)))
    with pytest.raises(RadonDataError, match=r"lacks the column\(s\) county_code"):
        county_index(radon.drop(columns="county_code"))


def test_log_radon_is_log_of_activity_plus_a_tenth():
    raw = pd.read_csv(CSV)
    np.testing.assert_allclose(raw["log_radon"], np.log(raw["radon"] + 0.1))
    assert (raw["radon"] == 0).sum() == 3


def test_make_data_rebuilds_the_committed_csv_byte_for_byte(tmp_path):
    out = tmp_path / "radon.csv"
    derive_main(["--raw", str(ROOT / "data" / "raw"), "--out", str(out)])
    assert out.read_bytes() == CSV.read_bytes()


def test_the_derivation_serves_any_state():
    dakota = derive_radon(ROOT / "data/raw/srrs2.dat", ROOT / "data/raw/cty.dat", state="ND")
    assert (dakota["state"] == "ND").all()
    assert dakota["county_code"].max() + 1 == dakota["county"].nunique()
    assert np.isfinite(dakota["log_uranium"]).all()


def test_an_unknown_state_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"no homes for state 'XX'.*MN"):
        derive_radon(ROOT / "data/raw/srrs2.dat", ROOT / "data/raw/cty.dat", state="XX")


def test_the_table_is_found_from_an_explicit_path_the_environment_or_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("RADON_DATA", raising=False)
    assert find_radon_csv(CSV) == CSV
    monkeypatch.chdir(ROOT / "chapters")
    assert find_radon_csv() == CSV
    monkeypatch.setenv("RADON_DATA", str(tmp_path / "elsewhere.csv"))
    assert find_radon_csv() == tmp_path / "elsewhere.csv"


def test_no_table_above_the_working_directory_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.delenv("RADON_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RadonDataError, match=r"could not find data/radon\.csv.*make data"):
        load_radon()


def test_a_missing_file_says_how_to_rebuild_it(tmp_path):
    with pytest.raises(RadonDataError, match=r"does not exist.*make data"):
        load_radon(tmp_path / "nothing.csv")


def test_an_empty_file_is_refused(tmp_path):
    empty = tmp_path / "radon.csv"
    empty.write_text("")
    with pytest.raises(RadonDataError, match="is empty"):
        load_radon(empty)


def test_a_header_without_rows_is_refused(tmp_path):
    headers = tmp_path / "radon.csv"
    headers.write_text("county,county_code,floor,log_radon,log_uranium\n")
    with pytest.raises(RadonDataError, match="has no rows"):
        load_radon(headers)


def _write_broken(tmp_path, radon, change) -> Path:
    broken = radon.copy()
    broken = change(broken)
    path = tmp_path / "radon.csv"
    broken.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="floor"), "lacks the column.*floor"),
        (
            lambda d: d.assign(log_radon=d["log_radon"].where(d.index != 7)),
            r"missing values in: log_radon \(row 7, counting from 0",
        ),
        (
            lambda d: d.assign(floor=d["floor"].astype(object).where(d.index != 3, "upstairs")),
            "non-numeric value 'upstairs' in column 'floor'",
        ),
        (
            lambda d: d.assign(floor=d["floor"].where(d.index != 5, 9)),
            r"floor values \[9\].*0 \(basement\) or 1",
        ),
        (
            lambda d: d.assign(county_code=d["county_code"].where(d.index != 0, 42)),
            "county and county_code disagree",
        ),
    ],
    ids=[
        "missing column",
        "missing value",
        "non-numeric",
        "floor outside 0/1",
        "county and code disagree",
    ],
)
def test_malformed_tables_are_refused_with_the_file_and_the_problem(
    tmp_path, radon, change, message
):
    path = _write_broken(tmp_path, radon, change)
    with pytest.raises(RadonDataError, match=message) as error:
        load_radon(path)
    assert str(path) in str(error.value)
    assert "make data" in str(error.value)


def test_radon_data_error_is_a_value_error():
    assert issubclass(RadonDataError, ValueError)


def test_validation_accepts_a_subset_of_counties(radon):
    subset = validate_radon(radon[radon["county_code"].isin([3, 10, 40])])
    assert subset.index.tolist() == list(range(len(subset)))


def test_the_figures_in_the_data_readme_hold(radon):
    homes = radon.groupby("county").size()
    first_floor = radon.groupby("county")["floor"].sum()
    assert (homes.min(), homes.median(), homes.max(), homes.idxmax()) == (1, 5, 116, "ST LOUIS")
    assert ((first_floor == 0).sum(), (first_floor == 1).sum()) == (25, 25)
    assert (radon["floor"] == 0).sum() == 766


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "1e400"])
@pytest.mark.parametrize("column", ["log_radon", "log_uranium", "floor", "county_code"])
def test_non_finite_values_are_refused_with_their_rows(tmp_path, radon, column, value):
    """Refused on loading, because nutpie or the exact posterior would fail on them later, far
    from the file."""
    broken = radon.astype({column: object})
    broken.loc[[4, 9], column] = value
    path = tmp_path / "radon.csv"
    broken.to_csv(path, index=False)
    message = rf"non-finite values .* in column '{column}': rows 4, 9, counting from 0"
    with pytest.raises(RadonDataError, match=message) as error:
        load_radon(path)
    assert str(path) in str(error.value)


def test_a_fractional_county_code_is_refused_not_truncated(radon):
    with pytest.raises(RadonDataError, match=r"fractional values in column 'county_code' \(row 2,"):
        validate_radon(
            radon.assign(
                county_code=radon["county_code"].astype(float).where(radon.index != 2, 0.5)
            )
        )


def test_a_folder_passed_as_the_table_is_called_a_folder(tmp_path):
    with pytest.raises(
        RadonDataError, match=rf"{tmp_path} is a folder, not the radon table; pass the CSV file"
    ):
        load_radon(tmp_path)


def test_data_that_is_not_a_table_is_a_type_error():
    with pytest.raises(TypeError, match=r"must be a pandas DataFrame.*got list"):
        validate_radon([1, 2, 3])
