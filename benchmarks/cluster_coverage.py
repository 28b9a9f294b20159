"""Bias and interval coverage of :func:`sizecheck.cluster_summary` against planted values.

Issue 19: the variance components, the ICC and the share of producers off size must
be checked against the values a simulation planted. This script draws ``--clusters``
seeded clusters with :func:`sizecheck.simulate.simulate_cluster` (one dimension,
``last_length``), fits each, and prints per quantity: the planted value, the mean
estimate, the relative bias, the coverage of the 95 % interval with its Monte-Carlo
standard error, and the median fit time.

The planted shoe SD includes the rounding to ``--resolution`` (a uniform error of
variance resolution²/12, Sheppard 1898), which the model cannot tell from shoe noise.

Usage::

    .venv/bin/python benchmarks/cluster_coverage.py                      # 120 producers
    .venv/bin/python benchmarks/cluster_coverage.py --producers 20 --clusters 400
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
from scipy import special

import sizecheck as sc
from sizecheck.cluster import share_outside
from sizecheck.simulate import simulate_cluster


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clusters", type=int, default=200)
    ap.add_argument("--producers", type=int, default=120)
    ap.add_argument("--visits", type=int, default=5)
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--between", type=float, default=1.5)
    ap.add_argument("--grade-sd", type=float, default=0.2)
    ap.add_argument("--visit-sd", type=float, default=0.8)
    ap.add_argument("--pair-sd", type=float, default=0.5)
    ap.add_argument("--shoe-sd", type=float, default=0.6)
    ap.add_argument("--mean-offset", type=float, default=0.5)
    ap.add_argument("--resolution", type=float, default=0.5)
    ap.add_argument("--drop", type=float, default=0.0, help="share of shoes left unmeasured")
    ap.add_argument("--seed", type=int, default=20261129)
    args = ap.parse_args()

    table = sc.load_table("paris-point")
    shoe = math.sqrt(args.shoe_sd**2 + args.resolution**2 / 12.0)
    inside = args.visit_sd**2 + args.pair_sd**2 + shoe**2
    band = (-1.5, 1.5)  # paris-point last_length in spec
    truth = {
        "between_sd_mm": args.between,
        "visit_sd_mm": args.visit_sd,
        "within_sd_mm": math.sqrt(args.pair_sd**2 + shoe**2),
        "icc": args.between**2 / (args.between**2 + inside),
        "share_missized": share_outside(args.mean_offset, args.between, band),
        "mean_offset_mm": args.mean_offset,
    }
    intervals = {
        "between_sd_mm": ("between_ci_low_mm", "between_ci_high_mm"),
        "visit_sd_mm": ("visit_ci_low_mm", "visit_ci_high_mm"),
        "within_sd_mm": ("within_ci_low_mm", "within_ci_high_mm"),
        "icc": ("icc_ci_low", "icc_ci_high"),
        "share_missized": ("share_ci_low", "share_ci_high"),
        "mean_offset_mm": ("mean_offset_ci_low_mm", "mean_offset_ci_high_mm"),
    }
    rng = np.random.default_rng(args.seed)
    estimates: dict[str, list[float]] = {k: [] for k in truth}
    covered: dict[str, list[bool]] = {k: [] for k in truth}
    times: list[float] = []
    for _ in range(args.clusters):
        sim = simulate_cluster(
            rng=rng,
            n_producers=args.producers,
            visits=args.visits,
            pairs_per_visit=args.pairs,
            dimensions=("last_length",),
            mean_offset_mm=args.mean_offset,
            between_sd_mm=args.between,
            grade_sd_mm_per_size=args.grade_sd,
            visit_sd_mm=args.visit_sd,
            pair_sd_mm=args.pair_sd,
            shoe_sd_mm=args.shoe_sd,
            resolution_mm=args.resolution,
            drop_share=args.drop,
        )
        dev = sc.compare_to_table(sim.measurements, table).deviations
        t0 = time.perf_counter()
        row = sc.cluster_summary(dev).summary.iloc[0]
        times.append(time.perf_counter() - t0)
        for key, value in truth.items():
            lo, hi = intervals[key]
            estimates[key].append(float(row[key]))
            covered[key].append(bool(row[lo] <= value <= row[hi]))

    z = float(special.ndtri(0.975))
    print(
        f"{args.clusters} clusters of {args.producers} producers x {args.visits} visits x "
        f"{args.pairs} pairs x 2 shoes (drop {args.drop:g}); planted between {args.between}, "
        f"grade sd {args.grade_sd}, visit {args.visit_sd}, pair {args.pair_sd}, shoe "
        f"{args.shoe_sd} (+ resolution {args.resolution}); median fit "
        f"{statistics.median(times) * 1000:.0f} ms"
    )
    header = ("quantity", "planted", "mean est", "rel bias", "coverage", "± MC")
    print(f"{header[0]:<16} " + " ".join(f"{h:>9}" for h in header[1:]))
    for key, value in truth.items():
        est = np.asarray(estimates[key])
        cov = float(np.mean(covered[key]))
        mc = z * math.sqrt(0.95 * 0.05 / args.clusters)
        bias = (float(np.nanmean(est)) - value) / value if value else float("nan")
        print(
            f"{key:<16} {value:>9.4f} {np.nanmean(est):>9.4f} {bias:>+9.2%} {cov:>9.1%} {mc:>9.1%}"
        )


if __name__ == "__main__":
    main()
