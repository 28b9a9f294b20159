"""capability(): one Cpk (the one producer_summary.csv shows), subgroup σ, resolution.

Every expected number names its independent source.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _stats_factory import deviations_from
from scipy import stats as sps

from sizecheck import stats
from sizecheck.errors import UsageError
from sizecheck.stats import reference as ref

# Inside diameter of piston rings, mm: the first 25 samples of 5 (Montgomery, Introduction
# to Statistical Quality Control, Table 6.3; qcc's ``pistonrings``, trial samples).
PISTON_RINGS = np.array(
    [
        (74.030, 74.002, 74.019, 73.992, 74.008),
        (73.995, 73.992, 74.001, 74.011, 74.004),
        (73.988, 74.024, 74.021, 74.005, 74.002),
        (74.002, 73.996, 73.993, 74.015, 74.009),
        (73.992, 74.007, 74.015, 73.989, 74.014),
        (74.009, 73.994, 73.997, 73.985, 73.993),
        (73.995, 74.006, 73.994, 74.000, 74.005),
        (73.985, 74.003, 73.993, 74.015, 73.988),
        (74.008, 73.995, 74.009, 74.005, 74.004),
        (73.998, 74.000, 73.990, 74.007, 73.995),
        (73.994, 73.998, 73.994, 73.995, 73.990),
        (74.004, 74.000, 74.007, 74.000, 73.996),
        (73.983, 74.002, 73.998, 73.997, 74.012),
        (74.006, 73.967, 73.994, 74.000, 73.984),
        (74.012, 74.014, 73.998, 73.999, 74.007),
        (74.000, 73.984, 74.005, 73.998, 73.996),
        (73.994, 74.012, 73.986, 74.005, 74.007),
        (74.006, 74.010, 74.018, 74.003, 74.000),
        (73.984, 74.002, 74.003, 74.005, 73.997),
        (74.000, 74.010, 74.013, 74.020, 74.003),
        (73.988, 74.001, 74.009, 74.005, 73.996),
        (74.004, 73.999, 73.990, 74.006, 74.009),
        (74.010, 73.989, 73.990, 74.009, 74.014),
        (74.015, 74.008, 73.993, 74.000, 74.010),
        (73.982, 73.984, 73.995, 74.017, 74.013),
    ]
)


def test_pistonrings_subgroup_range_sigma_gives_qcc_and_minitab_figures():
    x = PISTON_RINGS.ravel()
    sample = np.repeat(np.arange(25), 5)
    c = stats.capability(x, lsl=73.95, usl=74.05, subgroups=sample, sigma="range")
    # qcc vignette (process.capability of the xbar chart): StdDev 0.009785039, Cp 1.70,
    # Cpk 1.66; R-bar/d2 with d2(5) = 2.326
    assert c.sigma_within == pytest.approx(0.009785039, rel=1e-6)
    assert round(c.cp, 2) == 1.70 and round(c.cpk, 2) == 1.66
    # qcc's intervals use n - 1 = 124 df for the sigma: Cp [1.49, 1.91], Cpk [1.45, 1.88]
    q = stats.capability(x, lsl=73.95, usl=74.05, subgroups=sample, sigma="range", sigma_df=124)
    assert (round(q.cp_ci_low, 2), round(q.cp_ci_high, 2)) == (1.49, 1.91)
    assert (round(q.cpk_ci_low, 2), round(q.cpk_ci_high, 2)) == (1.45, 1.88)
    # by default the df of R-bar/d2 (Minitab, Methods and formulas: 0.9 k (n - 1) = 90):
    # the chi-square interval of Cp computed here with scipy.stats.chi2
    assert c.sigma_df == pytest.approx(90.0)
    lo, hi = (c.cp * math.sqrt(sps.chi2.ppf(p, 90) / 90) for p in (0.025, 0.975))
    assert c.cp_ci_low == pytest.approx(lo, rel=1e-9) and c.cp_ci_high == pytest.approx(
        hi, rel=1e-9
    )
    assert c.cpk_ci_high - c.cpk_ci_low > q.cpk_ci_high - q.cpk_ci_low
    # S-bar/c4: c4(5) = 0.9400 (Montgomery, Appendix VI), checked with the gamma function
    s = stats.capability(x, lsl=73.95, usl=74.05, subgroups=sample, sigma="sd")
    c4 = math.sqrt(2 / 4) * math.gamma(2.5) / math.gamma(2.0)
    assert ref.c4(5) == pytest.approx(c4) and round(c4, 4) == 0.9400
    assert s.sigma_within == pytest.approx(PISTON_RINGS.std(axis=1, ddof=1).mean() / c4)
    assert s.sigma_df == pytest.approx(0.95 * 25 * 4)


def test_capability_is_the_cpk_of_producer_summary():
    # a grading producer, dated, in left/right pairs: the table's row and capability() of
    # the same rows in time order agree on Cpk, its interval, Ppk and the within sigma
    rng = np.random.default_rng(12)
    pairs = 40
    size = np.repeat(rng.integers(38, 45, pairs), 2).astype(float)
    shared = np.repeat(rng.normal(0, 0.3, pairs), 2)
    dev = 0.15 * (size - 41) + shared + rng.normal(0, 0.3, 2 * pairs)
    d = deviations_from(
        producer="A", size=size, value_mm=size * 20 / 3 + dev,
        date=pd.Timestamp("2025-01-01") + pd.to_timedelta(np.repeat(np.arange(pairs), 2), "D"),
        pair=[f"p{i // 2}" for i in range(2 * pairs)], foot=["L", "R"] * pairs,
    )  # fmt: skip
    row = stats.producer_summary(d, base_size=41).iloc[0]
    c = stats.capability(
        d["deviation_mm"], lsl=-1.5, usl=1.5, sizes=d["size"], units=d["pair"],
        sigma="moving_range", resolution=row["resolution_mm"],
    )  # fmt: skip
    pairs_of_names = [
        ("cpk", "cpk"), ("cpk_ci_low", "cpk_ci_low"), ("cpk_ci_high", "cpk_ci_high"),
        ("ppk", "ppk"), ("sigma_within", "sd_within_mm"), ("sigma_df", "sd_within_df"),
    ]  # fmt: skip
    for key, col in pairs_of_names:
        assert getattr(c, key) == pytest.approx(row[col], rel=1e-9), key
    # Cpk is taken at the worse end of the grading line, Ppk on all shoes as one population
    assert c.cpk == pytest.approx(
        min(1.5 - c.centre_high, c.centre_low + 1.5) / (3 * c.sigma_within)
    )
    assert c.ppk == pytest.approx((1.5 - abs(dev.mean())) / (3 * np.std(dev, ddof=1)))


def test_moving_range_sigma_has_about_062_degrees_of_freedom_per_range():
    # Cryer & Ryan (1990): MR-bar/d2 of m values carries about 0.62 (m - 1) df, i.e.
    # Var(sigma-hat / sigma) = 1 / (2 * 0.62 * (m - 1)); checked here by simulation
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4000, 40))
    sigma = np.abs(np.diff(x, axis=1)).mean(axis=1) / ref.D2
    assert 1 / (2 * sigma.var()) == pytest.approx(ref.MR_DF_PER_RANGE * 39, rel=0.08)
    assert ref.paired_within_sigma(x[0], np.arange(40)).df == pytest.approx(0.62 * 39)


def test_identical_and_exactly_linear_lengths_give_no_absurd_numbers():
    # ten identical lengths read to 1 mm: sigma 0 is no perfect process (issue 13: this
    # gave cpk inf and a zero-width bias interval); sigma is raised to 1 / sqrt(12)
    same = deviations_from(producer="A", size=np.full(10, 41.0), value_mm=np.full(10, 273.0))
    row = stats.producer_summary(same, base_size=41).iloc[0]
    assert row["resolution_mm"] == 1.0 and row["sigma_note"] == "at_resolution"
    assert row["sd_within_mm"] == pytest.approx(1 / math.sqrt(12))
    assert np.isfinite(row[["cpk", "cpk_ci_low", "cpk_ci_high", "ppk"]].astype(float)).all()
    assert row["bias_ci_high_mm"] > row["bias_ci_low_mm"]
    cell = stats.size_summary(same).iloc[0]  # per size too: no zero-width interval
    assert cell["bias_ci_high_mm"] - cell["bias_ci_low_mm"] > 0.1
    # exactly linear data read to 0.1 mm (gave sd_within 2.6e-14 and cpk 3.8e12)
    size = np.repeat(np.arange(38.0, 45.0), 2)
    line = deviations_from(producer="B", size=size, value_mm=size * 7.0 + 0.1)
    line["deviation_mm"] = 0.3 * (size - 41)  # exactly on a line: residuals ~1e-15
    line["nominal_mm"] = line["value_mm"] - line["deviation_mm"]
    line["lower_mm"], line["upper_mm"] = line["nominal_mm"] - 1.5, line["nominal_mm"] + 1.5
    row = stats.producer_summary(line, base_size=41).iloc[0]
    assert row["sd_within_mm"] == pytest.approx(0.1 / math.sqrt(12))
    # the line's worse end (EU 44) is 0.9 mm off: Cpk = (1.5 - 0.9) / (3 * 0.1 / sqrt(12))
    assert row["cpk"] == pytest.approx(0.6 / (3 * 0.1 / math.sqrt(12)))
    # a resolution that cannot be inferred (values off any grid) and no spread: blank
    blank = same.assign(value_mm=273.3333333, deviation_mm=0.0)
    row = stats.producer_summary(blank, base_size=41).iloc[0]
    assert row["sigma_note"] == "no_spread" and row["resolution_mm"] == 0
    assert row[["cpk", "cpk_ci_low", "ppk", "bias_ci_low_mm"]].isna().all()
    assert stats.size_summary(blank)[["bias_ci_low_mm", "bias_ci_high_mm"]].isna().all(axis=None)
    out = stats.producer_summary(blank, base_size=41, resolution=0.5).iloc[0]
    assert out["sd_within_mm"] == pytest.approx(0.5 / math.sqrt(12))
    with pytest.raises(UsageError, match="resolution"):
        stats.producer_summary(blank, base_size=41, resolution=-1.0)


def test_measure_resolution_option(tmp_path):
    from typer.testing import CliRunner

    from sizecheck.cli import app

    runner = CliRunner()
    bad = runner.invoke(app, ["measure", "--example", "--no-charts", "--resolution", "-1",
                              "--out", str(tmp_path / "bad")])  # fmt: skip
    assert bad.exit_code == 2 and "resolution" in bad.output
    ok = runner.invoke(app, ["measure", "--example", "--no-charts", "--resolution", "0.5",
                             "--out", str(tmp_path / "ok")])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    ps = pd.read_csv(tmp_path / "ok" / "producer_summary.csv")
    assert "ppk" in ps.columns and (ps["sd_within_mm"] >= 0.5 / math.sqrt(12) - 1e-12).all()
