"""A seeded simulator of a footwear cluster's measurements, with the truth it planted.

:func:`simulate_cluster` draws the measurements a QA office would collect from a cluster
of producers: on each *visit* (a date) to a producer, some *pairs* of shoes are measured,
both shoes of each pair (left and right), in one or more dimensions. Every measured value
is the table's nominal value at the shoe's size plus a deviation built from planted parts:

.. math::

    \\text{deviation} = o_p + g_p\\,(s - s_c) + \\text{step}_p\\,[t \\ge t_p] + v_{pj}
    + a_{pjk} \\pm m_p / 2 + e_{pjkf}

========================  ===========================================  ================
part                      what it is                                   drawn from
========================  ===========================================  ================
:math:`o_p`               the producer's offset at the centre size     N(mean, between²)
:math:`g_p`               the producer's grading error, mm per size    N(0, grade_sd²)
:math:`\\text{step}_p`     a step from the visit :math:`t_p` on         ``step_mm``
:math:`v_{pj}`            the visit (day) effect: die, last setting    N(0, visit_sd²)
:math:`a_{pjk}`           the pair effect, shared by its two shoes     N(0, pair_sd²)
:math:`m_p`               right minus left (a left/right mismatch)     ``mismatch_mm``
:math:`e_{pjkf}`          the shoe's own noise                         N(0, shoe_sd²)
========================  ===========================================  ================

and the reading is rounded to the measurement resolution (0.5 mm by default, a calliper
read to half a millimetre). Dimensions are drawn independently of each other.

The result, :class:`SimulatedCluster`, holds the long ``measurements`` frame in the
layout :func:`sizecheck.read_measurements` returns (same columns, dtypes and row order),
the ``truth`` it planted per producer × dimension, and writes the wide CSV that
``sizecheck measure`` reads (:meth:`SimulatedCluster.to_csv`, :func:`write_cluster_csv`).
Everything is drawn from the ``rng`` passed in: the same seed gives the same cluster.

>>> import numpy as np
>>> sim = simulate_cluster(rng=np.random.default_rng(1), n_producers=3, visits=2,
...                        pairs_per_visit=2, dimensions=("last_length",))
>>> len(sim.measurements), sim.truth.columns[:3].tolist()
(24, ['producer', 'dimension', 'offset_mm'])
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from sizecheck import columns
from sizecheck.errors import UsageError
from sizecheck.tables import ReferenceTable, load_table

__all__ = [
    "DEFAULT_DIMENSIONS",
    "SimulatedCluster",
    "simulate_cluster",
    "spread_sizes",
    "write_cluster_csv",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The three dimensions a Mojokerto QA office measures most (insole, last, ball girth).
DEFAULT_DIMENSIONS: tuple[str, ...] = ("insole_length", "last_length", "last_ball_girth")

#: The EU sizes of an adult range (36-46), each drawn with equal chance by default.
DEFAULT_SIZES: tuple[float, ...] = tuple(float(s) for s in range(36, 47))

SizePlan = Literal["random", "spread"]


@dataclass(frozen=True)
class SimulatedCluster:
    """A simulated cluster: the measurements and what was planted in them.

    Attributes
    ----------
    measurements : DataFrame
        One row per measured value, in the layout of
        :attr:`sizecheck.validate.Validated.measurements` (``docs/internals.md``):
        ``source, row, sample_id, producer, model, size_label, size, foot, pair, date, lot,
        operator, dimension, value_mm``; ``row`` is the line of :meth:`to_csv`'s file.
    truth : DataFrame
        One row per producer × dimension: ``producer, dimension, offset_mm`` (at
        ``center_size``, before any step), ``grade_error_mm_per_size``, ``step_mm``,
        ``step_date`` (NaT without a step), ``mismatch_mm`` (right minus left),
        ``visits``, ``pairs``.
    settings : mapping
        The arguments of :func:`simulate_cluster` (SDs per dimension as tuples), so a
        study can compare its estimates with the planted values.
    """

    measurements: pd.DataFrame
    truth: pd.DataFrame
    settings: Mapping[str, Any] = field(default_factory=dict)

    def wide(self) -> pd.DataFrame:
        """One row per shoe, one column per dimension: the layout of :meth:`to_csv`.

        Columns ``sample_id, producer, size, foot, pair, date`` (ISO ``yyyy-mm-dd`` text,
        so no reader has to guess the day/month order) and one column per dimension in mm.
        """
        m = self.measurements
        dims = list(self.settings.get("dimensions", ())) or list(
            m["dimension"].cat.categories.astype(str)
        )
        per_shoe = m.drop_duplicates("row")
        wide = pd.DataFrame(
            {
                "sample_id": per_shoe["sample_id"].to_numpy(),
                "producer": per_shoe["producer"].astype(str).to_numpy(),
                "size": per_shoe["size_label"].astype(str).to_numpy(),
                "foot": per_shoe["foot"].astype(str).to_numpy(),
                "pair": per_shoe["pair"].to_numpy(),
                "date": per_shoe["date"].dt.strftime("%Y-%m-%d").to_numpy(),
            },
            index=per_shoe["row"].to_numpy(),
        )
        values = m.pivot(index="row", columns="dimension", values="value_mm")
        for d in dims:
            wide[d] = values[d].reindex(wide.index).to_numpy()
        return wide.reset_index(drop=True)

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`wide` as a CSV that ``sizecheck measure`` reads; return its path.

        Plain English headers, ``,`` separators, ``.`` decimals, one header line, so the
        line of each shoe is its ``row`` in :attr:`measurements`.
        """
        out = Path(path)
        self.wide().to_csv(out, index=False)
        return out


