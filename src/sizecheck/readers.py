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
  is line 1 when nothing stands above it).

Input files are only ever opened for reading.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
from numpy.typing import NDArray

from sizecheck.errors import InputError, MissingColumnsError, UsageError
from sizecheck.schema import DIMENSIONS, META_COLUMNS, match_column

__all__ = ["HEADER_SEARCH_ROWS", "RawSheet", "find_header", "read_input"]

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

Format = Literal["csv", "xlsx"]


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


def find_header(rows: Sequence[Sequence[object]]) -> int | None:
    """Index of the header row among ``rows``, or ``None``.

    The header is the first row with a producer column, a size column and at least one
    dimension column, or the long layout's ``dimension`` and ``value`` columns.

    Examples
    --------
    >>> find_header([["Laporan QA"], ["produsen", "ukuran", "panjang_insole"], ["A", "41", "1"]])
    1
    >>> find_header([["nama", "nomor"]]) is None
    True
    """
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if _score(row).ok:
            return i
    return None


def _missing_columns(where: str, rows: Sequence[Sequence[object]]) -> MissingColumnsError:
    candidates = [
        (i, _score(r), [str(c).strip() for c in r if c is not None and str(c).strip()])
        for i, r in enumerate(rows[:HEADER_SEARCH_ROWS])
    ]
    candidates = [c for c in candidates if c[2]]
    if not candidates:
        return MissingColumnsError(f"{where}: the file is empty; expected a header row.")
    i, score, cells = max(candidates, key=lambda c: (c[1].matched, -c[0]))
    missing = []
    if not score.producer:
        missing.append(("producer", META_COLUMNS["producer"]))
    if not score.size:
        missing.append(("size", META_COLUMNS["size"]))
    if score.dimensions == 0 and not score.long_layout:
        missing.append(("a dimension", (*list(DIMENSIONS)[:4], "panjang_insole", "…")))
    shown = ", ".join(repr(c) for c in cells[:12]) + (" …" if len(cells) > 12 else "")
    need = "; ".join(f"{name} ({', '.join((name, *aliases)[:9])})" for name, aliases in missing)
    return MissingColumnsError(
        f"{where}: no header row found in the first {HEADER_SEARCH_ROWS} rows. The closest "
        f"(row {i + 1}) has columns {shown}, but lacks {need}. A header needs a producer, a "
        "size and at least one dimension column (or long layout: producer, size, dimension, "
        "value); rename the columns or run 'sizecheck template' for a sheet with the "
        "expected headers."
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
            raise InputError(
                f"{where}: cannot be decoded as {encoding} (byte {exc.start}: "
                f"{data[exc.start : exc.start + 4]!r}). Leave --encoding out to detect it, or "
                "try utf-8, utf-16 or cp1252."
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


def _choose_sep(sample: str, sep: str | None) -> tuple[str, list[tuple[int, int, list[str]]], int]:
    """Pick the separator whose parse finds a header soonest; return it, records, header index."""
    seps = (sep,) if sep is not None else _SEPARATORS
    best: tuple[tuple[int, int], str, list[tuple[int, int, list[str]]], int] | None = None
    fallback: tuple[int, str, list[tuple[int, int, list[str]]]] | None = None
    for candidate in seps:
        records = _parse_sample(sample, candidate)
        idx = find_header([r[2] for r in records])
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


def _read_body_arrow(data: bytes, start: int, sep: str, width: int) -> pd.DataFrame | None:
    """Read the data part of a clean text file, ``data[start:]``, with pyarrow (without
    copying it); ``None`` if it is not clean."""
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
    lines = data.count(b"\n", start) + (0 if data.endswith(b"\n") else 1)
    if lines != table.num_rows:  # a quoted line break: let the csv module count lines
        return None
    return _frame(table.columns)


def _read_body_python(
    text: str, sep: str, first_line: int, width: int
) -> tuple[list[str], pd.DataFrame, NDArray[np.int64]]:
    """Read the data part of a messy text file with the csv module, tracking line numbers."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    records: list[list[str]] = []
    starts: list[int] = []
    last = 0
    try:
        for cells in reader:
            starts.append(first_line + last)
            records.append(cells)
            last = reader.line_num
    except csv.Error as exc:
        raise InputError(
            f"cannot parse line {first_line + last}: {exc}. Check the separator (--sep) and quotes."
        ) from None
    full = max([width, *(len(r) for r in records)])
    columns: list[list[str | None]] = [[] for _ in range(full)]
    for cells in records:
        for j in range(full):
            value = cells[j] if j < len(cells) else None
            columns[j].append(value if value else None)
    extra = [f"column_{j + 1}" for j in range(width, full)]
    frame = _frame([pa.array(c, type=pa.large_string()) for c in columns])
    return extra, frame, np.asarray(starts, dtype=np.int64)


def _read_text(
    path: Path, data: bytes, *, sep: str | None, decimal: str | None, encoding: str | None
) -> RawSheet:
    # A large UTF-8 file goes to pyarrow as bytes: decode only its start, to find the
    # separator and header. pyarrow checks the UTF-8 of every cell; if that or anything
    # else fails, the whole file is decoded and read as before (cp1252 fallback included).
    first = _candidates(data, encoding)[0]
    if first in {"utf-8", "utf-8-sig"} and len(data) > _PREFIX_BYTES:
        try:
            head = codecs.getincrementaldecoder(first)().decode(data[:_PREFIX_BYTES])
        except UnicodeDecodeError:
            head = None
        if head is not None:
            sheet = _text_sheet(path, data, head, first, sep=sep, decimal=decimal, whole=False)
            if sheet is not None:
                return sheet
    text, enc = _decode(data, encoding, path.name)
    sheet = _text_sheet(path, data, text, enc, sep=sep, decimal=decimal, whole=True)
    assert sheet is not None
    return sheet


def _text_sheet(
    path: Path,
    data: bytes,
    text: str,
    enc: str,
    *,
    sep: str | None,
    decimal: str | None,
    whole: bool,
) -> RawSheet | None:
    """The sheet of a text file; ``text`` is ``data`` decoded, or only its start when not
    ``whole`` (then ``None`` unless the body reads with pyarrow from the bytes)."""
    where = path.name
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\n" not in text[:_SAMPLE_CHARS] and "\r" in text[:_SAMPLE_CHARS]:
        text = text.replace("\r", "\n")  # classic Mac line ends
    sample = text[:_SAMPLE_CHARS]
    sep_used, records, idx = _choose_sep(sample, sep)
    if idx < 0 and not whole:
        return None
    if idx < 0:
        raise _missing_columns(where, [r[2] for r in records])
    header_first, header_last, header = records[idx]
    title_rows = tuple((first, _join(cells)) for first, _, cells in records[:idx])
    width = len(header)
    # The body starts on the line after the header record.
    frame: pd.DataFrame | None = None
    if enc in {"utf-8", "utf-8-sig"} and "\r" not in sample.replace("\r\n", ""):
        bom = 3 if data.startswith(codecs.BOM_UTF8) else 0
        frame = _read_body_arrow(data, _line_offset(data, header_last, bom), sep_used, width)
    elif "\r" not in sample.replace("\r\n", ""):
        utf8 = text.encode("utf-8")
        frame = _read_body_arrow(utf8, _line_offset(utf8, header_last), sep_used, width)
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
            extra, frame, rows = _read_body_python(body.read(), sep_used, header_last + 1, width)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        header_cells += extra
    body_values = [
        v
        for col, head in enumerate(header_cells)
        if (m := match_column(head)) is not None
        and (m.kind == "dimension" or m.canonical == "value")
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


def _read_workbook(
    path: Path, data: bytes, *, sheet: str | None, decimal: str | None
) -> list[RawSheet]:
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, IndexError) as exc:
        raise InputError(
            f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc}). Open it "
            "in Excel or LibreOffice and save it again as .xlsx or CSV."
        ) from None
    except Exception as exc:  # openpyxl raises many kinds on malformed files
        raise InputError(
            f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}). Save it again "
            "as .xlsx or CSV."
        ) from None
    names = list(wb.sheetnames)
    if sheet is not None:
        chosen = [sheet] if sheet in names else []
        if not chosen and sheet.strip().isdigit() and 1 <= int(sheet) <= len(names):
            chosen = [names[int(sheet) - 1]]
        if not chosen:
            raise InputError(
                f"{path.name}: no sheet {sheet!r}. Sheets: {', '.join(map(repr, names))}."
            )
    else:
        chosen = names
    multi = len(names) > 1
    out: list[RawSheet] = []
    for name in chosen:
        ws = wb[name]
        grid = _sheet_grid(ws)
        source = f"{path.name}#{name}" if multi else path.name
        idx = find_header(grid)
        if idx is None:
            if sheet is not None or len(chosen) == 1:
                raise _missing_columns(f"{path.name}, sheet {name!r}", grid)
            out.append(
                RawSheet(
                    source=source,
                    path=path,
                    sheet=name,
                    header=(),
                    data=pd.DataFrame(),
                    rows=np.zeros(0, dtype=np.int64),
                    header_row=None,
                    format="xlsx",
                    notes=(
                        f"{source}: sheet skipped, no header row with producer, size and a "
                        f"dimension in its first {HEADER_SEARCH_ROWS} rows.",
                    ),
                )
            )
            continue
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
        columns = [
            pa.array([r[j] if j < len(r) else None for r in body], type=pa.large_string())
            for j in range(width)
        ]
        frame = _frame(columns)
        title_rows = tuple((i + 1, _join(grid[i])) for i in range(idx))
        values = [
            v
            for j, head in enumerate(header)
            if (m := match_column(head)) is not None and m.kind == "dimension"
            for v in frame[j].head(200).dropna().tolist()
        ]
        out.append(
            RawSheet(
                source=source,
                path=path,
                sheet=name,
                header=tuple(header),
                data=frame,
                rows=np.arange(idx + 2, idx + 2 + len(body), dtype=np.int64),
                header_row=idx + 1,
                title_rows=title_rows,
                format="xlsx",
                decimal=decimal if decimal is not None else _detect_decimal(".", values),
            )
        )
    if all(not s.has_header for s in out):
        first = wb[chosen[0]]
        raise _missing_columns(f"{path.name} (no sheet has a header)", _sheet_grid(first))
    return out


# --------------------------------------------------------------------------- entry point


def read_input(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
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

    Returns
    -------
    list of RawSheet
        One per table found; a workbook sheet without a header is returned with
        ``has_header`` false and a note, so callers can report it.

    Raises
    ------
    InputError
        The file cannot be opened, decoded or parsed, or it is a legacy ``.xls`` workbook.
    MissingColumnsError
        No header row with producer, size and a dimension column is found.
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
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file.") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory; give the measurement files inside it.") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror}).") from None
    suffix = p.suffix.lower()
    if data.startswith(_OLE_MAGIC) or (suffix == ".xls" and not data.startswith(_ZIP_MAGIC)):
        raise InputError(
            f"{p.name}: legacy Excel .xls workbooks are not read (no maintained reader is a "
            "sizecheck dependency). Open it in Excel or LibreOffice and save as .xlsx or CSV."
        )
    if suffix in {".ods", ".numbers"}:
        raise InputError(f"{p.name}: {suffix} files are not read; save as .xlsx or CSV.")
    if suffix in _XLSX_SUFFIXES or data.startswith(_ZIP_MAGIC):
        return _read_workbook(p, data, sheet=sheet, decimal=dec_n)
    return [_read_text(p, data, sep=sep_n, decimal=dec_n, encoding=encoding)]
