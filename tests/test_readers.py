"""Readers: formats, encodings, separators, header rows, row numbers; nothing but
SizecheckError escapes, and input files are never modified."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sizecheck.errors import InputError, SizecheckError, UsageError
from sizecheck.readers import find_header, read_input
from sizecheck.validate import read_measurements

DATA = Path(__file__).parent / "data" / "ingest"
CORPUS = sorted(p for p in DATA.iterdir() if p.suffix != ".py")

ROWS = "produsen;ukuran;panjang_insole\nUD Maju;41;273,5\nUD Jaya;42;280,1\n"


@pytest.mark.parametrize(
    ("encoding", "bom", "sep"),
    [
        ("utf-8", b"", ";"),
        ("utf-8", b"\xef\xbb\xbf", ";"),
        ("utf-16-le", b"\xff\xfe", "\t"),
        ("utf-16-be", b"\xfe\xff", "\t"),
        ("utf-16-le", b"", "\t"),
        ("cp1252", b"", ","),
        ("utf-8", b"", "|"),
    ],
)
def test_encodings_and_separators(tmp_path: Path, encoding: str, bom: bytes, sep: str) -> None:
    text = "Laporan Ünal\n" + ROWS.replace(";", sep).replace("273,5", '"273,5"').replace(
        "280,1", '"280,1"'
    )
    p = tmp_path / "x.csv"
    p.write_bytes(bom + text.encode(encoding))
    [s] = read_input(p)
    assert s.sep == sep
    assert s.header_row == 2
    assert s.title_rows == ((1, "Laporan Ünal"),)
    assert s.rows.tolist() == [3, 4]
    assert s.data.iloc[0].tolist() == ["UD Maju", "41", "273,5"]
    assert s.decimal == ","


def test_overrides(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(ROWS.encode("cp1252"))
    [s] = read_input(p, sep=";", decimal=".", encoding="cp1252")
    assert (s.sep, s.decimal, s.encoding) == (";", ".", "cp1252")
    with pytest.raises(UsageError):
        read_input(p, sep=";;")
    with pytest.raises(UsageError):
        read_input(p, decimal="x")
    with pytest.raises(UsageError):
        read_input(p, encoding="no-such-codec")
    p.write_bytes("produsen;ukuran;panjang_insole\nCafé;41;1\n".encode("cp1252"))
    with pytest.raises(InputError, match="utf-8"):
        read_input(p, encoding="utf-8")


def test_crlf_and_quoted_newline_keep_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(b'producer,size,insole_length,notes\r\nA,41,273,"two\r\nlines"\r\nB,42,280,\r\n')
    [s] = read_input(p)
    assert s.rows.tolist() == [2, 4]  # the quoted newline takes line 3
    assert s.data.iloc[1].tolist()[:3] == ["B", "42", "280"]


def test_ragged_rows_are_rejected_with_their_reason(tmp_path: Path) -> None:
    # Issue 18: a field beyond the header was passed through out of sight, a missing
    # one read the next value under the wrong column; now both rows are rejected.
    p = tmp_path / "x.csv"
    p.write_text("producer;size;insole_length\nA;41;273;extra\nB;42\nC;43;287;\n")
    [s] = read_input(p)
    assert s.header == ("producer", "size", "insole_length", "column_4")
    assert s.rows.tolist() == [2, 3, 4]
    assert s.fields is not None and s.fields.tolist() == [4, 2, 4]
    v = read_measurements(p)
    assert v.rejects[["row", "code", "value"]].values.tolist() == [
        [2, "too_many_fields", "A;41;273;extra"],
        [3, "too_few_fields", "B;42"],
    ]
    assert v.measurements["row"].tolist() == [4]  # an empty field beyond the header loses nothing
    assert v.accounting.rows_rejected == 2


@pytest.mark.parametrize(
    ("line", "written_with_semicolons", "size", "value"),
    [
        ("UD Maju,41,273,5", "UD Maju;41;273,5", 41.0, 273.5),
        ("UD Maju,41,5,273", "UD Maju;41,5;273", 41.5, 273.0),
    ],
)
def test_decimal_comma_in_a_comma_file_is_rejected_with_a_hint(
    tmp_path: Path, line: str, written_with_semicolons: str, size: float, value: float
) -> None:
    # Issue 18: '273,5' in a comma file was read as 273 (the 5 dropped); a size '41,5'
    # shifted the columns. The row is rejected and the message says what to do.
    p = tmp_path / "x.csv"
    p.write_text(f"producer,size,insole_length\n{line}\nUD Jaya,42,280\n")
    v = read_measurements(p)
    [r] = v.rejects.itertuples()
    assert (r.row, r.code, r.value) == (2, "too_many_fields", line)
    assert "decimal commas" in r.message and "--sep ';'" in r.message
    assert v.measurements["row"].tolist() == [3]
    # written as the hint says, the same row is read
    p.write_text(f"producer;size;insole_length\n{written_with_semicolons}\n")
    m = read_measurements(p).measurements
    assert m[["size", "value_mm"]].values.tolist() == [[size, value]]


@pytest.mark.parametrize(
    "data",
    [
        b"producer,size,insole_length\rA,41,273\rB,42,280\r",  # old Mac
        b"producer,size,insole_length\rA,41,273\rB,42,280",  # ... without a last line end
        b"producer,size,insole_length\r\nA,41,273\rB,42,280\n",  # mixed
        b"Laporan\rproducer,size,insole_length\n\rA,41,273\r\nB,42,280\r",  # mixed, title
    ],
)
def test_every_kind_of_line_end_is_read(tmp_path: Path, data: bytes) -> None:
    # Issue 18: a CR-only file read as empty and 'validate' said "No problems".
    p = tmp_path / "x.csv"
    p.write_bytes(data)
    v = read_measurements(p)
    assert v.measurements["value_mm"].tolist() == [273.0, 280.0]
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    assert v.measurements["row"].tolist() == [
        lines.index(b"A,41,273") + 1,
        lines.index(b"B,42,280") + 1,
    ]


def test_lone_cr_after_the_start_of_a_large_file(tmp_path: Path) -> None:
    # Beyond the sample the reader looks at, a lone CR still ends a line, and row
    # numbers stay the lines a person sees.
    p = tmp_path / "big.csv"
    p.write_bytes(_big_csv(60_000, tail=b"CV Jaya,42,270.0,R\rCV Jaya,43,276.7,L\n"))
    [s] = read_input(p)
    assert len(s.data) == 60_002 and s.rows[-2:].tolist() == [60_003, 60_004]
    assert s.data.iloc[-1].tolist() == ["CV Jaya", "43", "276.7", "L"]


def test_blank_lines_are_rows(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("producer,size,insole_length\n\nA,41,273\n")
    v = read_measurements(p)
    assert v.measurements["row"].tolist() == [3]
    assert v.rejects[["row", "code"]].values.tolist() == [[2, "skipped_blank"]]


def test_find_header_long_layout() -> None:
    rows = [["judul"], ["produsen", "ukuran", "dimensi", "nilai"]]
    assert find_header(rows) == 1


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_input(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="directory"):
        read_input(tmp_path)


def test_broken_xlsx(tmp_path: Path) -> None:
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="xlsx"):
        read_input(p)


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_inputs_never_modified() -> None:
    before = {p: (_digest(p), p.stat().st_mtime_ns) for p in CORPUS}
    for p in CORPUS:
        with contextlib.suppress(SizecheckError):
            read_measurements(p)
    after = {p: (_digest(p), p.stat().st_mtime_ns) for p in CORPUS}
    assert before == after


_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".txt", ".xlsx", ".xls"]))
def test_random_bytes_raise_only_sizecheck_errors(tmp_path: Path, data: bytes, suffix: str) -> None:
    p = tmp_path / f"random{suffix}"
    p.write_bytes(data)
    with contextlib.suppress(SizecheckError):
        read_measurements(p)


_cell = st.one_of(
    st.sampled_from(["", " ", "41", "41,5", "UK 7", "273,5", "2735", "-", "abc", "Rata-rata",
                     "Mengetahui,", "kiri", "R", "12/03/2026", '"', "produsen", "ukuran"]),
    st.text(max_size=6),
)  # fmt: skip


@_SETTINGS
@given(
    rows=st.lists(st.lists(_cell, min_size=0, max_size=6), max_size=8),
    sep=st.sampled_from([";", ",", "\t"]),
    header=st.booleans(),
)
def test_random_csv_text_raises_only_sizecheck_errors(
    tmp_path: Path, rows: list[list[str]], sep: str, header: bool
) -> None:
    lines = [sep.join(r) for r in rows]
    if header:
        lines.insert(0, sep.join(["produsen", "ukuran", "kaki", "panjang_insole (cm)", "nilai"]))
    p = tmp_path / "random.csv"
    p.write_text("\n".join(lines), encoding="utf-8")
    try:
        v = read_measurements(p)
    except SizecheckError:
        return
    a = v.accounting
    assert a.rows_read == a.rows_used + a.rows_rejected
    assert a.cells_read == a.cells_used + a.cells_rejected
    assert len(v.measurements) == a.cells_used


def _big_csv(rows: int, tail: bytes = b"", pad: int = 0) -> bytes:
    head = f"Laporan QA — Maret{'.' * pad}\nprodusen,ukuran,panjang_insole,kaki\n".encode()
    body = b"".join(b"UD Maju \xc3\xa9,41,273.%d,L\n" % (i % 10) for i in range(rows))
    return head + body + tail


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_large_utf8_read_from_its_start_like_whole(tmp_path: Path, bom: bytes) -> None:
    """A large UTF-8 file is decoded only at its start (the body goes to pyarrow as bytes):
    the result is the one of decoding it all, a multi-byte character at the cut included."""
    from sizecheck import readers

    cut = readers._PREFIX_BYTES
    # pad the title so that the decoded start ends inside the two bytes of an 'é'
    data = next(
        d
        for pad in range(40)
        if (d := bom + _big_csv(60_000, pad=pad))[cut - 1 : cut + 1] == "é".encode()
    )
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    [sheet] = read_input(path)
    assert sheet.encoding == ("utf-8-sig" if bom else "utf-8")
    assert sheet.title_rows[0][1].startswith("Laporan QA — Maret")
    assert sheet.rows[-1] == 60_002 and len(sheet.data) == 60_000
    assert sheet.data.iloc[-1].tolist() == ["UD Maju é", "41", "273.9", "L"]


def test_large_file_invalid_utf8_after_its_start_is_cp1252(tmp_path: Path) -> None:
    # valid UTF-8 for the first megabytes, then a cp1252 byte: the whole file is cp1252
    path = tmp_path / "mixed.csv"
    path.write_bytes(_big_csv(60_000, tail=b"CV Jaya \xe9,42,270.0,R\n"))
    [sheet] = read_input(path)
    assert sheet.encoding == "cp1252"
    assert sheet.data.iloc[0, 0] == "UD Maju Ã©" and sheet.data.iloc[-1, 0] == "CV Jaya é"
    with pytest.raises(InputError, match="cannot be decoded as utf-8"):
        read_input(path, encoding="utf-8")


# --------------------------------------------------------------------------- limits, workbooks


def _xlsx(path: Path, rows: list[list[object]], **sheets: list[list[object]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    for row in rows:
        ws.append(row)
    for name, more in sheets.items():
        extra = wb.create_sheet(name)
        for row in more:
            extra.append(row)
    wb.save(path)
    return path


TABLE = [["produsen", "ukuran", "panjang_insole"], ["UD Maju", 41, 273.5], ["UD Maju", 42, 280.0]]


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_only_regular_files_are_read(tmp_path: Path, kind: str) -> None:
    # Issue 18: 'validate /dev/zero' read until memory ran out; a FIFO waited for a writer.
    import os

    if kind == "device":
        path = Path("/dev/zero")
    else:
        path = tmp_path / "pipe.csv"
        os.mkfifo(path)
    with pytest.raises(InputError, match="not a regular file"):
        read_input(path)


def test_file_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    from sizecheck.readers import ReadLimits

    p = tmp_path / "x.csv"
    p.write_text("produsen;ukuran;panjang_insole\n" + "UD Maju;41;273,5\n" * 1000)
    with pytest.raises(InputError, match=r"limit of 0.01 MB.*--limit mb=N"):
        read_input(p, limits=ReadLimits(max_mb=0.01))
    assert len(read_input(p, limits=ReadLimits(max_mb=0.1))[0].data) == 1000


def test_row_and_cell_limits_of_a_text_file(tmp_path: Path) -> None:
    from sizecheck.readers import ReadLimits

    p = tmp_path / "x.csv"
    p.write_text("produsen;ukuran;panjang_insole\n" + "UD Maju;41;273,5\n" * 10)
    with pytest.raises(InputError, match=r"10 rows × 3 columns .* limit of 9 rows"):
        read_input(p, limits=ReadLimits(max_rows=9))
    with pytest.raises(InputError, match=r"limit of 29 cells.*--limit cells=N"):
        read_input(p, limits=ReadLimits(max_cells=29))
    assert len(read_input(p, limits=ReadLimits(max_rows=10, max_cells=30))[0].data) == 10


def test_limits_are_named_and_checked() -> None:
    from sizecheck.readers import ReadLimits

    assert ReadLimits().with_values({"mb": 2000, "cells": 1e8}) == ReadLimits(
        max_mb=2000.0, max_cells=100_000_000
    )
    with pytest.raises(UsageError, match="Unknown limit 'bytes'"):
        ReadLimits().with_values({"bytes": 1})
    with pytest.raises(UsageError, match="positive"):
        ReadLimits().with_values({"rows": float("nan")})


def test_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    # Issue 18: a 1.4 MB workbook unpacked to 5.4 GB in 117 s. The sizes the zip declares
    # are summed first; zipfile never unpacks more than a member declares.
    import zipfile

    from sizecheck.readers import ReadLimits

    p = _xlsx(tmp_path / "bomb.xlsx", TABLE)
    with zipfile.ZipFile(p, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/zeros.bin", b"\0" * 3_000_000)
    assert p.stat().st_size < 30_000
    with pytest.raises(
        InputError, match=r"unpacked, the workbook is 3.\d MB, above the limit of 1 MB"
    ):
        read_input(p, limits=ReadLimits(max_mb=1))
    assert len(read_input(p)[0].data) == 2


def test_workbook_with_a_far_stray_cell_is_refused_at_once(tmp_path: Path) -> None:
    # Issue 18: one cell at XFD200000 ran 121 s and died of MemoryError.
    import time

    from openpyxl import load_workbook

    p = _xlsx(tmp_path / "far.xlsx", TABLE)
    wb = load_workbook(p)
    wb.active["XFD200000"] = "x"
    wb.save(p)
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"200,000 rows × 16,384 columns .*Ctrl\+End"):
        read_input(p)
    assert time.perf_counter() - start < 20  # seconds, not minutes (generous: shared CI)


def test_merged_range_over_billions_of_cells_is_refused(tmp_path: Path) -> None:
    # openpyxl makes an object per merged cell: the ranges are summed before it runs.
    import zipfile

    p = _xlsx(tmp_path / "merge.xlsx", TABLE)
    out = tmp_path / "merge_bomb.xlsx"
    with zipfile.ZipFile(p) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                merge = b'<mergeCells count="1"><mergeCell ref="F1:XFD1048576"/></mergeCells>'
                body = body.replace(b"</sheetData>", b"</sheetData>" + merge)
            zout.writestr(info, body)
    with pytest.raises(InputError, match=r"merged ranges cover 17,174,626,304 cells"):
        read_input(out)


def test_chart_sheets_are_skipped_and_the_data_read(tmp_path: Path) -> None:
    # Issue 18: a workbook with a chart sheet ended in a traceback.
    from openpyxl import load_workbook
    from openpyxl.chart import BarChart, Reference

    p = _xlsx(tmp_path / "chart.xlsx", TABLE)
    wb = load_workbook(p)
    chart = BarChart()
    chart.add_data(Reference(wb["Data"], min_col=3, min_row=1, max_row=3))
    wb.create_chartsheet("Grafik").add_chart(chart)
    wb.save(p)
    [s] = read_input(p)
    assert (s.source, s.rows.tolist()) == ("chart.xlsx#Data", [2, 3])
    assert any("'Grafik' not read" in n for n in s.notes)
    with pytest.raises(InputError, match="'Grafik' is a chart"):
        read_input(p, sheet="Grafik")
    v = read_measurements(p)
    assert v.measurements["value_mm"].tolist() == [273.5, 280.0]
    assert any("Grafik" in n for n in v.notes)


def test_workbook_missing_a_sheet_part_is_a_clear_error(tmp_path: Path) -> None:
    # Issue 18: openpyxl silently leaves out a sheet whose part is missing; then a traceback.
    import zipfile

    p = _xlsx(tmp_path / "x.xlsx", TABLE, Catatan=[["catatan"]])
    out = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(p) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info, zin.read(info))
    with pytest.raises(InputError, match=r"lists sheet\(s\) 'Data' but the file does not hold"):
        read_input(out)


def test_formulas_without_a_value_are_reported_not_dropped(tmp_path: Path) -> None:
    # Issue 18: a formula saved without its computed value read as an empty cell, and the
    # measurement vanished without a word.
    p = _xlsx(
        tmp_path / "f.xlsx",
        [
            ["produsen", "ukuran", "panjang_insole", "lebar_insole"],
            ["UD Maju", 41, 273.5, 98],
            ["UD Maju", 42, "=C2+6.7", 99],
            ["=A2", 43, 287.0, 100],
            ["Rata-rata", None, "=AVERAGE(C2:C4)", None],
        ],
    )
    [s] = read_input(p)
    assert s.uncomputed == ((1, 2, "C2+6.7"), (2, 0, "A2"), (3, 2, "AVERAGE(C2:C4)"))
    v = read_measurements(p)
    rejects = v.rejects[["row", "column", "value", "code"]].values.tolist()
    assert rejects == [
        [3, "panjang_insole", "=C2+6.7", "formula_without_value"],
        [4, "produsen", "", "missing_producer"],
        [4, "produsen", "=A2", "formula_without_value"],
        [5, "", "Rata-rata", "skipped_summary"],
    ]
    assert v.measurements[["row", "dimension"]].values.tolist() == [
        [2, "insole_length"], [2, "insole_ball_width"], [3, "insole_ball_width"]
    ]  # fmt: skip
    a = v.accounting
    # read: 2 + 2 + 2 + the summary row's formula; the summary row is skipped, not listed
    assert (a.cells_read, a.cells_used, a.cells_rejected) == (7, 3, 4)


def test_a_sheet_left_out_of_a_workbook_is_said_where_the_qa_officer_reads(
    tmp_path: Path,
) -> None:
    """Nothing lost: a notes sheet beside the data is not read, and the terminal, the
    report (in the run's language) and summary.json say so, as they say a skipped row.
    It was only in ``Validated.notes``, which measure never showed."""
    import json
    import re

    from typer.testing import CliRunner

    import sizecheck as sc
    from sizecheck.cli import app
    from sizecheck.report_html import render_html

    rows = [["produsen", "ukuran", "panjang_insole"]]
    rows += [["UD Maju", s, round(s * 20 / 3, 1)] for s in (39, 40, 41, 42, 43)]
    p = _xlsx(tmp_path / "ukur.xlsx", rows, Catatan=[["Diukur oleh Bu Sri"], ["alat: kaliper"]])
    out = tmp_path / "out"
    args = ["measure", str(p), "--no-charts", "--lang", "id", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "ukur.xlsx#Catatan: lembar ini tidak dibaca" in said
    notes = json.loads((out / "summary.json").read_text(encoding="utf-8"))["notes"]
    assert len(notes) == 1 and notes[0].startswith("ukur.xlsx#Catatan: sheet not read")
    page = " ".join(re.sub(r"<[^>]+>", " ", render_html(sc.analyse([p]), lang="id")).split())
    assert "ukur.xlsx#Catatan: lembar ini tidak dibaca" in page
