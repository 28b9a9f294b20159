"""The statistics of :mod:`sizecheck.stats.reference`, vectorised over all groups at once.

A table of 600 producer × dimension groups and 3 million shoes cannot call a Python
function per group and statistic in good time, so these functions compute each statistic
for every group in a few passes of ``numpy.bincount`` over integer group codes. Each one
names the reference function it reproduces; ``tests/test_kernels.py`` proves, on random
frames with dates, pairs (single shoes, missing ids), several sizes, missing values and
one-row groups, that kernel and reference agree to 1e-9 group by group.

Conventions: ``g`` is the group code (0 … ng − 1) of each value, ``unit`` its independent
unit (codes 0 … U − 1, one group per unit, numbered in order of first appearance: see
:class:`sizecheck.stats.groups.Groups`). Arrays in *time order within groups* are needed
only where a function says so (moving ranges).

Numerics: means are refined by a second pass over the centred values, and every sum of
squares or cross-products is taken over centred values with the correction of Chan, Golub
& LeVeque (1983) — Σ(x − m)² − (Σ(x − m))² / n — so that values far from zero (NIST StRD
SmLs09 near 1e12) keep their digits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from sizecheck.stats.reference import (
    D2,
    MR_DF_PER_RANGE,
    NO_SPREAD_MM2,
    RESOLUTIONS,
    on_grid,
    t_quantile,
)

__all__ = [
    "Intervals",
    "LineCovariances",
    "Lines",
    "Spreads",
    "bias_intervals",
    "cluster_covariances",
    "cluster_mean_intervals",
    "convention_fits",
    "deviation_limits",
    "grading_lines",
    "group_mean",
    "group_median",
    "group_sum",
    "line_spreads",
    "mean_intervals",
    "modal_code",
    "moving_range_sigma",
    "pair_mismatch",
    "paired_within_sigma",
    "reading_resolutions",
    "size_range",
    "sum_of_squares",
    "unit_sum_of_squares",
    "visit_clusters",
    "welch_anova",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def deviation_limits(
    g: IntArray, lower: FloatArray, upper: FloatArray, nominal: FloatArray, ng: int
) -> tuple[FloatArray, FloatArray]:
    """:func:`reference.deviation_limits` per group: medians of lower − nominal and
    upper − nominal; −inf / +inf where unknown (one-sided tables)."""
    with np.errstate(invalid="ignore"):
        lo = group_median(g, lower - nominal, ng)
        hi = group_median(g, upper - nominal, ng)
    return np.where(np.isnan(lo), -np.inf, lo), np.where(np.isnan(hi), np.inf, hi)


def group_sum(g: IntArray, x: npt.ArrayLike, ng: int) -> FloatArray:
    """Σ x per group."""
    return np.asarray(np.bincount(g, weights=np.asarray(x, dtype=np.float64), minlength=ng))


def group_mean(g: IntArray, x: FloatArray, ng: int) -> FloatArray:
    """Mean per group (``numpy.mean``), refined by a second pass over ``x − mean``."""
    n = np.bincount(g, minlength=ng).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = group_sum(g, x, ng) / n
        return np.asarray(m + group_sum(g, x - m[g], ng) / n, dtype=np.float64)


def sum_of_squares(g: IntArray, x: FloatArray, mean: FloatArray) -> FloatArray:
    """Σ (x − mean)² per group, corrected two-pass (never negative)."""
    ng = len(mean)
    n = np.bincount(g, minlength=ng).astype(np.float64)
    r = x - mean[g]
    s = group_sum(g, r, ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.maximum(group_sum(g, r * r, ng) - s * s / n, 0.0), dtype=np.float64)


def group_median(g: IntArray, x: FloatArray, ng: int) -> FloatArray:
    """Median of the non-missing values per group (NaN when none): pandas' groupby.

    When every value equals its group's first value (grade steps, symmetric limits: the
    usual case) that value is the median, and no group is sorted.
    """
    some = np.full(ng, np.nan)
    some[g] = x  # one value of each group (which one does not matter)
    if bool(np.all(x == some[g])):
        return some
    med = pd.Series(x).groupby(g).median()
    out = np.full(ng, np.nan)
    out[med.index.to_numpy()] = med.to_numpy(dtype=np.float64)
    return out


def unit_sum_of_squares(
    g: IntArray, unit: IntArray, e: FloatArray, ng: int
) -> tuple[FloatArray, FloatArray]:
    """:func:`reference.unit_sum_of_squares` per group: Σ_c m_c ē_c², and G.

    Computed as Σ_c (Σ_c e)² / m_c − (Σ e)² / n, which corrects for residuals that sum to
    almost, not exactly, zero.
    """
    nu = int(unit.max()) + 1 if len(unit) else 0
    m = np.bincount(unit, minlength=nu).astype(np.float64)
    unit_group = np.zeros(nu, dtype=np.int64)
    unit_group[unit] = g
    su = np.bincount(unit, weights=e, minlength=nu)
    n = np.bincount(g, minlength=ng).astype(np.float64)
    s = group_sum(g, e, ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.bincount(unit_group, weights=su * su / m, minlength=ng) - s * s / n
    units = np.bincount(unit_group, minlength=ng).astype(np.float64)
    return np.asarray(np.maximum(ss, 0.0), dtype=np.float64), units


@dataclass(frozen=True, eq=False)
class Intervals:
    """Estimates with standard errors, degrees of freedom and intervals, one per group."""

    estimate: FloatArray
    se: FloatArray
    df: FloatArray
    low: FloatArray
    high: FloatArray


def mean_intervals(
    g: IntArray, unit: IntArray, y: FloatArray, ng: int, confidence: float
) -> Intervals:
    """:func:`reference.mean_interval` for every group."""
    n = np.bincount(g, minlength=ng).astype(np.float64)
    mean = group_mean(g, y, ng)
    ss, units = unit_sum_of_squares(g, unit, y - mean[g], ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.where(units > 1, np.sqrt(ss / (units - 1) / n), np.nan)
    t = t_quantile(confidence, units - 1)
    return Intervals(mean, se, units - 1, mean - t * se, mean + t * se)


def visit_clusters(
    g: IntArray, unit: IntArray, visit: IntArray, ng: int
) -> tuple[IntArray, BoolArray]:
    """:func:`reference.visit_clusters` per group: the cluster of each row (codes
    0 … C − 1, each within one group) and, per group, whether it is the visit.
    ``visit`` −1: no visit."""
    has = visit >= 0
    width = int(max(visit.max(initial=0), unit.max(initial=0))) + 1
    group_visit = pd.unique(g[has] * width + visit[has])  # each (group, visit) once
    clustered = np.asarray(np.bincount(group_visit // width, minlength=ng) >= 2, dtype=np.bool_)
    by_visit = has & clustered[g]
    key = 2 * width * g + np.where(by_visit, visit, width + unit)
    return np.asarray(pd.factorize(key)[0], dtype=np.int64), clustered


@dataclass(frozen=True, eq=False)
class LineCovariances:
    """Per group, the covariance of a line a + b (x − x̄): V_a, C_ab, V_b and its df
    (:class:`reference.ClusterCovariance`; from :meth:`from_spreads` the model-based
    one over units)."""

    var_a: FloatArray
    cov_ab: FloatArray
    var_b: FloatArray
    df: FloatArray

    @classmethod
    def from_spreads(cls, lines: Lines, spreads: Spreads) -> LineCovariances:
        """s²/n, 0, s²/Sxx with G − k df: :func:`reference.grading_line` over units."""
        with np.errstate(invalid="ignore", divide="ignore"):
            s2 = spreads.s * spreads.s
            var_b = np.where(lines.has_line, s2 / lines.sxx, np.nan)
            return cls(s2 / lines.n, np.zeros(len(s2)), var_b, spreads.df)

    def where(self, mask: BoolArray, other: LineCovariances) -> LineCovariances:
        """This covariance where ``mask``, ``other`` elsewhere."""
        return LineCovariances(
            *(np.where(mask, getattr(self, f), getattr(other, f))
              for f in ("var_a", "cov_ab", "var_b", "df"))
        )  # fmt: skip

    def slope_se(self) -> FloatArray:
        """SE(slope) = √V_b."""
        with np.errstate(invalid="ignore"):
            return np.asarray(np.sqrt(self.var_b), dtype=np.float64)

    def se_at(self, lines: Lines, x: npt.ArrayLike) -> FloatArray:
        """SE of each group's line at ``x``: √(V_a + 2 dx C_ab + dx² V_b), dx = x − x̄
        (√V_a without a line)."""
        dx = np.where(lines.has_line, np.asarray(x) - lines.size_mean, 0.0)
        with np.errstate(invalid="ignore"):
            v = self.var_a + np.where(dx != 0, 2 * dx * self.cov_ab + dx * dx * self.var_b, 0.0)
            return np.asarray(np.sqrt(v), dtype=np.float64)


def cluster_covariances(
    g: IntArray, cluster: IntArray, xc: FloatArray, e: FloatArray, lines: Lines
) -> LineCovariances:
    """:func:`reference.cluster_covariance` per group: ``xc`` = x − x̄ of each row, ``e``
    its residual from the group's line (from its mean where ``lines.has_line`` is False),
    clusters nested in groups.

    In the coordinates Z = X (X'X)^(−1/2) (X'X = diag(n, Sxx) for the centred design),
    H_cc = Z_c Z_c' has the nonzero eigenvalues of the 2 × 2 matrix M_c = Z_c' Z_c, and
    X_c' A_c e_c = (X'X)^(1/2) (I − M_c)^(−1/2) Z_c' e_c; so each cluster needs its sums
    m_c, Σ xc, Σ xc², Σ e, Σ xc e and one 2 × 2 eigen-decomposition (``numpy.linalg.eigh``
    on all clusters at once) instead of an m_c × m_c one.
    """
    ng = len(lines.n)
    nc = int(cluster.max()) + 1 if len(cluster) else 0
    cg = np.zeros(nc, dtype=np.int64)
    cg[cluster] = g
    line = lines.has_line[cg]
    n, sxx = lines.n[cg], np.where(line, lines.sxx[cg], 1.0)
    x = np.where(lines.has_line[g], xc, 0.0)

    def csum(w: FloatArray) -> FloatArray:
        return np.asarray(np.bincount(cluster, weights=w, minlength=nc), dtype=np.float64)

    m = np.bincount(cluster, minlength=nc).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        big_m = np.empty((nc, 2, 2))
        big_m[:, 0, 0] = m / n
        big_m[:, 0, 1] = big_m[:, 1, 0] = csum(x) / np.sqrt(n * sxx)
        big_m[:, 1, 1] = csum(x * x) / sxx
        ze = np.column_stack([csum(e) / np.sqrt(n), csum(x * e) / np.sqrt(sxx)])
        lam, vec = np.linalg.eigh(np.eye(2) - np.nan_to_num(big_m))
        ok = lam > 1e-12
        root = np.where(ok, 1.0 / np.sqrt(np.where(ok, lam, 1.0)), 0.0)
        # u = (I − M)^(−1/2) Z'e = V diag(root) V' Z'e
        u = np.einsum("cij,cj,ckj,ck->ci", vec, root, vec, ze)
    big_g = np.bincount(cg, minlength=ng).astype(np.float64)
    n_g, sxx_g = lines.n, lines.sxx
    with np.errstate(invalid="ignore", divide="ignore"):
        usable = (big_g >= 2) & (n_g > lines.k)
        var_a = np.where(usable, np.bincount(cg, u[:, 0] ** 2, ng) / n_g, np.nan)
        cov = np.bincount(cg, u[:, 0] * u[:, 1], ng) / np.sqrt(n_g * sxx_g)
        var_b = np.bincount(cg, u[:, 1] ** 2, ng) / sxx_g
    has = lines.has_line & usable
    return LineCovariances(var_a, np.where(has, cov, 0.0), np.where(has, var_b, np.nan), big_g - 1)


def cluster_mean_intervals(
    g: IntArray, cluster: IntArray, y: FloatArray, ng: int, confidence: float
) -> Intervals:
    """:func:`reference.cluster_mean_interval` for every group (clusters nested in groups).

    :func:`cluster_covariances` for the mean alone, where ``H_cc = m_c / n``:
    ``V = Σ_c s_c² / (n² (1 − m_c/n))``, ``s_c`` the sum of cluster c's residuals
    ``y − ȳ`` and ``m_c`` its rows (a cluster holding every row of its group adds
    nothing); G − 1 df, no interval with fewer than two clusters or rows.
    """
    n = np.bincount(g, minlength=ng).astype(np.float64)
    mean = group_mean(g, y, ng)
    nc = int(cluster.max()) + 1 if len(cluster) else 0
    cg = np.zeros(nc, dtype=np.int64)
    cg[cluster] = g
    m = np.bincount(cluster, minlength=nc).astype(np.float64)
    s = np.bincount(cluster, weights=y - mean[g], minlength=nc)
    big_g = np.bincount(cg, minlength=ng).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rest = 1.0 - m / n[cg]  # 1 − H_cc
        term = np.where(rest > 1e-12, s * s / np.where(rest > 1e-12, rest, 1.0), 0.0)
        var = np.bincount(cg, weights=term, minlength=ng) / (n * n)
        se = np.sqrt(np.where((big_g >= 2) & (n > 1), var, np.nan))
    df = big_g - 1
    t = t_quantile(confidence, df)
    return Intervals(mean, se, df, mean - t * se, mean + t * se)


def bias_intervals(
    g: IntArray, unit: IntArray, visit: IntArray, y: FloatArray, ng: int, confidence: float
) -> tuple[Intervals, BoolArray]:
    """:func:`reference.bias_interval` for every group; and where the visit is the unit.

    Each group takes the interval over visits or over its pair units: a kind that no
    group takes is not computed."""
    cluster, clustered = visit_clusters(g, unit, visit, ng)
    if clustered.all():
        return cluster_mean_intervals(g, cluster, y, ng, confidence), clustered
    by_unit = mean_intervals(g, unit, y, ng, confidence)
    if not clustered.any():
        return by_unit, clustered
    by_visit = cluster_mean_intervals(g, cluster, y, ng, confidence)
    fields = ("estimate", "se", "df", "low", "high")
    pick = (np.where(clustered, getattr(by_visit, f), getattr(by_unit, f)) for f in fields)
    return Intervals(*pick), clustered


def size_range(g: IntArray, size: FloatArray, ng: int) -> tuple[IntArray, FloatArray, FloatArray]:
    """Distinct sizes, smallest and largest size per group (NaN for an empty group)."""
    code, sizes = pd.factorize(size, sort=True)
    dims = (max(ng, 1), max(len(sizes), 1))
    # the (group, size) pairs present, sorted: by group, then size
    cells = np.unique(pd.unique(np.ravel_multi_index((g, code), dims)))
    cell_group, cell_size = np.unravel_index(cells, dims)
    n_sizes = np.bincount(cell_group, minlength=ng).astype(np.int64)
    first = np.searchsorted(cell_group, np.arange(ng), side="left")
    last = np.searchsorted(cell_group, np.arange(ng), side="right") - 1
    values = np.append(np.asarray(sizes, dtype=np.float64), np.nan)  # index -1: none
    low = values[np.where(n_sizes > 0, cell_size[np.minimum(first, len(cells) - 1)], -1)]
    high = values[np.where(n_sizes > 0, cell_size[last], -1)]
    return n_sizes, low, high


@dataclass(frozen=True, eq=False)
class Lines:
    """The OLS grading line of every group (:func:`reference.grading_line` without its
    spread, for which see :func:`line_spreads`); ``resid`` has one entry per value."""

    n: FloatArray
    n_sizes: IntArray
    size_min: FloatArray
    size_max: FloatArray
    size_mean: FloatArray
    dev_mean: FloatArray
    sxx: FloatArray
    has_line: BoolArray
    slope: FloatArray
    resid: FloatArray

    @property
    def k(self) -> FloatArray:
        """Parameters fitted: 2 with a line, 1 (the mean) without."""
        return np.where(self.has_line, 2.0, 1.0)

    def at(self, x: npt.ArrayLike) -> FloatArray:
        """Each group's line at ``x`` (the mean deviation without a line)."""
        slope = np.where(self.has_line, self.slope, 0.0)
        return np.asarray(self.dev_mean + slope * (np.asarray(x) - self.size_mean))


