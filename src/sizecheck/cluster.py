"""The cluster as a whole: variance components, shrunken producer offsets, share off-size.

Per dimension, :func:`cluster_summary` fits the linear mixed model

.. math::

    y_{ijkf} = \\beta_0 + \\beta_1 s + b_{0i} + b_{1i} s + v_{ij} + a_{ijk} + e_{ijkf}

to the deviations ``y`` (mm) of shoe ``f`` of pair ``k`` measured on visit ``j`` to
producer ``i``, with ``s`` = size − ``center_size``. The fixed part is the cluster's
mean offset at the centre size (:math:`\\beta_0`) and its mean grading error in mm per
size (:math:`\\beta_1`). The random parts, all independent and normal with mean 0:

=====================  ===============================  ==============================
effect                 what it is                       variance component
=====================  ===============================  ==============================
:math:`b_{0i}`         producer offset at centre size   ``between_sd_mm``²
:math:`b_{1i}`         producer grading error           ``slope_sd_mm_per_size``²
                       (correlated with :math:`b_{0i}`, ``slope_corr``; fitted "where
                       identifiable": ``random_slope="auto"``)
:math:`v_{ij}`         visit (day: die, last setting)   ``visit_sd_mm``²
:math:`a_{ijk}`        pair (both shoes share it)       ``pair_sd_mm``²
:math:`e_{ijkf}`       the shoe itself                  ``shoe_sd_mm``²
=====================  ===============================  ==============================

A visit is a producer's date (else its lot); a level the data cannot separate (no dates
and no lots; no pair with two shoes) is left out and its SD reported as NaN. When both
shoes of every pair read alike in the data (not merely nearly), the shoe SD is 0 and
the model is fitted to the pair means with the pair as the residual level (likewise a
visit; :func:`_fit` says why).

Method (stated in each row's ``method``)
----------------------------------------
*Fit*: restricted maximum likelihood (REML; Patterson & Thompson 1971; Harville 1977),
so variance components are not biased down by the fixed effects. The REML
log-likelihood is written once densely (:func:`reml_loglik_reference`, Pinheiro & Bates
2000 eq. 2.25) and once level by level (:class:`NestedModel`): shoes → pairs → visits →
producers, each level a Woodbury update of the one below (Henderson & Searle 1981), so
that a cluster of a million shoes needs only sums per visit; a test proves the two equal.
Its gradient, the REML score (:meth:`NestedModel.score`; Harville 1977), comes from the
same sums; the fit is L-BFGS-B with that gradient, started from the nested ANOVA
(moment) estimates and finished by Newton steps, so that it is the maximum to the
precision of the sums whichever order the rows come in.
statsmodels' ``MixedLM`` fitted to the same data is the independent check in the tests.

*Intervals*: Wald intervals on the log scale for the SDs, on the logit scale for the
ICC and the share, from the observed REML information (the central difference of the
analytic score in the log-SDs) by the delta method (Pinheiro & Bates 2000 §2.4.3);
the cluster mean offset's interval uses the t quantile with ``n_producers − 1``
degrees of freedom. Their coverage was checked by simulation (tests/test_cluster.py;
benchmarks/cluster_coverage.py, figures in benchmarks/README.md): 93-97 % for every
quantity at 30 and 120 producers; at 7 producers the between-producer SD's covers
about 91 %. An SD estimated at zero (on the boundary) gets no interval and is held
fixed in the others'.

*Producer offsets*: empirical-Bayes predictions (BLUPs) :math:`\\hat\\beta_0 +
\\hat b_{0i}` with intervals from the prediction error variance (Henderson 1975), given
the fitted variance components. They are shrunk towards the cluster mean, the more so
the fewer shoes and visits a producer has.

*Share of producers off size* (``share_missized``): the share of the *population* of
producers whose offset at the centre size lies outside the table's tolerance band,
:math:`P(\\beta_0 + b_0 \\notin [l, u])` under the fitted normal
:math:`N(\\hat\\beta_0, \\hat\\sigma_b^2)`, with a delta-method interval on the logit
scale from the variances of :math:`\\hat\\beta_0` and :math:`\\log\\hat\\sigma_b`.
Counting producers instead would be biased either way: raw offsets carry their
sampling noise (too many outside), shrunken ones are pulled in (too few).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from sizecheck import columns
from sizecheck.errors import UsageError, require_columns

__all__ = [
    "OFFSET_COLUMNS",
    "SUMMARY_COLUMNS",
    "ClusterFit",
    "ClusterSummary",
    "Components",
    "NestedModel",
    "cluster_summary",
    "fit_cluster",
    "reml_loglik_reference",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Band = Literal["in_spec", "missized"]

#: ``cluster_summary.csv``: the contract columns, then extras a researcher needs.
SUMMARY_COLUMNS: tuple[str, ...] = (
    *columns.CLUSTER_SUMMARY,
    "n_shoes",
    "center_size",
    "mean_offset_mm",
    "mean_offset_ci_low_mm",
    "mean_offset_ci_high_mm",
    "grade_error_mm_per_size",
    "slope_sd_mm_per_size",
    "slope_corr",
    "visit_ci_low_mm",
    "visit_ci_high_mm",
    "within_ci_low_mm",
    "within_ci_high_mm",
    "pair_sd_mm",
    "shoe_sd_mm",
    "within_producer_sd_mm",
    "visit_icc",
    "pair_icc",
    "band_low_mm",
    "band_high_mm",
    "confidence",
)

#: The producer offsets frame (:attr:`ClusterSummary.offsets`), one row per producer ×
#: dimension.
OFFSET_COLUMNS: tuple[str, ...] = (
    "producer",
    "dimension",
    "n",
    "n_visits",
    "center_size",
    "cluster_mean_offset_mm",
    "raw_offset_mm",
    "offset_mm",
    "offset_ci_low_mm",
    "offset_ci_high_mm",
    "grade_error_mm_per_size",
    "p_outside",
    "band_low_mm",
    "band_high_mm",
)

_LOG_2PI = math.log(2.0 * math.pi)
#: Bounds of the log-ratio of an SD to the shoe SD while fitting (1e-5 to 1e6). The
#: upper one is as far as the likelihood's sums keep their digits (at 1e8, a variance
#: ratio of 1e16, they do not); a shoe SD a millionth of the others' is read as 0 only
#: where the data say so (:data:`_ALIKE`, :func:`_fit`).
_RATIO_BOUNDS = (math.log(1e-5), math.log(1e6))
#: Shoes are "alike" within a unit (pair, visit, producer) when their sum of squares
#: around its means is at most this share of their sum of squares around the overall
#: mean (:func:`_alike`). Leaving it out changes the variance of the unit's means by
#: no more than that share, below what the sums per visit resolve of it (a shoe SD of
#: 1e-4.5 of the others'); a shoe SD of 0.001 mm under SDs of 1 mm is 1e-6 of them.
_ALIKE = 1e-9
#: An SD below this multiple of the shoe SD is taken as zero (on the boundary).
_BOUNDARY = 1e-4
#: Bound of the slope correlation's atanh while fitting (tanh 3 = 0.995).
_CORR_BOUND = 3.0


@dataclass(frozen=True)
class Components:
    """Variance components of the nested model, as SDs (mm; the slope's in mm per size).

    A level left out of the model has SD 0 here (and NaN in the summary).
    """

    between_sd: float
    slope_sd: float
    slope_corr: float
    visit_sd: float
    pair_sd: float
    shoe_sd: float

    def g_matrix(self) -> FloatArray:
        """Covariance matrix of (producer offset, producer grading error)."""
        cov = self.slope_corr * self.between_sd * self.slope_sd
        return np.array([[self.between_sd**2, cov], [cov, self.slope_sd**2]])


# --------------------------------------------------------------------------------------
# The reference: the REML log-likelihood written with dense matrices
# --------------------------------------------------------------------------------------


def reml_loglik_reference(
    y: npt.ArrayLike,
    x: npt.ArrayLike,
    producer: npt.ArrayLike,
    visit: npt.ArrayLike,
    pair: npt.ArrayLike,
    comp: Components,
    *,
    random_slope: bool,
) -> float:
    """REML log-likelihood of the nested model, straight from its formula (slow, clear).

    .. math::

        \\ell_R = -\\tfrac12\\Big[\\sum_i \\log|V_i| + \\log|X'V^{-1}X|
        + r'V^{-1}r + (N - p)\\log 2\\pi\\Big],\\quad r = y - X\\hat\\beta

    with :math:`\\hat\\beta = (X'V^{-1}X)^{-1}X'V^{-1}y` and, for producer ``i``,
    :math:`V_i = Z_i G Z_i' + \\sigma_v^2 J_{visit} + \\sigma_a^2 J_{pair} +
    \\sigma_e^2 I` (:math:`J` = 1 where two shoes share the visit / the pair). Source:
    Pinheiro & Bates (2000), *Mixed-Effects Models in S and S-PLUS*, eq. (2.25); Harville
    (1977), JASA 72:320-340.

    Parameters
    ----------
    y : array of float
        Deviations, mm.
    x : array, shape (N, p)
        Fixed-effect columns: ``1`` and, when p = 2, the centred size.
    producer, visit, pair : array
        Labels; a visit is nested in its producer and a pair in its visit.
    comp : Components
    random_slope : bool
        Whether the producer effect has a slope on the centred size (column 1 of ``x``).
    """
    yv = np.asarray(y, dtype=float)
    xm = np.asarray(x, dtype=float).reshape(len(yv), -1)
    prod, vis, par = (np.asarray(a) for a in (producer, visit, pair))
    g = comp.g_matrix() if random_slope else np.array([[comp.between_sd**2]])
    logdet = 0.0
    xvx = np.zeros((xm.shape[1], xm.shape[1]))
    xvy = np.zeros(xm.shape[1])
    vinv_blocks = []
    for p in pd.unique(prod):
        rows = np.flatnonzero(prod == p)
        z = np.column_stack([np.ones(len(rows)), xm[rows, 1]]) if random_slope else None
        zg = np.ones((len(rows), 1)) if z is None else z
        v = zg @ g @ zg.T
        v += comp.visit_sd**2 * (vis[rows][:, None] == vis[rows][None, :])
        v += comp.pair_sd**2 * (
            (vis[rows][:, None] == vis[rows][None, :]) & (par[rows][:, None] == par[rows][None, :])
        )
        v += comp.shoe_sd**2 * np.eye(len(rows))
        vinv = np.linalg.inv(v)
        logdet += float(np.linalg.slogdet(v)[1])
        xvx += xm[rows].T @ vinv @ xm[rows]
        xvy += xm[rows].T @ vinv @ yv[rows]
        vinv_blocks.append((rows, vinv))
    beta = np.linalg.solve(xvx, xvy)
    r = yv - xm @ beta
    rvr = sum(float(r[rows] @ vinv @ r[rows]) for rows, vinv in vinv_blocks)
    n, k = xm.shape
    return -0.5 * (logdet + float(np.linalg.slogdet(xvx)[1]) + rvr + (n - k) * _LOG_2PI)


# --------------------------------------------------------------------------------------
# The kernel: the same likelihood level by level, from sums per visit
# --------------------------------------------------------------------------------------


def _sum_by(codes: IntArray, values: FloatArray, n_groups: int) -> FloatArray:
    """Sum ``values`` (shape (..., n): rows last) within each group of ``codes``.

    Returns shape (..., n_groups): the groups last, as the model's per-visit arrays
    hold them, so that arithmetic per visit runs along contiguous memory.
    """
    flat = values.reshape(-1, len(codes))
    out = np.stack([np.bincount(codes, weights=row, minlength=n_groups) for row in flat])
    return out.reshape((*values.shape[:-1], n_groups))


def _cross_sums(codes: IntArray, m: FloatArray, n_groups: int) -> FloatArray:
    """``Σ m m'`` within each group of ``codes``: ``m`` shape (3, n), out (3, 3, n_groups).

    From the bincounts of the column products on and above the diagonal, mirrored (six
    passes over the rows instead of a (3, 3, n) array of products).
    """
    out = np.empty((3, 3, n_groups))
    for i in range(3):
        for j in range(i, 3):
            out[i, j] = out[j, i] = np.bincount(codes, weights=m[i] * m[j], minlength=n_groups)
    return out


def _woodbury(
    forms: FloatArray, g: FloatArray, z: Sequence[int]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Add a random effect with covariance ``g`` on columns ``z`` to every unit's forms.

    ``forms[u] = M_u' U_u^{-1} M_u`` for the unit's columns ``M = (1, s, y)`` under the
    covariance ``U_u`` of the levels below. With ``V_u = U_u + Z G Z'`` (``Z`` = the
    columns ``z`` of ``M``), the Woodbury identity and the push-through identity give

    ``V^{-1} = U^{-1} - U^{-1} Z K Z' U^{-1}``, ``K = G (I + H G)^{-1}``, so that
    ``M'V^{-1}M = F - F[:, z] K F[z, :]`` and ``|V| = |U| |I + H G|``,

    with ``F`` = ``forms`` and ``H = F[z, z]`` (Henderson & Searle 1981, SIAM Review
    23:53-60). Returns the new forms, ``log|I + H G|`` and ``K`` per unit.
    """
    zi = list(z)
    h = forms[:, zi][:, :, zi]
    inner = np.eye(len(zi)) + h @ g
    k = g @ np.linalg.inv(inner)
    update = forms[:, :, zi] @ k @ forms[:, zi, :]
    with np.errstate(invalid="ignore"):  # NaN components (a fit that failed): NaN, quietly
        logdet: FloatArray = np.linalg.slogdet(inner)[1]
    return forms - update, logdet, k


@dataclass(frozen=True)
class Solved:
    """``V^{-1}`` of every producer, level by level (:meth:`NestedModel.solve`).

    With ``U_1`` the covariance of shoes and pairs, ``U_2 = U_1 + σ_v² Σ 1_v 1_v'``
    (visits) and ``V = U_2 + Z G Z'`` (producers), and ``M = (1, s, y)``:

    Attributes
    ----------
    pair_c : array, shape (k,)
        ``U_1^{-1} = (I - c 11') / σ_e²`` within a pair of ``n`` shoes,
        ``c = σ_p² / (σ_e² + n σ_p²)``, per number of shoes ``pair_n``.
    visit_u : array, shape (3, visits)
        ``M'U_1^{-1} 1_v``.
    visit_w : array, shape (visits,)
        ``σ_v² / (1 + σ_v² u_0)``: ``U_2^{-1} = U_1^{-1} - w U_1^{-1} 1_v 1_v' U_1^{-1}``.
    below : array, shape (producers, 3, 3)
        ``M'U_2^{-1}M``.
    k : array, shape (producers, z, z)
        ``G (I + H G)^{-1}`` of :func:`_woodbury`.
    forms : array, shape (producers, 3, 3)
        ``M'V^{-1}M``.
    logdet : float
        ``Σ_i log|V_i|``.
    """

    pair_c: FloatArray
    visit_u: FloatArray
    visit_w: FloatArray
    below: FloatArray
    k: FloatArray
    forms: FloatArray
    logdet: float


@dataclass(frozen=True)
class NestedModel:
    """One dimension's deviations reduced to the sums the REML likelihood needs.

    Rows are grouped producer ⊃ visit ⊃ pair ⊃ shoe, with ``M = (1, s, y)`` the columns
    of a row. The pair level's weights depend only on the number of shoes ``n`` of a
    pair, so the pairs are summed per ``n`` (usually 1 or 2: a group ``k`` per value).
    Per visit: ``M'M`` over its rows and, per ``n``, ``(M'1)(1'M)`` over its pairs; the
    producers' sums are those of their visits added up. Visits are numbered producer by
    producer (``visit_start``). Build it with :meth:`from_frame`.

    Attributes
    ----------
    n_obs, n_producers, n_visits : int
    n_fixed : int
        Fixed effects: 1 (offset) or 2 (offset and grading error; needs two sizes).
    random_slope, has_visits, has_pairs : bool
        Which random effects the model has.
    pair_n, pair_count : arrays, shape (k,)
        The distinct numbers of shoes per pair, and how many pairs have each.
    visit_mm : array, shape (3, 3, visits)
        Per visit: ``M'M`` of its rows (the visits last: see :func:`_sum_by`).
    visit_ss : array, shape (k, 3, 3, visits)
        Per visit: the sum of ``(M'1)(1'M)`` over its pairs with ``pair_n[k]`` shoes
        (its row 0 is the sum of ``n M'1``: ``1'1 = n``).
    producer_mm, producer_ss : arrays, shapes (producers, 3, 3), (k, producers, 3, 3)
        The same sums per producer.
    visit_start : array
        The first visit of each producer (its visits are the block up to the next one).
    """

    n_obs: int
    n_producers: int
    n_visits: int
    n_fixed: int
    random_slope: bool
    has_visits: bool
    has_pairs: bool
    pair_n: FloatArray
    pair_count: FloatArray
    visit_mm: FloatArray
    visit_ss: FloatArray
    producer_mm: FloatArray
    producer_ss: FloatArray
    visit_start: IntArray

    @classmethod
    def from_frame(
        cls,
        y: FloatArray,
        s: FloatArray,
        producer: IntArray,
        visit: IntArray,
        pair: IntArray,
        *,
        random_slope: bool,
        has_visits: bool,
        has_pairs: bool,
    ) -> NestedModel:
        """Reduce rows to sums per visit (and from them per producer).

        ``producer``, ``visit``, ``pair`` are dense codes 0..k-1 with each visit inside
        one producer and each pair inside one visit; ``s`` is the centred size.
        """
        n = len(y)
        n_producers = int(producer.max()) + 1
        n_visits = int(visit.max()) + 1
        # renumber the visits producer by producer (stable: first appearance within one)
        visit_producer = _first_of(visit, producer)
        order = np.argsort(visit_producer, kind="stable")
        renumber = np.empty(n_visits, dtype=np.int64)
        renumber[order] = np.arange(n_visits)
        visit = renumber[visit]
        visit_start = np.searchsorted(visit_producer[order], np.arange(n_producers))
        m = np.stack([np.ones(n), s, y])  # M', shape (3, n)
        pair_sum = _sum_by(pair, m, int(pair.max()) + 1)  # M'1 per pair
        pair_n, kind = np.unique(pair_sum[0], return_inverse=True)
        visit_mm = _cross_sums(visit, m, n_visits)
        # per visit and number of shoes k: the pairs' (M'1)(1'M), grouped by k * visits + visit
        by_kind = kind * n_visits + _first_of(pair, visit)
        visit_ss = _cross_sums(by_kind, pair_sum, len(pair_n) * n_visits)
        visit_ss = np.ascontiguousarray(np.moveaxis(visit_ss.reshape(3, 3, -1, n_visits), 2, 0))
        producer_mm = np.add.reduceat(visit_mm, visit_start, axis=-1)
        producer_ss = np.add.reduceat(visit_ss, visit_start, axis=-1)
        return cls(
            n_obs=n,
            n_producers=n_producers,
            n_visits=n_visits,
            n_fixed=2 if bool(np.any(s != s[0])) else 1,
            random_slope=random_slope,
            has_visits=has_visits,
            has_pairs=has_pairs,
            pair_n=pair_n,
            pair_count=np.bincount(kind, minlength=len(pair_n)).astype(float),
            visit_mm=visit_mm,
            visit_ss=visit_ss,
            producer_mm=np.moveaxis(producer_mm, -1, 0),
            producer_ss=np.moveaxis(producer_ss, -1, 1),
            visit_start=visit_start,
        )

    # -- parameters: log SDs (and the slope correlation as atanh) -----------------------

    def parameter_names(self) -> tuple[str, ...]:
        """Names of the free parameters, in the order of the parameter vector."""
        names = ["log_between_sd"]
        if self.random_slope:
            names += ["log_slope_sd", "atanh_slope_corr"]
        if self.has_visits:
            names.append("log_visit_sd")
        if self.has_pairs:
            names.append("log_pair_sd")
        names.append("log_shoe_sd")
        return tuple(names)

    def components(self, theta: npt.ArrayLike) -> Components:
        """The variance components of a parameter vector."""
        values = dict(zip(self.parameter_names(), np.asarray(theta, dtype=float), strict=True))

        def sd(name: str) -> float:
            return math.exp(values[name]) if name in values else 0.0

        return Components(
            between_sd=sd("log_between_sd"),
            slope_sd=sd("log_slope_sd"),
            slope_corr=math.tanh(values.get("atanh_slope_corr", 0.0)),
            visit_sd=sd("log_visit_sd"),
            pair_sd=sd("log_pair_sd"),
            shoe_sd=sd("log_shoe_sd"),
        )

    # -- the likelihood ---------------------------------------------------------------

    def solve(self, comp: Components) -> Solved:
        """``V_i^{-1}`` level by level, as :class:`Solved` holds it.

        Pairs (closed form), visits (Sherman-Morrison, the one-column case of
        :func:`_woodbury`), producers (:func:`_woodbury`).
        """
        se2, sp2, sv2 = comp.shoe_sd**2, comp.pair_sd**2, comp.visit_sd**2
        # Pairs: V = se2 I + sp2 11' -> V^-1 = (I - c 11') / se2, c = sp2 / (se2 + n sp2).
        c = sp2 / (se2 + self.pair_n * sp2)
        forms = (self.producer_mm - np.einsum("k,k...->...", c, self.producer_ss)) / se2
        logdet = self.n_obs * math.log(se2) + float(
            np.sum(self.pair_count * np.log1p(self.pair_n * sp2 / se2))
        )
        # Visits: a shared effect on the column of ones. With u = F[:, 0] of the visit's
        # forms F (pairs and shoes below it), Woodbury with a 1 x 1 G = sv2 gives
        # F - w u u', w = sv2 / (1 + sv2 u0), and log|V| grows by log(1 + sv2 u0).
        u = (self.visit_mm[0] - np.einsum("k,k...->...", c, self.visit_ss[:, 0])) / se2
        inner = 1.0 + sv2 * u[0]
        w = sv2 / inner
        update = np.add.reduceat(w * u[:, None] * u[None, :], self.visit_start, axis=-1)
        forms = forms - np.moveaxis(update, -1, 0)
        logdet += float(np.sum(np.log(inner)))
        # Producers: offset (and grading error) on the columns (1, s).
        g, z = self._g(comp)
        final, logdets, k = _woodbury(forms, g, z)
        return Solved(c, u, w, forms, k, final, logdet + float(np.sum(logdets)))

    def producer_forms(self, comp: Components) -> tuple[FloatArray, float]:
        """``M'V_i^{-1}M`` per producer and the sum of ``log|V_i|``."""
        solved = self.solve(comp)
        return solved.forms, solved.logdet

    def _g(self, comp: Components) -> tuple[FloatArray, list[int]]:
        if self.random_slope:
            return comp.g_matrix(), [0, 1]
        return np.array([[comp.between_sd**2]]), [0]

    def loglik(self, theta: npt.ArrayLike) -> float:
        """REML log-likelihood at ``theta``; equal to :func:`reml_loglik_reference`."""
        forms, logdet = self.producer_forms(self.components(theta))
        total = forms.sum(axis=0)
        x = list(range(self.n_fixed))
        xvx = total[np.ix_(x, x)]
        xvy = total[x, 2]
        sign, logdet_xvx = np.linalg.slogdet(xvx)
        if sign <= 0:
            return -math.inf
        beta = np.linalg.solve(xvx, xvy)
        rvr = float(total[2, 2] - xvy @ beta)
        return -0.5 * float(logdet + logdet_xvx + rvr + (self.n_obs - self.n_fixed) * _LOG_2PI)

    # -- its gradient -----------------------------------------------------------------

    def score(self, theta: npt.ArrayLike) -> FloatArray:
        """Gradient of :meth:`loglik` in ``theta``: the REML score, analytically.

        A level whose units ``u`` (shoes, pairs, visits; producers) add
        ``Σ_u Z_u G Z_u'`` to ``V`` (``Z_u = 1_u`` and ``G = σ²``; for producers the
        columns ``(1, s)`` and the 2 × 2 ``G``) has the REML score

        ``∂ℓ_R/∂θ = −½ tr(P ∂V/∂θ) + ½ y'P (∂V/∂θ) P y = tr(Γ ∂G/∂θ)``,
        ``Γ = ½ Σ_u [(Z_u'Py)(Z_u'Py)' − Z_u'PZ_u]``,

        with ``P = V^{-1} − V^{-1}X C^{-1}X'V^{-1}``, ``C = X'V^{-1}X`` (Harville 1977,
        JASA 72:320-340; Searle, Casella & McCulloch 1992, *Variance Components*,
        §6.6; Pinheiro & Bates 2000, §2.2). Both parts come from ``t_u = M'V^{-1}Z_u``
        and ``d_u = Z_u'V^{-1}Z_u``: ``Z_u'Py = t_u'a`` with ``a = (−β̂, 1)`` (as
        ``Py = V^{-1}(y − Xβ̂)``) and ``Z_u'PZ_u = d_u − t_u[x]'C^{-1}t_u[x]``; so
        for a 1 × 1 ``G`` ``Γ = ½ Σ_u (t_u'W t_u − d_u)``, ``W = aa' + C^{-1}`` (on
        the rows and columns ``x``), which :meth:`_level_sums` adds up. The chain
        rule to a log-SD is ``∂σ²/∂log σ = 2σ²``; for ``G`` see :meth:`_g_derivatives`.
        """
        comp = self.components(theta)
        solved = self.solve(comp)
        total = solved.forms.sum(axis=0)
        x = list(range(self.n_fixed))
        cinv = np.linalg.inv(total[np.ix_(x, x)])
        a = np.zeros(3)
        a[x], a[2] = -(cinv @ total[x, 2]), 1.0
        w = np.outer(a, a)
        w[np.ix_(x, x)] += cinv
        weights = self._visit_weights(solved, w)
        out = dict.fromkeys(self.parameter_names(), 0.0)
        for name, sd in (
            ("log_shoe_sd", comp.shoe_sd),
            ("log_pair_sd", comp.pair_sd),
            ("log_visit_sd", comp.visit_sd),
        ):
            if name in out:
                out[name] = sd**2 * self._level_sums(name, comp, solved, weights)  # 2σ² Γ
        gamma_g = self._producer_gamma(solved, a, cinv)
        for name, dg in self._g_derivatives(comp).items():
            out[name] = float(np.sum(gamma_g * dg))  # tr(Γ dG), both symmetric
        return np.array([out[n] for n in self.parameter_names()])

    def _visit_weights(self, solved: Solved, w: FloatArray) -> _VisitWeights:
        """``W`` taken through the producer and the visit effect down to each visit.

        A unit ``b`` (a shoe ``e_f``, a pair ``1_a``, a visit ``1_v``) lies in one visit
        ``v`` of producer ``i``. Below the visit effect let ``x_b = M'U_1^{-1}b`` and
        ``δ_b = b'U_1^{-1}b`` (:class:`Solved`). The visit effect (Sherman-Morrison)
        gives ``M'U_2^{-1}b = B_v x_b``, ``B_v = I − w_v u_v e_0'``, and ``b'U_2^{-1}b
        = δ_b − w_v x_b0²``; the producer effect (:func:`_woodbury`) ``t_b = A_i B_v
        x_b``, ``A_i = I − F_i[:, z] K_i E_z`` (``F = M'U_2^{-1}M``, ``E_z`` the rows
        ``z`` of ``I``), and ``d_b = b'U_2^{-1}b − (B_v x_b)[z]'K_i(B_v x_b)[z]``. So

        ``t_b'W t_b − d_b = x_b'Ω_v x_b − δ_b``, ``Ω_v = B_v'W_i B_v + w_v e_0e_0'``,
        ``W_i = A_i'W A_i + E_z'K_i E_z``,

        the same ``Ω_v`` for shoes, pairs and visits: a level adds ``Σ_v tr(Ω_v X_v)``
        with ``X_v = Σ_b x_b x_b'`` over its units in the visit (:meth:`_VisitWeights.trace`).
        """
        z = [0, 1] if self.random_slope else [0]
        amat = np.eye(3) - solved.below[:, :, z] @ solved.k @ np.eye(3)[z]
        w_producer = np.swapaxes(amat, 1, 2) @ w @ amat
        w_producer[:, z[0] : z[-1] + 1, z[0] : z[-1] + 1] += solved.k
        # W_i u_v for each visit v of producer i (one gather of each entry of W_i)
        producer_of = np.repeat(np.arange(self.n_producers), np.diff(self._visit_bounds()))
        u, wv = solved.visit_u, solved.visit_w
        wu = np.stack(
            [sum(w_producer[:, i, j][producer_of] * u[j] for j in range(3)) for i in range(3)]
        )
        uwu = np.einsum("iv,iv->v", u, wu)
        return _VisitWeights(w_producer, wv * wu, uwu, wv * wv * uwu + wv)

    def _visit_bounds(self) -> IntArray:
        """The first visit of each producer, then ``n_visits``."""
        return np.append(self.visit_start, self.n_visits)

    def _level_sums(
        self, name: str, comp: Components, solved: Solved, weights: _VisitWeights
    ) -> float:
        """``Σ_u (t_u'W t_u − d_u)`` over the shoes, pairs or visits (:meth:`score`).

        Per visit, ``Σ x_b x_b'`` and ``Σ δ_b`` below the visit effect
        (:meth:`_visit_weights`) are, with the pair's ``c`` (:class:`Solved`), ``m_f``
        a row of ``M`` and ``m_a`` its pair's sum:

        - shoe: ``x_f = (m_f − c m_a)/σ_e²``, ``δ_f = (1 − c)/σ_e²``, so that per visit
          ``Σ x_f x_f' = (M'M − Σ_pairs c (2 − n c) m_a m_a')/σ_e⁴``;
        - pair: ``(1 − n c) m_a/σ_e²`` and ``n (1 − n c)/σ_e²``;
        - visit: ``u_v`` and ``u_v0``.

        The first two are linear in the per-visit sums ``M'M`` and ``Σ m_a m_a'``
        (:class:`NestedModel`), whose traces against ``Ω`` are taken once each.
        """
        se2 = comp.shoe_sd**2
        c, n, count = solved.pair_c, self.pair_n, self.pair_count
        if name == "log_visit_sd":
            return weights.trace_outer(solved.visit_u) - float(np.sum(solved.visit_u[0]))
        pairs = np.array(
            [weights.trace(self.producer_ss[k], self.visit_ss[k, :, 0]) for k in range(len(n))]
        )
        if name == "log_pair_sd":
            traced = float(np.sum(((1.0 - n * c) / se2) ** 2 * pairs))
            return traced - float(np.sum(count * n * (1.0 - n * c))) / se2
        shoes = weights.trace(self.producer_mm, self.visit_mm[:, 0])
        traced = (shoes - float(np.sum(c * (2.0 - n * c) * pairs))) / se2**2
        return traced - float(np.sum(count * n * (1.0 - c))) / se2

    def _producer_gamma(self, solved: Solved, a: FloatArray, cinv: FloatArray) -> FloatArray:
        """``Γ`` of the producer level: ``Z_i'V^{-1}M = F_i[z, :]`` with ``F = M'V^{-1}M``."""
        z = [0, 1] if self.random_slope else [0]
        x = list(range(self.n_fixed))
        f = solved.forms
        py = f[:, z, :] @ a  # Z_i'Py
        fzx = f[:, z][:, :, x]
        pzp = f[:, z][:, :, z] - fzx @ cinv @ np.swapaxes(fzx, 1, 2)  # Z_i'PZ_i
        gamma: FloatArray = 0.5 * (py[:, :, None] * py[:, None, :] - pzp).sum(axis=0)
        return gamma

    def _g_derivatives(self, comp: Components) -> dict[str, FloatArray]:
        """``∂G/∂θ`` of the producer parameters.

        ``G = [[σ_b², ρσ_bσ_s], [ρσ_bσ_s, σ_s²]]``: ``∂/∂log σ_b`` doubles the variance
        and keeps the covariance, ``∂/∂log σ_s`` likewise, ``∂ρ/∂atanh ρ = 1 − ρ²``.
        """
        vb = comp.between_sd**2
        if not self.random_slope:
            return {"log_between_sd": np.array([[2.0 * vb]])}
        vs = comp.slope_sd**2
        cov = comp.slope_corr * comp.between_sd * comp.slope_sd
        swap = np.array([[0.0, 1.0], [1.0, 0.0]])
        return {
            "log_between_sd": np.array([[2.0 * vb, cov], [cov, 0.0]]),
            "log_slope_sd": np.array([[0.0, cov], [cov, 2.0 * vs]]),
            "atanh_slope_corr": (1.0 - comp.slope_corr**2) * comp.between_sd * comp.slope_sd * swap,
        }

    # -- fit ---------------------------------------------------------------------------

    def _full(self, ratios: FloatArray, log_shoe_sd: float) -> FloatArray:
        """Parameters from log-ratios to the shoe SD (and the correlation) plus the shoe SD."""
        shift = np.array(
            [0.0 if n.startswith("atanh") else log_shoe_sd for n in self.parameter_names()[:-1]]
        )
        return np.append(ratios + shift, log_shoe_sd)

    def profiled_loglik(self, ratios: npt.ArrayLike) -> tuple[float, float]:
        """REML log-likelihood maximised over the shoe SD, and that SD.

        With every SD given relative to the shoe SD (``V = σ_e² V*``), the shoe variance
        that maximises the REML likelihood is ``r'V*^{-1}r / (N − p)`` and

        ``ℓ_R = −½[log|V*| + log|X'V*^{-1}X| + (N − p)(1 + log 2π σ̂_e²)]``

        (Bates, Mächler, Bolker & Walker 2015, J. Stat. Softw. 67(1), §3.4): one
        parameter fewer, and no shoe SD near zero for the optimiser to stumble on.
        """
        theta = self._full(np.asarray(ratios, dtype=float), 0.0)
        forms, logdet = self.producer_forms(self.components(theta))
        total = forms.sum(axis=0)
        x = list(range(self.n_fixed))
        sign, logdet_xvx = np.linalg.slogdet(total[np.ix_(x, x)])
        dof = self.n_obs - self.n_fixed
        if sign <= 0 or dof <= 0:
            return -math.inf, math.nan
        beta = np.linalg.solve(total[np.ix_(x, x)], total[x, 2])
        shoe_var = float(total[2, 2] - total[x, 2] @ beta) / dof
        if not shoe_var > 0:
            return -math.inf, math.nan
        value = -0.5 * (logdet + logdet_xvx + dof * (1.0 + _LOG_2PI + math.log(shoe_var)))
        return value, math.sqrt(shoe_var)

    def profiled_score(self, ratios: npt.ArrayLike, shoe_sd: float) -> FloatArray:
        """Gradient of :meth:`profiled_loglik` in the ratios (``shoe_sd``: its maximiser).

        At ``σ̂_e`` the log-likelihood is flat along a common scaling of every SD (the
        ratios held), and a ratio moves its own log-SD one for one with ``σ_e`` held; so
        (envelope theorem) the profile's gradient is the :meth:`score` of the other
        parameters at ``(ratios + log σ̂_e, log σ̂_e)``.
        """
        theta = self._full(np.asarray(ratios, dtype=float), math.log(shoe_sd))
        return self.score(theta)[:-1]

    def moment_start(self) -> FloatArray:
        """Start values of the fit: the log-ratios of the nested ANOVA (moment) estimates.

        On the residuals ``r = y − b_i s`` from each producer's own slope within its
        visits ``b_i``, the mean square between units within the next level up —
        shoes in their pair, pairs in their visit, visits in their producer,
        producers about the mean — is ``MS = (Σ_u R_u²/n_u − Σ_w R_w²/n_w) /
        (#u − #w)`` (``R`` = the sum of ``r`` over a unit, ``n`` its shoes), with
        ``E[MS_shoe] = σ_e²``, ``E[MS_pair] = σ_e² + n̄_a σ_a²``, ``E[MS_visit] =
        E[MS_pair] + n̄_v σ_v²``, ``E[MS_producer] = E[MS_visit] + n̄_b σ_b²`` (``n̄``
        the mean shoes per unit: exact when balanced; Searle, Casella & McCulloch
        1992, §4.2, and Henderson 1953, Biometrics 9:226-252, Method I); a level left
        out is skipped. The grading SD is that of the ``b_i``, the correlation 0. An
        estimate at or below zero starts at the lower bound, where :meth:`_leaves_zero`
        checks it. Only a start: the fit goes to the REML maximum from any.
        """
        vm = self.visit_mm
        n_v = vm[0, 0]
        # Σ (s − s̄)² and Σ (s − s̄)(y − ȳ) within each visit, added up per producer
        within = np.stack([vm[1, 1] - vm[0, 1] ** 2 / n_v, vm[1, 2] - vm[0, 1] * vm[0, 2] / n_v])
        sxx, sxy = np.add.reduceat(within, self.visit_start, axis=-1)
        slope = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 1e-9 * (1.0 + sxx.max()))
        b = np.repeat(slope, np.diff(self._visit_bounds()))
        c = np.stack([np.zeros_like(b), -b, np.ones_like(b)])  # r = M c, per visit

        def rr(forms: FloatArray) -> float:  # Σ over visits of c' forms c
            return float(np.einsum("iv,ijv,jv->", c, forms, c))

        r_visit = np.einsum("iv,iv->v", c, vm[:, 0])  # R per visit
        r_prod = np.add.reduceat(r_visit, self.visit_start)
        n_pairs = float(self.pair_count.sum())
        units = [(rr(vm), float(self.n_obs))]  # shoes: (Σ R²/n, number of units)
        if self.has_pairs:
            units.append(
                (sum(rr(self.visit_ss[k]) / n for k, n in enumerate(self.pair_n)), n_pairs)
            )
        if self.has_visits:
            units.append((float(np.sum(r_visit**2 / n_v)), float(self.n_visits)))
        units.append(
            (float(np.sum(r_prod**2 / self.producer_mm[:, 0, 0])), float(self.n_producers))
        )
        units.append((float(r_prod.sum() ** 2 / self.n_obs), 1.0))
        ms = [(lo[0] - up[0]) / max(lo[1] - up[1], 1.0) for lo, up in itertools.pairwise(units)]
        var = [ms[0]] + [(ms[j] - ms[j - 1]) * units[j][1] / self.n_obs for j in range(1, len(ms))]
        levels = ["log_shoe_sd", "log_pair_sd", "log_visit_sd", "log_between_sd"]
        present = [
            n
            for n, on in zip(levels, (True, self.has_pairs, self.has_visits, True), strict=True)
            if on
        ]
        estimate = dict(zip(present, var, strict=True))
        estimate["log_slope_sd"] = float(np.var(slope))
        shoe = estimate["log_shoe_sd"]
        if not shoe > 0:
            return np.zeros(len(self.parameter_names()) - 1)
        start = [
            0.0 if n.startswith("atanh") else 0.5 * math.log(estimate[n] / shoe)
            if estimate[n] > 0 else _RATIO_BOUNDS[0]
            for n in self.parameter_names()[:-1]
        ]  # fmt: skip
        return np.clip(start, _RATIO_BOUNDS[0], _RATIO_BOUNDS[1])

    def fit(self) -> ClusterFit:
        """Maximise the REML likelihood, to the precision of its score.

        :meth:`climb` from the method-of-moments estimates (:meth:`moment_start`) with
        L-BFGS-B stopped at a relative improvement of 1e-12 of the log-likelihood, which
        leaves the Newton steps a few digits to do; if they cannot finish from there,
        :meth:`climb` again the long way, from equal SDs and to the last digit. Either
        ends at the maximum to the precision of the score (tests/test_cluster_fit.py:
        the same summary to 1e-9 both ways).
        """
        start = self.moment_start()
        fit = self.climb(start, ftol=1e-12)
        if fit.converged or not len(start):
            return fit
        return self.climb(np.zeros(len(start)), ftol=0.0)

    def climb(self, start: FloatArray, *, ftol: float) -> ClusterFit:
        """The fit from the log-ratios ``start``.

        First L-BFGS-B on the log-ratios of the SDs to the shoe SD (:meth:`profiled_loglik`
        with its analytic gradient :meth:`profiled_score`) until the log-likelihood
        improves by less than ``ftol`` of itself (0: until it no longer changes in its
        last digits). Ratios are bounded to [1e-5, 1e6]; one below
        1e-4 is a component estimated at zero (on the boundary) and is set to the bound,
        unless the likelihood grows away from zero (:meth:`_leaves_zero`): then
        L-BFGS-B starts again from a ratio of 0.1 (at most twice). The slope correlation
        is bounded to ±0.995. Then Newton steps on the other
        parameters (:func:`_newton`), so that the result is the maximum itself and not
        wherever the optimiser's path happened to stop: the same data summed in another
        order give the same fit to about 1e-12. ``converged``: the Newton steps got
        below 1e-8 from a positive definite information (L-BFGS-B's own verdict is
        moot: run to the last digit, its line search ends "abnormally" as often as not).
        """
        ratios = np.asarray(start, dtype=float).copy()
        if len(ratios):
            ratios = self._lbfgsb(ratios, ftol)
            for _ in range(2):  # a component wrongly left at zero: start again away from it
                away = self._leaves_zero(ratios)
                if not away:
                    break
                ratios[away] = math.log(0.1)
                ratios = self._lbfgsb(ratios, ftol)
        value, shoe_sd = self.profiled_loglik(ratios)
        if not math.isfinite(value):  # no residual left (e.g. as many fixed effects as shoes)
            return ClusterFit(self, self._full(ratios, math.nan), value, converged=False)
        theta = self._full(ratios, math.log(shoe_sd))
        names = self.parameter_names()
        boundary = ClusterFit(model=self, theta=theta, loglik=math.nan, converged=True)
        if self.random_slope and (boundary.on_boundary()[0] or boundary.on_boundary()[1]):
            # not identified with an SD at zero: held at 0, not wherever the path left it
            theta[names.index("atanh_slope_corr")] = 0.0
        free = boundary.free()
        theta[free], converged = _newton(
            lambda sub: self.score(_replace(theta, free, sub))[free], theta[free]
        )
        held = [i for i in range(len(ratios)) if i not in free and names[i].startswith("log")]
        theta[held] = _RATIO_BOUNDS[0] + theta[-1]  # still at the bound after the steps
        converged = converged and not (len(ratios) and self._leaves_zero(ratios))
        return ClusterFit(model=self, theta=theta, loglik=self.loglik(theta), converged=converged)

    def _lbfgsb(self, start: FloatArray, ftol: float) -> FloatArray:
        """L-BFGS-B on :meth:`profiled_loglik` from ``start``; ratios below 1e-4 set to the
        bound. ``ftol``: the relative improvement at which it stops (its default, 2e-9,
        stopped 2e-3 short at a million shoes, where the log-likelihood is ~1e6)."""
        from scipy.optimize import minimize

        names = self.parameter_names()[:-1]
        corr = (-_CORR_BOUND, _CORR_BOUND)
        bounds = [corr if n.startswith("atanh") else _RATIO_BOUNDS for n in names]

        def objective(ratios: FloatArray) -> tuple[float, FloatArray]:
            value, shoe_sd = self.profiled_loglik(ratios)
            if not math.isfinite(value):
                return 1e30, np.zeros(len(ratios))
            return -value, -self.profiled_score(ratios, shoe_sd)

        opts = {"ftol": ftol, "gtol": 1e-9, "maxiter": 1000}
        res = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
        ratios = np.asarray(res.x, dtype=float)
        log_sd = np.array([n.startswith("log") for n in names])
        ratios[log_sd & (ratios < math.log(_BOUNDARY))] = _RATIO_BOUNDS[0]
        return ratios

    def _leaves_zero(self, ratios: FloatArray) -> list[int]:
        """The ratios at the bound whose SD the likelihood would rather have above zero.

        In log-SDs the score fades as an SD goes to zero (``∂ℓ/∂log σ = 2σ² ∂ℓ/∂σ²``),
        so an optimiser that wanders near zero can stop there although the likelihood
        grows away from it. Checked at a ratio of 1e-3: a positive profiled score there.
        """
        names = self.parameter_names()
        out = []
        for j in np.flatnonzero(ratios <= _RATIO_BOUNDS[0]).tolist():
            trial = _replace(ratios, [j], np.array([math.log(1e-3)]))
            value, shoe_sd = self.profiled_loglik(trial)
            grows = math.isfinite(value) and self.profiled_score(trial, shoe_sd)[j] > 0
            if names[j].startswith("log") and grows:
                out.append(j)
        return out


def _replace(x: FloatArray, where: Sequence[int], values: FloatArray) -> FloatArray:
    """A copy of ``x`` with ``values`` at the positions ``where``."""
    out = x.copy()
    out[list(where)] = values
    return out


def _jacobian(f: Callable[[FloatArray], FloatArray], x: FloatArray, h: float = 1e-4) -> FloatArray:
    """Central-difference Jacobian of the gradient ``f`` at ``x``, made symmetric.

    Its error is ``O(h²)`` (about 1e-8 relative at ``h = 1e-4`` on the log scale) plus
    the score's rounding divided by ``h``.
    """
    steps = np.eye(len(x)) * h
    jac = np.column_stack([(f(x + e) - f(x - e)) / (2.0 * h) for e in steps])
    return 0.5 * (jac + jac.T)


def _newton(score: Callable[[FloatArray], FloatArray], x: FloatArray) -> tuple[FloatArray, bool]:
    """Newton steps ``x ← x + I^{-1} U(x)`` to the zero of the score ``U``.

    ``I = −∂U/∂x`` is taken once, at the start (the chord method; Ortega & Rheinboldt
    1970, §7.1): from the optimiser's stop, about 1e-7 from the maximum, each step
    shrinks the distance about 1e5-fold. No step is taken unless ``I`` is positive
    definite (a maximum) and the steps stay small (below 1e-2); at most 5 steps.
    Returns the point and whether a step below 1e-8 was reached (converged).
    """
    if not len(x):
        return x, True
    info = -_jacobian(score, x)
    try:
        chol = np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        return x, False
    for _ in range(5):
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, score(x)))
        if not (np.all(np.isfinite(step)) and np.max(np.abs(step)) < 1e-2):
            return x, False
        x = x + step
        if np.max(np.abs(step)) < 1e-13:
            break
    return x, bool(np.max(np.abs(step)) < 1e-8)


