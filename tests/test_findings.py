"""What a producer is told is true: one finding, the same numbers everywhere (issue 11).

The bundled example plants every kind of producer behaviour (data/examples/README.md):
an offset, a grading error, scatter, a step in time, a mismatched pair of lasts, two
models of which one is off, and too few shoes. These tests run ``sizecheck measure`` on it
once and read every output back — producer_summary.csv, corrections.csv, summary.json,
the terminal, report.html and the card PDFs (as text) — and check that each shows the
numbers of the producer's finding; and that the corrections, applied to the producers'
own shoes, leave no offset or grading error.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sizecheck as sc
from sizecheck.cli import app
from sizecheck.compare import compare
from sizecheck.findings import action_texts, finding_lines, headline_text
from sizecheck.i18n import format_date, format_number
from sizecheck.pipeline import analyse_deviations
from sizecheck.report import safe_slug

runner = CliRunner()


@pytest.fixture(scope="module")
def example() -> sc.Analysis:
    return sc.analyse([sc.example_path()], synthetic=True)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("findings")
    result = runner.invoke(
        app, ["measure", "--example", "--out", str(out), "--lang", "en"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _key(d: dict[str, Any]) -> tuple[str, str, str]:
    return d["producer"], d["model"], d["dimension"]


def test_one_finding_per_producer_covering_every_dimension(example: sc.Analysis) -> None:
    assert sorted(example.findings) == example.producers
    dims = set(example.producer_summary["dimension"])
    for f in example.findings.values():
        assert {d.dimension for d in f.dimensions} == dims
        assert f.headline is not None
    # the headline is the most serious verdict over all dimensions, and names it
    wates = example.findings["UD Wates Jaya"]  # only its last length is off
    assert wates.headline is not None and wates.headline.dimension == "last_length"
    assert "pair_mismatch" in wates.headline.flags
    # a producer of two models is told which one is off
    mojo = example.findings["CV Mojo Kembar"]
    assert mojo.headline is not None and mojo.headline.model == "Safety MK-8"
    assert all("Safety MK-8" in a for a in action_texts(mojo, "en"))


def test_the_size_as_it_is_now(example: sc.Analysis) -> None:
    sooko = example.findings["CV Sooko Safety"]
    d = sooko.dimension("insole_length")
    assert d is not None and d.change is not None
    # planted: +3 mm from 1 May; the first visit after it is dated
    assert pd.Timestamp("2026-05-01") <= d.change.date <= pd.Timestamp("2026-06-01")
    assert d.change.step_mm == pytest.approx(3.0, abs=0.6)
    assert d.current.mean_mm == pytest.approx(3.0, abs=0.6)
    assert abs(d.change.before.mean_mm) < 0.6
    # every piece of advice uses the current level, never the whole-period mean
    whole = format_number(d.whole.mean_mm, "en", 1)
    now = format_number(d.current.mean_mm, "en", 1)
    first = action_texts(sooko, "en")[0]
    assert f"now +{now} mm" in first and f" {now} mm shorter" in first
    assert whole != now and f" {whole} mm" not in first
    # the whole-period shares are labelled as such
    assert any(line.startswith("Over the whole period") for line in finding_lines(d, "en"))


def test_grading_is_shown_by_its_ends_not_its_mean(example: sc.Analysis) -> None:
    kt = example.findings["UD Karya Trowulan"]
    d = kt.dimension("insole_length")
    assert d is not None and d.flags == ("grading",)
    lo, hi = d.corrections[0], d.corrections[-1]
    assert lo.correction_mm < -5 and hi.correction_mm > 5  # planted: 5 mm per size
    text = headline_text(kt, "en")
    assert f"size {lo.size:g}: {format_number(-lo.correction_mm, 'en', 1, signed=True)} mm" in text
    assert "on size" not in text
    assert d.producer_step_mm == pytest.approx(5.0, abs=0.3)


def test_scatter_states_the_expected_and_the_observed_share(example: sc.Analysis) -> None:
    d = example.findings["Sepatu Puri Makmur"].dimension("insole_length")
    assert d is not None and d.flags == ("scatter",)
    lines = " ".join(finding_lines(d, "en"))
    assert f"about {format_number(d.pct_out_expected, 'en', 0)}% of shoes fall outside" in lines
    assert f"{format_number(d.pct_in_spec, 'en', 0)}% in spec" in lines


def test_too_little_data_gets_no_capability_and_says_how_much_more(
    example: sc.Analysis,
) -> None:
    ps = example.producer_summary
    thin = ps[ps["producer"] == "Bengkel Pak Darmo"]
    assert (thin["verdict"] == "insufficient_data").all()
    assert thin[["cpk", "cpk_ci_low", "cpk_ci_high", "ppk"]].isna().all().all()
    d = example.findings["Bengkel Pak Darmo"].dimension("insole_length")
    assert d is not None and d.more_n == 8 - d.n
    assert (
        f"Measure at least {d.more_n} more shoes"
        in action_texts(example.findings["Bengkel Pak Darmo"], "en")[0]
    )


def test_every_output_shows_the_same_numbers(run: tuple[Path, str]) -> None:
    out, terminal = run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = {_key(r): r for r in _csv(out / "producer_summary.csv")}
    corrections = _csv(out / "corrections.csv")
    report = _flat(html.unescape(re.sub(r"<[^>]+>", " ", (out / "report.html").read_text("utf-8"))))
    terminal = _flat(terminal)
    for producer, f in summary["findings"].items():
        for d in f["dimensions"] + f["models"]:
            row = rows[_key(d)]
            # summary.json and producer_summary.csv: the same figures
            assert float(row["current_bias_mm"]) == pytest.approx(d["current"]["mean_mm"])
            assert int(row["current_n"]) == d["current"]["n"]
            assert row["verdict"] == d["verdict"]
            mine = [c for c in corrections if _key(c) == _key(d)]
            assert [float(c["correction_mm"]) for c in mine] == pytest.approx(
                [c["correction_mm"] for c in d["corrections"]], nan_ok=True
            )
            if d["change"] is not None:
                assert row["current_since"] == d["change"]["date"][:10]
                assert float(row["step_mm"]) == pytest.approx(d["change"]["step_mm"])
        head = f["headline"]
        if head["verdict"] in ("conforming", "insufficient_data"):
            continue
        main = next(
            d for d in f["dimensions"] + f["models"] if (d["dimension"], d["verdict"]) ==
            (head["dimension"], head["verdict"])
        )  # fmt: skip
        # the numbers the headline quotes, as a person reads them
        flags = head["verdict"].split("+")
        if "grading" in flags:
            lo, hi = main["corrections"][0], main["corrections"][-1]
            shown = [format_number(-c["correction_mm"], "en", 1, signed=True) for c in (lo, hi)]
        elif "offset" in flags or "drift" in flags:
            shown = [format_number(main["current"]["mean_mm"], "en", 1, signed=True)]
            if main["change"] is not None:
                shown.append(format_date(main["change"]["date"], "en"))
        elif "pair_mismatch" in flags:
            shown = [format_number(main["pair_mismatch"]["value"], "en", 1) + " mm"]
        else:  # scatter: the spread and the share it puts out
            shown = [
                format_number(main["sd_within_mm"], "en", 1) + " mm",
                format_number(main["pct_out_expected"], "en", 0) + "%",
            ]
        for text in shown:
            assert text in terminal, (producer, text)
            assert text in report, (producer, text)
        if shutil.which("pdftotext"):
            card = out / "cards" / f"{safe_slug(producer, set())}.pdf"
            pdf = subprocess.run(
                ["pdftotext", str(card), "-"], capture_output=True, text=True, check=True
            )
            for text in shown:
                assert text in _flat(pdf.stdout), (producer, text)


def test_report_shows_every_action_and_the_corrections(run: tuple[Path, str]) -> None:
    out, _ = run
    page = _flat(html.unescape((out / "report.html").read_text("utf-8")))
    analysis = sc.analyse([sc.example_path()], synthetic=True)
    for f in analysis.findings.values():
        for text in action_texts(f, "en"):
            assert _flat(text) in page
    assert "Corrections per size" in page


def _apply(measurements: pd.DataFrame, corrections: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Each shoe of the current period plus its size's correction (earlier shoes dropped)."""
    m = measurements.copy()
    for col in by:
        m[col] = m[col].astype("str")
    c = corrections.copy()
    for col in by:
        c[col] = c[col].astype("str")
    merged = m.merge(
        c[[*by, "size", "correction_mm", "since"]], on=[*by, "size"], how="left", validate="m:1"
    )
    since = pd.to_datetime(merged["since"])
    keep = since.isna() | (merged["date"] >= since)
    merged = merged[keep & merged["correction_mm"].notna()].copy()
    merged["value_mm"] = merged["value_mm"] + merged["correction_mm"]
    return merged[list(measurements.columns)].reset_index(drop=True)


