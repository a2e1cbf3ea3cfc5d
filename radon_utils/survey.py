"""The whole EPA radon survey: every state of ``srrs2.dat`` in one tidy table.

``srrs2.dat`` holds 12,777 homes in eight *state groups* (its ``state`` column): seven
state surveys (AZ, IN, MA, MN, MO, ND, PA) and ``R5``, the EPA Region 5 survey of tribal
lands, whose homes lie in Michigan, Minnesota and Wisconsin (``state2``/``stfips`` say
which). In ``R5`` the ``county`` field names the tribal land (e.g. ``LEECH LAKE``), not a
county; ``cntyfips`` still gives the county the home stands in (``999`` = not known).

The rules, each one documented in ``data/README.md`` ("The whole survey"):

* the real state of a home is ``state2``; an area is keyed by ``"<state>:<county>"``
  (``state_county``) and numbered ``0..K-1`` in sorted order (``county_code``);
* the 23 Pennsylvania homes with a blank county name take the name that the other
  homes with the same FIPS code carry;
* homes whose ``floor`` is not 0 (basement) or 1 (first floor) are dropped: ``9`` is the
  survey's code for an unknown floor, ``2`` and ``3`` are upper floors the models have
  no slope for;
* ``log_radon = log(activity + RADON_OFFSET)`` (:func:`radon_utils.derive.log_radon`), exactly
  as for Minnesota (no activity is missing; readings of 0 stay, at ``log(0.1)``);
* ``uranium`` is the soil uranium of the county the home stands in (``Uppm`` of
  ``cty.dat``, joined on FIPS). It is left missing (NaN) where that county is unknown
  (``cntyfips`` 999), absent from ``cty.dat``, or has ``Uppm == 0`` (LA PAZ, AZ and three
  Massachusetts counties: a zero there means "not measured", and its log would be -inf).
  The varying-intercept, varying-slope models do not use uranium.

The Minnesota state survey's rows (``state_group == "MN"``) are the 919 homes of
``data/radon.csv``, with the same ``idnum``, ``floor`` and ``log_radon``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .data import MODEL_COLUMNS, RadonDataError, find_file, validate_radon
from .derive import (
    RAW_SHA256,
    county_codes,
    fips_code,
    log_radon,
    numeric_column,
    read_raw,
    verify_raw_file,
)

__all__ = [
    "RELATIVE_RAW_DIR",
    "SURVEY_FILE",
    "COUNTY_FILE",
    "RAW_DIR_ENV_VAR",
    "SURVEY_COLUMNS",
    "COUNTY_COLUMNS",
    "KEPT_FLOORS",
    "FLOOR_DROP_REASONS",
    "UNKNOWN_COUNTY_FIPS",
    "COLUMNS",
    "load_survey",
    "dropped_homes",
    "model_table",
    "derive_survey",
    "find_raw_dir",
]

#: Where the raw files sit inside the repository.
RELATIVE_RAW_DIR = Path("data") / "raw"
SURVEY_FILE = "srrs2.dat"
COUNTY_FILE = "cty.dat"

#: Environment variable that may point at the folder holding the raw files.
RAW_DIR_ENV_VAR = "RADON_RAW"

#: Raw columns each file must have.
SURVEY_COLUMNS = ("idnum", "state", "state2", "stfips", "cntyfips", "county", "floor", "activity")
COUNTY_COLUMNS = ("stfips", "ctfips", "Uppm")

#: Floors the models have a slope for: 0 = basement, 1 = first floor.
KEPT_FLOORS = (0, 1)

#: Why a home is dropped, by its raw floor code.
FLOOR_DROP_REASONS = {
    9: "floor unknown (code 9)",
    2: "upper floor (2 or 3)",
    3: "upper floor (2 or 3)",
}

#: ``cntyfips`` value that means "county not known".
UNKNOWN_COUNTY_FIPS = 999

#: Columns of :func:`load_survey`'s table, in this order.
COLUMNS = [
    "idnum",
    "state_group",
    "state",
    "county",
    "state_county",
    "county_code",
    "fips",
    "floor",
    "radon",
    "log_radon",
    "uranium",
    "log_uranium",
]

_RAW_HINT = (
    "restore the raw files (`git checkout -- data/raw`), or point the RADON_RAW environment "
    "variable (or load_survey(raw_dir=...)) at a folder holding srrs2.dat and cty.dat"
)


def load_survey(raw_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return the whole survey, one row per home the models can use (floor 0 or 1), checked.

    ``raw_dir`` defaults to ``$RADON_RAW``, else ``data/raw`` found by walking up from the
    working directory. ``county_code`` numbers the areas (``state_county``) 0..K-1 in sorted
    order. Raises :class:`~radon_utils.data.RadonDataError` on bad input.
    """
    folder = find_raw_dir(raw_dir)
    if not folder.is_dir():
        raise RadonDataError(f"{folder} is not a folder; {_RAW_HINT}")
    homes = derive_survey(folder / SURVEY_FILE, folder / COUNTY_FILE)
    survey = homes[homes["drop_reason"].isna()].drop(columns="drop_reason").reset_index(drop=True)
    survey["county_code"] = county_codes(survey["state_county"])
    validate_radon(
        model_table(survey),
        source=f"the survey table derived from {folder}",
        required=MODEL_COLUMNS,
        hint=_RAW_HINT,
    )
    return survey[COLUMNS]


