"""The workbook for the office's Excel: ``summary.xlsx`` (English) / ``ringkasan.xlsx``.

The CSV files of ``sizecheck measure`` are for programs: dots as decimal marks, every
digit, codes instead of words. The workbook holds the same tables for a person, in the
chosen language, one sheet each:

- **About** (*Keterangan*): the report's title, office and number when given
  (``measure --title --office --report-no``), the
  measurement period, the reference table with its status and source, the tool version,
  the inputs with their SHA-256, and the row and cell accounting;
- **Summary** (*Ringkasan*): one row per producer × dimension (and per model when the
  data name models), the verdict in words, the key numbers and the actions, filled by
  verdict; taken from the findings (:attr:`Analysis.findings`), never recomputed;
- **Corrections** (*Koreksi*): what to change at each size (``corrections.csv``);
- **Whose 41 is whose 42** (*Nomor 41 siapa*): between producers, per dimension and size
  (``comparison.csv``);
- **Conventions** (*Kebiasaan ukuran*): which sizing convention fits each producer
  (``conventions.csv``);
- **Reference table** (*Tabel rujukan*): nominal, tolerance and limits per size;
- **Rejects** (*Ditolak*): every rejected cell and skipped row with its reason
  (``rejects.csv``).

The workbook is written with XlsxWriter (openpyxl reads input workbooks): it writes
each cell's XML directly, about three times faster than openpyxl's write-only mode, and
registers each look (number format, alignment, fill, bold) once as a format.

Numbers are numbers, with number formats (``0.0``), so Excel shows them with the
reader's decimal mark; a stored value keeps at most a few decimals (no 16-digit floats)
and a missing or infinite value is an empty cell. Every sheet has a frozen, filterable
header row and fitted column widths. Text from the data goes through
:func:`sizecheck.escaping.formula_safe` (so ``=HYPERLINK(…)`` is shown, never run) and
:func:`sizecheck.escaping.visible_controls` (a bidirectional control shows as
``[U+202E]``; other control characters cannot be stored in a workbook at all).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sizecheck.escaping import formula_safe, visible_controls
from sizecheck.i18n import check_lang, dimension_label, has_key, t

if TYPE_CHECKING:
    import pandas as pd
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

    from sizecheck.findings import DimensionFinding
    from sizecheck.pipeline import Analysis, ReportInfo

__all__ = ["WORKBOOK_NAMES", "workbook_name", "write_workbook"]

#: The workbook's file name in each language.
WORKBOOK_NAMES: Mapping[str, str] = {"en": "summary.xlsx", "id": "ringkasan.xlsx"}

#: Excel number formats by kind of value; the stored value is rounded to ``_DECIMALS``.
#: Excel shows a format's ``.`` as the reader's decimal mark (a comma in Indonesia).
_FORMATS: Mapping[str, str] = {
    "count": "#,##0",
    "mm": "0.0",
    "mm2": "0.00",
    "sizes": "0.00",
    "pct": "0.0",
    "ratio": "0.00",
    "p": "0.000",
    "size": "General",
}
#: Decimals kept in a stored value of each kind (``p``: significant digits).
_DECIMALS: Mapping[str, int] = {
    "mm": 3, "mm2": 3, "sizes": 3, "pct": 2, "ratio": 3, "p": 3, "size": 3,
}  # fmt: skip
#: Date formats: ISO in English, day/month/year as Indonesian offices write dates.
_DATE_FORMATS: Mapping[str, str] = {"en": "yyyy-mm-dd", "id": "dd/mm/yyyy"}

#: Row fills by the severity of a verdict (:data:`sizecheck.findings.SEVERITY`): no fill
#: for too little data, green for conforming, amber for scatter or a pair mismatch, red
#: for a wrong size (offset, grading, drift). Their grey levels differ too (sRGB luma
#: about 255, 228, 206, 176), so a grayscale print keeps them apart; the verdict is
#: also written in words.
_SEVERITY_FILLS: Mapping[int, str | None] = {0: None, 1: "C6EFCE", 2: "FFCC66", 3: "FFCC66"}
_RED = "F2A0A0"
_HEADER_FILL = "D9D9D9"

#: Widest and narrowest column (characters), and rows looked at to fit a width.
_MAX_WIDTH, _MIN_WIDTH, _WIDTH_ROWS = 60, 6, 500
#: Excel's limits: rows of a sheet (header included) and characters of a cell.
SHEET_ROWS, CELL_CHARS = 1_048_576, 32_767


@dataclass(frozen=True)
class _Column:
    """One column of a sheet: the frame's column, its kind, the header's catalogue key."""

    name: str
    kind: str = "text"  # text, words, count, mm, mm2, sizes, pct, ratio, p, size, date, yesno

    @property
    def key(self) -> str:
        return f"workbook.col.{self.name}"


def workbook_name(lang: str) -> str:
    """The workbook's file name for ``lang``: ``summary.xlsx`` or ``ringkasan.xlsx``."""
    return WORKBOOK_NAMES[check_lang(lang)]


