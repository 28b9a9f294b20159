"""Outputs are published, not scribbled (issue 18): staged, locked, moved into place when
complete; only sizecheck's own files replaced or removed; links never followed; OS
errors as one line. Each test here failed on the code before ``sizecheck.publish``."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sizecheck import report
from sizecheck.cli import app
from sizecheck.examples import example_path
from sizecheck.pipeline import analyse
from sizecheck.publish import (
    LOCK_NAME,
    MANIFEST_NAME,
    STAGING_PREFIX,
    OutputConflictError,
    OutputFolder,
    OutputLockedError,
    read_manifest,
)

runner = CliRunner()
TESTS = Path(__file__).parent
DRIVER = TESTS / "_publish_driver.py"


def _tree(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder``: file bytes, ``-> target`` for links, ``/`` for folders."""
    tree: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            tree[name] = f"-> {path.readlink()}"
        elif path.is_dir():
            tree[name] = "/"
        else:
            tree[name] = path.read_bytes()
    return tree


def _published(folder: Path) -> dict[str, bytes | str]:
    """The tree without sizecheck's bookkeeping (a killed run's staging folder and lock)."""
    return {k: v for k, v in _tree(folder).items() if not k.startswith((STAGING_PREFIX, LOCK_NAME))}


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's title, header and first 60 rows: a run that differs from the example."""
    path = tmp_path_factory.mktemp("small") / "small.csv"
    lines = example_path().read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:62]))
    return path


@pytest.fixture(scope="module")
def previous_output(tmp_path_factory: pytest.TempPathFactory, small_csv: Path) -> Path:
    """A complete earlier output: CSVs, summary.json, charts, cards, report.html."""
    out = tmp_path_factory.mktemp("previous") / "out"
    analysis = analyse([small_csv])
    report.write_report(analysis, out, charts=False)
    report.write_visuals(analysis, out, dpi=20, jobs=1)
    return out


@pytest.fixture
def out(tmp_path: Path, previous_output: Path) -> Path:
    """A copy of the previous output, to be overwritten by the test's run."""
    target = tmp_path / "out"
    shutil.copytree(previous_output, target, symlinks=True)
    return target


def _measure(out: Path, *extra: str) -> object:
    return runner.invoke(app, ["measure", "--example", "--no-charts", *extra, "--out", str(out)])


# --------------------------------------------------------------------------- staging


