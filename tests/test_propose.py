"""A cluster table proposed from the producers' data (sizecheck.propose, ``sizecheck propose``).

Independent sources used here:
- ``scipy.stats.linregress`` (the producer's least-squares line) and ``numpy.linalg.lstsq``
  (the level with the step fixed);
- ``scipy.stats.quantile_test(...).confidence_interval()`` (the order-statistic interval
  of a median) and a Monte Carlo count of how often the interval covers the median of a
  skewed distribution (its stated coverage);
- Python's ``statistics.median`` (the leave-one-out medians);
- the common line planted by :func:`sizecheck.simulate_cluster`;
- ``sizecheck measure --table proposal.toml`` run on the same files (the impact table).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import statistics
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

import sizecheck as sc
from sizecheck.cli import app
from sizecheck.columns import PROPOSAL_IMPACT
from sizecheck.errors import UsageError
from sizecheck.propose import (
    IMPACT_EXTRA,
    MIN_PRODUCERS,
    conformity,
    leave_one_out,
    mean_corrections,
    median_interval,
    parse_tolerance,
    producer_line,
)
from sizecheck.report_propose import render_proposal_html
from sizecheck.tables import Tolerance

WIDE = {"COLUMNS": "200"}
PARIS_STEP = 20.0 / 3.0
BASE = 42.0


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=WIDE)
    return result.exit_code, result.stdout, result.stderr


# --------------------------------------------------------------------------- reference functions


def test_producer_line_is_the_least_squares_line() -> None:
    rng = np.random.default_rng(3)
    sizes = rng.choice(np.arange(36, 47, 0.5), 40)
    values = 5.0 + 6.4 * sizes + rng.normal(0, 1.2, 40)
    fit = stats.linregress(sizes, values)
    level, step = producer_line(sizes, values, base_size=BASE)
    assert step == pytest.approx(fit.slope, rel=1e-12)
    assert level == pytest.approx(fit.intercept + fit.slope * BASE, rel=1e-12)
    # With the step fixed: least squares on a column of ones of the values carried to BASE.
    carried = values - PARIS_STEP * (sizes - BASE)
    (expected,), *_ = np.linalg.lstsq(np.ones((40, 1)), carried, rcond=None)
    level_fixed, step_fixed = producer_line(sizes, values, base_size=BASE, step=PARIS_STEP)
    assert level_fixed == pytest.approx(expected, rel=1e-12)
    assert step_fixed == PARIS_STEP


def test_producer_line_needs_two_sizes_to_fit_a_step() -> None:
    level, step = producer_line([41, 41, 41], [273.0, 274.0, 273.5], base_size=BASE)
    assert math.isnan(level) and math.isnan(step)
    level, _ = producer_line([41, 41], [273.0, 274.0], base_size=BASE, step=PARIS_STEP)
    assert level == pytest.approx(273.5 + PARIS_STEP)


@pytest.mark.parametrize("n", range(6, 41, 3))
def test_median_interval_equals_scipys_quantile_test(n: int) -> None:
    x = np.random.default_rng(n).gamma(2.0, 1.5, n)
    ours = median_interval(x)
    ci = stats.quantile_test(x, q=float(np.median(x)), p=0.5).confidence_interval(0.95)
    assert (ours.low, ours.high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert ours.median == pytest.approx(np.median(x))
    assert ours.coverage >= 0.95


def test_median_interval_covers_as_often_as_it_says() -> None:
    # Monte Carlo: 4000 samples of 7 from a skewed distribution (exponential, median ln 2).
    rng = np.random.default_rng(11)
    samples = rng.exponential(1.0, (4000, 7))
    intervals = [median_interval(s) for s in samples]
    hits = [mi.low <= math.log(2) <= mi.high for mi in intervals]
    stated = median_interval(samples[0]).coverage
    assert np.mean(hits) == pytest.approx(stated, abs=0.015)


@pytest.mark.parametrize(("n", "coverage"), [(3, 0.75), (4, 0.875), (5, 0.9375)])
def test_median_interval_of_few_values_states_its_true_coverage(n: int, coverage: float) -> None:
    x = np.arange(1.0, n + 1.0)
    mi = median_interval(x)
    assert (mi.low, mi.high, mi.coverage) == (1.0, float(n), pytest.approx(coverage))
    # scipy gives no interval at all here; ours is the range, never called 95 %.
    ci = stats.quantile_test(x, q=float(np.median(x))).confidence_interval(0.95)
    assert math.isnan(ci.low)


def test_leave_one_out_medians() -> None:
    x = [3.0, 9.0, 1.0, 4.0, 4.5, 20.0]
    expected = [statistics.median(x[:i] + x[i + 1 :]) for i in range(len(x))]
    assert leave_one_out(x).tolist() == expected


@pytest.mark.parametrize(
    "text", ["last_length", "length=1", "last_length=0", "last_length=2/1", "last_length=a"]
)
def test_parse_tolerance_refuses_bad_text(text: str) -> None:
    with pytest.raises(UsageError):
        parse_tolerance(text)


def test_parse_tolerance_reads_a_decimal_comma() -> None:
    name, tol = parse_tolerance("last_ball_girth=2,5/5")
    assert name == "last_ball_girth"
    assert (tol.plus, tol.missized_plus) == (2.5, 5.0)


# --------------------------------------------------------------------------- synthetic cluster

N_CLEAN = 12
CLUSTER_OFFSET = 2.0  # the cluster makes its lasts 2 mm longer than the Paris point
CLUSTER_GRADE = -0.2  # ... and grades 6.47 mm per size


def _cluster(
    tmp_path: Path, seed: int, *, grade: float = CLUSTER_GRADE, visits: object = 4
) -> tuple[sc.Analysis, list[str]]:
    """12 producers around a common line, then one a whole size off (labelled one size
    small: +6.67 mm) and one grading 5 mm per size (right at size 41)."""
    rng = np.random.default_rng(seed)
    offsets = np.r_[
        rng.normal(CLUSTER_OFFSET, 1.0, N_CLEAN), CLUSTER_OFFSET + PARIS_STEP, CLUSTER_OFFSET
    ]
    grades = np.r_[rng.normal(grade, 0.1, N_CLEAN), grade, 5.0 - PARIS_STEP]
    sim = sc.simulate_cluster(
        rng=rng,
        n_producers=N_CLEAN + 2,
        visits=visits,
        pairs_per_visit=5,
        dimensions=("last_length",),
        offsets_mm=offsets,
        grade_errors_mm_per_size=grades,
        size_plan="spread",
    )
    path = sim.to_csv(tmp_path / f"cluster-{seed}.csv")
    producers = sorted(sim.truth["producer"].astype(str))
    return sc.analyse([path]), producers


def _line(estimate: pd.Series, sizes: np.ndarray) -> np.ndarray:
    return float(estimate["level_mm"]) + float(estimate["step_mm"]) * (sizes - BASE)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fitted_proposal_recovers_the_common_line_within_its_interval(
    tmp_path: Path, seed: int
) -> None:
    analysis, _ = _cluster(tmp_path, seed)
    e = sc.propose_table(analysis, select="all", step="fit").estimates.iloc[0]
    # Planted: value = 20/3 s + offset + grade (s - 41); at size 42 the common line is
    # 280 + 2.0 - 0.2 and it grows 20/3 - 0.2 mm per size.
    assert e["level_ci_low_mm"] <= 280.0 + CLUSTER_OFFSET + CLUSTER_GRADE <= e["level_ci_high_mm"]
    assert e["step_ci_low_mm"] <= PARIS_STEP + CLUSTER_GRADE <= e["step_ci_high_mm"]
    assert e["n_producers"] == N_CLEAN + 2


@pytest.mark.parametrize("seed", [0, 1])
def test_paris_step_proposal_recovers_the_common_level(tmp_path: Path, seed: int) -> None:
    analysis, _ = _cluster(tmp_path, seed, grade=0.0)
    proposal = sc.propose_table(analysis, select="all", step="paris")
    e = proposal.estimates.iloc[0]
    assert e["level_ci_low_mm"] <= 280.0 + CLUSTER_OFFSET <= e["level_ci_high_mm"]
    assert e["step_rule"] == "fixed"
    assert proposal.table.dimensions["last_length"].step == PARIS_STEP


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_outliers_do_not_move_it_beyond_the_leave_one_out_bound(tmp_path: Path, seed: int) -> None:
    analysis, producers = _cluster(tmp_path, seed)
    full = sc.propose_table(analysis, select="all", step="fit")
    clean = sc.propose_table(analysis, select=producers[:N_CLEAN], step="fit")
    sizes = np.asarray(full.table.sizes)
    e = full.estimates.iloc[0]
    bound = float(e["loo_max_shift_mm"])
    moved = np.abs(_line(e, sizes) - _line(clean.estimates.iloc[0], sizes)).max()
    assert moved <= bound + 1e-9
    # Each outlier is in the leave-one-out check, and leaving it out moves the proposal
    # by well under the tolerance although it is a whole size (or 1.67 mm per size) off.
    loo = full.stability.set_index("producer")["max_shift_mm"]
    for outlier in producers[N_CLEAN:]:
        assert loo[outlier] <= bound
    assert bound < 1.0
    # A mean of the producers' lines would have moved by more than this bound.
    lines = full.lines.loc[full.lines["chosen"]]
    mean_level = lines["level_mm"].mean()
    clean_mean = lines.loc[lines["producer"].isin(producers[:N_CLEAN]), "level_mm"].mean()
    assert abs(mean_level - clean_mean) > bound


def test_a_producer_with_many_shoes_counts_once(tmp_path: Path) -> None:
    # The one-size-off producer is visited 30 times, the others 4 times: 37 % of the shoes.
    visits = np.r_[np.full(N_CLEAN, 4), 30, 4]
    analysis, producers = _cluster(tmp_path, 5, visits=visits)
    full = sc.propose_table(analysis, select="all", step="fit")
    without = sc.propose_table(
        analysis, select=[p for p in producers if p != producers[N_CLEAN]], step="fit"
    )
    e = full.estimates.iloc[0]
    sizes = np.asarray(full.table.sizes)
    moved = np.abs(_line(e, sizes) - _line(without.estimates.iloc[0], sizes)).max()
    assert moved <= e["loo_max_shift_mm"] + 1e-9
    # Weighted by its shoes (one line through every shoe) it would have pulled the level
    # beyond the in-spec tolerance of 1.5 mm.
    m = analysis.measurements
    pooled_level, _ = producer_line(m["size"], m["value_mm"], base_size=BASE)
    truth = 280.0 + CLUSTER_OFFSET + CLUSTER_GRADE
    assert abs(pooled_level - truth) > 1.5
    assert e["level_ci_low_mm"] <= truth <= e["level_ci_high_mm"]


# --------------------------------------------------------------------------- the example


@pytest.fixture(scope="module")
def example_all() -> sc.Proposal:
    return sc.build_proposal([sc.example_path()], select="all", synthetic=True)


def test_conforming_with_fewer_than_three_producers_leaves_the_dimension_out() -> None:
    result = sc.build_proposal([sc.example_path()], synthetic=True)
    skipped = result.proposal.skipped.set_index("dimension")
    # Against paris-point only two producers conform in each length (Sumber Rejeki and
    # Wates Jaya in insole length, Sumber Rejeki and Puri Makmur in last length;
    # tests/test_measure.py): too few to propose.
    verdicts = result.current.producer_summary
    verdicts = verdicts[verdicts["model"] == ""]  # all models pooled
    for dim in ("insole_length", "last_length"):
        n = int(((verdicts["dimension"] == dim) & (verdicts["verdict"] == "conforming")).sum())
        assert n < MIN_PRODUCERS
        assert skipped.loc[dim, "reason"] == "few_producers"
        assert skipped.loc[dim, "n_chosen"] == n
    assert list(result.table.dimensions) == ["last_ball_girth"]
    left_out = result.impact.loc[result.impact["dimension"] != "last_ball_girth"]
    assert (left_out["verdict_proposal"] == "").all()
    assert left_out["correction_proposal_mm"].isna().all()
    page = render_proposal_html(result, lang="en")
    n_insole = int(skipped.loc["insole_length", "n_chosen"])
    assert f"Insole length: too few producers to propose it — {n_insole} could be used" in page


def test_no_dimension_with_three_producers_is_refused() -> None:
    code, _, err = run(
        "propose",
        "--example",
        "--from",
        "UD Sumber Rejeki",
        "--from",
        "CV Medali Jaya",
        "--out",
        "never.toml",
    )
    assert code == 2
    assert "at least 3" in err
    assert not Path("never.toml").exists()


def test_an_unknown_producer_is_named() -> None:
    code, _, err = run("propose", "--example", "--from", "Nobody", "--out", "never.toml")
    assert code == 2
    assert "'Nobody'" in err and "UD Sumber Rejeki" in err


def test_paris_step_needs_eu_sizes(example_all: sc.Proposal) -> None:
    other = dataclasses.replace(example_all.current, table=sc.load_table("mondopoint"))
    with pytest.raises(UsageError, match="--step fit"):
        sc.propose_table(other, step="paris")


def test_base_size_outside_the_table_is_refused(example_all: sc.Proposal) -> None:
    with pytest.raises(UsageError, match="outside"):
        sc.propose_table(example_all.current, select="all", base_size=60)


def test_a_one_sided_limit_is_never_proposed(example_all: sc.Proposal) -> None:
    proposal = sc.propose_table(
        example_all.current, select="all", tolerances={"last_length": Tolerance("min")}
    )
    assert "last_length" not in proposal.table.dimensions
    assert proposal.skipped.set_index("dimension").loc["last_length", "reason"] == "one_sided"


def test_tolerances_are_carried_or_set(example_all: sc.Proposal) -> None:
    tight = Tolerance("symmetric", 1.0, 1.0, 2.0, 2.0)
    source = sc.grade(
        {"last_length": 280.0}, base_size=42, name="tight", tolerances={"last_length": tight}
    )
    proposal = sc.propose_table(
        example_all.current,
        select="all",
        tolerances_from=source,
        tolerances={"insole_length": Tolerance("symmetric", 0.8, 0.8, 3.0, 3.0)},
    )
    dims = proposal.table.dimensions
    assert dims["last_length"].tolerance == Tolerance("symmetric", 1.0, 1.0, 2.0, 2.0)
    assert dims["insole_length"].tolerance == Tolerance("symmetric", 0.8, 0.8, 3.0, 3.0)
    # A dimension the source table lacks gets the proposed default for a girth.
    assert dims["last_ball_girth"].tolerance == Tolerance("symmetric", 2.5, 2.5, 5.0, 5.0)
    sources = proposal.estimates.set_index("dimension")["tolerance_from"]
    assert sources.to_dict() == {
        "insole_length": "set",
        "last_length": "table tight",
        "last_ball_girth": "default",
    }


def test_the_proposal_is_the_median_of_the_chosen_lines(example_all: sc.Proposal) -> None:
    p = example_all.proposal
    for e in p.estimates.to_dict(orient="records"):
        chosen = p.lines.loc[(p.lines["dimension"] == e["dimension"]) & p.lines["chosen"]]
        assert e["level_mm"] == pytest.approx(statistics.median(chosen["level_mm"]))
        assert e["base_value_mm"] == pytest.approx(round(e["level_mm"], 1))
        rule = p.table.dimensions[e["dimension"]]
        assert rule.base_value == e["base_value_mm"]
        assert rule.step == e["step_value_mm"]
    # Bengkel Pak Darmo measured 3 shoes (fewer than min_n = 8): never used.
    darmo = p.lines.loc[p.lines["producer"] == "Bengkel Pak Darmo"]
    assert set(darmo["reason"]) == {"insufficient_data"}


def test_the_difference_from_the_paris_point_per_size(example_all: sc.Proposal) -> None:
    sizes = example_all.proposal.sizes
    paris = sc.load_table("paris-point")
    d = sizes.loc[sizes["dimension"] == "last_length"]
    expected = example_all.table.nominal("last_length", d["size"]) - paris.nominal(
        "last_length", d["size"]
    )
    np.testing.assert_allclose(d["diff_paris_mm"], expected)
    np.testing.assert_allclose(d["diff_paris_sizes"], expected / PARIS_STEP)
    assert (d["loo_low_mm"] <= d["loo_high_mm"]).all()


def test_mean_corrections_use_per_size_corrections_when_the_analysis_has_them(
    example_all: sc.Proposal,
) -> None:
    analysis = dataclasses.replace(example_all.current)
    dev = analysis.deviations
    dev = dev.loc[dev["status"] != "no_reference"]
    per_size = (
        dev.groupby(["producer", "dimension", "size"], observed=True)
        .agg(
            n=("value_mm", "size"), nominal_mm=("nominal_mm", "first"), mean_mm=("value_mm", "mean")
        )
        .reset_index()
    )
    per_size["correction_mm"] = per_size["nominal_mm"] - per_size["mean_mm"]
    analysis.corrections = per_size  # type: ignore[attr-defined]
    via_sizes, basis = mean_corrections(analysis)
    assert basis == "corrections"
    without = dataclasses.replace(example_all.current, corrections=pd.DataFrame())
    via_bias, basis = mean_corrections(without)
    assert basis == "bias"
    both = via_sizes.merge(via_bias, on=["producer", "dimension"], suffixes=("_s", "_b"))
    assert len(both) == len(via_bias)
    np.testing.assert_allclose(both["correction_mm_s"], both["correction_mm_b"], atol=1e-9)


# --------------------------------------------------------------------------- command and files


@pytest.fixture(scope="module")
def proposed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`sizecheck propose --example --from all` run for real, in a subprocess."""
    out = tmp_path_factory.mktemp("proposal") / "medali-2027.toml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sizecheck",
            "propose",
            "--example",
            "--from",
            "all",
            "--step",
            "fit",
            "--out",
            str(out),
            "--lang",
            "id",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "bukan standar" in proc.stdout
    return out


