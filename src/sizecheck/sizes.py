"""Size systems, size-label parsing and conversion between systems.

EU (Paris point), UK and US sizes name the **last**; Mondopoint and JP name the
**foot**. Converting between the two families therefore needs a toe allowance
(last length − foot length), which is always an explicit parameter and is
reported with every conversion.

Formulas (domain.md, "Size systems"):

=============  =====================================  ==============
system         last length (mm)                       step per size
=============  =====================================  ==============
``eu``         size × 20/3                            6.667 mm
``uk``         25.4 × (size + 25) / 3                 8.467 mm
``us-men``     25.4 × (size + 24) / 3                 8.467 mm
``us-women``   25.4 × (size + 23) / 3                 8.467 mm
``mondopoint`` foot (mm) + allowance                  5 mm
``jp``         10 × foot (cm) + allowance             5 mm (half cm)
=============  =====================================  ==============

Examples
--------
>>> parse_size("41½")
SizeLabel(system='eu', value=41.5, width_mm=None, text='41½')
>>> parse_size("US W 9").system
'us-women'
>>> round(float(last_length_mm(41, "eu")), 1)
273.3
>>> round(float(convert_size(7, "uk", "eu")), 2)
40.64
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sizecheck.errors import SizeLabelError

__all__ = [
    "ALLOWANCE_RANGE_MM",
    "DEFAULT_TOE_ALLOWANCE_MM",
    "PLAUSIBLE_SIZES",
    "SIZE_STEP_MM",
    "Conversion",
    "SizeLabel",
    "SizeSystem",
    "check_allowance",
    "convert_label",
    "convert_size",
    "foot_based",
    "last_length_mm",
    "parse_size",
    "size_from_last_length",
]


class SizeSystem(StrEnum):
    """A shoe size system."""

    EU = "eu"
    UK = "uk"
    US_MEN = "us-men"
    US_WOMEN = "us-women"
    MONDOPOINT = "mondopoint"
    JP = "jp"


#: Default toe allowance (last length − foot length) in mm, used only when converting
#: between last-based (EU/UK/US) and foot-based (Mondopoint/JP) systems. Producers use
#: 13.3, 15, 16.9 or 20 mm (domain.md, "The definitional spread"); 15 mm is a middle value,
#: and every conversion reports the allowance it used.
DEFAULT_TOE_ALLOWANCE_MM = 15.0

#: Toe allowances accepted, in mm: from none (a last as long as the foot) to twice the
#: largest allowance producers use (20 mm, domain.md). Anything else is a slip
#: (``--allowance -400`` once gave a size of 673).
ALLOWANCE_RANGE_MM = (0.0, 40.0)

#: Length step of one size, in mm of last (or foot) length, per system.
SIZE_STEP_MM: dict[SizeSystem, float] = {
    SizeSystem.EU: 20.0 / 3.0,
    SizeSystem.UK: 25.4 / 3.0,
    SizeSystem.US_MEN: 25.4 / 3.0,
    SizeSystem.US_WOMEN: 25.4 / 3.0,
    SizeSystem.MONDOPOINT: 1.0,
    SizeSystem.JP: 10.0,
}

#: Plausible label values per system, children's to the largest adult sizes. No system
#: has a negative size (UK sizes start at 0, a baby's size).
PLAUSIBLE_SIZES: dict[SizeSystem, tuple[float, float]] = {
    SizeSystem.EU: (15.0, 56.0),
    SizeSystem.UK: (0.0, 17.0),
    SizeSystem.US_MEN: (0.0, 18.0),
    SizeSystem.US_WOMEN: (0.0, 18.0),
    SizeSystem.MONDOPOINT: (90.0, 360.0),
    SizeSystem.JP: (9.0, 36.0),
}

_FOOT_BASED = frozenset({SizeSystem.MONDOPOINT, SizeSystem.JP})
_UK_OFFSET = {SizeSystem.UK: 25.0, SizeSystem.US_MEN: 24.0, SizeSystem.US_WOMEN: 23.0}

_PREFIXES: dict[str, SizeSystem] = {
    "eu": SizeSystem.EU,
    "eur": SizeSystem.EU,
    "euro": SizeSystem.EU,
    "fr": SizeSystem.EU,
    "ps": SizeSystem.EU,
    "paris": SizeSystem.EU,
    "uk": SizeSystem.UK,
    "us": SizeSystem.US_MEN,
    "usm": SizeSystem.US_MEN,
    "usmen": SizeSystem.US_MEN,
    "usw": SizeSystem.US_WOMEN,
    "uswomen": SizeSystem.US_WOMEN,
    "usl": SizeSystem.US_WOMEN,
    "usladies": SizeSystem.US_WOMEN,
    "mp": SizeSystem.MONDOPOINT,
    "mondo": SizeSystem.MONDOPOINT,
    "mondopoint": SizeSystem.MONDOPOINT,
    "jp": SizeSystem.JP,
    "jis": SizeSystem.JP,
}

# A half (½ or 1/2) may follow a whole number only: "41.5½" is not a size.
_NUMBER = r"(?:\d+[.,]\d+|\d+(?:\s*(?:½|1\s*/\s*2))?|½)"
_LABEL = re.compile(
    rf"""^(?:(?P<prefix>[a-z][a-z .\-]*?)[\s:\-]*)?
        (?P<num>{_NUMBER})
        \s*(?P<suffix>cm|mm)?
        (?:\s*/\s*(?P<width>\d+(?:[.,]\d+)?))?$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class SizeLabel:
    """A size label read into a system and a numeric value.

    Attributes
    ----------
    system : str
        One of :class:`SizeSystem`'s values.
    value : float
        The size in that system (Mondopoint in mm of foot length, JP in cm).
    width_mm : float or None
        The width part of a Mondopoint label such as ``260/95``.
    text : str
        The label as written.
    """

    system: str
    value: float
    width_mm: float | None
    text: str


