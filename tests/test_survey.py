"""load_survey reads the whole EPA survey: every state group, areas keyed by state, drops
documented."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radon_utils.data import RadonDataError, county_index, validate_radon
from radon_utils.derive import read_raw
from radon_utils.survey import (
    COLUMNS,
    derive_survey,
    dropped_homes,
    find_raw_dir,
    load_survey,
    model_table,
)

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return load_survey(RAW)


def test_the_survey_keeps_every_home_with_a_basement_or_first_floor_reading(survey):
    assert len(survey) == 12448
    assert list(survey.columns) == COLUMNS
    assert set(survey["floor"]) == {0, 1}


def test_the_raw_file_holds_12777_homes_and_329_are_dropped_for_their_floor():
    homes = derive_survey(RAW / "srrs2.dat", RAW / "cty.dat")
    assert len(homes) == 12777
    drops = dropped_homes(RAW)
    assert drops.to_dict() == {"floor unknown (code 9)": 287, "upper floor (2 or 3)": 42}
    assert len(homes) - drops.sum() == 12448


def test_the_survey_has_eight_state_groups_nine_states_and_468_areas(survey):
    assert sorted(survey["state_group"].unique()) == [
        "AZ",
        "IN",
        "MA",
        "MN",
        "MO",
        "ND",
        "PA",
        "R5",
    ]
    assert sorted(survey["state"].unique()) == [
        "AZ",
        "IN",
        "MA",
        "MI",
        "MN",
        "MO",
        "ND",
        "PA",
        "WI",
    ]
    assert survey["state_county"].nunique() == 468
    region5 = survey[survey["state_group"] == "R5"]
    assert sorted(region5["state"].unique()) == ["MI", "MN", "WI"]
    assert region5["state_county"].nunique() == 29
    assert len(region5) == 925
    assert region5.groupby("state").size().to_dict() == {"MI": 203, "MN": 268, "WI": 454}
    assert region5.groupby("state")["state_county"].nunique().to_dict() == {
        "MI": 7,
        "MN": 11,
        "WI": 11,
    }
    assert survey.loc[survey["state_group"] != "R5", "state_county"].nunique() == 439


def test_the_minnesota_rows_are_the_homes_of_radon_csv(survey, radon):
    minnesota = survey[survey["state_group"] == "MN"].reset_index(drop=True)
    assert len(minnesota) == 919
    assert minnesota["idnum"].tolist() == radon["idnum"].tolist()
    assert minnesota["floor"].tolist() == radon["floor"].tolist()
    np.testing.assert_array_equal(minnesota["log_radon"].to_numpy(), radon["log_radon"].to_numpy())
    assert minnesota["county"].tolist() == radon["county"].tolist()
    np.testing.assert_allclose(minnesota["log_uranium"], radon["log_uranium"])


def test_area_keys_are_unique_by_state_and_numbered_in_sorted_order(survey):
    areas = survey[["state", "county", "state_county", "county_code"]].drop_duplicates()
    assert not areas["state_county"].duplicated().any()
    assert not areas[["state", "county"]].duplicated().any()
    assert (areas["state_county"] == areas["state"] + ":" + areas["county"]).all()
    ordered = areas.sort_values("county_code")
    assert ordered["county_code"].tolist() == list(range(468))
    assert ordered["state_county"].tolist() == sorted(ordered["state_county"])
    assert survey.groupby("state_county")["state_group"].nunique().max() == 1


def test_county_index_of_the_model_table_is_the_area_code(survey):
    index, areas = county_index(model_table(survey))
    np.testing.assert_array_equal(index, survey["county_code"].to_numpy())
    codes, names = pd.factorize(survey["state_county"], sort=True)
    np.testing.assert_array_equal(index, codes)
    pd.testing.assert_index_equal(areas, names)
    assert len(areas) == 468


def test_blank_county_names_are_filled_from_the_same_fips_code(survey):
    assert read_raw(RAW / "srrs2.dat")["county"].isna().sum() == 23
    assert survey["county"].notna().all()
    pennsylvania = survey[survey["state"] == "PA"]
    assert pennsylvania.groupby("fips")["county"].nunique().max() == 1
    assert survey.loc[survey["idnum"] == 9456, "county"].item() == "ALLEGHENY"


def test_log_radon_is_log_activity_plus_a_tenth_and_zero_readings_stay(survey):
    np.testing.assert_allclose(survey["log_radon"], np.log(survey["radon"] + 0.1))
    assert (survey["radon"] == 0).sum() == 82


def test_uranium_is_missing_only_where_the_county_reading_is(survey):
    assert np.isfinite(survey["log_uranium"].dropna()).all()
    missing = survey[survey["log_uranium"].isna()]
    assert len(missing) == 365
    assert missing.groupby("state").size().to_dict() == {
        "AZ": 2,
        "MA": 163,
        "MI": 5,
        "MN": 6,
        "WI": 189,
    }
    assert set(missing.loc[missing["state"] == "AZ", "county"]) == {"LA PAZ"}
    assert (missing["state_group"] != "MN").all()
    region5 = missing[missing["state_group"] == "R5"]
    assert (region5["fips"] % 1000 == 999).sum() == 197
    assert region5.loc[region5["fips"] % 1000 != 999, "fips"].unique().tolist() == [27189]
    assert len(region5) == 200


def test_the_model_table_passes_the_models_checks_with_its_uranium_gaps_kept(survey):
    from radon_utils.data import MODEL_COLUMNS

    table = model_table(survey)
    checked = validate_radon(table, source="model_table", required=MODEL_COLUMNS)
    assert list(checked["county"].unique()) == list(survey["state_county"].unique())
    assert checked["log_uranium"].isna().sum() == survey["log_uranium"].isna().sum()


def test_the_raw_folder_is_found_from_an_explicit_path_the_environment_or_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("RADON_RAW", raising=False)
    assert find_raw_dir(RAW) == RAW
    monkeypatch.chdir(ROOT / "chapters")
    assert find_raw_dir() == RAW
    monkeypatch.setenv("RADON_RAW", str(tmp_path))
    assert find_raw_dir() == tmp_path


def test_no_raw_folder_above_the_working_directory_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.delenv("RADON_RAW", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RadonDataError, match=r"could not find data/raw/srrs2\.dat.*RADON_RAW"):
        load_survey()


def test_a_raw_folder_without_the_files_names_the_missing_file(tmp_path):
    with pytest.raises(RadonDataError, match=r"srrs2\.dat does not exist.*git checkout"):
        load_survey(tmp_path)


def test_an_empty_survey_file_is_refused(tmp_path):
    (tmp_path / "srrs2.dat").write_text("")
    (tmp_path / "cty.dat").write_bytes((RAW / "cty.dat").read_bytes())
    with pytest.raises(RadonDataError, match=r"srrs2\.dat is empty"):
        load_survey(tmp_path)


def _raw_copy_with(tmp_path, field: int, value: str):
    """A copy of the raw files in ``tmp_path`` whose first home has ``value`` in field ``field``."""
    lines = (RAW / "srrs2.dat").read_text().splitlines()
    fields = lines[1].split(",")
    fields[field] = value
    lines[1] = ",".join(fields)
    (tmp_path / "srrs2.dat").write_text("\n".join(lines) + "\n")
    (tmp_path / "cty.dat").write_bytes((RAW / "cty.dat").read_bytes())


def test_a_non_numeric_activity_names_the_file_column_and_row(tmp_path):
    _raw_copy_with(tmp_path, 18, "   abc")
    with pytest.raises(
        RadonDataError,
        match=r"srrs2\.dat, line 2: column 'activity' holds 'abc', not a finite number",
    ):
        load_survey(tmp_path)


def test_an_unknown_floor_code_is_refused(tmp_path):
    _raw_copy_with(tmp_path, 7, "7")
    with pytest.raises(RadonDataError, match=r"floor codes \[7\]"):
        load_survey(tmp_path)


def test_a_county_file_without_uranium_is_refused(tmp_path):
    (tmp_path / "srrs2.dat").write_bytes((RAW / "srrs2.dat").read_bytes())
    (tmp_path / "cty.dat").write_text("stfips,ctfips,st,cty\n27,001,MN,AITKIN\n")
    with pytest.raises(RadonDataError, match=r"cty\.dat lacks the column\(s\) Uppm"):
        load_survey(tmp_path)


def test_a_survey_file_cut_at_a_line_boundary_is_refused(tmp_path):
    """Well-formed line by line, so only its sha256 gives it away."""
    lines = (RAW / "srrs2.dat").read_text().splitlines(keepends=True)
    (tmp_path / "srrs2.dat").write_text("".join(lines[:5400]))
    (tmp_path / "cty.dat").write_bytes((RAW / "cty.dat").read_bytes())
    with pytest.raises(
        RadonDataError, match=r"srrs2\.dat is not the committed survey file: its sha256 is"
    ):
        load_survey(tmp_path)


@pytest.mark.parametrize("value", ["inf", "1e400", "-Infinity"])
def test_an_infinite_reading_is_refused_with_its_line(tmp_path, value):
    _raw_copy_with(tmp_path, 18, value)
    message = rf"srrs2\.dat, line 2: column 'activity' holds '{value}', not a finite number"
    with pytest.raises(RadonDataError, match=message):
        load_survey(tmp_path)


def test_the_exact_posterior_takes_the_whole_survey_with_its_uranium_gaps(survey):
    """The gaps in log_uranium do not matter: the exact posterior never reads that column."""
    from radon_utils.exact import exact_posterior

    table = model_table(survey)
    assert table["log_uranium"].isna().sum() == 365
    post = exact_posterior(table)
    assert -1.0 < post.mean["mu_b"] < -0.5 and 0.0 < post.mean["sigma_b"] < 0.5