def dropped_homes(raw_dir: str | os.PathLike | None = None) -> pd.Series:
    """Return how many homes :func:`load_survey` drops, by reason."""
    folder = find_raw_dir(raw_dir)
    homes = derive_survey(folder / SURVEY_FILE, folder / COUNTY_FILE)
    return homes["drop_reason"].value_counts().sort_index()


def model_table(survey: pd.DataFrame) -> pd.DataFrame:
    """Return the columns :func:`radon_utils.models.build_model` reads, areas as counties.

    ``county`` is ``state_county``; ``log_uranium`` is carried along as it is (with its gaps),
    since the model does not read it.
    """
    return pd.DataFrame(
        {
            "county": survey["state_county"],
            "county_code": survey["county_code"],
            "floor": survey["floor"],
            "log_radon": survey["log_radon"],
            "log_uranium": survey["log_uranium"],
        }
    )


def derive_survey(srrs_path: Path | str, cty_path: Path | str) -> pd.DataFrame:
    """Return every home of the survey (all 12,777, none dropped) with the derived columns.

    The raw files are checked as ``make data`` checks them (:mod:`radon_utils.derive`): every line
    whole, every number finite, and each file's sha256 the one ``data/README.md`` records.

    Columns: those of :data:`COLUMNS` except ``county_code``, plus ``drop_reason``
    (``None`` for a home the models can use, else why :func:`load_survey` drops it).
    """
    srrs_path, cty_path = Path(srrs_path), Path(cty_path)
    homes = read_raw(srrs_path, SURVEY_COLUMNS, hint=_RAW_HINT)
    for col in ("idnum", "stfips", "cntyfips", "floor", "activity"):
        homes[col] = numeric_column(homes, col, srrs_path, whole=col != "activity", hint=_RAW_HINT)
    if not homes["idnum"].is_unique:
        dup = homes.loc[homes["idnum"].duplicated(), "idnum"].iloc[0]
        raise RadonDataError(f"{srrs_path} lists home idnum {dup} more than once; {_RAW_HINT}")
    if (homes["activity"] < 0).any():
        row = homes[homes["activity"] < 0].iloc[0]
        raise RadonDataError(
            f"{srrs_path}: home idnum {row['idnum']} has a negative radon activity "
            f"{row['activity']}; {_RAW_HINT}"
        )
    homes = homes.rename(columns={"state": "state_group"})
    homes["state"] = homes["state2"]
    homes["fips"] = fips_code(homes["stfips"], homes["cntyfips"])
    homes["county"] = _fill_blank_county_names(homes, srrs_path)
    homes["state_county"] = homes["state"] + ":" + homes["county"]
    groups_per_area = homes.groupby("state_county")["state_group"].nunique()
    if (groups_per_area > 1).any():
        area = groups_per_area[groups_per_area > 1].index[0]
        raise RadonDataError(
            f"{srrs_path}: the area {area} holds homes of more than one state group, so its name "
            f"does not single out one county or tribal land; {_RAW_HINT}"
        )

    counties = read_raw(cty_path, COUNTY_COLUMNS, hint=_RAW_HINT)
    for col in COUNTY_COLUMNS:
        counties[col] = numeric_column(counties, col, cty_path, whole=col != "Uppm", hint=_RAW_HINT)
    counties["fips"] = fips_code(counties["stfips"], counties["ctfips"])
    counties = counties.drop_duplicates(subset="fips")
    # Uppm == 0 marks a county without a uranium reading; its log would be -inf.
    counties["uranium"] = counties["Uppm"].where(counties["Uppm"] > 0)
    table = homes.merge(
        counties[["fips", "uranium"]], on="fips", how="left", validate="many_to_one"
    )
    # A home whose county is unknown takes no county's uranium, whatever cty.dat lists under
    # the code state * 1000 + 999.
    table.loc[table["cntyfips"] == UNKNOWN_COUNTY_FIPS, "uranium"] = np.nan

    table["radon"] = table["activity"].astype(float)
    table["log_radon"] = log_radon(table["radon"])
    table["log_uranium"] = np.log(table["uranium"])
    table["drop_reason"] = table["floor"].map(FLOOR_DROP_REASONS)
    odd = ~table["floor"].isin(KEPT_FLOORS) & table["drop_reason"].isna()
    if odd.any():
        codes = sorted(int(v) for v in table.loc[odd, "floor"].unique())
        raise RadonDataError(
            f"{srrs_path} has floor codes {codes} that are neither 0, 1 (kept) nor 2, 3, 9 "
            f"(dropped); {_RAW_HINT}"
        )
    # Last, so that damage the checks above can place is reported with its line.
    verify_raw_file(srrs_path, RAW_SHA256[SURVEY_FILE], hint=_RAW_HINT)
    verify_raw_file(cty_path, RAW_SHA256[COUNTY_FILE], hint=_RAW_HINT)
    return table[[col for col in COLUMNS if col != "county_code"] + ["drop_reason"]]