@pytest.mark.parametrize("level", ["pooled", "model"])
def test_corrections_applied_leave_no_offset_or_grading(example: sc.Analysis, level: str) -> None:
    # the corrections of corrections.csv added to each producer's own shoes (since the
    # last change), and the analysis run again: no offset, no grading error left
    corr = example.corrections
    if level == "pooled":
        corr = corr[corr["model"] == ""].drop(columns="model")
        by = ["producer", "dimension"]
    else:
        corr = corr[corr["producer"] == "CV Mojo Kembar"]
        corr = corr[corr["model"] != ""]
        by = ["producer", "model", "dimension"]
    fixed = _apply(example.measurements, corr, by)
    again = analyse_deviations(compare(fixed, example.table).deviations, table=example.table)
    ps = again.producer_summary
    ps = ps[ps["model"] == ""] if level == "pooled" else ps[ps["model"] != ""]
    judged = ps[ps["verdict"] != "insufficient_data"]
    assert len(judged) >= (20 if level == "pooled" else 6)
    flagged = judged[judged["verdict"].str.contains("offset|grading")]
    assert flagged.empty, flagged[["producer", "model", "dimension", "verdict"]]
    # ... while nothing else was touched: the mismatched pair and the scatter remain
    if level == "pooled":
        verdict = ps.set_index(["producer", "dimension"])["verdict"]
        assert "pair_mismatch" in verdict[("UD Wates Jaya", "last_length")]
        assert "scatter" in verdict[("Sepatu Puri Makmur", "insole_length")]
    assert np.isfinite(judged["bias_mm"]).all()


