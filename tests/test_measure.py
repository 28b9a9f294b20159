"""End to end: `sizecheck measure` on the bundled synthetic example and on hostile cases."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sizecheck.cli import app
from sizecheck.examples import example_path

runner = CliRunner()

# The contract columns, copied from design.md ("`sizecheck measure` outputs"): the
# independent source, so a change of a column constant in the code shows up here.
CONTRACT = {
    "deviations.csv": "source, row, sample_id, producer, model, size_label, size, foot, pair, "
    "date, lot, operator, dimension, value_mm, nominal_mm, deviation_mm, deviation_sizes, "
    "lower_mm, upper_mm, status",
    "rejects.csv": "source, row, column, value, code, message",
    "producer_summary.csv": "producer, model, dimension, n, n_sizes, bias_mm, bias_ci_low_mm, "
    "bias_ci_high_mm, bias_sizes, offset_mm, grade_error_mm_per_size, grade_error_ci_low, "
    "grade_error_ci_high, sd_within_mm, sd_overall_mm, pct_in_spec, pct_missized, "
    "pct_out_expected, cpk, cpk_ci_low, cpk_ci_high, ppk, pair_mismatch_mm, "
    "pair_mismatch_ci_low_mm, pair_mismatch_ci_high_mm, drift_signals, step_mm, current_since, "
    "current_n, current_bias_mm, current_ci_low_mm, current_ci_high_mm, verdict",
    "corrections.csv": "producer, model, dimension, size, n, nominal_mm, mean_mm, correction_mm, "
    "correction_sizes, ci_low_mm, ci_high_mm, since",
    "size_summary.csv": "producer, dimension, size, n, mean_mm, nominal_mm, bias_mm, sd_mm, "
    "effective_size",
}

# The planted behaviours of the example (data/examples/README.md), per producer, for the
# two length dimensions (all models pooled); girth is on nominal for everyone.
PLANTED = {
    "UD Sumber Rejeki": {"conforming"},
    "CV Medali Jaya": {"offset"},
    "UD Karya Trowulan": {"grading"},  # right at 41: judged where its own sizes lie
    "CV Sooko Safety": {"offset", "drift"},  # +3 mm since May: too long now
    "UD Bintang Kecil": {"offset"},
    "Bengkel Pak Darmo": {"insufficient_data"},
}


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    result = runner.invoke(app, ["measure", "--example", "--no-charts", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_contract_files_and_columns(report_dir: Path) -> None:
    for name, columns in CONTRACT.items():
        with (report_dir / name).open(encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        expected = columns.split(", ")
        assert header[: len(expected)] == expected, name
        if name != "size_summary.csv":  # size_summary may add columns after the contract's
            assert len(header) == len(expected), name
    for name in ("comparison.csv", "conventions.csv", "summary.json"):
        assert (report_dir / name).is_file()


def test_planted_verdicts_are_found(report_dir: Path) -> None:
    rows = _read(report_dir / "producer_summary.csv")
    pooled = [r for r in rows if not r["model"]]
    verdicts = {(r["producer"], r["dimension"]): set(r["verdict"].split("+")) for r in pooled}
    for producer, expected in PLANTED.items():
        for dim in ("insole_length", "last_length"):
            assert verdicts[(producer, dim)] == expected, (producer, dim)
    # a mismatched pair of lasts: a pair mismatch, not scatter
    assert verdicts[("UD Wates Jaya", "last_length")] == {"pair_mismatch"}
    assert verdicts[("UD Wates Jaya", "insole_length")] == {"conforming"}
    # two models, one of them 4 mm long: each model judged on its own
    by_model = {
        (r["producer"], r["model"], r["dimension"]): set(r["verdict"].split("+"))
        for r in rows
        if r["model"]
    }
    for dim in ("insole_length", "last_length"):
        assert by_model[("CV Mojo Kembar", "Pantofel MK-1", dim)] == {"conforming"}
        assert by_model[("CV Mojo Kembar", "Safety MK-8", dim)] == {"offset"}
    # scatter was planted in insole cutting only
    assert verdicts[("Sepatu Puri Makmur", "insole_length")] == {"scatter"}
    assert verdicts[("Sepatu Puri Makmur", "last_length")] == {"conforming"}
    for producer in PLANTED:
        if producer != "Bengkel Pak Darmo":
            assert verdicts[(producer, "last_ball_girth")] == {"conforming"}


def test_every_row_is_used_or_rejected(report_dir: Path) -> None:
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    acc = summary["accounting"]
    assert acc["rows_read"] == acc["rows_used"] + acc["rows_rejected"]
    assert acc["cells_read"] == acc["cells_used"] + acc["cells_rejected"]
    # Independent count: the example file has one line per physical row.
    lines = example_path().read_text(encoding="utf-8").splitlines()
    assert acc["rows_read"] == len(lines) - 1  # the header line is not a row read
    used = {int(r["row"]) for r in _read(report_dir / "deviations.csv")}
    rejected_rows = {int(r["row"]) for r in _read(report_dir / "rejects.csv")}
    assert len(used) == acc["rows_used"]
    every_line = set(range(1, len(lines) + 1)) - {2}  # line 2 is the header
    assert every_line <= used | rejected_rows
    assert not used & {1, 2}  # title and header never become data


def test_rejects_name_the_planted_damage(report_dir: Path) -> None:
    codes = {(int(r["row"]), r["code"]) for r in _read(report_dir / "rejects.csv")}
    lines = example_path().read_text(encoding="utf-8").splitlines()
    by_text = {i + 1: line for i, line in enumerate(lines)}

    def row_of(fragment: str) -> int:
        return next(n for n, line in by_text.items() if fragment in line)

    assert (1, "skipped_title") in codes
    assert (row_of("koma terlewat"), "implausible") in codes
    assert (row_of("produsen kosong"), "missing_producer") in codes
    assert (row_of("ukuran tidak jelas"), "unreadable_size") in codes
    assert (row_of("acuan rusak"), "not_a_number") in codes
    assert (row_of("Rata-rata"), "skipped_summary") in codes
    producers = {r["producer"] for r in _read(report_dir / "deviations.csv")}
    assert not {"Rata-rata", "Mengetahui,", "Kepala UPT", ""} & producers


def test_deviation_is_value_minus_nominal(report_dir: Path) -> None:
    d = pd.read_csv(report_dir / "deviations.csv")
    lengths = d[d["dimension"].isin(["insole_length", "last_length"])]
    # The millimetre columns are written to 6 decimals (README, "Outputs"): each value is
    # within 0.5e-6 mm of the exact one, a difference of two within 1e-6 mm.
    # Independent: Paris point nominal = size x 20/3 (domain.md).
    pd.testing.assert_series_equal(
        lengths["nominal_mm"], lengths["size"] * 20 / 3, check_names=False, atol=0.5e-6, rtol=0
    )
    pd.testing.assert_series_equal(
        d["deviation_mm"], d["value_mm"] - d["nominal_mm"], check_names=False, atol=1.5e-6, rtol=0
    )
    text = (report_dir / "deviations.csv").read_text(encoding="utf-8")
    assert "2.1666666" not in text and "33333333" not in text  # no float noise digits


def test_summary_json_provenance(report_dir: Path) -> None:
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["synthetic_data"] is True
    assert summary["table"]["name"] == "paris-point"
    assert summary["table"]["status"] == "derived"
    assert "20/3" in summary["table"]["source"]
    (inp,) = summary["inputs"]
    assert inp["sha256"] == hashlib.sha256(example_path().read_bytes()).hexdigest()
    assert summary["tool"]["version"]
    # the +3 mm step of CV Sooko Safety is one change (its rule signals are that change)
    changes = [s for s in summary["drift_shifts"] if s["changed"]]
    assert {(s["producer"], s["dimension"]) for s in changes} == {
        ("CV Sooko Safety", "insole_length"),
        ("CV Sooko Safety", "last_length"),
    }
    assert summary["drift_signals"] == []


def test_strict_exits_1_when_a_producer_is_not_conforming(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["measure", "--example", "--no-charts", "--strict", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1


@pytest.mark.parametrize(
    "args",
    [
        ["measure", "--example", "--table", "no-such-table"],
        ["measure", "does-not-exist.csv"],
        ["measure"],
        ["measure", "--example", "--lang", "fr"],
        ["measure", "--example", "--rules", "we9"],
        ["measure", "--example", "--deviations", "xlsx"],
    ],
)
def test_bad_usage_exits_2_with_one_line(args: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, [*args, "--no-charts", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_input_never_overwritten_and_unchanged(tmp_path: Path) -> None:
    data = tmp_path / "deviations.csv"  # an input that shares an output's name
    shutil.copy(example_path(), data)
    before = data.read_bytes()
    result = runner.invoke(app, ["measure", str(data), "--no-charts", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert data.read_bytes() == before
    out = tmp_path / "out"
    result = runner.invoke(app, ["measure", str(data), "--no-charts", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert data.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deviations.csv", "out"]


def test_real_subprocess_run(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sizecheck", "measure", "--example", "--no-charts", "--out", "r"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "SYNTHETIC" in proc.stdout
    assert (tmp_path / "r" / "producer_summary.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_cli_threshold_defaults_are_the_library_defaults() -> None:
    import inspect

    from sizecheck.cli import measure
    from sizecheck.stats import DEFAULT_THRESHOLDS

    params = inspect.signature(measure).parameters
    assert params["min_n"].default == DEFAULT_THRESHOLDS.min_n
    assert params["alpha"].default == DEFAULT_THRESHOLDS.alpha
    assert params["min_sizes"].default == DEFAULT_THRESHOLDS.min_sizes_for_grading
    assert params["scatter_share"].default == DEFAULT_THRESHOLDS.scatter_max_share
    assert params["drift_signals"].default == DEFAULT_THRESHOLDS.drift_min_signals
    assert params["drift_step"].default == DEFAULT_THRESHOLDS.drift_step_share


def test_thresholds_are_settable_from_the_cli(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["measure", "--example", "--no-charts", "--min-n", "500", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    verdicts = {r["verdict"] for r in _read(tmp_path / "producer_summary.csv")}
    assert verdicts == {"insufficient_data"}
    bad = runner.invoke(app, ["measure", "--example", "--alpha", "2", "--out", str(tmp_path)])
    assert bad.exit_code == 2


def test_no_usable_row_is_unusable_input(tmp_path: Path) -> None:
    data = tmp_path / "outside.csv"
    data.write_text("produsen;ukuran;panjang insole\nUD A;52;346,7\nUD A;53;353,3\n", "utf-8")
    result = runner.invoke(app, ["measure", str(data), "--no-charts", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "size_outside_table" in result.output


def test_rerun_keeps_the_users_own_files(tmp_path: Path) -> None:
    """Files sizecheck did not write are never removed, even where its own would go
    (issue 18: a --no-charts run deleted them by file pattern)."""
    out = tmp_path / "o"
    mine = {
        "cards/kontrak/old-producer.pdf": b"%PDF mine",
        "charts/2025/ladder.png": b"png",
        "report.html": b"my report",
        "notes.txt": b"mine",
    }
    for name, data in mine.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    for _ in range(2):  # a first run and a rerun
        result = runner.invoke(app, ["measure", "--example", "--no-charts", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert {n: (out / n).read_bytes() for n in mine} == mine
        assert "report.html" not in result.output  # the report is not sizecheck's


def test_summary_inputs_use_the_row_source_labels(tmp_path: Path) -> None:
    for month in ("maret", "april"):
        (tmp_path / month).mkdir()
        shutil.copy(example_path(), tmp_path / month / "qa.csv")
    out = tmp_path / "o"
    files = [str(tmp_path / m / "qa.csv") for m in ("maret", "april")]
    result = runner.invoke(app, ["measure", *files, "--no-charts", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    labels = {i["source"] for i in summary["inputs"]}
    assert labels == {r["source"] for r in _read(out / "deviations.csv")}
    assert labels == {s["source"] for s in summary["accounting"]["sources"]}
    assert summary["drift_shifts"] and summary["drift_shifts"][0]["shift_date"]


def test_deviations_parquet_full_precision_and_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--deviations parquet: the contract's rows and columns, unrounded; a deviations.csv
    an earlier run left in the same folder is removed, so the folder holds one run."""
    from sizecheck import report
    from sizecheck.pipeline import analyse

    out = tmp_path / "out"
    monkeypatch.setattr(report, "SPREADSHEET_ROWS", 100)  # the example has ~2000 rows
    csv_run = runner.invoke(
        app, ["measure", "--example", "--no-charts", "--deviations", "csv", "--out", str(out)]
    )
    assert csv_run.exit_code == 0, csv_run.output
    assert "more than a spreadsheet opens" in _words(csv_run.output)  # as asked, with a warning
    from_csv = pd.read_csv(out / "deviations.csv")

    result = runner.invoke(
        app, ["measure", "--example", "--no-charts", "--deviations", "parquet", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "as asked (--deviations parquet)" in _words(result.output)
    assert not (out / "deviations.csv").exists()
    got = pd.read_parquet(out / "deviations.parquet")
    assert list(got.columns) == CONTRACT["deviations.csv"].split(", ")
    expected = analyse([example_path()]).deviations
    assert len(got) == len(expected) == len(from_csv)
    for col in ("value_mm", "nominal_mm", "deviation_mm", "lower_mm", "upper_mm"):
        assert (got[col].to_numpy() == expected[col].to_numpy()).all(), col  # exact
        assert np.allclose(got[col], from_csv[col], atol=0.5e-6, rtol=0, equal_nan=True), col
    assert (got["producer"].astype(str) == from_csv["producer"]).all()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "deviations.parquet" in summary["outputs"]
    assert "deviations.csv" not in summary["outputs"]
    assert summary["deviations"]["requested"] == "parquet"
    assert summary["deviations"]["reason"] == "requested"


def _words(output: str) -> str:
    """The terminal's text with rich's line wrapping undone."""
    return " ".join(output.split())


def _example_rows(tmp_path: Path) -> int:
    """Rows of the example's deviations, counted in the CSV a default run writes."""
    out = tmp_path / "count"
    result = runner.invoke(app, ["measure", "--example", "--no-charts", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return len(pd.read_csv(out / "deviations.csv"))


@pytest.mark.parametrize(
    ("lang", "csv_words", "parquet_words"),
    [
        ("en", "few enough for a spreadsheet", "more than a spreadsheet opens"),
        ("id", "masih bisa dibuka di Excel", "terlalu banyak untuk dibuka di Excel"),
    ],
)
def test_deviations_auto_csv_up_to_the_spreadsheet_limit_then_parquet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, csv_words: str, parquet_words: str
) -> None:
    """The default (--deviations auto) writes deviations.csv while its rows fit a
    spreadsheet and deviations.parquet from one row more (the limit made small here: a
    spreadsheet's is 1,048,575 data rows), says which and why in one line, and records
    the choice in summary.json."""
    from sizecheck import report

    rows = _example_rows(tmp_path)
    out = tmp_path / "out"
    args = ["measure", "--example", "--no-charts", "--lang", lang, "--out", str(out)]

    monkeypatch.setattr(report, "SPREADSHEET_ROWS", rows)  # exactly fits
    fits = runner.invoke(app, args)
    assert fits.exit_code == 0, fits.output
    assert (out / "deviations.csv").exists() and not (out / "deviations.parquet").exists()
    assert len(pd.read_csv(out / "deviations.csv")) == rows
    said = _words(fits.output)
    assert said.count("deviations.csv") == 1 and csv_words in said
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["deviations"] == {
        "file": "deviations.csv",
        "requested": "auto",
        "format": "csv",
        "rows": rows,
        "spreadsheet_rows": rows,
        "reason": "fits_spreadsheet",
    }

    monkeypatch.setattr(report, "SPREADSHEET_ROWS", rows - 1)  # one row too many
    beyond = runner.invoke(app, args)
    assert beyond.exit_code == 0, beyond.output
    assert (out / "deviations.parquet").exists() and not (out / "deviations.csv").exists()
    assert len(pd.read_parquet(out / "deviations.parquet")) == rows
    said = _words(beyond.output)
    assert said.count("deviations.parquet") == 1 and parquet_words in said
    assert "--deviations csv" in said  # how to get a CSV anyway
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["deviations"]["format"] == "parquet"
    assert summary["deviations"]["reason"] == "too_many_rows"
    assert "deviations.parquet" in summary["outputs"]
    assert "deviations.csv" not in summary["outputs"]


def test_deviations_explicit_format_honoured_either_side_of_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--deviations csv beyond the limit still writes CSV (and warns); --deviations parquet
    under it still writes Parquet."""
    from sizecheck import report

    out = tmp_path / "out"
    base = ["measure", "--example", "--no-charts", "--out", str(out)]
    monkeypatch.setattr(report, "SPREADSHEET_ROWS", 10)
    result = runner.invoke(app, [*base, "--deviations", "csv"])
    assert result.exit_code == 0, result.output
    assert (out / "deviations.csv").exists() and not (out / "deviations.parquet").exists()
    assert "more than a spreadsheet opens" in _words(result.output)
    monkeypatch.setattr(report, "SPREADSHEET_ROWS", 10_000_000)
    result = runner.invoke(app, [*base, "--deviations", "parquet"])
    assert result.exit_code == 0, result.output
    assert (out / "deviations.parquet").exists() and not (out / "deviations.csv").exists()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["deviations"]["format"] == "parquet"
