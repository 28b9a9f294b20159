"""Time ``sizecheck measure --engine dask`` on a local cluster against the pandas engine.

Issue 20: the whole per-producer analysis on Dask, partitioned by producer. For each
size (default 1M and 5M shoes × 3 dimensions) this script generates a season with
:func:`bench_measure.generate` — 200 producers per million shoes, so that a producer is
as large at 5M as at 1M, as when a national programme gathers more clusters — and cuts
it into files of 250,000 shoes (a cluster-month each; producers span the files), in
``benchmarks/_work/``. On those files, with the runs interleaved, it times whole
subprocesses:

(p) ``sizecheck measure FILES --no-charts --deviations parquet`` (the pandas engine);
(d) a child process that starts a ``distributed.LocalCluster`` of 2 worker processes (1
    thread each) and runs :func:`sizecheck.engine_dask.measure_dask` on the files (the
    same outputs; deviations as the folder ``deviations.parquet/``), then reports each
    worker's peak resident memory (``ru_maxrss`` read inside the worker).

Printed: median wall and CPU seconds (user + system of the process tree), the peak RSS of
the largest process of the tree (``os.wait4``), and for (d) the peak of each worker and
of the client (scheduler and client share that process). The machine is shared: read
medians and CPU seconds. The pandas engine at 5M shoes needs ~8 GB: ``--pandas-max``
(default 5,000,000) skips it above that size; the table says when it was skipped.

Usage::

    .venv/bin/python benchmarks/bench_dask.py                      # 1M and 5M, 3 runs
    .venv/bin/python benchmarks/bench_dask.py --sizes 1000000 --runs 5
    .venv/bin/python benchmarks/bench_dask.py --sizes 100000 --runs 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_measure import WORK, generate, machine, run_once  # noqa: E402

SHOES_PER_FILE = 250_000
PRODUCERS_PER_MILLION = 200


def files_for(n_shoes: int) -> list[Path]:
    """The season of ``n_shoes`` cut into files of ``SHOES_PER_FILE`` (generated once)."""
    n_producers = max(1, round(n_shoes / 1e6 * PRODUCERS_PER_MILLION))
    folder = WORK / f"dask-{n_shoes}-shoes-{n_producers}-producers"
    done = folder / "done"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        whole = folder / "whole.csv"
        t0 = time.perf_counter()
        generate(whole, n_shoes, n_producers)
        with whole.open("rb") as src:
            header = src.readline()
            part, rows, out = 0, 0, None
            for line in src:
                if out is None or rows == SHOES_PER_FILE:
                    if out is not None:
                        out.close()
                    out = (folder / f"month-{part:03d}.csv").open("wb")
                    out.write(header)
                    part, rows = part + 1, 0
                out.write(line)
                rows += 1
            if out is not None:
                out.close()
        whole.unlink()
        done.write_text("ok\n")
        print(f"  generated {folder.name} in {time.perf_counter() - t0:.1f} s")
    return sorted(folder.glob("month-*.csv"))


def child(files: list[str], out: str, workers: int) -> None:
    """(d) in this process: a local cluster, the Dask engine, the workers' peaks."""
    import resource

    from distributed import Client, LocalCluster

    from sizecheck.engine_dask import measure_dask

    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        t0 = time.perf_counter()
        analysis, _ = measure_dask(files, out, scheduler=None)
        wall = time.perf_counter() - t0
        worker_peaks = sorted(client.run(peak_mb).values())
    print(
        json.dumps(
            {
                "wall_in_process": wall,
                "worker_peak_mb": worker_peaks,
                "client_peak_mb": peak_mb(),
                "deviations": analysis.n_deviations,
                "partitions": analysis.partitions,
                "shuffled_partitions": analysis.shuffled_partitions,
                "producers": len(analysis.producers),
            }
        )
    )


def _sizecheck() -> str:
    return str(Path(sys.executable).with_name("sizecheck"))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,5000000", help="shoes, comma separated")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pandas-max", type=int, default=5_000_000, help="largest size for (p)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    # each run: (wall s, CPU s, peak MB)
    args = ap.parse_args(argv)
    if args.child:
        out, *files = args.child
        child(files, out, args.workers)
        return 0
    info = machine()
    print(json.dumps(info, indent=1))
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        files = files_for(n)
        mb = sum(f.stat().st_size for f in files) / 1e6
        print(f"\n{n:,} shoes: {len(files)} files, {mb:.0f} MB")
        runs: dict[str, list[tuple[float, float, float]]] = {"pandas": [], "dask": []}
        extra: list[dict[str, object]] = []
        for r in range(args.runs):
            if n <= args.pandas_max:
                out = WORK / f"out-dask-bench-pandas-{n}"
                cmd = [_sizecheck(), "measure", *map(str, files), "--no-charts"]
                cmd += ["--deviations", "parquet", "--out", str(out)]
                wall, peak, cpu = run_once(cmd)
                runs["pandas"].append((wall, cpu, peak))
                print(f"  run {r + 1} pandas: {runs['pandas'][-1]}")
            out = WORK / f"out-dask-bench-dask-{n}"
            report = WORK / f"dask-child-{n}.json"
            cmd = [sys.executable, __file__, "--workers", str(args.workers), "--child", str(out)]
            cmd += [*map(str, files)]
            with report.open("w") as fh:
                t0 = time.perf_counter()
                proc = __import__("subprocess").Popen(cmd, stdout=fh)
                _, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - t0
            if status != 0:
                print(f"  dask run failed (status {status}); see {report}")
                return 1
            cpu = usage.ru_utime + usage.ru_stime
            runs["dask"].append((wall, cpu, usage.ru_maxrss / 1024))
            extra.append(json.loads(report.read_text().strip().splitlines()[-1]))
            print(f"  run {r + 1} dask: {runs['dask'][-1]} {extra[-1]}")
        row: dict[str, object] = {"shoes": n, "files": len(files), "mb": round(mb)}
        for name, got in runs.items():
            if got:
                row[f"{name}_wall_s"] = statistics.median(g[0] for g in got)
                row[f"{name}_cpu_s"] = statistics.median(g[1] for g in got)
                row[f"{name}_peak_mb"] = max(g[2] for g in got)
            else:
                row[f"{name}_wall_s"] = "skipped"
        row["dask_worker_peak_mb"] = max(max(e["worker_peak_mb"]) for e in extra)  # type: ignore[type-var]
        row["dask_client_peak_mb"] = max(e["client_peak_mb"] for e in extra)  # type: ignore[type-var]
        row["partitions"] = extra[-1]["partitions"]
        row["shuffled_partitions"] = extra[-1]["shuffled_partitions"]
        row["producers"] = extra[-1]["producers"]
        results.append(row)
        print(json.dumps(row))
    print("\n| shoes | files | pandas wall / CPU s | pandas peak MB | dask wall / CPU s "
          "| dask peak per worker MB | dask client MB |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for row in results:
        pw = row["pandas_wall_s"]
        pandas_cells = (
            f"{pw:.1f} / {row['pandas_cpu_s']:.1f} | {row['pandas_peak_mb']:.0f}"
            if pw != "skipped"
            else "skipped | —"
        )
        print(
            f"| {row['shoes']:,} | {row['files']} | {pandas_cells} | "
            f"{row['dask_wall_s']:.1f} / {row['dask_cpu_s']:.1f} | "
            f"{row['dask_worker_peak_mb']:.0f} | {row['dask_client_peak_mb']:.0f} |"
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (WORK / f"results-dask-{stamp}.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
