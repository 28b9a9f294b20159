"""Power and sample size: how many pairs on how many visits find a given offset or grading.

A QA officer plans to visit a producer ``k`` times and measure ``m`` pairs (both shoes,
``n = 2``) on each visit. Shoes of one visit share a day effect (die, last setting) and
the two shoes of a pair share a pair effect, so the ``k·m·n`` shoes are not independent.
Given

- ``sd_mm`` — the SD of one shoe's deviation around its producer's own line (visit, pair
  and shoe together; ``within_producer_sd_mm`` in ``cluster_summary.csv``),
- ``visit_icc`` — the correlation of two shoes of one visit from different pairs
  (:math:`\\rho_v = \\sigma_v^2/\\sigma^2`; ``visit_icc`` there),
- ``pair_icc`` — the correlation of the two shoes of one pair
  (:math:`\\rho_a = (\\sigma_v^2 + \\sigma_a^2)/\\sigma^2 \\ge \\rho_v`; ``pair_icc`` there),

the variance of a visit's mean deviation is
:math:`\\sigma_v^2 + \\sigma_a^2/m + \\sigma_e^2/(mn) = \\sigma^2\\,\\mathrm{DE}/(mn)` with
the design effect of a three-stage cluster sample

.. math:: \\mathrm{DE} = 1 + (n - 1)\\rho_a + n(m - 1)\\rho_v

(Kish 1965, *Survey Sampling*, §5.4, for two stages, :math:`1 + (b - 1)\\rho`; Donner &
Klar 2000, *Design and Analysis of Cluster Randomization Trials*, ch. 2; the three-stage
form follows by writing out the variance of the mean as above, as in Heo & Leon 2008,
Biometrics 64:1256-1262).

**Offset.** The test that respects the visit as the unit is the one-sample t-test on the
``k`` visit means (``k − 1`` degrees of freedom); its power against an offset ``δ`` is
that of the noncentral t with noncentrality :math:`\\delta/\\sqrt{\\sigma^2\\mathrm{DE}/(kmn)}`
(exact for normal effects and equal visits; Cohen 1988 ch. 2). More pairs per visit
cannot beat the day effect: the variance never falls below :math:`\\sigma_v^2/k`.

**Grading error.** With the pairs of every visit spread over the producer's sizes
(:func:`sizecheck.simulate.spread_sizes`), the slope of deviation on size within
visits (visit as a fixed effect) does not see the day effect at all. On pair means its
variance is :math:`\\tau^2/S_{xx}`, :math:`\\tau^2 = \\sigma_a^2 + \\sigma_e^2/n`,
:math:`S_{xx} = k\\sum(s - \\bar s)^2` over one visit's sizes, with ``k·m − k − 1``
degrees of freedom; power again from the noncentral t.

The figures are checked against :func:`sizecheck.simulate.simulate_cluster` in
``tests/test_power.py`` (observed rejection rate within Monte-Carlo error).

>>> plan = sample_size(offset_mm=1.5, sd_mm=1.0, pair_icc=0.5, visit_icc=0.2)
>>> plan.pairs_per_visit, plan.visits
(2, 4)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from sizecheck.errors import UsageError
from sizecheck.simulate import DEFAULT_SIZES, spread_sizes

__all__ = [
    "DESIGN_COLUMNS",
    "METHOD",
    "SampleSize",
    "design_effect",
    "design_power",
    "power_words",
    "sample_size",
]

#: Columns of :attr:`SampleSize.designs`.
DESIGN_COLUMNS: tuple[str, ...] = (
    "pairs_per_visit",
    "visits",
    "pairs",
    "shoes",
    "design_effect",
    "power_offset",
    "power_grading",
    "recommended",
)

#: How the power is computed, as stated with every plan.
METHOD = (
    "design effect 1 + (n-1)*pair_icc + n(m-1)*visit_icc (Kish 1965; Donner & Klar 2000); "
    "offset: t-test on visit means, k-1 df; grading: slope within visits on pair means, "
    "km-k-1 df; power from the noncentral t"
)


def design_effect(
    pairs_per_visit: int, pair_icc: float, visit_icc: float, shoes_per_pair: int = 2
) -> float:
    """Design effect of ``m`` pairs of ``n`` shoes per visit: ``1 + (n−1)ρa + n(m−1)ρv``.

    The variance of a visit's mean is ``σ² · DE / (m n)`` (module docstring; Kish 1965
    §5.4). With independent shoes (both ICCs 0) it is 1.

    >>> design_effect(6, pair_icc=0.5, visit_icc=0.2)
    3.5
    """
    n, m = shoes_per_pair, pairs_per_visit
    return 1.0 + (n - 1) * pair_icc + n * (m - 1) * visit_icc


def _t_power(noncentrality: float, df: float, alpha: float) -> float:
    """Power of a two-sided t-test at ``alpha``: P(|T| > t_crit) for a noncentral T."""
    if not df > 0 or not math.isfinite(noncentrality):
        return math.nan
    crit = float(special.stdtrit(df, 1.0 - alpha / 2.0))
    # scipy.special.nctdtr returns NaN where the probability underflows far out in a tail
    # (on a grid of df 1-400, noncentrality 0-60: always where the normal tail is below
    # 1e-15); such a probability is 0 here.
    below_upper = float(np.nan_to_num(special.nctdtr(df, noncentrality, crit), nan=0.0))
    below_lower = float(np.nan_to_num(special.nctdtr(df, noncentrality, -crit), nan=0.0))
    return 1.0 - below_upper + below_lower


def _components(sd_mm: float, pair_icc: float, visit_icc: float) -> tuple[float, float, float]:
    """Visit, pair and shoe variances from the total SD and the two ICCs."""
    total = sd_mm**2
    return visit_icc * total, (pair_icc - visit_icc) * total, (1.0 - pair_icc) * total


def _check(
    sd_mm: float, pair_icc: float, visit_icc: float, alpha: float, shoes_per_pair: int
) -> None:
    problems = []
    if not (math.isfinite(sd_mm) and sd_mm > 0):
        problems.append(f"sd_mm must be a positive number of mm, got {sd_mm}")
    if not 0.0 <= visit_icc <= pair_icc < 1.0:
        problems.append(
            f"need 0 <= visit_icc <= pair_icc < 1 (the two shoes of a pair are at least as "
            f"alike as two shoes of a visit), got visit_icc={visit_icc}, pair_icc={pair_icc}"
        )
    if not 0.0 < alpha < 1.0:
        problems.append(f"alpha must lie strictly between 0 and 1, got {alpha}")
    if shoes_per_pair not in (1, 2):
        problems.append(f"shoes_per_pair must be 1 or 2, got {shoes_per_pair}")
    if problems:
        raise UsageError("; ".join(problems) + ".")


def design_power(
    *,
    pairs_per_visit: int,
    visits: int,
    sd_mm: float,
    pair_icc: float,
    visit_icc: float,
    offset_mm: float | None = None,
    grade_error_mm_per_size: float | None = None,
    alpha: float = 0.05,
    shoes_per_pair: int = 2,
    sizes: Sequence[float] = DEFAULT_SIZES,
) -> dict[str, float]:
    """Power of one design (``visits`` visits of ``pairs_per_visit`` pairs) for each effect.

    Parameters
    ----------
    pairs_per_visit, visits : int
        The design: ``m`` pairs measured on each of ``k`` visits.
    sd_mm, pair_icc, visit_icc : float
        The spread of one shoe around its producer's line (mm) and the two correlations
        (module docstring).
    offset_mm : float, optional
        Offset to detect (mm, either sign).
    grade_error_mm_per_size : float, optional
        Grading error to detect (mm per size, either sign).
    alpha : float, default 0.05
        Two-sided significance level.
    shoes_per_pair : {2, 1}, default 2
    sizes : sequence of float, default EU 36-46
        The producer's sizes; each visit's pairs are spread over them (grading only).

    Returns
    -------
    dict
        ``design_effect``, ``power_offset``, ``power_grading`` (NaN for an effect not
        asked for or not testable: one visit for the offset, one pair per visit for the
        grading).

    >>> p = design_power(pairs_per_visit=6, visits=4, sd_mm=1.0, pair_icc=0.5,
    ...                  visit_icc=0.2, offset_mm=1.5)
    >>> round(p["power_offset"], 3)
    0.944
    """
    _check(sd_mm, pair_icc, visit_icc, alpha, shoes_per_pair)
    if pairs_per_visit < 1 or visits < 1:
        raise UsageError(f"need at least 1 pair and 1 visit, got {pairs_per_visit} and {visits}.")
    m, k, n = pairs_per_visit, visits, shoes_per_pair
    de = design_effect(m, pair_icc, visit_icc, n)
    out = {"design_effect": de, "power_offset": math.nan, "power_grading": math.nan}
    if offset_mm is not None and k >= 2:
        se = math.sqrt(sd_mm**2 * de / (k * m * n))
        out["power_offset"] = _t_power(abs(offset_mm) / se, k - 1, alpha)
    if grade_error_mm_per_size is not None and m >= 2:
        _, pair_var, shoe_var = _components(sd_mm, pair_icc, visit_icc)
        tau2 = pair_var + shoe_var / n
        plan = spread_sizes(sizes, m)
        sxx = k * float(np.sum((plan - plan.mean()) ** 2))
        if sxx > 0 and tau2 > 0:
            out["power_grading"] = _t_power(
                abs(grade_error_mm_per_size) / math.sqrt(tau2 / sxx), k * m - k - 1, alpha
            )
    return out


@dataclass(frozen=True)
class SampleSize:
    """A sample-size plan: the smallest designs that reach the power, and the one to use.

    Attributes
    ----------
    designs : DataFrame
        Columns :data:`DESIGN_COLUMNS`: for each number of pairs per visit, the fewest
        visits that reach the power (``visits`` NaN when ``max_visits`` do not).
        ``recommended`` marks the plan below.
    pairs_per_visit, visits : int or None
        The recommended plan: the fewest visits (a visit costs a trip), then the fewest
        pairs per visit; ``None`` when no design within the limits reaches the power.
    power_offset, power_grading : float
        The recommended plan's power for each effect (NaN when not asked for).
    inputs : dict
        The arguments, for the record.
    method : str
        :data:`METHOD`.
    """

    designs: pd.DataFrame
    pairs_per_visit: int | None
    visits: int | None
    power_offset: float
    power_grading: float
    inputs: dict[str, Any]
    method: str = METHOD

    @property
    def reached(self) -> bool:
        """Whether a design within the limits reaches the power."""
        return self.visits is not None

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain values (for ``--json``)."""
        return {
            **self.inputs,
            "pairs_per_visit": self.pairs_per_visit,
            "visits": self.visits,
            "pairs": None if self.visits is None else self.visits * (self.pairs_per_visit or 0),
            "shoes": None
            if self.visits is None
            else self.visits * (self.pairs_per_visit or 0) * self.inputs["shoes_per_pair"],
            "power_offset": None if math.isnan(self.power_offset) else self.power_offset,
            "power_grading": None if math.isnan(self.power_grading) else self.power_grading,
            "method": self.method,
        }


