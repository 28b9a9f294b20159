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


def test_ragged_rows_fall_back_and_keep_extra_cells(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("producer;size;insole_length\nA;41;273;extra\nB;42\n")
    [s] = read_input(p)
    assert s.header == ("producer", "size", "insole_length", "column_4")
    assert s.rows.tolist() == [2, 3]
    v = read_measurements(p)
    assert v.measurements["column_4"].tolist() == ["extra"]


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
