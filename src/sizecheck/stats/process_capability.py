"""Process capability of one sample: Cp, Cpk, Pp, Ppk with confidence intervals.

:func:`capability` is the Cpk of ``producer_summary.csv``: given one producer ×
dimension's deviations in time order, with their sizes and pair ids, it returns the same
``cpk``, ``ppk`` and intervals as that producer's row (``tests/test_capability.py``
checks it on random frames). Without sizes it is the textbook Cpk of one sample.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sizecheck.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd
from sizecheck.stats.reference import (
    capability_indices,
    cpk_at_ends,
    cpk_candidates,
    cpk_interval,
    grading_line,
    mean_interval,
    paired_within_sigma,
    sigma_floor,
    subgroup_sigma,
)

__all__ = ["SIGMA_METHODS", "Capability", "capability", "capability_indices"]

#: Ways :func:`capability` estimates the within σ.
SIGMA_METHODS = ("moving_range", "residual", "range", "sd")


@dataclass(frozen=True)
class Capability:
    """Process capability of one sample against one pair of specification limits.

    Attributes
    ----------
    n, n_units : int
        Values, and independent units (pairs; each value without a pair id is one).
    mean : float
        Mean of the values.
    centre_low, centre_high : float
        The process centre at the smallest and largest size: the grading line there
        (the mean without sizes or with one size).
    sigma_within : float
        Short-term σ by ``sigma_method``, not below resolution / √12.
    sigma_method : str
        ``moving_range`` (mean moving range / 1.128 of the values in order; between pair
        means with pairs), ``residual`` (SD around the line), ``range`` (R̄/d2 of the
        subgroups), ``sd`` (S̄/c4) or ``given``.
    sigma_df : float
        Degrees of freedom of ``sigma_within`` used by the intervals.
    sigma_overall : float
        Sample standard deviation (n − 1) of the values, not below resolution / √12.
    cp, cpk : float
        With ``sigma_within``: Cp = (USL − LSL) / 6σ; Cpk = min over the smallest and
        largest size of min(USL − centre, centre − LSL) / 3σ. One-sided: Cp NaN, Cpk the
        finite side.
    cp_ci_low, cp_ci_high : float
        χ² interval of Cp with ``sigma_df`` degrees of freedom.
    cpk_ci_low, cpk_ci_high : float
        :func:`~sizecheck.stats.reference.cpk_interval`: the SE of the centre where Cpk
        is taken (over units, the line's uncertainty included) and ``sigma_df``.
    pp, ppk : float
        With ``sigma_overall`` and the mean of all values (performance: what the shoes
        made look like as one population, grading error included).
    ppk_ci_low, ppk_ci_high : float
        The same interval with the mean's SE over units and G − 1 df.
    resolution : float
        The reading resolution used for the σ floor (0: none).
    note : str
        ``at_resolution`` when a σ was raised to resolution / √12, else empty.
    """

    n: int
    n_units: int
    mean: float
    centre_low: float
    centre_high: float
    sigma_within: float
    sigma_method: str
    sigma_df: float
    sigma_overall: float
    cp: float
    cpk: float
    cp_ci_low: float
    cp_ci_high: float
    cpk_ci_low: float
    cpk_ci_high: float
    pp: float
    ppk: float
    ppk_ci_low: float
    ppk_ci_high: float
    resolution: float
    note: str

    def to_frame(self) -> pd.DataFrame:
        """The figures as a one-row DataFrame, one column per attribute (in the order
        above), for tables of several samples: ``pd.concat([c.to_frame() for c in ...])``.

        >>> c = capability([15.0, 17.0, 16.0, 18.0, 14.0, 16.0], lsl=8, usl=20, sigma=2.0)
        >>> c.to_frame()[["n", "cp", "cpk", "sigma_method"]].round(3)
           n   cp    cpk sigma_method
        0  6  1.0  0.667        given
        """
        import pandas as pd

        return pd.DataFrame([asdict(self)])


def _inputs(
    values: npt.ArrayLike, sizes: npt.ArrayLike | None, units: npt.ArrayLike | None,
    subgroups: npt.ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:  # fmt: skip
    x = np.asarray(values, dtype=np.float64)
    arrays: list[Any] = [np.zeros(len(x)) if sizes is None else np.asarray(sizes, dtype=float)]
    arrays.append(np.arange(len(x)) if units is None else np.asarray(units, dtype=object))
    arrays.append(None if subgroups is None else np.asarray(subgroups, dtype=object))
    if any(a is not None and len(a) != len(x) for a in arrays):
        raise UsageError("capability(): sizes, units and subgroups need one entry per value.")
    keep = ~np.isnan(x)
    if np.isinf(x).any():
        raise UsageError(
            f"capability() needs finite values, got {int(np.isinf(x).sum())} infinite."
        )
    if keep.sum() < 2:
        raise UsageError(f"capability() needs at least 2 values, got {int(keep.sum())}.")
    return x[keep], arrays[0][keep], arrays[1][keep], None if arrays[2] is None else arrays[2][keep]


def _cp_interval(cp: float, df: float, confidence: float) -> tuple[float, float]:
    """Cp · √(χ²(α/2, ν)/ν) … Cp · √(χ²(1 − α/2, ν)/ν); Cp itself when σ is known (ν = ∞).

    ``scipy.special.chdtri(ν, q)`` is ``scipy.stats.chi2.isf(q, ν)``.
    """
    from scipy import special

    if math.isinf(df):
        return cp, cp
    if not df > 0:
        return math.nan, math.nan
    a = 1.0 - confidence
    return (
        cp * math.sqrt(float(special.chdtri(df, 1 - a / 2)) / df),
        cp * math.sqrt(float(special.chdtri(df, a / 2)) / df),
    )


def capability(
    values: npt.ArrayLike,
    *,
    lsl: float,
    usl: float,
    sizes: npt.ArrayLike | None = None,
    units: npt.ArrayLike | None = None,
    subgroups: npt.ArrayLike | None = None,
    sigma: str | float = "moving_range",
    sigma_df: float | None = None,
    resolution: float = 0.0,
    confidence: float = 0.95,
) -> Capability:
    """Cp, Cpk, Pp, Ppk of one sample (one producer × dimension), with intervals.

    Parameters
    ----------
    values : array-like of float
        Measurements or deviations (with deviation-space limits), in time order.
    lsl, usl : float
        Specification limits; ``-inf`` / ``inf`` for a one-sided specification.
    sizes : array-like, optional
        The size of each value: the centre is then the grading line (OLS on size) and
        Cpk is taken at the worse of the smallest and largest size, as in
        ``producer_summary.csv``. Default: one size, the centre is the mean.
    units : array-like, optional
        The independent unit of each value (a pair id per left/right pair, at one size);
        default: each value its own.
    subgroups : array-like, optional
        Rational subgroup of each value (``sigma="range"`` or ``"sd"``).
    sigma : {"moving_range", "residual", "range", "sd"} or float, default "moving_range"
        The within σ (see :class:`Capability`), or a known σ. ``producer_summary`` uses
        ``moving_range`` for dated groups, ``residual`` otherwise.
    sigma_df : float, optional
        Degrees of freedom of the within σ for the intervals. Default: by the method —
        0.62 (m − 1) for a moving range of m values (Satterthwaite with pairs), G − k
        for ``residual``, 0.9 k (n − 1) for R̄/d2 and f_n k (n − 1) for S̄/c4 (Minitab),
        infinite for a given σ. qcc and Bissell use n − 1.
    resolution : float, default 0.0
        Reading resolution, mm: no σ below resolution / √12.
    confidence : float, default 0.95

    Returns
    -------
    Capability
        A frozen record; :meth:`Capability.to_frame` gives it as a one-row DataFrame.

    Examples
    --------
    NIST/SEMATECH e-Handbook 6.1.6: USL 20, LSL 8, mean 16, σ 2 gives Cp 1.0, Cpk 0.667.

    >>> c = capability([15.0, 17.0, 16.0, 18.0, 14.0, 16.0], lsl=8, usl=20, sigma=2.0)
    >>> c.cp, round(c.cpk, 3)
    (1.0, 0.667)
    """
    if not lsl < usl:
        raise UsageError(f"capability() needs lsl < usl, got lsl={lsl}, usl={usl}.")
    if not (math.isfinite(resolution) and resolution >= 0):
        raise UsageError(
            f"capability(): resolution must be a finite number >= 0, got {resolution}."
        )
    x, size, unit, groups = _inputs(values, sizes, units, subgroups)
    line = grading_line(size, x, unit)
    resid = line.residuals(size, x)
    if isinstance(sigma, int | float):
        method, s_w, df = "given", float(sigma), math.inf
    elif sigma == "moving_range":
        w = paired_within_sigma(resid, unit)
        method, s_w, df = sigma, w.sigma, w.df
    elif sigma == "residual":
        method, s_w, df = sigma, line.s_shoes, line.df
    elif sigma in ("range", "sd"):
        if groups is None:
            raise UsageError(f"capability(sigma={sigma!r}) needs subgroups.")
        method, (s_w, df) = sigma, subgroup_sigma(resid, groups, method=sigma)
    else:
        raise UsageError(f"capability(): sigma must be one of {SIGMA_METHODS} or a number.")
    df = float(sigma_df) if sigma_df is not None else df
    s_w, raised = (float(v) for v in sigma_floor(s_w, resolution))
    floor = resolution / math.sqrt(12.0)
    line = replace(line, s=max(line.s, floor))  # the line's spread over units, floored too
    bias = mean_interval(x, unit, confidence)
    s_o = float(sigma_floor(float(np.std(x, ddof=1)), resolution)[0])
    low, high = line.at(float(size.min())), line.at(float(size.max()))
    cp, _ = capability_indices(mean=low, sigma=s_w, lsl=lsl, usl=usl)
    cpk = float(cpk_at_ends(line_at_min=low, line_at_max=high, sigma=s_w, lsl=lsl, usl=usl))
    ends = [float(size.min()), float(size.max())] if line.has_line else [float(size.min())]
    index, se = cpk_candidates(
        centres=[line.at(x) for x in ends], se_centres=[line.se_at(x) for x in ends],
        sigma=s_w, lsl=lsl, usl=usl,
    )  # fmt: skip
    cpk_lo, cpk_hi = cpk_interval(index, se_centres=se, sigma=s_w, df=df, confidence=confidence)
    pp, ppk = capability_indices(mean=bias.estimate, sigma=s_o, lsl=lsl, usl=usl)
    se_mean = max(bias.se, floor / math.sqrt(line.n))
    index, se = cpk_candidates(
        centres=[bias.estimate], se_centres=[se_mean], sigma=s_o, lsl=lsl, usl=usl
    )
    ppk_lo, ppk_hi = cpk_interval(
        index, se_centres=se, sigma=s_o, df=bias.df, confidence=confidence
    )
    cp_lo, cp_hi = _cp_interval(float(cp), df, confidence)
    return Capability(
        n=line.n, n_units=int(bias.df + 1), mean=bias.estimate, centre_low=low, centre_high=high,
        sigma_within=s_w, sigma_method=method, sigma_df=df, sigma_overall=s_o,
        cp=float(cp), cpk=cpk,
        cp_ci_low=cp_lo, cp_ci_high=cp_hi,
        cpk_ci_low=float(cpk_lo), cpk_ci_high=float(cpk_hi), pp=float(pp), ppk=float(ppk),
        ppk_ci_low=float(ppk_lo), ppk_ci_high=float(ppk_hi), resolution=resolution,
        note="at_resolution" if raised else "",
    )  # fmt: skip
