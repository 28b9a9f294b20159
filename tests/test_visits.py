"""The visit as the independent unit (issue 19, item 3).

Shoes measured on one visit share a die, a last setting and a day. When a producer ×
dimension's rows come from two visits or more, the bias and grading intervals are
cluster-robust (CR2, Bell & McCaffrey 2002) over visits with G − 1 df
(:func:`sizecheck.stats.reference.cluster_covariance`). Checked here against
independent sources: statsmodels' HC2 (CR2 with one shoe per cluster), scipy's
t-interval of the visit means (equal-sized visits), the exact unbiasedness that defines
CR2 (by simulation), and coverage with planted day effects.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps
from _stats_factory import STEP, deviations_from

from sizecheck import stats
from sizecheck.stats import reference as ref


def test_cr2_with_one_shoe_per_cluster_is_statsmodels_hc2() -> None:
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(5)
    size = rng.integers(37, 46, 25).astype(float)
    dev = 0.3 - 0.2 * (size - 41) + rng.normal(0, 1 + 0.2 * (size - 37), 25)
    fit = sm.OLS(dev, sm.add_constant(size - size.mean())).fit(cov_type="HC2")
    cov = ref.cluster_covariance(size, dev, np.arange(25), fit_line=True)
    v = fit.cov_params()
    np.testing.assert_allclose([cov.var_a, cov.cov_ab, cov.var_b], [v[0, 0], v[0, 1], v[1, 1]],
                               rtol=1e-10)  # fmt: skip


def test_mean_over_equal_visits_is_the_t_interval_of_the_visit_means() -> None:
    rng = np.random.default_rng(6)
    visit = np.repeat(np.arange(7), 6)
    dev = rng.normal(0.5, 0.6, 7)[visit] + rng.normal(0, 0.4, 42)
    got = ref.cluster_mean_interval(dev, visit, 0.95)
    means = pd.Series(dev).groupby(visit).mean()
    low, high = sps.t.interval(0.95, len(means) - 1, loc=means.mean(), scale=sps.sem(means))
    assert (got.low, got.high, got.df) == (pytest.approx(low), pytest.approx(high), 6.0)


def test_cr2_is_unbiased_under_independent_errors() -> None:
    # Bell & McCaffrey (2002): with independent equal-variance errors E[V_CR2] is exactly
    # σ² (X'X)⁻¹, whatever the clusters; 2000 draws, Monte-Carlo SE about 1.5 %
    rng = np.random.default_rng(7)
    size = np.tile([38.0, 39, 40, 41, 42, 43, 44, 41], 5)
    visit = np.repeat(np.arange(8), 5)  # unequal sizes within each visit
    xc = size - size.mean()
    var_a, var_b = [], []
    for _ in range(2000):
        cov = ref.cluster_covariance(size, rng.normal(0, 1, 40), visit, fit_line=True)
        var_a.append(cov.var_a)
        var_b.append(cov.var_b)
    assert np.mean(var_a) == pytest.approx(1 / 40, rel=0.05)
    assert np.mean(var_b) == pytest.approx(1 / np.sum(xc * xc), rel=0.05)


def _day_effects(rng: np.random.Generator, producers: int, visits: int, pairs: int) -> pd.DataFrame:
    """Producers of ``visits`` visits × ``pairs`` pairs (both feet) at random sizes 38–44:
    bias 0.4 mm, grade error −0.2 mm/size; variance 0.2 between days (ICC 0.2 of the
    total 1.0), 0.3 between pairs and 0.5 between shoes."""
    n_pairs = producers * visits * pairs
    pair = np.repeat(np.arange(n_pairs), 2)
    day = pair // pairs  # visit number across all producers
    size = rng.integers(38, 45, n_pairs)[pair].astype(float)
    day_effect = rng.normal(0, np.sqrt(0.2), producers * visits)[day]
    pair_effect = rng.normal(0, np.sqrt(0.3), n_pairs)[pair]
    dev = (
        0.4
        - 0.2 * (size - 41)
        + day_effect
        + pair_effect
        + rng.normal(0, np.sqrt(0.5), 2 * n_pairs)
    )
    return deviations_from(
        producer=np.array([f"P{k:04d}" for k in day // visits]),
        size=size,
        value_mm=size * STEP + dev,
        date=pd.Timestamp("2026-01-05") + pd.to_timedelta(7 * (day % visits), unit="D"),
        pair=[f"q{k}" for k in pair],
        foot=np.tile(["L", "R"], n_pairs),
    )


def _coverage(d: pd.DataFrame) -> tuple[float, float]:
    whole = stats.Thresholds(drift_step_share=math.inf)  # no change judged: every row current
    out = stats.producer_summary(d, base_size=41, thresholds=whole)
    bias = (out["bias_ci_low_mm"] <= 0.4) & (out["bias_ci_high_mm"] >= 0.4)
    grade = (out["grade_error_ci_low"] <= -0.2) & (out["grade_error_ci_high"] >= -0.2)
    return float(bias.mean()), float(grade.mean())


def test_visit_intervals_cover_95_percent_with_day_icc_one_fifth() -> None:
    # 3000 producers of 8 visits x 4 pairs, fixed seed. Binomial SE at 0.95 is 0.004, so
    # the bound 0.93 is 5 SE below nominal; this seed gives 0.946 (bias) and 0.941
    # (grade; 10 000 producers, other seeds: 0.949-0.955 and 0.940-0.950). With the pair
    # as the unit (dates removed) the bias interval covers 0.86 here.
    d = _day_effects(np.random.default_rng(20261129), producers=3000, visits=8, pairs=4)
    bias, grade = _coverage(d)
    assert bias >= 0.93 and grade >= 0.93
    assert bias <= 0.97 and grade <= 0.97  # not just wide
    pair_bias, _ = _coverage(d.assign(date=pd.NaT))
    assert pair_bias < 0.90


def test_one_visit_keeps_the_pair_as_unit_and_lots_count_as_visits() -> None:
    rng = np.random.default_rng(8)
    d = _day_effects(rng, producers=1, visits=6, pairs=5)
    one_day = stats.producer_summary(d.assign(date=pd.Timestamp("2026-01-05")), base_size=41)
    undated = stats.producer_summary(d.assign(date=pd.NaT), base_size=41)
    cols = ["bias_ci_low_mm", "bias_ci_high_mm", "grade_error_ci_low", "n_units"]
    pd.testing.assert_frame_equal(one_day[cols], undated[cols])
    assert undated["n_units"].iloc[0] == 30  # pairs
    lots = d.assign(lot=d["date"].dt.strftime("L%m%d"), date=pd.NaT)
    by_lot = stats.producer_summary(lots, base_size=41)
    dated = stats.producer_summary(d, base_size=41)
    pd.testing.assert_frame_equal(by_lot[cols], dated[cols])
    assert dated["n_units"].iloc[0] == 6  # visits
