"""Cluster statistics: the REML fit against statsmodels, ANOVA and planted values.

Independent sources used here:
- statsmodels ``MixedLM`` (REML) fitted to the same data, with a producer random
  intercept and slope and the visit and pair as variance components;
- the balanced nested ANOVA (method-of-moments) estimators, which equal REML for
  balanced data when they are positive (Searle, Casella & McCulloch 1992, *Variance
  Components*, ch. 4 and 6);
- scipy.stats.norm for the share of a normal population outside a band;
- the values planted by :func:`sizecheck.simulate_cluster`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sizecheck as sc
from sizecheck import columns
from sizecheck.cluster import (
    OFFSET_COLUMNS,
    SUMMARY_COLUMNS,
    Components,
    _prepare,
    _usable,
    reml_loglik_reference,
    share_outside,
)
from sizecheck.errors import UsageError

TABLE = sc.load_table("paris-point")


def simulated(seed: int, **kwargs: object) -> pd.DataFrame:
    settings: dict[str, object] = {"dimensions": ("last_length",), "n_producers": 25}
    settings.update(kwargs)
    sim = sc.simulate_cluster(rng=np.random.default_rng(seed), **settings)  # type: ignore[arg-type]
    return sc.compare_to_table(sim.measurements, TABLE).deviations


# ----------------------------------------------------------------------- the likelihood


@pytest.mark.parametrize(
    ("seed", "slope", "kwargs"),
    [
        (1, True, {"drop_share": 0.2}),
        (2, False, {"visits": [1, 2, 3, 4, 5, 2, 3], "n_producers": 7}),
        (3, True, {"shoes_per_pair": 1}),
        (4, False, {"sizes": [41.0], "pairs_per_visit": 1}),
        (5, True, {"drop_share": 0.4, "visits": 2, "pairs_per_visit": 5}),
    ],
)
def test_level_by_level_likelihood_equals_the_dense_formula(
    seed: int, slope: bool, kwargs: dict[str, object]
) -> None:
    # The kernel (sums per visit, Woodbury level by level) against the dense V_i of the
    # reference, at random parameter values, on unbalanced frames.
    dev = simulated(seed, **{"n_producers": 6, **kwargs})
    dim = _prepare(
        _usable(dev, "t"), "last_length", center_size=None, random_slope=slope, band="in_spec"
    )
    model = dim.model
    pair = pd.factorize(
        pd.Series(dim.visit).astype(str) + "/" + dev["pair"].astype(str).to_numpy()
    )[0]
    x = np.column_stack([np.ones(len(dim.y)), dim.s])[:, : model.n_fixed]
    rng = np.random.default_rng(seed)
    for _ in range(3):
        theta = rng.normal(0.0, 0.7, len(model.parameter_names()))
        comp = model.components(theta)
        expected = reml_loglik_reference(
            dim.y, x, dim.producer, dim.visit, pair, comp, random_slope=model.random_slope
        )
        assert model.loglik(theta) == pytest.approx(expected, rel=1e-10, abs=1e-8)


def test_profiled_likelihood_is_the_full_one_at_the_best_shoe_sd() -> None:
    dev = simulated(6)
    model = _prepare(
        _usable(dev, "t"), "last_length", center_size=None, random_slope=True, band="in_spec"
    ).model
    ratios = np.array([0.5, -1.0, 0.2, 0.3, -0.4])
    value, shoe_sd = model.profiled_loglik(ratios)
    full = model._full(ratios, math.log(shoe_sd))
    assert model.loglik(full) == pytest.approx(value, rel=1e-12)
    for step in (-0.01, 0.01):  # and it is the maximum over the shoe SD
        assert model.loglik(model._full(ratios, math.log(shoe_sd) + step)) < value


# -------------------------------------------------------------- against independent fits


def _statsmodels_fit(dev: pd.DataFrame, center: float, *, visits: bool = True):  # type: ignore[no-untyped-def]
    # statsmodels is in the test extra; skipped (not failed) in a venv installed before it
    smf = pytest.importorskip("statsmodels.formula.api")

    d = pd.DataFrame(
        {
            "y": dev["deviation_mm"].to_numpy(float),
            "s": dev["size"].to_numpy(float) - center,
            "producer": dev["producer"].astype(str).to_numpy(),
            "visit": dev["date"].astype(str).to_numpy(),
            "pair": (dev["date"].astype(str) + dev["pair"].astype(str)).to_numpy(),
        }
    )
    vc = {"visit": "0 + C(visit)", "pair": "0 + C(pair)"} if visits else {"pair": "0 + C(pair)"}
    model = smf.mixedlm("y ~ s", d, groups="producer", re_formula="~s", vc_formula=vc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(reml=True, method=["lbfgs"])


def test_variance_components_equal_statsmodels_mixedlm_on_the_same_data() -> None:
    dev = simulated(7, visits=4, pairs_per_visit=4, drop_share=0.1, resolution_mm=0.0)
    cs = sc.cluster_summary(dev)
    row = cs.summary.iloc[0]
    fit = cs.fits["last_length"]
    comp = fit.components
    ref = _statsmodels_fit(dev, row["center_size"])
    vc = dict(zip(ref.model.exog_vc.names, np.sqrt(ref.vcomp), strict=True))
    assert comp.between_sd == pytest.approx(math.sqrt(ref.cov_re.iloc[0, 0]), rel=2e-3)
    assert comp.slope_sd == pytest.approx(math.sqrt(ref.cov_re.iloc[1, 1]), rel=5e-3)
    assert comp.visit_sd == pytest.approx(vc["visit"], rel=2e-3)
    assert comp.pair_sd == pytest.approx(vc["pair"], rel=2e-3)
    assert comp.shoe_sd == pytest.approx(math.sqrt(ref.scale), rel=2e-3)
    assert fit.loglik == pytest.approx(ref.llf, abs=1e-3)
    assert row["mean_offset_mm"] == pytest.approx(ref.fe_params["Intercept"], abs=1e-3)
    assert row["grade_error_mm_per_size"] == pytest.approx(ref.fe_params["s"], abs=1e-3)
    # the shrunken offsets: statsmodels' predicted random effects plus the intercept
    eb = pd.Series(
        {p: ref.fe_params["Intercept"] + eff.iloc[0] for p, eff in ref.random_effects.items()}
    )
    ours = cs.offsets.set_index("producer")["offset_mm"]
    np.testing.assert_allclose(ours.loc[eb.index], eb, atol=2e-3)


def test_without_dates_the_visit_level_is_left_out_as_statsmodels_would() -> None:
    dev = simulated(8, visits=3, pairs_per_visit=4).assign(date=pd.NaT)
    cs = sc.cluster_summary(dev)
    row = cs.summary.iloc[0]
    assert math.isnan(row["visit_sd_mm"]) and row["n_visits"] == 0
    assert "visit" not in row["method"]
    dated = simulated(8, visits=3, pairs_per_visit=4)  # same draws, dates kept for the ids
    ref = _statsmodels_fit(dated.assign(date="one"), row["center_size"], visits=False)
    assert row["between_sd_mm"] == pytest.approx(math.sqrt(ref.cov_re.iloc[0, 0]), rel=2e-3)
    assert row["pair_sd_mm"] == pytest.approx(math.sqrt(ref.vcomp[0]), rel=2e-3)


def _anova_components(y: np.ndarray, a: int, b: int, c: int, d: int) -> dict[str, float]:
    """Balanced nested ANOVA estimators, producer / visit / pair / shoe.

    Mean squares and their expectations (Searle, Casella & McCulloch 1992, ch. 4):
    E[MS_E] = σe², E[MS_C] = σe² + dσp², E[MS_B] = ... + cdσv², E[MS_A] = ... + bcdσb².
    """
    cube = y.reshape(a, b, c, d)
    m_pair = cube.mean(axis=3)
    m_visit = m_pair.mean(axis=2)
    m_prod = m_visit.mean(axis=1)
    ms_e = ((cube - m_pair[..., None]) ** 2).sum() / (a * b * c * (d - 1))
    ms_c = d * ((m_pair - m_visit[..., None]) ** 2).sum() / (a * b * (c - 1))
    ms_b = c * d * ((m_visit - m_prod[:, None]) ** 2).sum() / (a * (b - 1))
    ms_a = b * c * d * ((m_prod - m_prod.mean()) ** 2).sum() / (a - 1)
    return {
        "shoe": ms_e,
        "pair": (ms_c - ms_e) / d,
        "visit": (ms_b - ms_c) / (c * d),
        "between": (ms_a - ms_b) / (b * c * d),
    }


def test_balanced_data_give_the_anova_estimates() -> None:
    a, b, c, d = 12, 4, 3, 2
    dev = simulated(
        9,
        n_producers=a,
        visits=b,
        pairs_per_visit=c,
        sizes=[41.0],
        resolution_mm=0.0,
        visit_sd_mm=1.0,
    )
    # one row per shoe, ordered producer / visit / pair / shoe
    dev = dev.sort_values(["producer", "date", "pair", "foot"])
    expected = _anova_components(dev["deviation_mm"].to_numpy(float), a, b, c, d)
    assert min(expected.values()) > 0  # REML = ANOVA only when these are positive
    comp = sc.cluster_summary(dev).fits["last_length"].components
    assert comp.shoe_sd**2 == pytest.approx(expected["shoe"], rel=1e-4)
    assert comp.pair_sd**2 == pytest.approx(expected["pair"], rel=1e-4)
    assert comp.visit_sd**2 == pytest.approx(expected["visit"], rel=1e-4)
    assert comp.between_sd**2 == pytest.approx(expected["between"], rel=1e-4)


def _shoes_alike(
    dev: pd.DataFrame, jitter_mm: float = 0.0, by: tuple[str, ...] = ("producer", "date", "pair")
) -> pd.DataFrame:
    """Every shoe reads as the first of its group ``by`` (plus ``jitter_mm`` on the second)."""
    group = dev.groupby(list(by), observed=True)["deviation_mm"]
    second = (group.cumcount() == 1).to_numpy()
    return dev.assign(deviation_mm=group.transform("first") + jitter_mm * second)


@pytest.mark.parametrize("level", ["pair", "visit"])
def test_shoes_alike_in_every_pair_or_visit_give_the_anova_estimates_of_its_means(
    level: str,
) -> None:
    # Every shoe of a pair (a visit) reads the same: the SDs below that level are 0, and
    # the others are the balanced nested ANOVA estimates (Searle, Casella & McCulloch
    # 1992, ch. 4), whose mean squares below the level are then 0. Main's fit ran every
    # SD ratio to its bound (1e3): between = visit = pair = 1000 x a shoe SD of ~0.0006.
    a, b, c, d = 12, 4, 3, 2
    dev = simulated(
        9, n_producers=a, visits=b, pairs_per_visit=c, sizes=[41.0], resolution_mm=0.0,
        visit_sd_mm=1.0,
    )  # fmt: skip
    by = ("producer", "date", "pair") if level == "pair" else ("producer", "date")
    dev = _shoes_alike(dev.sort_values(["producer", "date", "pair", "foot"]), by=by)
    expected = _anova_components(dev["deviation_mm"].to_numpy(float), a, b, c, d)
    assert expected["shoe"] == 0.0 and min(expected.values()) >= 0.0
    row = sc.cluster_summary(dev).summary.iloc[0]
    assert row["shoe_sd_mm"] == 0.0
    assert row["pair_sd_mm"] ** 2 == pytest.approx(expected["pair"], rel=1e-4, abs=0.0)
    assert row["visit_sd_mm"] ** 2 == pytest.approx(expected["visit"], rel=1e-4)
    assert row["between_sd_mm"] ** 2 == pytest.approx(expected["between"], rel=1e-4)
    assert row["within_sd_mm"] == row["pair_sd_mm"] and row["pair_icc"] == 1.0
    assert "NOT CONVERGED" not in row["method"] and f"{level} means" in row["method"]


def test_a_tiny_shoe_sd_is_fitted_not_taken_for_alike_shoes() -> None:
    # Shoes read to the micron (SD 0.001 mm) under a pair SD of 0.5 mm: the ratio
    # visit / shoe SD passes 1e3. Oracle: the balanced nested ANOVA estimates (Searle,
    # Casella & McCulloch 1992, ch. 4; = REML when positive). Main refitted the visit
    # means and reported pair = shoe = 0 (the pair SD of 0.5 mm lost), as converged.
    a, b, c, d = 12, 4, 3, 2
    dev = simulated(
        8, n_producers=a, visits=b, pairs_per_visit=c, sizes=[41.0], resolution_mm=0.0,
        shoe_sd_mm=0.001, pair_sd_mm=0.5, visit_sd_mm=1.5, between_sd_mm=1.0,
    ).sort_values(["producer", "date", "pair", "foot"])  # fmt: skip
    expected = _anova_components(dev["deviation_mm"].to_numpy(float), a, b, c, d)
    assert min(expected.values()) > 0 and max(expected.values()) / expected["shoe"] > 1e6
    row = sc.cluster_summary(dev).summary.iloc[0]
    for level in ("shoe", "pair", "visit", "between"):
        assert row[f"{level}_sd_mm"] ** 2 == pytest.approx(expected[level], rel=1e-4)
    assert "NOT CONVERGED" not in row["method"] and "alike" not in row["method"]


def test_copied_readings_but_one_pair_are_fitted_not_left_blank() -> None:
    # Read to 0.1 mm, the second shoe of every pair copied from the first but in one
    # pair, 0.1 mm apart: the shoe SD is small (0.003 mm) but not zero, the ratio
    # between / shoe SD passes 1e3. Oracle: the balanced nested ANOVA estimates. Main
    # left every SD blank ("a ratio of SDs at the fit's bound"), NOT CONVERGED.
    a, b, c, d = 20, 4, 6, 2
    dev = simulated(
        31, n_producers=a, visits=b, pairs_per_visit=c, sizes=[41.0], resolution_mm=0.1,
        between_sd_mm=4.0,
    )  # fmt: skip
    dev = _shoes_alike(dev.sort_values(["producer", "date", "pair", "foot"]))
    y = dev["deviation_mm"].to_numpy(float).copy()
    y[1] += 0.1  # the second shoe of the first pair
    dev = dev.assign(deviation_mm=y)
    expected = _anova_components(y, a, b, c, d)
    assert min(expected.values()) > 0 and expected["between"] / expected["shoe"] > 1e6
    row = sc.cluster_summary(dev).summary.iloc[0]
    for level in ("shoe", "pair", "visit", "between"):
        assert row[f"{level}_sd_mm"] ** 2 == pytest.approx(expected[level], rel=1e-4)
    assert np.isfinite(row["icc"]) and np.isfinite(row["share_missized"])
    assert "NOT CONVERGED" not in row["method"] and "blank" not in row["method"]


def test_shoes_alike_within_every_producer_leave_the_sds_blank_and_say_why() -> None:
    # nothing varies within a producer: no SD can be told from the fit's bound
    dev = _shoes_alike(simulated(9, n_producers=8, visits=3, sizes=[41.0]), by=("producer",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = sc.cluster_summary(dev).summary.iloc[0]
    for col in ("between_sd_mm", "visit_sd_mm", "pair_sd_mm", "shoe_sd_mm", "icc"):
        assert math.isnan(row[col])
    assert "SDs blank" in row["method"] and "NOT CONVERGED" in row["method"]


@pytest.mark.parametrize("jitter_mm", [0.0, 1e-5])
def test_shoes_alike_in_every_pair_are_fitted_as_statsmodels_fits_the_pair_means(
    jitter_mm: float,
) -> None:
    # Unbalanced, several sizes, shoes read to 1 mm (alike) or 0.00001 mm apart (alike:
    # their sum of squares within pairs is 6e-12 of the total, below 1e-9). Oracle:
    # statsmodels MixedLM (REML) on one row per pair (its mean) with the pair as the
    # residual level, the visit a variance component.
    smf = pytest.importorskip("statsmodels.formula.api")
    dev = simulated(21, n_producers=10, visits=3, pairs_per_visit=4, drop_share=0.1)
    dev = _shoes_alike(dev.assign(deviation_mm=dev["deviation_mm"].round(0)), jitter_mm)
    cs = sc.cluster_summary(dev, random_slope=False)
    row = cs.summary.iloc[0]
    pairs = dev.groupby(["producer", "date", "pair"], observed=True, as_index=False).agg(
        y=("deviation_mm", "mean"), size=("size", "mean")
    )
    pairs = pairs.assign(
        s=pairs["size"] - row["center_size"],
        producer=pairs["producer"].astype(str),
        visit=pairs["producer"].astype(str) + pairs["date"].astype(str),
    )
    model = smf.mixedlm(
        "y ~ s", pairs, groups="producer", re_formula="1", vc_formula={"visit": "0 + C(visit)"}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = model.fit(reml=True, method=["powell", "lbfgs"])
    assert row["shoe_sd_mm"] == 0.0 and "NOT CONVERGED" not in row["method"]
    assert row["pair_sd_mm"] == pytest.approx(math.sqrt(ref.scale), rel=2e-3)
    assert row["visit_sd_mm"] == pytest.approx(math.sqrt(ref.vcomp[0]), rel=2e-3)
    assert row["between_sd_mm"] == pytest.approx(math.sqrt(ref.cov_re.iloc[0, 0]), rel=2e-3)
    assert row["mean_offset_mm"] == pytest.approx(ref.fe_params["Intercept"], abs=1e-3)
    assert row["grade_error_mm_per_size"] == pytest.approx(ref.fe_params["s"], abs=1e-3)
    assert cs.fits["last_length"].loglik == pytest.approx(ref.llf, abs=1e-3)
    # the shoes' count, not the pairs'
    assert row["n_shoes"] == len(dev)


def test_share_outside_is_the_normal_tail_mass() -> None:
    # scipy.stats.norm as the independent source
    for mean, sd, band in [
        (0.5, 1.5, (-1.5, 1.5)),
        (-2.0, 0.7, (-1.0, 2.0)),
        (0.3, 1.0, (-math.inf, 1.2)),
    ]:
        expected = stats.norm.cdf(band[0], mean, sd) + stats.norm.sf(band[1], mean, sd)
        assert share_outside(mean, sd, band) == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------- planted values


def test_estimates_land_near_planted_values_on_average() -> None:
    # 6 clusters of 40 producers: the mean estimate within 10 % of the planted SDs (the
    # slow test below and benchmarks/cluster_coverage.py check bias and coverage closely).
    planted = {"between_sd_mm": 1.5, "visit_sd_mm": 0.8}
    est: dict[str, list[float]] = {k: [] for k in planted}
    for seed in range(6):
        row = sc.cluster_summary(simulated(100 + seed, n_producers=40)).summary.iloc[0]
        for key in planted:
            est[key].append(row[key])
    for key, value in planted.items():
        assert np.mean(est[key]) == pytest.approx(value, rel=0.10), key


@pytest.mark.slow
def test_intervals_cover_planted_values_in_200_clusters() -> None:
    # 200 clusters of 30 producers x 4 visits x 3 pairs (benchmarks/cluster_coverage.py
    # runs the 120-producer study). Nominal 95 %: with 200 clusters the Monte-Carlo SE is
    # 1.5 points, so 91 % is 2.7 SE below; the mean estimate within 5 % of planted.
    between, visit, pair, shoe, res, mean = 1.5, 0.8, 0.5, 0.6, 0.5, 0.5
    shoe_total = math.sqrt(shoe**2 + res**2 / 12.0)  # rounding adds res²/12 (Sheppard)
    inside = visit**2 + pair**2 + shoe_total**2
    truth = {
        "between_sd_mm": between,
        "visit_sd_mm": visit,
        "within_sd_mm": math.sqrt(pair**2 + shoe_total**2),
        "icc": between**2 / (between**2 + inside),
        "share_missized": share_outside(mean, between, (-1.5, 1.5)),
    }
    ci = {
        "between_sd_mm": ("between_ci_low_mm", "between_ci_high_mm"),
        "visit_sd_mm": ("visit_ci_low_mm", "visit_ci_high_mm"),
        "within_sd_mm": ("within_ci_low_mm", "within_ci_high_mm"),
        "icc": ("icc_ci_low", "icc_ci_high"),
        "share_missized": ("share_ci_low", "share_ci_high"),
    }
    hits = {k: 0 for k in truth}
    sums = {k: 0.0 for k in truth}
    n = 200
    for seed in range(n):
        dev = simulated(
            1000 + seed,
            n_producers=30,
            visits=4,
            pairs_per_visit=3,
            mean_offset_mm=mean,
            between_sd_mm=between,
            visit_sd_mm=visit,
            pair_sd_mm=pair,
            shoe_sd_mm=shoe,
            resolution_mm=res,
        )
        row = sc.cluster_summary(dev).summary.iloc[0]
        for key, value in truth.items():
            lo, hi = ci[key]
            hits[key] += bool(row[lo] <= value <= row[hi])
            sums[key] += row[key]
    for key, value in truth.items():
        assert hits[key] / n >= 0.91, (key, hits[key] / n)
        assert sums[key] / n == pytest.approx(value, rel=0.05), key


def test_shrunken_offsets_cover_the_planted_offsets() -> None:
    # Over 4 clusters x 60 producers, ~95 % of the producers' intervals hold their planted
    # offset; and shrinkage pulls the estimates towards the mean, never away on average.
    covered, total, spread_raw, spread_eb = 0, 0, [], []
    for seed in range(4):
        sim = sc.simulate_cluster(
            rng=np.random.default_rng(200 + seed),
            n_producers=60,
            visits=3,
            pairs_per_visit=2,
            dimensions=("last_length",),
        )
        dev = sc.compare_to_table(sim.measurements, TABLE).deviations
        off = sc.cluster_summary(dev, center_size=41.0).offsets.merge(
            sim.truth, on=["producer", "dimension"], suffixes=("", "_planted")
        )
        covered += int(
            (
                (off["offset_ci_low_mm"] <= off["offset_mm_planted"])
                & (off["offset_mm_planted"] <= off["offset_ci_high_mm"])
            ).sum()
        )
        total += len(off)
        spread_raw.append(off["raw_offset_mm"].std())
        spread_eb.append(off["offset_mm"].std())
    assert covered / total >= 0.92
    assert np.mean(spread_eb) < np.mean(spread_raw)


# --------------------------------------------------------------------- the tables


def test_summary_and_offsets_have_their_columns_and_one_row_each() -> None:
    dev = sc.compare_to_table(
        sc.simulate_cluster(rng=np.random.default_rng(31), n_producers=9).measurements, TABLE
    ).deviations
    before = dev.copy()
    cs = sc.cluster_summary(dev)
    pd.testing.assert_frame_equal(dev, before)  # input untouched
    assert list(cs.summary.columns) == list(SUMMARY_COLUMNS)
    assert list(cs.summary.columns[: len(columns.CLUSTER_SUMMARY)]) == list(columns.CLUSTER_SUMMARY)
    assert cs.summary["dimension"].tolist() == ["insole_length", "last_ball_girth", "last_length"]
    assert list(cs.offsets.columns) == list(OFFSET_COLUMNS)
    assert len(cs.offsets) == 27
    row = cs.summary.set_index("dimension").loc["last_ball_girth"]
    assert (row["band_low_mm"], row["band_high_mm"]) == pytest.approx((-2.5, 2.5))
    assert row["n_visits"] == 9 * 5 and row["n_shoes"] == 9 * 60
    assert row["method"].startswith("REML producer(offset+slope)/visit(date)/pair/shoe")
    # the within-producer parts add up: icc and the power inputs from the same components
    inside = row["visit_sd_mm"] ** 2 + row["within_sd_mm"] ** 2
    assert row["icc"] == pytest.approx(
        row["between_sd_mm"] ** 2 / (row["between_sd_mm"] ** 2 + inside)
    )
    assert row["within_producer_sd_mm"] == pytest.approx(math.sqrt(inside))


def test_lots_make_visits_when_there_are_no_dates() -> None:
    dev = simulated(32)
    dev = dev.assign(lot=dev["date"].dt.strftime("L%m%d").astype("category"), date=pd.NaT)
    row = sc.cluster_summary(dev).summary.iloc[0]
    assert "visit(lot)" in row["method"]
    assert row["visit_sd_mm"] == pytest.approx(
        sc.cluster_summary(simulated(32)).summary.iloc[0]["visit_sd_mm"], rel=1e-9
    )


def test_without_pair_ids_the_pair_level_is_left_out() -> None:
    dev = simulated(33).assign(pair=pd.NA)
    row = sc.cluster_summary(dev).summary.iloc[0]
    assert math.isnan(row["pair_sd_mm"]) and "pair" not in row["method"]
    assert row["within_sd_mm"] == pytest.approx(row["shoe_sd_mm"])


def test_one_sided_band_counts_one_tail() -> None:
    dev = simulated(34).assign(upper_mm=np.inf)
    row = sc.cluster_summary(dev).summary.iloc[0]
    mean, sd = row["mean_offset_mm"], row["between_sd_mm"]
    assert row["share_missized"] == pytest.approx(stats.norm.cdf(-1.5, mean, sd), rel=1e-9)
    assert row["share_ci_low"] < row["share_missized"] < row["share_ci_high"]


def test_missized_band_is_selectable() -> None:
    dev = simulated(35)
    wide = sc.cluster_summary(dev, band="missized").summary.iloc[0]
    narrow = sc.cluster_summary(dev).summary.iloc[0]
    assert wide["band_high_mm"] == pytest.approx(3.33)
    assert wide["share_missized"] < narrow["share_missized"]


def test_too_few_producers_leave_a_dimension_out() -> None:
    dev = simulated(36, n_producers=2)
    cs = sc.cluster_summary(dev)
    assert cs.summary.empty and cs.offsets.empty
    assert list(cs.summary.columns) == list(SUMMARY_COLUMNS)


def test_rows_without_reference_or_deviation_are_left_out() -> None:
    dev = simulated(37)
    noisy = pd.concat([dev, dev.head(30).assign(deviation_mm=np.nan)], ignore_index=True)
    noisy["status"] = noisy["status"].cat.set_categories(dev["status"].cat.categories)
    noisy.loc[noisy.index[-5:], "status"] = "no_reference"
    a = sc.cluster_summary(dev).summary
    b = sc.cluster_summary(noisy).summary
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"confidence": 1.0}, "confidence"),
        ({"band": "wide"}, "band"),
        ({"min_producers": 1}, "min_producers"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], word: str) -> None:
    with pytest.raises(UsageError, match=word):
        sc.cluster_summary(simulated(38), **kwargs)  # type: ignore[arg-type]


def test_missing_columns_are_named() -> None:
    with pytest.raises(UsageError, match="deviation_mm"):
        sc.cluster_summary(pd.DataFrame({"producer": ["A"], "dimension": ["x"], "size": [41.0]}))


def test_components_g_matrix() -> None:
    g = Components(2.0, 0.5, 0.4, 0.0, 0.0, 1.0).g_matrix()
    np.testing.assert_allclose(g, [[4.0, 0.4], [0.4, 0.25]])


# --------------------------------------------------------------------- the forest plot


def _offsets(n: int, seed: int = 40) -> pd.DataFrame:
    dev = simulated(seed, n_producers=n, visits=2, pairs_per_visit=3, mean_offset_mm=0.5)
    return sc.cluster_summary(dev).offsets


def test_forest_names_every_producer_sorted_by_offset_when_few() -> None:
    from matplotlib.figure import Figure

    from sizecheck.plotting import plot_forest

    off = _offsets(7)
    ax = plot_forest(off, ax=Figure().subplots())
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert labels == off.sort_values("offset_mm")["producer"].tolist()
    assert "size 41" in ax.get_title() and "(7 producers)" in ax.get_title()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(text.startswith("cluster mean") for text in legend)


def test_forest_at_many_producers_names_only_those_clearly_outside() -> None:
    from matplotlib.figure import Figure

    from sizecheck.plotting import plot_forest

    off = _offsets(60, seed=41)
    ax = plot_forest(off, ax=Figure().subplots(), lang="id")
    assert ax.get_yticks().size == 0
    named = {t.get_text() for t in ax.texts}
    outside = off.loc[(off["offset_ci_low_mm"] > 1.5) | (off["offset_ci_high_mm"] < -1.5)]
    ends = off.sort_values("offset_mm")["producer"].iloc[[0, -1]]
    assert named == set(outside["producer"]) | set(ends)
    assert "60 produsen" in ax.get_title()


def test_forest_needs_a_dimension_when_there_are_several() -> None:
    from matplotlib.figure import Figure

    from sizecheck.plotting import plot_forest

    dev = sc.compare_to_table(
        sc.simulate_cluster(rng=np.random.default_rng(42), n_producers=4).measurements, TABLE
    ).deviations
    off = sc.cluster_summary(dev).offsets
    with pytest.raises(UsageError, match="dimension="):
        plot_forest(off, ax=Figure().subplots())
    ax = plot_forest(off, dimension="last_ball_girth", ax=Figure().subplots())
    assert len(ax.get_yticklabels()) == 4
