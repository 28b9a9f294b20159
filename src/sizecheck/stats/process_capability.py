"""Process capability of one sample: Cp, Cpk, Pp, Ppk with confidence intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sizecheck.errors import UsageError
from sizecheck.stats.reference import D2, bissell_interval, capability_indices

__all__ = ["Capability", "capability", "capability_indices"]


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
    from scipy import special

    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if np.isinf(x).any():
        raise UsageError(
            f"capability() needs finite values, got {int(np.isinf(x).sum())} infinite."
        )
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
    lo, hi = bissell_interval(cpk, n, confidence)
    a = 1.0 - confidence
    df = n - 1.0
    # chi-square quantiles: scipy.special.chdtri(df, q) is scipy.stats.chi2.isf(q, df)
    cp_lo = float(cp) * math.sqrt(float(special.chdtri(df, 1 - a / 2)) / df)
    cp_hi = float(cp) * math.sqrt(float(special.chdtri(df, a / 2)) / df)
    return Capability(
        n=int(n),
        mean=mean,
        sigma_within=s_within,
        sigma_overall=s_overall,
        cp=float(cp),
        cpk=float(cpk),
        pp=float(pp),
        ppk=float(ppk),
        cpk_ci_low=float(lo),
        cpk_ci_high=float(hi),
        cp_ci_low=cp_lo,
        cp_ci_high=cp_hi,
    )
