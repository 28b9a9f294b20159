"""Reference tables: the shipped tables, validation of bad tables, grading, writing.

Expected figures are computed here from the sources the tables cite, not read back from the
tables: Paris point 20/3 mm per size (Wikipedia "Shoe size", domain.md); ball girth 240 mm at
EU 42 graded 1/4 in per UK size = 5.0 mm per Paris size (domain.md "Grading"); ISO 20345:2011
minimum toecap lengths (domain.md "Safety footwear indexed by size"); BBKKP 2012 steps 6.75 /
2.75 mm; proposed tolerances +/-1.5 mm in spec and +/-3.33 mm mis-sized (domain.md
"Tolerances").
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sizecheck.errors import SizecheckError, TableError, UnknownTableError, UsageError
from sizecheck.report import write_table
from sizecheck.tables import (
    Tolerance,
    available_tables,
    dumps_table,
    grade,
    load_table,
    parse_table,
)

BAD_TABLES = Path(__file__).parent / "data" / "tables"
SHIPPED = ["bbkkp-2012-children", "mondopoint", "paris-point", "sni-8877-safety"]
PARIS_MM = 20.0 / 3.0


def paris_length(size: float) -> float:
    """Paris point: last (insole-pattern) length = size x 2/3 cm."""
    return size * PARIS_MM


# --------------------------------------------------------------------------- shipped tables


def test_the_four_shipped_tables_are_available() -> None:
    assert available_tables() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_table_loads_with_its_provenance(name: str) -> None:
    table = load_table(name)
    assert table.name == name
    assert table.status in ("official", "derived", "proposal", "user")
    assert table.source.strip()
    assert table.provenance().startswith(f"{name} ({table.status}): ")
    assert list(table.sizes) == sorted(table.sizes)
    assert table.sizes[0] <= table.base_size <= table.sizes[-1]
    # No shipped table may call itself official: no SNI defines shoe sizes (domain.md).
    assert table.status != "official"


@pytest.mark.parametrize("dimension", ["last_length", "insole_length"])
def test_paris_point_lengths_follow_the_paris_point(dimension: str) -> None:
    table = load_table("paris-point")
    assert table.size_system == "eu"
    assert table.sizes[0] == 33
    assert table.sizes[-1] == 50
    sizes = np.arange(33, 50.5, 0.5)
    np.testing.assert_allclose(table.nominal(dimension, sizes), paris_length(sizes), atol=1e-9)
    assert float(table.nominal(dimension, [41])[0]) == pytest.approx(273.3, abs=0.05)
    assert table.grade_step(dimension) == pytest.approx(PARIS_MM)


def test_paris_point_length_tolerances_are_the_proposed_defaults() -> None:
    lim = load_table("paris-point").limits("last_length", [41])
    nominal = paris_length(41)
    assert float(lim.lower[0]) == pytest.approx(nominal - 1.5)
    assert float(lim.upper[0]) == pytest.approx(nominal + 1.5)
    assert float(lim.lower_missized[0]) == pytest.approx(nominal - 3.33)
    assert float(lim.upper_missized[0]) == pytest.approx(nominal + 3.33)


def test_paris_point_ball_girth_is_240_at_42_and_5_mm_per_size() -> None:
    table = load_table("paris-point")
    girth = table.nominal("last_ball_girth", [40, 41, 42, 43, 44])
    np.testing.assert_allclose(girth, [230.0, 235.0, 240.0, 245.0, 250.0])
    lim = table.limits("last_ball_girth", [42])
    assert (float(lim.lower[0]), float(lim.upper[0])) == (237.5, 242.5)
    assert (float(lim.lower_missized[0]), float(lim.upper_missized[0])) == (235.0, 245.0)


def test_nominal_is_nan_outside_the_table_and_unknown_dimension_names_the_known_ones() -> None:
    table = load_table("paris-point")
    assert np.isnan(table.nominal("last_length", [32.5, 50.5])).all()
    assert not table.covers([32]).any()
    with pytest.raises(UsageError, match="last_ball_girth"):
        table.nominal("toecap_internal_length", [41])


# ISO 20345:2011 minimum internal toecap length by French size (domain.md):
# <=36: 34 mm; 37-38: 36; 39-40: 38; 41-42: 39; >=43: 40.
ISO_20345_TOECAP = {
    **dict.fromkeys([34, 35, 36], 34.0),
    **dict.fromkeys([37, 38], 36.0),
    **dict.fromkeys([39, 40], 38.0),
    **dict.fromkeys([41, 42], 39.0),
    **dict.fromkeys(range(43, 51), 40.0),
}


def test_sni_8877_safety_gives_the_iso_20345_toecap_minima() -> None:
    table = load_table("sni-8877-safety")
    sizes = sorted(ISO_20345_TOECAP)
    nominal = table.nominal("toecap_internal_length", sizes)
    np.testing.assert_array_equal(nominal, [ISO_20345_TOECAP[s] for s in sizes])


def test_sni_8877_safety_half_sizes_take_the_next_whole_size_up() -> None:
    # The table's notes: a half size gets the minimum of the next whole size (stricter).
    table = load_table("sni-8877-safety")
    halves = [36.5, 38.5, 40.5, 42.5]
    nominal = table.nominal("toecap_internal_length", halves)
    np.testing.assert_array_equal(nominal, [ISO_20345_TOECAP[math.ceil(s)] for s in halves])


def test_sni_8877_safety_limits_are_one_sided_minima() -> None:
    table = load_table("sni-8877-safety")
    lim = table.limits("toecap_internal_length", [36, 43])
    np.testing.assert_array_equal(lim.lower, [34.0, 40.0])
    np.testing.assert_array_equal(lim.lower_missized, [34.0, 40.0])
    assert np.isposinf(lim.upper).all()
    assert np.isposinf(lim.upper_missized).all()
    assert table.dimension("toecap_internal_length").tolerance == Tolerance("min")


def test_sni_8877_safety_is_not_called_official_and_says_verify() -> None:
    table = load_table("sni-8877-safety")
    assert table.status == "derived"
    assert "VERIFY" in table.provenance()
    assert "ISO 20345:2011" in table.source


def test_sni_8877_safety_covers_only_its_tabulated_sizes() -> None:
    table = load_table("sni-8877-safety")
    np.testing.assert_array_equal(table.covers([33.5, 34, 41.25, 50, 50.5]), [0, 1, 0, 1, 0])
    assert np.isnan(table.nominal("toecap_internal_length", [41.25])).all()


def test_bbkkp_children_is_a_rule_to_be_graded() -> None:
    table = load_table("bbkkp-2012-children")
    assert table.kind == "rule"
    assert table.status == "proposal"
    assert table.dimension("last_length").step == 6.75
    assert table.dimension("insole_length").step == 6.75
    assert table.dimension("last_ball_width").step == 2.75
    with pytest.raises(UsageError, match="sizecheck grade --rule bbkkp-2012-children"):
        table.nominal("last_length", [28])


def test_mondopoint_nominal_is_foot_length_plus_15() -> None:
    table = load_table("mondopoint")
    assert table.size_system == "mondopoint"
    assert table.toe_allowance_mm == 15.0
    feet = np.arange(200, 315, 5)
    for dimension in ("insole_length", "last_length"):
        np.testing.assert_allclose(table.nominal(dimension, feet), feet + 15.0)
        assert table.grade_step(dimension) == 5.0  # one Mondopoint step is 5 mm


def test_unknown_table_lists_the_four_names() -> None:
    with pytest.raises(UnknownTableError) as info:
        load_table("paris")
    assert info.value.available == SHIPPED
    for name in SHIPPED:
        assert name in str(info.value)


def test_missing_toml_path_is_an_unknown_table(tmp_path: Path) -> None:
    with pytest.raises(UnknownTableError):
        load_table(tmp_path / "nowhere.toml")


def test_a_user_table_loads_from_a_path_and_origin_is_not_identity(tmp_path: Path) -> None:
    text = Path(__file__).parent.parent / "data" / "reference_lasts" / "paris-point.toml"
    copy = tmp_path / "my-copy.toml"
    copy.write_text(text.read_text(encoding="utf-8"), encoding="utf-8")
    mine, shipped = load_table(copy), load_table("paris-point")
    assert mine.origin != shipped.origin
    assert mine == shipped


# --------------------------------------------------------------------------- bad tables

# One committed fixture per validation error; each must yield exactly this one problem, and
# the problem must name the file and the place (key, dimension, CSV line) to fix.
BAD_FIXTURES = [
    ("missing_source.toml", ["source", "missing"]),
    ("unknown_status.toml", ["status", "'sni'"]),
    ("unknown_size_system.toml", ["size_system", "'french'"]),
    ("unknown_dimension.toml", ["dimensions.heel_height", "unknown dimension"]),
    ("duplicate_size_list.toml", ["sizes", "duplicate size 41"]),
    ("duplicate_size_csv.toml", ["csv line 4", "duplicate size 41"]),
    ("nonmonotone_length_csv.toml", ["dimensions.insole_length", "non-monotone", "size 42"]),
    ("band_inside_band_symmetric.toml", ["dimensions.last_length.tolerance", "±2", "±3"]),
    ("band_inside_band_asymmetric.toml", ["dimensions.last_length.tolerance", "plus 1.5"]),
    ("unknown_tolerance_type.toml", ["dimensions.last_length.tolerance.type", "'plusminus'"]),
    ("shrinking_length_step.toml", ["dimensions.last_length.step", "-6.5"]),
    ("base_size_outside.toml", ["base_size 45", "40–42"]),
    ("csv_missing_file.toml", ["csv", "'csv_not_here.csv'", "not found"]),
    ("csv_bad_number.toml", ["csv line 3", "toecap_internal_length", "'39x'"]),
    ("csv_unknown_column.toml", ["csv line 1", "'heel_height'"]),
    ("csv_missing_row.toml", ["csv", "no row for size(s) 42"]),
    ("invalid_toml.toml", ["not valid TOML", "line 2"]),
    # issue 18: hostile tables, each a one-line error instead of a traceback or worse
    ("csv_outside_folder.toml", ["csv", "outside the table's folder"]),
    ("csv_absolute_path.toml", ["csv", "'/etc/passwd' lies outside the table's folder"]),
    ("csv_not_a_name.toml", ["csv", "expected a file name, found 5"]),
    ("csv_binary.toml", ["csv 'csv_binary.csv'", "not UTF-8 text"]),
    ("csv_nul_bytes.toml", ["csv 'csv_nul_bytes.csv'", "NUL bytes"]),
    ("not_utf8.toml", ["not UTF-8 text", "save it as UTF-8"]),
    ("huge_size_range.toml", ["sizes", "1,000,000,000,001 sizes", "at most 1,000"]),
    ("allowance_out_of_range.toml", ["toe_allowance_mm", "-400 mm lies outside 0–40 mm"]),
]


@pytest.mark.parametrize(("fixture", "fragments"), BAD_FIXTURES, ids=[f for f, _ in BAD_FIXTURES])
def test_bad_table_is_rejected_naming_the_place(fixture: str, fragments: list[str]) -> None:
    with pytest.raises(TableError) as info:
        load_table(BAD_TABLES / fixture)
    problems = info.value.problems
    assert len(problems) == 1, problems
    assert problems[0].startswith(fixture)
    for fragment in fragments:
        assert fragment in problems[0]
    assert info.value.origin == fixture
    assert isinstance(info.value, SizecheckError)


def test_every_bad_fixture_file_has_a_test() -> None:
    tested = {f for f, _ in BAD_FIXTURES} | {"several_problems.toml"}
    assert {p.name for p in BAD_TABLES.glob("*.toml")} == tested


def test_several_problems_are_reported_together() -> None:
    with pytest.raises(TableError) as info:
        load_table(BAD_TABLES / "several_problems.toml")
    problems = info.value.problems
    expected = [
        "status",
        "size_system",
        "base_size 45",
        "dimensions.last_length.tolerance",
        "dimensions.heel_height",
    ]
    assert len(problems) == len(expected), problems
    for fragment in expected:
        assert any(fragment in p for p in problems), fragment
    # ... and the message a person reads lists every one of them.
    assert "5 problem(s)" in str(info.value)
    for p in problems:
        assert p in str(info.value)


def test_sizes_range_never_overshoots_its_end() -> None:
    # 33 + 2 x 0.6 = 34.2 lies beyond "to = 34"; it was added by rounding the count up.
    data = {
        "name": "t",
        "title": "t",
        "size_system": "eu",
        "sizes": {"from": 33, "to": 34, "step": 0.6},
        "base_size": 33,
        "status": "user",
        "source": "test",
        "dimensions": {"last_length": {"base_value": 220.0, "step": 4.0}},
    }
    assert parse_table(data).sizes == (33.0, 33.6)
    data["sizes"] = {"from": 33, "to": 50, "step": 0.5}
    assert len(parse_table(data).sizes) == 35


# --------------------------------------------------------------------------- grading


def test_grade_from_a_master_uses_the_default_steps() -> None:
    # Defaults (domain.md "Grading"): length 20/3 mm per Paris size, ball girth 5.0 mm.
    table = grade({"last_length": 270.0, "last_ball_girth": 238.0}, base_size=41, name="medali")
    assert table.sizes == tuple(float(s) for s in range(36, 47))
    assert table.status == "user"
    assert float(table.nominal("last_length", [43])[0]) == pytest.approx(270 + 2 * PARIS_MM)
    assert float(table.nominal("last_ball_girth", [40])[0]) == pytest.approx(233.0)
    assert table.dimension("last_length").tolerance == Tolerance("symmetric", 1.5, 1.5, 3.33, 3.33)


def test_a_graded_table_written_and_loaded_back_is_equal(tmp_path: Path) -> None:
    table = grade(
        {"last_length": 270.5, "last_ball_girth": 241.0, "insole_ball_width": 95.0},
        base_size=41.5,
        name="medali-2026",
        sizes=[38, 38.5, 39, 41.5, 44, 45.5],
        steps={"last_ball_girth": 4.0},
        tolerances={"last_length": Tolerance("asymmetric", 1.0, 2.0, 3.0, 4.0)},
        source="Master last of UD Medali,\nmeasured 2026-01-10 [by the penyuluh]",
    )
    path = write_table(table, tmp_path / "medali-2026.toml")
    loaded = load_table(path)
    assert loaded.origin != table.origin
    assert loaded == table


def test_grading_with_the_bbkkp_rule_takes_its_steps() -> None:
    rule = load_table("bbkkp-2012-children")
    table = grade(
        {"last_length": 190.0, "last_ball_width": 70.0}, base_size=28, name="anak", rule=rule
    )
    assert table.kind == "table"
    assert table.sizes == rule.sizes
    assert float(table.nominal("last_length", [29])[0]) == pytest.approx(196.75)
    assert float(table.nominal("last_ball_width", [26])[0]) == pytest.approx(64.5)
    assert table.grade_step("last_length") == 6.75
    assert "bbkkp-2012-children (proposal)" in table.source


def test_grade_refuses_unusable_input() -> None:
    with pytest.raises(UsageError):
        grade({}, base_size=41, name="x")
    with pytest.raises(UsageError, match="heel_height"):
        grade({"heel_height": 30.0}, base_size=41, name="x")
    with pytest.raises(UsageError):
        grade({"last_length": 270.0}, base_size=41, name="x", sizes=[])
    with pytest.raises(TableError):
        grade({"last_length": 270.0}, base_size=45, name="x", sizes=[40, 41])
    with pytest.raises(TableError):
        grade({"last_length": 270.0}, base_size=41, name="x", status="sni")
    with pytest.raises(TableError, match="must grow"):
        grade({"last_length": 270.0}, base_size=41, name="x", steps={"last_length": -1.0})


def test_write_table_refuses_to_overwrite(tmp_path: Path) -> None:
    table = grade({"last_length": 270.0}, base_size=41, name="first")
    path = tmp_path / "t.toml"
    write_table(table, path)
    before = path.read_text(encoding="utf-8")
    other = grade({"last_length": 280.0}, base_size=42, name="second")
    with pytest.raises(UsageError, match="exists"):
        write_table(other, path)
    assert path.read_text(encoding="utf-8") == before
    assert write_table(other, path, overwrite=True) == path
    assert load_table(path) == other


def test_write_table_needs_a_toml_name(tmp_path: Path) -> None:
    table = grade({"last_length": 270.0}, base_size=41, name="first")
    with pytest.raises(UsageError, match=r"\.toml"):
        write_table(table, tmp_path / "t.csv")
    assert not (tmp_path / "t.csv").exists()


def test_tabulated_tables_cannot_be_dumped() -> None:
    with pytest.raises(UsageError, match="CSV"):
        dumps_table(load_table("sni-8877-safety"))


@pytest.mark.parametrize("name", ["../reference_lasts/paris-point", "paris-point/../x", "A B"])
def test_table_names_cannot_reach_outside_the_shipped_folder(name: str) -> None:
    with pytest.raises(UnknownTableError):
        load_table(name)


def test_grade_refuses_a_step_without_a_master_value() -> None:
    with pytest.raises(UsageError, match="no master value"):
        grade({"last_length": 270.0}, base_size=41, name="x", steps={"last_ball_girth": 5.0})


# --------------------------------------------------------------------------- hostile tables


def test_a_csv_outside_the_tables_folder_is_neither_read_nor_quoted(tmp_path: Path) -> None:
    # Issue 18: csv = "../../../../etc/passwd" was followed and its first line echoed.
    secret = tmp_path / "secret.csv"
    secret.write_text("TOP SECRET,hunter2\n")
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "link.csv").symlink_to(secret)  # a link inside pointing outside is outside
    for name in ("../secret.csv", str(secret), "link.csv"):
        (folder / "t.toml").write_text(
            (BAD_TABLES / "csv_missing_file.toml").read_text().replace("csv_not_here.csv", name)
        )
        with pytest.raises(TableError, match="outside the table's folder") as info:
            load_table(folder / "t.toml")
        assert "SECRET" not in str(info.value) and "hunter2" not in str(info.value)


def test_a_csv_in_a_subfolder_of_the_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "toecap.csv").write_text(
        "size,toecap_internal_length\n40,39\n41,40\n42,40\n"
    )
    (tmp_path / "t.toml").write_text(
        (BAD_TABLES / "csv_missing_file.toml")
        .read_text()
        .replace("csv_not_here.csv", "data/toecap.csv")
    )
    assert load_table(tmp_path / "t.toml").nominal("toecap_internal_length", [41]).tolist() == [
        40.0
    ]


def test_table_size_limit_is_a_parameter() -> None:
    data = {
        "name": "big", "title": "Big", "size_system": "mondopoint", "status": "user",
        "source": "test", "sizes": {"from": 100, "to": 350, "step": 0.1}, "base_size": 260,
        "dimensions": {"insole_length": {"base_value": 275.0, "step": 1.0}},
    }  # fmt: skip
    with pytest.raises(TableError, match="2,501 sizes; a table has at most 1,000"):
        parse_table(data)
    assert len(parse_table(data, max_sizes=3000).sizes) == 2501


def test_grade_refuses_an_unknown_system_and_too_many_sizes() -> None:
    # Issue 18: 'grade --system bogus' was a traceback.
    with pytest.raises(UsageError, match="Unknown size system 'bogus'; use one of eu, uk"):
        grade({"last_length": 270.0}, base_size=41, name="x", size_system="bogus")
    with pytest.raises(UsageError, match="1,001 sizes to grade; a table has at most 1,000"):
        grade({"last_length": 270.0}, base_size=41, name="x", sizes=range(41, 1042))
    with pytest.raises(UsageError, match="finite"):
        grade({"last_length": 270.0}, base_size=41, name="x", sizes=[40, 41, float("nan")])


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--system", "bogus"], "Unknown size system 'bogus'"),
        (["--sizes", "36-1e9"], "makes 999,999,965 sizes"),
        (["--sizes", "36-inf"], "makes inf sizes"),
        (["--sizes", "46-36"], "from ≤ to"),
    ],
)
def test_cli_grade_refuses_hostile_values_in_one_line(
    tmp_path: Path, extra: list[str], words: str
) -> None:
    # Issue 18: 'grade --sizes 36-1e9' made a billion sizes until memory ran out.
    from typer.testing import CliRunner

    from sizecheck.cli import app

    args = ["grade", "--master", "last_length=270", "--base-size", "41", "--name", "x",
            "--out", str(tmp_path / "x.toml"), *extra]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2 and result.output.startswith("Error:"), result.output
    assert words in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.toml").exists()
