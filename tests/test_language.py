"""No English inside Indonesian output (issue 12).

Every output a person reads is rendered with ``--lang id`` — the terminal, report.html,
the cards and the charts (their matplotlib texts), the reasons in rejects.csv — for the
bundled example and for a messy Indonesian-locale workbook, and searched for the
sentences of the English catalogue (``locales/en.toml`` values that differ from their
Indonesian counterpart). Proper nouns and codes that are the same in both languages are
listed in :data:`SAME_IN_BOTH`, each with its reason.
"""

from __future__ import annotations

import csv
import html.parser
import re
import string
from collections.abc import Iterator
from pathlib import Path

import matplotlib.figure
import numpy as np
import pytest
from typer.testing import CliRunner

from sizecheck.cli import app
from sizecheck.i18n import catalogue

pytestmark = pytest.mark.slow  # two analyses with charts and cards

#: English fragments allowed in Indonesian output: proper nouns, codes and technical
#: terms both languages use. A fragment is listed with its reason; nothing else passes.
SAME_IN_BOTH: dict[str, str] = {
    "Paris point": "name of the size system",
    "Gage R&R": "name of the method (AIAG), used as is in Indonesian QA",
}

#: Catalogue keys whose English values are the reject codes themselves (``not_a_number``),
#: which stay English in every language (README, rejects): no sentence to look for.
CODE_NAMES = ("validate.code.",)

#: A catalogue fragment is a "sentence" to look for when it has at least this many words.
MIN_WORDS = 2


def _fragments(template: str) -> list[str]:
    """The literal text of a template between its placeholders, whitespace collapsed."""
    out = []
    for literal, _name, _spec, _conv in string.Formatter().parse(template):
        text = " ".join(literal.split()).strip(" :;,.—–-()")
        if len(re.findall(r"[A-Za-z]{2,}", text)) >= MIN_WORDS:
            out.append(text)
    return out


def english_sentences() -> set[str]:
    """Fragments of English catalogue values that differ from the Indonesian value and
    appear in no Indonesian value (so they cannot be a shared term)."""
    en, id_ = catalogue("en"), catalogue("id")
    indonesian = " ".join(" ".join(v.split()) for v in id_.values())
    found = set()
    for key, value in en.items():
        if value == id_.get(key) or key.startswith(CODE_NAMES):
            continue
        for frag in _fragments(value):
            if frag not in indonesian and frag not in SAME_IN_BOTH:
                found.add(frag)
    return found


def test_the_english_catalogue_gives_sentences_to_look_for() -> None:
    sentences = english_sentences()
    # the test can fail: these are English sentences it looks for
    assert "not a number" in sentences
    assert "title row above the header, skipped" in sentences
    assert "Size system" in sentences
    assert len(sentences) > 200


def _leaks(text: str, sentences: set[str]) -> list[str]:
    flat = " ".join(text.split())
    return sorted(s for s in sentences if s in flat)


