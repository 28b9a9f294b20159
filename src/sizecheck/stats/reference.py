"""Every statistic of sizecheck, written once for ONE group, the way its formula reads.

This is the file a statistician reviews. Each function takes the plain numpy arrays of
one group — one producer × dimension, or one producer × dimension × size cell — and
returns plain numbers. Where order matters (moving ranges) the arrays are in time order.

The tables are built by vectorised versions of these functions that handle all groups at
once (:mod:`sizecheck.stats.kernels`); ``tests/test_kernels.py`` proves, on random frames
with dates, pairs, several sizes and missing values, that each kernel equals its reference
applied group by group (to 1e-9). So reading this file is reading what the tables hold.

Notation: ``y`` (``dev``) are deviations measured − nominal in mm, ``x`` (``size``) sizes,
``n`` the number of shoes in the group. ``unit`` gives the *independent unit* of each shoe:
the left and right shoe of a pair are cut from one pattern, lasted on one pair of lasts
and measured together, so a pair (one producer, dimension, pair id and size) is one unit
and a shoe without a pair id is a unit of its own (:mod:`sizecheck.stats.groups`). Units
c = 1 … G hold m_c shoes. Estimates are taken over shoes; their standard errors over units.

Intervals are t-intervals: estimate ± t(1 − α/2, df) · SE, with ``confidence`` = 1 − α.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = [
    "D2",
    "D2_BY_N",
    "MIN_CHANGE_POINTS",
    "MISSIZED_STATUSES",
    "MR_DF_PER_RANGE",
    "NO_SPREAD_MM2",
    "RESOLUTIONS",
    "ClusterCovariance",
    "Interval",
    "Line",
    "WithinSigma",
    "benjamini_hochberg",
    "bias_interval",
    "bissell_interval",
    "c4",
    "capability_indices",
    "change_point",
    "change_point_bootstrap",
    "change_point_test",
    "cluster_covariance",
    "cluster_mean_interval",
    "convention_fit",
    "cpk_at_ends",
    "cpk_candidates",
    "cpk_interval",
    "deviation_limits",
    "effective_size",
    "gap_interval",
    "gaussian_aic",
    "grading_line",
    "holm",
    "label_step",
    "mean_interval",
    "median_step",
    "modal_label",
    "moving_range_sigma",
    "on_grid",
    "out_of_spec_share",
    "pair_difference",
    "pair_gaps",
    "pair_mismatch",
    "pair_mismatch_limit",
    "paired_within_sigma",
    "reading_resolution",
    "residual_sd",
    "scatter_sigma",
    "sd_within",
    "share",
    "sigma_floor",
    "subgroup_sigma",
    "t_p_value",
    "t_quantile",
    "unit_sum_of_squares",
    "visit_clusters",
    "welch_anova",
]

FloatArray = npt.NDArray[np.float64]

#: d2 for moving ranges of two consecutive points: σ = mean moving range / d2 (ASTM E2587;
#: Montgomery, Introduction to Statistical Quality Control, 7th ed., Appendix table VI).
D2 = 1.128

#: Statuses that count as a failed shoe in ``pct_missized``.
MISSIZED_STATUSES = ("missized", "below_min", "above_max")


def t_quantile(confidence: float, df: npt.ArrayLike) -> FloatArray:
    """The two-sided t quantile t(1 − α/2, df) for ``confidence`` = 1 − α; NaN where df ≤ 0.

    ``scipy.special.stdtrit(df, p)`` is the function ``scipy.stats.t.ppf(p, df)`` calls
    (importing scipy.stats would cost every ``sizecheck measure`` half a second);
    tests/test_reference.py checks the two agree. Elementwise over ``df``.
    """
    d = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        q = special.stdtrit(np.where(d > 0, d, np.nan), 0.5 + confidence / 2.0)
    return np.asarray(q, dtype=np.float64)


# --------------------------------------------------------------------------- location


def unit_sum_of_squares(e: FloatArray, unit: npt.ArrayLike) -> tuple[float, int]:
    """Σ_c m_c ē_c² over the units, for residuals ``e`` that sum to zero; and G.

    ē_c is the mean of ``e`` over unit c's m_c shoes. With one shoe per unit this is the
    ordinary residual sum of squares Σ e².
    """
    u = np.asarray(unit)
    ss = 0.0
    codes = np.unique(u)
    for c in codes:
        ec = e[u == c]
        ss += len(ec) * float(np.mean(ec)) ** 2
    return ss, len(codes)


@dataclass(frozen=True)
class Interval:
    """An estimate with its standard error, degrees of freedom and confidence interval."""

    estimate: float
    se: float
    df: float
    low: float
    high: float


def mean_interval(dev: FloatArray, unit: npt.ArrayLike, confidence: float = 0.95) -> Interval:
    """Mean deviation over shoes, with its t-interval over independent units.

    ȳ = Σ y / n. With e = y − ȳ and ē_c the mean of e in unit c:
    s² = Σ_c m_c ē_c² / (G − 1), SE(ȳ) = s / √n, df = G − 1.

    This is weighted least squares on the unit means with weights m_c (Weisberg, Applied
    Linear Regression, 3rd ed., 2005, §5.1): ȳ is the weighted mean of the unit means and
    s² the weighted residual variance. With one shoe per unit it is the ordinary one-sample
    t-interval; with both feet of every pair, the t-interval of the pair means.
    It describes *these* shoes' lasts and patterns, not the grading process in general.
    """
    y = np.asarray(dev, dtype=np.float64)
    mean = float(np.mean(y))
    ss, g = unit_sum_of_squares(y - mean, unit)
    se = math.sqrt(ss / (g - 1) / len(y)) if g > 1 else math.nan
    t = float(t_quantile(confidence, g - 1))
    return Interval(mean, se, g - 1.0, mean - t * se, mean + t * se)


# --------------------------------------------------------------------------- grading line


@dataclass(frozen=True)
class Line:
    """A producer's grading line: OLS of deviation on size over its shoes.

    ``has_line`` is False with fewer than 2 distinct sizes or 3 shoes; ``slope`` is then
    NaN and the line is the mean deviation at every size. ``s`` is the residual SD over
    units with ``df`` = G − 2 (G − 1 without a line); ``s_shoes`` the residual SD over
    shoes, √(SSR / (n − 2)) (n − 1 without a line).
    """

    n: int
    n_sizes: int
    size_mean: float
    dev_mean: float
    sxx: float
    has_line: bool
    slope: float
    s: float
    df: float
    s_shoes: float

    @property
    def slope_se(self) -> float:
        """SE(slope) = s / √Sxx."""
        return self.s / math.sqrt(self.sxx) if self.has_line else math.nan

    def at(self, x: float) -> float:
        """The line at size ``x``: ȳ + slope · (x − x̄) (ȳ without a line)."""
        return self.dev_mean + (self.slope * (x - self.size_mean) if self.has_line else 0.0)

    def se_at(self, x: float) -> float:
        """SE of the line at ``x``: s √(1/n + (x − x̄)² / Sxx); s / √n without a line."""
        if not self.has_line:
            return self.s / math.sqrt(self.n)
        return self.s * math.sqrt(1.0 / self.n + (x - self.size_mean) ** 2 / self.sxx)

    def residuals(self, size: FloatArray, dev: FloatArray) -> FloatArray:
        """y − line(x) for each shoe."""
        fitted = self.dev_mean + (self.slope * (size - self.size_mean) if self.has_line else 0.0)
        return np.asarray(dev - fitted, dtype=np.float64)


def grading_line(size: FloatArray, dev: FloatArray, unit: npt.ArrayLike) -> Line:
    """OLS of deviation on size over the shoes; its residual SD over units.

    slope = Sxy / Sxx with Sxx = Σ (x − x̄)², Sxy = Σ (x − x̄)(y − ȳ). The residual variance
    over units is s² = Σ_c m_c ē_c² / (G − 2), ē_c the mean residual of unit c (a unit has
    one size), so SE(slope) = s / √Sxx with G − 2 df: weighted least squares on the unit
    means with weights m_c (Weisberg 2005, §5.1), the ordinary OLS interval with one shoe
    per unit (NIST StRD Norris checks it). A grading error of −1.67 mm per size is a
    producer grading 5 mm per Paris size (20/3 mm).
    """
    x = np.asarray(size, dtype=np.float64)
    y = np.asarray(dev, dtype=np.float64)
    n = len(y)
    n_sizes = len(np.unique(x))
    x_mean, y_mean = float(np.mean(x)), float(np.mean(y))
    sxx = float(np.sum((x - x_mean) ** 2))
    has_line = n_sizes >= 2 and n >= 3 and sxx > 0
    slope = float(np.sum((x - x_mean) * (y - y_mean)) / sxx) if has_line else math.nan
    k = 2 if has_line else 1
    resid = y - y_mean - (slope * (x - x_mean) if has_line else 0.0)
    ss_units, g = unit_sum_of_squares(resid, unit)
    s = math.sqrt(ss_units / (g - k)) if g > k else math.nan
    s_shoes = math.sqrt(float(np.sum(resid**2)) / (n - k)) if n > k else math.nan
    return Line(n, n_sizes, x_mean, y_mean, sxx, has_line, slope, s, g - k, s_shoes)


# --------------------------------------------------------------------------- visits


@dataclass(frozen=True)
class ClusterCovariance:
    """The CR2 cluster-robust covariance of a grading line (or a mean) over G clusters.

    The line is a + b (x − x̄) (a = ȳ, the line at the mean size); ``var_a``, ``cov_ab``,
    ``var_b`` its variances and covariance; ``df`` = G − 1.
    """

    var_a: float
    cov_ab: float
    var_b: float
    g: int

    @property
    def df(self) -> float:
        """G − 1: the small-sample degrees of freedom of a cluster-robust t-interval."""
        return self.g - 1.0

    def se_at(self, dx: float) -> float:
        """SE of the line at x̄ + ``dx``: √(V_a + 2 dx C_ab + dx² V_b) (√V_a for a mean)."""
        v = self.var_a + (2.0 * dx * self.cov_ab + dx * dx * self.var_b if dx else 0.0)
        return math.sqrt(v) if v >= 0 else math.nan


def _inverse_sqrt(m: FloatArray) -> FloatArray:
    """(I − H)^(−1/2) of a symmetric H with eigenvalues in [0, 1]; an eigenvalue of 1 (a
    cluster the fit reproduces exactly) gives 0: the generalised inverse."""
    lam, vec = np.linalg.eigh(np.eye(len(m)) - m)
    root = np.where(lam > 1e-12, 1.0 / np.sqrt(np.where(lam > 1e-12, lam, 1.0)), 0.0)
    return np.asarray((vec * root) @ vec.T, dtype=np.float64)


def cluster_covariance(
    size: FloatArray, dev: FloatArray, cluster: npt.ArrayLike, *, fit_line: bool
) -> ClusterCovariance:
    """CR2 cluster-robust covariance of the OLS grading line (``fit_line``) or the mean.

    With the centred design X = [1, x − x̄] (only the column of ones for a mean), the
    residuals e of the OLS fit, X_c, e_c the rows of cluster c and H_cc = X_c (X'X)⁻¹ X_c':
    V = (X'X)⁻¹ [Σ_c X_c' A_c e_c e_c' A_c X_c] (X'X)⁻¹ with A_c = (I − H_cc)^(−1/2);
    intervals use t with G − 1 df.

    Bell & McCaffrey (2002), Survey Methodology 28(2):169–181 (the "bias-reduced
    linearization": exactly unbiased when the errors are independent with equal
    variance); Cameron & Miller (2015), "A Practitioner's Guide to Cluster-Robust
    Inference", J. Human Resources 50(2):317–372, §VI (CR2 with G − 1 df for few
    clusters; the CR1 of Stata and statsmodels under-covers with 8 visits: 0.93 for the
    slope where CR2 gives 0.95 — tests/test_visits.py). With one shoe per cluster it is
    HC2 (MacKinnon & White 1985). sizecheck takes the *visit* (one producer × dimension
    × date, or lot) as the cluster: the shoes of one visit share a die, a last setting
    and a day, so a day effect moves them together.
    """
    x = np.asarray(size, dtype=np.float64)
    y = np.asarray(dev, dtype=np.float64)
    n = len(y)
    xc = x - float(np.mean(x))
    design = np.column_stack([np.ones(n), xc]) if fit_line else np.ones((n, 1))
    bread = np.linalg.inv(design.T @ design)
    e = y - design @ (bread @ (design.T @ y))
    codes = np.unique(np.asarray(cluster), return_inverse=True)[1].ravel()
    g = int(codes.max()) + 1 if n else 0
    if g < 2 or n <= design.shape[1]:
        return ClusterCovariance(math.nan, math.nan, math.nan, g)
    meat = np.zeros((design.shape[1], design.shape[1]))
    for c in range(g):
        xc_, ec = design[codes == c], e[codes == c]
        u = xc_.T @ (_inverse_sqrt(xc_ @ bread @ xc_.T) @ ec)
        meat += np.outer(u, u)
    v = bread @ meat @ bread
    if not fit_line:
        return ClusterCovariance(float(v[0, 0]), 0.0, math.nan, g)
    return ClusterCovariance(float(v[0, 0]), float(v[0, 1]), float(v[1, 1]), g)


def cluster_mean_interval(
    dev: FloatArray, cluster: npt.ArrayLike, confidence: float = 0.95
) -> Interval:
    """Mean deviation over shoes with its CR2 interval over clusters (visits): the
    :func:`cluster_covariance` of the mean, SE = √V_a, t with G − 1 df. With equal-sized
    visits this is the t-interval of the visit means: V_a = Σ_c s_c² / (n² (1 − m_c/n)),
    s_c the sum of the cluster's residuals y − ȳ, m_c its shoes."""
    y = np.asarray(dev, dtype=np.float64)
    cov = cluster_covariance(np.zeros(len(y)), y, cluster, fit_line=False)
    mean, se = float(np.mean(y)), cov.se_at(0.0)
    t = float(t_quantile(confidence, cov.df))
    return Interval(mean, se, cov.df, mean - t * se, mean + t * se)


