"""The one way the package replaces a file: ``write`` fills a temporary file beside it, which then
takes its name in one step. A reader never sees half a file, and an error or Ctrl-C while writing
leaves the old file as it was. Used for the data tables, the sweep records, the numbers the
chapters show and the stripped notebooks."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

__all__ = ["replace_file"]


def replace_file(path: str | os.PathLike, write: Callable[[TextIO], object]) -> None:
    """Make what ``write(stream)`` writes (UTF-8 text, no newline translation) the content of
    ``path``, all or nothing, keeping the permissions of the file it replaces; a new file gets
    ``rw-r--r--`` (``mkstemp`` alone makes it private)."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o644
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            write(stream)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
