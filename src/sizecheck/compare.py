"""Compare accepted measurements with a reference table: deviations, limits and status.

Pure functions: a measurements frame and a :class:`~sizecheck.tables.ReferenceTable`
in, a new deviations frame out. ``deviation_mm = value_mm - nominal_mm``;
``deviation_sizes`` divides by the dimension's grade step.

Statuses
--------
``in_spec``
    Within the in-spec band.
``drifting``
    Outside the in-spec band but inside the mis-sized band.
``missized``
    Beyond the mis-sized band (two-sided tolerances).
``below_min`` / ``above_max``
    A one-sided limit (e.g. minimum toecap length) is not met.
``no_reference``
    The table has no nominal for this dimension; the measurement is kept and
    counted, and left out of the statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sizecheck import columns
from sizecheck.errors import UsageError, require_columns
from sizecheck.tables import ReferenceTable, as_table

__all__ = ["DEVIATION_COLUMNS", "STATUSES", "Compared", "compare"]

#: Columns of ``deviations.csv``, in order (see :mod:`sizecheck.columns`).
DEVIATION_COLUMNS = columns.DEVIATIONS

#: Every status a deviation can have.
STATUSES = ("in_spec", "drifting", "missized", "below_min", "above_max", "no_reference")

_REQUIRED = ("producer", "size", "dimension", "value_mm")
#: What depends only on (dimension, size), computed once per distinct pair.
_PER_PAIR = ("nominal", "lower", "upper", "lower_mis", "upper_mis", "step", "nominal_step")


@dataclass(frozen=True)
class Compared:
    """The result of :func:`compare`.

    Attributes
    ----------
    deviations : DataFrame
        The measurements plus ``nominal_mm, deviation_mm, deviation_sizes, lower_mm,
        upper_mm, status`` and the in-memory extras ``lower_missized_mm,
        upper_missized_mm, grade_step_mm, nominal_step_mm``. ``grade_step_mm`` is mm per
        size step; ``nominal_step_mm`` is mm of nominal per label unit (the rule's
        ``step``; NaN for tabulated dimensions). They differ when one size is several
        label units (Mondopoint: 1 mm per label unit, 5 mm per size).
    missing_dimensions : list of str
        Dimensions measured but absent from the table (their rows have status
        ``no_reference``); report them once.
    """

    deviations: pd.DataFrame
    missing_dimensions: list[str] = field(default_factory=list)


def _feet(foot: pd.Series) -> pd.Series:
    """``foot`` as ``L``/``R``: a frame built by hand may say ``left``, ``kanan``, ``Ki``…
    (the words :data:`sizecheck.schema.FOOT_VALUES` reads in files); the pair statistics
    count only ``L`` and ``R``. A value that names no foot is refused, naming it."""
    from sizecheck.schema import FOOT_VALUES

    if isinstance(foot.dtype, pd.CategoricalDtype):  # validate's output: look at categories
        values = [str(v) for v in foot.cat.categories]
    else:
        values = [str(v) for v in pd.unique(foot.dropna())]
    if all(v in ("L", "R") for v in values):
        return foot
    mapping = {v: FOOT_VALUES.get(v.strip().lower()) for v in values}
    unknown = sorted(v for v, f in mapping.items() if f is None)
    if unknown:
        raise UsageError(
            f"compare: foot value(s) {', '.join(map(repr, unknown[:5]))} name no foot; use "
            "L/R, left/right or kiri/kanan (or validate the frame first with "
            "sizecheck.validate_frame, which lists such rows as rejects)."
        )
    return foot.astype("str").map(mapping).where(foot.notna())


def _per_pair(
    table: ReferenceTable, dim_uniques: pd.Index | NDArray[Any], sizes: NDArray[np.float64]
) -> tuple[dict[str, NDArray[np.float64]], NDArray[np.int8], list[str]]:
    """Nominal, limits and steps on a grid with one row per dimension (the last row:
    missing or not in the table, all NaN) and one column per distinct size; which
    dimensions have one-sided tolerances (0 two-sided, 1 min, 2 max); and the dimensions
    the table lacks."""
    shape = (len(dim_uniques) + 1, len(sizes))
    grid = {name: np.full(shape, np.nan) for name in _PER_PAIR}
    one_sided_grid = np.zeros(shape, dtype=np.int8)  # 0 two-sided, 1 min, 2 max
    missing_dims: list[str] = []
    for code, dim in sorted(enumerate(map(str, dim_uniques)), key=lambda cd: cd[1]):
        if dim not in table.dimensions:
            missing_dims.append(dim)
            continue
        grid["nominal"][code] = table.nominal(dim, sizes)
        lim = table.limits(dim, sizes)
        grid["lower"][code], grid["upper"][code] = lim.lower, lim.upper
        grid["lower_mis"][code], grid["upper_mis"][code] = lim.lower_missized, lim.upper_missized
        gs = table.grade_step(dim)
        grid["step"][code] = np.nan if gs is None else gs
        spec = table.dimensions[dim]
        ns = None if spec.tabulated else spec.step
        grid["nominal_step"][code] = np.nan if ns is None else ns
        tol = spec.tolerance
        if tol is not None and tol.type in ("min", "max"):
            one_sided_grid[code] = 1 if tol.type == "min" else 2
    return grid, one_sided_grid, missing_dims


def _status_codes(
    value: NDArray[np.float64],
    nominal: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    lower_mis: NDArray[np.float64],
    upper_mis: NDArray[np.float64],
    one_sided: NDArray[np.int8],
) -> NDArray[np.int8]:
    """Each reading's status as codes into :data:`STATUSES`: ``in_spec`` within
    ``[lower, upper]``; ``drifting`` outside it but within the mis-sized band;
    ``missized`` beyond; for a one-sided tolerance ``below_min`` / ``above_max``; and
    ``no_reference`` where the table gives no nominal."""
    n = len(value)
    # Status as codes into STATUSES, turned into the categorical once at the end.
    status_code = {name: np.int8(i) for i, name in enumerate(STATUSES)}
    status = np.full(n, status_code["no_reference"], dtype=np.int8)
    known = ~np.isnan(nominal)
    two = known & (one_sided == 0)
    in_spec = (value >= lower) & (value <= upper)
    within_mis = (value >= lower_mis) & (value <= upper_mis)
    status[two & in_spec] = status_code["in_spec"]
    status[two & ~in_spec & within_mis] = status_code["drifting"]
    status[two & ~within_mis] = status_code["missized"]
    is_min = known & (one_sided == 1)
    is_max = known & (one_sided == 2)
    status[is_min] = np.where(
        value[is_min] >= lower[is_min], status_code["in_spec"], status_code["below_min"]
    )
    status[is_max] = np.where(
        value[is_max] <= upper[is_max], status_code["in_spec"], status_code["above_max"]
    )
    return status


def compare(measurements: pd.DataFrame, table: str | Path | ReferenceTable) -> Compared:
    """Compare each accepted measurement with the table's nominal value and limits.

    Parameters
    ----------
    measurements : DataFrame
        Long frame with at least ``producer, size, dimension, value_mm`` (the output of
        :func:`sizecheck.validate.validate`); ``size`` is in the table's size system.
    table : str, path or ReferenceTable
        A table with base values (a grading rule must be graded first): a shipped name
        such as ``"paris-point"``, a ``.toml`` path, or a loaded table.

    Returns
    -------
    Compared

    Examples
    --------
    >>> from sizecheck.tables import load_table
    >>> m = pd.DataFrame({"producer": ["A", "A"], "size": [41.0, 42.0],
    ...                   "dimension": ["last_length", "last_length"],
    ...                   "value_mm": [275.0, 290.0]})
    >>> d = compare(m, load_table("paris-point")).deviations
    >>> d[["deviation_mm", "status"]].round(2).to_records(index=False).tolist()
    [(1.67, 'drifting'), (10.0, 'missized')]
    """
    require_columns(
        measurements,
        _REQUIRED,
        "compare",
        error=UsageError,
        hint="For a frame as a QA sheet holds it (one column per dimension, Indonesian "
        "names...), validate it first: clean, rejects = sizecheck.validate_frame(df, "
        "table=...), then compare clean; or run sizecheck.analyse(df).",
    )
    table = as_table(table)
    if table.kind == "rule":
        # nominal() raises the explanatory UsageError for rules.
        table.nominal(next(iter(table.dimensions)), [table.base_size])
    # A shallow copy: pandas' copy-on-write keeps ``measurements`` unchanged.
    out = measurements.copy(deep=False)
    if "foot" in out.columns:
        out["foot"] = _feet(out["foot"])
    # Integer codes per dimension (-1 for missing): no per-row Python objects, so this
    # stays fast on millions of rows of arrow-backed strings.
    dims = out["dimension"]
    if isinstance(dims.dtype, pd.CategoricalDtype):  # validate's output: codes at hand
        dim_codes, dim_uniques = dims.cat.codes.to_numpy(), dims.cat.categories
    else:
        dim_codes, dim_uniques = pd.factorize(dims.astype("string"))
    # Nominal, limits and steps depend only on (dimension, size): compute them once per
    # distinct pair, on a grid with one row per dimension (the last row: missing or not
    # in the table, all NaN) and one column per distinct size, then gather per row.
    size_codes, size_uniques = pd.factorize(
        out["size"].to_numpy(dtype=float), use_na_sentinel=False
    )
    sizes = np.asarray(size_uniques, dtype=float)
    grid, one_sided_grid, missing_dims = _per_pair(table, dim_uniques, sizes)
    shape = one_sided_grid.shape
    pair = np.where(dim_codes >= 0, dim_codes, np.intp(shape[0] - 1))  # row in the grid
    pair *= shape[1]
    pair += size_codes
    nominal, lower, upper, lower_mis, upper_mis, step, nominal_step = (
        grid[name].ravel()[pair] for name in _PER_PAIR
    )
    one_sided = one_sided_grid.ravel()[pair]
    value = out["value_mm"].to_numpy(dtype=float)
    deviation = value - nominal
    status = _status_codes(value, nominal, lower, upper, lower_mis, upper_mis, one_sided)
    with np.errstate(invalid="ignore", divide="ignore"):
        deviation_sizes = deviation / step
    added: dict[str, NDArray[np.float64] | pd.Categorical[Any]] = {
        "nominal_mm": nominal,
        "deviation_mm": deviation,
        "deviation_sizes": deviation_sizes,
        "lower_mm": lower,
        "upper_mm": upper,
        "status": pd.Categorical.from_codes(
            status, dtype=pd.CategoricalDtype(categories=list(STATUSES))
        ),
        "lower_missized_mm": lower_mis,
        "upper_missized_mm": upper_mis,
        "grade_step_mm": step,
        "nominal_step_mm": nominal_step,
    }
    for name, column in added.items():
        # The arrays are this function's own: wrap them (``out[name] = array`` copies).
        out[name] = pd.Series(column, index=out.index, copy=False)
    return Compared(out, missing_dims)