def test_the_proposal_round_trips_through_table(proposed: Path) -> None:
    table = sc.load_table(proposed)
    assert table.status == "proposal"
    assert table.name == "medali-2027"
    assert "no SNI defines shoe sizes" in table.source
    again = sc.build_proposal([sc.example_path()], select="all", step="fit", name="medali-2027")
    assert table == again.table
    written, fresh = (
        tomllib.loads(text) for text in (proposed.read_text("utf-8"), again.proposal.toml)
    )
    for data in (written, fresh):
        del data["provenance"]["created"]
    assert written == fresh
    code, out, _ = run("tables", "show", str(proposed))
    assert code == 0 and "proposal" in out


def test_the_provenance_says_where_the_numbers_come_from(proposed: Path) -> None:
    data = tomllib.loads(proposed.read_text("utf-8"))
    prov = data["provenance"]
    assert prov["version"] == sc.__version__
    assert prov["select"] == "all" and prov["step_rule"] == "fit"
    sha = hashlib.sha256(sc.example_path().read_bytes()).hexdigest()
    assert prov["inputs"] == [{"source": sc.example_path().name, "sha256": sha}]
    m = sc.read_measurements([sc.example_path()], table="paris-point").measurements
    for dim, p in prov["dimensions"].items():
        rows = m.loc[(m["dimension"] == dim) & m["producer"].isin(p["producers"])]
        assert p["n_measurements"] == len(rows)
        assert p["first_date"] == rows["date"].min().date().isoformat()
        assert p["last_date"] == rows["date"].max().date().isoformat()
        assert p["level_ci_mm"][0] <= p["level_mm"] <= p["level_ci_mm"][1]
        assert "Bengkel Pak Darmo" not in p["producers"]


