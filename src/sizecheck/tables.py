"""Reference tables: load, validate, grade from a master, nominal values and limits.

No SNI defines a shoe size table (domain.md), so sizecheck compares measurements
against *declared* reference tables. Each table is a TOML file (metadata, grading
rule, tolerances) with an optional CSV of tabulated nominal values, and always
carries its provenance: ``status`` (``official``, ``derived``, ``proposal`` or
``user``) and ``source``.

TOML format (one ``[dimensions.NAME]`` table per dimension)::

    name = "paris-point"
    title = "Paris point (EU) adult lasts and insoles"
    size_system = "eu"
    sizes = { from = 33, to = 50, step = 0.5 }   # or a list: [36, 37, 38]
    base_size = 42
    status = "derived"                           # official | derived | proposal | user
    source = "Paris point: last length = size x 20/3 mm (...)"
    csv = "paris-point.csv"                      # optional tabulated values

    [text.id]            # optional: the texts a person reads, in another language
    title = "Acuan dan insole dewasa Paris point (EU), nomor 33-50"
    source = "Paris point: panjang acuan = nomor x 20/3 mm (...)"
    notes = "Toleransi adalah usulan (...)"

    [dimensions.last_length]
    definition = "Last bottom length ..."
    base_value = 280.0     # mm at base_size   } or a column of the CSV
    step = 6.666666666667  # mm per size       }
    grade_step = 6.666666666667   # mm per size used to express deviations in sizes
    tolerance = { type = "symmetric", in_spec = 1.5, missized = 3.33 }
    # { type = "asymmetric", minus = 1.0, plus = 2.0, missized_minus = 3.0, missized_plus = 4.0 }
    # { type = "min" }  or  { type = "max" }   (one-sided: the nominal is a limit)
    tolerance_note = "proposal"
    text.id = { definition = "Panjang telapak acuan ...", tolerance_note = "usulan" }

``[text.LANG]`` (``LANG`` one of :data:`sizecheck.i18n.LANGS` other than ``en``) gives
``title``, ``source`` and ``notes`` in that language, and ``text.LANG`` inside a
dimension its ``definition`` and ``tolerance_note``; every field is optional. The plain
fields are the table's own text: :meth:`ReferenceTable.text` shows them wherever a
translation is not given, so a table without ``[text.id]`` shows its own words in an
Indonesian report. Tables written before these sections stay valid.

A table whose ``kind = "rule"`` holds steps without base values: it is graded from a
master last with :func:`grade` before measurements can be compared with it.

The ``csv =`` file must lie in the table's folder (or below it): a path out of it, or a
link pointing out of it, is a :class:`TableError` that quotes nothing of the file. Both
files must be UTF-8 text of at most :data:`MAX_TABLE_BYTES`; a table has at most
:data:`MAX_TABLE_SIZES` sizes (``max_sizes=`` raises it).

Examples
--------
>>> t = load_table("paris-point")
>>> t.status, t.size_system
('derived', 'eu')
>>> round(float(t.nominal("last_length", [41])[0]), 1)
273.3
>>> lim = t.limits("last_length", [41])
>>> round(float(lim.lower[0]), 2), round(float(lim.upper_missized[0]), 2)
(271.83, 276.66)
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sizecheck._data import data_dir
from sizecheck.errors import TableError, UnknownTableError, UsageError
from sizecheck.i18n import LANGS, dimension_label, format_number, has_key, t
from sizecheck.schema import DIMENSIONS
from sizecheck.sizes import ALLOWANCE_RANGE_MM, SIZE_STEP_MM, SizeSystem

__all__ = [
    "MAX_TABLE_BYTES",
    "MAX_TABLE_SIZES",
    "STATUSES",
    "Limits",
    "ReferenceTable",
    "TableDimension",
    "Tolerance",
    "as_table",
    "available_tables",
    "dumps_table",
    "grade",
    "load_table",
    "parse_table",
]

#: Allowed values of a table's ``status``.
STATUSES = ("official", "derived", "proposal", "user")

#: Most sizes a table may have (Mondopoint in 1 mm steps from 90 to 360 mm has 271);
#: ``sizes = {from = 0, to = 1e12}`` is refused before a size is made. Raise it with
#: ``max_sizes=`` of :func:`load_table`, :func:`parse_table` or :func:`grade`.
MAX_TABLE_SIZES = 1000
#: Largest table file (TOML or CSV) read, in bytes.
MAX_TABLE_BYTES = 2_000_000

ToleranceType = Literal["symmetric", "asymmetric", "min", "max"]
_EPS = 1e-9


def _plain(x: float | None, lang: str) -> str:
    """A table's own number for a reader: up to 3 decimals, no trailing zeros (3.375,
    3.33, 1.5, 42)."""
    text = format_number(x, lang, 3)
    return text.rstrip("0").rstrip(",.") if any(m in text for m in ",.") else text


@dataclass(frozen=True)
class Tolerance:
    """Limits around the nominal value, as offsets in mm.

    ``minus``/``plus`` bound the in-spec band (nominal − minus … nominal + plus);
    ``missized_minus``/``missized_plus`` bound the wider band beyond which the shoe
    is mis-sized. One-sided tolerances (``min``: the nominal is a minimum; ``max``:
    a maximum) have no mis-sized band.
    """

    type: ToleranceType
    minus: float = math.inf
    plus: float = math.inf
    missized_minus: float = math.inf
    missized_plus: float = math.inf

    def words(self, lang: str = "en") -> str:
        """The tolerance for a person of ``lang``: ``dalam ±1,5 mm sesuai spesifikasi, lebih
        dari ±3,33 mm salah ukuran``."""

        def mm(x: float) -> str:
            return _plain(x, lang)

        if self.type in ("min", "max"):
            return t(f"table.{self.type}", lang)
        if self.type == "symmetric":
            return t(
                "table.symmetric", lang, in_spec=mm(self.plus), missized=mm(self.missized_plus)
            )
        return t(
            "table.asymmetric",
            lang,
            minus=mm(self.minus),
            plus=mm(self.plus),
            missized_minus=mm(self.missized_minus),
            missized_plus=mm(self.missized_plus),
        )

    def describe(self) -> str:
        """Short text such as ``±1.5 mm (mis-sized beyond ±3.33)``."""
        if self.type == "min":
            return "minimum (one-sided)"
        if self.type == "max":
            return "maximum (one-sided)"
        if self.type == "symmetric":
            return f"±{self.plus:g} mm (mis-sized beyond ±{self.missized_plus:g})"
        return (
            f"−{self.minus:g}/+{self.plus:g} mm "
            f"(mis-sized beyond −{self.missized_minus:g}/+{self.missized_plus:g})"
        )


@dataclass(frozen=True)
class TableDimension:
    """How one dimension's nominal value, grade step and tolerance are defined."""

    name: str
    definition: str
    base_value: float | None = None
    step: float | None = None
    grade_step: float | None = None
    values: Mapping[float, float] | None = None
    tolerance: Tolerance | None = None
    tolerance_note: str = ""
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def tabulated(self) -> bool:
        """Whether the nominal comes from the CSV rather than base value + step."""
        return self.values is not None

    def text(self, key: Literal["definition", "tolerance_note"], lang: str = "en") -> str:
        """``definition`` or ``tolerance_note`` in ``lang`` when the table gives it, else
        the table's own text."""
        return self.texts.get(lang, {}).get(key) or str(getattr(self, key))