def spread_sizes(sizes: npt.ArrayLike, n: int) -> FloatArray:
    """``n`` sizes spread evenly over ``sizes`` (smallest to largest), as a QA plan does.

    One size gives the middle one; more give both ends and evenly spaced sizes between
    them, a position halfway between two sizes taken outwards, so the plan is symmetric
    about the middle (``sizes`` in ascending order; repeats when ``n`` is larger).

    >>> spread_sizes(range(36, 47), 3).tolist()
    [36.0, 41.0, 46.0]
    >>> spread_sizes(range(36, 47), 5).tolist()
    [36.0, 38.0, 41.0, 44.0, 46.0]
    >>> spread_sizes(range(36, 47), 1).tolist()
    [41.0]
    """
    grid = np.sort(np.asarray(sizes, dtype=float).ravel())
    if n < 1 or not len(grid):
        raise UsageError(f"spread_sizes needs n >= 1 and at least one size, got n={n}.")
    if n == 1:
        return grid[[(len(grid) - 1) // 2]]
    # Positions on the grid, a half rounded outwards: the lower half rounds half down and
    # the upper half mirrors it, so the plan is symmetric about the middle.
    idx = np.ceil(np.linspace(0, len(grid) - 1, n) - 0.5).astype(np.int64)
    upper = np.arange(n // 2)
    idx[n - 1 - upper] = len(grid) - 1 - idx[upper]
    return grid[idx]


def _per_dimension(value: float | Sequence[float], n_dims: int, name: str) -> FloatArray:
    """A number for every dimension, or one per dimension, as a float array of ``n_dims``."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full(n_dims, float(arr))
    if arr.shape != (n_dims,):
        raise UsageError(f"{name}: give one number or one per dimension ({n_dims}).")
    return arr


def _per_producer(
    value: float | npt.ArrayLike | None, n_producers: int, n_dims: int, name: str
) -> FloatArray | None:
    """Planted producer values broadcast to (producers, dimensions); None when not given."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 1 and arr.shape[0] == n_producers:
        arr = arr[:, None]
    try:
        return np.broadcast_to(arr, (n_producers, n_dims)).copy()
    except ValueError:
        raise UsageError(
            f"{name}: give one number, one per producer ({n_producers}) or an array of "
            f"shape ({n_producers}, {n_dims}); got shape {arr.shape}."
        ) from None


def _counts(value: int | npt.ArrayLike, n_producers: int, name: str) -> IntArray:
    arr = np.broadcast_to(np.asarray(value), (n_producers,))
    if not np.all(arr == np.rint(arr)) or np.any(arr < 1):
        raise UsageError(f"{name} must be whole numbers of at least 1, got {value!r}.")
    return arr.astype(np.int64)


def _check_sd(name: str, values: FloatArray) -> None:
    if np.any(~np.isfinite(values)) or np.any(values < 0):
        raise UsageError(f"{name} must be finite and not negative, got {values.tolist()}.")


def _category(values: npt.ArrayLike) -> pd.Categorical[Any]:
    """Text categories in sorted order, only the values used (validate's convention)."""
    text = pd.Series(np.asarray(values, dtype=object), dtype="str")
    cats = pd.Index(sorted(text.dropna().unique()), dtype="str")
    return pd.Categorical(text, categories=cats)


def _empty_category(n: int) -> pd.Categorical[Any]:
    return pd.Categorical([np.nan] * n, categories=pd.Index([], dtype="str"))


class _Producers(NamedTuple):
    """Each producer's planted or drawn effects, producer × dimension."""

    offsets: FloatArray
    grades: FloatArray  # grading errors, mm per size
    mismatch: FloatArray  # right shoe minus left shoe
    stepped: npt.NDArray[np.bool_]  # whether the producer's sizes step on one visit
    offsets_planted: bool
    grades_planted: bool


def _draw_producers(
    rng: np.random.Generator,
    n_producers: int,
    n_dims: int,
    *,
    mean_offset: FloatArray,
    between_sd: FloatArray,
    offsets_mm: npt.ArrayLike | None,
    grade_sd: FloatArray,
    grade_errors_mm_per_size: npt.ArrayLike | None,
    mismatch_mm: float | npt.ArrayLike,
    step_share: float,
) -> _Producers:
    """The producers' offsets ``N(mean_offset, between_sd²)`` and grading errors
    ``N(0, grade_sd²)`` per dimension (unless planted), their mismatch, and which of them
    step (each with chance ``step_share``)."""
    planted_offsets = _per_producer(offsets_mm, n_producers, n_dims, "offsets_mm")
    offsets = (
        mean_offset + between_sd * rng.standard_normal((n_producers, n_dims))
        if planted_offsets is None
        else planted_offsets
    )
    planted_grades = _per_producer(
        grade_errors_mm_per_size, n_producers, n_dims, "grade_errors_mm_per_size"
    )
    grades = (
        grade_sd * rng.standard_normal((n_producers, n_dims))
        if planted_grades is None
        else planted_grades
    )
    mismatch = _per_producer(mismatch_mm, n_producers, n_dims, "mismatch_mm")
    if mismatch is None:
        raise UsageError("mismatch_mm must be a number or an array, not None.")
    stepped = (
        rng.random(n_producers) < step_share if step_share > 0 else np.zeros(n_producers, bool)
    )
    return _Producers(
        offsets, grades, mismatch, stepped, planted_offsets is not None, planted_grades is not None
    )


class _Visits(NamedTuple):
    """The visits of every producer, producer by producer, in date order."""

    producer: IntArray  # the producer of each visit
    date: npt.NDArray[np.datetime64]
    after_step: npt.NDArray[np.bool_]  # on or after its producer's step
    step_date: npt.NDArray[np.datetime64]  # per producer; NaT without a step
    has_step: npt.NDArray[np.bool_]  # per producer
    effect: FloatArray  # visit × dimension: the effect every shoe of the visit shares


class _Pairs(NamedTuple):
    """The pairs of every visit, with their sizes and numbers (1, 2, … per producer)."""

    visit: IntArray
    producer: IntArray
    size: FloatArray
    number: IntArray
    effect: FloatArray  # pair × dimension: the effect both shoes of the pair share


class _Shoes(NamedTuple):
    """The shoes measured: their pair, foot, and own noise."""

    pair: IntArray
    right: npt.NDArray[np.bool_]
    effect: FloatArray  # shoe × dimension


def _spreads(n_dims: int, **sds: float | Sequence[float]) -> dict[str, FloatArray]:
    """The standard deviations named, one per dimension, checked not to be negative."""
    sd = {name: _per_dimension(value, n_dims, name) for name, value in sds.items()}
    for name, values in sd.items():
        _check_sd(name, values)
    return sd


def _check_design(
    ref: ReferenceTable,
    dims: tuple[str, ...],
    *,
    n_producers: int,
    shoes_per_pair: int,
    size_plan: str,
    step_share: float,
    drop_share: float,
    resolution_mm: float,
    sizes: Sequence[float],
) -> FloatArray:
    """Check the design's choices against the table; return the sizes as an array."""
    if n_producers < 1 or not dims:
        raise UsageError("simulate_cluster needs at least one producer and one dimension.")
    for d in dims:
        ref.dimension(d)  # raises naming the table's dimensions
    if shoes_per_pair not in (1, 2):
        raise UsageError(f"shoes_per_pair must be 1 or 2, got {shoes_per_pair!r}.")
    if size_plan not in ("random", "spread"):
        raise UsageError(f"size_plan must be 'random' or 'spread', got {size_plan!r}.")
    for name, share in (("step_share", step_share), ("drop_share", drop_share)):
        if not 0.0 <= share < 1.0:
            raise UsageError(f"{name} must lie in [0, 1), got {share}.")
    if resolution_mm < 0:
        raise UsageError(f"resolution_mm must not be negative, got {resolution_mm}.")
    size_grid = np.asarray(list(sizes), dtype=float)
    if not len(size_grid) or not ref.covers(size_grid).all():
        raise UsageError(f"sizes must be non-empty and inside table {ref.name!r}.")
    return size_grid


def _draw_visits(
    rng: np.random.Generator,
    n_visits: IntArray,
    stepped: npt.NDArray[np.bool_],
    *,
    start: str,
    period_days: int,
    visit_sd: FloatArray,
) -> _Visits:
    """Distinct sorted days per producer in ``[start, start + period_days)``; a stepped
    producer's step starts at one of its visits (never the first); the visit effects
    ``N(0, visit_sd²)`` per dimension."""
    n_producers = len(n_visits)
    first_day = np.datetime64(start, "D")
    visit_producer = np.repeat(np.arange(n_producers), n_visits)
    visit_day = np.concatenate(
        [np.sort(rng.choice(period_days, size=k, replace=False)) for k in n_visits]
    )
    visit_date = first_day + visit_day.astype("timedelta64[D]")
    starts = np.concatenate([[0], np.cumsum(n_visits)[:-1]])
    visit_index = np.arange(len(visit_day)) - np.repeat(starts, n_visits)
    step_visit = np.where(
        stepped & (n_visits > 1), rng.integers(1, np.maximum(n_visits, 2)), n_visits
    )
    step_date = np.full(n_producers, np.datetime64("NaT"), dtype="datetime64[D]")
    has_step = step_visit < n_visits
    step_date[has_step] = visit_date[starts[has_step] + step_visit[has_step]]
    after_step = visit_index >= step_visit[visit_producer]
    visit_effect = visit_sd * rng.standard_normal((len(visit_day), len(visit_sd)))
    return _Visits(visit_producer, visit_date, after_step, step_date, has_step, visit_effect)


def _draw_pairs(
    rng: np.random.Generator,
    visit_producer: IntArray,
    n_pairs: IntArray,
    *,
    size_plan: SizePlan,
    size_grid: FloatArray,
    pair_sd: FloatArray,
) -> _Pairs:
    """The pairs of each visit: their sizes (drawn, or spread over the grid), their
    numbers per producer, and the pair effects ``N(0, pair_sd²)`` per dimension."""
    n_producers = len(n_pairs)
    pairs_in_visit = n_pairs[visit_producer]
    pair_visit = np.repeat(np.arange(len(visit_producer)), pairs_in_visit)
    pair_producer = visit_producer[pair_visit]
    if size_plan == "spread":
        pair_size = np.concatenate([spread_sizes(size_grid, int(m)) for m in pairs_in_visit])
    else:
        pair_size = rng.choice(size_grid, size=len(pair_visit))
    pair_first = np.concatenate([[0], np.cumsum(np.bincount(pair_producer, minlength=n_producers))])
    pair_number = np.arange(len(pair_visit)) - pair_first[pair_producer] + 1
    pair_effect = pair_sd * rng.standard_normal((len(pair_visit), len(pair_sd)))
    return _Pairs(pair_visit, pair_producer, pair_size, pair_number, pair_effect)


def _draw_shoes(
    rng: np.random.Generator,
    n_pairs: int,
    *,
    shoes_per_pair: int,
    drop_share: float,
    shoe_sd: FloatArray,
) -> _Shoes:
    """Left then right shoe of each pair (or one foot at random), some dropped at random
    (``drop_share``), each with its own noise ``N(0, shoe_sd²)`` per dimension."""
    shoe_pair = np.repeat(np.arange(n_pairs), shoes_per_pair)
    if shoes_per_pair == 2:
        right = np.tile(np.array([False, True]), n_pairs)
    else:
        right = rng.random(n_pairs) < 0.5
    keep = rng.random(len(shoe_pair)) >= drop_share if drop_share > 0 else None
    shoe_effect = shoe_sd * rng.standard_normal((len(shoe_pair), len(shoe_sd)))
    if keep is not None:
        shoe_pair, right, shoe_effect = shoe_pair[keep], right[keep], shoe_effect[keep]
    return _Shoes(shoe_pair, right, shoe_effect)


def simulate_cluster(
    *,
    rng: np.random.Generator,
    n_producers: int = 120,
    visits: int | npt.ArrayLike = 5,
    pairs_per_visit: int | npt.ArrayLike = 6,
    shoes_per_pair: Literal[1, 2] = 2,
    sizes: Sequence[float] = DEFAULT_SIZES,
    size_plan: SizePlan = "random",
    center_size: float = 41.0,
    dimensions: Sequence[str] = DEFAULT_DIMENSIONS,
    table: ReferenceTable | str = "paris-point",
    mean_offset_mm: float | Sequence[float] = 0.0,
    between_sd_mm: float | Sequence[float] = 1.5,
    offsets_mm: npt.ArrayLike | None = None,
    grade_sd_mm_per_size: float | Sequence[float] = 0.2,
    grade_errors_mm_per_size: npt.ArrayLike | None = None,
    visit_sd_mm: float | Sequence[float] = 0.8,
    pair_sd_mm: float | Sequence[float] = 0.5,
    shoe_sd_mm: float | Sequence[float] = 0.6,
    resolution_mm: float = 0.5,
    step_share: float = 0.0,
    step_mm: float | Sequence[float] = 0.0,
    mismatch_mm: float | npt.ArrayLike = 0.0,
    drop_share: float = 0.0,
    start: str = "2026-01-05",
    period_days: int = 180,
    source: str = "simulated-cluster.csv",
) -> SimulatedCluster:
    """Draw a cluster's measurements with planted producer, visit, pair and shoe effects.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness (``np.random.default_rng(seed)``).
    n_producers : int, default 120
        Producers in the cluster (Desa Medali has about 120), named ``Produsen 001`` ….
    visits : int or array of int, default 5
        Visits (distinct dates) per producer; one number or one per producer.
    pairs_per_visit : int or array of int, default 6
        Pairs measured on each visit; one number or one per producer.
    shoes_per_pair : {2, 1}, default 2
        2: the left and the right shoe of every pair; 1: one shoe, left or right at random.
    sizes : sequence of float, default EU 36-46
        The sizes a producer makes, in the table's size system.
    size_plan : {"random", "spread"}, default "random"
        ``random``: each pair's size drawn from ``sizes`` with equal chance; ``spread``:
        the pairs of every visit spread evenly over ``sizes`` (:func:`spread_sizes`).
    center_size : float, default 41
        The size at which ``offsets_mm`` are planted and about which the grading errors
        turn (a producer with a grading error alone is right at this size).
    dimensions : sequence of str, default insole_length, last_length, last_ball_girth
        Dimensions measured on every shoe (names of the table's dimensions).
    table : ReferenceTable or str, default "paris-point"
        The nominal values the deviations are added to.
    mean_offset_mm : float or one per dimension, default 0
        Mean of the producer offsets (the cluster's common offset), mm.
    between_sd_mm : float or one per dimension, default 1.5
        SD of the producer offsets between producers, mm.
    offsets_mm : array, optional
        Planted offsets instead of drawn ones (mm): one number, one per producer, or one
        per producer and dimension. ``mean_offset_mm`` and ``between_sd_mm`` are then
        not used.
    grade_sd_mm_per_size : float or one per dimension, default 0.2
        SD between producers of the grading error, mm per size.
    grade_errors_mm_per_size : array, optional
        Planted grading errors instead of drawn ones (mm per size), shaped as
        ``offsets_mm``. A 5 mm-per-size last against Paris point is ``5 - 20/3 = -1.67``.
    visit_sd_mm : float or one per dimension, default 0.8
        SD of the visit (day) effect shared by every shoe of one visit, mm.
    pair_sd_mm : float or one per dimension, default 0.5
        SD of the pair effect shared by the two shoes of a pair, mm.
    shoe_sd_mm : float or one per dimension, default 0.6
        SD of each shoe's own noise (cutting, lasting and measuring), mm.
    resolution_mm : float, default 0.5
        Readings are rounded to a multiple of this (0: not rounded), mm.
    step_share : float, default 0
        Share of producers (chosen at random) whose sizes step by ``step_mm`` from one
        of their visits on (never the first), kept in ``truth.step_date``.
    step_mm : float or one per dimension, default 0
        Size of that step, mm.
    mismatch_mm : float or array, default 0
        Right shoe minus left shoe of every pair, mm (the right shoe gets half of it, the
        left shoe minus half); one number, one per producer, or per producer and dimension.
    drop_share : float, default 0
        Share of shoes left unmeasured at random (incomplete pairs, unbalanced data).
    start : str, default "2026-01-05"
        First possible visit date (ISO).
    period_days : int, default 180
        Visits fall on distinct days in ``[start, start + period_days)``.
    source : str, default "simulated-cluster.csv"
        The ``source`` of every row (the file name :meth:`SimulatedCluster.to_csv` should
        be given for the frame to equal what ``read_measurements`` reads).

    Returns
    -------
    SimulatedCluster

    Raises
    ------
    UsageError
        A parameter is out of range or shaped wrongly (the message names it).
    """
    ref = load_table(table) if isinstance(table, str) else table
    dims = tuple(dimensions)
    n_dims = len(dims)
    size_grid = _check_design(
        ref, dims, n_producers=n_producers, shoes_per_pair=shoes_per_pair,
        size_plan=size_plan, step_share=step_share, drop_share=drop_share,
        resolution_mm=resolution_mm, sizes=sizes,
    )  # fmt: skip
    n_visits = _counts(visits, n_producers, "visits")
    n_pairs = _counts(pairs_per_visit, n_producers, "pairs_per_visit")
    if n_visits.max() > period_days:
        raise UsageError(f"{n_visits.max()} visits do not fit on distinct days in {period_days}.")
    sd = _spreads(
        n_dims, between_sd_mm=between_sd_mm, grade_sd_mm_per_size=grade_sd_mm_per_size,
        visit_sd_mm=visit_sd_mm, pair_sd_mm=pair_sd_mm, shoe_sd_mm=shoe_sd_mm,
    )  # fmt: skip
    mean_offset = _per_dimension(mean_offset_mm, n_dims, "mean_offset_mm")
    step_size = _per_dimension(step_mm, n_dims, "step_mm")

    producers = _draw_producers(
        rng, n_producers, n_dims, mean_offset=mean_offset, between_sd=sd["between_sd_mm"],
        offsets_mm=offsets_mm, grade_sd=sd["grade_sd_mm_per_size"],
        grade_errors_mm_per_size=grade_errors_mm_per_size, mismatch_mm=mismatch_mm,
        step_share=step_share,
    )  # fmt: skip
    drawn_visits = _draw_visits(
        rng, n_visits, producers.stepped, start=start, period_days=period_days,
        visit_sd=sd["visit_sd_mm"],
    )  # fmt: skip
    pairs = _draw_pairs(
        rng, drawn_visits.producer, n_pairs, size_plan=size_plan, size_grid=size_grid,
        pair_sd=sd["pair_sd_mm"],
    )  # fmt: skip
    shoes = _draw_shoes(
        rng, len(pairs.visit), shoes_per_pair=shoes_per_pair, drop_share=drop_share,
        shoe_sd=sd["shoe_sd_mm"],
    )  # fmt: skip
    shoe_visit = pairs.visit[shoes.pair]
    shoe_producer = pairs.producer[shoes.pair]
    shoe_size = pairs.size[shoes.pair]
    value = _shoe_values(
        ref, dims, producers, drawn_visits, pairs, shoes, step_size=step_size,
        center_size=center_size, resolution_mm=resolution_mm,
    )  # fmt: skip

    names = np.array([f"Produsen {i + 1:03d}" for i in range(n_producers)], dtype=object)
    measurements = _long_frame(
        source=source,
        producer=names[shoe_producer],
        size=shoe_size,
        right=shoes.right,
        pair=pairs.number[shoes.pair],
        date=drawn_visits.date[shoe_visit],
        dims=dims,
        value=value,
    )
    truth = _truth_frame(names, dims, producers, drawn_visits, step_size, n_visits, pairs.producer)
    settings: dict[str, Any] = {
        "n_producers": n_producers,
        "visits": n_visits.tolist(),
        "pairs_per_visit": n_pairs.tolist(),
        "shoes_per_pair": shoes_per_pair,
        "sizes": tuple(size_grid.tolist()),
        "size_plan": size_plan,
        "center_size": center_size,
        "dimensions": dims,
        "table": ref.name,
        "mean_offset_mm": tuple(mean_offset.tolist()),
        **{name: tuple(values.tolist()) for name, values in sd.items()},
        "offsets_planted": producers.offsets_planted,
        "grade_errors_planted": producers.grades_planted,
        "resolution_mm": resolution_mm,
        "step_share": step_share,
        "step_mm": tuple(step_size.tolist()),
        "drop_share": drop_share,
        "start": start,
        "period_days": period_days,
    }
    return SimulatedCluster(measurements=measurements, truth=truth, settings=settings)


def _shoe_values(
    ref: ReferenceTable,
    dims: tuple[str, ...],
    producers: _Producers,
    drawn_visits: _Visits,
    pairs: _Pairs,
    shoes: _Shoes,
    *,
    step_size: FloatArray,
    center_size: float,
    resolution_mm: float,
) -> FloatArray:
    """Each shoe's reading per dimension, the model the analysis is to recover:

    ``value = nominal(size) + offset_p + grade_p·(size − center_size) + step·[after step]
    + visit + pair ± mismatch_p/2 + shoe``, rounded to ``resolution_mm``
    (the right shoe gets +mismatch/2, the left −mismatch/2).
    """
    shoe_visit = pairs.visit[shoes.pair]
    shoe_producer = pairs.producer[shoes.pair]
    shoe_size = pairs.size[shoes.pair]
    deviation = (
        producers.offsets[shoe_producer]
        + producers.grades[shoe_producer] * (shoe_size - center_size)[:, None]
        + np.where(drawn_visits.after_step[shoe_visit], 1.0, 0.0)[:, None] * step_size
        + drawn_visits.effect[shoe_visit]
        + pairs.effect[shoes.pair]
        + np.where(shoes.right, 0.5, -0.5)[:, None] * producers.mismatch[shoe_producer]
        + shoes.effect
    )
    nominal = np.column_stack([ref.nominal(d, shoe_size) for d in dims])
    value: FloatArray = nominal + deviation
    if resolution_mm > 0:
        value = np.round(value / resolution_mm) * resolution_mm
    return value


def _truth_frame(
    names: npt.NDArray[Any],
    dims: tuple[str, ...],
    producers: _Producers,
    drawn_visits: _Visits,
    step_size: FloatArray,
    n_visits: IntArray,
    pair_producer: IntArray,
) -> pd.DataFrame:
    """What was planted, one row per producer and dimension (``SimulatedCluster.truth``)."""
    n_producers, n_dims = len(names), len(dims)
    return pd.DataFrame(
        {
            "producer": np.repeat(names, n_dims).astype(str),
            "dimension": np.tile(np.array(dims, dtype=object), n_producers).astype(str),
            "offset_mm": producers.offsets.ravel(),
            "grade_error_mm_per_size": producers.grades.ravel(),
            "step_mm": (np.where(drawn_visits.has_step, 1.0, 0.0)[:, None] * step_size).ravel(),
            "step_date": np.repeat(drawn_visits.step_date.astype("datetime64[ns]"), n_dims),
            "mismatch_mm": producers.mismatch.ravel(),
            "visits": np.repeat(n_visits, n_dims),
            "pairs": np.repeat(np.bincount(pair_producer, minlength=n_producers), n_dims),
        }
    )


def _long_frame(
    *,
    source: str,
    producer: npt.NDArray[Any],
    size: FloatArray,
    right: npt.NDArray[np.bool_],
    pair: IntArray,
    date: npt.NDArray[np.datetime64],
    dims: tuple[str, ...],
    value: FloatArray,
) -> pd.DataFrame:
    """The long measurements frame: one row per shoe and dimension, shoe by shoe."""
    n_shoes, n_dims = value.shape
    shoe = np.repeat(np.arange(n_shoes), n_dims)
    labels = np.array([f"{s:g}" for s in size], dtype=object)
    frame = pd.DataFrame(
        {
            "source": pd.Categorical([source] * (n_shoes * n_dims)),
            "row": (shoe + 2).astype(np.int64),  # CSV line: the header is line 1
            "sample_id": pd.array((shoe + 1).astype(str), dtype="str"),
            "producer": _category(producer[shoe]),
            "model": _empty_category(n_shoes * n_dims),
            "size_label": _category(labels[shoe]),
            "size": size[shoe],
            "foot": _category(np.where(right, "R", "L")[shoe]),
            "pair": pd.array(
                np.char.add("P", np.char.zfill(pair.astype(str), 4))[shoe], dtype="str"
            ),
            "date": date[shoe].astype("datetime64[ns]"),
            "lot": _empty_category(n_shoes * n_dims),
            "operator": _empty_category(n_shoes * n_dims),
            "dimension": _category(np.tile(np.array(dims, dtype=object), n_shoes)),
            "value_mm": value.ravel(),
        }
    )
    frame["source"] = frame["source"].cat.set_categories(pd.Index([source], dtype="str"))
    return frame[list(columns.MEASUREMENTS)]


def write_cluster_csv(
    path: str | os.PathLike[str],
    *,
    rng: np.random.Generator,
    n_producers: int = 120,
    visits: int = 5,
    pairs_per_visit: int = 6,
    **kwargs: Any,
) -> SimulatedCluster:
    """Simulate a cluster and write it as a CSV ``sizecheck measure`` reads.

    The defaults are the cluster of benchmark (e) (issue 14): 120 producers × 5 visits ×
    6 pairs (30 pairs, 60 shoes each; 7,200 shoes) × 3 dimensions, with dates.

    Parameters
    ----------
    path : path
        The CSV to write (its parent folder must exist).
    rng : numpy.random.Generator
    n_producers, visits, pairs_per_visit, **kwargs
        As in :func:`simulate_cluster`.

    Returns
    -------
    SimulatedCluster
        What was written, with its truth; ``measurements.source`` is the file's name.
    """
    out = Path(path)
    sim = simulate_cluster(
        rng=rng,
        n_producers=n_producers,
        visits=visits,
        pairs_per_visit=pairs_per_visit,
        source=out.name,
        **kwargs,
    )
    sim.to_csv(out)
    return sim