def visit_clusters(
    unit: npt.ArrayLike, visit: npt.ArrayLike
) -> tuple[npt.NDArray[np.object_], bool]:
    """The cluster of each shoe for the intervals of one set of rows, and whether it is
    the visit.

    The rule: when the rows come from at least two visits (distinct ``visit`` ≥ 0: the
    date of a dated group, else the lot of a lotted one), the visit is the independent
    unit and a shoe without a visit is a cluster of its own (its pair unit); with fewer
    than two visits the pair unit is (:func:`mean_interval`, :func:`grading_line`), since
    one day's shoes cannot show the day-to-day variation.
    """
    u, v = np.asarray(unit), np.asarray(visit)
    clustered = len(np.unique(v[v >= 0])) >= 2
    label = [f"v{b}" if clustered and b >= 0 else f"u{a}" for a, b in zip(u, v, strict=True)]
    return np.asarray(label, dtype=object), clustered


def bias_interval(
    dev: FloatArray, unit: npt.ArrayLike, visit: npt.ArrayLike, confidence: float = 0.95
) -> Interval:
    """The bias interval of a set of rows over its independent unit
    (:func:`visit_clusters`): :func:`cluster_mean_interval` over visits when the rows
    come from two visits or more, else :func:`mean_interval` over pairs."""
    cluster, clustered = visit_clusters(unit, visit)
    if clustered:
        return cluster_mean_interval(dev, cluster, confidence)
    return mean_interval(dev, unit, confidence)


