"""stats.prepare: which rows, which groups, what time order, which independent unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _stats_factory import deviations_from, messy_deviations

from sizecheck import drift, stats
from sizecheck.errors import InputError, MissingColumnsError


def _frame() -> pd.DataFrame:
    # producer A dated (3 of 4 rows), producer B undated; two sources, rows shuffled
    d = deviations_from(
        producer=np.array(["A", "A", "A", "A", "B", "B", "B"]),
        size=np.array([41.0, 41.0, 42.0, 42.0, 40.0, 40.0, 41.0]),
        value_mm=np.array([273.0, 273.5, 280.5, 280.0, 266.0, 267.0, 274.0]),
        date=pd.to_datetime(
            ["2025-01-03", pd.NaT, "2025-01-01", "2025-01-02", pd.NaT, pd.NaT, pd.NaT]
        ),
        pair=["p1", "p1", "p2", "p3", pd.NA, "q1", "q1"],
        row=np.array([5, 4, 9, 2, 7, 3, 3]),
    )
    d["source"] = ["a.csv", "a.csv", "b.csv", "a.csv", "b.csv", "b.csv", "a.csv"]
    return d


def test_rows_grouped_and_in_time_order():
    d = _frame()
    g = stats.prepare(d)
    assert g.keys.to_dict("list") == {"producer": ["A", "B"], "dimension": ["insole_length"] * 2}
    assert g.dated.tolist() == [True, False]
    # A by date, the undated row last; B by source (a before b), then row number
    assert g.rows.tolist() == [2, 3, 0, 1, 6, 5, 4]
    assert g.bounds.tolist() == [0, 4, 7]
    assert g.n.tolist() == [4.0, 3.0]
    np.testing.assert_array_equal(g.deviation, d["deviation_mm"].to_numpy()[g.rows])


def test_units_are_pairs_at_one_size_and_rows_without_a_pair_id():
    g = stats.prepare(_frame())
    unit = g.unit.tolist()
    # A: p2, p3, p1, p1 -> three units; B: q1 (size 41), q1 (size 40), no id -> three
    # units, q1 at two sizes being two of them
    assert unit == [0, 1, 2, 2, 3, 4, 5]
    assert g.n_units.tolist() == [3.0, 3.0]
    assert g.pair[-1] == -1
    d = _frame().drop(columns="pair")  # without the column every row is its own unit
    assert stats.prepare(d).unit.tolist() == list(range(7))


def test_unusable_rows_are_left_out_and_the_frame_is_untouched():
    d = _frame()
    d.loc[0, "status"] = "no_reference"
    d.loc[1, "size"] = np.nan
    d.loc[5, "producer"] = None
    before = d.copy()
    g = stats.prepare(d)
    assert sorted(g.rows.tolist()) == [2, 3, 4, 6]
    pd.testing.assert_frame_equal(d, before)
    empty = stats.prepare(d.iloc[:0])
    assert empty.ng == 0 and len(empty.rows) == 0 and empty.bounds.tolist() == [0]


def test_optional_columns_and_another_grouping():
    d = _frame()[["producer", "dimension", "size", "nominal_mm", "deviation_mm", "status"]]
    g = stats.prepare(d)  # no date, source, row or pair: frame order, every row a unit
    assert g.rows.tolist() == [0, 1, 2, 3, 4, 5, 6] and not g.dated.any()
    with pytest.raises(MissingColumnsError, match="status"):
        stats.prepare(d.drop(columns="status"))
    m = _frame().assign(model=["m2", "m1", "m1", "m2", "m1", "m1", None])
    by_model = stats.prepare(m, by=("producer", "model", "dimension"))
    assert by_model.keys[["producer", "model"]].values.tolist() == [
        ["A", "m1"], ["A", "m2"], ["B", "m1"]
    ]  # fmt: skip
    assert by_model.rows.tolist() == [2, 1, 3, 0, 5, 4]  # B's row without a model left out
    # the table functions take any grouping: one row per producer × model × dimension
    s = stats.producer_summary(m, base_size=41, groups=by_model)
    expected = [["A", "m1", 2], ["A", "m2", 2], ["B", "m1", 2]]
    assert s[["producer", "model", "n"]].values.tolist() == expected


def test_since_keeps_each_group_from_a_row_on():
    g = stats.prepare(_frame())
    part = g.since([2, 3])
    assert part.rows.tolist() == [0, 1]  # A's last two rows; B emptied
    assert part.bounds.tolist() == [0, 2, 2]
    assert part.keys is g.keys
    out = stats.producer_summary(_frame(), base_size=41, groups=part)
    assert out["n"].tolist() == [2, 0]
    assert np.isnan(out.loc[1, "bias_mm"]) and out.loc[1, "verdict"] == "insufficient_data"


def test_passing_the_groups_gives_what_each_function_computes_alone():
    # analyse builds one Groups and hands it on; called alone, each function builds its
    # own: the results must be the same
    d = messy_deviations(5, n_pairs=80)
    g = stats.prepare(d)
    chart = drift.control_chart(d, groups=g)
    alone = drift.control_chart(d)
    pd.testing.assert_frame_equal(chart.points, alone.points)
    pd.testing.assert_frame_equal(chart.signals, alone.signals)
    pd.testing.assert_frame_equal(
        stats.producer_summary(d, base_size=41, chart=chart, groups=g),
        stats.producer_summary(d, base_size=41),
    )
    sizes = stats.size_summary(d, groups=g)
    pd.testing.assert_frame_equal(sizes, stats.size_summary(d))
    pd.testing.assert_frame_equal(
        stats.compare_producers(d, size_summary=sizes), stats.compare_producers(d)
    )
    pd.testing.assert_frame_equal(stats.find_conventions(d, groups=g), stats.find_conventions(d))


@pytest.mark.parametrize("column", ["deviation_mm", "size", "value_mm", "nominal_mm"])
def test_an_infinite_number_is_refused_not_judged(column):
    # one inf deviation used to make every statistic NaN and the verdict "conforming"
    d = _frame()
    d.loc[2, column] = np.inf
    for call in (
        lambda: stats.producer_summary(d, base_size=41),
        lambda: stats.size_summary(d),
        lambda: stats.compare_producers(d),
        lambda: stats.find_conventions(d),
        lambda: drift.control_chart(d),
    ):
        with pytest.raises(InputError, match=rf"{column}.*b.csv row 9"):
            call()
    d.loc[2, "status"] = "no_reference"  # not a usable row: nothing to refuse
    assert stats.producer_summary(d, base_size=41)["n"].sum() == 6