def find_raw_dir(
    path: str | os.PathLike | None = None, start: str | os.PathLike | None = None
) -> Path:
    """Return the folder holding the raw survey files.

    In order: ``path`` if given, else ``$RADON_RAW`` if set, else the first ``data/raw``
    holding ``srrs2.dat`` found walking up from ``start`` (the working directory by default).
    """
    if path is not None or os.environ.get(RAW_DIR_ENV_VAR):
        return find_file(RELATIVE_RAW_DIR, path, RAW_DIR_ENV_VAR, start, hint=_RAW_HINT)
    return find_file(RELATIVE_RAW_DIR / SURVEY_FILE, start=start, hint=_RAW_HINT).parent


def _fill_blank_county_names(homes: pd.DataFrame, path: Path) -> pd.Series:
    """County names, with a blank one taken from the other homes of the same state and FIPS code."""
    named = homes.dropna(subset=["county"])
    names_per_fips = named.groupby(["state_group", "fips"])["county"].unique()
    ambiguous = names_per_fips[names_per_fips.map(len) > 1]
    lookup = names_per_fips.map(lambda names: names[0])
    keys = pd.MultiIndex.from_frame(homes[["state_group", "fips"]])
    filled = homes["county"].fillna(pd.Series(lookup.reindex(keys).to_numpy(), index=homes.index))
    blank = filled.isna()
    if blank.any():
        row = homes[blank].iloc[0]
        raise RadonDataError(
            f"{path}: home idnum {row['idnum']} has no county name and no other home shares its "
            f"FIPS code {row['fips']} to take one from; {_RAW_HINT}"
        )
    used = homes.loc[homes["county"].isna(), ["state_group", "fips"]].drop_duplicates()
    clash = [key for key in map(tuple, used.to_numpy()) if key in ambiguous.index]
    if clash:
        raise RadonDataError(
            f"{path}: homes with a blank county name share FIPS code {clash[0][1]} with homes of "
            f"different names {list(ambiguous.loc[clash[0]])}; {_RAW_HINT}"
        )
    return filled
