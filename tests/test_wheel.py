"""The built wheel carries the reference tables and runs outside the source tree.

Builds the wheel, installs it into a fresh virtual environment, and there loads every shipped
table through ``importlib.resources`` (so the data must sit inside the wheel at
``sizecheck/data/reference_lasts/``) and runs the ``sizecheck`` console script.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ["bbkkp-2012-children", "mondopoint", "paris-point", "sni-8877-safety"]

CHECK = """
import json, sys
from importlib import resources
import sizecheck
from sizecheck.tables import available_tables, load_table
folder = resources.files("sizecheck") / "data" / "reference_lasts"
files = sorted(p.name for p in folder.iterdir())
tables = {name: load_table(name).status for name in available_tables()}
print(json.dumps({"module": sizecheck.__file__, "files": files, "tables": tables}))
"""


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.slow
def test_wheel_ships_the_tables_and_the_console_script(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=ROOT,
    )
    (wheel,) = dist.glob("sizecheck-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for table in SHIPPED:
        assert f"sizecheck/data/reference_lasts/{table}.toml" in names
    assert "sizecheck/data/reference_lasts/sni-8877-safety.csv" in names
    assert "sizecheck/data/sampling/iso2859-1_table2a_normal.csv" in names
    assert "sizecheck/py.typed" in names

    # A fresh venv holding only the wheel; the dependencies (numpy, typer, ...) come from the
    # test environment through a .pth file. That file adds the directory alone, without
    # running its .pth files, so the editable install of the source tree stays invisible.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            tmp_path,
        ).strip()
    )
    (purelib / "zz_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        cwd=tmp_path,
    )

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    report = json.loads(_run([str(python), "-c", CHECK], cwd=tmp_path, env=env))
    assert Path(report["module"]).is_relative_to(venv), report["module"]
    assert report["files"] == sorted([f"{t}.toml" for t in SHIPPED] + ["sni-8877-safety.csv"])
    assert report["tables"] == {
        "bbkkp-2012-children": "proposal",
        "mondopoint": "derived",
        "paris-point": "derived",
        "sni-8877-safety": "derived",
    }

    out = _run([str(bindir / "sizecheck"), "tables"], cwd=tmp_path, env=env)
    for table in SHIPPED:
        assert table in out