def grading_lines(g: IntArray, size: FloatArray, dev: FloatArray, ng: int) -> Lines:
    """:func:`reference.grading_line` for every group (the fit), with the residual of each
    value."""
    n = np.bincount(g, minlength=ng).astype(np.float64)
    n_sizes, size_min, size_max = size_range(g, size, ng)
    size_mean, dev_mean = group_mean(g, size, ng), group_mean(g, dev, ng)
    xc, yc = size - size_mean[g], dev - dev_mean[g]
    sx, sy = group_sum(g, xc, ng), group_sum(g, yc, ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        sxx = np.maximum(group_sum(g, xc * xc, ng) - sx * sx / n, 0.0)
        sxy = group_sum(g, xc * yc, ng) - sx * sy / n
        has_line = (n_sizes >= 2) & (n >= 3) & (sxx > 0)
        slope = np.where(has_line, sxy / np.where(has_line, sxx, 1.0), np.nan)
    resid = yc - np.where(has_line, slope, 0.0)[g] * xc
    return Lines(n, n_sizes, size_min, size_max, size_mean, dev_mean, sxx, has_line, slope, resid)


@dataclass(frozen=True, eq=False)
class Spreads:
    """The residual spread of every group's line (:class:`reference.Line`): ``s`` over
    units with ``df`` = G − k, and ``s_shoes`` over shoes (n − k)."""

    s: FloatArray
    df: FloatArray
    s_shoes: FloatArray

    def slope_se(self, lines: Lines) -> FloatArray:
        """SE(slope) = s / √Sxx (NaN without a line)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.where(lines.has_line, self.s / np.sqrt(lines.sxx), np.nan))

    def se_at(self, lines: Lines, x: npt.ArrayLike) -> FloatArray:
        """SE of each group's line at ``x``: s √(1/n + (x − x̄)²/Sxx) (s / √n without a line)."""
        dx = np.asarray(x) - lines.size_mean
        with np.errstate(invalid="ignore", divide="ignore"):
            sq = 1.0 / lines.n + np.where(lines.has_line, dx * dx / lines.sxx, 0.0)
            return np.asarray(self.s * np.sqrt(sq), dtype=np.float64)


def line_spreads(g: IntArray, unit: IntArray, lines: Lines) -> Spreads:
    """The residual SDs of :func:`reference.grading_line`, for every group."""
    ng = len(lines.n)
    k = lines.k
    ssr = sum_of_squares(g, lines.resid, np.zeros(ng))
    ss_units, units = unit_sum_of_squares(g, unit, lines.resid, ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(units > k, np.sqrt(ss_units / (units - k)), np.nan)
        s_shoes = np.where(lines.n > k, np.sqrt(ssr / (lines.n - k)), np.nan)
    return Spreads(np.asarray(s), units - k, np.asarray(s_shoes))


def moving_range_sigma(g: IntArray, x: FloatArray, ng: int) -> tuple[FloatArray, FloatArray]:
    """:func:`reference.moving_range_sigma` per group; ``x`` in time order within groups
    and groups contiguous. Returns σ and the number of moving ranges."""
    same = g[1:] == g[:-1]
    mr = np.abs(np.diff(x))[same]
    gm = g[1:][same]
    count = np.bincount(gm, minlength=ng).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(group_sum(gm, mr, ng) / count / D2, dtype=np.float64), count


def paired_within_sigma(
    g: IntArray, unit: IntArray, resid: FloatArray, ng: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`reference.paired_within_sigma` per group: ``resid`` in time order within
    groups, units numbered in order of first appearance. Returns σ, the number of moving
    ranges and the degrees of freedom (Satterthwaite)."""
    nu = int(unit.max()) + 1 if len(unit) else 0
    m = np.bincount(unit, minlength=nu).astype(np.float64)
    unit_group = np.zeros(nu, dtype=np.int64)
    unit_group[unit] = g
    unit_mean = group_mean(unit, resid, nu)
    sigma_m, count = moving_range_sigma(unit_group, unit_mean, ng)
    w = resid - unit_mean[unit]
    n = np.bincount(g, minlength=ng).astype(np.float64)
    units = np.bincount(unit_group, minlength=ng).astype(np.float64)
    df_e = n - units
    with np.errstate(invalid="ignore", divide="ignore"):
        var_e = np.where(df_e > 0, group_sum(g, w * w, ng) / np.maximum(df_e, 1), 0.0)
        part_e = var_e * (1.0 - np.bincount(unit_group, weights=1.0 / m, minlength=ng) / units)
        sigma2 = sigma_m * sigma_m + part_e
        df_m = MR_DF_PER_RANGE * count
        none = sigma2 <= NO_SPREAD_MM2
        terms = sigma_m**4 / df_m + np.where(df_e > 0, part_e * part_e / df_e, 0.0)
        satterthwaite = np.where(df_m > 0, sigma2 * sigma2 / terms, np.nan)
        df = np.where(none | (part_e == 0), df_m + np.where(none, df_e, 0.0), satterthwaite)
    return np.sqrt(sigma2), count, np.asarray(np.where(df > 0, df, np.nan), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class PairGaps:
    """Per group: :func:`reference.pair_mismatch` (``absolute``), :func:`reference.
    pair_difference` (``signed``) and the shoes in complete pairs (``paired_shoes``)."""

    absolute: Intervals
    signed: Intervals
    paired_shoes: FloatArray


def pair_mismatch(
    g: IntArray,
    unit: IntArray,
    pair: IntArray,
    left: BoolArray,
    right: BoolArray,
    value: FloatArray,
    ng: int,
    confidence: float = 0.95,
) -> PairGaps:
    """:func:`reference.pair_mismatch` and :func:`reference.pair_difference` per group:
    over the (group, pair id) keys with both feet, the mean of the right shoes − the mean
    of the left shoes, absolute and signed, each with its t-interval over the pairs.
    ``pair`` −1: no id.

    Shoes are summed per unit first (a unit is one pair id at one size of one group),
    then units per (group, pair id): the second step hashes units, not rows.
    """
    nu = int(unit.max()) + 1 if len(unit) else 0
    r, lf = (right & (pair >= 0)).astype(np.float64), (left & (pair >= 0)).astype(np.float64)
    n_r, n_l = np.bincount(unit, r, nu), np.bincount(unit, lf, nu)
    s_r, s_l = np.bincount(unit, value * r, nu), np.bincount(unit, value * lf, nu)
    unit_group, unit_pair = np.zeros(nu, dtype=np.int64), np.zeros(nu, dtype=np.int64)
    unit_group[unit], unit_pair[unit] = g, pair
    keyed = np.nonzero(n_r + n_l > 0)[0]
    if not len(keyed):
        nan = np.full(ng, np.nan)
        none = Intervals(nan, nan, nan, nan, nan)
        return PairGaps(none, none, np.zeros(ng))
    dims = (max(ng, 1), int(unit_pair[keyed].max()) + 1)
    key = np.asarray(
        pd.factorize(np.ravel_multi_index((unit_group[keyed], unit_pair[keyed]), dims))[0]
    )
    nk = int(key.max()) + 1
    key_group = np.zeros(nk, dtype=np.int64)
    key_group[key] = unit_group[keyed]
    nr, nl = np.bincount(key, n_r[keyed], nk), np.bincount(key, n_l[keyed], nk)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_r = np.bincount(key, s_r[keyed], nk) / nr
        mean_l = np.bincount(key, s_l[keyed], nk) / nl
    both = (nr > 0) & (nl > 0)
    gap_group = key_group[both]
    gaps = (mean_r - mean_l)[both]
    # each complete pair is a unit of its own: t-intervals of the mean gap over pairs
    pairs = np.arange(len(gaps))
    return PairGaps(
        absolute=mean_intervals(gap_group, pairs, np.abs(gaps), ng, confidence),
        signed=mean_intervals(gap_group, pairs, gaps, ng, confidence),
        paired_shoes=group_sum(gap_group, (nr + nl)[both], ng),
    )


def welch_anova(
    cell: IntArray, n: FloatArray, mean: FloatArray, var: FloatArray, ncell: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`reference.welch_anova` per cell: each entry is one group (producer) of one
    cell, with its size, mean and variance. Returns k, F, df1, df2, p per cell."""
    from scipy import special

    ok = (n >= 2) & (var > 0) & np.isfinite(var)
    c, nn, m, v = cell[ok], n[ok], mean[ok], var[ok]
    w = nn / v
    k = np.bincount(c, minlength=ncell).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        sw = group_sum(c, w, ncell)
        xw = group_sum(c, w * m, ncell) / sw  # the weighted grand mean, refined once
        xw = xw + group_sum(c, w * (m - xw[c]), ncell) / sw
        a = group_sum(c, w * (m - xw[c]) ** 2, ncell) / (k - 1)
        lam = group_sum(c, (1 - w / sw[c]) ** 2 / (nn - 1), ncell)
        f = a / (1 + 2 * (k - 2) / (k * k - 1) * lam)
        df2 = (k * k - 1) / (3 * lam)
        p = special.fdtrc(k - 1, df2, f)
    usable = k >= 2
    return (
        k,
        np.where(usable, f, np.nan),
        np.where(usable, k - 1, np.nan),
        np.where(usable, df2, np.nan),
        np.where(usable, p, np.nan),
    )


def modal_code(g: IntArray, codes: IntArray, ng: int) -> IntArray:
    """:func:`reference.modal_label` per group, on integer codes of sorted labels: the
    most frequent code ≥ 0 (the smallest on ties), −1 when the group has none."""
    ok = codes >= 0
    nl = int(codes.max()) + 1 if ok.any() else 1
    table = np.bincount(
        np.ravel_multi_index((g[ok], codes[ok]), (max(ng, 1), nl)), minlength=ng * nl
    ).reshape(ng, nl)
    best = np.argmax(table, axis=1)  # the first maximum: the smallest code
    return np.asarray(np.where(table.max(axis=1, initial=0) > 0, best, -1), dtype=np.int64)


def convention_fits(
    g: IntArray,
    size: FloatArray,
    value: FloatArray,
    ng: int,
    *,
    slope: float,
    allowances: Sequence[float],
    fit_intercept: Sequence[bool],
) -> list[tuple[FloatArray, FloatArray, FloatArray]]:
    """:func:`reference.convention_fit` per group for candidates sharing one ``slope``.

    With b = value − slope · size, its group mean b̄ and Sbb = Σ (b − b̄)², the residual
    r = b − a of allowance a has mean b̄ − a and Σ r² = Sbb + n (b̄ − a)² (the parallel-axis
    identity); a fitted shift b̄ − a leaves mean 0 and Σ r² = Sbb. So each slope costs one
    pass, whatever the number of allowances. Returns (mean r, RMS, shift) per candidate.
    """
    n = np.bincount(g, minlength=ng).astype(np.float64)
    b = value - slope * size
    b_mean = group_mean(g, b, ng)
    sbb = sum_of_squares(g, b, b_mean)
    out = []
    for a, fitted in zip(allowances, fit_intercept, strict=True):
        with np.errstate(invalid="ignore", divide="ignore"):
            if fitted:
                shift = b_mean - a
                out.append((np.where(n > 0, 0.0, np.nan), np.sqrt(sbb / n), shift))
            else:
                mean_r = b_mean - a
                out.append((mean_r, np.sqrt((sbb + n * mean_r**2) / n), np.full(ng, np.nan)))
    return out


def reading_resolutions(values: FloatArray, bounds: IntArray) -> FloatArray:
    """:func:`reference.reading_resolution` per group; ``values`` group by group, group
    ``i`` being ``bounds[i]:bounds[i + 1]``. Each distinct value is tested once against
    every resolution; a group keeps the resolutions all its values pass."""
    codes, uniques = pd.factorize(values)
    passes = np.zeros(len(uniques), dtype=np.int64)  # bit j: a multiple of RESOLUTIONS[j]
    for j, r in enumerate(RESOLUTIONS):
        passes |= on_grid(np.asarray(uniques, dtype=np.float64), r).astype(np.int64) << j
    ng = len(bounds) - 1
    per_row = passes[codes] if len(values) else np.zeros(0, dtype=np.int64)
    starts = np.minimum(bounds[:-1], max(len(values) - 1, 0))
    common = np.bitwise_and.reduceat(per_row, starts) if len(values) else np.zeros(ng, np.int64)
    out = np.zeros(ng)
    for j, r in reversed(list(enumerate(RESOLUTIONS))):  # finest first, coarsest wins
        out = np.where((common >> j) & 1, r, out)
    return np.where(np.diff(bounds) > 0, out, 0.0)
