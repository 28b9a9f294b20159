"""Write the ingestion test corpus: small files shaped like the ones QA offices keep.

Run from the repository root: ``python tests/data/ingest/make_fixtures.py``. The files are
committed; this script is how they were made (and how to remake them after a change).
Every figure is invented for the tests.
"""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXED_TIME = dt.datetime(2026, 3, 12, 8, 0, 0)


def _text(name: str, text: str, encoding: str, *, bom: bytes = b"") -> None:
    (HERE / name).write_bytes(bom + text.replace("\n", "\r\n").encode(encoding))


def workbook() -> None:
    """Title rows, merged producer cells, decimal-comma text, bad cells, Rata-rata, signatures."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    ws = wb.active
    ws.title = "Maret"
    ws["A1"] = "LAPORAN HASIL PENGUKURAN INSOLE"
    ws.merge_cells("A1:H1")
    ws["A2"] = "UPT Pengujian Mutu - Klaster Sepatu Mojokerto"
    ws.merge_cells("A2:H2")
    # row 3 blank
    ws.append([])
    header = [
        "No",
        "Produsen",
        "Ukuran",
        "Kaki",
        "Tanggal",
        "Panjang Insole (mm)",
        "Lebar Insole (mm)",
        "Keterangan",
    ]
    for j, h in enumerate(header, start=1):
        ws.cell(row=4, column=j, value=h)
    rows = [
        # row 5..8: UD Maju Jaya (merged B5:B8)
        [1, "UD Maju Jaya", 41, "Kiri", dt.datetime(2026, 3, 2), 273.5, 98.0, None],
        [2, None, 41, "Kanan", dt.datetime(2026, 3, 2), "274,1", "97,5", "teks"],
        [3, None, "42", "L", "12 Maret 2026", "rusak", 99.5, None],
        [4, None, 42, "R", 46093, 2735, 100.0, "10x"],
        # row 9..11: CV Sepatu Medali (merged B9:B11)
        [5, "CV Sepatu Medali", "40,5", "kiri", "03/03/2026", "266,0", None, None],
        [6, None, 43, "X", "kemarin", 287.0, 101.0, "kaki?"],
        [7, None, "41/42", "kanan", "2026-03-04", 275.0, 98.0, None],
        # row 12: Rata-rata with averages
        [None, "Rata-rata", None, None, None, 274.5, 99.0, None],
        # row 13: blank
        [],
        # rows 14..17: signature block
        [None, "Mojokerto, 12 Maret 2026", None, None, None, None, None, None],
        [None, "Mengetahui,", None, None, None, None, None, None],
        [None, "Kepala UPT", None, None, None, None, None, None],
        [None, "(Budi Santoso)", None, None, None, None, None, None],
    ]
    for i, values in enumerate(rows, start=5):
        for j, v in enumerate(values, start=1):
            if v is not None:
                ws.cell(row=i, column=j, value=v)
    ws.merge_cells("B5:B8")
    ws.merge_cells("B9:B11")
    ws.merge_cells("B17:D17")  # a merged name row under the signature
    notes = wb.create_sheet("Catatan")
    notes["A1"] = "Catatan: alat ukur dikalibrasi 1 Maret 2026"
    wb.save(HERE / "workbook_titles_merged.xlsx")


def template_like_workbook() -> None:
    """Two sheets with headers (sources get '#sheet'), long layout on the second."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    ws = wb.active
    ws.title = "lebar"
    ws.append(["producer", "size", "foot", "last_ball_girth (cm)"])
    ws.append(["Ünal Shoes", "EU 42", "R", 24.1])
    ws2 = wb.create_sheet("panjang")
    ws2.append(["produsen", "ukuran", "dimensi", "nilai", "satuan"])
    ws2.append(["Ünal Shoes", 42, "panjang insole", "28,0", "cm"])
    ws2.append(["Ünal Shoes", 42, "panjang acuan", 281, "mm"])
    wb.save(HERE / "two_sheets.xlsx")