class Limits(NamedTuple):
    """Absolute limits in mm, one array element per size."""

    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    lower_missized: NDArray[np.float64]
    upper_missized: NDArray[np.float64]


@dataclass(frozen=True)
class ReferenceTable:
    """A declared reference table with its provenance.

    Attributes
    ----------
    name, title : str
        Short name (used on the command line) and a title for people.
    size_system : str
        The size system of the table's sizes (``eu``, ``uk``, ``mondopoint`` …).
    sizes : tuple of float
        The sizes the table covers, ascending.
    base_size : float
        The size at which ``base_value`` is given and ``offset_mm`` is evaluated.
    status : str
        ``official``, ``derived``, ``proposal`` or ``user``.
    source : str
        Where the numbers come from (standard, clause, document, URL).
    notes : str
        Anything a reader of the figures must know.
    kind : str
        ``table`` or ``rule`` (steps only; grade it from a master before use).
    toe_allowance_mm : float or None
        For foot-based systems: the allowance added to the foot length.
    dimensions : mapping of str to TableDimension
    texts : mapping of str to mapping of str to str
        ``title``, ``source`` and ``notes`` per language (``[text.id]``); see :meth:`text`.
    origin : str
        Where the table was loaded from (not part of its identity).
    """

    name: str
    title: str
    size_system: str
    sizes: tuple[float, ...]
    base_size: float
    status: str
    source: str
    dimensions: Mapping[str, TableDimension]
    notes: str = ""
    kind: Literal["table", "rule"] = "table"
    toe_allowance_mm: float | None = None
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    origin: str = field(default="", compare=False)

    @property
    def tabulated(self) -> bool:
        """Whether any dimension takes its nominal values from the CSV."""
        return any(d.tabulated for d in self.dimensions.values())

    def text(self, key: Literal["title", "source", "notes"], lang: str = "en") -> str:
        """``title``, ``source`` or ``notes`` for a reader of ``lang``.

        The table's ``[text.LANG]`` field when it has one, else its own text (a user's
        table without a translation shows the words its author wrote).

        Examples
        --------
        >>> t = load_table("paris-point")
        >>> t.text("notes", "id").startswith("Toleransi")
        True
        >>> t.text("notes", "en") == t.notes
        True
        """
        return self.texts.get(lang, {}).get(key) or str(getattr(self, key))

    def describe(self, lang: str = "en", dimensions: Iterable[str] | None = None) -> list[str]:
        """What a reader must know to judge a finding against this table, in ``lang``: the
        size system and base size, then per dimension its nominal at the base size, its
        step per size, its tolerance and the tolerance's status (``usulan`` …).

        Parameters
        ----------
        lang : {"en", "id"}
        dimensions : iterable of str, optional
            The dimensions to describe (default: all of the table's).

        Returns
        -------
        list of str
            One sentence per line.

        Examples
        --------
        >>> load_table("paris-point").describe("id", ["insole_length"])[1]
        'Panjang insole (sol dalam): 280,0 mm di nomor 42, naik 6,667 mm per nomor; dalam ±1,5 mm sesuai spesifikasi, lebih dari ±3,33 mm salah ukuran — usulan.'
        """  # noqa: E501
        base = _plain(self.base_size, lang)
        key = f"size_system.{self.size_system}"
        system = t(key, lang) if has_key(key, lang) else self.size_system
        lines = [t("table.system", lang, system=system, base=base)]
        for name in self.dimensions if dimensions is None else dimensions:
            dim = self.dimensions.get(name)
            if dim is None:
                continue
            tol = dim.tolerance.words(lang) if dim.tolerance else t("table.no_tolerance", lang)
            note = dim.text("tolerance_note", lang)
            if note:
                tol = t("table.tolerance_status", lang, tolerance=tol, status=note)
            words = {
                "dimension": dimension_label(name, lang),
                "base": base,
                "tolerance": tol,
                "step": _plain(dim.step, lang),
            }
            if self.kind == "rule":
                lines.append(t("table.dimension_rule", lang, **words))
                continue
            words["nominal"] = format_number(self.nominal(name, [self.base_size])[0], lang, 1)
            key = "table.dimension_tabulated" if dim.tabulated else "table.dimension"
            lines.append(t(key, lang, **words))
        return lines

    def provenance(self) -> str:
        """One line naming the table, its status and its source, shown with its figures."""
        return f"{self.name} ({self.status}): {self.source}"

    def dimension(self, name: str) -> TableDimension:
        """The rule for ``name``; raises :class:`UsageError` naming the table's dimensions."""
        try:
            return self.dimensions[name]
        except KeyError:
            raise UsageError(
                f"Table {self.name!r} has no dimension {name!r}; it has "
                f"{', '.join(self.dimensions)}."
            ) from None

    def covers(self, sizes: ArrayLike) -> NDArray[np.bool_]:
        """Whether each size lies inside the table.

        Tables defined by base value + step cover every size between their smallest and
        largest size; tables with tabulated (CSV) values cover only the tabulated sizes.
        """
        s = np.asarray(sizes, dtype=float)
        if self.tabulated:
            grid = np.asarray(self.sizes)
            idx = np.clip(np.searchsorted(grid, s), 0, len(grid) - 1)
            left = np.clip(idx - 1, 0, len(grid) - 1)
            near = np.minimum(np.abs(grid[idx] - s), np.abs(grid[left] - s))
            return np.asarray(near < 1e-6)
        return np.asarray((s >= self.sizes[0] - _EPS) & (s <= self.sizes[-1] + _EPS))

    def nominal(self, dimension: str, sizes: ArrayLike) -> NDArray[np.float64]:
        """Nominal value in mm of ``dimension`` at each size (NaN outside the table)."""
        dim = self.dimension(dimension)
        s = np.asarray(sizes, dtype=float)
        if dim.values is not None:
            keys = np.fromiter(dim.values.keys(), dtype=float)
            vals = np.fromiter(dim.values.values(), dtype=float)
            order = np.argsort(keys)
            keys, vals = keys[order], vals[order]
            idx = np.clip(np.searchsorted(keys, s), 0, len(keys) - 1)
            left = np.clip(idx - 1, 0, len(keys) - 1)
            use_left = np.abs(keys[left] - s) < np.abs(keys[idx] - s)
            pick = np.where(use_left, left, idx)
            hit = np.abs(keys[pick] - s) < 1e-6
            return np.where(hit, vals[pick], np.nan)
        if dim.base_value is None or dim.step is None:
            raise UsageError(
                f"Table {self.name!r} is a grading rule without base values. Grade it from a "
                f"master last first: sizecheck grade --rule {self.name} --base-size SIZE "
                "--master DIMENSION=MM ..."
            )
        out = dim.base_value + dim.step * (s - self.base_size)
        return np.where(self.covers(s), out, np.nan)

    def limits(self, dimension: str, sizes: ArrayLike) -> Limits:
        """In-spec and mis-sized limits in mm of ``dimension`` at each size."""
        nominal = self.nominal(dimension, sizes)
        tol = self.dimension(dimension).tolerance
        if tol is None:
            inf = np.full_like(nominal, np.inf)
            return Limits(-inf, inf, -inf, inf)
        if tol.type == "min":
            up = np.full_like(nominal, np.inf)
            return Limits(nominal, up, nominal, up)
        if tol.type == "max":
            low = np.full_like(nominal, -np.inf)
            return Limits(low, nominal, low, nominal)
        return Limits(
            nominal - tol.minus,
            nominal + tol.plus,
            nominal - tol.missized_minus,
            nominal + tol.missized_plus,
        )

    def grade_step(self, dimension: str) -> float | None:
        """Millimetres per size used to express deviations of ``dimension`` in sizes."""
        dim = self.dimension(dimension)
        return dim.grade_step if dim.grade_step is not None else dim.step


