"""Benchmark (e): a whole cluster's charts, report and cards against bare figures.

Issue 14: "a whole cluster's report in about a minute". Desa Medali has about 120
producers; a QA office measures ~30 pairs of each. This script writes that cluster
(seeded, with ``sizecheck.simulate.write_cluster_csv``: 120 producers x 5 dated visits x
6 pairs x both shoes x 3 dimensions = 7,200 shoes) into ``benchmarks/_work/`` and
times, in one run, with the runs interleaved:

(e)  ``sizecheck measure FILE --out DIR`` (charts, report.html, cards; ``--jobs`` left at
     its default, all cores);
(e0) ``sizecheck measure FILE --no-charts`` (what the wait is without drawing);
(e1) a process pool with as many processes rendering the same number of bare matplotlib
     figures (a line plot of 40 points each, saved as PNG) as (e) writes charts and
     cards: the floor.

Each is a whole subprocess (start-up included), ``--runs`` times; the table shows median
wall and CPU seconds, peak resident memory (``ru_maxrss``: the largest single process of
the tree), the ratio (e)/(e1) against the target (<= 1.5x), the size of ``report.html``
and how many charts and cards the report holds.

Usage::

    .venv/bin/python benchmarks/bench_report.py                    # 120 producers, 3 runs
    .venv/bin/python benchmarks/bench_report.py --runs 5 --snapshot
    .venv/bin/python benchmarks/bench_report.py --producers 30 --runs 1   # quick look
    .venv/bin/python benchmarks/bench_report.py --figures 783 --runs 1   # no counting run
    .venv/bin/python benchmarks/bench_report.py --producers 30 --snapshot --baseline main

``--baseline REV`` adds (e) run on the package of commit ``REV`` (``git archive``),
interleaved with the others, and prints the CPU of (e) now over that of the baseline:
a before/after under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_measure as bm  # noqa: E402
from bench_measure import WORK, Row, Timing, machine, measure_runs  # noqa: E402

#: Target of issue 14: the full measure at most this many times the bare figures.
TARGET_RATIO = 1.5
#: Target of issue 14 item 3 (owned by the report's layout): report.html at 120 producers.
TARGET_REPORT_MB = 15.0

DIMENSIONS = ("insole_length", "last_length", "last_ball_girth")


def generate(path: Path, n_producers: int, visits: int, pairs: int, seed: int = 14) -> Path:
    """Write the seeded cluster to ``path`` with :func:`sizecheck.simulate.write_cluster_csv`:
    ``n_producers`` producers x ``visits`` dated visits x ``pairs`` pairs, both shoes, the
    three dimensions, planted offsets, grading errors, visit, pair and shoe effects."""
    import numpy as np

    from sizecheck.simulate import write_cluster_csv

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    write_cluster_csv(
        tmp,
        rng=np.random.default_rng(seed),
        n_producers=n_producers,
        visits=visits,
        pairs_per_visit=pairs,
    )
    tmp.replace(path)
    return path


#: A pool of processes, each drawing bare figures: one line plot of 40 points with
#: markers and a title per figure, saved as PNG (the floor of (e)).
FIGURES_CODE = """
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

def render(args):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    i, out = args
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    ax.plot(range(40), [((k * 7 + i) % 11) / 10 for k in range(40)], marker="o")
    ax.set_title(f"figure {i}")
    fig.savefig(Path(out) / f"fig{i:04d}.png", dpi=100)
    return i