def _fewest_visits(
    visit_range: Sequence[int],
    power: float,
    *,
    offset_mm: float | None,
    grade_error_mm_per_size: float | None,
    **design: Any,
) -> dict[str, Any] | None:
    """The first number of visits in ``visit_range`` at which the design (pairs per visit
    and the rest, as :func:`design_power` takes them) reaches ``power`` for every effect
    asked about, with its :func:`design_power` figures; ``None`` when none does."""
    for k in visit_range:
        p = design_power(
            visits=k, offset_mm=offset_mm, grade_error_mm_per_size=grade_error_mm_per_size,
            **design,
        )  # fmt: skip
        ok = all(
            p[key] >= power
            for key, effect in (
                ("power_offset", offset_mm),
                ("power_grading", grade_error_mm_per_size),
            )
            if effect is not None
        )
        if ok:
            return {"visits": k, **p}
    return None


def sample_size(
    *,
    sd_mm: float,
    pair_icc: float,
    visit_icc: float,
    offset_mm: float | None = None,
    grade_error_mm_per_size: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
    shoes_per_pair: int = 2,
    sizes: Sequence[float] = DEFAULT_SIZES,
    pairs_per_visit: int | None = None,
    visits: int | None = None,
    max_pairs_per_visit: int = 12,
    max_visits: int = 30,
) -> SampleSize:
    """Pairs per visit and visits per producer needed to detect an offset or grading error.

    Parameters
    ----------
    sd_mm : float
        SD of one shoe's deviation around its producer's line, mm (visit, pair and shoe
        together: ``within_producer_sd_mm`` of :func:`sizecheck.cluster_summary`).
    pair_icc, visit_icc : float
        Correlation of the two shoes of a pair, and of two shoes of one visit
        (``pair_icc``, ``visit_icc`` of :func:`sizecheck.cluster_summary`).
    offset_mm : float, optional
        The offset a producer must not hide, mm (e.g. 1.5, the in-spec tolerance).
    grade_error_mm_per_size : float, optional
        The grading error to detect, mm per size (a 5 mm last against Paris point: 1.67).
        At least one of ``offset_mm`` and ``grade_error_mm_per_size``; with both, a
        design must reach ``power`` for each.
    power : float, default 0.8
        Chance of a significant test when the effect is there.
    alpha : float, default 0.05
        Two-sided significance level.
    shoes_per_pair : {2, 1}, default 2
        2: both shoes of every pair measured.
    sizes : sequence of float, default EU 36-46
        The producer's sizes; the pairs of each visit spread over them.
    pairs_per_visit, visits : int, optional
        Fix one (or both) of the design's numbers; the other is searched.
    max_pairs_per_visit, max_visits : int, default 12 and 30
        The search limits.

    Returns
    -------
    SampleSize

    Raises
    ------
    UsageError
        No effect given, or a parameter out of range.
    """
    if offset_mm is None and grade_error_mm_per_size is None:
        raise UsageError("Give the offset (mm) or the grading error (mm per size) to detect.")
    for name, effect in (
        ("offset_mm", offset_mm),
        ("grade_error_mm_per_size", grade_error_mm_per_size),
    ):
        if effect is not None and not (math.isfinite(effect) and effect != 0):
            raise UsageError(f"{name} must be a non-zero number, got {effect}.")
    if not 0.0 < power < 1.0:
        raise UsageError(f"power must lie strictly between 0 and 1, got {power}.")
    _check(sd_mm, pair_icc, visit_icc, alpha, shoes_per_pair)
    pair_range = [pairs_per_visit] if pairs_per_visit else list(range(1, max_pairs_per_visit + 1))
    visit_range = [visits] if visits else list(range(2, max_visits + 1))
    if min(pair_range) < 1 or min(visit_range) < 1:
        raise UsageError("pairs_per_visit and visits must be at least 1.")
    rows = []
    for m in pair_range:
        if grade_error_mm_per_size is not None and m < 2:
            continue  # a slope needs two sizes in a visit
        found = _fewest_visits(
            visit_range,
            power,
            pairs_per_visit=m,
            sd_mm=sd_mm,
            pair_icc=pair_icc,
            visit_icc=visit_icc,
            offset_mm=offset_mm,
            grade_error_mm_per_size=grade_error_mm_per_size,
            alpha=alpha,
            shoes_per_pair=shoes_per_pair,
            sizes=sizes,
        )
        rows.append(
            {
                "pairs_per_visit": m,
                "visits": found["visits"] if found else math.nan,
                "pairs": m * found["visits"] if found else math.nan,
                "shoes": m * found["visits"] * shoes_per_pair if found else math.nan,
                "design_effect": design_effect(m, pair_icc, visit_icc, shoes_per_pair),
                "power_offset": found["power_offset"] if found else math.nan,
                "power_grading": found["power_grading"] if found else math.nan,
                "recommended": False,
            }
        )
    designs = pd.DataFrame(rows, columns=list(DESIGN_COLUMNS))
    for col in ("visits", "pairs", "shoes"):
        designs[col] = designs[col].astype("Int64")
    reached = designs.dropna(subset=["visits"])
    best: pd.Series | None = None
    if len(reached):
        best = reached.sort_values(["visits", "pairs_per_visit"], kind="stable").iloc[0]
        designs.loc[best.name, "recommended"] = True
    inputs = {
        "offset_mm": offset_mm,
        "grade_error_mm_per_size": grade_error_mm_per_size,
        "sd_mm": sd_mm,
        "pair_icc": pair_icc,
        "visit_icc": visit_icc,
        "power": power,
        "alpha": alpha,
        "shoes_per_pair": shoes_per_pair,
        "sizes": [float(s) for s in sizes],
        "max_pairs_per_visit": max(pair_range),
        "max_visits": max(visit_range),
    }
    return SampleSize(
        designs=designs,
        pairs_per_visit=None if best is None else int(best["pairs_per_visit"]),
        visits=None if best is None else int(best["visits"]),
        power_offset=math.nan if best is None else float(best["power_offset"]),
        power_grading=math.nan if best is None else float(best["power_grading"]),
        inputs=inputs,
    )


