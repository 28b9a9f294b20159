"""A file that cannot be read, or an output folder that cannot be written, is explained
in the run's language (``--lang id``).

The reader's errors (no such file, a folder, an old .xls, a damaged workbook, no header
row, a sheet that is not there, an undecodable file, a limit) used to be English in both
languages. As in ``test_validate_language``, the English words are taken from the
English run of the same command, not from the catalogue: every word of the English
message that is not data (the file's name and cells) and not shared by both languages
(program and format names) must be absent from the Indonesian message, and the English
message stays as it was before it came from the catalogue.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from sizecheck.cli import app
from sizecheck.schema import META_COLUMNS

#: Names both languages use as they are, each with its reason.
SAME_IN_BOTH = {
    "sizecheck", "template", "xlsx", "xls", "csv", "ods", "excel", "libreoffice", "mb",
    "utf", "cp", "limit", "sep", "encoding", "rows", "cells", "mm", "cm", "in", "pipe",
    "socket", "ascii", "insole", "length", "ball", "width", "heel", "last", "panjang",
    "producer", "size", "byte", "workbook", "ctrl", "end", "xe",
}  # fmt: skip
# "rows"/"cells" are --limit's keys (--limit rows=N), "workbook"/"pipe"/"socket"/"byte"
# are the words a QA office uses too, "xe" a byte as Python shows it (b'\xe9').
#: What Python said, quoted as it is in both languages ("pesan komputer: ...").
PYTHON_SAYS = {"broken": {"badzipfile", "file", "is", "not", "zip"}}
#: The column names sizecheck reads, which a message lists as they are.
ALIASES = {w for names in META_COLUMNS.values() for n in names for w in re.findall(r"[a-z]{2,}", n)}


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z]{2,}", text)}


def _run(args: list[str], lang: str, out: Path) -> str:
    result = CliRunner().invoke(app, ["measure", *args, "--lang", lang, "--out", str(out)])
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())  # rich wraps long lines


def _xlsx(path: Path, rows: list[list[object]], title: str = "Data") -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    """Each bad input: the arguments and a part of the English message it must give."""
    (tmp / "folder").mkdir()
    (tmp / "old.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 600)
    (tmp / "sheet.ods").write_bytes(b"PK-not-really")
    (tmp / "broken.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    (tmp / "noheader.csv").write_text("a;b\n1;2\n", "utf-8")
    (tmp / "latin.csv").write_bytes(
        "produsen;nomor;panjang_insole (mm)\nUD Sé;41;265\n".encode("cp1252")
    )
    (tmp / "big.csv").write_text("producer,size,insole_length_mm\n" + "UD A,41,265\n" * 5, "utf-8")
    good = _xlsx(tmp / "book.xlsx", [["producer", "size", "insole_length_mm"], ["UD A", 41, 265]])
    return {
        "missing": (["nothere.csv"], "does not exist"),
        "folder": ([str(tmp / "folder")], "is not a file"),
        "xls": ([str(tmp / "old.xls")], "legacy Excel .xls workbooks are not read"),
        "ods": ([str(tmp / "sheet.ods")], ".ods files are not read"),
        "broken": ([str(tmp / "broken.xlsx")], "not a readable .xlsx workbook"),  # + Python's words
        "no header": ([str(tmp / "noheader.csv")], "no header row found in the first 60 rows"),
        "no sheet": ([str(good), "--sheet", "Juni"], "no sheet 'Juni'. Sheets: 'Data'."),
        "encoding": ([str(tmp / "latin.csv"), "--encoding", "ascii"], "cannot be decoded as ascii"),
        "rows": ([str(tmp / "big.csv"), "--limit", "rows=2"], "above the limit of 2 rows"),
        "mb": ([str(tmp / "big.csv"), "--limit", "mb=0.00001"], "the file is 0.0 MB"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "folder",
        "xls",
        "ods",
        "broken",
        "no header",
        "no sheet",
        "encoding",
        "rows",
        "mb",
    ],
)
def test_reader_error_in_indonesian_has_no_english_words(case: str, tmp_path: Path) -> None:
    args, english_part = _cases(tmp_path)[case]
    english = _run(args, "en", tmp_path / "out-en")
    indonesian = _run(args, "id", tmp_path / "out-id")
    assert english_part in english  # the English message is unchanged
    data = _words(" ".join(args)) | _words(str(tmp_path)) | ALIASES | {"data"}  # sheet 'Data'
    data |= PYTHON_SAYS.get(case, set())
    left = (_words(english) & _words(indonesian)) - data - SAME_IN_BOTH
    assert left == set(), f"English words in the Indonesian message: {left}\n{indonesian}"
    assert indonesian != english


@pytest.mark.parametrize("lang", ["en", "id"])
def test_output_folder_conflict_in_the_run_language(lang: str, tmp_path: Path) -> None:
    """A QA office's usual output problem — a file of its own where the run would
    write — is explained in the run's language, and nothing is written."""
    out = tmp_path / "hasil"
    out.mkdir()
    (out / "summary.json").write_text("{}", "utf-8")  # not written by sizecheck
    args = ["measure", "--example", "--no-charts", "--out", str(out), "--lang", lang]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    if lang == "en":
        assert "already holds, where this run would write: summary.json (not written" in text
    else:
        assert "sudah berisi" in text and "summary.json (bukan tulisan sizecheck)" in text
        english = {"already", "holds", "where", "this", "run", "would", "write", "written",
                   "replaces", "only", "files", "wrote", "itself", "listed", "move", "these",
                   "away", "choose", "another", "nothing", "was", "published"}  # fmt: skip
        assert _words(text) & english == set()
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
