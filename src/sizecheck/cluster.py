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
and no lots; no pair with two shoes) is left out and its SD reported as NaN.

Method (stated in each row's ``method``)
----------------------------------------
*Fit*: restricted maximum likelihood (REML; Patterson & Thompson 1971; Harville 1977),
so variance components are not biased down by the fixed effects. The REML
log-likelihood is written once densely (:func:`reml_loglik_reference`, Pinheiro & Bates
2000 eq. 2.25) and once level by level (:class:`NestedModel`): shoes → pairs → visits →
producers, each level a Woodbury update of the one below (Henderson & Searle 1981), so
that a cluster of a million shoes needs only sums per visit; a test proves the two equal.
statsmodels' ``MixedLM`` fitted to the same data is the independent check in the tests.

*Intervals*: Wald intervals on the log scale for the SDs, on the logit scale for the
ICC and the share, from the observed REML information (the numerical Hessian of the
log-likelihood in the log-SDs) by the delta method (Pinheiro & Bates 2000 §2.4.3);
the cluster mean offset's interval uses the t quantile with ``n_producers − 1``
degrees of freedom. Their coverage was checked by simulation (tests/test_cluster.py;
benchmarks/cluster_coverage.py, figures in benchmarks/README.md): 93-97 % for every
quantity at 30 and 120 producers; at 7 producers the between-producer SD's covers
about 91 %. An SD estimated at zero (on the boundary) gets no interval.

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
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
#: Bounds of the log-ratio of an SD to the shoe SD while fitting (1e-5 to 1e3).
_RATIO_BOUNDS = (math.log(1e-5), math.log(1e3))
#: An SD below this multiple of the shoe SD is taken as zero (on the boundary).
_BOUNDARY = 1e-4


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
    """Sum the rows of ``values`` (shape (n, ...)) within each group of ``codes``."""
    flat = values.reshape(len(codes), -1)
    out = np.empty((n_groups, flat.shape[1]))
    for j in range(flat.shape[1]):
        out[:, j] = np.bincount(codes, weights=flat[:, j], minlength=n_groups)
    return out.reshape((n_groups, *values.shape[1:]))


def _woodbury(forms: FloatArray, g: FloatArray, z: Sequence[int]) -> tuple[FloatArray, FloatArray]:
    """Add a random effect with covariance ``g`` on columns ``z`` to every unit's forms.

    ``forms[u] = M_u' U_u^{-1} M_u`` for the unit's columns ``M = (1, s, y)`` under the
    covariance ``U_u`` of the levels below. With ``V_u = U_u + Z G Z'`` (``Z`` = the
    columns ``z`` of ``M``), the Woodbury identity and the push-through identity give

    ``M'V^{-1}M = F - F[:, z] G (I + H G)^{-1} F[z, :]``, ``|V| = |U| |I + H G|``,

    with ``F`` = ``forms`` and ``H = F[z, z]`` (Henderson & Searle 1981, SIAM Review
    23:53-60). Returns the new forms and ``log|I + H G|`` per unit.
    """
    zi = list(z)
    h = forms[:, zi][:, :, zi]
    eye = np.eye(len(zi))
    inner = eye + h @ g
    update = forms[:, :, zi] @ g @ np.linalg.inv(inner) @ forms[:, zi, :]
    logdet: FloatArray = np.linalg.slogdet(inner)[1]
    return forms - update, logdet


@dataclass(frozen=True)
class NestedModel:
    """One dimension's deviations reduced to the sums the REML likelihood needs.

    Rows are grouped producer ⊃ visit ⊃ pair ⊃ shoe, with ``M = (1, s, y)`` the columns
    of a row. The pair level's weights depend only on the number of shoes ``n`` of a
    pair, so the pairs are summed per ``n`` (usually 1 or 2: a group ``k`` per value):

    - per producer, ``M'M`` over its rows and, per ``n``, ``(M'1)(1'M)`` over its pairs;
    - per visit, the column of ones of the same sums (``M'1`` of its rows, and per
      ``n`` the sum of ``n M'1`` over its pairs): the visit effect sits on the column of
      ones, so that column is all the visit level needs.

    Visits are numbered producer by producer (``visit_start``). Build it with
    :meth:`from_frame`.

    Attributes
    ----------
    n_obs, n_producers, n_visits : int
    n_fixed : int
        Fixed effects: 1 (offset) or 2 (offset and grading error; needs two sizes).
    random_slope, has_visits, has_pairs : bool
        Which random effects the model has.
    pair_n, pair_count : arrays, shape (k,)
        The distinct numbers of shoes per pair, and how many pairs have each.
    producer_mm : array, shape (producers, 3, 3)
        Per producer: ``M'M`` of its rows.
    producer_ss : array, shape (k, producers, 3, 3)
        Per producer: the sum of ``(M'1)(1'M)`` over its pairs with ``pair_n[k]`` shoes.
    visit_m1 : array, shape (visits, 3)
        Per visit: ``M'1`` of its rows.
    visit_s1 : array, shape (k, visits, 3)
        Per visit: the sum of ``n M'1`` over its pairs with ``n = pair_n[k]`` shoes.
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
    producer_mm: FloatArray
    producer_ss: FloatArray
    visit_m1: FloatArray
    visit_s1: FloatArray
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
        """Reduce rows to sums per producer and per visit.

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
        m = np.column_stack([np.ones(n), s, y])
        n_pairs = int(pair.max()) + 1
        pair_sum = _sum_by(pair, m, n_pairs)  # M'1 per pair
        pair_n, kind = np.unique(pair_sum[:, 0], return_inverse=True)
        pair_visit = _first_of(pair, visit)
        pair_producer = _first_of(pair, producer)
        pair_ss = pair_sum[:, :, None] * pair_sum[:, None, :]
        kinds = range(len(pair_n))
        return cls(
            n_obs=n,
            n_producers=n_producers,
            n_visits=n_visits,
            n_fixed=2 if len(np.unique(s)) > 1 else 1,
            random_slope=random_slope,
            has_visits=has_visits,
            has_pairs=has_pairs,
            pair_n=pair_n,
            pair_count=np.bincount(kind, minlength=len(pair_n)).astype(float),
            producer_mm=_sum_by(producer, m[:, :, None] * m[:, None, :], n_producers),
            producer_ss=np.stack(
                [_sum_by(pair_producer[kind == k], pair_ss[kind == k], n_producers) for k in kinds]
            ),
            visit_m1=_sum_by(visit, m, n_visits),
            visit_s1=np.stack(
                [
                    _sum_by(pair_visit[kind == k], pair_n[k] * pair_sum[kind == k], n_visits)
                    for k in kinds
                ]
            ),
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

    def producer_forms(self, comp: Components) -> tuple[FloatArray, float]:
        """``M'V_i^{-1}M`` per producer and the sum of ``log|V_i|``.

        Level by level: pairs (closed form), visits (Sherman-Morrison, the one-column
        case of :func:`_woodbury`), producers (:func:`_woodbury`).
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
        if self.has_visits:
            u = (self.visit_m1 - np.einsum("k,k...->...", c, self.visit_s1)) / se2
            inner = 1.0 + sv2 * u[:, 0]
            w = sv2 / inner
            update = (w[:, None, None] * u[:, :, None]) * u[:, None, :]
            forms = forms - np.add.reduceat(update, self.visit_start, axis=0)
            logdet += float(np.sum(np.log(inner)))
        # Producers: offset (and grading error) on the columns (1, s).
        g, z = self._g(comp)
        forms, logdets = _woodbury(forms, g, z)
        return forms, logdet + float(np.sum(logdets))

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

    def fit(self) -> ClusterFit:
        """Maximise the REML likelihood: L-BFGS-B on the log-ratios of the SDs to the shoe SD.

        Ratios are bounded to [1e-5, 1e3] (a ratio at the lower bound is a component
        estimated at zero); the slope correlation to ±0.995.
        """
        from scipy.optimize import minimize

        names = self.parameter_names()[:-1]
        bounds = [(-3.0, 3.0) if n.startswith("atanh") else _RATIO_BOUNDS for n in names]

        def objective(ratios: FloatArray) -> float:
            value = self.profiled_loglik(ratios)[0]
            return -value if math.isfinite(value) else 1e30

        start = np.zeros(len(names))
        if len(names):
            res = minimize(objective, start, method="L-BFGS-B", bounds=bounds)
            ratios, converged = np.asarray(res.x, dtype=float), bool(res.success)
        else:
            ratios, converged = start, True
        value, shoe_sd = self.profiled_loglik(ratios)
        theta = self._full(ratios, math.log(shoe_sd))
        return ClusterFit(model=self, theta=theta, loglik=value, converged=converged)


def _hessian(f: Callable[[FloatArray], float], x: FloatArray, h: float = 1e-3) -> FloatArray:
    """Central-difference Hessian of ``f`` at ``x`` (step ``h`` in every coordinate)."""
    k = len(x)
    out = np.empty((k, k))
    f0 = f(x)
    e = np.eye(k) * h
    for i in range(k):
        out[i, i] = (f(x + e[i]) - 2.0 * f0 + f(x - e[i])) / h**2
        for j in range(i):
            out[i, j] = out[j, i] = (
                f(x + e[i] + e[j]) - f(x + e[i] - e[j]) - f(x - e[i] + e[j]) + f(x - e[i] - e[j])
            ) / (4.0 * h**2)
    return out


@dataclass(frozen=True)
class ClusterFit:
    """A fitted :class:`NestedModel`: estimates, their covariance, producer predictions."""

    model: NestedModel
    theta: FloatArray
    loglik: float
    converged: bool

    @property
    def components(self) -> Components:
        """The fitted variance components."""
        return self.model.components(self.theta)

    def on_boundary(self) -> tuple[bool, ...]:
        """Per parameter: an SD estimated at zero (its Wald interval is undefined)."""
        tiny = self.theta[-1] + math.log(_BOUNDARY)
        return tuple(
            (not n.startswith("atanh")) and t < tiny
            for n, t in zip(self.model.parameter_names(), self.theta, strict=True)
        )

    def covariance(self) -> FloatArray:
        """Covariance of the parameter estimates: the inverse observed REML information.

        Parameters on the boundary (and the slope correlation when the slope SD is) are
        held fixed: their rows and columns are NaN.
        """
        names = self.model.parameter_names()
        boundary = list(self.on_boundary())
        if "log_slope_sd" in names and boundary[names.index("log_slope_sd")]:
            boundary[names.index("atanh_slope_corr")] = True
        free = [i for i, b in enumerate(boundary) if not b]
        cov = np.full((len(names), len(names)), np.nan)
        if free:

            def f(sub: FloatArray) -> float:
                theta = self.theta.copy()
                theta[free] = sub
                return self.model.loglik(theta)

            info = -_hessian(f, self.theta[free])
            with contextlib.suppress(np.linalg.LinAlgError):  # singular: no intervals
                cov[np.ix_(free, free)] = np.linalg.inv(info)
        return cov

    def fixed_effects(self) -> tuple[FloatArray, FloatArray]:
        """GLS estimates of (offset, grading error) and their covariance ``(X'V^{-1}X)^{-1}``."""
        forms, _ = self.model.producer_forms(self.components)
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
        comp = self.components
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
    if slope and len(np.unique(s)) < 2:
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


def _method(model: NestedModel, visit_kind: str, converged: bool) -> str:
    parts = ["REML producer(offset" + ("+slope)" if model.random_slope else ")")]
    if model.has_visits:
        parts.append(f"visit({visit_kind})")
    if model.has_pairs:
        parts.append("pair")
    parts.append("shoe")
    text = "/".join(parts) + "; Wald CI: log SD, logit ICC and share"
    return text if converged else text + "; NOT CONVERGED"


def _summarise(
    dim: _Dimension, fit: ClusterFit, visit_kind: str, confidence: float
) -> dict[str, object]:
    model = fit.model
    comp = fit.components
    names = model.parameter_names()
    cov = fit.covariance()
    z = _z(confidence)
    beta, beta_cov = fit.fixed_effects()

    def grad(**entries: float) -> FloatArray:
        g = np.zeros(len(names))
        for key, value in entries.items():
            if key in names:
                g[names.index(key)] = value
        return g

    def nan_if_absent(flag: bool, value: float) -> float:
        return value if flag else math.nan

    between = comp.between_sd
    b_lo, b_hi = _log_interval(between, grad(log_between_sd=1.0), cov, z)
    v_lo, v_hi = _log_interval(comp.visit_sd, grad(log_visit_sd=1.0), cov, z)
    within2 = comp.pair_sd**2 + comp.shoe_sd**2
    w_lo, w_hi = _log_interval(
        math.sqrt(within2),
        grad(log_pair_sd=comp.pair_sd**2 / within2, log_shoe_sd=comp.shoe_sd**2 / within2),
        cov,
        z,
    )
    inside = comp.visit_sd**2 + within2  # variance of a shoe around its producer's line
    total = between**2 + inside
    icc = between**2 / total
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
    i_between = names.index("log_between_sd")
    share, s_lo, s_hi = _share_interval(
        float(beta[0]),
        between,
        dim.band,
        float(beta_cov[0, 0]),
        float(cov[i_between, i_between]),
        z,
    )
    if any(math.isnan(v) for v in dim.band):  # no tolerance known
        share, s_lo, s_hi = math.nan, math.nan, math.nan
    # The cluster mean offset is known as well as the producers are many: its interval
    # takes the t quantile with n_producers - 1 degrees of freedom (the "containment"
    # degrees of freedom of the producer level), not the normal one.
    se0 = math.sqrt(float(beta_cov[0, 0]))
    t0 = float(special.stdtrit(max(model.n_producers - 1, 1), 0.5 + confidence / 2.0))
    return {
        "dimension": dim.name,
        "n_producers": model.n_producers,
        "n_visits": model.n_visits if model.has_visits else 0,
        "between_sd_mm": between,
        "between_ci_low_mm": b_lo,
        "between_ci_high_mm": b_hi,
        "within_sd_mm": math.sqrt(within2),
        "visit_sd_mm": nan_if_absent(model.has_visits, comp.visit_sd),
        "icc": icc,
        "icc_ci_low": icc_lo,
        "icc_ci_high": icc_hi,
        "share_missized": share,
        "share_ci_low": s_lo,
        "share_ci_high": s_hi,
        "method": _method(model, visit_kind, fit.converged),
        "n_shoes": model.n_obs,
        "center_size": dim.center_size,
        "mean_offset_mm": float(beta[0]),
        "mean_offset_ci_low_mm": float(beta[0]) - t0 * se0,
        "mean_offset_ci_high_mm": float(beta[0]) + t0 * se0,
        "grade_error_mm_per_size": float(beta[1]) if model.n_fixed > 1 else math.nan,
        "slope_sd_mm_per_size": nan_if_absent(model.random_slope, comp.slope_sd),
        "slope_corr": nan_if_absent(model.random_slope, comp.slope_corr),
        "visit_ci_low_mm": v_lo,
        "visit_ci_high_mm": v_hi,
        "within_ci_low_mm": w_lo,
        "within_ci_high_mm": w_hi,
        "pair_sd_mm": nan_if_absent(model.has_pairs, comp.pair_sd),
        "shoe_sd_mm": comp.shoe_sd,
        "within_producer_sd_mm": math.sqrt(inside),
        "visit_icc": nan_if_absent(model.has_visits, comp.visit_sd**2 / inside),
        "pair_icc": nan_if_absent(model.has_pairs, (comp.visit_sd**2 + comp.pair_sd**2) / inside),
        "band_low_mm": dim.band[0],
        "band_high_mm": dim.band[1],
        "confidence": confidence,
    }


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
    return dim.model.fit()


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
        fit = dim.model.fit()
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