def text_files() -> None:
    # UTF-8 with BOM, comma separated, centimetres in the header names.
    _text(
        "bom_centimetres.csv",
        "producer,size,insole_length_cm,last_ball_girth [cm],notes\n"
        "UD Sumber Rejeki,41,27.35,23.5,\n"
        "UD Sumber Rejeki,42,28.0,24.0,ok\n"
        "UD Sumber Rejeki,43,2.87,24.6,typo\n",
        "utf-8",
        bom=codecs.BOM_UTF8,
    )
    # Excel "Unicode text": UTF-16 LE with BOM, tab separated, decimal commas.
    _text(
        "unicode_text_export.txt",
        "Produsen\tUkuran\tKaki\tPanjang Insole (mm)\tLingkar Ball (mm)\n"
        "CV Medali Jaya\t40\tKiri\t266,5\t229,0\n"
        "CV Medali Jaya\t40\tKanan\t267,0\t230,5\n"
        "CV Medali Jaya\t41\tKiri\t273,4\t\n",
        "utf-16-le",
        bom=codecs.BOM_UTF16_LE,
    )
    # cp1252 names and ';' with decimal commas.
    _text(
        "cp1252_names.csv",
        "Produsen;Ukuran;Panjang Acuan (mm);Lingkar Pinggang (mm)\n"
        "Ünal;39;260,1;228,4\n"
        "Café Sepatu;39;259,7;-\n"
        "Café Sepatu;40;-3,0;231,0\n",
        "cp1252",
    )
    # A CSV export of a kept sheet: titles, merged producer (blank below), bad sizes,
    # 10x-off values, Rata-rata / Jumlah, a repeated header and a signature block.
    _text(
        "semicolon_titles_summary.csv",
        "DATA PENGUKURAN PANJANG INSOLE;;;;\n"
        "Periode: Maret 2026;;;;\n"
        ";;;;\n"
        "No;Produsen;Ukuran;Panjang Insole (mm);Lebar Insole (mm)\n"
        "1;UD Maju;41;273,3;98,0\n"
        "2;;41;2733;98,5\n"
        "3;UD Maju;besar;274,0;98,0\n"
        "4;UD Maju;;274,0;98,0\n"
        "5;UD Maju;42;27,99;99,0\n"
        ";;;;\n"
        "No;Produsen;Ukuran;Panjang Insole (mm);Lebar Insole (mm)\n"
        "6;UD Jaya;40;266,7;abc\n"
        "7;UD Jaya;40;;\n"
        ";Rata-rata;;274,0;98,5\n"
        ";Jumlah;;1370;492\n"
        ";;;;\n"
        ";Mengetahui,;;;\n"
        ";Petugas: Sri;;;\n"
        ";Budi Santoso;;;\n",
        "utf-8",
    )
    # Long layout with a unit column, an unknown dimension and duplicate samples.
    _text(
        "long_layout.csv",
        "produsen,sampel,ukuran,kaki,tanggal,dimensi,nilai,satuan\n"
        "UD Maju,S1,41,L,12/03/2026,Panjang Insole,27.3,cm\n"
        "UD Maju,S1,41,L,12/03/2026,lingkar_ball,236,mm\n"
        "UD Maju,S1,41,L,12/03/2026,tinggi hak,30,mm\n"
        "UD Maju,S1,41,L,12/03/2026,Panjang Insole,27.4,cm\n"
        "UD Maju,S1,41,R,12/03/2026,Panjang Insole,27.35,cm\n"
        "UD Maju,S2,41,R,3 Agu 2026,Panjang Insole (mm),274,\n"
        "UD Maju,S3,41,R,,Panjang Insole,274,furlong\n",
        "utf-8",
    )
    # Sizes in several systems against paris-point (EU 33-50).
    _text(
        "size_systems.csv",
        "producer|size|last_length\n"
        "A|41½|276.7\n"
        "A|UK 7|271.0\n"
        "A|EU 41|273.3\n"
        "A|55|366.7\n"
        "A|US W 9|270\n",
        "utf-8",
    )
    # No producer column: fails with one MissingColumnsError.
    _text(
        "no_producer.csv",
        "Nama;Nomor;Panjang Insole (mm)\nUD Maju;41;273\n",
        "utf-8",
    )
    # A legacy .xls (OLE header only): refused with a clear InputError.
    (HERE / "legacy.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))


if __name__ == "__main__":
    workbook()
    template_like_workbook()
    text_files()
    print(f"fixtures written to {HERE}")
