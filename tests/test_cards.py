"""Drift cards (one A4 page each) and write_visuals: safe names, nothing outside --out."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from _visual_factory import HOSTILE_NAMES, make_analysis

from sizecheck.cards import render_card
from sizecheck.findings import actions
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
    assert "too long" in actions(a, "CV Panjang", lang="en")[0]
    grading = actions(a, "UD Gradasi", lang="en")
    assert "grow" in grading[0] and "last supplier" in grading[0]
    assert not any("too long" in x or "too short" in x for x in grading)  # no shift advice
    assert "since about" in actions(a, "CV Geser", lang="en")[0]
    assert "Measure at least" in actions(a, "Pak Kecil", lang="en")[0]
    assert "match the reference" in actions(a, "UD Rata", lang="en")[0]
    assert "terlalu panjang" in actions(a, "CV Panjang", lang="id")[0]
    assert len(actions(a, "UD Gradasi", lang="en")) <= 3


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
    assert calls[-1] == (len(names) + 2, len(names) + 2)
    assert [d for d, _ in calls] == list(range(1, len(calls) + 1))
    for p in paths:
        if p.suffix == ".pdf":
            assert len(PAGE.findall(p.read_bytes())) == 1


@pytest.mark.slow
def test_write_visuals_in_worker_processes(tmp_path: Path) -> None:
    names = tuple(f"P{i}" for i in range(8))
    a = make_analysis(names, ("conforming",) * 8, dimensions=("insole_length",))
    paths = write_visuals(a, tmp_path / "out", lang="id", jobs=2, dpi=30)
    assert len([p for p in paths if p.suffix == ".pdf"]) == 8
    serial = write_visuals(a, tmp_path / "out2", lang="id", jobs=1, dpi=30)
    assert [p.relative_to(tmp_path / "out2") for p in serial] == [
        p.relative_to(tmp_path / "out") for p in paths
    ]