def test_the_impact_agrees_with_measure_against_the_proposal(proposed: Path) -> None:
    impact = pd.read_csv(proposed.parent / "proposal_impact.csv", keep_default_na=False)
    assert list(impact.columns) == [*PROPOSAL_IMPACT, *IMPACT_EXTRA]
    report = proposed.parent / "measured"
    for table, column in ((str(proposed), "proposal"), ("paris-point", "current")):
        code, _, err = run(
            "measure", "--example", "--table", table, "--out", str(report), "--no-charts"
        )
        assert code == 0, err
        summary = pd.read_csv(report / "producer_summary.csv", keep_default_na=False)
        summary = summary.loc[summary["model"].astype(str) == ""]  # all models pooled
        summary["bias_mm"] = pd.to_numeric(summary["bias_mm"])
        if (report / "corrections.csv").exists():
            c = pd.read_csv(report / "corrections.csv", keep_default_na=False)
            c = c.loc[c["model"].astype(str) == ""] if "model" in c.columns else c
            c["wx"] = c["n"] * c["correction_mm"]
            g = c.groupby(["producer", "dimension"])[["wx", "n"]].sum()
            expected = (g["wx"] / g["n"]).rename("expected").reset_index()
        else:
            expected = summary.assign(expected=-summary["bias_mm"])
        both = impact.merge(summary, on=["producer", "dimension"]).merge(
            expected.loc[:, ["producer", "dimension", "expected"]], on=["producer", "dimension"]
        )
        assert len(both) == len(summary) == len(impact)
        assert (both[f"verdict_{column}"] == both["verdict"]).all()
        np.testing.assert_allclose(
            pd.to_numeric(both[f"correction_{column}_mm"]), both["expected"], atol=1e-9
        )
        # How many producers conform to each table, as the page counts them.
        judged = summary["verdict"] != "insufficient_data"
        conforming = summary.loc[judged & (summary["verdict"] == "conforming")]
        counts = conformity(impact).set_index("dimension")[f"conforming_{column}"]
        expected_counts = conforming.groupby("dimension").size()
        assert counts.to_dict() == expected_counts.reindex(counts.index, fill_value=0).to_dict()