def _alternatives(plan: SampleSize, limit: int = 4) -> list[tuple[int, int]]:
    """Other designs that reach the power and need fewer pairs per visit than any cheaper one.

    Going from 1 pair per visit upwards, a design is listed when it needs fewer visits
    than every design with fewer pairs (the others only add shoes).
    """
    out: list[tuple[int, int]] = []
    fewest = math.inf
    reached = plan.designs.dropna(subset=["visits"])
    pairs = reached["pairs_per_visit"].to_numpy(dtype=np.int64)
    visits = reached["visits"].to_numpy(dtype=np.int64)
    for m, k in zip(pairs.tolist(), visits.tolist(), strict=True):
        if k < fewest:
            fewest = k
            if (m, k) != (plan.pairs_per_visit, plan.visits):
                out.append((m, k))
    return out[:limit]


def power_words(plan: SampleSize, lang: str = "en") -> list[str]:
    """The plan in plain words, one sentence per line, in ``lang`` ("en" or "id").

    >>> plan = sample_size(offset_mm=1.5, sd_mm=1.0, pair_icc=0.5, visit_icc=0.2)
    >>> print(power_words(plan)[0])  # doctest: +NORMALIZE_WHITESPACE
    To find an offset of 1.5 mm with 80% power (α = 0.05): measure 2 pairs (left and
    right) on each of 4 visits — 8 pairs, 16 shoes per producer.
    """
    from sizecheck.i18n import format_number, t

    inp = plan.inputs

    def num(x: float) -> str:
        return format_number(x, lang, 3).rstrip("0").rstrip(",.")

    def pct(p: float) -> str:  # "> 99" rather than a rounded "100": no plan is certain
        return "> 99" if p > 0.995 else format_number(100.0 * p, lang, 0)

    def pairs(n: int) -> str:
        return t("power.pair_one", lang) if n == 1 else t("power.pairs", lang, n=n)

    effects = []
    if inp["offset_mm"] is not None:
        effects.append(t("power.offset", lang, mm=num(abs(inp["offset_mm"]))))
    if inp["grade_error_mm_per_size"] is not None:
        effects.append(t("power.grading", lang, mm=num(abs(inp["grade_error_mm_per_size"]))))
    goal = t(
        "power.goal",
        lang,
        effect=t("power.and", lang).join(effects),
        power=pct(inp["power"]),
        alpha=num(inp["alpha"]),
    )
    lines: list[str] = []
    if plan.pairs_per_visit is None or plan.visits is None:
        lines.append(goal)
        lines.append(
            t("power.unreached", lang, pairs=inp["max_pairs_per_visit"], visits=inp["max_visits"])
        )
    else:
        m, k, n = plan.pairs_per_visit, plan.visits, inp["shoes_per_pair"]
        shoes = t("power.both_shoes" if n == 2 else "power.one_shoe", lang)
        lines.append(
            goal
            + " "
            + t(
                "power.plan",
                lang,
                pairs=pairs(m),
                shoes=shoes,
                visits=k,
                total=m * k,
                n_shoes=m * k * n,
            )
        )
        values = []
        if not math.isnan(plan.power_offset):
            values.append(t("power.achieved_offset", lang, power=pct(plan.power_offset)))
        if not math.isnan(plan.power_grading):
            values.append(t("power.achieved_grading", lang, power=pct(plan.power_grading)))
        lines.append(t("power.achieved", lang, values=", ".join(values)))
        others = _alternatives(plan)
        if others:
            text = "; ".join(t("power.other", lang, pairs=pairs(a), visits=b) for a, b in others)
            lines.append(t("power.others", lang, plans=text))
    lines.append(
        t(
            "power.assumed",
            lang,
            sd=num(inp["sd_mm"]),
            pair_icc=num(inp["pair_icc"]),
            visit_icc=num(inp["visit_icc"]),
        )
    )
    if inp["visit_icc"] > 0 and inp["offset_mm"] is not None:
        lines.append(t("power.day_effect", lang))
    lines.append(t("power.method", lang))
    return lines