# --------------------------------------------------------------------------- loading


def _shipped_dir() -> Traversable:
    """The folder of shipped tables (inside the installed package)."""
    return data_dir("reference_lasts")


def available_tables() -> list[str]:
    """Names of the shipped reference tables, sorted.

    >>> available_tables()
    ['bbkkp-2012-children', 'mondopoint', 'paris-point', 'sni-8877-safety']
    """
    folder = _shipped_dir()
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def as_table(table: str | Path | ReferenceTable) -> ReferenceTable:
    """``table`` itself when it is a :class:`ReferenceTable`, else :func:`load_table` of it:
    what every public function taking a table does with a name (``"paris-point"``), a
    ``.toml`` path or a loaded table."""
    return table if isinstance(table, ReferenceTable) else load_table(table)


def load_table(name_or_path: str | Path, *, max_sizes: int = MAX_TABLE_SIZES) -> ReferenceTable:
    """Load a shipped table by name, or a user table from a ``.toml`` path.

    A user table's ``csv =`` file must lie in the table's folder (or below it); the TOML
    and CSV must be UTF-8 text of at most :data:`MAX_TABLE_BYTES`. ``max_sizes`` bounds
    the number of sizes (:data:`MAX_TABLE_SIZES`).

    Raises
    ------
    UnknownTableError
        Neither a shipped table nor an existing file; the message lists the names.
    TableError
        The table is malformed; ``problems`` lists every problem with its location.
    """
    text = str(name_or_path)
    path = Path(text)
    if text.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise UnknownTableError(text, available_tables())
        toml_text = _read_text(path, path.name, path.name, "utf-8")
        return _parse_file(toml_text, path.name, path.parent, None, max_sizes)
    folder = _shipped_dir()
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", text) or ".." in text:
        raise UnknownTableError(text, available_tables())
    entry = folder / f"{text}.toml"
    if not entry.is_file():
        raise UnknownTableError(text, available_tables())
    return _parse_file(entry.read_text(encoding="utf-8"), f"{text}.toml", folder, None, max_sizes)


