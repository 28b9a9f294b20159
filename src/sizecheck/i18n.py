"""Messages in English and Bahasa Indonesia, and numbers the way each reader writes them.

One message catalogue per language, ``locales/<lang>.toml``, shipped inside the package
and read with :mod:`importlib.resources`. Keys are dotted (``verdict.offset``); values are
strings with ``{placeholders}`` filled by :func:`t`.

Everything a person reads (charts, report, cards, CLI messages) goes through :func:`t` and
:func:`format_number`, so Indonesian text carries decimal commas (``4,1 mm``). Machine
outputs (CSV, JSON) never do: they are written with dots by :mod:`sizecheck.report`.

>>> t("verdict.offset", "en")
'offset'
>>> format_number(4.125, "id", 1)
'4,1'
>>> format_number(1234.5, "en", 1, signed=True)
'+1234.5'
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import locale
import math
import os
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from sizecheck.errors import UsageError

__all__ = [
    "LANGS",
    "catalogue",
    "check_lang",
    "default_lang",
    "dimension_label",
    "format_date",
    "format_number",
    "has_key",
    "t",
]

#: Languages with a catalogue, in the order they are offered.
LANGS: tuple[str, ...] = ("en", "id")

#: Placeholder for a missing number (NaN, None, infinite).
MISSING = "–"


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, full + "."))
        else:
            out[full] = str(value)
    return out


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """All messages of one language as a flat mapping of dotted key to template.

    Parameters
    ----------
    lang : {"en", "id"}

    Returns
    -------
    Mapping of str to str
    """
    lang = check_lang(lang)
    text = resources.files("sizecheck").joinpath("locales", f"{lang}.toml").read_text("utf-8")
    return _flatten(tomllib.loads(text))


def check_lang(lang: str) -> str:
    """Return ``lang`` normalised (``"ID"`` → ``"id"``); raise :class:`UsageError` if unknown.

    Parameters
    ----------
    lang : str

    Returns
    -------
    str
    """
    norm = str(lang).strip().lower().replace("_", "-").split("-")[0]
    if norm == "in":  # the old ISO 639 code for Indonesian, still used by some systems
        norm = "id"
    if norm not in LANGS:
        raise UsageError(f"Unknown language {lang!r}. Available: {', '.join(LANGS)}.")
    return norm


def has_key(key: str, lang: str = "en") -> bool:
    """Whether ``key`` is in the catalogue of ``lang``."""
    return key in catalogue(lang)


def t(key: str, lang: str = "en", **kw: object) -> str:
    """The message ``key`` in ``lang``, with its ``{placeholders}`` filled from ``kw``.

    Parameters
    ----------
    key : str
        Dotted key, e.g. ``"verdict.offset"``.
    lang : {"en", "id"}, default "en"
    **kw
        Values for the placeholders (format numbers first with :func:`format_number`).

    Returns
    -------
    str

    Raises
    ------
    KeyError
        When the key is not in the catalogue (a programming error, not a user error).

    Examples
    --------
    >>> t("report.n_producers", "id", n=7)
    '7 produsen'
    """
    template = catalogue(lang)[key]
    return template.format_map(kw) if kw else template


def default_lang() -> str:
    """The language of the system locale: ``"id"`` for Indonesian (``id``/``in``), else ``"en"``.

    Looks at ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` first, then :func:`locale.getlocale`.

    Returns
    -------
    str
    """
    candidates = [os.environ.get(v, "") for v in ("LC_ALL", "LC_MESSAGES", "LANG")]
    with contextlib.suppress(ValueError):  # broken locale settings
        candidates.append(locale.getlocale()[0] or "")
    for cand in candidates:
        if not cand or cand in ("C", "POSIX") or cand.startswith("C."):
            continue
        code = cand.lower().replace("-", "_").split("_")[0].split(".")[0]
        if code in ("id", "in", "indonesian"):
            return "id"
        return "en"
    return "en"


def format_number(
    x: float | int | None,
    lang: str = "en",
    digits: int = 1,
    *,
    signed: bool = False,
    grouping: bool = False,
) -> str:
    """A number as a person of ``lang`` writes it: ``4.1`` in English, ``4,1`` in Indonesian.

    Parameters
    ----------
    x : float or None
        NaN, None and infinities give ``"–"``.
    lang : {"en", "id"}, default "en"
    digits : int, default 1
        Digits after the decimal mark.
    signed : bool, default False
        Always show the sign (``+4.1``, ``−4.1``; zero is shown without a sign).
    grouping : bool, default False
        Group thousands (``12,345`` / ``12.345``).

    Returns
    -------
    str

    Examples
    --------
    >>> format_number(-0.04, "en", 1, signed=True)
    '0.0'
    >>> format_number(12345, "id", 0, grouping=True)
    '12.345'
    """
    if x is None:
        return MISSING
    try:
        value = float(x)
    except (TypeError, ValueError):
        return MISSING
    if not math.isfinite(value):
        return MISSING
    text = f"{value:{',' if grouping else ''}.{digits}f}"
    if text.lstrip("-").strip("0.,") == "":  # rounds to zero: no sign, no "-0.0"
        text = text.lstrip("-")
    elif signed and not text.startswith("-"):
        text = "+" + text
    if check_lang(lang) == "id":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text.replace("-", "−")


def format_date(value: object, lang: str = "en") -> str:
    """A date as ``2026-05-01`` (en) or ``01/05/2026`` (id, as Indonesian offices write it).

    Parameters
    ----------
    value : date, datetime, Timestamp, str or None
    lang : {"en", "id"}

    Returns
    -------
    str
        ``"–"`` for a missing date.
    """
    if value is None:
        return MISSING
    try:
        import pandas as pd

        ts = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if pd.isna(ts):
        return MISSING
    d: _dt.date = ts.date()
    return d.strftime("%d/%m/%Y") if check_lang(lang) == "id" else d.isoformat()


def dimension_label(dimension: str, lang: str = "en") -> str:
    """The human name of a dimension (``insole_length`` → ``Insole length`` / ``Panjang insole``).

    Unknown dimensions fall back to their name with spaces.
    """
    key = f"dimension.{dimension}"
    if has_key(key, lang):
        return t(key, lang)
    return str(dimension).replace("_", " ").capitalize()
