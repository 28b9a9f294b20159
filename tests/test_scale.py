"""Mergeable sums (sizecheck.scale) give the pandas statistics, on Dask and merged by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sizecheck import scale
from sizecheck.compare import compare
from sizecheck.examples import example_path
from sizecheck.stats import producer_summary
from sizecheck.tables import load_table
from sizecheck.validate import read_measurements

COLUMNS = ["n", "bias_mm", "sd_overall_mm", "grade_error_mm_per_size", "offset_mm"]


@pytest.fixture(scope="module")
def example() -> tuple[pd.DataFrame, float, pd.DataFrame]:
    table = load_table("paris-point")
    validated = read_measurements(example_path(), table=table)
    deviations = compare(validated.measurements, table).deviations
    expected = producer_summary(deviations, base_size=table.base_size)
    return deviations, table.base_size, expected


def _assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal to 1e-9 relative; values that are zero up to rounding (|x| ~ 1e-16 mm, e.g. a
    bias of exactly 0) get an absolute floor of 1e-12 mm, far below any meaningful digit."""
    keys = ["producer", "dimension"]
    got = got.sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    assert got[keys].astype(str).equals(expected[keys].astype(str))
    for col in COLUMNS:
        np.testing.assert_allclose(
            got[col].to_numpy(dtype=float),
            expected[col].to_numpy(dtype=float),
            rtol=1e-9,
            atol=1e-12,
            equal_nan=True,
            err_msg=col,
        )


def test_dask_matches_pandas_producer_summary(example) -> None:
    dd = pytest.importorskip("dask.dataframe")
    deviations, base_size, expected = example
    ddf = dd.from_pandas(deviations, npartitions=4)
    got = scale.producer_moments(ddf, base_size=base_size)
    assert list(got.columns) == list(scale.MOMENT_COLUMNS)
    assert np.isfinite(got["grade_error_mm_per_size"]).any()
    _assert_same(got, expected)


def test_sums_merge_in_any_order(example) -> None:
    deviations, base_size, expected = example
    parts = [scale.partial_sums(deviations.iloc[i::3], base_size=base_size) for i in (2, 0, 1)]
    got = scale.moments_from_sums(scale.merge_sums(parts), base_size=base_size)
    _assert_same(got, expected)


def test_shift_keeps_digits_far_from_zero(example) -> None:
    # Deviations moved 1e7 mm from zero: one-pass sums of squares without a shift lose
    # every digit of the spread; shifted by a reference value they match the two-pass
    # pandas statistics of the same data.
    deviations, base_size, _ = example
    far = deviations.assign(deviation_mm=deviations["deviation_mm"] + 1e7)
    expected = producer_summary(far, base_size=base_size)
    ref = dict.fromkeys(far["dimension"].unique().tolist(), 1e7)
    sums = scale.partial_sums(far, base_size=base_size, deviation_ref=ref)
    got = scale.moments_from_sums(sums, base_size=base_size, deviation_ref=ref)
    _assert_same(got, expected)
    naive = scale.moments_from_sums(scale.partial_sums(far, base_size=0.0), base_size=0.0)
    sd_naive = naive["sd_overall_mm"].to_numpy(dtype=float)
    sd_true = expected.sort_values(["producer", "dimension"])["sd_overall_mm"].to_numpy(float)
    spread = sd_true > 0
    assert np.nanmax(np.abs(sd_naive - sd_true)[spread] / sd_true[spread]) > 1e-3


def test_single_size_has_no_line() -> None:
    d = pd.DataFrame(
        {
            "producer": "A",
            "dimension": "insole_length",
            "size": 41.0,
            "deviation_mm": [0.1, 0.3, -0.2, 0.0],
            "nominal_mm": 273.3,
            "status": ["in_spec", "in_spec", "in_spec", "no_reference"],
        }
    )
    m = scale.moments_from_sums(scale.partial_sums(d, base_size=42.0), base_size=42.0)
    assert m["n"].tolist() == [3]
    assert np.isnan(m.loc[0, "grade_error_mm_per_size"])
    assert np.isnan(m.loc[0, "offset_mm"])
    assert m.loc[0, "bias_mm"] == pytest.approx(0.2 / 3)
