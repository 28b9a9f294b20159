"""Where the CPU of ``sizecheck measure --no-charts`` goes, stage by stage, in one process.

Runs the real command (``sizecheck.cli.main(["measure", FILE, "--no-charts", "--jobs",
"1", "--out", DIR])``: ``--jobs 1`` keeps the cluster fit in this process, where it is
timed, instead of the worker process ``measure`` fits it in on a large file) with the
steps of :func:`sizecheck.pipeline.analyse` and :func:`sizecheck.report.write_report`
wrapped in timers, so that what is timed is what
``measure`` does (the pipeline, not a re-assembly of it). Each stage's CPU time is the
main thread's (``time.thread_time``) spent in its outermost call; "other threads" is the
rest of the process's CPU (the deviations file written in the background meanwhile,
hashing the input); "rest" is what no stage covers (argument parsing, publishing). The
import of the package and its dependencies is timed first, cold.

Usage::

    .venv/bin/python benchmarks/profile_stages.py                  # 1M shoes, 3 runs
    .venv/bin/python benchmarks/profile_stages.py --shoes 100000 --runs 5
    .venv/bin/python benchmarks/profile_stages.py --cprofile       # hot spots (1st run)
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import os
import pstats
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# as sizecheck.cli.main does before numpy is imported (see its docstring)
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_measure import WORK, dataset  # noqa: E402

#: (stage, module, attribute): the function each stage wraps, where its caller finds it.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("read + validate", "sizecheck.validate", "read_measurements"),
    ("compare", "sizecheck.pipeline", "compare"),
    # since session 6 the size summary is computed in _per_producer (once per grouping)
    ("per-producer statistics", "sizecheck.pipeline", "_per_producer"),
    ("compare_producers", "sizecheck.stats", "compare_producers"),
    ("find_conventions", "sizecheck.stats", "find_conventions"),
    ("findings", "sizecheck.findings", "build_findings"),
    ("cluster_summary", "sizecheck.pipeline", "describe_cluster"),
    ("summary.json", "sizecheck.report", "summary_dict"),
    ("workbook", "sizecheck.workbook", "write_workbook"),
    ("CSV tables", "sizecheck.report", "_write_csv"),
    ("deviations file (main thread)", "sizecheck.report", "write_deviations"),
)
NAMES = ("import", *(s for s, _, _ in STAGES), "other threads", "rest")


class Timers:
    """CPU seconds of the main thread per stage, counting only outermost calls."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self._depth = 0
        self._main = threading.get_ident()

    def wrap(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != self._main or self._depth:
                return func(*args, **kwargs)
            self._depth += 1
            t0 = time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                self._depth -= 1
                self.cpu[stage] = self.cpu.get(stage, 0.0) + time.thread_time() - t0

        return timed


def run(path: Path, out: Path, profile: bool) -> dict[str, float]:
    """One ``measure`` in this process; CPU seconds per stage."""
    c0 = time.process_time()
    t0 = time.thread_time()
    cli = importlib.import_module("sizecheck.cli")
    for name in ("pipeline", "report", "validate", "stats", "findings", "workbook", "cluster"):
        importlib.import_module(f"sizecheck.{name}")
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    import scipy.stats  # noqa: F401

    imported = time.thread_time() - t0
    timers = Timers()
    originals = []
    for stage, module, attr in STAGES:
        mod = importlib.import_module(module)
        originals.append((mod, attr, getattr(mod, attr)))
        setattr(mod, attr, timers.wrap(stage, getattr(mod, attr)))
    shutil.rmtree(out, ignore_errors=True)
    profiler = cProfile.Profile() if profile else None
    c1, t1 = time.process_time(), time.thread_time()
    try:
        if profiler is not None:
            profiler.enable()
        cli.main(["measure", str(path), "--no-charts", "--jobs", "1", "--out", str(out)])
    except SystemExit as stop:
        if stop.code:
            raise
    finally:
        if profiler is not None:
            profiler.disable()
        for mod, attr, func in originals:
            setattr(mod, attr, func)
    main_thread = time.thread_time() - t1
    cpu = {"import": imported, **{s: timers.cpu.get(s, 0.0) for s, _, _ in STAGES}}
    cpu["other threads"] = (time.process_time() - c1) - main_thread
    cpu["rest"] = main_thread - sum(timers.cpu.values())
    cpu["total (process)"] = time.process_time() - c0
    if profiler is not None:
        print("\ncProfile of the run (main thread):")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    return cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoes", type=int, default=1_000_000)
    parser.add_argument("--producers", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cprofile", action="store_true", help="cProfile the first run")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    path = dataset(args.shoes, args.producers)
    out = WORK / "out-stages"
    runs: list[dict[str, float]] = []
    for i in range(args.runs):
        cpu = run(path, out, args.cprofile and i == 0)
        runs.append(cpu)
        print(f"run {i + 1}: " + "  ".join(f"{k} {v:.2f}" for k, v in cpu.items()), flush=True)
        for mod in [m for m in sys.modules if m.startswith("sizecheck")]:
            del sys.modules[mod]  # the package is imported anew in every run
    keys = [*NAMES, "total (process)"]
    med = {k: statistics.median(r[k] for r in runs) for k in keys}
    # later runs re-import only sizecheck (pandas, scipy... stay loaded): show the cold one
    med["import"] = runs[0]["import"]
    total = sum(med[k] for k in NAMES)
    print(f"\n{args.shoes:,} shoes x 3 dimensions, {args.producers} producers, CPU medians")
    print(f"of {args.runs} runs in one process (import: the cold first run)\n")
    print(f"| {'stage':<30} | cpu s | share |")
    print(f"|{'-' * 32}|-------|-------|")
    for k in NAMES:
        print(f"| {k:<30} | {med[k]:5.2f} | {med[k] / total:5.0%} |")
    print(f"| {'total':<30} | {total:5.2f} |       |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