@dataclass(frozen=True)
class _VisitWeights:
    """``Ω_v`` of :meth:`NestedModel._visit_weights`, kept as the parts it is made of.

    ``B_v'W_i B_v = W_i − w(e_0 (W_i u)' + (W_i u) e_0') + w² (u'W_i u) e_0e_0'``
    (``B_v = I − w u e_0'``), so that ``Σ_v tr(Ω_v X_v) = Σ_i tr(W_i Σ_{v∈i} X_v)
    − 2 Σ_v w (W_i u)'X_v e_0 + Σ_v (w² u'W_i u + w) X_v,00``: it needs the sums of
    ``X`` per producer and its column 0 per visit, not a 3 × 3 product per visit.

    Attributes
    ----------
    producer : array, shape (producers, 3, 3)
        ``W_i``.
    wu : array, shape (3, visits)
        ``w_v W_i u_v``.
    uwu : array, shape (visits,)
        ``u_v'W_i u_v``.
    corner : array, shape (visits,)
        ``w_v² u_v'W_i u_v + w_v``.
    """

    producer: FloatArray
    wu: FloatArray
    uwu: FloatArray
    corner: FloatArray

    def trace(self, x_producer: FloatArray, x_column0: FloatArray) -> float:
        """``Σ_v tr(Ω_v X_v)`` from ``Σ_{v∈i} X_v`` (producers, 3, 3) and ``X_v e_0``
        (3, visits)."""
        return float(
            np.sum(self.producer * x_producer)
            - 2.0 * np.sum(self.wu * x_column0)
            + np.sum(self.corner * x_column0[0])
        )

    def trace_outer(self, u: FloatArray) -> float:
        """``Σ_v tr(Ω_v u_v u_v')`` for the visit level's ``X_v = u_v u_v'``."""
        w_u = np.sum(self.wu * u, axis=0)  # w_v (W_i u_v)'u_v
        return float(np.sum(self.uwu - 2.0 * w_u * u[0] + self.corner * u[0] ** 2))


