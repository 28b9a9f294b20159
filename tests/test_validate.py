"""Validation of the ingestion corpus: reject codes, row numbers, values in mm, accounting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sizecheck.errors import InputError, MissingColumnsError, UsageError
from sizecheck.readers import read_input
from sizecheck.tables import load_table
from sizecheck.validate import (
    MEASUREMENT_COLUMNS,
    REJECT_COLUMNS,
    RejectCode,
    Validated,
    parse_dates,
    parse_numbers,
    read_measurements,
    validate,
)

DATA = Path(__file__).parent / "data" / "ingest"
SUMMARY_WORDS = ("rata", "jumlah", "total", "average", "mean", "mengetahui", "kepala", "budi",
                 "mojokerto", "petugas", "laporan")  # fmt: skip


@pytest.fixture(scope="module")
def paris() -> object:
    return load_table("paris-point")


def _codes(v: Validated) -> set[tuple[int, str]]:
    return {(int(r), str(c)) for r, c in zip(v.rejects["row"], v.rejects["code"], strict=True)}


def _value(v: Validated, row: int, dimension: str) -> float:
    m = v.measurements
    sel = m[(m["row"] == row) & (m["dimension"] == dimension)]
    assert len(sel) == 1, sel
    return float(sel["value_mm"].iloc[0])


def _check_accounting(v: Validated) -> None:
    a = v.accounting
    assert a.rows_read == a.rows_used + a.rows_rejected
    assert a.cells_read == a.cells_used + a.cells_rejected
    assert a.cells_used == len(v.measurements)
    for s in a.sources:
        assert s.rows_read == s.rows_used + s.rows_rejected
        assert s.cells_read == s.cells_used + s.cells_rejected
    json.dumps(a.to_dict())
    # every rejected row has at least one reject entry
    used_rows = set(zip(v.measurements["source"], v.measurements["row"], strict=True))
    listed = set(zip(v.rejects["source"], v.rejects["row"], strict=True))
    assert a.rows_rejected <= len(listed - used_rows)


CASES = {
    "workbook_titles_merged.xlsx": (
        {
            (1, "skipped_title"), (2, "skipped_title"), (3, "skipped_blank"),
            (7, "not_a_number"), (8, "implausible"), (10, "unknown_foot"), (10, "bad_date"),
            (11, "unreadable_size"), (12, "skipped_summary"), (13, "skipped_blank"),
            (14, "skipped_signature"), (15, "skipped_signature"), (16, "skipped_signature"),
            (17, "skipped_signature"),
        },
        {(5, "insole_length"): 273.5, (6, "insole_length"): 274.1, (9, "insole_length"): 266.0},
    ),
    "semicolon_titles_summary.csv": (
        {
            (1, "skipped_title"), (2, "skipped_title"), (3, "skipped_blank"),
            (6, "missing_producer"), (7, "unreadable_size"), (8, "missing_size"),
            (9, "implausible"), (10, "skipped_blank"), (11, "skipped_header"),
            (12, "not_a_number"), (13, "no_measurement"), (14, "skipped_summary"),
            (15, "skipped_summary"), (16, "skipped_blank"), (17, "skipped_signature"),
            (18, "skipped_signature"), (19, "skipped_signature"),
        },
        {(5, "insole_length"): 273.3, (9, "insole_ball_width"): 99.0, (12, "insole_length"): 266.7},
    ),
    "bom_centimetres.csv": (
        {(4, "implausible")},
        {(2, "insole_length"): 273.5, (2, "last_ball_girth"): 235.0, (3, "insole_length"): 280.0},
    ),
    "unicode_text_export.txt": (
        set(),
        {(2, "insole_length"): 266.5, (3, "last_ball_girth"): 230.5, (4, "insole_length"): 273.4},
    ),
    "cp1252_names.csv": (
        {(4, "negative")},
        {(2, "last_length"): 260.1, (3, "last_length"): 259.7, (4, "last_waist_girth"): 231.0},
    ),
    "long_layout.csv": (
        # 12/03/2026 is the only day/month date: day first cannot be confirmed
        {(1, "ambiguous_date"), (4, "unknown_dimension"), (5, "duplicate_sample"),
         (8, "unknown_unit")},
        {(2, "insole_length"): 273.0, (3, "last_ball_girth"): 236.0, (6, "insole_length"): 273.5,
         (7, "insole_length"): 274.0},
    ),
    "size_systems.csv": (
        {(5, "size_outside_table")},
        {(2, "last_length"): 276.7, (3, "last_length"): 271.0},
    ),
    "two_sheets.xlsx": (
        set(),
        {(2, "last_ball_girth"): 241.0, (2, "insole_length"): 280.0, (3, "last_length"): 281.0},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_file(name: str, paris: object) -> None:
    expected_rejects, expected_values = CASES[name]
    v = read_measurements(DATA / name, table=paris)  # type: ignore[arg-type]
    assert _codes(v) == expected_rejects
    for (row, dim), mm in expected_values.items():
        assert _value(v, row, dim) == pytest.approx(mm)
    assert list(v.measurements.columns[: len(MEASUREMENT_COLUMNS)]) == list(MEASUREMENT_COLUMNS)
    assert list(v.rejects.columns) == list(REJECT_COLUMNS)
    assert set(v.rejects["code"]) <= {c.value for c in RejectCode}
    assert v.measurements["producer"].str.strip().str.len().min() > 0
    _check_accounting(v)


def test_done_when_workbook(paris: object) -> None:
    """Issue 3, done-when 1: every data row used or rejected by its row number; no title,
    average or signature row becomes a producer; merged producers are filled."""
    v = read_measurements(DATA / "workbook_titles_merged.xlsx", table=paris)  # type: ignore[arg-type]
    used = set(v.measurements["row"])
    rejected = set(v.rejects["row"])
    assert set(range(1, 18)) - {4} == used | rejected  # row 4 is the header
    producers = set(v.measurements["producer"])
    assert producers == {"UD Maju Jaya", "CV Sepatu Medali"}
    for p in producers:
        assert not any(w in p.lower() for w in SUMMARY_WORDS)
    m = v.measurements
    assert set(m.loc[m["row"].isin([6, 7, 8]), "producer"]) == {"UD Maju Jaya"}  # merged B5:B8
    assert m.loc[m["row"] == 8, "date"].iloc[0] == pd.Timestamp("2026-03-12")  # serial 46093
    assert m.loc[m["row"] == 7, "date"].iloc[0] == pd.Timestamp("2026-03-12")  # "12 Maret 2026"
    assert m.loc[m["row"] == 9, "size"].iloc[0] == 40.5  # "40,5"
    # bad foot/date keep the measurement with NA
    row10 = m[m["row"] == 10]
    assert len(row10) == 2 and row10["foot"].isna().all() and row10["date"].isna().all()
    msg = v.rejects.loc[v.rejects["row"] == 8, "message"].iloc[0]
    assert "looks like 273.5 mm" in msg
    assert any("Catatan" in n for n in v.notes)  # sheet without header reported


def test_done_when_bom_cm_and_utf16(paris: object) -> None:
    """Issue 3, done-when 2: a UTF-8-BOM CSV in cm and a UTF-16 tab export read to mm."""
    v = read_measurements(
        [DATA / "bom_centimetres.csv", DATA / "unicode_text_export.txt"],
        table=paris,  # type: ignore[arg-type]
    )
    m = v.measurements
    bom = m[m["source"] == "bom_centimetres.csv"]
    utf16 = m[m["source"] == "unicode_text_export.txt"]
    assert bom["value_mm"].tolist() == pytest.approx([273.5, 235.0, 280.0, 240.0, 246.0])
    assert utf16["value_mm"].tolist() == pytest.approx([266.5, 229.0, 267.0, 230.5, 273.4])
    assert utf16["foot"].tolist() == ["L", "L", "R", "R", "L"]
    assert [s.encoding for s in v.sheets] == ["utf-8-sig", "utf-16"]
    _check_accounting(v)


def test_measurement_dtypes(paris: object) -> None:
    v = read_measurements(DATA / "long_layout.csv", table=paris)  # type: ignore[arg-type]
    dt = v.measurements.dtypes
    assert dt["row"] == np.int64 and dt["size"] == np.float64 and dt["value_mm"] == np.float64
    assert str(dt["date"]) == "datetime64[ns]"
    assert v.rejects["row"].dtype == np.int64


def test_size_systems_converted(paris: object) -> None:
    v = read_measurements(DATA / "size_systems.csv", table=paris)  # type: ignore[arg-type]
    sizes = dict(zip(v.measurements["size_label"], v.measurements["size"], strict=True))
    assert sizes["41½"] == 41.5 and sizes["EU 41"] == 41.0
    assert sizes["UK 7"] == pytest.approx(40.64, abs=0.01)  # 3 x 7 + 25 in = 11.67 in


def test_no_table_reads_bare_numbers_as_eu() -> None:
    v = read_measurements(DATA / "size_systems.csv")
    assert "size_outside_table" not in set(v.rejects["code"])
    assert len(v.measurements) == 5


def test_missing_producer_column() -> None:
    with pytest.raises(MissingColumnsError) as err:
        read_measurements(DATA / "no_producer.csv")
    text = str(err.value)
    assert "'Nama'" in text and "produsen" in text


def test_two_columns_of_one_dimension_refused(tmp_path: Path) -> None:
    """Review finding: the second insole column's numbers were neither used nor
    rejected. Now the file is refused, naming both headers, and nothing is counted."""
    p = tmp_path / "twice.csv"
    p.write_text(
        "produsen;ukuran;panjang_insole;panjang_last;insole_length;catatan\n"
        "UD Maju;41;273,5;272,0;274,0;ulang\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        read_measurements(p)
    text = str(err.value)
    assert "'panjang_insole'" in text and "'insole_length'" in text and "twice.csv" in text
    # a second column of a role is refused too (issue 18; it used to be passed over)
    q = tmp_path / "roles.csv"
    q.write_text("produsen;ukuran;panjang_insole;produsen\nUD Maju;41;273,5;x\n", encoding="utf-8")
    with pytest.raises(InputError, match="two columns could be the producer"):
        read_measurements(q)


def test_legacy_xls_refused() -> None:
    with pytest.raises(InputError, match=r"\.xlsx"):
        read_measurements(DATA / "legacy.xls")


def test_units_option(tmp_path: Path) -> None:
    p = tmp_path / "cm.csv"
    p.write_text("producer,size,insole_length,lebar_insole (mm)\nA,41,27.35,98\n")
    v = read_measurements(p, units="cm")
    assert sorted(v.measurements["value_mm"]) == pytest.approx([98.0, 273.5])
    with pytest.raises(UsageError):
        read_measurements(p, units="furlong")


def test_several_files_keep_sources(paris: object) -> None:
    names = ["cp1252_names.csv", "two_sheets.xlsx"]
    v = read_measurements([DATA / n for n in names], table=paris)  # type: ignore[arg-type]
    assert set(v.measurements["source"]) == {
        "cp1252_names.csv", "two_sheets.xlsx#lebar", "two_sheets.xlsx#panjang",
    }  # fmt: skip
    assert [s.source for s in v.accounting.sources] == [
        "cp1252_names.csv", "two_sheets.xlsx#lebar", "two_sheets.xlsx#panjang",
    ]  # fmt: skip


def test_sheet_option(paris: object) -> None:
    v = read_measurements(DATA / "two_sheets.xlsx", sheet="panjang", table=paris)  # type: ignore[arg-type]
    assert set(v.measurements["dimension"]) == {"insole_length", "last_length"}
    with pytest.raises(InputError, match="lebar"):
        read_measurements(DATA / "two_sheets.xlsx", sheet="nope")


def test_validate_accepts_sheets_directly() -> None:
    sheets = read_input(DATA / "cp1252_names.csv")
    v = validate(sheets)
    assert len(v.measurements) == 4
    assert set(v.measurements["producer"]) == {"Ünal", "Café Sepatu"}


def test_unused_rows_in_rejected_rows_count_as_rejected(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("producer;size;insole_length;last_length\n;41;270;271\nA;41;270;\n")
    v = read_measurements(p)
    a = v.accounting
    assert (a.rows_read, a.rows_used, a.rows_rejected) == (2, 1, 1)
    assert (a.cells_read, a.cells_used, a.cells_rejected, a.cells_blank) == (3, 1, 2, 1)


def test_parse_numbers_locales() -> None:
    got = parse_numbers(["1.234,5", "1,234.5", "273,5", " 98 ", "", "x", "inf"], decimal=",")
    assert got[:4].tolist() == [1234.5, 1234.5, 273.5, 98.0]
    assert np.isnan(got[4:]).all()


def test_parse_dates_formats() -> None:
    got = parse_dates(["5-Jan-26", "2026-01-05 08:30", "05.01.2026", "5 Januari 2026", "0/0/0"])
    days = [str(d)[:10] for d in got]
    assert days == ["2026-01-05"] * 4 + ["NaT"]


def test_sample_numbers_restarting_per_size_or_visit_are_not_duplicates(tmp_path: Path) -> None:
    # Found in review: a "No" column numbered 1..5 within each size block lost 80 % of the
    # rows as duplicate_sample. A sample is one sample at one producer, size, date and foot.
    lines = ["No,Produsen,Ukuran,Tanggal,Panjang insole (mm)"]
    for size in (40, 41, 42):
        for visit in ("02/03/2026", "16/03/2026"):
            for no in (1, 2):
                lines.append(f"{no},UD Uji,{size},{visit},{size * 20 / 3 + no / 10:.1f}")
    lines.append("1,UD Uji,42,16/03/2026,280.0")  # a true duplicate: same everything
    path = tmp_path / "numbered.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    v = read_measurements(path)
    assert len(v.measurements) == 12
    assert _codes(v) == {(len(lines), "duplicate_sample")}


def test_validation_is_written_in_short_stages() -> None:
    # Issue 13 item 3: no function of the validation module over ~80 lines (docstring
    # included), so each stage can be read on one screen.
    import ast

    import sizecheck.validate as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    long = {
        node.name: node.end_lineno - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.end_lineno is not None
        if node.end_lineno - node.lineno + 1 > 80
    }
    assert long == {}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_dates_outside_1900_2100_are_bad_dates_not_crashes(tmp_path: Path, suffix: str) -> None:
    # Issue 18: 9999-12-31 and 0001-01-01 (typed, or real Excel dates) ended in a
    # traceback (beyond pandas' nanosecond range). They are typos: bad_date, kept.
    import datetime as dt

    dates = ["9999-12-31", "0001-01-01", "31/12/9999", "2026-03-12"]
    p = tmp_path / f"x{suffix}"
    if suffix == ".csv":
        rows = "".join(f"A;{41 + i};{d};{273 + i}\n" for i, d in enumerate(dates))
        p.write_text("produsen;ukuran;tanggal;panjang_insole\n" + rows)
    else:
        from openpyxl import Workbook

        wb = Workbook()
        wb.active.append(["produsen", "ukuran", "tanggal", "panjang_insole"])
        for i, d in enumerate((dt.datetime(9999, 12, 31), dt.datetime(1, 1, 1), "31/12/9999")):
            wb.active.append(["A", 41 + i, d, 273 + i])
        wb.active.append(["A", 44, dt.datetime(2026, 3, 12), 276])
        wb.save(p)
    v = read_measurements(p)
    assert _codes(v) == {(2, "bad_date"), (3, "bad_date"), (4, "bad_date")}
    assert len(v.measurements) == 4
    assert v.measurements["date"].isna().tolist() == [True, True, True, False]


def test_unit_spellings_a_qa_office_writes_are_read(tmp_path: Path) -> None:
    # Issue 18: '(milimeter)', '(mm.)', '(cm.)' and ', mm' made the column vanish.
    p = tmp_path / "x.csv"
    p.write_text(
        "produsen;ukuran;panjang insole (milimeter);lebar insole (mm.);panjang acuan (cm.);"
        "lingkar ball, mm;panjang dalam (Sentimeter)\nUD Maju;41;273,5;98;27,6;240;27,1\n"
    )
    v = read_measurements(p)
    got = dict(zip(v.measurements["dimension"], v.measurements["value_mm"], strict=True))
    assert got == pytest.approx(
        {"insole_length": 273.5, "insole_ball_width": 98.0, "last_length": 276.0,
         "last_ball_girth": 240.0, "inside_length": 271.0}
    )  # fmt: skip
    assert v.clean


@pytest.mark.parametrize(
    ("header", "code", "words"),
    [
        ("lebar_insole (m)", "unknown_unit", "'m' is not a unit"),
        ("lebar_insole (furlong)", "unknown_unit", "'furlong' is not a unit"),
        ("panjang insole kiri", "unknown_dimension", "of one foot"),
        ("panjang_acuan (R)", "unknown_dimension", "of one foot"),
        ("insole_length_2", "unknown_dimension", "numbered insole_length"),
    ],
)
def test_a_dimension_column_that_is_not_read_is_reported_by_name(
    tmp_path: Path, header: str, code: str, words: str
) -> None:
    # Issue 18: such a column passed through as an unknown column: 'No problems'.
    p = tmp_path / "x.csv"
    p.write_text(f"produsen;ukuran;panjang_insole;{header}\nUD Maju;41;273;98\nUD Maju;42;280;\n")
    v = read_measurements(p)
    assert v.rejects[["row", "column", "value", "code"]].values.tolist() == [
        [2, header, "98", code]
    ]
    assert words in v.rejects["message"].iloc[0] and header in v.rejects["message"].iloc[0]
    assert v.measurements["value_mm"].tolist() == [273.0, 280.0]
    a = v.accounting
    assert (a.cells_read, a.cells_used, a.cells_rejected, a.cells_blank) == (3, 2, 1, 1)


def test_a_header_with_only_unread_dimension_columns_says_why(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("produsen;ukuran;panjang insole kiri;panjang insole kanan\nA;41;273;274\n")
    with pytest.raises(
        MissingColumnsError, match=r"'panjang insole kiri' looks like insole_length"
    ):
        read_measurements(p)


@pytest.mark.parametrize(
    ("header", "row", "role", "first"),
    [
        ("produsen;pabrik;ukuran;panjang_insole", "A;B;41;273", "producer", "produsen"),
        ("produsen;ukuran;nomor;panjang_insole", "A;41;42;273", "size", "ukuran"),
        ("no;kode_sampel;produsen;ukuran;panjang_insole", "1;S-7;A;41;273", "sample id", "no"),
        ("produsen;ukuran;tanggal;tgl;panjang_insole", "A;41;;;273", "date", "tanggal"),
    ],
)
def test_a_second_column_of_a_role_is_refused_naming_both(
    tmp_path: Path, header: str, row: str, role: str, first: str
) -> None:
    # Issue 18: the second producer (or size, sample id...) column was passed over.
    p = tmp_path / "x.csv"
    p.write_text(f"{header}\n{row}\n")
    with pytest.raises(InputError, match=rf"two columns could be the {role}: '{first}'"):
        read_measurements(p)


def test_wide_and_long_columns_in_one_sheet_are_refused(tmp_path: Path) -> None:
    # Issue 18: the long layout's value column beside dimension columns was dropped.
    p = tmp_path / "x.csv"
    p.write_text("produsen;ukuran;panjang_insole;dimensi;nilai\nA;41;273;lebar_insole;98\n")
    with pytest.raises(InputError, match=r"dimension columns \('panjang_insole'\) and also"):
        read_measurements(p)
    # a lone 'nilai' (result) column beside dimension columns is just another column
    p.write_text("produsen;ukuran;panjang_insole;nilai\nA;41;273;lulus\n")
    assert read_measurements(p).measurements["nilai"].tolist() == ["lulus"]


@pytest.mark.parametrize(
    ("dates", "code", "read"),
    [
        (["03/04/2026", "05/04/2026"], "ambiguous_date", ["2026-04-03", "2026-04-05"]),
        (["03/04/2026", "03/25/2026"], "month_first_date", ["2026-03-04", "2026-03-25"]),
        (["03/04/2026", "25/03/2026"], None, ["2026-04-03", "2026-03-25"]),
        (
            ["05/05/2026", "2026-04-03", "3 April 2026"],
            None,
            ["2026-05-05", "2026-04-03", "2026-04-03"],
        ),
    ],
)
def test_day_month_order_is_listed_when_the_data_cannot_tell(
    tmp_path: Path, dates: list[str], code: str | None, read: list[str]
) -> None:
    # Issue 19 item 6: dates whose days are all <= 12 were read day first without a word;
    # US-order dates were partly swapped, partly unreadable.
    p = tmp_path / "x.csv"
    rows = "".join(f"A;{41 + i};{d};{273 + i}\n" for i, d in enumerate(dates))
    p.write_text("produsen;ukuran;tanggal;panjang_insole\n" + rows)
    v = read_measurements(p)
    listed = v.rejects[["row", "column", "code"]].values.tolist()
    assert listed == ([[1, "tanggal", code]] if code else [])
    assert v.measurements["date"].dt.strftime("%Y-%m-%d").tolist() == read
    assert len(v.measurements) == len(dates)


def test_broken_pairs_are_listed_and_kept_without_the_pair_id(tmp_path: Path) -> None:
    # Issue 19 item 6: a pair of three shoes or of two left shoes went into the pair
    # statistics as it was.
    p = tmp_path / "x.csv"
    p.write_text(
        "produsen;ukuran;tanggal;pasang;kaki;panjang_insole;lebar_insole\n"
        "A;41;2026-03-02;1;L;273;98\nA;41;2026-03-02;1;R;273,5;98\nA;41;2026-03-02;1;R;274;98\n"
        "A;42;2026-03-02;1;L;280;99\nA;42;2026-03-02;1;L;280,5;99\n"
        "A;43;2026-03-02;1;L;287;100\nA;43;2026-03-02;1;R;287,2;100\n"
        "A;43;2026-05-04;1;L;287;100\nA;43;2026-05-04;1;R;287,2;100\n"  # pair ids restart per visit
    )
    v = read_measurements(p)
    assert v.rejects[["row", "code"]].values.tolist() == [
        [2, "pair_too_many_shoes"], [3, "pair_too_many_shoes"], [4, "pair_too_many_shoes"],
        [5, "pair_same_foot"], [6, "pair_same_foot"],
    ]  # fmt: skip
    m = v.measurements
    assert len(m) == 18 and m["pair"].isna().sum() == 10
    assert m.loc[m["row"] >= 7, "pair"].tolist() == ["1"] * 8


HOSTILE = Path(__file__).parent / "data" / "hostile"
#: The right outcome of each hostile input (tests/data/hostile/README.md): the reject
#: codes listed and the rows used, or the words of the one-line error.
HOSTILE_OUTCOMES: dict[str, tuple[set[str], int] | str] = {
    "cr_only.csv": (set(), 2),
    "mixed_line_ends.csv": (set(), 3),
    "decimal_comma_in_comma_file.csv": ({"too_many_fields"}, 1),
    "short_row.csv": ({"too_few_fields"}, 1),
    "unit_spellings.csv": (set(), 1),
    "unknown_units.csv": ({"unknown_unit", "unknown_dimension"}, 1),
    "two_producer_columns.csv": "two columns could be the producer",
    "two_sample_columns.csv": "two columns could be the sample id",
    "wide_and_long.csv": "A sheet holds one layout",
    "extreme_dates.csv": ({"bad_date"}, 3),
    "ambiguous_dates.csv": ({"ambiguous_date"}, 2),
    "month_first_dates.csv": ({"month_first_date"}, 2),
    "pairs_broken.csv": ({"pair_too_many_shoes", "pair_same_foot"}, 7),
    "nul_bytes.csv": ({"not_a_number"}, 0),
    "too_many_columns.csv": "limit of 16,384 columns",
    "chart_sheet.xlsx": (set(), 2),
    "formula_without_value.xlsx": ({"formula_without_value", "missing_producer"}, 1),
    "far_stray_cell.xlsx": "limit of 20,000,000 cells",
    "merge_bomb.xlsx": "merged ranges cover",
    "declared_zip_bomb.xlsx": "limit of 512 MB",
    "missing_sheet_part.xlsx": "the file does not hold them",
    "extreme_dates.xlsx": ({"bad_date"}, 2),
    "producer_names.csv": ({"missing_producer"}, 153),  # the blank name's 3 rows
}


def test_every_hostile_input_has_its_outcome_stated() -> None:
    files = {p.name for p in HOSTILE.iterdir() if p.suffix in {".csv", ".xlsx"}}
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    assert files == set(HOSTILE_OUTCOMES)
    assert all(f"`{name}`" in readme for name in files)


@pytest.mark.parametrize("name", sorted(HOSTILE_OUTCOMES))
def test_hostile_input_has_the_outcome_the_readme_states(name: str) -> None:
    expected = HOSTILE_OUTCOMES[name]
    if isinstance(expected, str):
        with pytest.raises(InputError, match=re.escape(expected)):
            read_measurements(HOSTILE / name)
        return
    codes, rows_used = expected
    v = read_measurements(HOSTILE / name)
    assert set(v.rejects["code"]) == codes
    assert v.accounting.rows_used == rows_used
    _check_accounting(v)
