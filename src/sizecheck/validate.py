"""Raw sheets to measurements and rejects: every row and cell read is accounted for.

:func:`validate` turns the :class:`~sizecheck.readers.RawSheet` objects of
:func:`~sizecheck.readers.read_input` into

- ``measurements``: one row per accepted measurement cell, long format, in the column
  order of ``docs/internals.md`` (pass-through columns after them);
- ``rejects``: one row per rejected cell, rejected row or skipped row, with a stable
  :class:`RejectCode` (pandera-style ``failure_cases``): ``source, row, column, value,
  code, message``;
- :class:`Accounting`: ``rows_read = rows_used + rows_rejected`` and ``cells_read =
  cells_used + cells_rejected``, in total and per source.

Policy
------
- A bad **measurement cell** (``not_a_number``, ``negative``, ``implausible``,
  ``unknown_unit``, ``unknown_dimension``, ``duplicate_sample``) rejects that cell only.
- A bad **producer or size** (``missing_producer``, ``missing_size``, ``unreadable_size``,
  ``size_outside_table``) rejects the whole row; its cells count as rejected but are not
  listed one by one. So does a text row with **more or fewer fields than the header**
  (``too_many_fields``, ``too_few_fields``): its cells would sit under the wrong columns
  or be dropped (``UD Maju,41,273,5`` is a decimal comma in a comma-separated file).
- A workbook **formula saved without its value** (``formula_without_value``) is listed
  where it stands; in a measurement column it is a rejected cell.
- A bad **foot or date** (``unknown_foot``, ``bad_date``) is listed, and the row's
  measurements are kept with ``foot``/``date`` missing: the length of a shoe does not
  become wrong because its date was mistyped, and dropping it would lose a measurement.
  So is a **pair id** on more than two shoes or on two of one foot
  (``pair_too_many_shoes``, ``pair_same_foot``: kept without the pair id), and a date
  column whose **day/month order** is uncertain (``ambiguous_date``) or was read month
  first (``month_first_date``): listed once, on the header row.
- A column that names a dimension with something unread after it (``lebar (m)``,
  ``panjang insole kiri``, ``insole_length_2``) has every cell rejected
  (``unknown_unit``, ``unknown_dimension``), naming the column. Two columns of one role
  or dimension, or wide and long columns in one sheet, are refused.
- **Skipped rows** (``skipped_title``, ``skipped_header``, ``skipped_summary``,
  ``skipped_signature``, ``skipped_blank``) are rows read and rejected; they are listed
  but are not problems (:attr:`RejectCode.is_skip`). A row with a producer and a size but
  no measured value is ``no_measurement``.
- A cell holding only ``-``, ``–`` or ``—`` in a dimension column means "not measured" and
  counts as blank, like an empty cell (``cells_blank``, not read).
- Numbers: a lone ``,`` or ``.`` is a decimal mark (``273,5``); when both appear, the last
  is the decimal mark; the file's decimal mark (detected or ``--decimal``) only settles
  ``1.234``-shaped values (see :func:`parse_numbers`).
- Dates are read day first: ISO ``2026-03-12``, ``12/03/2026``, ``12-03-26``,
  ``12 Maret 2026``, ``3 Agu 2026``, Excel dates and Excel serial numbers (``46093``);
  month first only when the column shows it (see :func:`_dates`). Years outside
  1900–2100 are ``bad_date``.
- Duplicates: within one source, the same producer, sample id, size, date, foot and
  dimension seen again (only where ``sample_id`` is given) keeps the first value and
  rejects the later ones. Sample numbers that restart in each size block or each visit
  are therefore not duplicates.

Each sheet goes through named stages, each a short function (see the list above
``_CELL_CODES`` in the source): columns, parse, classify, keys, cells, foot/date,
duplicates, pairs, listing, accounting, assemble.

Examples
--------
>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "qa.csv"
>>> _ = p.write_text(
...     "produsen;ukuran;panjang_insole (cm);lebar_insole\\n"
...     "UD Maju;41;27,35;98\\n"
...     "UD Maju;abc;27,4;99\\n"
...     "Rata-rata;;27,4;98,5\\n", encoding="utf-8")
>>> v = read_measurements(p)
>>> v.measurements[["row", "producer", "size", "dimension", "value_mm"]]
   row producer  size          dimension  value_mm
0    2  UD Maju  41.0      insole_length     273.5
1    2  UD Maju  41.0  insole_ball_width      98.0
>>> v.rejects[["row", "code"]].to_dict("records")
[{'row': 3, 'code': 'unreadable_size'}, {'row': 4, 'code': 'skipped_summary'}]
>>> a = v.accounting
>>> (a.rows_read, a.rows_used, a.rows_rejected), (a.cells_read, a.cells_used, a.cells_rejected)
((3, 1, 2), (6, 2, 4))
"""

from __future__ import annotations

import itertools
import os
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import ArrayLike, NDArray

from sizecheck import columns
from sizecheck.errors import InputError, MissingColumnsError, SizeLabelError, UsageError
from sizecheck.i18n import (
    Note,
    catalogue_error,
    check_lang,
    dimension_label,
    format_number,
    has_key,
    t,
)
from sizecheck.readers import RawSheet, ReadLimits, read_input
from sizecheck.schema import (
    DIMENSIONS,
    FOOT_VALUES,
    UNIT_TO_MM,
    ColumnMatch,
    NearMatch,
    match_column,
    near_dimension,
)
from sizecheck.sizes import DEFAULT_TOE_ALLOWANCE_MM, convert_size, parse_size

if TYPE_CHECKING:
    from sizecheck.tables import ReferenceTable

__all__ = [
    "CATEGORY_COLUMNS",
    "MEASUREMENT_COLUMNS",
    "REJECT_COLUMNS",
    "Accounting",
    "RejectCode",
    "SourceAccounting",
    "TableLike",
    "Validated",
    "frame_sheet",
    "localized_rejects",
    "parse_dates",
    "parse_numbers",
    "read_frames",
    "read_measurements",
    "reject_message",
    "reject_text",
    "validate",
    "validate_frame",
]

#: Contract columns of the ``measurements`` and ``rejects`` frames (see
#: :mod:`sizecheck.columns`).
MEASUREMENT_COLUMNS = columns.MEASUREMENTS
REJECT_COLUMNS = columns.REJECTS


class RejectCode(StrEnum):
    """Why a cell or row was not used. Stable: scripts and tests rely on these values."""

    NOT_A_NUMBER = "not_a_number"
    NEGATIVE = "negative"
    IMPLAUSIBLE = "implausible"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_DIMENSION = "unknown_dimension"
    DUPLICATE_SAMPLE = "duplicate_sample"
    MISSING_PRODUCER = "missing_producer"
    MISSING_SIZE = "missing_size"
    UNREADABLE_SIZE = "unreadable_size"
    SIZE_OUTSIDE_TABLE = "size_outside_table"
    NO_MEASUREMENT = "no_measurement"
    TOO_MANY_FIELDS = "too_many_fields"
    TOO_FEW_FIELDS = "too_few_fields"
    FORMULA_WITHOUT_VALUE = "formula_without_value"
    UNKNOWN_FOOT = "unknown_foot"
    BAD_DATE = "bad_date"
    AMBIGUOUS_DATE = "ambiguous_date"
    MONTH_FIRST_DATE = "month_first_date"
    PAIR_TOO_MANY_SHOES = "pair_too_many_shoes"
    PAIR_SAME_FOOT = "pair_same_foot"
    #: a gage study row without its part, operator or trial (:func:`sizecheck.gage.read_study`)
    MISSING_PART = "missing_part"
    MISSING_OPERATOR = "missing_operator"
    MISSING_TRIAL = "missing_trial"
    SKIPPED_TITLE = "skipped_title"
    SKIPPED_HEADER = "skipped_header"
    SKIPPED_SUMMARY = "skipped_summary"
    SKIPPED_SIGNATURE = "skipped_signature"
    SKIPPED_BLANK = "skipped_blank"

    @property
    def is_skip(self) -> bool:
        """Whether the code marks a row skipped by design (title, blank, summary...)."""
        return self.value.startswith("skipped_")


def reject_text(key: str, **kw: object) -> str:
    """The English message ``reject.<key>`` of the catalogue: the record in ``rejects``
    (of measurement files here, of gage studies in :mod:`sizecheck.gage`).

    A reject's message is written in English once (the analysis does not depend on the
    language it is shown in); :func:`reject_message` gives it in another language.
    """
    return t(f"reject.{key}", "en", **kw)


#: The catalogue keys a reject's message may come from, per code, most specific first
#: (a code not listed uses the key of its own name).
_MESSAGE_KEYS: dict[str, tuple[str, ...]] = {
    "too_many_fields": ("too_many_fields_comma", "too_many_fields"),
    "duplicate_sample": ("duplicate_reading", "duplicate_sample"),
    "unknown_unit": ("column_unit", "unknown_unit"),
    "unknown_dimension": ("column_one_foot", "column_numbered", "unknown_dimension"),
    "implausible": (
        "implausible_mark_lost", "implausible_cm", "implausible_mark_moved", "implausible",
    ),
}  # fmt: skip


@cache
def _message_pattern(key: str) -> re.Pattern[str]:
    """A regex matching the English template ``reject.<key>`` with its placeholders as
    named groups (a placeholder used twice must hold the same text twice)."""
    parts, seen = [], set()
    for literal, name, _spec, _conv in string.Formatter().parse(t(f"reject.{key}", "en")):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
            seen.add(name)
    return re.compile("".join(parts), re.DOTALL)


def _message_value(name: str, value: str, lang: str) -> str:
    """A value taken from an English message, as ``lang`` writes it: numbers with the
    language's decimal mark, a dimension by its name in ``lang``."""
    if name == "dimension" and value in DIMENSIONS:
        label = dimension_label(value, lang)
        return label[:1].lower() + label[1:]
    if name in ("value", "lo", "hi", "looks") and re.fullmatch(r"-?\d+(\.\d+)?", value):
        digits = len(value.partition(".")[2])
        return format_number(float(value), lang, digits)
    return value


def reject_message(code: str, message: str, value: object, lang: str) -> str:
    """The message of one reject for a reader of ``lang``.

    ``rejects`` holds each message in English, written from the ``reject.*`` templates of
    the catalogue. For another language the English template the message was written
    from is found by its code, the values it was filled with are read back (numbers,
    names, quoted cells), and the template of ``lang`` is filled with them. A message not
    written from the catalogue (a size label the size parser explains) falls back to the
    code's own template in ``lang``, with the cell's value.

    Parameters
    ----------
    code : str
        The :class:`RejectCode` value.
    message : str
        The English message as in ``rejects``.
    value : object
        The rejected cell's text (``value`` column).
    lang : {"en", "id"}

    Returns
    -------
    str

    Examples
    --------
    >>> reject_message("not_a_number", "not a number", "rusak", "id")
    'bukan angka'
    >>> msg = reject_text("implausible_mark_lost", value="2744", lo="80", hi="380",
    ...            dimension="insole_length", looks="274.4")
    >>> reject_message("implausible", msg, "2744", "id")  # doctest: +NORMALIZE_WHITESPACE
    '2744 mm di luar rentang wajar 80–380 mm untuk panjang insole (sol dalam); 2744
     tampaknya 274,4 mm (tanda desimal hilang?)'
    """
    if check_lang(lang) == "en":
        return message
    for key in _MESSAGE_KEYS.get(code, (code,)):
        if not has_key(f"reject.{key}", lang):
            continue
        m = _message_pattern(key).fullmatch(message)
        if m is not None:
            kw = {k: _message_value(k, v, lang) for k, v in m.groupdict().items()}
            return t(f"reject.{key}", lang, **kw)
    if has_key(f"reject.{code}", lang):
        names = {n for _, n, _, _ in string.Formatter().parse(t(f"reject.{code}", lang)) if n}
        if names <= {"label"}:
            return t(f"reject.{code}", lang, label=repr(str(value)))
    return t("reject.other", lang, code=code)


