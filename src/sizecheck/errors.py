"""Errors that sizecheck raises on purpose.

Every message says what was expected, what was found and what to do. Only
:mod:`sizecheck.cli` turns these into exit codes; library callers catch
:class:`SizecheckError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

__all__ = [
    "InputError",
    "MissingColumnsError",
    "SizeLabelError",
    "SizecheckError",
    "TableError",
    "UnknownTableError",
    "UsageError",
    "require_columns",
]


class SizecheckError(Exception):
    """Base class of every error sizecheck raises on purpose.

    An error made with :func:`sizecheck.i18n.catalogue_error` keeps the catalogue key and
    values of its message (``key``, ``params``), so the command line can show it in the
    reader's language; ``str(exc)`` is the English text either way.
    """

    #: The catalogue key of the message and the values it was filled with, if any.
    key: str | None = None
    params: Mapping[str, object] = MappingProxyType({})


class UsageError(SizecheckError):
    """A parameter or option has a value sizecheck cannot use."""


class SizeLabelError(SizecheckError, ValueError):
    """A size label cannot be read, or a size cannot be converted."""


class TableError(SizecheckError):
    """A reference table is malformed; ``problems`` lists every problem with its location."""

    def __init__(self, origin: str, problems: Sequence[str]) -> None:
        self.origin = origin
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Reference table {origin} has {len(self.problems)} problem(s):\n{lines}")


class UnknownTableError(SizecheckError):
    """No shipped table has this name and no file exists at this path."""

    def __init__(self, name: str, available: Sequence[str]) -> None:
        self.name = name
        self.available = list(available)
        # the English text of the catalogue's "error.unknown_table" (errors.py comes before
        # the catalogue), shown in the reader's language by the command line
        self.key = "error.unknown_table"
        self.params = MappingProxyType({"name": repr(name), "available": ", ".join(available)})
        super().__init__(
            f"Unknown table {name!r}. Available: {', '.join(self.available)}. "
            "Pass one of these names or the path of a .toml table; run 'sizecheck tables'."
        )


class InputError(SizecheckError):
    """An input file cannot be read or has no usable layout."""


class MissingColumnsError(InputError):
    """An input file or frame lacks a column that is needed (producer, size, ...)."""


def require_columns(
    frame: object,
    columns: Iterable[str],
    what: str,
    *,
    hint: str = "",
    error: type[SizecheckError] = MissingColumnsError,
) -> None:
    """Raise ``error`` naming the missing columns when ``frame`` lacks any of ``columns``.

    A ``frame`` that has no ``columns`` at all (not a DataFrame) raises :class:`UsageError`.

    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "f()", error=UsageError)
    Traceback (most recent call last):
    ...
    sizecheck.errors.UsageError: f() needs the column(s) a, b; missing column(s): b.
    """
    present = getattr(frame, "columns", None)
    if present is None:
        raise UsageError(f"{what} expects a pandas DataFrame, got {type(frame).__name__}.")
    needed = [str(c) for c in columns]
    missing = [c for c in needed if c not in present]
    if missing:
        tail = f" {hint}" if hint else ""
        raise error(
            f"{what} needs the column(s) {', '.join(needed)}; missing column(s): "
            f"{', '.join(missing)}.{tail}"
        )
