"""Drift over time: control charts of the residuals and Western Electric / Nelson rules.

For each producer × dimension the deviations are first freed of the producer's own grading
line (OLS of deviation on size, as in :func:`sizecheck.stats.producer_summary`), so that a
producer who happened to measure big sizes on Tuesday does not look as if it drifted.

Chart design
------------
The charted points are *subgroup means* of those residuals:

- by date, when at least half of the group's rows carry a date (rows without a date are
  left off the chart);
- else by lot, when at least half carry a lot (lots in order of first appearance in
  source/row order);
- else blocks of ``ROW_BLOCK`` (5) consecutive measurements in source and row order (an
  individuals chart of 200 single shoes would raise a false alarm on about a third of
  conforming producers with the default rules; blocks of 5 bring that in line with dated
  charts).

At most ``MAX_POINTS`` (30) points per chart. The chance that some rule window fires
somewhere grows with the number of points (each point opens new windows), so a verdict
calibrated on ~30 points is not calibrated on 200: with uncapped charts the false
``drift`` rate of stable iid producers (sigma 0.5 mm) was 1 / 8–11 / 49 / 84–91 % for
100 / 400 / 1000 / 2000 undated shoes and 4–8 / 22 / 54–59 % for 1000 shoes over
60 / 120 / 250 dates. Longer histories are therefore charted as at most ``MAX_POINTS``
consecutive periods of roughly equal count: undated rows in blocks of
``max(ROW_BLOCK, ceil(n / MAX_POINTS))``; dates and lots (never split) joined so that
subgroup j goes to period ``floor(rows_before_j · MAX_POINTS / rows)``. The rules then
always see the chart length they were calibrated on (false ``drift`` 0.3–2 % at all those
sizes, 300 simulated producers each), while a sustained shift still moves ~15 period means
and is found as before; the price is time resolution — a point (and a dated shift) is a
period of several days on a long history, dated by its first day.

The limits come from the moving ranges of those points themselves (an individuals / moving
range chart of the subgroup means, Wheeler's "three-way chart" idea), adjusted for unequal
subgroup sizes: the variance of a point that averages ``n_t`` measurements is taken as
``sigma_b² + sigma_w² / n_t``, where ``sigma_w`` is the pooled within-subgroup standard
deviation and ``sigma_b² = max(0, (MR̄ / D2)² − sigma_w² · mean(1 / n_t))`` the
day-to-day part the moving ranges of the means add. The centre is the mean of the points;
each point has its own limits, centre ± 3 sigma_t, and the zone rules below use
``z_t = (x_t − centre) / sigma_t``. This deliberately avoids the classic X̄-chart pitfall:
limits from the within-day spread alone are far too tight whenever there is any real
day-to-day variation, and every chart would signal. With one measurement per point it is
the plain I-MR chart (``sigma = MR̄ / D2``).

Rules (``code``: window, meaning; sigma zones from the chart above)
--------------------------------------------------------------------
- ``we1`` / ``n1``: 1 point beyond 3 sigma.
- ``we2`` / ``n5``: 2 of 3 consecutive points beyond 2 sigma on the same side.
- ``we3`` / ``n6``: 4 of 5 consecutive points beyond 1 sigma on the same side.
- ``we4``: 8 consecutive points on the same side of the centre.
- ``n2``: 9 consecutive points on the same side of the centre.
- ``n3``: 6 points in a row steadily increasing or decreasing.
- ``n4``: 14 points in a row alternating up and down.
- ``n7``: 15 points in a row within 1 sigma (either side).
- ``n8``: 8 points in a row none within 1 sigma, on both sides.

A *signal* is one episode of one rule: consecutive windows of that rule that fire, merged
while they overlap or touch. Each signal carries its first and last date, lot and row.

``DEFAULT_RULES`` = ``("n1", "n2", "n5", "n6")``. The single-rule false-alarm rates over
~30 points are high for any rule set (about 8 % of conforming producers show one
signal), which is why signals alone never make a verdict: they are reported
(``drift_signals``, "not enough to call it a change").

One change = one finding
------------------------
The ``drift`` verdict is a *tested change*, not a count of signals. A +3 mm step after
visit 3 of 6 fired one rule (the moving ranges that set the limits include the jump
itself), while one long step fires every rule, each a "signal"; and a signal's
``first_date`` is where a rule *window* starts, often before the change. So:

1. :func:`change_points` finds, on every chart of two points or more, the single step
   change that minimises the within-segment sum of squares of the charted points
   (two-segment least squares: the maximum-likelihood change point for one shift in a
   normal mean, Hinkley 1970, Biometrika 57(1), 1-17; the estimator of CUSUM
   change-point analysis, Taylor 2000), and tests it: the pooled two-sample t-test of
   the points either side, Bonferroni-adjusted over the T − 1 candidate splits
   (:func:`~sizecheck.stats.reference.change_point_test`; Hawkins 1977, JASA 72,
   180-186; Worsley 1979, JASA 74, 365-367). The points — visit means — are the units,
   so a day effect is in their variance. On iid charts the Bonferroni bound is nearly
   exact for few points and conservative for many (P(p < 0.05): 5.04 / 5.06 / 4.2 % at
   T = 4 / 6 / 12, 200 000 and 20 000 simulated charts).
2. :func:`~sizecheck.stats.verdicts.change_detected` — the one rule — calls it a change
   when that p-value is below ``alpha`` *and* the step exceeds ``drift_step_share`` × the
   in-spec half-width (1.5 mm for lengths at ±1.5 mm: the practical scale of
   ``pair_mismatch``). ``ControlChart.shifts["changed"]`` is it; the current period
   (:func:`sizecheck.stats.periods`) and the ``drift`` flag read it.
3. A chart with a change gets a centre line that steps there (mean before, mean after;
   the centre line revised after an identified shift, as in Montgomery, Introduction to
   Statistical Quality Control, "revision of control limits and center lines"), its
   limits from the moving ranges of the points around that line, and the rules judge
   what the change does not explain. The signals of the step vanish into the one change;
   a signal left over is a further finding (``drift_signals``).

In simulation (tests/test_change.py; 10 shoes a visit, sigma 0.8 mm, a visit effect of
SD 0.5 mm) stable producers get a change in 0.65–0.8 % of cases at T = 4, 6, 12 visits
(the t-test alone: 4.4–5.8 %), while a step of 2 × the half-width (3 mm) halfway is found
in 40 / 90 / 100 % of producers at T = 4 / 6 / 12 (a step of exactly the half-width: 11 /
29 / 53 %). With fewer than four points no change is tested.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd

from sizecheck.errors import UsageError, require_columns
from sizecheck.stats import kernels
from sizecheck.stats.groups import REQUIRED_COLUMNS, Groups, check_columns, decode, prepare
from sizecheck.stats.reference import D2, MIN_CHANGE_POINTS, t_p_value
from sizecheck.stats.verdicts import DEFAULT_THRESHOLDS, Thresholds, change_detected

__all__ = [
    "D2",
    "DEFAULT_RULES",
    "MAX_POINTS",
    "ROW_BLOCK",
    "RULES",
    "ControlChart",
    "change_points",
    "control_chart",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Rule:
    """A control-chart rule: its code, window length and a one-line description."""

    code: str
    window: int
    description: str


RULES: MappingProxyType[str, Rule] = MappingProxyType(
    {
        r.code: r
        for r in (
            Rule("we1", 1, "1 point beyond 3 sigma"),
            Rule("we2", 3, "2 of 3 points beyond 2 sigma on the same side"),
            Rule("we3", 5, "4 of 5 points beyond 1 sigma on the same side"),
            Rule("we4", 8, "8 points in a row on the same side of the centre"),
            Rule("n1", 1, "1 point beyond 3 sigma"),
            Rule("n2", 9, "9 points in a row on the same side of the centre"),
            Rule("n3", 6, "6 points in a row steadily increasing or decreasing"),
            Rule("n4", 14, "14 points in a row alternating up and down"),
            Rule("n5", 3, "2 of 3 points beyond 2 sigma on the same side"),
            Rule("n6", 5, "4 of 5 points beyond 1 sigma on the same side"),
            Rule("n7", 15, "15 points in a row within 1 sigma"),
            Rule("n8", 8, "8 points in a row beyond 1 sigma, on both sides"),
        )
    }
)

#: Undated, unlotted measurements are charted as means of at least this many consecutive
#: rows (in source and row order; more when needed to stay within ``MAX_POINTS``).
ROW_BLOCK = 5

#: Charts are capped at this many points: longer histories (more dates or lots, or more
#: than ``MAX_POINTS × ROW_BLOCK`` undated rows) are charted as means of at most this many
#: consecutive periods of roughly equal count, so that the false-alarm rate of the rules
#: (which grows with the number of points) stays where it was calibrated.
MAX_POINTS = 30

#: Rules used when none are given: Nelson 1, 2, 5 and 6 (see the module docstring).
DEFAULT_RULES: tuple[str, ...] = ("n1", "n2", "n5", "n6")

POINT_COLUMNS = (
    "producer",
    "dimension",
    "order",
    "unit",
    "date",
    "lot",
    "source",
    "row",
    "n",
    "value",
    "center",
    "sigma",
    "lcl",
    "ucl",
    "signals",
)

SIGNAL_COLUMNS = (
    "producer",
    "dimension",
    "rule",
    "description",
    "first_order",
    "last_order",
    "n_points",
    "first_date",
    "last_date",
    "first_lot",
    "last_lot",
    "first_source",
    "first_row",
    "last_source",
    "last_row",
)


SHIFT_COLUMNS = (
    "producer",
    "dimension",
    "shift_order",
    "shift_date",
    "shift_lot",
    "mean_before",
    "mean_after",
    "step_mm",
    "n_points",
    "t_stat",
    "p_value",
    "changed",
)


@dataclass(frozen=True)
class ControlChart:
    """Control charts of all producer × dimension groups, as two tidy frames.

    Attributes
    ----------
    points : DataFrame
        One row per charted point, sorted by producer, dimension, order:
        ``producer``, ``dimension``; ``order`` (0, 1, … within the chart); ``unit``
        (``date``, ``lot`` or ``rows``: a day, a lot, or a block of ``ROW_BLOCK``
        consecutive rows; on charts that would exceed ``MAX_POINTS`` points, a period of
        consecutive days or lots, or a longer block of rows); ``date`` and ``lot`` of the
        point (of its first measurement for periods, lots and rows); ``source`` and
        ``row`` of its first
        measurement; ``n`` (measurements averaged); ``value`` (mean residual from the
        producer's grading line, mm); ``center``, ``sigma``, ``lcl``, ``ucl`` (centre line,
        moving-range sigma and 3-sigma limits of the chart, mm); ``signals`` (codes of the
        rules whose window ends at this point, comma-separated, empty when none).
    signals : DataFrame
        One row per signal (episode of one rule), sorted by producer, dimension, rule,
        first_order: ``producer``, ``dimension``, ``rule``, ``description``;
        ``first_order``, ``last_order``, ``n_points`` (points spanned); ``first_date``,
        ``last_date``, ``first_lot``, ``last_lot`` (of the first and last point spanned);
        ``first_source``, ``first_row``, ``last_source``, ``last_row`` (first measurement of
        the first point, first measurement of the last point).
    rules : tuple of str
        The rule codes evaluated.
    shifts : DataFrame
        The change point of each chart of two points or more: :func:`change_points` of
        ``points``, and ``changed`` — :func:`~sizecheck.stats.verdicts.change_detected`
        with the chart's ``thresholds``: the sizes changed there (the ``drift`` flag).
    row_point : int64 array
        For each row of the :class:`~sizecheck.stats.Groups` the chart was drawn from
        (aligned with ``Groups.rows``), the position in ``points`` of the point it is
        charted in; −1 for a row not charted (no date in a dated chart, no lot in a lot
        chart). This is how a statistic is taken over the rows since a change
        (:func:`sizecheck.stats.periods`).
    thresholds : Thresholds
        The verdict thresholds the change was judged with (``alpha``,
        ``drift_step_share``).
    """

    points: pd.DataFrame
    signals: pd.DataFrame
    rules: tuple[str, ...]
    row_point: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    shifts: pd.DataFrame = field(default_factory=pd.DataFrame)
    thresholds: Thresholds = DEFAULT_THRESHOLDS


def change_points(points: pd.DataFrame) -> pd.DataFrame:
    """The least-squares single change point of each chart, with its test.

    For each producer × dimension whose chart has at least two points, the points
    x_1 … x_T (``value`` in ``order``) are split into x_1 … x_k and x_(k+1) … x_T at the
    k that minimises the sum of squares around the two segment means, i.e. maximises
    k (T − k) / T · (mean_after − mean_before)² (Hinkley 1970; Taylor 2000, CUSUM
    change-point analysis), and the two sides are compared by a two-sample t-test,
    Bonferroni-adjusted over the T − 1 candidate splits
    (:func:`~sizecheck.stats.reference.change_point_test`). Points count equally, whatever
    the number of shoes behind each (the visit is the unit: a day effect is in the
    points' own variance); ties go to the earliest k. Whether the split is a *change* —
    significant and large enough to matter — is
    :func:`~sizecheck.stats.verdicts.change_detected` (``ControlChart.shifts["changed"]``).

    Parameters
    ----------
    points : DataFrame
        ``ControlChart.points`` (or some of its rows): ``producer``, ``dimension``,
        ``order``, ``date``, ``lot``, ``value``; the columns before ``order``
        identify a chart (the key columns of the grouping). Not modified.

    Returns
    -------
    DataFrame
        One row per such producer × dimension, sorted: ``producer``, ``dimension``;
        ``shift_order`` (``order`` of the first point after the change), ``shift_date``
        and ``shift_lot`` (that point's date and lot: the first charted day on or after
        the change; NaT / None on charts of lots or row blocks); ``mean_before``,
        ``mean_after`` (means of the charted values on either side, mm from the
        producer's grading line); ``step_mm`` (= ``mean_after − mean_before``);
        ``n_points`` (T); ``t_stat`` (the two-sample t of the split, signed as the step)
        and ``p_value`` (Bonferroni-adjusted over the T − 1 splits), NaN with fewer than
        ``MIN_CHANGE_POINTS`` (4) points.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> days = pd.date_range("2025-01-01", periods=30)
    >>> dev = np.r_[np.zeros(18), np.full(12, 4.0)] + np.tile([0.3, -0.3], 15)
    >>> d = pd.DataFrame({"source": "a.csv", "row": np.arange(30), "producer": "A",
    ...     "size": 41.0, "date": days, "dimension": "insole_length",
    ...     "value_mm": 273.3 + dev, "nominal_mm": 273.3, "deviation_mm": dev,
    ...     "lower_mm": 271.8, "upper_mm": 274.8, "status": "in_spec"})
    >>> s = control_chart(d).shifts.iloc[0]
    >>> str(s["shift_date"].date()), round(float(s["step_mm"]), 2), bool(s["changed"])
    ('2025-01-19', 4.0, True)
    """
    needed = ("producer", "dimension", "order", "date", "lot", "value")
    require_columns(
        points, needed, "change_points()", hint="Pass ControlChart.points.", error=UsageError
    )
    keys = list(points.columns[: list(points.columns).index("order")])  # identify a chart
    p = points.sort_values([*keys, "order"], kind="stable")
    key_values = [p[k].astype("str").to_numpy() for k in keys]
    m = len(p)
    new = np.zeros(m, dtype=np.bool_)
    new[:1] = True
    for values in key_values:
        new[1:] |= values[1:] != values[:-1]
    g = (np.cumsum(new) - 1).astype(np.int64)
    split = _split_tests(g, p["value"].to_numpy(dtype=np.float64), int(g.max()) + 1 if m else 0)
    has = np.nonzero(split.k > 0)[0]
    after = split.first[has] + split.k[has]  # the first point after the change
    out = pd.DataFrame(
        {
            **{k: pd.Series(v[after], dtype="str") for k, v in zip(keys, key_values, strict=True)},
            "shift_order": p["order"].to_numpy()[after].astype(np.int64),
            "shift_date": pd.to_datetime(p["date"].to_numpy()[after]),
            "shift_lot": p["lot"].to_numpy(dtype=object)[after],
            "mean_before": split.mean_before[has],
            "mean_after": split.mean_after[has],
            "step_mm": split.step[has],
            "n_points": split.t_pts[has].astype(np.int64),
            "t_stat": split.t[has],
            "p_value": split.p[has],
        }
    )
    return out.loc[:, [*keys, *SHIFT_COLUMNS[2:-1]]]


@dataclass(frozen=True)
class _Splits:
    """The least-squares split of every chart and its test (:func:`_split_tests`)."""

    first: IntArray  # position of the chart's first point
    t_pts: IntArray  # points in the chart
    k: IntArray  # points before the change (0: no split, fewer than two points)
    mean_before: FloatArray
    mean_after: FloatArray
    step: FloatArray
    t: FloatArray
    p: FloatArray


def _split_tests(g: IntArray, x: FloatArray, ng: int) -> _Splits:
    """:func:`~sizecheck.stats.reference.change_point_test` of every chart at once.

    ``g`` numbers the charts (contiguous, points in order within each); for each chart
    the split maximising the between-segment sum of squares B_k = s_k² / k +
    (s − s_k)² / (T − k) − s² / T (s_k the sum of the first k centred points; earliest
    k on ties), its step, t² = B / ((S − B) / (T − 2)) and the Bonferroni p-value
    min(1, (T − 1) · 2 P(t_(T−2) > |t|)) (NaN t and p under ``MIN_CHANGE_POINTS``).
    tests/test_drift.py proves it equal to the reference function chart by chart.
    """
    m = len(g)
    t_pts = np.bincount(g, minlength=ng).astype(np.int64)
    first = np.searchsorted(g, np.arange(ng)).astype(np.int64)
    k = (np.arange(m) - first[g] + 1).astype(np.float64)  # points up to and including i
    t = t_pts[g].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        xc = x - (np.bincount(g, weights=x, minlength=ng) / t_pts)[g]  # centred per chart
        # running sums within each chart (never across charts: a chart's numbers do not
        # depend on which charts come before it, e.g. in another Dask partition)
        s1 = pd.Series(xc).groupby(g).cumsum().to_numpy(dtype=np.float64)
        s_all = np.bincount(g, weights=xc, minlength=ng)[g]
        between = s1 * s1 / k + (s_all - s1) ** 2 / (t - k) - s_all * s_all / t
    rows = np.nonzero((k < t) & np.isfinite(between))[0]
    best = np.zeros(ng, dtype=np.int64)
    b_best = np.full(ng, np.nan)
    if len(rows):
        order = np.lexsort((rows, -between[rows], g[rows]))
        top = np.ones(len(order), dtype=np.bool_)
        top[1:] = g[rows[order]][1:] != g[rows[order]][:-1]
        split = rows[order][top]  # last point before the change, one per chart
        best[g[split]] = k[split].astype(np.int64)
        b_best[g[split]] = between[split]
    before_sum = np.bincount(g, weights=np.where(k <= best[g], x, 0.0), minlength=ng)
    total = np.bincount(g, weights=x, minlength=ng)
    ss = np.bincount(g, weights=xc * xc, minlength=ng) if m else np.zeros(ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_before = np.where(best > 0, before_sum / best, np.nan)
        mean_after = np.where(best > 0, (total - before_sum) / (t_pts - best), np.nan)
        step = mean_after - mean_before
        t2 = b_best / (np.maximum(ss - b_best, 0.0) / (t_pts - 2))
        t_stat = np.where(t_pts >= MIN_CHANGE_POINTS, np.copysign(np.sqrt(t2), step), np.nan)
        p = np.minimum(1.0, (t_pts - 1) * t_p_value(t_stat, t_pts - 2))
    return _Splits(first, t_pts, best, mean_before, mean_after, step, t_stat, p)


def _check_rules(rules: Sequence[str]) -> tuple[str, ...]:
    if isinstance(rules, str):
        rules = [r.strip() for r in rules.split(",") if r.strip()]
    out = tuple(str(r).strip().lower() for r in rules)
    unknown = [r for r in out if r not in RULES]
    if unknown:
        raise UsageError(
            f"Unknown control-chart rule(s): {', '.join(unknown)}. "
            f"Known: {', '.join(RULES)} (Western Electric we1-we4, Nelson n1-n8)."
        )
    return tuple(dict.fromkeys(out))


def control_chart(
    deviations: pd.DataFrame,
    *,
    rules: Sequence[str] = DEFAULT_RULES,
    groups: Groups | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> ControlChart:
    """Chart each producer × dimension in time order, find its change and rule signals.

    A chart whose change point is a change (:func:`~sizecheck.stats.verdicts.
    change_detected`) gets a centre line that steps there — the mean before, then the
    mean after — and its limits and rule zones are measured from that line (moving ranges
    of the points around it): the rules then signal only what the change does not
    explain, and the signals of one change are that one change, not one per rule
    (module docstring, "When did it shift?").

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` frame of :func:`sizecheck.compare.compare` (``lot`` optional).
        Rows with status ``no_reference`` or missing nominal are left out. Not modified.
    rules : sequence of str, default DEFAULT_RULES
        Rule codes (``we1``–``we4``, ``n1``–``n8``), or one comma-separated string.
    groups : Groups, optional
        :func:`sizecheck.stats.prepare` of ``deviations`` (the rows in time order),
        when already built.
    thresholds : Thresholds, default DEFAULT_THRESHOLDS
        What makes a change (``alpha``, ``drift_step_share``): the thresholds the
        verdicts are judged with.

    Returns
    -------
    ControlChart
        ``points``, ``signals`` and ``shifts`` frames, documented in :class:`ControlChart`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> days = pd.date_range("2025-01-01", periods=30)
    >>> dev = np.r_[np.zeros(15), np.full(15, 4.0)] + np.tile([0.3, -0.3], 15)
    >>> d = pd.DataFrame({"source": "a.csv", "row": np.arange(30), "producer": "A",
    ...     "size": 41.0, "date": days, "dimension": "insole_length",
    ...     "value_mm": 273.3 + dev, "nominal_mm": 273.3, "deviation_mm": dev,
    ...     "lower_mm": 271.8, "upper_mm": 274.8, "status": "in_spec"})
    >>> chart = control_chart(d)
    >>> shift = chart.shifts.iloc[0]
    >>> str(shift["shift_date"].date()), bool(shift["changed"]), len(chart.signals)
    ('2025-01-16', True, 0)
    >>> sorted(set(chart.points["center"].round(1)))  # residuals: the mean is 0
    [-2.0, 2.0]
    """
    codes = _check_rules(rules)
    check_columns(deviations, REQUIRED_COLUMNS, "control_chart()")
    if groups is None:
        groups = prepare(deviations)
    return _chart(groups, codes, thresholds)


def _window_ok(pg: IntArray, k: int) -> BoolArray:
    """True at i when the k points ending at i all belong to the same chart."""
    m = len(pg)
    ok = np.zeros(m, dtype=np.bool_)
    if k <= m:
        ok[k - 1 :] = pg[k - 1 :] == pg[: m - k + 1]
    return ok


def _count(cond: BoolArray, k: int) -> IntArray:
    """Number of True in the k entries ending at i (0 where the window is incomplete)."""
    m = len(cond)
    cs = np.concatenate([[0], np.cumsum(cond, dtype=np.int64)])
    out = np.zeros(m, dtype=np.int64)
    if k <= m:
        out[k - 1 :] = cs[k:] - cs[: m - k + 1]
    return out


def _rule_fires(code: str, z: FloatArray, v: FloatArray) -> BoolArray:
    """Where the window of rule ``code`` ending at each point fires (window check apart)."""
    with np.errstate(invalid="ignore"):
        up1, dn1 = z > 1, z < -1
        up2, dn2 = z > 2, z < -2
        pos, neg = z > 0, z < 0
    d = np.zeros(len(v))
    if len(v) > 1:
        d[1:] = np.diff(v)
    alt = np.zeros(len(v), dtype=np.bool_)
    if len(v) > 2:
        alt[2:] = d[2:] * d[1:-1] < 0
    table: dict[str, Callable[[], BoolArray]] = {
        "we1": lambda: np.abs(z) > 3,
        "n1": lambda: np.abs(z) > 3,
        "we2": lambda: (_count(up2, 3) >= 2) | (_count(dn2, 3) >= 2),
        "n5": lambda: (_count(up2, 3) >= 2) | (_count(dn2, 3) >= 2),
        "we3": lambda: (_count(up1, 5) >= 4) | (_count(dn1, 5) >= 4),
        "n6": lambda: (_count(up1, 5) >= 4) | (_count(dn1, 5) >= 4),
        "we4": lambda: (_count(pos, 8) == 8) | (_count(neg, 8) == 8),
        "n2": lambda: (_count(pos, 9) == 9) | (_count(neg, 9) == 9),
        "n3": lambda: (_count(d > 0, 5) == 5) | (_count(d < 0, 5) == 5),
        "n4": lambda: _count(alt, 12) == 12,
        "n7": lambda: _count(np.abs(z) < 1, 15) == 15,
        "n8": lambda: (_count(up1 | dn1, 8) == 8) & (_count(up1, 8) >= 1) & (_count(dn1, 8) >= 1),
    }
    return np.asarray(table[code](), dtype=np.bool_)


def _point_sigma(
    resid: FloatArray,
    inv: IntArray,
    value: FloatArray,
    centre: FloatArray,
    cnt: FloatArray,
    pg: IntArray,
    ng: int,
) -> FloatArray:
    """Standard deviation of each charted point (a mean of ``cnt`` residuals).

    ``sigma_t² = sigma_b² + sigma_w² / n_t``: ``sigma_w`` is the pooled within-subgroup
    standard deviation, and ``sigma_b²`` the part of the moving-range variance of the means
    that the within spread does not explain, ``max(0, (MR̄ / D2)² − sigma_w² · mean(1/n))``,
    the moving ranges taken of the points around their ``centre`` line (constant
    without a change: the moving ranges of the points themselves; after a detected change
    the jump at the change is not counted as spread). With one measurement per point this
    is the plain individuals (I-MR) sigma.
    """
    n_pts = len(value)
    dev = resid - value[inv]
    ss_point = np.bincount(inv, weights=dev * dev, minlength=n_pts)
    ss_w = np.bincount(pg, weights=ss_point, minlength=ng)
    df_w = np.bincount(pg, weights=cnt - 1.0, minlength=ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_w = np.where(df_w > 0, ss_w / df_w, 0.0)
        mr_sigma, mr_count = kernels.moving_range_sigma(pg, value - centre, ng)
        pcount = np.bincount(pg, minlength=ng).astype(np.float64)
        inv_n = np.bincount(pg, weights=1.0 / cnt, minlength=ng) / pcount
        var_b = np.maximum(mr_sigma**2 - var_w * inv_n, 0.0)
        var_b = np.where(mr_count >= 1, var_b, np.nan)
        return np.asarray(np.sqrt(var_b[pg] + var_w[pg] / cnt), dtype=np.float64)


def _merge_periods(
    point_first: IntArray, inv: IntArray, pg: IntArray, ng: int
) -> tuple[IntArray, IntArray]:
    """Merge consecutive subgroups of charts with more than ``MAX_POINTS`` of them.

    ``point_first`` holds the first row of each subgroup (in chart order within each
    chart, charts in order), ``inv`` the subgroup of each kept row and ``pg`` the chart of
    each subgroup. In a chart of more than ``MAX_POINTS`` subgroups, subgroup j joins
    period ``floor(rows_before_j · MAX_POINTS / rows_in_chart)``: at most ``MAX_POINTS``
    consecutive periods of roughly equal count (a subgroup is never split). Returns the
    first row of each period and the period of each kept row.
    """
    n_sub = len(point_first)
    if not n_sub:
        return point_first, inv
    sub_count = np.bincount(pg, minlength=ng)
    if int(sub_count.max()) <= MAX_POINTS:
        return point_first, inv
    rows = np.bincount(inv, minlength=n_sub).astype(np.int64)
    start = np.searchsorted(pg, np.arange(ng), side="left")
    cum = np.cumsum(rows) - rows  # rows before each subgroup, over all charts
    before = cum - cum[start[pg]]
    total = np.bincount(pg, weights=rows.astype(np.float64), minlength=ng).astype(np.int64)
    period = np.where(
        sub_count[pg] > MAX_POINTS,
        before * MAX_POINTS // np.maximum(total[pg], 1),
        np.arange(n_sub, dtype=np.int64) - start[pg],
    )
    new = np.ones(n_sub, dtype=np.bool_)
    new[1:] = (pg[1:] != pg[:-1]) | (period[1:] != period[:-1])
    merged = (np.cumsum(new) - 1).astype(np.int64)
    return point_first[new], merged[inv]


def _subgroups(groups: Groups) -> tuple[IntArray, IntArray, BoolArray, IntArray, IntArray | None]:
    """The charted points of every group (module docstring, "Chart design").

    Returns ``point_first`` (the row, an index into ``groups``' arrays, where each point
    starts), ``inv`` (the point of each kept row), ``keep`` (rows charted), ``kind`` (per
    group: 0 dated, 1 by lot, 2 blocks of rows) and the lot codes of the rows (None when
    no row has a lot).
    """
    g, ng, n = groups.group, groups.ng, groups.n
    m = len(g)
    pos = np.arange(m, dtype=np.int64)
    has_date = ~np.isnat(groups.date)
    lot: IntArray | None = None
    if groups.has("lot"):
        codes, values = groups.codes("lot")
        lot = codes if len(values) else None
    has_lot = lot >= 0 if lot is not None else np.zeros(m, dtype=np.bool_)
    lotted = (kernels.group_sum(g, has_lot, ng) >= 0.5 * n) & ~groups.dated
    kind = np.where(groups.dated, 0, np.where(lotted, 1, 2)).astype(np.int64)
    row_kind = kind[g]
    keep = np.where(row_kind == 0, has_date, np.where(row_kind == 1, has_lot, True))
    # dated and row-block charts: a point is a run of equal (group, date) or (group,
    # block of rows) in time order; lot charts: all rows of one (group, lot)
    first = pos.copy()
    runs = np.nonzero(keep & (row_kind != 1))[0]
    if len(runs):
        per_block = np.maximum(ROW_BLOCK, -(-n.astype(np.int64) // MAX_POINTS))
        block = (pos - groups.bounds[:-1][g]) // per_block[g]
        key = np.where(row_kind == 0, groups.date.view(np.int64), block)[runs]
        starts = np.ones(len(runs), dtype=np.bool_)
        starts[1:] = (g[runs][1:] != g[runs][:-1]) | (key[1:] != key[:-1])
        first[runs] = np.maximum.accumulate(np.where(starts, runs, 0))
    by_lot = np.nonzero(keep & (row_kind == 1))[0]
    if len(by_lot):
        assert lot is not None  # rows charted by lot have one
        frame = pd.DataFrame({"g": g[by_lot], "lot": lot[by_lot], "pos": by_lot})
        first[by_lot] = frame.groupby(["g", "lot"])["pos"].transform("min").to_numpy()
    kept = np.nonzero(keep)[0]
    is_first = np.zeros(m, dtype=np.bool_)
    is_first[first[kept]] = True
    point_first = np.nonzero(is_first)[0]
    inv = (np.cumsum(is_first) - 1)[first[kept]].astype(np.int64)
    point_first, inv = _merge_periods(point_first, inv, g[point_first], ng)
    return point_first, inv, keep, kind, lot


def _episodes(
    codes: Sequence[str], z: FloatArray, value: FloatArray, pg: IntArray
) -> tuple[npt.NDArray[np.object_], list[tuple[str, int, int]]]:
    """Where each rule fires: the rule codes per point, and each signal (episode) as
    (rule, first point, last point): consecutive firing windows merged while they
    overlap or touch."""
    point_signals = np.full(len(value), "", dtype=object)
    episodes: list[tuple[str, int, int]] = []
    for code in codes:
        k = RULES[code].window
        idx = np.nonzero(_rule_fires(code, z, value) & _window_ok(pg, k))[0]
        if not len(idx):
            continue
        for i in idx:
            point_signals[i] = f"{point_signals[i]},{code}" if point_signals[i] else code
        is_new = np.ones(len(idx), dtype=np.bool_)
        is_new[1:] = (pg[idx][1:] != pg[idx][:-1]) | (idx[:-1] < idx[1:] - k)
        ep_starts = np.nonzero(is_new)[0]
        ep_ends = np.r_[ep_starts[1:], len(idx)] - 1
        for s, e in zip(ep_starts, ep_ends, strict=True):
            episodes.append((code, int(idx[s]) - k + 1, int(idx[e])))
    return point_signals, episodes


def _centre(
    groups: Groups, pg: IntArray, value: FloatArray, th: Thresholds
) -> tuple[FloatArray, _Splits, BoolArray]:
    """The centre line of every point: the chart's mean, or — on a chart whose change point
    is a change (:func:`~sizecheck.stats.verdicts.change_detected`) — the mean before
    the change, then the mean after it. Returns it, the splits and ``changed`` per group."""
    ng = groups.ng
    split = _split_tests(pg, value, ng)
    column = groups.column
    lo, hi = kernels.deviation_limits(
        groups.group, column("lower_mm"), column("upper_mm"), column("nominal_mm"), ng
    )
    changed = change_detected(split.step, split.p, lo, hi, th)
    order = np.arange(len(pg), dtype=np.int64) - split.first[pg]
    flat = kernels.group_mean(pg, value, ng)[pg]
    stepped = np.where(order < split.k[pg], split.mean_before[pg], split.mean_after[pg])
    return np.where(changed[pg], stepped, flat), split, changed


def _point_places(
    groups: Groups, point_first: IntArray, lot: IntArray | None
) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.object_], npt.NDArray[np.object_], IntArray]:
    """Date, lot, source and row of the first row of each point (None / −1 when unknown)."""
    n_points = len(point_first)
    p_date = groups.date[point_first]
    lots = groups.codes("lot")[1] if lot is not None else np.array([], dtype=object)
    p_lot = decode(lot[point_first] if lot is not None else np.full(n_points, -1), lots)
    if groups.has("source"):
        src_codes, sources = groups.codes("source")
        p_src = decode(src_codes[point_first], sources)
    else:  # a frame without its bookkeeping columns: no source to name
        p_src = np.full(n_points, None, dtype=object)
    p_row = np.full(n_points, -1, dtype=np.int64)
    if groups.has("row"):
        row_f = groups.frame["row"].to_numpy(dtype=np.float64, na_value=np.nan)
        row_f = row_f[groups.rows[point_first]]
        p_row = np.where(np.isfinite(row_f), row_f, -1).astype(np.int64)
    return p_date, p_lot, p_src, p_row


def _chart(groups: Groups, codes: Sequence[str], th: Thresholds) -> ControlChart:
    g, ng = groups.group, groups.ng
    point_first, inv, keep, kind, lot = _subgroups(groups)
    n_points = len(point_first)
    line = kernels.grading_lines(g, groups.size, groups.deviation, ng)
    resid = line.resid[keep]
    cnt = np.bincount(inv, minlength=n_points).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.bincount(inv, weights=resid, minlength=n_points) / cnt
    pg = g[point_first]
    center, split, changed = _centre(groups, pg, value, th)
    sigma = _point_sigma(resid, inv, value, center, cnt, pg, ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (value - center) / sigma
    order = np.arange(n_points, dtype=np.int64) - np.searchsorted(pg, pg, side="left")
    p_date, p_lot, p_src, p_row = _point_places(groups, point_first, lot)
    point_signals, episodes = _episodes(codes, z, value, pg)
    # the group's key columns (producer, dimension; or whatever prepare(by=...) grouped by)
    keys = {name: groups.keys[name].to_numpy() for name in groups.keys.columns}
    records = [
        {
            **{name: values[pg[b]] for name, values in keys.items()},
            "rule": code,
            "description": RULES[code].description,
            "first_order": int(order[a]),
            "last_order": int(order[b]),
            "n_points": b - a + 1,
            "first_date": p_date[a],
            "last_date": p_date[b],
            "first_lot": p_lot[a],
            "last_lot": p_lot[b],
            "first_source": p_src[a],
            "first_row": p_row[a],
            "last_source": p_src[b],
            "last_row": p_row[b],
        }
        for code, a, b in episodes
    ]
    points = pd.DataFrame(
        {
            **{name: values[pg] for name, values in keys.items()},
            "order": order,
            "unit": np.array(["date", "lot", "rows"])[kind[pg]],
            "date": p_date,
            "lot": p_lot,
            "source": p_src,
            "row": p_row,
            "n": cnt.astype(np.int64),
            "value": value,
            "center": center,
            "sigma": sigma,
            "lcl": center - 3.0 * sigma,
            "ucl": center + 3.0 * sigma,
            "signals": point_signals,
        }
    )
    points = points.astype(
        {"producer": "str", "dimension": "str", "unit": "str", "source": "str", "signals": "str"}
    )
    signals = _signals_frame(records, list(keys))
    row_point = np.full(len(g), -1, dtype=np.int64)
    row_point[keep] = inv
    shifts = change_points(points)
    tested = np.nonzero(split.k[np.arange(ng)] > 0)[0]  # change_points' rows, in order
    shifts["changed"] = changed[tested]
    return ControlChart(points, signals, tuple(codes), row_point, shifts, th)


def _signals_frame(records: list[dict[str, object]], keys: list[str]) -> pd.DataFrame:
    names = [*keys, *SIGNAL_COLUMNS[2:]]  # SIGNAL_COLUMNS start with the default keys
    if records:
        signals = pd.DataFrame.from_records(records, columns=names)
        signals = signals.sort_values([*keys, "rule", "first_order"], kind="stable")
        signals = signals.reset_index(drop=True)
    else:
        signals = pd.DataFrame({c: pd.Series(dtype="object") for c in names})
    signals["first_date"] = pd.to_datetime(signals["first_date"])
    signals["last_date"] = pd.to_datetime(signals["last_date"])
    return signals
