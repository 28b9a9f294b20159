"""The size as it is now: the rows since the last detected change, and corrections per size.

A producer whose sizes stepped up 4 mm in mid-season is not helped by the mean over the
season: following it leaves the shoes 2 mm long. So when the chart of a group
(:mod:`sizecheck.drift`) shows a change — its least-squares change point
(:func:`sizecheck.drift.change_points`) passes :func:`sizecheck.stats.verdicts.
change_detected`, the one rule the ``drift`` flag reads too, on a group with enough
measurements — the group's *current* period is the rows charted at or after the change
point, and its *before* period the rows charted before it. Groups without a change have
one period: every row is current.

:func:`periods` finds those rows (a :class:`Periods`, built once and passed on),
:func:`levels` gives the mean deviation of each period with its interval, and
:func:`corrections` what to change at each size to bring the current product to nominal.
Each statistic is the reference function of :mod:`sizecheck.stats.reference` on the
period's rows (:func:`~sizecheck.stats.reference.mean_interval`), through the kernels
proven equal to it.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from sizecheck import columns
from sizecheck.errors import UsageError
from sizecheck.stats import kernels
from sizecheck.stats.groups import Groups
from sizecheck.stats.per_size import size_table
from sizecheck.stats.reference import change_point_bootstrap

if TYPE_CHECKING:
    from sizecheck.drift import ControlChart

__all__ = [
    "BOOTSTRAP_REPLICATES",
    "BOOTSTRAP_SEED",
    "CHANGE_INTERVAL_COLUMNS",
    "LEVEL_COLUMNS",
    "PERIODS",
    "Periods",
    "change_point_intervals",
    "corrections",
    "levels",
    "periods",
]

#: Replicates of the change-point bootstrap (:func:`change_point_intervals`).
BOOTSTRAP_REPLICATES = 999

#: The seed of the change-point bootstrap: the same data give the same intervals.
#: summary.json should record it with the replicates (``stats.BOOTSTRAP_SEED``).
BOOTSTRAP_SEED = 20261129

#: Columns of :func:`change_point_intervals` after the group's keys.
CHANGE_INTERVAL_COLUMNS: tuple[str, ...] = (
    "step_ci_low_mm", "step_ci_high_mm", "since_ci_low", "since_ci_high",
)  # fmt: skip

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: The key columns a correction table can have (the rest is :data:`columns.CORRECTIONS`).
GROUP_KEYS: tuple[str, ...] = ("producer", "model", "dimension")

#: The periods :func:`levels` reports, in order.
PERIODS: tuple[str, ...] = ("whole", "before", "current")

#: Columns of :func:`levels` after the group's key columns.
LEVEL_COLUMNS: tuple[str, ...] = (
    "period",
    "since",
    "n",
    "bias_mm",
    "ci_low_mm",
    "ci_high_mm",
)


@dataclass(frozen=True, eq=False)
class Periods:
    """The current and the earlier rows of every group of a :class:`Groups`.

    Attributes
    ----------
    groups : Groups
        All rows.
    changed : bool array
        Per group: a change was detected (the ``drift`` flag: ``ControlChart.shifts
        ["changed"]``) on at least ``min_n`` rows.
    since : datetime64[ns] array
        Per group: the first charted date of the current period (NaT without a change,
        or when the chart is of lots or blocks of rows).
    step : float array
        Per group: the size of the change, mm — the chart's mean after the change point
        minus its mean before (:func:`sizecheck.drift.change_points`; residuals from the
        producer's grading line, so size for size); NaN without a change.
    current : Groups
        The rows of the current period: those charted at or after the change, every row
        of a group without one.
    before : Groups
        The rows charted before the change (none for a group without one).
    changed_current : Groups
        The rows of ``current`` of the groups with a change only (every other group
        empty): the only rows where a statistic of the current period can differ from
        the whole period's, so the only ones it is computed on (:func:`levels`,
        :func:`corrections`, :func:`~sizecheck.stats.producer_summary`); the other
        groups take the whole period's figures.
    change_step : float array
        Per group: the step of the chart's least-squares change point, whether or not it
        is a change (NaN for a chart of fewer than two points) — ``change_step_mm``.
    change_p : float array
        Per group: its Bonferroni-adjusted t-test p-value (NaN under four points) —
        ``change_p``. ``changed`` is :func:`~sizecheck.stats.verdicts.change_detected`
        of these two and the group's in-spec limits.
    """

    groups: Groups
    changed: BoolArray
    since: npt.NDArray[np.datetime64]
    step: npt.NDArray[np.float64]
    current: Groups
    before: Groups
    change_step: npt.NDArray[np.float64]
    change_p: npt.NDArray[np.float64]
    changed_current: Groups


def _point_groups(groups: Groups, chart: ControlChart) -> IntArray:
    """The group of each charted point (points are in group order)."""
    n_points = len(chart.points)
    pg = np.full(n_points, -1, dtype=np.int64)
    charted = chart.row_point >= 0
    pg[chart.row_point[charted]] = groups.group[charted]
    return pg


def periods(
    groups: Groups, chart: ControlChart, *, min_n: int = 1, min_signals: int | None = None
) -> Periods:
    """Split each group's rows at its detected change (module docstring).

    Parameters
    ----------
    groups : Groups
        :func:`sizecheck.stats.prepare` of the deviations.
    chart : ControlChart
        :func:`sizecheck.drift.control_chart` drawn from ``groups`` (with the thresholds
        the verdicts use: its ``shifts["changed"]`` is the change).
    min_n : int, default 1
        Fewer rows than this: no change is judged (``Thresholds.min_n``).
    min_signals : int, optional
        Not read (kept so that existing calls run): a change is a tested change point,
        not a number of control-rule signals.

    Returns
    -------
    Periods
    """
    if len(chart.row_point) != len(groups.rows):
        raise UsageError("periods(): the chart was not drawn from these groups.")
    keys = list(groups.keys.columns)
    ng = groups.ng
    shifts = groups.keys.merge(chart.shifts.astype(dict.fromkeys(keys, "str")), on=keys, how="left")
    order = shifts["shift_order"].to_numpy(dtype=np.float64, na_value=np.nan)
    detected = shifts["changed"].fillna(False).to_numpy(dtype=np.bool_)
    changed = detected & (groups.n >= min_n) & np.isfinite(order)
    pg = _point_groups(groups, chart)
    first_point = np.searchsorted(pg, np.arange(ng), side="left")
    start = np.where(changed, first_point + np.nan_to_num(order).astype(np.int64), -1)
    point = chart.row_point
    at = start[groups.group]
    row_changed = changed[groups.group]
    current = np.where(row_changed, point >= at, True)
    before = row_changed & (point >= 0) & (point < at)
    since = np.where(
        changed,
        pd.to_datetime(shifts["shift_date"]).to_numpy(dtype="datetime64[ns]"),
        np.datetime64("NaT", "ns"),
    )
    return Periods(
        groups=groups,
        changed=np.asarray(changed, dtype=np.bool_),
        since=np.asarray(since, dtype="datetime64[ns]"),
        step=np.where(changed, shifts["step_mm"].to_numpy(np.float64, na_value=np.nan), np.nan),
        current=groups.subset(current),
        before=groups.subset(before),
        change_step=shifts["step_mm"].to_numpy(np.float64, na_value=np.nan),
        change_p=shifts["p_value"].to_numpy(np.float64, na_value=np.nan),
        changed_current=groups.subset(row_changed & current),
    )


def change_point_intervals(
    p: Periods,
    chart: ControlChart,
    *,
    confidence: float = 0.95,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, npt.NDArray[np.float64] | npt.NDArray[np.datetime64]]:
    """Bootstrap intervals of each detected change's step and date.

    For every group with a change (:attr:`Periods.changed`), the chart's points in order
    are bootstrapped (:func:`~sizecheck.stats.reference.change_point_bootstrap`,
    ``replicates`` times with ``numpy.random.default_rng([seed, crc32(key)])``, the key
    being the group's key values joined: the same data and seed give the same intervals,
    whatever other groups are analysed with it): the ``confidence``
    percentile interval of the step (``step_ci_low_mm``, ``step_ci_high_mm``) and of the
    first point after the change, given as that point's date (``since_ci_low``,
    ``since_ci_high``; NaT on charts of lots or row blocks). NaN / NaT without a change.
    The step is the chart's (residuals from the grading line, size for size), as
    ``Periods.step``.

    Returns
    -------
    dict of arrays, one entry per group, keyed by :data:`CHANGE_INTERVAL_COLUMNS`.
    """
    if replicates < 1:
        raise UsageError(f"replicates must be at least 1, got {replicates}.")
    ng = p.groups.ng
    out: dict[str, npt.NDArray[np.float64] | npt.NDArray[np.datetime64]] = {
        "step_ci_low_mm": np.full(ng, np.nan),
        "step_ci_high_mm": np.full(ng, np.nan),
        "since_ci_low": np.full(ng, np.datetime64("NaT"), dtype="datetime64[ns]"),
        "since_ci_high": np.full(ng, np.datetime64("NaT"), dtype="datetime64[ns]"),
    }
    if not p.changed.any():
        return out
    pg = _point_groups(p.groups, chart)
    values = chart.points["value"].to_numpy(dtype=np.float64)
    dates = pd.to_datetime(chart.points["date"]).to_numpy(dtype="datetime64[ns]")
    tail = (1.0 - confidence) / 2.0
    keys = p.groups.keys.astype("str").to_numpy()
    for i in np.nonzero(p.changed)[0]:
        # one stream per group, from the seed and the group's key: the same intervals
        # whatever other groups are analysed with it (e.g. in another partition)
        key = zlib.crc32("\x1f".join(keys[i]).encode("utf-8"))
        rng = np.random.default_rng([seed, key])
        at = np.nonzero(pg == i)[0]
        ks, steps = change_point_bootstrap(values[at], rng, replicates)
        out["step_ci_low_mm"][i], out["step_ci_high_mm"][i] = np.quantile(steps, [tail, 1 - tail])
        k_low, k_high = np.quantile(ks, [tail, 1 - tail], method="inverted_cdf")
        out["since_ci_low"][i] = dates[at[int(k_low)]]
        out["since_ci_high"][i] = dates[at[int(k_high)]]
    return out


def levels(p: Periods, *, confidence: float = 0.95) -> pd.DataFrame:
    """The mean deviation of each period of each group, with its interval.

    One row per group × period (``whole``, ``before``, ``current``; ``before`` only for
    groups with a change), sorted by the group's keys then period: the key columns, then
    ``period``, ``since`` (first date of the current period; NaT otherwise), ``n``,
    ``bias_mm``, ``ci_low_mm``, ``ci_high_mm`` (:func:`~sizecheck.stats.reference.
    mean_interval` over the period's rows, the pair as the independent unit).
    """

    def bias(g: Groups) -> kernels.Intervals:
        return kernels.bias_intervals(g.group, g.unit, g.visit, g.deviation, g.ng, confidence)[0]

    whole = bias(p.groups)
    changed = bias(p.changed_current)  # a group without a change: its current = whole
    now = kernels.Intervals(*(np.where(p.changed, getattr(changed, f), getattr(whole, f))
                              for f in ("estimate", "se", "df", "low", "high")))  # fmt: skip
    frames = []
    for name, g, b in (("whole", p.groups, whole), ("before", p.before, bias(p.before)),
                       ("current", p.current, now)):  # fmt: skip
        part = g.keys.copy()
        part["period"] = name
        part["since"] = p.since if name == "current" else np.datetime64("NaT", "ns")
        part["n"] = g.n.astype(np.int64)
        part["bias_mm"] = b.estimate
        part["ci_low_mm"] = b.low
        part["ci_high_mm"] = b.high
        if name == "before":
            part = part[p.changed]
        frames.append(part)
    out = pd.concat(frames, ignore_index=True)
    out["period"] = pd.Categorical(out["period"], categories=list(PERIODS), ordered=True)
    keys = list(p.groups.keys.columns)
    out = out.sort_values([*keys, "period"], kind="stable").reset_index(drop=True)
    out["period"] = out["period"].astype("str")
    return out.loc[:, [*keys, *LEVEL_COLUMNS]]


def corrections(
    p: Periods,
    *,
    confidence: float = 0.95,
    resolution: float | None = None,
    sizes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What to change at each size so that the current product comes to nominal.

    For each group × size over the rows of the current period (:class:`Periods`): the
    measured mean and the nominal, and ``correction_mm = nominal − mean`` — what adding
    to the product (pattern, die, last) brings that size to nominal — in mm and in sizes
    (÷ the grade step), with its ``confidence`` interval (the bias interval of
    :func:`~sizecheck.stats.reference.mean_interval` negated: pairs as units).
    A group without a change has one period: its cells are those of
    :func:`~sizecheck.stats.size_summary` over all its rows (``sizes`` when given).

    Parameters
    ----------
    p : Periods
        :func:`periods` of the deviations.
    confidence : float, default 0.95
        Level of the interval.
    resolution : float, optional
        Reading resolution (mm), as for :func:`~sizecheck.stats.size_summary`.
    sizes : DataFrame, optional
        :func:`~sizecheck.stats.size_summary` of ``p.groups`` with the same
        ``confidence`` and ``resolution``, when already computed (it is not again).

    Returns
    -------
    DataFrame
        Sorted by the group's keys and size: the key columns, then ``size``, ``n``,
        ``nominal_mm``, ``mean_mm``, ``correction_mm``, ``correction_sizes``,
        ``ci_low_mm``, ``ci_high_mm``, ``since`` (the first date of the current period,
        NaT when the group has no change) — ``corrections.csv``
        (:data:`sizecheck.columns.CORRECTIONS`) when the keys are producer, model and
        dimension.
    """
    keys = list(p.groups.keys.columns)
    whole = sizes if sizes is not None else size_table(p.groups, confidence, resolution)
    # a group without a change: its current cells are the whole period's
    unchanged = p.groups.keys.loc[~p.changed, keys]
    cells = pd.concat(
        [
            whole.merge(unchanged, on=keys),
            size_table(p.changed_current, confidence, resolution),
        ],
        ignore_index=True,
    ).sort_values([*keys, "size"], kind="stable", ignore_index=True)
    out = cells[[*keys, "size", "n", "nominal_mm", "mean_mm"]].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["correction_mm"] = -cells["bias_mm"]
        out["correction_sizes"] = -cells["bias_mm"] / cells["grade_step_mm"]
    out["ci_low_mm"] = -cells["bias_ci_high_mm"]
    out["ci_high_mm"] = -cells["bias_ci_low_mm"]
    since = pd.Series(p.since, name="since")
    at = p.groups.keys.assign(since=since)
    out = out.merge(at, on=keys, how="left")
    rest: Sequence[str] = [c for c in columns.CORRECTIONS if c not in GROUP_KEYS]
    return out.loc[:, [*keys, *rest]].reset_index(drop=True)
