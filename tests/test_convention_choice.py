"""The size convention a person is told is the model-based ``choice`` (issue 19 item 4):
the report and the workbook read it back, and none claims a fit it does not make."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import sizecheck as sc
from sizecheck.i18n import t


@pytest.fixture(scope="module")
def minus_half(tmp_path_factory: pytest.TempPathFactory) -> tuple[sc.Analysis, Path]:
    """A producer growing 0.5 mm per size too little (6.17 instead of 6.67 mm), right at
    41: `grading` by the verdict; Paris point has the lowest RMS (1.3 mm, inside the
    ±1.5 mm tolerance) but its own line explains the lengths far better."""
    rng = np.random.default_rng(5)
    size = 37 + np.arange(54) % 9
    dev = -0.5 * (size - 41) + rng.normal(0, 0.4, size.size)
    path = tmp_path_factory.mktemp("minus") / "minus.csv"
    pd.DataFrame(
        {"producer": "UD Minus", "size": size, "date": "2026-03-02",
         "last_length": np.round(size * 20 / 3 + dev, 1), "no": np.arange(size.size)}
    ).to_csv(path, index=False)  # fmt: skip
    return sc.analyse([path]), path.parent


def test_the_lowest_rms_is_not_the_choice(minus_half: tuple[sc.Analysis, Path]) -> None:
    a, _ = minus_half
    assert a.producer_summary["verdict"].tolist() == ["grading"]
    c = a.conventions.set_index("convention")
    # the old finder: Paris point "best" and "fits"; the model: the own line by far
    assert c.loc["paris_last", "best"] and c.loc["paris_last", "fits"]
    assert c.loc["paris_last", "own_line_delta_aic"] < -100
    assert set(c["choice"]) == {"no_convention", ""}


@pytest.mark.parametrize("lang", ["en", "id"])
def test_report_and_workbook_say_the_choice(
    minus_half: tuple[sc.Analysis, Path], tmp_path: Path, lang: str
) -> None:
    a, _ = minus_half
    sc.write_report(a, tmp_path, lang=lang, charts=True, jobs=1)
    page = html.unescape((tmp_path / "report.html").read_text("utf-8"))
    section = page[page.index(t("report.conventions_note", lang)) :]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", section)[:4]
    closest = t("convention.paris_last", lang)
    assert cells[1] == t("report.conv_no_convention", lang, closest=closest)
    # no claim that Paris point fits this producer
    assert closest not in [c for c in cells if c != cells[1]]
    book = openpyxl.load_workbook(tmp_path / {"en": "summary.xlsx", "id": "ringkasan.xlsx"}[lang])
    ws = book[t("workbook.sheet.conventions", lang)]
    head = [c.value for c in ws[1]]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    csv = pd.read_csv(tmp_path / "conventions.csv", keep_default_na=False)
    choice = [r[head.index(t("workbook.col.choice", lang))] for r in rows]
    words = {"": None, "no_convention": t("convention.choice_no_convention", lang)}
    assert choice == [words[v] for v in csv["choice"]]
    delta = [r[head.index(t("workbook.col.delta_aic", lang))] for r in rows]
    np.testing.assert_allclose(np.array(delta, dtype=float), csv["delta_aic"], atol=6e-4)  # 3 dp
    assert t("workbook.col.best", lang) in head  # kept, headed as what it is: lowest RMS


def test_undecided_names_every_candidate_and_claims_none() -> None:
    from sizecheck.report_html import _conventions

    rows = pd.DataFrame(
        {"producer": "A", "dimension": "last_length",
         "convention": ["paris_last", "paris_foot+15", "paris_shifted"],
         "description": "", "mean_residual_mm": [0.1, -0.2, 0.0],
         "rms_residual_mm": [0.5, 0.6, 0.5], "fitted_shift_mm": [np.nan, np.nan, 0.1],
         "fits": True, "best": [True, False, False], "delta_aic": [0.0, 1.2, 5.0],
         "choice": ["undecided", "undecided", ""]}
    )  # fmt: skip
    (row,) = _conventions(rows, "en")
    names = f"{t('convention.paris_last', 'en')}; " + t(
        "convention.paris_foot", "en", allowance="15.0"
    )
    assert row[1] == t("report.conv_undecided", "en", names=names)