def _system(system: str | SizeSystem) -> SizeSystem:
    try:
        return SizeSystem(str(system).strip().lower())
    except ValueError:
        valid = ", ".join(s.value for s in SizeSystem)
        raise SizeLabelError(f"Unknown size system {system!r}. Use one of: {valid}.") from None


def _number(text: str) -> float:
    text = text.replace(" ", "")
    half = 0.0
    if text.endswith("½"):
        text, half = text[:-1], 0.5
    elif text.endswith("1/2") and len(text) > 3:
        text, half = text[:-3], 0.5
    if not text:
        return half
    return float(text.replace(",", ".")) + half


_NEGATIVE = re.compile(r"(?:^|[\s:])[-\u2212]\d")


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str, default: SizeSystem) -> SizeLabel:
    raw = text
    stripped = text.strip()
    if _NEGATIVE.search(stripped):  # 'UK -5' once read as UK 5
        ranges = ", ".join(f"{s.value} {lo:g}–{hi:g}" for s, (lo, hi) in PLAUSIBLE_SIZES.items())
        raise SizeLabelError(
            f"Cannot read size label {raw!r}: a size is never negative. Sizes run {ranges}; "
            "write the system and a number, e.g. 'UK 5'."
        )
    m = _LABEL.match(stripped)
    if not stripped or m is None:
        raise SizeLabelError(
            f"Cannot read size label {raw!r}: expected a number such as 41, 41.5, 41,5, 41½, "
            "'41 1/2', or a system and number such as 'EU 41', 'UK 7', 'US W 9', '26 cm', "
            "'260/95'."
        )
    prefix = re.sub(r"[\s.\-]+", "", (m.group("prefix") or "").lower())
    suffix = (m.group("suffix") or "").lower()
    value = _number(m.group("num"))
    width = float(m.group("width").replace(",", ".")) if m.group("width") else None
    low_mp, high_mp = PLAUSIBLE_SIZES[SizeSystem.MONDOPOINT]
    if width is not None and not (low_mp <= value <= high_mp and 40.0 <= width <= 160.0):
        raise SizeLabelError(
            f"Cannot read size label {raw!r}: it looks like two sizes or a fraction, not a "
            "Mondopoint length/width such as '260/95'. Write one size per row (e.g. 41 or 41½)."
        )
    if prefix and prefix not in _PREFIXES:
        raise SizeLabelError(
            f"Cannot read size label {raw!r}: unknown size system {m.group('prefix').strip()!r}; "
            f"known prefixes are {', '.join(sorted(_PREFIXES))}."
        )
    system = _PREFIXES[prefix] if prefix else default
    if suffix == "cm":
        if prefix and system is not SizeSystem.JP:
            raise SizeLabelError(f"Cannot read size label {raw!r}: 'cm' does not go with {prefix}.")
        system = SizeSystem.JP
    elif suffix == "mm" or width is not None:
        if prefix and system is not SizeSystem.MONDOPOINT:
            raise SizeLabelError(
                f"Cannot read size label {raw!r}: a width or 'mm' does not go with {prefix}."
            )
        system = SizeSystem.MONDOPOINT
    low, high = PLAUSIBLE_SIZES[system]
    if not low <= value <= high:
        raise SizeLabelError(
            f"Size label {raw!r} read as {system.value} {value:g}, outside the plausible "
            f"{system.value} range {low:g}–{high:g}. Write the system in the label "
            "(e.g. 'MP 260', '26 cm') or choose the table's size system."
        )
    return SizeLabel(system.value, value, width, raw)


