"""Per size and between producers: ``size_summary``, ``compare_producers``,
``size_equivalents`` and ``welch_anova``."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from sizecheck import columns
from sizecheck.errors import UsageError
from sizecheck.stats import kernels, reference
from sizecheck.stats.groups import Groups, check_columns, decode, prepare
from sizecheck.stats.reference import NO_SPREAD_MM2, gap_interval, sigma_floor, t_quantile

__all__ = [
    "COMPARISON_COLUMNS",
    "SIZE_EXTRA_COLUMNS",
    "SIZE_SUMMARY_COLUMNS",
    "compare_producers",
    "size_equivalents",
    "size_summary",
    "size_table",
    "welch_anova",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SIZE_SUMMARY_COLUMNS = columns.SIZE_SUMMARY
COMPARISON_COLUMNS = columns.COMPARISON

#: The columns size_summary and compare_producers need.
SIZE_NEEDED = ("producer", "size", "dimension", "value_mm", "nominal_mm", "deviation_mm", "status")


#: Columns of :func:`size_summary` after the contract ones: what Welch's ANOVA in
#: :func:`compare_producers` reads.
SIZE_EXTRA_COLUMNS: tuple[str, ...] = (
    "n_units", "bias_se_mm", "grade_step_mm", "resolution_mm", "effective_size_se",
)  # fmt: skip


def _cells(groups: Groups) -> tuple[IntArray, IntArray, pd.DataFrame]:
    """The cell (group × size, sorted) of each row, the group of each cell, and one key
    row per cell."""
    size_code, sizes = pd.factorize(groups.size, sort=True)
    dims = (max(groups.ng, 1), max(len(sizes), 1))
    combined = np.ravel_multi_index((groups.group, size_code), dims)
    cell, present = pd.factorize(combined, sort=True)
    cell_group, cell_size = np.unravel_index(np.asarray(present, dtype=np.int64), dims)
    keys = groups.keys.iloc[cell_group].reset_index(drop=True)
    keys["size"] = np.asarray(sizes, dtype=np.float64)[cell_size]
    return np.asarray(cell, dtype=np.int64), np.asarray(cell_group, dtype=np.int64), keys


def _modal_labels(groups: Groups, cell: IntArray, nc: int) -> pd.Series:
    """:func:`reference.modal_label` per cell."""
    if not groups.has("size_label") or not len(cell):
        return pd.Series([pd.NA] * nc, dtype="str")
    codes, labels = groups.codes("size_label", sort=True)
    best = kernels.modal_code(cell, codes, nc)
    return pd.Series(decode(best, labels), dtype="str")


def _bias(
    groups: Groups, cell: IntArray, cell_group: IntArray, confidence: float,
    resolution: float | None,
) -> tuple[kernels.Intervals, FloatArray]:  # fmt: skip
    """The bias interval per cell, its SE over units not below resolution / √12 / √n
    (the producer × dimension's resolution, as in producer_summary); blank (NaN) where the
    resolution is unknown and the readings show no spread. Also the resolution per cell."""
    nc = len(cell_group)
    if resolution is None:
        r = kernels.reading_resolutions(groups.column("value_mm"), groups.bounds)[cell_group]
    else:
        r = np.full(nc, float(resolution))
    b = kernels.bias_intervals(cell, groups.unit, groups.visit, groups.deviation, nc, confidence)[0]
    n = np.bincount(cell, minlength=nc).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = sigma_floor(b.se * np.sqrt(n), r)[0] / np.sqrt(n)
        se = np.where((r <= 0) & (se * np.sqrt(n) <= math.sqrt(NO_SPREAD_MM2)), np.nan, se)
    t = t_quantile(confidence, b.df)
    return kernels.Intervals(b.estimate, se, b.df, b.estimate - t * se, b.estimate + t * se), r


def size_table(groups: Groups, confidence: float, resolution: float | None = None) -> pd.DataFrame:
    """:func:`size_summary` of the rows of ``groups`` (any subset, e.g. a period), with
    the group's key columns first and :data:`SIZE_EXTRA_COLUMNS` after the contract ones."""
    cell, cell_group, out = _cells(groups)
    nc = len(out)
    n = np.bincount(cell, minlength=nc).astype(np.float64)
    value = groups.column("value_mm")
    mean = kernels.group_mean(cell, value, nc)
    bias, r = _bias(groups, cell, cell_group, confidence, resolution)
    step = np.full(nc, np.nan)
    if groups.has("grade_step_mm"):
        step = kernels.group_median(cell, groups.column("grade_step_mm"), nc)
    label_step = np.full(nc, np.nan)
    if groups.has("nominal_step_mm"):
        label_step = kernels.group_median(cell, groups.column("nominal_step_mm"), nc)
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.where(step > 0, step, np.nan)
        label_step = np.where(label_step > 0, label_step, step)
        out["n"] = n.astype(np.int64)
        out["mean_mm"] = mean
        out["nominal_mm"] = kernels.group_mean(cell, groups.column("nominal_mm"), nc)
        out["bias_mm"] = bias.estimate
        out["sd_mm"] = np.sqrt(kernels.sum_of_squares(cell, value, mean) / (n - 1))
        out["effective_size"] = out["size"].to_numpy() + bias.estimate / label_step
        out["size_label"] = _modal_labels(groups, cell, nc)
        out["bias_ci_low_mm"] = bias.low
        out["bias_ci_high_mm"] = bias.high
        out["bias_sizes"] = bias.estimate / step
        out["n_units"] = (bias.df + 1).astype(np.int64)
        out["bias_se_mm"] = bias.se
        out["grade_step_mm"] = step
        out["resolution_mm"] = r
        size = out["size"].to_numpy(dtype=np.float64)
        out["effective_size_ci_low"] = size + bias.low / label_step
        out["effective_size_ci_high"] = size + bias.high / label_step
        out["effective_size_se"] = bias.se / label_step
    head = [c for c in groups.keys.columns if c not in SIZE_SUMMARY_COLUMNS]  # e.g. model
    return out.loc[:, [*head, *SIZE_SUMMARY_COLUMNS, *SIZE_EXTRA_COLUMNS]]


def size_summary(
    deviations: pd.DataFrame,
    *,
    confidence: float = 0.95,
    groups: Groups | None = None,
    resolution: float | None = None,
) -> pd.DataFrame:
    """One row per producer × dimension × size: mean, bias and effective size.

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` frame of :func:`sizecheck.compare.compare`; rows with status
        ``no_reference`` or a missing nominal, deviation or size are left out. Not modified.
    confidence : float, default 0.95
        Level of the bias interval.
    groups : Groups, optional
        :func:`sizecheck.stats.prepare` of ``deviations``, when already built.
    resolution : float, optional
        Reading resolution (mm); default inferred per producer × dimension, as in
        :func:`producer_summary`: the bias interval's σ is not taken below
        resolution / √12, and is left blank when no resolution is known and the
        readings show no spread.

    Returns
    -------
    DataFrame
        Sorted by producer, dimension, size, with columns (the ``size_summary.csv``
        contract, :data:`sizecheck.columns.SIZE_SUMMARY`):

        - ``producer``, ``dimension``, ``size`` (in the table's size system).
        - ``n``: measurements.
        - ``mean_mm``: mean measured value.
        - ``nominal_mm``: the table's nominal value at this size (mean over rows).
        - ``bias_mm``: mean deviation (measured − nominal).
        - ``sd_mm``: sample standard deviation of the measurements (NaN when n = 1).
        - ``effective_size``: ``size + bias_mm / nominal_step_mm`` in label units ("your
          41 is a 41.6"; Mondopoint 260 + 4.9 mm is 264.9); ``nominal_step_mm`` is the
          nominal's mm per label unit, the grade step when that column is absent or NaN
          (tabulated tables, EU: the same); NaN when neither is known
          (:func:`~sizecheck.stats.reference.effective_size`).
        - ``size_label``: the label as written most often for this size (first in sort
          order on ties).
        - ``bias_ci_low_mm``, ``bias_ci_high_mm``: t-interval of the bias over the
          independent unit (:func:`~sizecheck.stats.reference.bias_interval`): the visit
          (CR2, G − 1 df) when the cell's shoes come from two visits or more, else the
          pair (the ordinary n − 1 df interval without pair ids).
        - ``bias_sizes``: ``bias_mm`` / grade step.
        - ``effective_size_ci_low``, ``effective_size_ci_high``: the effective size at
          the ends of the bias interval (size + bias_ci / nominal_step_mm): the interval
          of the effective size.

        Then (:data:`SIZE_EXTRA_COLUMNS`, read by :func:`compare_producers` and
        :func:`size_equivalents`):
        ``n_units`` (independent units G: visits, or pairs and shoes without a pair id),
        ``bias_se_mm`` (the standard error of ``bias_mm`` over them),
        ``grade_step_mm`` (the dimension's grade step, NaN when unknown),
        ``resolution_mm`` (the reading resolution used; 0: unknown) and
        ``effective_size_se`` (the standard error of ``effective_size``, label units,
        with ``n_units`` − 1 df).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"producer": "A", "size": [41.0, 41.0], "dimension": "insole_length",
    ...     "value_mm": [277.0, 277.4], "nominal_mm": 820 / 3, "status": "in_spec",
    ...     "grade_step_mm": 20 / 3})
    >>> d["deviation_mm"] = d["value_mm"] - d["nominal_mm"]
    >>> s = size_summary(d)
    >>> round(float(s.loc[0, "effective_size"]), 2)
    41.58
    """
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    check_columns(deviations, SIZE_NEEDED, "size_summary()")
    return size_table(groups or prepare(deviations), confidence, resolution)


def welch_anova(data: pd.DataFrame, *, dv: str, between: str) -> pd.DataFrame:
    """Welch's (1951) one-way ANOVA for groups with unequal variances.

    scipy has no Welch ANOVA; this is the test R runs as ``oneway.test(var.equal = FALSE)``
    (:func:`sizecheck.stats.reference.welch_anova`). Groups with fewer than two values or
    zero variance are left out.

    Parameters
    ----------
    data : DataFrame
        Long frame; not modified.
    dv : str
        Column of values.
    between : str
        Column naming the group of each value.

    Returns
    -------
    DataFrame
        One row: ``k`` (groups used), ``f``, ``df1``, ``df2``, ``p``, and two effect
        sizes over the same groups, ``eta2`` (η²) and ``omega2`` (ω²): the share of the
        values' variance that lies between the groups, in the sample and estimated for
        the population (:func:`sizecheck.stats.reference.anova_effect_sizes`, formulas
        and sources there). ``p`` says whether the groups differ; ``omega2`` how much.

    Examples
    --------
    Student's sleep data (R ``datasets::sleep``), for which R's ``t.test`` reports Welch
    t = -1.8608, df = 17.776, p = 0.07939; with two groups F = t².

    >>> import pandas as pd
    >>> extra = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0,
    ...          1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    >>> d = pd.DataFrame({"extra": extra, "group": [1] * 10 + [2] * 10})
    >>> welch_anova(d, dv="extra", between="group").round(4)
       k       f  df1      df2       p    eta2  omega2
    0  2  3.4626  1.0  17.7765  0.0794  0.1613  0.1096
    """
    check_columns(data, (dv, between), "welch_anova()")
    sub = data[[between, dv]].dropna()
    codes = np.asarray(pd.factorize(sub[between], sort=True)[0], dtype=np.int64)
    x = sub[dv].to_numpy(dtype=np.float64)
    ng = int(codes.max()) + 1 if len(codes) else 0
    n = np.bincount(codes, minlength=ng).astype(np.float64)
    mean = kernels.group_mean(codes, x, ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = kernels.sum_of_squares(codes, x, mean) / (n - 1)
    k, f, df1, df2, p = kernels.welch_anova(np.zeros(ng, dtype=np.int64), n, mean, var, 1)
    eta2, omega2 = reference.anova_effect_sizes(n, mean, var)
    return pd.DataFrame(
        {"k": k.astype(np.int64), "f": f, "df1": df1, "df2": df2, "p": p,
         "eta2": [eta2], "omega2": [omega2]}
    )  # fmt: skip


def compare_producers(
    deviations: pd.DataFrame,
    *,
    groups: Groups | None = None,
    size_summary: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Between producers, per dimension and size: how far apart are their means?

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` frame of :func:`sizecheck.compare.compare`. Not modified.
    groups : Groups, optional
        :func:`sizecheck.stats.prepare` of ``deviations``, when already built.
    size_summary : DataFrame, optional
        :func:`size_summary` of ``deviations`` at confidence 0.95, when already built:
        the comparison is computed from it (its means, units and standard errors).

    Returns
    -------
    DataFrame
        One row per dimension × size, sorted, with columns:

        - ``dimension``, ``size``.
        - ``n_producers``: producers with at least one measurement at this size; ``n``:
          measurements.
        - ``mean_min_mm``, ``mean_max_mm``: the lowest and highest producer mean of the
          measured value; ``lowest_producer``, ``highest_producer``: whose they are.
          (Each producer's own mean is in :func:`size_summary`.)
        - ``spread_mm``: ``mean_max_mm − mean_min_mm``; ``spread_sizes``: the same divided
          by the dimension's grade step.
        - ``welch_k``: producers entering Welch's ANOVA (at least two pairs and non-zero
          variance); ``welch_f``, ``welch_df1``, ``welch_df2``, ``welch_p``: Welch's (1951)
          test that all producer means are equal (NaN when ``welch_k`` < 2). The two shoes
          of a pair are not independent, so each producer enters with its G units: weight
          1 / SE² of its mean and G − 1 df, SE over units as in :func:`size_summary`
          (with both feet of every pair measured this is Welch's ANOVA on the pair means;
          without pair ids, on the shoes).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"producer": ["A"] * 3 + ["B"] * 3, "size": 41.0,
    ...     "dimension": "insole_length", "nominal_mm": 820 / 3, "status": "in_spec",
    ...     "value_mm": [273.0, 273.4, 273.2, 277.0, 277.5, 276.9], "grade_step_mm": 20 / 3})
    >>> d["deviation_mm"] = d["value_mm"] - d["nominal_mm"]
    >>> c = compare_producers(d)
    >>> c[["n_producers", "lowest_producer", "highest_producer"]]
       n_producers lowest_producer highest_producer
    0            2               A                B
    >>> round(float(c.loc[0, "spread_sizes"]), 2)
    0.59
    """
    check_columns(deviations, SIZE_NEEDED, "compare_producers()")
    s = (
        size_summary
        if size_summary is not None
        else size_table(groups or prepare(deviations), 0.95, None)
    )
    check_columns(s, (*SIZE_SUMMARY_COLUMNS, *SIZE_EXTRA_COLUMNS), "compare_producers()")
    cell = np.asarray(s.groupby(["dimension", "size"], sort=True).ngroup(), dtype=np.int64)
    ncell = int(cell.max()) + 1 if len(cell) else 0
    mean = s["mean_mm"].to_numpy(dtype=np.float64)
    # within each cell, rows by mean (ties in producer order): the first is the lowest
    order = np.lexsort((mean, cell))
    lo_row = order[np.searchsorted(cell[order], np.arange(ncell), side="left")]
    hi_row = order[np.searchsorted(cell[order], np.arange(ncell), side="right") - 1]
    n = s["n"].to_numpy(dtype=np.float64)
    # Welch on units: each producer enters with G units and a unit-level variance G · SE²,
    # so that its weight G / variance is 1 / SE² of its mean
    units = s["n_units"].to_numpy(dtype=np.float64)
    se = s["bias_se_mm"].to_numpy(dtype=np.float64)
    k, f, df1, df2, p = kernels.welch_anova(cell, units, mean, units * se**2, ncell)
    cell_step = kernels.group_median(cell, s["grade_step_mm"].to_numpy(dtype=np.float64), ncell)
    producer = s["producer"].to_numpy()
    spread = mean[hi_row] - mean[lo_row]
    out = pd.DataFrame(
        {
            "dimension": s["dimension"].to_numpy()[lo_row],
            "size": s["size"].to_numpy()[lo_row],
            "n_producers": np.bincount(cell, minlength=ncell).astype(np.int64),
            "n": kernels.group_sum(cell, n, ncell).astype(np.int64),
            "mean_min_mm": mean[lo_row],
            "mean_max_mm": mean[hi_row],
            "lowest_producer": producer[lo_row],
            "highest_producer": producer[hi_row],
            "spread_mm": spread,
            "spread_sizes": spread / cell_step,
            "welch_k": k.astype(np.int64),
            "welch_f": f,
            "welch_df1": df1,
            "welch_df2": df2,
            "welch_p": p,
        }
    )
    out = out.astype({"dimension": "str", "lowest_producer": "str", "highest_producer": "str"})
    return out.loc[:, list(COMPARISON_COLUMNS)]


def size_equivalents(
    size_summary: pd.DataFrame, *, max_gap_sizes: float = 0.25, confidence: float = 0.95
) -> pd.DataFrame:
    """Which producer's labelled size matches another producer's *different* size?

    Two producer sizes match — "A's 41 is B's 42" — when their labels differ, their
    effective sizes (size + bias / grade step, from :func:`size_summary`) lie within
    ``max_gap_sizes`` of each other on the reference scale, *and* the ``confidence``
    interval of the gap lies within ±0.5 label units, so that the match is not also a
    match with the neighbouring size: no match is claimed whose interval spans a whole
    size (cells of a few shoes rarely qualify). The gap's interval is Welch's
    (:func:`~sizecheck.stats.reference.gap_interval`) from each effective size's
    standard error and ``n_units`` − 1 df (the visit or the pair as the unit, as in
    :func:`size_summary`).

    Parameters
    ----------
    size_summary : DataFrame
        Output of :func:`size_summary` (needs producer, dimension, size, effective_size,
        effective_size_se, n_units). Not modified.
    max_gap_sizes : float, default 0.25
        Largest |effective_size_a − effective_size_b| that counts as a match.
    confidence : float, default 0.95
        Level of the gap's interval.

    Returns
    -------
    DataFrame
        One row per matching pair (each unordered pair once, ``producer_a`` < ``producer_b``),
        sorted by dimension, producer_a, size_a, producer_b, size_b: ``dimension``,
        ``producer_a``, ``size_a``, ``effective_size_a``, ``producer_b``, ``size_b``,
        ``effective_size_b``, ``gap_sizes`` (= effective_size_a − effective_size_b),
        ``gap_ci_low``, ``gap_ci_high`` (its interval).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"producer": ["A", "B", "B"], "dimension": "insole_length",
    ...     "size": [41.0, 41.0, 42.0], "effective_size": [41.9, 41.0, 42.0],
    ...     "effective_size_se": 0.05, "n_units": 12})
    >>> size_equivalents(s)[["producer_a", "size_a", "producer_b", "size_b"]]
      producer_a  size_a producer_b  size_b
    0          A    41.0          B    42.0
    """
    needed = ("producer", "dimension", "size", "effective_size", "effective_size_se", "n_units")
    check_columns(size_summary, needed, "size_equivalents()")
    if not max_gap_sizes >= 0:
        raise UsageError(f"max_gap_sizes must be >= 0, got {max_gap_sizes}.")
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    s = size_summary.loc[:, list(needed)]
    s = s[s["effective_size"].notna()]
    dcode = pd.factorize(s["dimension"], sort=True)[0].astype(np.float64)
    eff = s["effective_size"].to_numpy(dtype=np.float64)
    # place dimensions far apart on one axis, sort it, and pair each row i with the rows j
    # after it that lie within max_gap_sizes (found by one searchsorted)
    span = float(np.nanmax(np.abs(eff))) * 4 + 10 * max_gap_sizes + 1 if len(eff) else 1.0
    axis = dcode * span + eff
    order = np.argsort(axis, kind="stable")
    ax = axis[order]
    hi = np.searchsorted(ax, ax + max_gap_sizes, side="right")
    counts = hi - np.arange(len(ax)) - 1
    i = np.repeat(np.arange(len(ax)), counts)
    j = i + 1 + (np.arange(len(i)) - np.repeat(np.cumsum(counts) - counts, counts))
    a, b = order[i], order[j]
    prod = s["producer"].astype("str").to_numpy()
    size = s["size"].to_numpy(dtype=np.float64)
    keep = (prod[a] != prod[b]) & (size[a] != size[b])
    a, b = a[keep], b[keep]
    swap = prod[a] > prod[b]
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    out = pd.DataFrame(
        {
            "dimension": s["dimension"].astype("str").to_numpy()[a],
            "producer_a": prod[a],
            "size_a": size[a],
            "effective_size_a": eff[a],
            "producer_b": prod[b],
            "size_b": size[b],
            "effective_size_b": eff[b],
        }
    )
    se = s["effective_size_se"].to_numpy(dtype=np.float64)
    df = s["n_units"].to_numpy(dtype=np.float64) - 1.0
    gap, low, high = gap_interval(eff[a], se[a], df[a], eff[b], se[b], df[b], confidence)
    out["gap_sizes"] = gap
    out["gap_ci_low"] = low
    out["gap_ci_high"] = high
    out = out[(low > -0.5) & (high < 0.5)]  # NaN (no interval): no claim
    out = out.astype({"dimension": "str", "producer_a": "str", "producer_b": "str"})
    return out.sort_values(
        ["dimension", "producer_a", "size_a", "producer_b", "size_b"], kind="stable"
    ).reset_index(drop=True)