def _read_text(path: Traversable | Path, origin: str, where: str, encoding: str) -> str:
    """A table file's text; a file too large, unreadable or not UTF-8 is a TableError
    of table ``origin`` that names the file (``where``) and never quotes what it holds."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_TABLE_BYTES + 1)
    except OSError as exc:
        raise TableError(origin, [f"{where}: cannot be read ({exc.strerror})"]) from None
    if len(data) > MAX_TABLE_BYTES:
        raise TableError(
            origin, [f"{where}: larger than {MAX_TABLE_BYTES:,} bytes; not a table file"]
        )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise TableError(
            origin,
            [f"{where}: not UTF-8 text (byte {exc.start}); save it as UTF-8 (a text file)"],
        ) from None
    if "\0" in text:
        raise TableError(origin, [f"{where}: holds NUL bytes; not a text file"])
    return text


def _csv_path(folder: Traversable | Path, csv_name: str, origin: str) -> Traversable | Path:
    """The ``csv =`` file of a table, which must lie in the table's folder or below."""
    outside = TableError(
        origin,
        [
            f"{origin}: csv: {csv_name!r} lies outside the table's folder; keep the CSV "
            "beside the TOML and give its file name"
        ],
    )
    if isinstance(folder, Path):
        base = folder.resolve()
        target = (folder / csv_name).resolve()
        if not target.is_relative_to(base):
            raise outside
        return target
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", csv_name) or ".." in csv_name:
        raise outside
    return folder / csv_name


def _parse_file(
    toml_text: str,
    origin: str,
    folder: Traversable | Path,
    csv_text: str | None,
    max_sizes: int = MAX_TABLE_SIZES,
) -> ReferenceTable:
    try:
        data = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise TableError(origin, [f"{origin}: not valid TOML: {exc}"]) from None
    csv_name = data.get("csv")
    if csv_name is not None and not isinstance(csv_name, str):
        raise TableError(origin, [f"{origin}: csv: expected a file name, found {csv_name!r}"])
    if csv_text is None and csv_name is not None:
        csv_path = _csv_path(folder, csv_name, origin)
        if not csv_path.is_file():
            raise TableError(origin, [f"{origin}: csv: file {csv_name!r} not found beside it"])
        csv_text = _read_text(csv_path, origin, f"{origin} csv {csv_name!r}", "utf-8-sig")
    return parse_table(data, origin=origin, csv_text=csv_text, max_sizes=max_sizes)


def _sizes_from(
    spec: Any, where: str, problems: list[str], max_sizes: int = MAX_TABLE_SIZES
) -> tuple[float, ...]:
    if isinstance(spec, Mapping):
        try:
            start, stop = float(spec["from"]), float(spec["to"])
            step = float(spec.get("step", 1.0))
        except (KeyError, TypeError, ValueError):
            problems.append(f"{where}: expected {{ from = N, to = N, step = N }}, found {spec!r}")
            return ()
        if not all(map(math.isfinite, (start, stop, step))) or step <= 0 or stop < start:
            problems.append(f"{where}: needs finite from ≤ to and step > 0, found {spec!r}")
            return ()
        # floor, not round: a step that does not divide the range must not overshoot `to`.
        count = math.floor((stop - start) / step + 1e-9)
        if count + 1 > max_sizes:
            problems.append(
                f"{where}: {{ from = {start:g}, to = {stop:g}, step = {step:g} }} makes "
                f"{count + 1:,} sizes; a table has at most {max_sizes:,} (max_sizes)"
            )
            return ()
        return tuple(round(start + i * step, 6) for i in range(count + 1))
    if isinstance(spec, list) and len(spec) > max_sizes:
        problems.append(f"{where}: {len(spec):,} sizes; a table has at most {max_sizes:,}")
        return ()
    if isinstance(spec, list) and spec:
        try:
            values = [float(v) for v in spec]
        except (TypeError, ValueError):
            problems.append(f"{where}: every size must be a number, found {_short(spec)}")
            return ()
        if not all(map(math.isfinite, values)):
            problems.append(f"{where}: every size must be a finite number, found {_short(spec)}")
            return ()
        seen: set[float] = set()
        for v in values:
            if v in seen:
                problems.append(f"{where}: duplicate size {v:g}")
            seen.add(v)
        return tuple(sorted(seen))
    problems.append(f"{where}: expected a list of sizes or {{ from, to, step }}, found {spec!r}")
    return ()


def _short(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: a message stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: Any, where: str, problems: list[str], *, positive: bool = False) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where}: expected a number, found {value!r}")
        return None
    number = float(value)
    if not math.isfinite(number) or (positive and number <= 0):
        problems.append(f"{where}: expected a positive number, found {value!r}")
        return None
    return number


def _tolerance(spec: Any, where: str, problems: list[str]) -> Tolerance | None:
    if not isinstance(spec, Mapping):
        problems.append(f"{where}: expected a table such as {{ type = 'symmetric', ... }}")
        return None
    kind = spec.get("type")
    if kind in ("min", "max"):
        return Tolerance(kind)
    if kind == "symmetric":
        band = _number(spec.get("in_spec"), f"{where}.in_spec", problems, positive=True)
        mis = spec.get("missized", spec.get("in_spec"))
        wide = _number(mis, f"{where}.missized", problems, positive=True)
        if band is None or wide is None:
            return None
        if wide < band:
            problems.append(
                f"{where}: mis-sized band ±{wide:g} lies inside the in-spec band ±{band:g}"
            )
            return None
        return Tolerance("symmetric", band, band, wide, wide)
    if kind == "asymmetric":
        parts = {}
        for key in ("minus", "plus"):
            parts[key] = _number(spec.get(key), f"{where}.{key}", problems, positive=True)
        for key in ("missized_minus", "missized_plus"):
            base = key.removeprefix("missized_")
            parts[key] = _number(
                spec.get(key, spec.get(base)), f"{where}.{key}", problems, positive=True
            )
        if any(v is None for v in parts.values()):
            return None
        p = {k: float(v) for k, v in parts.items() if v is not None}
        for side in ("minus", "plus"):
            if p[f"missized_{side}"] < p[side]:
                problems.append(
                    f"{where}: mis-sized {side} {p[f'missized_{side}']:g} lies inside the "
                    f"in-spec {side} {p[side]:g}"
                )
                return None
        return Tolerance(
            "asymmetric", p["minus"], p["plus"], p["missized_minus"], p["missized_plus"]
        )
    problems.append(
        f"{where}.type: expected 'symmetric', 'asymmetric', 'min' or 'max', found {kind!r}"
    )
    return None


