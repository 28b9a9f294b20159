"""Canonical columns and dimensions, their English and Indonesian aliases, units and ranges.

This module is data plus the small functions that match a spreadsheet header to a
canonical name. Matching ignores case, spaces, underscores, hyphens, dots and a unit
suffix such as ``(mm)``, ``(milimeter)``, ``(cm.)``, ``_cm``, ``, mm`` or ``[in]``; the
unit found wins over ``--units``. A header that names a dimension with something else
after it (``(m)``, ``(kiri)``, ``_2``) is recognised by :func:`near_dimension`, so that its
cells are reported instead of passed over.

Examples
--------
>>> match_column("Panjang Insole (mm)")
ColumnMatch(canonical='insole_length', unit='mm', kind='dimension')
>>> match_column("insole_length_cm")
ColumnMatch(canonical='insole_length', unit='cm', kind='dimension')
>>> match_column("Produsen")
ColumnMatch(canonical='producer', unit=None, kind='meta')
>>> match_column("catatan") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "DIMENSIONS",
    "FOOT_VALUES",
    "HEADER_NAMES",
    "META_COLUMNS",
    "STUDY_COLUMNS",
    "TEMPLATE_DIMENSIONS",
    "TEMPLATE_FOOT_CHOICES",
    "UNIT_TO_MM",
    "ColumnMatch",
    "Dimension",
    "NearMatch",
    "header_text",
    "match_column",
    "near_dimension",
    "normalise_name",
    "normalise_unit",
    "template_columns",
    "unit_factor",
]

DimensionKind = Literal["length", "width", "girth"]


@dataclass(frozen=True)
class Dimension:
    """A measurable dimension of an insole, last or shoe.

    Attributes
    ----------
    name : str
        Canonical snake_case name, used in tables, inputs and outputs.
    kind : {"length", "width", "girth"}
        Family, which sets the default grade step and tolerance.
    definition : str
        What is measured, as a QA officer would read it.
    plausible_mm : tuple of float
        Values outside this range (in mm) are rejected as ``implausible``.
    aliases : tuple of str
        Extra header names accepted for this dimension (English and Indonesian).
    """

    name: str
    kind: DimensionKind
    definition: str
    plausible_mm: tuple[float, float]
    aliases: tuple[str, ...] = ()


_LENGTH_RANGE = (80.0, 380.0)
_WIDTH_RANGE = (30.0, 150.0)
_GIRTH_RANGE = (110.0, 480.0)

_DIMS = (
    Dimension(
        "insole_length",
        "length",
        "Insole length, heel to toe (state straight or along the curve)",
        _LENGTH_RANGE,
        ("panjang_insole", "panjang_sol_dalam", "pjg_insole", "insole"),
    ),
    Dimension(
        "insole_ball_width",
        "width",
        "Insole width across the ball (joint)",
        _WIDTH_RANGE,
        ("lebar_insole", "lebar_ball_insole", "lebar_sol_dalam"),
    ),
    Dimension(
        "insole_heel_width",
        "width",
        "Insole width at the heel",
        (20.0, 110.0),
        ("lebar_tumit_insole", "lebar_tumit_sol_dalam"),
    ),
    Dimension(
        "last_length",
        "length",
        "Last bottom length: tape along the bottom, featherline heel to toe "
        "(= insole-pattern length)",
        _LENGTH_RANGE,
        ("panjang_acuan", "panjang_last", "pjg_acuan", "last_bottom_length"),
    ),
    Dimension(
        "last_stick_length",
        "length",
        "Last length flat on a size stick, heel to toe",
        _LENGTH_RANGE,
        ("panjang_stick_acuan", "panjang_acuan_stick", "stick_length"),
    ),
    Dimension(
        "last_ball_girth",
        "girth",
        "Girth round the last through the medial and lateral ball points",
        _GIRTH_RANGE,
        ("lingkar_ball", "lingkar_ball_acuan", "ball_girth", "lingkar_telapak"),
    ),
    Dimension(
        "last_waist_girth",
        "girth",
        "Girth midway between ball and instep",
        _GIRTH_RANGE,
        ("lingkar_pinggang", "lingkar_pinggang_acuan", "waist_girth"),
    ),
    Dimension(
        "last_instep_girth",
        "girth",
        "Girth round the instep",
        _GIRTH_RANGE,
        ("lingkar_instep", "lingkar_punggung_kaki", "instep_girth"),
    ),
    Dimension(
        "last_long_heel_girth",
        "girth",
        "Girth from the instep point round the back of the heel",
        (150.0, 520.0),
        ("lingkar_tumit", "lingkar_tumit_panjang", "long_heel_girth"),
    ),
    Dimension(
        "last_ball_width",
        "width",
        "Last bottom width at the ball",
        _WIDTH_RANGE,
        ("lebar_ball_acuan", "lebar_acuan", "lebar_last"),
    ),
    Dimension(
        "last_heel_width",
        "width",
        "Last bottom width at the heel",
        (20.0, 110.0),
        ("lebar_tumit_acuan", "lebar_tumit_last"),
    ),
    Dimension(
        "inside_length",
        "length",
        "Inside length of the finished shoe by gauge (SATRA STD 225 type)",
        _LENGTH_RANGE,
        ("panjang_dalam", "panjang_dalam_sepatu"),
    ),
    Dimension(
        "toecap_internal_length",
        "length",
        "Safety shoes: internal length of the toecap",
        (15.0, 80.0),
        ("panjang_toecap", "panjang_dalam_toecap", "toecap_length", "panjang_pelindung_jari"),
    ),
)

#: Every canonical dimension, by name.
DIMENSIONS: MappingProxyType[str, Dimension] = MappingProxyType({d.name: d for d in _DIMS})

#: Canonical metadata columns and their accepted aliases (English and Indonesian).
META_COLUMNS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "producer": (
            "produsen",
            "pabrik",
            "perusahaan",
            "ukm",
            "umkm",
            "maker",
            "manufacturer",
            "nama_produsen",
            "nama_ukm",
            "nama_perusahaan",
            "bengkel",
        ),
        "size": ("ukuran", "nomor", "no_ukuran", "size_label", "nomor_sepatu", "shoe_size"),
        "sample_id": ("no", "id", "sampel", "kode", "sample", "no_sampel", "kode_sampel"),
        "model": ("artikel", "tipe", "article", "type", "style"),
        "foot": ("kaki", "side", "sisi", "l_r", "kiri_kanan"),
        "pair": ("pasang", "pair_id", "no_pasang", "pasangan"),
        "date": ("tanggal", "tgl", "tanggal_ukur", "measured_on"),
        "lot": ("batch", "no_lot", "lot_no"),
        "operator": ("petugas", "pengukur", "inspector", "measured_by"),
        # long layout
        "dimension": ("dimensi", "parameter", "jenis_ukur", "measure", "measurement"),
        "value": ("nilai", "hasil", "hasil_ukur", "reading"),
        "unit": ("satuan", "units"),
    }
)

#: The key columns of a gage R&R study (``sizecheck gage``) and their aliases. Kept apart
#: from :data:`META_COLUMNS`: in a study ``no`` and ``sampel`` name the *part* measured
#: again and again, and a measurement sheet's columns keep their ``measure`` meaning.
#: Aliases are in order of preference: a sheet with both ``sampel`` and a running ``no``
#: takes ``sampel`` as the part.
STUDY_COLUMNS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "part": (
            "part", "sampel", "sample", "sample_id", "no_sampel", "kode_sampel", "part_id",
            "no_part", "benda_uji", "spesimen", "specimen", "no",
        ),
        "operator": ("operator", "petugas", "pengukur", "appraiser", "inspector", "measured_by"),
        "trial": (
            "trial", "ulangan", "replicate", "pengulangan", "ulangan_ke", "percobaan", "run",
            "repeat", "rep",
        ),
    }
)  # fmt: skip

#: Foot labels accepted in the ``foot`` column, lower-cased, mapped to ``L`` / ``R``.
FOOT_VALUES: MappingProxyType[str, str] = MappingProxyType(
    {
        "l": "L",
        "left": "L",
        "kiri": "L",
        "ki": "L",
        "kr": "L",
        "r": "R",
        "right": "R",
        "kanan": "R",
        "ka": "R",
        "kn": "R",
    }
)

#: Millimetres per unit, for the unit words accepted in headers, ``unit`` columns and
#: ``--units`` (lower case; a trailing dot, as in ``mm.``, is ignored). Only spellings
#: whose meaning is unambiguous: a metre (``m``) is not read, as shoe measurements are
#: never written in metres and a ``(m)`` header is more likely a slip.
UNIT_TO_MM: MappingProxyType[str, float] = MappingProxyType(
    {
        "mm": 1.0,
        "millimeter": 1.0,
        "millimetre": 1.0,
        "milimeter": 1.0,
        "milimetre": 1.0,
        "cm": 10.0,
        "centimeter": 10.0,
        "centimetre": 10.0,
        "sentimeter": 10.0,
        "sentimetre": 10.0,
        "in": 25.4,
        "inch": 25.4,
        "inches": 25.4,
        "inci": 25.4,
        '"': 25.4,
    }
)

#: Header text per canonical column and language, used by templates and reports.
#: Dimension columns get their unit appended by :func:`header_text`.
HEADER_NAMES: MappingProxyType[str, MappingProxyType[str, str]] = MappingProxyType(
    {
        "en": MappingProxyType(
            {
                "producer": "producer",
                "sample_id": "sample_id",
                "model": "model",
                "size": "size",
                "foot": "foot",
                "pair": "pair",
                "date": "date",
                "lot": "lot",
                "operator": "operator",
                **{name: name for name in (d.name for d in _DIMS)},
            }
        ),
        "id": MappingProxyType(
            {
                "producer": "produsen",
                "sample_id": "no_sampel",
                "model": "artikel",
                "size": "ukuran",
                "foot": "kaki",
                "pair": "pasang",
                "date": "tanggal",
                "lot": "no_lot",
                "operator": "petugas",
                **{d.name: d.aliases[0] for d in _DIMS},
            }
        ),
    }
)


@dataclass(frozen=True)
class ColumnMatch:
    """The canonical name a header matched, the unit it declared, and its kind."""

    canonical: str
    unit: str | None
    kind: Literal["dimension", "meta"]


_UNIT_WORDS = "|".join(re.escape(u) for u in sorted(UNIT_TO_MM, key=len, reverse=True) if u != '"')
_UNIT_SUFFIX = re.compile(
    rf"""^(?P<name>.*?)[\s_\-,]*                      # the name, then separators
        (?:\(\s*(?P<u1>(?:{_UNIT_WORDS})\.?|")\s*\)    # (mm), (mm.), (milimeter)
          |\[\s*(?P<u2>(?:{_UNIT_WORDS})\.?|")\s*\]    # [in]
          |(?<=[\s_\-,])(?P<u3>(?:{_UNIT_WORDS})\.?)     # _cm, ' mm', ', mm'
        )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
#: What stands after a dimension's name in a header that is not read: anything in
#: brackets (not a known unit), a number (``insole_length_2``), a length unit that is not
#: read (``panjang insole m``) or a foot (``panjang insole kiri``).
_NEAR_SUFFIX = re.compile(
    r"""^(?P<name>.*?)[\s_\-,]*
        (?:\(\s*(?P<b1>[^()]*?)\s*\)
          |\[\s*(?P<b2>[^\[\]]*?)\s*\]
          |(?<=[\s_\-,])(?P<num>\d{1,2})
          |(?<=[\s_\-,])(?P<word>m|meter|metre|meters|metres|mtr|dm|ft|feet
                                  |kiri|kanan|left|right|ki|ka|kr|kn|l|r)\.?
        )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


def normalise_name(text: str) -> str:
    """Lower-case ``text`` and drop spaces, underscores, hyphens, dots and slashes.

    >>> normalise_name(" Panjang_Insole. ")
    'panjanginsole'
    """
    return re.sub(r"[\s_\-./:]+", "", text.strip().lower())


def normalise_unit(text: str) -> str | None:
    """The canonical unit (``mm``, ``cm`` or ``in``) of a unit as written, or ``None``.

    >>> normalise_unit(" Milimeter "), normalise_unit("cm."), normalise_unit("m")
    ('mm', 'cm', None)
    """
    word = text.strip().lower()
    word = word[:-1] if word.endswith(".") else word
    factor = UNIT_TO_MM.get(word)
    if factor is None:
        return None
    return {1.0: "mm", 10.0: "cm", 25.4: "in"}[factor]


def _split_unit(header: str) -> tuple[str, str | None]:
    m = _UNIT_SUFFIX.match(header.strip())
    if not m or not m.group("name"):
        return header, None
    return m.group("name"), normalise_unit(m.group("u1") or m.group("u2") or m.group("u3"))


def _build_lookup() -> dict[str, tuple[str, Literal["dimension", "meta"]]]:
    lookup: dict[str, tuple[str, Literal["dimension", "meta"]]] = {}
    for dim in _DIMS:
        for alias in (dim.name, *dim.aliases):
            lookup[normalise_name(alias)] = (dim.name, "dimension")
    for canonical, aliases in META_COLUMNS.items():
        for alias in (canonical, *aliases):
            lookup[normalise_name(alias)] = (canonical, "meta")
    return lookup


_LOOKUP = _build_lookup()


def match_column(header: object) -> ColumnMatch | None:
    """Match a header cell to a canonical column, or return ``None`` for unknown columns.

    Parameters
    ----------
    header : object
        The header cell as read (non-strings are converted with ``str``).

    Returns
    -------
    ColumnMatch or None
        The canonical name, the unit declared in the header (``mm``, ``cm`` or ``in``;
        ``None`` when the header names no unit) and whether it is a dimension.
    """
    text = str(header).strip()
    if not text:
        return None
    key = normalise_name(text)
    if key in _LOOKUP:
        canonical, kind = _LOOKUP[key]
        return ColumnMatch(canonical, None, kind)
    name, unit = _split_unit(text)
    key = normalise_name(name)
    if unit is not None and key in _LOOKUP:
        canonical, kind = _LOOKUP[key]
        return ColumnMatch(canonical, unit, kind)
    return None


@dataclass(frozen=True)
class NearMatch:
    """A header that names a dimension with something sizecheck does not read after it.

    ``kind`` is ``"foot"`` (``panjang insole kiri``, ``(R)``: one column per foot),
    ``"number"`` (``insole_length_2``) or ``"unit"`` (anything else, such as a unit that is
    not read: ``(m)``); ``suffix`` is that part as written.
    """

    dimension: str
    suffix: str
    kind: Literal["unit", "number", "foot"]


def near_dimension(header: object) -> NearMatch | None:
    """For a header :func:`match_column` does not read, whether it names a dimension
    followed by something unreadable; ``None`` otherwise (an unrelated column).

    Such a column holds measurements that would otherwise be passed over without a word.

    Examples
    --------
    >>> near_dimension("lebar insole (m)")
    NearMatch(dimension='insole_ball_width', suffix='m', kind='unit')
    >>> near_dimension("insole_length_2 (mm)")
    NearMatch(dimension='insole_length', suffix='2', kind='number')
    >>> near_dimension("Panjang Insole Kiri")
    NearMatch(dimension='insole_length', suffix='Kiri', kind='foot')
    >>> near_dimension("catatan (kiri)") is None, near_dimension("insole_length") is None
    (True, True)
    """
    text = str(header).strip()
    if not text or match_column(text) is not None:
        return None
    name, unit = _split_unit(text)
    text = name if unit is not None else text
    m = _NEAR_SUFFIX.match(text)
    if not m or not m.group("name"):
        return None
    hit = _LOOKUP.get(normalise_name(m.group("name")))
    if hit is None or hit[1] != "dimension":
        return None
    if m.group("num") is not None:
        return NearMatch(hit[0], m.group("num"), "number")
    suffix = (m.group("b1") or m.group("b2") or m.group("word") or "").strip()
    kind: Literal["unit", "foot"] = "foot" if suffix.lower() in FOOT_VALUES else "unit"
    return NearMatch(hit[0], suffix, kind)


def unit_factor(unit: str) -> float:
    """Millimetres per ``unit`` (``mm``, ``cm``, ``in`` and their spelled-out forms).

    Raises
    ------
    KeyError
        When the unit is unknown; callers turn this into their own error.

    Examples
    --------
    >>> unit_factor("cm"), unit_factor(" Sentimeter "), unit_factor("mm.")
    (10.0, 10.0, 1.0)
    """
    canonical = normalise_unit(unit)
    if canonical is None:
        raise KeyError(unit)
    return UNIT_TO_MM[canonical]


def header_text(canonical: str, *, lang: str = "en", unit: str = "mm") -> str:
    """The header a template writes for ``canonical``, in ``lang``, with the unit for dimensions.

    Every header written this way matches back to ``canonical`` through :func:`match_column`.

    Examples
    --------
    >>> header_text("insole_length", lang="id")
    'panjang_insole (mm)'
    >>> header_text("producer", lang="id")
    'produsen'
    >>> match_column(header_text("last_ball_girth", lang="id", unit="cm"))
    ColumnMatch(canonical='last_ball_girth', unit='cm', kind='dimension')
    """
    names = HEADER_NAMES.get(lang)
    if names is None or canonical not in names:
        raise KeyError(f"no {lang!r} header for {canonical!r}")
    text = names[canonical]
    return f"{text} ({unit})" if canonical in DIMENSIONS else text


#: Dimensions a template has when none are chosen.
TEMPLATE_DIMENSIONS = ("insole_length", "insole_ball_width", "last_length", "last_ball_girth")
_TEMPLATE_META = (
    "sample_id",
    "producer",
    "model",
    "size",
    "foot",
    "pair",
    "date",
    "lot",
    "operator",
)

#: Foot choices offered by templates, per language.
TEMPLATE_FOOT_CHOICES: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {"en": ("L", "R"), "id": ("kiri", "kanan")}
)


def template_columns(
    *, lang: str = "en", dimensions: Sequence[str] | None = None, unit: str = "mm"
) -> list[tuple[str, str]]:
    """The columns of an empty measurement sheet: ``(canonical, header text)`` pairs.

    Parameters
    ----------
    lang : {"en", "id"}
        Language of the headers.
    dimensions : sequence of str, optional
        Canonical dimension names (default :data:`TEMPLATE_DIMENSIONS`).
    unit : str, default "mm"
        Unit written into the dimension headers.

    Raises
    ------
    UsageError
        Unknown language, dimension or unit.

    Examples
    --------
    >>> [h for _, h in template_columns(lang="id", dimensions=["insole_length"])]
    ['no_sampel', 'produsen', 'artikel', 'ukuran', 'kaki', 'pasang', 'tanggal', 'no_lot', \
'petugas', 'panjang_insole (mm)']
    """
    from sizecheck.errors import UsageError

    if lang not in HEADER_NAMES:
        raise UsageError(f"Language {lang!r} has no template headers; use en or id.")
    if unit not in {"mm", "cm", "in"}:
        raise UsageError(f"Unit {unit!r} is not usable in a template; use mm, cm or in.")
    dims = list(dimensions) if dimensions else list(TEMPLATE_DIMENSIONS)
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise UsageError(
            f"Unknown dimension(s) {', '.join(map(repr, unknown))}. Known: {', '.join(DIMENSIONS)}."
        )
    return [(c, header_text(c, lang=lang, unit=unit)) for c in (*_TEMPLATE_META, *dims)]