# --------------------------------------------------------------------------- spread


def moving_range_sigma(x: FloatArray) -> tuple[float, int]:
    """σ = mean |x_t − x_(t−1)| / D2 over values in time order; and the number of ranges.

    The individuals-chart estimate of short-term σ (Montgomery, §6.4; ASTM E2587).
    """
    mr = np.abs(np.diff(np.asarray(x, dtype=np.float64)))
    return (float(np.mean(mr)) / D2 if len(mr) else math.nan), len(mr)


#: Degrees of freedom per moving range: MR̄/d2 of m values has about 0.62 (m − 1)
#: (Cryer & Ryan 1990, J. Quality Technology 22(3):187–192; tests/test_reference.py
#: checks it by simulation).
MR_DF_PER_RANGE = 0.62


#: A variance at or below this (mm², i.e. σ ≤ 1e-9 mm) is no spread at all: rounding.
NO_SPREAD_MM2 = 1e-18


@dataclass(frozen=True)
class WithinSigma:
    """A within (short-term) σ, its degrees of freedom and the moving ranges behind it."""

    sigma: float
    df: float
    ranges: int


def paired_within_sigma(resid: FloatArray, unit: npt.ArrayLike) -> WithinSigma:
    """Short-term σ per shoe from moving ranges of *unit* (pair) means.

    ``resid`` in time order; units in order of their first shoe. Model: e = b_c + w, b_c
    shared by the m_c shoes of unit c, Var b = σ_b², Var w = σ_e², σ² = σ_b² + σ_e².

    - σ_m = mean moving range of consecutive unit means ē_c / D2; Var ē_c = σ_b² + σ_e²/m_c;
      ν_m = 0.62 (G − 1) (:data:`MR_DF_PER_RANGE`).
    - σ_e² = Σ_c Σ_i (e_ci − ē_c)² / Σ_c (m_c − 1), the ANOVA within mean square; 0 when
      no unit holds two shoes; ν_e = n − G.
    - σ_within = √(σ_m² + a σ_e²), a = 1 − mean_c(1/m_c), which estimates σ_b² + σ_e²;
      its degrees of freedom by Satterthwaite (1946): ν = σ⁴ / (σ_m⁴/ν_m + (a σ_e²)²/ν_e);
      ν_m without pairs of two shoes, ν_m + ν_e when σ ≈ 0 (nothing to weigh).

    No range is ever taken between the two (correlated) shoes of one pair. With one shoe
    per unit this is :func:`moving_range_sigma` of the shoes, with 0.62 (n − 1) df.
    """
    e = np.asarray(resid, dtype=np.float64)
    _, first, inverse = np.unique(np.asarray(unit), return_index=True, return_inverse=True)
    in_time = np.argsort(first)  # units in order of their first shoe
    m = np.bincount(inverse).astype(np.float64)[in_time]
    means = np.array([np.mean(e[inverse == c]) for c in in_time])
    sigma_m, count = moving_range_sigma(means)
    within = e - np.array([np.mean(e[inverse == c]) for c in inverse])
    df_e = len(e) - len(m)
    part_e = (float(np.sum(within**2)) / df_e if df_e > 0 else 0.0) * (
        1.0 - float(np.mean(1.0 / m))
    )
    sigma2 = sigma_m**2 + part_e
    df_m = MR_DF_PER_RANGE * count
    if sigma2 <= NO_SPREAD_MM2 or part_e == 0:  # nothing to weigh: the df of the ranges
        df = df_m + (df_e if sigma2 <= NO_SPREAD_MM2 else 0.0)
    else:
        df = sigma2**2 / (sigma_m**4 / df_m + part_e**2 / df_e) if df_m > 0 else math.nan
    return WithinSigma(math.sqrt(sigma2), df if df > 0 else math.nan, count)


def sd_within(resid: FloatArray, unit: npt.ArrayLike, *, dated: bool, line: Line) -> WithinSigma:
    """``sd_within_mm``: spread around the producer's own grading line, with its df.

    Dated groups (at least half the rows carry a date): :func:`paired_within_sigma` of the
    residuals in time order. Otherwise, or with a single unit, the residual SD over shoes
    √(SSR / (n − k)) (``line.s_shoes``), counted with the G − k df of the units (shoes of
    a pair are not independent; with one shoe per unit, n − k). A grading error is never
    counted as scatter.
    """
    paired = paired_within_sigma(resid, unit)
    if dated and paired.ranges >= 1:
        return paired
    return WithinSigma(line.s_shoes, line.df, 0)