def localized_rejects(rejects: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``rejects`` with its ``message`` column in ``lang`` (see :func:`reject_message`);
    the codes stay as they are. English returns the frame itself."""
    if check_lang(lang) == "en" or rejects.empty:
        return rejects
    out = rejects.copy()
    out["message"] = [
        reject_message(str(c), str(m), v, lang)
        for c, m, v in zip(rejects["code"], rejects["message"], rejects["value"], strict=True)
    ]
    return out


class TableLike(Protocol):
    """What validation needs from a reference table (:class:`sizecheck.tables.ReferenceTable`)."""

    @property
    def name(self) -> str: ...

    @property
    def size_system(self) -> str: ...

    @property
    def sizes(self) -> tuple[float, ...]: ...

    @property
    def toe_allowance_mm(self) -> float | None: ...

    def covers(self, sizes: ArrayLike) -> NDArray[np.bool_]: ...


@dataclass(frozen=True, kw_only=True)
class _Counts:
    """The row and cell counts both :class:`SourceAccounting` and :class:`Accounting` hold."""

    rows_read: int = 0
    rows_used: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    cells_read: int = 0
    cells_used: int = 0
    cells_rejected: int = 0
    cells_blank: int = 0

    def counts(self) -> dict[str, int]:
        """The counts as plain ints, in field order."""
        return {f.name: int(getattr(self, f.name)) for f in fields(_Counts)}


@dataclass(frozen=True)
class SourceAccounting(_Counts):
    """Row and cell counts of one source (file, or file#sheet).

    ``rows_read = rows_used + rows_rejected`` and ``cells_read = cells_used +
    cells_rejected`` always hold. ``rows_skipped`` (title, blank, summary, signature and
    repeated-header rows) is the part of ``rows_rejected`` that is skipped by design.
    ``cells_blank`` counts empty dimension cells of data rows; they are not "read".
    """

    source: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict."""
        return {"source": self.source, **self.counts()}


@dataclass(frozen=True)
class Accounting(_Counts):
    """Totals over all sources, with the per-source breakdown in ``sources``.

    Examples
    --------
    >>> a = Accounting.from_sources([SourceAccounting("a.csv", rows_read=2, rows_used=2)])
    >>> a.to_dict()["rows_read"], a.to_dict()["sources"][0]["source"]
    (2, 'a.csv')
    """

    sources: tuple[SourceAccounting, ...] = ()

    @classmethod
    def from_sources(cls, sources: Sequence[SourceAccounting]) -> Accounting:
        """Sum per-source counts."""
        totals = {f.name: int(sum(getattr(s, f.name) for s in sources)) for f in fields(_Counts)}
        return cls(**totals, sources=tuple(sources))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict, for ``summary.json``."""
        return {**self.counts(), "sources": [s.to_dict() for s in self.sources]}


@dataclass(frozen=True, eq=False)
class Validated:
    """Result of :func:`validate`.

    Attributes
    ----------
    measurements : pandas.DataFrame
        One row per accepted measurement; columns :data:`MEASUREMENT_COLUMNS` then any
        pass-through columns.
    rejects : pandas.DataFrame
        Columns :data:`REJECT_COLUMNS`; ``code`` holds :class:`RejectCode` values.
    accounting : Accounting
        Row and cell counts.
    notes : tuple of str
        Information for a person (sheets skipped for lack of a header, columns ignored...).
    sheets : tuple of RawSheet
        What was read, with detected separator, decimal mark and encoding.
    """

    measurements: pd.DataFrame
    rejects: pd.DataFrame
    accounting: Accounting
    notes: tuple[str, ...] = ()
    sheets: tuple[RawSheet, ...] = field(default=(), repr=False)

    @property
    def problems(self) -> pd.DataFrame:
        """Rejects that are not rows skipped by design."""
        skip = [c.value for c in RejectCode if c.is_skip]
        return self.rejects[~self.rejects["code"].isin(skip)]

    @property
    def clean(self) -> bool:
        """Whether no cell or row was rejected for a problem (skipped rows are fine)."""
        return len(self.problems) == 0


# --------------------------------------------------------------------------- patterns

_SUMMARY_PREFIX = re.compile(
    r"^(?:rata\s*[-–]?\s*(?:2|rata)|rerata|jumlah|total|sub\s*-?\s*total|grand\s*total|average"
    r"|nilai\s+rata)\b",
    re.IGNORECASE,
)
_SUMMARY_EXACT = re.compile(
    r"^(?:mean|avg|sum|min|max|minimum|maksimum|maximum|minimal|maksimal|sd|std|stdev|"
    r"std\.?\s*dev\.?|simpangan\s+baku|standar\s+deviasi|range|n|count|median)\s*[:.]?$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(
    r"^(?:mengetahui|menyetujui|disetujui|diperiksa|diketahui|dibuat|disusun|dicek|"
    r"diverifikasi|petugas\s*:|pengukur\s*:|operator\s*:|kepala\b|ka\.?\s*upt|ka\.?\s*sie|"
    r"ttd\b|t\.t\.d|tanda\s+tangan|nip\b|nip\.|approved|checked|prepared|verified|signed|"
    r"signature|catatan\s*:|keterangan\s*:|notes?\s*:|\(.+\)$|"
    r"[a-z][a-z .'-]+,\s*\d{1,2}[\s-]+[a-z]+\.?[\s-]+\d{4}$)",
    re.IGNORECASE,
)
#: Roles whose columns are encoded by distinct value in any case (few distinct values).
_CODED_ROLES = ("producer", "size", "model", "foot", "date", "lot", "operator", "unit")
#: Every first letter (lower case) a summary label can start with: the prefilter of the
#: summary regexes. Keep in step with _SUMMARY_PREFIX and _SUMMARY_EXACT.
_SUMMARY_INITIALS = "acgjmnrst"
_NOT_MEASURED = ("-", "–", "—", "--")
_NUMBER_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"

_ID_MONTHS = {
    **dict.fromkeys(("januari", "january", "jan"), 1),
    **dict.fromkeys(("februari", "pebruari", "february", "feb", "peb"), 2),
    **dict.fromkeys(("maret", "march", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("agustus", "august", "agu", "agt", "ags", "agst", "aug"), 8),
    **dict.fromkeys(("september", "sept", "sep"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nopember", "nov", "nop"), 11),
    **dict.fromkeys(("desember", "december", "des", "dec"), 12),
}


# --------------------------------------------------------------------------- arrow helpers


#: Text as arrow holds it: one array, or the blocks of a file read in pieces (kept as they
#: are; every compute function below takes either).
_Text: TypeAlias = pa.Array | pa.ChunkedArray


def _arrow(series: pd.Series) -> _Text:
    """The cells of a text column as ``large_string``, without copying arrow-backed text."""
    arr = pa.array(series, from_pandas=True)
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return arr


def _may_need_trim(arr: _Text) -> bool:
    """Whether a cell may be empty or start or end with whitespace (else ``_clean`` has
    nothing to do). Looks only at each cell's first and last byte: control characters,
    spaces and every non-ASCII byte count as possible whitespace."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        if chunk.null_count == len(chunk):
            continue
        offsets = np.frombuffer(
            chunk.buffers()[1], dtype=np.int64, count=len(chunk) + 1, offset=8 * chunk.offset
        )
        start, end = offsets[:-1], offsets[1:]
        if chunk.null_count:
            valid = chunk.is_valid().to_numpy(zero_copy_only=False)
            start, end = start[valid], end[valid]
        if (end <= start).any():
            return True
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
        edges = np.concatenate((data[start], data[end - 1]))
        if ((edges <= 0x20) | (edges >= 0x7F)).any():
            return True
    return False


def _clean(arr: _Text) -> _Text:
    """Trim whitespace; empty text becomes null."""
    if not _may_need_trim(arr):
        return arr
    trimmed = pc.utf8_trim_whitespace(arr)
    empty = pc.equal(pc.utf8_length(trimmed), 0)
    if not pc.any(empty).as_py():
        return trimmed
    return pc.if_else(empty, pa.scalar(None, arr.type), trimmed)


def _encode(arr: _Text) -> tuple[NDArray[np.int32], pa.Array]:
    """Dictionary-encode: per-cell index into the unique values (``-1`` for null), and them."""
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    indices = pc.fill_null(enc.indices, -1) if enc.null_count else enc.indices
    return indices.to_numpy(), enc.dictionary


def _id_keys(arr: _Text) -> NDArray[np.int64]:
    """Per cell, an integer that is equal for equal text (``-1`` for null).

    Running numbers (``1``, ``2``, ... written without sign or leading zeros) are their
    own keys: no hashing of a million distinct strings. Other text is dictionary-encoded.
    """
    try:
        numbers = pc.cast(arr, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        numbers = None
    if (
        numbers is not None
        and numbers.null_count == arr.null_count
        and pc.fill_null(pc.min(numbers), 0).as_py() >= 0
        and pc.all(pc.equal(pc.cast(numbers, arr.type), arr)).as_py() is not False
    ):
        return np.asarray(pc.fill_null(numbers, -1).to_numpy(), dtype=np.int64)
    return _encode(arr)[0].astype(np.int64)


def _repeated(keys: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Whether each (non-negative) key occurs more than once."""
    if len(keys) and keys.max() < 4 * len(keys) + 1024:  # dense keys: count them
        return np.asarray(np.bincount(keys)[keys] > 1)
    return pd.Series(keys).duplicated(keep=False).to_numpy()


def _by_unique(arr: _Text) -> tuple[NDArray[np.int32], list[str]]:
    """Dictionary-encode: per-cell index into the unique values (``-1`` for null)."""
    idx, dictionary = _encode(arr)
    return idx, [str(u) for u in dictionary.to_pylist()]


def _categorical(
    codes: NDArray[np.signedinteger[Any]],
    dictionary: pa.Array,
    take: NDArray[np.signedinteger[Any]] | None = None,
    used: NDArray[np.bool_] | None = None,
) -> pa.DictionaryArray:
    """A dictionary array (a ``category`` column, no text copied per row) over the values
    used: ``codes[take]`` (``-1``: missing); ``used`` marks the codes ``take`` picks.

    The dictionary is sorted (by code point, as pandas sorts text), so that the
    categories need no reordering later (:func:`_sorted_categories`), and indexed by the
    smallest integer type that holds it (int8 for up to 128 values), as pandas' codes are.
    """
    live = codes if used is None or used.all() else codes[used]
    seen = np.zeros(len(dictionary) + 1, dtype=bool)  # the last slot: missing (code -1)
    seen[live] = True
    missing = bool(seen[-1])
    keep = np.flatnonzero(seen[:-1])
    values = dictionary.take(pa.array(keep))
    order = pc.sort_indices(values).to_numpy()
    index_type = np.int8 if len(keep) <= 128 else np.int16 if len(keep) <= 32768 else np.int32
    remap: NDArray[np.signedinteger[Any]] = np.full(len(dictionary) + 1, -1, dtype=index_type)
    remap[keep[order]] = np.arange(len(keep), dtype=index_type)
    new = remap[codes] if take is None else remap[codes][take]
    indices = pa.array(new, mask=(new < 0) if missing else None)
    return pa.DictionaryArray.from_arrays(indices, values.take(pa.array(order)))


def _map_unique(
    arr: _Text,
    func: Callable[[str], Any],
    *,
    dtype: Any,
    na: Any,
    encoded: tuple[NDArray[np.int32], pa.Array] | None = None,
) -> NDArray[Any]:
    """Apply ``func`` to each unique non-null value, broadcast to cells (``na`` for nulls).

    ``encoded``: ``_encode(arr)`` when the caller has it already.
    """
    idx, dictionary = encoded if encoded is not None else _encode(arr)
    table = np.array([func(str(u)) for u in dictionary.to_pylist()] + [na], dtype=dtype)
    return table[idx]  # idx -1 picks the trailing ``na``


def parse_numbers(values: ArrayLike | _Text, *, decimal: str = ".") -> NDArray[np.float64]:
    """Read text as numbers, vectorised; ``NaN`` where a cell is not a number.

    Either mark is read as a decimal mark (``273,5`` and ``273.5``). Where both appear, the
    last one is the decimal mark (``1.234,5``, ``1,234.5``). ``decimal`` settles the one
    ambiguous shape, a single mark followed by exactly three digits: ``1.234`` is 1234
    when ``decimal=","`` and 1.234 otherwise. Spaces inside numbers are ignored.

    Examples
    --------
    >>> parse_numbers(["273,5", "273.5", " 1.234,5 ", "abc", None, "2e2", "1.234"], decimal=",")
    array([ 273.5,  273.5, 1234.5,    nan,    nan,  200. , 1234. ])
    """
    arr = (
        values
        if isinstance(values, pa.Array | pa.ChunkedArray)
        else pa.array(values, type=pa.large_string())
    )
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    # A column of plain numbers casts as it is: arrow's parser (fast_float) takes exactly
    # the _NUMBER_RE shapes without '+', and "inf"/"nan" (NaN below, as unmatched text).
    # With a decimal point, a column that casts has no comma: nothing to rewrite.
    if decimal == "." and (out := _cast_numbers(arr)) is not None:
        return out
    s = arr
    if decimal == "," and not pc.any(pc.match_substring(s, ".")).as_py():
        s = _commas_to_points(s)  # the common decimal-comma column: each comma is the mark
    else:
        has_comma = pc.match_substring(s, ",")
        if decimal == "." and not pc.any(has_comma).as_py():
            has_comma = None  # nothing to rewrite
        if has_comma is not None:
            has_dot = pc.match_substring(s, ".")
            if pc.any(has_dot).as_py():
                both = pc.and_(has_comma, has_dot)
                if pc.any(both).as_py():  # the last mark is the decimal mark
                    comma_last = pc.match_substring_regex(s, r",\d*\s*$")
                    without = pc.if_else(
                        comma_last,
                        pc.replace_substring(s, ".", ""),
                        pc.replace_substring(s, ",", ""),
                    )
                    s = pc.if_else(both, without, s)
                if decimal == ",":  # '1.234' in a decimal-comma file is one thousand...
                    thousands = r"^\s*[+-]?\d{1,3}\.\d{3}\s*$"
                    s = pc.if_else(
                        pc.match_substring_regex(s, thousands), pc.replace_substring(s, ".", ""), s
                    )
            if decimal == ".":  # ... and '1,234' in a decimal-point file
                thousands = r"^\s*[+-]?\d{1,3},\d{3}\s*$"
                s = pc.if_else(
                    pc.match_substring_regex(s, thousands), pc.replace_substring(s, ",", ""), s
                )
            s = _commas_to_points(s)
    if s is not arr and (out := _cast_numbers(s)) is not None:  # (arr: tried above)
        return out
    # Keep only the cells shaped like numbers, so that this last cast cannot fail.
    ok = pc.match_substring_regex(s, _NUMBER_RE)
    if not pc.all(pc.or_(ok, pc.is_null(s))).as_py():
        s = pc.replace_substring_regex(s, r"[\s\x{00a0}\x{202f}']", "")
        ok = pc.match_substring_regex(s, _NUMBER_RE)
        s = pc.if_else(ok, s, pa.scalar(None, s.type))
    out = pc.cast(s, pa.float64())
    return _finite(out)


def _commas_to_points(s: _Text) -> _Text:
    """``pc.replace_substring(s, ",", ".")`` as one pass over the bytes of the text: the
    same length, so the offsets and validity of each block are kept as they are."""

    def points(block: pa.Array) -> pa.Array:
        validity, offsets, data = block.buffers()
        if data is None:
            return block
        text = np.frombuffer(data, dtype=np.uint8).copy()
        text[text == ord(",")] = ord(".")
        return pa.Array.from_buffers(
            block.type,
            len(block),
            [validity, offsets, pa.py_buffer(text)],
            null_count=block.null_count,
            offset=block.offset,
        )

    if isinstance(s, pa.ChunkedArray):
        return pa.chunked_array([points(b) for b in s.chunks], type=s.type)
    return points(s)


def _cast_numbers(s: _Text) -> NDArray[np.float64] | None:
    """``s`` cast to numbers, or ``None`` if a cell is not a plain number."""
    try:
        return _finite(pc.cast(s, pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _finite(values: _Text) -> NDArray[np.float64]:
    result = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    finite = np.isfinite(result)
    if not finite.all():
        result = np.where(finite, result, np.nan)
    return result


#: Years a measurement date may have; other years are typos (``0001-01-01``, ``9999``).
DATE_YEARS = (1900, 2100)
_ISO_DATE = r"^\d{4}-\d{1,2}-\d{1,2}(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_DMY_DATE = r"^(\d{1,2})\s*[/.\-\s]\s*([a-z]+\.?|\d{1,2})\s*[/.\-\s,]\s*(\d{4}|\d{2})$"


def parse_dates(values: Sequence[str | None], *, day_first: bool = True) -> NDArray[np.datetime64]:
    """Read dates written by QA staff, day first; ``NaT`` where unreadable.

    Accepts ISO dates (with time), ``dd/mm/yyyy``, ``dd-mm-yy``, ``dd.mm.yyyy``, day and
    Indonesian or English month name (``12 Maret 2026``, ``3 Agu 2026``, ``5-Jan-26``)
    and Excel serial numbers (20000–80000, i.e. 1954–2119). Years outside
    :data:`DATE_YEARS` (1900–2100) are not read: ``0001-01-01`` and ``9999-12-31`` are
    typos or placeholders. ``day_first=False`` reads ``03/25/2026`` (month first; month
    names are read either way). Meant for the unique values of a column: parse those,
    then broadcast.

    Examples
    --------
    >>> parse_dates(["2026-03-12", "12/03/2026", "12 Maret 2026", "3 Agu 26", "46093",
    ...              "31/02/2026", "kemarin", "9999-12-31"]).astype(str).tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    ['2026-03-12T00:00:00.000000000', '2026-03-12T00:00:00.000000000',
     '2026-03-12T00:00:00.000000000', '2026-08-03T00:00:00.000000000',
     '2026-03-12T00:00:00.000000000', 'NaT', 'NaT', 'NaT']
    >>> parse_dates(["03/25/2026"], day_first=False).astype(str).tolist()
    ['2026-03-25T00:00:00.000000000']
    """
    s = pd.Series(list(values), dtype=object).astype("str").str.strip().str.lower()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    lo, hi = DATE_YEARS
    iso = s.str.match(_ISO_DATE).fillna(False).astype(bool)
    iso &= pd.to_numeric(s.str[:4], errors="coerce").between(lo, hi)
    if iso.any():
        out[iso] = pd.to_datetime(s[iso], format="ISO8601", errors="coerce").astype(
            "datetime64[ns]"
        )
    parts = s.str.extract(_DMY_DATE)
    has = parts[0].notna() & out.isna()
    if has.any():
        p = parts[has]
        month_text = p[1].str.rstrip(".")
        month = pd.to_numeric(month_text, errors="coerce")
        day = pd.to_numeric(p[0])
        if not day_first:  # numeric months swap with the day; named months stay
            day, month = month.where(month.notna(), day), month.where(month.isna(), day)
        month = month.fillna(month_text.map(_ID_MONTHS))
        year = pd.to_numeric(p[2], errors="coerce")
        year = year.where(year >= 100, year + 2000)
        year = year.where(year.between(lo, hi))
        frame = pd.DataFrame({"year": year, "month": month, "day": day})
        out[has] = pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]")
    serial = s.str.match(r"^\d{5}(?:\.\d+)?$").fillna(False).astype(bool) & out.isna()
    if serial.any():
        num = pd.to_numeric(s[serial], errors="coerce")
        num = num.where((num >= 20000) & (num <= 80000))
        dates = pd.to_datetime(num, unit="D", origin="1899-12-30").astype("datetime64[ns]")
        out[serial] = dates.where(dates.dt.year.between(lo, hi))
    return out.to_numpy(dtype="datetime64[ns]")


# --------------------------------------------------------------------------- per-sheet work
#
# A sheet is validated in named stages (:func:`_validate_sheet` runs them in this order):
#
#   columns     _layout           which column holds which role or dimension
#   parse       _parse_cells      measurement cells -> numbers in mm, with their units
#   classify    _classify_rows    blank, repeated-header, summary and signature rows
#   keys        _keys             producer and size: the checks that reject a whole row
#   cells       _cell_status      per cell: blank, not a number, unit, negative, implausible
#   foot/date   _foot, _dates     listed when unreadable; the measurements are kept
#   duplicates  _duplicates       a sample's dimension given again
#   pairs       _pairs            a pair id on three shoes, or on two of one foot
#   listing     _list_cell_rejects  the rejected cells, with their messages
#   accounting  _accounting       rows and cells read = used + rejected
#   assemble    _assemble         the long measurements table
#
# Cell status codes of the (rows x measurement columns) grid:
_OK, _BLANK, _NAN, _NEG, _IMPL, _UNIT, _UDIM, _DUP, _FORMULA = range(9)
_CELL_CODES = {
    _FORMULA: RejectCode.FORMULA_WITHOUT_VALUE,
    _NAN: RejectCode.NOT_A_NUMBER,
    _NEG: RejectCode.NEGATIVE,
    _IMPL: RejectCode.IMPLAUSIBLE,
    _UNIT: RejectCode.UNKNOWN_UNIT,
    _UDIM: RejectCode.UNKNOWN_DIMENSION,
    _DUP: RejectCode.DUPLICATE_SAMPLE,
}


class _Rejects:
    """Collects reject rows of one sheet as column arrays."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        rows: ArrayLike,
        column: str | Sequence[str],
        value: Sequence[str | None] | pd.Series,
        code: RejectCode,
        message: str | Sequence[str] | pd.Series,
        order: int | ArrayLike = 0,
    ) -> None:
        rows_arr = np.asarray(rows, dtype=np.int64)
        n = len(rows_arr)
        if n == 0:
            return
        self.parts.append(
            pd.DataFrame(
                {
                    "source": [self.source] * n,
                    "row": rows_arr,
                    "column": [column] * n if isinstance(column, str) else list(column),
                    "value": (
                        pd.Series(value, dtype=object).fillna("").to_numpy()
                        if len(value)
                        else [""] * n
                    ),
                    "code": [code.value] * n,
                    "message": [message] * n if isinstance(message, str) else list(message),
                    "_order": np.broadcast_to(np.asarray(order), (n,)),
                }
            )
        )


@dataclass
class _SheetResult:
    measurements: pa.Table | None
    rejects: list[pd.DataFrame]
    accounting: SourceAccounting
    notes: list[str]


class _Columns:
    """The cells of one sheet as arrow text: as read (``raw``) and trimmed, empty text
    null (``cols``); each column dictionary-encoded at most once (:meth:`encoded`). With
    them, what the reader knows about them: the separator, the field count of each text
    row (``fields``, ``None`` when all equal the header's ``header_fields``), and the
    formulas saved without a value (``uncomputed``: ``(row, column) -> formula``)."""

    def __init__(self, sheet: RawSheet) -> None:
        self.source = sheet.source
        self.n = len(sheet.data)
        self.rows = np.asarray(sheet.rows, dtype=np.int64)
        self.header = [str(h) for h in sheet.header]
        self.raw = [_arrow(sheet.data[j]) for j in range(len(sheet.header))]
        self.cols = [_clean(a) for a in self.raw]
        self._encodings: dict[int, tuple[NDArray[np.int32], pa.Array]] = {}
        self.sep = sheet.sep
        self.header_row = sheet.header_row if sheet.header_row is not None else 0
        self.fields = sheet.fields
        self.header_fields = sheet.header_fields
        self.uncomputed = {(r, j): f for r, j, f in sheet.uncomputed}

    def encoded(self, j: int) -> tuple[NDArray[np.int32], pa.Array]:
        """``_encode(cols[j])``: per cell the index of its distinct value, and the values."""
        if j not in self._encodings:
            self._encodings[j] = _encode(self.cols[j])
        return self._encodings[j]

    def valid(self, j: int) -> NDArray[np.bool_]:
        """Whether each cell of column ``j`` holds text (after trimming)."""
        return np.asarray(self.cols[j].is_valid().to_numpy(zero_copy_only=False))


# --------------------------------------------------------------------------- stage: columns


@dataclass(frozen=True)
class _Layout:
    """Which column holds which role or dimension.

    ``roles``: meta role -> column; ``role_units``: a unit named in a role's header (the
    long layout's ``value (cm)``); ``dims``: the wide layout's ``(column, dimension,
    unit)``; ``unread``: columns that name a dimension with something after it that is
    not read (``(m)``, ``kiri``, ``_2``), whose cells are rejected; ``extras``:
    pass-through ``(column, name)``. Without dimension columns the sheet is in the long
    layout (``dimension`` and ``value`` columns).
    """

    roles: dict[str, int]
    role_units: dict[str, str | None]
    dims: list[tuple[int, str, str | None]]
    extras: list[tuple[int, str]]
    unread: list[tuple[int, NearMatch]] = field(default_factory=list)

    @property
    def long(self) -> bool:
        """Whether the sheet is in the long layout."""
        return not self.dims


#: How a role is named in messages.


def _layout(sheet: RawSheet) -> _Layout:
    """Stage "columns": the role of each column; the other columns pass through.

    Two columns of one role or one dimension (``No`` and ``kode_sampel`` are both sample
    ids) are refused with both headers named: the cells of one of them would otherwise
    be neither used nor rejected. So is a sheet with dimension columns *and* the long
    layout's dimension and value columns (a lone ``nilai``/``hasil`` column beside the
    dimension columns passes through). A column that names a dimension with an unread
    unit or suffix is kept to be rejected cell by cell. A sheet without a producer or
    size column, or without dimension columns and the long layout's pair, is refused.
    """
    src, header = sheet.source, sheet.header
    matches = [match_column(h) for h in header]
    wide = any(m is not None and m.kind == "dimension" for m in matches)
    roles: dict[str, int] = {}
    role_units: dict[str, str | None] = {}
    dims: list[tuple[int, str, str | None]] = []
    extras: list[tuple[int, str]] = []
    unread: list[tuple[int, NearMatch]] = []
    long_cols: dict[str, int] = {}
    first: dict[str, int] = {}
    for j, (head, m) in enumerate(zip(header, matches, strict=True)):
        if m is None:
            near = near_dimension(head)
            if near is not None:
                unread.append((j, near))
            else:
                extras.append((j, str(head).strip() or f"column_{j + 1}"))
        elif wide and m.canonical in ("dimension", "value"):  # pass through
            if m.canonical in long_cols:
                extras.append((j, str(head).strip() or f"column_{j + 1}"))
            else:
                long_cols[m.canonical] = j  # appended below
        elif m.canonical in first:
            raise _two_columns(src, header, m, first[m.canonical], j)
        else:
            first[m.canonical] = j
            if m.kind == "dimension":
                dims.append((j, m.canonical, m.unit))
            else:
                roles[m.canonical], role_units[m.canonical] = j, m.unit
    if len(long_cols) == 2:
        named = ", ".join(repr(header[j]) for j, _, _ in dims)
        raise catalogue_error(
            InputError,
            "error.wide_and_long",
            source=src,
            named=named,
            dimension=repr(header[long_cols["dimension"]]),
            value=repr(header[long_cols["value"]]),
        )
    extras += [
        (long_cols[k], str(header[long_cols[k]])) for k in ("dimension", "value") if k in long_cols
    ]
    if (
        "producer" not in roles
        or "size" not in roles
        or (not dims and not {"dimension", "value"} <= roles.keys())
    ):
        raise catalogue_error(
            MissingColumnsError,
            "error.missing_columns",
            source=src,
            found=", ".join(map(repr, header)),
        )
    return _Layout(roles, role_units, dims, extras, unread)


def _two_columns(src: str, header: Sequence[str], m: ColumnMatch, i: int, j: int) -> InputError:
    """The error for a second column ``j`` of what column ``i`` already is."""
    where = {"source": src, "first": repr(header[i]), "i": i + 1, "second": repr(header[j])}
    if m.kind == "dimension":
        return catalogue_error(
            InputError, "error.two_dimension_columns", dimension=m.canonical, j=j + 1, **where
        )
    role = Note(f"error.role.{m.canonical}")
    return catalogue_error(InputError, "error.two_role_columns", role=role, j=j + 1, **where)


# --------------------------------------------------------------------------- stage: parse


@dataclass(frozen=True)
class _Cells:
    """The measurement cells of a sheet as an ``(n, k)`` grid: one grid column per
    dimension column (wide layout), or the one value column (long layout).

    ``columns``: the sheet column of each grid column; ``dim``: per cell, the index of its
    dimension in ``dim_names`` (``-1``: not a known dimension); ``present``: the cell
    holds something other than a "not measured" mark; ``numeric``: it is a number;
    ``values``: that number in mm; ``factor``: mm per unit of the cell; ``unit_bad``: its
    unit is not known (``(1, k)`` when it holds for every row). ``dim``, ``factor`` and
    ``unit_bad`` may be broadcast views. ``formula``: the cell is a workbook formula saved
    without its value (``(1, k)`` all false when there is none). ``unread``: the grid
    columns (after the dimension or value columns) of the columns that name a dimension
    with an unread unit or suffix, whose every cell is rejected.
    """

    columns: list[int]
    dim_names: list[str]
    dim: NDArray[np.intp]
    present: NDArray[np.bool_]
    numeric: NDArray[np.bool_]
    values: NDArray[np.float64]
    factor: NDArray[np.float64]
    unit_bad: NDArray[np.bool_]
    formula: NDArray[np.bool_]
    unread: dict[int, NearMatch] = field(default_factory=dict)


def _parse_cells(c: _Columns, lay: _Layout, *, decimal: str, default_unit: str) -> _Cells:
    """Stage "parse": every measurement cell read as a number and scaled to mm."""
    n = c.n
    name_units: NDArray[Any] | None = None
    if lay.long:
        dim_names = list(DIMENSIONS)
        dim_idx_u, dim_uniques = _by_unique(c.cols[lay.roles["dimension"]])
        matches = [match_column(u) for u in dim_uniques]
        code_u = np.array(
            [dim_names.index(m.canonical) if m and m.kind == "dimension" else -1 for m in matches]
            + [-1],
            dtype=np.intp,
        )
        unit_u = [m.unit if m and m.kind == "dimension" else None for m in matches] + [None]
        cell_dim = code_u[dim_idx_u][:, None]
        name_units = np.array(unit_u, dtype=object)[dim_idx_u]
        columns = [lay.roles["value"]]
        header_units: list[str | None] = [lay.role_units.get("value")]
    else:
        dim_names = [d for _, d, _ in lay.dims]
        cell_dim = np.broadcast_to(np.arange(len(lay.dims)), (n, len(lay.dims)))
        columns = [j for j, _, _ in lay.dims]
        header_units = [u for _, _, u in lay.dims]
    unread = {len(columns) + i: near for i, (_, near) in enumerate(lay.unread)}
    if unread:  # read to be rejected: no dimension, no unit
        columns = columns + [j for j, _ in lay.unread]
        header_units = header_units + [None] * len(unread)
        none = np.full((n, len(unread)), -1, dtype=np.intp)
        cell_dim = np.concatenate([np.asarray(cell_dim), none], axis=1)
    present, numbers = _read_numbers(c, columns, decimal)
    formula = np.zeros((1, len(columns)), dtype=bool)
    if c.uncomputed:  # formulas saved without a value: read (empty), and rejected
        at = {j: i for i, j in enumerate(columns)}
        cells_at = [(r, at[j]) for r, j in c.uncomputed if j in at]
        if cells_at:
            formula = np.zeros((n, len(columns)), dtype=bool)
            formula[tuple(np.array(cells_at).T)] = True
            present |= formula
    if lay.long or "unit" in lay.roles:  # units may differ from row to row
        factor, unit_bad = _row_units(c, lay, header_units, name_units, default_unit)
        values = numbers * factor
    else:  # wide, no unit column: each column's unit is its header's, else the default
        col_factor = np.array(
            [UNIT_TO_MM[u if u is not None else default_unit] for u in header_units]
        )
        factor = np.broadcast_to(col_factor, (n, len(columns)))
        unit_bad = np.zeros((1, len(columns)), dtype=bool)  # broadcasts over the rows
        values = numbers * col_factor if (col_factor != 1.0).any() else numbers
    return _Cells(
        columns, dim_names, cell_dim, present, ~np.isnan(numbers), values, factor, unit_bad,
        formula, unread,
    )  # fmt: skip


def _read_numbers(
    c: _Columns, columns: Sequence[int], decimal: str
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Per cell of ``columns``: whether it holds a value, and the number it reads as."""
    present = np.empty((c.n, len(columns)), dtype=bool)
    numbers = np.empty((c.n, len(columns)), dtype=np.float64)
    marks = pa.array(_NOT_MEASURED, pa.large_string())
    for c_i, j in enumerate(columns):
        present[:, c_i] = c.valid(j)
        numbers[:, c_i] = parse_numbers(c.cols[j], decimal=decimal)
        # A "not measured" mark counts as a blank cell. It is not a number (parse_numbers
        # reads each cell on its own), so only the cells that are not numbers can be one.
        not_number = np.flatnonzero(present[:, c_i] & np.isnan(numbers[:, c_i]))
        if len(not_number):
            mark = pc.is_in(c.cols[j].take(pa.array(not_number)), value_set=marks)
            present[not_number[mark.to_numpy(zero_copy_only=False)], c_i] = False
    return present, numbers


def _row_units(
    c: _Columns,
    lay: _Layout,
    header_units: Sequence[str | None],
    name_units: NDArray[Any] | None,
    default_unit: str,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """mm per unit of each cell, and whether its unit is unknown, where units may differ
    from row to row: a header's unit wins, then (long layout) a unit in the dimension's
    name, then the ``unit`` column, then the default."""
    n, k = c.n, len(header_units)
    factor = np.full((n, k), UNIT_TO_MM[default_unit], dtype=np.float64)
    unit_bad = np.zeros((n, k), dtype=bool)
    if "unit" in lay.roles:

        def _unit(u: str) -> float:
            return UNIT_TO_MM.get(u.strip().lower().rstrip("."), -1.0)

        unit_j = lay.roles["unit"]
        per_row = _map_unique(
            c.cols[unit_j], _unit, dtype=np.float64, na=np.nan, encoded=c.encoded(unit_j)
        )
        has_unit = ~np.isnan(per_row)
        factor = np.where(has_unit[:, None], per_row[:, None], factor)
        unit_bad = np.broadcast_to((per_row < 0)[:, None], (n, k)).copy()
        factor = np.where(unit_bad, np.nan, factor)
    for c_i, u in enumerate(header_units):
        if u is not None:
            factor[:, c_i] = UNIT_TO_MM[u]
            unit_bad[:, c_i] = False
    if name_units is not None:
        has = np.array([u is not None for u in name_units], dtype=bool)
        if has.any():
            factor[has, 0] = [UNIT_TO_MM[u] for u in name_units[has]]
            unit_bad[has, 0] = False
    return factor, unit_bad


# --------------------------------------------------------------------------- stage: classify


def _match_any(
    c: _Columns,
    regexes: Sequence[re.Pattern[str]],
    columns: Sequence[int],
    rows: NDArray[np.bool_],
    coded: set[int],
    initials: str | None = None,
) -> NDArray[np.bool_]:
    """Rows (among ``rows``) where a cell of ``columns`` matches; RE2 in arrow, no loop.

    ``coded`` columns are matched once per distinct value (their encoding is needed
    anyway), and so is every column when no ``initials`` are given and most rows are
    asked about. The others (such as ``pair``, with hundreds of thousands of distinct
    values) are matched cell by cell, after the prefilter on ``initials`` (the first
    letters, lower case, that a match can start with) when given.
    """
    n = c.n
    hit = np.zeros(n, dtype=bool)
    pos = np.flatnonzero(rows)
    if len(pos) == 0:
        return hit
    pattern = "|".join(f"(?:{r.pattern})" for r in regexes)
    allowed = pa.array(list(initials or ""), pa.large_string())

    def maybe(text: _Text) -> NDArray[np.intp]:  # cells that can match, by first letter
        if initials is None:
            return np.arange(len(text))
        first = pc.utf8_lower(pc.utf8_slice_codeunits(text, 0, 1))
        return np.flatnonzero(
            pc.fill_null(pc.is_in(first, value_set=allowed), False).to_numpy(zero_copy_only=False)
        )

    by_value = [j for j in columns if j in coded or (initials is None and 4 * len(pos) >= n)]
    for j in by_value:  # match each distinct value once, then broadcast
        idx, values = c.encoded(j)
        matched = np.zeros(len(values) + 1, dtype=bool)  # last: null cells
        where = maybe(values)
        if len(where):
            found = pc.match_substring_regex(
                values.take(pa.array(where)), pattern, ignore_case=True
            )
            matched[where] = pc.fill_null(found, False).to_numpy(zero_copy_only=False)
            hit[pos] |= matched[idx[pos]]
    subset = pa.array(pos) if len(pos) < n else None
    for j in (j for j in columns if j not in by_value):  # cell by cell
        col = c.cols[j] if subset is None else c.cols[j].take(subset)
        where = maybe(col)
        if len(where) == 0:
            continue
        if len(where) < len(col):
            col = col.take(pa.array(where))
        found = pc.match_substring_regex(col, pattern, ignore_case=True)
        hit[pos[where]] |= pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    return hit


def _classify_rows(
    c: _Columns, lay: _Layout, cells: _Cells, rej: _Rejects
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Stage "classify": rows skipped by design, listed with their reason.

    A row is blank, the header repeated, an average/total row (a text cell outside the
    measurement columns starts like ``Rata-rata``), or a signature/notes row (a row
    without numbers that matches the signature patterns, and every row without numbers
    after the first such). Returns ``(skipped, data_row)``.
    """
    n = c.n
    any_cell = np.zeros(n, dtype=bool)
    for j in range(len(c.cols)):
        any_cell |= c.valid(j)
    blank = ~any_cell
    no_number = cells.numeric.sum(axis=1) == 0
    text_cols = [j for j in range(len(c.cols)) if j not in cells.columns]
    # Columns whose distinct values are needed anyway (encoded once, see ``encoded``).
    coded = {lay.roles[r] for r in _CODED_ROLES if r in lay.roles}
    summary = _match_any(
        c, (_SUMMARY_PREFIX, _SUMMARY_EXACT), text_cols, ~blank, coded, _SUMMARY_INITIALS
    )
    prod_j, size_j = lay.roles["producer"], lay.roles["size"]

    def _is(role: str) -> Callable[[str], bool]:
        return lambda u: (m := match_column(u)) is not None and m.canonical == role

    repeat_header = (
        _map_unique(
            c.cols[prod_j], _is("producer"), dtype=bool, na=False, encoded=c.encoded(prod_j)
        )
        & _map_unique(c.cols[size_j], _is("size"), dtype=bool, na=False, encoded=c.encoded(size_j))
        & ~summary
    )
    candidates = no_number & ~blank & ~summary & ~repeat_header
    sig_hit = _match_any(c, (_SIGNATURE,), range(len(c.cols)), candidates, coded)
    signature = sig_hit.copy()
    if sig_hit.any():
        first = int(np.argmax(sig_hit))
        signature |= (np.arange(n) > first) & candidates
    for mask, code in (
        (blank, RejectCode.SKIPPED_BLANK),
        (repeat_header, RejectCode.SKIPPED_HEADER),
        (summary, RejectCode.SKIPPED_SUMMARY),
        (signature, RejectCode.SKIPPED_SIGNATURE),
    ):
        pos = np.flatnonzero(mask)
        text = _row_text(c.raw, pos) if code is not RejectCode.SKIPPED_BLANK else []
        rej.add(c.rows[pos], "", text, code, reject_text(code.value))
    skipped = blank | summary | repeat_header | signature
    return skipped, ~skipped


# --------------------------------------------------------------------------- stage: keys


@dataclass(frozen=True)
class _Sizes:
    """The size labels of a sheet read once per distinct label.

    ``idx``: per row, the index of its label in ``labels`` (``-1``: blank); ``value``,
    ``error``, ``outside``: per distinct label (one more, for blank), its size in the
    table's system (NaN when unreadable), why it is unreadable, and whether the table
    does not cover it.
    """

    idx: NDArray[np.int32]
    labels: list[str]
    value: NDArray[np.float64]
    error: list[str | None]
    outside: NDArray[np.bool_]
    system: str


def _size_values(c: _Columns, j: int, table: TableLike | None) -> _Sizes:
    """Read the distinct size labels of column ``j`` in the table's system (EU without
    a table), converting labels that name another system with the table's toe allowance."""
    target = table.size_system if table is not None else "eu"
    allowance = DEFAULT_TOE_ALLOWANCE_MM
    if table is not None and table.toe_allowance_mm is not None:
        allowance = float(table.toe_allowance_mm)
    idx, dictionary = c.encoded(j)
    labels = [str(u) for u in dictionary.to_pylist()]
    value = np.full(len(labels) + 1, np.nan)
    error: list[str | None] = [None] * (len(labels) + 1)
    for i, label in enumerate(labels):
        try:
            lab = parse_size(label, default_system=target)
            size = lab.value
            if lab.system != target:
                size = float(convert_size(size, lab.system, target, allowance_mm=allowance))
            value[i] = size
        except SizeLabelError as exc:
            error[i] = str(exc)
    outside = np.zeros(len(labels) + 1, dtype=bool)
    if table is not None:
        finite = ~np.isnan(value)
        if finite.any():
            outside[finite] = ~np.asarray(table.covers(value[finite]), dtype=bool)
    return _Sizes(idx, labels, value, error, outside, target)


_DIGITS = re.compile(r"^\s*[+-]?\d+\s*$")


def _field_counts(c: _Columns, data_row: NDArray[np.bool_], rej: _Rejects) -> NDArray[np.bool_]:
    """Which rows of a text file have the header's fields; the others are listed.

    A row with a non-blank field beyond the header's (``too_many_fields``) or fewer
    fields than the header's last named column (``too_few_fields``) is not used: its
    cells would be dropped or read under the wrong columns. In a comma-separated file, two
    whole numbers side by side (``273,5``) get a hint about decimal commas.
    """
    if c.fields is None:
        return np.ones(c.n, dtype=bool)
    width = c.header_fields
    named = [j for j in range(width) if c.header[j].strip()]
    needed = named[-1] + 1 if named else 0
    beyond = np.zeros(c.n, dtype=bool)
    for j in range(width, len(c.cols)):
        beyond |= c.valid(j)
    long, short = data_row & beyond, data_row & (c.fields < needed)
    for mask, code in ((long, RejectCode.TOO_MANY_FIELDS), (short, RejectCode.TOO_FEW_FIELDS)):
        pos = np.flatnonzero(mask)
        if len(pos) == 0:
            continue
        cells = list(zip(*(_texts(c.raw[j], pos) for j in range(len(c.raw))), strict=True))
        texts, messages = [], []
        for i, row in zip(pos.tolist(), cells, strict=True):
            fields = ["" if v is None else v for v in row[: int(c.fields[i])]]
            text = (c.sep or ",").join(fields)
            texts.append(text if len(text) <= 120 else text[:117] + "...")
            messages.append(_field_message(code, fields, width, needed, c.sep))
        rej.add(c.rows[pos], "", texts, code, messages)
    return ~(long | short)


def _field_message(
    code: RejectCode, fields: list[str], width: int, needed: int, sep: str | None
) -> str:
    """Why a row with ``fields`` does not fit a header of ``width`` fields."""
    n = len(fields)
    if code is RejectCode.TOO_FEW_FIELDS:
        return reject_text("too_few_fields", n=n, needed=needed)
    extra = ", ".join(repr(f) for f in fields[width:] if f.strip())
    pairs = itertools.pairwise(fields)
    if sep == "," and any(_DIGITS.match(a) and _DIGITS.match(b) for a, b in pairs):
        return reject_text("too_many_fields_comma", n=n, width=width, extra=extra)
    return reject_text("too_many_fields", n=n, width=width, extra=extra)


def _keys(
    c: _Columns, lay: _Layout, data_row: NDArray[np.bool_], table: TableLike | None, rej: _Rejects
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Stage "keys": the row's shape, producer and size, the checks that reject a whole row.

    Returns the size of each row (in the table's system) and ``row_ok``: data rows with
    the header's fields, a producer and a readable size the table covers.
    """
    data_row = data_row & _field_counts(c, data_row, rej)
    prod_j, size_j = lay.roles["producer"], lay.roles["size"]
    producer_ok = c.valid(prod_j)
    pos = np.flatnonzero(data_row & ~producer_ok)
    rej.add(
        c.rows[pos],
        c.header[prod_j],
        [],
        RejectCode.MISSING_PRODUCER,
        reject_text("missing_producer"),
        order=prod_j,
    )
    s = _size_values(c, size_j, table)
    size = s.value[s.idx]
    size_missing = s.idx < 0
    size_bad = np.isnan(size) & ~size_missing
    size_outside = s.outside[s.idx] & ~size_missing
    head = c.header[size_j]
    pos = np.flatnonzero(data_row & size_missing)
    rej.add(
        c.rows[pos], head, [], RejectCode.MISSING_SIZE, reject_text("missing_size"),
        order=size_j,
    )  # fmt: skip
    pos = np.flatnonzero(data_row & size_bad)
    rej.add(
        c.rows[pos],
        head,
        [s.labels[i] for i in s.idx[pos]],
        RejectCode.UNREADABLE_SIZE,
        [str(s.error[i]) for i in s.idx[pos]],
        order=size_j,
    )
    pos = np.flatnonzero(data_row & size_outside)
    if len(pos) and table is not None:
        lo, hi = min(table.sizes), max(table.sizes)
        rej.add(
            c.rows[pos],
            head,
            [s.labels[i] for i in s.idx[pos]],
            RejectCode.SIZE_OUTSIDE_TABLE,
            [
                reject_text(
                    "size_outside_table",
                    label=repr(s.labels[i]),
                    system=s.system,
                    value=f"{s.value[i]:.4g}",
                    table=table.name,
                    lo=f"{lo:g}",
                    hi=f"{hi:g}",
                )
                for i in s.idx[pos]
            ],
            order=size_j,
        )
    return size, data_row & producer_ok & ~size_missing & ~size_bad & ~size_outside


# --------------------------------------------------------------------------- stage: cells


def _cell_status(cells: _Cells, long: bool) -> NDArray[np.int8]:
    """Stage "cells": the status of each measurement cell, judged on its own (the row
    checks and duplicates come on top): blank, not a number, unknown unit or dimension,
    negative, outside the dimension's plausible range, a formula without its value, or
    ``_OK``."""
    present, values = cells.present, cells.values
    status = np.full(present.shape, _OK, dtype=np.int8)
    status[~present] = _BLANK
    status[present & ~cells.numeric] = _NAN
    status[present & cells.numeric & cells.unit_bad] = _UNIT
    if long:
        status[present & (cells.dim < 0)] = _UDIM
    status[(status == _OK) & (values < 0)] = _NEG
    lo_arr = np.array([DIMENSIONS[d].plausible_mm[0] for d in cells.dim_names] + [0.0])
    hi_arr = np.array([DIMENSIONS[d].plausible_mm[1] for d in cells.dim_names] + [np.inf])
    if long:
        dim_lo, dim_hi = lo_arr[cells.dim], hi_arr[cells.dim]
    else:  # one dimension per column: bounds broadcast over the rows
        col_dim = np.r_[np.arange(len(cells.dim_names)), np.full(len(cells.unread), -1)]
        dim_lo, dim_hi = lo_arr[col_dim], hi_arr[col_dim]
    status[(status == _OK) & ((values < dim_lo) | (values > dim_hi))] = _IMPL
    if cells.formula.shape[0] > 1:
        status[cells.formula] = _FORMULA
    for col, near in cells.unread.items():  # every cell of a column that is not read
        status[present[:, col], col] = _UNIT if near.kind == "unit" else _UDIM
    return status


# --------------------------------------------------------------------------- stage: foot/date


def _foot(c: _Columns, lay: _Layout, row_ok: NDArray[np.bool_], rej: _Rejects) -> NDArray[np.intp]:
    """Stage "foot": per row 0 (left), 1 (right) or 2 (missing). An unreadable foot is
    listed (``unknown_foot``) and the row's measurements are kept with the foot missing."""
    if "foot" not in lay.roles:
        return np.full(c.n, 2, dtype=np.intp)
    fj = lay.roles["foot"]
    fc = _map_unique(
        c.cols[fj],
        lambda u: {"L": 0, "R": 1}.get(FOOT_VALUES.get(u.lower().rstrip("."), ""), 3),
        dtype=np.intp,
        na=2,
        encoded=c.encoded(fj),
    )
    pos = np.flatnonzero(row_ok & (fc == 3))
    rej.add(
        c.rows[pos],
        c.header[fj],
        _texts(c.raw[fj], pos),
        RejectCode.UNKNOWN_FOOT,
        reject_text("unknown_foot"),
        order=fj,
    )
    return np.where(fc == 3, 2, fc)


def _dates(
    c: _Columns, lay: _Layout, row_ok: NDArray[np.bool_], rej: _Rejects
) -> NDArray[np.datetime64]:
    """Stage "date": the date of each row (``NaT`` when missing). An unreadable date is
    listed (``bad_date``) and the row's measurements are kept with the date missing.

    Numeric day/month dates (``03/04/2026``) are read day first, as Indonesian dates are
    written, unless the column proves otherwise: a first number above 12 confirms day
    first; no first number above 12 but a second one does means month first (read so,
    and listed once as ``month_first_date``); every date with both at most 12 cannot be
    told apart (listed once as ``ambiguous_date``). Both entries stand on the header row.
    """
    if "date" not in lay.roles:
        return np.full(c.n, np.datetime64("NaT"), dtype="datetime64[ns]")
    dj = lay.roles["date"]
    d_idx, d_dictionary = c.encoded(dj)
    d_uniques = [str(u) for u in d_dictionary.to_pylist()]
    used = np.zeros(len(d_uniques) + 1, dtype=bool)
    used[d_idx[row_ok]] = True
    day_first, finding = _date_order([u for u, ok in zip(d_uniques, used, strict=False) if ok])
    parsed = parse_dates(d_uniques, day_first=day_first)
    date = np.append(parsed, np.datetime64("NaT")).astype("datetime64[ns]")[d_idx]
    if finding is not None:
        code, examples, message = finding
        rej.add([c.header_row], c.header[dj], [examples], code, message, order=dj)
    pos = np.flatnonzero(row_ok & (d_idx >= 0) & np.isnat(date))
    rej.add(
        c.rows[pos],
        c.header[dj],
        _texts(c.raw[dj], pos),
        RejectCode.BAD_DATE,
        reject_text("bad_date"),
        order=dj,
    )
    return date


def _date_order(texts: Sequence[str]) -> tuple[bool, tuple[RejectCode, str, str] | None]:
    """Whether the numeric day/month dates among ``texts`` read day first, and what to
    list about the order: ``(code, examples, message)``, or ``None``."""
    pairs = []
    for text in texts:
        m = re.match(_DMY_DATE, text.strip().lower())
        if m and m.group(2).isdigit():
            pairs.append((int(m.group(1)), int(m.group(2)), text.strip()))
    if not pairs or max(a for a, _, _ in pairs) > 12:
        return True, None
    if max(b for _, b, _ in pairs) > 12:
        shown = [t for _, b, t in pairs if b > 12]
        return False, (
            RejectCode.MONTH_FIRST_DATE,
            ", ".join(shown[:3]),
            reject_text("month_first_date", n=len(shown), example=repr(shown[0])),
        )
    unclear = [t for a, b, t in pairs if a != b]
    if not unclear:
        return True, None
    return True, (
        RejectCode.AMBIGUOUS_DATE,
        ", ".join(unclear[:3]),
        reject_text("ambiguous_date", example=repr(unclear[0])),
    )


# --------------------------------------------------------------------------- stage: duplicates


@dataclass(frozen=True)
class _RowKeys:
    """Per row: the size in the table's system, the foot code (0 left, 1 right, 2
    missing) and the date (``NaT`` when missing)."""

    size: NDArray[np.float64]
    foot: NDArray[np.intp]
    date: NDArray[np.datetime64]


def _duplicates(
    c: _Columns,
    lay: _Layout,
    cells: _Cells,
    status: NDArray[np.int8],
    row_ok: NDArray[np.bool_],
    keys: _RowKeys,
) -> None:
    """Stage "duplicates": mark (in ``status``) a good cell of a good row whose sample
    already gave that dimension in an earlier row; the first value is kept.

    A sample is the same sample only at the same producer, size, date and foot
    (``keys``: per row ``size``, ``foot`` code and ``date``): QA sheets often number
    samples 1..k afresh within each size block or each visit.
    """
    good = (status == _OK) & row_ok[:, None]
    if "sample_id" not in lay.roles or not good.any():
        return
    sid = _id_keys(c.cols[lay.roles["sample_id"]])
    prod = c.encoded(lay.roles["producer"])[0]
    row_key: dict[str, NDArray[Any]] = {
        "p": prod,
        "s": sid,
        "f": keys.foot,
        "z": keys.size,
        "t": keys.date.view("i8"),
    }
    # Cells of one row never clash (one column per dimension), so look for rows sharing
    # the key first (among those whose sample id is repeated at all); only those rows
    # are checked cell by cell.
    cand = np.flatnonzero(good.any(axis=1) & (sid >= 0))
    cand = cand[_repeated(sid[cand])]
    clash = cand[
        pd.DataFrame({k: v[cand] for k, v in row_key.items()}).duplicated(keep=False).to_numpy()
    ]
    if len(clash) == 0:
        return
    r_idx, c_idx = np.nonzero(good[clash])
    r_idx = clash[r_idx]
    order = np.lexsort((c_idx, r_idx))
    r_idx, c_idx = r_idx[order], c_idx[order]
    cell_key = pd.DataFrame(
        {**{k: v[r_idx] for k, v in row_key.items()}, "d": cells.dim[r_idx, c_idx]}
    )
    dup = cell_key.duplicated(keep="first").to_numpy()
    status[r_idx[dup], c_idx[dup]] = _DUP


# --------------------------------------------------------------------------- stage: pairs


def _pairs(
    c: _Columns,
    lay: _Layout,
    cells: _Cells,
    row_used: NDArray[np.bool_],
    keys: _RowKeys,
    rej: _Rejects,
) -> NDArray[np.bool_]:
    """Stage "pairs": a pair id given to more than two shoes (``pair_too_many_shoes``) or
    to two shoes of one foot (``pair_same_foot``) is listed on each of its rows; the
    measurements are kept, without the pair id. Returns the rows that lose it (among
    ``row_used``, the rows with a used cell).

    A pair is its id at one producer, size and date (ids may restart in each size block
    or visit); a shoe is a row of the wide layout, or a measurement of one dimension in
    the long layout. Duplicates are rejected before, so a sample given twice is not a
    third shoe.
    """
    drop = np.zeros(c.n, dtype=bool)
    if "pair" not in lay.roles:
        return drop
    pj = lay.roles["pair"]
    rows = np.flatnonzero(row_used & c.valid(pj))
    if len(rows) < 2:
        return drop
    shoe = pd.DataFrame(
        {
            "p": c.encoded(lay.roles["producer"])[0][rows],
            "q": _id_keys(c.cols[pj])[rows],
            "z": keys.size[rows],
            "t": keys.date[rows].view("i8"),
            "d": cells.dim[rows, 0] if lay.long else 0,
        }
    )
    # one pass: number the pairs, then count each pair's shoes, left and right shoes
    pair = shoe.groupby(list(shoe.columns), sort=False, dropna=False).ngroup().to_numpy()
    shoes = np.bincount(pair)[pair]
    lefts = np.bincount(pair, weights=keys.foot[rows] == 0)[pair]
    rights = np.bincount(pair, weights=keys.foot[rows] == 1)[pair]
    same_foot = (lefts > 1) | (rights > 1)
    for mask, code in (
        (shoes > 2, RejectCode.PAIR_TOO_MANY_SHOES),
        ((shoes == 2) & same_foot, RejectCode.PAIR_SAME_FOOT),
    ):
        pos = rows[mask]
        drop[pos] = True
        rej.add(
            c.rows[pos],
            c.header[pj],
            _texts(c.raw[pj], pos),
            code,
            reject_text(code.value),
            order=pj,
        )
    return drop


# --------------------------------------------------------------------------- stage: listing


def _list_cell_rejects(
    c: _Columns,
    lay: _Layout,
    cells: _Cells,
    status: NDArray[np.int8],
    row_ok: NDArray[np.bool_],
    data_row: NDArray[np.bool_],
    rej: _Rejects,
) -> None:
    """Stage "listing": rows with no measured value (``no_measurement``), then every
    rejected cell of the rows that passed the row checks, with its message; then the
    formulas saved without a value outside the measurement columns of data rows."""
    pos = np.flatnonzero(row_ok & ~cells.present.any(axis=1))
    rej.add(
        c.rows[pos], "", [], RejectCode.NO_MEASUREMENT, reject_text("no_measurement"),
    )  # fmt: skip
    listed = row_ok[:, None] & (status != _OK) & (status != _BLANK)
    r_idx, c_idx = np.nonzero(listed)
    codes = status[r_idx, c_idx]
    cell_value = np.empty(len(r_idx), dtype=object)
    for c_i, j in enumerate(cells.columns):
        sel = c_idx == c_i
        if sel.any():
            cell_value[sel] = _texts(c.raw[j], r_idx[sel])
    for i in np.flatnonzero(codes == _FORMULA):
        cell_value[i] = "=" + c.uncomputed[(int(r_idx[i]), cells.columns[int(c_idx[i])])]
    col_names = np.array([c.header[j] for j in cells.columns], dtype=object)[c_idx]
    for code in np.unique(codes):
        sel = codes == code
        rc = _CELL_CODES[int(code)]
        rej.add(
            c.rows[r_idx[sel]],
            list(col_names[sel]),
            list(cell_value[sel]),
            rc,
            _cell_messages(rc, c, lay, cells, r_idx[sel], c_idx[sel]),
            order=np.asarray(cells.columns)[c_idx[sel]],
        )
    others = sorted((r, j) for r, j in c.uncomputed if j not in cells.columns and data_row[r])
    for r, j in others:
        rej.add(
            c.rows[[r]], c.header[j], ["=" + c.uncomputed[(r, j)]],
            RejectCode.FORMULA_WITHOUT_VALUE, _FORMULA_MESSAGE, order=j,
        )  # fmt: skip


_FORMULA_MESSAGE = reject_text("formula_without_value")


def _unread_message(header: str, near: NearMatch) -> str:
    """Why the cells of a column naming a dimension with an unread suffix are rejected."""
    dim = near.dimension
    if near.kind == "foot":
        return reject_text(
            "column_one_foot", header=repr(header), dimension=dim, suffix=near.suffix
        )
    if near.kind == "number":
        return reject_text("column_numbered", header=repr(header), dimension=dim)
    return reject_text("column_unit", header=repr(header), suffix=repr(near.suffix), dimension=dim)


def _cell_messages(
    rc: RejectCode,
    c: _Columns,
    lay: _Layout,
    cells: _Cells,
    r_idx: NDArray[np.intp],
    c_idx: NDArray[np.intp],
) -> str | list[str]:
    """The message of each rejected cell ``(r_idx, c_idx)`` of one code."""
    names = [cells.dim_names[d] if d >= 0 else "?" for d in cells.dim[r_idx, c_idx]]
    if cells.unread and rc in (RejectCode.UNKNOWN_UNIT, RejectCode.UNKNOWN_DIMENSION):
        out = [
            _unread_message(c.header[cells.columns[col]], cells.unread[col])
            if col in cells.unread
            else ""
            for col in c_idx.tolist()
        ]
        rest = np.flatnonzero(~np.isin(c_idx, list(cells.unread)))
        if len(rest):  # long layout: a dimension name or unit of the value column
            more = _cell_messages(rc, c, lay, replace(cells, unread={}), r_idx[rest], c_idx[rest])
            for i, m in zip(
                rest, [more] * len(rest) if isinstance(more, str) else more, strict=True
            ):
                out[i] = m
        return out
    if rc in (RejectCode.NOT_A_NUMBER, RejectCode.UNKNOWN_UNIT, RejectCode.NEGATIVE):
        return reject_text(rc.value)
    if rc is RejectCode.FORMULA_WITHOUT_VALUE:
        return _FORMULA_MESSAGE
    if rc is RejectCode.UNKNOWN_DIMENSION:
        return [
            reject_text("unknown_dimension", name=repr(t))
            for t in _texts(c.cols[lay.roles["dimension"]], r_idx)
        ]
    if rc is RejectCode.DUPLICATE_SAMPLE:
        return [reject_text("duplicate_sample", dimension=name) for name in names]
    texts: list[str] = []  # implausible: say what the value looks like
    values = cells.values[r_idx, c_idx]
    in_mm_all = cells.factor[r_idx, c_idx] == 1.0
    for v, name, in_mm in zip(values.tolist(), names, in_mm_all.tolist(), strict=True):
        lo, hi = DIMENSIONS[name].plausible_mm
        key, looks = "implausible", None
        if lo <= v / 10 <= hi:
            key, looks = "implausible_mark_lost", v / 10
        elif lo <= v * 10 <= hi:
            key, looks = ("implausible_cm" if in_mm else "implausible_mark_moved"), v * 10
        text = reject_text(
            key,
            value=f"{v:.6g}",
            lo=f"{lo:g}",
            hi=f"{hi:g}",
            dimension=name,
            looks=f"{looks:.6g}" if looks is not None else "",
        )
        texts.append(text)
    return texts


# --------------------------------------------------------------------------- stage: accounting


def _accounting(
    c: _Columns,
    cells: _Cells,
    used_cell: NDArray[np.bool_],
    row_used: NDArray[np.bool_],
    skipped: NDArray[np.bool_],
    n_title: int,
) -> SourceAccounting:
    """Stage "accounting": rows read = used + rejected, cells read = used + rejected.

    Rows read are the title rows and every row below the header; a row is used when one
    of its cells is (``row_used``). Cells read are the measurement cells holding
    something (not blank, not a "not measured" mark); ``cells_blank`` counts the empty
    ones of data rows.
    """
    n = c.n
    rows_used = int(row_used.sum())
    cells_read = int(cells.present.sum())
    cells_used = int(used_cell.sum())
    return SourceAccounting(
        source=c.source,
        rows_read=n + n_title,
        rows_used=rows_used,
        rows_rejected=n + n_title - rows_used,
        rows_skipped=int(skipped.sum()) + n_title,
        cells_read=cells_read,
        cells_used=cells_used,
        cells_rejected=cells_read - cells_used,
        cells_blank=int((~cells.present & ~skipped[:, None]).sum()),
    )


# --------------------------------------------------------------------------- stage: assemble


def _assemble(
    c: _Columns,
    lay: _Layout,
    cells: _Cells,
    used_cell: NDArray[np.bool_],
    row_used: NDArray[np.bool_],
    keys: _RowKeys,
    no_pair: NDArray[np.bool_],
) -> pa.Table:
    """Stage "assemble": one row per used cell, in the column order of
    :data:`MEASUREMENT_COLUMNS`, then the pass-through columns (``keys``: per row
    ``size``, ``foot`` code and ``date``; ``no_pair``: rows whose pair id is dropped)."""
    n, k = used_cell.shape
    cell_row: NDArray[np.signedinteger[Any]]
    cell_col: NDArray[np.signedinteger[Any]]
    if used_cell.all():  # the usual clean sheet: every cell, row by row (small index types)
        cell_row = np.repeat(np.arange(n, dtype=np.int32 if n < 2**31 else np.intp), k)
        cell_col = np.tile(np.arange(k, dtype=np.int8 if k < 128 else np.intp), n)
    else:
        cell_row, cell_col = np.nonzero(used_cell)  # row-major: by row, then column order
    m = len(cell_row)
    take = pa.array(cell_row)
    # what a missing role becomes, shared by all such columns
    no_text = pa.nulls(m, pa.large_string())
    no_category = pa.DictionaryArray.from_arrays(
        pa.nulls(m, pa.int8()), pa.array([], pa.large_string())
    )
    roles = lay.roles

    def text(role: str) -> pa.Array:  # many distinct values (pair, sample id): as text
        return c.cols[roles[role]].take(take) if role in roles else no_text

    def coded(role: str) -> pa.DictionaryArray:  # few distinct values: as a category
        if role not in roles:
            return no_category
        idx, dictionary = c.encoded(roles[role])
        return _categorical(idx, dictionary, cell_row, row_used)

    out: dict[str, pa.Array] = {
        "source": pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(m, dtype=np.int8)), pa.array([c.source], pa.large_string())
        ),
        "row": pa.array(c.rows[cell_row], pa.int64()),
        "sample_id": text("sample_id"),
        "producer": coded("producer"),
        "model": coded("model"),
        "size_label": coded("size"),
        "size": pa.array(keys.size[cell_row], pa.float64()),
        "foot": _labels(keys.foot, ["L", "R"], cell_row, row_used),
        "pair": _without(text("pair"), no_pair[cell_row]) if no_pair.any() else text("pair"),
        "date": pa.array(keys.date[cell_row], pa.timestamp("ns")),
        "lot": coded("lot"),
        "operator": coded("operator"),
        # every used cell has a known dimension: its column (wide) or its name (long)
        "dimension": _categorical(
            cells.dim[cell_row, 0] if lay.long else cell_col,
            pa.array(cells.dim_names, pa.large_string()),
        ),
        "value_mm": pa.array(cells.values[cell_row, cell_col], pa.float64()),
    }
    for j, name in lay.extras:
        col_key = name
        while col_key in out:
            col_key = f"{col_key}_extra"
        out[col_key] = c.raw[j].take(take)
    return pa.table(out)


def _without(text: pa.Array, drop: NDArray[np.bool_]) -> pa.Array:
    """``text`` with the cells where ``drop`` holds made missing."""
    return pc.if_else(pa.array(drop), pa.scalar(None, text.type), text)


# --------------------------------------------------------------------------- the stages in order


def _labels(
    codes: NDArray[Any],
    labels: Sequence[str],
    take: NDArray[np.signedinteger[Any]] | None = None,
    used: NDArray[np.bool_] | None = None,
) -> pa.DictionaryArray:
    """``labels[codes[take]]`` (codes outside the labels: missing) as a dictionary array."""
    codes = np.asarray(codes, dtype=np.intp)
    codes = np.where((codes >= 0) & (codes < len(labels)), codes, -1)
    return _categorical(codes, pa.array(list(labels), pa.large_string()), take, used)


def _texts(arr: _Text, pos: NDArray[np.integer[Any]]) -> list[str | None]:
    """The cells of ``arr`` at ``pos``, as Python text. Nothing is taken for no positions
    (a take from a chunked array joins its chunks first: a copy of the whole column)."""
    return arr.take(pa.array(pos)).to_pylist() if len(pos) else []


def _row_text(cells: list[_Text], pos: NDArray[np.intp]) -> list[str]:
    """The text of each row at ``pos`` for a person: its non-blank cells, merged repeats
    once, cut at 120 characters."""
    if len(pos) == 0:
        return []
    taken = [_texts(c, pos) for c in cells]
    out = []
    for i in range(len(pos)):
        seen: list[str] = []
        for col in taken:
            v = col[i]
            if v is not None and (not seen or seen[-1] != v):
                seen.append(v)
        text = " | ".join(seen)
        out.append(text if len(text) <= 120 else text[:117] + "...")
    return out


def _title_rejects(sheet: RawSheet, rej: _Rejects) -> int:
    """List the rows above the header (titles, blank rows); return how many there are."""
    title_rows = np.array([r for r, _ in sheet.title_rows], dtype=np.int64)
    title_blank = np.array([not t for _, t in sheet.title_rows], dtype=bool)
    rej.add(
        title_rows[~title_blank],
        "",
        [t for _, t in sheet.title_rows if t],
        RejectCode.SKIPPED_TITLE,
        reject_text("skipped_title"),
    )
    rej.add(title_rows[title_blank], "", [], RejectCode.SKIPPED_BLANK, reject_text("skipped_blank"))
    return len(title_rows)


def _validate_sheet(
    sheet: RawSheet, *, table: TableLike | None, default_unit: str, sheet_no: int
) -> _SheetResult:
    """Run the stages on one sheet (see the list above :data:`_CELL_CODES`)."""
    rej = _Rejects(sheet.source)
    n_title = _title_rejects(sheet, rej)
    lay = _layout(sheet)
    c = _Columns(sheet)
    cells = _parse_cells(c, lay, decimal=sheet.decimal, default_unit=default_unit)
    skipped, data_row = _classify_rows(c, lay, cells, rej)
    size, row_ok = _keys(c, lay, data_row, table, rej)
    status = _cell_status(cells, lay.long)
    keys = _RowKeys(size, _foot(c, lay, row_ok, rej), _dates(c, lay, row_ok, rej))
    _duplicates(c, lay, cells, status, row_ok, keys)
    used_cell = (status == _OK) & row_ok[:, None]
    row_used = np.asarray(used_cell.any(axis=1))
    no_pair = _pairs(c, lay, cells, row_used, keys, rej)
    _list_cell_rejects(c, lay, cells, status, row_ok, data_row, rej)
    acc = _accounting(c, cells, used_cell, row_used, skipped, n_title)
    table = _assemble(c, lay, cells, used_cell, row_used, keys, no_pair)
    return _SheetResult(table, rej.parts, acc, list(sheet.notes))


#: Columns of ``measurements`` held as ``category`` (few distinct values; categories sorted).
CATEGORY_COLUMNS = (
    "source",
    "producer",
    "model",
    "size_label",
    "foot",
    "lot",
    "operator",
    "dimension",
)

_SCHEMA_TYPES = {
    "row": pa.int64(),
    "size": pa.float64(),
    "date": pa.timestamp("ns"),
    "value_mm": pa.float64(),
    **dict.fromkeys(CATEGORY_COLUMNS, pa.dictionary(pa.int32(), pa.large_string())),
}


def _wide_indices(schema: pa.Schema) -> pa.Schema:
    """``schema`` with int32 dictionary indices (sheets' tables use the smallest type)."""
    return pa.schema(
        [
            f.with_type(pa.dictionary(pa.int32(), f.type.value_type))
            if pa.types.is_dictionary(f.type)
            else f
            for f in schema
        ]
    )


def _sorted_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Categories in sorted order, so that sorting and grouping by them is sorting by text."""
    for c in CATEGORY_COLUMNS:
        col = frame[c]
        if not isinstance(col.dtype, pd.CategoricalDtype):
            continue
        cats = col.cat.categories
        if len(cats) == 0:
            frame[c] = col.cat.set_categories(pd.Index([], dtype="str"))
        elif not cats.is_monotonic_increasing:
            frame[c] = col.cat.reorder_categories(cats.sort_values())
    return frame


def _empty_measurements() -> pd.DataFrame:
    data = {c: pa.array([], _SCHEMA_TYPES.get(c, pa.large_string())) for c in MEASUREMENT_COLUMNS}
    return _sorted_categories(pa.table(data).to_pandas())


def _load_table(table: TableLike | str | os.PathLike[str] | None) -> TableLike | None:
    if table is None or not isinstance(table, str | os.PathLike):
        return table
    from sizecheck.tables import load_table

    loaded: ReferenceTable = load_table(table if isinstance(table, str) else Path(table))
    return loaded


def validate(
    sheets: RawSheet | Sequence[RawSheet],
    *,
    table: TableLike | str | None = None,
    units: str = "mm",
) -> Validated:
    """Check raw sheets and split them into measurements and rejects, counting everything.

    Parameters
    ----------
    sheets : RawSheet or sequence of RawSheet
        From :func:`sizecheck.readers.read_input`.
    table : ReferenceTable or str, optional
        Sizes are read in the table's size system (labels naming another system are
        converted) and rows whose size the table does not cover are rejected
        (``size_outside_table``). A string is loaded with
        :func:`sizecheck.tables.load_table`. ``None``: bare numbers are EU sizes and no
        size is rejected for being outside a table.
    units : {"mm", "cm", "in"}, default "mm"
        Unit of dimension columns whose header names no unit (and no ``unit`` column says).

    Returns
    -------
    Validated
        ``measurements``, ``rejects``, ``accounting``, ``notes``.

    Raises
    ------
    UsageError
        ``units`` is not a known unit.
    MissingColumnsError
        A sheet lacks a producer, size or dimension column.
    """
    unit = units.strip().lower()
    if unit not in UNIT_TO_MM:
        raise UsageError(f"Unknown unit {units!r}; use mm, cm or in.")
    ref = _load_table(table)
    sheet_list = [sheets] if isinstance(sheets, RawSheet) else list(sheets)
    tables: list[pa.Table] = []
    parts: list[pd.DataFrame] = []
    accounts: list[SourceAccounting] = []
    notes: list[str] = []
    for i, sheet in enumerate(sheet_list):
        if not sheet.has_header:
            notes.extend(sheet.notes)
            continue
        res = _validate_sheet(sheet, table=ref, default_unit=unit, sheet_no=i)
        for part in res.rejects:
            part["_sheet"] = i
        parts.extend(res.rejects)
        accounts.append(res.accounting)
        notes.extend(res.notes)
        if res.measurements is not None and res.measurements.num_rows:
            tables.append(res.measurements)
    if len(tables) > 1:  # room in the indices for the values of every sheet
        tables = [t.cast(_wide_indices(t.schema)) for t in tables]
    if tables:
        combined = pa.concat_tables(tables, promote_options="default").unify_dictionaries()
        measurements = _sorted_categories(combined.to_pandas(split_blocks=True))
        for c in ("row",):
            measurements[c] = measurements[c].astype("int64")
    else:
        measurements = _empty_measurements()
    if parts:
        rejects = pd.concat(parts, ignore_index=True)
        rejects = rejects.sort_values(["_sheet", "row", "_order"], kind="stable")
        rejects = rejects[list(REJECT_COLUMNS)].reset_index(drop=True)
        rejects = rejects.astype({c: "str" for c in REJECT_COLUMNS if c != "row"})
        rejects["row"] = rejects["row"].astype("int64")
    else:
        rejects = pd.DataFrame(
            {c: pd.Series([], dtype="int64" if c == "row" else "str") for c in REJECT_COLUMNS}
        )
    return Validated(
        measurements=measurements,
        rejects=rejects,
        accounting=Accounting.from_sources(accounts),
        notes=tuple(notes),
        sheets=tuple(sheet_list),
    )


def read_measurements(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    table: TableLike | str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    units: str = "mm",
    limits: ReadLimits | None = None,
) -> Validated:
    """Read and validate one or several measurement files in one go.

    Parameters
    ----------
    paths : path or sequence of paths
        CSV/TSV/text exports or ``.xlsx`` workbooks; each row keeps its ``source``.
    table, units
        As in :func:`validate`.
    sep, decimal, encoding, sheet, limits
        As in :func:`sizecheck.readers.read_input`, applied to every file.

    Returns
    -------
    Validated

    Raises
    ------
    SizecheckError
        A file is unreadable (:class:`~sizecheck.errors.InputError`), lacks required
        columns (:class:`~sizecheck.errors.MissingColumnsError`), or an option is unusable.
    """
    path_list = [Path(paths)] if isinstance(paths, str | os.PathLike) else [Path(p) for p in paths]
    if not path_list:
        raise UsageError("No input file given.")
    names = [p.name for p in path_list]
    sheets: list[RawSheet] = []
    for p in path_list:
        got = read_input(p, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet, limits=limits)
        if names.count(p.name) > 1:  # same file name in two folders: use the path as label
            got = [_relabel(s, str(p)) for s in got]
        sheets.extend(got)
    return validate(sheets, table=table, units=units)


def _relabel(sheet: RawSheet, label: str) -> RawSheet:
    suffix = sheet.source[len(sheet.path.name) :]
    return replace(sheet, source=label + suffix)


# --------------------------------------------------------------------------- data frames


def _frame_text(column: pd.Series) -> pd.Series:
    """One column of a user's DataFrame as the text a file with the same cells holds.

    Numbers are written as Python writes them (shortest round trip: ``273.5``, ``41``
    for ``41.0``), dates as ISO (``2026-03-12``, with the time when it is not
    midnight), text as it is; missing values (``None``, ``NaN``, ``NaT``, ``pd.NA``)
    become empty cells.
    """
    values = column
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamps = pd.Series(pd.DatetimeIndex(values).tz_localize(None), index=values.index)
        whole_days = bool((stamps.dropna() == stamps.dropna().dt.normalize()).all())
        text = stamps.dt.strftime("%Y-%m-%d" if whole_days else "%Y-%m-%d %H:%M:%S")
        return text.astype("str")
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(object).map(_cell_text, na_action="ignore").astype("str")
    if pd.api.types.is_integer_dtype(values.dtype):
        arr = pa.array(values.astype("Int64").to_numpy(dtype=object), type=pa.int64())
        return pd.Series(pc.cast(arr, pa.string()).to_pandas().to_numpy(), dtype="str")
    if pd.api.types.is_numeric_dtype(values.dtype):
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
        text = pc.cast(pa.array(x, from_pandas=True), pa.string())
        # as Python writes floats (and DataFrame.to_csv): 41.0, not arrow's 41
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(x) & (x == np.floor(x)) & (np.abs(x) < 1e16)
        text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, ".0", ""), text)
        return pd.Series(text.to_pandas().to_numpy(), dtype="str")
    return values.map(_cell_text, na_action="ignore").astype("str")


def _cell_text(value: object) -> str | None:
    """One cell of an object column as text (see :func:`_frame_text`)."""
    import datetime as dt

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else str(float(value))
    if isinstance(value, dt.datetime):
        stamp = pd.Timestamp(value)
        if stamp == stamp.normalize():
            return stamp.strftime("%Y-%m-%d")
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _frame_header(frame: pd.DataFrame) -> tuple[str, ...]:
    if isinstance(frame.columns, pd.MultiIndex):
        return tuple(" ".join(str(p) for p in col if str(p)) for col in frame.columns)
    return tuple(str(c) for c in frame.columns)


def frame_sheet(frame: pd.DataFrame, *, name: str = "<frame 0>") -> RawSheet:
    """A DataFrame as the :class:`~sizecheck.readers.RawSheet` a file with its cells gives.

    The frame's column names are the header; each cell becomes the text a CSV file
    would hold (see :func:`_frame_text`), so that :func:`validate` applies exactly the
    rules it applies to files. Rows are numbered as in the CSV the frame writes
    (``frame.to_csv(index=False)``): the header is row 1, the first row of the frame
    row 2 (``frame.iloc[row - 2]``). Named index levels (``frame.set_index("producer")``)
    are read as columns; an unnamed index is not data and is left out.

    Parameters
    ----------
    frame : DataFrame
        Not modified.
    name : str, default "<frame 0>"
        The label every output row of this frame carries as ``source``.

    Raises
    ------
    UsageError
        ``frame`` is not a DataFrame.
    """
    if not isinstance(frame, pd.DataFrame):
        raise UsageError(
            f"Expected a pandas DataFrame, a path or a list of them; got {type(frame).__name__}."
        )
    if any(level is not None for level in frame.index.names):
        frame = frame.reset_index()
    header = _frame_header(frame)
    data = pd.DataFrame(
        {j: _frame_text(frame.iloc[:, j]).reset_index(drop=True) for j in range(len(header))},
        index=pd.RangeIndex(len(frame)),
    )
    data.columns = pd.RangeIndex(len(header))
    return RawSheet(
        source=name,
        path=Path(name),
        sheet=None,
        header=header,
        data=data,
        rows=np.arange(2, len(frame) + 2, dtype=np.int64),
        header_row=1,
        header_fields=len(header),
    )


def frame_names(count: int, names: Sequence[str] | None = None) -> list[str]:
    """The ``source`` labels of ``count`` frames: ``names``, or ``<frame 0>``, ``<frame 1>``…"""
    if names is None:
        return [f"<frame {i}>" for i in range(count)]
    out = [str(n) for n in names]
    if len(out) != count or len(set(out)) != len(out) or not all(out):
        raise UsageError(
            f"Give one distinct, non-empty name per frame: {count} frame(s), names {out!r}."
        )
    return out


def validate_frame(
    frame: pd.DataFrame,
    *,
    table: TableLike | str | None = None,
    units: str = "mm",
    name: str = "<frame 0>",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate a DataFrame exactly as a measurement file with the same cells.

    The DataFrame twin of :func:`read_measurements`: the same column aliases (English and
    Indonesian), units, size labels, feet (``L``/``R``, ``kiri``/``kanan``), dates, pair
    checks and reject codes. Each cell is read as the text a CSV file would hold (numbers
    as Python writes them, dates as ISO dates); rows are numbered as in
    ``frame.to_csv(index=False)`` (header row 1, ``frame.iloc[row - 2]``).

    Parameters
    ----------
    frame : DataFrame
        Wide (one row per shoe, one column per dimension) or long (``producer, size,
        dimension, value``). Not modified.
    table : ReferenceTable or str, optional
        As in :func:`validate`: a shipped name such as ``"paris-point"`` or a table.
    units : {"mm", "cm", "in"}, default "mm"
        Unit of dimension columns whose name gives none.
    name : str, default "<frame 0>"
        The ``source`` label of the frame's rows and rejects.

    Returns
    -------
    measurements, rejects : DataFrame
        The accepted measurements (long, :data:`MEASUREMENT_COLUMNS` first) and every
        rejected cell or skipped row (:data:`REJECT_COLUMNS`), as :func:`validate` gives
        them. ``read_frames`` keeps the accounting too.

    Examples
    --------
    >>> df = pd.DataFrame({"produsen": ["UD Maju", "UD Maju"], "ukuran": [41, 43],
    ...                    "kaki": ["kiri", "kanan"], "panjang_insole": [273.5, -1.0]})
    >>> clean, rejects = validate_frame(df, table="paris-point")
    >>> clean[["source", "row", "producer", "size", "foot", "dimension", "value_mm"]]
          source  row producer  size foot      dimension  value_mm
    0  <frame 0>    2  UD Maju  41.0    L  insole_length     273.5
    >>> rejects[["source", "row", "column", "code"]].to_dict("records")
    [{'source': '<frame 0>', 'row': 3, 'column': 'panjang_insole', 'code': 'negative'}]
    """
    got = read_frames([frame], names=[name], table=table, units=units)
    return got.measurements, got.rejects


def read_frames(
    frames: Sequence[pd.DataFrame],
    *,
    names: Sequence[str] | None = None,
    table: TableLike | str | None = None,
    units: str = "mm",
) -> Validated:
    """Validate several DataFrames as :func:`read_measurements` validates files.

    Parameters
    ----------
    frames : sequence of DataFrame
        See :func:`validate_frame`. Not modified.
    names : sequence of str, optional
        One ``source`` label per frame; default ``<frame 0>``, ``<frame 1>``, …
    table, units
        As in :func:`validate`.

    Returns
    -------
    Validated
        With the accounting of every frame (``rows_read`` = the frame's rows).
    """
    labels = frame_names(len(frames), names)
    sheets = [frame_sheet(f, name=n) for f, n in zip(frames, labels, strict=True)]
    return validate(sheets, table=table, units=units)
