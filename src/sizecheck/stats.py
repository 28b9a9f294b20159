"""Statistics of deviations: per producer, per size, between producers.

Every function takes the long ``deviations`` frame that :func:`sizecheck.compare.compare`
produces (one row per accepted measurement, see ``docs/internals.md``) and returns a new
tidy DataFrame, one row per group, without touching its input. Rows whose ``status`` is
``no_reference`` or whose ``nominal_mm``, ``deviation_mm`` or ``size`` is missing are left
out of every statistic.

The group arithmetic is vectorised over all producer × dimension groups at once
(``numpy.bincount`` over integer group codes) and uses *centred* two-pass formulas: group
means are refined with a second pass over ``x - mean`` and every sum of squares or
cross-products is taken over centred values, so large common offsets (NIST StRD SmLs09,
values near 1e12) do not destroy the result the way one-pass ``sum(x**2) - n*mean**2``
formulas do.

Named constants
---------------
``D2``
    1.128, the bias-correction constant d2 for moving ranges of span 2:
    ``sigma_within = mean moving range / D2``.
``DEFAULT_THRESHOLDS``
    The verdict thresholds (:class:`Thresholds`); see that class for each value.
``CONVENTIONS``
    The candidate sizing conventions tried by :func:`find_conventions`.
``CONVENTION_TIE_MM``
    0.05 mm: within this margin of the lowest RMS, a convention with nothing fitted is
    preferred by :func:`find_conventions`.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special as _spc

from sizecheck import columns
from sizecheck.errors import UsageError, require_columns

if TYPE_CHECKING:
    from sizecheck.drift import ControlChart

__all__ = [
    "CONVENTIONS",
    "CONVENTION_TIE_MM",
    "D2",
    "DEFAULT_THRESHOLDS",
    "Capability",
    "Convention",
    "Thresholds",
    "best_conventions",
    "capability",
    "capability_indices",
    "compare_producers",
    "find_conventions",
    "producer_summary",
    "size_equivalents",
    "size_summary",
    "welch_anova",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: d2 for moving ranges of two consecutive points (ASTM E2587, Montgomery table VI).
D2 = 1.128

#: Statuses that count as a failed shoe in ``pct_missized``.
MISSIZED_STATUSES = ("missized", "below_min", "above_max")

REQUIRED_COLUMNS = (
    "source",
    "row",
    "producer",
    "size",
    "date",
    "dimension",
    "value_mm",
    "nominal_mm",
    "deviation_mm",
    "lower_mm",
    "upper_mm",
    "status",
)


@dataclass(frozen=True)
class Thresholds:
    """The named constants behind ``verdict`` in :func:`producer_summary`.

    Attributes
    ----------
    min_n : int, default 8
        Fewer usable measurements than this for a producer × dimension gives the verdict
        ``insufficient_data`` and no other flag.
    alpha : float, default 0.05
        Significance level of the offset and grading tests (two-sided t-tests; a flag needs
        the ``1 - alpha`` confidence interval to exclude zero).
    min_sizes_for_grading : int, default 3
        Distinct sizes needed before a ``grading`` flag can be raised.
    scatter_max_share : float, default 0.05
        ``scatter`` is raised when a process with the producer's within spread
        (``sd_within_mm``), centred in the in-spec band, would put more than this share of
        shoes outside the in-spec limits.
    drift_min_signals : int, default 2
        ``drift`` is raised when the control-chart rules of :mod:`sizecheck.drift` signal
        at least this many times (each signal is one episode of one rule).
    """

    min_n: int = 8
    alpha: float = 0.05
    min_sizes_for_grading: int = 3
    scatter_max_share: float = 0.05
    drift_min_signals: int = 2

    def __post_init__(self) -> None:
        problems = []
        if self.min_n < 3:
            problems.append(f"min_n must be at least 3, got {self.min_n}")
        if not 0.0 < self.alpha < 1.0:
            problems.append(f"alpha must lie strictly between 0 and 1, got {self.alpha}")
        if self.min_sizes_for_grading < 2:
            problems.append(
                f"min_sizes_for_grading must be at least 2, got {self.min_sizes_for_grading}"
            )
        if not 0.0 < self.scatter_max_share < 1.0:
            problems.append(
                f"scatter_max_share must lie strictly between 0 and 1, got {self.scatter_max_share}"
            )
        if self.drift_min_signals < 1:
            problems.append(f"drift_min_signals must be at least 1, got {self.drift_min_signals}")
        if problems:
            raise UsageError("Invalid verdict thresholds: " + "; ".join(problems) + ".")


DEFAULT_THRESHOLDS = Thresholds()


# --------------------------------------------------------------------------------------
# Vectorised group arithmetic
# --------------------------------------------------------------------------------------


def _gsum(g: IntArray, x: FloatArray, ng: int) -> FloatArray:
    return np.bincount(g, weights=x, minlength=ng).astype(np.float64)


def _gmean(g: IntArray, x: FloatArray, n: FloatArray) -> FloatArray:
    """Group means, refined by a second pass over the centred values."""
    ng = len(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = _gsum(g, x, ng) / n
        m = m + _gsum(g, x - m[g], ng) / n
    return m


def _css(g: IntArray, x: FloatArray, m: FloatArray, n: FloatArray) -> FloatArray:
    """Centred sums of squares per group, corrected two-pass (Chan, Golub & LeVeque 1983)."""
    ng = len(n)
    r = x - m[g]
    sr = _gsum(g, r, ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.maximum(_gsum(g, r * r, ng) - sr * sr / n, 0.0), dtype=np.float64)


# Distribution functions come from scipy.special, the functions scipy.stats' t, norm and f
# call themselves (t.ppf = stdtrit, norm.ppf = ndtri, norm.cdf = ndtr, norm.sf(x) =
# ndtr(-x), f.sf = fdtrc): importing scipy.stats costs ~1.4 s of CPU, the largest single
# cost of ``sizecheck measure`` on a small file. ``_f_sf`` keeps scipy.stats' handling of
# arguments outside the support.


def _f_sf(f: FloatArray, dfn: FloatArray, dfd: FloatArray) -> FloatArray:
    """``scipy.stats.f.sf(f, dfn, dfd)``: NaN for bad arguments, 1 at f <= 0, 0 at +inf."""
    x, d1, d2 = np.broadcast_arrays(
        np.asarray(f, dtype=np.float64),
        np.asarray(dfn, dtype=np.float64),
        np.asarray(dfd, dtype=np.float64),
    )
    with np.errstate(invalid="ignore"):
        valid = (d1 > 0) & (d2 > 0)
        inside = valid & (x > 0) & (x < np.inf)
        out = np.where(valid & (x <= 0), 1.0, 0.0)
    out[inside] = _spc.fdtrc(d1[inside], d2[inside], x[inside])
    out[~valid | np.isnan(x)] = np.nan
    return out


def _t_quantile(confidence: float, df: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore"):
        q = _spc.stdtrit(np.where(df > 0, df, np.nan), 0.5 + confidence / 2.0)
    return np.asarray(q, dtype=np.float64)


def _check_columns(frame: pd.DataFrame, needed: Iterable[str], what: str) -> None:
    require_columns(
        frame,
        needed,
        what,
        hint="Pass the 'deviations' of sizecheck.compare.compare(), or a frame with these columns.",
    )


def _sorted_categories(series: pd.Series) -> bool:
    """True for a categorical column whose categories are in ascending order."""
    dtype = series.dtype
    return isinstance(dtype, pd.CategoricalDtype) and bool(dtype.categories.is_monotonic_increasing)


class _Rows:
    """Lazy, copy-free access to selected rows of the caller's frame.

    ``pos`` are positions into ``frame`` (in the order wanted). Columns are read as numpy
    arrays and indexed with ``pos``; string columns are factorised on the whole column
    (fast on arrow strings) and only their integer codes are permuted, so no string column
    is ever copied row by row. ``codes`` is the cache of those whole-column
    factorisations, shared by every ``_Rows`` of one :class:`_Shared`.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        pos: IntArray,
        codes: dict[tuple[str, bool], tuple[IntArray, npt.NDArray[Any]]] | None = None,
        *,
        keep_columns: bool = False,
    ) -> None:
        self.frame = frame
        self.pos = pos
        self._codes = {} if codes is None else codes
        # ``keep_columns``: remember the (read-only) float columns read, for rows that
        # several statistics read (the selection); every row, in order: no gather at all
        self._floats: dict[str, FloatArray] | None = {} if keep_columns else None
        self._every_row = keep_columns and len(pos) == len(frame)

    def __len__(self) -> int:
        return len(self.pos)

    def has(self, name: str) -> bool:
        return name in self.frame.columns

    def f(self, name: str) -> FloatArray:
        if self._floats is not None and name in self._floats:
            return self._floats[name]
        series = self.frame[name]
        if series.dtype == np.float64:
            col = series.to_numpy()  # no copy
        elif not self._every_row and len(self.pos) < len(series) // 8:  # convert few values
            col = series.iloc[self.pos].to_numpy(dtype=np.float64, na_value=np.nan)
            return np.asarray(col, dtype=np.float64)
        else:
            col = series.to_numpy(dtype=np.float64, na_value=np.nan)
        out = np.asarray(col if self._every_row else col[self.pos], dtype=np.float64)
        if self._floats is not None:
            out = out.view()
            out.flags.writeable = False
            self._floats[name] = out
        return out

    def eq(self, name: str, values: Sequence[str]) -> BoolArray:
        hit = self.frame[name].isin(list(values)).to_numpy(dtype=np.bool_, na_value=False)
        return np.asarray(hit[self.pos], dtype=np.bool_)

    def column_codes(self, name: str, *, sort: bool = False) -> tuple[IntArray, npt.NDArray[Any]]:
        """Integer codes (-1 for missing) of the *whole* column, and the uniques."""
        if (name, sort) not in self._codes:
            series = self.frame[name]
            if not series.notna().any():
                c = np.full(len(series), -1, dtype=np.int64)
                uniq: npt.NDArray[Any] = np.array([], dtype=object)
            elif sort and _sorted_categories(series):
                # sorted categories: their codes are the sorted codes (unused ones are
                # harmless: no row carries them)
                c = series.cat.codes.to_numpy().astype(np.int64)
                uniq = np.asarray(series.cat.categories, dtype=object)
            else:
                c, u = pd.factorize(series, sort=sort)
                uniq = np.asarray(u, dtype=object)
            self._codes[(name, sort)] = (np.asarray(c, dtype=np.int64), uniq)
        return self._codes[(name, sort)]

    def codes(self, name: str, *, sort: bool = False) -> tuple[IntArray, npt.NDArray[Any]]:
        """Integer codes (-1 for missing) of a column at the selected rows, and the uniques."""
        c, uniq = self.column_codes(name, sort=sort)
        return c[self.pos], uniq

    def dates(self) -> npt.NDArray[np.datetime64]:
        col = pd.to_datetime(self.frame["date"]).to_numpy(dtype="datetime64[ns]")
        return np.asarray(col[self.pos])

    def take(self, name: str, idx: npt.ArrayLike) -> npt.NDArray[Any]:
        """Values of column ``name`` at selected-row indices ``idx`` (object array)."""
        at = self.pos[np.asarray(idx, dtype=np.int64)]
        return np.asarray(self.frame[name].iloc[at].to_numpy(dtype=object), dtype=object)


