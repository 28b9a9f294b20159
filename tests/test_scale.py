"""Mergeable moments (sizecheck.scale) give the pandas statistics, on Dask and merged by hand."""

from __future__ import annotations

import math
from fractions import Fraction

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
    # without the resolution floor of sd_overall_mm: moments know nothing of readings
    expected = producer_summary(deviations, base_size=table.base_size, resolution=0.0)
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


def test_moments_merge_in_any_order(example) -> None:
    deviations, base_size, expected = example
    parts = [scale.partial_moments(deviations.iloc[i::3]) for i in (2, 0, 1)]
    _assert_same(scale.summarise_moments(scale.merge_moments(parts), base_size=base_size), expected)
    # merging merged parts again (a tree, as Dask or several machines do) changes nothing
    tree = scale.merge_moments([scale.merge_moments(parts[:2]), parts[2]])
    _assert_same(scale.summarise_moments(tree, base_size=base_size), expected)


def _numacc(center: str, low: str, high: str) -> list[str]:
    """NIST StRD NumAcc2–4: the centre value, then low and high alternating 500 times."""
    return [center] + [low, high] * 500


#: NIST StRD univariate summary statistics, certified values (itl.nist.gov/div898/strd):
#: data as printed, certified mean and standard deviation.
NUMACC = {
    "NumAcc1": (["10000001", "10000003", "10000002"], 10000002.0, 1.0),
    "NumAcc2": (_numacc("1.2", "1.1", "1.3"), 1.2, 0.1),
    "NumAcc3": (_numacc("1000000.2", "1000000.1", "1000000.3"), 1000000.2, 0.1),
    "NumAcc4": (_numacc("10000000.2", "10000000.1", "10000000.3"), 10000000.2, 0.1),
}


def _digits(got: float, want: float) -> float:
    """NIST's log relative error: the number of agreeing significant digits."""
    return 15.0 if got == want else -math.log10(abs(got - want) / abs(want))


@pytest.mark.parametrize("name", list(NUMACC))
def test_nist_numacc_mean_and_sd_in_any_split(name) -> None:
    text, mean, sd = NUMACC[name]
    x = [float(v) for v in text]
    d = pd.DataFrame(
        {"producer": "A", "dimension": "last_length", "size": 41.0, "deviation_mm": x,
         "nominal_mm": 0.0, "status": "in_spec"}
    )  # fmt: skip
    whole = scale.summarise_moments(scale.partial_moments(d), base_size=41.0).iloc[0]
    parts = [scale.partial_moments(d.iloc[i::7]) for i in range(7)]
    merged = scale.summarise_moments(scale.merge_moments(parts), base_size=41.0).iloc[0]
    # exact rational arithmetic on the same doubles: what a perfect algorithm would give
    exact = [Fraction(v) for v in x]
    exact_mean = sum(exact) / len(exact)
    exact_sd = math.sqrt(sum((v - exact_mean) ** 2 for v in exact) / (len(exact) - 1))
    for got in (whole, merged):
        assert _digits(got["bias_mm"], mean) >= 9
        assert _digits(got["sd_overall_mm"], exact_sd) >= 9
        # the certified sd: NumAcc4's doubles (10000000.1 is held to ±1e-9) have an exact
        # sd of 0.10000000056, 8.25 digits from 0.1: no double algorithm can do better
        assert _digits(got["sd_overall_mm"], sd) >= (9 if name != "NumAcc4" else 8.2)
    pytest.importorskip("scipy")
    assert _digits(whole["sd_overall_mm"], float(np.std(x, ddof=1))) >= 9


def test_producer_summary_agrees_far_from_zero(example) -> None:
    # Deviations moved 1e7 mm from zero: centred moments keep the digits the pandas
    # statistics keep (raw one-pass sums of squares lost every digit of the spread).
    deviations, base_size, _ = example
    far = deviations.assign(deviation_mm=deviations["deviation_mm"] + 1e7)
    expected = producer_summary(far, base_size=base_size, resolution=0.0)
    got = scale.summarise_moments(scale.partial_moments(far), base_size=base_size)
    _assert_same(got, expected)


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
    m = scale.summarise_moments(scale.partial_moments(d), base_size=42.0)
    assert m["n"].tolist() == [3]
    assert np.isnan(m.loc[0, "grade_error_mm_per_size"])
    assert np.isnan(m.loc[0, "offset_mm"])
    assert m.loc[0, "bias_mm"] == pytest.approx(0.2 / 3)


def test_an_infinite_deviation_is_refused() -> None:
    from sizecheck.errors import InputError

    d = pd.DataFrame(
        {"producer": "A", "dimension": "last_length", "size": [41.0, 42.0],
         "deviation_mm": [0.1, np.inf], "nominal_mm": 280.0, "status": "in_spec"}
    )  # fmt: skip
    with pytest.raises(InputError, match="infinite"):
        scale.partial_moments(d)