def test_the_page_and_charts_are_written_beside_the_table(proposed: Path) -> None:
    folder = proposed.parent
    page = (folder / "proposal.html").read_text("utf-8")
    assert 'lang="id"' in page
    assert "USULAN" in page and "bukan standar" in page
    assert page.count("data:image/png;base64,") == 6
    for dim in ("insole_length", "last_length", "last_ball_girth"):
        for suffix in ("", "_corrections"):
            png = folder / "charts" / f"proposal_{dim}{suffix}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<script" not in page


def test_propose_removes_only_its_own_charts_and_refuses_a_measure_folder(
    tmp_path: Path,
) -> None:
    """A picture of the user's named like a proposal chart stays; the proposal's own
    charts of an earlier run go; a measure report's folder is refused (nothing changes)."""
    charts = tmp_path / "charts"
    charts.mkdir()
    (charts / "proposal_photo.png").write_bytes(b"mine")
    code, _, err = run("propose", "--example", "--from", "all", "--out", str(tmp_path / "p.toml"))
    assert code == 0, err
    ours = sorted(p.name for p in charts.glob("proposal_insole*.png"))
    assert ours, "the first run draws the proposal's charts"
    code, _, err = run("propose", "--example", "--from", "all", "--no-charts",
                       "--out", str(tmp_path / "p.toml"))  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in charts.iterdir()) == ["proposal_photo.png"]
    assert (charts / "proposal_photo.png").read_bytes() == b"mine"

    report = tmp_path / "report"
    assert run("measure", "--example", "--no-charts", "--out", str(report))[0] == 0
    before = {p: p.read_bytes() for p in report.rglob("*") if p.is_file()}
    code, _, err = run("propose", "--example", "--from", "all", "--out", str(report / "p.toml"))
    assert code == 2 and "sizecheck measure" in err
    assert {p: p.read_bytes() for p in report.rglob("*") if p.is_file()} == before


