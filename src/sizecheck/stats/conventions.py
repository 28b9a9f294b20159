"""Sizing conventions: which line through size explains each producer's lengths best?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sizecheck.stats import kernels
from sizecheck.stats.groups import Groups, check_columns, prepare
from sizecheck.stats.reference import gaussian_aic

__all__ = [
    "CONVENTIONS",
    "CONVENTION_COLUMNS",
    "CONVENTION_DELTA_AIC",
    "CONVENTION_TIE_MM",
    "Convention",
    "best_conventions",
    "find_conventions",
]


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

#: Columns of :func:`find_conventions`.
CONVENTION_COLUMNS: tuple[str, ...] = (
    "producer", "dimension", "convention", "description", "n", "n_sizes",
    "mean_residual_mm", "rms_residual_mm", "fitted_shift_mm", "fits", "best",
    "aic", "delta_aic", "own_line_delta_aic", "choice",
)  # fmt: skip

#: Candidates within this ΔAIC of the lowest are not told apart (Burnham & Anderson
#: 2002, §2.6): ``choice`` is then ``undecided``.
CONVENTION_DELTA_AIC = 2.0

_NEEDED = ("producer", "dimension", "size", "value_mm", "nominal_mm", "deviation_mm", "status")


def _best(rms: np.ndarray, conventions: Sequence[Convention]) -> np.ndarray:
    """Per group (row of ``rms``, groups × candidates), which candidate is ``best``."""
    fixed = np.array([not c.fit_intercept for c in conventions], dtype=np.bool_)
    has_rms = ~np.isnan(rms)
    r = np.where(has_rms, rms, np.inf)
    lowest = r.min(axis=1)
    near = fixed[None, :] & has_rms & (r <= lowest[:, None] + CONVENTION_TIE_MM)
    pick = np.where(near.any(axis=1), np.where(near, r, np.inf).argmin(axis=1), r.argmin(axis=1))
    best = np.zeros(rms.shape, dtype=np.bool_)
    best[np.arange(len(rms)), pick] = has_rms.any(axis=1)
    return best


def _choice(
    aic: np.ndarray, own_line: np.ndarray, conventions: Sequence[Convention]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group (row of ``aic``, groups × candidates): ΔAIC, the own line's ΔAIC, and
    the ``choice`` of each candidate (:func:`find_conventions`)."""
    has = ~np.isnan(aic)
    lowest = np.where(has, aic, np.inf).min(axis=1)  # inf for a group without any AIC
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, as a group without AIC should be
        delta = aic - lowest[:, None]
        own = own_line - lowest
    near = has & (delta < CONVENTION_DELTA_AIC)
    # a fitted shift nests every fixed candidate of its slope: when one of those is near
    # too, the simpler one explains as well (its ΔAIC to the nested one is at most 2)
    for j, cj in enumerate(conventions):
        if cj.fit_intercept:
            slope = cj.slope_mm_per_size
            nested = [
                k for k, ck in enumerate(conventions)
                if not ck.fit_intercept and ck.slope_mm_per_size == slope
            ]  # fmt: skip
            if nested:
                near[:, j] &= ~near[:, nested].any(axis=1)
    several = near.sum(axis=1) > 1
    beaten = own <= -CONVENTION_DELTA_AIC  # the producer's own line explains far better
    word = np.where(beaten, "no_convention", np.where(several, "undecided", "chosen"))
    choice = np.where(near, word[:, None], "")
    return delta, own, choice