@dataclass(frozen=True)
class ClusterFit:
    """A fitted :class:`NestedModel`: estimates, their covariance, producer predictions."""

    model: NestedModel
    theta: FloatArray
    loglik: float
    converged: bool
    #: The level of ``model``'s residual: ``"shoe"``; ``"pair"`` or ``"visit"`` when the
    #: levels below it are at zero and ``model`` is that of its means (:func:`_fit`).
    residual: Literal["shoe", "pair", "visit"] = "shoe"
    #: Every shoe of each producer reads alike (in the data, :func:`_alike`): nothing
    #: tells the SDs from the fit's bound, and they are reported blank (:func:`_fit`).
    producer_alike: bool = False

    @property
    def components(self) -> Components:
        """The fitted variance components: the model's residual SD is that of the
        :attr:`residual` level, the levels below it are 0."""
        comp = self.model.components(self.theta)
        below = ("visit", "pair", "shoe")[("visit", "pair", "shoe").index(self.residual) + 1 :]
        return replace(
            comp, **{f"{self.residual}_sd": comp.shoe_sd}, **{f"{b}_sd": 0.0 for b in below}
        )

    def parameter_names(self) -> tuple[str, ...]:
        """The names of :attr:`theta`'s entries as :attr:`components` reads them: the
        model's, its residual ``log_shoe_sd`` named after the :attr:`residual` level."""
        return (*self.model.parameter_names()[:-1], f"log_{self.residual}_sd")

    def ratios_at_upper_bound(self) -> list[str]:
        """The SDs whose ratio to the residual SD ended at the fit's upper bound (1e6):
        the fit stopped there, not at the maximum (:func:`_fit` says when)."""
        names = self.parameter_names()
        return [
            n
            for n, t in zip(names[:-1], self.theta[:-1], strict=True)
            if n.startswith("log") and t - self.theta[-1] >= _RATIO_BOUNDS[1] - 1e-6
        ]

    def on_boundary(self) -> tuple[bool, ...]:
        """Per parameter: an SD estimated at zero (its Wald interval is undefined)."""
        tiny = self.theta[-1] + math.log(_BOUNDARY)
        return tuple(
            (not n.startswith("atanh")) and t < tiny
            for n, t in zip(self.model.parameter_names(), self.theta, strict=True)
        )

    def slope_corr_at_bound(self) -> bool:
        """Whether the slope correlation ended at the fit's bound (±0.995): the likelihood
        grows towards ±1, where the estimate is (reported so, not as ±0.995)."""
        names = self.model.parameter_names()
        if "atanh_slope_corr" not in names:
            return False
        return bool(abs(self.theta[names.index("atanh_slope_corr")]) >= _CORR_BOUND - 1e-6)

    def free(self) -> list[int]:
        """The parameters not held fixed: not on the boundary; nor the slope correlation
        at its bound (±0.995) or when the between-producer or the slope SD is at zero
        (it is then not identified)."""
        names = self.model.parameter_names()
        boundary = list(self.on_boundary())
        if "atanh_slope_corr" in names:
            i = names.index("atanh_slope_corr")
            zero = boundary[0] or boundary[names.index("log_slope_sd")]
            boundary[i] = bool(self.slope_corr_at_bound() or zero)
        return [i for i, b in enumerate(boundary) if not b]

    def covariance(self) -> FloatArray:
        """Covariance of the parameter estimates: the inverse observed REML information.

        The information is the central difference of the analytic :meth:`NestedModel.score`
        (:func:`_jacobian`), one pair of score evaluations per parameter. Parameters not
        :meth:`free` are held fixed: their rows and columns are NaN.
        """
        names = self.model.parameter_names()
        free = self.free()
        cov = np.full((len(names), len(names)), np.nan)
        if free:

            def score(sub: FloatArray) -> FloatArray:
                return self.model.score(_replace(self.theta, free, sub))[free]

            info = -_jacobian(score, self.theta[free])
            with contextlib.suppress(np.linalg.LinAlgError):  # singular: no intervals
                cov[np.ix_(free, free)] = np.linalg.inv(info)
        return cov

    def fixed_effects(self) -> tuple[FloatArray, FloatArray]:
        """GLS estimates of (offset, grading error) and their covariance ``(X'V^{-1}X)^{-1}``."""
        forms, _ = self.model.producer_forms(self.model.components(self.theta))
        total = forms.sum(axis=0)
        x = list(range(self.model.n_fixed))
        cov = np.linalg.inv(total[np.ix_(x, x)])
        return cov @ total[x, 2], cov

    def producer_effects(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Empirical-Bayes producer effects and their prediction errors.

        Returns ``b`` (producers × effects: offset, and grading error when random),
        the prediction error covariance ``Var(b̂ − b)`` per producer, and
        ``Cov(β̂ − β, b̂ − b)`` per producer (Henderson 1975, Biometrics 31:423-447):

        ``b̂ = G Z'V^{-1}(y - Xβ̂)``,
        ``Var(b̂ − b) = G − G Z'V^{-1}Z G + G Z'V^{-1}X C^{-1} X'V^{-1}Z G``,
        ``Cov(β̂ − β, b̂ − b) = −C^{-1} X'V^{-1}Z G``, with ``C = X'V^{-1}X``.
        """
        comp = self.model.components(self.theta)  # the fitted model's own
        forms, _ = self.model.producer_forms(comp)
        beta, cinv = self.fixed_effects()
        g, z = self.model._g(comp)
        x = list(range(self.model.n_fixed))
        zvy = forms[:, z, 2]
        zvx = forms[:, z][:, :, x]
        zvz = forms[:, z][:, :, z]
        b = (g @ (zvy - zvx @ beta)[:, :, None])[:, :, 0]
        pev = g - g @ zvz @ g + g @ zvx @ cinv @ np.swapaxes(zvx, 1, 2) @ g
        cross = -cinv @ np.swapaxes(zvx, 1, 2) @ g
        return b, pev, cross


# --------------------------------------------------------------------------------------
# From deviations to the model, and the tables
# --------------------------------------------------------------------------------------

_NEEDED = ("producer", "dimension", "size", "deviation_mm")
#: Every column the model reads, when present (visits, pairs, the tolerance band).
_USED = frozenset(
    {*_NEEDED, "date", "lot", "pair", "nominal_mm", "lower_mm", "upper_mm",
     "lower_missized_mm", "upper_missized_mm"}
)  # fmt: skip


def _factorize(column: pd.Series) -> tuple[IntArray, int]:
    """Dense codes of a column's values (-1 where missing) and how many distinct values."""
    codes, uniques = pd.factorize(column)
    return np.asarray(codes, dtype=np.int64), len(uniques)


def _dense(keys: IntArray) -> IntArray:
    """Dense codes 0..k-1 of integer keys, in order of first appearance."""
    codes, _ = pd.factorize(keys)
    return np.asarray(codes, dtype=np.int64)


@dataclass(frozen=True)
class _Dimension:
    """The rows of one dimension prepared for the model."""

    name: str
    model: NestedModel
    producers: list[str]
    producer: IntArray
    visit: IntArray
    pair: IntArray
    y: FloatArray
    s: FloatArray
    center_size: float
    band: tuple[float, float]


def _visit_column(rows: pd.DataFrame) -> str:
    """The column that marks a visit: ``date``, else ``lot``; empty when neither has values."""
    for col in ("date", "lot"):
        if col in rows.columns and rows[col].notna().any():
            return col
    return ""


def _band(rows: pd.DataFrame, band: Band) -> tuple[float, float]:
    """The tolerance band relative to nominal (median over the rows), mm; NaN if unknown."""
    lo_col, hi_col = ("lower_mm", "upper_mm")
    if band == "missized":
        lo_col, hi_col = ("lower_missized_mm", "upper_missized_mm")
    if not {lo_col, hi_col, "nominal_mm"} <= set(rows.columns):
        return math.nan, math.nan
    nominal = rows["nominal_mm"].to_numpy(dtype=float)
    lo = rows[lo_col].to_numpy(dtype=float) - nominal
    hi = rows[hi_col].to_numpy(dtype=float) - nominal
    return float(np.median(lo)), float(np.median(hi))


def _first_of(units: IntArray, groups: IntArray) -> IntArray:
    """The group of each unit (``units`` nested in ``groups``, both dense codes by row)."""
    out = np.zeros(int(units.max()) + 1 if len(units) else 0, dtype=np.int64)
    out[units] = groups
    return out


def _prepare(
    rows: pd.DataFrame,
    name: str,
    *,
    center_size: float | None,
    random_slope: bool | Literal["auto"],
    band: Band,
) -> _Dimension:
    y = rows["deviation_mm"].to_numpy(dtype=float)
    size = rows["size"].to_numpy(dtype=float)
    center = float(np.round(np.median(size) * 2.0) / 2.0) if center_size is None else center_size
    s = size - center
    producer_codes, producer_names = pd.factorize(rows["producer"])
    producer, n_producers = np.asarray(producer_codes, dtype=np.int64), len(producer_names)
    visit_col = _visit_column(rows)
    day, n_days = _factorize(rows[visit_col]) if visit_col else (np.full(len(rows), -1), 0)
    pid, n_pids = (
        _factorize(rows["pair"]) if "pair" in rows.columns else (np.full(len(rows), -1), 0)
    )
    # A pair is (producer, visit, pair id); a row without a pair id is a pair of its own,
    # a row without a date (or lot) a visit of its own.
    row_no = np.arange(len(rows), dtype=np.int64)
    n_keys = n_producers * (n_days + 1) * (n_pids + 1)
    pair = _dense(
        np.where(
            pid >= 0, (producer * (n_days + 1) + day + 1) * (n_pids + 1) + pid + 1, n_keys + row_no
        )
    )
    visit = _dense(np.where(day >= 0, producer * n_days + day, n_producers * n_days + pair))
    pairs_per_visit = np.bincount(_first_of(pair, visit))
    visits_per_producer = np.bincount(_first_of(visit, producer))
    shoes_per_pair = np.bincount(pair)
    has_visits = (
        bool(visit_col)
        and bool((visits_per_producer >= 2).any())
        and bool((pairs_per_visit >= 2).any())
    )
    if not has_visits:  # one "visit" per producer: the level is left out of the model
        visit = producer.copy()
    has_pairs = bool((shoes_per_pair >= 2).any())
    distinct_sizes = pd.DataFrame({"producer": producer, "size": size}).drop_duplicates()
    sizes_per_producer = np.bincount(distinct_sizes["producer"], minlength=n_producers)
    if random_slope == "auto":
        slope = int((sizes_per_producer >= 3).sum()) >= 5
    else:
        slope = bool(random_slope)
    if slope and not np.any(s != s[0]):
        slope = False
    model = NestedModel.from_frame(
        y, s, producer, visit, pair, random_slope=slope, has_visits=has_visits, has_pairs=has_pairs
    )
    return _Dimension(
        name=name,
        model=model,
        producers=[str(p) for p in producer_names],
        producer=producer,
        visit=visit,
        pair=pair,
        y=y,
        s=s,
        center_size=center,
        band=_band(rows, band),
    )


def _z(confidence: float) -> float:
    return float(special.ndtri(0.5 + confidence / 2.0))


def _log_interval(value: float, grad: FloatArray, cov: FloatArray, z: float) -> tuple[float, float]:
    """Delta-method interval of a positive quantity on the log scale.

    ``grad`` is the gradient of ``log(value)`` in the parameters whose covariance is ``cov``.
    """
    var = float(grad @ cov @ grad)
    if not (value > 0 and math.isfinite(var)) or var < 0:
        return math.nan, math.nan
    half = z * math.sqrt(var)
    # with three or four producers the log-SD can be almost unidentified: the interval
    # then runs from about 0 to beyond any float (inf), which is what the data say
    high = value * math.exp(half) if half < 700.0 else math.inf
    return value * math.exp(-half), high


def _logit_interval(p: float, grad: FloatArray, cov: FloatArray, z: float) -> tuple[float, float]:
    """Delta-method interval of a share on the logit scale (``grad`` of ``logit(p)``)."""
    var = float(grad @ cov @ grad)
    if not (0.0 < p < 1.0 and math.isfinite(var)) or var < 0:
        return math.nan, math.nan
    logit = math.log(p / (1.0 - p))
    half = z * math.sqrt(var)
    return float(special.expit(logit - half)), float(special.expit(logit + half))


def share_outside(mean: float, sd: float, band: tuple[float, float]) -> float:
    """Share of a normal population N(mean, sd²) outside ``band`` = (low, high).

    ``Φ((low − mean)/sd) + Φ((mean − high)/sd)``; an infinite limit adds nothing.

    >>> round(share_outside(0.0, 1.0, (-1.96, 1.96)), 3)
    0.05
    """
    low, high = band
    if sd <= 0:
        return float(mean < low or mean > high)
    return float(special.ndtr((low - mean) / sd) + special.ndtr((mean - high) / sd))


def _share_interval(
    mean: float,
    sd: float,
    band: tuple[float, float],
    var_mean: float,
    var_log_sd: float,
    z: float,
) -> tuple[float, float, float]:
    """:func:`share_outside` with its delta-method interval on the logit scale.

    ``d share / d mean = (φ(b) − φ(a)) / sd`` and ``d share / d log sd = −(a φ(a) +
    b φ(b))`` with ``a = (low − mean)/sd``, ``b = (mean − high)/sd``; ``β̂`` and
    ``θ̂`` are asymptotically independent under REML, so their variances add.
    """
    share = share_outside(mean, sd, band)
    if not (sd > 0 and all(math.isfinite(v) for v in (var_mean, var_log_sd))):
        return share, math.nan, math.nan
    low, high = band
    a, b = (low - mean) / sd, (mean - high) / sd

    def phi(t: float) -> float:
        return math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi) if math.isfinite(t) else 0.0

    def times_phi(t: float) -> float:
        return t * phi(t) if math.isfinite(t) else 0.0

    d_mean = (phi(b) - phi(a)) / sd
    d_log_sd = -(times_phi(a) + times_phi(b))
    if not 0.0 < share < 1.0:
        return share, math.nan, math.nan
    scale = 1.0 / (share * (1.0 - share))
    grad = np.array([d_mean, d_log_sd]) * scale
    lo, hi = _logit_interval(share, grad, np.diag([var_mean, var_log_sd]), z)
    return share, lo, hi


