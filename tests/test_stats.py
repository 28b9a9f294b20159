"""Tests of sizecheck.stats. Every expected number names its independent source."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy
from _stats_factory import STEP, deviations_from, synthetic_producer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from sizecheck import stats
from sizecheck.errors import MissingColumnsError, UsageError

SCIPY_DATA = Path(scipy.__file__).parent / "stats" / "tests" / "data"


def _nist_anova(name: str) -> pd.DataFrame:
    lines = (SCIPY_DATA / "nist_anova" / name).read_text().splitlines()
    start = max(i for i, line in enumerate(lines) if line.strip().startswith("Data:")) + 1
    rows = [line.split() for line in lines[start:] if line.strip()]
    # keep the response as text -> float (exactly as printed)
    return pd.DataFrame({"group": [int(r[0]) for r in rows], "y": [float(r[1]) for r in rows]})


def _norris() -> pd.DataFrame:
    lines = (SCIPY_DATA / "nist_linregress" / "Norris.dat").read_text().splitlines()
    start = max(i for i, line in enumerate(lines) if line.strip().startswith("Data:")) + 1
    rows = [line.split() for line in lines[start:] if line.strip()]
    return pd.DataFrame({"y": [float(r[0]) for r in rows], "x": [float(r[1]) for r in rows]})


def _raw(producer: str, size: np.ndarray, dev: np.ndarray) -> pd.DataFrame:
    """A deviations frame whose deviation_mm is exactly ``dev`` (nominal 0)."""
    d = deviations_from(producer=producer, size=size, value_mm=np.asarray(dev, dtype=float))
    d["nominal_mm"] = 0.0
    d["deviation_mm"] = np.asarray(dev, dtype=float)
    d["value_mm"] = np.asarray(dev, dtype=float)
    d["lower_mm"] = -1.5
    d["upper_mm"] = 1.5
    return d


def _mixed(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    kinds = ["conforming", "offset", "grading", "scatter", "drift"]
    return pd.concat([synthetic_producer(rng, k, kind=k) for k in kinds], ignore_index=True)


# -- bias and slope against scipy computed another way ----------------------------------


def test_bias_interval_matches_scipy_ttest_1samp():
    rng = np.random.default_rng(3)
    dev = rng.normal(0.7, 0.9, 40)
    size = rng.integers(38, 44, 40).astype(float)
    out = stats.producer_summary(_raw("A", size, dev), base_size=41).iloc[0]
    # independent: scipy.stats.ttest_1samp(...).confidence_interval()
    ci = sps.ttest_1samp(dev, 0.0).confidence_interval(0.95)
    assert out["bias_mm"] == pytest.approx(dev.mean(), rel=1e-12)
    assert out["bias_ci_low_mm"] == pytest.approx(ci.low, rel=1e-10)
    assert out["bias_ci_high_mm"] == pytest.approx(ci.high, rel=1e-10)
    assert out["sd_overall_mm"] == pytest.approx(np.std(dev, ddof=1), rel=1e-12)


def test_slope_interval_and_offset_match_scipy_linregress():
    rng = np.random.default_rng(4)
    size = rng.integers(36, 47, 60).astype(float)
    dev = 0.3 - 0.2 * (size - 41) + rng.normal(0, 0.5, 60)
    out = stats.producer_summary(_raw("A", size, dev), base_size=41).iloc[0]
    # independent: scipy.stats.linregress with stderr and a t quantile (n - 2 df)
    lr = sps.linregress(size, dev)
    t = sps.t.ppf(0.975, len(size) - 2)
    assert out["grade_error_mm_per_size"] == pytest.approx(lr.slope, rel=1e-10)
    assert out["grade_error_ci_low"] == pytest.approx(lr.slope - t * lr.stderr, rel=1e-10)
    assert out["grade_error_ci_high"] == pytest.approx(lr.slope + t * lr.stderr, rel=1e-10)
    assert out["offset_mm"] == pytest.approx(lr.intercept + lr.slope * 41, rel=1e-10)
    # undated: sd_within is the residual SD sqrt(SSR / (n - 2)) of the same fit
    resid = dev - (lr.intercept + lr.slope * size)
    assert out["sd_within_mm"] == pytest.approx(np.sqrt(resid @ resid / 58), rel=1e-10)
    assert out["bias_sizes"] == pytest.approx(dev.mean() / STEP, rel=1e-10)


def test_sd_within_uses_moving_ranges_in_date_order():
    rng = np.random.default_rng(5)
    n = 30
    size = rng.integers(38, 44, n).astype(float)
    dev = rng.normal(0, 0.5, n)
    days = pd.date_range("2025-03-01", periods=n)
    d = _raw("A", size, dev)
    d["date"] = days
    shuffled = d.sample(frac=1.0, random_state=1)  # time order must come from the dates
    out = stats.producer_summary(shuffled, base_size=41).iloc[0]
    # independent: residuals from scipy.stats.linregress, moving ranges with numpy, d2 =
    # 1.128 for n = 2 (Montgomery, Introduction to Statistical Quality Control, table VI)
    lr = sps.linregress(size, dev)
    resid = dev - (lr.intercept + lr.slope * size)
    assert out["sd_within_mm"] == pytest.approx(np.mean(np.abs(np.diff(resid))) / 1.128)


# -- pairs: the left and right shoe are one independent unit -----------------------------


def _paired(
    rng: np.random.Generator,
    producer: str,
    *,
    pairs: int,
    rho: float,
    mu: float = 0.4,
    beta: float = -0.2,
    drop_right: float = 0.0,
    producers: int = 1,
) -> pd.DataFrame:
    """Left/right pairs (one size each) with within-pair correlation ``rho``, sigma 1.

    With ``producers`` > 1, that many producers named ``producer`` + number, each with
    ``pairs`` pairs (ids P000, P001, … at every producer).
    """
    total = pairs * producers
    size = rng.integers(37, 46, total).astype(float)
    effect = rng.normal(0.0, np.sqrt(rho), total)
    p = np.repeat(np.arange(total), 2)
    foot = np.tile(["L", "R"], total)
    keep = ~((foot == "R") & (rng.random(2 * total) < drop_right))
    p, foot = p[keep], foot[keep]
    dev = mu + beta * (size[p] - 41) + effect[p] + rng.normal(0, np.sqrt(1 - rho), len(p))
    names = np.array(
        [f"{producer}{i:05d}" for i in range(producers)] if producers > 1 else [producer]
    )
    return deviations_from(
        producer=names[p // pairs],
        size=size[p],
        value_mm=size[p] * STEP + dev,
        foot=list(foot),
        pair=[f"P{i % pairs:03d}" for i in p],
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sd_within_with_dated_left_right_pairs_is_the_per_shoe_sigma(seed):
    # Stable process, sigma 1.0 per shoe, left/right correlation 0.8; both shoes of a
    # pair share a date, so consecutive rows in time order are the two (correlated) feet.
    # Independent checks: the simulation's true sigma (1.0), and the undated residual SD
    # sqrt(SSR / (n - 2)) of scipy.stats.linregress on the same shoes.
    rng = np.random.default_rng(seed)
    d = _paired(rng, "A", pairs=400, rho=0.8)
    pair_no = d["pair"].str[1:].astype(int).to_numpy()
    d["date"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(pair_no, unit="D")
    dated = stats.producer_summary(d, base_size=41).iloc[0]
    assert dated["sd_within_mm"] == pytest.approx(1.0, rel=0.10)
    lr = sps.linregress(d["size"], d["deviation_mm"])
    resid = d["deviation_mm"] - (lr.intercept + lr.slope * d["size"])
    undated_sd = np.sqrt((resid**2).sum() / (len(d) - 2))
    undated = stats.producer_summary(d.assign(date=pd.NaT), base_size=41).iloc[0]
    assert undated["sd_within_mm"] == pytest.approx(undated_sd, rel=1e-10)
    assert dated["sd_within_mm"] == pytest.approx(undated_sd, rel=0.15)
    # the old shoe-to-shoe moving range (numpy, d2 = 1.128) is what underestimated it
    shoe_mr = np.mean(np.abs(np.diff(resid.to_numpy()))) / 1.128
    assert shoe_mr < 0.85


def test_sd_within_pairs_formula_by_hand():
    # Three dated pairs (one a single shoe), one size: residuals are deviations from the
    # mean. Hand computation: pair means m_c, sigma_m = mean |diff(m_c)| / 1.128, pooled
    # within-pair variance from the two complete pairs (1 df each), 1/m-bar = (1/2 + 1/2
    # + 1) / 3.
    dev = np.array([0.2, 0.6, -0.4, 0.0, 1.0])
    d = _raw("A", np.full(5, 41.0), dev)
    d["pair"] = ["p1", "p1", "p2", "p2", "p3"]
    d["date"] = pd.to_datetime(["2025-01-01"] * 2 + ["2025-01-02"] * 2 + ["2025-01-03"])
    e = dev - dev.mean()
    m = np.array([e[:2].mean(), e[2:4].mean(), e[4]])
    sigma_m = np.mean(np.abs(np.diff(m))) / 1.128
    var_e = (np.sum((e[:2] - m[0]) ** 2) + np.sum((e[2:4] - m[1]) ** 2)) / 2
    expected = np.sqrt(sigma_m**2 + var_e * (1 - (0.5 + 0.5 + 1) / 3))
    out = stats.producer_summary(d, base_size=41).iloc[0]
    assert out["sd_within_mm"] == pytest.approx(expected, rel=1e-12)


def test_balanced_pairs_give_the_pair_mean_intervals():
    rng = np.random.default_rng(31)
    d = _paired(rng, "A", pairs=25, rho=0.5)
    out = stats.producer_summary(d, base_size=41).iloc[0]
    pm = d.groupby("pair").agg(size=("size", "first"), dev=("deviation_mm", "mean"))
    # independent: scipy's one-sample t-interval and linregress on the 25 pair means
    ci = sps.ttest_1samp(pm["dev"], 0.0).confidence_interval(0.95)
    assert out["n"] == 50  # n stays the number of shoes (contract)
    assert out["bias_mm"] == pytest.approx(d["deviation_mm"].mean(), rel=1e-12)
    assert out["bias_ci_low_mm"] == pytest.approx(ci.low, rel=1e-10)
    assert out["bias_ci_high_mm"] == pytest.approx(ci.high, rel=1e-10)
    lr = sps.linregress(pm["size"], pm["dev"])
    t = sps.t.ppf(0.975, 25 - 2)
    assert out["grade_error_mm_per_size"] == pytest.approx(lr.slope, rel=1e-10)
    assert out["grade_error_ci_low"] == pytest.approx(lr.slope - t * lr.stderr, rel=1e-10)
    assert out["grade_error_ci_high"] == pytest.approx(lr.slope + t * lr.stderr, rel=1e-10)
    # size_summary's bias interval is taken over pairs too
    s = stats.size_summary(d)
    row = s.loc[s["size"] == s["size"].iloc[0]].iloc[0]
    at = pm.loc[pm["size"] == row["size"], "dev"]
    if len(at) >= 2:
        ci = sps.ttest_1samp(at, 0.0).confidence_interval(0.95)
        assert row["bias_ci_low_mm"] == pytest.approx(ci.low, rel=1e-9)


def test_unbalanced_pairs_interval_by_hand():
    # one size, so no grading line. Shoes: p1 = 1, 2; p2 = 0 (one foot); p3 = 3, 4; and a
    # shoe without a pair id = 2. Hand computation: mean over shoes 12 / 6 = 2; cluster
    # means 1.5, 0, 3.5, 2 with 2, 1, 2, 1 shoes; between-cluster SS
    # 2(0.5²) + 1(2²) + 2(1.5²) + 1(0²) = 9; s² = 9 / (G − 1) = 3; SE = √(3 / 6);
    # t(0.975, 3) = 3.182446305 (t table), half-width 2.250329
    d = deviations_from(
        producer="A",
        size=np.full(6, 41.0),
        value_mm=41 * STEP + np.array([1.0, 2.0, 0.0, 3.0, 4.0, 2.0]),
        foot=["L", "R", "L", "L", "R", "L"],
        pair=["p1", "p1", "p2", "p3", "p3", pd.NA],
    )
    out = stats.producer_summary(d, base_size=41).iloc[0]
    assert out["n"] == 6
    assert out["bias_mm"] == pytest.approx(2.0)
    assert out["bias_ci_low_mm"] == pytest.approx(2.0 - 3.182446305 * np.sqrt(0.5), rel=1e-9)
    assert out["bias_ci_high_mm"] == pytest.approx(2.0 + 2.250329, rel=1e-6)


def test_a_pair_id_is_one_unit_only_within_producer_and_size():
    rng = np.random.default_rng(32)
    a = _paired(rng, "A", pairs=12, rho=0.5)
    b = _paired(rng, "B", pairs=12, rho=0.5)  # reuses A's pair ids P000-P011
    # each producer tested on its own (a family of one: no multiplicity adjustment)
    each = stats.Thresholds(multiple_testing="none")
    both = stats.producer_summary(
        pd.concat([a, b], ignore_index=True), base_size=41, thresholds=each
    )
    alone = pd.concat([stats.producer_summary(x, base_size=41, thresholds=each) for x in (a, b)])
    pd.testing.assert_frame_equal(both, alone.reset_index(drop=True), rtol=1e-12)
    # a pair id whose two shoes carry different sizes is two units: same as no pair ids
    size = np.repeat(np.arange(38.0, 44.0), 2)
    dev = rng.normal(0, 0.5, size.size)
    mixed = deviations_from(
        producer="C",
        size=size,
        value_mm=size * STEP + dev,
        pair=[f"q{k % 6}" for k in range(12)],  # q0 = sizes 38 and 41, and so on
    )
    nopair = mixed.assign(pair=pd.Series([pd.NA] * 12, dtype="str"))
    pd.testing.assert_frame_equal(
        stats.producer_summary(mixed, base_size=41),
        stats.producer_summary(nopair, base_size=41),
        rtol=1e-12,
    )


def test_pair_intervals_cover_95_percent_with_correlation_one_half():
    # Monte Carlo, fixed seed: 3000 producers of 30 pairs, within-pair correlation 0.5,
    # one right shoe in ten missing. True bias 0.4 mm, true grade error -0.2 mm/size.
    # Treating shoes as independent gives 0.874 and 0.886 here (intervals √1.5 too narrow).
    rng = np.random.default_rng(20250501)
    d = _paired(rng, "P", pairs=30, rho=0.5, drop_right=0.1, producers=3000)

    def coverage(frame: pd.DataFrame) -> tuple[float, float]:
        out = stats.producer_summary(frame, base_size=41)
        bias = ((out["bias_ci_low_mm"] <= 0.4) & (out["bias_ci_high_mm"] >= 0.4)).mean()
        grade = ((out["grade_error_ci_low"] <= -0.2) & (out["grade_error_ci_high"] >= -0.2)).mean()
        return float(bias), float(grade)

    bias, grade = coverage(d)
    # 3000 replicates: binomial SE 0.004; this seed gives 0.948 and 0.940 (10 000
    # producers with other seeds: 0.946-0.950 and 0.949-0.952), bounds are ±3.75 SE
    assert 0.935 <= bias <= 0.965
    assert 0.935 <= grade <= 0.965
    naive_bias, naive_grade = coverage(d.assign(pair=pd.Series([pd.NA] * len(d), dtype="str")))
    assert naive_bias < 0.92 and naive_grade < 0.92


def test_welch_between_producers_is_on_pair_means():
    rng = np.random.default_rng(33)
    a = _paired(rng, "A", pairs=40, rho=0.6, mu=0.0)
    b = _paired(rng, "B", pairs=40, rho=0.6, mu=0.5)
    d = pd.concat([a, b], ignore_index=True)
    c = stats.compare_producers(d)
    pm = d.groupby(["producer", "size", "pair"], as_index=False)["value_mm"].mean()
    for _, row in c.iterrows():
        at = pm[pm["size"] == row["size"]]
        xa = at.loc[at["producer"] == "A", "value_mm"]
        xb = at.loc[at["producer"] == "B", "value_mm"]
        if len(xa) < 2 or len(xb) < 2:
            continue
        # independent: scipy's Welch t-test on the pair means (F = t² for two groups)
        t = sps.ttest_ind(xa, xb, equal_var=False)
        assert row["welch_p"] == pytest.approx(t.pvalue, rel=1e-8)
        assert row["welch_df2"] == pytest.approx(t.df, rel=1e-8)
        assert row["n"] == 2 * (len(xa) + len(xb))  # n stays the number of shoes


# -- NIST StRD data shipped with scipy ---------------------------------------------------


def _exact_anova_ss(data: pd.DataFrame) -> tuple[float, float]:
    """Within and between sums of squares of the parsed doubles, in exact rationals."""
    within = Fraction(0)
    means, counts = [], []
    for _, grp in data.groupby("group"):
        xs = [Fraction(v) for v in grp["y"]]
        m = sum(xs) / len(xs)
        within += sum((x - m) ** 2 for x in xs)
        means.append(m)
        counts.append(len(xs))
    grand = sum(m * c for m, c in zip(means, counts, strict=True)) / sum(counts)
    between = sum(c * (m - grand) ** 2 for m, c in zip(means, counts, strict=True))
    return float(within), float(between)


def test_smls09_group_means_and_sds_with_1e12_offset():
    data = _nist_anova("SmLs09.dat")
    d = _raw("x", np.full(len(data), 41.0), data["y"].to_numpy())
    d["producer"] = "P" + data["group"].astype(str)
    out = stats.producer_summary(d, base_size=41)
    n = out["n"].to_numpy()
    means = out["bias_mm"].to_numpy()
    sds = out["sd_overall_mm"].to_numpy()
    within = np.sum((n - 1) * sds**2)
    grand = np.sum(n * (means - 1e12)) / n.sum() + 1e12
    between = np.sum(n * (means - grand) ** 2)
    # 1) exact rational arithmetic on the same doubles (Python fractions): the centred
    #    two-pass formulas lose nothing. A one-pass sum(x²) - n·mean² gives ~1.1e12 here.
    exact_within, _ = _exact_anova_ss(data)
    assert within == pytest.approx(exact_within, rel=1e-9)
    # 2) certified values, NIST StRD SmLs09 header: within SS 1.8e2 (df 18000), between
    #    SS 1.6008e2 (df 8), residual SD 0.1. Doubles cannot hold 1000000000000.4 exactly
    #    (spacing 1.2e-4 near 1e12), so 5 significant digits is the attainable agreement.
    assert within == pytest.approx(180.0, rel=1e-4)
    # the between SS is rebuilt here from output means that are doubles near 1e12 (each
    # within ±6e-5), hence the looser tolerance
    assert between == pytest.approx(160.08, rel=1e-3)
    assert np.sqrt(within / 18000) == pytest.approx(0.1, rel=1e-4)
    # single size: no grading line, sd_within = sd around the mean
    assert np.allclose(out["sd_within_mm"], sds, rtol=1e-12)


def test_smls09_size_summary_and_welch_between_producers():
    data = _nist_anova("SmLs09.dat")
    d = _raw("x", np.full(len(data), 41.0), data["y"].to_numpy())
    d["producer"] = "P" + data["group"].astype(str)
    s = stats.size_summary(d)
    exact_within, _ = _exact_anova_ss(data)  # exact rationals, as above
    assert np.sum((s["n"] - 1) * s["sd_mm"] ** 2) == pytest.approx(exact_within, rel=1e-9)
    c = stats.compare_producers(d)
    assert c.loc[0, "welch_k"] == 9 and np.isfinite(c.loc[0, "welch_f"])


def test_norris_slope_se_and_residual_sd():
    data = _norris()
    d = _raw("N", data["x"].to_numpy(), data["y"].to_numpy())
    out = stats.producer_summary(d, base_size=0.0).iloc[0]
    # certified values, NIST StRD Norris.dat header
    b1, se_b1, b0, rsd = (
        1.00211681802045,
        0.429796848199937e-03,
        -0.262323073774029,
        (0.884796396144373),
    )
    t = sps.t.ppf(0.975, 34)
    assert out["grade_error_mm_per_size"] == pytest.approx(b1, rel=1e-12)
    half = (out["grade_error_ci_high"] - out["grade_error_ci_low"]) / 2
    assert half == pytest.approx(t * se_b1, rel=1e-10)
    assert out["offset_mm"] == pytest.approx(b0, rel=1e-10)
    assert out["sd_within_mm"] == pytest.approx(rsd, rel=1e-10)


# -- capability ------------------------------------------------------------------------


def test_capability_nist_handbook_6_1_6():
    # NIST/SEMATECH e-Handbook 6.1.6: USL 20, LSL 8, mean 16, sigma 2 -> Cp 1.0, Cpk 0.667
    cp, cpk = stats.capability_indices(mean=16.0, sigma=2.0, lsl=8.0, usl=20.0)
    assert float(cp) == pytest.approx(1.0)
    assert float(cpk) == pytest.approx(0.667, abs=5e-4)


def test_capability_qcc_pistonrings():
    # qcc vignette, pistonrings (first 25 samples): centre 74.00118, StdDev 0.009785039,
    # spec 73.95-74.05 -> Cp 1.70, Cp_l 1.74, Cp_u 1.66, Cp_k 1.66
    cp, cpk = stats.capability_indices(mean=74.00118, sigma=0.009785039, lsl=73.95, usl=74.05)
    assert round(float(cp), 2) == 1.70
    assert round(float(cpk), 2) == 1.66
    _, cpl = stats.capability_indices(mean=74.00118, sigma=0.009785039, lsl=73.95, usl=np.inf)
    _, cpu = stats.capability_indices(mean=74.00118, sigma=0.009785039, lsl=-np.inf, usl=74.05)
    assert round(float(cpl), 2) == 1.74 and round(float(cpu), 2) == 1.66


def test_capability_one_sample_interval_is_bissell_and_covers_about_95_percent():
    # with the sample SD (sigma="residual": n - 1 df) and no sizes the interval is Bissell
    # (1990), checked by formula; and its coverage by simulation (true Cpk known)
    rng = np.random.default_rng(8)
    n, reps, mu, sigma, lsl, usl = 100, 1500, 0.3, 0.5, -1.5, 1.5
    true_cpk = min(usl - mu, mu - lsl) / (3 * sigma)
    hits = 0
    for i in range(reps):
        x = rng.normal(mu, sigma, n)
        c = stats.capability(x, lsl=lsl, usl=usl, sigma="residual")
        if i == 0:
            se = np.sqrt(1 / (9 * n) + c.cpk**2 / (2 * (n - 1)))
            assert c.cpk_ci_low == pytest.approx(c.cpk - sps.norm.ppf(0.975) * se, rel=1e-9)
        hits += c.cpk_ci_low <= true_cpk <= c.cpk_ci_high
    assert 0.93 <= hits / reps <= 0.97


def test_capability_defaults_and_one_sided():
    x = np.array([1.0, 2.0, 4.0, 3.0])
    c = stats.capability(x, lsl=0.0, usl=np.inf)
    # moving ranges 1, 2, 1 -> mean 4/3, / d2 1.128 (Montgomery table VI)
    assert c.sigma_within == pytest.approx((4 / 3) / 1.128)
    assert np.isnan(c.cp)
    assert c.cpk == pytest.approx(2.5 / (3 * c.sigma_within))
    assert c.ppk == pytest.approx(2.5 / (3 * np.std(x, ddof=1)))
    with pytest.raises(UsageError):
        stats.capability([1.0], lsl=0, usl=1)
    with pytest.raises(UsageError, match="finite"):
        stats.capability([1.0, np.inf, 2.0], lsl=0, usl=3)


# -- Welch ANOVA -----------------------------------------------------------------------

INSECT_SPRAYS = {  # R datasets::InsectSprays (Beall 1942)
    "A": [10, 7, 20, 14, 14, 12, 10, 23, 17, 20, 14, 13],
    "B": [11, 17, 21, 11, 16, 14, 17, 17, 19, 21, 7, 13],
    "C": [0, 1, 7, 2, 3, 1, 2, 1, 3, 0, 1, 4],
    "D": [3, 5, 12, 6, 4, 3, 5, 5, 5, 5, 2, 4],
    "E": [3, 5, 3, 5, 3, 6, 1, 1, 3, 2, 6, 4],
    "F": [11, 9, 15, 22, 15, 16, 13, 10, 26, 26, 24, 13],
}


def test_welch_anova_insect_sprays_r_oneway_test():
    d = pd.DataFrame(
        [(k, v) for k, vs in INSECT_SPRAYS.items() for v in vs], columns=["spray", "count"]
    )
    out = stats.welch_anova(d, dv="count", between="spray").iloc[0]
    # R: oneway.test(count ~ spray, InsectSprays) ->
    #   F = 36.065, num df = 5.000, denom df = 30.043, p-value = 7.999e-12
    assert out["f"] == pytest.approx(36.065, abs=5e-4)
    assert out["df1"] == 5
    assert out["df2"] == pytest.approx(30.043, abs=5e-4)
    assert out["p"] == pytest.approx(7.999e-12, rel=1e-3)


def test_welch_anova_two_groups_equals_welch_t_squared():
    rng = np.random.default_rng(9)
    a, b = rng.normal(0, 1, 12), rng.normal(0.8, 2.5, 20)
    d = pd.DataFrame({"g": ["a"] * 12 + ["b"] * 20, "y": np.r_[a, b]})
    out = stats.welch_anova(d, dv="y", between="g").iloc[0]
    # independent: scipy.stats.ttest_ind(equal_var=False); Welch F = t^2 for two groups
    t = sps.ttest_ind(a, b, equal_var=False)
    assert out["f"] == pytest.approx(t.statistic**2, rel=1e-10)
    assert out["df2"] == pytest.approx(t.df, rel=1e-10)
    assert out["p"] == pytest.approx(t.pvalue, rel=1e-8)


def test_welch_anova_against_statsmodels_if_available():
    oneway = pytest.importorskip("statsmodels.stats.oneway")
    rng = np.random.default_rng(10)
    groups = [rng.normal(m, s, n) for m, s, n in [(0, 1, 8), (0.5, 2, 15), (1, 0.5, 11)]]
    d = pd.DataFrame({"g": np.repeat([0, 1, 2], [8, 15, 11]), "y": np.concatenate(groups)})
    out = stats.welch_anova(d, dv="y", between="g").iloc[0]
    ref = oneway.anova_oneway(groups, use_var="unequal")
    assert out["f"] == pytest.approx(ref.statistic, rel=1e-10)
    assert out["df2"] == pytest.approx(ref.df[1], rel=1e-10)


def test_compare_producers_spread_and_equivalents():
    rng = np.random.default_rng(12)
    sizes = np.repeat(np.arange(39.0, 44.0), 10)
    a = deviations_from(producer="A", size=sizes, value_mm=sizes * STEP + rng.normal(0, 0.3, 50))
    # B's sizes run one size large: B's 41 is A's 42
    b = deviations_from(
        producer="B", size=sizes, value_mm=(sizes + 1) * STEP + rng.normal(0, 0.3, 50)
    )
    d = pd.concat([a, b], ignore_index=True)
    c = stats.compare_producers(d)
    assert list(c.columns) == list(stats.COMPARISON_COLUMNS)
    assert (c["n_producers"] == 2).all() and (c["highest_producer"] == "B").all()
    assert np.allclose(c["spread_sizes"], 1.0, atol=0.1)
    assert (c["welch_p"] < 1e-6).all()
    s = stats.size_summary(d)
    eq = stats.size_equivalents(s)
    # every B size matches A's next size, e.g. B 41 ~ A 42 (and no same-label pairs)
    pairs = set(zip(eq["producer_a"], eq["size_a"], eq["producer_b"], eq["size_b"], strict=True))
    assert ("A", 42.0, "B", 41.0) in pairs
    assert len(eq) == 4 and (eq["size_a"] == eq["size_b"] + 1).all()
    assert (eq["gap_sizes"].abs() <= 0.25).all()
    assert ((eq["gap_ci_low"] > -0.5) & (eq["gap_ci_high"] < 0.5)).all()


def test_no_size_equivalence_is_claimed_whose_interval_spans_a_whole_size():
    # one shoe per unit at each size: the gap's interval is Welch's on the raw deviations
    # (independent: scipy.stats.ttest_ind(equal_var=False).confidence_interval), in sizes
    rng = np.random.default_rng(40)
    a = deviations_from(
        producer="A", size=np.full(4, 42.0), value_mm=42 * STEP + rng.normal(0, 3, 4)
    )
    b = deviations_from(
        producer="B", size=np.full(5, 41.0), value_mm=42 * STEP + rng.normal(0, 1, 5)
    )
    d = pd.concat([a, b], ignore_index=True)
    s = stats.size_summary(d)
    wide = stats.size_equivalents(s, max_gap_sizes=10.0)
    assert wide.empty  # 4 and 5 shoes, SD 3 and 1 mm: the gap could be a whole size
    sps = pytest.importorskip("scipy.stats")
    ea, eb = a["deviation_mm"] / STEP + 42, b["deviation_mm"] / STEP + 41
    ci = sps.ttest_ind(ea, eb, equal_var=False).confidence_interval(0.95)
    at = s.set_index("producer")
    _gap, low, high = stats.reference.gap_interval(
        at.loc["A", "effective_size"], at.loc["A", "effective_size_se"], at.loc["A", "n_units"] - 1,
        at.loc["B", "effective_size"], at.loc["B", "effective_size_se"], at.loc["B", "n_units"] - 1,
    )  # fmt: skip
    assert (float(low), float(high)) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert high - low > 1.0
    # the effective size's own interval is the bias interval in label units
    assert at.loc["A", "effective_size_ci_low"] == pytest.approx(
        42 + at.loc["A", "bias_ci_low_mm"] / STEP
    )


# -- size summary ----------------------------------------------------------------------


def test_size_summary_columns_and_effective_size():
    d = deviations_from(
        producer="A", size=[41.0, 41.0, 42.0], value_mm=[277.0, 277.4, 42 * STEP - 1.0]
    )
    d.loc[2, "size_label"] = "EU 42"
    s = stats.size_summary(d)
    assert list(s.columns[:9]) == [
        "producer", "dimension", "size", "n", "mean_mm", "nominal_mm", "bias_mm", "sd_mm",
        "effective_size",
    ]  # fmt: skip
    # hand computation: mean 277.2, nominal 41 * 20/3 = 273.333.., bias 3.8667,
    # effective size 41 + 3.8667 / 6.6667 = 41.58
    assert s.loc[0, "bias_mm"] == pytest.approx(277.2 - 41 * 20 / 3)
    assert s.loc[0, "effective_size"] == pytest.approx(41 + (277.2 - 41 * 20 / 3) / (20 / 3))
    assert s.loc[0, "sd_mm"] == pytest.approx(np.std([277.0, 277.4], ddof=1))
    assert np.isnan(s.loc[1, "sd_mm"])
    assert s.loc[1, "effective_size"] == pytest.approx(42 - 1.0 / STEP)
    assert s["size_label"].tolist() == ["41", "EU 42"]


# -- conventions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("convention", "model"),
    [
        ("paris_last", lambda s: s * 20 / 3),
        ("paris_foot+13.3", lambda s: s * 20 / 3 + 13.3),
        ("paris_foot+15", lambda s: s * 20 / 3 + 15),
        ("paris_foot+16.9", lambda s: s * 20 / 3 + 16.9),
        ("paris_foot+20", lambda s: s * 20 / 3 + 20),
        ("grading_5mm", lambda s: 273.3 + 5 * (s - 41)),
    ],
)
def test_find_conventions_recovers_the_generating_convention(convention, model):
    rng = np.random.default_rng(13)
    size = np.repeat(np.arange(36.0, 47.0), 4)
    value = model(size) + rng.normal(0, 0.4, size.size)
    d = deviations_from(producer="A", size=size, value_mm=value, dimension="last_length")
    conv = stats.find_conventions(d)
    assert len(conv) == len(stats.CONVENTIONS)
    best = stats.best_conventions(conv)
    assert best["convention"].tolist() == [convention]
    # the model-based choice agrees (44 shoes, SD 0.4: every other candidate far behind)
    assert conv.loc[conv["choice"] != "", "convention"].tolist() == [convention]
    assert (conv.loc[conv["choice"] != "", "choice"] == "chosen").all()
    # the RMS of the right model is the noise SD (0.4), by construction
    assert best["rms_residual_mm"].iloc[0] == pytest.approx(0.4, abs=0.1)


@pytest.mark.parametrize(
    ("kind", "model", "convention", "shift"),
    [
        # domain.md, "The definitional spread": Paris point = 20/3 mm per size
        ("one size small", lambda s: (s - 1) * 20 / 3, "paris_shifted", -20 / 3),
        ("5 mm grading, right at 41", lambda s: 41 * 20 / 3 + 5 * (s - 41), "grading_5mm", 0.0),
        ("+15 mm lasts", lambda s: s * 20 / 3 + 15, "paris_foot+15", np.nan),
        ("conforming", lambda s: s * 20 / 3, "paris_last", np.nan),
    ],
)
def test_find_conventions_on_synthetic_producers(kind, model, convention, shift):
    rng = np.random.default_rng(14)
    size = np.repeat(np.arange(36.0, 47.0), 6)
    value = model(size) + rng.normal(0, 0.5, size.size)
    d = deviations_from(producer="A", size=size, value_mm=value, dimension="last_length")
    conv = stats.find_conventions(d)
    assert list(conv.columns[8:11]) == ["fitted_shift_mm", "fits", "best"]
    best = stats.best_conventions(conv).iloc[0]
    assert best["convention"] == convention, kind
    if np.isnan(shift):
        assert np.isnan(best["fitted_shift_mm"])
    else:
        # the fitted shift is the mean residual from the fixed line: noise SE 0.5/√66
        assert best["fitted_shift_mm"] == pytest.approx(shift, abs=0.2)
    # fits: RMS (≈ noise SD 0.5) within the in-spec half-width of ±1.5 mm; the wrong
    # conventions are off by at least 1.67 mm per size somewhere, or by a constant ≥ 1.7
    assert best["fits"]
    by_name = conv.set_index("convention")
    fixed = [c.name for c in stats.CONVENTIONS if not c.fit_intercept]
    assert by_name["fitted_shift_mm"][fixed].isna().all()
    assert by_name["fits"].sum() <= 2  # the winner, and its fitted twin when it has one


def test_fixed_convention_wins_a_near_tie_and_descriptions_say_fitted():
    size = np.repeat(np.arange(38.0, 45.0), 2)
    # on Paris plus 0.1 mm, ±0.5 alternating. By hand: paris_last RMS √(0.5² + 0.1²) =
    # 0.5099, paris_shifted (fits the 0.1 mm) 0.5; 0.0099 < 0.05 so paris_last is best
    dev = 0.1 + np.tile([0.5, -0.5], 7)
    d = deviations_from(producer="A", size=size, value_mm=size * STEP + dev)
    conv = stats.find_conventions(d).set_index("convention")
    assert conv.loc["paris_last", "rms_residual_mm"] == pytest.approx(np.sqrt(0.26))
    assert conv.loc["paris_shifted", "rms_residual_mm"] == pytest.approx(0.5)
    assert conv.loc["paris_shifted", "fitted_shift_mm"] == pytest.approx(0.1)
    assert conv["best"].sum() == 1 and conv.loc["paris_last", "best"]
    # 0.6 mm off: paris_last RMS √(0.25 + 0.36) = 0.781 vs 0.5, shifted wins
    d2 = deviations_from(producer="A", size=size, value_mm=size * STEP + dev + 0.5)
    assert stats.best_conventions(stats.find_conventions(d2))["convention"].tolist() == [
        "paris_shifted"
    ]
    for c in stats.CONVENTIONS:
        assert ("fitted" in c.description) == c.fit_intercept


# -- verdicts on synthetic producers ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "verdict"),
    [
        ("conforming", "conforming"),
        ("offset", "offset"),
        ("grading", "grading"),
        # this seed's scatter producer (sigma 4 mm, 1-11 shoes a visit) draws its last
        # three visits 5.9 mm below the rest (t = -5.1, Bonferroni p = 0.0006): the
        # change test calls that a change, as it does for about alpha = 5 % of such
        # producers (4.75 % of 400 measured; tests/test_drift.py bounds the rate)
        ("scatter", "scatter+drift"),
        # the size as it is now is judged: -2 then +2 mm, and 0 then +4 mm, are both
        # too long since the change
        ("drift", "offset+drift"),
        ("step", "offset+drift"),
    ],
)
def test_verdicts_of_synthetic_producers(kind, verdict):
    rng = np.random.default_rng(2024)
    d = synthetic_producer(rng, "P", kind=kind)
    out = stats.producer_summary(d, base_size=41).iloc[0]
    assert out["verdict"] == verdict


def test_grading_producer_is_not_read_as_scatter():
    rng = np.random.default_rng(1)
    out = stats.producer_summary(synthetic_producer(rng, "G", kind="grading"), base_size=41)
    row = out.iloc[0]
    # 5 mm per size on a 20/3 mm table: slope 5 - 20/3 = -1.667 mm per size (domain.md)
    assert row["grade_error_mm_per_size"] == pytest.approx(5 - 20 / 3, abs=0.05)
    assert row["sd_within_mm"] == pytest.approx(0.5, abs=0.1)
    assert row["sd_overall_mm"] > 3
    assert row["offset_mm"] == pytest.approx(0, abs=0.3)


def test_three_shoe_producer_is_insufficient_data():
    d = deviations_from(producer="tiny", size=[40.0, 41.0, 42.0], value_mm=[300.0, 301, 302])
    out = stats.producer_summary(d, base_size=41)
    assert out["verdict"].tolist() == ["insufficient_data"]


def test_offset_evaluated_at_nearest_end_when_base_outside_range():
    # children's producer: sizes 30-33 only, right on nominal there; the line extrapolated
    # to base 41 is far off (slope -0.5 mm / size), but the offset flag looks at size 33.
    rng = np.random.default_rng(2)
    size = np.repeat([30.0, 31.0, 32.0, 33.0], 10)
    dev = -0.5 * (size - 33) + rng.normal(0, 0.2, size.size)
    d = deviations_from(producer="K", size=size, value_mm=size * STEP + dev)
    out = stats.producer_summary(d, base_size=41).iloc[0]
    assert out["offset_mm"] == pytest.approx(-4.0, abs=0.5)  # contract: line at base size
    assert "offset" not in out["verdict"]


def test_summary_columns_status_percentages_and_no_reference_rows():
    d = deviations_from(producer="A", size=np.repeat([40.0, 41.0], 5), value_mm=np.zeros(10))
    d["deviation_mm"] = [0, 0, 0, 2, 4, 0, 0, 0, 0, 0]
    d["status"] = ["in_spec"] * 3 + ["drifting", "missized"] + ["in_spec"] * 4 + ["below_min"]
    extra = d.iloc[[0]].assign(status="no_reference", nominal_mm=np.nan)
    out = stats.producer_summary(pd.concat([d, extra]), base_size=41)
    contract = list(stats.PRODUCER_SUMMARY_COLUMNS)
    assert list(out.columns) == contract + list(stats.SUMMARY_EXTRA_COLUMNS)
    row = out.iloc[0]
    assert row["n"] == 10
    assert row["pct_in_spec"] == pytest.approx(70.0)
    assert row["pct_missized"] == pytest.approx(20.0)  # missized + below_min


def test_pair_mismatch_mean_abs_left_minus_right():
    size = np.full(8, 41.0)
    value = np.array([273.0, 274.0, 273.5, 273.5, 272.0, 275.0, 273.0, 273.3])
    d = deviations_from(
        producer="A",
        size=size,
        value_mm=value,
        foot=["L", "R", "L", "R", "L", "R", "L", pd.NA],
        pair=["p1", "p1", "p2", "p2", "p3", "p3", "p4", "p4"],
    )
    out = stats.producer_summary(d, base_size=41).iloc[0]
    # hand computation: |273-274|, |273.5-273.5|, |272-275| -> mean 4/3; p4 lacks a foot
    assert out["pair_mismatch_mm"] == pytest.approx(4 / 3)


def test_cpk_uses_deviation_space_limits_and_sd_within():
    rng = np.random.default_rng(6)
    d = synthetic_producer(rng, "A", kind="conforming", n=80)
    out = stats.producer_summary(d, base_size=41).iloc[0]
    # NIST e-Handbook 6.1.6 formula with limits ±1.5 mm around nominal and sigma_within,
    # at the worst end of the size range of the grading line (scipy.stats.linregress)
    lr = sps.linregress(d["size"], d["deviation_mm"])
    x = np.array([d["size"].min(), d["size"].max()])
    ends = lr.intercept + lr.slope * x
    sigma = out["sd_within_mm"]
    expected = min(np.minimum(1.5 - ends, ends + 1.5)) / (3 * sigma)
    assert out["cpk"] == pytest.approx(expected)
    # its interval (stats.reference.cpk_interval), by hand: the line's SE at each end from
    # linregress (n - 2 df residual SD), 0.62 (n - 1) df for the moving-range sigma of
    # these dated shoes (one per date run), the lower bound the smallest of the one-sided
    # indices' lower bounds at z(0.975), the upper the smallest upper at z(1 - 0.05 / 4)
    resid = d["deviation_mm"] - (lr.intercept + lr.slope * d["size"])
    s = np.sqrt(resid @ resid / 78)
    se_end = s * np.sqrt(
        1 / 80 + (x - d["size"].mean()) ** 2 / ((d["size"] - d["size"].mean()) ** 2).sum()
    )
    nu = out["sd_within_df"]
    index = np.r_[(1.5 - ends) / (3 * sigma), (ends + 1.5) / (3 * sigma)]
    se = np.sqrt(np.r_[se_end, se_end] ** 2 / (9 * sigma**2) + index**2 / (2 * nu))
    assert out["cpk_ci_low"] == pytest.approx(min(index - sps.norm.ppf(0.975) * se), rel=1e-9)
    assert out["cpk_ci_high"] == pytest.approx(
        min(index + sps.norm.ppf(1 - 0.05 / 4) * se), rel=1e-9
    )


def test_cpk_of_a_grading_producer_is_taken_at_the_worst_end():
    # 5 mm per Paris size: the mean deviation is near 0 but the ends of the size range
    # are ~5 mm off. Independent check: the in-spec share at the worst-end size counted
    # from the statuses; a Cpk below 0 means the line there is outside the limits, so
    # fewer than half of those shoes can be in spec.
    rng = np.random.default_rng(1)
    d = synthetic_producer(rng, "G", kind="grading")
    out = stats.producer_summary(d, base_size=41).iloc[0]
    assert abs(out["bias_mm"]) < 1.5  # the mean alone looks fine
    assert out["cpk"] < 0
    assert out["cpk_ci_high"] < 1
    for end in (d["size"].min(), d["size"].max()):
        at_end = d[d["size"] == end]
        assert (at_end["status"] == "in_spec").mean() < 0.5


def test_cpk_without_grading_error_is_the_mean_based_cpk():
    # The same residual pattern at every size: the OLS slope is exactly 0, so Cpk at the
    # ends equals the NIST e-Handbook 6.1.6 formula min(U - mean, mean - L) / 3 sigma.
    size = np.repeat(np.arange(38.0, 44.0), 4)
    dev = 0.3 + np.tile([0.4, -0.2, 0.1, -0.3], 6)
    out = stats.producer_summary(_raw("A", size, dev), base_size=41).iloc[0]
    assert out["grade_error_mm_per_size"] == pytest.approx(0.0, abs=1e-12)
    expected = min(1.5 - dev.mean(), dev.mean() + 1.5) / (3 * out["sd_within_mm"])
    assert out["cpk"] == pytest.approx(expected, rel=1e-12)
    # one size: no line, the mean is used
    one = stats.producer_summary(_raw("B", np.full(12, 41.0), dev[:12]), base_size=41)
    row = one.iloc[0]
    assert row["cpk"] == pytest.approx(
        min(1.5 - dev[:12].mean(), dev[:12].mean() + 1.5) / (3 * row["sd_within_mm"])
    )


# -- errors ------------------------------------------------------------------------------


def test_missing_columns_and_bad_arguments_raise_sizecheck_errors():
    d = _mixed()
    with pytest.raises(MissingColumnsError, match="deviation_mm"):
        stats.producer_summary(d.drop(columns="deviation_mm"), base_size=41)
    with pytest.raises(MissingColumnsError):
        stats.size_summary(d.drop(columns="status"))
    with pytest.raises(UsageError):
        stats.Thresholds(min_n=1)
    with pytest.raises(UsageError):
        stats.producer_summary(d, base_size=float("nan"))
    with pytest.raises(UsageError, match="rule"):
        stats.producer_summary(d, base_size=41, drift_rules=["we9"])


def test_empty_input_gives_empty_frames():
    d = _mixed().iloc[:0]
    assert stats.producer_summary(d, base_size=41).empty
    assert stats.size_summary(d).empty
    assert stats.compare_producers(d).empty


# -- properties ------------------------------------------------------------------------

_BASE = _mixed(21)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
def test_summary_is_order_invariant_does_not_mutate_and_counts_add_up(seed, frac_nodate):
    rng = np.random.default_rng(seed)
    d = _BASE.copy()
    d.loc[rng.random(len(d)) < frac_nodate * 0.3, "date"] = pd.NaT
    before = d.copy()
    ref = stats.producer_summary(d, base_size=41)
    pd.testing.assert_frame_equal(d, before)  # input untouched
    shuffled = d.iloc[rng.permutation(len(d))]
    out = stats.producer_summary(shuffled, base_size=41)
    # the time order comes from date, source and row, never from the frame's order
    pd.testing.assert_frame_equal(out, ref, rtol=1e-9)
    assert out["n"].sum() == len(d)
    s = stats.size_summary(shuffled)
    pd.testing.assert_frame_equal(d, before)
    assert s["n"].sum() == len(d)
    assert (s.groupby(["producer", "dimension"])["n"].sum().to_numpy() == out["n"]).all()


def test_verdicts_are_a_function_of_the_summary_and_the_thresholds():
    rng = np.random.default_rng(77)
    kinds = ["conforming", "offset", "grading", "scatter", "drift"]
    d = pd.concat([synthetic_producer(rng, k, kind=k) for k in kinds], ignore_index=True)
    out = stats.producer_summary(d, base_size=41)  # sorted by producer: as kinds, sorted
    expected = {k: k for k in kinds} | {"drift": "offset+drift"}  # +2 mm since the change
    assert out["producer"].tolist() == sorted(kinds)
    assert out["verdict"].tolist() == [expected[k] for k in sorted(kinds)]
    # the summary alone gives the verdicts back, for any thresholds
    pd.testing.assert_series_equal(stats.verdicts(out), out["verdict"])
    lenient = stats.Thresholds(drift_step_share=math.inf, scatter_max_share=0.9)
    by_producer = dict(zip(out["producer"], stats.verdicts(out, lenient), strict=True))
    assert by_producer["scatter"] == "conforming"
    # the current period was fixed when the summary was built: its +2 mm stays an offset
    assert by_producer["drift"] == "offset"
    # a verdict follows its inputs: the offset is judged on offset_judged_mm
    moved = out.assign(offset_judged_mm=out["offset_judged_mm"] + 5.0)
    assert stats.verdicts(moved)[0] == "offset"
    assert stats.verdicts(out.assign(n=3))[0] == "insufficient_data"


# -- multiple testing -------------------------------------------------------------------


def test_holm_and_benjamini_hochberg_equal_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(41)
    p = np.concatenate([rng.uniform(0, 1, 30), rng.uniform(0, 0.01, 8), [0.02, 0.02]])
    p = rng.permutation(p)
    for ours, method in (
        (stats.reference.holm, "holm"),
        (stats.reference.benjamini_hochberg, "fdr_bh"),
    ):
        expected = multitest.multipletests(p, alpha=0.05, method=method)[1]
        np.testing.assert_allclose(ours(p), expected, rtol=1e-12)
        with_nan = np.insert(p, 3, np.nan)  # a missing p-value is not in the family
        got = ours(with_nan)
        assert np.isnan(got[3])
        np.testing.assert_allclose(np.delete(got, 3), expected, rtol=1e-12)


def test_t_p_value_is_scipy_t_test():
    sps = pytest.importorskip("scipy.stats")
    x = np.array([0.3, -0.1, 0.8, 0.5, 0.2, 0.9])
    res = sps.ttest_1samp(x, 0.0)
    t = x.mean() / (x.std(ddof=1) / np.sqrt(6))
    assert float(stats.reference.t_p_value(t, 5.0)) == pytest.approx(res.pvalue, rel=1e-12)


def test_holm_keeps_the_familywise_error_rate_over_many_null_producers():
    # 40 producers on nominal (no offset), one visit each: with each test at 5 % about 2
    # are flagged `offset` by chance; Holm over the family flags none in most clusters
    rng = np.random.default_rng(42)
    sizes = np.repeat(np.arange(38.0, 44.0), 3)
    frames = [
        deviations_from(
            producer=f"P{k:02d}", size=sizes, value_mm=sizes * STEP + rng.normal(0, 1.2, 18)
        )
        for k in range(40)
    ]
    d = pd.concat(frames, ignore_index=True)
    each = stats.producer_summary(d, base_size=41)  # default: each test at alpha
    holm_ = stats.producer_summary(
        d, base_size=41, thresholds=stats.Thresholds(multiple_testing="holm")
    )
    fdr = stats.producer_summary(
        d, base_size=41, thresholds=stats.Thresholds(multiple_testing="fdr")
    )
    raw_hits = int((each["offset_p"] < 0.05).sum())
    assert raw_hits >= 1  # this seed: chance hits without adjustment
    assert (holm_["offset_p_adjusted"] >= each["offset_p"]).all()
    assert int((holm_["offset_p_adjusted"] < 0.05).sum()) == 0
    assert int((fdr["offset_p_adjusted"] < 0.05).sum()) <= raw_hits
    # one rule: `none` flags exactly where the 95 % t-interval of the judged offset
    # excludes 0 (and the offset is outside the in-spec band)
    t = stats.reference.t_quantile(0.95, each["offset_judged_df"])
    excl = (each["offset_judged_mm"].abs() > t * each["offset_judged_se_mm"]).to_numpy()
    assert ((each["offset_p"] < 0.05).to_numpy() == excl).all()


# -- conventions chosen by AIC ----------------------------------------------------------


def test_convention_aic_is_the_normal_log_likelihood_of_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(43)
    size = np.repeat(np.arange(37.0, 45.0), 3)
    value = size * STEP + 15 + rng.normal(0, 0.6, size.size)
    d = deviations_from(producer="A", size=size, value_mm=value, dimension="last_length")
    conv = stats.find_conventions(d).set_index("convention")
    # fitted shift: OLS of the residual from the Paris line on a constant (k = 2 with σ)
    fit = sm.OLS(value - size * STEP, np.ones(size.size)).fit()
    assert conv.loc["paris_shifted", "aic"] == pytest.approx(-2 * fit.llf + 2 * 2, rel=1e-10)
    # nothing fitted: the normal log-likelihood of the fixed residuals at σ̂² = mean r²
    r = value - size * STEP - 15
    llf = sps_norm_llf(r)
    assert conv.loc["paris_foot+15", "aic"] == pytest.approx(-2 * llf + 2, rel=1e-10)
    own = sm.OLS(value, sm.add_constant(size)).fit()
    best = conv["aic"].min()
    assert conv["own_line_delta_aic"].iloc[0] == pytest.approx(-2 * own.llf + 6 - best, rel=1e-9)
    assert conv.loc["paris_foot+15", "choice"] == "chosen"


def sps_norm_llf(r: np.ndarray) -> float:
    """Σ log φ(r; 0, σ̂) with σ̂² = mean r² (scipy.stats.norm)."""
    return float(np.sum(scipy.stats.norm.logpdf(r, 0.0, np.sqrt(np.mean(r * r)))))


def test_a_grading_error_is_no_convention_and_close_candidates_are_undecided():
    rng = np.random.default_rng(44)
    size = np.repeat(np.arange(36.0, 47.0), 6)
    # -0.5 mm per size from Paris point: `grading` by verdict, no convention by AIC
    value = 41 * STEP + (STEP - 0.5) * (size - 41) + rng.normal(0, 0.5, size.size)
    d = deviations_from(producer="A", size=size, value_mm=value, dimension="last_length")
    conv = stats.find_conventions(d)
    assert set(conv.loc[conv["choice"] != "", "choice"]) == {"no_convention"}
    assert conv["own_line_delta_aic"].iloc[0] <= -2
    # lasts 14.1 mm long: between +13.3 and +15, with 6 noisy shoes neither is chosen
    size = np.array([39.0, 40, 41, 42, 43, 44])
    value = size * STEP + 14.15 + rng.normal(0, 1.5, 6)
    d = deviations_from(producer="B", size=size, value_mm=value, dimension="last_length")
    conv = stats.find_conventions(d).set_index("convention")
    assert conv.loc["paris_foot+13.3", "choice"] == "undecided"
    assert conv.loc["paris_foot+15", "choice"] == "undecided"
