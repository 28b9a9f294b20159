"""The size as it is now: periods, levels, corrections, and the pair-mismatch statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _stats_factory import STEP, deviations_from, synthetic_producer
from scipy import stats as sps

from sizecheck import drift, stats
from sizecheck.stats import reference as ref


def _step_producer(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return synthetic_producer(rng, "S", kind="step")  # 0, then +4 mm from the middle date


def test_the_current_period_starts_at_the_change_point() -> None:
    d = _step_producer()
    groups = stats.prepare(d)
    chart = drift.control_chart(d, groups=groups)
    p = stats.periods(groups, chart, min_signals=2, min_n=8)
    assert p.changed.tolist() == [True]
    shift = chart.shifts.iloc[0]
    assert p.since[0] == shift["shift_date"]
    assert p.step[0] == pytest.approx(shift["step_mm"])
    # every current row is dated on or after the change, every earlier row before it
    current = d.iloc[p.current.rows]
    before = d.iloc[p.before.rows]
    assert (current["date"] >= shift["shift_date"]).all()
    assert (before["date"] < shift["shift_date"]).all()
    assert len(current) + len(before) == len(d)
    # planted +4 mm after the middle date
    assert current["deviation_mm"].mean() == pytest.approx(4.0, abs=0.4)
    assert before["deviation_mm"].mean() == pytest.approx(0.0, abs=0.4)


def test_without_enough_signals_every_row_is_current() -> None:
    d = _step_producer()
    groups = stats.prepare(d)
    chart = drift.control_chart(d, groups=groups)
    p = stats.periods(groups, chart, min_signals=10_000)
    assert not p.changed.any() and np.isnat(p.since).all()
    assert len(p.current.rows) == len(d) and len(p.before.rows) == 0


def test_the_summary_judges_the_current_period() -> None:
    d = _step_producer()
    out = stats.producer_summary(d, base_size=41).iloc[0]
    groups = stats.prepare(d)
    p = stats.periods(groups, drift.control_chart(d, groups=groups), min_signals=2, min_n=8)
    now = d.iloc[p.current.rows]
    # an independent computation: the current rows alone, summarised from scratch
    alone = stats.producer_summary(
        now, base_size=41, thresholds=stats.Thresholds(drift_min_signals=10_000)
    ).iloc[0]
    assert out["current_n"] == len(now) == alone["n"]
    assert out["current_bias_mm"] == pytest.approx(now["deviation_mm"].mean())
    assert out["current_ci_low_mm"] == pytest.approx(alone["bias_ci_low_mm"])
    for col in ("offset_judged_mm", "offset_judged_se_mm", "grade_error_se", "line_at_max_mm"):
        assert out[col] == pytest.approx(alone[col]), col
    assert out["judged_sd_within_mm"] == pytest.approx(alone["sd_within_mm"])
    assert out["verdict"] == "offset+drift"
    # the whole-period columns stay whole-period
    assert out["bias_mm"] == pytest.approx(d["deviation_mm"].mean())


def test_corrections_bring_each_size_of_the_current_period_to_nominal() -> None:
    d = _step_producer()
    groups = stats.prepare(d)
    p = stats.periods(groups, drift.control_chart(d, groups=groups), min_signals=2, min_n=8)
    corr = stats.corrections(p)
    now = d.iloc[p.current.rows]
    by_size = now.groupby("size")
    np.testing.assert_allclose(
        corr["correction_mm"], (by_size["nominal_mm"].mean() - by_size["value_mm"].mean())
    )
    np.testing.assert_allclose(corr["correction_sizes"], corr["correction_mm"] / STEP)
    assert (corr["ci_low_mm"] <= corr["correction_mm"]).all()
    assert (corr["since"] == p.since[0]).all()
    levels = stats.levels(p)
    assert levels["period"].tolist() == ["whole", "before", "current"]


def test_pair_statistics_against_one_sample_t() -> None:
    # independent source: scipy's one-sample t-test on the per-pair differences
    rng = np.random.default_rng(5)
    n_pairs = 30
    left = 270 + rng.normal(0, 0.5, n_pairs) + 2.0
    right = 270 + rng.normal(0, 0.5, n_pairs) - 2.0
    value = np.ravel(np.column_stack([left, right]))
    foot = np.tile(["L", "R"], n_pairs)
    pair = np.repeat([f"P{i}" for i in range(n_pairs)], 2)
    diff = ref.pair_difference(value, foot, pair)
    d = right - left
    res = sps.ttest_1samp(d, 0.0)
    ci = res.confidence_interval(0.95)
    assert diff.estimate == pytest.approx(d.mean())
    assert (diff.low, diff.high) == pytest.approx((ci.low, ci.high))
    ab = ref.pair_mismatch(value, foot, pair)
    ci_abs = sps.ttest_1samp(np.abs(d), 0.0).confidence_interval(0.95)
    assert (ab.estimate, ab.low, ab.high) == pytest.approx(
        (np.abs(d).mean(), ci_abs.low, ci_abs.high)
    )


def test_out_of_spec_share_against_the_normal_distribution() -> None:
    share = ref.out_of_spec_share(0.8, -1.5, 1.5, 0.3)
    expected = sps.norm.cdf(-1.5, 0.3, 0.8) + sps.norm.sf(1.5, 0.3, 0.8)
    assert float(share) == pytest.approx(expected)
    assert float(ref.out_of_spec_share(0.0, -1.5, 1.5, 0.0)) == 0.0
    assert float(ref.out_of_spec_share(1.0, -np.inf, 1.5, 0.0)) == pytest.approx(sps.norm.sf(1.5))


def test_a_mismatched_pair_of_lasts_is_a_pair_mismatch_not_scatter() -> None:
    rng = np.random.default_rng(8)
    n_pairs = 40
    size = np.repeat(rng.integers(38, 45, n_pairs).astype(float), 2)
    foot = np.tile(["L", "R"], n_pairs)
    pair = np.repeat([f"P{i}" for i in range(n_pairs)], 2)
    noise = rng.normal(0, 0.4, 2 * n_pairs)
    mismatched = size * STEP + noise + np.where(foot == "L", 2.0, -2.0)
    fine = size * STEP + noise
    frames = [
        deviations_from(producer=name, size=size, value_mm=v, foot=foot, pair=pair)
        for name, v in (("Mismatched", mismatched), ("Fine", fine))
    ]
    out = stats.producer_summary(pd.concat(frames, ignore_index=True), base_size=41)
    verdict = dict(zip(out["producer"], out["verdict"], strict=True))
    assert verdict == {"Fine": "conforming", "Mismatched": "pair_mismatch"}
    row = out.set_index("producer").loc["Mismatched"]
    assert row["pair_mismatch_mm"] == pytest.approx(4.0, abs=0.3)
    assert row["pct_out_expected"] < 5.0  # the left/right difference is not scatter