# --------------------------------------------------------------------------- cells


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def safe_text(value: Any) -> str:
    """A text cell from the data: controls shown, formulas escaped (never run), and cut
    to what a cell holds (:data:`CELL_CHARS`, ending "…") rather than left out."""
    text = formula_safe(visible_controls(str(value), keep="\n"))
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(value: Any, kind: str) -> float | int | None:
    """The stored number: finite, rounded to what a person can use; else None."""
    if isinstance(value, bool) or not _finite(value):
        return None
    x = float(value)
    if kind == "count":
        return round(x)
    digits = _DECIMALS.get(kind, 3)
    if kind == "p":
        return float(f"{x:.{digits}g}")
    rounded = round(x, digits)
    if kind == "size" and rounded.is_integer():
        return int(rounded)
    return rounded + 0.0  # no -0.0


def _date(value: Any) -> _dt.date | None:
    if _missing(value):
        return None
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(ts) else ts.date()


class _Styles:
    """The few looks of a workbook's cells, each made once (an XlsxWriter format) and
    shared by every cell that has it."""

    def __init__(self, book: Workbook, lang: str) -> None:
        self.book = book
        self.lang = lang
        self.header = book.add_format(
            {"bold": True, "pattern": 1, "bg_color": f"#{_HEADER_FILL}", "text_wrap": True,
             "valign": "top"}
        )  # fmt: skip
        self.label = book.add_format({"bold": True, "valign": "top"})
        self.title = book.add_format({"bold": True})
        self._looks: dict[tuple[str, int | None], Format] = {}

    def look(self, number_format: str, severity: int | None) -> Format:
        """The format of a body cell: its number format, top alignment, and the fill (and
        bold font, for a wrong size) of ``severity``."""
        key = (number_format, severity)
        if key not in self._looks:
            spec: dict[str, Any] = {"num_format": number_format, "valign": "top"}
            colour = _RED if severity == 4 else _SEVERITY_FILLS.get(severity or 0)
            if severity is not None and colour is not None:
                spec.update(pattern=1, bg_color=f"#{colour}", bold=severity >= 4)
            self._looks[key] = self.book.add_format(spec)
        return self._looks[key]

    def write(
        self, ws: Worksheet, row: int, col: int, value: Any, kind: str,
        severity: int | None = None,
    ) -> None:  # fmt: skip
        """Write one cell of ``kind`` (see :class:`_Column`) at ``row``, ``col``."""
        number_format = "General"
        if kind in _FORMATS:
            shown: Any = _number(value, kind)
            number_format = _FORMATS[kind]
        elif kind == "date":
            shown = _date(value)
            number_format = _DATE_FORMATS[self.lang]
        elif kind == "yesno":
            shown = (
                None
                if _missing(value)
                else (t("workbook.yes", self.lang) if value else t("workbook.no", self.lang))
            )
        elif kind == "words":  # catalogue text, not from the data
            shown = None if _missing(value) else str(value)
        else:
            shown = None if _missing(value) else safe_text(value)
        fmt = self.look(number_format, severity)
        if shown is None or shown == "":  # an empty cell, with its fill
            ws.write_blank(row, col, None, fmt)
        elif isinstance(shown, str):
            ws.write_string(row, col, shown, fmt)
        elif isinstance(shown, _dt.date):
            ws.write_datetime(row, col, shown, fmt)
        else:
            ws.write_number(row, col, shown, fmt)


