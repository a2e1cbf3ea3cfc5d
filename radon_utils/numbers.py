"""The numbers a chapter's prose shows, ready for the page and kept on disk.

A chapter creates one :class:`ChapterNumbers` and records each number its text shows, with the
format it is shown in::

    numbers = ChapterNumbers("03_where_nuts_fails")
    numbers.record(n_divergences=n_divergences, sigma_b_median=(sigma_b_median, ".3f"))

Its markdown then names them with the ``{eval}`` role, ``{eval}`numbers.sigma_b_median```, which
renders the same text on the built site (myst-nb's inline execution) and in JupyterLab
(jupyterlab-myst). Every record also writes two JSON files under ``_build/numbers/`` in the
repository, for the tests and the benchmark: ``<chapter>.json`` with the values themselves and
``<chapter>.shown.json`` with the text the prose shows.
"""

from __future__ import annotations

import json
import math
import numbers as _abc
import os
from collections.abc import Mapping
from pathlib import Path

from ._atomic import replace_file

__all__ = ["NUMBERS_DIR_ENV_VAR", "ChapterNumbers", "numbers_dir", "read_numbers"]

#: Environment variable naming another folder for the records (tests use it).
NUMBERS_DIR_ENV_VAR = "RADON_NUMBERS"


class ChapterNumbers:
    """Display-ready numbers of one chapter: ``numbers.name`` is the text the prose shows."""

    def __init__(self, chapter: str, folder: str | os.PathLike | None = None):
        if not chapter or Path(chapter).name != chapter:
            raise ValueError(
                f"chapter must be a file stem such as '03_where_nuts_fails', not {chapter!r}"
            )
        self._chapter = chapter
        self._folder = Path(folder) if folder is not None else numbers_dir()
        self._values: dict[str, object] = {}
        self._shown: dict[str, str] = {}

    def record(self, **numbers: object) -> None:
        """Record ``name=value`` (ints and strings) or ``name=(value, format_spec)`` (any number).

        A float needs a format spec, the one the prose shows it with, e.g. ``(0.2592, ".3f")``
        or ``(0.131, ".0%")``. Recording a name again replaces it.
        """
        for name, entry in numbers.items():
            value, spec = entry if isinstance(entry, tuple) else (entry, None)
            self._values[name], self._shown[name] = (
                _json_value(name, value),
                _show(name, value, spec),
            )
        self._write()

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._shown[name]
        except KeyError:
            raise AttributeError(
                f"no number named {name!r} was recorded for {self._chapter} (recorded so far: "
                f"{', '.join(self._shown) or 'none'}); "
                "record it in a cell above the text that shows it"
            ) from None

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._shown]

    def __repr__(self) -> str:
        return f"ChapterNumbers({self._chapter!r}, {len(self._shown)} numbers)"

    def _write(self) -> None:
        if self._folder is None:
            return
        self._folder.mkdir(parents=True, exist_ok=True)
        _write_json(self._folder / f"{self._chapter}.json", self._values)
        _write_json(self._folder / f"{self._chapter}.shown.json", self._shown)


def numbers_dir(start: str | os.PathLike | None = None) -> Path | None:
    """``$RADON_NUMBERS`` if set, else ``_build/numbers`` in the repository above ``start``.

    None when it is not set and no repository is found.
    """
    if setting := os.environ.get(NUMBERS_DIR_ENV_VAR):
        return Path(setting)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").exists() and (folder / "radon_utils").is_dir():
            return folder / "_build" / "numbers"
    return None


def read_numbers(
    chapter: str, *, shown: bool = False, folder: str | os.PathLike | None = None
) -> dict:
    """The values a chapter recorded when it last ran (or, with ``shown=True``, their text)."""
    folder = Path(folder) if folder is not None else numbers_dir()
    path = None if folder is None else folder / f"{chapter}{'.shown' if shown else ''}.json"
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"no numbers recorded for {chapter} at {path}: run the chapter (or `make book`) first"
        )
    return json.loads(path.read_text())


def _json_value(name: str, value: object) -> object:
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, _abc.Integral):
        return int(value)
    if isinstance(value, _abc.Real):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(
                f"{name} is {number}: the prose cannot show a number that is not finite"
            )
        return number
    raise TypeError(f"{name} must be an int, a float or a str, not {type(value).__name__}")


def _show(name: str, value: object, spec: str | None) -> str:
    if isinstance(value, str):
        return value if spec is None else format(value, spec)
    if spec is None:
        if isinstance(value, _abc.Integral) and not isinstance(value, bool):
            return str(int(value))
        raise TypeError(
            f"{name}: give the format the prose shows it with, e.g. {name}=(value, '.2f'); "
            "only ints and strings may be recorded without one"
        )
    try:
        return format(float(value) if not isinstance(value, _abc.Integral) else int(value), spec)
    except ValueError as error:
        raise ValueError(f"{name}: {spec!r} is not a format spec for {value!r} ({error})") from None


def _write_json(path: Path, content: Mapping[str, object]) -> None:
    """Write ``content`` to ``path`` all or nothing (:func:`~radon_utils._atomic.replace_file`)."""

    def write(stream) -> None:
        json.dump(content, stream, indent=1, ensure_ascii=False)
        stream.write("\n")

    replace_file(path, write)
