"""Templates: canonical headers in en/id, units in headers, dropdowns, clean read-back."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from sizecheck.errors import UsageError
from sizecheck.report import write_template
from sizecheck.schema import match_column
from sizecheck.validate import read_measurements


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("lang", ["en", "id"])
def test_template_reads_back_cleanly(tmp_path: Path, suffix: str, lang: str) -> None:
    p = write_template(tmp_path / f"t{suffix}", lang=lang, dimensions=["insole_length"])
    v = read_measurements(p)
    assert v.clean and len(v.rejects) == 0 and v.notes == ()
    assert v.accounting.rows_read == 0
    header = v.sheets[0].header
    assert [m.canonical for m in map(match_column, header) if m] == [
        "sample_id", "producer", "model", "size", "foot", "pair", "date", "lot", "operator",
        "insole_length",
    ]  # fmt: skip
    assert header[-1] == ("panjang_insole (mm)" if lang == "id" else "insole_length (mm)")


def test_filled_indonesian_template_is_used(tmp_path: Path) -> None:
    p = write_template(tmp_path / "t.xlsx", lang="id")
    wb = load_workbook(p)
    ws = wb.active
    ws.append(["1", "UD Maju", "Pantofel", "41", "kiri", "P1", "12 Maret 2026", "L1", "Sri",
               "273,5", 98, 274, 236])  # fmt: skip
    wb.save(p)
    v = read_measurements(p, table="paris-point")
    assert v.clean
    assert len(v.measurements) == 4
    assert set(v.measurements["foot"]) == {"L"}


def test_dropdowns(tmp_path: Path) -> None:
    p = write_template(tmp_path / "t.xlsx", lang="id", sizes=[39, 40, 41])
    ws = load_workbook(p).active
    lists = sorted(dv.formula1 for dv in ws.data_validations.dataValidation)
    assert lists == ['"39,40,41"', '"kiri,kanan"']


def test_template_refuses_overwrite_and_bad_input(tmp_path: Path) -> None:
    p = write_template(tmp_path / "t.csv")
    with pytest.raises(UsageError):
        write_template(p)
    with pytest.raises(UsageError):
        write_template(tmp_path / "t.ods")
    with pytest.raises(UsageError):
        write_template(tmp_path / "u.csv", dimensions=["heel_height"])
    with pytest.raises(UsageError):
        write_template(tmp_path / "u.csv", lang="fr")


def test_cli_validate_exit_codes_and_template(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sizecheck.cli import app

    data = Path(__file__).parent / "data" / "ingest"
    runner = CliRunner()
    clean = runner.invoke(app, ["validate", str(data / "unicode_text_export.txt")])
    assert clean.exit_code == 0, clean.output
    problems = runner.invoke(app, ["validate", str(data / "semicolon_titles_summary.csv")])
    assert problems.exit_code == 1 and "missing_producer" in problems.output
    unreadable = runner.invoke(app, ["validate", str(data / "no_producer.csv")])
    assert unreadable.exit_code == 2
    out = tmp_path / "pengukuran.xlsx"
    made = runner.invoke(app, ["template", str(out), "--lang", "id"])
    assert made.exit_code == 0 and out.exists()
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0


def test_cli_validate_limits_and_unreadable_paths(tmp_path: Path) -> None:
    # Issue 18: each reading limit is raised with --limit NAME=VALUE; a bad one, a
    # device or a limit exceeded is one 'Error:' line and exit 2, never a traceback.
    from typer.testing import CliRunner

    from sizecheck.cli import app

    p = tmp_path / "x.csv"
    p.write_text("produsen;ukuran;panjang_insole\n" + "UD Maju;41;273,5\n" * 30)
    runner = CliRunner()
    over = runner.invoke(app, ["validate", str(p), "--limit", "rows=20"])
    assert over.exit_code == 2 and "limit of 20 rows" in over.output
    assert "Traceback" not in over.output
    raised = runner.invoke(app, ["validate", str(p), "--limit", "rows=20", "--limit", "rows=1e3"])
    assert raised.exit_code == 0, raised.output
    for bad in ("rows", "bytes=1", "cells=-1"):
        res = runner.invoke(app, ["validate", str(p), "--limit", bad])
        assert res.exit_code == 2 and res.output.startswith("Error:"), res.output
    device = runner.invoke(app, ["validate", "/dev/zero"])
    assert device.exit_code == 2 and "not a regular file" in device.output