def _read_csv(
    csv_text: str, origin: str, sizes: tuple[float, ...], problems: list[str]
) -> dict[str, dict[float, float]]:
    try:
        rows = list(csv.reader(io.StringIO(csv_text)))
    except csv.Error as exc:
        problems.append(f"{origin}: not a readable CSV ({exc})")
        return {}
    if not rows or not rows[0] or rows[0][0].strip().lower() != "size":
        problems.append(f"{origin} line 1: the first column must be 'size'")
        return {}
    header = [h.strip() for h in rows[0]]
    columns: dict[str, dict[float, float]] = {h: {} for h in header[1:]}
    seen: set[float] = set()
    for h in header[1:]:
        if h not in DIMENSIONS:
            problems.append(f"{origin} line 1: unknown dimension column {_short(h)}")
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        try:
            size = float(row[0])
            if not math.isfinite(size):
                raise ValueError
        except ValueError:
            problems.append(f"{origin} line {lineno}: size {_short(row[0])} is not a number")
            continue
        if size in seen:
            problems.append(f"{origin} line {lineno}: duplicate size {size:g}")
            continue
        seen.add(size)
        if sizes and not any(abs(size - s) < 1e-6 for s in sizes):
            problems.append(f"{origin} line {lineno}: size {size:g} is not in the table's sizes")
        for h, cell in zip(header[1:], row[1:], strict=False):
            if not cell.strip():
                continue
            try:
                columns[h][size] = float(cell)
            except ValueError:
                problems.append(
                    f"{origin} line {lineno}: {_short(h)} value {_short(cell)} is not a number"
                )
    return columns


#: Fields a ``[text.LANG]`` section may translate, for the table and for a dimension.
_TABLE_TEXTS = ("title", "source", "notes")
_DIMENSION_TEXTS = ("definition", "tolerance_note")


def _texts(
    spec: Any, allowed: Sequence[str], where: str, problems: list[str]
) -> dict[str, dict[str, str]]:
    """The ``text`` section ``{LANG: {field: text}}`` of a table or dimension, checked."""
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        problems.append(f"{where}: expected a table such as [text.id]")
        return {}
    out: dict[str, dict[str, str]] = {}
    for lang, fields in spec.items():
        if lang not in LANGS:
            problems.append(
                f"{where}.{_short(lang)}: unknown language; expected one of {', '.join(LANGS)}"
            )
            continue
        if not isinstance(fields, Mapping):
            problems.append(f"{where}.{lang}: expected a table of texts")
            continue
        entry: dict[str, str] = {}
        for key, value in fields.items():
            if key not in allowed:
                problems.append(
                    f"{where}.{lang}.{_short(key)}: unknown field; expected {', '.join(allowed)}"
                )
            elif not isinstance(value, str) or not value.strip():
                problems.append(f"{where}.{lang}.{key}: expected a non-empty text")
            else:
                entry[key] = value.strip()
        out[lang] = entry
    return out


