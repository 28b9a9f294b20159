"""Bytes to raw sheets: CSV, TSV, ``;``-CSV, Excel "Unicode text" and ``.xlsx``.

A reader does not judge values; it finds where the table is and hands every cell on as
text, with the row number a person sees, so that :mod:`sizecheck.validate` can account for
each of them:

- the **encoding** (UTF-8 with or without BOM, UTF-16 with BOM as Excel's "Unicode text"
  export writes it, UTF-16 without BOM, cp1252) and the **separator** (``;``, tab, ``,``,
  ``|``) are detected, and can be overridden;
- the **header row** is the first row where a producer column, a size column and at least
  one dimension column (or the long layout's ``dimension`` and ``value`` columns) match
  the aliases of :mod:`sizecheck.schema`; the rows above it are title rows;
- in workbooks, **merged cells** are filled from their top-left cell (producer names merged
  over a block of rows). CSV exports carry no merge information, so a blank producer cell
  stays blank there (validation reports it as ``missing_producer``);
- **row numbers** are the spreadsheet row, or the physical line of a text file (the header
  is line 1 when nothing stands above it); lines may end in ``\\n``, ``\\r\\n`` or a lone
  ``\\r`` (old Mac), mixed within one file;
- **field counts**: a text row with more or fewer fields than the header keeps its count in
  :attr:`RawSheet.fields`, so that validation can reject it with its reason instead of
  shifting or dropping cells;
- **limits** (:class:`ReadLimits`) are checked before the work: file size, the uncompressed
  size of a workbook's parts, and the rows, columns and cells of a sheet.

Input files are only ever opened for reading, and only regular files are read (not a
device such as ``/dev/zero``, a pipe or a socket).

Examples
--------
>>> import pathlib, tempfile
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "qa.csv").write_bytes(
...     "Data QA 2026\\nprodusen;ukuran;panjang insole (mm)\\nUD Maju;41;273,5\\n".encode())
>>> [sheet] = read_input(d / "qa.csv")
>>> sheet.sep, sheet.decimal, sheet.header_row, sheet.header
(';', ',', 2, ('produsen', 'ukuran', 'panjang insole (mm)'))
>>> sheet.rows.tolist(), sheet.data.iloc[0].tolist()
([3], ['UD Maju', '41', '273,5'])
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
from numpy.typing import NDArray

from sizecheck.errors import InputError, MissingColumnsError, UsageError
from sizecheck.i18n import Amount, Joined, Note, catalogue_error
from sizecheck.schema import DIMENSIONS, META_COLUMNS, match_column, near_dimension

__all__ = [
    "HEADER_SEARCH_ROWS",
    "MEASUREMENT_HEADER",
    "HeaderRule",
    "RawSheet",
    "ReadLimits",
    "find_header",
    "read_input",
]

#: How many rows from the top of a file or sheet are searched for the header row.
HEADER_SEARCH_ROWS = 60

_SEPARATORS = (";", "\t", ",", "|")
_SEP_NAMES = {
    "tab": "\t",
    "\\t": "\t",
    "semicolon": ";",
    "comma": ",",
    "pipe": "|",
    "titik koma": ";",
}
_XLSX_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAMPLE_CHARS = 256 * 1024
#: Bytes of a UTF-8 file decoded to find its header: at least _SAMPLE_CHARS characters.
_PREFIX_BYTES = 4 * _SAMPLE_CHARS + 4
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_DECIMAL_POINT = re.compile(r"^\s*[+-]?\d+\.\d+\s*$")
_NOT_NEWLINE = re.compile(rb"[^\r\n]")
_LONE_CR = re.compile(r"\r(?!\n)")

Format = Literal["csv", "xlsx"]


@dataclass(frozen=True)
class ReadLimits:
    """Limits checked before a file is read, so that a broken or hostile file fails at
    once with a clear message instead of running for minutes and exhausting memory.

    Each limit can be raised (``sizecheck validate/measure --limit NAME=VALUE``, or
    ``read_input(..., limits=ReadLimits(max_cells=...))``) for a genuinely large file.

    Attributes
    ----------
    max_mb : float, default 512
        Megabytes (10⁶ bytes) read from one file: a text file's size, or the total
        uncompressed size of a workbook's parts (a "zip bomb" of 1 MB can hold gigabytes).
    max_rows : int, default 10,000,000
        Rows of one sheet (text lines).
    max_columns : int, default 16,384
        Columns of one sheet (Excel's own maximum).
    max_cells : int, default 20,000,000
        Rows × columns of one sheet: a workbook with one stray cell at ``XFD200000``
        spans 3.3 billion cells. Reading a workbook takes about 12 s and 450 MB of memory
        per million cells (openpyxl); a text file much less.
    """

    max_mb: float = 512.0
    max_rows: int = 10_000_000
    max_columns: int = 16_384
    max_cells: int = 20_000_000

    #: Names accepted by :meth:`with_values` (and ``--limit NAME=VALUE``), per field.
    NAMES: ClassVar[dict[str, str]] = {
        "mb": "max_mb",
        "rows": "max_rows",
        "columns": "max_columns",
        "cells": "max_cells",
    }

    def with_values(self, values: dict[str, float]) -> ReadLimits:
        """A copy with the limits named in ``values`` (``mb``, ``rows``, ``columns``,
        ``cells``) raised or lowered.

        >>> ReadLimits().with_values({"cells": 1e8}).max_cells
        100000000
        """
        from dataclasses import replace

        changes: dict[str, float | int] = {}
        for key, value in values.items():
            name = self.NAMES.get(key.strip().lower())
            if name is None:
                raise UsageError(
                    f"Unknown limit {key!r}; use one of {', '.join(self.NAMES)} (e.g. cells=5e7)."
                )
            if not math.isfinite(value) or value <= 0:
                raise UsageError(f"Limit {key}={value!r}: expected a positive number.")
            changes[name] = float(value) if name == "max_mb" else int(value)
        return replace(self, **changes)  # type: ignore[arg-type]

    def check_sheet(self, where: str, rows: int, columns: int, *, workbook: bool = False) -> None:
        """Raise :class:`InputError` when a sheet of ``rows`` × ``columns`` is too large."""
        for what, have, limit in (
            ("rows", rows, self.max_rows),
            ("columns", columns, self.max_columns),
            ("cells", rows * columns, self.max_cells),
        ):
            if have > limit:
                raise catalogue_error(
                    InputError,
                    "error.too_large",
                    where=where,
                    rows=Amount(rows),
                    columns=Amount(columns),
                    cells=Amount(rows * columns),
                    limit=Amount(limit),
                    unit=Note(f"error.unit.{what}"),
                    what=what,
                    stray=Note("error.stray_cell") if workbook else "",
                )

    def check_bytes(self, where: str, size: int, what: str = "") -> None:
        """Raise :class:`InputError` when ``size`` bytes are more than :attr:`max_mb`;
        ``what`` says what was counted: ``"file"``, ``"unpacked"`` (a workbook) or nothing."""
        if size > self.max_mb * 1e6:
            raise catalogue_error(
                InputError,
                "error.too_many_mb",
                where=where,
                what=Note(f"error.size.{what}") if what else "",
                size=Amount(size / 1e6, 1),
                limit=f"{self.max_mb:g}",
            )


#: The limits used when none are given.
DEFAULT_LIMITS = ReadLimits()


@dataclass(frozen=True, eq=False)
class RawSheet:
    """One table found in an input file, every cell as text, nothing judged yet.

    Attributes
    ----------
    source : str
        Label used in every output row: the file name, plus ``#sheet`` for a workbook with
        several sheets.
    path : pathlib.Path
        The file read.
    sheet : str or None
        Worksheet name (workbooks only).
    header : tuple of str
        Header cells as written, one per column of ``data``.
    data : pandas.DataFrame
        The rows below the header; columns are positions ``0 .. len(header) - 1``; cells are
        text (``str`` dtype) with missing values for empty cells, merged cells already filled.
    rows : numpy.ndarray of int64
        The row number a person sees for each row of ``data``.
    header_row : int or None
        Row number of the header; ``None`` when no header was found (see ``notes``).
    title_rows : tuple of (int, str)
        Rows above the header, with their joined text.
    format : {"csv", "xlsx"}
        How the file was read.
    sep, decimal, encoding : str or None
        Detected or given separator, decimal mark and encoding (``sep`` and ``encoding`` are
        ``None`` for workbooks).
    notes : tuple of str
        Information a person should see (e.g. a sheet without a recognisable header).
    fields : numpy.ndarray of int64 or None
        Text files read field by field: the number of fields of each row as written
        (``None`` when every row has exactly the header's fields, and for workbooks).
        ``data`` has a column (named ``column_N`` in ``header``) for every field beyond
        the header.
    header_fields : int
        Text files: the number of fields of the header line (``header`` may hold more
        columns, ``column_N``, for the fields of longer rows).
    uncomputed : tuple of (int, int, str)
        Workbooks: formula cells of the body saved without a computed value (files written
        by scripts and never opened in a spreadsheet program), as ``(position in data,
        column, formula)``; ``data`` holds them as empty.
    """

    source: str
    path: Path
    sheet: str | None
    header: tuple[str, ...]
    data: pd.DataFrame
    rows: NDArray[np.int64]
    header_row: int | None
    title_rows: tuple[tuple[int, str], ...] = ()
    format: Format = "csv"
    sep: str | None = None
    decimal: str = "."
    encoding: str | None = None
    notes: tuple[str, ...] = field(default=())
    fields: NDArray[np.int64] | None = None
    header_fields: int = 0
    uncomputed: tuple[tuple[int, int, str], ...] = ()

    @property
    def has_header(self) -> bool:
        """Whether a header row was found (sheets without one carry only a note)."""
        return self.header_row is not None


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class _HeaderScore:
    producer: bool
    size: bool
    dimensions: int
    long_layout: bool
    matched: int

    @property
    def ok(self) -> bool:
        return self.producer and self.size and (self.dimensions > 0 or self.long_layout)


def _score(cells: Sequence[object]) -> _HeaderScore:
    found: set[str] = set()
    dims = 0
    matched = 0
    for cell in cells:
        if cell is None:
            continue
        m = match_column(cell)
        if m is None:
            continue
        matched += 1
        if m.kind == "dimension":
            dims += 1
        found.add(m.canonical)
    return _HeaderScore(
        "producer" in found,
        "size" in found,
        dims,
        {"dimension", "value"} <= found,
        matched,
    )


def find_header(rows: Sequence[Sequence[object]], rule: HeaderRule | None = None) -> int | None:
    """Index of the header row among the first :data:`HEADER_SEARCH_ROWS` ``rows``, or
    ``None``.

    The header is the first row ``rule`` accepts; by default (:data:`MEASUREMENT_HEADER`)
    the first row with a producer column, a size column and at least one dimension
    column, or the long layout's ``dimension`` and ``value`` columns.

    Examples
    --------
    >>> find_header([["Laporan QA"], ["produsen", "ukuran", "panjang_insole"], ["A", "41", "1"]])
    1
    >>> find_header([["nama", "nomor"]]) is None
    True
    """
    is_header = (rule or MEASUREMENT_HEADER).is_header
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if is_header(row):
            return i
    return None


def _missing_columns(where: str, rows: Sequence[Sequence[object]]) -> MissingColumnsError:
    candidates = [
        (i, _score(r), [str(c).strip() for c in r if c is not None and str(c).strip()])
        for i, r in enumerate(rows[:HEADER_SEARCH_ROWS])
    ]
    candidates = [c for c in candidates if c[2]]
    if not candidates:
        return catalogue_error(MissingColumnsError, "error.empty_file", source=where)
    i, score, cells = max(candidates, key=lambda c: (c[1].matched, -c[0]))
    missing = []
    if not score.producer:
        missing.append(("producer", META_COLUMNS["producer"]))
    if not score.size:
        missing.append(("size", META_COLUMNS["size"]))
    if score.dimensions == 0 and not score.long_layout:
        missing.append(("dimension", (*list(DIMENSIONS)[:4], "panjang_insole", "…")))
    shown = ", ".join(repr(c) for c in cells[:12]) + (" …" if len(cells) > 12 else "")
    need = [
        Note(f"error.header.need_{what}", aliases=", ".join(aliases[:8]))
        for what, aliases in missing
    ]
    near = [(c, m) for c in cells if (m := near_dimension(c)) is not None]
    unread = [
        Note(
            "error.header.unread",
            column=repr(c),
            dimension=m.dimension,
            suffix=repr(m.suffix),
            foot=Note("error.header.per_foot") if m.kind == "foot" else "",
        )
        for c, m in near[:4]
    ]
    return catalogue_error(
        MissingColumnsError,
        "error.no_header",
        where=where,
        rows=HEADER_SEARCH_ROWS,
        row=i + 1,
        shown=shown,
        need=Joined("; ", tuple(need)),
        unread=Joined("", tuple(unread)),
    )


def _measurement_value(header: str) -> bool:
    m = match_column(header)
    return m is not None and (m.kind == "dimension" or m.canonical == "value")


@dataclass(frozen=True)
class HeaderRule:
    """What the header row of a table looks like, for :func:`read_input`.

    Attributes
    ----------
    is_header : callable
        Whether a row's cells (``None`` for an empty cell) are the header.
    is_value : callable
        Whether a header cell names a column of readings; their cells decide the decimal
        mark when it is not given.
    missing : callable
        The error raised when no row of a file (or of the sheet asked for) is a header:
        called with the file's name and its first rows.
    skipped : str
        Catalogue key of the note on a workbook sheet skipped for lack of such a header
        (placeholders ``source`` and ``rows``; :class:`sizecheck.i18n.Note`).
    """

    is_header: Callable[[Sequence[object]], bool]
    is_value: Callable[[str], bool]
    missing: Callable[[str, Sequence[Sequence[object]]], Exception]
    skipped: str


#: The header of a measurement table: producer, size and a dimension column, or the long
#: layout's ``dimension`` and ``value`` (the default of :func:`read_input`).
MEASUREMENT_HEADER = HeaderRule(
    is_header=lambda cells: _score(cells).ok,
    is_value=_measurement_value,
    missing=_missing_columns,
    skipped="read.note.no_measurement_header",
)


def _join(cells: Sequence[str | None]) -> str:
    """Text of a row for a person: non-blank cells, merged repeats shown once."""
    out: list[str] = []
    for c in cells:
        text = c.strip() if c is not None else ""
        if text and (not out or out[-1] != text):
            out.append(text)
    return " | ".join(out)


# --------------------------------------------------------------------------- text files


def _normalise_sep(sep: str | None) -> str | None:
    if sep is None:
        return None
    value = _SEP_NAMES.get(sep.strip().lower(), sep)
    if len(value) != 1 or value in {'"', "\n", "\r"}:
        raise UsageError(
            f"Separator {sep!r} is not usable: give one character such as ';', ',', '|' or 'tab'."
        )
    return value


def _normalise_decimal(decimal: str | None) -> str | None:
    if decimal is None:
        return None
    if decimal not in {".", ","}:
        raise UsageError(f"Decimal mark {decimal!r} is not usable: give '.' or ','.")
    return decimal


def _decode(data: bytes, encoding: str | None, where: str) -> tuple[str, str]:
    """Decode ``data``; return the text and the encoding name used."""
    candidates = _candidates(data, encoding)
    if encoding is not None:
        name = candidates[0]
        try:
            return data.decode(name), name
        except UnicodeDecodeError as exc:
            raise catalogue_error(
                InputError,
                "error.decode",
                where=where,
                encoding=encoding,
                at=exc.start,
                bytes=repr(data[exc.start : exc.start + 4]),
            ) from None
    for name in candidates:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise InputError(f"{where}: cannot be decoded; give --encoding.")  # pragma: no cover


def _candidates(data: bytes, encoding: str | None) -> list[str]:
    """Encodings to try, in order: the given one, else from the BOM and the zero bytes."""
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise UsageError(
                f"Unknown encoding {encoding!r}; use e.g. utf-8, utf-8-sig, utf-16, cp1252."
            ) from None
        if name == "utf-8" and data.startswith(codecs.BOM_UTF8):
            name = "utf-8-sig"
        return [name]
    if data.startswith(codecs.BOM_UTF8):
        return ["utf-8-sig"]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ["utf-16"]
    head = data[:4096]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    candidates = []
    if len(head) >= 4 and odd > 0.3 * len(head) / 2 and even == 0:
        candidates.append("utf-16-le")
    elif len(head) >= 4 and even > 0.3 * len(head) / 2 and odd == 0:
        candidates.append("utf-16-be")
    return [*candidates, "utf-8", "cp1252", "latin-1"]


def _parse_sample(text: str, sep: str) -> list[tuple[int, int, list[str]]]:
    """Parse the start of ``text``: (first line, last line, cells) for each record."""
    out: list[tuple[int, int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    last = 0
    try:
        for cells in reader:
            out.append((last + 1, reader.line_num, cells))
            last = reader.line_num
            if len(out) >= HEADER_SEARCH_ROWS:
                break
    except csv.Error:
        pass
    return out


def _choose_sep(
    sample: str, sep: str | None, rule: HeaderRule
) -> tuple[str, list[tuple[int, int, list[str]]], int]:
    """Pick the separator whose parse finds a header soonest; return it, records, header index."""
    seps = (sep,) if sep is not None else _SEPARATORS
    best: tuple[tuple[int, int], str, list[tuple[int, int, list[str]]], int] | None = None
    fallback: tuple[int, str, list[tuple[int, int, list[str]]]] | None = None
    for candidate in seps:
        records = _parse_sample(sample, candidate)
        idx = find_header([r[2] for r in records], rule)
        if idx is not None:
            key = (idx, -len(records[idx][2]))
            if best is None or key < best[0]:
                best = (key, candidate, records, idx)
        width = max((len(r[2]) for r in records), default=0)
        if fallback is None or width > fallback[0]:
            fallback = (width, candidate, records)
    if best is None:
        if fallback is None:  # pragma: no cover - seps is never empty
            return ",", [], -1
        return fallback[1], fallback[2], -1
    return best[1], best[2], best[3]


def _detect_decimal(sep: str, values: Sequence[str]) -> str:
    comma = sum(1 for v in values if _DECIMAL_COMMA.match(v))
    point = sum(1 for v in values if _DECIMAL_POINT.match(v))
    if comma > point:
        return ","
    if point > 0:
        return "."
    return "," if sep == ";" else "."


def _line_offset(data: bytes, lines: int, pos: int = 0) -> int:
    """Byte offset of the start of line ``lines + 1`` of ``data[pos:]`` (lines end in ``\\n``)."""
    for _ in range(lines):
        nxt = data.find(b"\n", pos)
        if nxt < 0:
            return len(data)
        pos = nxt + 1
    return pos


def _frame(columns: Sequence[pa.Array | pa.ChunkedArray]) -> pd.DataFrame:
    table = pa.table({str(i): col for i, col in enumerate(columns)})
    frame: pd.DataFrame = table.to_pandas()
    frame.columns = pd.RangeIndex(len(columns))
    not_str = [c for c in frame.columns if frame[c].dtype != "str"]
    if not_str:
        frame[not_str] = frame[not_str].astype("str")
    return frame


def _read_body_arrow(
    data: bytes, start: int, sep: str, width: int, lines: int
) -> pd.DataFrame | None:
    """Read the data part of a clean text file, ``data[start:]`` of ``lines`` lines, with
    pyarrow (without copying it); ``None`` if it is not clean (a row of another width, a
    quoted line break)."""
    if _NOT_NEWLINE.search(data, start) is None:
        return pd.DataFrame({i: pd.Series([], dtype="str") for i in range(width)})
    names = [f"c{i}" for i in range(width)]
    try:
        table = pcsv.read_csv(
            pa.py_buffer(data).slice(start),
            read_options=pcsv.ReadOptions(column_names=names, block_size=8 << 20),
            parse_options=pcsv.ParseOptions(
                delimiter=sep, newlines_in_values=False, ignore_empty_lines=False
            ),
            convert_options=pcsv.ConvertOptions(
                # large_string: what pandas' arrow-backed ``str`` holds, so no copy follows
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if lines != table.num_rows:  # a quoted line break: let the csv module count lines
        return None
    return _frame(table.columns)


def _read_body_python(
    text: str, sep: str, first_line: int, width: int
) -> tuple[list[str], pd.DataFrame, NDArray[np.int64]]:
    """:func:`_read_body_rows` without the field counts."""
    return _read_body_rows(text, sep, first_line, width)[:3]


def _read_body_rows(
    text: str, sep: str, first_line: int, width: int, max_rows: int | None = None
) -> tuple[list[str], pd.DataFrame, NDArray[np.int64], NDArray[np.int64] | None]:
    """Read the data part of a messy text file with the csv module, tracking line numbers
    (any line ending) and the number of fields of each row.

    Returns the names of the columns beyond the header's ``width``, the frame (every
    row padded to the widest), the line number of each row, and the field counts
    (``None`` when every row has ``width`` fields). Reading stops after ``max_rows + 1``
    rows: the caller then refuses the file by its limits.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    records: list[list[str]] = []
    starts: list[int] = []
    last = 0
    try:
        for cells in reader:
            starts.append(first_line + last)
            records.append(cells)
            last = reader.line_num
            if max_rows is not None and len(records) > max_rows:
                break
    except csv.Error as exc:
        raise catalogue_error(
            InputError, "error.csv_parse", where="", line=first_line + last, detail=str(exc)
        ) from None
    counts = np.fromiter((len(r) for r in records), dtype=np.int64, count=len(records))
    full = max(width, int(counts.max(initial=0)))
    columns: list[list[str | None]] = [[] for _ in range(full)]
    for cells in records:
        for j in range(full):
            value = cells[j] if j < len(cells) else None
            columns[j].append(value if value else None)
    extra = [f"column_{j + 1}" for j in range(width, full)]
    frame = _frame([pa.array(c, type=pa.large_string()) for c in columns])
    fields = None if bool((counts == width).all()) else counts
    return extra, frame, np.asarray(starts, dtype=np.int64), fields


def _read_text(
    path: Path,
    data: bytes,
    *,
    sep: str | None,
    decimal: str | None,
    encoding: str | None,
    limits: ReadLimits,
    rule: HeaderRule,
) -> RawSheet:
    # A large UTF-8 file goes to pyarrow as bytes: decode only its start, to find the
    # separator and header. pyarrow checks the UTF-8 of every cell; if that or anything
    # else fails, the whole file is decoded and read as before (cp1252 fallback included).
    first = _candidates(data, encoding)[0]
    opts = {"sep": sep, "decimal": decimal, "limits": limits, "rule": rule}
    if first in {"utf-8", "utf-8-sig"} and len(data) > _PREFIX_BYTES:
        try:
            head = codecs.getincrementaldecoder(first)().decode(data[:_PREFIX_BYTES])
        except UnicodeDecodeError:
            head = None
        if head is not None:
            sheet = _text_sheet(path, data, head, first, whole=False, **opts)  # type: ignore[arg-type]
            if sheet is not None:
                return sheet
    text, enc = _decode(data, encoding, path.name)
    sheet = _text_sheet(path, data, text, enc, whole=True, **opts)  # type: ignore[arg-type]
    assert sheet is not None
    return sheet


def _line_count(data: bytes, start: int, *, lone_cr: bool) -> int:
    """Lines of ``data[start:]``, the last one with or without its line end: ending in
    ``\\n`` or ``\\r\\n``, and when ``lone_cr`` also in a lone ``\\r`` (as pyarrow counts
    them)."""
    lines = data.count(b"\n", start)
    if lone_cr:
        lines += data.count(b"\r", start) - data.count(b"\r\n", start)
    return lines + (0 if data.endswith((b"\n", b"\r")) or start >= len(data) else 1)


def _text_sheet(
    path: Path,
    data: bytes,
    text: str,
    enc: str,
    *,
    sep: str | None,
    decimal: str | None,
    limits: ReadLimits,
    rule: HeaderRule,
    whole: bool,
) -> RawSheet | None:
    """The sheet of a text file; ``text`` is ``data`` decoded, or only its start when not
    ``whole`` (then ``None`` unless the body reads with pyarrow from the bytes)."""
    where = path.name
    if text.startswith("\ufeff"):
        text = text[1:]
    sample = text[:_SAMPLE_CHARS]
    sep_used, records, idx = _choose_sep(sample, sep, rule)
    if idx < 0 and not whole:
        return None
    if idx < 0:
        raise rule.missing(where, [r[2] for r in records])
    header_first, header_last, header = records[idx]
    title_rows = tuple((first, _join(cells)) for first, _, cells in records[:idx])
    width = len(header)
    # The body starts on the line after the header record, found by counting \n: right
    # when no lone \r (old Mac line end) stands above it; else every line is counted. Its
    # lines are counted before they are read (an upper bound of the rows: a quoted line
    # break joins two lines). A lone \r further on makes pyarrow's rows outnumber the
    # lines, and the csv module reads the file, up to the limit.
    body_bytes = data if enc in {"utf-8", "utf-8-sig"} else text.encode("utf-8")
    bom = 3 if body_bytes is data and data.startswith(codecs.BOM_UTF8) else 0
    plain = _LONE_CR.search(sample) is None
    start = _line_offset(body_bytes, header_last, bom) if plain else 0
    lines = _line_count(body_bytes, start, lone_cr=not plain)
    limits.check_sheet(where, lines, width)
    frame: pd.DataFrame | None = None
    fields: NDArray[np.int64] | None = None
    if plain:
        frame = _read_body_arrow(body_bytes, start, sep_used, width, lines)
    if frame is None and not whole:
        return None
    header_cells = list(header)
    if frame is not None:
        rows = np.arange(header_last + 1, header_last + 1 + len(frame), dtype=np.int64)
    else:
        body = io.StringIO(text, newline="")
        for _ in range(header_last):
            body.readline()
        try:
            most = min(limits.max_rows, limits.max_cells // max(width, 1))
            extra, frame, rows, fields = _read_body_rows(
                body.read(), sep_used, header_last + 1, width, most
            )
        except InputError as exc:  # the parser does not know the file's name: put it first
            if exc.key != "error.csv_parse":
                raise InputError(f"{where}: {exc}") from None
            params = {**exc.params, "where": f"{where}: "}
            raise catalogue_error(InputError, exc.key, **params) from None
        limits.check_sheet(where, len(rows), width)
        header_cells += extra
    body_values = [
        v
        for col, head in enumerate(header_cells)
        if rule.is_value(str(head))
        for v in frame[col].head(200).dropna().tolist()
    ]
    dec = decimal if decimal is not None else _detect_decimal(sep_used, body_values)
    return RawSheet(
        source=path.name,
        path=path,
        sheet=None,
        header=tuple(header_cells),
        data=frame,
        rows=rows,
        header_row=header_first,
        title_rows=title_rows,
        format="csv",
        sep=sep_used,
        decimal=dec,
        encoding=enc,
        fields=fields,
        header_fields=width,
    )


# --------------------------------------------------------------------------- workbooks


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _sheet_grid(ws: object) -> list[list[str | None]]:
    grid: list[list[str | None]] = [
        [_cell_text(v) for v in row]
        for row in ws.iter_rows(values_only=True)  # type: ignore[attr-defined]
    ]
    for rng in ws.merged_cells.ranges:  # type: ignore[attr-defined]
        if rng.min_row - 1 >= len(grid):
            continue
        top_row = grid[rng.min_row - 1]
        value = top_row[rng.min_col - 1] if rng.min_col - 1 < len(top_row) else None
        for r in range(rng.min_row, min(rng.max_row, len(grid)) + 1):
            row = grid[r - 1]
            if len(row) < rng.max_col:
                row.extend([None] * (rng.max_col - len(row)))
            for c in range(rng.min_col, rng.max_col + 1):
                row[c - 1] = value
    return grid


@dataclass(frozen=True)
class _SheetPart:
    """A sheet listed in ``xl/workbook.xml``: its name, the zip member holding it (``None``
    when the member is missing) and its kind (``worksheet``, ``chartsheet``, ...)."""

    name: str
    part: str | None
    kind: str


def _local(tag: str) -> str:
    """An XML tag or attribute name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _workbook_sheets(path: Path, zf: zipfile.ZipFile) -> list[_SheetPart]:
    """The sheets ``xl/workbook.xml`` lists, in order, with their parts (transitional or
    strict namespaces alike)."""
    import posixpath
    import xml.etree.ElementTree as ET

    members = set(zf.namelist())
    try:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _unreadable(path, exc) from None
    targets: dict[str, tuple[str, str]] = {}
    for rel in rels.iter():
        if _local(rel.tag) == "Relationship":
            target = rel.get("Target", "")
            part = target[1:] if target.startswith("/") else posixpath.join("xl", target)
            kind = _local(rel.get("Type", "")).rsplit("/", 1)[-1]
            targets[rel.get("Id", "")] = (posixpath.normpath(part), kind)
    out: list[_SheetPart] = []
    for node in book.iter():
        if _local(node.tag) != "sheet":
            continue
        rid = next((v for k, v in node.attrib.items() if _local(k) == "id"), "")
        part, kind = targets.get(rid, ("", "missing"))
        out.append(_SheetPart(node.get("name", ""), part if part in members else None, kind))
    return out


_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_MERGE_REF = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?ref=\"([A-Z]+\d+):([A-Z]+\d+)\"")


def _scan_sheet_xml(where: str, xml: bytes, limits: ReadLimits) -> list[tuple[int, int, str]]:
    """Check a worksheet's XML before openpyxl reads it, and find what openpyxl hides.

    Merged ranges are refused when their cells together exceed ``limits.max_cells``
    (openpyxl makes an object for every cell of a merged range). Returns the formula
    cells saved without a computed value, as ``(row, column, formula)`` (1-based):
    openpyxl reads them as empty.
    """
    import xml.etree.ElementTree as ET

    from openpyxl.utils.cell import coordinate_to_tuple

    merged = 0
    for first, last in _MERGE_REF.findall(xml):
        (r0, c0), (r1, c1) = coordinate_to_tuple(first.decode()), coordinate_to_tuple(last.decode())
        merged += (abs(r1 - r0) + 1) * (abs(c1 - c0) + 1)
    if merged > limits.max_cells:
        raise catalogue_error(
            InputError,
            "error.merged_too_many",
            where=where,
            cells=Amount(merged),
            limit=Amount(limits.max_cells),
        )
    if _FORMULA_TAG.search(xml) is None:
        return []
    found: list[tuple[int, int, str]] = []
    try:
        for _, node in ET.iterparse(io.BytesIO(xml), events=("end",)):
            tag = _local(node.tag)
            if tag == "c":
                parts = {_local(child.tag): child for child in node}
                value = parts.get("v")
                if "f" in parts and (value is None or not (value.text or "").strip()):
                    ref = node.get("r")
                    if ref:
                        row, col = coordinate_to_tuple(ref)
                        found.append((row, col, parts["f"].text or "(shared formula)"))
                node.clear()
            elif tag == "row":
                node.clear()
    except (ET.ParseError, ValueError):
        return found  # openpyxl reports a malformed sheet in its own words
    return found


def _load_workbook(path: Path, data: bytes) -> object:
    """openpyxl's workbook (values as last computed, merged cells known)."""
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            return openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, IndexError) as exc:
        raise _unreadable(path, exc) from None
    except Exception as exc:  # openpyxl raises many kinds on malformed files
        raise _unreadable(path, exc, detail=False) from None


def _unreadable(path: Path, exc: Exception, *, detail: bool = True) -> InputError:
    """A workbook the reader cannot open: what Python said, and how to save it again."""
    what = f"{type(exc).__name__}: {exc}" if detail else type(exc).__name__
    return catalogue_error(InputError, "error.xlsx_unreadable", file=path.name, detail=what)


def _choose_sheets(path: Path, parts: list[_SheetPart], sheet: str | None) -> list[str]:
    """The worksheets to read: the one asked for (by name or 1-based number), else all."""
    names = [p.name for p in parts]
    tables = [p.name for p in parts if p.kind == "worksheet"]
    if sheet is None:
        return tables
    chosen = sheet if sheet in names else None
    if chosen is None and sheet.strip().isdigit() and 1 <= int(sheet) <= len(names):
        chosen = names[int(sheet) - 1]
    if chosen is None:
        raise catalogue_error(
            InputError,
            "error.no_sheet",
            file=path.name,
            sheet=repr(sheet),
            sheets=", ".join(map(repr, names)),
        )
    if chosen not in tables:
        raise catalogue_error(
            InputError,
            "error.chart_sheet",
            file=path.name,
            sheet=repr(chosen),
            sheets=", ".join(map(repr, tables)) or Note("error.none"),
        )
    return [chosen]


def _read_workbook(
    path: Path,
    data: bytes,
    *,
    sheet: str | None,
    decimal: str | None,
    limits: ReadLimits,
    rule: HeaderRule,
) -> list[RawSheet]:
    """The sheets of an ``.xlsx`` workbook, after the checks that must come before
    openpyxl reads it (uncompressed size, missing parts, merged ranges)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _unreadable(path, exc) from None
    limits.check_bytes(path.name, sum(i.file_size for i in infos), "unpacked")
    parts = _workbook_sheets(path, zf)
    missing = [p.name for p in parts if p.part is None]
    if missing:
        raise catalogue_error(
            InputError, "error.sheets_missing", file=path.name, sheets=", ".join(map(repr, missing))
        )
    chosen = _choose_sheets(path, parts, sheet)
    uncomputed: dict[str, list[tuple[int, int, str]]] = {}
    for part in parts:
        if part.kind == "worksheet" and part.part is not None:
            where = Note("error.where_sheet", file=path.name, sheet=repr(part.name))
            try:
                xml = zf.read(part.part)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                raise catalogue_error(
                    InputError, "error.unpack", where=where, detail=str(exc)
                ) from None
            uncomputed[part.name] = _scan_sheet_xml(where, xml, limits)
    wb = _load_workbook(path, data)
    multi = len(parts) > 1
    out: list[RawSheet] = []
    for name in chosen:
        source = f"{path.name}#{name}" if multi else path.name
        explicit = sheet is not None or len(chosen) == 1
        if name not in wb.sheetnames:  # type: ignore[attr-defined]
            raise catalogue_error(
                InputError, "error.sheet_damaged", file=path.name, sheet=repr(name)
            )
        ws = wb[name]  # type: ignore[index]
        out.append(_worksheet(path, ws, source, limits, decimal, uncomputed[name], explicit, rule))
    charts = [p.name for p in parts if p.kind != "worksheet"]
    if charts and out:
        note = Note("read.note.chart_sheets", file=path.name, sheets=", ".join(map(repr, charts)))
        out[0] = replace(out[0], notes=(*out[0].notes, note))
    if all(not s.has_header for s in out):
        if not chosen:
            raise catalogue_error(InputError, "error.only_charts", file=path.name)
        first = wb[chosen[0]]  # type: ignore[index]
        raise rule.missing(f"{path.name} (no sheet has a header)", _sheet_grid(first))
    return out


def _worksheet(
    path: Path,
    ws: object,
    source: str,
    limits: ReadLimits,
    decimal: str | None,
    uncomputed: list[tuple[int, int, str]],
    explicit: bool,
    rule: HeaderRule,
) -> RawSheet:
    """One worksheet as a raw sheet (without a header: a note, or an error when this
    sheet was asked for or is the only one)."""
    name = str(ws.title)  # type: ignore[attr-defined]
    where = Note("error.where_sheet", file=path.name, sheet=repr(name))
    limits.check_sheet(where, ws.max_row, ws.max_column, workbook=True)  # type: ignore[attr-defined]
    grid = _sheet_grid(ws)
    idx = find_header(grid, rule)
    if idx is None:
        if explicit:
            raise rule.missing(where, grid)
        return RawSheet(
            source=source,
            path=path,
            sheet=name,
            header=(),
            data=pd.DataFrame(),
            rows=np.zeros(0, dtype=np.int64),
            header_row=None,
            format="xlsx",
            notes=(Note(rule.skipped, source=source, rows=HEADER_SEARCH_ROWS),),
        )
    header = [c if c is not None else "" for c in grid[idx]]
    body = grid[idx + 1 :]
    width = max([len(header), *(len(r) for r in body)])
    # drop trailing columns that are empty both in the header and in every row
    while width > len(header) or (width > 0 and not header[width - 1]):
        if any(len(r) >= width and r[width - 1] is not None for r in body):
            break
        width -= 1
    header = [*header[:width], *[""] * (width - len(header))]
    header = [h or f"column_{j + 1}" for j, h in enumerate(header)]
    frame = _frame(
        [
            pa.array([r[j] if j < len(r) else None for r in body], type=pa.large_string())
            for j in range(width)
        ]
    )
    values = [
        v
        for j, head in enumerate(header)
        if rule.is_value(head)
        for v in frame[j].head(200).dropna().tolist()
    ]
    return RawSheet(
        source=source,
        path=path,
        sheet=name,
        header=tuple(header),
        data=frame,
        rows=np.arange(idx + 2, idx + 2 + len(body), dtype=np.int64),
        header_row=idx + 1,
        title_rows=tuple((i + 1, _join(grid[i])) for i in range(idx)),
        format="xlsx",
        decimal=decimal if decimal is not None else _detect_decimal(".", values),
        uncomputed=tuple((r - idx - 2, c - 1, f) for r, c, f in uncomputed if r > idx + 1),
    )


# --------------------------------------------------------------------------- entry point


def read_input(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    limits: ReadLimits | None = None,
    header: HeaderRule | None = None,
) -> list[RawSheet]:
    """Read one input file into raw sheets, without judging any value.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``/``.tsv``/``.txt`` file (any of the separators and encodings above) or an
        ``.xlsx`` workbook. The file is opened read-only and never modified.
    sep : str, optional
        Field separator of text files (``;``, ``,``, ``|``, ``tab``); detected when omitted.
    decimal : {".", ","}, optional
        Decimal mark; detected from the dimension values when omitted.
    encoding : str, optional
        Text encoding; detected when omitted (BOM, UTF-16, UTF-8, else cp1252).
    sheet : str, optional
        Worksheet name (or 1-based number) to read; default every sheet with a header.
        Ignored for text files.
    limits : ReadLimits, optional
        Size limits checked before the work (default :class:`ReadLimits`'s).
    header : HeaderRule, optional
        What the header row looks like (default :data:`MEASUREMENT_HEADER`; the gage
        study reader gives its own).

    Returns
    -------
    list of RawSheet
        One per table found; a workbook sheet without a header is returned with
        ``has_header`` false and a note, so callers can report it.

    Raises
    ------
    InputError
        The file cannot be opened, decoded or parsed, is not a regular file, exceeds a
        limit, or is a legacy ``.xls`` workbook.
    MissingColumnsError
        No header row with producer, size and a dimension column is found (with
        ``header``: what its ``missing`` gives).
    UsageError
        ``sep``, ``decimal`` or ``encoding`` is not usable.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "qa.tsv"
    >>> _ = p.write_bytes("producer\\tsize\\tinsole_length_cm\\nA\\t41\\t27.35\\n".encode("utf-16"))
    >>> [s] = read_input(p)
    >>> s.encoding, repr(s.sep), s.data.iloc[0, 2]
    ('utf-16', "'\\\\t'", '27.35')
    """
    p = Path(path)
    sep_n = _normalise_sep(sep)
    dec_n = _normalise_decimal(decimal)
    lim = limits if limits is not None else DEFAULT_LIMITS
    rule = header if header is not None else MEASUREMENT_HEADER
    data = _read_bytes(p, lim)
    suffix = p.suffix.lower()
    if data.startswith(_OLE_MAGIC) or (suffix == ".xls" and not data.startswith(_ZIP_MAGIC)):
        raise catalogue_error(InputError, "error.xls", file=p.name)
    if suffix in {".ods", ".numbers"}:
        raise catalogue_error(InputError, "error.other_format", file=p.name, suffix=suffix)
    if suffix in _XLSX_SUFFIXES or data.startswith(_ZIP_MAGIC):
        return _read_workbook(p, data, sheet=sheet, decimal=dec_n, limits=lim, rule=rule)
    return [_read_text(p, data, sep=sep_n, decimal=dec_n, encoding=encoding, limits=lim, rule=rule)]


def _read_bytes(p: Path, limits: ReadLimits) -> bytes:
    """The bytes of a regular file within the size limit. A device such as ``/dev/zero``,
    a pipe or a socket is refused without opening it: it may never end (and opening a
    pipe waits for a writer)."""
    import stat

    try:
        info = p.stat()
        if stat.S_ISDIR(info.st_mode):
            raise catalogue_error(InputError, "error.is_directory", path=str(p))
        if not stat.S_ISREG(info.st_mode):
            raise catalogue_error(InputError, "error.not_regular", path=str(p))
        limits.check_bytes(p.name, info.st_size, "file")
        with p.open("rb") as fh:
            data = fh.read(int(limits.max_mb * 1e6) + 1)  # it may have grown since
    except FileNotFoundError:
        raise catalogue_error(InputError, "error.no_such_file", path=str(p)) from None
    except OSError as exc:
        raise catalogue_error(
            InputError, "error.cannot_read", path=str(p), reason=str(exc.strerror)
        ) from None
    limits.check_bytes(p.name, len(data), "file")
    return data