def parse_size(text: str, *, default_system: str | SizeSystem = SizeSystem.EU) -> SizeLabel:
    """Read a size label into a system and value.

    Parameters
    ----------
    text : str
        The label as written: ``41``, ``41.5``, ``41,5``, ``41½``, ``41 1/2``, ``EU 41``,
        ``UK 7``, ``US 8.5``, ``US W 9``, ``260``, ``26 cm`` or ``260/95``.
    default_system : str, default "eu"
        The system of a bare number (normally the reference table's system).

    Returns
    -------
    SizeLabel

    Raises
    ------
    SizeLabelError
        When the label cannot be read, quoting it.

    Examples
    --------
    >>> parse_size("41,5").value
    41.5
    >>> parse_size("260/95")
    SizeLabel(system='mondopoint', value=260.0, width_mm=95.0, text='260/95')
    >>> parse_size("260", default_system="mondopoint").system
    'mondopoint'
    """
    if not isinstance(text, str):
        raise SizeLabelError(f"Cannot read size label {text!r}: expected text.")
    return _parse_cached(text, _system(default_system))


def last_length_mm(
    size: ArrayLike, system: str | SizeSystem, *, allowance_mm: float = DEFAULT_TOE_ALLOWANCE_MM
) -> NDArray[np.float64]:
    """Last length in mm for sizes in ``system``.

    ``allowance_mm`` (last − foot) is used only for the foot-based systems.

    >>> float(last_length_mm(260, "mondopoint", allowance_mm=15))
    275.0
    """
    sys_ = _system(system)
    s = np.asarray(size, dtype=float)
    if sys_ is SizeSystem.EU:
        return s * (20.0 / 3.0)
    if sys_ in _UK_OFFSET:
        return 25.4 * (s + _UK_OFFSET[sys_]) / 3.0
    foot = s * (10.0 if sys_ is SizeSystem.JP else 1.0)
    return foot + allowance_mm


def size_from_last_length(
    length_mm: ArrayLike,
    system: str | SizeSystem,
    *,
    allowance_mm: float = DEFAULT_TOE_ALLOWANCE_MM,
) -> NDArray[np.float64]:
    """Inverse of :func:`last_length_mm`: the (fractional) size whose last has this length.

    >>> round(float(size_from_last_length(273.3333333333333, "eu")), 9)
    41.0
    """
    sys_ = _system(system)
    L = np.asarray(length_mm, dtype=float)
    if sys_ is SizeSystem.EU:
        return L * (3.0 / 20.0)
    if sys_ in _UK_OFFSET:
        return 3.0 * L / 25.4 - _UK_OFFSET[sys_]
    foot = L - allowance_mm
    return foot / (10.0 if sys_ is SizeSystem.JP else 1.0)


