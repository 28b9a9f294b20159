"""Drift cards (one A4 page each) and write_visuals: safe names, nothing outside --out."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from _visual_factory import HOSTILE_NAMES, make_analysis

from sizecheck.cards import render_card
from sizecheck.findings import action_texts, finding_for
from sizecheck.report import safe_slug, write_visuals

PAGE = re.compile(rb"/Type\s*/Page(?!s)")


def test_card_is_one_pdf_page() -> None:
    a = make_analysis()
    pdf = render_card(a, "CV Panjang", lang="id")
    assert pdf.startswith(b"%PDF")
    assert len(PAGE.findall(pdf)) == 1
    assert re.search(rb"/MediaBox \[ ?0 0 595\.\d* 841\.\d*", pdf)  # A4 in points


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm not installed")
def test_card_renders_to_a_non_blank_image(tmp_path: Path) -> None:
    import numpy as np
    from matplotlib.image import imread

    pdf = tmp_path / "card.pdf"
    pdf.write_bytes(render_card(make_analysis(), "UD Gradasi", lang="en"))
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(tmp_path / "card")], check=True)
    pngs = sorted(tmp_path.glob("card*.png"))
    assert len(pngs) == 1
    assert float(np.var(imread(str(pngs[0]))[..., :3])) > 0.001


def test_actions_follow_the_verdict() -> None:
    a = make_analysis()

    def actions(producer: str, lang: str = "en") -> list[str]:
        return action_texts(finding_for(a, producer), lang)

    assert "too long" in actions("CV Panjang")[0]
    grading = actions("UD Gradasi")
    assert any("grow" in x and "last supplier" in x for x in grading)
    assert not any("too long" in x or "too short" in x for x in grading)  # no shift advice
    # a step in time: dated, with how far it moved, first
    assert "since Jan 17, 2026" in actions("CV Geser")[0] and "moved by +" in actions("CV Geser")[0]
    assert "Measure at least" in actions("Pak Kecil")[0]
    assert "match the reference" in actions("UD Rata")[0]
    assert "terlalu panjang" in actions("CV Panjang", "id")[0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../evil", "evil"),
        ("CON", "con-file"),
        ("lpt9", "lpt9-file"),
        ("a/b", "a-b"),
        ('"quoted"', "quoted"),
        ("ÜNAL ŞEN", "unal-sen"),
        (".hidden", "hidden"),
        ("<script>alert(1)</script>", "script-alert-1-script"),
        ("...", "producer"),
        ("漢字", "producer"),
        ("x" * 300, "x" * 60),
    ],
)
def test_safe_slug(name: str, expected: str) -> None:
    assert safe_slug(name, set()) == expected


def test_safe_slug_makes_duplicates_unique() -> None:
    taken: set[str] = set()
    assert [safe_slug(n, taken) for n in ("A B", "a-b", "a/b", "")] == [
        "a-b",
        "a-b-2",
        "a-b-3",
        "producer",
    ]


@pytest.mark.parametrize(
    "names",
    [
        ("../../evil", "CON", ".hidden"),
        pytest.param(HOSTILE_NAMES, marks=pytest.mark.slow),
    ],
)
def test_write_visuals_hostile_names_stay_inside_out(
    tmp_path: Path, names: tuple[str, ...]
) -> None:
    out = tmp_path / "deep" / "out"
    a = make_analysis(names, dimensions=("insole_length",))
    calls: list[tuple[int, int]] = []
    paths = write_visuals(
        a, out, lang="en", jobs=1, dpi=30, progress=lambda d, n: calls.append((d, n))
    )
    root = out.resolve()
    assert all(p.resolve().is_relative_to(root) for p in paths)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == sorted(paths)
    cards = sorted(p.name for p in (root / "cards").iterdir())
    assert len(cards) == len(names)
    assert "con-file.pdf" in cards and "evil.pdf" in cards
    assert all(not c.startswith(".") for c in cards)
    assert (root / "report.html").is_file()
    assert (root / "charts" / "heatmap_insole-length.png").is_file()
    assert calls[-1] == (len(names), len(names))  # producers drawn, of all producers
    assert [d for d, _ in calls] == list(range(1, len(calls) + 1))
    for p in paths:
        if p.suffix == ".pdf":
            assert len(PAGE.findall(p.read_bytes())) == 1


@pytest.mark.slow
def test_write_visuals_in_worker_processes(tmp_path: Path) -> None:
    names = tuple(f"P{i}" for i in range(8))
    # two dimensions: several cluster charts, which workers finish in any order; the
    # outputs list them in the serial run's order all the same (summary.json did not)
    a = make_analysis(names, ("conforming",) * 8, dimensions=("insole_length", "last_length"))
    paths = write_visuals(a, tmp_path / "out", lang="id", jobs=2, dpi=30)
    assert len([p for p in paths if p.suffix == ".pdf"]) == 8
    assert len([p for p in paths if p.parent == tmp_path / "out" / "charts"]) > 4
    serial = write_visuals(a, tmp_path / "out2", lang="id", jobs=1, dpi=30)
    assert [p.relative_to(tmp_path / "out2") for p in serial] == [
        p.relative_to(tmp_path / "out") for p in paths
    ]


# --- layout: measured with the Agg renderer, every card of the example, both languages ---

#: Texts allowed to overlap another on purpose: none at present. Add (text, other) pairs
#: here, with a reason, if a card ever draws text over text deliberately.
ALLOWED_OVERLAPS: set[tuple[str, str]] = set()

LONG_ACTIONS = {
    "en": [
        "Insole length: your sizes grow 5.0 mm per size instead of 6.7 mm (size 36: +8.6 mm, "
        "size 46: −8.7 mm). Ask your last supplier which grading the lasts follow, and cut the "
        "insole pattern to grow 6.7 mm per size, from the smallest size to the largest one.",
        "Ball girth: shoes of the same size differ too much from one another (short-term SD "
        "3.1 mm; 41 % in spec). Check the cutting die, how the insole is cut and lasted, and "
        "that every operator measures the same way, with the same tape, at the same points.",
        "Last length: since about 23/05/2026 your sizes have changed. Check what changed then: "
        "new lasts, cutting dies, materials, suppliers or operators, and measure again.",
    ],
    "id": [
        "Panjang insole (sol dalam): pertambahan per nomor Anda 5,0 mm, seharusnya 6,7 mm "
        "(nomor 36: +8,6 mm, nomor 46: −8,7 mm). Tanyakan gradasi ukuran kepada pemasok acuan, "
        "dan buat pola insole bertambah 6,7 mm per nomor, dari nomor terkecil sampai terbesar.",
        "Lingkar ball acuan: sepatu dengan nomor yang sama terlalu berbeda (simpangan baku "
        "3,1 mm; 41 % sesuai spesifikasi). Periksa pisau pond, cara memotong insole dan "
        "mengopen, dan pastikan semua petugas mengukur dengan cara dan meteran yang sama.",
        "Panjang acuan: sejak sekitar 23/05/2026 ukuran Anda berubah. Periksa apa yang berubah "
        "saat itu: acuan baru, pisau pond, bahan, pemasok atau petugas, lalu ukur ulang.",
    ],
}


@pytest.fixture(scope="module")
def example():  # type: ignore[no-untyped-def]
    from sizecheck.examples import example_path
    from sizecheck.pipeline import analyse

    return analyse([example_path()], synthetic=True)


def _layout_problems(analysis, producer: str, lang: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from sizecheck.cards import card_figure
    from sizecheck.plotting.layout import text_overlaps
    from sizecheck.plotting.style import house_style

    with house_style():
        fig = card_figure(analysis, producer, lang=lang)
        problems = text_overlaps(fig, margin=0.1)  # every text 2.5 mm inside the page
    return [p for p in problems if p not in ALLOWED_OVERLAPS]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "id"])
def test_example_cards_have_no_overlapping_text(example, lang: str) -> None:  # type: ignore[no-untyped-def]
    bad = {p: _layout_problems(example, p, lang) for p in example.producers}
    assert {p: v for p, v in bad.items() if v} == {}


@pytest.mark.parametrize("lang", ["en", "id"])
def test_long_actions_and_a_long_name_still_fit(monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    """The longest actions, as many as a card shows (cards._MAX_ACTIONS), and a long name:
    nothing overlaps, nothing leaves the page."""
    import sizecheck.cards as cards

    a = make_analysis(("UD Gradasi",), ("grading",), dimensions=("insole_length",))
    monkeypatch.setattr(cards, "action_texts",
                        lambda _f, _l, limit=None: LONG_ACTIONS[lang][:limit])  # fmt: skip
    assert _layout_problems(a, "UD Gradasi", lang) == []
    long_name = "Koperasi Pengrajin Sepatu dan Sandal Kulit Sentra Industri Kecil " * 2
    a = make_analysis((long_name,), ("drift",), dimensions=("insole_length",))
    assert _layout_problems(a, long_name, lang) == []


def test_overlap_check_sees_overlaps() -> None:
    from matplotlib.figure import Figure

    from sizecheck.plotting.layout import text_overlaps

    fig = Figure(figsize=(4, 3))
    fig.text(0.1, 0.5, "first text here")
    fig.text(0.15, 0.5, "second text")
    fig.text(0.9, 0.9, "off the page edge")
    problems = text_overlaps(fig)
    assert ("first text here", "second text") in problems
    assert ("off the page edge", "<outside page>") in problems


@pytest.mark.parametrize("lang", ["en", "id"])
def test_card_takes_the_largest_font_size_that_fits(lang: str) -> None:
    """The bisection of cards._fit_body picks what trying every size from the largest
    down picks: the first size at which the key numbers and actions fit with the charts
    (the densest when none does)."""
    from matplotlib.figure import Figure

    import sizecheck.cards as cards
    from sizecheck.plotting.style import house_style

    a = make_analysis()
    for producer in a.producers:
        finding = finding_for(a, producer)
        main = finding.headline
        with house_style():
            page = cards._Page(Figure(figsize=cards.A4_INCHES))
            top = cards._header(page, a, producer, finding, lang)
            floor = cards._footer(page, a, main, lang)
            charts = cards._charts(page, a, producer, main, lang)
            lines, todo, more = cards._card_lines(finding, lang)
            fits = []
            for n in range(len(cards._DENSITIES)):
                body = cards._write_body(page, charts, lines, todo, lang, n, top - floor,
                                         more=more)  # fmt: skip
                fits.append(
                    (body.chart_h is not None or charts is None)
                    and body.need_h <= top - floor + 1e-9
                )
                body.remove()
            expected = fits.index(True) if True in fits[:-1] else len(cards._DENSITIES) - 1
            chosen = cards._fit_body(page, charts, finding, lang, room=(top, floor))
        act_size = cards._DENSITIES[expected][0]
        assert all(num.get_fontsize() == act_size for num, _ in chosen.items), producer
        assert fits == sorted(fits), producer  # fitting only gets easier as fonts shrink


@pytest.mark.parametrize("lang", ["en", "id"])
def test_key_numbers_print_at_8_points_and_cut_lines_point_to_the_report(
    example, lang: str
) -> None:  # type: ignore[no-untyped-def]
    """A printed card's key numbers are at least 8 pt (they were 6.5 pt on long Indonesian
    cards); a card with fewer actions or key numbers than the finding says so, in its
    language, and the report has them all."""
    import sizecheck.cards as cards
    from sizecheck.findings import finding_lines
    from sizecheck.i18n import t
    from sizecheck.plotting.style import house_style

    note = t("card.more", lang)
    for producer in example.producers:
        finding = finding_for(example, producer)
        with house_style():
            fig = cards.card_figure(example, producer, lang=lang)
        texts = {txt.get_text(): txt for txt in fig.texts}
        keys = [txt for s, txt in texts.items() if s.startswith("• ")]
        assert keys, producer
        assert min(k.get_fontsize() for k in keys) >= 8.0, producer
        every = finding_lines(finding.headline, lang)
        cut = len(every) > len(keys) or len(finding.actions) > cards._MAX_ACTIONS
        shown = [s for s in texts if s.replace("\n", " ") == note]
        assert bool(shown) == cut, producer