@dataclass(frozen=True)
class ClusterSummary:
    """The result of :func:`cluster_summary`, computed once for every writer and chart.

    Attributes
    ----------
    summary : DataFrame
        One row per dimension, columns :data:`SUMMARY_COLUMNS` (``cluster_summary.csv``:
        the first fifteen are the contract of ``shared/design.md``).
    offsets : DataFrame
        One row per producer × dimension, columns :data:`OFFSET_COLUMNS`: the
        empirical-Bayes offset at ``center_size`` with its interval, for
        :func:`sizecheck.plotting.plot_forest`.
    fits : mapping of str to ClusterFit
        The fitted model per dimension (variance components, covariance, effects).
    """

    summary: pd.DataFrame
    offsets: pd.DataFrame
    fits: Mapping[str, ClusterFit]


def _method(model: NestedModel, visit_kind: str, fit: ClusterFit) -> str:
    """The model fitted (``model``: that of the shoes) and how the intervals are made."""
    parts = ["REML producer(offset" + ("+slope)" if model.random_slope else ")")]
    if model.has_visits:
        parts.append(f"visit({visit_kind})")
    if model.has_pairs:
        parts.append("pair")
    parts.append("shoe")
    text = "/".join(parts)
    if fit.residual != "shoe":
        text += f"; shoes of a {fit.residual} alike: fitted to {fit.residual} means"
    if fit.producer_alike:
        text += "; SDs blank: every shoe of a producer reads alike"
    elif fit.ratios_at_upper_bound():
        text += "; a ratio of SDs at the fit's bound (1e6)"
    text += "; Wald CI: log SD, logit ICC and share"
    return text if fit.converged else text + "; NOT CONVERGED"


