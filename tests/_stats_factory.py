"""Build small ``deviations`` frames the way sizecheck.compare does, for stats/drift tests.

Mimics compare() for an EU (Paris point) length dimension: nominal = size * 20/3,
in-spec ±1.5 mm, mis-sized beyond ±3.33 mm, grade step 20/3 mm per size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STEP = 20.0 / 3.0
TOL = 1.5
MISSIZED = 3.33


def deviations_from(
    *,
    producer: str | np.ndarray,
    size: np.ndarray,
    value_mm: np.ndarray,
    date: object = None,
    dimension: str = "insole_length",
    source: str = "input.csv",
    foot: object = None,
    pair: object = None,
    lot: object = None,
    row: np.ndarray | None = None,
) -> pd.DataFrame:
    size = np.asarray(size, dtype=float)
    value = np.asarray(value_mm, dtype=float)
    nominal = size * STEP
    dev = value - nominal
    n = len(size)
    status = np.where(
        np.abs(dev) <= TOL, "in_spec", np.where(np.abs(dev) <= MISSIZED, "drifting", "missized")
    )
    return pd.DataFrame(
        {
            "source": source,
            "row": np.arange(2, n + 2) if row is None else row,
            "sample_id": [f"s{i}" for i in range(n)],
            "producer": producer,
            "model": "m1",
            "size_label": [f"{s:g}" for s in size],
            "size": size,
            "foot": pd.Series(foot if foot is not None else [pd.NA] * n, dtype="str"),
            "pair": pd.Series(pair if pair is not None else [pd.NA] * n, dtype="str"),
            "date": pd.to_datetime(date if date is not None else [pd.NaT] * n),
            "lot": pd.Series(lot if lot is not None else [pd.NA] * n, dtype="str"),
            "operator": "op",
            "dimension": dimension,
            "value_mm": value,
            "nominal_mm": nominal,
            "deviation_mm": dev,
            "deviation_sizes": dev / STEP,
            "lower_mm": nominal - TOL,
            "upper_mm": nominal + TOL,
            "status": pd.Series(status, dtype="str"),
            "lower_missized_mm": nominal - MISSIZED,
            "upper_missized_mm": nominal + MISSIZED,
            "grade_step_mm": STEP,
        }
    )


def synthetic_producer(
    rng: np.random.Generator,
    name: str,
    *,
    kind: str = "conforming",
    n: int = 120,
    n_dates: int = 30,
    sigma: float = 0.5,
    sizes: tuple[float, float] = (36.0, 46.0),
    base_size: float = 41.0,
    dimension: str = "insole_length",
) -> pd.DataFrame:
    """A producer whose deviations follow ``kind``.

    conforming: iid N(0, sigma); offset: +one size (6.67 mm); grading: 5 mm per size,
    right at ``base_size``; scatter: sigma 4 mm; drift: -2 mm before and +2 mm after the
    middle date (a +4 mm step); step: 0 before and +4 mm after the middle date.
    """
    size = rng.integers(int(sizes[0]), int(sizes[1]) + 1, n).astype(float)
    days = pd.date_range("2025-01-06", periods=n_dates, freq="D")
    # every date used at least once, the rest at random
    day_idx = np.sort(np.r_[np.arange(n_dates), rng.integers(0, n_dates, n - n_dates)])
    eps = rng.normal(0.0, sigma, n)
    late = day_idx >= n_dates // 2
    mean = np.zeros(n)
    if kind == "offset":
        mean += STEP
    elif kind == "grading":
        mean += (5.0 - STEP) * (size - base_size)
    elif kind == "scatter":
        eps = rng.normal(0.0, 4.0, n)
    elif kind == "drift":
        mean += np.where(late, 2.0, -2.0)
    elif kind == "step":
        mean += np.where(late, 4.0, 0.0)
    elif kind != "conforming":
        raise ValueError(kind)
    value = size * STEP + mean + eps
    return deviations_from(
        producer=name, size=size, value_mm=value, date=days[day_idx], dimension=dimension
    )