# --------------------------------------------------------------------------- sheets


def _sheet_title(key: str, lang: str) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    title = t(f"workbook.sheet.{key}", lang)
    return "".join(c for c in title if c not in "[]:*?/\\")[:31]


def _width(values: Iterable[Any], header: str) -> float:
    longest = max(
        (len(str(v)) for v in values if v is not None),
        default=0,
    )
    head = max((len(w) for w in header.split()), default=0)
    return float(min(_MAX_WIDTH, max(_MIN_WIDTH, longest + 2, head + 2)))


def _write_table(
    book: Workbook,
    styles: _Styles,
    key: str,
    columns: Sequence[_Column],
    rows: Sequence[Sequence[Any]],
    severities: Sequence[int | None] | None = None,
) -> None:
    """A sheet with a bold, frozen, filterable header row, fitted widths and one row per
    item of ``rows`` (values in the order of ``columns``)."""
    lang = styles.lang
    ws = book.add_worksheet(_sheet_title(key, lang))
    headers = [t(c.key, lang) for c in columns]
    sample = rows[:_WIDTH_ROWS]
    for i, (col, head) in enumerate(zip(columns, headers, strict=True)):
        shown = (
            [safe_text(r[i]) if not _missing(r[i]) else None for r in sample]
            if col.kind in ("text", "words")
            else [_number(r[i], col.kind) for r in sample]
            if col.kind in _FORMATS
            else ["00/00/0000"]
            if col.kind == "date"
            else [t("workbook.yes", lang)]
        )
        ws.set_column(i, i, _width(shown, head))
    room = SHEET_ROWS - 2  # the header, and a last row saying what did not fit
    left_out = max(0, len(rows) - room) if len(rows) > SHEET_ROWS - 1 else 0
    if left_out:
        rows = rows[:room]
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(rows), len(columns) - 1)
    for j, head in enumerate(headers):
        ws.write_string(0, j, head, styles.header)
    kinds = [c.kind for c in columns]
    for n, row in enumerate(rows, start=1):
        severity = severities[n - 1] if severities is not None else None
        for j, (value, kind) in enumerate(zip(row, kinds, strict=True)):
            styles.write(ws, n, j, value, kind, severity)
    if left_out:  # said in the sheet itself: nothing left out silently
        more = t("workbook.more_rows", lang, n=left_out, limit=SHEET_ROWS - 1)
        ws.write_string(len(rows) + 1, 0, more, styles.look("General", None))


def _frame_rows(frame: pd.DataFrame, columns: Sequence[_Column], lang: str) -> list[list[Any]]:
    """The values of ``columns`` of ``frame``, row by row (a missing column: empty; a
    dimension by its name in ``lang``)."""
    n = len(frame)
    data: list[list[Any]] = []
    for col in columns:
        if col.name not in frame.columns:
            data.append([None] * n)
            continue
        values = frame[col.name].tolist()
        if col.name == "dimension":
            values = [None if _missing(v) else dimension_label(str(v), lang) for v in values]
        elif col.name == "choice":  # the model-based convention choice, in words
            values = [t(CHOICE_TEXTS[v], lang) if v in CHOICE_TEXTS else None for v in values]
        data.append(values)
    return [list(r) for r in zip(*data, strict=True)] if columns else []


