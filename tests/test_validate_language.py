"""``sizecheck validate --lang id``: the whole terminal report in Indonesian.

The English words are taken from the same files validated in English, not from the
catalogue: every word of the English output that is neither data (file and sheet names,
headers and cells of the inputs) nor an Indonesian word (a word of ``locales/id.toml``
outside its placeholders, so "data" or "kiri/kanan" are not counted) must be absent from
the Indonesian output.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sizecheck.cli import app
from sizecheck.i18n import catalogue, t
from sizecheck.validate import RejectCode

DATA = Path(__file__).parent / "data"
#: Title, summary, signature and blank rows, merged cells, a notes sheet, bad cells and
#: sizes, a lost decimal mark, a month-first date: every part of the report is printed.
MESSY = [
    DATA / "ingest" / "workbook_titles_merged.xlsx",
    DATA / "ingest" / "semicolon_titles_summary.csv",
    DATA / "hostile" / "month_first_dates.csv",
    DATA / "hostile" / "chart_sheet.xlsx",
]
#: Shared by both languages, each with its reason.
SAME_IN_BOTH = {
    "sizecheck": "the command's name",
    "measure": "the command 'sizecheck measure'",
    "rejects": "the file rejects.csv",
    "csv": "the file rejects.csv",
    "utf": "an encoding's name (utf-8)",
}


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z]{2,}", text)}


def _data_words(paths: list[Path]) -> set[str]:
    """Every word of the inputs themselves: names, sheet names, headers and cells."""
    from openpyxl import load_workbook

    words = set()
    for p in paths:
        words |= _words(p.name)
        if p.suffix == ".xlsx":
            book = load_workbook(p, read_only=True)
            for sheet in book.worksheets:
                words |= _words(sheet.title)
                for row in sheet.iter_rows(values_only=True):
                    words |= _words(" ".join(str(v) for v in row if v is not None))
            book.close()
        else:
            words |= _words(p.read_bytes().decode("utf-8", errors="replace"))
    return words


def _validate(paths: list[Path], lang: str) -> tuple[int, str]:
    # wide enough that rich neither wraps nor cuts a word with an ellipsis
    result = CliRunner().invoke(
        app, ["validate", *map(str, paths), "--lang", lang], env={"COLUMNS": "400"}
    )
    return result.exit_code, result.output


def test_validate_in_indonesian_leaves_no_english_word() -> None:
    code_en, english = _validate(MESSY, "en")
    code_id, indonesian = _validate(MESSY, "id")
    assert code_en == code_id == 1
    # the Indonesian catalogue's words, without its placeholders ({rows_rejected} ...)
    indonesian_words = _words(re.sub(r"\{[^}]*\}", " ", " ".join(catalogue("id").values())))
    to_find = _words(english) - _data_words(MESSY) - indonesian_words - set(SAME_IN_BOTH)
    # the test can fail: the English report's own words are looked for
    assert {"header", "row", "rejected", "skipped", "problem", "signature", "blank"} <= to_find
    assert sorted(to_find & _words(indonesian)) == []
    # and the Indonesian report says it all
    flat = " ".join(indonesian.split())
    for words in (
        "judul kolom ada di baris 4 (lembar 'Maret', tanda desimal '.')",
        "(pemisah ';', tanda desimal ',', utf-8)",
        "Catatan: workbook_titles_merged.xlsx#Catatan: lembar ini tidak dibaca",
        "semua berkas",
        "bukan angka",  # the reason of not_a_number, and its message
        "tanda desimal hilang",
        "tanggal ditulis bulan dulu",
        "baris judul (dilewati)",
        "Ada 12 masalah.",
    ):
        assert words in flat, words


def test_validate_clean_file_in_indonesian() -> None:
    code, out = _validate([DATA / "ingest" / "unicode_text_export.txt"], "id")
    assert code == 0
    assert t("validate.clean", "id") in " ".join(out.split())
    assert "No problems" not in out and "Accounting" not in out


def test_validate_english_names_each_code_as_rejects_csv_does() -> None:
    _, out = _validate(MESSY, "en")
    assert "not_a_number" in out and "skipped_title (skipped)" in out
    assert "12 problem(s)." in out


@pytest.mark.parametrize("lang", ["en", "id"])
def test_every_reject_code_has_a_name(lang: str) -> None:
    names = catalogue(lang)
    missing = [c.value for c in RejectCode if not names.get(f"validate.code.{c.value}")]
    assert missing == []
    if lang == "en":  # English shows the code itself, so rejects.csv is searched by it
        assert all(names[f"validate.code.{c.value}"] == c.value for c in RejectCode)
