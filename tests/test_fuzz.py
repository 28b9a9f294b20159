"""Fuzzing ``measure`` and ``validate`` with generated files and the hostile corpus (issue 18).

Every run, in process (Typer's CliRunner) and, twice, for real in a subprocess, must:

- exit 0, 1 or 2, never with a traceback;
- account for every row and cell: ``rows_read = rows_used + rows_rejected`` and ``cells_read =
  cells_used + cells_rejected`` in ``summary.json``, per source and in total, and
  ``deviations.csv`` holds one row per cell used;
- leave every input byte-identical and write nothing outside ``--out`` (the whole temporary
  folder, the working directory of the run, is compared before and after);
- publish a consistent folder: what ``summary.json`` and the manifest list is exactly what is
  there, and no CSV cell a spreadsheet would run as a formula.

The corpus is ``tests/data/hostile/`` (every file but the generators and README). The
generated files are CSV/TSV text in several encodings, separators and line endings, with
producer names from the corpus, or raw bytes. Examples are drawn deterministically so that
CI is reproducible; ``SIZECHECK_FUZZ_EXAMPLES=500 SIZECHECK_FUZZ_RANDOM=1 pytest
tests/test_fuzz.py`` explores further.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from sizecheck.cli import app
from sizecheck.escaping import FORMULA_STARTS, NUMBER_PATTERN
from sizecheck.publish import MANIFEST_NAME, read_manifest

runner = CliRunner()
HOSTILE = Path(__file__).parent / "data" / "hostile"
CORPUS = sorted(
    p
    for p in (HOSTILE.iterdir() if HOSTILE.is_dir() else [])
    if p.is_file() and p.suffix not in {".py", ".md"}
)
EXAMPLES = int(os.environ.get("SIZECHECK_FUZZ_EXAMPLES", "20"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("SIZECHECK_FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)


def _hostile_names() -> list[str]:
    with (HOSTILE / "producer_names.csv").open(encoding="utf-8", newline="") as fh:
        return list(dict.fromkeys(row[0] for row in list(csv.reader(fh))[1:]))


NAMES = _hostile_names()


# --------------------------------------------------------------------------- the checks


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every file (bytes), link (target) and folder under ``folder``."""
    tree: dict[str, bytes | str] = {}
    for path in folder.rglob("*"):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            tree[name] = f"-> {path.readlink()}"
        elif path.is_dir():
            tree[name] = "/"
        else:
            tree[name] = path.read_bytes()
    return tree


def _no_crash(result: Result, what: str) -> None:
    crash = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crash, f"{what} crashed: {result.exception!r}\n{result.output}"
    assert result.exit_code in {0, 1, 2}, f"{what} exited {result.exit_code}\n{result.output}"
    assert "Traceback" not in result.output, f"{what}\n{result.output}"


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


_NUMBER = re.compile(NUMBER_PATTERN)