def convert_size(
    size: ArrayLike,
    from_system: str | SizeSystem,
    to_system: str | SizeSystem,
    *,
    allowance_mm: float = DEFAULT_TOE_ALLOWANCE_MM,
) -> NDArray[np.float64]:
    """Convert sizes between systems through last length.

    Examples
    --------
    >>> round(float(convert_size(41, "eu", "eu")), 9)
    41.0
    >>> round(float(convert_size(260, "mondopoint", "eu", allowance_mm=13.3)), 2)
    40.99
    """
    allowance_mm = check_allowance(allowance_mm)
    length = last_length_mm(size, from_system, allowance_mm=allowance_mm)
    return size_from_last_length(length, to_system, allowance_mm=allowance_mm)


def uses_allowance(a: str | SizeSystem, b: str | SizeSystem) -> bool:
    """Whether converting between ``a`` and ``b`` depends on the toe allowance."""
    return foot_based(a) != foot_based(b)


def foot_based(system: str | SizeSystem) -> bool:
    """Whether ``system``'s sizes name the foot (Mondopoint, JP), not the last.

    >>> foot_based("jp"), foot_based("uk")
    (True, False)
    """
    return _system(system) in _FOOT_BASED


def check_allowance(allowance_mm: float) -> float:
    """``allowance_mm`` as a float, if it is a toe allowance within
    :data:`ALLOWANCE_RANGE_MM`; raises :class:`SizeLabelError` saying what is accepted.

    >>> check_allowance(16.9)
    16.9
    """
    value = float(allowance_mm)
    low, high = ALLOWANCE_RANGE_MM
    if not (low <= value <= high):  # also false for NaN
        raise SizeLabelError(
            f"Toe allowance {allowance_mm!r} mm is not usable: give a number from {low:g} to "
            f"{high:g} mm (producers use 13.3, 15, 16.9 or 20; the default is "
            f"{DEFAULT_TOE_ALLOWANCE_MM:g})."
        )
    return value


@dataclass(frozen=True)
class Conversion:
    """The result of converting one label, with everything needed to explain it.

    ``allowance_used`` tells whether the result depends on ``allowance_mm`` (one system
    names the last, the other the foot); ``last_length_mm`` and ``foot_length_mm`` are
    computed with it either way, so say which length the two systems share when it is not.
    """

    source: SizeLabel
    to_system: str
    value: float
    last_length_mm: float
    foot_length_mm: float
    allowance_mm: float
    allowance_used: bool


def convert_label(
    text: str,
    to_system: str | SizeSystem,
    *,
    default_system: str | SizeSystem = SizeSystem.EU,
    allowance_mm: float = DEFAULT_TOE_ALLOWANCE_MM,
) -> Conversion:
    """Parse ``text`` and convert it to ``to_system``, reporting last and foot length.

    Raises :class:`SizeLabelError` for a label that cannot be read and for an allowance
    outside :data:`ALLOWANCE_RANGE_MM` (or not a number).

    >>> c = convert_label("EU 41", "mondopoint", allowance_mm=15)
    >>> round(c.value, 1), round(c.last_length_mm, 1), c.allowance_used
    (258.3, 273.3, True)
    """
    allowance_mm = check_allowance(allowance_mm)
    label = parse_size(text, default_system=default_system)
    target = _system(to_system)
    length = float(last_length_mm(label.value, label.system, allowance_mm=allowance_mm))
    value = float(size_from_last_length(length, target, allowance_mm=allowance_mm))
    return Conversion(
        source=label,
        to_system=target.value,
        value=value,
        last_length_mm=length,
        foot_length_mm=length - allowance_mm,
        allowance_mm=allowance_mm,
        allowance_used=uses_allowance(label.system, target),
    )
