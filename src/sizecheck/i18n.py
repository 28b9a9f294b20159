"""Messages in English and Bahasa Indonesia, and numbers the way each reader writes them.

One message catalogue per language, ``locales/<lang>.toml``, shipped inside the package
and read with :mod:`importlib.resources`. Keys are dotted (``verdict.offset``); values are
strings with ``{placeholders}`` filled by :func:`t`.

Everything a person reads (charts, report, cards, CLI messages) goes through :func:`t` and
:func:`format_number` / :func:`format_percent` / :func:`format_date`, so Indonesian text
carries decimal commas (``4,1 mm``), ``95%`` and ``1 Mei 2026``: the marks and month names
come from the Unicode CLDR data through Babel, not from hand-written rules. Machine
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
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal
from babel.numbers import format_percent as _babel_percent

from sizecheck.errors import SizecheckError, UsageError

E = TypeVar("E", bound=SizecheckError)

__all__ = [
    "LANGS",
    "Amount",
    "Joined",
    "Note",
    "catalogue",
    "catalogue_error",
    "check_lang",
    "default_lang",
    "dimension_label",
    "error_text",
    "format_date",
    "format_number",
    "format_percent",
    "has_key",
    "note_text",
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


def catalogue_error(cls: type[E], key: str, **params: object) -> E:
    """The error ``cls`` whose message is the English catalogue text ``key`` filled with
    ``params``; it keeps ``key`` and ``params`` so the command line can show it in the
    reader's language (:func:`error_text`).

    Examples
    --------
    >>> from sizecheck.errors import InputError
    >>> exc = catalogue_error(InputError, "error.input_missing", path="'x.csv'")
    >>> str(exc), error_text(exc, "id")
    ("Input file 'x.csv' does not exist or is not a file.", "Berkas masukan 'x.csv' tidak ada atau bukan berkas.")
    """  # noqa: E501
    exc = cls(t(key, "en", **_in_lang(params, "en")))
    exc.key, exc.params = key, MappingProxyType(dict(params))
    return exc


def error_text(exc: SizecheckError, lang: str) -> str:
    """The message of ``exc`` in ``lang`` when it came from the catalogue, else as raised."""
    if exc.key is None or not has_key(exc.key, lang):
        return str(exc)
    return t(exc.key, lang, **_in_lang(exc.params, lang))


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


def _finite(x: object) -> float | None:
    """``x`` as a finite float, or None for None, NaN, infinities and non-numbers."""
    if x is None:
        return None
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _cldr(text: str) -> str:
    """Babel's text with a typographic minus sign (U+2212) instead of the hyphen."""
    return text.replace("-", "\u2212")


def format_number(
    x: float | int | None,
    lang: str = "en",
    digits: int = 1,
    *,
    signed: bool = False,
    grouping: bool = False,
) -> str:
    """A number as a person of ``lang`` writes it: ``4.1`` in English, ``4,1`` in Indonesian.

    The decimal mark and the thousands separator come from the Unicode CLDR data of the
    language, through :func:`babel.numbers.format_decimal` with the pattern ``0.0…``
    (``#,##0.0…`` when grouping). Babel rounds half to even on the decimal value.

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
    >>> format_number(-3.25, "id", 2)
    '−3,25'
    """
    value = _finite(x)
    if value is None:
        return MISSING
    body = ("#,##0" if grouping else "0") + ("." + "0" * digits if digits > 0 else "")
    text = format_decimal(value, format=body, locale=check_lang(lang))
    if not any(ch in "123456789" for ch in text):  # rounds to zero: no sign, no "-0.0"
        return text.lstrip("-")
    if signed and not text.startswith("-"):
        text = "+" + text
    return _cldr(text)


def format_percent(
    share: float | int | None, lang: str = "en", digits: int = 0, *, signed: bool = False
) -> str:
    """A share (0 … 1) as a percentage the way ``lang`` writes it: ``95%`` / ``2,5%``.

    The CLDR percent pattern of the language, through :func:`babel.numbers.format_percent`
    (Indonesian, like English, writes the sign without a space).

    Parameters
    ----------
    share : float or None
        The share as a fraction: ``0.95`` is 95 %. NaN, None and infinities give ``"–"``.
    lang : {"en", "id"}, default "en"
    digits : int, default 0
        Digits after the decimal mark.
    signed : bool, default False
        Always show the sign (zero is shown without one).

    Returns
    -------
    str

    Examples
    --------
    >>> format_percent(0.953, "id")
    '95%'
    >>> format_percent(0.025, "id", 1)
    '2,5%'
    """
    value = _finite(share)
    if value is None:
        return MISSING
    body = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    text = _babel_percent(value, format=body, locale=check_lang(lang))
    if not any(ch in "123456789" for ch in text):
        return text.lstrip("-")
    if signed and not text.startswith("-"):
        text = "+" + text
    return _cldr(text)


