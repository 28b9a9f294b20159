"""The usable rows of a ``deviations`` frame, grouped and in time order: built once, passed on.

:func:`prepare` does the work every statistic needs first — pick the usable rows, group
them, put each group in time order, find each shoe's independent unit — and returns a
:class:`Groups`. :func:`sizecheck.pipeline.analyse` builds one and hands it to
:func:`sizecheck.drift.control_chart`, :func:`~sizecheck.stats.producer_summary`,
:func:`~sizecheck.stats.size_summary`, :func:`~sizecheck.stats.compare_producers` and
:func:`~sizecheck.stats.find_conventions` (``groups=``); called alone, each builds its own.
A :class:`Groups` is read-only and holds nothing but what is documented below.

Usable rows: status not ``no_reference``; ``producer``, ``dimension`` (the ``by``
columns), ``size``, ``nominal_mm`` and ``deviation_mm`` present.

Time order, within each group: when at least half of the group's rows carry a date the
group is *dated* and its rows go by date (rows without a date last), then source, then
row number, then position in the frame; otherwise by source, row number and position.

Independent unit: the left and right shoe of a pair are correlated (one pattern, one
pair of lasts, measured together), so inference counts pairs, not shoes. A unit is one
(group, ``pair`` id, size): a pair id carrying two sizes is two units, the same pair id
at another producer or dimension another unit, and a row without a pair id is a unit of
its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sizecheck.errors import InputError, require_columns

__all__ = [
    "GROUP_BY",
    "REQUIRED_COLUMNS",
    "Groups",
    "check_columns",
    "check_finite",
    "decode",
    "prepare",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: The columns that make a group, as ``producer_summary.csv`` has them.
GROUP_BY: tuple[str, ...] = ("producer", "dimension")

#: Columns without which no row is usable (``date``, ``source``, ``row``, ``pair`` are
#: optional here: without them the frame's order is the time order and every row is a
#: unit of its own).
NEEDED: tuple[str, ...] = ("size", "nominal_mm", "deviation_mm", "status")

#: The columns :func:`~sizecheck.stats.producer_summary` and
#: :func:`~sizecheck.drift.control_chart` need. The bookkeeping columns ``source``,
#: ``row`` and ``date`` are optional: without ``date`` the frame's order is the time
#: order; without ``source``/``row`` the signals name no row.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "producer",
    "size",
    "dimension",
    "value_mm",
    "nominal_mm",
    "deviation_mm",
    "lower_mm",
    "upper_mm",
    "status",
)


def check_columns(frame: pd.DataFrame, needed: Sequence[str], what: str) -> None:
    """Raise :class:`~sizecheck.errors.MissingColumnsError` naming the missing columns."""
    require_columns(
        frame,
        needed,
        what,
        hint="Pass the 'deviations' of sizecheck.compare.compare(), or a frame with these columns.",
    )


def decode(codes: IntArray, values: npt.NDArray[Any]) -> npt.NDArray[np.object_]:
    """``values[codes]`` as objects, None where a code is −1 (missing)."""
    table = np.empty(len(values) + 1, dtype=object)
    table[:-1] = values
    table[-1] = None
    return np.asarray(table[codes], dtype=object)


@dataclass(frozen=True, eq=False)
class Groups:
    """The usable rows of one ``deviations`` frame, grouped, in time order within groups.

    Each array of one entry per row (``rows``, ``group``, ``unit``, ``pair``, ``size``,
    ``deviation``, ``date``) lists the rows group by group, each group in time order:
    group ``i`` is the slice ``bounds[i]:bounds[i + 1]`` of every one of them.

    Attributes
    ----------
    frame : DataFrame
        The deviations the rows come from; not copied, never modified.
    keys : DataFrame
        One row per group, sorted, fresh index: the ``by`` columns of :func:`prepare`
        (text as ``str``).
    rows : int64 array
        Position (``frame.iloc``) of each row.
    group : int64 array
        Its group: an index into ``keys`` (non-decreasing).
    bounds : int64 array
        ``len(keys) + 1`` offsets: the rows of group ``i`` are ``bounds[i]:bounds[i + 1]``.
    unit : int64 array
        Its independent unit (see the module docstring): codes 0 … U − 1 numbered in
        order of first appearance, so the units of one group are consecutive codes, in
        the time order of their first shoe.
    pair : int64 array
        Its pair id as a code (equal ids, equal codes), −1 without one.
    size, deviation : float64 arrays
        ``size`` and ``deviation_mm``.
    date : datetime64[ns] array
        ``date`` (NaT when missing).
    dated : bool array
        Per group: ordered by date (at least half of its rows carry one).
    visit : int64 array
        Its visit as a code (−1: none): the date in a dated group; in a group that is
        not dated but where at least half of the rows carry a ``lot``, the lot. Codes are
        distinct between groups. Where rows come from two visits or more, the visit is
        the independent unit of the intervals (:func:`~sizecheck.stats.reference.
        visit_clusters`).
    """

    frame: pd.DataFrame
    keys: pd.DataFrame
    rows: IntArray
    group: IntArray
    bounds: IntArray
    unit: IntArray
    pair: IntArray
    size: FloatArray
    deviation: FloatArray
    date: npt.NDArray[np.datetime64]
    dated: BoolArray
    visit: IntArray

    @property
    def ng(self) -> int:
        """Number of groups."""
        return len(self.keys)

    @property
    def n(self) -> FloatArray:
        """Rows per group."""
        return np.diff(self.bounds).astype(np.float64)

    @property
    def unit_group(self) -> IntArray:
        """The group of each unit (code)."""
        out = np.zeros(int(self.unit.max()) + 1 if len(self.unit) else 0, dtype=np.int64)
        out[self.unit] = self.group
        return out

    @property
    def n_units(self) -> FloatArray:
        """Independent units per group (G)."""
        return np.bincount(self.unit_group, minlength=self.ng).astype(np.float64)

    def slice(self, i: int) -> slice:
        """The entries of group ``i``."""
        return slice(int(self.bounds[i]), int(self.bounds[i + 1]))

    def has(self, name: str) -> bool:
        """Whether the frame has column ``name``."""
        return name in self.frame.columns

    def column(self, name: str) -> FloatArray:
        """A numeric column at the rows, as float64 (NaN where missing)."""
        values = self.frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(values[self.rows], dtype=np.float64)

    def codes(self, name: str, *, sort: bool = False) -> tuple[IntArray, npt.NDArray[Any]]:
        """A column at the rows as integer codes (−1 where missing), and the values coded.

        ``sort``: codes in sorted order of the values (else order of appearance).
        """
        codes, uniques = pd.factorize(self.frame[name], sort=sort)
        return np.asarray(codes[self.rows], dtype=np.int64), np.asarray(uniques, dtype=object)

    def subset(self, keep: BoolArray) -> Groups:
        """The same groups (same ``keys``) with only the rows where ``keep`` is True.

        ``keep`` has one entry per row. Order is kept; units are renumbered; a group may
        become empty. This is how a statistic is taken over part of each group, e.g. the
        rows since a detected change (:meth:`since`).
        """
        keep = np.asarray(keep, dtype=np.bool_)
        group = self.group[keep]
        counts = np.bincount(group, minlength=self.ng)
        return replace(
            self,
            rows=self.rows[keep],
            group=group,
            bounds=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            unit=np.asarray(pd.factorize(self.unit[keep])[0], dtype=np.int64),
            pair=self.pair[keep],
            size=self.size[keep],
            deviation=self.deviation[keep],
            date=self.date[keep],
            visit=self.visit[keep],
        )

    def since(self, first: npt.ArrayLike) -> Groups:
        """Each group from its row number ``first[i]`` on (0-based, in time order).

        E.g. ``first`` = the row where a detected shift starts in each group (0 = all).
        """
        start = self.bounds[:-1] + np.asarray(first, dtype=np.int64)
        return self.subset(np.arange(len(self.rows)) >= start[self.group])


#: Numeric columns that must hold finite numbers on every usable row (limits may be
#: infinite: a one-sided tolerance).
FINITE: tuple[str, ...] = ("size", "nominal_mm", "deviation_mm", "value_mm")


def check_finite(frame: pd.DataFrame, pos: IntArray, what: str) -> None:
    """Raise :class:`~sizecheck.errors.InputError` when a usable row holds ±inf.

    compare() never writes an infinite number; one in a frame built or edited by hand
    would turn every statistic of its group into NaN and its verdict into "conforming",
    so it is refused, naming the column, the count and the first rows.
    """
    for name in FINITE:
        if name not in frame.columns:
            continue
        values = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)[pos]
        bad = np.isinf(values)
        if bad.any():
            at = pos[np.nonzero(bad)[0][:3]]
            where = ", ".join(
                f"{frame['source'].iloc[i]} row {frame['row'].iloc[i]}"
                if {"source", "row"} <= set(frame.columns)
                else f"position {i}"
                for i in at
            )
            raise InputError(
                f"{what}: {int(bad.sum())} value(s) of {name!r} are infinite ({where}). "
                "Statistics need finite numbers: fix or drop those rows (the deviations of "
                "sizecheck.compare.compare() never hold one)."
            )


def _usable(frame: pd.DataFrame, by: Sequence[str]) -> BoolArray:
    status = frame["status"].isin(["no_reference"]).to_numpy(dtype=np.bool_, na_value=False)
    keep = ~status
    for name in (*by, "size", "nominal_mm", "deviation_mm"):
        keep = keep & frame[name].notna().to_numpy(dtype=np.bool_)
    return np.asarray(keep, dtype=np.bool_)


def _key_values(uniques: Any) -> pd.Series:
    values = np.asarray(uniques, dtype=object)
    if pd.api.types.is_numeric_dtype(pd.Index(uniques).dtype):
        return pd.Series(np.asarray(uniques))
    return pd.Series(values, dtype="str")


def _grouping(
    frame: pd.DataFrame, pos: IntArray, by: Sequence[str]
) -> tuple[IntArray, pd.DataFrame]:
    """The group of each usable row (codes in sorted key order) and the sorted keys."""
    codes, uniques = [], []
    for name in by:
        c, u = pd.factorize(frame[name], sort=True)
        codes.append(np.asarray(c, dtype=np.int64)[pos])
        uniques.append(u)
    dims = tuple(max(len(u), 1) for u in uniques)
    combined = np.ravel_multi_index(codes, dims) if len(pos) else np.zeros(0, dtype=np.int64)
    group, present = pd.factorize(combined, sort=True)
    which = np.unravel_index(np.asarray(present, dtype=np.int64), dims)
    keys = pd.DataFrame(
        {
            name: _key_values(u).take(w).reset_index(drop=True)
            for name, u, w in zip(by, uniques, which, strict=True)
        }
    )
    return np.asarray(group, dtype=np.int64), keys


def _row_numbers(frame: pd.DataFrame, pos: IntArray) -> IntArray:
    """``row`` at ``pos`` (0 where missing, negative or not finite; all 0 without it)."""
    if "row" not in frame.columns:
        return np.zeros(len(pos), dtype=np.int64)
    row = frame["row"].to_numpy(dtype=np.float64, na_value=np.nan)[pos]
    return np.where(np.isfinite(row) & (row >= 0), row, 0.0).astype(np.int64)


def _time_order(
    frame: pd.DataFrame, pos: IntArray, group: IntArray, ng: int
) -> tuple[IntArray, BoolArray, npt.NDArray[np.datetime64]]:
    """The order of the usable rows: by group, then time (module docstring)."""
    if "date" in frame.columns:
        date = pd.to_datetime(frame["date"]).to_numpy(dtype="datetime64[ns]")[pos]
    else:
        date = np.full(len(pos), np.datetime64("NaT"), dtype="datetime64[ns]")
    has_date = ~np.isnat(date)
    n = np.bincount(group, minlength=ng)
    dated = np.bincount(group, weights=has_date.astype(np.float64), minlength=ng) >= 0.5 * n
    last = np.iinfo(np.int64).max  # undated rows of a dated group go last
    when = np.where(dated[group], np.where(has_date, date.view(np.int64), last), 0)
    if "source" in frame.columns:
        source = np.maximum(np.asarray(pd.factorize(frame["source"], sort=True)[0])[pos], 0)
    else:
        source = np.zeros(len(pos), dtype=np.int64)
    # np.lexsort sorts by the last key first and is stable: ties keep the frame's order
    order = np.lexsort((_row_numbers(frame, pos), source, when, group))
    return np.asarray(order, dtype=np.int64), np.asarray(dated, dtype=np.bool_), date


def _units(
    frame: pd.DataFrame, rows: IntArray, group: IntArray, size: FloatArray
) -> tuple[IntArray, IntArray]:
    """The independent unit of each row (in the order given) and its pair id code."""
    m = len(rows)
    if "pair" in frame.columns:
        pair = np.asarray(pd.factorize(frame["pair"])[0], dtype=np.int64)[rows]
    else:
        pair = np.full(m, -1, dtype=np.int64)
    paired = pair >= 0
    if not paired.any():
        return np.arange(m, dtype=np.int64), pair
    size_code = np.asarray(pd.factorize(size)[0], dtype=np.int64)
    dims = (int(group.max()) + 1, int(pair.max()) + 1, int(size_code.max()) + 1)
    key = np.full(m, -1, dtype=np.int64) - np.arange(m)  # a unit of its own: distinct keys
    key[paired] = np.ravel_multi_index((group[paired], pair[paired], size_code[paired]), dims)
    unit = np.asarray(pd.factorize(key)[0], dtype=np.int64)  # order of first appearance
    return unit, pair


def _visits(
    frame: pd.DataFrame,
    rows: IntArray,
    group: IntArray,
    date: npt.NDArray[np.datetime64],
    dated: BoolArray,
    counts: npt.NDArray[np.int64],
) -> IntArray:
    """The visit of each row (in the order given): its date in a dated group, its lot in
    a group that is not dated but where at least half of the rows carry a lot (as the
    control chart of :mod:`sizecheck.drift` charts it); −1 otherwise."""
    m = len(rows)
    if "lot" in frame.columns:
        lot = np.asarray(pd.factorize(frame["lot"])[0], dtype=np.int64)[rows]
    else:
        lot = np.full(m, -1, dtype=np.int64)
    has_lot = lot >= 0
    lotted = (np.bincount(group, weights=has_lot.astype(np.float64), minlength=len(counts))
              >= 0.5 * counts) & ~dated  # fmt: skip
    day = np.asarray(pd.factorize(date)[0], dtype=np.int64)  # NaT: −1
    by_date = dated[group] & (day >= 0)
    by_lot = lotted[group] & has_lot
    key = np.where(by_date, 2 * day, np.where(by_lot, 2 * lot + 1, -1))
    width = int(key.max(initial=0)) + 1
    code = np.where(key >= 0, group * width + key, -1)
    visit = np.full(m, -1, dtype=np.int64)
    seen = code >= 0
    visit[seen] = pd.factorize(code[seen])[0]
    return visit


def prepare(deviations: pd.DataFrame, *, by: Sequence[str] = GROUP_BY) -> Groups:
    """Select the usable rows of ``deviations``, group them by ``by``, order them in time.

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` of :func:`sizecheck.compare.compare`: at least the ``by``
        columns, ``size``, ``nominal_mm``, ``deviation_mm`` and ``status``; ``date``,
        ``source``, ``row`` and ``pair`` are used when present. Not modified, not copied.
    by : sequence of str, default ("producer", "dimension")
        The columns whose values make a group. Rows missing any of them are not usable.

    Returns
    -------
    Groups

    Raises
    ------
    MissingColumnsError
        A needed column is missing.
    InputError
        A usable row holds an infinite ``size``, ``nominal_mm``, ``deviation_mm`` or
        ``value_mm`` (:func:`check_finite`).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"producer": ["B", "A", "A"], "dimension": "insole_length",
    ...     "size": [41.0, 41.0, 42.0], "nominal_mm": 273.3, "deviation_mm": [0.5, 1.0, -0.2],
    ...     "status": "in_spec", "date": pd.to_datetime(["2025-01-02", "2025-01-03",
    ...     "2025-01-01"])})
    >>> g = prepare(d)
    >>> g.keys["producer"].tolist(), g.rows.tolist(), g.bounds.tolist()
    (['A', 'B'], [2, 1, 0], [0, 2, 3])
    """
    by = tuple(by)
    check_columns(deviations, (*by, *NEEDED), "prepare()")
    pos = np.nonzero(_usable(deviations, by))[0].astype(np.int64)
    check_finite(deviations, pos, "prepare()")
    group, keys = _grouping(deviations, pos, by)
    ng = len(keys)
    order, dated, date = _time_order(deviations, pos, group, ng)
    rows, group, date = pos[order], group[order], date[order]
    size = deviations["size"].to_numpy(dtype=np.float64, na_value=np.nan)[rows]
    unit, pair = _units(deviations, rows, group, size)
    counts = np.bincount(group, minlength=ng)
    visit = _visits(deviations, rows, group, date, dated, counts)
    return Groups(
        frame=deviations,
        keys=keys,
        rows=rows,
        group=group,
        bounds=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        unit=unit,
        pair=pair,
        size=size,
        deviation=deviations["deviation_mm"].to_numpy(dtype=np.float64, na_value=np.nan)[rows],
        date=date,
        dated=dated,
        visit=visit,
    )
