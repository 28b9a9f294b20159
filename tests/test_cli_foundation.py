"""The foundation commands: ``sizecheck tables``, ``tables show``, ``convert``, ``grade``.

In-process with typer's CliRunner, plus real subprocess runs of ``python -m sizecheck``.
Expected numbers: Paris point EU 41 = 41 x 20/3 = 273.3 mm; UK 7 = 32/3 in = 270.93 mm =
EU 40.64 (Wikipedia "Shoe size" formulas, as quoted in domain.md).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sizecheck.cli import app
from sizecheck.report import write_table
from sizecheck.tables import grade, load_table

SHIPPED = ["bbkkp-2012-children", "mondopoint", "paris-point", "sni-8877-safety"]
WIDE = {"COLUMNS": "200"}  # rich wraps at the terminal width; keep table rows on one line


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=WIDE)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


# --------------------------------------------------------------------------- tables


def test_tables_lists_the_four_tables_with_status_and_source() -> None:
    code, out, _ = run("tables")
    assert code == 0
    flat = " ".join(out.split())  # rich wraps long sources
    for name in SHIPPED:
        table = load_table(name)
        line = next(line for line in out.splitlines() if line.startswith(f"{name} "))
        assert f"status: {table.status}" in line
        assert f"source: {table.source}" in flat
    bbkkp = next(line for line in out.splitlines() if line.startswith("bbkkp"))
    assert "grading rule" in bbkkp


def _row(out: str, size: str) -> str:
    return next(line for line in out.splitlines() if re.match(rf"^\W*{re.escape(size)}\W", line))


def test_tables_show_paris_point_gives_273_3_at_41() -> None:
    code, out, _ = run("tables", "show", "paris-point")
    assert code == 0
    assert "status: derived" in out
    assert "source: Paris point" in out
    row = _row(out, "41")
    # insole_length and last_length: 273.3 with in-spec limits 273.3 -/+ 1.5
    assert row.count("273.3 (271.8–274.8)") == 2
    assert "235.0 (232.5–237.5)" in row  # ball girth: 240 - 5 at one size below 42


def test_tables_show_sni_gives_minima() -> None:
    code, out, _ = run("tables", "show", "sni-8877-safety")
    assert code == 0
    assert "VERIFY" in out
    assert "minimum (one-sided)" in out
    assert "39.0 (≥39.0)" in _row(out, "41")
    assert "40.0 (≥40.0)" in _row(out, "43")


def test_tables_show_rule_says_how_to_grade_it() -> None:
    code, out, _ = run("tables", "show", "bbkkp-2012-children")
    assert code == 0
    assert "sizecheck grade --rule bbkkp-2012-children" in out


def test_tables_show_unknown_table_exits_2_naming_the_tables() -> None:
    code, out, err = run("tables", "show", "no-such-table")
    assert code == 2
    assert "no-such-table" in err
    for name in SHIPPED:
        assert name in err
    assert "Traceback" not in out + err


def test_tables_show_bad_user_table_exits_2_listing_its_problems() -> None:
    bad = Path(__file__).parent / "data" / "tables" / "several_problems.toml"
    code, out, err = run("tables", "show", str(bad))
    assert code == 2
    assert "5 problem(s)" in err
    assert "dimensions.heel_height" in err
    assert "Traceback" not in out + err


def test_tables_show_prints_a_user_title_with_brackets_as_text(tmp_path: Path) -> None:
    table = grade(
        {"last_length": 270.0}, base_size=41, name="ud-medali", title="Medali lasts [derived]"
    )
    path = write_table(table, tmp_path / "t.toml")
    code, out, _ = run("tables", "show", str(path))
    assert code == 0
    assert "Medali lasts [derived]  (ud-medali)" in out


# --------------------------------------------------------------------------- convert


def test_convert_uk_7_to_eu() -> None:
    code, out, _ = run("convert", "UK 7", "--to", "eu")
    assert code == 0
    assert "eu 40.64" in out
    assert "270.9 mm" in out
    assert "both systems name the last: no toe allowance involved" in out


def test_convert_to_mondopoint_reports_the_allowance() -> None:
    code, out, _ = run("convert", "41", "--to", "mondopoint", "--allowance", "20")
    assert code == 0
    assert "mondopoint 253.33" in out  # 273.33 mm last - 20 mm allowance
    assert "toe allowance 20 mm (given)" in out


@pytest.mark.parametrize(
    "args",
    [
        ["convert", "garbage", "--to", "eu"],
        ["convert", "41", "--to", "french"],
        ["convert", "41", "--to", "eu", "--from", "french"],
        ["convert", "260", "--to", "eu"],
    ],
)
def test_convert_bad_input_exits_2_without_traceback(args: list[str]) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert err.startswith("Error:")
    assert "Traceback" not in out + err


# --------------------------------------------------------------------------- grade


def test_grade_writes_a_table_that_loads_back_identically(tmp_path: Path) -> None:
    out = tmp_path / "medali-2026.toml"
    code, stdout, _ = run(
        "grade",
        "--master",
        "last_length=280,5",
        "--master",
        "last_ball_girth=241",
        "--base-size",
        "42",
        "--sizes",
        "38-46",
        "--name",
        "medali-2026",
        "--out",
        str(out),
    )
    assert code == 0
    assert str(out) in stdout
    expected = grade(
        {"last_length": 280.5, "last_ball_girth": 241.0},
        base_size=42,
        name="medali-2026",
        sizes=[float(s) for s in range(38, 47)],
    )
    assert load_table(out) == expected


def test_grade_with_the_bbkkp_rule_takes_its_steps(tmp_path: Path) -> None:
    out = tmp_path / "anak.toml"
    code, _, _ = run(
        "grade",
        "--rule",
        "bbkkp-2012-children",
        "--base-size",
        "28",
        "--master",
        "last_length=190",
        "--master",
        "last_ball_width=70",
        "--name",
        "anak",
        "--out",
        str(out),
    )
    assert code == 0
    table = load_table(out)
    assert table.dimension("last_length").step == 6.75
    assert table.dimension("last_ball_width").step == 2.75
    assert float(table.nominal("last_length", [30])[0]) == pytest.approx(190 + 2 * 6.75)


def test_grade_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "t.toml"
    args = ["grade", "-m", "last_length=270", "--base-size", "41", "--name", "t", "-o", str(out)]
    assert run(*args)[0] == 0
    before = out.read_text(encoding="utf-8")
    code, _, err = run(*args[:2], "last_length=275", *args[3:])
    assert code == 2
    assert "--force" in err
    assert out.read_text(encoding="utf-8") == before
    assert run(*args[:2], "last_length=275", *args[3:], "--force")[0] == 0
    assert float(load_table(out).nominal("last_length", [41])[0]) == 275.0


@pytest.mark.parametrize(
    "extra",
    [
        ["-m", "last_length"],  # no =MM
        ["-m", "heel_height=30"],  # unknown dimension
        ["-m", "last_length=270", "--sizes", "a-b"],
        ["-m", "last_length=270", "--rule", "no-such-rule"],
        ["-m", "last_length=270", "--status", "sni"],
    ],
)
def test_grade_bad_usage_exits_2(tmp_path: Path, extra: list[str]) -> None:
    out = tmp_path / "t.toml"
    code, _, err = run("grade", "--base-size", "41", "--name", "t", "-o", str(out), *extra)
    assert code == 2
    assert err.startswith("Error:")
    assert not out.exists()


# --------------------------------------------------------------------------- help


def _command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(cmd: object, prefix: list[str]) -> None:
        # typer vendors its own click: recognise groups by their sub-commands.
        subcommands = getattr(cmd, "commands", None) or {}
        for name, sub in subcommands.items():
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(root, [])
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "sizecheck")
def test_every_command_help_has_an_example(path: list[str]) -> None:
    code, out, _ = run(*path, "--help")
    assert code == 0
    assert "Example" in out


def test_the_foundation_commands_exist() -> None:
    paths = {" ".join(p) for p in _command_paths()}
    assert {"tables", "tables show", "convert", "grade"} <= paths


# --------------------------------------------------------------------------- subprocess


def test_python_m_sizecheck_help_runs_for_real() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sizecheck", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout
    assert "Example" in proc.stdout


def test_python_m_sizecheck_unknown_table_exits_2_for_real() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sizecheck", "tables", "show", "no-such-table"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "paris-point" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_import_and_help_do_not_load_heavy_libraries() -> None:
    # design.md: `sizecheck --help` must not import pandas, scipy or matplotlib.
    code = (
        "import json, sys\n"
        "import sizecheck.cli\n"
        "try:\n"
        "    sizecheck.cli.main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('pandas', 'scipy', 'matplotlib', 'numpy')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert loaded.isdisjoint({"pandas", "scipy", "matplotlib"}), loaded


@pytest.mark.parametrize("command", ["measure", "propose"])
@pytest.mark.parametrize(
    ("lang", "prefix", "words"),
    [("en", "Error:", "No input file given"), ("id", "Kesalahan:", "Belum ada berkas hasil ukur")],
)
def test_a_command_without_input_says_so_in_the_language_of_the_run(
    command: str, lang: str, prefix: str, words: str
) -> None:
    result = CliRunner().invoke(app, [command, "--lang", lang], env=WIDE)
    assert result.exit_code == 2
    assert result.output.startswith(f"{prefix} {words}")
    if lang == "id":
        assert "No input" not in result.output and "--example" in result.output