def residual_sd(resid: FloatArray, df: float) -> float:
    """√(Σ e² / df)."""
    return math.sqrt(float(np.sum(np.asarray(resid) ** 2)) / df) if df > 0 else math.nan


# --------------------------------------------------------------------------- capability


def capability_indices(
    *, mean: npt.ArrayLike, sigma: npt.ArrayLike, lsl: npt.ArrayLike, usl: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Cp = (USL − LSL) / 6σ and Cpk = min(USL − μ, μ − LSL) / 3σ, elementwise.

    NIST/SEMATECH e-Handbook of Statistical Methods, 6.1.6. An infinite limit is a
    one-sided specification: Cp is then NaN and Cpk the finite side alone (CPL for a
    minimum, CPU for a maximum); with no finite limit both are NaN.

    Examples
    --------
    NIST/SEMATECH e-Handbook 6.1.6: USL 20, LSL 8, mean 16, sigma 2.

    >>> cp, cpk = capability_indices(mean=16.0, sigma=2.0, lsl=8.0, usl=20.0)
    >>> float(cp), round(float(cpk), 3)
    (1.0, 0.667)
    """
    m, s, lo, hi = (np.asarray(a, dtype=np.float64) for a in (mean, sigma, lsl, usl))
    with np.errstate(invalid="ignore", divide="ignore"):
        cp = np.where(np.isfinite(lo) & np.isfinite(hi), (hi - lo) / (6.0 * s), np.nan)
        cpu = np.where(np.isfinite(hi), (hi - m) / (3.0 * s), np.inf)
        cpl = np.where(np.isfinite(lo), (m - lo) / (3.0 * s), np.inf)
        cpk = np.minimum(cpu, cpl)
    cpk = np.where(np.isfinite(lo) | np.isfinite(hi), cpk, np.nan)
    return np.asarray(cp, dtype=np.float64), np.asarray(cpk, dtype=np.float64)


def cpk_at_ends(
    *,
    line_at_min: npt.ArrayLike,
    line_at_max: npt.ArrayLike,
    sigma: npt.ArrayLike,
    lsl: npt.ArrayLike,
    usl: npt.ArrayLike,
) -> FloatArray:
    """Cpk at the worse end of the producer's sizes, elementwise.

    min over x ∈ {smallest, largest size} of min(U − line(x), line(x) − L) / 3σ, with
    line(x) the producer's grading line (:meth:`Line.at`) and σ the within σ: a grading
    error lowers Cpk as it lowers the in-spec share at the ends.
    """
    _, at_min = capability_indices(mean=line_at_min, sigma=sigma, lsl=lsl, usl=usl)
    _, at_max = capability_indices(mean=line_at_max, sigma=sigma, lsl=lsl, usl=usl)
    return np.asarray(np.fmin(at_min, at_max), dtype=np.float64)


def bissell_interval(
    cpk: npt.ArrayLike, n: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Bissell's (1990) normal approximation, elementwise: Cpk ± z √(1/(9n) + Cpk²/(2(n − 1))).

    z = Φ⁻¹(1 − α/2) (``scipy.special.ndtri``, the function ``scipy.stats.norm.ppf`` calls).
    It holds for σ estimated by the sample SD of n independent values around their mean;
    :func:`cpk_interval` is its generalisation.
    """
    c, nn = np.asarray(cpk, dtype=np.float64), np.asarray(n, dtype=np.float64)
    z = float(special.ndtri(0.5 + confidence / 2.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(1.0 / (9.0 * nn) + c * c / (2.0 * (nn - 1.0)))
        return np.asarray(c - z * se, dtype=np.float64), np.asarray(c + z * se, dtype=np.float64)


def cpk_candidates(
    *,
    centres: Sequence[npt.ArrayLike],
    se_centres: Sequence[npt.ArrayLike],
    sigma: npt.ArrayLike,
    lsl: npt.ArrayLike,
    usl: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """The one-sided indices whose smallest is Cpk, with the SE of their centres.

    For each centre x (the grading line at the smallest and at the largest size; the
    mean alone when there is no line): CPU = (USL − x) / 3σ and CPL = (x − LSL) / 3σ.
    Returns two (2 · centres, …) arrays: the indices (+inf for a side without a limit or
    a centre that does not exist, e.g. NaN) and the SE of each index's centre.
    """
    s = np.asarray(sigma, dtype=np.float64)
    lo, hi = np.asarray(lsl, dtype=np.float64), np.asarray(usl, dtype=np.float64)
    index, se = [], []
    with np.errstate(invalid="ignore", divide="ignore"):
        for x, se_x in zip(centres, se_centres, strict=True):
            x = np.asarray(x, dtype=np.float64)
            index += [np.where(np.isfinite(hi), (hi - x) / (3 * s), np.inf),
                      np.where(np.isfinite(lo), (x - lo) / (3 * s), np.inf)]  # fmt: skip
            se += [np.asarray(se_x, dtype=np.float64)] * 2
    return np.asarray(np.broadcast_arrays(*index)), np.asarray(np.broadcast_arrays(*se))


def cpk_interval(
    candidates: npt.ArrayLike,
    *,
    se_centres: npt.ArrayLike,
    sigma: npt.ArrayLike,
    df: npt.ArrayLike,
    confidence: float = 0.95,
) -> tuple[FloatArray, FloatArray]:
    """Interval of Cpk = min over K one-sided indices C_c = d_c / 3σ (:func:`cpk_candidates`).

    Each index by the delta method: SE(Ĉ_c) = √(SE(centre_c)² / (9σ²) + Ĉ_c² / (2ν)), with
    SE(centre) over the independent units (:meth:`Line.se_at`: the line's uncertainty
    counts) and ν the degrees of freedom of σ̂ (Var σ̂/σ ≈ 1/(2ν): 0.62 (m − 1) for a
    moving range, Satterthwaite's for pairs, Minitab's for subgroups). Then
    low = min_c (Ĉ_c − z SE_c) and high = min_c (Ĉ_c + z_K SE_c), z = Φ⁻¹(1 − α/2),
    z_K = Φ⁻¹(1 − α/(2K)) with K the number of centres (2: both ends of a grading line).
    The lower bound misses only if the true smallest index's bound does; the upper bound,
    by Bonferroni over the ends, with probability ≤ α/2 whichever end is the worse — the
    smaller of two noisy ends runs low, which is why one delta-method interval around
    Ĉpk covered only 81–85 % with several sizes. At one centre the nearer side is taken
    as Bissell (1990) does; with the mean of n independent values and the sample SD (SE =
    σ/√n, ν = n − 1) this is Bissell's interval. Coverage in simulation:
    benchmarks/cpk_coverage.py (README). Candidates on the first axis, elementwise after.
    """
    c = np.asarray(candidates, dtype=np.float64)
    se_c, s, nu = (np.asarray(a, dtype=np.float64) for a in (se_centres, sigma, df))
    exists = ~np.isposinf(c)
    k = np.maximum((exists[0::2] | exists[1::2]).sum(axis=0), 1)  # centres
    a = 1.0 - confidence
    z, z_k = float(special.ndtri(1 - a / 2)), special.ndtri(1 - a / (2 * k))
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(se_c * se_c / (9.0 * s * s) + c * c / (2.0 * nu))
        low = np.where(exists, c - z * se, np.inf).min(axis=0)
        high = np.where(exists, c + z_k * se, np.inf).min(axis=0)
    none = ~exists.any(axis=0)
    return np.where(none, np.nan, low), np.where(none, np.nan, high)


#: d2 of the range of n values from a normal distribution, n = 2 … 10 (Montgomery,
#: Introduction to Statistical Quality Control, Appendix table VI; ASTM E2587).
D2_BY_N = {
    2: 1.128,
    3: 1.693,
    4: 2.059,
    5: 2.326,
    6: 2.534,
    7: 2.704,
    8: 2.847,
    9: 2.970,
    10: 3.078,
}


def c4(n: int) -> float:
    """c4 = √(2/(n − 1)) Γ(n/2) / Γ((n − 1)/2): E[s] = c4 σ for n normal values."""
    return math.sqrt(2.0 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))


def _sbar_df_factor(n: float) -> float:
    """Minitab's f_n for S̄/c4: ν = f_n k (n − 1) (Methods and formulas, potential capability)."""
    table = (
        (2, 0.88),
        (3, 0.92),
        (4, 0.94),
        (5, 0.95),
        (7, 0.96),
        (9, 0.97),
        (17, 0.98),
        (64, 0.99),
    )
    return next((f for top, f in table if n <= top), 1.0)


def subgroup_sigma(
    values: FloatArray, subgroups: npt.ArrayLike, *, method: str
) -> tuple[float, float]:
    """Within σ from rational subgroups, and its degrees of freedom.

    ``method="range"``: R̄/d2, the mean over subgroups of R_i / d2(n_i) (n_i = 2 … 10),
    ν = 0.9 k (n̄ − 1). ``method="sd"``: S̄/c4, the mean of s_i / c4(n_i), ν = f_n k (n̄ − 1).
    k subgroups of n̄ values on average; subgroups of one value are left out. σ formulas:
    Montgomery, Introduction to SQC, §6.2; ν: Minitab, Methods and formulas for
    potential capability. qcc's ``pistonrings`` (25 × 5): R̄/d2 = 0.009785.
    """
    x = np.asarray(values, dtype=np.float64)
    g = np.asarray(subgroups)
    ratios, sizes = [], []
    for label in dict.fromkeys(g.tolist()):
        part = x[g == label]
        if len(part) < 2:
            continue
        if method == "range":
            if len(part) not in D2_BY_N:
                raise ValueError(f"R̄/d2 needs subgroups of 2 to 10 values, got {len(part)}")
            ratios.append(float(np.ptp(part)) / D2_BY_N[len(part)])
        else:
            ratios.append(float(np.std(part, ddof=1)) / c4(len(part)))
        sizes.append(len(part))
    k, n_bar = len(sizes), float(np.mean(sizes)) if sizes else math.nan
    factor = 0.9 if method == "range" else _sbar_df_factor(n_bar)
    return (float(np.mean(ratios)) if k else math.nan), factor * k * (n_bar - 1.0)


#: Reading resolutions tried by :func:`reading_resolution`, coarsest first (mm).
RESOLUTIONS: tuple[float, ...] = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)


def on_grid(values: npt.ArrayLike, step: float) -> npt.NDArray[np.bool_]:
    """Whether each value is a whole multiple of ``step`` (to 1e-6 of a step)."""
    q = np.asarray(values, dtype=np.float64) / step
    return np.asarray(np.abs(q - np.round(q)) <= 1e-6, dtype=np.bool_)


def reading_resolution(values: FloatArray) -> float:
    """The resolution the values were read to: the coarsest of :data:`RESOLUTIONS` of
    which every value is a multiple; 0 (unknown) when none is, or without values."""
    v = np.asarray(values, dtype=np.float64)
    return next((r for r in RESOLUTIONS if len(v) and bool(on_grid(v, r).all())), 0.0)


def sigma_floor(
    sigma: npt.ArrayLike, resolution: npt.ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """σ, not below the reading resolution r / √12, elementwise; and where it was raised.

    A value read to r mm carries a rounding error uniform on ±r/2, SD r/√12 (Sheppard):
    a spread smaller than that cannot be told from the readings (ten identical lengths
    read to 1 mm have σ̂ = 0, not a perfect process).
    """
    s, r = np.asarray(sigma, dtype=np.float64), np.asarray(resolution, dtype=np.float64)
    floor = np.where(r > 0, r / math.sqrt(12.0), 0.0)
    raised = np.asarray(s < floor, dtype=np.bool_)
    return np.asarray(np.where(raised, floor, s), dtype=np.float64), raised


# --------------------------------------------------------------------------- per group


def median_step(values: FloatArray) -> float:
    """The median of the non-missing values when it is > 0, else NaN (grade steps)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    m = float(np.median(v)) if len(v) else math.nan
    return m if m > 0 else math.nan


def label_step(nominal_step: FloatArray | None, grade_step: float) -> float:
    """mm of nominal per label unit: the median ``nominal_step_mm`` (> 0), else the grade
    step (tabulated dimensions, EU tables: one label unit is one size)."""
    step = median_step(nominal_step) if nominal_step is not None else math.nan
    return step if math.isfinite(step) else grade_step


def deviation_limits(
    lower: FloatArray, upper: FloatArray, nominal: FloatArray
) -> tuple[float, float]:
    """The in-spec limits in deviation space: medians of lower − nominal and upper −
    nominal over the group; −inf / +inf when unknown (one-sided tables)."""

    def median(v: FloatArray) -> float:
        v = v[~np.isnan(v)]
        return float(np.median(v)) if len(v) else math.nan

    lo, hi = median(lower - nominal), median(upper - nominal)
    return (-math.inf if math.isnan(lo) else lo), (math.inf if math.isnan(hi) else hi)


def share(status: Sequence[str], wanted: Sequence[str]) -> float:
    """Percent of shoes whose status is one of ``wanted``."""
    return 100.0 * float(np.mean(np.isin(np.asarray(status, dtype=object), list(wanted))))


def pair_gaps(value: FloatArray, foot: Sequence[object], pair: Sequence[object]) -> FloatArray:
    """Mean of the right shoes − mean of the left shoes, for each pair id with both feet.

    Shoes without a pair id or a foot (L/R) are left out; the differences are in the
    order of the pair ids' first appearance.
    """
    v = np.asarray(value, dtype=np.float64)
    f = np.asarray(foot, dtype=object)
    p = np.asarray(pair, dtype=object)
    gaps = []
    for pid in dict.fromkeys(x for x in p if x is not None and x == x):
        left, right = v[(p == pid) & (f == "L")], v[(p == pid) & (f == "R")]
        if len(left) and len(right):
            gaps.append(float(np.mean(right)) - float(np.mean(left)))
    return np.asarray(gaps, dtype=np.float64)


def _over_pairs(d: FloatArray, confidence: float) -> Interval:
    """The mean of per-pair values with its t-interval, each pair one unit (K − 1 df)."""
    k = len(d)
    if k == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, math.nan)
    mean = float(np.mean(d))
    se = float(np.std(d, ddof=1)) / math.sqrt(k) if k > 1 else math.nan
    t = float(t_quantile(confidence, k - 1))
    return Interval(mean, se, k - 1.0, mean - t * se, mean + t * se)


def pair_mismatch(
    value: FloatArray, foot: Sequence[object], pair: Sequence[object], confidence: float = 0.95
) -> Interval:
    """``pair_mismatch_mm``: mean |right − left| over the complete pairs, t-interval over pairs.

    d_k = |ȳ_R,k − ȳ_L,k| for each pair id k with both feet (:func:`pair_gaps`);
    d̄ = Σ d_k / K, SE = s_d / √K, df = K − 1. NaN when no pair is complete. How far apart
    the two shoes a customer buys are — from a mismatched pair of lasts or cutting, or
    from plain scatter (independent shoes with SD σ differ by 2σ/√π on average).
    """
    return _over_pairs(np.abs(pair_gaps(value, foot, pair)), confidence)


def pair_difference(
    value: FloatArray, foot: Sequence[object], pair: Sequence[object], confidence: float = 0.95
) -> Interval:
    """The *systematic* left/right difference: mean of (right − left) over complete pairs.

    δ̄ = Σ (ȳ_R,k − ȳ_L,k) / K with its t-interval over pairs. Scatter averages out here;
    a set of lasts (or a left and a right cutting die) that differ does not: left lasts
    2 mm long and right ones 2 mm short give δ̄ = −4 mm. This is what the
    ``pair_mismatch`` verdict judges.
    """
    return _over_pairs(pair_gaps(value, foot, pair), confidence)


def scatter_sigma(
    sd_within: npt.ArrayLike, pair_diff: npt.ArrayLike, paired_share: npt.ArrayLike
) -> FloatArray:
    """The within σ without a systematic left/right difference, for the scatter rule.

    A systematic difference δ between the left and the right shoe puts each shoe of a
    complete pair δ/2 from its pair's mean, which the within σ counts as spread:
    σ² ≈ σ_scatter² + (δ/2)² · p, p the share of shoes in complete pairs. So
    σ_scatter = √max(σ² − (δ/2)² p, 0); pass δ = 0 (no significant difference) to keep
    σ. A mismatched pair of lasts is a pair mismatch, not scatter (as a grading error is
    grading, not scatter).
    """
    s = np.asarray(sd_within, dtype=np.float64)
    d = np.asarray(pair_diff, dtype=np.float64)
    p = np.asarray(paired_share, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.sqrt(np.maximum(s * s - (d / 2.0) ** 2 * p, 0.0)), dtype=np.float64)


def pair_mismatch_limit(lsl: npt.ArrayLike, usl: npt.ArrayLike, share: float) -> FloatArray:
    """The largest mean |left − right| allowed: ``share`` × the half-width of the in-spec
    band, (U − L) / 2 (1.5 mm for lengths at ±1.5 mm with share 1). NaN for a one-sided
    band. A Chinese factory specification allows 1–2 mm between the two shoes of a pair
    (domain.md, "Tolerances"); the in-spec half-width is the table's own figure."""
    lo = np.asarray(lsl, dtype=np.float64)
    hi = np.asarray(usl, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        half = np.where(np.isfinite(lo) & np.isfinite(hi), (hi - lo) / 2.0, np.nan)
    return np.asarray(share * half, dtype=np.float64)


def out_of_spec_share(
    sigma: npt.ArrayLike, lsl: npt.ArrayLike, usl: npt.ArrayLike, centre: npt.ArrayLike
) -> FloatArray:
    """The share of a normal process N(centre, σ²) outside [L, U]:
    Φ((L − centre)/σ) + 1 − Φ((U − centre)/σ); 0 when σ = 0.

    With ``centre`` in the middle of a two-sided band this is what the spread ALONE
    would put out of spec — the ``scatter`` rule's ``pct_out_expected``; infinite limits
    (one-sided) contribute nothing.
    """
    s = np.asarray(sigma, dtype=np.float64)
    lo, hi = np.asarray(lsl, dtype=np.float64), np.asarray(usl, dtype=np.float64)
    c = np.asarray(centre, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = special.ndtr((lo - c) / s) + special.ndtr(-((hi - c) / s))
    return np.asarray(np.where(s > 0, out, np.where(np.isnan(s), np.nan, 0.0)), dtype=np.float64)


def effective_size(size: float, bias: float, step_per_label: float) -> float:
    """size + bias / (mm of nominal per label unit): "your 41 is a 41.6". Its interval is
    this function of the ends of the bias interval (the step is a constant of the table)."""
    return size + bias / step_per_label


def gap_interval(
    a: npt.ArrayLike,
    se_a: npt.ArrayLike,
    df_a: npt.ArrayLike,
    b: npt.ArrayLike,
    se_b: npt.ArrayLike,
    df_b: npt.ArrayLike,
    confidence: float = 0.95,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The difference a − b of two independent estimates with its Welch interval,
    elementwise: SE = √(se_a² + se_b²), df by Welch (1947) – Satterthwaite (1946),
    ν = SE⁴ / (se_a⁴/df_a + se_b⁴/df_b); a − b ± t(1 − α/2, ν) · SE. Returns the
    difference and the interval's ends (NaN where an SE or df is missing)."""
    a_, sa, da, b_, sb, db = (
        np.asarray(v, dtype=np.float64) for v in (a, se_a, df_a, b, se_b, df_b)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        va, vb = sa * sa, sb * sb
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va * va / da + vb * vb / db)
    t = t_quantile(confidence, df)
    gap = a_ - b_
    return gap, gap - t * se, gap + t * se


def modal_label(labels: Sequence[object]) -> object:
    """The label written most often (first in sort order on ties); None when none."""
    present = sorted(str(x) for x in labels if x is not None and x == x)
    if not present:
        return None
    values, counts = np.unique(present, return_counts=True)
    return str(values[int(np.argmax(counts))])


def gaussian_aic(rms: npt.ArrayLike, n: npt.ArrayLike, k: npt.ArrayLike) -> FloatArray:
    """Akaike's information criterion of a model with normal errors, elementwise.

    With σ̂² = RMS² = Σ r² / n (the maximum-likelihood variance) the log-likelihood is
    ℓ = −n/2 · (ln(2π σ̂²) + 1), and AIC = 2k − 2ℓ = n ln(2π σ̂²) + n + 2k, k counting
    every fitted parameter including σ (Akaike 1974, IEEE Trans. Automatic Control
    19(6):716–723; Burnham & Anderson 2002, Model Selection and Multimodel Inference,
    §2.2: models within ΔAIC < 2 of the best have substantial support).
    """
    r, nn, kk = (np.asarray(v, dtype=np.float64) for v in (rms, n, k))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(nn * np.log(2.0 * np.pi * r * r) + nn + 2.0 * kk, dtype=np.float64)


# --------------------------------------------------------------------------- change point


def change_point(x: FloatArray) -> tuple[int, float]:
    """The least-squares single change point of values in time order, and its step.

    x_1 … x_T is split into x_1 … x_k and x_(k+1) … x_T at the k (1 ≤ k < T) that
    minimises the sum of squares around the two segment means, i.e. maximises
    k (T − k) / T · (x̄_after − x̄_before)² (Hinkley 1970, Biometrika 57(1):1–17); the
    earliest k on ties. Returns k (the number of points before the change) and the step
    x̄_after − x̄_before; (0, NaN) with fewer than two values. The control chart's
    change point (:func:`sizecheck.drift.change_points`) is this function of its points.
    """
    v = np.asarray(x, dtype=np.float64)
    t = len(v)
    if t < 2:
        return 0, math.nan
    k = np.arange(1, t)
    before = np.cumsum(v)[:-1] / k
    after = (float(np.sum(v)) - np.cumsum(v)[:-1]) / (t - k)
    best = int(np.argmax(k * (t - k) / t * (after - before) ** 2))
    return best + 1, float(after[best] - before[best])


#: Fewer chart points than this: no change is tested (:func:`change_point_test`).
MIN_CHANGE_POINTS = 4


def change_point_test(x: FloatArray) -> tuple[int, float, float, float]:
    """:func:`change_point` with its test: split k, step, t and the Bonferroni p-value.

    The points either side of the least-squares split are compared by the pooled
    two-sample t-test (the points — visit means — are the independent units, so a day
    effect is part of their variance): with B = k (T − k) / T · step² the between-split
    and S = Σ (x − x̄)² the total sum of squares,

        t² = B / ((S − B) / (T − 2)),  T − 2 df

    — the statistic ``scipy.stats.ttest_ind(x[k:], x[:k], equal_var=True)`` gives, signed
    as the step. The split is the best of T − 1 candidates (the maximum of the T − 1
    two-sample statistics is the likelihood-ratio test of one shift in a normal mean,
    Hawkins 1977, JASA 72(357):180–186), so the two-sided p-value is multiplied by
    T − 1 (Bonferroni; a conservative bound on the exact null distribution, Worsley 1979,
    JASA 74(366):365–367): p = min(1, (T − 1) · 2 P(t_(T−2) > |t|)). Returns
    (k, step, t, p); t and p are NaN with fewer than :data:`MIN_CHANGE_POINTS` values.
    """
    v = np.asarray(x, dtype=np.float64)
    t_pts = len(v)
    k, step = change_point(v)
    if t_pts < MIN_CHANGE_POINTS:
        return k, step, math.nan, math.nan
    between = k * (t_pts - k) / t_pts * step * step
    total = float(np.sum((v - v.mean()) ** 2))
    with np.errstate(invalid="ignore", divide="ignore"):  # no spread within: t = ±inf
        t2 = np.float64(between) / np.float64(max(total - between, 0.0) / (t_pts - 2))
    t = math.copysign(float(np.sqrt(t2)), step)
    p = min(1.0, (t_pts - 1) * float(t_p_value(t, t_pts - 2)))
    return k, step, t, p


def change_point_bootstrap(
    x: FloatArray, rng: np.random.Generator, replicates: int
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Bootstrap replicates of :func:`change_point`: residuals resampled around the fit.

    The fit is the two segment means at the estimated change; each replicate adds to it
    T residuals drawn with replacement from x − fit and finds the change point and step
    again (bootstrapping residuals, Efron & Tibshirani 1993, An Introduction to the
    Bootstrap, §9.5; for a change point, Hušková & Kirch 2008, J. Time Series Analysis
    29(6):947–972). Percentiles of the replicates give the intervals of the change's
    position and step. Returns the replicates' k and steps.
    """
    v = np.asarray(x, dtype=np.float64)
    t = len(v)
    k, _ = change_point(v)
    fit = np.where(np.arange(t) < k, np.mean(v[:k]), np.mean(v[k:]))
    draws = fit + rng.choice(v - fit, size=(replicates, t), replace=True)
    # change_point of every row of draws at once (tests/test_periods.py checks it)
    j = np.arange(1, t)
    cs = np.cumsum(draws, axis=1)
    before = cs[:, :-1] / j
    after = (cs[:, -1:] - cs[:, :-1]) / (t - j)
    best = np.argmax(j * (t - j) / t * (after - before) ** 2, axis=1)
    rows = np.arange(replicates)
    steps = after[rows, best] - before[rows, best]
    return (best + 1).astype(np.int64), np.asarray(steps, dtype=np.float64)


# --------------------------------------------------------------------------- many tests


def t_p_value(t: npt.ArrayLike, df: npt.ArrayLike, *, two_sided: bool = True) -> FloatArray:
    """P-value of a t statistic, elementwise: 2 P(T_df > |t|), or P(T_df > t) one-sided.

    ``scipy.special.stdtr(df, x)`` is the t CDF that ``scipy.stats.t.cdf`` calls. NaN
    where t or df is missing or df ≤ 0. A test rejects at level α exactly when its
    ``1 − α`` interval (two-sided) excludes the null value.
    """
    tt, d = np.asarray(t, dtype=np.float64), np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        d = np.where(d > 0, d, np.nan)
        p = 2.0 * special.stdtr(d, -np.abs(tt)) if two_sided else special.stdtr(d, -tt)
    return np.asarray(p, dtype=np.float64)


def holm(p: npt.ArrayLike) -> FloatArray:
    """Holm's (1979) step-down adjusted p-values (family-wise error rate).

    With the m non-missing p-values sorted, p_(1) ≤ … ≤ p_(m): p̃_(i) =
    max_{j ≤ i} min(1, (m − j + 1) p_(j)). Reject where p̃ < α. NaN stays NaN and does
    not count in m. Holm, S. (1979), Scand. J. Statistics 6(2):65–70.
    """
    x = np.asarray(p, dtype=np.float64)
    out = np.full(len(x), np.nan)
    ok = np.nonzero(~np.isnan(x))[0]
    order = ok[np.argsort(x[ok], kind="stable")]
    m = len(order)
    out[order] = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * x[order]))
    return out


def benjamini_hochberg(p: npt.ArrayLike) -> FloatArray:
    """Benjamini & Hochberg's (1995) step-up adjusted p-values (false discovery rate).

    With the m non-missing p-values sorted: p̃_(i) = min_{j ≥ i} min(1, m p_(j) / j).
    Reject where p̃ < α. NaN stays NaN and does not count in m. Benjamini, Y. & Hochberg,
    Y. (1995), J. Royal Statistical Society B 57(1):289–300.
    """
    x = np.asarray(p, dtype=np.float64)
    out = np.full(len(x), np.nan)
    ok = np.nonzero(~np.isnan(x))[0]
    order = ok[np.argsort(x[ok], kind="stable")]
    m = len(order)
    scaled = np.minimum(1.0, m * x[order] / np.arange(1, m + 1))
    out[order] = np.minimum.accumulate(scaled[::-1])[::-1]
    return out


# --------------------------------------------------------------------------- between


def welch_anova(
    n: FloatArray, mean: FloatArray, var: FloatArray
) -> tuple[int, float, float, float, float]:
    """Welch's (1951) heteroscedastic one-way ANOVA from group sizes, means and variances.

    Groups with n < 2 or a variance that is 0 or not finite are left out; k groups remain.
    w_i = n_i / s_i², x̄_w = Σ w_i x̄_i / Σ w_i, Λ = Σ (1 − w_i / Σw)² / (n_i − 1),
    F = [Σ w_i (x̄_i − x̄_w)² / (k − 1)] / [1 + 2 (k − 2) Λ / (k² − 1)],
    df1 = k − 1, df2 = (k² − 1) / (3 Λ), p = P(F(df1, df2) > F); R's ``oneway.test``
    with ``var.equal = FALSE``.
    Returns k, F, df1, df2, p (NaN unless k ≥ 2).
    """
    n, mean, var = (np.asarray(a, dtype=np.float64) for a in (n, mean, var))
    ok = (n >= 2) & (var > 0) & np.isfinite(var)
    n, mean, var = n[ok], mean[ok], var[ok]
    k = len(n)
    if k < 2:
        return k, math.nan, math.nan, math.nan, math.nan
    w = n / var
    xw = float(np.sum(w * mean) / np.sum(w))
    lam = float(np.sum((1 - w / np.sum(w)) ** 2 / (n - 1)))
    f = float(np.sum(w * (mean - xw) ** 2) / (k - 1)) / (1 + 2 * (k - 2) * lam / (k * k - 1))
    df2 = (k * k - 1) / (3 * lam)
    # scipy.special.fdtrc(df1, df2, F) is what scipy.stats.f.sf(F, df1, df2) calls
    return k, f, k - 1.0, df2, float(special.fdtrc(k - 1, df2, f))


def anova_effect_sizes(n: FloatArray, mean: FloatArray, var: FloatArray) -> tuple[float, float]:
    """η² and ω² of a one-way layout from group sizes, means and variances.

    Over the same groups as :func:`welch_anova` (n ≥ 2, variance finite and > 0; k of
    them, N values): grand mean x̄ = Σ n_i x̄_i / N, SS_between = Σ n_i (x̄_i − x̄)²,
    SS_within = Σ (n_i − 1) s_i², MS_within = SS_within / (N − k),

    - η² = SS_between / (SS_between + SS_within) (Pearson 1905; Cohen 1988 §8.2): the
      share of the variance of the values that lies between the groups, in the sample;
    - ω² = (SS_between − (k − 1) MS_within) / (SS_between + SS_within + MS_within)
      (Hays 1963; Olejnik & Algina 2003, Table 1): the same share estimated for the
      population, less biased upwards than η²; it can be slightly negative when the
      groups differ less than chance would make them.

    Both come from the sums of squares of the ordinary ANOVA, not from Welch's F (they
    describe how large the differences are, the test whether they are real).
    Returns (η², ω²), NaN unless k ≥ 2 and N > k.
    """
    n, mean, var = (np.asarray(a, dtype=np.float64) for a in (n, mean, var))
    ok = (n >= 2) & (var > 0) & np.isfinite(var)
    n, mean, var = n[ok], mean[ok], var[ok]
    k, total = len(n), float(np.sum(n))
    if k < 2 or total <= k:
        return math.nan, math.nan
    grand = float(np.sum(n * mean) / total)
    ss_between = float(np.sum(n * (mean - grand) ** 2))
    ss_within = float(np.sum((n - 1) * var))
    ms_within = ss_within / (total - k)
    ss_total = ss_between + ss_within
    eta2 = ss_between / ss_total
    omega2 = (ss_between - (k - 1) * ms_within) / (ss_total + ms_within)
    return eta2, omega2


def convention_fit(
    size: FloatArray, value: FloatArray, *, slope: float, allowance: float, fit_intercept: bool
) -> tuple[float, float, float]:
    """How well the line ``allowance + slope · size`` (+ a fitted shift) predicts ``value``.

    r = value − allowance − slope · size; with ``fit_intercept`` the shift is mean(r) and
    is taken off r. Returns mean(r), the RMS √(Σ r² / n), and the shift (NaN when none
    is fitted).
    """
    r = np.asarray(value, dtype=np.float64) - allowance - slope * np.asarray(size)
    shift = float(np.mean(r)) if fit_intercept else math.nan
    if fit_intercept:
        r = r - shift
    return float(np.mean(r)), math.sqrt(float(np.sum(r * r)) / len(r)), shift
