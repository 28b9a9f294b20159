"""Size labels and conversions between size systems (sizecheck.sizes).

Reference values are computed by hand from the formulas in Wikipedia "Shoe size", as quoted
in domain.md ("Size systems"), not from sizecheck's own code:

- Paris point (EU): last length = size x 2/3 cm, so EU 41 -> 41 x 20/3 = 273.33 mm.
- UK adult: size = 3 x last length (in) - 25, so UK 7 -> 32/3 in = 270.93 mm -> EU 40.64.
- US men: size = 3 x last (in) - 24 (US men = UK + 1).
- US women: size = 3 x last (in) - 23 (US women = UK + 2); NOT the "common" -22.5 scale.
- Mondopoint (ISO 9407): foot length in mm; JP (JIS S 5037): foot length in cm.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sizecheck.errors import SizeLabelError
from sizecheck.sizes import (
    SIZE_STEP_MM,
    SizeLabel,
    SizeSystem,
    convert_label,
    convert_size,
    last_length_mm,
    parse_size,
    size_from_last_length,
)

INCH = 25.4
SYSTEMS = [s.value for s in SizeSystem]

# Plausible label values, written out here so the tests do not borrow the module's table.
PLAUSIBLE = {
    "eu": (15.0, 56.0),
    "uk": (0.0, 17.0),
    "us-men": (0.0, 18.0),
    "us-women": (0.0, 18.0),
    "mondopoint": (90.0, 360.0),
    "jp": (9.0, 36.0),
}

# --------------------------------------------------------------------------- label parsing


@pytest.mark.parametrize(
    ("text", "system", "value", "width"),
    [
        # every label form domain.md lists as "seen in the wild"
        ("41", "eu", 41.0, None),
        ("41.5", "eu", 41.5, None),
        ("41,5", "eu", 41.5, None),
        ("41½", "eu", 41.5, None),
        ("41 1/2", "eu", 41.5, None),
        ("EU 41", "eu", 41.0, None),
        ("UK 7", "uk", 7.0, None),
        ("US 8.5", "us-men", 8.5, None),
        ("US W 9", "us-women", 9.0, None),
        ("26 cm", "jp", 26.0, None),
        ("260/95", "mondopoint", 260.0, 95.0),
        # common variants of the same forms
        ("eu41", "eu", 41.0, None),
        ("EU-41", "eu", 41.0, None),
        ("EU: 41,5", "eu", 41.5, None),
        ("  41  ", "eu", 41.0, None),
        ("41 ½", "eu", 41.5, None),
        ("UK 7 1/2", "uk", 7.5, None),
        ("US W 9½", "us-women", 9.5, None),
        ("US-W 9", "us-women", 9.0, None),
        ("MP 260", "mondopoint", 260.0, None),
        ("260 mm", "mondopoint", 260.0, None),
        ("MP 260/95", "mondopoint", 260.0, 95.0),
        ("26.5cm", "jp", 26.5, None),
        ("JP 26", "jp", 26.0, None),
    ],
)
def test_parse_size_reads_every_documented_label_form(
    text: str, system: str, value: float, width: float | None
) -> None:
    label = parse_size(text)
    assert label == SizeLabel(system, value, width, text)


@pytest.mark.parametrize(
    ("text", "default", "system", "value"),
    [
        ("260", "mondopoint", "mondopoint", 260.0),
        ("26", "jp", "jp", 26.0),
        ("8", "uk", "uk", 8.0),
        ("9", "us-women", "us-women", 9.0),
        ("8 1/2", "us-men", "us-men", 8.5),
        ("41", "EU", "eu", 41.0),
        # a written system wins over the default
        ("EU 41", "uk", "eu", 41.0),
        ("260/95", "eu", "mondopoint", 260.0),
    ],
)
def test_bare_numbers_are_read_in_the_default_system(
    text: str, default: str, system: str, value: float
) -> None:
    label = parse_size(text, default_system=default)
    assert (label.system, label.value) == (system, value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "EU",
        "41.",
        ".5",
        "41..5",
        "4l",
        "1e2",
        "nan",
        "-41",  # a minus sign is not a separator when no system is written
        "41-42",  # a range is not one size
        "41 42",
        "41.5½",  # a half after a decimal was read as 42 before
        "41,5 1/2",
        "XX 41",
        "eu 41 cm",  # cm belongs to JP only
        "UK 7/95",  # a width belongs to Mondopoint only
        "UK 7 mm",
        "260",  # 260 is no EU size: write "MP 260" or choose the mondopoint table
        "41 mm",  # Mondopoint 41 mm is no adult or child foot
        "4 1/2",  # EU 4.5 is outside every EU size
        "UK 70",
    ],
)
def test_garbage_raises_size_label_error_quoting_the_label(text: str) -> None:
    with pytest.raises(SizeLabelError) as info:
        parse_size(text)
    assert repr(text) in str(info.value)


def test_parse_size_rejects_non_text_and_unknown_default_system() -> None:
    with pytest.raises(SizeLabelError):
        parse_size(41)  # type: ignore[arg-type]
    with pytest.raises(SizeLabelError, match="french"):
        parse_size("41", default_system="french")


# --------------------------------------------------------------------------- conversions


@pytest.mark.parametrize(
    ("size", "system", "expected_mm"),
    [
        # Paris point: 2/3 cm per size; EU 41 -> 273.33 mm, EU 42 -> 280 mm.
        (41, "eu", 273.333),
        (42, "eu", 280.0),
        (36, "eu", 240.0),
        # UK: last (in) = (UK + 25) / 3; UK 7 -> 32/3 in = 270.93 mm.
        (7, "uk", 270.933),
        (0, "uk", 211.667),
        # US men = UK + 1: US 8 has the UK 7 last.
        (8, "us-men", 270.933),
        # US women = UK + 2 (-23 scale): US W 9 has the UK 7 last, not 266.70 (-22.5 scale).
        (9, "us-women", 270.933),
        # Mondopoint / JP: foot length + toe allowance (15 mm by default).
        (260, "mondopoint", 275.0),
        (26, "jp", 275.0),
    ],
)
def test_last_length_matches_published_formulas(
    size: float, system: str, expected_mm: float
) -> None:
    assert float(last_length_mm(size, system)) == pytest.approx(expected_mm, abs=1e-3)


def test_us_women_uses_the_minus_23_scale_not_the_common_minus_22_5() -> None:
    # Wikipedia "Shoe size": US women = 3 x last(in) - 23; the "common" scale uses -22.5.
    assert float(last_length_mm(9, "us-women")) == pytest.approx((9 + 23) / 3 * INCH)
    assert float(last_length_mm(9, "us-women")) != pytest.approx((9 + 22.5) / 3 * INCH)
    assert float(convert_size(9, "us-women", "uk")) == pytest.approx(7.0)
    assert float(convert_size(8, "us-men", "uk")) == pytest.approx(7.0)


@pytest.mark.parametrize(
    ("size", "source", "target", "expected"),
    [
        (7, "uk", "eu", 40.64),  # 32/3 in x 25.4 / (20/3) = 40.64
        (41, "eu", "uk", 7.283),  # 273.33 mm = 10.761 in -> 3 x 10.761 - 25
        (8.5, "us-men", "eu", 41.275),  # UK 7.5 -> 32.5/3 in = 275.17 mm -> / (20/3)
        (41, "eu", "mondopoint", 258.333),  # 273.33 - 15 mm allowance
        (260, "mondopoint", "eu", 41.25),  # (260 + 15) x 3/20
        (26, "jp", "mondopoint", 260.0),  # same foot; the allowance cancels
    ],
)
def test_convert_size_matches_hand_computed_values(
    size: float, source: str, target: str, expected: float
) -> None:
    assert float(convert_size(size, source, target)) == pytest.approx(expected, abs=1e-3)


def test_toe_allowance_only_matters_between_last_and_foot_based_systems() -> None:
    # domain.md: producers use 13.3, 15, 16.9 or 20 mm; EU 41 is a 253.3-260 mm foot.
    foot_20 = float(convert_size(41, "eu", "mondopoint", allowance_mm=20))
    foot_13 = float(convert_size(41, "eu", "mondopoint", allowance_mm=13.3))
    assert foot_20 == pytest.approx(253.333, abs=1e-3)
    assert foot_13 == pytest.approx(260.033, abs=1e-3)
    for allowance in (0.0, 40.0):  # the whole accepted range: no effect within one family
        assert float(convert_size(7, "uk", "eu", allowance_mm=allowance)) == pytest.approx(40.64)


def test_convert_label_reports_last_foot_and_allowance() -> None:
    c = convert_label("EU 41", "mondopoint", allowance_mm=15)
    assert c.source.system == "eu"
    assert c.to_system == "mondopoint"
    assert c.last_length_mm == pytest.approx(273.333, abs=1e-3)
    assert c.foot_length_mm == pytest.approx(258.333, abs=1e-3)
    assert c.value == pytest.approx(258.333, abs=1e-3)
    assert c.allowance_used is True

    same_family = convert_label("UK 7", "eu")
    assert same_family.value == pytest.approx(40.64, abs=1e-3)
    assert same_family.allowance_used is False


def test_one_size_step_is_the_published_step_per_system() -> None:
    # Paris point 2/3 cm; UK/US 1/3 in; Mondopoint 1 mm per label unit; JP 1 cm.
    expected = {
        "eu": 20 / 3,
        "uk": INCH / 3,
        "us-men": INCH / 3,
        "us-women": INCH / 3,
        "mondopoint": 1.0,
        "jp": 10.0,
    }
    for system, step in expected.items():
        low, _ = PLAUSIBLE[system]
        got = float(last_length_mm(low + 1, system) - last_length_mm(low, system))
        assert got == pytest.approx(step)
        assert SIZE_STEP_MM[SizeSystem(system)] == pytest.approx(step)


def test_conversions_work_on_arrays() -> None:
    out = convert_size([40, 41, 42], "eu", "uk")
    assert out.shape == (3,)
    assert np.all(np.diff(out) > 0)


# --------------------------------------------------------------------------- properties


@st.composite
def system_and_size(draw: st.DrawFn) -> tuple[str, float]:
    system = draw(st.sampled_from(SYSTEMS))
    low, high = PLAUSIBLE[system]
    size = draw(st.floats(min_value=low, max_value=high, allow_nan=False))
    return system, size


@given(
    pair=system_and_size(),
    target=st.sampled_from(SYSTEMS),
    allowance=st.floats(min_value=0.0, max_value=30.0),
)
def test_conversion_round_trips(pair: tuple[str, float], target: str, allowance: float) -> None:
    source, size = pair
    there = convert_size(size, source, target, allowance_mm=allowance)
    back = float(convert_size(there, target, source, allowance_mm=allowance))
    assert math.isclose(back, size, abs_tol=1e-9)


@given(
    system=st.sampled_from(SYSTEMS),
    target=st.sampled_from(SYSTEMS),
    a=st.floats(min_value=0.0, max_value=1.0),
    b=st.floats(min_value=0.0, max_value=1.0),
)
def test_conversions_are_strictly_increasing(system: str, target: str, a: float, b: float) -> None:
    low, high = PLAUSIBLE[system]
    x, y = sorted((low + a * (high - low), low + b * (high - low)))
    assume(y - x > 1e-6)
    assert float(last_length_mm(x, system)) < float(last_length_mm(y, system))
    assert float(convert_size(x, system, target)) < float(convert_size(y, system, target))
    lx, ly = float(last_length_mm(x, system)), float(last_length_mm(y, system))
    assert float(size_from_last_length(lx, target)) < float(size_from_last_length(ly, target))


def _check_any_text(text: str) -> None:
    try:
        label = parse_size(text)
    except SizeLabelError:
        return
    assert label.system in SYSTEMS
    low, high = PLAUSIBLE[label.system]
    assert low <= label.value <= high
    assert label.text == text


@given(st.text(max_size=20))
def test_parse_size_on_any_text_raises_only_size_label_error(text: str) -> None:
    _check_any_text(text)


# Text shaped like labels (a prefix, digits, separators, units) reaches deeper branches.
LABELISH = st.text(alphabet="0123456789 .,/½-:EeUuKkSsWwMmPpCcJjRr", max_size=14)


@given(LABELISH)
def test_parse_size_on_label_like_text_raises_only_size_label_error(text: str) -> None:
    _check_any_text(text)


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",), blacklist_characters="½")))
def test_text_without_a_number_is_never_a_size(text: str) -> None:
    with pytest.raises(SizeLabelError):
        parse_size(text)


# Letters no known system prefix is made of (every prefix holds one of e,u,f,p,m,j,s,o,a,i).
UNKNOWN_PREFIX = st.text(alphabet="bcdghknqtvxyzBCDGHKNQTVXYZ", min_size=1, max_size=8)


@given(prefix=UNKNOWN_PREFIX, sep=st.sampled_from(["", " ", ": ", "-"]))
def test_unknown_system_prefix_is_never_accepted(prefix: str, sep: str) -> None:
    with pytest.raises(SizeLabelError) as info:
        parse_size(f"{prefix}{sep}41")
    assert repr(f"{prefix}{sep}41") in str(info.value)


@given(
    label=st.sampled_from(["41", "EU 41", "UK 7", "US W 9", "26 cm", "260/95"]),
    junk=st.text(
        alphabet=st.characters(blacklist_categories=("Nd",), blacklist_characters="½"),
        min_size=1,
    ),
)
def test_a_valid_label_with_junk_after_it_is_rejected(label: str, junk: str) -> None:
    assume(junk.strip())
    with pytest.raises(SizeLabelError):
        parse_size(label + junk)


@given(
    prefix=st.sampled_from(
        [("", "eu"), ("EU ", "eu"), ("UK ", "uk"), ("US ", "us-men"), ("US W ", "us-women")]
    ),
    whole=st.integers(min_value=1, max_value=15),
    form=st.sampled_from(["", ".5", ",5", "½", " 1/2"]),
)
def test_written_sizes_parse_to_their_value(prefix: tuple[str, str], whole: int, form: str) -> None:
    text_prefix, system = prefix
    if system == "eu":
        whole += 30  # EU 31-45
    label = parse_size(f"{text_prefix}{whole}{form}")
    assert label.system == system
    assert label.value == whole + (0.5 if form else 0.0)


@pytest.mark.parametrize("label", ["41/42", "41 / 42", "7/8", "260/2"])
def test_two_sizes_or_fractions_are_not_read_as_mondopoint(label: str) -> None:
    with pytest.raises(SizeLabelError, match="two sizes"):
        parse_size(label)


# --------------------------------------------------------------------------- hostile values


def _cli(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from sizecheck.cli import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.mark.parametrize("label", ["UK -5", "-41", "EU -41", "UK:-5", "US −3"])
def test_a_negative_size_is_refused_saying_what_is_accepted(label: str) -> None:
    # Issue 18: 'UK -5' read as UK 5.
    with pytest.raises(SizeLabelError, match=r"never negative.*uk 0–17"):
        parse_size(label)


@pytest.mark.parametrize("label", ["UK-5", "EU - 41", "UK 5"])
def test_a_dash_between_system_and_number_is_a_separator(label: str) -> None:
    assert parse_size(label).value in (5.0, 41.0)


@pytest.mark.parametrize("allowance", [-400.0, -0.1, 40.1, float("nan"), float("inf")])
def test_an_allowance_outside_0_to_40_mm_is_refused(allowance: float) -> None:
    # Issue 13 item 9: '--allowance -400' printed 673.33, '--allowance nan' printed nan.
    with pytest.raises(SizeLabelError, match="from 0 to 40 mm"):
        convert_label("EU 41", "mondopoint", allowance_mm=allowance)
    with pytest.raises(SizeLabelError, match="from 0 to 40 mm"):
        convert_size([41.0], "eu", "mondopoint", allowance_mm=allowance)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["convert", "EU 41", "--to", "mondopoint", "--allowance", "-400"], "from 0 to 40 mm"),
        (["convert", "EU 41", "--to", "mondopoint", "--allowance", "nan"], "from 0 to 40 mm"),
        (["convert", "UK -5", "--to", "eu"], "never negative"),
    ],
)
def test_cli_convert_refuses_hostile_values_in_one_line(args: list[str], words: str) -> None:
    code, out = _cli(*args)
    assert code == 2 and out.startswith("Error:") and words in out
    assert "Traceback" not in out and "673" not in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        # foot to foot: the length both share is the foot's; no allowance in play
        (["MP 260", "--to", "jp"], "foot length 260.0 mm (both systems name the foot"),
        (["UK 7", "--to", "eu"], "last length 270.9 mm (both systems name the last"),
        # across families the allowance used is named, given or default
        (["EU 41", "--to", "mondopoint"], "toe allowance 15 mm (default)"),
        (["EU 41", "--to", "jp", "--allowance", "13.3"], "toe allowance 13.3 mm (given)"),
    ],
)
def test_cli_convert_names_the_length_and_allowance_it_used(args: list[str], says: str) -> None:
    # Issue 13 item 9: 'MP 260 --to jp' said 'toe allowance not needed' beside a last
    # length computed with 15 mm.
    code, out = _cli("convert", *args)
    assert code == 0 and says in out, out
