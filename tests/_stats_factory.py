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


def messy_deviations(
    seed: int,
    *,
    n_pairs: int = 40,
    p_dated: float = 0.7,
    p_no_pair: float = 0.1,
    categorical: bool = False,
    with_pairs: bool = True,
    decimals: int = 1,
) -> pd.DataFrame:
    """A deviations frame with what real files hold: left/right pairs of one producer,
    dimension, size and date (some right shoes missing, some pair ids missing, one id
    reused at another size and producer), dates on some rows only (none at producer C),
    lots, two sources with shuffled row numbers, a one-sided dimension, no_reference
    rows, missing sizes, producers and deviations, one-row groups, values read to
    ``decimals``."""
    rng = np.random.default_rng(seed)
    producers = np.array(["A", "B", "C", "D", "E"])
    p_prod = rng.choice(producers, size=n_pairs, p=[0.4, 0.3, 0.2, 0.08, 0.02])
    p_dim = rng.choice(
        np.array(["insole_length", "last_length", "toecap_length"]), n_pairs, p=[0.5, 0.3, 0.2]
    )
    p_size = rng.integers(38, 44, n_pairs) + np.where(rng.random(n_pairs) < 0.1, 0.5, 0.0)
    p_day = rng.integers(0, 20, n_pairs)
    shoe = np.repeat(np.arange(n_pairs), 2)
    keep = ~((np.arange(2 * n_pairs) % 2 == 1) & (rng.random(2 * n_pairs) < 0.2))
    shoe = shoe[keep]
    n = len(shoe)
    prod = p_prod[shoe].astype(object)
    dim, size = p_dim[shoe], p_size[shoe].astype(float)
    pair = np.array([f"p{k}" for k in shoe], dtype=object)
    pair[rng.random(n) < p_no_pair] = None
    pair[rng.random(n) < 0.03] = "p0"
    foot = np.where(np.arange(2 * n_pairs)[keep] % 2 == 0, "L", "R").astype(object)
    foot[rng.random(n) < 0.1] = None
    date = pd.Series(pd.Timestamp("2025-03-01") + pd.to_timedelta(p_day[shoe], unit="D"))
    date[rng.random(n) > p_dated] = pd.NaT
    date[prod == "C"] = pd.NaT
    step = np.where(dim == "toecap_length", 5.0, 20.0 / 3.0)
    nominal = np.where(dim == "toecap_length", 200.0 + 5.0 * (size - 41), size * 20.0 / 3.0)
    grading = np.where(prod == "B", -1.6, 0.0)
    value = nominal + grading * (size - 41) + rng.normal(0.0, rng.uniform(0.2, 1.5), n)
    value = np.round(value, decimals)
    dev = value - nominal
    lower = np.where(dim == "toecap_length", nominal, nominal - TOL)
    upper = np.where(dim == "toecap_length", np.inf, nominal + TOL)
    status = np.where((value >= lower) & (value <= upper), "in_spec", "drifting").astype(object)
    status[np.abs(dev) > MISSIZED] = "missized"
    status[(dim == "toecap_length") & (dev < 0)] = "below_min"
    gone = rng.random(n) < 0.03
    status[gone] = "no_reference"
    nominal = np.where(gone, np.nan, nominal)
    dev = np.where(gone | (rng.random(n) < 0.02), np.nan, dev)
    size[rng.random(n) < 0.02] = np.nan
    prod[rng.random(n) < 0.02] = None
    frame = pd.DataFrame(
        {
            "source": np.where(rng.random(n) < 0.7, "a.csv", "b.xlsx"),
            "row": rng.permutation(n) + 2,
            "producer": pd.Series(prod, dtype="str"),
            "size_label": [f"{s:g}" if rng.random() < 0.9 else f"EU {s:g}" for s in size],
            "size": size,
            "foot": pd.Series(foot, dtype="str"),
            "pair": pd.Series(pair, dtype="str"),
            "date": date,
            "lot": pd.Series([f"L{k}" for k in rng.integers(0, 4, n)], dtype="str"),
            "dimension": dim,
            "value_mm": value,
            "nominal_mm": nominal,
            "deviation_mm": dev,
            "lower_mm": lower,
            "upper_mm": upper,
            "status": pd.Series(status, dtype="str"),
            "grade_step_mm": step,
            "nominal_step_mm": np.where(dim == "toecap_length", 1.0, np.nan),
        }
    )
    if not with_pairs:
        frame = frame.drop(columns=["pair", "foot"])
    if categorical:
        for col in ("source", "producer", "dimension", "status", "lot"):
            frame[col] = frame[col].astype("category")
    return frame
