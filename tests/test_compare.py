"""compare(): nominal values, deviations, limits and status against a reference table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sizecheck.compare import DEVIATION_COLUMNS, compare
from sizecheck.errors import UsageError
from sizecheck.tables import load_table

STEP = 20.0 / 3.0  # Paris point: mm of last length per size (domain.md)


def _frame(rows: list[tuple[str, float, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["producer", "size", "dimension", "value_mm"])


def test_deviation_is_measured_minus_paris_point_nominal() -> None:
    # Independent: last length = size x 20/3 (Paris point, domain.md), computed by hand.
    m = _frame([("A", 41.0, "last_length", 277.3), ("A", 36.5, "insole_length", 240.0)])
    d = compare(m, load_table("paris-point")).deviations
    expected_nominal = np.array([41 * 20 / 3, 36.5 * 20 / 3])
    np.testing.assert_allclose(d["nominal_mm"], expected_nominal)
    np.testing.assert_allclose(d["deviation_mm"], [277.3 - 41 * 20 / 3, 240.0 - 36.5 * 20 / 3])
    np.testing.assert_allclose(d["deviation_sizes"], d["deviation_mm"] / STEP)


@pytest.mark.parametrize(
    ("deviation", "status"),
    [
        (0.0, "in_spec"),
        (1.5, "in_spec"),
        (-1.49, "in_spec"),
        (1.6, "drifting"),
        (-3.3, "drifting"),
        (3.4, "missized"),
        (-6.67, "missized"),
    ],
)
def test_status_bands_for_lengths(deviation: float, status: str) -> None:
    # paris-point lengths: +/-1.5 mm in spec, beyond +/-3.33 mm mis-sized (proposal values).
    m = _frame([("A", 42.0, "last_length", 280.0 + deviation)])
    d = compare(m, load_table("paris-point")).deviations
    assert d["status"].iloc[0] == status
    assert d["lower_mm"].iloc[0] == pytest.approx(278.5)
    assert d["upper_mm"].iloc[0] == pytest.approx(281.5)


def test_one_sided_minimum_toecap() -> None:
    # ISO 20345:2011 minima as transcribed in sni-8877-safety: 41-42 -> 39 mm, >=43 -> 40 mm.
    m = _frame(
        [
            ("A", 41.0, "toecap_internal_length", 39.0),
            ("A", 42.0, "toecap_internal_length", 38.9),
            ("A", 44.0, "toecap_internal_length", 45.0),
        ]
    )
    d = compare(m, load_table("sni-8877-safety")).deviations
    assert d["status"].tolist() == ["in_spec", "below_min", "in_spec"]
    assert d["nominal_mm"].tolist() == [39.0, 39.0, 40.0]
    assert np.isinf(d["upper_mm"]).all()
    assert d["deviation_sizes"].isna().all()  # no grade step declared for a minimum


def test_dimension_missing_from_table_is_kept_and_reported_once() -> None:
    m = _frame(
        [
            ("A", 41.0, "insole_ball_width", 95.0),
            ("B", 42.0, "insole_ball_width", 96.0),
            ("A", 41.0, "last_length", 273.0),
        ]
    )
    result = compare(m, load_table("paris-point"))
    assert result.missing_dimensions == ["insole_ball_width"]
    d = result.deviations
    assert len(d) == 3  # never silently dropped
    assert (d.loc[d["dimension"] == "insole_ball_width", "status"] == "no_reference").all()
    assert d.loc[d["dimension"] == "insole_ball_width", "nominal_mm"].isna().all()


def test_the_terminal_names_a_dimension_missing_from_the_table_in_the_users_words(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from sizecheck.cli import app

    data = tmp_path / "ukur.csv"
    data.write_text(
        "produsen;ukuran;panjang insole;lebar insole\nUD A;41;273,5;95\nUD A;42;280;96\n",
        encoding="utf-8",
    )
    args = ["measure", str(data), "--table", "paris-point", "--no-charts", "--lang", "id"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())
    assert "Tidak ada di tabel rujukan" in shown and "Lebar insole bagian ball" in shown
    assert "insole_ball_width" not in shown


def test_input_is_not_mutated_and_columns_are_added() -> None:
    m = _frame([("A", 41.0, "last_length", 273.0)])
    before = m.copy()
    d = compare(m, load_table("paris-point")).deviations
    pd.testing.assert_frame_equal(m, before)
    for col in ("nominal_mm", "deviation_mm", "deviation_sizes", "lower_mm", "upper_mm", "status"):
        assert col in d.columns
    assert set(DEVIATION_COLUMNS[-7:]) <= set(d.columns)


def test_rule_without_base_values_is_refused_with_advice() -> None:
    m = _frame([("A", 28.0, "last_length", 190.0)])
    with pytest.raises(UsageError, match="sizecheck grade"):
        compare(m, load_table("bbkkp-2012-children"))


def test_missing_columns_raise_usage_error() -> None:
    with pytest.raises(UsageError, match="value_mm"):
        compare(pd.DataFrame({"producer": ["A"], "size": [41.0]}), load_table("paris-point"))


def test_public_api_lists_every_export() -> None:
    import sizecheck

    assert set(sizecheck.__all__) == {"__version__", "plotting", *sizecheck._EXPORTS}


def test_public_names_survive_submodule_imports() -> None:
    # A package attribute named like a submodule is replaced by the submodule when that
    # is imported (found in notebook 03: sc.compare became a module after sc.analyse).
    import importlib
    import pkgutil
    import types

    import sizecheck

    submodules = {m.name for m in pkgutil.iter_modules(sizecheck.__path__)}
    assert not (set(sizecheck._EXPORTS) & submodules)
    for name in submodules:
        importlib.import_module(f"sizecheck.{name}")
    for name in sizecheck._EXPORTS:
        assert not isinstance(getattr(sizecheck, name), types.ModuleType), name
    assert sizecheck.compare_to_table.__module__ == "sizecheck.compare"
    assert sizecheck.validate_sheets.__module__ == "sizecheck.validate"
    assert isinstance(sizecheck.plotting, types.ModuleType)


def test_mondopoint_effective_size_and_grade_error_are_per_size_step() -> None:
    # Mondopoint (ISO 9407): the label is the foot length in mm, nominal insole length =
    # label + 15 mm (1 mm per label unit), one size = 5 mm. Hand computation: a producer
    # 4.9 mm long at 260 is effectively a 264.9; a producer growing 4 mm per 5 mm size
    # has a grading error of 4 - 5 = -1.0 mm per size, and the finding reads "grow 4.0 mm
    # per size instead of 5.0".
    from sizecheck import findings, stats

    table = load_table("mondopoint")
    sizes = np.repeat(np.arange(240.0, 285.0, 5.0), 4)
    wiggle = np.tile([0.1, -0.1, 0.05, -0.05], len(sizes) // 4)
    long_ = sizes + 15.0 + 4.9 + wiggle
    graded = 275.0 + (sizes - 260.0) * 4.0 / 5.0 + wiggle
    m = pd.DataFrame(
        {
            "producer": np.repeat(["Long", "Grade4"], len(sizes)),
            "size": np.concatenate([sizes, sizes]),
            "dimension": "insole_length",
            "value_mm": np.concatenate([long_, graded]),
        }
    )
    d = compare(m, table).deviations
    np.testing.assert_allclose(d["nominal_step_mm"], 1.0)
    np.testing.assert_allclose(d["grade_step_mm"], 5.0)
    ss = stats.size_summary(d)
    at260 = ss[(ss["producer"] == "Long") & (ss["size"] == 260.0)].iloc[0]
    assert at260["effective_size"] == pytest.approx(264.9)
    assert at260["bias_sizes"] == pytest.approx(4.9 / 5.0)
    for col in ("source", "row", "date"):
        d[col] = {"source": "m.csv", "row": np.arange(len(d)) + 2, "date": pd.NaT}[col]
    ps = stats.producer_summary(d, base_size=table.base_size).set_index("producer")
    assert ps.loc["Grade4", "grade_error_mm_per_size"] == pytest.approx(-1.0, abs=1e-9)
    assert ps.loc["Grade4", "grade_error_ci_low"] < -1.0 < ps.loc["Grade4", "grade_error_ci_high"]
    assert ps.loc["Long", "grade_error_mm_per_size"] == pytest.approx(0.0, abs=1e-9)
    row = ps.loc["Grade4"].to_dict() | {"producer": "Grade4"}
    d4 = findings.dimension_finding(row, table_step_mm=5.0)
    lines = findings.finding_lines(d4.__class__(**{**d4.__dict__, "verdict": "grading"}), "en")
    assert any("4.0 mm per size instead of 5.0" in line for line in lines), lines


def test_eu_tables_have_nominal_step_equal_to_grade_step() -> None:
    # Paris point: nominal and grade step are both 20/3 mm per size (domain.md), so the
    # Mondopoint conversion factor is 1 and EU outputs are unchanged.
    d = compare(_frame([("A", 41.0, "last_length", 277.3)]), load_table("paris-point"))
    row = d.deviations.iloc[0]
    assert row["nominal_step_mm"] == pytest.approx(row["grade_step_mm"])
