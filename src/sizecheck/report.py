"""Writing files: the only module of sizecheck that touches the file system for output.

Every function here takes the already computed objects, writes them, and returns the
paths it wrote. Nothing is written outside the folder or path it is given.
"""

from __future__ import annotations

from pathlib import Path

from sizecheck.errors import UsageError
from sizecheck.tables import ReferenceTable, dumps_table

__all__ = ["write_table"]


def write_table(table: ReferenceTable, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a graded table as TOML to ``path`` and return the path.

    Raises :class:`UsageError` when the file exists and ``overwrite`` is false, so a
    table someone keeps is never replaced by accident.
    """
    target = Path(path)
    if target.suffix != ".toml":
        raise UsageError(f"A table file must end in .toml, found {target.name!r}.")
    if target.exists() and not overwrite:
        raise UsageError(f"{target} exists already; choose another name or pass --force.")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps_table(table), encoding="utf-8")
    return target
