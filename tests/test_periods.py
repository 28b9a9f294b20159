"""The size as it is now: periods, levels, corrections, and the pair-mismatch statistics."""

from __future__ import annotations

import math

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
    p = stats.periods(groups, chart, min_n=8)
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


def test_without_a_change_every_row_is_current() -> None:
    # the planted +4 mm step is a change unless a change must exceed 5 x the in-spec
    # half-width (7.5 mm): stats.change_detected, read by the chart and by periods()
    d = _step_producer()
    groups = stats.prepare(d)
    strict = stats.Thresholds(drift_step_share=5.0)
    chart = drift.control_chart(d, groups=groups, thresholds=strict)
    assert chart.shifts.loc[0, "p_value"] < 1e-6 and not chart.shifts.loc[0, "changed"]
    p = stats.periods(groups, chart)
    assert not p.changed.any() and np.isnat(p.since).all()
    assert len(p.current.rows) == len(d) and len(p.before.rows) == 0


def test_the_summary_judges_the_current_period() -> None:
    d = _step_producer()
    out = stats.producer_summary(d, base_size=41).iloc[0]
    groups = stats.prepare(d)
    p = stats.periods(groups, drift.control_chart(d, groups=groups), min_n=8)
    now = d.iloc[p.current.rows]
    # an independent computation: the current rows alone, summarised from scratch
    alone = stats.producer_summary(
        now, base_size=41, thresholds=stats.Thresholds(drift_step_share=math.inf)
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
    p = stats.periods(groups, drift.control_chart(d, groups=groups), min_n=8)
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


def test_current_figures_of_a_cluster_where_one_producer_changed() -> None:
    # the current period is computed only where a change was found; every other group
    # takes the whole period's figures. Checked against each producer summarised alone,
    # from its current rows, as a person would do it
    rng = np.random.default_rng(5)
    d = pd.concat(
        [
            _step_producer(),
            synthetic_producer(rng, "T"),
            synthetic_producer(rng, "U", kind="offset"),
        ],
        ignore_index=True,
    )
    groups = stats.prepare(d)
    chart = drift.control_chart(d, groups=groups)
    p = stats.periods(groups, chart, min_n=8)
    assert p.changed.tolist() == [True, False, False]
    summary = stats.producer_summary(d, base_size=41, chart=chart, groups=groups, periods=p)
    sizes = stats.size_summary(d, groups=groups)
    corr = stats.corrections(p)
    pd.testing.assert_frame_equal(stats.corrections(p, sizes=sizes), corr)
    levels = stats.levels(p).set_index(["producer", "period"])
    unchanged = stats.Thresholds(drift_step_share=math.inf)
    for producer in ("S", "T", "U"):
        now = d.iloc[p.current.rows]
        now = now[now["producer"] == producer]
        alone = stats.producer_summary(now, base_size=41, thresholds=unchanged).iloc[0]
        row = summary.set_index("producer").loc[producer]
        assert row["current_n"] == len(now) == alone["n"]
        for ours, theirs in (("current_bias_mm", "bias_mm"), ("current_ci_low_mm",
                             "bias_ci_low_mm"), ("judged_sd_within_mm", "sd_within_mm"),
                             ("offset_judged_se_mm", "offset_judged_se_mm")):  # fmt: skip
            assert row[ours] == pytest.approx(alone[theirs], rel=1e-9), (producer, ours)
        mine = corr[corr["producer"] == producer]
        by_size = now.groupby("size")
        np.testing.assert_allclose(
            mine["correction_mm"], by_size["nominal_mm"].mean() - by_size["value_mm"].mean()
        )
        expected = stats.size_summary(now)
        np.testing.assert_allclose(mine["ci_low_mm"], -expected["bias_ci_high_mm"], rtol=1e-9)
        assert levels.loc[(producer, "current"), "bias_mm"] == pytest.approx(alone["bias_mm"])
        assert levels.loc[(producer, "current"), "ci_high_mm"] == pytest.approx(
            alone["bias_ci_high_mm"], rel=1e-9
        )


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


# -- the change point's uncertainty ------------------------------------------------------


def test_change_point_is_the_least_squares_split_and_the_charts() -> None:
    rng = np.random.default_rng(50)
    x = np.r_[rng.normal(0, 1, 9), rng.normal(2.5, 1, 13)]
    k, step = ref.change_point(x)
    # independent: the split with the smallest within-segment sum of squares, by brute force
    sse = [np.sum((x[:j] - x[:j].mean()) ** 2) + np.sum((x[j:] - x[j:].mean()) ** 2)
           for j in range(1, len(x))]  # fmt: skip
    assert k == 1 + int(np.argmin(sse))
    assert step == pytest.approx(x[k:].mean() - x[:k].mean())
    # the bootstrap finds each replicate's change point as change_point() does
    fit = np.where(np.arange(len(x)) < k, x[:k].mean(), x[k:].mean())
    ks, steps = ref.change_point_bootstrap(x, np.random.default_rng(9), 50)
    draws = fit + np.random.default_rng(9).choice(x - fit, size=(50, len(x)), replace=True)
    for row, kb, sb in zip(draws, ks, steps, strict=True):
        assert (kb, sb) == (ref.change_point(row)[0], pytest.approx(ref.change_point(row)[1]))
    # the control chart's change point is this function of its points
    d = _step_producer()
    chart = drift.control_chart(d)
    k_chart, step_chart = ref.change_point(chart.points["value"].to_numpy())
    shift = chart.shifts.iloc[0]
    assert chart.points["order"].iloc[k_chart] == shift["shift_order"]
    assert step_chart == pytest.approx(shift["step_mm"])


def test_change_point_intervals_are_seeded_and_hold_the_planted_change() -> None:
    d = _step_producer()
    groups = stats.prepare(d)
    chart = drift.control_chart(d, groups=groups)
    p = stats.periods(groups, chart, min_n=8)
    a = stats.change_point_intervals(p, chart, replicates=199)
    b = stats.change_point_intervals(p, chart, replicates=199)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])  # same seed, same intervals
    other = stats.change_point_intervals(p, chart, replicates=199, seed=1)
    assert other["step_ci_low_mm"][0] != a["step_ci_low_mm"][0]
    assert a["step_ci_low_mm"][0] < p.step[0] < a["step_ci_high_mm"][0]
    assert a["step_ci_high_mm"][0] > 3.0 and a["step_ci_low_mm"][0] < 5.0  # planted +4 mm
    assert a["since_ci_low"][0] <= p.since[0] <= a["since_ci_high"][0]
    s = stats.producer_summary(d, base_size=41).iloc[0]
    assert s["step_ci_low_mm"] == pytest.approx(
        stats.change_point_intervals(p, chart)["step_ci_low_mm"][0]
    )


def test_change_point_step_interval_covers_the_planted_step() -> None:
    # 1000 series of 24 chart points, +2 SD step after point 14 (noise SD 1); 999
    # bootstrap replicates each. Binomial SE at 0.95 is 0.007; this seed covers 0.937
    # (percentile intervals run a little short with 24 points), bound 0.92.
    rng = np.random.default_rng(51)
    hits = 0
    for _ in range(1000):
        x = np.r_[np.zeros(14), np.full(10, 2.0)] + rng.normal(0, 1, 24)
        _, steps = ref.change_point_bootstrap(x, rng, 999)
        low, high = np.quantile(steps, [0.025, 0.975])
        hits += int(low <= 2.0 <= high)
    assert 0.92 <= hits / 1000 <= 0.98