n, out, jobs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
Path(out).mkdir(parents=True, exist_ok=True)
if jobs > 1:
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(render, [(i, out) for i in range(n)], chunksize=max(1, n // (4 * jobs))))
else:
    for i in range(n):
        render((i, out))
"""


def _count(out: Path) -> tuple[list[Path], list[Path], dict[str, int], float]:
    """Chart PNGs, cards, charts per kind and report.html's size (MB) in ``out``; printed."""
    charts = sorted(p for p in (out / "charts").rglob("*.png")) if (out / "charts").is_dir() else []
    cards = sorted(p for p in (out / "cards").rglob("*.pdf")) if (out / "cards").is_dir() else []
    report_mb = (out / "report.html").stat().st_size / 1e6
    kinds: dict[str, int] = {}
    for p in charts:
        kind = p.stem.split("_", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"  {len(charts)} chart PNGs ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}),"
          f" {len(cards)} cards, report.html {report_mb:.1f} MB")  # fmt: skip
    return charts, cards, kinds, report_mb


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--producers", type=int, default=120)
    parser.add_argument("--visits", type=int, default=5, help="dated visits per producer")
    parser.add_argument("--pairs", type=int, default=6, help="pairs measured per visit")
    parser.add_argument("--runs", type=int, default=3, help="runs per command (median shown)")
    parser.add_argument("--lang", default="en", choices=("en", "id"))
    parser.add_argument(
        "--figures",
        type=int,
        default=0,
        help="bare figures to draw (chart PNGs + cards of an earlier run): skips the untimed "
        "run that counts them; the charts are then counted from the last timed run",
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="benchmark a copy of src/ taken at start (the tree may change meanwhile)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also time (e) on the package of commit REV, interleaved (before/after)",
    )
    args = parser.parse_args(argv)
    jobs = os.cpu_count() or 1
    WORK.mkdir(parents=True, exist_ok=True)
    if args.snapshot:
        bm.SOURCE = bm.snapshot()
    info = machine()
    info["code"] = bm._git_state() + (" (snapshot copy)" if args.snapshot else "")
    info["load_start"] = os.getloadavg()
    print(f"machine: {info['nproc']} cores, {info['cpu']}, Python {info['python']}")
    print(f"code: {info['code']}; load average at start {info['load_start']}")
    py, sc = bm._python(), bm._sizecheck()

    name = f"cluster-{args.producers}p-{args.visits}v-{args.pairs}pairs.csv"
    path = WORK / name
    if not path.exists():
        generate(path, args.producers, args.visits, args.pairs)
    shoes = sum(1 for _ in path.open(encoding="utf-8")) - 1
    print(f"\n(e) {args.producers} producers, {shoes:,} shoes x {len(DIMENSIONS)} dimensions, "
          f"{jobs} processes, --lang {args.lang}")  # fmt: skip

    out = WORK / "out-e"
    full = Timing(
        f"(e) measure, {args.producers} producers",
        [sc, "measure", str(path), "--out", str(out), "--lang", args.lang],
    )
    if args.figures:
        n_figs = args.figures
    else:
        shutil.rmtree(out, ignore_errors=True)
        bm.run_once(full.cmd)  # untimed: how many charts and cards the report holds
        charts, cards, kinds, report_mb = _count(out)
        n_figs = len(charts) + len(cards)

    nocharts = Timing(
        f"(e0) measure --no-charts, {args.producers} producers",
        [sc, "measure", str(path), "--no-charts", "--out", str(WORK / "out-e0")],
    )
    figs_out = WORK / "out-e1"
    bare = Timing(
        f"(e1) {n_figs} bare matplotlib PNGs",
        [py, "-c", FIGURES_CODE, str(max(n_figs, 1)), str(figs_out), str(jobs)],
    )
    timings, prepare = [bare, nocharts, full], {full.name: out, bare.name: figs_out,
                                                 nocharts.name: WORK / "out-e0"}  # fmt: skip
    before: Timing | None = None
    if args.baseline:
        before = Timing(f"(e) baseline {args.baseline}", [*full.cmd[:4], str(WORK / "out-eb"),
                        *full.cmd[5:]], source=bm.baseline(args.baseline))  # fmt: skip
        timings.append(before)
        prepare[before.name] = WORK / "out-eb"
    measure_runs(timings, args.runs, prepare)
    charts, cards, kinds, report_mb = _count(out)
    if len(charts) + len(cards) != n_figs:
        print(f"  warning: --figures {n_figs}, but the run wrote {len(charts) + len(cards)}")
    ratio = full.median / bare.median
    rows = [
        Row(bare.name, bare.median, bare.peak, bare.cpu),
        Row(nocharts.name, nocharts.median, nocharts.peak, nocharts.cpu),
        Row(
            full.name,
            full.median,
            full.peak,
            full.cpu,
            f"{ratio:.2f}x bare (cpu {full.cpu / bare.cpu:.2f}x)",
            f"<= {TARGET_RATIO}x",
            bm._verdict(ratio <= TARGET_RATIO),
        ),
    ]
    if before is not None:
        rows.append(Row(before.name, before.median, before.peak, before.cpu,
                        f"{before.median / bare.median:.2f}x bare (cpu "
                        f"{before.cpu / bare.cpu:.2f}x); now/baseline cpu "
                        f"{full.cpu / before.cpu:.3f}"))  # fmt: skip
    info["load_end"] = os.getloadavg()
    print(f"\nmedians of {args.runs} runs, whole subprocesses, load average at end "
          f"{info['load_end']}:\n")  # fmt: skip
    print(bm._fmt_table(rows))
    print(
        f"\nreport.html {report_mb:.1f} MB (target of 14.3: <= {TARGET_REPORT_MB:.0f} MB at 120 "
        f"producers); {len(charts)} chart PNGs, {len(cards)} cards; peak memory of (e) "
        f"{full.peak:.0f} MB"
    )
    results = {
        "machine": info,
        "runs": args.runs,
        "producers": args.producers,
        "shoes": shoes,
        "n_chart_files": len(charts),
        "chart_kinds": kinds,
        "n_cards": len(cards),
        "report_mb": report_mb,
        "full": asdict(full),
        "no_charts": asdict(nocharts),
        "bare_figures": asdict(bare),
        "baseline": asdict(before) if before is not None else None,
    }
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (WORK / f"results-e-{stamp}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"raw runs: {WORK / f'results-e-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