SUMMARY_COLUMNS: tuple[_Column, ...] = (
    _Column("producer"),
    _Column("model"),
    _Column("dimension", "words"),
    _Column("verdict", "words"),
    _Column("n", "count"),
    _Column("n_sizes", "count"),
    _Column("current_bias_mm", "mm"),
    _Column("current_ci_low_mm", "mm"),
    _Column("current_ci_high_mm", "mm"),
    _Column("current_bias_sizes", "sizes"),
    _Column("current_since", "date"),
    _Column("current_n", "count"),
    _Column("bias_mm", "mm"),
    _Column("offset_mm", "mm"),
    _Column("grade_error_mm_per_size", "mm2"),
    _Column("sd_within_mm", "mm2"),
    _Column("pct_in_spec", "pct"),
    _Column("pct_missized", "pct"),
    _Column("cpk", "ratio"),
    _Column("ppk", "ratio"),
    _Column("pair_mismatch_mm", "mm"),
    _Column("drift_signals", "count"),
    _Column("tolerance_mm", "mm2"),
    _Column("actions", "words"),
)


def _summary_row(d: DimensionFinding, actions: str, lang: str) -> list[Any]:
    from sizecheck.findings import verdict_words

    return [
        d.producer,
        d.model,
        dimension_label(d.dimension, lang),
        verdict_words(d.verdict, lang),
        d.n,
        d.n_sizes,
        d.current.mean_mm,
        d.current.ci_low_mm,
        d.current.ci_high_mm,
        d.current_sizes,
        d.current.since,
        d.current.n,
        d.whole.mean_mm,
        d.offset_mm,
        d.grade_error.value,
        d.sd_within_mm,
        d.pct_in_spec,
        d.pct_missized,
        d.cpk.value,
        d.ppk,
        d.pair_mismatch.value,
        d.drift_signals,
        d.tolerance_mm,
        actions,
    ]


def _summary(analysis: Analysis, lang: str) -> tuple[list[list[Any]], list[int | None]]:
    """One row per finding of a dimension (pooled, then per model), with its severity."""
    from sizecheck.findings import finding_for, render

    rows: list[list[Any]] = []
    severities: list[int | None] = []
    for producer in analysis.producers:
        finding = finding_for(analysis, producer)
        for d in (*finding.dimensions, *finding.models):
            mine = [
                render(a, lang)
                for a in finding.actions
                if a.dimension == d.dimension and a.model == d.model
            ]
            rows.append(_summary_row(d, " ".join(mine), lang))
            severities.append(d.severity)
    return rows, severities


CORRECTION_COLUMNS: tuple[_Column, ...] = (
    _Column("producer"),
    _Column("model"),
    _Column("dimension", "words"),
    _Column("size", "size"),
    _Column("n", "count"),
    _Column("nominal_mm", "mm"),
    _Column("mean_mm", "mm"),
    _Column("correction_mm", "mm"),
    _Column("correction_sizes", "sizes"),
    _Column("ci_low_mm", "mm"),
    _Column("ci_high_mm", "mm"),
    _Column("since", "date"),
)

COMPARISON_COLUMNS: tuple[_Column, ...] = (
    _Column("dimension", "words"),
    _Column("size", "size"),
    _Column("n_producers", "count"),
    _Column("n", "count"),
    _Column("mean_min_mm", "mm"),
    _Column("mean_max_mm", "mm"),
    _Column("lowest_producer"),
    _Column("highest_producer"),
    _Column("spread_mm", "mm"),
    _Column("spread_sizes", "sizes"),
    _Column("welch_p", "p"),
)

#: The words of ``find_conventions``' ``choice`` (catalogue keys).
CHOICE_TEXTS: dict[str, str] = {
    "chosen": "convention.choice_chosen",
    "undecided": "convention.choice_undecided",
    "no_convention": "convention.choice_no_convention",
}