def _sd_intervals(fit: ClusterFit, comp: Components, z: float) -> dict[str, float]:
    """Wald intervals of the SDs (log scale) and the ICC (logit scale), delta method,
    around ``comp``, the components as reported (:func:`_as_reported`).

    A parameter held fixed (on the boundary: :meth:`ClusterFit.free`) has no interval
    of its own and adds no variance to the others'; nor has the ICC when the
    between-producer SD is held.
    """
    names = fit.parameter_names()
    free = fit.free()
    held = np.array([i not in free for i in range(len(names))])
    cov = np.where(held[:, None] | held[None, :], 0.0, fit.covariance())

    def grad(**entries: float) -> FloatArray:
        g = np.zeros(len(names))
        for key, value in entries.items():
            if key in names:
                g[names.index(key)] = value
        return g

    def own(name: str, value: float) -> tuple[float, float]:
        if name not in names or held[names.index(name)]:
            return math.nan, math.nan
        return _log_interval(value, grad(**{name: 1.0}), cov, z)

    within2 = comp.pair_sd**2 + comp.shoe_sd**2
    inside = comp.visit_sd**2 + within2  # variance of a shoe around its producer's line
    w_lo, w_hi = math.nan, math.nan  # at zero (shoes of a visit alike): no interval
    if within2 > 0:
        w_lo, w_hi = _log_interval(
            math.sqrt(within2),
            grad(log_pair_sd=comp.pair_sd**2 / within2, log_shoe_sd=comp.shoe_sd**2 / within2),
            cov,
            z,
        )
    icc = comp.between_sd**2 / (comp.between_sd**2 + inside)
    icc_lo, icc_hi = _logit_interval(
        icc,
        grad(
            log_between_sd=2.0,
            log_visit_sd=-2.0 * comp.visit_sd**2 / inside,
            log_pair_sd=-2.0 * comp.pair_sd**2 / inside,
            log_shoe_sd=-2.0 * comp.shoe_sd**2 / inside,
        ),
        cov,
        z,
    )
    if held[names.index("log_between_sd")]:
        icc_lo, icc_hi = math.nan, math.nan
    (b_lo, b_hi), (v_lo, v_hi) = (
        own("log_between_sd", comp.between_sd),
        own("log_visit_sd", comp.visit_sd),
    )
    return {
        "between_ci_low_mm": b_lo,
        "between_ci_high_mm": b_hi,
        "visit_ci_low_mm": v_lo,
        "visit_ci_high_mm": v_hi,
        "within_ci_low_mm": w_lo,
        "within_ci_high_mm": w_hi,
        "icc": icc,
        "icc_ci_low": icc_lo,
        "icc_ci_high": icc_hi,
        "var_log_between_sd": float(cov[0, 0]) if not held[0] else math.nan,
    }


