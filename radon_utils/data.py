"""Load and check the Minnesota radon table that every chapter uses."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ._atomic import replace_file

__all__ = [
    "REQUIRED_COLUMNS",
    "MODEL_COLUMNS",
    "NUMERIC_COLUMNS",
    "RELATIVE_PATH",
    "DATA_ENV_VAR",
    "RadonDataError",
    "find_file",
    "find_radon_csv",
    "validate_radon",
    "load_radon",
    "write_csv",
    "county_index",
    "funnel_county",
    "example_counties",
]

#: Columns the book needs; ``data/radon.csv`` has a few more (see ``data/README.md``).
REQUIRED_COLUMNS = ("county", "county_code", "floor", "log_radon", "log_uranium")
#: Columns the radon model reads (``build_model`` checks only these).
MODEL_COLUMNS = ("county", "county_code", "floor", "log_radon")
#: Columns that must hold finite numbers, where a check requires them.
NUMERIC_COLUMNS = ("county_code", "floor", "log_radon", "log_uranium")

#: Where the table sits inside the repository.
RELATIVE_PATH = Path("data") / "radon.csv"

#: Environment variable that may point at the table.
DATA_ENV_VAR = "RADON_DATA"

_REBUILD_HINT = (
    "rebuild it from data/raw/ with `make data`, or point the RADON_DATA environment variable at it"
)


class RadonDataError(ValueError):
    """The radon table is missing or malformed; the message says what is wrong and how to fix it."""


def find_file(
    relative: Path,
    path: str | os.PathLike | None = None,
    env_var: str | None = None,
    start: str | os.PathLike | None = None,
    hint: str = _REBUILD_HINT,
) -> Path:
    """Return where a repository file is: ``path`` if given, else ``$env_var`` if set, else the
    first ``relative`` found walking up from ``start`` (the working directory by default).

    Never looks at the installed package's location: Binder and pip install a copy elsewhere.
    """
    if path is not None:
        return Path(path)
    if env_var and os.environ.get(env_var):
        return Path(os.environ[env_var])
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / relative).exists():
            return folder / relative
    raise RadonDataError(
        f"could not find {relative} in {here} or any folder above it; "
        f"run from inside the repository, or {hint}"
    )


def find_radon_csv(
    path: str | os.PathLike | None = None, start: str | os.PathLike | None = None
) -> Path:
    """Return the path of the radon table.

    In order: ``path`` if given, else ``$RADON_DATA`` if set, else the first
    ``data/radon.csv`` found walking up from ``start`` (the working directory by default).
    """
    return find_file(
        RELATIVE_PATH,
        path,
        DATA_ENV_VAR,
        start,
        hint=f"pass load_radon(path=...), or {_REBUILD_HINT}",
    )


def validate_radon(
    data: pd.DataFrame,
    source: str = "the radon table",
    required: tuple[str, ...] = REQUIRED_COLUMNS,
    hint: str = _REBUILD_HINT,
) -> pd.DataFrame:
    """Check that ``data`` has the ``required`` columns with sane values; return it with a clean
    index.

    Numbers must be finite (no NaN, ``inf`` or ``1e400``); a problem names its rows, counted from 0
    as in ``data.iloc``. Raises :class:`RadonDataError` naming ``source``, the problem and ``hint``,
    how to fix it; a ``TypeError`` if ``data`` is not a pandas DataFrame.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"{source} must be a pandas DataFrame (like load_radon() returns), "
            f"got {type(data).__name__}"
        )
    if len(data) == 0:
        raise RadonDataError(f"{source} has no rows; {hint}")
    missing = [col for col in required if col not in data.columns]
    if missing:
        raise RadonDataError(f"{source} lacks the column(s) {', '.join(missing)}; {hint}")
    numeric = [col for col in NUMERIC_COLUMNS if col in required]
    for col in numeric:
        values = pd.to_numeric(data[col], errors="coerce")
        bad = values.isna() & data[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise RadonDataError(
                f"{source} has a non-numeric value {data[col].iloc[row]!r} in column {col!r} "
                f"({_rows(bad)}); {hint}"
            )
    holes = data[list(required)].isna()
    if holes.any().any():
        where = "; ".join(f"{col} ({_rows(holes[col])})" for col in required if holes[col].any())
        raise RadonDataError(f"{source} has missing values in: {where}; {hint}")
    data = data.reset_index(drop=True).copy()
    for col in numeric:
        data[col] = pd.to_numeric(data[col])
    _check_finite(data, numeric, source, hint)
    if not data["floor"].isin([0, 1]).all():
        odd = sorted(
            {v.item() if hasattr(v, "item") else v for v in data["floor"].unique()} - {0, 1}
        )
        raise RadonDataError(
            f"{source} has floor values {odd}; floor must be 0 (basement) or 1 (first floor); "
            f"{hint}"
        )
    data["floor"] = data["floor"].astype(int)
    _check_whole_numbers(data, "county_code", source, hint)
    data["county_code"] = data["county_code"].astype(int)
    _check_one_code_per_county(data, source, hint)
    return data


def load_radon(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return the Minnesota radon table (one row per home), checked.

    ``path`` defaults to ``$RADON_DATA``, else ``data/radon.csv`` found by walking
    up from the working directory. Raises :class:`RadonDataError` on bad input.
    """
    csv = find_radon_csv(path)
    if csv.is_dir():
        raise RadonDataError(
            f"{csv} is a folder, not the radon table; pass the CSV file itself "
            f"(e.g. {csv / RELATIVE_PATH.name})"
        )
    if not csv.is_file():
        raise RadonDataError(f"{csv} does not exist; {_REBUILD_HINT}")
    try:
        data = pd.read_csv(csv)
    except pd.errors.EmptyDataError:
        raise RadonDataError(f"{csv} is empty; {_REBUILD_HINT}") from None
    return validate_radon(data, source=str(csv))


def write_csv(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``table`` to ``path`` as CSV (no index, ``\\n`` line ends), all or nothing.

    The rows go to a temporary file beside ``path``, which then replaces it in one step: a reader
    never sees half a file, and an error or Ctrl-C while writing leaves ``path`` as it was.
    """
    replace_file(path, lambda stream: table.to_csv(stream, index=False, lineterminator="\n"))


def county_index(data: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """Number the counties of ``data`` 0..K-1 in ``county_code`` order: the index the models use.

    Returns ``(index, counties)``: ``index[i]`` is the number of the county of the home in row
    ``i`` (by position), and ``counties[k]`` the name of county ``k``, so ``counties[index]`` is
    ``data["county"]``. Only the counties present are numbered, so that a subset of counties gets
    a compact index; on a whole table ``index`` is the ``county_code`` column itself.

    ``county_code`` numbers the counties alphabetically (the areas ``"<state>:<county>"`` of the
    whole survey's :func:`~radon_utils.survey.model_table` too), so this is
    ``pd.factorize(data["county"], sort=True)`` on the book's tables. Raises
    :class:`RadonDataError` if a column is missing or a county has two codes (or a code two
    counties).
    """
    missing = [col for col in ("county", "county_code") if col not in data.columns]
    if missing:
        raise RadonDataError(f"the table lacks the column(s) {', '.join(missing)}")
    _check_one_code_per_county(data, "the table", "pass a table like load_radon() returns")
    codes, index = np.unique(data["county_code"].to_numpy(), return_inverse=True)
    names = data.drop_duplicates("county_code").set_index("county_code")["county"]
    return index, pd.Index(names.loc[codes].to_numpy())


def funnel_county(data: pd.DataFrame) -> str:
    """The county whose slope the data inform least: no first-floor reading, and of those the most
    homes (ties: the first by name). Its slope is learnt from the other counties alone."""
    floors = data.groupby("county")["floor"].agg(homes="size", first_floor="sum")
    candidates = floors[floors["first_floor"] == 0]
    if candidates.empty:
        raise RadonDataError(
            "every county has a first-floor reading, so no slope is informed by the others alone"
        )
    return str(candidates["homes"].idxmax())


def example_counties(
    data: pd.DataFrame, first_floor_counts: tuple[int, ...] = (0, 1, 3)
) -> dict[str, str]:
    """Counties chosen by how much their data say about their floor slope: for each count in
    ``first_floor_counts`` the county with that many first-floor readings and the most homes,
    then the county with the most first-floor readings. Returns ``{county: row label}``, the label
    naming its homes and first-floor readings (for ``plots.plot_county_slopes``)."""
    floors = data.groupby("county")["floor"].agg(homes="size", first_floor="sum")
    chosen = []
    for count in first_floor_counts:
        candidates = floors[floors["first_floor"] == count]
        if candidates.empty:
            raise RadonDataError(
                f"no county has exactly {count} first-floor reading(s); choose other counts"
            )
        chosen.append(candidates["homes"].idxmax())
    chosen.append(floors["first_floor"].idxmax())
    return {
        county: (
            f"{county.title()}: {floors.loc[county, 'homes']} homes, "
            f"{floors.loc[county, 'first_floor']} first floor"
        )
        for county in dict.fromkeys(chosen)
    }


def _rows(mask: pd.Series, shown: int = 5) -> str:
    """The rows where ``mask`` holds, as text: ``row 7, ...`` or
    ``rows 3, 7, 12 and 4 more, ...``."""
    rows = np.flatnonzero(mask.to_numpy())
    listed = ", ".join(str(r) for r in rows[:shown])
    more = f" and {len(rows) - shown} more" if len(rows) > shown else ""
    return f"row{'s' if len(rows) > 1 else ''} {listed}{more}, counting from 0 below the header"


def _check_finite(data: pd.DataFrame, columns: list[str], source: str, hint: str) -> None:
    """Refuse infinite values (``inf``, ``-inf``, ``Infinity``, ``1e400``), naming the column and
    the rows."""
    for col in columns:
        infinite = pd.Series(~np.isfinite(data[col].to_numpy(dtype=float)))
        if infinite.any():
            raise RadonDataError(
                f"{source} has non-finite values (inf, -inf, or too large for a float) in column "
                f"{col!r}: {_rows(infinite)}; {hint}"
            )


def _check_whole_numbers(data: pd.DataFrame, col: str, source: str, hint: str) -> None:
    """Refuse fractional values in a column of codes, naming the rows."""
    values = data[col].to_numpy(dtype=float)
    fractional = pd.Series(values != np.round(values))
    if fractional.any():
        raise RadonDataError(
            f"{source} has fractional values in column {col!r} ({_rows(fractional)}); {hint}"
        )


def _check_one_code_per_county(data: pd.DataFrame, source: str, hint: str) -> None:
    """Refuse a table where a county has two codes or a code two counties, naming a few."""
    pairs = data[["county", "county_code"]].drop_duplicates()
    if pairs["county"].duplicated().any() or pairs["county_code"].duplicated().any():
        clash = pairs[
            pairs["county"].duplicated(keep=False) | pairs["county_code"].duplicated(keep=False)
        ]
        example = ", ".join(f"{c}={k}" for c, k in clash.head(4).itertuples(index=False))
        raise RadonDataError(
            f"{source}: county and county_code disagree (each county must have exactly one code "
            f"and each code one county; e.g. {example}); {hint}"
        )