def test_a_table_not_written_by_propose_is_never_overwritten(tmp_path: Path) -> None:
    mine = tmp_path / "medali-2026.toml"
    mine.write_text(sc.dumps_table(sc.grade({"last_length": 280.0}, base_size=42, name="m")))
    before = mine.read_bytes()
    code, _, err = run("propose", "--example", "--from", "all", "--out", str(mine), "--no-charts")
    assert code == 2 and "not written by sizecheck" in err
    assert mine.read_bytes() == before
    ours = tmp_path / "p.toml"
    # Its own output is replaced; the second run, without charts, removes the page and
    # charts of the first, so the folder never shows another proposal's page.
    for extra in (["--step", "fit"], ["--no-charts"]):
        code, _, err = run("propose", "--example", "--from", "all", "--out", str(ours), *extra)
        assert code == 0, err
    assert not (tmp_path / "proposal.html").exists()
    assert not list((tmp_path / "charts").glob("*.png"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".sizecheck-manifest.json",  # the list of what sizecheck wrote here
        "medali-2026.toml",
        "p.toml",
        "proposal_impact.csv",
    ]


def test_out_must_be_a_toml_path(tmp_path: Path) -> None:
    code, _, err = run("propose", "--example", "--out", str(tmp_path / "report"))
    assert code == 2 and ".toml" in err


def test_hostile_producer_names_are_escaped_on_the_page(tmp_path: Path) -> None:
    rows = []
    rng = np.random.default_rng(0)
    names = [
        "<script>alert(1)</script>",
        "A & B",
        "Sepatu $x$",
        '=HYPERLINK("http://x")',
        "UD \u202eayaJ",
    ]
    for i, name in enumerate(names):
        for size in (38, 40, 42, 44):
            for _ in range(3):
                value = size * PARIS_STEP + i + rng.normal(0, 0.5)
                rows.append({"producer": name, "size": size, "last_length": round(value, 1)})
    path = tmp_path / "hostile.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    result = sc.build_proposal([path], select="all")
    out = sc.write_proposal(result, tmp_path / "p.toml", lang="en")
    page = (tmp_path / "proposal.html").read_text("utf-8")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "A &amp; B" in page
    assert "UD [U+202E]ayaJ" in page and "\u202e" not in page
    assert tmp_path / "p.toml" in out
    impact = pd.read_csv(tmp_path / "proposal_impact.csv")
    assert '\'=HYPERLINK("http://x")' in set(impact["producer"])
    # The TOML keeps every name as it is, and loads.
    assert (
        "UD \u202eayaJ"
        in tomllib.loads((tmp_path / "p.toml").read_text("utf-8"))["provenance"]["dimensions"][
            "last_length"
        ]["producers"]
    )
    # Five producers: the interval is their range, and the page says it covers 94%.
    assert "94%" in page


def test_plot_functions_return_their_axes(example_all: sc.Proposal) -> None:
    from matplotlib.figure import Figure

    p = example_all.proposal
    ax = Figure().subplots()
    assert sc.plotting.plot_proposal(p.sizes, p.lines, dimension="last_length", ax=ax) is ax
    # The zero line, the proposal and one line per producer measured.
    assert len(ax.get_lines()) == 2 + len(example_all.current.producers)
    ax = sc.plotting.plot_proposal(
        p.sizes, dimension="last_length", estimates=p.estimates, ax=Figure().subplots()
    )
    assert len(ax.collections) >= 2  # the leave-one-out band and the level's interval
    ax2 = Figure().subplots()
    sc.plotting.plot_proposal_corrections(example_all.impact, dimension="last_length", ax=ax2)
    assert len(ax2.get_yticklabels()) == len(example_all.current.producers)
    with pytest.raises(UsageError, match="dimension="):
        sc.plotting.plot_proposal(p.sizes)