CONVENTION_COLUMNS: tuple[_Column, ...] = (
    _Column("producer"),
    _Column("dimension", "words"),
    _Column("convention"),
    _Column("description"),
    _Column("n", "count"),
    _Column("n_sizes", "count"),
    _Column("mean_residual_mm", "mm"),
    _Column("rms_residual_mm", "mm"),
    _Column("fitted_shift_mm", "mm"),
    _Column("fits", "yesno"),
    _Column("aic", "ratio"),
    _Column("delta_aic", "ratio"),
    _Column("own_line_delta_aic", "ratio"),
    _Column("choice", "words"),
    _Column("best", "yesno"),
)

REJECT_COLUMNS: tuple[_Column, ...] = (
    _Column("source"),
    _Column("row", "count"),
    _Column("column"),
    _Column("value"),
    _Column("code"),
    _Column("message"),
)

REFERENCE_COLUMNS: tuple[_Column, ...] = (
    _Column("dimension", "words"),
    _Column("size", "size"),
    _Column("nominal_mm", "mm2"),
    _Column("tolerance_minus_mm", "mm2"),
    _Column("tolerance_plus_mm", "mm2"),
    _Column("lower_mm", "mm2"),
    _Column("upper_mm", "mm2"),
    _Column("lower_missized_mm", "mm2"),
    _Column("upper_missized_mm", "mm2"),
    _Column("tolerance_note", "words"),
    _Column("table_status", "words"),
)


def _reference_rows(analysis: Analysis, lang: str) -> list[list[Any]]:
    """Nominal, tolerance and limits per dimension and size of the table used."""
    from sizecheck.tables import iter_rows

    table = analysis.table
    status = _status_words(table.status, lang)
    rows: list[list[Any]] = []
    for r in iter_rows(table):
        dim = table.dimensions[str(r["dimension"])]
        tol = dim.tolerance
        one_sided = tol is not None and tol.type in ("min", "max")
        note_key = (
            f"workbook.tolerance.{tol.type}" if tol is not None else "workbook.tolerance.none"
        )
        rows.append(
            [
                dimension_label(str(r["dimension"]), lang),
                r["size"],
                r["nominal_mm"],
                tol.minus if tol is not None and not one_sided else None,
                tol.plus if tol is not None and not one_sided else None,
                r["lower_mm"],
                r["upper_mm"],
                r["lower_missized_mm"],
                r["upper_missized_mm"],
                t(note_key, lang),
                status,
            ]
        )
    return rows


def _status_words(status: str, lang: str) -> str:
    key = f"table_status.{status}"
    return t(key, lang) if has_key(key, lang) else status


def _period(analysis: Analysis) -> tuple[Any, Any]:
    """The first and last measurement date over all producers (None when undated)."""
    from sizecheck.findings import finding_for

    firsts: list[_dt.date] = []
    lasts: list[_dt.date] = []
    for producer in analysis.producers:
        f = finding_for(analysis, producer)
        first, last = _date(f.first_date), _date(f.last_date)
        if first is not None:
            firsts.append(first)
        if last is not None:
            lasts.append(last)
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def _report_info(analysis: Analysis) -> ReportInfo:
    """The report's title, office and number (empty for an analysis made without)."""
    from sizecheck.pipeline import ReportInfo

    info = getattr(analysis, "report_info", None)
    return info if isinstance(info, ReportInfo) else ReportInfo()


