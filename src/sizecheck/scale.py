"""Per-producer statistics from mergeable moments: the same numbers on data of any size.

The core of :func:`sizecheck.stats.producer_summary` (bias, overall spread and the
grading line of deviation on size) needs, per producer × dimension, six *centred*
moments of the deviations x (mm) and sizes s:

``n, mean_x, m2_x = Σ(x − x̄)², mean_s, m2_s = Σ(s − s̄)², c_sx = Σ(s − s̄)(x − x̄)``

Two sets of moments merge exactly (Chan, Golub & LeVeque, "Updating formulae and a
pairwise algorithm for computing sample variances", 1979/1983): with n = n_a + n_b and
δ_x = x̄_b − x̄_a, δ_s = s̄_b − s̄_a,

``x̄ = x̄_a + δ_x n_b / n,  m2_x = m2_x,a + m2_x,b + δ_x² n_a n_b / n,``
``c_sx = c_a + c_b + δ_s δ_x n_a n_b / n``,

and for k parts at once ``m2 = Σ m2_i + Σ n_i (x̄_i − x̄)²`` (the same identity applied
to all parts). Nothing is ever a raw sum of squares, so values far from zero keep their
digits (NIST StRD NumAcc1–4: tests/test_scale.py). :func:`partial_moments` takes the
moments of one pandas frame (two passes), :func:`merge_moments` merges parts (files,
partitions, machines) in any order, :func:`summarise_moments` turns them into
statistics, and :func:`producer_moments` does all of it on a Dask DataFrame (``pip
install 'sizecheck[dask]'``): each partition's moments are computed where the partition
lives and only the small tables of moments reach this process.

Not mergeable this way, and therefore left to :mod:`sizecheck.stats`: medians (grade
step), the moving-range spread in time order (``sd_within_mm``), intervals over pairs,
the reading resolution (``sd_overall_mm`` here is the plain SD, as
``producer_summary(..., resolution=0)`` gives it), the control-chart signals and
everything built on them (Cpk, verdicts).

Examples
--------
>>> import pandas as pd
>>> d = pd.DataFrame({"producer": "A", "dimension": "last_length",
...     "size": [40.0, 41.0, 42.0, 43.0], "deviation_mm": [1.0, 1.5, 2.0, 2.5],
...     "nominal_mm": 280.0, "status": "in_spec"})
>>> m = summarise_moments(partial_moments(d), base_size=42.0)
>>> m[["n", "bias_mm", "grade_error_mm_per_size", "offset_mm"]].to_dict("records")
[{'n': 4, 'bias_mm': 1.75, 'grade_error_mm_per_size': 0.5, 'offset_mm': 2.0}]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sizecheck.errors import InputError, UsageError, require_columns

if TYPE_CHECKING:
    import dask.dataframe as dd

__all__ = [
    "MOMENT_COLUMNS",
    "PART_COLUMNS",
    "merge_moments",
    "partial_moments",
    "producer_moments",
    "summarise_moments",
]

KEYS = ("producer", "dimension")

#: The mergeable moments per producer × dimension (x: deviation, s: size).
PART_COLUMNS = ("n", "mean_x", "m2_x", "mean_s", "m2_s", "c_sx")

#: Columns of :func:`summarise_moments` and :func:`producer_moments`.
MOMENT_COLUMNS = (
    "producer",
    "dimension",
    "n",
    "bias_mm",
    "sd_overall_mm",
    "grade_error_mm_per_size",
    "offset_mm",
)

_NEEDED = ("producer", "dimension", "size", "deviation_mm", "nominal_mm", "status")

#: ``m2_s`` at or below this share of Σs² counts as "a single size": no grading line.
_FLAT_SIZES = 1e-12


def _usable(frame: pd.DataFrame) -> pd.DataFrame:
    """The usable rows, as in :mod:`sizecheck.stats`: keys, size and deviation."""
    status = frame["status"].astype("str")
    keep = (status != "no_reference").to_numpy(dtype=np.bool_, na_value=False)
    for name in ("nominal_mm", "deviation_mm", "size", *KEYS):
        keep = keep & frame[name].notna().to_numpy(dtype=np.bool_)
    rows = frame.loc[keep, list(_NEEDED)]
    return pd.DataFrame(
        {
            "producer": rows["producer"].astype("str").to_numpy(),
            "dimension": rows["dimension"].astype("str").to_numpy(),
            "x": rows["deviation_mm"].to_numpy(dtype=np.float64),
            "s": rows["size"].to_numpy(dtype=np.float64),
        }
    )


def partial_moments(deviations: pd.DataFrame) -> pd.DataFrame:
    """The centred moments of one pandas frame, one row per producer × dimension.

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` frame of :func:`sizecheck.compare.compare` (or any part of
        it); rows with status ``no_reference`` or a missing nominal, deviation, size,
        producer or dimension are left out, as in :mod:`sizecheck.stats`. Not modified.

    Returns
    -------
    DataFrame
        ``producer, dimension`` and :data:`PART_COLUMNS`, sorted by producer, dimension.
        Means by two passes (mean, then the mean of what is left), sums of squares and
        products over the centred values.
    """
    require_columns(deviations, _NEEDED, "partial_moments()", hint="Pass sizecheck deviations.")
    rows = _usable(deviations)
    if not np.isfinite(rows[["x", "s"]].to_numpy()).all():
        raise InputError(
            "partial_moments(): an infinite size or deviation_mm on a usable row; "
            "statistics need finite numbers (compare() never writes one)."
        )
    grouped = rows.groupby(list(KEYS), sort=True)
    n = grouped["x"].transform("size").to_numpy(dtype=np.float64)
    for v in ("x", "s"):
        mean = grouped[v].transform("mean").to_numpy()
        rows[f"d{v}"] = rows[v].to_numpy() - mean
        rows[f"mean_{v}"] = mean + rows.groupby(list(KEYS))[f"d{v}"].transform("sum") / n
        rows[f"d{v}"] = rows[v].to_numpy() - rows[f"mean_{v}"].to_numpy()
    rows["m2_x"], rows["m2_s"] = rows["dx"] ** 2, rows["ds"] ** 2
    rows["c_sx"] = rows["ds"] * rows["dx"]
    out = rows.groupby(list(KEYS), sort=True).agg(
        n=("x", "size"), mean_x=("mean_x", "first"), m2_x=("m2_x", "sum"),
        mean_s=("mean_s", "first"), m2_s=("m2_s", "sum"), c_sx=("c_sx", "sum"),
    )  # fmt: skip
    return out.reset_index()


def merge_moments(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Merge moments of :func:`partial_moments` (files, partitions, machines), any order.

    Per producer × dimension, with parts i = 1 … k: n = Σ n_i, x̄ = Σ n_i x̄_i / n,
    m2_x = Σ m2_x,i + Σ n_i (x̄_i − x̄)², likewise for s, and
    c_sx = Σ c_sx,i + Σ n_i (s̄_i − s̄)(x̄_i − x̄) (Chan, Golub & LeVeque; module docstring).
    """
    frames = [p for p in parts if len(p)]
    if not frames:
        return pd.DataFrame({c: [] for c in (*KEYS, *PART_COLUMNS)})
    p = pd.concat(frames, ignore_index=True)
    require_columns(p, (*KEYS, *PART_COLUMNS), "merge_moments()", error=UsageError)
    p = p.astype({"n": np.float64})
    by = p.groupby(list(KEYS), sort=True)
    total = by["n"].transform("sum")
    mean_x = (p["n"] * p["mean_x"]).groupby([p[k] for k in KEYS]).transform("sum") / total
    mean_s = (p["n"] * p["mean_s"]).groupby([p[k] for k in KEYS]).transform("sum") / total
    dx, ds = p["mean_x"] - mean_x, p["mean_s"] - mean_s
    p = p.assign(
        mean_x=mean_x, mean_s=mean_s, m2_x=p["m2_x"] + p["n"] * dx * dx,
        m2_s=p["m2_s"] + p["n"] * ds * ds, c_sx=p["c_sx"] + p["n"] * ds * dx,
    )  # fmt: skip
    out = p.groupby(list(KEYS), sort=True).agg(
        n=("n", "sum"), mean_x=("mean_x", "first"), m2_x=("m2_x", "sum"),
        mean_s=("mean_s", "first"), m2_s=("m2_s", "sum"), c_sx=("c_sx", "sum"),
    )  # fmt: skip
    out["n"] = out["n"].astype(np.int64)
    return out.reset_index()


def summarise_moments(moments: pd.DataFrame, *, base_size: float) -> pd.DataFrame:
    """Bias, overall SD, grading slope and offset per producer × dimension.

    - ``bias_mm = x̄``; ``sd_overall_mm = √(m2_x / (n − 1))``;
    - ``grade_error_mm_per_size = c_sx / m2_s`` (OLS slope of deviation on size);
    - ``offset_mm``: that line at ``base_size``, ``x̄ + slope · (base_size − s̄)``.

    The slope and offset are NaN with fewer than 3 values or a single size, as in
    :func:`sizecheck.stats.producer_summary`.

    Parameters
    ----------
    moments : DataFrame
        ``producer, dimension`` and :data:`PART_COLUMNS` (from :func:`partial_moments`
        or :func:`merge_moments`).
    base_size : float
        Where the offset is read off the line (the table's base size).

    Returns
    -------
    DataFrame
        :data:`MOMENT_COLUMNS`, sorted by producer and dimension.
    """
    require_columns(moments, (*KEYS, *PART_COLUMNS), "summarise_moments()", error=UsageError)
    m = moments.sort_values(list(KEYS), kind="stable").reset_index(drop=True)
    n, mean_x, m2_x, mean_s, m2_s, c_sx = (m[c].to_numpy(dtype=np.float64) for c in PART_COLUMNS)
    with np.errstate(invalid="ignore", divide="ignore"):
        sum_ss = m2_s + n * mean_s * mean_s  # Σ s², only to judge "a single size"
        has_line = (n >= 3) & (m2_s > _FLAT_SIZES * np.maximum(sum_ss, np.finfo(float).tiny))
        slope = np.where(has_line, c_sx / np.where(has_line, m2_s, 1.0), np.nan)
        sd = np.where(n >= 2, np.sqrt(m2_x / (n - 1)), np.nan)
    return pd.DataFrame(
        {
            "producer": m["producer"].astype("str"),
            "dimension": m["dimension"].astype("str"),
            "n": m["n"].to_numpy(dtype=np.int64),
            "bias_mm": mean_x,
            "sd_overall_mm": sd,
            "grade_error_mm_per_size": slope,
            "offset_mm": np.where(has_line, mean_x + slope * (float(base_size) - mean_s), np.nan),
        }
    )


def producer_moments(ddf: dd.DataFrame, *, base_size: float = 42.0) -> pd.DataFrame:
    """:func:`summarise_moments` of a Dask DataFrame of deviations.

    Each partition is reduced to its moments per producer × dimension where it lives
    (:func:`partial_moments`); only those small tables reach this process, where
    :func:`merge_moments` merges them.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Deviations with at least ``producer, dimension, size, deviation_mm, nominal_mm,
        status`` (e.g. ``dask.dataframe.from_pandas(compare(...).deviations,
        npartitions=8)``, or many files read with ``dask.dataframe.read_csv`` and
        compared partition by partition).
    base_size : float, default 42.0
        The table's base size, where ``offset_mm`` is read.

    Returns
    -------
    pandas.DataFrame
        :data:`MOMENT_COLUMNS`, one row per producer × dimension.

    Raises
    ------
    ImportError
        Dask is not installed (``pip install 'sizecheck[dask]'``).
    """
    try:
        import dask.dataframe  # noqa: F401  (the optional extra)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("producer_moments() needs Dask: pip install 'sizecheck[dask]'.") from exc
    require_columns(ddf, _NEEDED, "producer_moments()", hint="Pass sizecheck deviations.")
    meta: Any = partial_moments(ddf._meta)
    parts = ddf.map_partitions(partial_moments, meta=meta).compute()  # type: ignore[no-untyped-call]
    return summarise_moments(merge_moments([parts]), base_size=base_size)