def find_conventions(
    deviations: pd.DataFrame,
    *,
    dimensions: Sequence[str] = ("last_length", "insole_length"),
    conventions: Sequence[Convention] = CONVENTIONS,
    groups: Groups | None = None,
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
    groups : Groups, optional
        :func:`sizecheck.stats.prepare` of ``deviations``, when already built.

    Returns
    -------
    DataFrame
        One row per producer × dimension × convention, sorted by producer, dimension and
        the order of ``conventions``, with columns (:func:`sizecheck.stats.reference.
        convention_fit` on each group):

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
          among such candidates the lowest RMS). A description, not a test, and not
          what a person is told: the report and the workbook read ``choice``; ``best``
          stays in ``conventions.csv`` for scripts written against it (the lowest RMS
          can "fit" a producer whose own line explains its lengths far better, e.g. one
          growing 0.5 mm per size too little).
        - ``aic``: Akaike's criterion of the candidate with normal errors
          (:func:`~sizecheck.stats.reference.gaussian_aic`; parameters: σ, and the shift
          when fitted), σ̂ = the RMS residual, not below the reading resolution / √12;
          ``delta_aic``: aic − the lowest aic of the producer × dimension;
          ``own_line_delta_aic``: the same for the producer's own least-squares line
          (intercept and slope fitted: 3 parameters) — negative when a line of its own
          explains the lengths better than the best candidate.
        - ``choice``: the model-based decision. Among the candidates with ``delta_aic``
          < ``CONVENTION_DELTA_AIC`` (2) — leaving out a fitted shift when a fixed
          candidate of its slope, which it nests, is among them (the simpler model
          explains as well; a nested model is never more than 2 behind the one with a
          parameter more) —: ``chosen`` when there is one, ``undecided``
          (each of them) when there are several; ``no_convention`` (each of them) when
          the producer's own line is better by 2 or more (``own_line_delta_aic`` ≤ −2:
          e.g. lasts growing 6.17 mm per size are neither Paris point nor 5 mm);
          empty for the others. The AIC counts shoes as independent; pairs and visits
          make it somewhat too decisive.

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
    check_columns(deviations, _NEEDED, "find_conventions()")
    groups = groups or prepare(deviations)
    wanted = groups.keys["dimension"].isin(list(dimensions)).to_numpy(dtype=np.bool_)
    keys = groups.keys[wanted].reset_index(drop=True)
    ng = len(keys)
    if not conventions or ng == 0:
        return pd.DataFrame(columns=list(CONVENTION_COLUMNS))
    rows = wanted[groups.group]
    g = (np.cumsum(wanted) - 1)[groups.group[rows]]  # groups renumbered 0 … ng − 1
    size, value = groups.size[rows], groups.column("value_mm")[rows]
    n = np.bincount(g, minlength=ng)
    n_sizes = kernels.size_range(g, size, ng)[0]
    tol = np.full(ng, np.nan)
    if groups.has("lower_mm") and groups.has("upper_mm"):
        half_band = (groups.column("upper_mm")[rows] - groups.column("lower_mm")[rows]) / 2.0
        with np.errstate(invalid="ignore"):
            tol = kernels.group_median(g, half_band, ng)
    fits: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for slope in dict.fromkeys(c.slope_mm_per_size for c in conventions):
        which = [k for k, c in enumerate(conventions) if c.slope_mm_per_size == slope]
        results = kernels.convention_fits(
            g, size, value, ng, slope=slope,
            allowances=[conventions[k].allowance_mm for k in which],
            fit_intercept=[conventions[k].fit_intercept for k in which],
        )  # fmt: skip
        fits.update(zip(which, results, strict=True))
    parts = []
    for k, conv in enumerate(conventions):
        mean_r, rms, shift = fits[k]
        if conv.fit_intercept:  # a fitted shift needs 3 sizes to be told apart
            rms, shift = np.where(n_sizes >= 3, rms, np.nan), np.where(n_sizes >= 3, shift, np.nan)
        part = keys.assign(
            convention=conv.name, description=conv.description, n=n.astype(np.int64),
            n_sizes=n_sizes, mean_residual_mm=mean_r, rms_residual_mm=rms, fitted_shift_mm=shift,
        )  # fmt: skip
        with np.errstate(invalid="ignore"):
            part["fits"] = np.asarray(rms <= tol, dtype=np.bool_)
        parts.append(part)
    best = _best(np.column_stack([p["rms_residual_mm"].to_numpy() for p in parts]), conventions)
    floor = kernels.reading_resolutions(value, np.concatenate([[0], np.cumsum(n)]))
    floor = floor / np.sqrt(12.0)
    own_rms = _own_line_rms(g, size, value, ng)
    params = [2.0 if c.fit_intercept else 1.0 for c in conventions]
    # σ̂ not below the reading resolution; no AIC where the RMS is NaN (a fitted shift on
    # fewer than 3 sizes): fmax would put the floor in its place and rank it
    aic = np.column_stack(
        [gaussian_aic(np.maximum(p["rms_residual_mm"].to_numpy(), floor), n, k)
         for p, k in zip(parts, params, strict=True)]
    )  # fmt: skip
    aic = np.where(n[:, None] >= 3, aic, np.nan)
    own = np.where(n >= 4, gaussian_aic(np.fmax(own_rms, floor), n, 3.0), np.nan)
    delta, own_delta, choice = _choice(aic, own, conventions)
    for k, part in enumerate(parts):
        part["best"] = best[:, k]
        part["aic"] = aic[:, k]
        part["delta_aic"] = delta[:, k]
        part["own_line_delta_aic"] = own_delta
        part["choice"] = pd.Series(choice[:, k], dtype="str").to_numpy()
    out = pd.concat(parts, ignore_index=True)
    order = np.argsort(np.tile(np.arange(ng), len(conventions)), kind="stable")  # group first
    out = out.iloc[order].reset_index(drop=True)
    out = out.astype({"convention": "str", "description": "str", "choice": "str"})
    return out.loc[:, list(CONVENTION_COLUMNS)]


def _own_line_rms(g: np.ndarray, size: np.ndarray, value: np.ndarray, ng: int) -> np.ndarray:
    """√(SSR / n) of each group's least-squares line of value on size (NaN with fewer
    than two sizes): the grading line of :func:`~sizecheck.stats.reference.grading_line`,
    fitted to the lengths (deviations differ from them by a line in size)."""
    lines = kernels.grading_lines(g, size, value, ng)
    ssr = kernels.sum_of_squares(g, lines.resid, np.zeros(ng))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lines.has_line, np.sqrt(ssr / lines.n), np.nan)


def best_conventions(conventions: pd.DataFrame) -> pd.DataFrame:
    """The lowest-RMS convention per producer × dimension from :func:`find_conventions`
    (``best``; the model-based decision is ``choice``: ``chosen``, ``undecided`` or
    ``no_convention``).

    Returns
    -------
    DataFrame
        The rows of ``conventions`` whose ``best`` is True, same columns, fresh index.
    """
    check_columns(conventions, ("best",), "best_conventions()")
    return conventions[conventions["best"].astype(bool)].reset_index(drop=True)