def _text_field(data: Mapping[str, Any], key: str, o: str, problems: list[str]) -> str:
    """A required text field, stripped; a problem (and ``""``) when missing or empty."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{o}: {key}: required text field is missing or empty")
        return ""
    return value.strip()


def _header_fields(
    data: Mapping[str, Any], o: str, problems: list[str]
) -> tuple[str, str, str, str, str, Any]:
    """``name, title, source, status, size_system`` (required text, status and size system
    from their lists) and ``kind`` (``table`` or ``rule``)."""
    text_field = functools.partial(_text_field, data, o=o, problems=problems)
    name, title, source = text_field("name"), text_field("title"), text_field("source")
    status = text_field("status")
    if status and status not in STATUSES:
        problems.append(f"{o}: status: expected one of {', '.join(STATUSES)}, found {status!r}")
    system = text_field("size_system")
    if system and system not in {s.value for s in SizeSystem}:
        valid = ", ".join(s.value for s in SizeSystem)
        problems.append(f"{o}: size_system: expected one of {valid}, found {system!r}")
    kind = data.get("kind", "table")
    if kind not in ("table", "rule"):
        problems.append(f"{o}: kind: expected 'table' or 'rule', found {kind!r}")
    return name, title, source, status, system, kind


def _sizes_and_base(
    data: Mapping[str, Any], o: str, problems: list[str], max_sizes: int
) -> tuple[tuple[float, ...], float | None]:
    """The table's sizes (a list or a range, at most ``max_sizes``) and its base size,
    which must lie among them."""
    sizes: tuple[float, ...] = ()
    if "sizes" not in data:
        problems.append(f"{o}: sizes: required field is missing")
    else:
        sizes = _sizes_from(data["sizes"], f"{o}: sizes", problems, max_sizes)
    base_size = None
    if "base_size" not in data:
        problems.append(f"{o}: base_size: required field is missing")
    else:
        base_size = _number(data["base_size"], f"{o}: base_size", problems)
        if base_size is not None and sizes and not sizes[0] <= base_size <= sizes[-1]:
            problems.append(
                f"{o}: base_size {base_size:g} lies outside the sizes {sizes[0]:g}–{sizes[-1]:g}"
            )
    return sizes, base_size


def _allowance(data: Mapping[str, Any], o: str, problems: list[str]) -> float | None:
    """The optional toe allowance, mm, within :data:`ALLOWANCE_RANGE_MM`."""
    allowance = None
    if "toe_allowance_mm" in data:
        allowance = _number(data["toe_allowance_mm"], f"{o}: toe_allowance_mm", problems)
        low, high = ALLOWANCE_RANGE_MM
        if allowance is not None and not low <= allowance <= high:
            problems.append(
                f"{o}: toe_allowance_mm: {allowance:g} mm lies outside {low:g}–{high:g} mm"
            )
            allowance = None
    return allowance


def _parse_dimension(
    dname: str,
    spec: object,
    values: Mapping[float, float] | None,
    kind: object,
    o: str,
    problems: list[str],
) -> TableDimension | None:
    """One ``[dimensions.NAME]`` section with its CSV column (``values``): the nominal rule
    (base value and step, or the column), the grade step, the tolerance and the texts;
    a length must grow with size. ``None`` for an unknown name or a section that is not
    a table."""
    where = f"{o}: dimensions.{dname}"
    if dname not in DIMENSIONS:
        problems.append(f"{where}: unknown dimension; known dimensions are {', '.join(DIMENSIONS)}")
        return None
    if not isinstance(spec, Mapping):
        problems.append(f"{where}: expected a table")
        return None
    definition = spec.get("definition", DIMENSIONS[dname].definition)
    base_value = step = grade_step = None
    if "base_value" in spec:
        base_value = _number(spec["base_value"], f"{where}.base_value", problems, positive=True)
    if "step" in spec:
        step = _number(spec["step"], f"{where}.step", problems)
    if "grade_step" in spec:
        grade_step = _number(spec["grade_step"], f"{where}.grade_step", problems, positive=True)
    if values is None and step is None:
        problems.append(f"{where}: needs base_value and step, or a column in the CSV")
    if values is None and base_value is None and kind == "table" and step is not None:
        problems.append(f"{where}: base_value is missing (only kind = 'rule' may omit it)")
    is_length = DIMENSIONS[dname].kind == "length"
    if step is not None and is_length and step <= 0:
        problems.append(f"{where}.step: a length must grow with size, found {step:g} per size")
    if values is not None and is_length:
        ordered = sorted(values.items())
        for (s0, v0), (s1, v1) in itertools.pairwise(ordered):
            if v1 < v0:
                problems.append(
                    f"{where}: non-monotone length: {v1:g} mm at size {s1:g} is less than "
                    f"{v0:g} mm at size {s0:g}"
                )
    tolerance = None
    if "tolerance" in spec:
        tolerance = _tolerance(spec["tolerance"], f"{where}.tolerance", problems)
    return TableDimension(
        name=dname,
        definition=str(definition),
        base_value=base_value,
        step=step,
        grade_step=grade_step,
        values=values,
        tolerance=tolerance,
        tolerance_note=str(spec.get("tolerance_note", "")),
        texts=_texts(spec.get("text"), _DIMENSION_TEXTS, f"{where}.text", problems),
    )


def parse_table(
    data: Mapping[str, Any],
    *,
    origin: str = "<table>",
    csv_text: str | None = None,
    max_sizes: int = MAX_TABLE_SIZES,
) -> ReferenceTable:
    """Build and validate a table from parsed TOML data (and the CSV text, if any).

    Every problem is collected and raised together in one :class:`TableError`. A table
    has at most ``max_sizes`` sizes, and a toe allowance within
    :data:`sizecheck.sizes.ALLOWANCE_RANGE_MM`.
    """
    problems: list[str] = []
    o = origin

    name, title, source, status, system, kind = _header_fields(data, o, problems)
    sizes, base_size = _sizes_and_base(data, o, problems, max_sizes)
    allowance = _allowance(data, o, problems)
    columns = _read_csv(csv_text, f"{o} csv", sizes, problems) if csv_text is not None else {}

    dims_spec = data.get("dimensions")
    dimensions: dict[str, TableDimension] = {}
    if not isinstance(dims_spec, Mapping) or not dims_spec:
        problems.append(f"{o}: dimensions: at least one [dimensions.NAME] table is required")
        dims_spec = {}
    for dname, spec in dims_spec.items():
        found = _parse_dimension(dname, spec, columns.get(dname), kind, o, problems)
        if found is not None:
            dimensions[dname] = found
    texts = _texts(data.get("text"), _TABLE_TEXTS, f"{o}: text", problems)
    for column in columns:
        if column in DIMENSIONS and column not in dimensions and column in dims_spec:
            continue
        if column in DIMENSIONS and column not in dims_spec:
            problems.append(
                f"{o} csv: column {column!r} has no [dimensions.{column}] section (definition, "
                "tolerance)"
            )
    if problems:
        raise TableError(origin, problems)
    if kind == "table" and columns:
        tab_sizes = sorted({s for col in columns.values() for s in col})
        missing = [s for s in sizes if s not in tab_sizes]
        if missing:
            raise TableError(
                origin,
                [f"{o} csv: no row for size(s) {', '.join(f'{s:g}' for s in missing[:8])}"],
            )
    return ReferenceTable(
        name=name,
        title=title,
        size_system=system,
        sizes=sizes,
        base_size=float(base_size if base_size is not None else 0.0),
        status=status,
        source=source,
        dimensions=dimensions,
        notes=str(data.get("notes", "")),
        kind=kind,
        toe_allowance_mm=allowance,
        texts=texts,
        origin=origin,
    )


# --------------------------------------------------------------------------- grading

#: Default grade steps per size for grading from a master, by dimension kind, in mm per
#: size of the table's system (domain.md, "Grading"; girth and width values are derived).
_DEFAULT_GIRTH_STEP = {
    SizeSystem.EU: 5.0,  # 1/4 in per UK size = 6.35 mm, x (20/3)/(25.4/3) [derived]
    SizeSystem.UK: 6.35,
    SizeSystem.US_MEN: 6.35,
    SizeSystem.US_WOMEN: 6.35,
    SizeSystem.MONDOPOINT: 0.6,  # JIS: 3 mm of girth per 5 mm of length [derived]
    SizeSystem.JP: 6.0,
}
_DEFAULT_WIDTH_STEP_PER_EU = 2.0  # foot width per Paris size (Chaiwanichsiri 2008) [derived]

#: Proposed default tolerances (domain.md, "Tolerances": proposals, not standards).
DEFAULT_TOLERANCES: Mapping[str, Tolerance] = {
    "length": Tolerance("symmetric", 1.5, 1.5, 3.33, 3.33),
    "girth": Tolerance("symmetric", 2.5, 2.5, 5.0, 5.0),
    "width": Tolerance("symmetric", 1.5, 1.5, 3.0, 3.0),
}


def default_step(dimension: str, size_system: str) -> float:
    """Default grade step (mm per size) of ``dimension`` in ``size_system``.

    >>> round(default_step("last_length", "eu"), 3), default_step("last_ball_girth", "eu")
    (6.667, 5.0)
    """
    system = SizeSystem(size_system)
    kind = DIMENSIONS[dimension].kind
    if kind == "length":
        return SIZE_STEP_MM[system]
    if kind == "girth":
        return _DEFAULT_GIRTH_STEP[system]
    return _DEFAULT_WIDTH_STEP_PER_EU * SIZE_STEP_MM[system] / SIZE_STEP_MM[SizeSystem.EU]


def _check_grading(
    master: Mapping[str, float],
    steps: Mapping[str, float],
    system: str,
    sizes: Sequence[float],
    base_size: float,
    max_sizes: int,
) -> tuple[float, ...]:
    """Check what :func:`grade` is asked for (known dimensions and size system, at most
    ``max_sizes`` finite sizes, a step only for a dimension with a master value); return
    the sizes sorted, without repeats."""
    unknown = [d for d in master if d not in DIMENSIONS]
    if unknown:
        raise UsageError(
            f"Unknown dimension(s) {', '.join(unknown)}; known: {', '.join(DIMENSIONS)}."
        )
    if system not in {s.value for s in SizeSystem}:
        raise UsageError(
            f"Unknown size system {system!r}; use one of {', '.join(s.value for s in SizeSystem)}."
        )
    if len(sizes) > max_sizes:
        raise UsageError(f"{len(sizes):,} sizes to grade; a table has at most {max_sizes:,}.")
    if not all(math.isfinite(float(s)) for s in (*sizes, base_size)):
        raise UsageError("Sizes and the base size must be finite numbers.")
    size_tuple = tuple(sorted({round(float(s), 6) for s in sizes}))
    if not size_tuple:
        raise UsageError("grade needs at least one size to cover, e.g. sizes 36-46.")
    stray = sorted(set(steps) - set(master))
    if stray:
        raise UsageError(
            f"A step is given for {', '.join(stray)} but no master value; add "
            f"--master {stray[0]}=MM or drop the step."
        )
    return size_tuple


def _graded_dimension(
    dname: str,
    value: float,
    rule_dim: TableDimension | None,
    step: float | None,
    tol: Tolerance | None,
    system: str,
) -> tuple[TableDimension, str]:
    """One graded dimension: ``value`` at the base size plus ``step`` per size (the given
    step, else the rule's, else :func:`default_step`), the tolerance given, else the
    rule's, else :data:`DEFAULT_TOLERANCES`; and the words the source gives it."""
    if step is None and rule_dim is not None:
        step = rule_dim.step
    if step is None:
        step = default_step(dname, system)
    if tol is None and rule_dim is not None:
        tol = rule_dim.tolerance
    if tol is None:
        tol = DEFAULT_TOLERANCES[DIMENSIONS[dname].kind]
    grade_step = rule_dim.grade_step if rule_dim is not None else None
    dimension = TableDimension(
        name=dname,
        definition=DIMENSIONS[dname].definition,
        base_value=float(value),
        step=float(step),
        grade_step=grade_step if grade_step is not None else float(step),
        tolerance=tol,
        tolerance_note=rule_dim.tolerance_note if rule_dim is not None else "",
        texts=_only(rule_dim.texts, "tolerance_note") if rule_dim is not None else {},
    )
    return dimension, f"{dname} {value:g} mm + {step:g} mm/size"


def _check_graded(
    data_check: Mapping[str, object], status: str, size_tuple: tuple[float, ...], base_size: float
) -> None:
    """A graded table's name and source are not empty, its status is known and its base
    size lies among its sizes."""
    name = str(data_check["name"])
    problems: list[str] = []
    for key in ("name", "source"):
        if not str(data_check[key]).strip():
            problems.append(f"{key}: must not be empty")
    if status not in STATUSES:
        problems.append(f"status: expected one of {', '.join(STATUSES)}, found {status!r}")
    if not size_tuple[0] <= base_size <= size_tuple[-1]:
        problems.append(f"base_size {base_size:g} lies outside the sizes")
    if problems:
        raise TableError(name or "<graded table>", problems)


def grade(
    master: Mapping[str, float],
    *,
    base_size: float,
    name: str,
    title: str | None = None,
    size_system: str = "eu",
    sizes: Sequence[float] | None = None,
    steps: Mapping[str, float] | None = None,
    rule: ReferenceTable | None = None,
    tolerances: Mapping[str, Tolerance] | None = None,
    status: str = "user",
    source: str | None = None,
    max_sizes: int = MAX_TABLE_SIZES,
) -> ReferenceTable:
    """Grade a reference table from a master last measured at ``base_size``.

    Parameters
    ----------
    master : mapping of str to float
        Measured dimensions of the master last (or insole) at ``base_size``, in mm.
    base_size : float
        The master's size, in ``size_system``.
    name, title : str
        Name of the new table (used on the command line) and its title.
    size_system : str, default "eu"
        The size system (taken from ``rule`` when given).
    sizes : sequence of float, optional
        Sizes the table covers; defaults to the rule's sizes, else base size ± 5.
    steps : mapping of str to float, optional
        Grade steps in mm per size; missing ones come from ``rule``, else from the
        defaults of :func:`default_step`.
    rule : ReferenceTable, optional
        A table or grading rule (e.g. ``bbkkp-2012-children``) supplying steps,
        tolerances and sizes.
    tolerances : mapping of str to Tolerance, optional
        Per-dimension tolerances; default: the rule's, else the proposed defaults.
    status, source : str
        Provenance of the new table; ``source`` defaults to a sentence naming the
        master and the steps used.
    max_sizes : int, default :data:`MAX_TABLE_SIZES`
        Most sizes the table may cover.

    Returns
    -------
    ReferenceTable

    Examples
    --------
    >>> t = grade({"last_length": 270.0}, base_size=41, name="medali-2026")
    >>> round(float(t.nominal("last_length", [42])[0]), 2)
    276.67
    """
    if not master:
        raise UsageError("grade needs at least one master dimension, e.g. last_length=270.5")
    system = rule.size_system if rule is not None else size_system
    if sizes is None:
        sizes = rule.sizes if rule is not None else [base_size + i for i in range(-5, 6)]
    size_tuple = _check_grading(master, steps or {}, system, sizes, base_size, max_sizes)
    steps = dict(steps or {})
    tolerances = dict(tolerances or {})
    dims: dict[str, TableDimension] = {}
    used: list[str] = []
    for dname, value in master.items():
        rule_dim = rule.dimensions.get(dname) if rule is not None else None
        dims[dname], text = _graded_dimension(
            dname, float(value), rule_dim, steps.get(dname), tolerances.get(dname), system
        )
        used.append(text)
    if source is None:
        origin = f" following the rule {rule.provenance()}" if rule is not None else ""
        source = f"Graded from a master at size {base_size:g}: {'; '.join(used)}{origin}."
    data_check = {
        "name": name,
        "title": title or f"{name} (graded from a master at size {base_size:g})",
        "size_system": system,
        "sizes": list(size_tuple),
        "base_size": base_size,
        "status": status,
        "source": source,
        "dimensions": {"_": {}},
    }
    _check_graded(data_check, status, size_tuple, base_size)
    table = ReferenceTable(
        name=name,
        title=str(data_check["title"]),
        size_system=system,
        sizes=size_tuple,
        base_size=float(base_size),
        status=status,
        source=source,
        dimensions=dims,
        notes=rule.notes if rule is not None else "",
        toe_allowance_mm=rule.toe_allowance_mm if rule is not None else None,
        texts=_only(rule.texts, "notes") if rule is not None else {},
        origin="graded",
    )
    # Round-trip through the loader so a graded table obeys every rule a file does.
    return replace(parse_table(_to_data(table), origin=name), origin="graded")


def _only(texts: Mapping[str, Mapping[str, str]], key: str) -> dict[str, dict[str, str]]:
    """The translations of ``key`` alone (a graded table keeps its rule's notes, not its
    title or source)."""
    return {lang: {key: v[key]} for lang, v in texts.items() if key in v}


def _tolerance_data(tol: Tolerance) -> dict[str, Any]:
    if tol.type in ("min", "max"):
        return {"type": tol.type}
    if tol.type == "symmetric":
        return {"type": "symmetric", "in_spec": tol.plus, "missized": tol.missized_plus}
    return {
        "type": "asymmetric",
        "minus": tol.minus,
        "plus": tol.plus,
        "missized_minus": tol.missized_minus,
        "missized_plus": tol.missized_plus,
    }


def _to_data(table: ReferenceTable) -> dict[str, Any]:
    if table.tabulated:
        raise UsageError(
            f"Table {table.name!r} has tabulated (CSV) values; copy its TOML and CSV instead."
        )
    data: dict[str, Any] = {
        "name": table.name,
        "title": table.title,
        "size_system": table.size_system,
        "sizes": list(table.sizes),
        "base_size": table.base_size,
        "status": table.status,
        "source": table.source,
    }
    if table.notes:
        data["notes"] = table.notes
    if table.kind != "table":
        data["kind"] = table.kind
    if table.toe_allowance_mm is not None:
        data["toe_allowance_mm"] = table.toe_allowance_mm
    dims: dict[str, Any] = {}
    for dname, dim in table.dimensions.items():
        entry: dict[str, Any] = {"definition": dim.definition}
        if dim.base_value is not None:
            entry["base_value"] = dim.base_value
        if dim.step is not None:
            entry["step"] = dim.step
        if dim.grade_step is not None:
            entry["grade_step"] = dim.grade_step
        if dim.tolerance is not None:
            entry["tolerance"] = _tolerance_data(dim.tolerance)
        if dim.tolerance_note:
            entry["tolerance_note"] = dim.tolerance_note
        if dim.texts:
            entry["text"] = {lang: dict(v) for lang, v in dim.texts.items()}
        dims[dname] = entry
    if table.texts:
        data["text"] = {lang: dict(v) for lang, v in table.texts.items()}
    data["dimensions"] = dims
    return data


def dumps_table(table: ReferenceTable) -> str:
    """The TOML text of a table defined by base values and steps (e.g. a graded one).

    ``load_table`` reads the text back to an equal table.
    """
    import tomli_w

    # Every line of a multi-line source must stay a comment, or the file does not load.
    source = "\n".join(f"# {line}" for line in f"Source: {table.source}".splitlines())
    header = f"# Reference table {table.name!r}, status {table.status}.\n{source}\n"
    return header + tomli_w.dumps(_to_data(table))


def iter_rows(table: ReferenceTable) -> Iterable[dict[str, float | str]]:
    """One dict per (size, dimension): nominal and limits, for display.

    >>> next(iter(iter_rows(load_table("paris-point"))))["dimension"]
    'insole_length'
    """
    sizes = np.asarray(table.sizes)
    for dname in table.dimensions:
        if table.kind == "rule":
            continue
        nominal = table.nominal(dname, sizes)
        lim = table.limits(dname, sizes)
        for i, size in enumerate(sizes):
            yield {
                "size": float(size),
                "dimension": dname,
                "nominal_mm": float(nominal[i]),
                "lower_mm": float(lim.lower[i]),
                "upper_mm": float(lim.upper[i]),
                "lower_missized_mm": float(lim.lower_missized[i]),
                "upper_missized_mm": float(lim.upper_missized[i]),
            }