def _as_reported(comp: Components, zero: dict[str, bool], blank: bool) -> Components:
    """The components a person reads: an SD estimated at zero (held at the lower bound
    of the fit, 1e-5 × the shoe SD, by :meth:`ClusterFit.on_boundary`) is 0, not a
    number like 7.7e-6 mm that looks measured. Everything derived from the row (ICCs,
    within SD, share mis-sized) is computed from these. ``blank``: every shoe of a
    producer reads alike (:attr:`ClusterFit.producer_alike`): they are all NaN, as
    such a fit says where the fit's bound lies, not what the SDs are."""
    if blank:
        return Components(*[math.nan] * 6)
    held = {
        field: 0.0
        for field in ("between_sd", "slope_sd", "visit_sd", "pair_sd")
        if zero.get(f"log_{field}", False)
    }
    return replace(comp, **held)


def _summarise(
    dim: _Dimension, fit: ClusterFit, visit_kind: str, confidence: float
) -> dict[str, object]:
    """One row of :data:`SUMMARY_COLUMNS` for a fitted dimension."""
    model = dim.model  # the shoes' (the fit's may be that of the pair means: _fit)
    z = _z(confidence)
    beta, beta_cov = fit.fixed_effects()
    zero = dict(zip(fit.parameter_names(), fit.on_boundary(), strict=True))
    comp = _as_reported(fit.components, zero, fit.producer_alike)
    ci = _sd_intervals(fit, comp, z)
    identified = model.random_slope and not (zero["log_between_sd"] or zero["log_slope_sd"])

    def nan_if_absent(flag: bool, value: float) -> float:
        return value if flag else math.nan

    share, s_lo, s_hi = _share_interval(
        float(beta[0]), comp.between_sd, dim.band, float(beta_cov[0, 0]),
        ci.pop("var_log_between_sd"), z,
    )  # fmt: skip
    if any(math.isnan(v) for v in dim.band):  # no tolerance known
        share, s_lo, s_hi = math.nan, math.nan, math.nan
    # The cluster mean offset is known as well as the producers are many: its interval
    # takes the t quantile with n_producers - 1 degrees of freedom (the "containment"
    # degrees of freedom of the producer level), not the normal one.
    se0 = math.sqrt(float(beta_cov[0, 0]))
    t0 = float(special.stdtrit(max(model.n_producers - 1, 1), 0.5 + confidence / 2.0))
    within2 = comp.pair_sd**2 + comp.shoe_sd**2
    inside = comp.visit_sd**2 + within2
    row: dict[str, object] = {
        "dimension": dim.name,
        "n_producers": model.n_producers,
        "n_visits": model.n_visits if model.has_visits else 0,
        "between_sd_mm": comp.between_sd,
        "within_sd_mm": math.sqrt(within2),
        "visit_sd_mm": nan_if_absent(model.has_visits, comp.visit_sd),
        "share_missized": share,
        "share_ci_low": s_lo,
        "share_ci_high": s_hi,
        "method": _method(model, visit_kind, fit),
        "n_shoes": model.n_obs,
        "center_size": dim.center_size,
        "mean_offset_mm": float(beta[0]),
        "mean_offset_ci_low_mm": float(beta[0]) - t0 * se0,
        "mean_offset_ci_high_mm": float(beta[0]) + t0 * se0,
        "grade_error_mm_per_size": float(beta[1]) if model.n_fixed > 1 else math.nan,
        "slope_sd_mm_per_size": nan_if_absent(model.random_slope, comp.slope_sd),
        # not identified when either SD is at zero (nor fitted without a random slope)
        "slope_corr": (
            math.copysign(1.0, comp.slope_corr) if fit.slope_corr_at_bound() else comp.slope_corr
        )
        if identified
        else math.nan,
        "pair_sd_mm": nan_if_absent(model.has_pairs, comp.pair_sd),
        "shoe_sd_mm": comp.shoe_sd,
        "within_producer_sd_mm": math.sqrt(inside),
        "visit_icc": nan_if_absent(model.has_visits, comp.visit_sd**2 / inside),
        "pair_icc": nan_if_absent(model.has_pairs, (comp.visit_sd**2 + comp.pair_sd**2) / inside),
        "band_low_mm": dim.band[0],
        "band_high_mm": dim.band[1],
        "confidence": confidence,
        **ci,
    }
    return {c: row[c] for c in SUMMARY_COLUMNS}


