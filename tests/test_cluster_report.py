"""cluster_summary.csv in `sizecheck measure` (issue 19 item 2): written from
`Analysis.cluster` when a dimension has enough producers, else not written and said why."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sizecheck as sc
from sizecheck.cli import app
from sizecheck.pipeline import CLUSTER_MIN_PRODUCERS
from sizecheck.report_html import render_html

# The contract columns, copied from design.md ("cluster_summary.csv"): the independent
# source, so a change of the column constant in the code shows up here.
_DESIGN = (
    "dimension, n_producers, n_visits, between_sd_mm, between_ci_low_mm, between_ci_high_mm, "
    "within_sd_mm, visit_sd_mm, icc, icc_ci_low, icc_ci_high, share_missized, share_ci_low, "
    "share_ci_high, method"
)
CONTRACT = _DESIGN.split(", ")


@pytest.fixture(scope="module")
def example() -> sc.Analysis:
    return sc.analyse([sc.example_path()], synthetic=True)


@pytest.fixture(scope="module")
def example_frame() -> pd.DataFrame:
    return pd.read_csv(sc.example_path(), sep=";", decimal=",", skiprows=1)


def test_measure_writes_the_cluster_summary_it_computed(example, tmp_path):
    paths = sc.write_report(example, tmp_path, charts=False)
    assert tmp_path / "cluster_summary.csv" in paths
    written = pd.read_csv(tmp_path / "cluster_summary.csv")
    assert list(written.columns[: len(CONTRACT)]) == CONTRACT
    expected = example.cluster.summary
    assert written["dimension"].tolist() == expected["dimension"].tolist()
    assert written["n_producers"].tolist() == [len(example.producers)] * len(written)
    numbers = [c for c in CONTRACT if c not in ("dimension", "method")]
    np.testing.assert_allclose(
        written[numbers].to_numpy(float), expected[numbers].to_numpy(float), rtol=1e-12
    )
    summary = json.loads((tmp_path / "summary.json").read_text("utf-8"))
    assert summary["cluster"]["written"] is True
    assert summary["cluster"]["min_producers"] == CLUSTER_MIN_PRODUCERS
    assert [r["dimension"] for r in summary["cluster"]["summary"]] == written["dimension"].tolist()
    assert "cluster_summary.csv" in summary["outputs"]


def test_the_report_shows_the_cluster_table_from_the_same_numbers(example):
    html = render_html(example, lang="en")
    assert 'id="cluster-study"' in html
    row = example.cluster.summary.iloc[0]
    # the between-producer SD as the table writes it, with its interval
    shown = f"{row.between_sd_mm:.1f} ({row.between_ci_low_mm:.1f}–{row.between_ci_high_mm:.1f})"
    assert shown in html
    assert sc.plotting.plot_forest is not None
    html_id = render_html(example, lang="id")
    assert "Seberapa jauh produsen berbeda" in html_id


def test_the_forest_plot_is_drawn_for_each_dimension_of_the_cluster_summary(example):
    from sizecheck.report import cluster_charts

    forests = [dim for kind, dim in cluster_charts(example) if kind == "forest"]
    assert forests == sorted(example.cluster.summary["dimension"].astype(str))


def test_too_few_producers_no_file_and_the_terminal_and_summary_say_why(example_frame, tmp_path):
    two = example_frame[example_frame["Produsen"].isin(["UD Sumber Rejeki", "CV Medali Jaya"])]
    path = tmp_path / "two.csv"
    two.to_csv(path, index=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "cluster_summary.csv").write_text("mine\n")  # the user's: left alone
    result = CliRunner().invoke(app, ["measure", str(path), "--out", str(out), "--no-charts"])
    assert result.exit_code == 0, result.output
    assert (out / "cluster_summary.csv").read_text() == "mine\n"
    text = " ".join(result.output.split())
    assert "cluster_summary.csv not written" in text
    assert f"{CLUSTER_MIN_PRODUCERS} producers or more (at most 2)" in text
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["cluster"]["written"] is False
    assert set(summary["cluster"]["left_out"].values()) == {2}
    assert "not written" in summary["cluster"]["note"]


def test_an_earlier_runs_cluster_summary_is_removed_when_a_run_has_too_few(example_frame, tmp_path):
    out = tmp_path / "out"
    three = example_frame[example_frame["Produsen"].isin(
        ["UD Sumber Rejeki", "CV Medali Jaya", "UD Karya Trowulan"])]  # fmt: skip
    sc.write_report(sc.analyse(three), out, charts=False)
    assert (out / "cluster_summary.csv").exists()
    sc.write_report(sc.analyse(three[three["Produsen"] != "CV Medali Jaya"]), out, charts=False)
    assert not (out / "cluster_summary.csv").exists()


def test_a_dimension_with_too_few_producers_is_left_out_and_named(example_frame):
    df = example_frame.copy()
    keep = df["Produsen"].isin(["UD Sumber Rejeki", "CV Medali Jaya"])
    df.loc[~keep, "Lingkar Ball (mm)"] = np.nan  # ball girth at two producers only
    a = sc.analyse(df)
    assert "last_ball_girth" not in set(a.cluster.summary["dimension"])
    assert a.cluster_left_out == {"last_ball_girth": 2}
    assert "last_ball_girth (2)" in a.cluster_note


def test_no_cluster_when_asked(example_frame):
    a = sc.analyse(example_frame, cluster=False)
    assert a.cluster is None and a.cluster_left_out == {}


def test_the_cluster_model_fitted_in_a_worker_process_gives_the_same_numbers(
    example_frame, monkeypatch
):
    # a large file's model is fitted in a second process (only CLUSTER_COLUMNS sent);
    # the example is small, so the row threshold is lowered to send it there
    import sizecheck.workers

    started: list[int] = []
    real_worker = sizecheck.workers.one_worker

    def counted_worker():
        started.append(1)
        return real_worker()

    monkeypatch.setattr(sizecheck.workers, "one_worker", counted_worker)
    monkeypatch.setattr(sc.pipeline, "CLUSTER_PROCESS_MIN_ROWS", 0)
    df = example_frame.copy()
    keep = df["Produsen"].isin(["UD Sumber Rejeki", "CV Medali Jaya"])
    df.loc[~keep, "Lingkar Ball (mm)"] = np.nan  # a dimension left out: its note too
    here = sc.analyse(df, jobs=1)
    assert started == []
    beside = sc.analyse(df, jobs=2)
    assert started == [1]
    pd.testing.assert_frame_equal(beside.cluster.summary, here.cluster.summary)
    pd.testing.assert_frame_equal(beside.cluster.offsets, here.cluster.offsets)
    assert (beside.cluster_note, beside.cluster_left_out) == (here.cluster_note,
                                                              here.cluster_left_out)  # fmt: skip
    pd.testing.assert_frame_equal(beside.producer_summary, here.producer_summary)


def test_an_error_in_the_statistics_is_raised_while_the_worker_fits(example, monkeypatch):
    # the worker was started, the error comes through, and the worker is ended with it
    # (not left fitting, nor waited for at exit: review, session 7)
    import multiprocessing

    import sizecheck.workers

    monkeypatch.setattr(sc.pipeline, "CLUSTER_PROCESS_MIN_ROWS", 0)
    started = []
    real_worker = sizecheck.workers.one_worker

    def counted_worker():
        started.append(real_worker())
        return started[-1]

    monkeypatch.setattr(sizecheck.workers, "one_worker", counted_worker)

    def broken(*args, **kwargs):
        raise RuntimeError("statistics failed")

    monkeypatch.setattr(sc.pipeline, "_per_producer", broken)
    before = set(multiprocessing.active_children())
    with pytest.raises(RuntimeError, match="statistics failed"):
        sc.pipeline.analyse_deviations(example.deviations, table=example.table, jobs=2)
    assert len(started) == 1
    assert set(multiprocessing.active_children()) - before == set()


def test_the_cluster_path_does_not_need_statsmodels(monkeypatch, example):
    # statsmodels is a test dependency only (the independent check of the REML fit)
    for name in [m for m in sys.modules if m == "statsmodels" or m.startswith("statsmodels.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "statsmodels", None)  # import statsmodels -> ImportError
    with pytest.raises(ImportError):
        import statsmodels  # noqa: F401
    again = sc.pipeline.analyse_deviations(example.deviations, table=example.table)
    pd.testing.assert_frame_equal(again.cluster.summary, example.cluster.summary)


def test_summary_json_records_how_the_numbers_were_made(example, tmp_path):
    # issue 19 item 8: what a methods section needs, from summary.json alone
    import importlib.metadata as md
    import platform

    import scipy

    from sizecheck.drift import DEFAULT_RULES, RULES

    sc.write_report(example, tmp_path, charts=False)
    summary = json.loads((tmp_path / "summary.json").read_text("utf-8"))
    methods, env = summary["methods"], summary["environment"]
    assert methods["confidence_level"] == 0.95
    assert [r["code"] for r in methods["drift_rules"]] == list(DEFAULT_RULES)
    assert methods["drift_rules"][0]["description"] == RULES[DEFAULT_RULES[0]].description
    change = methods["drift_change_test"]
    assert change["alpha"] == example.thresholds.alpha and change["min_points"] == 4
    assert change["drift_step_share"] == example.thresholds.drift_step_share
    assert methods["thresholds"] == summary["thresholds"]
    assert methods["multiple_comparisons"] == "none"
    from sizecheck.stats import BOOTSTRAP_REPLICATES, BOOTSTRAP_SEED

    # the only random numbers measure draws: the change-point bootstrap's, from a fixed seed
    assert methods["seeds"] == {"change_point_bootstrap": BOOTSTRAP_SEED}
    assert methods["bootstrap_replicates"] == BOOTSTRAP_REPLICATES
    assert methods["cluster_model"] == sorted(set(example.cluster.summary["method"]))
    assert env["python"] == platform.python_version()
    assert env["numpy"] == np.__version__
    assert env["pandas"] == pd.__version__
    assert env["scipy"] == scipy.__version__
    assert env["sizecheck"] == md.version("sizecheck") == summary["tool"]["version"]
    # the libraries that read the files and write the workbook, summary.xlsx
    assert env["openpyxl"] == md.version("openpyxl")
    assert env["xlsxwriter"] == md.version("xlsxwriter")


def test_summary_json_records_the_rules_asked_for(example_frame, tmp_path):
    a = sc.analyse(example_frame, drift_rules=["n1", "n2"], cluster=False)
    sc.write_report(a, tmp_path, charts=False)
    summary = json.loads((tmp_path / "summary.json").read_text("utf-8"))
    assert [r["code"] for r in summary["methods"]["drift_rules"]] == ["n1", "n2"]
    assert summary["methods"]["cluster_model"] == []
    assert summary["inputs"][0]["kind"] == "frame"


def test_the_report_says_why_there_is_no_cluster_table(example_frame):
    two = example_frame[example_frame["Produsen"].isin(["UD Sumber Rejeki", "CV Medali Jaya"])]
    a = sc.analyse(two)
    assert a.cluster is None
    html = render_html(a, lang="en")
    assert 'id="cluster-study"' not in html
    assert f"measured at {CLUSTER_MIN_PRODUCERS} producers or more" in html