@dataclass(frozen=True)
class _Selection:
    """The usable rows of a frame (see :func:`_select`), in frame order.

    ``pos`` are their positions, ``g`` their producer × dimension group, ``keys`` one row
    per group (producer, dimension; sorted), ``dcode`` the dimension's code (``nd``
    dimensions) and ``pcode`` the producer's code of each row.
    """

    pos: IntArray
    g: IntArray
    keys: pd.DataFrame
    pcode: IntArray
    dcode: IntArray
    nd: int


@dataclass(frozen=True)
class _SizeCodes:
    """``size`` of the usable rows (frame order), its sorted dense codes and the sizes."""

    size: FloatArray
    codes: IntArray
    uniq: FloatArray


@dataclass(frozen=True)
class _Clusters:
    """The cluster (independent unit, see :func:`_cluster_codes`) of each usable row.

    ``ids`` (frame order of the usable rows) lie in ``0 … bound − 1``; equal ids are the
    same cluster but ids are not dense: :func:`_first_seen` numbers them.
    ``one_size_pairs`` is True when each pair id occurs at one producer and one size, so
    that a cluster is also one (group, pair id). ``paired``: which rows have a pair id
    (None: all).
    """

    ids: IntArray
    bound: int
    one_size_pairs: bool
    paired: BoolArray | None


#: The size summary, the grade step per cell, the number of pairs per cell and the
#: pair-level variance of each cell's mean (see :func:`_size_table`).
_SizeTable = tuple[pd.DataFrame, FloatArray, FloatArray, FloatArray]


class _Shared:
    """The work on one ``deviations`` frame that several statistics need, done once.

    Every statistic reaches its frame through :func:`_shared`: a fresh ``_Shared``
    (nothing reused between calls) unless :func:`_sharing` is active for that very
    frame, as in :func:`sizecheck.pipeline.analyse`. There :func:`sizecheck.drift.
    control_chart`, :func:`producer_summary`, :func:`size_summary`,
    :func:`compare_producers` and :func:`find_conventions` select the usable rows,
    factorise columns, sort in time order, fit the grading lines, find the pairs and build
    the size table once. Everything is computed on first use and read-only afterwards.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.codes: dict[tuple[str, bool], tuple[IntArray, npt.NDArray[Any]]] = {}
        self.size_tables: dict[float, _SizeTable] = {}

    def rows(self, pos: IntArray) -> _Rows:
        """Access to the rows ``pos`` of the frame, sharing the column factorisations."""
        return _Rows(self.frame, pos, self.codes)

    @cached_property
    def selection(self) -> _Selection:
        return _selection(self)

    @cached_property
    def selected(self) -> _Rows:
        """The usable rows in frame order; float columns are read once."""
        return _Rows(self.frame, self.selection.pos, self.codes, keep_columns=True)

    @cached_property
    def sizes(self) -> _SizeCodes:
        size = self.selected.f("size")
        codes, uniq = pd.factorize(size, sort=True)
        return _SizeCodes(
            size, np.asarray(codes, dtype=np.int64), np.asarray(uniq, dtype=np.float64)
        )

    @cached_property
    def prepared(self) -> _Prepared:
        return _prepare_rows(self)

    @cached_property
    def clusters(self) -> _Clusters | None:
        return _clusters(self)

    @cached_property
    def cells(self) -> tuple[_Rows, pd.DataFrame, IntArray]:
        return _cells(self)

    @cached_property
    def status_table(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
        """Usable rows per group (rows) and status (columns; the last: missing), and the
        statuses."""
        s = self.selection
        ng = len(s.keys)
        codes, uniq = self.selected.codes("status", sort=True)
        nc = len(uniq) + 1
        flat = s.g * nc + np.where(codes >= 0, codes, nc - 1)
        table = np.bincount(flat, minlength=ng * nc).reshape(ng, nc)
        return np.asarray(table, dtype=np.int64), uniq

    def status_counts(self, statuses: Sequence[str]) -> FloatArray:
        """Per group, the number of usable rows whose status is one of ``statuses``."""
        table, uniq = self.status_table
        wanted = set(statuses)
        hit = np.array([u in wanted for u in uniq] + [False], dtype=np.bool_)
        return np.asarray(table[:, hit].sum(axis=1), dtype=np.float64)


_ACTIVE: ContextVar[_Shared | None] = ContextVar("sizecheck_stats_shared", default=None)


@contextmanager
def _sharing(deviations: pd.DataFrame) -> Iterator[None]:
    """Within this block the statistics of ``deviations`` share one :class:`_Shared`.

    The frame must not be modified inside the block. Results are the same as without it.
    """
    token = _ACTIVE.set(_Shared(deviations))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def _shared(deviations: pd.DataFrame) -> _Shared:
    """The active :class:`_Shared` of ``deviations`` (see :func:`_sharing`), else a new one."""
    active = _ACTIVE.get()
    if active is not None and active.frame is deviations:
        return active
    return _Shared(deviations)


@dataclass(frozen=True)
class _Prepared:
    """Usable rows sorted by group then time order, with per-group grading lines.

    ``rows`` gives access to any column of those rows in that order; the arrays are aligned
    with it. ``keys`` has one row per group: producer, dimension (sorted). ``order`` maps
    these rows to the selection's: row ``i`` here is row ``order[i]`` of
    :attr:`_Shared.selection`.
    """

    rows: _Rows
    keys: pd.DataFrame
    order: IntArray
    g: IntArray
    starts: IntArray
    n: FloatArray
    dated: BoolArray
    date: npt.NDArray[np.datetime64]
    size: FloatArray
    dev: FloatArray
    size_mean: FloatArray
    dev_mean: FloatArray
    sxx: FloatArray
    n_sizes: IntArray
    size_min: FloatArray
    size_max: FloatArray
    has_line: BoolArray
    slope: FloatArray
    resid: FloatArray
    ssr: FloatArray
    resid_df: FloatArray
    syy: FloatArray

    @property
    def ng(self) -> int:
        return len(self.keys)


def _select(
    deviations: pd.DataFrame, needed: Sequence[str], what: str
) -> tuple[_Shared, _Selection]:
    """Check the columns, then the usable rows, their groups and the group keys (sorted).

    Usable: status not ``no_reference``, producer, dimension, size, nominal and deviation
    present.
    """
    _check_columns(deviations, needed, what)
    shared = _shared(deviations)
    return shared, shared.selection


def _selection(shared: _Shared) -> _Selection:
    deviations = shared.frame
    rows = shared.rows(np.zeros(0, dtype=np.int64))
    pcodes, puniq = rows.column_codes("producer", sort=True)
    dcodes, duniq = rows.column_codes("dimension", sort=True)
    keep = (
        ~deviations["status"].isin(["no_reference"]).to_numpy(dtype=np.bool_, na_value=False)
        & deviations["nominal_mm"].notna().to_numpy()
        & deviations["deviation_mm"].notna().to_numpy()
        & deviations["size"].notna().to_numpy()
        & (pcodes >= 0)
        & (dcodes >= 0)
    )
    pos = np.nonzero(keep)[0].astype(np.int64)
    nd = max(len(duniq), 1)
    pcode, dcode = pcodes[pos], dcodes[pos]
    combined = pcode * nd + dcode
    present = np.bincount(combined, minlength=max(len(puniq), 1) * nd) > 0
    uniq = np.nonzero(present)[0]
    remap = np.cumsum(present) - 1
    g = remap[combined].astype(np.int64)
    keys = pd.DataFrame(
        {
            "producer": pd.Series(np.asarray(puniq, dtype=object)[uniq // nd], dtype="str"),
            "dimension": pd.Series(np.asarray(duniq, dtype=object)[uniq % nd], dtype="str"),
        }
    )
    return _Selection(pos=pos, g=g, keys=keys, pcode=pcode, dcode=dcode, nd=nd)


def _dense_rank(values: npt.NDArray[Any], valid: BoolArray) -> tuple[IntArray, FloatArray]:
    """Sorted dense codes of ``values`` (code -1 where not ``valid``) and the sorted uniques.

    Uses an occupancy table when the values are integral with a small range (dates at day
    resolution, sizes in quarter steps), a hash factorisation otherwise.
    """
    v = np.asarray(values)
    ok = np.asarray(valid, dtype=np.bool_)
    if ok.any():
        lo, hi = v[ok].min(), v[ok].max()
        integral = bool(np.all(v[ok] == np.round(v[ok]))) if v.dtype.kind == "f" else True
        span = float(hi) - float(lo)
        if integral and span < 5e6:
            unit = 1
            if v.dtype.kind in "iu" and span > 0:
                unit = int(np.gcd.reduce((v[ok] - lo)[:10000].astype(np.int64)))
                unit = unit if unit > 0 else 1
                if bool(np.any((v[ok] - lo) % unit)):
                    unit = 1
                span = span / unit
            if span < 5e6:
                off = np.where(ok, (v - lo) // unit, 0).astype(np.int64)
                present = np.bincount(off[ok], minlength=int(span) + 1) > 0
                rank = np.cumsum(present) - 1
                codes = np.where(ok, rank[off], -1).astype(np.int64)
                uniq = (np.nonzero(present)[0] * unit + lo).astype(np.float64)
                return codes, uniq
    c, u = pd.factorize(np.where(ok, v, np.nan) if v.dtype.kind == "f" else v, sort=True)
    c = np.where(ok, c, -1).astype(np.int64)
    return c, np.asarray(u, dtype=np.float64)


def _with_none(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``values`` as an object array with None appended, so that code -1 maps to None."""
    out = np.empty(len(values) + 1, dtype=object)
    out[:-1] = values
    out[-1] = None
    return out


def _bits(n: int) -> int:
    return max(int(n).bit_length(), 1)


def _prepare(deviations: pd.DataFrame, what: str) -> _Prepared:
    """Select usable rows, sort them in time order within groups and fit grading lines."""
    _check_columns(deviations, REQUIRED_COLUMNS, what)
    return _shared(deviations).prepared


def _row_numbers(row: pd.Series, pos: IntArray) -> IntArray:
    """``row`` at ``pos`` as int64, 0 where missing, negative or not finite."""
    if row.dtype.kind in "iu":  # no missing values: skip the round trip through floats
        return np.asarray(np.maximum(row.to_numpy()[pos], 0), dtype=np.int64)
    row_f = row.to_numpy(dtype=np.float64, na_value=np.nan)[pos]
    return np.where(np.isfinite(row_f) & (row_f >= 0), row_f, 0.0).astype(np.int64)


def _time_order(
    g: IntArray, drank: IntArray, src: IntArray, row_no: IntArray, nbits: tuple[int, ...]
) -> IntArray:
    """The permutation sorting rows by group, date rank, source, row and position.

    ``nbits`` are the bits needed by ``g``, ``drank``, ``src`` and ``row_no``. When the
    rows already come in (date rank, source, row) order, as a file sorted by date does,
    a stable sort by group alone gives that permutation (radix sort for 16-bit groups).
    """
    m = len(g)
    bg, bd, bs, br = nbits
    if bd + bs + br <= 63 and m > 1:
        inner = np.left_shift(np.left_shift(drank, bs) | src, br) | row_no
        if bool(np.all(inner[1:] >= inner[:-1])):
            small = g.astype(np.uint16) if bg <= 16 else g
            return np.asarray(np.argsort(small, kind="stable"), dtype=np.int64)
    bp = _bits(m)
    parts: list[tuple[IntArray, int]] = [(g, bg), (drank, bd), (src, bs), (row_no, br)]
    if bg + bd + bs + br + bp <= 63:  # position as last tie-break: every key unique
        parts.append((np.arange(m, dtype=np.int64), bp))
    if sum(b for _, b in parts) <= 63:
        key = np.zeros(m, dtype=np.int64)
        for arr, b in parts:
            key = np.bitwise_or(np.left_shift(key, b), arr)
        return np.asarray(np.argsort(key, kind="stable"), dtype=np.int64)
    return np.asarray(np.lexsort((row_no, src, drank, g)), dtype=np.int64)  # pragma: no cover


