"""Verdicts: a pure function of the producer summary and the thresholds.

:func:`verdicts` reads only columns of :func:`sizecheck.stats.producer_summary` (the
contract columns and the documented columns after them) and a :class:`Thresholds`, so a
verdict can be recomputed, or explained, from the table a user holds. Where the offset is
judged is one small function, :func:`offset_size`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from sizecheck.errors import UsageError
from sizecheck.stats.reference import pair_mismatch_limit, t_quantile

__all__ = ["DEFAULT_THRESHOLDS", "VERDICT_COLUMNS", "Thresholds", "offset_size", "verdicts"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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
        ``drift`` is raised when the control-chart rules of :mod:`sizecheck.drift` signal
        at least this many times (each signal is one episode of one rule); the rows since
        the chart's change point are then the *current* period, which the other rules
        judge.
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
    "drift_signals",
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


def _col(summary: pd.DataFrame, name: str) -> FloatArray:
    return np.asarray(summary[name].to_numpy(dtype=np.float64, na_value=np.nan))


def verdicts(summary: pd.DataFrame, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> pd.Series:
    """The verdict of each row of a producer summary.

    The size is judged as it is now: offset, grading and scatter read the *current*
    period (the rows since a detected change; every row without one — the ``judged_*``,
    ``offset_judged_*``, ``grade_error_se/df`` and ``line_at_*`` columns). With ``t`` the
    two-sided t quantile at ``1 - alpha`` for the row's degrees of freedom and [L, U] =
    [``spec_low_mm``, ``spec_high_mm``] the in-spec limits in deviation space:

    - ``insufficient_data`` when ``n < min_n``; no other flag is then given. With fewer
      than ``min_n`` rows since a change, only ``drift`` and ``pair_mismatch`` are judged.
    - ``offset``: ``offset_judged_mm`` (the grading line at :func:`offset_size`, the mean
      with a single size) has |estimate| > t · SE and lies outside [L, U].
    - ``grading``: at least ``min_sizes_for_grading`` sizes, |slope| > t · SE(slope), and
      the line at the smallest or largest size is outside [L, U] *because of the slope*:
      either the line where the offset is judged is inside [L, U], or the slope alone
      (line at that end − line where judged) would leave [L, U].
    - ``scatter``: ``pct_out_expected`` — the share a normal process with σ =
      ``scatter_sd_mm`` (``judged_sd_within_mm`` without a significant systematic
      left/right difference, :func:`~sizecheck.stats.reference.scatter_sigma`) centred in
      [L, U] puts outside (:func:`~sizecheck.stats.reference.out_of_spec_share`) —
      exceeds ``scatter_max_share``; with one-sided limits, centred at the judged offset
      (no flag when that is already outside).
    - ``drift``: ``drift_signals >= drift_min_signals``.
    - ``pair_mismatch``: the systematic left/right difference (``pair_diff_mm``, mean of
      right − left over complete pairs, :func:`~sizecheck.stats.reference.
      pair_difference`) has its whole ``1 - alpha`` interval beyond ±
      :func:`~sizecheck.stats.reference.pair_mismatch_limit` (``pair_mismatch_share`` ×
      the in-spec half-width): the left and the right shoe are made differently, not
      just scattered.

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
    with np.errstate(invalid="ignore", divide="ignore"):
        crit = t_quantile(1.0 - th.alpha, _col(summary, "offset_judged_df"))
        offset = (np.abs(est) > crit * _col(summary, "offset_judged_se_mm")) & outside(est)
        slope = _col(summary, "judged_grade_error_mm_per_size")
        crit2 = t_quantile(1.0 - th.alpha, _col(summary, "grade_error_df"))
        slope_sig = np.abs(slope) > crit2 * _col(summary, "grade_error_se")
        eval_in = ~outside(est)
        ends = [_col(summary, "line_at_min_mm"), _col(summary, "line_at_max_mm")]
        off_end = [outside(end) & (eval_in | outside(end - est)) for end in ends]
        enough = _col(summary, "judged_n_sizes") >= th.min_sizes_for_grading
        grading = enough & slope_sig & (off_end[0] | off_end[1])
        two_sided = np.isfinite(lo) & np.isfinite(hi)
        expected = _col(summary, "pct_out_expected") / 100.0
        scatter = (expected > th.scatter_max_share) & (two_sided | eval_in)
        limit = pair_mismatch_limit(lo, hi, th.pair_mismatch_share)
        diff = np.abs(_col(summary, "pair_diff_mm"))
        crit3 = t_quantile(1.0 - th.alpha, _col(summary, "pair_diff_df"))
        mismatch = diff - crit3 * _col(summary, "pair_diff_se_mm") > limit
    drift = _col(summary, "drift_signals") >= th.drift_min_signals
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
