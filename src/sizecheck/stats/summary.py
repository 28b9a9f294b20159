"""``producer_summary``: one row per producer × dimension, built from the kernels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from sizecheck import columns
from sizecheck.errors import UsageError
from sizecheck.stats import kernels
from sizecheck.stats.groups import REQUIRED_COLUMNS, Groups, check_columns, prepare
from sizecheck.stats.periods import Periods, change_point_intervals
from sizecheck.stats.periods import periods as find_periods
from sizecheck.stats.reference import (
    MISSIZED_STATUSES,
    NO_SPREAD_MM2,
    capability_indices,
    cpk_at_ends,
    cpk_candidates,
    cpk_interval,
    out_of_spec_share,
    pair_mismatch_limit,
    scatter_sigma,
    sigma_floor,
    t_quantile,
)
from sizecheck.stats.verdicts import (
    DEFAULT_THRESHOLDS,
    Thresholds,
    offset_size,
    p_values,
    verdicts,
)
from sizecheck.tables import ReferenceTable, as_table

if TYPE_CHECKING:
    from sizecheck.drift import ControlChart

__all__ = ["PRODUCER_SUMMARY_COLUMNS", "SUMMARY_EXTRA_COLUMNS", "producer_summary"]

FloatArray = npt.NDArray[np.float64]

PRODUCER_SUMMARY_COLUMNS = columns.PRODUCER_SUMMARY

#: Columns after the contract ones: what the verdict rules read (see :func:`verdicts`).
SUMMARY_EXTRA_COLUMNS: tuple[str, ...] = (
    "n_units",
    "size_min",
    "size_max",
    "spec_low_mm",
    "spec_high_mm",
    "pair_mismatch_limit_mm",
    "pair_diff_mm",
    "pair_diff_ci_low_mm",
    "pair_diff_ci_high_mm",
    "pair_diff_se_mm",
    "pair_diff_df",
    "paired_share",
    "scatter_sd_mm",
    "before_n",
    "before_bias_mm",
    "before_ci_low_mm",
    "before_ci_high_mm",
    "judged_n",
    "judged_n_sizes",
    "judged_size_min",
    "judged_size_max",
    "judged_grade_error_mm_per_size",
    "judged_sd_within_mm",
    "offset_size",
    "offset_judged_mm",
    "offset_judged_se_mm",
    "offset_judged_df",
    "grade_error_se",
    "grade_error_df",
    "line_at_min_mm",
    "line_at_max_mm",
    "sd_within_df",
    "resolution_mm",
    "sigma_note",
    "step_ci_low_mm",
    "step_ci_high_mm",
    "since_ci_low",
    "since_ci_high",
    "change_step_mm",
    "change_p",
    "offset_p",
    "grading_p",
    "pair_mismatch_p",
    "offset_p_adjusted",
    "grading_p_adjusted",
    "pair_mismatch_p_adjusted",
)


def _steps(groups: Groups) -> tuple[FloatArray, FloatArray]:
    """Per group: the grade step (median ``grade_step_mm``, > 0, else NaN) and the label
    units per size step (Mondopoint: 5 mm per size / 1 mm per label = 5; else 1)."""
    g, ng = groups.group, groups.ng
    step = np.full(ng, np.nan)
    if groups.has("grade_step_mm"):
        step = kernels.group_median(g, groups.column("grade_step_mm"), ng)
    with np.errstate(invalid="ignore"):
        step = np.where(step > 0, step, np.nan)
        label = np.full(ng, np.nan)
        if groups.has("nominal_step_mm"):
            label = kernels.group_median(g, groups.column("nominal_step_mm"), ng)
        label = np.where(label > 0, label, np.nan)
        per_size = step / np.where(np.isfinite(label), label, step)
    return step, np.where(np.isfinite(per_size), per_size, 1.0)


def _limits(groups: Groups) -> tuple[FloatArray, FloatArray]:
    """:func:`reference.deviation_limits` per group."""
    column = groups.column
    return kernels.deviation_limits(
        groups.group, column("lower_mm"), column("upper_mm"), column("nominal_mm"), groups.ng
    )


def _shares(groups: Groups) -> tuple[FloatArray, FloatArray]:
    """Percent in spec and percent mis-sized per group (:func:`reference.share`)."""
    codes, values = groups.codes("status")
    n = groups.n

    def pct(wanted: Sequence[str]) -> FloatArray:
        hit = np.append(np.isin(values, list(wanted)), False)[codes]  # code -1: missing
        with np.errstate(invalid="ignore", divide="ignore"):
            return 100.0 * kernels.group_sum(groups.group, hit, groups.ng) / n

    return pct(["in_spec"]), pct(MISSIZED_STATUSES)


def _pair_mismatch(groups: Groups, confidence: float) -> kernels.PairGaps:
    """:func:`reference.pair_mismatch` and :func:`reference.pair_difference` per group
    (NaN without feet and pair ids)."""
    if not (groups.has("foot") and groups.has("pair")):
        nan = np.full(groups.ng, np.nan)
        none = kernels.Intervals(nan, nan, nan, nan, nan)
        return kernels.PairGaps(none, none, np.zeros(groups.ng))
    foot, values = groups.codes("foot")
    left = np.append(values == "L", False)[foot]  # code -1: no foot
    right = np.append(values == "R", False)[foot]
    value = groups.column("value_mm")
    return kernels.pair_mismatch(
        groups.group, groups.unit, groups.pair, left, right, value, groups.ng, confidence
    )


def _drift_signals(groups: Groups, chart: ControlChart) -> npt.NDArray[np.int64]:
    """Signals per group of ``chart``."""
    keys = list(groups.keys.columns)
    signals = chart.signals
    if not len(signals):
        return np.zeros(groups.ng, dtype=np.int64)
    counts = signals.groupby(keys).size().rename("k").reset_index()
    counts = counts.astype(dict.fromkeys(keys, "str"))
    merged = groups.keys.merge(counts, on=keys, how="left")["k"]
    return np.asarray(merged.fillna(0).to_numpy(dtype=np.int64))


def producer_summary(
    deviations: pd.DataFrame,
    *,
    table: str | Path | ReferenceTable | None = None,
    base_size: float | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    drift_rules: Sequence[str] | None = None,
    chart: ControlChart | None = None,
    confidence: float = 0.95,
    groups: Groups | None = None,
    resolution: float | None = None,
    periods: Periods | None = None,
) -> pd.DataFrame:
    """One row per producer × dimension: offset, grading, scatter, drift and a verdict.

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` frame of :func:`sizecheck.compare.compare` (columns listed in
        ``docs/internals.md``; ``foot`` and ``pair`` are optional). Rows with status
        ``no_reference`` or a missing nominal, deviation or size are left out. Not modified.
        The bookkeeping columns ``source``, ``row`` and ``date`` are optional (without
        ``date`` the frame's order is the time order).
    table : str, path or ReferenceTable, optional
        The table the deviations were compared with (a shipped name such as
        ``"paris-point"``, a ``.toml`` path or a loaded table): ``base_size`` is its base
        size unless given.
    base_size : float, optional
        Where ``offset_mm`` is read off the grading line; default the table's base size.
        One of ``table`` and ``base_size`` is needed.
    thresholds : Thresholds, default DEFAULT_THRESHOLDS
        Constants of the verdict rules (:func:`sizecheck.stats.verdicts.verdicts`).
    drift_rules : sequence of str, optional
        Control-chart rule codes for ``drift_signals``; default
        :data:`sizecheck.drift.DEFAULT_RULES`. Ignored when ``chart`` is given.
    chart : ControlChart, optional
        A chart already computed by :func:`sizecheck.drift.control_chart` on the same
        frame; its signals are counted instead of computing the chart again.
    confidence : float, default 0.95
        Level of every confidence interval in the output.
    groups : Groups, optional
        :func:`sizecheck.stats.prepare` of ``deviations``, when already built.
    resolution : float, optional
        The resolution (mm) the lengths were read to. Default: inferred per producer ×
        dimension from ``value_mm`` (:func:`~sizecheck.stats.reference.
        reading_resolution`: the coarsest of 1, 0.5, 0.2, 0.1, … 0.001 mm of which every
        value is a multiple; 0 when none is). No σ is taken below resolution / √12.

    Returns
    -------
    DataFrame
        Sorted by producer and dimension. The columns of ``producer_summary.csv``
        (:data:`sizecheck.columns.PRODUCER_SUMMARY`), each a function of
        :mod:`sizecheck.stats.reference` on the group's rows:

        - ``producer``, ``dimension``: the group.
        - ``n``: measurements (shoes) used. ``n_sizes``: distinct sizes among them.
        - ``bias_mm``: mean deviation (measured − nominal) over the shoes;
          ``bias_ci_low_mm``, ``bias_ci_high_mm``: its t-interval over the independent
          unit (:func:`~sizecheck.stats.reference.bias_interval`): the *visit* (date, or
          lot) when the rows come from two visits or more — CR2 cluster-robust, G − 1 df
          (:func:`~sizecheck.stats.reference.cluster_mean_interval`) — else the pair
          (G − 1 df over G pairs, :func:`~sizecheck.stats.reference.mean_interval`);
          without pair ids either, the ordinary t-interval (n − 1 df).
        - ``bias_sizes``: ``bias_mm`` / the dimension's grade step (median of
          ``grade_step_mm``); NaN when the step is unknown.
        - ``offset_mm``: the producer's grading line (OLS of deviation on size,
          :func:`~sizecheck.stats.reference.grading_line`) at ``base_size``; NaN with
          fewer than two distinct sizes or three shoes.
        - ``grade_error_mm_per_size``: slope of that line per size step (−1.67 for a
          producer grading 5 mm per Paris size; with Mondopoint, whose label grows 1 per
          mm but one size is 5 mm, the slope per label unit × grade_step_mm /
          nominal_step_mm, so −1.0 for a producer growing 4 mm per 5 mm size);
          ``grade_error_ci_low``, ``grade_error_ci_high``: its t-interval over the same
          unit — over visits the CR2 covariance of the line (:func:`~sizecheck.stats.
          reference.cluster_covariance`), G − 1 df; over pairs G − 2 df (without pair
          ids: the ordinary OLS interval) — likewise per size step.
        - ``sd_within_mm``: short-term spread around the producer's own grading line
          (:func:`~sizecheck.stats.reference.sd_within`): when at least half of the rows
          carry a date, moving ranges of the residuals in time order (date, then source
          and row) / ``D2`` (1.128), taken between consecutive *pair* means with the
          pooled within-pair variance added back (:func:`~sizecheck.stats.reference.
          paired_within_sigma`); otherwise the residual SD √(SSR / (n − 2)) (n − 1
          around the mean when no line can be fitted). A grading error is never counted
          as scatter.
        - ``sd_overall_mm``: sample standard deviation of the deviations.
        - ``pct_in_spec``: percent of measurements with status ``in_spec``.
        - ``pct_missized``: percent that fail outright: status ``missized`` or, for
          one-sided tables, ``below_min`` / ``above_max``. ``drifting`` (between the
          in-spec and mis-sized bands) counts in neither.
        - ``cpk``: Cpk at the worse end of the producer's sizes with the within σ
          (:func:`~sizecheck.stats.reference.cpk_at_ends`), the in-spec limits in
          deviation space (L = lower_mm − nominal_mm, U = upper_mm − nominal_mm, the
          group's medians); one-sided specification: the finite side only. The same
          number as :func:`sizecheck.stats.capability` of the group's rows.
          ``cpk_ci_low``, ``cpk_ci_high``: :func:`~sizecheck.stats.reference.
          cpk_interval` — the SE of the line where Cpk is read (over units) and the df
          of the within σ (``sd_within_df``), Bonferroni over the line's two ends.
        - ``ppk``: with the overall mean and ``sd_overall_mm`` (all shoes as one
          population, grading error included).
        - ``pair_mismatch_mm``: mean |left − right| of ``value_mm`` over pairs with both
          feet measured (same producer, pair id and dimension); NaN when unknown.
        - ``drift_signals``: number of control-rule signals (episodes) from
          :func:`sizecheck.drift.control_chart` that a detected change does not explain
          (the chart's centre line steps at a change, so one change is one finding, not
          one signal per rule).
        - ``verdict``: ``insufficient_data``, ``conforming``, or the flags ``offset``,
          ``grading``, ``scatter``, ``drift`` joined with ``+``
          (:func:`sizecheck.stats.verdicts.verdicts`).

        Then the columns the verdict rules read (:data:`SUMMARY_EXTRA_COLUMNS`):
        ``n_units`` (independent units G of the bias interval: visits, or pairs and
        shoes without a pair id);
        ``size_min``, ``size_max`` (the producer's sizes); ``spec_low_mm``,
        ``spec_high_mm`` (L and U above; −inf / +inf when one-sided); ``offset_size``
        (where the offset is judged: :func:`~sizecheck.stats.verdicts.offset_size`);
        ``offset_judged_mm``, ``offset_judged_se_mm``, ``offset_judged_df`` (the line
        there — the mean with one size — its standard error over units and degrees of
        freedom); ``grade_error_se``, ``grade_error_df`` (of the slope per size step);
        ``line_at_min_mm``, ``line_at_max_mm`` (the line at the smallest and largest
        size); ``sd_within_df`` (degrees of freedom of ``sd_within_mm``);
        ``resolution_mm`` (the reading resolution used, 0: unknown); ``sigma_note``
        (``at_resolution`` when a σ was raised to resolution / √12, ``no_spread`` when
        the readings show none and no resolution is known: Cpk, Ppk and every interval
        are then blank); ``step_ci_low_mm``, ``step_ci_high_mm``, ``since_ci_low``,
        ``since_ci_high`` (bootstrap intervals of a detected change's step and date,
        :func:`~sizecheck.stats.periods.change_point_intervals`, seeded with
        ``stats.BOOTSTRAP_SEED``); ``change_step_mm``, ``change_p`` (the step of the
        chart's least-squares change point and its Bonferroni-adjusted t-test p-value,
        :func:`sizecheck.drift.change_points`, whether or not it is a change: the
        ``drift`` flag is :func:`~sizecheck.stats.verdicts.change_detected` of them);
        ``offset_p``, ``grading_p``, ``pair_mismatch_p`` and their
        ``*_p_adjusted`` over the table's rows (:func:`~sizecheck.stats.verdicts.
        p_values`, ``thresholds.multiple_testing``; the flags read the adjusted ones).

    Notes
    -----
    *Pairs.* The left and right shoe of a pair share pattern, lasts and operator, so
    their deviations are correlated (correlation ρ); treating them as independent makes
    every interval about √(1 + ρ) too narrow. Without two visits, the intervals (and the
    offset and grading tests) therefore take the *unit* of :mod:`sizecheck.stats.groups`
    — one (producer, dimension, pair id, size); a row without a pair id is a unit of its
    own — as the
    independent unit. The estimates stay the shoe-level ones (mean over shoes, OLS over
    shoes), which are the unit means weighted by their number of shoes; their standard
    errors are those of that weighted fit. With one shoe per unit this is the ordinary t
    / OLS interval; with both feet of every pair, exactly the intervals of the pair
    means. ``sd_within_mm`` and ``sd_overall_mm`` remain per shoe.
    The intervals describe these shoes' lasts and patterns, not the process in general.

    *Visits.* Shoes measured on one visit (date, or lot) share a die, a last setting and a
    day; with a day effect the pair-based interval is too narrow (0.86 coverage at a day
    ICC of 0.2). Where a group's rows come from two visits or more, the offset, grading
    and bias intervals are CR2 cluster-robust over visits with G − 1 df (README, "What
    each interval counts as independent"); the Cpk interval keeps the pair-based line.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> size = np.repeat(np.arange(38.0, 44.0), 4)
    >>> nominal = size * 20 / 3
    >>> dev = rng.normal(0.0, 0.4, size.size)
    >>> d = pd.DataFrame({"source": "a.csv", "row": np.arange(2, 26), "producer": "A",
    ...     "size": size, "date": pd.NaT, "dimension": "insole_length",
    ...     "value_mm": nominal + dev, "nominal_mm": nominal, "deviation_mm": dev,
    ...     "lower_mm": nominal - 1.5, "upper_mm": nominal + 1.5, "status": "in_spec",
    ...     "grade_step_mm": 20 / 3})
    >>> producer_summary(d, base_size=41)[["producer", "n", "n_sizes", "verdict"]]
      producer   n  n_sizes     verdict
    0        A  24        6  conforming
    """
    from sizecheck import drift

    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    if base_size is None:
        if table is None:
            raise UsageError(
                "producer_summary() needs the table the deviations were compared with "
                "(table='paris-point', a path or a ReferenceTable) or a base_size."
            )
        base_size = as_table(table).base_size
    if not math.isfinite(base_size):
        raise UsageError(f"base_size must be a finite number, got {base_size}.")
    if resolution is not None and not (math.isfinite(resolution) and resolution >= 0):
        raise UsageError(f"resolution must be a finite number of mm >= 0, got {resolution}.")
    check_columns(deviations, REQUIRED_COLUMNS, "producer_summary()")
    if groups is None:
        groups = prepare(deviations)
    if chart is None:
        rules = drift.DEFAULT_RULES if drift_rules is None else tuple(drift_rules)
        chart = drift.control_chart(deviations, rules=rules, groups=groups, thresholds=thresholds)
    elif chart.thresholds != thresholds:
        raise UsageError(
            "producer_summary(): the chart was drawn with other thresholds than the verdicts "
            "(pass thresholds= to control_chart too): a change would be judged twice."
        )
    if periods is None:
        periods = find_periods(groups, chart, min_n=thresholds.min_n)
    out = _statistics(groups, float(base_size), confidence, resolution)
    # the verdict judges the size as it is now: the rows since a detected change (the
    # whole period in a group without one)
    judged = out
    if periods.changed.any():
        now = _statistics(periods.changed_current, float(base_size), confidence, resolution)
        judged = now.where(pd.Series(periods.changed), out, axis=0)
    _add_current(out, judged, periods, confidence)
    for name, interval in change_point_intervals(periods, chart, confidence=confidence).items():
        out[name] = interval
    _add_judged(out, judged, thresholds)
    out["drift_signals"] = _drift_signals(groups, chart)
    out["verdict"] = verdicts(out, thresholds)
    tests = p_values(out, thresholds)
    for column in tests.columns:
        out[column] = tests[column].to_numpy()
    _blank_thin(out, thresholds)
    keys = list(groups.keys.columns)  # producer, dimension; or the ``by`` of prepare()
    if "model" not in keys:
        out["model"] = pd.Series("", index=out.index, dtype="str")  # all models pooled
    head = [c for c in keys if c not in PRODUCER_SUMMARY_COLUMNS]  # another grouping
    return out.loc[:, [*head, *PRODUCER_SUMMARY_COLUMNS, *SUMMARY_EXTRA_COLUMNS]]


def _add_current(
    out: pd.DataFrame, judged: pd.DataFrame, periods: Periods, confidence: float
) -> None:
    """``current_*``: the mean deviation since the last change (the whole period without
    one); ``step_mm``: the size of that change, size for size (:class:`Periods`);
    ``before_*``: the mean deviation of the rows charted before it."""
    before = periods.before
    prior = kernels.bias_intervals(before.group, before.unit, before.visit, before.deviation,
                                   before.ng, confidence)[0]  # fmt: skip
    changed = periods.changed
    out["step_mm"] = periods.step
    out["change_step_mm"] = periods.change_step
    out["change_p"] = periods.change_p
    out["current_since"] = pd.to_datetime(periods.since)
    out["current_n"] = judged["n"].to_numpy()
    out["current_bias_mm"] = judged["bias_mm"].to_numpy()
    out["current_ci_low_mm"] = judged["bias_ci_low_mm"].to_numpy()
    out["current_ci_high_mm"] = judged["bias_ci_high_mm"].to_numpy()
    out["before_n"] = np.where(changed, before.n, 0).astype(np.int64)
    out["before_bias_mm"] = np.where(changed, prior.estimate, np.nan)
    out["before_ci_low_mm"] = np.where(changed, prior.low, np.nan)
    out["before_ci_high_mm"] = np.where(changed, prior.high, np.nan)


#: The verdict rules read the current period (:func:`_add_current`): these columns of
#: the judged statistics replace the whole period's in the columns named ``judged_*``.
_JUDGED = {
    "judged_n": "n",
    "judged_n_sizes": "n_sizes",
    "judged_grade_error_mm_per_size": "grade_error_mm_per_size",
    "judged_sd_within_mm": "sd_within_mm",
    "offset_size": "offset_size",
    "offset_judged_mm": "offset_judged_mm",
    "offset_judged_se_mm": "offset_judged_se_mm",
    "offset_judged_df": "offset_judged_df",
    "grade_error_se": "grade_error_se",
    "grade_error_df": "grade_error_df",
    "line_at_min_mm": "line_at_min_mm",
    "line_at_max_mm": "line_at_max_mm",
    "judged_size_min": "size_min",
    "judged_size_max": "size_max",
}


def _add_judged(out: pd.DataFrame, judged: pd.DataFrame, thresholds: Thresholds) -> None:
    """What the verdict rules read, from the current period, and the two shares it
    quotes: ``pct_out_expected`` (the scatter rule) and ``pair_mismatch_limit_mm``."""
    for name, source in _JUDGED.items():
        out[name] = judged[source].to_numpy()
    lo, hi = out["spec_low_mm"].to_numpy(), out["spec_high_mm"].to_numpy()
    two_sided = np.isfinite(lo) & np.isfinite(hi)
    with np.errstate(invalid="ignore"):  # inf − inf on one-sided rows, not used there
        centre = np.where(two_sided, (lo + hi) / 2.0, out["offset_judged_mm"].to_numpy())
    # a significant systematic left/right difference is a pair mismatch, not scatter
    diff = out["pair_diff_mm"].to_numpy(dtype=np.float64)
    low, high = out["pair_diff_ci_low_mm"].to_numpy(), out["pair_diff_ci_high_mm"].to_numpy()
    systematic = np.where((low > 0) | (high < 0), diff, 0.0)
    sd = scatter_sigma(
        out["judged_sd_within_mm"].to_numpy(dtype=np.float64), systematic, out["paired_share"]
    )
    out["scatter_sd_mm"] = sd
    out["pct_out_expected"] = 100.0 * out_of_spec_share(sd, lo, hi, centre)
    out["pair_mismatch_limit_mm"] = pair_mismatch_limit(lo, hi, thresholds.pair_mismatch_share)


def _blank_thin(out: pd.DataFrame, thresholds: Thresholds) -> None:
    """Too few measurements to judge: no capability is claimed (Cpk, Ppk and the
    interval blank, ``sigma_note`` "insufficient_data")."""
    thin = out["verdict"].to_numpy() == "insufficient_data"
    for name in ("cpk", "cpk_ci_low", "cpk_ci_high", "ppk"):
        out[name] = np.where(thin, np.nan, out[name].to_numpy(dtype=np.float64))
    note = out["sigma_note"].astype("str").to_numpy()
    out["sigma_note"] = np.where(thin, "insufficient_data", note)


@dataclass(frozen=True, eq=False)
class _Spread:
    """Per group: the within σ (with df and note), the overall σ, the spreads of the
    grading line over units (for Cpk), the covariance of the line and the bias interval
    over the independent unit — the visit where the rows come from two visits or more,
    else the pair (:func:`reference.visit_clusters`) — each floored at the reading
    resolution."""

    within: FloatArray
    within_df: FloatArray
    overall: FloatArray
    line: kernels.Spreads
    cov: kernels.LineCovariances
    bias: kernels.Intervals
    clustered: npt.NDArray[np.bool_]
    resolution: FloatArray
    note: npt.NDArray[np.object_]


#: σ at or below this (mm) with no known resolution: the readings show no spread at all.
NO_SPREAD_MM = math.sqrt(NO_SPREAD_MM2)


def _line_covariance(
    groups: Groups, line: kernels.Lines, spread: kernels.Spreads, floor: FloatArray
) -> tuple[kernels.LineCovariances, npt.NDArray[np.bool_], FloatArray]:
    """The covariance of each group's line over its independent unit: CR1 over visits
    where the group's rows come from two visits or more (:func:`reference.
    cluster_covariance`), else the model-based one over pairs (:func:`reference.
    grading_line`); no variance below what σ = ``floor`` gives. Also where the visit is
    the unit and the CR1 interval of the mean."""
    g, ng = groups.group, groups.ng
    cluster, clustered = kernels.visit_clusters(g, groups.unit, groups.visit, ng)
    xc = groups.size - line.size_mean[g]
    robust = kernels.cluster_covariances(g, cluster, xc, line.resid, line)
    cov = robust.where(clustered, kernels.LineCovariances.from_spreads(line, spread))
    with np.errstate(invalid="ignore", divide="ignore"):
        var_a = np.maximum(cov.var_a, floor * floor / line.n)  # NaN stays NaN
        var_b = np.where(line.has_line, np.maximum(cov.var_b, floor * floor / line.sxx), np.nan)
    cov = kernels.LineCovariances(var_a, cov.cov_ab, var_b, cov.df)
    mean = kernels.cluster_mean_intervals(g, cluster, groups.deviation, ng, 0.5)
    return cov, clustered, mean.se


def _spreads(
    groups: Groups, line: kernels.Lines, resolution: float | None, confidence: float
) -> _Spread:
    """The σ of every group (:func:`reference.sd_within`, the overall SD, the line's and
    the mean's spread over units), none below resolution / √12
    (:func:`reference.sigma_floor`); "no_spread" where σ ≈ 0 and the resolution is unknown."""
    g, unit, ng, n = groups.group, groups.unit, groups.ng, groups.n
    if resolution is None:
        r = kernels.reading_resolutions(groups.column("value_mm"), groups.bounds)
    else:
        r = np.full(ng, float(resolution))
    bias = kernels.mean_intervals(g, unit, groups.deviation, ng, confidence)
    spread = kernels.line_spreads(g, unit, line)
    sigma, ranges, df = kernels.paired_within_sigma(g, unit, line.resid, ng)
    dated = groups.dated & (ranges >= 1)
    within, within_df = np.where(dated, sigma, spread.s_shoes), np.where(dated, df, spread.df)
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = np.sqrt(kernels.sum_of_squares(g, groups.deviation, bias.estimate) / (n - 1))
    within, raised = sigma_floor(within, r)
    overall = sigma_floor(overall, r)[0]
    s_units, s_shoes = sigma_floor(spread.s, r)[0], sigma_floor(spread.s_shoes, r)[0]
    floored = kernels.Spreads(s_units, spread.df, s_shoes)
    floor = np.where(r > 0, r / math.sqrt(12.0), 0.0)
    cov, clustered, cluster_se = _line_covariance(groups, line, floored, floor)
    se_units = np.where(clustered, cluster_se, bias.se)
    bias_df = np.where(clustered, cov.df, bias.df)
    se = sigma_floor(se_units * np.sqrt(n), r)[0] / np.sqrt(n)  # s over units, floored
    t = t_quantile(confidence, bias_df)
    mean = bias.estimate
    bias = kernels.Intervals(mean, se, bias_df, mean - t * se, mean + t * se)
    none = (r <= 0) & (within <= NO_SPREAD_MM)
    note = np.where(none, "no_spread", np.where(raised, "at_resolution", ""))
    return _Spread(
        within, within_df, overall, floored, cov, bias, clustered, r,
        np.asarray(note, dtype=object),
    )  # fmt: skip


def _capability(
    line: kernels.Lines, sp: _Spread, lo: FloatArray, hi: FloatArray, confidence: float
) -> dict[str, FloatArray]:
    """Cpk at the worse end of the line with the within σ, its interval
    (:func:`reference.cpk_interval`), and Ppk with the overall mean and σ."""
    at_min, at_max = line.at(line.size_min), line.at(line.size_max)
    cpk = cpk_at_ends(line_at_min=at_min, line_at_max=at_max, sigma=sp.within, lsl=lo, usl=hi)
    # the line's two ends are two centres; without a line the mean is the only one
    index, se = cpk_candidates(
        centres=[at_min, np.where(line.has_line, at_max, np.nan)],
        se_centres=[sp.line.se_at(line, line.size_min), sp.line.se_at(line, line.size_max)],
        sigma=sp.within, lsl=lo, usl=hi,
    )  # fmt: skip
    index = np.where(np.isnan(index) & ~np.isnan(cpk), np.inf, index)  # a missing end
    low, high = cpk_interval(index, se_centres=se, sigma=sp.within, df=sp.within_df,
                             confidence=confidence)  # fmt: skip
    _, ppk = capability_indices(mean=sp.bias.estimate, sigma=sp.overall, lsl=lo, usl=hi)
    blank = sp.note == "no_spread"
    out = {"cpk": cpk, "cpk_ci_low": low, "cpk_ci_high": high, "ppk": ppk}
    return {k: np.where(blank, np.nan, v) for k, v in out.items()}


def _statistics(
    groups: Groups, base_size: float, confidence: float, resolution: float | None
) -> pd.DataFrame:
    """Every column but ``drift_signals`` and ``verdict``."""
    g, ng, n = groups.group, groups.ng, groups.n
    line = kernels.grading_lines(g, groups.size, groups.deviation, ng)
    sp = _spreads(groups, line, resolution, confidence)
    step, per_size = _steps(groups)
    t2 = t_quantile(confidence, sp.cov.df)
    lo, hi = _limits(groups)
    in_spec, missized = _shares(groups)
    judged_at = offset_size(line.size_mean)
    blank = np.where(sp.note == "no_spread", np.nan, 1.0)  # no interval without spread
    mismatch = _pair_mismatch(groups, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = line.slope * per_size
        slope_half = t2 * sp.cov.slope_se() * per_size * blank
    out = groups.keys.copy()
    columns_ = {
        "n": n.astype(np.int64),
        "n_sizes": line.n_sizes,
        "bias_mm": sp.bias.estimate,
        "bias_ci_low_mm": sp.bias.low * blank,
        "bias_ci_high_mm": sp.bias.high * blank,
        "bias_sizes": sp.bias.estimate / step,
        "offset_mm": np.where(line.has_line, line.at(base_size), np.nan),
        "grade_error_mm_per_size": slope,
        "grade_error_ci_low": slope - slope_half,
        "grade_error_ci_high": slope + slope_half,
        "sd_within_mm": sp.within,
        "sd_overall_mm": sp.overall,
        "pct_in_spec": in_spec,
        "pct_missized": missized,
        **_capability(line, sp, lo, hi, confidence),
        "pair_mismatch_mm": mismatch.absolute.estimate,
        "pair_mismatch_ci_low_mm": mismatch.absolute.low,
        "pair_mismatch_ci_high_mm": mismatch.absolute.high,
        "pair_diff_mm": mismatch.signed.estimate,
        "pair_diff_ci_low_mm": mismatch.signed.low,
        "pair_diff_ci_high_mm": mismatch.signed.high,
        "pair_diff_se_mm": mismatch.signed.se,
        "pair_diff_df": mismatch.signed.df,
        "paired_share": np.divide(mismatch.paired_shoes, n, where=n > 0, out=np.zeros(ng)),
        "n_units": (sp.bias.df + 1).astype(np.int64),
        "size_min": line.size_min,
        "size_max": line.size_max,
        "spec_low_mm": lo,
        "spec_high_mm": hi,
        "offset_size": judged_at,
        "offset_judged_mm": line.at(judged_at),
        "offset_judged_se_mm": sp.cov.se_at(line, judged_at) * blank,
        "offset_judged_df": sp.cov.df,
        "grade_error_se": sp.cov.slope_se() * per_size * blank,
        "grade_error_df": np.where(line.has_line, sp.cov.df, np.nan),
        "line_at_min_mm": line.at(line.size_min),
        "line_at_max_mm": line.at(line.size_max),
        "sd_within_df": sp.within_df,
        "resolution_mm": sp.resolution,
        "sigma_note": pd.Series(sp.note, dtype="str").to_numpy(),
    }
    for name, values in columns_.items():
        out[name] = values
    return out
