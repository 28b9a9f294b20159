"""Write the hostile-input corpus: small files that once crashed sizecheck, hung it, or
lost measurements without a word (issue 18). What each tests, and the right outcome, is
in README.md beside them.

Run from the repository root: ``python tests/data/hostile/make_hostile.py``. The files are
committed; this script is how they were made. Every figure is invented.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXED_TIME = dt.datetime(2026, 3, 12, 8, 0, 0)
HEADER = "produsen;ukuran;kaki;panjang_insole (mm)\n"


def _bytes(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def _workbook() -> object:
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    return wb


def _save(wb: object, name: str) -> bytes:
    """Save with fixed member dates, so that a rerun writes the same bytes."""
    raw = io.BytesIO()
    wb.save(raw)  # type: ignore[attr-defined]
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 3, 12, 8, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            body = zin.read(info)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the time of saving
                body = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-03-12T08:00:00Z", body
                )
            zout.writestr(fixed, body)
    data = out.getvalue()
    _bytes(name, data)
    return data


def _patched(data: bytes, old: bytes, new: bytes) -> bytes:
    """``data`` (an xlsx) with ``old`` replaced by ``new`` in its first worksheet."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(old, new)
            zout.writestr(info, body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _table(ws: object, rows: list[list[object]]) -> None:
    ws.append(["produsen", "ukuran", "kaki", "panjang_insole (mm)"])  # type: ignore[attr-defined]
    for row in rows:
        ws.append(row)  # type: ignore[attr-defined]


def text_files() -> None:
    """Line ends, ragged rows, decimal commas, unit spellings, repeated columns, dates."""
    rows = "UD Maju;41;kiri;273,5\nUD Maju;41;kanan;274,0\n"
    _bytes("cr_only.csv", (HEADER + rows).replace("\n", "\r").encode())
    _bytes(
        "mixed_line_ends.csv", b"produsen;ukuran;panjang_insole\r\nA;41;273\rB;42;280\nC;43;287\r\n"
    )
    _bytes(
        "decimal_comma_in_comma_file.csv",
        b"producer,size,insole_length\nUD Maju,41,273,5\nUD Maju,41,5,273\nUD Jaya,42,280\n",
    )
    _bytes(
        "short_row.csv", b"producer;size;insole_length;last_ball_girth\nA;41;240\nB;42;280;245\n"
    )
    _bytes(
        "unit_spellings.csv",
        b"produsen;ukuran;panjang insole (milimeter);lebar insole (mm.);panjang acuan (cm.);"
        b"lingkar ball, mm\nUD Maju;41;273,5;98;27,6;240\n",
    )
    _bytes(
        "unknown_units.csv",
        b"produsen;ukuran;panjang_insole (mm);lebar_insole (m);panjang_acuan (kiri);"
        b"insole_length_2\nUD Maju;41;273,5;0,098;276;273,6\n",
    )
    _bytes("two_producer_columns.csv", b"produsen;pabrik;ukuran;panjang_insole\nA;B;41;273\n")
    _bytes(
        "two_sample_columns.csv", b"no;kode_sampel;produsen;ukuran;panjang_insole\n1;S-7;A;41;273\n"
    )
    _bytes(
        "wide_and_long.csv",
        b"produsen;ukuran;panjang_insole;dimensi;nilai\nA;41;273;lebar_insole;98\n",
    )
    _bytes(
        "extreme_dates.csv",
        b"produsen;ukuran;tanggal;panjang_insole\nA;41;9999-12-31;273\nA;42;0001-01-01;280\n"
        b"A;43;31/12/9999;287\n",
    )
    _bytes(
        "ambiguous_dates.csv",
        b"produsen;ukuran;tanggal;panjang_insole\nA;41;03/04/2026;273\nA;42;05/04/2026;280\n",
    )
    _bytes(
        "month_first_dates.csv",
        b"produsen;ukuran;tanggal;panjang_insole\nA;41;03/04/2026;273\nA;42;03/25/2026;280\n",
    )
    _bytes(
        "pairs_broken.csv",
        b"produsen;ukuran;pasang;kaki;panjang_insole\n"
        b"A;41;p1;L;273\nA;41;p1;R;273,5\nA;41;p1;R;274\n"  # three shoes in one pair
        b"A;42;p2;L;280\nA;42;p2;L;280,5\n"  # two left shoes
        b"A;43;p3;L;287\nA;43;p3;R;287,2\n",  # a good pair
    )
    _bytes("nul_bytes.csv", b"produsen;ukuran;panjang_insole\nA;41;27\x003\n")
    _bytes(
        "too_many_columns.csv", ("produsen;ukuran;panjang_insole" + ";x" * 17_000 + "\n").encode()
    )


def workbooks() -> None:
    """Chart sheet, formulas without values, a far stray cell, a damaged part, bombs."""
    from openpyxl.chart import BarChart, Reference

    wb = _workbook()
    ws = wb.active  # type: ignore[attr-defined]
    ws.title = "Data"
    _table(ws, [["UD Maju", 41, "kiri", 273.5], ["UD Maju", 41, "kanan", 274.0]])
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=4, min_row=1, max_row=3))
    wb.create_chartsheet("Grafik").add_chart(chart)  # type: ignore[attr-defined]
    _save(wb, "chart_sheet.xlsx")

    wb = _workbook()
    _table(
        wb.active,  # type: ignore[attr-defined]
        [
            ["UD Maju", 41, "kiri", 273.5],
            ["UD Maju", 42, "kanan", "=D2+6.7"],
            ["=A2", 43, "L", 287],
        ],
    )
    _save(wb, "formula_without_value.xlsx")

    wb = _workbook()
    ws = wb.active  # type: ignore[attr-defined]
    _table(ws, [["UD Maju", 41, "kiri", 273.5]])
    ws["XFD200000"] = "x"
    _save(wb, "far_stray_cell.xlsx")

    # One merged range over 17 billion cells (written into the XML: openpyxl itself would
    # make an object per merged cell).
    wb = _workbook()
    _table(wb.active, [["UD Maju", 41, "kiri", 273.5]])  # type: ignore[attr-defined]
    _bytes(
        "merge_bomb.xlsx",
        _patched(
            _save(wb, "merge_bomb.xlsx"),
            b"</sheetData>",
            b'</sheetData><mergeCells count="1"><mergeCell ref="F1:XFD1048576"/></mergeCells>',
        ),
    )

    data = _save(_workbook(), "missing_sheet_part.xlsx")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info, zin.read(info))
    _bytes("missing_sheet_part.xlsx", out.getvalue())

    # A zip that claims a member of 6 GB: the limit refuses it before anything is unpacked.
    wb = _workbook()
    _table(wb.active, [["UD Maju", 41, "kiri", 273.5]])  # type: ignore[attr-defined]
    data = bytearray(_save(wb, "declared_zip_bomb.xlsx"))
    end = data.rfind(b"PK\x05\x06")
    (count,) = struct.unpack_from("<H", data, end + 10)
    (offset,) = struct.unpack_from("<I", data, end + 16)
    for _ in range(count):  # central directory entries: patch the uncompressed size
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, offset + 28)
        name = bytes(data[offset + 46 : offset + 46 + name_len])
        if name == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, offset + 24, 0xFFFF_FFF0)
        offset += 46 + name_len + extra_len + comment_len
    _bytes("declared_zip_bomb.xlsx", bytes(data))

    wb = _workbook()
    _table(
        wb.active,  # type: ignore[attr-defined]
        [["UD Maju", 41, "kiri", 273.5], ["UD Maju", 42, "kanan", 280.0]],
    )
    ws = wb.active  # type: ignore[attr-defined]
    ws.insert_cols(3)
    ws["C1"] = "tanggal"
    ws["C2"] = dt.datetime(9999, 12, 31)
    ws["C3"] = dt.datetime(1, 1, 1)
    _save(wb, "extreme_dates.xlsx")


if __name__ == "__main__":
    text_files()
    workbooks()
