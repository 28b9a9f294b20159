"""Power and sample size: the formulas against simulation and against statsmodels.

Independent sources: the rejection rate of the tests the formulas describe, run on
clusters drawn by :func:`sizecheck.simulate_cluster` (Monte-Carlo error stated); the
variance of a visit mean computed from an explicitly built covariance matrix; and
statsmodels' ``TTestPower`` (one-sample t-test power) for the offset.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sizecheck as sc
from sizecheck.errors import UsageError
from sizecheck.power import DESIGN_COLUMNS, design_effect, design_power, sample_size

TABLE = sc.load_table("paris-point")
N_PRODUCERS = 1500  # producers per simulated setting: Monte-Carlo SE <= 1.3 points


def simulate(
    m: int, k: int, sd: float, pair_icc: float, visit_icc: float, **planted: float
) -> pd.DataFrame:
    """One dimension of N_PRODUCERS producers with exactly the planted offset/grading."""
    sim = sc.simulate_cluster(
        rng=np.random.default_rng(int(1000 * m + 10 * k + 100 * pair_icc)),
        n_producers=N_PRODUCERS,
        visits=k,
        pairs_per_visit=m,
        dimensions=("last_length",),
        offsets_mm=planted.get("offset", 0.0),
        grade_errors_mm_per_size=planted.get("grade", 0.0),
        visit_sd_mm=math.sqrt(visit_icc) * sd,
        pair_sd_mm=math.sqrt(pair_icc - visit_icc) * sd,
        shoe_sd_mm=math.sqrt(1.0 - pair_icc) * sd,
        resolution_mm=0.0,
        size_plan="spread",
        center_size=41.0,
    )
    d = sc.compare_to_table(sim.measurements, TABLE).deviations
    return pd.DataFrame(
        {
            "producer": d["producer"].cat.codes.to_numpy(),
            "visit": d["date"].to_numpy(),
            "pair": d["pair"].to_numpy(),
            "size": d["size"].to_numpy(float),
            "y": d["deviation_mm"].to_numpy(float),
        }
    )


def offset_rejections(d: pd.DataFrame, alpha: float = 0.05) -> float:
    """Share of producers whose t-test on visit means rejects offset 0."""
    means = d.groupby(["producer", "visit"])["y"].mean().groupby(level=0)
    k = means.size()
    t = means.mean() / (means.std() / np.sqrt(k))
    return float((2 * stats.t.sf(np.abs(t), k - 1) < alpha).mean())


def grading_rejections(d: pd.DataFrame, alpha: float = 0.05) -> float:
    """Share of producers whose within-visit slope on pair means rejects slope 0."""
    pm = d.groupby(["producer", "visit", "pair"], as_index=False).agg(
        size=("size", "first"), y=("y", "mean")
    )
    by_visit = pm.groupby(["producer", "visit"])
    pm["sc"] = pm["size"] - by_visit["size"].transform("mean")
    pm["yc"] = pm["y"] - by_visit["y"].transform("mean")
    pm["sxy"], pm["sxx"] = pm["sc"] * pm["yc"], pm["sc"] ** 2
    per = pm.groupby("producer")
    slope = per["sxy"].sum() / per["sxx"].sum()
    pm["resid2"] = (pm["yc"] - slope.loc[pm["producer"]].to_numpy() * pm["sc"]) ** 2
    n_visits = per["visit"].nunique()
    df = per.size() - n_visits - 1
    se = np.sqrt(per["resid2"].sum() / df / per["sxx"].sum())
    return float((2 * stats.t.sf(np.abs(slope / se), df) < alpha).mean())


def mc_tolerance(p: float) -> float:
    """3.5 Monte-Carlo standard errors of a rejection rate over N_PRODUCERS producers."""
    return 3.5 * math.sqrt(max(p * (1 - p), 0.01) / N_PRODUCERS)


@pytest.mark.parametrize(
    ("m", "k", "sd", "pair_icc", "visit_icc", "offset"),
    [
        (6, 4, 1.0, 0.5, 0.2, 1.5),  # day effect dominates
        (2, 4, 1.0, 0.5, 0.2, 1.5),
        (1, 5, 1.0, 0.3, 0.1, 1.0),  # one pair a visit
        (3, 6, 1.2, 0.6, 0.3, 0.8),
    ],
)
def test_offset_power_matches_simulation(
    m: int, k: int, sd: float, pair_icc: float, visit_icc: float, offset: float
) -> None:
    expected = design_power(
        pairs_per_visit=m,
        visits=k,
        sd_mm=sd,
        pair_icc=pair_icc,
        visit_icc=visit_icc,
        offset_mm=offset,
    )["power_offset"]
    observed = offset_rejections(simulate(m, k, sd, pair_icc, visit_icc, offset=offset))
    assert observed == pytest.approx(expected, abs=mc_tolerance(expected))


@pytest.mark.parametrize(
    ("m", "k", "sd", "pair_icc", "visit_icc", "grade"),
    [(2, 3, 1.0, 0.5, 0.2, 0.3), (4, 3, 1.5, 0.6, 0.3, 0.3), (5, 2, 1.0, 0.4, 0.35, 0.2)],
)
def test_grading_power_matches_simulation(
    m: int, k: int, sd: float, pair_icc: float, visit_icc: float, grade: float
) -> None:
    expected = design_power(
        pairs_per_visit=m,
        visits=k,
        sd_mm=sd,
        pair_icc=pair_icc,
        visit_icc=visit_icc,
        grade_error_mm_per_size=grade,
    )["power_grading"]
    observed = grading_rejections(simulate(m, k, sd, pair_icc, visit_icc, grade=grade))
    assert observed == pytest.approx(expected, abs=mc_tolerance(expected))


def test_without_an_effect_the_tests_reject_at_alpha() -> None:
    d = simulate(3, 4, 1.0, 0.5, 0.25)
    assert offset_rejections(d) == pytest.approx(0.05, abs=mc_tolerance(0.05))
    assert grading_rejections(d) == pytest.approx(0.05, abs=mc_tolerance(0.05))
    tiny = design_power(
        pairs_per_visit=3, visits=4, sd_mm=1.0, pair_icc=0.5, visit_icc=0.25, offset_mm=1e-12
    )
    assert tiny["power_offset"] == pytest.approx(0.05, abs=1e-9)


def test_offset_power_equals_statsmodels_one_sample_t_power() -> None:
    TTestPower = pytest.importorskip("statsmodels.stats.power").TTestPower  # the test extra

    m, k, sd, rp, rv, offset = 4, 5, 1.3, 0.55, 0.15, 1.2
    visit_mean_sd = math.sqrt(sd**2 * design_effect(m, rp, rv) / (2 * m))
    expected = TTestPower().power(effect_size=offset / visit_mean_sd, nobs=k, alpha=0.05)
    got = design_power(
        pairs_per_visit=m, visits=k, sd_mm=sd, pair_icc=rp, visit_icc=rv, offset_mm=offset
    )
    assert got["power_offset"] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    ("m", "n", "rp", "rv"), [(1, 2, 0.4, 0.1), (6, 2, 0.5, 0.2), (4, 1, 0.3, 0.3)]
)
def test_design_effect_is_the_variance_of_a_visit_mean(
    m: int, n: int, rp: float, rv: float
) -> None:
    # Build the m*n x m*n correlation matrix of one visit's shoes and average it.
    pair = np.repeat(np.arange(m), n)
    corr = np.where(pair[:, None] == pair[None, :], rp, rv)
    np.fill_diagonal(corr, 1.0)
    var_of_mean = corr.sum() / (m * n) ** 2
    assert design_effect(m, rp, rv, n) / (m * n) == pytest.approx(var_of_mean, rel=1e-12)


def test_sample_size_finds_the_fewest_visits_that_reach_the_power() -> None:
    plan = sample_size(offset_mm=1.0, sd_mm=1.2, pair_icc=0.5, visit_icc=0.25, power=0.8)
    assert plan.reached
    assert list(plan.designs.columns) == list(DESIGN_COLUMNS)
    args = {"sd_mm": 1.2, "pair_icc": 0.5, "visit_icc": 0.25, "offset_mm": 1.0}
    m, k = plan.pairs_per_visit, plan.visits
    assert design_power(pairs_per_visit=m, visits=k, **args)["power_offset"] >= 0.8
    # no design with fewer visits reaches it, up to 12 pairs a visit
    for mm in range(1, 13):
        assert design_power(pairs_per_visit=mm, visits=k - 1, **args)["power_offset"] < 0.8
    # and no fewer pairs a visit on that many visits
    if m > 1:
        assert design_power(pairs_per_visit=m - 1, visits=k, **args)["power_offset"] < 0.8
    assert plan.designs["recommended"].sum() == 1
    rec = plan.designs.loc[plan.designs["recommended"]].iloc[0]
    assert (rec["pairs_per_visit"], rec["visits"]) == (m, k)
    assert plan.to_dict()["shoes"] == m * k * 2


def test_more_pairs_cannot_beat_the_day_effect() -> None:
    # With a strong visit ICC, power at 2 visits stays low however many pairs are measured.
    many = design_power(
        pairs_per_visit=1000, visits=3, sd_mm=1.0, pair_icc=0.6, visit_icc=0.5, offset_mm=0.8
    )
    limit_se = math.sqrt(0.5 / 3)  # visit variance / k
    limit = (
        1
        - stats.nct.cdf(stats.t.ppf(0.975, 2), 2, 0.8 / limit_se)
        + stats.nct.cdf(-stats.t.ppf(0.975, 2), 2, 0.8 / limit_se)
    )
    assert many["power_offset"] == pytest.approx(limit, abs=2e-3)


def test_both_effects_must_reach_the_power() -> None:
    both = sample_size(
        offset_mm=1.5, grade_error_mm_per_size=0.3, sd_mm=1.0, pair_icc=0.5, visit_icc=0.2
    )
    assert both.power_offset >= 0.8 and both.power_grading >= 0.8
    assert both.pairs_per_visit is not None and both.pairs_per_visit >= 2


def test_fixed_pairs_per_visit_searches_the_visits() -> None:
    plan = sample_size(offset_mm=1.0, sd_mm=1.0, pair_icc=0.5, visit_icc=0.2, pairs_per_visit=4)
    assert plan.pairs_per_visit == 4 and len(plan.designs) == 1


def test_unreachable_power_says_so() -> None:
    plan = sample_size(offset_mm=0.05, sd_mm=2.0, pair_icc=0.5, visit_icc=0.4, max_visits=6)
    assert not plan.reached and plan.visits is None
    assert plan.designs["visits"].isna().all()


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({}, "offset"),
        ({"offset_mm": 1.0, "pair_icc": 0.1, "visit_icc": 0.3}, "visit_icc <= pair_icc"),
        ({"offset_mm": 1.0, "sd_mm": 0.0}, "sd_mm"),
        ({"offset_mm": 1.0, "power": 1.0}, "power"),
        ({"offset_mm": 0.0}, "offset_mm"),
        ({"offset_mm": 1.0, "alpha": 0.0}, "alpha"),
    ],
)
def test_bad_inputs_are_named(kwargs: dict[str, float], word: str) -> None:
    args: dict[str, float] = {"sd_mm": 1.0, "pair_icc": 0.5, "visit_icc": 0.2}
    args.update(kwargs)
    with pytest.raises(UsageError, match=word):
        sample_size(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the CLI

POWER_ARGS = ["plan", "--power", "0.8", "--offset", "1.5", "--sd", "1.0", "--pair-icc", "0.5",
              "--visit-icc", "0.2"]  # fmt: skip


def test_plan_power_says_how_many_pairs_on_how_many_visits() -> None:
    from typer.testing import CliRunner

    from sizecheck.cli import app

    plan = sample_size(offset_mm=1.5, sd_mm=1.0, pair_icc=0.5, visit_icc=0.2)
    m, k = plan.pairs_per_visit, plan.visits
    result = CliRunner().invoke(app, [*POWER_ARGS, "--lang", "en"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"measure {m} pairs (left and right) on each of {k} visits" in text
    assert f"{m * k} pairs, {2 * m * k} shoes per producer" in text
    assert "Kish 1965" in text
    result = CliRunner().invoke(app, [*POWER_ARGS, "--lang", "id"])
    text = " ".join(result.output.split())
    assert f"ukur {m} pasang (kiri dan kanan) pada setiap kunjungan, sebanyak {k} kunjungan" in text
    assert "selisih tetap 1,5 mm" in text


def test_plan_power_json_is_the_library_plan() -> None:
    import json

    from typer.testing import CliRunner

    from sizecheck.cli import app

    result = CliRunner().invoke(
        app, [*POWER_ARGS, "--grading", "0.4", "--sizes", "38,40,42,44", "--json"]
    )
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    plan = sample_size(
        offset_mm=1.5,
        grade_error_mm_per_size=0.4,
        sd_mm=1.0,
        pair_icc=0.5,
        visit_icc=0.2,
        sizes=[38.0, 40.0, 42.0, 44.0],
    )
    assert got == json.loads(json.dumps(plan.to_dict()))
    assert got["pairs"] == got["pairs_per_visit"] * got["visits"]


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["plan", "--power", "0.8", "--offset", "1", "--sd", "1"], "--pair-icc"),
        (["plan", "--offset", "1"], "only with --power"),
        (["plan"], "--lot-size and --aql"),
        ([*POWER_ARGS, "--lot-size", "180"], "leave out --lot-size"),
        ([*POWER_ARGS, "--sizes", "x-y"], "--sizes"),
        (
            [
                "plan",
                "--power",
                "0.8",
                "--sd",
                "1",
                "--pair-icc",
                "0.1",
                "--visit-icc",
                "0.3",
                "--offset",
                "1",
            ],
            "visit_icc <= pair_icc",
        ),
    ],
)
def test_plan_power_bad_usage_exits_2_with_one_line(args: list[str], word: str) -> None:
    from typer.testing import CliRunner

    from sizecheck.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert word in " ".join(result.output.split())
    assert "Traceback" not in result.output