def _offsets(dim: _Dimension, fit: ClusterFit, confidence: float) -> pd.DataFrame:
    z = _z(confidence)
    beta, beta_cov = fit.fixed_effects()
    b, pev, cross = fit.producer_effects()
    offset = beta[0] + b[:, 0]
    # Var(β̂0 + b̂0 − β0 − b0) = Var(β̂0) + Var(b̂0 − b0) + 2 Cov(β̂0 − β0, b̂0 − b0)
    var = beta_cov[0, 0] + pev[:, 0, 0] + 2.0 * cross[:, 0, 0]
    se = np.sqrt(np.maximum(var, 0.0))
    grade = beta[1] + b[:, 1] if fit.model.random_slope else np.full(len(b), np.nan)
    if not fit.model.random_slope and fit.model.n_fixed > 1:
        grade = np.full(len(b), beta[1])
    n_prod = fit.model.n_producers
    slope = beta[1] if fit.model.n_fixed > 1 else 0.0
    raw = np.bincount(dim.producer, weights=dim.y - slope * dim.s, minlength=n_prod) / np.bincount(
        dim.producer, minlength=n_prod
    )
    low, high = dim.band
    with np.errstate(divide="ignore", invalid="ignore"):
        p_out = special.ndtr((low - offset) / se) + special.ndtr((offset - high) / se)
    first_visit = np.unique(dim.visit, return_index=True)[1]
    n_visits = np.bincount(dim.producer[first_visit], minlength=n_prod)
    return pd.DataFrame(
        {
            "producer": dim.producers,
            "dimension": dim.name,
            "n": np.bincount(dim.producer, minlength=n_prod),
            "n_visits": n_visits if fit.model.has_visits else np.zeros(n_prod, dtype=np.int64),
            "center_size": dim.center_size,
            "cluster_mean_offset_mm": float(beta[0]),
            "raw_offset_mm": raw,
            "offset_mm": offset,
            "offset_ci_low_mm": offset - z * se,
            "offset_ci_high_mm": offset + z * se,
            "grade_error_mm_per_size": grade,
            "p_outside": np.nan if any(math.isnan(v) for v in dim.band) else p_out,
            "band_low_mm": low,
            "band_high_mm": high,
        }
    )[list(OFFSET_COLUMNS)]