def test_judged_lots_reach_every_output(tmp_path: Path) -> None:
    """A lot the sampling plan rejects is an action (first: hold the lot), in the report's
    lot table and in the terminal, with the numbers of lots.csv (tests/data/lots.csv: one
    rejected and one under-sampled lot, checked against sampling.judge_lots in
    tests/test_sampling.py)."""
    from sizecheck.report_html import render_html

    data = Path(__file__).parent / "data" / "lots.csv"
    out = tmp_path / "out"
    args = ["measure", str(data), "--aql", "2.5", "--lot-size", "180", "--no-charts"]
    result = runner.invoke(app, [*args, "-o", str(out), "--lang", "id"])
    assert result.exit_code == 0, result.output
    lots = pd.read_csv(out / "lots.csv", dtype={"lot": str})
    rejected = lots[lots["decision"] == "reject"].iloc[0]
    short = lots[lots["decision"] == "under_sampled"].iloc[0]
    a = sc.analyse([data], lot_plan=sc.sampling_plan(180, 2.5))
    finding = a.findings[str(rejected["producer"])]
    texts = action_texts(finding, "id")
    assert texts[0].startswith(f"Lot {rejected['lot']} ditolak"), texts
    assert f"{int(rejected['n_out'])} dari {int(rejected['n_measured'])} sepatu" in texts[0]
    short_texts = action_texts(a.findings[str(short["producer"])], "en")
    assert any(
        f"Lot {short['lot']} was not judged: {int(short['n_measured'])} shoes measured" in x
        and f"the plan needs {int(short['sample_size_required'])}" in x
        for x in short_texts
    ), short_texts
    page = html.unescape(re.sub(r"<[^>]+>", " ", render_html(a, lang="id")))
    page = " ".join(page.split())
    assert " ".join(texts[0].split()) in page
    assert "Lot dan rencana sampling" in page and "Ukur 32 sepatu dari lot ini" in page
    assert f"{rejected['lot']} " in page and "ditolak" in page
    # the terminal counts lots as the findings do (not lots.csv's lot × dimension rows)
    terminal = " ".join(result.output.split())
    assert "Lot yang dinilai: 4 dari 2 produsen; diterima 2, ditolak 1" in terminal
    assert "sepatu yang diukur kurang 1" in terminal
    judged = json.loads((out / "summary.json").read_text(encoding="utf-8"))["lots"]
    assert judged["judged_lots"] == {"n": 4, "accepted": 2, "rejected": 1, "short": 1}


def test_a_lot_is_counted_once_and_rejected_when_one_measurement_is() -> None:
    from sizecheck.findings import LotResult, lot_counts

    def lot(name: str, dim: str, decision: str) -> LotResult:
        return LotResult(name, dim, decision, n_measured=32, n_out=0, sample_size=32)

    lots = [
        lot("A", "insole_length", "accept"), lot("A", "last_ball_girth", "reject"),
        lot("B", "insole_length", "under_sampled"), lot("B", "last_length", "reject"),
        lot("C", "insole_length", "under_sampled"), lot("C", "last_length", "accept"),
        lot("D", "insole_length", "accept"), lot("D", "last_length", "accept"),
    ]  # fmt: skip
    assert lot_counts(lots) == {"n": 4, "accepted": 1, "rejected": 2, "short": 1}
