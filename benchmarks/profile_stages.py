"""Time each stage of the ``sizecheck measure`` pipeline separately, in one process.

Calls, in turn and on the same file, the steps :func:`sizecheck.pipeline.analyse` and
``write_report`` chain: ``validate.read_measurements`` -> ``compare.compare`` ->
``stats.prepare`` -> ``drift.control_chart`` -> ``stats.producer_summary`` /
``size_summary`` / ``compare_producers`` / ``find_conventions`` ->
``report.write_report(charts=False)``,
``--runs`` times, and prints each stage's median (and its share of the total). The file
is the one ``bench_measure.py`` generates (generated here if missing).

Usage::

    .venv/bin/python benchmarks/profile_stages.py                  # 1M shoes, 3 runs
    .venv/bin/python benchmarks/profile_stages.py --shoes 100000 --runs 5
    .venv/bin/python benchmarks/profile_stages.py --cprofile producer_summary  # hot spots
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import pstats
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_measure import WORK, dataset  # noqa: E402

STAGES = (
    "import",
    "read_measurements",
    "compare",
    "prepare",
    "control_chart",
    "producer_summary",
    "size_summary",
    "compare_producers",
    "find_conventions",
    "write_report",
)


def run(path: Path, out: Path, profile: str | None) -> tuple[dict[str, float], dict[str, float]]:
    """One pass over every stage; return wall and CPU seconds per stage."""
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}
    profiler = cProfile.Profile() if profile else None

    def timed(name: str, func: Callable[[], Any]) -> Any:
        on = profiler is not None and name == profile
        t0, c0 = time.perf_counter(), time.process_time()
        if on:
            profiler.enable()  # type: ignore[union-attr]
        result = func()
        if on:
            profiler.disable()  # type: ignore[union-attr]
        times[name] = time.perf_counter() - t0
        cpu[name] = time.process_time() - c0
        return result

    def _imports() -> Any:
        # the package re-exports functions named like its modules: import the modules
        mods = [
            importlib.import_module(f"sizecheck.{m}")
            for m in ("compare", "drift", "report", "stats", "validate")
        ]
        from sizecheck.pipeline import Analysis, InputFile, file_sha256
        from sizecheck.tables import load_table

        return (*mods, Analysis, InputFile, file_sha256, load_table)

    compare, drift, report, stats, validate, Analysis, InputFile, sha, load_table = timed(
        "import", _imports
    )
    table = load_table("paris-point")
    validated = timed("read_measurements", lambda: validate.read_measurements([path], table=table))
    deviations = timed("compare", lambda: compare.compare(validated.measurements, table)).deviations
    # as pipeline.analyse does: one stats.prepare (usable rows, groups, time order,
    # units) is handed to every statistic, and the chart is passed on, not redone
    groups = timed("prepare", lambda: stats.prepare(deviations))
    chart = timed("control_chart", lambda: drift.control_chart(deviations, groups=groups))
    summary = timed(
        "producer_summary",
        lambda: stats.producer_summary(
            deviations, base_size=table.base_size, chart=chart, groups=groups
        ),
    )
    sizes = timed("size_summary", lambda: stats.size_summary(deviations, groups=groups))
    comparison = timed(
        "compare_producers", lambda: stats.compare_producers(deviations, size_summary=sizes)
    )
    conventions = timed(
        "find_conventions", lambda: stats.find_conventions(deviations, groups=groups)
    )
    analysis = Analysis(
        table=table,
        inputs=[InputFile(str(path), path.name, sha(path), path.stat().st_size)],
        measurements=validated.measurements,
        rejects=validated.rejects,
        accounting=validated.accounting,
        deviations=deviations,
        missing_dimensions=[],
        producer_summary=summary,
        size_summary=sizes,
        comparison=comparison,
        conventions=conventions,
        control_points=chart.points,
        signals=chart.signals,
        thresholds=stats.DEFAULT_THRESHOLDS,
    )
    shutil.rmtree(out, ignore_errors=True)
    timed("write_report", lambda: report.write_report(analysis, out, charts=False))
    if profiler is not None:
        print(f"\ncProfile of {profile}:")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return times, cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoes", type=int, default=1_000_000)
    parser.add_argument("--producers", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cprofile", choices=STAGES[1:], help="cProfile this stage (1st run)")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    path = dataset(args.shoes, args.producers)
    out = WORK / "out-stages"
    runs: list[dict[str, float]] = []
    cpus: list[dict[str, float]] = []
    for i in range(args.runs):
        times, cpu = run(path, out, args.cprofile if i == 0 else None)
        runs.append(times)
        cpus.append(cpu)
        print(f"run {i + 1}: " + "  ".join(f"{k} {v:.2f}" for k, v in cpu.items()), flush=True)
        for mod in [m for m in sys.modules if m.startswith("sizecheck")]:
            del sys.modules[mod]  # the import stage is measured cold in every run
    medians = {k: statistics.median(r[k] for r in runs) for k in STAGES}
    cpu_med = {k: statistics.median(r[k] for r in cpus) for k in STAGES}
    # later runs re-import only sizecheck (pandas, scipy... stay loaded): show the cold one
    medians["import"], cpu_med["import"] = runs[0]["import"], cpus[0]["import"]
    total, cpu_total = sum(medians.values()), sum(cpu_med.values())
    print(f"\n{args.shoes:,} shoes x 3 dimensions, medians of {args.runs} runs, one process")
    print("(cpu: process time of all threads; steadier than wall time on a busy machine;")
    print(" import: the cold first run, later runs keep pandas and scipy loaded)\n")
    print(f"| {'stage':<18} | wall s | cpu s | share of cpu |")
    print(f"|{'-' * 20}|--------|-------|--------------|")
    for k in STAGES:
        print(
            f"| {k:<18} | {medians[k]:6.2f} | {cpu_med[k]:5.2f} | {cpu_med[k] / cpu_total:12.0%} |"
        )
    print(f"| {'total':<18} | {total:6.2f} | {cpu_total:5.2f} |              |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