def test_run_writes_into_a_staging_folder_and_publishes_at_the_end(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _tree(out)
    seen: dict[str, object] = {}
    original = report.summary_dict

    def look(analysis: object) -> object:  # the tables are written; the summary is next
        staging = [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]
        seen["staging"] = sorted(p.name for p in staging[0].iterdir()) if staging else []
        seen["published"] = _tree(out)
        seen["locked"] = (out / LOCK_NAME).is_file()
        return original(analysis)  # type: ignore[arg-type]

    monkeypatch.setattr(report, "summary_dict", look)
    result = _measure(out)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "deviations.csv" in seen["staging"] and "rejects.csv" in seen["staging"]  # type: ignore[operator]
    assert {k: v for k, v in seen["published"].items() if not k.startswith(".sizecheck")} == {  # type: ignore[attr-defined]
        k: v for k, v in before.items() if not k.startswith(".sizecheck")
    }
    assert seen["locked"]
    # afterwards: no staging folder, no lock; the manifest lists exactly the files
    names = sorted(p.name for p in out.iterdir())
    assert not any(n.startswith(STAGING_PREFIX) or n == LOCK_NAME for n in names)
    listed = read_manifest(out)
    on_disk = sorted(k for k, v in _tree(out).items() if v != "/" and k != MANIFEST_NAME)
    assert sorted(listed) == on_disk
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert sorted(summary["outputs"]) == on_disk


def test_failed_run_publishes_nothing(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _tree(out)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("chart failed")

    monkeypatch.setattr(report, "_render_cluster", broken)
    with pytest.raises(RuntimeError, match="chart failed"):
        # jobs=1: drawn in this process, where the broken chart is patched in
        report.write_report(analyse([example_path()]), out, charts=True, jobs=1)
    assert _tree(out) == before


def _driver(ready: Path, where: str, *args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(DRIVER), str(ready), where, "--", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


def _wait_ready(proc: subprocess.Popen[str], ready: Path, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("run did not reach the pause")
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("where", "charts"),
    # --jobs 1: the charts are drawn in the process the driver pauses
    [("summary_dict", ["--no-charts"]), ("_render_cluster", ["--jobs", "1"])],
    ids=["tables-written", "drawing"],
)
def test_sigkill_leaves_the_previous_output(
    out: Path, tmp_path: Path, where: str, charts: list[str]
) -> None:
    """SIGKILL after the tables are written, or while drawing: the previous output stays
    complete and unmixed (issue 18: new CSVs beside the old summary.json, old report
    gone); the next run clears what the killed one left."""
    before = _published(out)
    ready = tmp_path / "ready"
    proc = _driver(ready, where, "measure", "--example", *charts, "--out", str(out), cwd=tmp_path)
    _wait_ready(proc, ready)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert _published(out) == before
    result = _measure(out)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert not [p for p in out.iterdir() if p.name.startswith(".sizecheck") and p.is_dir()]
    assert not (out / LOCK_NAME).exists()


@pytest.mark.slow
def test_ctrl_c_publishes_nothing_and_says_so(out: Path, tmp_path: Path) -> None:
    before = _tree(out)
    ready = tmp_path / "ready"
    proc = _driver(
        ready, "summary_dict", "measure", "--example", "--no-charts", "--out", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    _wait_ready(proc, ready)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "Interrupted" in stderr and "nothing of an unfinished run" in stderr
    assert _tree(out) == before  # no staging folder or lock left either


def _children(pid: int) -> set[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat_file.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_chart_workers_die_with_their_parent(tmp_path: Path) -> None:
    """SIGKILL while chart workers draw: the workers exit too (issue 18: two ~210 MB
    workers stayed blocked forever)."""
    rng = np.random.default_rng(5)
    size = np.tile(np.arange(38.0, 44.0), 8 * 2)
    data = pd.DataFrame(
        {
            "producer": np.repeat([f"UD Uji {i}" for i in range(8)], 12),
            "size": size,
            "insole_length (mm)": np.round(size * 20 / 3 + rng.normal(0, 0.8, size.size), 1),
        }
    )
    data.to_csv(tmp_path / "eight.csv", index=False)
    ready = tmp_path / "ready"
    proc = _driver(ready, "wait", "measure", "eight.csv", "--jobs", "2", "--out", "o", cwd=tmp_path)
    _wait_ready(proc, ready)
    workers = _children(proc.pid)
    assert len(workers) >= 2  # the workers (and multiprocessing's resource tracker)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    deadline = time.monotonic() + 20
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, "chart workers outlived their parent"


# --------------------------------------------------------------------------- lock


def test_second_run_into_the_same_folder_is_refused(out: Path) -> None:
    before = _tree(out)
    with OutputFolder(out):  # a run in progress (its lock and staging folder)
        result = _measure(out)
        assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
        assert "Another sizecheck run" in result.output  # type: ignore[attr-defined]
        assert f"process {os.getpid()}" in result.output  # type: ignore[attr-defined]
        assert "Traceback" not in result.output  # type: ignore[attr-defined]
        with pytest.raises(OutputLockedError):
            report.write_report(analyse([example_path()]), out, charts=False)
    assert _tree(out) == before


@pytest.mark.slow
def test_lock_of_a_killed_run_does_not_block(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = (
        "import sys, time; from sizecheck.publish import OutputFolder; "
        "OutputFolder(sys.argv[1]).open(); print('locked', flush=True); time.sleep(120)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    refused = _measure(out)
    assert refused.exit_code == 2 and "Another sizecheck run" in refused.output  # type: ignore[attr-defined]
    proc.kill()
    proc.wait(30)
    assert (out / LOCK_NAME).exists()  # left behind by the killed run
    result = _measure(out)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert not (out / LOCK_NAME).exists()


# --------------------------------------------------------------------------- manifest


def test_users_files_are_kept_and_the_previous_runs_removed(out: Path) -> None:
    """A --no-charts rerun removes the charts, cards and report sizecheck wrote and keeps
    the user's files beside them (and the folders that still hold them)."""
    previous = read_manifest(out)
    assert any(n.startswith("charts/") for n in previous) and "report.html" in previous
    mine = {
        "charts/2025/ladder.png": b"my chart",
        "cards/kontrak/ud-a.pdf": b"%PDF my card",
        "catatan.txt": b"my notes",
    }
    for name, data in mine.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    result = _measure(out)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    tree = _tree(out)
    assert {n: tree[n] for n in mine} == mine
    assert not (out / "report.html").exists()
    files = sorted(k for k, v in tree.items() if v != "/")
    assert [f for f in files if f.startswith(("charts/", "cards/"))] == sorted(
        n for n in mine if n.startswith(("charts/", "cards/"))
    )
    assert sorted(p.name for p in (out / "charts").iterdir()) == ["2025"]  # empty ones pruned


def test_the_users_report_is_never_replaced(tmp_path: Path, small_csv: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("my own report", "utf-8")
    analysis = analyse([small_csv])
    with pytest.raises(OutputConflictError, match=r"report\.html \(not written by sizecheck\)"):
        report.write_visuals(analysis, out, dpi=20, jobs=1)
    assert _tree(out) == {"report.html": b"my own report"}
    # a --no-charts run does not need the name: it runs, and leaves the report alone
    assert _measure(out).exit_code == 0  # type: ignore[attr-defined]
    assert (out / "report.html").read_text("utf-8") == "my own report"


def test_a_folder_written_before_manifests_is_replaced_by_its_summary(out: Path) -> None:
    """An output of an earlier sizecheck (no manifest): its summary.json's outputs are
    its files, replaced or removed by the rerun; nothing else is touched."""
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    summary["outputs"] = read_manifest(out)  # as `measure` with charts wrote it
    (out / "summary.json").write_text(json.dumps(summary), "utf-8")
    (out / MANIFEST_NAME).unlink()
    (out / "mine.csv").write_text("keep", "utf-8")
    result = _measure(out)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert not (out / "report.html").exists() and not (out / "cards").exists()
    assert (out / "mine.csv").read_text("utf-8") == "keep"


@pytest.mark.parametrize("name", ["rejects.csv", "summary.json", "deviations.csv"])
def test_a_link_at_an_output_name_is_not_written_through(tmp_path: Path, name: str) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("precious", "utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(elsewhere)
    result = _measure(out)
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert f"{name} (a link" in result.output  # type: ignore[attr-defined]
    assert elsewhere.read_text("utf-8") == "precious"
    assert _tree(out) == {name: f"-> {elsewhere}"}


def test_a_linked_charts_folder_is_never_followed(out: Path, tmp_path: Path) -> None:
    """charts/ replaced by a link to the user's pictures: a --no-charts rerun neither
    deletes the pictures (issue 18) nor the link; a run with charts refuses to write
    through it."""
    pictures = tmp_path / "pictures"
    (pictures / "sub").mkdir(parents=True)
    for name in ("heatmap_insole-length.png", "sub/ladder_insole-length.png"):
        (pictures / name).write_bytes(b"my picture")
    shutil.rmtree(out / "charts")
    (out / "charts").symlink_to(pictures, target_is_directory=True)
    before = _tree(pictures)
    result = _measure(out)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert _tree(pictures) == before
    assert (out / "charts").is_symlink()
    with pytest.raises(OutputConflictError, match=r"charts \(a link"):
        report.write_report(analyse([example_path()]), out, charts=True)
    assert _tree(pictures) == before


def test_hard_linked_files_are_replaced_not_written_through(out: Path, tmp_path: Path) -> None:
    """A previous run's file hard-linked elsewhere keeps its bytes there: a rerun puts
    a new file under the name instead of writing into the shared one."""
    kept = tmp_path / "kept-rejects.csv"
    os.link(out / "rejects.csv", kept)
    before = kept.read_bytes()
    result = _measure(out)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert kept.read_bytes() == before
    assert (out / "rejects.csv").read_bytes() != before


def test_an_input_hard_linked_into_out_is_never_overwritten(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    shutil.copy(example_path(), data)
    before = data.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    os.link(data, out / "deviations.csv")
    result = runner.invoke(app, ["measure", str(data), "--no-charts", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "deviations.csv (not written by sizecheck)" in result.output
    assert data.read_bytes() == before


@pytest.mark.parametrize(
    "name", ["deviations.csv.partial", "deviations.parquet.partial", ".sizecheck-staging-x/a.csv"]
)
def test_an_input_named_like_a_temporary_file_is_never_touched(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    data = out / name
    data.parent.mkdir(parents=True)
    shutil.copy(example_path(), data)
    before = data.read_bytes()
    result = runner.invoke(app, ["measure", str(data), "--no-charts", "--out", str(out)])
    assert result.exit_code in {0, 2}, result.output
    assert data.read_bytes() == before


def test_empty_out_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["measure", "--example", "--no-charts", "--out", ""])
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and "empty" in result.output
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(report.UsageError, match="empty"):
        OutputFolder("")


def test_default_out_is_sizecheck_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Quickstart's own call: no --out writes into ./sizecheck-report (CI stop 21 failed
    here when Typer began passing the Path default through the --out parser)."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["measure", "--example", "--no-charts"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sizecheck-report" / "producer_summary.csv").is_file()


def test_manifest_entries_outside_the_folder_are_ignored(out: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", "utf-8")
    manifest = json.loads((out / MANIFEST_NAME).read_text("utf-8"))
    manifest["files"] += ["../victim.txt", str(victim), "./../victim.txt", ".sizecheck.lock"]
    (out / MANIFEST_NAME).write_text(json.dumps(manifest), "utf-8")
    assert _measure(out).exit_code == 0  # type: ignore[attr-defined]
    assert victim.read_text("utf-8") == "keep"
    assert "../victim.txt" not in read_manifest(out)


# --------------------------------------------------------------------------- OS errors


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """``tmpfs(size, *options)``: a fresh tmpfs mount (root in a Linux container), or skip."""
    mounted: list[Path] = []

    def mount(size: str, *options: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        opts = ",".join([f"size={size}", *options])
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=False)


def test_full_disk_is_one_line_and_keeps_the_previous_output(
    tmpfs: Callable[..., Path], previous_output: Path
) -> None:
    # room for the previous output and a little more, not for a new run's deviations
    used = sum(p.stat().st_size for p in previous_output.rglob("*") if p.is_file())
    disk = tmpfs(f"{used // 1024 + 128}k")
    out = disk / "out"
    shutil.copytree(previous_output, out, symlinks=True)
    before = _tree(out)
    result = _measure(out)
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert "No space left on device" in result.output  # type: ignore[attr-defined]
    assert str(out) in result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    assert _tree(out) == before


def test_full_disk_simulated(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same without a tmpfs: the disk fills while writing conventions.csv."""
    before = _tree(out)
    original = report._write_csv

    def full(frame: pd.DataFrame, path: Path, *args: object, **kwargs: object) -> Path:
        if path.name == "conventions.csv":
            path.write_bytes(b"half a fi")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(frame, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(report, "_write_csv", full)
    result = _measure(out)
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    line = result.output.strip()  # type: ignore[attr-defined]
    assert line.startswith("Error:") and "\n" not in line
    assert f"{out / 'conventions.csv'}: No space left on device" in line
    assert _tree(out) == before


def test_read_only_out_is_one_line(tmp_path: Path, tmpfs: Callable[..., Path]) -> None:
    if os.geteuid() == 0:
        folder = tmpfs("1m", "ro")
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
    for out in (folder, folder / "new"):
        result = _measure(out)
        assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
        line = result.output.strip()  # type: ignore[attr-defined]
        assert line.startswith("Error:") and "\n" not in line and str(out) in line
        assert "Read-only" in line or "Permission denied" in line


def test_parent_of_out_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x", "utf-8")
    result = _measure(tmp_path / "file.txt" / "out")
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert f"{tmp_path / 'file.txt'} is a file" in result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]


def test_any_os_error_is_one_line_naming_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from sizecheck import pipeline

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", "/data/qa.csv")

    monkeypatch.setattr(pipeline, "analyse", denied)
    result = runner.invoke(app, ["measure", "--example", "--no-charts", "--out", "unused"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: Permission denied: /data/qa.csv"


def test_signals_wait_until_the_moves_are_done() -> None:
    from sizecheck.publish import _signals_deferred

    done = []
    with pytest.raises(KeyboardInterrupt), _signals_deferred():
        signal.raise_signal(signal.SIGINT)
        done.append("moved")
    assert done == ["moved"]


# --------------------------------------------------------------------------- text shown


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidi_overrides_cannot_reorder_the_report() -> None:
    """A producer named with a right-to-left override ("UD \\u202eayaJ" shows as "UD
    Jaya") is shown with its controls made visible, everywhere in report.html."""
    from _visual_factory import make_analysis

    from sizecheck.report_html import render_html

    names = ("UD \u202eayaJ", "CV \u2066Isolat\u2069 \u202aX\u202c", "UD Biasa\x1b[31m")
    html = render_html(make_analysis(names, dimensions=("insole_length",)), lang="id")
    assert not set(html) & set(BIDI) and "\x1b" not in html
    assert "UD [U+202E]ayaJ" in html
    assert "CV [U+2066]Isolat[U+2069] [U+202A]X[U+202C]" in html
    assert "UD Biasa[U+001B][31m" in html


def test_bidi_overrides_cannot_reorder_a_chart() -> None:
    """The same names in the charts' titles, legends and axis labels: shown, not obeyed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from _visual_factory import make_analysis

    from sizecheck.plotting import plot_effective_size, plot_heatmap, plot_size_ladder

    names = ("UD \u202eayaJ", "UD Biasa\x1b[31m")
    a = make_analysis(names, dimensions=("insole_length",))
    fig, axes = plt.subplots(1, 3)
    plot_size_ladder(a.deviations, producer=names[0], dimension="insole_length", ax=axes[0])
    plot_effective_size(a.size_summary, dimension="insole_length", ax=axes[1])
    plot_heatmap(a.size_summary, dimension="insole_length", ax=axes[2])
    fig.canvas.draw()
    shown = [t.get_text() for ax in axes for t in ax.findobj(matplotlib.text.Text)]
    plt.close(fig)
    assert not any(set(text) & set(BIDI) or "\x1b" in text for text in shown)
    assert any("UD [U+202E]ayaJ" in text for text in shown)
    assert any("UD Biasa[U+001B][31m" in text for text in shown)


def test_error_lines_show_control_characters(tmp_path: Path) -> None:
    args = ["measure", "--example", "--rules", "we1,x\x1b[2j\u202e", "--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "x[U+001B][2j[U+202E]" in result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output


def test_a_file_open_in_another_program_stops_before_anything_moves(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Windows a spreadsheet showing rejects.csv keeps it from being replaced: the
    run says so before it moves anything (simulated here)."""
    from sizecheck import publish

    before = _tree(out)
    monkeypatch.setattr(publish, "_in_use", lambda path: path.name == "rejects.csv")
    result = _measure(out)
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert "rejects.csv is open in another program" in result.output  # type: ignore[attr-defined]
    assert _tree(out) == before
