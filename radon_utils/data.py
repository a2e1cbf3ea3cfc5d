"""Load and check the Minnesota radon table that every chapter uses."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

#: Columns the book needs; ``data/radon.csv`` has a few more (see ``data/README.md``).
REQUIRED_COLUMNS = ("county", "county_code", "floor", "log_radon", "log_uranium")
#: Columns the radon model reads (``build_model`` checks only these).
MODEL_COLUMNS = ("county", "county_code", "floor", "log_radon")
NUMERIC_COLUMNS = ("county_code", "floor", "log_radon", "log_uranium")

#: Where the table sits inside the repository.
RELATIVE_PATH = Path("data") / "radon.csv"

#: Environment variable that may point at the table.
ENV_VAR = "RADON_DATA"

_REBUILD_HINT = "rebuild it from data/raw/ with `make data`, or point the RADON_DATA environment variable at it"


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
    raise RadonDataError(f"could not find {relative} in {here} or any folder above it; run from inside the repository, or {hint}")


def find_radon_csv(path: str | os.PathLike | None = None, start: str | os.PathLike | None = None) -> Path:
    """Return the path of the radon table.

    In order: ``path`` if given, else ``$RADON_DATA`` if set, else the first
    ``data/radon.csv`` found walking up from ``start`` (the working directory by default).
    """
    return find_file(RELATIVE_PATH, path, ENV_VAR, start, hint=f"pass load_radon(path=...), or {_REBUILD_HINT}")


def validate_radon(
    data: pd.DataFrame,
    source: str = "the radon table",
    required: tuple[str, ...] = REQUIRED_COLUMNS,
    hint: str = _REBUILD_HINT,
) -> pd.DataFrame:
    """Check that ``data`` has the ``required`` columns with sane values; return it with a clean index.

    Raises :class:`RadonDataError` naming ``source``, the problem and ``hint``, how to fix it.
    """
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
                f"(row {row}); {hint}"
            )
    holes = data[list(required)].isna().sum()
    if holes.any():
        where = ", ".join(f"{col} ({n})" for col, n in holes.items() if n)
        raise RadonDataError(f"{source} has missing values in: {where}; {hint}")
    data = data.reset_index(drop=True).copy()
    for col in numeric:
        data[col] = pd.to_numeric(data[col])
    if not data["floor"].isin([0, 1]).all():
        odd = sorted({v.item() if hasattr(v, "item") else v for v in data["floor"].unique()} - {0, 1})
        raise RadonDataError(
            f"{source} has floor values {odd}; floor must be 0 (basement) or 1 (first floor); {hint}"
        )
    data["floor"] = data["floor"].astype(int)
    data["county_code"] = data["county_code"].astype(int)
    pairs = data[["county", "county_code"]].drop_duplicates()
    if pairs["county"].duplicated().any() or pairs["county_code"].duplicated().any():
        clash = pairs[pairs["county"].duplicated(keep=False) | pairs["county_code"].duplicated(keep=False)]
        example = ", ".join(f"{c}={k}" for c, k in clash.head(4).itertuples(index=False))
        raise RadonDataError(
            f"{source}: county and county_code disagree (each county must have exactly one code "
            f"and each code one county; e.g. {example}); {hint}"
        )
    return data


def load_radon(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return the Minnesota radon table (one row per home), checked.

    ``path`` defaults to ``$RADON_DATA``, else ``data/radon.csv`` found by walking
    up from the working directory. Raises :class:`RadonDataError` on bad input.
    """
    csv = find_radon_csv(path)
    if not csv.is_file():
        raise RadonDataError(f"{csv} does not exist; {_REBUILD_HINT}")
    try:
        data = pd.read_csv(csv)
    except pd.errors.EmptyDataError:
        raise RadonDataError(f"{csv} is empty; {_REBUILD_HINT}") from None
    return validate_radon(data, source=str(csv))