class _Text(html.parser.HTMLParser):
    """The text a reader sees in an HTML page (no script, style or attribute values
    other than alt and title)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("alt", "title", "aria-label", "data-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text("utf-8"))
    return "\n".join(parser.parts)


@pytest.fixture
def figure_texts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every text drawn on a figure saved while the fixture is active (charts, cards)."""
    texts: list[str] = []
    save = matplotlib.figure.Figure.savefig

    def recording(self: matplotlib.figure.Figure, *args: object, **kwargs: object) -> None:
        texts.extend(t.get_text() for t in self.findobj(matplotlib.text.Text))
        save(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", recording)
    yield texts


def _measure_id(args: list[str], out: Path) -> str:
    result = CliRunner().invoke(
        app, ["measure", *args, "--lang", "id", "--out", str(out), "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _outputs(out: Path, terminal: str, figures: list[str]) -> dict[str, str]:
    with (out / "rejects.csv").open(encoding="utf-8") as f:
        messages = "\n".join(row["message"] for row in csv.DictReader(f))
    assert figures, "no chart or card was drawn in this process"
    return {
        "terminal": terminal,
        "report.html": _html_text(out / "report.html"),
        "charts and cards": "\n".join(figures),
        "rejects.csv message": messages,
    }


def _assert_indonesian(outputs: dict[str, str]) -> None:
    sentences = english_sentences()
    leaks = {name: _leaks(text, sentences) for name, text in outputs.items()}
    assert {k: v for k, v in leaks.items() if v} == {}


def test_example_has_no_english_in_indonesian(tmp_path: Path, figure_texts: list[str]) -> None:
    terminal = _measure_id(["--example"], tmp_path / "out")
    outputs = _outputs(tmp_path / "out", terminal, figure_texts)
    # the texts were in Indonesian in the first place
    assert "bukan angka" in outputs["rejects.csv message"]
    assert "Tabel rujukan" in outputs["report.html"]
    assert "usulan" in outputs["report.html"] and "usulan" in outputs["charts and cards"]
    _assert_indonesian(outputs)


def messy_workbook(path: Path) -> Path:
    """An Indonesian office's workbook: title rows, merged producer cells, numbers typed
    as text with decimal commas, day-first dates, a bad cell, a decimal mark lost, a
    blank producer, an unreadable size, an average row and a signature block."""
    from openpyxl import Workbook

    rng = np.random.default_rng(12)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Pengukuran"
    ws.append(["LAPORAN HASIL PENGUKURAN INSOLE — UPT MOJOKERTO"])
    ws.append(["Periode: Maret 2026"])
    ws.append([])
    ws.append(["Produsen", "Nomor", "Kaki", "Tanggal", "Panjang Insole (mm)", "Lingkar Ball (mm)"])
    row = 5
    for producer, shift in (("UD Sidomulyo", 0.0), ("CV Kali Brantas", 4.0)):
        first = row
        for day, date in enumerate(("02/03/2026", "16/03/2026", "30/03/2026")):
            for size in (39, 40, 41, 42, 43):
                for foot in ("kiri", "kanan"):
                    length = 280 + (size - 42) * 20 / 3 + shift + rng.normal(0, 0.8) + day * 0.1
                    girth = 240 + (size - 42) * 5 + rng.normal(0, 1.0)
                    ws.append(
                        [producer if row == first else None, size, foot, date,
                         f"{length:.1f}".replace(".", ","), round(girth, 1)]
                    )  # fmt: skip
                    row += 1
        ws.merge_cells(start_row=first, start_column=1, end_row=row - 1, end_column=1)
    ws.cell(7, 5, "rusak")  # not a number
    ws.cell(9, 5, "2811")  # decimal mark lost
    ws.append([None, 41, "kiri", "30/03/2026", "274,0", 240.0])  # blank producer
    ws.append(["UD Sidomulyo", "41/42", "kanan", "30/03/2026", "274,0", 240.0])
    ws.append(["Rata-rata", None, None, None, "280,1", 240.2])
    ws.append([])
    ws.append(["Mengetahui,", None, None, "Petugas Pengukur,"])
    wb.save(path)
    return path


def test_messy_indonesian_workbook_has_no_english_in_indonesian(
    tmp_path: Path, figure_texts: list[str]
) -> None:
    book = messy_workbook(tmp_path / "pengukuran.xlsx")
    terminal = _measure_id([str(book)], tmp_path / "out")
    outputs = _outputs(tmp_path / "out", terminal, figure_texts)
    with (tmp_path / "out" / "rejects.csv").open(encoding="utf-8") as f:
        codes = {row["code"] for row in csv.DictReader(f)}
    # the messy parts were met (and their codes stay English)
    assert {"not_a_number", "implausible", "missing_producer", "unreadable_size"} <= codes
    assert {"skipped_title", "skipped_summary", "skipped_signature"} <= codes
    assert "tanda desimal hilang" in outputs["rejects.csv message"]
    _assert_indonesian(outputs)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nothere.csv"], "Berkas masukan 'nothere.csv' tidak ada"),
        (["--example", "--table", "nosuch"], "Tabel 'nosuch' tidak dikenal"),
    ],
)
def test_cli_errors_are_in_indonesian(tmp_path: Path, args: list[str], words: str) -> None:
    result = CliRunner().invoke(
        app, ["measure", *args, "--lang", "id", "--out", str(tmp_path / "out"), "--no-charts"]
    )
    assert result.exit_code == 2
    assert "Kesalahan:" in result.output and words in " ".join(result.output.split())
    assert _leaks(result.output, english_sentences()) == []
    assert "Error:" not in result.output