def format_date(value: object, lang: str = "en") -> str:
    """A date the way ``lang`` writes it in a letter: ``May 1, 2026`` / ``1 Mei 2026``.

    CLDR's medium date format of the language, through :func:`babel.dates.format_date`:
    the month in words, so 1 May is never read as 5 January.

    Parameters
    ----------
    value : date, datetime, Timestamp, str or None
    lang : {"en", "id"}

    Returns
    -------
    str
        ``"–"`` for a missing date; a text that is no date is returned as it is.

    Examples
    --------
    >>> format_date("2026-05-01", "id")
    '1 Mei 2026'
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
    return _babel_date(d, format="medium", locale=check_lang(lang))


def dimension_label(dimension: str, lang: str = "en") -> str:
    """The human name of a dimension (``insole_length`` → ``Insole length`` / ``Panjang insole``).

    Unknown dimensions fall back to their name with spaces.
    """
    key = f"dimension.{dimension}"
    if has_key(key, lang):
        return t(key, lang)
    return str(dimension).replace("_", " ").capitalize()


class Note(str):
    """A note on a file read (a sheet skipped, a column not used): the English text (what
    ``str`` gives, and ``summary.json``/``gage.json`` keep), with the catalogue ``key``
    and ``params`` that give it in another language (:func:`note_text`).

    Examples
    --------
    >>> note = Note("gage.note.value_ignored", source="a.csv", column="'nilai'")
    >>> str(note)
    "a.csv: column 'nilai' ignored; the dimension columns are used."
    >>> note_text(note, "id").startswith("a.csv: kolom 'nilai' tidak dipakai")
    True
    """

    key: str
    params: Mapping[str, object]

    def __new__(cls, key: str, /, **params: object) -> Note:
        note = super().__new__(cls, t(key, "en", **_in_lang(params, "en")))
        note.key, note.params = key, MappingProxyType(dict(params))
        return note

    def __reduce__(self) -> tuple[Any, ...]:  # pickled with its key (worker processes)
        return (_note, (self.key, dict(self.params)))


def _note(key: str, params: dict[str, object]) -> Note:
    return Note(key, **params)


def note_text(note: str, lang: str) -> str:
    """A note in ``lang``: from the catalogue for a :class:`Note`, else as written."""
    if isinstance(note, Note) and has_key(note.key, lang):
        return t(note.key, lang, **_in_lang(note.params, lang))
    return str(note)


class Joined(NamedTuple):
    """Notes joined by ``sep``: a list inside a message (what a header lacks), each
    part in the reader's language (:func:`note_text`)."""

    sep: str
    parts: tuple[Note, ...]

    def text(self, lang: str) -> str:
        """The parts in ``lang``, joined."""
        return self.sep.join(note_text(p, lang) for p in self.parts)


class Amount(NamedTuple):
    """A large number inside a message, grouped as the reader writes it: ``3,276,800``
    in English, ``3.276.800`` in Indonesian (the dot groups, the comma is the decimal
    mark).

    >>> Amount(3276800).text("id"), Amount(4295.04, 1).text("id"), Amount(4295.04, 1).text("en")
    ('3.276.800', '4.295,0', '4,295.0')
    """

    value: float
    digits: int = 0

    def text(self, lang: str) -> str:
        """The number in ``lang``."""
        english = f"{self.value:,.{self.digits}f}"
        if lang != "id":
            return english
        return english.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _in_lang(params: Mapping[str, object], lang: str) -> dict[str, object]:
    """``params`` with every :class:`Note`, :class:`Joined` and :class:`Amount` given in
    ``lang``: a message made of parts reads in one language throughout."""
    out: dict[str, object] = {}
    for name, value in params.items():
        if isinstance(value, Note):
            out[name] = note_text(value, lang)
        elif isinstance(value, Joined | Amount):
            out[name] = value.text(lang)
        else:
            out[name] = value
    return out
