"""Per-producer statistics from mergeable sums: the same numbers on data of any size.

The core of :func:`sizecheck.stats.producer_summary` (bias, overall spread and the
grading line of deviation on size) needs, per producer × dimension, only six sums:

``n, Σx, Σx², Σs, Σs², Σs·x``   (x = deviation in mm, s = size)

Sums merge by addition, so they can be taken per file, per partition or per machine and
added up in any order. :func:`partial_sums` computes them for one pandas frame,
:func:`merge_sums` adds several, :func:`moments_from_sums` turns them into statistics, and
:func:`producer_moments` does all of it on a Dask DataFrame (``pip install
'sizecheck[dask]'``), where Dask runs the per-partition sums on many cores or a cluster
and reduces them as a tree.

Numerics: one-pass sums of squares lose digits when the values sit far from zero. Sizes
are therefore shifted by the table's base size and deviations by a reference value per
dimension (default 0: deviations are already measured − nominal) *before* summing, so
the sums hold small numbers; the centred quantities ``Σ(s − s̄)² = Σs² − (Σs)²/n`` etc.
are then accurate to about 1e-12 relative for shoe data (the pandas path uses two-pass
centred formulas; both agree to better than 1e-9).

Not mergeable as plain sums, and therefore left to :mod:`sizecheck.stats`: medians
(grade step), the moving-range spread in time order (``sd_within_mm``), the control-chart
signals and everything built on them (Cpk, verdicts).

Examples
--------
>>> import pandas as pd
>>> d = pd.DataFrame({"producer": "A", "dimension": "last_length",
...     "size": [40.0, 41.0, 42.0, 43.0], "deviation_mm": [1.0, 1.5, 2.0, 2.5],
...     "nominal_mm": 280.0, "status": "in_spec"})
>>> m = moments_from_sums(partial_sums(d, base_size=42.0), base_size=42.0)
>>> m[["n", "bias_mm", "grade_error_mm_per_size", "offset_mm"]].to_dict("records")
[{'n': 4, 'bias_mm': 1.75, 'grade_error_mm_per_size': 0.5, 'offset_mm': 2.0}]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sizecheck.errors import UsageError, require_columns

if TYPE_CHECKING:
    import dask.dataframe as dd

__all__ = [
    "MOMENT_COLUMNS",
    "SUM_COLUMNS",
    "merge_sums",
    "moments_from_sums",
    "partial_sums",
    "producer_moments",
]

KEYS = ("producer", "dimension")

#: The mergeable sums per producer × dimension (x: shifted deviation, s: shifted size).
SUM_COLUMNS = ("n", "sum_x", "sum_xx", "sum_s", "sum_ss", "sum_sx")

#: Columns of :func:`moments_from_sums` and :func:`producer_moments`.
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

#: ``Σ(s - s̄)²`` below this share of ``Σs²`` counts as "a single size": no grading line.
_FLAT_SIZES = 1e-12


def _check(frame: Any, what: str) -> None:
    require_columns(frame, _NEEDED, what, hint="Pass the deviations of sizecheck.compare.")


def _terms(
    frame: pd.DataFrame, base_size: float, deviation_ref: float | Mapping[str, float]
) -> pd.DataFrame:
    """Usable rows of ``frame`` as the per-row terms whose sums are :data:`SUM_COLUMNS`."""
    status = frame["status"].astype("str")
    keep = (
        (status != "no_reference").to_numpy(dtype=np.bool_, na_value=False)
        & frame["nominal_mm"].notna().to_numpy()
        & frame["deviation_mm"].notna().to_numpy()
        & frame["size"].notna().to_numpy()
        & frame["producer"].notna().to_numpy()
        & frame["dimension"].notna().to_numpy()
    )
    rows = frame.loc[keep, list(_NEEDED)]
    dim = rows["dimension"].astype("str")
    if isinstance(deviation_ref, Mapping):
        ref = dim.map(dict(deviation_ref)).fillna(0.0).to_numpy(dtype=np.float64)
    else:
        ref = np.full(len(rows), float(deviation_ref))
    s = rows["size"].to_numpy(dtype=np.float64) - float(base_size)
    x = rows["deviation_mm"].to_numpy(dtype=np.float64) - ref
    return pd.DataFrame(
        {
            "producer": rows["producer"].astype("str").to_numpy(),
            "dimension": dim.to_numpy(),
            "n": np.ones(len(rows), dtype=np.int64),
            "sum_x": x,
            "sum_xx": x * x,
            "sum_s": s,
            "sum_ss": s * s,
            "sum_sx": s * x,
        }
    )


def partial_sums(
    deviations: pd.DataFrame,
    *,
    base_size: float,
    deviation_ref: float | Mapping[str, float] = 0.0,
) -> pd.DataFrame:
    """The mergeable sums of one pandas frame, one row per producer × dimension.

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` frame of :func:`sizecheck.compare.compare` (or any part of
        it); rows with status ``no_reference`` or a missing nominal, deviation, size,
        producer or dimension are left out, as in :mod:`sizecheck.stats`. Not modified.
    base_size : float
        Sizes are summed as ``size - base_size`` (use the table's base size).
    deviation_ref : float or mapping of dimension to float, default 0.0
        Deviations are summed as ``deviation_mm - deviation_ref``; dimensions missing
        from a mapping use 0.

    Returns
    -------
    DataFrame
        ``producer, dimension`` and :data:`SUM_COLUMNS`, sorted by producer, dimension.
    """
    _check(deviations, "partial_sums()")
    terms = _terms(deviations, base_size, deviation_ref)
    sums = terms.groupby(list(KEYS), sort=True, observed=True).sum()
    return sums.reset_index()


def merge_sums(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Add up sums from :func:`partial_sums` (files, partitions, machines), in any order.

    Every part must have been taken with the same ``base_size`` and ``deviation_ref``.
    """
    frames = [p for p in parts if len(p)]
    if not frames:
        return pd.DataFrame({c: [] for c in (*KEYS, *SUM_COLUMNS)})
    merged = pd.concat(frames, ignore_index=True).groupby(list(KEYS), sort=True).sum()
    return merged.reset_index()


def moments_from_sums(
    sums: pd.DataFrame,
    *,
    base_size: float,
    deviation_ref: float | Mapping[str, float] = 0.0,
) -> pd.DataFrame:
    """Bias, overall SD, grading slope and offset per producer × dimension from the sums.

    With ``s`` and ``x`` the shifted size and deviation and ``n`` values in a group:

    - ``bias_mm = Σx / n + deviation_ref``;
    - ``sd_overall_mm = sqrt((Σx² − (Σx)²/n) / (n − 1))``;
    - ``grade_error_mm_per_size = Sxy / Sss`` with ``Sss = Σs² − (Σs)²/n`` and
      ``Sxy = Σs·x − Σs·Σx/n`` (OLS slope of deviation on size);
    - ``offset_mm``: that line at ``base_size``, ``bias_mm − slope · Σs/n``.

    The slope and offset are NaN with fewer than 3 values or a single size, as in
    :func:`sizecheck.stats.producer_summary`.

    Parameters
    ----------
    sums : DataFrame
        ``producer, dimension`` and :data:`SUM_COLUMNS` (from :func:`partial_sums`,
        :func:`merge_sums` or a Dask reduction).
    base_size, deviation_ref
        The shifts the sums were taken with.

    Returns
    -------
    DataFrame
        :data:`MOMENT_COLUMNS`, sorted by producer and dimension.
    """
    require_columns(sums, (*KEYS, *SUM_COLUMNS), "moments_from_sums()", error=UsageError)
    s = sums.sort_values(list(KEYS), kind="stable").reset_index(drop=True)
    n = s["n"].to_numpy(dtype=np.float64)
    sx = s["sum_x"].to_numpy(dtype=np.float64)
    sxx = s["sum_xx"].to_numpy(dtype=np.float64)
    ss = s["sum_s"].to_numpy(dtype=np.float64)
    sss = s["sum_ss"].to_numpy(dtype=np.float64)
    ssx = s["sum_sx"].to_numpy(dtype=np.float64)
    dim = s["dimension"].astype("str")
    if isinstance(deviation_ref, Mapping):
        ref = dim.map(dict(deviation_ref)).fillna(0.0).to_numpy(dtype=np.float64)
    else:
        ref = np.full(len(s), float(deviation_ref))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x = sx / n
        syy = np.maximum(sxx - sx * mean_x, 0.0)
        sd = np.sqrt(syy / (n - 1))
        s_mean = ss / n
        s_ss = np.maximum(sss - ss * s_mean, 0.0)
        s_xy = ssx - ss * mean_x
        has_line = (n >= 3) & (s_ss > _FLAT_SIZES * np.maximum(sss, np.finfo(float).tiny))
        slope = np.where(has_line, s_xy / np.where(has_line, s_ss, 1.0), np.nan)
        bias = mean_x + ref
        offset = np.where(has_line, bias - slope * s_mean, np.nan)  # the line at s = 0
    return pd.DataFrame(
        {
            "producer": s["producer"].astype("str"),
            "dimension": dim,
            "n": s["n"].to_numpy(dtype=np.int64),
            "bias_mm": bias,
            "sd_overall_mm": np.where(n >= 2, sd, np.nan),
            "grade_error_mm_per_size": slope,
            "offset_mm": offset,
        }
    )


def producer_moments(
    ddf: dd.DataFrame,
    *,
    base_size: float = 42.0,
    deviation_ref: float | Mapping[str, float] = 0.0,
) -> pd.DataFrame:
    """:func:`moments_from_sums` of a Dask DataFrame of deviations.

    Each partition is reduced to its :data:`SUM_COLUMNS` per producer × dimension; Dask
    adds the partial sums as a tree (on the cores of one machine or the workers of a
    cluster) and only the small table of sums reaches this process.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Deviations with at least ``producer, dimension, size, deviation_mm, nominal_mm,
        status`` (e.g. ``dask.dataframe.from_pandas(compare(...).deviations,
        npartitions=8)``, or many files read with ``dask.dataframe.read_csv`` and
        compared partition by partition).
    base_size : float, default 42.0
        The table's base size: sizes are shifted by it and ``offset_mm`` is read there.
    deviation_ref : float or mapping, default 0.0
        Shift of the deviations per dimension before summing.

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
    _check(ddf, "producer_moments()")
    meta = _terms(ddf._meta, base_size, deviation_ref)
    terms = ddf.map_partitions(  # type: ignore[no-untyped-call]
        _terms, base_size, deviation_ref, meta=meta
    )
    sums = terms.groupby(list(KEYS), sort=False).sum().compute()
    return moments_from_sums(sums.reset_index(), base_size=base_size, deviation_ref=deviation_ref)
