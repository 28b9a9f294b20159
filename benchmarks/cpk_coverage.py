"""How often do the Cpk intervals of producer_summary and capability() cover the truth?

Simulates producers whose true Cpk is 1.00 (deviations normal, σ 0.5 mm per shoe, in-spec
limits ±1.5 mm, centred; or σ 0.3 mm with a grading error that puts the largest size
0.6 mm off) in the situations the issue names, runs the statistics once on
all of them, and counts how often the 95 % interval holds 1.00 — for today's interval
(delta method: the SE of the grading line where Cpk is taken, and the degrees of freedom
of the within σ; ``sizecheck.stats.reference.cpk_interval``) and, for comparison, for
Bissell's formula with n shoes (the interval before issue 13). A binomial SE at 600
producers is 0.9 %.

Usage::

    .venv/bin/python benchmarks/cpk_coverage.py                 # 600 producers each
    .venv/bin/python benchmarks/cpk_coverage.py --producers 2000 --seed 3
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
import pandas as pd

SIGMA, LIMIT = 0.5, 1.5  # true Cpk = 1.5 / (3 * 0.5) = 1.00


def frame(rng: np.random.Generator, scenario: str, producers: int) -> pd.DataFrame:
    """Deviations of ``producers`` producers in one scenario (one dimension each)."""
    shoes = {"one size, undated": 40, "several sizes, undated": 60}.get(scenario, 120)
    pairs = scenario.startswith("pairs")
    n_units = shoes // 2 if pairs else shoes
    unit_size = rng.integers(38, 45, (producers, n_units)).astype(float)
    if scenario == "one size, undated":
        unit_size[:] = 41.0
    rho = 0.5 if pairs else 0.0
    sigma = 0.3 if scenario.startswith("grading") else SIGMA
    shared = rng.normal(0.0, sigma * np.sqrt(rho), (producers, n_units))
    per = 2 if pairs else 1
    size = np.repeat(unit_size, per, axis=1)
    dev = np.repeat(shared, per, axis=1) + rng.normal(0, sigma * np.sqrt(1 - rho), size.shape)
    if scenario.startswith("grading"):  # 0.1 mm per size: 0 at EU 38, 0.6 mm at EU 44
        dev += 0.1 * (size - 38.0)  # σ 0.3: Cpk 1.67 at 38, (1.5 - 0.6) / 0.9 = 1.00 at 44
    dated = "undated" not in scenario
    day = np.repeat(np.sort(rng.integers(0, 30, (producers, n_units)), axis=1), per, axis=1)
    p = np.repeat(np.arange(producers), shoes)
    nominal = size.ravel() * 20 / 3
    return pd.DataFrame(
        {
            "source": "sim.csv",
            "row": np.tile(np.arange(shoes), producers) + 2,
            "producer": pd.Series([f"P{i:05d}" for i in p], dtype="str"),
            "size": size.ravel(),
            "date": pd.Timestamp("2025-01-01") + pd.to_timedelta(day.ravel(), unit="D")
            if dated
            else pd.NaT,
            "dimension": "insole_length",
            "value_mm": nominal + dev.ravel(),
            "nominal_mm": nominal,
            "deviation_mm": dev.ravel(),
            "lower_mm": nominal - LIMIT,
            "upper_mm": nominal + LIMIT,
            "status": "in_spec",
            "pair": pd.Series(
                [f"p{k}" for k in np.tile(np.repeat(np.arange(n_units), per), producers)]
                if pairs
                else [None] * len(p),
                dtype="str",
            ),
            "grade_step_mm": 20 / 3,
        }
    )


def coverage(summary: pd.DataFrame) -> dict[str, float]:
    from sizecheck.stats.reference import bissell_interval

    cpk = summary["cpk"].to_numpy()
    lo, hi = summary["cpk_ci_low"].to_numpy(), summary["cpk_ci_high"].to_numpy()
    b_lo, b_hi = bissell_interval(cpk, summary["n"].to_numpy())
    return {
        "producers": len(summary),
        "mean Cpk": float(np.mean(cpk)),
        "covered": float(np.mean((lo <= 1.0) & (hi >= 1.0))),
        "covered, Bissell with n": float(np.mean((b_lo <= 1.0) & (b_hi >= 1.0))),
    }


def capability_coverage(rng: np.random.Generator, runs: int, n: int = 40) -> dict[str, float]:
    """capability() with its default moving-range σ on n iid values in time order."""
    from sizecheck.stats import capability
    from sizecheck.stats.reference import bissell_interval

    hits, old, est = 0, 0, []
    for _ in range(runs):
        c = capability(rng.normal(0, SIGMA, n), lsl=-LIMIT, usl=LIMIT)
        hits += c.cpk_ci_low <= 1.0 <= c.cpk_ci_high
        b_lo, b_hi = bissell_interval(c.cpk, n)
        old += bool(b_lo <= 1.0 <= b_hi)
        est.append(c.cpk)
    return {
        "producers": runs,
        "mean Cpk": float(np.mean(est)),
        "covered": hits / runs,
        "covered, Bissell with n": old / runs,
    }


SCENARIOS = (
    "one size, undated",
    "several sizes, undated",
    "several sizes, dated",
    "pairs (ρ 0.5), dated",
    "grading error 0.1 mm/size, dated (Cpk at EU 44)",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--producers", type=int, default=600)
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args(argv)
    from sizecheck.stats import producer_summary

    rng = np.random.default_rng(args.seed)
    rows = []
    for scenario in SCENARIOS:
        s = producer_summary(frame(rng, scenario, args.producers), base_size=41.0)
        rows.append({"situation": scenario, **coverage(s)})
    rows.append(
        {
            "situation": "capability(), n = 40, moving range",
            **capability_coverage(rng, args.producers),
        }
    )
    table = pd.DataFrame(rows)
    print(f"true Cpk 1.00, 95 % intervals, seed {args.seed}\n")
    head = "| " + " | ".join(table.columns) + " |"
    print(head + "\n|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