def _about(book: Workbook, styles: _Styles, analysis: Analysis) -> None:
    """The cover sheet: what this workbook is, where its numbers come from."""
    lang = styles.lang
    ws = book.add_worksheet(_sheet_title("about", lang))
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 80)
    ws.set_column(2, 2, 70)
    at = [1]  # the next row (row 0 is the heading)

    def line(label: str, value: Any = None, kind: str = "text", extra: Any = None) -> None:
        row = at[0]
        ws.write_string(row, 0, label, styles.label)
        if value is not None:
            styles.write(ws, row, 1, value, kind)
        if extra is not None:
            styles.write(ws, row, 2 if value is not None else 1, extra, "text")
        at[0] += 1

    ws.write_string(0, 0, t("workbook.about.heading", lang), styles.title)
    info = _report_info(analysis)
    for label, given in (
        ("workbook.about.title", info.title),
        ("workbook.about.office", info.office),
        ("workbook.about.report_no", info.report_no),
    ):
        if given:
            line(t(label, lang), given)
    if analysis.synthetic:
        line(t("workbook.about.synthetic", lang))
    first, last = _period(analysis)
    line(t("workbook.about.period_first", lang), first, "date")
    line(t("workbook.about.period_last", lang), last, "date")
    line(t("workbook.about.producers", lang), len(analysis.producers), "count")
    table = analysis.table
    line(t("workbook.about.table", lang), f"{table.name} — {table.title}")
    line(t("workbook.about.table_status", lang), _status_words(table.status, lang), "words")
    line(t("workbook.about.table_source", lang), table.source)
    if table.notes:
        line(t("workbook.about.table_notes", lang), table.notes)
    line(t("workbook.about.size_system", lang), table.size_system)
    line(t("workbook.about.base_size", lang), table.base_size, "size")
    line(t("workbook.about.tool", lang), f"sizecheck {analysis.version}", "words")
    line(t("workbook.about.created", lang), analysis.created, "date")
    for f in analysis.inputs:
        line(t("workbook.about.input", lang), f.source, "text", f"SHA-256 {f.sha256}")
    counts = analysis.accounting.counts() if analysis.accounting is not None else {}
    for name, value in counts.items():
        key = f"accounting.{name}"
        line(t(key, lang) if has_key(key, lang) else name, value, "count")
    at[0] += 1  # an empty row
    line(t("workbook.about.csv_note", lang))


def write_workbook(analysis: Analysis, path: str | Path, *, lang: str = "en") -> Path:
    """Write the tables a person reads as one Excel workbook and return its path.

    Parameters
    ----------
    analysis : Analysis
        The result of :func:`sizecheck.pipeline.analyse`; the summary sheet shows its
        findings (:attr:`Analysis.findings`).
    path : path
        The ``.xlsx`` file to write (replaced if it exists; :func:`sizecheck.report.write_report`
        writes it into its staging folder as :func:`workbook_name` ``(lang)``).
    lang : {"en", "id"}, default "en"
        Language of the sheet names, headers and words.

    Returns
    -------
    Path
    """
    from xlsxwriter import Workbook

    lang = check_lang(lang)
    target = Path(path)
    created = _dt.datetime.fromisoformat(analysis.created).replace(tzinfo=None)
    # in_memory: nothing written outside the target; text is always written as text
    wb = Workbook(
        str(target),
        {"in_memory": True, "strings_to_urls": False, "strings_to_formulas": False},
    )
    wb.set_properties(
        {
            "title": t("workbook.about.heading", lang),
            "author": f"sizecheck {analysis.version}",
            "created": created,  # also the modification date
        }
    )
    styles = _Styles(wb, lang)

    _about(wb, styles, analysis)
    rows, severities = _summary(analysis, lang)
    _write_table(wb, styles, "summary", SUMMARY_COLUMNS, rows, severities)
    _write_table(
        wb,
        styles,
        "corrections",
        CORRECTION_COLUMNS,
        _frame_rows(analysis.corrections, CORRECTION_COLUMNS, lang),
    )
    _write_table(
        wb,
        styles,
        "comparison",
        COMPARISON_COLUMNS,
        _frame_rows(analysis.comparison, COMPARISON_COLUMNS, lang),
    )
    _write_table(
        wb,
        styles,
        "conventions",
        CONVENTION_COLUMNS,
        _frame_rows(analysis.conventions, CONVENTION_COLUMNS, lang),
    )
    _write_table(wb, styles, "reference", REFERENCE_COLUMNS, _reference_rows(analysis, lang))
    _write_table(
        wb, styles, "rejects", REJECT_COLUMNS, _frame_rows(analysis.rejects, REJECT_COLUMNS, lang)
    )
    wb.close()
    return target
