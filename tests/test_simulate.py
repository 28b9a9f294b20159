"""The seeded cluster simulator: layout equal to what sizecheck reads, planted parts exact."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sizecheck as sc
from sizecheck import columns
from sizecheck.errors import UsageError
from sizecheck.simulate import spread_sizes, write_cluster_csv

TABLE = sc.load_table("paris-point")
QUIET = {  # every random part switched off, so planted parts can be read back exactly
    "between_sd_mm": 0.0,
    "grade_sd_mm_per_size": 0.0,
    "visit_sd_mm": 0.0,
    "pair_sd_mm": 0.0,
    "shoe_sd_mm": 0.0,
    "resolution_mm": 0.0,
}


def deviations(sim: sc.SimulatedCluster) -> pd.DataFrame:
    return sc.compare_to_table(sim.measurements, TABLE).deviations


def test_same_seed_same_cluster_other_seed_other_cluster() -> None:
    a = sc.simulate_cluster(rng=np.random.default_rng(11), n_producers=4)
    b = sc.simulate_cluster(rng=np.random.default_rng(11), n_producers=4)
    c = sc.simulate_cluster(rng=np.random.default_rng(12), n_producers=4)
    pd.testing.assert_frame_equal(a.measurements, b.measurements)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not np.array_equal(a.measurements["value_mm"], c.measurements["value_mm"])


def test_written_csv_reads_back_as_the_same_measurements(tmp_path) -> None:
    # The frame must be what read_measurements gives for the CSV measure reads:
    # same columns, dtypes, categories, rows and values (half sizes, incomplete pairs).
    path = tmp_path / "cluster.csv"
    sim = write_cluster_csv(
        path,
        rng=np.random.default_rng(3),
        n_producers=6,
        visits=3,
        pairs_per_visit=4,
        sizes=[38.0, 39.5, 41.0, 44.5],
        drop_share=0.15,
    )
    read = sc.read_measurements(path, table=TABLE)
    assert read.rejects.empty
    assert list(sim.measurements.columns) == list(columns.MEASUREMENTS)
    pd.testing.assert_frame_equal(sim.measurements, read.measurements)


def test_benchmark_cluster_has_the_shape_of_issue_14(tmp_path) -> None:
    sim = write_cluster_csv(tmp_path / "e.csv", rng=np.random.default_rng(14))
    m = sim.measurements
    assert m["producer"].nunique() == 120
    assert m.groupby("producer", observed=True)["pair"].nunique().eq(30).all()
    assert len(m) == 120 * 30 * 2 * 3
    assert set(m["dimension"].astype(str)) == {"insole_length", "last_length", "last_ball_girth"}
    assert m["date"].notna().all()
    assert len(pd.read_csv(tmp_path / "e.csv")) == 120 * 30 * 2


def test_planted_offsets_and_grading_come_back_exactly() -> None:
    sim = sc.simulate_cluster(
        rng=np.random.default_rng(5),
        n_producers=3,
        dimensions=("last_length", "last_ball_girth"),
        offsets_mm=[[1.0, -2.0], [0.0, 0.5], [3.0, 3.0]],
        grade_errors_mm_per_size=[0.0, -1.67, 0.4],
        center_size=41.0,
        **QUIET,
    )
    d = deviations(sim).merge(sim.truth, on=["producer", "dimension"])
    expected = d["offset_mm"] + d["grade_error_mm_per_size"] * (d["size"] - 41.0)
    np.testing.assert_allclose(d["deviation_mm"], expected, atol=1e-9)
    # per dimension: the girth offsets are the second column
    truth = sim.truth.set_index(["producer", "dimension"])["offset_mm"]
    assert truth[("Produsen 001", "last_ball_girth")] == -2.0


def test_a_step_starts_on_a_visit_after_the_first_and_stays() -> None:
    sim = sc.simulate_cluster(
        rng=np.random.default_rng(8),
        n_producers=20,
        visits=6,
        pairs_per_visit=2,
        dimensions=("last_length",),
        offsets_mm=0.0,
        step_share=0.5,
        step_mm=3.0,
        **{k: v for k, v in QUIET.items() if k != "between_sd_mm"},
    )
    d = deviations(sim).merge(sim.truth, on=["producer", "dimension"])
    stepped = d["step_date"].notna()
    assert 0 < sim.truth["step_date"].notna().sum() < 20
    after = stepped & (d["date"] >= d["step_date"])
    np.testing.assert_allclose(d.loc[after, "deviation_mm"], 3.0, atol=1e-9)
    np.testing.assert_allclose(d.loc[~after, "deviation_mm"], 0.0, atol=1e-9)
    first = d.groupby("producer", observed=True)["date"].transform("min")
    assert (d.loc[stepped, "step_date"] > first[stepped]).all()


def test_mismatch_is_right_minus_left() -> None:
    sim = sc.simulate_cluster(
        rng=np.random.default_rng(9),
        n_producers=2,
        dimensions=("insole_length",),
        offsets_mm=0.0,
        mismatch_mm=[1.0, -2.0],
        **{k: v for k, v in QUIET.items() if k != "between_sd_mm"},
    )
    d = deviations(sim)
    wide = d.pivot_table(
        index=["producer", "pair"], columns="foot", values="deviation_mm", observed=True
    )
    diff = (wide["R"] - wide["L"]).groupby(level="producer", observed=True).unique()
    assert diff["Produsen 001"].tolist() == [1.0]
    assert diff["Produsen 002"].tolist() == [-2.0]


def test_readings_are_rounded_to_the_resolution() -> None:
    sim = sc.simulate_cluster(rng=np.random.default_rng(1), n_producers=3, resolution_mm=0.5)
    v = sim.measurements["value_mm"].to_numpy()
    np.testing.assert_array_equal(v * 2, np.round(v * 2))
    raw = sc.simulate_cluster(rng=np.random.default_rng(1), n_producers=3, resolution_mm=0)
    assert not np.array_equal(
        raw.measurements["value_mm"] * 2, np.round(raw.measurements["value_mm"] * 2)
    )


def test_spread_plan_puts_the_same_sizes_in_every_visit() -> None:
    sim = sc.simulate_cluster(
        rng=np.random.default_rng(2),
        n_producers=3,
        visits=4,
        pairs_per_visit=5,
        size_plan="spread",
        dimensions=("last_length",),
    )
    m = sim.measurements.loc[sim.measurements["foot"] == "L"]
    for _, sizes in m.groupby(["producer", "date"], observed=True)["size"]:
        assert sorted(sizes) == [36.0, 38.0, 41.0, 44.0, 46.0]
    assert spread_sizes(range(36, 48), 4).tolist() == [36.0, 40.0, 43.0, 47.0]


def test_visits_are_distinct_dates_and_counts_per_producer_hold() -> None:
    sim = sc.simulate_cluster(
        rng=np.random.default_rng(4),
        n_producers=3,
        visits=[2, 5, 9],
        pairs_per_visit=[1, 3, 2],
        dimensions=("last_length",),
        period_days=20,
    )
    m = sim.measurements
    per = m.groupby("producer", observed=True).agg(
        dates=("date", "nunique"), pairs=("pair", "nunique")
    )
    assert per["dates"].tolist() == [2, 5, 9]
    assert per["pairs"].tolist() == [2, 15, 18]
    assert sim.truth["visits"].tolist() == [2, 5, 9]
    assert (m["date"] < pd.Timestamp("2026-01-05") + pd.Timedelta(days=20)).all()


def test_drop_share_leaves_incomplete_pairs() -> None:
    sim = sc.simulate_cluster(
        rng=np.random.default_rng(6), n_producers=10, drop_share=0.3, dimensions=("last_length",)
    )
    shoes = sim.measurements.groupby(["producer", "pair"], observed=True).size()
    assert (shoes == 1).any() and (shoes == 2).any()
    assert len(sim.measurements) < 10 * 30 * 2


def test_variance_parts_are_drawn_with_the_planted_sds() -> None:
    # Between-visit and within-pair spreads, read off a large balanced cluster with
    # plain pandas (no model): the left-right difference has variance 2 * shoe_sd**2.
    sim = sc.simulate_cluster(
        rng=np.random.default_rng(21),
        n_producers=200,
        visits=6,
        pairs_per_visit=6,
        dimensions=("last_length",),
        between_sd_mm=0.0,
        grade_sd_mm_per_size=0.0,
        visit_sd_mm=1.0,
        pair_sd_mm=0.5,
        shoe_sd_mm=0.7,
        resolution_mm=0.0,
    )
    d = deviations(sim)
    wide = d.pivot_table(
        index=["producer", "pair"], columns="foot", values="deviation_mm", observed=True
    )
    assert math.isclose((wide["R"] - wide["L"]).var() / 2, 0.7**2, rel_tol=0.05)
    pairs = d.groupby(["producer", "date", "pair"], observed=True)["deviation_mm"].mean()
    visit_means = pairs.groupby(level=[0, 1], observed=True).mean()
    # var(visit mean) = visit² + (pair² + shoe²/2) / 6
    expected = 1.0 + (0.25 + 0.49 / 2) / 6
    assert math.isclose(visit_means.var(), expected, rel_tol=0.08)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"n_producers": 0}, "at least one producer"),
        ({"shoes_per_pair": 3}, "shoes_per_pair"),
        ({"visit_sd_mm": -1.0}, "visit_sd_mm"),
        ({"between_sd_mm": [1.0, 2.0]}, "between_sd_mm"),
        ({"offsets_mm": [1.0, 2.0]}, "offsets_mm"),
        ({"visits": 0}, "visits"),
        ({"visits": 10, "period_days": 5}, "distinct days"),
        ({"sizes": [30.0]}, "inside table"),
        ({"dimensions": ("nose_length",)}, "no dimension"),
        ({"drop_share": 1.0}, "drop_share"),
        ({"size_plan": "even"}, "size_plan"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, object], word: str) -> None:
    with pytest.raises(UsageError, match=word):
        sc.simulate_cluster(rng=np.random.default_rng(0), **kwargs)  # type: ignore[arg-type]
