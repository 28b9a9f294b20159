"""Verdicts: a pure function of the producer summary and the thresholds.

:func:`verdicts` reads only columns of :func:`sizecheck.stats.producer_summary` (the
contract columns and the documented columns after them) and a :class:`Thresholds`, so a
verdict can be recomputed, or explained, from the table a user holds. Where the offset is
judged is one small function, :func:`offset_size`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from sizecheck.errors import UsageError
from sizecheck.stats.reference import (
    benjamini_hochberg,
    holm,
    pair_mismatch_limit,
    t_p_value,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MULTIPLE_TESTING",
    "TESTS",
    "VERDICT_COLUMNS",
    "Thresholds",
    "change_detected",
    "offset_size",
    "p_values",
    "verdicts",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


#: The multiple-testing adjustments :class:`Thresholds` accepts (``none`` the default).
MULTIPLE_TESTING: tuple[str, ...] = ("none", "holm", "fdr")

#: The tests adjusted for multiplicity, each with its p-value columns.
TESTS: tuple[str, ...] = ("offset", "grading", "pair_mismatch")


@dataclass(frozen=True)
class Thresholds:
    """The named constants behind ``verdict`` in :func:`producer_summary`.

    Attributes
    ----------
    min_n : int, default 8
        Fewer usable measurements than this for a producer × dimension gives the verdict
        ``insufficient_data`` and no other flag.
    alpha : float, default 0.05
        Significance level of the offset and grading tests (two-sided t-tests; a flag needs
        the ``1 - alpha`` confidence interval to exclude zero).
    min_sizes_for_grading : int, default 3
        Distinct sizes needed before a ``grading`` flag can be raised.
    scatter_max_share : float, default 0.05
        ``scatter`` is raised when a process with the producer's within spread
        (``sd_within_mm``), centred in the in-spec band, would put more than this share of
        shoes outside the in-spec limits.
    drift_min_signals : int, default 2
        No longer read (kept so that existing scripts run): the ``drift`` flag is
        :func:`change_detected`, a test of the chart's change point, not a count of
        control-rule signals — the signals of one change are that one change.
    drift_step_share : float, default 1.0
        A change over time (:func:`change_detected`, the ``drift`` flag) must move the
        sizes by more than this share of the in-spec half-width (1.5 mm for lengths at
        ±1.5 mm) — the practical scale ``pair_mismatch`` uses too. ``math.inf``: no
        change is ever judged (every row is current).
    multiple_testing : {"none", "holm", "fdr"}, default "none"
        How the offset, grading and pair-mismatch tests are adjusted for being many: each
        test's p-values over the family of rows of one summary (producers × dimensions;
        rows judged per model form their own family) are adjusted by Holm's step-down
        method (family-wise error rate ``alpha``), Benjamini–Hochberg (false discovery
        rate ``alpha``) or not at all (each test at level ``alpha``, the default: one
        producer's verdict does not depend on which others are in the run), and a flag
        needs the adjusted p-value below ``alpha`` (:func:`p_values`).
    pair_mismatch_share : float, default 1.0
        ``pair_mismatch`` is raised when the lower end of the ``1 - alpha`` interval of
        the mean |left − right| exceeds this share of the in-spec half-width (1.5 mm for
        lengths at ±1.5 mm): the two shoes of a pair differ by more than one shoe may
        differ from nominal.
    """

    min_n: int = 8
    alpha: float = 0.05
    min_sizes_for_grading: int = 3
    scatter_max_share: float = 0.05
    drift_min_signals: int = 2
    pair_mismatch_share: float = 1.0
    drift_step_share: float = 1.0
    multiple_testing: str = "none"

    def __post_init__(self) -> None:
        problems = []
        if self.min_n < 3:
            problems.append(f"min_n must be at least 3, got {self.min_n}")
        if not 0.0 < self.alpha < 1.0:
            problems.append(f"alpha must lie strictly between 0 and 1, got {self.alpha}")
        if self.min_sizes_for_grading < 2:
            problems.append(
                f"min_sizes_for_grading must be at least 2, got {self.min_sizes_for_grading}"
            )
        if not 0.0 < self.scatter_max_share < 1.0:
            problems.append(
                f"scatter_max_share must lie strictly between 0 and 1, got {self.scatter_max_share}"
            )
        if not 0.0 < self.pair_mismatch_share <= 10.0:
            problems.append(
                f"pair_mismatch_share must lie in (0, 10], got {self.pair_mismatch_share}"
            )
        if not (self.drift_step_share >= 0.0):  # inf allowed: never a change
            problems.append(f"drift_step_share must be at least 0, got {self.drift_step_share}")
        if self.multiple_testing not in MULTIPLE_TESTING:
            problems.append(
                f"multiple_testing must be one of {', '.join(MULTIPLE_TESTING)}, "
                f"got {self.multiple_testing!r}"
            )
        if self.drift_min_signals < 1:
            problems.append(f"drift_min_signals must be at least 1, got {self.drift_min_signals}")
        if problems:
            raise UsageError("Invalid verdict thresholds: " + "; ".join(problems) + ".")


DEFAULT_THRESHOLDS = Thresholds()

#: The columns of the producer summary that :func:`verdicts` reads (``judged_*`` and the
#: offset, slope and line columns describe the current period: the rows since a detected
#: change, all rows without one).
VERDICT_COLUMNS: tuple[str, ...] = (
    "n",
    "judged_n",
    "judged_n_sizes",
    "judged_grade_error_mm_per_size",
    "grade_error_se",
    "grade_error_df",
    "offset_judged_mm",
    "offset_judged_se_mm",
    "offset_judged_df",
    "line_at_min_mm",
    "line_at_max_mm",
    "spec_low_mm",
    "spec_high_mm",
    "pct_out_expected",
    "pair_diff_mm",
    "pair_diff_se_mm",
    "pair_diff_df",
    "change_step_mm",
    "change_p",
)


def offset_size(size_mean: npt.ArrayLike) -> FloatArray:
    """The size at which each producer's offset is judged: the mean of its own sizes.

    There the producer's grading line equals its mean deviation and is best determined
    (its standard error is smallest), whatever the table's base size: a producer that
    grades 5 mm per size and is right at 41 is judged ``grading``, not ``offset``, against
    a table based at 42 — the offset of a line extrapolated to a size the producer hardly
    makes says little. (``offset_mm`` still reports the line at the table's base size.)
    """
    return np.asarray(size_mean, dtype=np.float64)


def change_detected(
    step_mm: npt.ArrayLike,
    p_value: npt.ArrayLike,
    spec_low_mm: npt.ArrayLike,
    spec_high_mm: npt.ArrayLike,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> BoolArray:
    """Whether a group's size changed over time: the ONE rule behind ``drift``.

    The chart's least-squares change point (:func:`sizecheck.drift.change_points`) is a
    change when its two-sample t-test, Bonferroni-adjusted over the candidate splits
    (``p_value``, :func:`~sizecheck.stats.reference.change_point_test`), is below
    ``alpha`` *and* the step exceeds ``drift_step_share`` × the in-spec half-width
    (:func:`~sizecheck.stats.reference.pair_mismatch_limit`: the practical scale of
    ``pair_mismatch``; a one-sided band has none, so there the test alone decides). A
    step too small to matter is not a change, however many visits show it; a step of
    several millimetres over a few visits is one, whatever the control rules say.

    The chart (its centre line and the signals left after the change), the current period
    (:func:`sizecheck.stats.periods`) and the ``drift`` flag (:func:`verdicts`) all read
    this function; the NaN p-value of a chart with fewer than
    :data:`~sizecheck.stats.reference.MIN_CHANGE_POINTS` points is never a change.
    """
    th = thresholds
    step = np.asarray(step_mm, dtype=np.float64)
    p = np.asarray(p_value, dtype=np.float64)
    if math.isinf(th.drift_step_share):
        return np.zeros(np.broadcast(step, p).shape, dtype=np.bool_)
    limit = pair_mismatch_limit(spec_low_mm, spec_high_mm, th.drift_step_share)
    with np.errstate(invalid="ignore"):
        large = np.abs(step) > np.where(np.isnan(limit), 0.0, limit)
        return np.asarray((p < th.alpha) & large, dtype=np.bool_)


def _col(summary: pd.DataFrame, name: str) -> FloatArray:
    return np.asarray(summary[name].to_numpy(dtype=np.float64, na_value=np.nan))


def _unadjusted(p: npt.ArrayLike) -> FloatArray:
    return np.asarray(p, dtype=np.float64)


def p_values(summary: pd.DataFrame, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> pd.DataFrame:
    """The p-value of each row's offset, grading and pair-mismatch test, raw and adjusted.

    - ``offset_p``: two-sided t-test that the line where the offset is judged
      (``offset_judged_mm``) is 0: t = estimate / ``offset_judged_se_mm``,
      ``offset_judged_df`` df (:func:`~sizecheck.stats.reference.t_p_value`).
    - ``grading_p``: two-sided t-test that the slope (``judged_grade_error_mm_per_size``)
      is 0 with ``grade_error_se`` and ``grade_error_df``.
    - ``pair_mismatch_p``: t-test that the systematic left/right difference |``pair_diff_mm``|
      exceeds :func:`~sizecheck.stats.reference.pair_mismatch_limit`: t = (|δ̄| − limit) /
      ``pair_diff_se_mm``, ``pair_diff_df`` df, p = 2 P(T > t) (capped at 1), so that
      p < α exactly when the whole ``1 - alpha`` interval lies beyond the limit.
    - ``*_p_adjusted``: each column adjusted over the family — the rows with a p-value
      and at least ``min_n`` measurements (``judged_n`` too, except for the pair
      mismatch) — by ``thresholds.multiple_testing``: :func:`~sizecheck.stats.
      reference.holm`, :func:`~sizecheck.stats.reference.benjamini_hochberg`, or none
      (the raw p-value). Rows outside the family get NaN.

    Returns
    -------
    DataFrame aligned with ``summary``: ``offset_p``, ``grading_p``, ``pair_mismatch_p``
    and the three ``*_p_adjusted``.
    """
    th = thresholds
    lo, hi = _col(summary, "spec_low_mm"), _col(summary, "spec_high_mm")
    limit = pair_mismatch_limit(lo, hi, th.pair_mismatch_share)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = {
            "offset": t_p_value(
                _col(summary, "offset_judged_mm") / _col(summary, "offset_judged_se_mm"),
                _col(summary, "offset_judged_df"),
            ),
            "grading": t_p_value(
                _col(summary, "judged_grade_error_mm_per_size") / _col(summary, "grade_error_se"),
                _col(summary, "grade_error_df"),
            ),
            "pair_mismatch": np.minimum(
                1.0,
                2.0
                * t_p_value(
                    (np.abs(_col(summary, "pair_diff_mm")) - limit)
                    / _col(summary, "pair_diff_se_mm"),
                    _col(summary, "pair_diff_df"),
                    two_sided=False,
                ),
            ),
        }
    enough = _col(summary, "n") >= th.min_n
    in_family = {
        "offset": enough & (_col(summary, "judged_n") >= th.min_n),
        "grading": enough
        & (_col(summary, "judged_n") >= th.min_n)
        & (_col(summary, "judged_n_sizes") >= th.min_sizes_for_grading),
        "pair_mismatch": enough,
    }
    adjust: dict[str, Callable[[npt.ArrayLike], FloatArray]] = {
        "holm": holm,
        "fdr": benjamini_hochberg,
        "none": _unadjusted,
    }
    out = pd.DataFrame(index=summary.index)
    for name in TESTS:
        out[f"{name}_p"] = raw[name]
    for name in TESTS:
        family = np.where(in_family[name], raw[name], np.nan)
        out[f"{name}_p_adjusted"] = adjust[th.multiple_testing](family)
    return out


def verdicts(summary: pd.DataFrame, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> pd.Series:
    """The verdict of each row of a producer summary.

    The size is judged as it is now: offset, grading and scatter read the *current*
    period (the rows since a detected change; every row without one — the ``judged_*``,
    ``offset_judged_*``, ``grade_error_se/df`` and ``line_at_*`` columns). "Significant"
    means the test's p-value (:func:`p_values`), adjusted over the rows of ``summary`` by
    ``thresholds.multiple_testing`` (none by default), is below ``alpha``; with ``none``
    this is the ``1 - alpha`` t-interval excluding the null value. With [L, U] =
    [``spec_low_mm``, ``spec_high_mm``] the in-spec limits in deviation space:

    - ``insufficient_data`` when ``n < min_n``; no other flag is then given. With fewer
      than ``min_n`` rows since a change, only ``drift`` and ``pair_mismatch`` are judged.
    - ``offset``: ``offset_judged_mm`` (the grading line at :func:`offset_size`, the mean
      with a single size) is significantly different from 0 and lies outside [L, U].
    - ``grading``: at least ``min_sizes_for_grading`` sizes, a significant slope, and
      the line at the smallest or largest size is outside [L, U] *because of the slope*:
      either the line where the offset is judged is inside [L, U], or the slope alone
      (line at that end − line where judged) would leave [L, U].
    - ``scatter``: ``pct_out_expected`` — the share a normal process with σ =
      ``scatter_sd_mm`` (``judged_sd_within_mm`` without a significant systematic
      left/right difference, :func:`~sizecheck.stats.reference.scatter_sigma`) centred in
      [L, U] puts outside (:func:`~sizecheck.stats.reference.out_of_spec_share`) —
      exceeds ``scatter_max_share``; with one-sided limits, centred at the judged offset
      (no flag when that is already outside).
    - ``drift``: the sizes changed over time — :func:`change_detected` of the chart's
      change point (``change_step_mm``, ``change_p``) — the change whose later rows
      are the current period the other rules judge.
    - ``pair_mismatch``: the systematic left/right difference (``pair_diff_mm``, mean of
      right − left over complete pairs, :func:`~sizecheck.stats.reference.
      pair_difference`) is significantly beyond ±
      :func:`~sizecheck.stats.reference.pair_mismatch_limit` (``pair_mismatch_share`` ×
      the in-spec half-width; one-sided): the left and the right shoe are made
      differently, not just scattered.

    Flags are joined with ``+`` in that order; none gives ``conforming``.

    Parameters
    ----------
    summary : DataFrame
        :func:`sizecheck.stats.producer_summary` (columns :data:`VERDICT_COLUMNS`).
    thresholds : Thresholds

    Returns
    -------
    Series of str, aligned with ``summary``.
    """
    th = thresholds
    lo, hi = _col(summary, "spec_low_mm"), _col(summary, "spec_high_mm")

    def outside(v: FloatArray) -> BoolArray:
        return np.asarray((v < lo) | (v > hi), dtype=np.bool_)

    est = _col(summary, "offset_judged_mm")
    enough_now = _col(summary, "judged_n") >= th.min_n
    p = p_values(summary, th)

    def significant(name: str) -> BoolArray:
        return np.asarray(p[f"{name}_p_adjusted"].to_numpy() < th.alpha, dtype=np.bool_)

    with np.errstate(invalid="ignore", divide="ignore"):
        offset = significant("offset") & outside(est)
        eval_in = ~outside(est)
        ends = [_col(summary, "line_at_min_mm"), _col(summary, "line_at_max_mm")]
        off_end = [outside(end) & (eval_in | outside(end - est)) for end in ends]
        enough = _col(summary, "judged_n_sizes") >= th.min_sizes_for_grading
        grading = enough & significant("grading") & (off_end[0] | off_end[1])
        two_sided = np.isfinite(lo) & np.isfinite(hi)
        expected = _col(summary, "pct_out_expected") / 100.0
        scatter = (expected > th.scatter_max_share) & (two_sided | eval_in)
        mismatch = significant("pair_mismatch")
    drift = change_detected(_col(summary, "change_step_mm"), _col(summary, "change_p"), lo, hi, th)
    flags = [
        ("offset", offset & enough_now),
        ("grading", grading & enough_now),
        ("scatter", scatter & enough_now),
        ("drift", drift),
        ("pair_mismatch", mismatch),
    ]
    n = _col(summary, "n")
    words = [
        "insufficient_data"
        if n[i] < th.min_n
        else "+".join(name for name, on in flags if on[i]) or "conforming"
        for i in range(len(summary))
    ]
    return pd.Series(words, index=summary.index, dtype="str", name="verdict")
