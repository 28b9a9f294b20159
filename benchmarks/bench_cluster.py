"""Time :func:`sizecheck.cluster_summary` (the nested REML fit) at cluster scale.

Two clusters, generated with :func:`sizecheck.simulate_cluster` (3 dimensions, dates,
pairs): benchmark (e)'s 120 producers × 5 visits × 6 pairs (7,200 shoes, 21,600
measurements) and, with ``--big``, a season of 200 producers × 50 visits × 50 pairs
(1,000,000 shoes, 3,000,000 measurements). Prints the median of ``--runs`` runs of the
whole summary (three fits, their intervals and the producer offsets), in this process,
with the deviations already computed; and the time of one likelihood evaluation.

Usage::

    .venv/bin/python benchmarks/bench_cluster.py --runs 5
    .venv/bin/python benchmarks/bench_cluster.py --big --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import sizecheck as sc
from sizecheck.cluster import _prepare, _usable


def run(n_producers: int, visits: int, pairs: int, runs: int) -> None:
    sim = sc.simulate_cluster(
        rng=np.random.default_rng(14), n_producers=n_producers, visits=visits, pairs_per_visit=pairs
    )
    dev = sc.compare_to_table(sim.measurements, sc.load_table("paris-point")).deviations
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        summary = sc.cluster_summary(dev)
        times.append(time.perf_counter() - t0)
    rows = dev.loc[dev["dimension"] == "last_length"]
    model = _prepare(
        _usable(rows, "bench"), "last_length", center_size=None, random_slope="auto", band="in_spec"
    ).model
    theta = summary.fits["last_length"].theta
    t0 = time.perf_counter()
    for _ in range(20):
        model.loglik(theta)
    per_eval = (time.perf_counter() - t0) / 20
    print(
        f"{n_producers} producers x {visits} visits x {pairs} pairs x 2 shoes x 3 dimensions "
        f"({len(dev):,} measurements): cluster_summary median {statistics.median(times):.2f} s "
        f"(runs {', '.join(f'{t:.2f}' for t in times)}); one REML evaluation "
        f"{per_eval * 1000:.1f} ms ({model.n_visits:,} visits)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--big", action="store_true", help="also the 1M-shoe season")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    run(120, 5, 6, args.runs)
    if args.big:
        run(200, 50, 50, args.runs)


if __name__ == "__main__":
    main()