def _check_published(out: Path) -> None:
    """A finished run's folder: accounting adds up, lists match, no runnable cell."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    acc = summary["accounting"]
    for counts in (acc, *acc["sources"]):
        assert counts["rows_read"] == counts["rows_used"] + counts["rows_rejected"], counts
        assert counts["cells_read"] == counts["cells_used"] + counts["cells_rejected"], counts
    for key in ("rows_read", "rows_used", "rows_rejected", "cells_read", "cells_used"):
        assert acc[key] == sum(s[key] for s in acc["sources"]), key
    assert len(_csv_rows(out / "deviations.csv")) - 1 == acc["cells_used"]
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert sorted([*read_manifest(out), MANIFEST_NAME]) == on_disk
    assert sorted(summary["outputs"]) == sorted(read_manifest(out))
    for path in out.glob("*.csv"):
        for row in _csv_rows(path):
            for cell in row:
                number = _NUMBER.fullmatch(cell) or cell in {"-inf", "+inf"}  # numbers
                runnable = cell.startswith(FORMULA_STARTS) and not number
                assert not runnable, (path.name, cell)


def _run_both(folder: Path, inputs: list[Path]) -> None:
    """``validate`` and ``measure --no-charts`` on ``inputs`` inside ``folder``, checked."""
    out = folder / "out"
    before = _snapshot(folder)
    with contextlib.chdir(folder):  # a relative path written by mistake lands in folder
        args = [p.name if p.parent == folder else str(p) for p in inputs]
        checked = runner.invoke(app, ["validate", *args])
        _no_crash(checked, "validate")
        measured = runner.invoke(app, ["measure", *args, "--no-charts", "--out", "out"])
        _no_crash(measured, "measure")
    after = _snapshot(folder)
    outside = {k: v for k, v in after.items() if k != "out" and not k.startswith("out/")}
    assert outside == before, "inputs changed or something was written outside --out"
    if measured.exit_code in {0, 1}:
        _check_published(out)
    else:
        assert not out.exists(), "a failed run left an output folder behind"


# --------------------------------------------------------------------------- the corpus


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_hostile_file(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    _run_both(tmp_path, [copy])


def test_hostile_files_together(tmp_path: Path) -> None:
    """All of them in one run: a bad file among good ones loses nothing of the others."""
    copies = []
    for path in CORPUS:
        copy = tmp_path / path.name
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    _run_both(tmp_path, copies)


# --------------------------------------------------------------------------- generated files

_HEADERS = {
    "producer": ["produsen", "producer", "Pabrik", "ukm", "PRODUSEN "],
    "size": ["ukuran", "size", "nomor", "no_ukuran"],
    "foot": ["kaki", "foot"],
    "date": ["tanggal", "date", "tgl"],
    "sample": ["no", "id", "kode"],
    "other": ["keterangan", "catatan", "", "=SUM(A1)", "👟", "Unnamed: 3"],
}
#: Dimension headers with the value a shoe of a size has there (Paris point; mm, cm, in).
_DIMENSIONS = {
    "panjang insole (mm)": lambda size: size * 20 / 3,
    "insole_length": lambda size: size * 20 / 3,
    "panjang_insole_cm": lambda size: size * 2 / 3,
    "lebar insole [mm]": lambda size: 90 + (size - 40) * 1.5,
    "lingkar ball (mm)": lambda size: 230 + (size - 40) * 5,
    "panjang acuan (mm)": lambda size: size * 20 / 3 + 2,
    "last length (in)": lambda size: (size * 20 / 3 + 2) / 25.4,
}
#: Headers of one dimension (two in one sheet are refused, rightly: tested rarely).
_CANONICAL = {
    "panjang insole (mm)": "insole_length",
    "insole_length": "insole_length",
    "panjang_insole_cm": "insole_length",
    "panjang acuan (mm)": "last_length",
    "last length (in)": "last_length",
}
_number = st.floats(min_value=-50, max_value=3000, allow_nan=False).map(lambda x: f"{x:.1f}")
_CELLS = {
    "producer": st.sampled_from(NAMES) | st.text(max_size=10),
    "size": st.sampled_from(
        ["40", "41", "41,5", "41.5", "42", "UK 7", "US 8", "EU 43", "260", "9999", "-1", "1e9"]
    ),
    "foot": st.sampled_from(["L", "R", "kiri", "kanan", "?"]),
    "date": st.sampled_from(
        ["2026-03-12", "12/03/2026", "9999-12-31", "0001-01-01", "31/02/2026", "kemarin"]
    ),
    "sample": st.integers(0, 99).map(str) | st.sampled_from(NAMES),
    "dimension": _number
    | _number.map(lambda s: s.replace(".", ","))
    | st.sampled_from(["273,3", "27,33", "2733", "-", "x", "=1+1", "1e400"]),
    "other": st.text(max_size=8) | st.sampled_from(NAMES),
}


@st.composite
def _table_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """A measurement sheet as text, mostly well formed: producer, size and one or two
    dimensions (in any order, among other columns), plausible values, and now and then a
    hostile cell, a missing column, a row of the wrong width, a title row."""
    dims = draw(st.lists(st.sampled_from(sorted(_DIMENSIONS)), min_size=1, max_size=2,
                         unique_by=_CANONICAL.get))  # fmt: skip
    extras = draw(st.lists(st.sampled_from(["foot", "date", "sample", "other"]), max_size=3))
    roles = draw(st.permutations(["producer", "size", *dims, *extras]))
    if draw(st.integers(0, 19)) == 0:
        roles = roles[1:]  # a required column missing
    header = [r if r in _DIMENSIONS else draw(st.sampled_from(_HEADERS[r])) for r in roles]
    producers = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3))
    decimal = draw(st.sampled_from([".", ","]))
    sep = draw(st.sampled_from([";", "\t", ",", "|"] if decimal == "," else [",", ";", "\t"]))
    rows = []
    for i in range(draw(st.integers(0, 15))):
        size = draw(st.integers(38, 45))
        noise = draw(st.floats(-0.02, 0.02))
        plain = {
            "producer": draw(st.sampled_from(producers)),
            "size": str(size),
            "foot": draw(st.sampled_from(["L", "R", "kiri", "kanan"])),
            "date": f"{1 + i % 28:02d}/03/2026",
            "sample": str(i + 1),
            "other": "",
        }
        for dim in dims:
            value = _DIMENSIONS[dim](size) * (1 + noise)
            plain[dim] = f"{value:.2f}".replace(".", decimal)
        row = [plain[r] for r in roles]
        if draw(st.integers(0, 3)) == 0:  # one hostile cell
            k = draw(st.integers(0, len(roles) - 1))
            row[k] = draw(_CELLS.get(roles[k], _CELLS["dimension"]) | st.just(""))
        width = draw(st.sampled_from([0] * 8 + [1, -1]))
        rows.append(row + ["5"] * width if width >= 0 else row[:width])
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator=end)
    if draw(st.integers(0, 3)) == 0:
        buf.write(f"LAPORAN PENGUKURAN{sep * 2}{end}{end}")
    writer.writerow(header)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    suffix = draw(st.sampled_from([".csv", ".csv", ".tsv", ".txt"]))
    return suffix, buf.getvalue().encode(encoding, errors="replace")


_raw_file = st.tuples(
    st.sampled_from([".csv", ".xlsx", ".txt", ".CSV"]), st.binary(min_size=0, max_size=400)
)


@FUZZ
@given(files=st.lists(_table_file(), min_size=1, max_size=2) | st.lists(_raw_file, max_size=1)
       .flatmap(lambda raw: _table_file().map(lambda t: [t, *raw])))  # fmt: skip
def test_generated_files(files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory(prefix="sizecheck-fuzz-") as tmp:
        folder = Path(tmp)
        inputs = []
        for i, (suffix, data) in enumerate(files):
            path = folder / f"qa{i}{suffix}"
            path.write_bytes(data)
            inputs.append(path)
        _run_both(folder, inputs)


# --------------------------------------------------------------------------- real processes


def _real(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sizecheck", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


@pytest.mark.slow
def test_real_measure_of_hostile_names(tmp_path: Path) -> None:
    """The 52 hostile producer names through a real ``sizecheck measure`` process: one
    producer per name (the blank one rejected), published consistently, nothing outside."""
    (tmp_path / "names.csv").write_bytes((HOSTILE / "producer_names.csv").read_bytes())
    before = _snapshot(tmp_path)
    done = _real("measure", "names.csv", "--no-charts", "--lang", "id", "--out", "o", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    after = _snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k != "o" and not k.startswith("o/")} == before
    _check_published(tmp_path / "o")
    summary = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert summary["accounting"]["rows_rejected"] == 3  # the three rows without a producer
    assert len(summary["verdicts"]) == len({n.strip() for n in NAMES if n.strip()})


def test_real_validate_of_the_corpus(tmp_path: Path) -> None:
    copies = []
    for path in CORPUS:
        (tmp_path / path.name).write_bytes(path.read_bytes())
        copies.append(path.name)
    before = _snapshot(tmp_path)
    done = _real("validate", *copies, cwd=tmp_path)
    assert done.returncode in {0, 1, 2}, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert _snapshot(tmp_path) == before
