"""A cluster size table proposed from the producers' own data (``sizecheck propose``).

No SNI defines shoe sizes (``domain.md``), and a cluster such as Desa Medali has no
common table. What it can discuss is a *proposal*: "if we all agreed on this table, this
is what each of us would have to change". :func:`propose_table` builds one from an
:class:`~sizecheck.pipeline.Analysis`; :func:`build_proposal` runs the whole command
(analyse against the current table, propose, analyse again against the proposal, and
set the two side by side in :func:`proposal_impact`).

Method
------
Per dimension, and per producer chosen (``select``):

1. **The producer's line** (:func:`producer_line`): its level at the base size and its
   step per size, by least squares on its own measurements (all of them, in mm, so the
   current table plays no part in the line).
2. **The proposal**: the *median* of the chosen producers' levels, and (``step="fit"``)
   the median of their steps; with ``step="paris"`` the length step stays the Paris
   point's 20/3 mm per size, the definition of an EU size, and only girths and widths
   (which no size system defines) get the median of the producers' steps. Each producer
   counts once, however many shoes it measured. The median of the levels is the level
   that minimises the total change the producers would make, ``Σ |level_p − L|`` (each
   producer's correction at the base size); it is not moved by a producer whose sizes
   sit a whole size off, as a mean would be.
3. **Confidence intervals** (:func:`median_interval`): the distribution-free interval of
   a median by order statistics (Conover 1999, §3.2), exact for independent producers
   from any continuous distribution, with the coverage it achieves stated. With 5
   producers or fewer no pair of order statistics reaches 95 %: the interval is then the
   smallest to largest value with its true coverage (94 % at 5, 88 % at 4, 75 % at 3),
   never called 95 %. A bootstrap over producers was not used: with the 5-20 producers
   a proposal is made from, the percentile bootstrap interval of a median falls short
   (it covered 92-94 % instead of 95 % for 6 to 20 producers from a normal spread, 2000
   simulated clusters each, measured when this was written), and it needs random draws
   where this interval needs none.
4. **Leave one producer out** (:func:`leave_one_out`): the proposal recomputed without
   each chosen producer in turn, so that the most any single producer moves the table
   is shown beside the impact, and a dominant producer cannot set the standard silently.

A dimension is proposed only from at least :data:`MIN_PRODUCERS` producers (the median
of two is their mean: one producer would set half of the table); with fewer it is left
out of the proposal, with the reason, and ``--from all`` or named producers are the way
to propose it. A one-sided limit (a safety minimum such as the toecap length of
``sni-8877-safety``) is a requirement, not a habit of the cluster, and is never proposed.

The table is an ordinary reference table (``status = "proposal"``): levels rounded to
0.1 mm, fitted steps to 0.01 mm per size, the tolerances carried from a chosen table or
set, and its provenance (producers, measurements, dates, method, intervals, tool
version) in a ``[provenance]`` section of the TOML, which ``load_table`` passes over.

>>> level, step = producer_line([40, 41, 42], [266.9, 273.5, 280.3], base_size=42)
>>> round(level, 3), round(step, 3)
(280.267, 6.7)
>>> median_interval([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]).low
2.0
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from sizecheck.columns import PROPOSAL_IMPACT
from sizecheck.errors import UsageError
from sizecheck.schema import DIMENSIONS
from sizecheck.sizes import SIZE_STEP_MM, SizeSystem
from sizecheck.tables import (
    DEFAULT_TOLERANCES,
    ReferenceTable,
    Tolerance,
    dumps_table,
    grade,
    load_table,
    parse_table,
)

if TYPE_CHECKING:
    from sizecheck.pipeline import Analysis

__all__ = [
    "IMPACT_EXTRA",
    "MIN_PRODUCERS",
    "REASON_KEYS",
    "SKIP_KEYS",
    "TOML_MARK",
    "MedianInterval",
    "Proposal",
    "TableProposal",
    "build_proposal",
    "conformity",
    "leave_one_out",
    "mean_corrections",
    "median_interval",
    "parse_tolerance",
    "producer_line",
    "proposal_impact",
    "propose_table",
]

FloatArray = npt.NDArray[np.float64]
StepRule = Literal["paris", "fit"]

#: The first line of every TOML that ``sizecheck propose`` writes: an existing file is
#: replaced only when it starts so (a table written by hand is never overwritten).
TOML_MARK = "# Written by sizecheck propose"

#: A dimension is proposed from at least this many producers.
MIN_PRODUCERS = 3

#: Proposed levels are rounded to this (mm): a caliper reads to 0.1 mm.
LEVEL_RESOLUTION_MM = 0.1
#: Fitted steps are rounded to this (mm per size).
STEP_RESOLUTION_MM = 0.01

#: Why a producer's line did not inform a dimension's proposal (catalogue keys).
REASON_KEYS: Mapping[str, str] = {
    "not_named": "propose.reason.not_named",
    "insufficient_data": "propose.reason.insufficient_data",
    "few_sizes": "propose.reason.few_sizes",
    "not_conforming": "propose.reason.not_conforming",
}

#: Why a dimension was left out of the proposal (catalogue keys).
SKIP_KEYS: Mapping[str, str] = {
    "few_producers": "propose.skip.few_producers",
    "one_sided": "propose.skip.one_sided",
}

#: Columns of ``proposal_impact.csv`` after the contract's :data:`PROPOSAL_IMPACT`:
#: whether the producer informed the proposal, its own least-squares line (level at the
#: base size, step per size), and how far the proposal moves (at most, over its sizes)
#: when this producer is left out.
IMPACT_EXTRA: tuple[str, ...] = (
    "in_proposal",
    "producer_level_mm",
    "producer_step_mm",
    "loo_shift_mm",
)


# --------------------------------------------------------------------------- reference functions


def producer_line(
    sizes: npt.ArrayLike, values: npt.ArrayLike, *, base_size: float, step: float | None = None
) -> tuple[float, float]:
    """One producer's sizing line: its level at ``base_size`` and its step per size (mm).

    Free step (``step=None``): ordinary least squares of value on size,

    .. math::

        b = \\frac{\\sum_i (s_i - \\bar s)(v_i - \\bar v)}{\\sum_i (s_i - \\bar s)^2},
        \\qquad a = \\bar v + b\\,(\\text{base} - \\bar s).

    Fixed step ``b`` (the Paris point's 20/3 mm per size): the least-squares level with
    the slope known is the mean of the values carried along the step to the base size,
    :math:`a = \\overline{v_i - b\\,(s_i - \\text{base})}`.

    Source: Draper & Smith (1998), *Applied Regression Analysis*, 3rd ed., §1.2 (the
    least-squares line) and §1.7 (a line with its slope given).

    Parameters
    ----------
    sizes, values : array_like
        The producer's shoes: size (in the table's system) and measured value (mm).
    base_size : float
        The size at which the level is given.
    step : float, optional
        A fixed step in mm per size; ``None`` fits it.

    Returns
    -------
    (level_mm, step_mm) : tuple of float
        NaN when there is no value, or (free step) fewer than two distinct sizes.
    """
    s = np.asarray(sizes, dtype=float)
    v = np.asarray(values, dtype=float)
    if not len(v):
        return math.nan, math.nan
    if step is not None:
        return float(np.mean(v - step * (s - base_size))), float(step)
    ds = s - s.mean()
    sxx = float(np.sum(ds * ds))
    if sxx <= 0.0:
        return math.nan, math.nan
    b = float(np.sum(ds * (v - v.mean())) / sxx)
    return float(v.mean() + b * (base_size - s.mean())), b


class MedianInterval(NamedTuple):
    """A median with its distribution-free confidence interval and the coverage reached."""

    median: float
    low: float
    high: float
    coverage: float
    n: int


def median_interval(values: npt.ArrayLike, *, confidence: float = 0.95) -> MedianInterval:
    """The median of ``values`` and its distribution-free interval by order statistics.

    With the values sorted, :math:`x_{(1)} \\le \\dots \\le x_{(n)}`, and
    :math:`B \\sim \\text{Binomial}(n, 1/2)`,

    .. math::

        P\\big(x_{(k)} \\le M \\le x_{(n-k+1)}\\big) = 1 - 2\\,P(B \\le k - 1)

    for the median :math:`M` of any continuous distribution; ``k`` is the largest for which
    this coverage is at least ``confidence``. When even ``k = 1`` falls short (at 95 %:
    five values or fewer) the interval is :math:`[x_{(1)}, x_{(n)}]` and ``coverage`` says
    what it really covers, :math:`1 - 2^{1-n}`.

    Source: Conover (1999), *Practical Nonparametric Statistics*, 3rd ed., §3.2
    (confidence interval for a quantile); the same interval as
    ``scipy.stats.quantile_test(...).confidence_interval()``, which gives NaN instead
    where 95 % cannot be reached.

    Parameters
    ----------
    values : array_like
        One value per independent unit (here: per producer); NaN values are dropped.
    confidence : float, default 0.95

    Returns
    -------
    MedianInterval
        ``median, low, high, coverage, n``; all NaN (``n = 0``) without a value.

    Examples
    --------
    >>> median_interval([3.0, 1.0, 2.0])
    MedianInterval(median=2.0, low=1.0, high=3.0, coverage=0.75, n=3)
    """
    x = np.sort(np.asarray(values, dtype=float).ravel())
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return MedianInterval(math.nan, math.nan, math.nan, math.nan, 0)
    k = 1
    for candidate in range(1, n // 2 + 1):
        if 1.0 - 2.0 * float(stats.binom.cdf(candidate - 1, n, 0.5)) >= confidence:
            k = candidate
    coverage = 1.0 - 2.0 * float(stats.binom.cdf(k - 1, n, 0.5))
    if n == 1:
        coverage = 0.0
    return MedianInterval(float(np.median(x)), float(x[k - 1]), float(x[n - k]), coverage, n)


def leave_one_out(values: npt.ArrayLike) -> FloatArray:
    """The median of ``values`` without each value in turn (jackknife medians).

    ``out[i]`` is the median of every value but the ``i``-th: how the proposal would
    read had producer ``i`` not been measured (Quenouille 1956; Efron & Tibshirani 1993,
    ch. 11, the jackknife).

    >>> leave_one_out([1.0, 2.0, 3.0, 10.0]).tolist()
    [3.0, 3.0, 2.0, 2.0]
    """
    x = np.asarray(values, dtype=float).ravel()
    return np.array([float(np.median(np.delete(x, i))) for i in range(len(x))], dtype=float)


def parse_tolerance(text: str) -> tuple[str, Tolerance]:
    """A tolerance set on the command line: ``DIMENSION=IN_SPEC[/MISSIZED]`` (mm, ±).

    Without ``/MISSIZED`` the mis-sized band equals the in-spec band (as in a table file).

    >>> name, tol = parse_tolerance("last_length=1.5/3.33")
    >>> name, tol.describe()
    ('last_length', '±1.5 mm (mis-sized beyond ±3.33)')
    """
    name, sep, rest = str(text).partition("=")
    name = name.strip()
    if not sep or name not in DIMENSIONS:
        raise UsageError(
            f"--tolerance {text!r}: expected DIMENSION=IN_SPEC[/MISSIZED] in mm, e.g. "
            "last_length=1.5/3.33, with a dimension among " + ", ".join(DIMENSIONS) + "."
        )
    parts = rest.replace(",", ".").split("/")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (1, 2) or not all(math.isfinite(v) and v > 0 for v in numbers):
        raise UsageError(
            f"--tolerance {text!r}: give one or two positive numbers in mm, e.g. {name}=1.5/3.33."
        )
    in_spec, missized = numbers[0], numbers[-1]
    if missized < in_spec:
        raise UsageError(
            f"--tolerance {text!r}: the mis-sized band ±{missized:g} lies inside the in-spec "
            f"band ±{in_spec:g}."
        )
    return name, Tolerance("symmetric", in_spec, in_spec, missized, missized)


# --------------------------------------------------------------------------- the proposal


@dataclass(frozen=True)
class TableProposal:
    """A proposed cluster table, how it was estimated, and how stable it is.

    Attributes
    ----------
    table : ReferenceTable
        The proposal (``status = "proposal"``), parsed back from :attr:`toml`, so it equals
        what ``load_table`` reads from the written file.
    toml : str
        The TOML text: the table, then its ``[provenance]``.
    estimates : DataFrame
        One row per proposed dimension: ``dimension, n_producers, n, first_date,
        last_date, base_size, level_mm, level_ci_low_mm, level_ci_high_mm,
        level_ci_coverage, step_mm, step_ci_low_mm, step_ci_high_mm, step_ci_coverage,
        step_rule`` (``fixed`` or ``median``), ``base_value_mm`` and ``step_value_mm``
        (as written, rounded), ``loo_max_shift_mm``, ``loo_producer`` (who moves it most),
        ``tolerance`` (as text), ``tolerance_from``, ``producers`` (``; ``-joined).
        The unrounded estimates and their intervals; the step's interval is NaN when
        the step is fixed.
    lines : DataFrame
        One row per producer × dimension measured: ``producer, dimension, n, n_sizes,
        size_min, size_max, base_size, first_date, last_date, level_mm, step_mm`` (the
        producer's line as it enters the proposal: at ``base_size``, with the step fixed
        where the proposal's step is), ``own_level_mm, own_step_mm`` (its own
        least-squares line, NaN with fewer than two sizes), ``verdict_current, chosen,
        reason`` (a :data:`REASON_KEYS` key, empty when chosen).
    stability : DataFrame
        One row per proposed dimension × chosen producer left out: ``dimension,
        producer, level_mm, step_mm, level_shift_mm, max_shift_mm`` (the largest change
        over the table's sizes).
    sizes : DataFrame
        One row per proposed dimension × size of the table: ``dimension, size,
        proposal_mm, loo_low_mm, loo_high_mm, paris_mm, diff_paris_mm,
        diff_paris_sizes, current_mm, diff_current_mm`` (``paris_*`` NaN where the
        Paris-point table has no such dimension or size; ``loo_low_mm, loo_high_mm``: the
        written proposal moved by the least and the most that leaving one producer out
        moves it, so the range always holds the proposal).
    skipped : DataFrame
        One row per dimension not proposed: ``dimension, reason`` (a :data:`SKIP_KEYS`
        key), ``n_chosen, producers``.
    provenance : mapping
        The ``[provenance]`` section of the TOML.
    """

    table: ReferenceTable
    toml: str
    estimates: pd.DataFrame
    lines: pd.DataFrame
    stability: pd.DataFrame
    sizes: pd.DataFrame
    skipped: pd.DataFrame
    provenance: Mapping[str, Any] = field(default_factory=dict)


def _text(series: pd.Series) -> pd.Series:
    return series.astype("str")


def _pooled(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows pooled over models (``model`` empty), when the frame has a model column."""
    if "model" not in frame.columns:
        return frame
    model = frame["model"]
    pooled = model.isna() | (model.astype("str").str.strip() == "")
    return frame.loc[pooled] if bool(pooled.any()) else frame


def _verdicts(analysis: Analysis) -> dict[tuple[str, str], str]:
    ps = _pooled(analysis.producer_summary)
    return {
        (str(p), str(d)): str(v)
        for p, d, v in zip(ps["producer"], ps["dimension"], ps["verdict"], strict=True)
    }


def _date_text(value: object) -> str:
    ts = pd.Timestamp(value) if value is not None else pd.NaT  # type: ignore[arg-type]
    return "" if pd.isna(ts) else ts.date().isoformat()


def _fixed_step(dimension: str, rule: StepRule) -> float | None:
    """The step kept fixed: the Paris point's for a length under ``paris``, else none."""
    if rule == "paris" and DIMENSIONS[dimension].kind == "length":
        return SIZE_STEP_MM[SizeSystem.EU]
    return None


def _lines(
    analysis: Analysis,
    *,
    base_size: float,
    rule: StepRule,
    select: str | Sequence[str],
) -> pd.DataFrame:
    """Every producer × dimension's own line, and whether it informs the proposal."""
    m = analysis.measurements
    frame = pd.DataFrame(
        {
            "producer": _text(m["producer"]).to_numpy(),
            "dimension": _text(m["dimension"]).to_numpy(),
            "size": m["size"].to_numpy(float),
            "value_mm": m["value_mm"].to_numpy(float),
            "date": pd.to_datetime(m["date"]).to_numpy(),
        }
    )
    frame = frame.loc[np.isfinite(frame["value_mm"]) & np.isfinite(frame["size"])]
    verdicts = _verdicts(analysis)
    th = analysis.thresholds
    named = None if isinstance(select, str) else {str(p) for p in select}
    rows = []
    groups = frame.groupby(["producer", "dimension"]).indices
    for (producer, dimension), idx in sorted(groups.items()):
        g = frame.iloc[idx]
        sizes, values = g["size"].to_numpy(float), g["value_mm"].to_numpy(float)
        fixed = _fixed_step(dimension, rule)
        n_sizes = len(np.unique(sizes))
        own_level, own_step = producer_line(sizes, values, base_size=base_size)
        if fixed is None:
            level, slope = own_level, own_step
        else:
            level, slope = producer_line(sizes, values, base_size=base_size, step=fixed)
        verdict = verdicts.get((producer, dimension), "")
        if named is not None and producer not in named:
            reason = "not_named"
        elif len(values) < th.min_n:
            reason = "insufficient_data"
        elif fixed is None and n_sizes < th.min_sizes_for_grading:
            reason = "few_sizes"
        elif select == "conforming" and verdict != "conforming":
            reason = "not_conforming"
        else:
            reason = ""
        rows.append(
            {
                "producer": producer,
                "dimension": dimension,
                "n": len(values),
                "n_sizes": n_sizes,
                "size_min": float(sizes.min()),
                "size_max": float(sizes.max()),
                "base_size": base_size,
                "first_date": g["date"].min(),
                "last_date": g["date"].max(),
                "level_mm": level,
                "step_mm": slope,
                "own_level_mm": own_level,
                "own_step_mm": own_step,
                "verdict_current": verdict,
                "chosen": reason == "",
                "reason": reason,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "producer", "dimension", "n", "n_sizes", "size_min", "size_max", "base_size",
            "first_date", "last_date", "level_mm", "step_mm", "own_level_mm", "own_step_mm",
            "verdict_current", "chosen", "reason",
        ],
    )  # fmt: skip


def _tolerance_for(
    dimension: str,
    tolerances: Mapping[str, Tolerance],
    source: ReferenceTable,
) -> tuple[Tolerance, str]:
    """The tolerance carried into the proposal and where it comes from."""
    if dimension in tolerances:
        return tolerances[dimension], "set"
    dim = source.dimensions.get(dimension)
    if dim is not None and dim.tolerance is not None:
        return dim.tolerance, f"table {source.name}"
    return DEFAULT_TOLERANCES[DIMENSIONS[dimension].kind], "default"


def _grid(current: ReferenceTable, sizes: FloatArray, base_size: float) -> list[float]:
    """The current table's sizes that span every measured size and the base size."""
    grid = np.asarray(current.sizes, dtype=float)
    lo = float(min(np.min(sizes), base_size))
    hi = float(max(np.max(sizes), base_size))
    below, above = grid[grid <= lo + 1e-9], grid[grid >= hi - 1e-9]
    start = float(below.max()) if len(below) else lo
    stop = float(above.min()) if len(above) else hi
    return [float(s) for s in grid if start - 1e-9 <= s <= stop + 1e-9]


def _check_select(select: str | Sequence[str], producers: Sequence[str]) -> str | tuple[str, ...]:
    if isinstance(select, str):
        if select not in ("conforming", "all"):
            raise UsageError(
                f"--from {select!r}: expected 'conforming', 'all' or producer names "
                f"({', '.join(producers[:6])}{' …' if len(producers) > 6 else ''})."
            )
        return select
    names = tuple(dict.fromkeys(str(p).strip() for p in select))
    if not names:
        raise UsageError("--from: give 'conforming', 'all' or at least one producer name.")
    unknown = [p for p in names if p not in producers]
    if unknown:
        raise UsageError(
            f"--from: no producer named {', '.join(repr(p) for p in unknown)} in the data; "
            f"producers are: {', '.join(producers)}."
        )
    return names


def _names(producers: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(producers[:limit])
    return shown if len(producers) <= limit else f"{shown} and {len(producers) - limit} more"


class _Estimate(NamedTuple):
    """One dimension's proposal from its chosen producers' lines."""

    level: MedianInterval
    step: MedianInterval
    loo_levels: FloatArray
    loo_steps: FloatArray
    moves: FloatArray  # producers x sizes: leave-one-out line minus the full line (mm)


def _estimate(
    rows: pd.DataFrame, *, fixed: float | None, offsets: FloatArray, confidence: float
) -> _Estimate:
    """Median level and step of the chosen producers' lines, their intervals, and the
    proposal without each producer, at the sizes ``base + offsets``."""
    levels = rows["level_mm"].to_numpy(float)
    slopes = rows["step_mm"].to_numpy(float)
    level = median_interval(levels, confidence=confidence)
    if fixed is None:
        step = median_interval(slopes, confidence=confidence)
        loo_steps = leave_one_out(slopes)
    else:
        step = MedianInterval(fixed, math.nan, math.nan, math.nan, len(slopes))
        loo_steps = np.full(len(slopes), fixed)
    loo_levels = leave_one_out(levels)
    full = level.median + step.median * offsets
    loo_lines = loo_levels[:, None] + loo_steps[:, None] * offsets[None, :]
    return _Estimate(level, step, loo_levels, loo_steps, loo_lines - full[None, :])


def _dimension_provenance(row: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The ``[provenance.dimensions.NAME]`` entry: who, how many, when, and the estimates."""
    prov: dict[str, Any] = {
        "producers": list(names),
        "n_producers": row["n_producers"],
        "n_measurements": row["n"],
        "first_date": row["first_date"],
        "last_date": row["last_date"],
        "level_mm": row["level_mm"],
        "level_ci_mm": [row["level_ci_low_mm"], row["level_ci_high_mm"]],
        "level_ci_coverage": row["level_ci_coverage"],
    }
    if row["step_rule"] == "fixed":
        prov["step"] = "fixed: the Paris point, 20/3 mm per EU size"
    else:
        prov.update(
            step="median of the producers' steps",
            step_mm=row["step_mm"],
            step_ci_mm=[row["step_ci_low_mm"], row["step_ci_high_mm"]],
            step_ci_coverage=row["step_ci_coverage"],
        )
    prov.update(
        loo_max_shift_mm=row["loo_max_shift_mm"],
        loo_most_influential=row["loo_producer"],
        tolerance_from=row["tolerance_from"],
    )
    return prov


class _Proposed(NamedTuple):
    """One dimension's proposal: what :func:`propose_table` gathers per dimension."""

    row: dict[str, Any]  # the row of ``estimates``
    stability: pd.DataFrame  # the leave-one-producer-out rows
    band: tuple[FloatArray, FloatArray]  # the most any one producer moves each size, down/up
    master: float  # the level written in the table (rounded to 0.1 mm)
    step: float  # the step written in the table (fixed, or rounded to 0.01 mm)


def _check_arguments(
    current: ReferenceTable, *, step: StepRule, confidence: float, base_size: float | None
) -> float:
    """Check ``step``, ``confidence`` and the base size against the current table; return
    the base size (the current table's when none is given)."""
    if step not in ("paris", "fit"):
        raise UsageError(f"--step {step!r}: expected 'paris' or 'fit'.")
    if step == "paris" and current.size_system != SizeSystem.EU.value:
        raise UsageError(
            f"--step paris keeps the Paris point's 20/3 mm per size, defined for EU sizes; "
            f"table {current.name!r} counts {current.size_system} sizes. Use --step fit."
        )
    if not 0.5 < confidence < 1.0:
        raise UsageError(f"confidence must lie between 0.5 and 1, got {confidence}.")
    base = float(current.base_size if base_size is None else base_size)
    if not current.sizes[0] <= base <= current.sizes[-1]:
        raise UsageError(
            f"--base-size {base:g} lies outside table {current.name!r} "
            f"({current.sizes[0]:g}–{current.sizes[-1]:g})."
        )
    return base


def _tolerance_sources(
    current: ReferenceTable,
    tolerances_from: ReferenceTable | str | Path | None,
    tolerances: Mapping[str, Tolerance] | None,
) -> tuple[ReferenceTable, dict[str, Tolerance]]:
    """The table whose tolerances the proposal carries (the current one by default), and
    the tolerances set per dimension, checked to name known dimensions."""
    tol_table = (
        current
        if tolerances_from is None
        else tolerances_from
        if isinstance(tolerances_from, ReferenceTable)
        else load_table(tolerances_from)
    )
    chosen = dict(tolerances or {})
    unknown_tol = sorted(set(chosen) - set(DIMENSIONS))
    if unknown_tol:
        raise UsageError(f"--tolerance: unknown dimension(s) {', '.join(unknown_tol)}.")
    return tol_table, chosen


def _skip_reason(
    dimension: str, names: Sequence[str], tol: Tolerance, tol_from: str
) -> tuple[dict[str, Any], dict[str, str]] | None:
    """Why ``dimension`` is not proposed — a one-sided tolerance (a requirement, not a habit
    of the cluster) or fewer than :data:`MIN_PRODUCERS` chosen producers — as its row of
    ``skipped`` and its provenance entry; ``None`` when it is proposed."""
    if tol.type in ("min", "max"):
        reason = "one_sided"
        detail = (
            f"the tolerance carried ({tol_from}) is a one-sided {tol.type}imum: "
            "a requirement, not proposed from the producers' data"
        )
    elif len(names) < MIN_PRODUCERS:
        reason = "few_producers"
        detail = (
            f"{len(names)} producer(s) chosen ({_names(names) or 'none'}); a "
            f"proposal needs at least {MIN_PRODUCERS}: use --from all or name producers"
        )
    else:
        return None
    row = {"dimension": dimension, "reason": reason, "n_chosen": len(names),
           "producers": "; ".join(names)}  # fmt: skip
    return row, {"reason": reason, "detail": detail}


def _propose_dimension(
    dimension: str,
    rows: pd.DataFrame,
    *,
    step: StepRule,
    offsets: FloatArray,
    base: float,
    confidence: float,
    tol: Tolerance,
    tol_from: str,
) -> _Proposed:
    """One dimension's level and step: the median of the chosen producers' lines (``rows``,
    one per producer) with their order-statistic intervals (Conover 1999 §3.2), and the
    leave-one-producer-out shifts at the sizes ``base + offsets``."""
    names = rows["producer"].tolist()
    fixed = _fixed_step(dimension, step)
    est = _estimate(rows, fixed=fixed, offsets=offsets, confidence=confidence)
    lev, stp = est.level, est.step
    shifts = np.abs(est.moves).max(axis=1)
    worst = int(np.argmax(shifts))
    stability = pd.DataFrame(
        {
            "dimension": dimension,
            "producer": names,
            "level_mm": est.loo_levels,
            "step_mm": est.loo_steps,
            "level_shift_mm": est.loo_levels - lev.median,
            "max_shift_mm": shifts,
        }
    )
    master = round(lev.median, 1)
    step_value = fixed if fixed is not None else round(stp.median, 2)
    row = {
        "dimension": dimension,
        "n_producers": len(names),
        "n": int(rows["n"].sum()),
        "first_date": _date_text(rows["first_date"].min()),
        "last_date": _date_text(rows["last_date"].max()),
        "base_size": base,
        "level_mm": lev.median,
        "level_ci_low_mm": lev.low,
        "level_ci_high_mm": lev.high,
        "level_ci_coverage": lev.coverage,
        "step_mm": stp.median,
        "step_ci_low_mm": stp.low,
        "step_ci_high_mm": stp.high,
        "step_ci_coverage": stp.coverage,
        "step_rule": "fixed" if fixed is not None else "median",
        "base_value_mm": master,
        "step_value_mm": step_value,
        "loo_max_shift_mm": float(shifts[worst]),
        "loo_producer": names[worst],
        "tolerance": tol.describe(),
        "tolerance_from": tol_from,
        "producers": "; ".join(names),
    }
    band = (est.moves.min(axis=0), est.moves.max(axis=0))
    return _Proposed(row, stability, band, master, step_value)


def _source_text(
    dim_prov: Mapping[str, Any], chosen: Sequence[str], base: float, current: ReferenceTable
) -> str:
    """The proposal's ``source``: how it was made, from whose data, against which table."""
    return (
        "Proposed by 'sizecheck propose' from the cluster's own measurements: per dimension "
        f"the median of the chosen producers' size lines (level at size {base:g}, step per "
        "size), each producer counted once; "
        + "; ".join(
            f"{d} from {p['n_producers']} producers, {p['n_measurements']} measurements"
            + (f", {p['first_date']} to {p['last_date']}" if p["first_date"] else "")
            for d, p in dim_prov.items()
        )
        + f". Producers: {_names(chosen)}. Current table: {current.name} "
        f"({current.status}). A proposal, not a standard: no SNI defines shoe sizes."
    )


def _notes_text(
    tols: Mapping[str, Tolerance], dim_prov: Mapping[str, Any], confidence: float
) -> str:
    """The proposal's ``notes``: rounding, where the intervals are, the tolerances."""
    return (
        "A PROPOSAL for the cluster to discuss, not a standard. Levels rounded to 0.1 mm "
        "and fitted steps to 0.01 mm per size; the unrounded estimates, their "
        f"{confidence:.0%} intervals (order statistics of the producers' values, Conover "
        "1999 §3.2) and the leave-one-producer-out check are under [provenance]. "
        "Tolerances: "
        + "; ".join(f"{d} {tols[d].describe()} ({dim_prov[d]['tolerance_from']})" for d in tols)
        + "."
    )


def _provenance(
    analysis: Analysis,
    *,
    chosen_by: str | tuple[str, ...],
    step: StepRule,
    base: float,
    confidence: float,
    tol_table: ReferenceTable,
    dim_prov: dict[str, Any],
    skip_prov: dict[str, Any],
) -> dict[str, Any]:
    """The ``[provenance]`` section: tool, method, choices, tables and inputs, and per
    dimension the unrounded estimates (and why a dimension was skipped)."""
    from sizecheck import __version__

    if isinstance(chosen_by, str):
        select_text: Any = chosen_by
    else:
        select_text = list(chosen_by)
    provenance: dict[str, Any] = {
        "tool": "sizecheck",
        "version": __version__,
        "created": analysis.created,
        "command": "propose",
        "method": (
            "per producer: least-squares line of its measurements on size (level at the "
            "base size, step per size); per dimension: the median of the chosen producers' "
            "levels and steps, each producer once; intervals: distribution-free, order "
            "statistics of the producers' values (Conover 1999 §3.2), with the coverage "
            "reached; stability: each chosen producer left out in turn"
        ),
        "select": select_text,
        "step_rule": step,
        "base_size": base,
        "confidence": confidence,
        "current_table": analysis.table.provenance(),
        "tolerances_from": tol_table.provenance(),
        "inputs": [{"source": f.source, "sha256": f.sha256} for f in analysis.inputs],
        "dimensions": dim_prov,
    }
    if skip_prov:
        provenance["skipped"] = skip_prov
    return provenance


def propose_table(
    analysis: Analysis,
    *,
    select: str | Sequence[str] = "conforming",
    base_size: float | None = None,
    step: StepRule = "paris",
    tolerances_from: ReferenceTable | str | Path | None = None,
    tolerances: Mapping[str, Tolerance] | None = None,
    name: str = "cluster-proposal",
    title: str | None = None,
    confidence: float = 0.95,
) -> TableProposal:
    """Propose a cluster reference table from the producers' measurements.

    Parameters
    ----------
    analysis : Analysis
        An analysis against the current table (:func:`sizecheck.analyse`): its
        measurements give the producers' lines, its verdicts the ``conforming`` choice.
    select : {"conforming", "all"} or sequence of str, default "conforming"
        Whose lines inform the proposal, per dimension: producers whose verdict against
        the current table is ``conforming``; every producer with enough data; or the
        producers named. Producers with fewer than ``thresholds.min_n`` measurements
        (and, for a fitted step, fewer than ``thresholds.min_sizes_for_grading``
        distinct sizes) never do.
    base_size : float, optional
        The size at which the levels are given; default the current table's.
    step : {"paris", "fit"}, default "paris"
        ``paris``: lengths keep the Paris point's 20/3 mm per size (EU sizes only);
        girths and widths, which no size system defines, take the median of the
        producers' steps. ``fit``: every step is the median of the producers' steps.
    tolerances_from : ReferenceTable, name or path, optional
        The table whose tolerances the proposal carries; default the current table.
        Dimensions it lacks get the proposed defaults (lengths ±1.5, mis-sized ±3.33;
        girths ±2.5/±5; widths ±1.5/±3 mm).
    tolerances : mapping of str to Tolerance, optional
        Tolerances set per dimension; they win over ``tolerances_from``.
    name, title : str
        The proposal's name (``--table NAME`` in its own folder: the file's stem) and title.
    confidence : float, default 0.95
        Confidence of the intervals of the level and the step.

    Returns
    -------
    TableProposal

    Raises
    ------
    UsageError
        Unknown ``select`` value or producer name, ``step="paris"`` with a table whose
        sizes are not EU, a base size outside the current table, or no dimension with
        at least :data:`MIN_PRODUCERS` producers (the message says why per dimension).
    """
    current = analysis.table
    base = _check_arguments(current, step=step, confidence=confidence, base_size=base_size)
    producers = sorted(_text(analysis.measurements["producer"]).unique().tolist())
    chosen_by = _check_select(select, producers)
    tol_table, tolerances = _tolerance_sources(current, tolerances_from, tolerances)
    lines = _lines(analysis, base_size=base, rule=step, select=chosen_by)
    if lines.empty:
        raise UsageError("No measurement to propose a table from.")
    grid = _grid(current, analysis.measurements["size"].to_numpy(float), base)
    grid_arr = np.asarray(grid, dtype=float)
    paris = load_table("paris-point") if current.size_system == SizeSystem.EU.value else None

    estimates: list[dict[str, Any]] = []
    stability: list[pd.DataFrame] = []
    skipped: list[dict[str, Any]] = []
    masters: dict[str, float] = {}
    steps: dict[str, float] = {}
    tols: dict[str, Tolerance] = {}
    dim_prov: dict[str, Any] = {}
    skip_prov: dict[str, Any] = {}
    loo_bands: dict[str, tuple[FloatArray, FloatArray]] = {}
    for dim in [d for d in DIMENSIONS if d in set(lines["dimension"])]:
        rows = lines.loc[(lines["dimension"] == dim) & lines["chosen"]]
        names = rows["producer"].tolist()
        tol, tol_from = _tolerance_for(dim, tolerances, tol_table)
        skip = _skip_reason(dim, names, tol, tol_from)
        if skip is not None:
            skipped.append(skip[0])
            skip_prov[dim] = skip[1]
            continue
        one = _propose_dimension(
            dim, rows, step=step, offsets=grid_arr - base, base=base,
            confidence=confidence, tol=tol, tol_from=tol_from,
        )  # fmt: skip
        estimates.append(one.row)
        stability.append(one.stability)
        loo_bands[dim] = one.band
        masters[dim], steps[dim], tols[dim] = one.master, one.step, tol
        dim_prov[dim] = _dimension_provenance(one.row, names)
    if not masters:
        why = "; ".join(f"{d}: {p['detail']}" for d, p in skip_prov.items())
        raise UsageError(f"No dimension could be proposed ({why}).")

    chosen_all = sorted({p for d in dim_prov.values() for p in d["producers"]})
    table = grade(
        masters,
        base_size=base,
        name=name,
        title=title or f"Cluster proposal {name} (from {len(chosen_all)} producers' data)",
        size_system=current.size_system,
        sizes=grid,
        steps=steps,
        tolerances=tols,
        status="proposal",
        source=_source_text(dim_prov, chosen_all, base, current),
    )
    table = replace(table, notes=_notes_text(tols, dim_prov, confidence))
    provenance = _provenance(
        analysis, chosen_by=chosen_by, step=step, base=base, confidence=confidence,
        tol_table=tol_table, dim_prov=dim_prov, skip_prov=skip_prov,
    )  # fmt: skip
    text = _toml_text(table, provenance)
    parsed = parse_table(tomllib.loads(text), origin=name)
    sizes_frame = _sizes_frame(parsed, grid_arr, loo_bands, current, paris)
    return TableProposal(
        table=parsed,
        toml=text,
        estimates=pd.DataFrame(estimates),
        lines=lines,
        stability=pd.concat(stability, ignore_index=True),
        sizes=sizes_frame,
        skipped=pd.DataFrame(skipped, columns=["dimension", "reason", "n_chosen", "producers"]),
        provenance=provenance,
    )


def _toml_text(table: ReferenceTable, provenance: Mapping[str, Any]) -> str:
    import tomli_w

    head = (
        f"{TOML_MARK} {provenance['version']} on "
        f"{str(provenance['created'])[:10]}: a PROPOSAL for the cluster to discuss, not a "
        "standard.\n"
    )
    return head + dumps_table(table) + "\n" + tomli_w.dumps({"provenance": provenance})


def _sizes_frame(
    table: ReferenceTable,
    grid: FloatArray,
    loo_bands: Mapping[str, tuple[FloatArray, FloatArray]],
    current: ReferenceTable,
    paris: ReferenceTable | None,
) -> pd.DataFrame:
    """The proposal per size beside the Paris point and the current table."""
    frames = []
    for dim, (down, up) in loo_bands.items():
        proposal = table.nominal(dim, grid)
        low, high = proposal + np.minimum(down, 0.0), proposal + np.maximum(up, 0.0)
        nan = np.full(len(grid), np.nan)
        if paris is not None and dim in paris.dimensions:
            paris_mm = np.where(paris.covers(grid), paris.nominal(dim, grid), np.nan)
            paris_step = paris.grade_step(dim) or math.nan
        else:
            paris_mm, paris_step = nan, math.nan
        current_mm = current.nominal(dim, grid) if dim in current.dimensions else nan
        frames.append(
            pd.DataFrame(
                {
                    "dimension": dim,
                    "size": grid,
                    "proposal_mm": proposal,
                    "loo_low_mm": low,
                    "loo_high_mm": high,
                    "paris_mm": paris_mm,
                    "diff_paris_mm": proposal - paris_mm,
                    "diff_paris_sizes": (proposal - paris_mm) / paris_step,
                    "current_mm": current_mm,
                    "diff_current_mm": proposal - current_mm,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- impact


def mean_corrections(analysis: Analysis) -> tuple[pd.DataFrame, str]:
    """Each producer's mean correction per dimension (mm to add to reach the nominal).

    When the analysis carries per-size ``corrections`` (``corrections.csv``:
    ``correction_mm = nominal − mean`` since the last detected change), the mean
    correction is their average weighted by the shoes at each size (the models pooled);
    otherwise it is ``−bias_mm`` of the producer summary (the whole period), which is
    the same number when no change was detected.

    Returns
    -------
    (DataFrame, str)
        ``producer, dimension, correction_mm``, and ``"corrections"`` or ``"bias"``
        naming the basis used.
    """
    corrections = getattr(analysis, "corrections", None)
    if isinstance(corrections, pd.DataFrame) and not corrections.empty:
        c = _pooled(corrections)
        c = pd.DataFrame(
            {
                "producer": _text(c["producer"]).to_numpy(),
                "dimension": _text(c["dimension"]).to_numpy(),
                "w": pd.to_numeric(c["n"], errors="coerce").to_numpy(float),
                "x": pd.to_numeric(c["correction_mm"], errors="coerce").to_numpy(float),
            }
        )
        c = c.loc[np.isfinite(c["x"]) & (c["w"] > 0)]
        c["wx"] = c["w"] * c["x"]
        sums = c.groupby(["producer", "dimension"], sort=True)[["wx", "w"]].sum().reset_index()
        sums["correction_mm"] = sums["wx"] / sums["w"]
        return sums.loc[:, ["producer", "dimension", "correction_mm"]], "corrections"
    ps = _pooled(analysis.producer_summary)
    out = pd.DataFrame(
        {
            "producer": _text(ps["producer"]).to_numpy(),
            "dimension": _text(ps["dimension"]).to_numpy(),
            "correction_mm": -pd.to_numeric(ps["bias_mm"], errors="coerce").to_numpy(float),
        }
    )
    return out, "bias"


def proposal_impact(
    current: Analysis, against: Analysis, proposal: TableProposal
) -> tuple[pd.DataFrame, str]:
    """Per producer and dimension: verdict and mean correction now and under the proposal.

    Parameters
    ----------
    current : Analysis
        The measurements against the current table.
    against : Analysis
        The same measurements against ``proposal.table`` (what ``sizecheck measure
        --table proposal.toml`` computes).
    proposal : TableProposal

    Returns
    -------
    (DataFrame, str)
        The ``proposal_impact.csv`` frame, columns :data:`sizecheck.columns.PROPOSAL_IMPACT`
        then :data:`IMPACT_EXTRA`, one row per producer × dimension of the current
        analysis (``verdict_proposal`` empty and its correction NaN for a dimension not
        proposed); and the basis of the corrections (see :func:`mean_corrections`).
    """
    now_c, basis = mean_corrections(current)
    then_c, _ = mean_corrections(against)
    key = ["producer", "dimension"]

    def verdicts(a: Analysis, col: str) -> pd.DataFrame:
        ps = _pooled(a.producer_summary)
        return pd.DataFrame(
            {
                "producer": _text(ps["producer"]).to_numpy(),
                "dimension": _text(ps["dimension"]).to_numpy(),
                col: _text(ps["verdict"]).to_numpy(),
            }
        )

    lines = proposal.lines.loc[:, [*key, "chosen", "own_level_mm", "own_step_mm"]].rename(
        columns={"chosen": "in_proposal", "own_level_mm": "producer_level_mm",
                 "own_step_mm": "producer_step_mm"}
    )  # fmt: skip
    loo = proposal.stability.loc[:, [*key, "max_shift_mm"]].rename(
        columns={"max_shift_mm": "loo_shift_mm"}
    )
    proposed = set(proposal.table.dimensions)
    out = (
        verdicts(current, "verdict_current")
        .merge(verdicts(against, "verdict_proposal"), on=key, how="left")
        .merge(now_c.rename(columns={"correction_mm": "correction_current_mm"}), on=key, how="left")
        .merge(then_c.rename(columns={"correction_mm": "correction_proposal_mm"}), on=key,
               how="left")
        .merge(lines, on=key, how="left")
        .merge(loo, on=key, how="left")
    )  # fmt: skip
    not_proposed = ~out["dimension"].isin(proposed)
    out.loc[not_proposed, "verdict_proposal"] = ""
    out.loc[not_proposed, "correction_proposal_mm"] = np.nan
    out["verdict_proposal"] = out["verdict_proposal"].fillna("")
    out["in_proposal"] = out["in_proposal"].fillna(False).astype(bool) & ~not_proposed
    order = [d for d in DIMENSIONS if d in set(out["dimension"])]
    out["dimension"] = pd.Categorical(out["dimension"], categories=order)
    out = out.sort_values(["dimension", "producer"], kind="stable").reset_index(drop=True)
    out["dimension"] = out["dimension"].astype("str")
    return out.loc[:, [*PROPOSAL_IMPACT, *IMPACT_EXTRA]], basis


def conformity(impact: pd.DataFrame) -> pd.DataFrame:
    """How many producers conform now and would conform to the proposal, per dimension.

    Producers with too few measurements are not judged and not counted.
    Columns: ``dimension, n_judged, conforming_current, conforming_proposal``
    (``conforming_proposal`` is NA for a dimension not proposed).
    """
    rows = []
    for dim, g in impact.groupby("dimension", sort=False):
        judged = g.loc[g["verdict_current"] != "insufficient_data"]
        proposed = bool((g["verdict_proposal"] != "").any())
        rows.append(
            {
                "dimension": dim,
                "n_judged": len(judged),
                "conforming_current": int((judged["verdict_current"] == "conforming").sum()),
                "conforming_proposal": (
                    int((judged["verdict_proposal"] == "conforming").sum()) if proposed else pd.NA
                ),
            }
        )
    return pd.DataFrame(
        rows, columns=["dimension", "n_judged", "conforming_current", "conforming_proposal"]
    ).astype({"conforming_proposal": "Int64"})


@dataclass(frozen=True)
class Proposal:
    """What ``sizecheck propose`` computes: the proposal and what it would ask of whom.

    Attributes
    ----------
    proposal : TableProposal
        The proposed table, its estimates, the producers' lines and the stability check.
    current : Analysis
        The measurements against the current table.
    against : Analysis
        The same measurements against the proposal (as ``measure --table`` would run).
    impact : DataFrame
        ``proposal_impact.csv`` (see :func:`proposal_impact`).
    conformity : DataFrame
        Producers conforming now and to the proposal, per dimension (:func:`conformity`).
    correction_basis : str
        ``corrections`` (per-size corrections since the last change) or ``bias`` (the
        producer summary's mean deviation), see :func:`mean_corrections`.
    """

    proposal: TableProposal
    current: Analysis
    against: Analysis
    impact: pd.DataFrame
    conformity: pd.DataFrame
    correction_basis: str

    @property
    def table(self) -> ReferenceTable:
        """The proposed table."""
        return self.proposal.table


def build_proposal(
    inputs: Sequence[str | Path],
    *,
    table: str | Path | ReferenceTable = "paris-point",
    select: str | Sequence[str] = "conforming",
    base_size: float | None = None,
    step: StepRule = "paris",
    tolerances_from: ReferenceTable | str | Path | None = None,
    tolerances: Mapping[str, Tolerance] | None = None,
    name: str = "cluster-proposal",
    title: str | None = None,
    confidence: float = 0.95,
    thresholds: Any = None,
    drift_rules: Sequence[str] | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    units: str = "mm",
    synthetic: bool = False,
) -> Proposal:
    """Analyse, propose a cluster table, and analyse again against it (``sizecheck propose``).

    The files are analysed against ``table`` (:func:`sizecheck.analyse`), a table is
    proposed from that analysis (:func:`propose_table`, whose parameters these are), and
    the same files are analysed against the proposal with the same thresholds and rules,
    so that :attr:`Proposal.impact` holds what ``sizecheck measure --table proposal.toml``
    would say of each producer.

    Returns
    -------
    Proposal
    """
    from sizecheck.pipeline import analyse

    reading: dict[str, Any] = {
        "sep": sep,
        "decimal": decimal,
        "encoding": encoding,
        "sheet": sheet,
        "units": units,
        "thresholds": thresholds,
        "drift_rules": drift_rules,
        "synthetic": synthetic,
    }
    current = analyse(inputs, table=table, **reading)
    proposal = propose_table(
        current,
        select=select,
        base_size=base_size,
        step=step,
        tolerances_from=tolerances_from,
        tolerances=tolerances,
        name=name,
        title=title,
        confidence=confidence,
    )
    against = analyse(inputs, table=proposal.table, **reading)
    impact, basis = proposal_impact(current, against, proposal)
    return Proposal(
        proposal=proposal,
        current=current,
        against=against,
        impact=impact,
        conformity=conformity(impact),
        correction_basis=basis,
    )