def _prepare_rows(shared: _Shared) -> _Prepared:
    s = shared.selection
    pos, g, keys = s.pos, s.g, s.keys
    ng = len(keys)
    n = np.bincount(g, minlength=ng).astype(np.float64)
    sel = shared.rows(pos)

    # Time order: a group is "dated" when at least half of its rows carry a date; its rows
    # are then ordered by date (undated rows last), then source and row; else by source
    # and row. One int64 key (group | date rank | source | row | position), one argsort.
    date = sel.dates()
    has_date = ~np.isnat(date)
    dated = np.bincount(g, weights=has_date.astype(np.float64), minlength=ng) >= 0.5 * n
    dcode, duniq = _dense_rank(date.view(np.int64), has_date)
    drank = np.where(has_date & dated[g], dcode, len(duniq)).astype(np.int64)
    drank = np.where(dated[g], drank, 0)
    src, srcu = sel.codes("source", sort=True)
    src = np.maximum(src, 0)
    row_no = _row_numbers(shared.frame["row"], pos)
    nbits = (
        _bits(ng),
        _bits(len(duniq) + 1),
        _bits(len(srcu)),
        _bits(int(row_no.max(initial=0))),
    )
    order = _time_order(g, drank, src, row_no, nbits)

    g = g[order]
    sel = shared.rows(pos[order])
    date = date[order]
    sizes = shared.sizes
    size = sizes.size[order]
    dev = sel.f("deviation_mm")
    starts = np.searchsorted(g, np.arange(ng), side="left").astype(np.int64)

    size_mean = _gmean(g, size, n)
    dev_mean = _gmean(g, dev, n)
    xc = size - size_mean[g]
    yc = dev - dev_mean[g]
    # corrected two-pass sums (Chan, Golub & LeVeque 1983): subtracting (sum of centred
    # values)² / n removes the error of the rounded mean itself
    sx = _gsum(g, xc, ng)
    sy = _gsum(g, yc, ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        sxx = np.maximum(_gsum(g, xc * xc, ng) - sx * sx / n, 0.0)
        sxy = _gsum(g, xc * yc, ng) - sx * sy / n
        syy = np.maximum(_gsum(g, yc * yc, ng) - sy * sy / n, 0.0)

    # Distinct sizes per group and their range, from a group × size occupancy table
    # (sizes that are not finite are left out).
    if bool(np.isfinite(sizes.uniq).all()):
        scodes, svals = sizes.codes[order], sizes.uniq
    else:  # pragma: no cover - an infinite size
        scodes, svals = _dense_rank(size * 4.0, np.isfinite(size))
        svals = svals / 4.0
    ns = max(len(svals), 1)
    occ = np.bincount(g * ns + scodes, minlength=ng * ns).reshape(ng, ns) > 0
    n_sizes = occ.sum(axis=1).astype(np.int64)
    if len(svals):
        size_min = svals[np.argmax(occ, axis=1)]
        size_max = svals[ns - 1 - np.argmax(occ[:, ::-1], axis=1)]
    else:
        size_min = size_max = np.zeros(ng)

    has_line = (n_sizes >= 2) & (n >= 3) & (sxx > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(has_line, sxy / np.where(sxx > 0, sxx, 1.0), np.nan)
    resid = yc - np.where(has_line, slope, 0.0)[g] * xc
    sr = _gsum(g, resid, ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        ssr = np.maximum(_gsum(g, resid * resid, ng) - sr * sr / n, 0.0)
    resid_df = np.where(has_line, n - 2, n - 1)
    return _Prepared(
        rows=sel,
        keys=keys,
        order=order,
        g=g,
        starts=starts,
        n=n,
        dated=dated,
        date=date,
        size=size,
        dev=dev,
        size_mean=size_mean,
        dev_mean=dev_mean,
        sxx=sxx,
        n_sizes=n_sizes,
        size_min=size_min,
        size_max=size_max,
        has_line=has_line,
        slope=slope,
        resid=resid,
        ssr=ssr,
        resid_df=resid_df,
        syy=syy,
    )


def _moving_range_sigma(g: IntArray, x: FloatArray, ng: int) -> tuple[FloatArray, FloatArray]:
    """Mean moving range / D2 per group for values already in time order within groups.

    Returns the sigma estimate and the number of moving ranges per group.
    """
    if len(x) < 2:
        return np.full(ng, np.nan), np.zeros(ng)
    same = g[1:] == g[:-1]
    mr = np.abs(np.diff(x))[same]
    gm = g[1:][same]
    cnt = np.bincount(gm, minlength=ng).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = _gsum(gm, mr, ng) / cnt / D2
    return sigma, cnt


# --------------------------------------------------------------------------------------
# Pairs: the independent unit of inference
# --------------------------------------------------------------------------------------


#: Codes of whole ``pair`` columns, keyed by the id of the column's (immutable) arrow
#: array and dropped with it: producer_summary, size_summary and compare_producers called
#: one by one on one frame then encode the pair ids once (a fifth of a second on 3M rows).
_PAIR_CODES: dict[int, tuple[IntArray, int]] = {}


def _identity_codes(series: pd.Series) -> tuple[IntArray, int]:
    """Codes telling equal values of a column apart (-1: missing) and how many there are.

    Only equality matters (the numbering is arbitrary): category codes as they are, arrow
    strings dictionary-encoded by arrow, anything else :func:`pandas.factorize`.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype(np.int64)
        return codes, len(series.cat.categories)
    arrow = getattr(series.array, "_pa_array", None)
    if arrow is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type):
            chunk = arrow.chunk(0) if arrow.num_chunks == 1 else arrow.combine_chunks()
            encoded = pc.dictionary_encode(chunk)
            codes = encoded.indices.fill_null(-1).to_numpy().astype(np.int64)
            return codes, len(encoded.dictionary)
    c, u = pd.factorize(series)
    return np.asarray(c, dtype=np.int64), len(u)


def _pair_codes(shared: _Shared) -> tuple[IntArray, int]:
    """:func:`_identity_codes` of the whole ``pair`` column, shared between calls on the
    same arrow-backed column."""
    series = shared.frame["pair"]
    arrow = getattr(series.array, "_pa_array", None)
    hit = _PAIR_CODES.get(id(arrow)) if arrow is not None else None
    if hit is None:
        hit = _identity_codes(series)
        if arrow is not None:
            try:
                weakref.finalize(arrow, _PAIR_CODES.pop, id(arrow), None)
            except TypeError:  # pragma: no cover - not weak-referenceable
                pass
            else:
                _PAIR_CODES[id(arrow)] = hit
    return hit


def _clusters(shared: _Shared) -> _Clusters | None:
    """The cluster of each usable row (see :func:`_cluster_codes`); None when no row has
    a pair id (every row is then a cluster of its own)."""
    s = shared.selection
    m = len(s.pos)
    if m == 0 or "pair" not in shared.frame.columns:
        return None
    whole, npairs = _pair_codes(shared)
    pc = whole if len(s.pos) == len(whole) else whole[s.pos]
    has = pc >= 0
    every = bool(has.all())
    if not every and not has.any():
        return None
    paired = None if every else has
    scodes = shared.sizes.codes
    if every:
        pcp, pcode, sc = pc, s.pcode, scodes
    else:
        pcp, pcode, sc = pc[has], s.pcode[has], scodes[has]
    rep = np.zeros(npairs, dtype=np.int64)
    rep[pcp] = np.arange(len(pcp), dtype=np.int64)  # some row of each pair id
    at = rep[pcp]
    if bool(np.all(pcode[at] == pcode)) and bool(np.all(sc[at] == sc)):
        # every pair id at one producer and one size: a cluster is a (pair id, dimension)
        bound = npairs * s.nd
        ids = pc * s.nd + s.dcode
        if not every:
            ids = np.where(has, ids, bound + np.arange(m, dtype=np.int64))
        return _Clusters(ids, bound + m, True, paired)
    key = (s.g * npairs + pc) * max(len(shared.sizes.uniq), 1) + scodes
    codes, uniq = pd.factorize(np.where(has, key, -1 - np.arange(m, dtype=np.int64)))
    return _Clusters(np.asarray(codes, dtype=np.int64), len(uniq), False, paired)


def _first_seen(ids: IntArray, bound: int) -> IntArray:
    """Dense codes of ``ids`` (in ``0 … bound − 1``) numbered in order of first
    appearance, as :func:`pandas.factorize` numbers them."""
    m = len(ids)
    first = np.full(bound, m, dtype=np.int64)
    np.minimum.at(first, ids, np.arange(m, dtype=np.int64))
    is_first = np.zeros(m + 1, dtype=np.bool_)
    is_first[first] = True
    rank = np.cumsum(is_first[:m]) - 1
    return np.asarray(rank[first[ids]], dtype=np.int64)


def _cluster_codes(shared: _Shared, order: IntArray | None) -> IntArray:
    """The independent unit (cluster) of each usable row: its pair, or the row itself.

    The left and right shoe of a pair are cut from the same pattern, lasted on the same
    pair of lasts and measured together, so they are correlated. A cluster is one value of
    (producer, dimension, ``pair``, ``size``): a pair id that carries two sizes counts as
    two clusters, the same pair id at another producer or dimension is another cluster,
    and a row without a pair id is a cluster of its own. ``order`` lists the usable rows
    (indices into :attr:`_Shared.selection`) in the order wanted, None for frame order.
    Codes are dense (0 … G − 1), numbered in order of first appearance in that order.
    """
    m = len(shared.selection.pos)
    clusters = shared.clusters
    if clusters is None:
        return np.arange(m, dtype=np.int64)
    ids = clusters.ids if order is None else clusters.ids[order]
    return _first_seen(ids, clusters.bound)


@dataclass(frozen=True)
class _Layout:
    """Rows in clusters in groups: the cluster of each row (dense codes), and per cluster
    its number of rows ``mc`` and its group ``gc``; per group the number of clusters and
    of rows."""

    g: IntArray
    cluster: IntArray
    mc: FloatArray
    gc: IntArray
    n_clusters: FloatArray
    n: FloatArray


def _layout(g: IntArray, cluster: IntArray, ng: int) -> _Layout:
    nc = int(cluster.max()) + 1 if len(cluster) else 0
    mc = np.bincount(cluster, minlength=nc).astype(np.float64)
    gc = np.zeros(nc, dtype=np.int64)
    gc[cluster] = g
    n_clusters = np.bincount(gc, minlength=ng).astype(np.float64)
    n = np.bincount(g, minlength=ng).astype(np.float64)
    return _Layout(g=g, cluster=cluster, mc=mc, gc=gc, n_clusters=n_clusters, n=n)


def _between_clusters(lay: _Layout, e: FloatArray) -> FloatArray:
    """Per group: the number of clusters G and the between-cluster sum of squares.

    ``e`` are row residuals centred within their group (from the group mean or the
    group's grading line). Returns ``G`` and ``Σ_c m_c ē_c² − (Σ e)² / n`` where ``m_c``
    and ``ē_c`` are the size and mean residual of cluster ``c``: with one row per cluster
    this is the ordinary (corrected two-pass) residual sum of squares. (G is
    ``lay.n_clusters``.)
    """
    ng = len(lay.n)
    sc = np.bincount(lay.cluster, weights=e, minlength=len(lay.mc))
    se = _gsum(lay.g, e, ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.bincount(lay.gc, weights=sc * sc / lay.mc, minlength=ng) - se * se / lay.n
    return np.asarray(np.maximum(ss, 0.0), dtype=np.float64)


def _paired_within_sigma(lay: _Layout, resid: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Short-term (within) SD per shoe from moving ranges of *pair* means, in time order.

    ``g``, ``cluster`` and ``resid`` are aligned with the rows sorted by group, then time
    order; ``cluster`` are the codes of :func:`_cluster_codes`, numbered in order of first
    appearance (``pandas.factorize``), so cluster code order is the time order of each
    pair's first shoe within its group.

    Model: a shoe's residual is ``e = b_c + w``, ``b_c`` shared by the m_c shoes of its
    pair (cluster) c, ``w`` independent within the pair, Var b = σ_b², Var w = σ_e², so
    the per-shoe variance is σ² = σ_b² + σ_e². Moving ranges between consecutive *shoes*
    mix ranges within a pair (expected variance of the difference 2σ_e² instead of 2σ²)
    with ranges between pairs, and underestimate σ when the feet are correlated. Instead:

    - σ_m: mean moving range of consecutive cluster means ē_c / D2. Var ē_c = σ_b² +
      σ_e² / m_c, so σ_m² estimates σ_b² + σ_e² · mean(1/m_c).
    - σ_e²: pooled within-cluster variance Σ_c Σ_i (e_ci − ē_c)² / Σ_c (m_c − 1), the
      ANOVA within mean square (unbiased for σ_e²); 0 when no cluster holds two shoes.
    - σ_within² = σ_m² + σ_e² · (1 − 1/m̄), with 1/m̄ = mean over clusters of 1/m_c
      (m̄ the harmonic mean of shoes per pair: 2 for complete pairs), which is σ_b² + σ_e²
      = σ² per shoe.

    With one shoe per cluster (no pair ids) this is exactly the moving-range sigma of the
    shoes. No range is ever taken between two shoes of one pair. Returns the sigma and
    the number of moving ranges (between clusters) per group.
    """
    g, cluster, mc, gc = lay.g, lay.cluster, lay.mc, lay.gc
    nc, ng = len(mc), len(lay.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        ebar = np.bincount(cluster, weights=resid, minlength=nc) / mc
        ebar = ebar + np.bincount(cluster, weights=resid - ebar[cluster], minlength=nc) / mc
    sigma_m, count = _moving_range_sigma(gc, ebar, ng)
    w = resid - ebar[cluster]
    ss_within = _gsum(g, w * w, ng)
    df_within = lay.n - lay.n_clusters
    with np.errstate(invalid="ignore", divide="ignore"):
        inv_m = np.bincount(gc, weights=1.0 / mc, minlength=ng) / lay.n_clusters
        var_e = np.where(df_within > 0, ss_within / np.maximum(df_within, 1), 0.0)
        sigma = np.sqrt(sigma_m * sigma_m + var_e * (1.0 - inv_m))
    return np.asarray(sigma, dtype=np.float64), count


# --------------------------------------------------------------------------------------
# Capability
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capability:
    """Process capability of one sample against one pair of specification limits.

    Attributes
    ----------
    n : int
        Number of values.
    mean : float
        Sample mean.
    sigma_within : float
        Short-term sigma: the ``sigma`` passed in, else mean moving range / ``D2`` of the
        values in the order given.
    sigma_overall : float
        Sample standard deviation (n - 1).
    cp, cpk : float
        Potential and actual capability with ``sigma_within``:
        ``cp = (usl - lsl) / 6 sigma``, ``cpk = min(usl - mean, mean - lsl) / 3 sigma``.
        With a one-sided specification ``cp`` is NaN and ``cpk`` is the one side (CPU or
        CPL).
    pp, ppk : float
        The same with ``sigma_overall`` (performance indices).
    cpk_ci_low, cpk_ci_high : float
        Confidence interval of ``cpk`` by Bissell's (1990) normal approximation,
        ``cpk ± z sqrt(1 / (9 n) + cpk² / (2 (n - 1)))``.
    cp_ci_low, cp_ci_high : float
        Chi-square interval of ``cp`` with n - 1 degrees of freedom.
    """

    n: int
    mean: float
    sigma_within: float
    sigma_overall: float
    cp: float
    cpk: float
    pp: float
    ppk: float
    cpk_ci_low: float
    cpk_ci_high: float
    cp_ci_low: float
    cp_ci_high: float


def capability_indices(
    *,
    mean: npt.ArrayLike,
    sigma: npt.ArrayLike,
    lsl: npt.ArrayLike,
    usl: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Cp and Cpk for arrays of means, sigmas and limits (vectorised).

    Infinite limits mean a one-sided specification: ``cp`` is then NaN and ``cpk`` is the
    finite side alone (CPL for a minimum, CPU for a maximum).

    Returns
    -------
    cp, cpk : numpy arrays

    Examples
    --------
    NIST/SEMATECH e-Handbook 6.1.6: USL 20, LSL 8, mean 16, sigma 2.

    >>> cp, cpk = capability_indices(mean=16.0, sigma=2.0, lsl=8.0, usl=20.0)
    >>> float(cp), round(float(cpk), 3)
    (1.0, 0.667)
    """
    m = np.asarray(mean, dtype=np.float64)
    s = np.asarray(sigma, dtype=np.float64)
    lo = np.asarray(lsl, dtype=np.float64)
    hi = np.asarray(usl, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cp = np.where(np.isfinite(lo) & np.isfinite(hi), (hi - lo) / (6.0 * s), np.nan)
        cpu = np.where(np.isfinite(hi), (hi - m) / (3.0 * s), np.inf)
        cpl = np.where(np.isfinite(lo), (m - lo) / (3.0 * s), np.inf)
        cpk = np.minimum(cpu, cpl)
    cpk = np.where(np.isinf(cpk) & ~(np.isfinite(lo) | np.isfinite(hi)), np.nan, cpk)
    return np.asarray(cp, dtype=np.float64), np.asarray(cpk, dtype=np.float64)


def _bissell(cpk: FloatArray, n: FloatArray, confidence: float) -> tuple[FloatArray, FloatArray]:
    z = float(_spc.ndtri(0.5 + confidence / 2.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(1.0 / (9.0 * n) + cpk * cpk / (2.0 * (n - 1.0)))
    return cpk - z * se, cpk + z * se


def capability(
    values: npt.ArrayLike,
    *,
    lsl: float,
    usl: float,
    sigma: float | None = None,
    confidence: float = 0.95,
) -> Capability:
    """Cp, Cpk, Pp, Ppk of a sample with confidence intervals.

    Parameters
    ----------
    values : array-like of float
        Measurements (or deviations, with deviation-space limits), in time order when
        ``sigma`` is not given.
    lsl, usl : float
        Specification limits; pass ``-inf`` or ``inf`` for a one-sided specification.
    sigma : float, optional
        Within (short-term) sigma. Default: mean moving range / ``D2`` (1.128).
    confidence : float, default 0.95
        Level of the intervals.

    Returns
    -------
    Capability

    Examples
    --------
    >>> c = capability([15.0, 17.0, 16.0, 18.0, 14.0, 16.0], lsl=8, usl=20, sigma=2.0)
    >>> c.cp, round(c.cpk, 3)
    (1.0, 0.667)
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size < 2:
        raise UsageError(f"capability() needs at least 2 values, got {x.size}.")
    if not lsl < usl:
        raise UsageError(f"capability() needs lsl < usl, got lsl={lsl}, usl={usl}.")
    n = float(x.size)
    mean = float(np.mean(x))
    mean += float(np.mean(x - mean))
    s_overall = float(np.std(x - mean, ddof=1))
    s_within = float(np.mean(np.abs(np.diff(x))) / D2) if sigma is None else float(sigma)
    cp, cpk = capability_indices(mean=mean, sigma=s_within, lsl=lsl, usl=usl)
    pp, ppk = capability_indices(mean=mean, sigma=s_overall, lsl=lsl, usl=usl)
    nn = np.asarray([n])
    lo, hi = _bissell(np.atleast_1d(cpk), nn, confidence)
    a = 1.0 - confidence
    df = n - 1.0
    from scipy import stats as _sps  # only here: importing scipy.stats costs ~1.4 s

    cp_lo = float(cp) * math.sqrt(_sps.chi2.ppf(a / 2, df) / df)
    cp_hi = float(cp) * math.sqrt(_sps.chi2.ppf(1 - a / 2, df) / df)
    return Capability(
        n=int(n),
        mean=mean,
        sigma_within=s_within,
        sigma_overall=s_overall,
        cp=float(cp),
        cpk=float(cpk),
        pp=float(pp),
        ppk=float(ppk),
        cpk_ci_low=float(lo[0]),
        cpk_ci_high=float(hi[0]),
        cp_ci_low=cp_lo,
        cp_ci_high=cp_hi,
    )


# --------------------------------------------------------------------------------------
# Per producer × dimension
# --------------------------------------------------------------------------------------

PRODUCER_SUMMARY_COLUMNS = columns.PRODUCER_SUMMARY


def _label_step(sel: _Rows, g: IntArray, ng: int, grade_step: FloatArray) -> FloatArray:
    """mm of nominal per label unit per group: the median ``nominal_step_mm``, else the
    grade step (tabulated dimensions, or frames without that column: one label unit is
    one size)."""
    if sel.has("nominal_step_mm"):
        with np.errstate(invalid="ignore"):
            ns = _group_median(g, sel.f("nominal_step_mm"), ng)
            ns = np.where(ns > 0, ns, np.nan)
    else:
        ns = np.full(ng, np.nan)
    return np.asarray(np.where(np.isfinite(ns), ns, grade_step), dtype=np.float64)


def _group_median(g: IntArray, x: FloatArray, ng: int) -> FloatArray:
    """Group medians of the non-missing values; cheap when, as usual, the value is
    constant within each group (only groups where it varies are sorted)."""
    valid = ~np.isnan(x)
    some = np.full(ng, np.nan)
    if valid.all():
        some[g] = x  # one value of each group (any)
        differs = x != some[g]
    else:
        some[g[valid]] = x[valid]
        differs = valid & (x != some[g])
    out = some
    varying = np.bincount(g[differs], minlength=ng) > 0
    if varying.any():
        mask = varying[g]
        med = pd.Series(x[mask]).groupby(g[mask]).median()
        out[med.index.to_numpy()] = med.to_numpy(dtype=np.float64)
    return np.asarray(out, dtype=np.float64)


def _pair_mismatch(prep: _Prepared, shared: _Shared, lay: _Layout) -> FloatArray:
    """Per group, mean |left − right| of ``value_mm`` over the (group, pair id) keys with
    both feet measured; ``lay`` is the cluster layout of the prepared rows."""
    ng = prep.ng
    sel = prep.rows
    nan = np.full(ng, np.nan)
    clusters = shared.clusters
    if not (sel.has("foot") and sel.has("pair")) or len(sel) == 0 or clusters is None:
        return nan
    fcodes, funiq = sel.codes("foot")
    is_left = np.array([u == "L" for u in funiq] + [False], dtype=np.bool_)
    is_right = np.array([u == "R" for u in funiq] + [False], dtype=np.bool_)
    fcodes = np.where(fcodes >= 0, fcodes, len(funiq))
    right = is_right[fcodes]
    ok = is_left[fcodes] | right
    if clusters.paired is not None:
        ok &= clusters.paired[prep.order]
    if not ok.any():
        return nan
    every = bool(ok.all())
    g = prep.g if every else prep.g[ok]
    # one key per (group, pair id), numbered in order of first appearance
    if clusters.one_size_pairs and every:  # the keys are the clusters
        kc, count = lay.cluster, lay.mc
    else:
        if clusters.one_size_pairs:  # a cluster is such a key
            kc = _first_seen(clusters.ids[prep.order][ok], clusters.bound)
        else:
            pc = _pair_codes(shared)[0][sel.pos][ok]
            kc = np.asarray(pd.factorize(g * (int(pc.max()) + 1) + pc)[0], dtype=np.int64)
        count = np.bincount(kc).astype(np.float64)
    nk = len(count)
    v = sel.f("value_mm")
    r = right.astype(np.float64)
    if not every:
        v, r = v[ok], r[ok]
    cr = np.bincount(kc, weights=r, minlength=nk)
    cl = count - cr
    with np.errstate(invalid="ignore", divide="ignore"):
        vr = np.bincount(kc, weights=v * r, minlength=nk) / cr
        vl = np.bincount(kc, weights=v * (1.0 - r), minlength=nk) / cl
    both = (cr > 0) & (cl > 0)
    gk = np.empty(nk, dtype=np.int64)
    gk[kc] = g
    cnt = np.bincount(gk[both], minlength=ng)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.bincount(gk[both], weights=np.abs(vr - vl)[both], minlength=ng) / cnt
    return np.asarray(out, dtype=np.float64)


def producer_summary(
    deviations: pd.DataFrame,
    *,
    base_size: float,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    drift_rules: Sequence[str] | None = None,
    chart: ControlChart | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per producer × dimension: offset, grading, scatter, drift and a verdict.

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` frame of :func:`sizecheck.compare.compare` (columns listed in
        ``docs/internals.md``; ``foot`` and ``pair`` are optional). Rows with status
        ``no_reference`` or a missing nominal, deviation or size are left out. Not modified.
    base_size : float
        The reference table's base size, where ``offset_mm`` is read off the grading line.
    thresholds : Thresholds, default DEFAULT_THRESHOLDS
        Constants of the verdict rules (see below).
    drift_rules : sequence of str, optional
        Control-chart rule codes for ``drift_signals``; default
        :data:`sizecheck.drift.DEFAULT_RULES`. Ignored when ``chart`` is given.
    chart : ControlChart, optional
        A chart already computed by :func:`sizecheck.drift.control_chart` on the same
        frame; its signals are counted instead of computing the chart again.
    confidence : float, default 0.95
        Level of every confidence interval in the output.

    Returns
    -------
    DataFrame
        Sorted by producer and dimension, with exactly these columns:

        - ``producer``, ``dimension``: the group.
        - ``n``: measurements (shoes) used.
        - ``n_sizes``: distinct sizes among them.
        - ``bias_mm``: mean deviation (measured − nominal) over the shoes.
        - ``bias_ci_low_mm``, ``bias_ci_high_mm``: t-interval of that mean with the pair,
          not the shoe, as the independent unit (G − 1 df, G = number of pairs; see
          *Pairs* below). Without pair ids: the ordinary t-interval (n − 1 df).
        - ``bias_sizes``: ``bias_mm`` / the dimension's grade step (median of
          ``grade_step_mm``); NaN when the step is unknown.
        - ``offset_mm``: the producer's grading line (OLS of deviation on size) at
          ``base_size``; NaN with fewer than two distinct sizes.
        - ``grade_error_mm_per_size``: slope of that line per size step (−1.67 for a
          producer grading 5 mm per Paris size; with Mondopoint, whose label grows 1 per
          mm but one size is 5 mm, the slope per label unit × grade_step_mm /
          nominal_step_mm, so −1.0 for a producer growing 4 mm per 5 mm size);
          ``grade_error_ci_low``, ``grade_error_ci_high``: its t-interval over pairs,
          G − 2 df (without pair ids: the ordinary OLS interval, n − 2 df), likewise per
          size step.
        - ``sd_within_mm``: short-term spread around the producer's own grading line. When
          at least half of the rows carry a date: mean moving range of the residuals in time
          order (date, then source and row) / ``D2`` (1.128); with pair ids, the moving
          ranges are taken between consecutive *pair* means (never between the two shoes
          of a pair, which are correlated) and the pooled within-pair variance σ_e² is
          added back to give a per-shoe SD: √(σ_m² + σ_e² (1 − 1/m̄)), m̄ the (harmonic)
          mean number of shoes per pair. Otherwise the residual
          standard deviation √(SSR / (n − 2)) (n − 1 around the mean when no line can be
          fitted). A grading error is therefore never counted as scatter.
        - ``sd_overall_mm``: sample standard deviation of the deviations.
        - ``pct_in_spec``: percent of measurements with status ``in_spec``.
        - ``pct_missized``: percent that fail outright: status ``missized`` (outside the
          mis-sized band) or, for one-sided tables, ``below_min`` / ``above_max``.
          ``drifting`` (between the in-spec and mis-sized bands) counts in neither.
        - ``cpk``: Cpk at the worst end of the producer's size range, with the within σ:
          min over x ∈ {smallest size, largest size} of min(U − line(x), line(x) − L) /
          (3 ``sd_within_mm``), line(x) = offset + slope · (x − base) the producer's
          grading line (the bias when no line is fitted, e.g. one size), with the in-spec
          limits in deviation space (L = lower_mm − nominal_mm, U = upper_mm − nominal_mm,
          the group's median of each). A grading error therefore lowers Cpk. One-sided
          specification: the finite side only (CPL or CPU). ``cpk_ci_low``,
          ``cpk_ci_high``: Bissell's (1990) normal approximation at that Cpk, cpk ± z
          √(1/(9n) + cpk²/(2(n − 1))) (approximate, since the moving-range sigma has
          fewer effective degrees of freedom than n − 1).
        - ``pair_mismatch_mm``: mean |left − right| of ``value_mm`` over pairs with both
          feet measured (same producer, pair id and dimension); NaN when unknown.
        - ``drift_signals``: number of control-rule signals (episodes) from
          :func:`sizecheck.drift.control_chart`.
        - ``verdict``: ``insufficient_data``, ``conforming``, or the flags ``offset``,
          ``grading``, ``scatter``, ``drift`` joined with ``+`` in that order.

    Notes
    -----
    *Pairs.* The left and right shoe of a pair share pattern, lasts and operator, so
    their deviations are correlated (correlation ρ); treating them as independent makes
    every interval about √(1 + ρ) too narrow. When ``pair`` is given, the intervals (and
    the offset and grading tests of the verdict) take the *pair* as the independent unit:
    a cluster is one (producer, dimension, pair id, size) — a pair id carrying two sizes
    is two clusters, a row without a pair id a cluster of its own. The estimates stay
    the shoe-level ones above (mean over shoes, OLS over shoes), which are exactly the
    cluster means weighted by their number of shoes m_c (a cluster has one size). Their
    standard errors are those of that weighted fit on cluster means:
    s² = Σ_c m_c (ē_c)² / (G − k), with ē_c the cluster's mean residual from the mean
    (k = 1) or the grading line (k = 2), SE(bias) = s / √n, SE(slope) = s / √Sxx, SE(line
    at x) = s √(1/n + (x − x̄)²/Sxx), with G − k degrees of freedom. With one shoe per
    cluster this is the ordinary t / OLS interval; with both feet of every pair it is
    exactly the t-interval of the pair means and the OLS interval of pair means on size.
    ``sd_within_mm``, ``sd_overall_mm`` and the Cpk interval remain shoe-level.

    Verdict rules, with ``t`` = t-interval at ``1 - thresholds.alpha`` (over pairs, as
    above) and L, U the in-spec limits in deviation space:

    - ``insufficient_data`` when ``n < min_n``; no other flag is then given.
    - ``offset``: the grading line evaluated at the base size when the base size lies within
      the producer's size range, else at the nearest end of that range (extrapolating a line
      beyond the sizes made says little), has a CI excluding 0 and lies outside [L, U].
      With one distinct size the group mean is used instead of the line.
    - ``grading``: at least ``min_sizes_for_grading`` sizes, the slope's CI excludes 0,
      and at the smallest or largest size the line is outside [L, U] *because of the
      slope*: either the line at the evaluation point above is inside [L, U], or the slope
      alone (slope × distance from that point) would leave [L, U].
    - ``scatter``: a normal process with sigma ``sd_within_mm`` centred in [L, U] would put
      more than ``scatter_max_share`` outside. For one-sided limits the centre is the
      line at the evaluation point (no flag when that point is already outside).
    - ``drift``: ``drift_signals >= drift_min_signals``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> size = np.repeat(np.arange(38.0, 44.0), 4)
    >>> nominal = size * 20 / 3
    >>> dev = rng.normal(0.0, 0.4, size.size)
    >>> d = pd.DataFrame({"source": "a.csv", "row": np.arange(2, 26), "producer": "A",
    ...     "size": size, "date": pd.NaT, "dimension": "insole_length",
    ...     "value_mm": nominal + dev, "nominal_mm": nominal, "deviation_mm": dev,
    ...     "lower_mm": nominal - 1.5, "upper_mm": nominal + 1.5, "status": "in_spec",
    ...     "grade_step_mm": 20 / 3})
    >>> producer_summary(d, base_size=41)[["producer", "n", "n_sizes", "verdict"]]
      producer   n  n_sizes     verdict
    0        A  24        6  conforming
    """
    from sizecheck import drift as _drift

    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    if not math.isfinite(base_size):
        raise UsageError(f"base_size must be a finite number, got {base_size}.")
    prep = _prepare(deviations, "producer_summary()")
    shared = _shared(deviations)
    ng = prep.ng
    n = prep.n
    g = prep.g
    sel = prep.rows
    th = thresholds

    # Inference takes the pair, not the shoe, as the independent unit (see Notes).
    cluster = _cluster_codes(shared, prep.order)
    lay = _layout(g, cluster, ng)
    n_clusters = lay.n_clusters
    ss_mean = _between_clusters(lay, prep.dev - prep.dev_mean[g])
    ss_line = _between_clusters(lay, prep.resid)

    with np.errstate(invalid="ignore", divide="ignore"):
        # Bias: mean deviation (over shoes) and its t-interval (over pairs).
        bias = prep.dev_mean
        sd_overall = np.sqrt(prep.syy / (n - 1))
        se_bias = np.sqrt(ss_mean / (n_clusters - 1) / n)
        tq1 = _t_quantile(confidence, n_clusters - 1)
        # medians and counts do not depend on the order: taken over the rows in frame
        # order (``every``, ``g_every``), which are read without gathering them
        every, g_every = shared.selected, shared.selection.g
        if sel.has("grade_step_mm"):
            step = _group_median(g_every, every.f("grade_step_mm"), ng)
        else:
            step = np.full(ng, np.nan)
        step = np.where(step > 0, step, np.nan)
        # label units per size step (Mondopoint: 5 mm per size / 1 mm per label = 5; 1
        # for EU tables), to express the slope per size step rather than per label unit
        per_size = step / _label_step(every, g_every, ng, step)
        per_size = np.where(np.isfinite(per_size), per_size, 1.0)

        # Grading line: slope with its t-interval, offset at the base size. ``s_res`` is
        # the residual SD over shoes (scatter); ``s_line`` its pair-level counterpart
        # for the intervals.
        s_res = np.sqrt(prep.ssr / prep.resid_df)
        s_line = np.sqrt(ss_line / np.where(prep.has_line, n_clusters - 2, n_clusters - 1))
        se_slope = np.where(prep.has_line, s_line / np.sqrt(prep.sxx), np.nan)
        tq2 = _t_quantile(confidence, n_clusters - 2)
        slope = prep.slope

        def line_at(x: FloatArray) -> FloatArray:
            return np.asarray(bias + slope * (x - prep.size_mean), dtype=np.float64)

        offset = np.where(prep.has_line, line_at(np.full(ng, float(base_size))), np.nan)

        # Within spread: moving ranges in time order when dated, over pair means plus
        # the pooled within-pair variance (see _paired_within_sigma); without pair ids
        # the moving ranges of the shoes' residuals.
        mr_sigma, mr_count = _paired_within_sigma(lay, prep.resid)
        sd_within = np.where(prep.dated & (mr_count >= 1), mr_sigma, s_res)

        in_spec = shared.status_counts(["in_spec"])
        missized = shared.status_counts(MISSIZED_STATUSES)

        nominal = every.f("nominal_mm")
        lo_lim = _group_median(g_every, every.f("lower_mm") - nominal, ng)
        hi_lim = _group_median(g_every, every.f("upper_mm") - nominal, ng)
        lo_lim = np.where(np.isnan(lo_lim), -np.inf, lo_lim)
        hi_lim = np.where(np.isnan(hi_lim), np.inf, hi_lim)
        # Cpk at the worst end of the producer's size range: the grading line at the
        # smallest and largest size (the mean when no line is fitted), with the within
        # sigma, so a grading error lowers Cpk as it lowers the in-spec share.
        at_min = np.where(prep.has_line, line_at(prep.size_min), bias)
        at_max = np.where(prep.has_line, line_at(prep.size_max), bias)
        _, cpk_min = capability_indices(mean=at_min, sigma=sd_within, lsl=lo_lim, usl=hi_lim)
        _, cpk_max = capability_indices(mean=at_max, sigma=sd_within, lsl=lo_lim, usl=hi_lim)
        cpk = np.fmin(cpk_min, cpk_max)
        cpk_lo, cpk_hi = _bissell(cpk, n, confidence)

    pair_mm = _pair_mismatch(prep, shared, lay)

    if chart is None:
        rules = _drift.DEFAULT_RULES if drift_rules is None else tuple(drift_rules)
        chart = _drift._chart(prep, rules)
    sig = chart.signals
    if len(sig):
        counts = sig.groupby(["producer", "dimension"]).size().rename("k").reset_index()
        counts = counts.astype({"producer": "str", "dimension": "str"})
        drift_signals = (
            prep.keys.merge(counts, on=["producer", "dimension"], how="left")["k"]
            .fillna(0)
            .to_numpy(dtype=np.int64)
        )
    else:
        drift_signals = np.zeros(ng, dtype=np.int64)

    verdict = _verdicts(
        prep,
        th,
        bias=bias,
        se_bias=se_bias,
        s_line=s_line,
        n_clusters=n_clusters,
        se_slope=se_slope,
        sd_within=sd_within,
        lo=lo_lim,
        hi=hi_lim,
        base_size=float(base_size),
        drift_signals=drift_signals,
    )

    out = prep.keys.copy()
    out["n"] = n.astype(np.int64)
    out["n_sizes"] = prep.n_sizes
    out["bias_mm"] = bias
    out["bias_ci_low_mm"] = bias - tq1 * se_bias
    out["bias_ci_high_mm"] = bias + tq1 * se_bias
    out["bias_sizes"] = bias / step
    out["offset_mm"] = offset
    out["grade_error_mm_per_size"] = slope * per_size
    out["grade_error_ci_low"] = (slope - tq2 * se_slope) * per_size
    out["grade_error_ci_high"] = (slope + tq2 * se_slope) * per_size
    out["sd_within_mm"] = sd_within
    out["sd_overall_mm"] = sd_overall
    out["pct_in_spec"] = 100.0 * in_spec / n
    out["pct_missized"] = 100.0 * missized / n
    out["cpk"] = cpk
    out["cpk_ci_low"] = cpk_lo
    out["cpk_ci_high"] = cpk_hi
    out["pair_mismatch_mm"] = pair_mm
    out["drift_signals"] = drift_signals
    out["verdict"] = pd.Series(verdict, dtype="str")
    return out.loc[:, list(PRODUCER_SUMMARY_COLUMNS)]


def _verdicts(
    prep: _Prepared,
    th: Thresholds,
    *,
    bias: FloatArray,
    se_bias: FloatArray,
    s_line: FloatArray,
    n_clusters: FloatArray,
    se_slope: FloatArray,
    sd_within: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    base_size: float,
    drift_signals: IntArray,
) -> list[str]:
    n = prep.n
    has_line = prep.has_line
    slope = np.where(has_line, prep.slope, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_eval = np.clip(base_size, prep.size_min, prep.size_max)
        dx = x_eval - prep.size_mean
        line_eval = bias + slope * dx
        se_line = s_line * np.sqrt(1.0 / n + dx * dx / prep.sxx)
        est = np.where(has_line, line_eval, bias)
        se = np.where(has_line, se_line, se_bias)
        crit = _t_quantile(1.0 - th.alpha, np.where(has_line, n_clusters - 2, n_clusters - 1))
        crit2 = _t_quantile(1.0 - th.alpha, n_clusters - 2)

        def outside(v: FloatArray) -> BoolArray:
            return np.asarray((v < lo) | (v > hi), dtype=np.bool_)

        offset = (np.abs(est) > crit * se) & outside(est)

        slope_sig = has_line & (np.abs(slope) > crit2 * se_slope)
        eval_in = ~outside(est)
        grading = (
            (prep.n_sizes >= th.min_sizes_for_grading)
            & slope_sig
            & (
                (
                    outside(est + slope * (prep.size_min - x_eval))
                    & (eval_in | outside(slope * (prep.size_min - x_eval)))
                )
                | (
                    outside(est + slope * (prep.size_max - x_eval))
                    & (eval_in | outside(slope * (prep.size_max - x_eval)))
                )
            )
        )

        two_sided = np.isfinite(lo) & np.isfinite(hi)
        centre = np.where(two_sided, (lo + hi) / 2.0, est)
        share = _spc.ndtr((lo - centre) / sd_within) + _spc.ndtr(-((hi - centre) / sd_within))
        share = np.where(sd_within > 0, share, 0.0)
        scatter = (share > th.scatter_max_share) & (two_sided | eval_in)

    drift = drift_signals >= th.drift_min_signals
    verdicts: list[str] = []
    for i in range(len(n)):
        if n[i] < th.min_n:
            verdicts.append("insufficient_data")
            continue
        flags = [
            name
            for name, on in (
                ("offset", offset[i]),
                ("grading", grading[i]),
                ("scatter", scatter[i]),
                ("drift", drift[i]),
            )
            if on
        ]
        verdicts.append("+".join(flags) if flags else "conforming")
    return verdicts


# --------------------------------------------------------------------------------------
# Per producer × dimension × size
# --------------------------------------------------------------------------------------

SIZE_SUMMARY_COLUMNS = columns.SIZE_SUMMARY

_SIZE_NEEDED = (
    "producer",
    "size",
    "dimension",
    "value_mm",
    "nominal_mm",
    "deviation_mm",
    "status",
)


def _occupancy(g: IntArray, codes: IntArray, ng: int, nc: int) -> npt.NDArray[np.int64]:
    """Counts of each code per group, as a (groups × codes) table."""
    counts = np.bincount(g * nc + codes, minlength=ng * nc)
    return np.asarray(counts.reshape(ng, nc), dtype=np.int64)


def _cells(shared: _Shared) -> tuple[_Rows, pd.DataFrame, IntArray]:
    """Usable rows, one key row per producer × dimension × size (sorted), and row codes."""
    s = shared.selection
    sizes = shared.sizes
    sel = shared.selected
    g, keys, scodes = s.g, s.keys, sizes.codes
    ns = max(len(sizes.uniq), 1)
    present = (_occupancy(g, scodes, len(keys), ns) > 0).ravel()
    uniq = np.nonzero(present)[0]
    h = (np.cumsum(present) - 1)[g * ns + scodes]
    cell_keys = keys.iloc[uniq // ns].reset_index(drop=True)
    cell_keys["size"] = sizes.uniq[uniq % ns]
    return sel, cell_keys, h.astype(np.int64)


def size_summary(deviations: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """One row per producer × dimension × size: mean, bias and effective size.

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` frame of :func:`sizecheck.compare.compare`; rows with status
        ``no_reference`` or a missing nominal, deviation or size are left out. Not modified.
    confidence : float, default 0.95
        Level of the bias interval.

    Returns
    -------
    DataFrame
        Sorted by producer, dimension, size, with columns (the first nine are the
        ``size_summary.csv`` contract):

        - ``producer``, ``dimension``, ``size`` (in the table's size system).
        - ``n``: measurements.
        - ``mean_mm``: mean measured value.
        - ``nominal_mm``: the table's nominal value at this size (mean over rows).
        - ``bias_mm``: mean deviation (measured − nominal).
        - ``sd_mm``: sample standard deviation of the measurements (NaN when n = 1).
        - ``effective_size``: ``size + bias_mm / nominal_step_mm`` in label units ("your
          41 is a 41.6"; Mondopoint 260 + 4.9 mm is 264.9); ``nominal_step_mm`` is the
          nominal's mm per label unit, the grade step when that column is absent or NaN
          (tabulated tables, EU: the same); NaN when neither is known.
        - ``size_label``: the label as written most often for this size (first in sort
          order on ties).
        - ``bias_ci_low_mm``, ``bias_ci_high_mm``: t-interval of the bias with the pair
          as the independent unit (G − 1 df over G pairs, as in :func:`producer_summary`;
          the ordinary n − 1 df interval without pair ids).
        - ``bias_sizes``: ``bias_mm`` / grade step.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"producer": "A", "size": [41.0, 41.0], "dimension": "insole_length",
    ...     "value_mm": [277.0, 277.4], "nominal_mm": 820 / 3, "status": "in_spec",
    ...     "grade_step_mm": 20 / 3})
    >>> d["deviation_mm"] = d["value_mm"] - d["nominal_mm"]
    >>> s = size_summary(d)
    >>> round(float(s.loc[0, "effective_size"]), 2)
    41.58
    """
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    return _size_table(deviations, confidence, "size_summary()")[0].copy()


def _size_table(deviations: pd.DataFrame, confidence: float, what: str) -> _SizeTable:
    """The size summary, the grade step per cell, and per cell the number of pairs
    (clusters) and the pair-level variance ``G · se²`` of the mean (see
    :func:`compare_producers`); computed once per :class:`_Shared` and level."""
    _check_columns(deviations, _SIZE_NEEDED, what)
    shared = _shared(deviations)
    if confidence not in shared.size_tables:
        shared.size_tables[confidence] = _compute_size_table(shared, confidence)
    return shared.size_tables[confidence]


def _compute_size_table(shared: _Shared, confidence: float) -> _SizeTable:
    sel, cells, h = shared.cells
    nc = len(cells)
    n = np.bincount(h, minlength=nc).astype(np.float64)
    value = sel.f("value_mm")
    dev = sel.f("deviation_mm")
    mean = _gmean(h, value, n)
    bias = _gmean(h, dev, n)
    lay = _layout(h, _cluster_codes(shared, None), nc)
    n_clusters = lay.n_clusters
    ss_mean = _between_clusters(lay, value - mean[h])
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(_css(h, value, mean, n) / (n - 1))
        # the deviation is the value minus a nominal that is constant within a cell, so
        # the pair-level spread of the mean is the same for both
        var_mean = ss_mean / (n_clusters - 1) / n
        tq = _t_quantile(confidence, n_clusters - 1)
        se = np.sqrt(var_mean)
        nominal = _gmean(h, sel.f("nominal_mm"), n)
        if sel.has("grade_step_mm"):
            step = _group_median(h, sel.f("grade_step_mm"), nc)
        else:
            step = np.full(nc, np.nan)
        step = np.where(step > 0, step, np.nan)
    out = cells.copy()
    out["n"] = n.astype(np.int64)
    out["mean_mm"] = mean
    out["nominal_mm"] = nominal
    out["bias_mm"] = bias
    out["sd_mm"] = sd
    out["effective_size"] = out["size"].to_numpy() + bias / _label_step(sel, h, nc, step)
    if sel.has("size_label") and len(sel):
        lcodes, luniq = sel.codes("size_label", sort=True)
        nl = len(luniq) + 1  # last column: missing label
        table = _occupancy(h, np.where(lcodes >= 0, lcodes, nl - 1), nc, nl)
        table[:, nl - 1] = 0
        best = np.argmax(table, axis=1)
        labels = _with_none(luniq)[best]
        labels[table.max(axis=1) == 0] = None
        out["size_label"] = labels
        out["size_label"] = out["size_label"].astype("str")
    else:
        out["size_label"] = pd.Series([pd.NA] * nc, dtype="str")
    out["bias_ci_low_mm"] = bias - tq * se
    out["bias_ci_high_mm"] = bias + tq * se
    out["bias_sizes"] = bias / step
    return out.loc[:, list(SIZE_SUMMARY_COLUMNS)], step, n_clusters, n_clusters * var_mean


# --------------------------------------------------------------------------------------
# Between producers
# --------------------------------------------------------------------------------------


def _welch_core(
    cell: IntArray, n: FloatArray, mean: FloatArray, var: FloatArray, ncell: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Welch's (1951) heteroscedastic one-way ANOVA, vectorised over cells.

    Each entry is one group (producer) of one cell (dimension × size); groups with n < 2 or
    zero variance are ignored. Returns k (groups used), F, df1, df2, p per cell.
    """
    ok = (n >= 2) & (var > 0) & np.isfinite(var)
    c, nn, m, v = cell[ok], n[ok], mean[ok], var[ok]
    w = nn / v
    k = np.bincount(c, minlength=ncell).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        sw = np.bincount(c, weights=w, minlength=ncell)
        # weighted grand mean, refined (centred) like every mean here
        xw = np.bincount(c, weights=w * m, minlength=ncell) / sw
        xw = xw + np.bincount(c, weights=w * (m - xw[c]), minlength=ncell) / sw
        a = np.bincount(c, weights=w * (m - xw[c]) ** 2, minlength=ncell) / (k - 1)
        lam = np.bincount(c, weights=(1 - w / sw[c]) ** 2 / (nn - 1), minlength=ncell)
        b = 1 + 2 * (k - 2) / (k * k - 1) * lam
        f = a / b
        df1 = k - 1
        df2 = (k * k - 1) / (3 * lam)
        p = _f_sf(f, df1, df2)
    usable = k >= 2
    nan = np.full(ncell, np.nan)
    return (
        k,
        np.where(usable, f, nan),
        np.where(usable, df1, nan),
        np.where(usable, df2, nan),
        np.where(usable, p, nan),
    )


def welch_anova(data: pd.DataFrame, *, dv: str, between: str) -> pd.DataFrame:
    """Welch's (1951) one-way ANOVA for groups with unequal variances.

    scipy has no Welch ANOVA; this is the test R runs as ``oneway.test(var.equal = FALSE)``.
    Groups with fewer than two values or zero variance are left out.

    Parameters
    ----------
    data : DataFrame
        Long frame; not modified.
    dv : str
        Column of values.
    between : str
        Column naming the group of each value.

    Returns
    -------
    DataFrame
        One row: ``k`` (groups used), ``f``, ``df1``, ``df2``, ``p``.

    Examples
    --------
    Student's sleep data (R ``datasets::sleep``), for which R's ``t.test`` reports Welch
    t = -1.8608, df = 17.776, p = 0.07939; with two groups F = t².

    >>> import pandas as pd
    >>> extra = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0,
    ...          1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    >>> d = pd.DataFrame({"extra": extra, "group": [1] * 10 + [2] * 10})
    >>> welch_anova(d, dv="extra", between="group").round(4)
       k       f  df1      df2       p
    0  2  3.4626  1.0  17.7765  0.0794
    """
    _check_columns(data, (dv, between), "welch_anova()")
    sub = data[[between, dv]].dropna()
    codes, _ = pd.factorize(sub[between], sort=True)
    x = sub[dv].to_numpy(dtype=np.float64)
    ng = int(codes.max()) + 1 if len(codes) else 0
    codes = codes.astype(np.int64)
    n = np.bincount(codes, minlength=ng).astype(np.float64)
    m = _gmean(codes, x, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = _css(codes, x, m, n) / (n - 1)
    k, f, df1, df2, p = _welch_core(np.zeros(ng, dtype=np.int64), n, m, var, 1)
    return pd.DataFrame({"k": k.astype(np.int64), "f": f, "df1": df1, "df2": df2, "p": p})


COMPARISON_COLUMNS = columns.COMPARISON


def compare_producers(deviations: pd.DataFrame) -> pd.DataFrame:
    """Between producers, per dimension and size: how far apart are their means?

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` frame of :func:`sizecheck.compare.compare`. Not modified.

    Returns
    -------
    DataFrame
        One row per dimension × size, sorted, with columns:

        - ``dimension``, ``size``.
        - ``n_producers``: producers with at least one measurement at this size; ``n``:
          measurements.
        - ``mean_min_mm``, ``mean_max_mm``: the lowest and highest producer mean of the
          measured value; ``lowest_producer``, ``highest_producer``: whose they are.
          (Each producer's own mean is in :func:`size_summary`.)
        - ``spread_mm``: ``mean_max_mm − mean_min_mm``; ``spread_sizes``: the same divided
          by the dimension's grade step.
        - ``welch_k``: producers entering Welch's ANOVA (at least two pairs and non-zero
          variance); ``welch_f``, ``welch_df1``, ``welch_df2``, ``welch_p``: Welch's (1951)
          test that all producer means are equal (NaN when ``welch_k`` < 2). The two shoes
          of a pair are not independent, so each producer enters with its G pairs: weight
          1 / SE² of its mean and G − 1 df, SE computed over pairs as in
          :func:`producer_summary` (with both feet of every pair measured this is Welch's
          ANOVA on the pair means; without pair ids, on the shoes).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"producer": ["A"] * 3 + ["B"] * 3, "size": 41.0,
    ...     "dimension": "insole_length", "nominal_mm": 820 / 3, "status": "in_spec",
    ...     "value_mm": [273.0, 273.4, 273.2, 277.0, 277.5, 276.9], "grade_step_mm": 20 / 3})
    >>> d["deviation_mm"] = d["value_mm"] - d["nominal_mm"]
    >>> c = compare_producers(d)
    >>> c[["n_producers", "lowest_producer", "highest_producer"]]
       n_producers lowest_producer highest_producer
    0            2               A                B
    >>> round(float(c.loc[0, "spread_sizes"]), 2)
    0.59
    """
    s, step, n_pairs, var_pairs = _size_table(deviations, 0.95, "compare_producers()")
    cells, cell = np.unique(
        pd.factorize(s["dimension"], sort=True)[0].astype(np.int64) * (len(s) + 1)
        + pd.factorize(s["size"], sort=True)[0],
        return_inverse=True,
    )
    cell = cell.astype(np.int64)
    ncell = len(cells)
    first = np.searchsorted(cell, np.arange(ncell))
    # size_summary is sorted by producer first; order rows by cell, then by mean
    mean = s["mean_mm"].to_numpy(dtype=np.float64)
    order = np.lexsort((mean, cell))
    c_sorted = cell[order]
    first = np.searchsorted(c_sorted, np.arange(ncell), side="left")
    last = np.searchsorted(c_sorted, np.arange(ncell), side="right") - 1
    lo_row, hi_row = order[first], order[last]
    n = s["n"].to_numpy(dtype=np.float64)
    # Welch on pairs: each producer enters with G pairs and a pair-level variance such
    # that its weight G / var is 1 / se² of its mean (shoes of a pair are not independent)
    k, f, df1, df2, p = _welch_core(cell, n_pairs, mean, var_pairs, ncell)
    with np.errstate(invalid="ignore"):
        cell_step = pd.Series(step).groupby(cell).median().reindex(range(ncell)).to_numpy()
    producer = s["producer"].to_numpy()
    spread = mean[hi_row] - mean[lo_row]
    out = pd.DataFrame(
        {
            "dimension": s["dimension"].to_numpy()[lo_row],
            "size": s["size"].to_numpy()[lo_row],
            "n_producers": np.bincount(cell, minlength=ncell).astype(np.int64),
            "n": np.bincount(cell, weights=n, minlength=ncell).astype(np.int64),
            "mean_min_mm": mean[lo_row],
            "mean_max_mm": mean[hi_row],
            "lowest_producer": producer[lo_row],
            "highest_producer": producer[hi_row],
            "spread_mm": spread,
            "spread_sizes": spread / cell_step,
            "welch_k": k.astype(np.int64),
            "welch_f": f,
            "welch_df1": df1,
            "welch_df2": df2,
            "welch_p": p,
        }
    )
    out = out.astype({"dimension": "str", "lowest_producer": "str", "highest_producer": "str"})
    return out.loc[:, list(COMPARISON_COLUMNS)]


def size_equivalents(size_summary: pd.DataFrame, *, max_gap_sizes: float = 0.25) -> pd.DataFrame:
    """Which producer's labelled size matches another producer's *different* size?

    Two producer sizes match when their effective sizes (size + bias / grade step, from
    :func:`size_summary`) lie within ``max_gap_sizes`` of each other on the reference scale
    although their labels differ: "A's 41 is B's 42".

    Parameters
    ----------
    size_summary : DataFrame
        Output of :func:`size_summary` (needs producer, dimension, size, effective_size).
        Not modified.
    max_gap_sizes : float, default 0.25
        Largest |effective_size_a − effective_size_b| that counts as a match.

    Returns
    -------
    DataFrame
        One row per matching pair (each unordered pair once, ``producer_a`` < ``producer_b``),
        sorted by dimension, producer_a, size_a, producer_b, size_b: ``dimension``,
        ``producer_a``, ``size_a``, ``effective_size_a``, ``producer_b``, ``size_b``,
        ``effective_size_b``, ``gap_sizes`` (= effective_size_a − effective_size_b).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"producer": ["A", "B", "B"], "dimension": "insole_length",
    ...     "size": [41.0, 41.0, 42.0], "effective_size": [41.9, 41.0, 42.0]})
    >>> size_equivalents(s)[["producer_a", "size_a", "producer_b", "size_b"]]
      producer_a  size_a producer_b  size_b
    0          A    41.0          B    42.0
    """
    _check_columns(
        size_summary, ("producer", "dimension", "size", "effective_size"), "size_equivalents()"
    )
    if not max_gap_sizes >= 0:
        raise UsageError(f"max_gap_sizes must be >= 0, got {max_gap_sizes}.")
    s = size_summary[["producer", "dimension", "size", "effective_size"]]
    s = s[s["effective_size"].notna()]
    dcode = pd.factorize(s["dimension"], sort=True)[0].astype(np.float64)
    eff = s["effective_size"].to_numpy(dtype=np.float64)
    # place dimensions far apart on one axis so one searchsorted serves all of them
    span = float(np.nanmax(np.abs(eff))) * 4 + 10 * max_gap_sizes + 1 if len(eff) else 1.0
    axis = dcode * span + eff
    order = np.argsort(axis, kind="stable")
    ax = axis[order]
    hi = np.searchsorted(ax, ax + max_gap_sizes, side="right")
    counts = hi - np.arange(len(ax)) - 1
    i = np.repeat(np.arange(len(ax)), counts)
    j = i + 1 + (np.arange(len(i)) - np.repeat(np.cumsum(counts) - counts, counts))
    a, b = order[i], order[j]
    prod = s["producer"].astype("str").to_numpy()
    size = s["size"].to_numpy(dtype=np.float64)
    keep = (prod[a] != prod[b]) & (size[a] != size[b])
    a, b = a[keep], b[keep]
    swap = prod[a] > prod[b]
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    out = pd.DataFrame(
        {
            "dimension": s["dimension"].astype("str").to_numpy()[a],
            "producer_a": prod[a],
            "size_a": size[a],
            "effective_size_a": eff[a],
            "producer_b": prod[b],
            "size_b": size[b],
            "effective_size_b": eff[b],
        }
    )
    out["gap_sizes"] = out["effective_size_a"] - out["effective_size_b"]
    out = out.astype({"dimension": "str", "producer_a": "str", "producer_b": "str"})
    return out.sort_values(
        ["dimension", "producer_a", "size_a", "producer_b", "size_b"], kind="stable"
    ).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Sizing conventions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Convention:
    """A candidate sizing convention for EU (Paris point) labelled lengths.

    The predicted length is ``allowance_mm + slope_mm_per_size * size``, plus, when
    ``fit_intercept``, a constant shift fitted to the producer's data (the mean residual;
    reported as ``fitted_shift_mm`` by :func:`find_conventions`).
    """

    name: str
    description: str
    slope_mm_per_size: float
    allowance_mm: float = 0.0
    fit_intercept: bool = False


#: The conventions :func:`find_conventions` tries (domain.md, "The definitional spread").
CONVENTIONS: tuple[Convention, ...] = (
    Convention("paris_last", "last length = size × 20/3 (Paris point)", 20 / 3),
    Convention("paris_foot+13.3", "foot = size × 20/3, last = foot + 13.3 mm", 20 / 3, 13.3),
    Convention("paris_foot+15", "foot = size × 20/3, last = foot + 15 mm", 20 / 3, 15.0),
    Convention("paris_foot+16.9", "foot = size × 20/3, last = foot + 16.9 mm", 20 / 3, 16.9),
    Convention("paris_foot+20", "foot = size × 20/3, last = foot + 20 mm", 20 / 3, 20.0),
    Convention(
        "paris_shifted",
        "last length = size × 20/3 + a fitted constant shift (lasts made a fixed amount "
        "long or short; one size small = −6.67 mm)",
        20 / 3,
        fit_intercept=True,
    ),
    Convention(
        "grading_5mm",
        "5 mm per size (Mondopoint/China grading) relabelled in EU sizes; fitted shift "
        "from the Paris-point last length at EU 41",
        5.0,
        allowance_mm=(20 / 3 - 5.0) * 41.0,
        fit_intercept=True,
    ),
)

#: A convention with nothing fitted is preferred (``best``) over a fitted one whose RMS
#: residual is lower by at most this much (mm): the simpler explanation wins near-ties.
CONVENTION_TIE_MM = 0.05


def find_conventions(
    deviations: pd.DataFrame,
    *,
    dimensions: Sequence[str] = ("last_length", "insole_length"),
    conventions: Sequence[Convention] = CONVENTIONS,
) -> pd.DataFrame:
    """Which sizing convention explains each producer's lengths best?

    Only meaningful when ``size`` is an EU / Paris-point size (the table's size system is
    ``eu``) and the dimensions are lengths along the last or insole; the caller checks
    the size system (the deviations frame does not carry it).

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` frame; ``producer``, ``dimension``, ``size`` and ``value_mm``
        of usable rows are used, and ``lower_mm``, ``upper_mm`` and ``nominal_mm`` for
        ``fits`` when present. Not modified.
    dimensions : sequence of str
        Length dimensions to examine.
    conventions : sequence of Convention, default CONVENTIONS
        Candidates.

    Returns
    -------
    DataFrame
        One row per producer × dimension × convention, sorted by producer, dimension and
        the order of ``conventions``, with columns:

        - ``producer``, ``dimension``, ``convention``, ``description`` (says when a
          parameter is fitted), ``n``, ``n_sizes``.
        - ``mean_residual_mm``: mean of measured − predicted (0 for fitted candidates).
        - ``rms_residual_mm``: root mean square of measured − predicted, divided by n (a
          fitted shift is not otherwise penalised). A fitted candidate needs at least 3
          distinct sizes to be told apart from the others; with fewer its RMS is NaN.
        - ``fitted_shift_mm``: the fitted constant shift, mm, added to the candidate's
          fixed line ``allowance_mm + slope × size`` (``paris_shifted``: −6.67 for lasts
          one size small; ``grading_5mm``: the shift from the Paris-point last length at
          EU 41); NaN for candidates with nothing fitted.
        - ``fits``: the RMS residual is within the dimension's in-spec tolerance, the
          half-width of the in-spec band (``upper_mm − lower_mm``) / 2, the group's
          median; False when that band is unknown or one-sided.
        - ``best``: the candidate with the lowest RMS for the producer × dimension,
          except that a candidate with nothing fitted wins when its RMS is within
          ``CONVENTION_TIE_MM`` (0.05 mm) of that lowest RMS (the simpler explanation;
          among such candidates the lowest RMS).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> size = np.arange(37.0, 45.0)
    >>> scatter = np.tile([0.3, -0.3], 4)
    >>> d = pd.DataFrame({"producer": "A", "dimension": "last_length", "size": size,
    ...     "value_mm": size * 20 / 3 + 15 + scatter, "nominal_mm": size * 20 / 3,
    ...     "status": "x"})
    >>> d["deviation_mm"] = d["value_mm"] - d["nominal_mm"]
    >>> best_conventions(find_conventions(d))["convention"].tolist()
    ['paris_foot+15']
    >>> d["value_mm"] = (size - 1) * 20 / 3 + scatter  # one size small
    >>> c = best_conventions(find_conventions(d))
    >>> c["convention"].tolist(), round(float(c["fitted_shift_mm"].iloc[0]), 2)
    (['paris_shifted'], -6.67)
    """
    needed = ("producer", "dimension", "size", "value_mm", "nominal_mm", "deviation_mm", "status")
    columns = [
        "producer", "dimension", "convention", "description", "n", "n_sizes",
        "mean_residual_mm", "rms_residual_mm", "fitted_shift_mm", "fits", "best",
    ]  # fmt: skip
    shared, s = _select(deviations, needed, "find_conventions()")
    wanted = s.keys["dimension"].isin(list(dimensions)).to_numpy(dtype=np.bool_)
    rowmask = wanted[s.g]
    remap = np.cumsum(wanted) - 1
    pos, g = s.pos[rowmask], remap[s.g[rowmask]].astype(np.int64)
    keys = s.keys[wanted].reset_index(drop=True)
    ng = len(keys)
    if not conventions or ng == 0:
        return pd.DataFrame(columns=columns)
    sel = shared.rows(pos)
    n = np.bincount(g, minlength=ng).astype(np.float64)
    sizes = shared.sizes
    size = sizes.size[rowmask]
    value = sel.f("value_mm")
    scodes = sizes.codes[rowmask]
    n_sizes = (_occupancy(g, scodes, ng, max(len(sizes.uniq), 1)) > 0).sum(axis=1).astype(np.int64)
    if sel.has("lower_mm") and sel.has("upper_mm"):
        with np.errstate(invalid="ignore"):
            tol = _group_median(g, (sel.f("upper_mm") - sel.f("lower_mm")) / 2.0, ng)
    else:
        tol = np.full(ng, np.nan)
    nconv = len(conventions)
    rms = np.full((ng, nconv), np.nan)
    frames = []
    bases: dict[float, FloatArray] = {}  # value - slope * size, once per slope
    for k, conv in enumerate(conventions):
        if conv.slope_mm_per_size not in bases:
            bases[conv.slope_mm_per_size] = value - conv.slope_mm_per_size * size
        resid = bases[conv.slope_mm_per_size] - conv.allowance_mm
        shift = np.full(ng, np.nan)
        if conv.fit_intercept:
            shift = _gmean(g, resid, n)
            resid = resid - shift[g]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_r = _gmean(g, resid, n)
            rms[:, k] = np.sqrt(_gsum(g, resid * resid, ng) / n)
        if conv.fit_intercept:
            rms[:, k] = np.where(n_sizes >= 3, rms[:, k], np.nan)
            shift = np.where(n_sizes >= 3, shift, np.nan)
        part = keys.copy()
        part["convention"] = conv.name
        part["description"] = conv.description
        part["n"] = n.astype(np.int64)
        part["n_sizes"] = n_sizes
        part["mean_residual_mm"] = mean_r
        part["rms_residual_mm"] = rms[:, k]
        part["fitted_shift_mm"] = shift
        with np.errstate(invalid="ignore"):
            part["fits"] = np.asarray(rms[:, k] <= tol, dtype=np.bool_)
        frames.append(part)
    # best: lowest RMS, unless a candidate with nothing fitted is within the tie margin
    fixed = np.array([not c.fit_intercept for c in conventions], dtype=np.bool_)
    has_rms = ~np.isnan(rms)
    r = np.where(has_rms, rms, np.inf)
    lowest = r.min(axis=1)
    near = fixed[None, :] & has_rms & (r <= lowest[:, None] + CONVENTION_TIE_MM)
    pick = np.where(near.any(axis=1), np.where(near, r, np.inf).argmin(axis=1), r.argmin(axis=1))
    best = np.zeros((ng, nconv), dtype=np.bool_)
    best[np.arange(ng), pick] = has_rms.any(axis=1)
    for k, part in enumerate(frames):
        part["best"] = best[:, k]
    out = pd.concat(frames, ignore_index=True)
    order = np.argsort(np.tile(np.arange(ng), nconv), kind="stable")  # group, then candidate
    out = out.iloc[order].reset_index(drop=True)
    return out.astype({"convention": "str", "description": "str"}).loc[:, columns]


def best_conventions(conventions: pd.DataFrame) -> pd.DataFrame:
    """The best convention per producer × dimension from :func:`find_conventions`.

    Returns
    -------
    DataFrame
        The rows of ``conventions`` whose ``best`` is True, same columns, fresh index.
    """
    _check_columns(conventions, ("best",), "best_conventions()")
    return conventions[conventions["best"].astype(bool)].reset_index(drop=True)