def fit_cluster(
    deviations: pd.DataFrame,
    *,
    dimension: str,
    center_size: float | None = None,
    random_slope: bool | Literal["auto"] = "auto",
    band: Band = "in_spec",
) -> ClusterFit:
    """Fit the nested mixed model of one dimension (see the module docstring).

    Parameters are those of :func:`cluster_summary`; returns the :class:`ClusterFit`.
    """
    rows = _usable(deviations, "fit_cluster")
    rows = rows.loc[rows["dimension"].astype("str").to_numpy() == dimension]
    if rows.empty:
        raise UsageError(f"fit_cluster: no usable deviations of dimension {dimension!r}.")
    dim = _prepare(rows, dimension, center_size=center_size, random_slope=random_slope, band=band)
    return _fit(dim)


def _fit(dim: _Dimension) -> ClusterFit:
    """The REML fit of one dimension; of its pair (visit) means when the shoes of every
    pair (visit) read alike.

    Whether shoes read alike is decided from the data (:func:`_alike`: their sum of
    squares around the pair means is 0, to 1e-9 of the total), never from where the
    optimiser stopped: a shoe SD of 0.001 mm under a pair SD of 0.5 mm is small, not
    zero, and is fitted like any other (the ratio bound, 1e6, leaves it room). When
    both shoes of every pair read alike, the shoe SD is zero and every SD's ratio to
    it would run to the bound. A shoe's difference from its pair's mean, ``y_f − ȳ_a``,
    is uncorrelated with every pair mean (the effects of pair, visit and producer are
    shared by both shoes and cancel; Searle, Casella & McCulloch 1992, §4.3, for the
    balanced case), so the likelihood is a product: those differences, which depend on
    ``σ_e²`` alone, and the pair means, with variance ``σ_a² + σ_e²/n`` plus the levels
    above (the size being one within a pair). At ``σ_e = 0`` the maximum over the other
    components is the REML fit of the pair means with the pair as the residual level:
    the dimension is fitted so, and the shoe SD reported 0 like any SD at zero. Likewise
    with the visit when every shoe of a visit reads alike (which includes its pairs).

    A ratio of SDs that still ends at the bound is not a maximum: the fit is NOT
    CONVERGED and its numbers are reported as they are, unless every shoe of a producer
    reads alike (:attr:`ClusterFit.producer_alike`), when nothing within a producer
    tells the SDs apart and they are reported blank (:func:`_as_reported`).
    """
    total = float(np.sum((dim.y - dim.y.mean()) ** 2))
    level: Literal["shoe", "pair", "visit"] = "shoe"
    if dim.model.has_visits and _alike(dim.y, dim.visit, total):
        level = "visit"
    elif dim.model.has_pairs and _alike(dim.y, dim.pair, total):
        level = "pair"
    if level == "shoe":
        fit = dim.model.fit()
    else:
        units = dim.pair if level == "pair" else dim.visit
        has_visits = level == "pair" and dim.model.has_visits
        n = np.bincount(units)
        means = NestedModel.from_frame(
            np.bincount(units, weights=dim.y) / n,
            np.bincount(units, weights=dim.s) / n,
            _first_of(units, dim.producer),
            _first_of(units, dim.visit if has_visits else dim.producer),
            np.arange(len(n)),
            random_slope=dim.model.random_slope,
            has_visits=has_visits,
            has_pairs=False,
        )
        fit = replace(means.fit(), residual=level)
    if not fit.ratios_at_upper_bound():
        return fit
    return replace(fit, converged=False, producer_alike=_alike(dim.y, dim.producer, total))


def _alike(y: FloatArray, units: IntArray, total: float) -> bool:
    """Whether the values ``y`` read alike within each of ``units`` (dense codes):
    ``Σ (y − ȳ_unit)² ≤ 1e-9 · total`` (``total`` = ``Σ (y − ȳ)²``), i.e. 0 but for
    the rounding of the means."""
    n = np.bincount(units)
    mean = np.bincount(units, weights=y) / n
    return float(np.sum((y - mean[units]) ** 2)) <= _ALIKE * total


def _usable(deviations: pd.DataFrame, what: str) -> pd.DataFrame:
    require_columns(
        deviations,
        _NEEDED,
        what,
        hint="Pass the 'deviations' of sizecheck.compare_to_table().",
        error=UsageError,
    )
    keep = np.isfinite(deviations["deviation_mm"].to_numpy(dtype=float)) & np.isfinite(
        deviations["size"].to_numpy(dtype=float)
    )
    keep &= deviations["producer"].notna().to_numpy()
    if "status" in deviations.columns:
        keep &= (deviations["status"] != "no_reference").to_numpy()
    # only the columns the model reads are copied (not sample ids, sources, values...)
    used = [c for c in deviations.columns if c in _USED]
    out: pd.DataFrame = deviations.loc[keep, used]
    return out


def cluster_summary(
    deviations: pd.DataFrame,
    *,
    confidence: float = 0.95,
    center_size: float | None = None,
    random_slope: bool | Literal["auto"] = "auto",
    band: Band = "in_spec",
    min_producers: int = 3,
) -> ClusterSummary:
    """Describe the cluster per dimension: variance components, ICC, offsets, share off size.

    Parameters
    ----------
    deviations : DataFrame
        The deviations of :func:`sizecheck.compare_to_table` (at least ``producer,
        dimension, size, deviation_mm``; ``date`` or ``lot`` make visits, ``pair`` pairs;
        ``nominal_mm, lower_mm, upper_mm`` give the tolerance band). Rows with status
        ``no_reference`` or without a deviation or size are left out. Not modified.
    confidence : float, default 0.95
        Level of every interval.
    center_size : float, optional
        The size at which producer offsets are judged (the random intercept); default the
        median size of the dimension's shoes, rounded to a half size (column
        ``center_size``).
    random_slope : bool or "auto", default "auto"
        Give each producer its own grading error (a random slope on size). ``auto``: when
        at least 5 producers have 3 or more distinct sizes.
    band : {"in_spec", "missized"}, default "in_spec"
        The tolerance a producer's offset is judged against for ``share_missized``.
    min_producers : int, default 3
        Dimensions with fewer producers are left out (no between-producer SD to speak of).

    Returns
    -------
    ClusterSummary
        ``summary`` (one row per dimension, :data:`SUMMARY_COLUMNS`), ``offsets`` (one row
        per producer × dimension, :data:`OFFSET_COLUMNS`) and ``fits``.

    Raises
    ------
    UsageError
        A needed column is missing or a parameter is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from sizecheck.simulate import simulate_cluster
    >>> from sizecheck import compare_to_table, load_table
    >>> sim = simulate_cluster(rng=np.random.default_rng(3), n_producers=30,
    ...                        dimensions=("last_length",), between_sd_mm=2.0)
    >>> dev = compare_to_table(sim.measurements, load_table("paris-point")).deviations
    >>> cs = cluster_summary(dev)
    >>> row = cs.summary.iloc[0]
    >>> bool(row.between_ci_low_mm < 2.0 < row.between_ci_high_mm)
    True
    >>> len(cs.offsets)
    30
    """
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    if band not in ("in_spec", "missized"):
        raise UsageError(f"band must be 'in_spec' or 'missized', got {band!r}.")
    if min_producers < 2:
        raise UsageError(f"min_producers must be at least 2, got {min_producers}.")
    rows = _usable(deviations, "cluster_summary")
    visit_kind = _visit_column(rows)
    dims = rows["dimension"]
    summaries: list[dict[str, object]] = []
    offsets: list[pd.DataFrame] = []
    fits: dict[str, ClusterFit] = {}
    for name in sorted({str(d) for d in dims.unique()}):
        sub = rows.loc[(dims == name).to_numpy()]
        if sub["producer"].nunique() < min_producers:
            continue
        dim = _prepare(sub, name, center_size=center_size, random_slope=random_slope, band=band)
        fit = _fit(dim)
        fits[name] = fit
        summaries.append(_summarise(dim, fit, visit_kind, confidence))
        offsets.append(_offsets(dim, fit, confidence))
    summary = pd.DataFrame(summaries, columns=list(SUMMARY_COLUMNS))
    offsets_frame = (
        pd.concat(offsets, ignore_index=True)
        if offsets
        else pd.DataFrame({c: [] for c in OFFSET_COLUMNS})
    )
    return ClusterSummary(summary=summary, offsets=offsets_frame, fits=fits)
