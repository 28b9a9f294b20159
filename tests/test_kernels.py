"""The tables equal the reference functions applied group by group (to 1e-9).

sizecheck.stats.reference holds each statistic once, for one group's plain arrays; the
tables are built by vectorised kernels. Here, on random frames with dates (on some rows,
none at one producer), left/right pairs (right shoes missing, ids missing, an id reused
at another size and producer), several sizes, missing values, no_reference rows, a
one-sided dimension and one-row groups, every column of producer_summary, size_summary,
compare_producers and find_conventions is recomputed from the frame with pandas
(grouping, time order and units rebuilt here, independently of stats.groups) and the
reference functions, and compared.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from _stats_factory import messy_deviations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sizecheck import stats
from sizecheck.stats import kernels
from sizecheck.stats import reference as ref
from sizecheck.stats.verdicts import offset_size

TOL = {"rtol": 1e-9, "atol": 1e-9, "equal_nan": True}
KEY = ["producer", "dimension"]


def _usable(frame: pd.DataFrame) -> pd.DataFrame:
    needed = ["producer", "dimension", "size", "nominal_mm", "deviation_mm"]
    ok = frame[needed].notna().all(axis=1) & (frame["status"].astype("str") != "no_reference")
    out = frame.assign(position=np.arange(len(frame)))[ok.to_numpy()]
    return out.astype({"producer": "str", "dimension": "str", "source": "str"})


def _in_time_order(grp: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The documented time order (docs/internals.md), rebuilt with pandas."""
    dated = bool(grp["date"].notna().sum() >= 0.5 * len(grp))
    ns = grp["date"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    when = np.where(grp["date"].notna(), ns, np.iinfo(np.int64).max) if dated else 0
    row = grp["row"].where(grp["row"] >= 0, 0)
    ordered = grp.assign(when=when, row_no=row).sort_values(
        ["when", "source", "row_no", "position"], kind="stable"
    )
    return ordered, dated


def _units(grp: pd.DataFrame) -> np.ndarray:
    """A pair id at one size is one unit; a row without a pair id is a unit of its own."""
    if "pair" not in grp:
        return grp["position"].astype(str).to_numpy()
    paired = grp["pair"].notna()
    label = grp["pair"].astype(str) + "@" + grp["size"].astype(str)
    return np.where(paired, label, "row" + grp["position"].astype(str)).astype(object)


def _visits(grp: pd.DataFrame, dated: bool) -> np.ndarray:
    """The visit of each row (−1: none): its date in a dated group, else its lot when at
    least half of the group's rows carry one."""
    if dated:
        column = grp["date"]
    elif "lot" in grp and grp["lot"].notna().sum() >= 0.5 * len(grp):
        column = grp["lot"]
    else:
        return np.full(len(grp), -1)
    label = [str(x) if pd.notna(x) else None for x in column]
    codes = {v: k for k, v in enumerate(dict.fromkeys(x for x in label if x is not None))}
    return np.array([codes[x] if x is not None else -1 for x in label])


def _line_covariance(
    line: ref.Line,
    size: np.ndarray,
    dev: np.ndarray,
    unit: np.ndarray,
    visit: np.ndarray,
    floor: float,
) -> tuple[float, float, float]:
    """SE of the line at its mean size, SE of the slope, df: CR2 over visits with two
    visits or more, else over pairs; no variance below what σ = floor gives."""
    cluster, clustered = ref.visit_clusters(unit, visit)
    if not clustered:
        return line.se_at(line.size_mean), line.slope_se, line.df
    cov = ref.cluster_covariance(size, dev, cluster, fit_line=line.has_line)
    var_a = max(cov.var_a, floor**2 / len(dev))
    var_b = max(cov.var_b, floor**2 / line.sxx) if line.has_line else math.nan
    return math.sqrt(var_a), math.sqrt(var_b), cov.df


def _per_size(step: float, nominal_step: np.ndarray | None) -> float:
    label = ref.label_step(nominal_step, step)
    per = step / label
    return per if math.isfinite(per) else 1.0


def _paired_share(grp: pd.DataFrame) -> float:
    """Share of a group's shoes whose pair id has both a left and a right shoe."""
    with_id = grp[grp["pair"].notna() & grp["foot"].isin(["L", "R"])]
    feet = with_id.groupby(with_id["pair"].astype(str))["foot"].agg(lambda f: {"L", "R"} <= set(f))
    complete = set(feet[feet].index)
    return float(with_id["pair"].astype(str).isin(complete).sum()) / len(grp)


def _expected_summary(frame: pd.DataFrame, base_size: float) -> pd.DataFrame:
    rows = []
    for (producer, dimension), grp in _usable(frame).groupby(KEY, sort=True):
        grp, dated = _in_time_order(grp)
        unit = _units(grp)
        dev, size = grp["deviation_mm"].to_numpy(), grp["size"].to_numpy()
        r = ref.reading_resolution(grp["value_mm"].to_numpy())
        floor = r / math.sqrt(12)
        line = ref.grading_line(size, dev, unit)
        line = dataclasses.replace(line, s=max(line.s, floor))  # σ ≥ resolution / √12
        visit = _visits(grp, dated)
        b = ref.bias_interval(dev, unit, visit)
        se = max(b.se, floor / math.sqrt(len(dev)))
        se_judged, se_slope, line_df = _line_covariance(line, size, dev, unit, visit, floor)
        t = float(ref.t_quantile(0.95, b.df))
        within = ref.sd_within(line.residuals(size, dev), unit, dated=dated, line=line)
        lo, hi = ref.deviation_limits(
            *(grp[c].to_numpy() for c in ("lower_mm", "upper_mm", "nominal_mm"))
        )
        # the Cpk of the table is the public capability() of the group's rows
        method = "moving_range" if dated and len(set(unit)) >= 2 else "residual"
        cap = stats.capability(dev, lsl=lo, usl=hi, sizes=size, units=unit, sigma=method,
                               resolution=r) if len(dev) >= 2 and lo < hi else None  # fmt: skip
        no_spread = r == 0 and cap is not None and cap.sigma_within <= 1e-9
        step = ref.median_step(grp["grade_step_mm"].to_numpy())
        per_size = _per_size(step, grp["nominal_step_mm"].to_numpy())
        t2 = float(ref.t_quantile(0.95, line_df)) * (math.nan if no_spread else 1.0)
        judged = float(offset_size(size.mean()))
        nan = ref.Interval(math.nan, math.nan, math.nan, math.nan, math.nan)
        mismatch, diff = nan, nan
        if "pair" in grp:
            pair = grp["pair"].astype(object).where(grp["pair"].notna(), None).to_numpy()
            feet, values = grp["foot"].to_numpy(object), grp["value_mm"].to_numpy()
            mismatch = ref.pair_mismatch(values, feet, pair)
            diff = ref.pair_difference(values, feet, pair)
        # too few shoes (n < min_n = 8): no capability is claimed
        thin = len(dev) < stats.DEFAULT_THRESHOLDS.min_n
        cpk = {k: getattr(cap, k) if cap and not no_spread and not thin else math.nan
               for k in ("cpk", "cpk_ci_low", "cpk_ci_high", "ppk")}  # fmt: skip
        sd_within = max(within.sigma, floor) if len(dev) > 1 else math.nan
        two_sided = math.isfinite(lo) and math.isfinite(hi)
        centre = (lo + hi) / 2 if two_sided else line.at(judged)
        systematic = diff.estimate if diff.low > 0 or diff.high < 0 else 0.0
        paired = _paired_share(grp) if "pair" in grp else 0.0
        scatter_sd = float(ref.scatter_sigma(sd_within, systematic, paired))
        expected = 100 * float(ref.out_of_spec_share(scatter_sd, lo, hi, centre))
        rows.append(
            {
                "producer": producer,
                "dimension": dimension,
                "n": len(dev),
                "n_sizes": line.n_sizes,
                "bias_mm": b.estimate,
                "bias_ci_low_mm": b.estimate - t * se + (math.nan if no_spread else 0.0),
                "bias_ci_high_mm": b.estimate + t * se + (math.nan if no_spread else 0.0),
                "bias_sizes": b.estimate / step,
                "offset_mm": line.at(base_size) if line.has_line else math.nan,
                "grade_error_mm_per_size": line.slope * per_size,
                "grade_error_ci_low": (line.slope - t2 * se_slope) * per_size,
                "grade_error_ci_high": (line.slope + t2 * se_slope) * per_size,
                "sd_within_mm": sd_within,
                "sd_overall_mm": max(np.std(dev, ddof=1), floor) if len(dev) > 1 else math.nan,
                "pct_in_spec": ref.share(grp["status"].astype(str).to_numpy(), ["in_spec"]),
                "pct_missized": ref.share(
                    grp["status"].astype(str).to_numpy(), ref.MISSIZED_STATUSES
                ),
                "pct_out_expected": expected,
                **cpk,
                "pair_mismatch_mm": mismatch.estimate,
                "pair_mismatch_ci_low_mm": mismatch.low,
                "pair_mismatch_ci_high_mm": mismatch.high,
                "pair_diff_mm": diff.estimate,
                "pair_diff_ci_low_mm": diff.low,
                "pair_diff_ci_high_mm": diff.high,
                "n_units": b.df + 1,
                "size_min": size.min(),
                "size_max": size.max(),
                "spec_low_mm": lo,
                "spec_high_mm": hi,
                "offset_size": judged,
                "offset_judged_mm": line.at(judged),
                "offset_judged_se_mm": se_judged * (math.nan if no_spread else 1.0),
                "offset_judged_df": line_df,
                "grade_error_df": line_df if line.has_line else math.nan,
                "line_at_min_mm": line.at(size.min()),
                "line_at_max_mm": line.at(size.max()),
                "resolution_mm": r,
            }
        )
    return pd.DataFrame(rows)


def _assert_same(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert len(actual) == len(expected)
    for col in expected.columns:
        a, e = actual[col].to_numpy(), expected[col].to_numpy()
        if a.dtype.kind in "fiub":
            np.testing.assert_allclose(a.astype(float), e.astype(float), err_msg=col, **TOL)
        else:
            assert [str(x) for x in a] == [str(x) for x in e], col


FRAMES = st.builds(
    messy_deviations,
    st.integers(0, 2**32 - 1),
    n_pairs=st.integers(1, 40),
    p_dated=st.sampled_from([0.0, 0.4, 0.9, 1.0]),
    p_no_pair=st.sampled_from([0.0, 0.1, 1.0]),
    categorical=st.booleans(),
    with_pairs=st.booleans(),
    decimals=st.sampled_from([0, 1, 3]),
)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(FRAMES)
def test_producer_summary_equals_the_references_group_by_group(frame):
    # no change judged here (the current period is every row); tests/test_periods.py
    # checks the columns of the current period against a summary of its rows
    whole = stats.Thresholds(drift_step_share=math.inf)
    out = stats.producer_summary(frame, base_size=41.0, thresholds=whole)
    _assert_same(out, _expected_summary(frame, 41.0))


@SETTINGS
@given(FRAMES)
def test_size_summary_and_comparison_equal_the_references(frame):
    s = stats.size_summary(frame)
    expected = []
    usable = _usable(frame)
    # the reading resolution is the producer × dimension's, as in producer_summary
    resolution = usable.groupby(KEY)["value_mm"].agg(lambda v: ref.reading_resolution(v.to_numpy()))
    visits = {}
    for key, grp in usable.groupby(KEY, sort=True):
        grp, dated = _in_time_order(grp)
        visits[key] = pd.Series(_visits(grp, dated), index=grp.index)
    for (producer, dimension, size), cell in usable.groupby([*KEY, "size"], sort=True):
        unit = _units(cell)
        visit = visits[(producer, dimension)].loc[cell.index].to_numpy()
        bias = ref.bias_interval(cell["deviation_mm"].to_numpy(), unit, visit)
        r = resolution[(producer, dimension)]
        se = max(bias.se, r / math.sqrt(12 * len(cell)))
        se = math.nan if r == 0 and se * math.sqrt(len(cell)) <= 1e-9 else se
        t = float(ref.t_quantile(0.95, bias.df))
        step = ref.median_step(cell["grade_step_mm"].to_numpy())
        label = ref.label_step(cell["nominal_step_mm"].to_numpy(), step)
        value = cell["value_mm"].to_numpy()
        labels = cell["size_label"].astype(object).where(cell["size_label"].notna(), None)
        expected.append(
            {
                "producer": producer, "dimension": dimension, "size": size, "n": len(cell),
                "mean_mm": value.mean(), "nominal_mm": cell["nominal_mm"].mean(),
                "bias_mm": bias.estimate,
                "sd_mm": np.std(value, ddof=1) if len(value) > 1 else math.nan,
                "effective_size": ref.effective_size(size, bias.estimate, label),
                "size_label": ref.modal_label(list(labels)),
                "bias_ci_low_mm": bias.estimate - t * se, "bias_ci_high_mm": bias.estimate + t * se,
                "bias_sizes": bias.estimate / step, "n_units": bias.df + 1,
                "bias_se_mm": se, "resolution_mm": r,
                "effective_size_ci_low": ref.effective_size(size, bias.estimate - t * se, label),
                "effective_size_ci_high": ref.effective_size(size, bias.estimate + t * se, label),
                "effective_size_se": se / label,
            }
        )  # fmt: skip
    _assert_same(s, pd.DataFrame(expected))
    c = stats.compare_producers(frame)
    cells = []
    for (dimension, size), at in s.groupby(["dimension", "size"], sort=True):
        k, f, df1, df2, p = ref.welch_anova(
            at["n_units"], at["mean_mm"], at["n_units"] * at["bias_se_mm"] ** 2
        )
        low, high = at["mean_mm"].idxmin(), at["mean_mm"][::-1].idxmax()
        cells.append(
            {
                "dimension": dimension, "size": size, "n_producers": len(at), "n": at["n"].sum(),
                "mean_min_mm": at["mean_mm"].min(), "mean_max_mm": at["mean_mm"].max(),
                "lowest_producer": at.loc[low, "producer"],
                "highest_producer": at.loc[high, "producer"],
                "welch_k": k, "welch_f": f, "welch_df1": df1, "welch_df2": df2, "welch_p": p,
            }
        )  # fmt: skip
    _assert_same(c, pd.DataFrame(cells))


@SETTINGS
@given(FRAMES)
def test_conventions_equal_the_references(frame):
    frame = frame.assign(
        dimension=frame["dimension"].astype("str").replace("toecap_length", "last_length")
    )
    out = stats.find_conventions(frame)
    expected = []
    for (producer, dimension), grp in _usable(frame).groupby(KEY, sort=True):
        n_sizes = grp["size"].nunique()
        for conv in stats.CONVENTIONS:
            mean_r, rms, shift = ref.convention_fit(
                grp["size"].to_numpy(), grp["value_mm"].to_numpy(), slope=conv.slope_mm_per_size,
                allowance=conv.allowance_mm, fit_intercept=conv.fit_intercept,
            )  # fmt: skip
            if conv.fit_intercept and n_sizes < 3:
                rms = shift = math.nan
            expected.append(
                {"producer": producer, "dimension": dimension, "convention": conv.name,
                 "n": len(grp), "n_sizes": n_sizes, "mean_residual_mm": mean_r,
                 "rms_residual_mm": rms, "fitted_shift_mm": shift}
            )  # fmt: skip
    _assert_same(out, pd.DataFrame(expected))


@SETTINGS
@given(FRAMES, st.integers(0, 2**32 - 1))
def test_kernels_on_part_of_each_group_equal_the_references(frame, seed):
    # what "since the last change" needs: each group from some row on, in time order
    groups = stats.prepare(frame)
    rng = np.random.default_rng(seed)
    first = rng.integers(0, np.maximum(np.diff(groups.bounds), 1))
    part = groups.since(first)
    g, ng = part.group, part.ng
    bias = kernels.mean_intervals(g, part.unit, part.deviation, ng, 0.9)
    lines = kernels.grading_lines(g, part.size, part.deviation, ng)
    spreads = kernels.line_spreads(g, part.unit, lines)
    sigma, ranges, df = kernels.paired_within_sigma(g, part.unit, lines.resid, ng)
    mr_sigma, mr_count = kernels.moving_range_sigma(g, part.deviation, ng)
    cluster, _ = kernels.visit_clusters(g, part.unit, part.visit, ng)
    by_cluster = kernels.cluster_mean_intervals(g, cluster, part.deviation, ng, 0.9)
    judged, clustered = kernels.bias_intervals(g, part.unit, part.visit, part.deviation, ng, 0.9)
    for i in range(ng):
        whole = groups.slice(i)
        rows = slice(int(groups.bounds[i] + first[i]), whole.stop)
        dev, size, unit = groups.deviation[rows], groups.size[rows], groups.unit[rows]
        if not len(dev):
            assert np.isnan(bias.estimate[i]) and lines.n[i] == 0
            continue
        b = ref.mean_interval(dev, unit, 0.9)
        np.testing.assert_allclose(
            [bias.estimate[i], bias.low[i], bias.high[i]], [b.estimate, b.low, b.high], **TOL
        )
        line = ref.grading_line(size, dev, unit)
        got = [
            lines.slope[i],
            lines.size_min[i],
            lines.size_max[i],
            spreads.s[i],
            spreads.df[i],
            spreads.s_shoes[i],
        ]
        np.testing.assert_allclose(
            got, [line.slope, size.min(), size.max(), line.s, line.df, line.s_shoes], **TOL
        )
        np.testing.assert_allclose(lines.resid[part.slice(i)], line.residuals(size, dev), **TOL)
        w = ref.paired_within_sigma(line.residuals(size, dev), unit)
        np.testing.assert_allclose([sigma[i], ranges[i], df[i]], [w.sigma, w.ranges, w.df], **TOL)
        s, count = ref.moving_range_sigma(dev)
        np.testing.assert_allclose([mr_sigma[i], mr_count[i]], [s, count], **TOL)
        # the CR2 interval of the mean over clusters, and the one the visit rule picks
        labels = cluster[part.slice(i)]
        c = ref.cluster_mean_interval(dev, labels, 0.9)
        np.testing.assert_allclose(
            [by_cluster.estimate[i], by_cluster.se[i], by_cluster.df[i], by_cluster.low[i]],
            [c.estimate, c.se, c.df, c.low],
            **TOL,
        )
        j = ref.bias_interval(dev, unit, groups.visit[rows], 0.9)
        np.testing.assert_allclose(
            [judged.estimate[i], judged.se[i], judged.df[i], judged.high[i]],
            [j.estimate, j.se, j.df, j.high],
            **TOL,
        )
        assert bool(clustered[i]) == ref.visit_clusters(unit, groups.visit[rows])[1]


def test_reference_t_and_f_functions_are_scipy_stats():
    # independent: scipy.stats' own t and F distributions
    sps = pytest.importorskip("scipy.stats")
    df = np.array([1.0, 2.5, 7.0, 30.0, 1e6])
    np.testing.assert_allclose(ref.t_quantile(0.95, df), sps.t.ppf(0.975, df), rtol=1e-12)
    assert np.isnan(ref.t_quantile(0.95, 0.0))
    _, f, df1, df2, p = ref.welch_anova([5, 8, 6], [1.0, 1.5, 0.7], [0.3, 0.8, 0.2])
    assert p == pytest.approx(sps.f.sf(f, df1, df2), rel=1e-12)
