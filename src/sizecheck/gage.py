"""Can the office's tape, caliper and gauge see a 1.5 mm error? Crossed gage R&R, ANOVA method.

A gage repeatability and reproducibility study measures the same parts (insoles, lasts)
several times (*trials*) by several officers (*operators*). The two-way crossed ANOVA with
interaction splits the variance of the readings into

- **repeatability** (the instrument: the same officer on the same part again),
- **reproducibility** = **operator** + **operator × part** (officers differ),
- **gage R&R** = repeatability + reproducibility (the measurement system),
- **part-to-part** (the parts really differ), and **total** = gage R&R + part-to-part,

as the AIAG *Measurement Systems Analysis* manual, 4th edition (2010), Chapter III, Section
B and Appendix A, does. Each formula is a short reference function below with its source:
:func:`crossed_anova`, :func:`pooled_anova`, :func:`variance_components`,
:func:`study_table`, :func:`distinct_categories`, :func:`aiag_band`, :func:`range_chart`;
:func:`gage_rr` runs them in order on a long frame (one row per reading).

Rules followed (AIAG MSA 4th ed.):

- the interaction is **pooled** into repeatability when its p-value exceeds
  :data:`POOL_INTERACTION_P` (0.25), and the study says so;
- a variance component estimated below zero is **set to zero**, and the study names it;
- study variation is 6σ (:data:`STUDY_VAR_K`); % tolerance = 6σ over the tolerance width;
- number of distinct categories ndc = ⌊1.41 σ_part / σ_GRR⌋;
- bands for % gage R&R: below 10 % acceptable, 10–30 % conditionally acceptable, above
  30 % not acceptable. The verdict uses % tolerance when a tolerance is known (the
  question is whether the system can judge a shoe against its tolerance), else % study
  variation.

Only balanced, complete studies are analysed: every part measured by every operator the
same number of times. Anything else raises :class:`GageDesignError` naming the part ×
operator cells and the trials they lack (no REML fallback: a QA office can re-measure a
missing reading in minutes, and a complete study is what the AIAG method assumes).

:func:`read_study` reads study files with the readers of ``sizecheck measure``
(Excel, Indonesian headers, decimal commas, title rows, merged cells) and accounts for
every row and cell like :func:`sizecheck.validate.read_measurements`.

:class:`GageResult` is the small summary ``sizecheck measure --gage gage.json`` carries;
:func:`gage_sentence` says in English or Indonesian whether the measurement system can
resolve the tolerance.

Examples
--------
>>> import pandas as pd
>>> readings = pd.DataFrame({
...     "part": [1, 1, 2, 2, 3, 3] * 2,
...     "operator": ["A"] * 6 + ["B"] * 6,
...     "trial": [1, 2] * 6,
...     "value_mm": [270.1, 270.2, 272.0, 272.1, 274.0, 273.8,
...                  270.3, 270.2, 272.2, 272.3, 274.1, 274.2]})
>>> study = gage_rr(readings, dimension="insole_length", tolerance_mm=4.0)
>>> study.parts, study.operators, study.trials, study.interaction_pooled
(3, 2, 2, True)
>>> round(float(study.component("gage_rr")["pct_tolerance"]), 1), study.verdict
(22.6, 'conditional')
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from sizecheck import columns
from sizecheck.errors import InputError, MissingColumnsError, UsageError, require_columns
from sizecheck.i18n import Note, note_text
from sizecheck.readers import RawSheet
from sizecheck.schema import DIMENSIONS, STUDY_COLUMNS, match_column, normalise_name, unit_factor
from sizecheck.validate import (
    Accounting,
    RejectCode,
    SourceAccounting,
    parse_numbers,
    reject_text,
)

__all__ = [
    "BANDS",
    "COMPONENT_SOURCES",
    "NDC_FACTOR",
    "POOL_INTERACTION_P",
    "STUDY_COLUMNS",
    "STUDY_VAR_K",
    "Band",
    "GageAnalysis",
    "GageDesignError",
    "GageResult",
    "GageStudy",
    "Study",
    "StudyNote",
    "StudyRejectCode",
    "aiag_band",
    "analyse_study",
    "check_design",
    "crossed_anova",
    "distinct_categories",
    "gage_rr",
    "gage_sentence",
    "judge_gage",
    "load_gage",
    "note_text",
    "pooled_anova",
    "range_chart",
    "read_study",
    "sort_labels",
    "study_table",
    "tolerance_width",
    "variance_components",
]

#: The interaction is pooled into repeatability when its p-value exceeds this (AIAG MSA
#: 4th ed., Appendix A: "if the interaction is not significant at α = 0.25, pool it").
POOL_INTERACTION_P = 0.25

#: Study variation = this many standard deviations (AIAG MSA 4th ed. uses 6σ, 99.73 %).
STUDY_VAR_K = 6.0

#: ndc = ⌊NDC_FACTOR · σ_part / σ_GRR⌋ (AIAG MSA 4th ed., Chapter III, Section B; 1.41 ≈ √2).
NDC_FACTOR = 1.41

#: The verdict bands of % gage R&R: (upper bound, band); AIAG MSA 4th ed., Chapter II,
#: Section D: under 10 % acceptable, 10 to 30 % may be acceptable, over 30 % not.
BANDS: tuple[tuple[float, str], ...] = ((10.0, "acceptable"), (30.0, "conditional"))

Band = Literal["acceptable", "conditional", "unacceptable"]

#: Rows of ``gage.csv``, in order (``columns.GAGE`` are its columns).
COMPONENT_SOURCES: tuple[str, ...] = (
    "repeatability",
    "reproducibility",
    "operator",
    "operator_x_part",
    "gage_rr",
    "part_to_part",
    "total",
)

#: Columns of the ANOVA tables.
ANOVA_COLUMNS: tuple[str, ...] = ("source", "df", "ss", "ms", "f", "p")

#: Columns of a study's readings (:attr:`Study.measurements`).
STUDY_MEASUREMENTS: tuple[str, ...] = (
    "source",
    "row",
    "part",
    "operator",
    "trial",
    "dimension",
    "value_mm",
)


class GageDesignError(InputError):
    """A gage study that is not a complete, balanced crossed design (what is missing is named)."""


# --------------------------------------------------------------------------- design check


def check_design(
    data: pd.DataFrame,
    *,
    part: str = "part",
    operator: str = "operator",
    trial: str = "trial",
) -> tuple[int, int, int]:
    """Check that ``data`` is a complete crossed study; return (parts, operators, trials).

    Every part must be measured by every operator in every trial seen in the study, once.

    Raises
    ------
    GageDesignError
        Fewer than 2 parts, operators or trials; a reading given twice; or part × operator
        cells lacking trials — each named, e.g. ``part 3 × operator Sari lacks trial 2``.
    """
    require_columns(data, [part, operator, trial], "check_design()", error=UsageError)
    keys = data[[part, operator, trial]].astype("str")
    parts = sorted(keys[part].unique(), key=_natural)
    operators = sorted(keys[operator].unique(), key=_natural)
    trials = sorted(keys[trial].unique(), key=_natural)
    few = [
        f"{len(found)} {what} ({', '.join(found) or 'none'})"
        for what, found, need in (
            ("part(s)", parts, 2),
            ("operator(s)", operators, 2),
            ("trial(s)", trials, 2),
        )
        if len(found) < need
    ]
    if few:
        raise GageDesignError(
            "A gage R&R study needs at least 2 parts, 2 operators and 2 trials (AIAG: "
            f"typically 10 × 3 × 3); found {'; '.join(few)}. Measure the same parts again "
            "with more officers or trials ('sizecheck template --gage study.xlsx')."
        )
    twice = keys[keys.duplicated(keep=False)].drop_duplicates()
    if len(twice):
        shown = "; ".join(
            f"part {r[part]} × operator {r[operator]} trial {r[trial]}"
            for _, r in twice.head(8).iterrows()
        )
        raise GageDesignError(f"Readings given more than once: {shown}. Keep one of each.")
    seen = keys.groupby([part, operator], observed=True)[trial].agg(set)
    missing: list[str] = []
    for p in parts:
        for o in operators:
            have = seen.get((p, o), set())
            lack = [t for t in trials if t not in have]
            if lack:
                word = "trial" if len(lack) == 1 else "trials"
                missing.append(f"part {p} × operator {o} lacks {word} {', '.join(lack)}")
    if missing:
        more = f" (and {len(missing) - 12} more)" if len(missing) > 12 else ""
        raise GageDesignError(
            f"The study is incomplete: every part must be measured by every operator in "
            f"every trial ({len(parts)} parts × {len(operators)} operators × {len(trials)} "
            f"trials = {len(parts) * len(operators) * len(trials)} readings; found "
            f"{len(keys)}). Missing: {'; '.join(missing[:12])}{more}. Measure the missing "
            "readings, or remove the part or operator from the study."
        )
    return len(parts), len(operators), len(trials)


def _natural(text: str) -> tuple[Any, ...]:
    """Sort key putting ``2`` before ``10`` and numbers before words."""
    return tuple(
        (0, int(piece), "") if piece.isdigit() else (1, 0, piece.lower())
        for piece in re.findall(r"\d+|\D+", text)
    )


def sort_labels(labels: Sequence[str]) -> list[str]:
    """Part, operator or trial labels in the order a person counts them (2 before 10).

    >>> sort_labels(["10", "2", "B", "a", "1"])
    ['1', '2', '10', 'a', 'B']
    """
    return sorted((str(x) for x in labels), key=_natural)


# --------------------------------------------------------------------------- the formulas


def crossed_anova(
    data: pd.DataFrame,
    *,
    part: str = "part",
    operator: str = "operator",
    value: str = "value_mm",
) -> pd.DataFrame:
    """Two-way crossed ANOVA with interaction of a balanced study (random effects).

    With p parts, o operators and r trials, ȳ the grand mean, ȳᵢ.. part means, ȳ.ⱼ.
    operator means and ȳᵢⱼ. cell means::

        SS_part     = o·r·Σᵢ (ȳᵢ.. − ȳ)²                      df = p − 1
        SS_operator = p·r·Σⱼ (ȳ.ⱼ. − ȳ)²                      df = o − 1
        SS_op×part  = r·Σᵢⱼ (ȳᵢⱼ. − ȳᵢ.. − ȳ.ⱼ. + ȳ)²          df = (p − 1)(o − 1)
        SS_repeat   = Σᵢⱼₖ (yᵢⱼₖ − ȳᵢⱼ.)²                      df = p·o·(r − 1)
        MS = SS / df;  F_op×part = MS_op×part / MS_repeat;
        F_part = MS_part / MS_op×part;  F_operator = MS_operator / MS_op×part

    Sources: AIAG MSA 4th ed. (2010), Appendix A, Table A 1; Montgomery, *Introduction to
    Statistical Quality Control*, 6th ed. (2009), §8.7.2. Main effects are tested against
    the interaction (random-effects model), as AIAG Appendix A, Montgomery and Minitab do.

    Returns
    -------
    pandas.DataFrame
        ``source`` (``part``, ``operator``, ``operator_x_part``, ``repeatability``,
        ``total``), ``df``, ``ss``, ``ms``, ``f``, ``p`` (``f``/``p`` NaN where there is no
        test).
    """
    y = data[value].to_numpy(dtype=np.float64)
    grand = float(y.mean())
    part_mean = data.groupby(part, observed=True)[value].transform("mean").to_numpy(np.float64)
    oper_mean = data.groupby(operator, observed=True)[value].transform("mean").to_numpy(np.float64)
    cell_mean = (
        data.groupby([part, operator], observed=True)[value].transform("mean").to_numpy(np.float64)
    )
    p = int(data[part].nunique())
    o = int(data[operator].nunique())
    n = len(y)
    # Each sum below is taken over the n readings, so every part (cell) mean counts r·o (r)
    # times: Σ over readings of (ȳᵢ.. − ȳ)² = o·r·Σᵢ (ȳᵢ.. − ȳ)², and so on.
    ss_part = float(((part_mean - grand) ** 2).sum())
    ss_oper = float(((oper_mean - grand) ** 2).sum())
    ss_inter = float(((cell_mean - part_mean - oper_mean + grand) ** 2).sum())
    ss_rep = float(((y - cell_mean) ** 2).sum())
    ss_total = float(((y - grand) ** 2).sum())
    df_part, df_oper = p - 1, o - 1
    df_inter = df_part * df_oper
    df_rep = n - p * o
    ms = {
        "part": ss_part / df_part,
        "operator": ss_oper / df_oper,
        "operator_x_part": ss_inter / df_inter,
        "repeatability": ss_rep / df_rep if df_rep else math.nan,
    }
    f_inter = _ratio(ms["operator_x_part"], ms["repeatability"])
    f_part = _ratio(ms["part"], ms["operator_x_part"])
    f_oper = _ratio(ms["operator"], ms["operator_x_part"])
    rows = [
        ("part", df_part, ss_part, ms["part"], f_part, _f_sf(f_part, df_part, df_inter)),
        ("operator", df_oper, ss_oper, ms["operator"], f_oper, _f_sf(f_oper, df_oper, df_inter)),
        (
            "operator_x_part",
            df_inter,
            ss_inter,
            ms["operator_x_part"],
            f_inter,
            _f_sf(f_inter, df_inter, df_rep),
        ),
        ("repeatability", df_rep, ss_rep, ms["repeatability"], math.nan, math.nan),
        ("total", n - 1, ss_total, math.nan, math.nan, math.nan),
    ]
    return pd.DataFrame(rows, columns=list(ANOVA_COLUMNS))


def pooled_anova(full: pd.DataFrame) -> pd.DataFrame:
    """The ANOVA without interaction: the interaction pooled into repeatability.

    ::

        SS_pooled = SS_op×part + SS_repeat,  df_pooled = df_op×part + df_repeat
        MS_pooled = SS_pooled / df_pooled;   F = MS_part / MS_pooled, MS_operator / MS_pooled

    Source: AIAG MSA 4th ed. (2010), Appendix A (pooling a non-significant interaction);
    the same as fitting ``y ~ part + operator``.

    Parameters
    ----------
    full : pandas.DataFrame
        The table of :func:`crossed_anova`.

    Returns
    -------
    pandas.DataFrame
        ``source`` (``part``, ``operator``, ``repeatability`` (pooled), ``total``), ``df``,
        ``ss``, ``ms``, ``f``, ``p``.
    """
    row = _by_source(full)
    df_pool = row["operator_x_part"]["df"] + row["repeatability"]["df"]
    ss_pool = row["operator_x_part"]["ss"] + row["repeatability"]["ss"]
    ms_pool = ss_pool / df_pool
    out = []
    for source in ("part", "operator"):
        df, ss, ms = row[source]["df"], row[source]["ss"], row[source]["ms"]
        f = _ratio(ms, ms_pool)
        out.append((source, int(df), ss, ms, f, _f_sf(f, df, df_pool)))
    out.append(("repeatability", int(df_pool), ss_pool, ms_pool, math.nan, math.nan))
    total = row["total"]
    out.append(("total", int(total["df"]), total["ss"], math.nan, math.nan, math.nan))
    return pd.DataFrame(out, columns=list(ANOVA_COLUMNS))


def _by_source(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The rows of an ANOVA or gage table as plain floats, by source."""
    numbers = [c for c in table.columns if c != "source"]
    return {
        str(src): {c: float(v) for c, v in zip(numbers, vals, strict=True)}
        for src, *vals in table[["source", *numbers]].itertuples(index=False)
    }


def variance_components(
    ms_part: float,
    ms_operator: float,
    ms_interaction: float,
    ms_repeatability: float,
    *,
    parts: int,
    operators: int,
    trials: int,
    pooled: bool,
) -> dict[str, float]:
    """Variance components from the mean squares (expected mean squares, random effects).

    With interaction (p parts, o operators, r trials)::

        σ²_repeat = MS_repeat
        σ²_op×part = (MS_op×part − MS_repeat) / r
        σ²_operator = (MS_operator − MS_op×part) / (p·r)
        σ²_part = (MS_part − MS_op×part) / (o·r)

    Pooled (``ms_repeatability`` is then MS_pooled; ``ms_interaction`` is not used)::

        σ²_repeat = MS_pooled,  σ²_op×part = 0
        σ²_operator = (MS_operator − MS_pooled) / (p·r)
        σ²_part = (MS_part − MS_pooled) / (o·r)

    Then σ²_reproducibility = σ²_operator + σ²_op×part, σ²_GRR = σ²_repeat +
    σ²_reproducibility, σ²_total = σ²_GRR + σ²_part. Sources: AIAG MSA 4th ed. (2010),
    Appendix A, Table A 2; Montgomery (2009), §8.7.2, Eq. 8.30–8.33.

    The estimates are returned as computed (a negative one is possible when a mean square
    is smaller than the one it is tested against); :func:`gage_rr` sets them to zero.

    Returns
    -------
    dict
        ``repeatability, operator, operator_x_part, part_to_part`` in mm².
    """
    if pooled:
        return {
            "repeatability": ms_repeatability,
            "operator": (ms_operator - ms_repeatability) / (parts * trials),
            "operator_x_part": 0.0,
            "part_to_part": (ms_part - ms_repeatability) / (operators * trials),
        }
    return {
        "repeatability": ms_repeatability,
        "operator": (ms_operator - ms_interaction) / (parts * trials),
        "operator_x_part": (ms_interaction - ms_repeatability) / trials,
        "part_to_part": (ms_part - ms_interaction) / (operators * trials),
    }


def study_table(
    components: Mapping[str, float],
    *,
    tolerance_mm: float | None = None,
    k: float = STUDY_VAR_K,
) -> pd.DataFrame:
    """The gage table of ``gage.csv`` from the four basic variance components.

    For each source, with σ² its variance and σ²_total = σ²_GRR + σ²_part::

        % contribution = 100 · σ² / σ²_total
        study variation = k · σ                      (k = 6)
        % study variation = 100 · σ / σ_total
        % tolerance = 100 · k · σ / tolerance width

    Source: AIAG MSA 4th ed. (2010), Chapter III, Section B ("% of total variation", "%
    of tolerance"); the same table Minitab and R's SixSigma ``ss.rr`` print.

    Parameters
    ----------
    components : mapping
        ``repeatability, operator, operator_x_part, part_to_part`` variances in mm²
        (already set to zero where negative).
    tolerance_mm : float, optional
        Width of the tolerance (upper − lower limit); ``pct_tolerance`` is NaN without it.
    k : float, default 6

    Returns
    -------
    pandas.DataFrame
        One row per source of :data:`COMPONENT_SOURCES`; columns :data:`columns.GAGE`.
    """
    rep = components["repeatability"]
    oper = components["operator"]
    inter = components["operator_x_part"]
    part = components["part_to_part"]
    reprod = oper + inter
    grr = rep + reprod
    total = grr + part
    var = np.array([rep, reprod, oper, inter, grr, part, total], dtype=np.float64)
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_contribution = 100.0 * var / total
        pct_study = 100.0 * sd / math.sqrt(total)
    pct_tol = (
        100.0 * k * sd / tolerance_mm
        if tolerance_mm is not None and tolerance_mm > 0
        else np.full(len(var), np.nan)
    )
    return pd.DataFrame(
        {
            "source": list(COMPONENT_SOURCES),
            "variance_mm2": var,
            "pct_contribution": pct_contribution,
            "sd_mm": sd,
            "study_var_mm": k * sd,
            "pct_study_var": pct_study,
            "pct_tolerance": pct_tol,
        },
        columns=list(columns.GAGE),
    )


def distinct_categories(sd_part: float, sd_gage_rr: float) -> int | None:
    """Number of distinct categories the system tells apart: ndc = ⌊1.41 · σ_part / σ_GRR⌋.

    Source: AIAG MSA 4th ed. (2010), Chapter III, Section B: "ndc = 1.41 (PV/GRR)",
    truncated to an integer; at least 5 is asked for. ``None`` when σ_GRR is zero (the
    readings never differ: the number is unbounded).

    >>> distinct_categories(0.25365, 0.14793)
    2
    """
    if sd_gage_rr <= 0 or not math.isfinite(sd_gage_rr):
        return None
    return math.floor(NDC_FACTOR * sd_part / sd_gage_rr)


def aiag_band(pct: float) -> Band:
    """AIAG band of a % gage R&R: ``acceptable`` (< 10), ``conditional`` (10–30), else
    ``unacceptable``. Source: AIAG MSA 4th ed. (2010), Chapter II, Section D.

    >>> aiag_band(9.9), aiag_band(10.0), aiag_band(30.0), aiag_band(30.1)
    ('acceptable', 'conditional', 'conditional', 'unacceptable')
    """
    if pct < BANDS[0][0]:
        return "acceptable"
    if pct <= BANDS[1][0]:
        return "conditional"
    return "unacceptable"


#: D3 and D4 for the range chart by subgroup size n = 2..10 (ASTM Manual on Presentation of
#: Data and Control Chart Analysis, 8th ed., Table 49; the same in AIAG SPC 2nd ed.).
RANGE_CHART_D3_D4: Mapping[int, tuple[float, float]] = {
    2: (0.0, 3.267),
    3: (0.0, 2.574),
    4: (0.0, 2.282),
    5: (0.0, 2.114),
    6: (0.0, 2.004),
    7: (0.076, 1.924),
    8: (0.136, 1.864),
    9: (0.184, 1.816),
    10: (0.223, 1.777),
}


def range_chart(
    data: pd.DataFrame,
    *,
    part: str = "part",
    operator: str = "operator",
    value: str = "value_mm",
) -> pd.DataFrame:
    """The range chart by operator: the range of each part's trials, with R̄ and its limits.

    ::

        Rᵢⱼ = max_k yᵢⱼₖ − min_k yᵢⱼₖ;  R̄ = mean of all Rᵢⱼ
        UCL_R = D4 · R̄,  LCL_R = D3 · R̄   (D3, D4 for n = trials)

    Source: AIAG MSA 4th ed. (2010), Chapter III, Section B (range chart, "all ranges in
    control" before the ANOVA is read); constants from :data:`RANGE_CHART_D3_D4` (no
    limits beyond 10 trials).

    Returns
    -------
    pandas.DataFrame
        One row per operator × part: ``operator, part, mean_mm, range_mm, center_mm,
        lcl_mm, ucl_mm, out`` (``out``: the range is above the upper limit).
    """
    cells = data.groupby([operator, part], observed=True, sort=False)[value]
    out = cells.agg(mean_mm="mean", low="min", high="max", n="size").reset_index()
    out = out.rename(columns={operator: "operator", part: "part"})
    out["range_mm"] = out["high"] - out["low"]
    rbar = float(out["range_mm"].mean())
    d3, d4 = RANGE_CHART_D3_D4.get(int(out["n"].max()), (math.nan, math.nan))
    out["center_mm"] = rbar
    out["lcl_mm"] = d3 * rbar
    out["ucl_mm"] = d4 * rbar
    out["out"] = out["range_mm"] > out["ucl_mm"] + 1e-12
    return out[["operator", "part", "mean_mm", "range_mm", "center_mm", "lcl_mm", "ucl_mm", "out"]]


def _ratio(a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
        return math.inf if a > 0 and b == 0 else math.nan
    return a / b


def _f_sf(f: float, df1: float, df2: float) -> float:
    from scipy import stats

    if math.isnan(f) or df1 <= 0 or df2 <= 0:
        return math.nan
    return float(stats.f.sf(f, df1, df2))


# --------------------------------------------------------------------------- the study


@dataclass(frozen=True, eq=False)
class GageStudy:
    """A crossed gage R&R study analysed by the ANOVA method (:func:`gage_rr`).

    Attributes
    ----------
    dimension : str
        What was measured (``insole_length`` …, or ``value``).
    parts, operators, trials : int
        Size of the study.
    tolerance_mm : float or None
        Tolerance width (upper − lower limit) used for % tolerance.
    anova : pandas.DataFrame
        The full two-way table with interaction (:func:`crossed_anova`).
    anova_pooled : pandas.DataFrame or None
        The table without interaction (:func:`pooled_anova`) when the interaction was pooled.
    interaction_p : float
        p-value of the operator × part interaction.
    interaction_pooled : bool
        Whether the interaction was pooled into repeatability (p > :data:`POOL_INTERACTION_P`).
    components : pandas.DataFrame
        ``gage.csv``: one row per source of :data:`COMPONENT_SOURCES`, columns
        :data:`sizecheck.columns.GAGE`.
    ndc : int or None
        Number of distinct categories.
    verdict : {"acceptable", "conditional", "unacceptable"}
        AIAG band of the gage R&R row's ``pct_tolerance`` (or ``pct_study_var`` without a
        tolerance; see ``verdict_basis``).
    verdict_basis : {"pct_tolerance", "pct_study_var"}
    zeroed : tuple of str
        Components whose estimate was negative and was set to zero.
    readings : pandas.DataFrame
        The readings analysed: ``part, operator, trial, value_mm`` (text keys).
    ranges : pandas.DataFrame
        The range chart by operator (:func:`range_chart`).
    """

    dimension: str
    parts: int
    operators: int
    trials: int
    tolerance_mm: float | None
    anova: pd.DataFrame
    anova_pooled: pd.DataFrame | None
    interaction_p: float
    interaction_pooled: bool
    components: pd.DataFrame
    ndc: int | None
    verdict: Band
    verdict_basis: Literal["pct_tolerance", "pct_study_var"]
    zeroed: tuple[str, ...]
    readings: pd.DataFrame = field(repr=False)
    ranges: pd.DataFrame = field(repr=False)

    def component(self, source: str) -> pd.Series:
        """The ``gage.csv`` row of ``source`` (``gage_rr``, ``part_to_part`` …)."""
        rows = self.components.set_index("source")
        if source not in rows.index:
            raise UsageError(f"No component {source!r}; one of {', '.join(COMPONENT_SOURCES)}.")
        row = rows.loc[source]
        assert isinstance(row, pd.Series)
        return row

    @property
    def pct_gage_rr(self) -> float:
        """% gage R&R the verdict is based on (% tolerance, else % study variation)."""
        return float(self.component("gage_rr")[self.verdict_basis])

    def to_dict(self) -> dict[str, Any]:
        """The content of ``gage.json`` (contract keys first, then the ANOVA and the rules)."""
        comps = [
            {k: _json_number(v) for k, v in row.items()}
            for row in self.components.to_dict(orient="records")
        ]
        return {
            "dimension": self.dimension,
            "parts": self.parts,
            "operators": self.operators,
            "trials": self.trials,
            "tolerance_mm": self.tolerance_mm,
            "interaction_p": _json_number(self.interaction_p),
            "interaction_pooled": self.interaction_pooled,
            "ndc": self.ndc,
            "verdict": self.verdict,
            "components": comps,
            "verdict_basis": self.verdict_basis,
            "zeroed_components": list(self.zeroed),
            "rules": {
                "method": "ANOVA, two-way crossed with interaction (AIAG MSA 4th ed.)",
                "pool_interaction_p": POOL_INTERACTION_P,
                "study_var_k": STUDY_VAR_K,
                "ndc_factor": NDC_FACTOR,
                "bands_pct": {"acceptable_below": 10.0, "conditional_up_to": 30.0},
            },
            "anova": _anova_records(self.anova),
            "anova_pooled": (
                _anova_records(self.anova_pooled) if self.anova_pooled is not None else None
            ),
        }

    def result(self, *, source: str = "") -> GageResult:
        """The small summary ``sizecheck measure --gage`` carries (:class:`GageResult`)."""
        return GageResult.from_dict(self.to_dict(), source=source)


def _json_number(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _anova_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): _json_number(v) for k, v in row.items()} for row in table.to_dict(orient="records")
    ]


def gage_rr(
    data: pd.DataFrame,
    *,
    part: str = "part",
    operator: str = "operator",
    trial: str = "trial",
    value: str = "value_mm",
    dimension: str = "value",
    tolerance_mm: float | None = None,
) -> GageStudy:
    """Analyse a crossed gage R&R study by the ANOVA method (AIAG MSA 4th ed.).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per reading (long): part, operator, trial and value columns. Not modified.
    part, operator, trial, value : str
        Column names.
    dimension : str, default "value"
        What was measured, carried into the result.
    tolerance_mm : float, optional
        Tolerance width (upper − lower limit, e.g. 3.0 for ±1.5 mm): gives % tolerance,
        and the verdict is then based on it.

    Returns
    -------
    GageStudy

    Raises
    ------
    GageDesignError
        Not a complete, balanced crossed study (:func:`check_design`).
    UsageError
        Missing columns, values that are not finite numbers, or a tolerance ≤ 0.
    """
    require_columns(data, [part, operator, trial, value], "gage_rr()", error=UsageError)
    if tolerance_mm is not None and not (math.isfinite(tolerance_mm) and tolerance_mm > 0):
        raise UsageError(
            f"The tolerance width must be a positive number of mm; got {tolerance_mm}."
        )
    values = pd.to_numeric(data[value], errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise UsageError(f"gage_rr(): column {value!r} must hold finite numbers only.")
    readings = pd.DataFrame(
        {
            "part": data[part].astype("str").to_numpy(),
            "operator": data[operator].astype("str").to_numpy(),
            "trial": data[trial].astype("str").to_numpy(),
            "value_mm": values,
        }
    )
    n_parts, n_operators, n_trials = check_design(readings)
    full = crossed_anova(readings)
    interaction_p = _by_source(full)["operator_x_part"]["p"]
    # p is NaN when repeatability is zero (every trial equal): nothing to pool into.
    pooled = math.isfinite(interaction_p) and interaction_p > POOL_INTERACTION_P
    table = pooled_anova(full) if pooled else full
    ms = {source: row["ms"] for source, row in _by_source(table).items()}
    raw = variance_components(
        ms["part"],
        ms["operator"],
        ms.get("operator_x_part", math.nan),
        ms["repeatability"],
        parts=n_parts,
        operators=n_operators,
        trials=n_trials,
        pooled=pooled,
    )
    zeroed = tuple(name for name, v in raw.items() if v < 0)
    comps = {name: max(v, 0.0) for name, v in raw.items()}
    components = study_table(comps, tolerance_mm=tolerance_mm)
    rows = _by_source(components)
    ndc = distinct_categories(rows["part_to_part"]["sd_mm"], rows["gage_rr"]["sd_mm"])
    basis: Literal["pct_tolerance", "pct_study_var"] = (
        "pct_tolerance" if tolerance_mm is not None else "pct_study_var"
    )
    grr_pct = rows["gage_rr"][basis]
    verdict = aiag_band(grr_pct) if math.isfinite(grr_pct) else "unacceptable"
    return GageStudy(
        dimension=dimension,
        parts=n_parts,
        operators=n_operators,
        trials=n_trials,
        tolerance_mm=tolerance_mm,
        anova=full,
        anova_pooled=table if pooled else None,
        interaction_p=interaction_p,
        interaction_pooled=pooled,
        components=components,
        ndc=ndc,
        verdict=verdict,
        verdict_basis=basis,
        zeroed=zeroed,
        readings=readings,
        ranges=range_chart(readings),
    )


def tolerance_width(table: Any, dimension: str) -> float:
    """Width of the in-spec band of ``dimension`` in a reference table (``minus + plus``).

    Raises
    ------
    UsageError
        The table lacks the dimension, has no tolerance for it, or only a one-sided one
        (a minimum or maximum has no width: pass ``--tolerance``).
    """
    tol = table.dimension(dimension).tolerance
    if tol is None or tol.type in {"min", "max"}:
        kind = "no tolerance" if tol is None else f"a one-sided ({tol.type}) tolerance"
        raise UsageError(
            f"Table {table.name!r} has {kind} for {dimension}: no width to compare the "
            "measurement spread with. Pass --tolerance MM (the width, e.g. 3 for ±1.5 mm)."
        )
    return float(tol.minus + tol.plus)


# --------------------------------------------------------------------------- link to measure


@dataclass(frozen=True)
class GageResult:
    """What ``sizecheck measure --gage gage.json`` needs of a study: the gage R&R spread.

    Attributes
    ----------
    dimension : str
    sd_gage_rr_mm : float
        σ of the measurement system (repeatability + reproducibility).
    study_var_mm : float
        6 σ_GRR.
    tolerance_mm : float or None
        Tolerance width the percentages refer to (the study's, or the reference table's
        in-spec band once :meth:`against` was called).
    pct_tolerance, pct_study_var : float or None
        % tolerance (None without a tolerance) and % study variation of gage R&R.
    ndc : int or None
    verdict : {"acceptable", "conditional", "unacceptable"}
    verdict_basis : {"pct_tolerance", "pct_study_var"}
    interaction_pooled : bool
    source : str
        The gage.json the result was read from (empty when built in memory).
    """

    dimension: str
    sd_gage_rr_mm: float
    study_var_mm: float
    tolerance_mm: float | None
    pct_tolerance: float | None
    pct_study_var: float | None
    ndc: int | None
    verdict: Band
    verdict_basis: Literal["pct_tolerance", "pct_study_var"]
    interaction_pooled: bool
    source: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "") -> GageResult:
        """Build from the content of ``gage.json`` (:meth:`GageStudy.to_dict`).

        Raises
        ------
        InputError
            A key or the ``gage_rr`` component is missing or not a number.
        """
        where = source or "gage.json"
        try:
            grr = next(c for c in data["components"] if c.get("source") == "gage_rr")
            sd = float(grr["sd_mm"])
            tol = data.get("tolerance_mm")
            ndc = data.get("ndc")
            verdict = str(data["verdict"])
            basis = str(
                data.get("verdict_basis")
                or ("pct_tolerance" if tol is not None else "pct_study_var")
            )
            pooled = bool(data["interaction_pooled"])
            dimension = str(data["dimension"])
        except (KeyError, TypeError, ValueError, StopIteration, AttributeError) as exc:
            raise InputError(
                f"{where}: not a gage.json written by 'sizecheck gage' ({type(exc).__name__}: "
                f"{exc}). Run 'sizecheck gage STUDY.xlsx' and pass its gage.json."
            ) from None
        if verdict not in {"acceptable", "conditional", "unacceptable"} or basis not in {
            "pct_tolerance",
            "pct_study_var",
        }:
            raise InputError(f"{where}: unknown verdict {verdict!r} or basis {basis!r}.")
        if not (math.isfinite(sd) and sd >= 0):
            raise InputError(f"{where}: the gage R&R standard deviation is not a number.")
        return cls(
            dimension=dimension,
            sd_gage_rr_mm=sd,
            study_var_mm=STUDY_VAR_K * sd,
            tolerance_mm=float(tol) if tol is not None else None,
            pct_tolerance=_optional_float(grr.get("pct_tolerance")),
            pct_study_var=_optional_float(grr.get("pct_study_var")),
            ndc=int(ndc) if ndc is not None else None,
            verdict=verdict,  # type: ignore[arg-type]
            verdict_basis=basis,  # type: ignore[arg-type]
            interaction_pooled=pooled,
            source=source,
        )

    def against(self, tolerance_mm: float) -> GageResult:
        """The same spread judged against another tolerance width (e.g. the table's band).

        % tolerance = 100 · 6 σ_GRR / width (AIAG MSA 4th ed.), and the verdict its band.
        """
        if not (math.isfinite(tolerance_mm) and tolerance_mm > 0):
            raise UsageError(f"The tolerance width must be positive; got {tolerance_mm}.")
        pct = 100.0 * self.study_var_mm / tolerance_mm
        return replace(
            self,
            tolerance_mm=tolerance_mm,
            pct_tolerance=pct,
            verdict=aiag_band(pct),
            verdict_basis="pct_tolerance",
        )

    @property
    def resolves(self) -> bool:
        """Whether the system can judge the tolerance without reservation (band acceptable)."""
        return self.verdict == "acceptable"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form, for ``summary.json``."""
        return {
            "source": self.source,
            "dimension": self.dimension,
            "sd_gage_rr_mm": self.sd_gage_rr_mm,
            "study_var_mm": self.study_var_mm,
            "tolerance_mm": self.tolerance_mm,
            "pct_tolerance": self.pct_tolerance,
            "pct_study_var": self.pct_study_var,
            "ndc": self.ndc,
            "verdict": self.verdict,
            "verdict_basis": self.verdict_basis,
            "interaction_pooled": self.interaction_pooled,
            "resolves_tolerance": self.resolves,
            "widens_verdicts": False,
        }


def _optional_float(value: Any) -> float | None:
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def judge_gage(result: GageResult, table: Any) -> GageResult:
    """The study's spread judged against ``table``'s in-spec band for its dimension.

    % tolerance = 100 · 6 σ_GRR / (width of the table's in-spec band); the AIAG band
    follows (:meth:`GageResult.against`). When the table has no two-sided tolerance for
    the dimension (or lacks it), the result is returned as the study computed it.
    """
    try:
        width = tolerance_width(table, result.dimension)
    except UsageError:
        return result
    return result.against(width)


def load_gage(path: str | os.PathLike[str]) -> GageResult:
    """Read a ``gage.json`` written by ``sizecheck gage`` into a :class:`GageResult`.

    Raises
    ------
    InputError
        The file is missing, not JSON, or not a gage.json.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: no such file. Pass the gage.json 'sizecheck gage' wrote.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{p}: not a readable gage.json ({type(exc).__name__}).") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: not a gage.json written by 'sizecheck gage'.")
    return GageResult.from_dict(data, source=p.name)


def gage_sentence(result: GageResult, lang: str = "en") -> str:
    """One sentence saying whether the measurement system can resolve the tolerance.

    The numbers come from ``result``; the words from the catalogue (``gage.sentence.*``).
    It always ends by saying that no verdict was widened for the measurement error.

    >>> r = GageResult("insole_length", 0.1, 0.6, 3.0, 20.0, 35.0, 3, "conditional",
    ...                "pct_tolerance", True)
    >>> gage_sentence(r)  # doctest: +ELLIPSIS
    'Measuring insole length (gage R&R study): ... 20.0% of the tolerance of 3.0 mm — ...'
    """
    from sizecheck.i18n import dimension_label, format_number, t

    what = dimension_label(result.dimension, lang).lower()
    if result.pct_tolerance is not None and result.tolerance_mm is not None:
        head = t(
            "gage.sentence.tolerance",
            lang,
            dimension=what,
            spread=format_number(result.study_var_mm, lang, 2),
            pct=format_number(result.pct_tolerance, lang, 1),
            tolerance=format_number(result.tolerance_mm, lang, 1),
        )
    else:
        head = t(
            "gage.sentence.study",
            lang,
            dimension=what,
            spread=format_number(result.study_var_mm, lang, 2),
            pct=format_number(result.pct_study_var, lang, 1),
        )
    resolve = t(RESOLVE_KEYS[result.verdict], lang)
    return f"{head} — {resolve} {t('gage.sentence.no_widening', lang)}"


#: Catalogue keys of each band: the band's name, and what it means for the tolerance.
BAND_KEYS: Mapping[str, str] = {
    "acceptable": "gage.band.acceptable",
    "conditional": "gage.band.conditional",
    "unacceptable": "gage.band.unacceptable",
}
RESOLVE_KEYS: Mapping[str, str] = {
    "acceptable": "gage.resolve.acceptable",
    "conditional": "gage.resolve.conditional",
    "unacceptable": "gage.resolve.unacceptable",
}


# --------------------------------------------------------------------------- reading a study


#: The reject codes of a study row lacking a key are :class:`RejectCode`'s ``missing_part``,
#: ``missing_operator`` and ``missing_trial``; this name stays for one release.
StudyRejectCode = RejectCode


@dataclass(frozen=True, eq=False)
class Study:
    """The readings of a gage study as read from its files (:func:`read_study`).

    Attributes
    ----------
    measurements : pandas.DataFrame
        One row per accepted reading: ``source, row, part, operator, trial, dimension,
        value_mm`` (keys as text).
    rejects : pandas.DataFrame
        ``source, row, column, value, code, message`` (:data:`sizecheck.columns.REJECTS`).
    accounting : sizecheck.validate.Accounting
        ``rows_read = rows_used + rows_rejected``, ``cells_read = cells_used +
        cells_rejected``, per source and in total.
    notes : tuple of str
    sheets : tuple of RawSheet
    """

    measurements: pd.DataFrame
    rejects: pd.DataFrame
    accounting: Accounting
    notes: tuple[str, ...] = ()
    sheets: tuple[RawSheet, ...] = field(default=(), repr=False)

    @property
    def dimensions(self) -> list[str]:
        """The dimensions measured, sorted."""
        return sorted(self.measurements["dimension"].astype("str").unique().tolist())

    def readings(self, dimension: str | None = None) -> pd.DataFrame:
        """The readings of one dimension (the only one when ``dimension`` is None).

        Raises
        ------
        UsageError
            Several dimensions and none chosen, or the chosen one was not measured.
        """
        dims = self.dimensions
        if not dims:
            counts = self.rejects["code"].astype("str").value_counts()
            reasons = ", ".join(f"{c} {n}" for c, n in counts.head(4).items()) or "no data rows"
            raise InputError(f"No usable reading in the study: every row was rejected ({reasons}).")
        if dimension is None:
            if len(dims) > 1:
                raise UsageError(
                    f"The study measured {len(dims)} dimensions ({', '.join(dims)}); choose one "
                    f"with --dimension, e.g. --dimension {dims[0]}."
                )
            dimension = dims[0]
        if dimension not in dims:
            raise UsageError(
                f"The study has no readings of {dimension!r}; it measured {', '.join(dims)}."
            )
        mask = self.measurements["dimension"].astype("str") == dimension
        out: pd.DataFrame = self.measurements.loc[mask].reset_index(drop=True)
        return out


_SUMMARY = re.compile(
    r"^(?:rata\s*[-–]?\s*(?:2|rata)|rerata|jumlah|total|average|mean|avg|range|rentang|"
    r"selisih|x\s*[-̄]?\s*bar|r\s*[-̄]?\s*bar|[xr]̄|ucl|lcl|sd|std|simpangan)\b",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(
    r"^(?:mengetahui|menyetujui|disetujui|diperiksa|diketahui|dibuat|disusun|dicek|"
    r"petugas\s*:|pengukur\s*:|operator\s*:|kepala\b|ttd\b|tanda\s+tangan|nip\b|approved|"
    r"checked|prepared|signed|catatan\s*:|keterangan\s*:|notes?\s*:|"
    r"[a-z][a-z .'-]+,\s*\d{1,2}[\s-]+[a-z]+\.?[\s-]+\d{4}$)",
    re.IGNORECASE,
)
_NOT_MEASURED = {"-", "–", "—", "--"}


def _study_role(header: str) -> tuple[str, int] | None:
    """The study role a header names, with the rank of its alias (0 = preferred)."""
    key = normalise_name(header)
    for role, aliases in STUDY_COLUMNS.items():
        for rank, alias in enumerate(aliases):
            if key == normalise_name(alias):
                return role, rank
    return None


@dataclass(frozen=True)
class _Layout:
    roles: dict[str, int]
    dims: list[tuple[int, str, str | None]]  # column, dimension, unit in header
    value: int | None
    value_unit: str | None
    dimension: int | None
    unit: int | None
    ignored: list[str]


def _layout(header: Sequence[object]) -> _Layout:
    roles: dict[str, int] = {}
    ranks: dict[str, int] = {}
    dims: list[tuple[int, str, str | None]] = []
    value = dimension = unit = None
    value_unit: str | None = None
    ignored: list[str] = []
    for j, cell in enumerate(header):
        text = "" if cell is None else str(cell).strip()
        if not text:
            continue
        found = _study_role(text)
        if found is not None:
            role, rank = found
            if role not in roles or rank < ranks[role]:  # the preferred alias wins
                if role in roles:
                    ignored.append(str(header[roles[role]]).strip())
                roles[role], ranks[role] = j, rank
            else:
                ignored.append(text)
            continue
        m = match_column(text)
        if m is not None and m.kind == "dimension":
            other = next((i for i, d, _ in dims if d == m.canonical), None)
            if other is not None:
                raise InputError(
                    f"Two columns measure {m.canonical}: {header[other]!r} and {text!r}. "
                    "Rename or remove one, so that every reading is counted once."
                )
            dims.append((j, m.canonical, m.unit))
        elif m is not None and m.canonical == "value" and value is None:
            value, value_unit = j, m.unit
        elif m is not None and m.canonical == "dimension" and dimension is None:
            dimension = j
        elif m is not None and m.canonical == "unit" and unit is None:
            unit = j
        else:
            ignored.append(text)
    return _Layout(roles, dims, value, value_unit, dimension, unit, ignored)


def _is_study_header(cells: Sequence[object]) -> bool:
    try:
        lay = _layout(cells)
    except InputError:
        return True  # a header, with a problem the reader reports
    return {"part", "operator", "trial"} <= lay.roles.keys() and (
        bool(lay.dims) or lay.value is not None
    )


def _cells(values: Sequence[object]) -> list[str | None]:
    """Cell texts, stripped; ``None`` for empty and missing cells."""
    return [
        None
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or not str(v).strip()
        else str(v).strip()
        for v in values
    ]


def _study_value(header: str) -> bool:
    """Whether a study header cell names a column of readings (decides the decimal mark)."""
    m = match_column(header)
    return (
        _study_role(header) is None
        and m is not None
        and (m.kind == "dimension" or m.canonical == "value")
    )


def _study_sheets(
    path: Path, *, sep: str | None, decimal: str | None, encoding: str | None, sheet: str | None
) -> list[RawSheet]:
    """The study tables in one file, found by their header (part, operator, trial, value):
    read by :func:`sizecheck.readers.read_input` with the study's header rule, so a study
    file is read like a measurement file (encodings, separators, title rows, merged
    cells, size limits)."""
    from sizecheck import readers

    rule = readers.HeaderRule(
        is_header=_is_study_header,
        is_value=_study_value,
        missing=_no_study_header,
        skipped="read.note.no_study_header",
    )
    return readers.read_input(
        path, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet, header=rule
    )


def _no_study_header(where: str, rows: Sequence[Sequence[object]]) -> MissingColumnsError:
    shown = next(
        (
            ", ".join(repr(str(c).strip()) for c in r if c is not None and str(c).strip())
            for r in rows
            if any(c is not None and str(c).strip() for c in r)
        ),
        "nothing",
    )
    need = "; ".join(
        f"{role} ({', '.join(aliases[:5])})" for role, aliases in STUDY_COLUMNS.items()
    )
    return MissingColumnsError(
        f"{where}: no gage study header found. A study needs the columns {need}, and a "
        f"dimension column (panjang_insole, insole_length, …) or a 'value' column. The first "
        f"row read has {shown}. Run 'sizecheck template --gage study.xlsx' for a sheet with "
        "these headers."
    )


class _Sink:
    """Collects the reject rows of one sheet."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.rows: list[tuple[str, int, str, str, str, str]] = []

    def add(self, row: int, column: str, value: object, code: str, message: str) -> None:
        text = "" if value is None else str(value)
        self.rows.append((self.source, int(row), column, text, code, message))


#: A measurement column of a study sheet: (column index, its dimension — ``None`` when a
#: dimension column names it row by row —, its unit factor — ``None`` when a unit column
#: or ``--units`` gives it).
_Measured = tuple[int, str | None, float | None]


@dataclass
class _Tally:
    """The rows and cells of one sheet, counted as they are classified."""

    rows_used: int = 0
    rows_skipped: int = 0
    cells_read: int = 0
    cells_used: int = 0
    cells_blank: int = 0


@dataclass(frozen=True)
class _Cells:
    """One sheet's cells as text by column, its header, layout and parsed numbers."""

    text: list[list[str | None]]
    header: list[str]
    layout: _Layout
    numbers: dict[int, Any]
    default_factor: float


#: A note on a study file (:class:`sizecheck.i18n.Note`; the name of this release).
StudyNote = Note


def _layout_notes(source: str, lay: _Layout, header: Sequence[str]) -> list[str]:
    """Notes on the columns a study leaves unused."""
    notes: list[str] = []
    if lay.ignored:
        notes.append(StudyNote("gage.note.ignored", source=source, columns=", ".join(lay.ignored)))
    if lay.dims and lay.value is not None:
        notes.append(
            StudyNote("gage.note.value_ignored", source=source, column=repr(header[lay.value]))
        )
    return notes


def _measurement_columns(
    lay: _Layout, *, dimension: str | None, units: str
) -> tuple[list[_Measured], float]:
    """The sheet's measurement columns (dimension columns, else the ``value`` column) and
    the unit factor of a column whose header names no unit (``units``)."""
    try:
        default_factor = unit_factor(units)
    except KeyError:
        raise UsageError(f"Unknown unit {units!r}; use mm, cm or in.") from None
    meas: list[_Measured]
    if lay.dims:
        meas = [(j, d, unit_factor(u) if u else default_factor) for j, d, u in lay.dims]
    else:
        assert lay.value is not None
        fixed = None if lay.dimension is not None else (dimension or "value")
        factor = unit_factor(lay.value_unit) if lay.value_unit else None
        meas = [(lay.value, fixed, factor)]
    return meas, default_factor


def _row_reason(
    texts: Sequence[str | None],
    present: Sequence[bool],
    keys: Mapping[str, str | None],
    header_norm: Sequence[str],
) -> tuple[str, str, str] | None:
    """Why a row gives no reading, as (code, message, the row's text): blank; a repeated
    header; lacking part, operator or trial — an average/range/total row, a signature
    row (or one without a reading), else ``missing_<key>``; keys but no reading. ``None``
    when the row's cells are read."""
    filled = [t for t in texts if t is not None]
    if not filled:
        return RejectCode.SKIPPED_BLANK, reject_text("skipped_blank"), ""
    if [normalise_name(t) if t else "" for t in texts] == header_norm:
        return RejectCode.SKIPPED_HEADER, reject_text("skipped_header"), " | ".join(filled)
    shown = " | ".join(filled)[:120]
    lacking = [r for r in ("part", "operator", "trial") if not keys.get(r)]
    if lacking:
        first = filled[0]
        if _SUMMARY.match(first):
            return RejectCode.SKIPPED_SUMMARY, reject_text("skipped_summary"), shown
        if _SIGNATURE.match(first) or not any(present):
            return RejectCode.SKIPPED_SIGNATURE, reject_text("skipped_signature"), shown
        code = RejectCode(f"missing_{lacking[0]}").value
        return code, reject_text(code), shown
    if not any(present):
        return RejectCode.NO_MEASUREMENT, reject_text("no_measurement"), shown
    return None


class _Unread(NamedTuple):
    """A cell not read, as its reject row lists it."""

    column: str
    value: str | None
    code: str
    message: str


def _cell_dimension_factor(
    cells: _Cells, i: int, dim: str | None, factor: float | None
) -> tuple[str, float] | _Unread:
    """The dimension and unit factor of a reading in row ``i``: from its column, else from
    the row's dimension and unit columns, else ``--units``; or why the row's names are not
    understood, as (column, value, code, message)."""
    lay, header = cells.layout, cells.header
    this_factor = factor if factor is not None else cells.default_factor
    if dim is None:  # long layout: the row names its dimension
        raw_dim = cells.text[lay.dimension][i] if lay.dimension is not None else None
        m = match_column(raw_dim) if raw_dim else None
        if m is None or m.kind != "dimension":
            return _Unread(
                header[lay.dimension or 0],
                raw_dim,
                RejectCode.UNKNOWN_DIMENSION,
                reject_text("unknown_dimension", name=repr(raw_dim)),
            )
        dim = m.canonical
    if lay.unit is not None and factor is None:
        raw_unit = cells.text[lay.unit][i]
        if raw_unit:
            try:
                this_factor = unit_factor(raw_unit)
            except KeyError:
                return _Unread(
                    header[lay.unit],
                    raw_unit,
                    RejectCode.UNKNOWN_UNIT,
                    reject_text("unknown_unit"),
                )
    return dim, this_factor


def _reading_mm(value: float, factor: float, dimension: str) -> float | tuple[str, str]:
    """A reading in mm (``value × factor``), or why it is not used, as (code, message):
    not a number, negative, or outside the dimension's plausible range."""
    if not math.isfinite(value):
        return RejectCode.NOT_A_NUMBER, reject_text("not_a_number")
    mm = value * factor
    if mm < 0:
        return RejectCode.NEGATIVE, reject_text("negative")
    spec = DIMENSIONS.get(dimension)
    if spec is not None and not (spec.plausible_mm[0] <= mm <= spec.plausible_mm[1]):
        low, high = spec.plausible_mm
        message = reject_text(
            "implausible", value=f"{mm:g}", lo=f"{low:g}", hi=f"{high:g}", dimension=dimension
        )
        return RejectCode.IMPLAUSIBLE, message
    return mm


def _read_row(
    cells: _Cells,
    i: int,
    row: int,
    meas: Sequence[_Measured],
    keys: Mapping[str, str | None],
    sink: _Sink,
    tally: _Tally,
) -> list[dict[str, Any]]:
    """The readings of one data row, each cell used, blank, or listed in ``sink``."""
    used: list[dict[str, Any]] = []
    for j, dim, factor in meas:
        text = cells.text[j][i]
        if text is None or text in _NOT_MEASURED:
            tally.cells_blank += 1
            continue
        tally.cells_read += 1
        col = cells.header[j]
        found = _cell_dimension_factor(cells, i, dim, factor)
        if isinstance(found, _Unread):
            sink.add(row, *found)
            continue
        this_dim, this_factor = found
        mm = _reading_mm(float(cells.numbers[j][i]), this_factor, this_dim)
        if isinstance(mm, tuple):
            sink.add(row, col, text, *mm)
            continue
        used.append(
            {
                "source": sink.source,
                "row": row,
                "part": keys["part"],
                "operator": keys["operator"],
                "trial": keys["trial"],
                "dimension": this_dim,
                "value_mm": mm,
                "header": col,
            }
        )
        tally.cells_used += 1
    return used


def _read_sheet(
    sheet: RawSheet, *, dimension: str | None, units: str
) -> tuple[
    list[dict[str, Any]], list[tuple[str, int, str, str, str, str]], SourceAccounting, list[str]
]:
    """One study sheet's readings, its rejects, its row and cell accounting and its notes."""
    src = sheet.source
    sink = _Sink(src)
    for row, title in sheet.title_rows:
        if title:
            sink.add(row, "", title, RejectCode.SKIPPED_TITLE, reject_text("skipped_title"))
        else:
            sink.add(row, "", "", RejectCode.SKIPPED_BLANK, reject_text("skipped_blank"))
    lay = _layout(sheet.header)
    header = [str(h) for h in sheet.header]
    notes = _layout_notes(src, lay, header)
    meas, default_factor = _measurement_columns(lay, dimension=dimension, units=units)
    frame = sheet.data
    n = len(frame)
    text: list[list[str | None]] = [
        _cells(frame[j].tolist()) if j in frame.columns else [None] * n for j in range(len(header))
    ]
    numbers = {j: parse_numbers(text[j], decimal=sheet.decimal) for j, _, _ in meas}
    cells = _Cells(text, header, lay, numbers, default_factor)
    header_norm = [normalise_name(h) for h in header]
    used: list[dict[str, Any]] = []
    tally = _Tally()
    for i in range(n):
        row = int(sheet.rows[i])
        texts = [text[j][i] for j in range(len(header))]
        present = [text[j][i] is not None and text[j][i] not in _NOT_MEASURED for j, _, _ in meas]
        keys = {role: text[j][i] for role, j in lay.roles.items()}
        reason = _row_reason(texts, present, keys, header_norm)
        if reason is not None:
            code, message, shown = reason
            sink.add(row, "", shown, code, message)
            tally.rows_skipped += code.startswith("skipped_")
            if code == RejectCode.NO_MEASUREMENT:
                tally.cells_blank += len(meas)
            else:
                tally.cells_read += sum(present)
            continue
        found = _read_row(cells, i, row, meas, keys, sink, tally)
        used.extend(found)
        tally.rows_used += bool(found)
    n_rows = n + len(sheet.title_rows)
    acc = SourceAccounting(
        src,
        rows_read=n_rows,
        rows_used=tally.rows_used,
        rows_rejected=n_rows - tally.rows_used,
        rows_skipped=tally.rows_skipped + len(sheet.title_rows),
        cells_read=tally.cells_read,
        cells_used=tally.cells_used,
        cells_rejected=tally.cells_read - tally.cells_used,
        cells_blank=tally.cells_blank,
    )
    return used, sink.rows, acc, notes


def read_study(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    dimension: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    units: str = "mm",
) -> Study:
    """Read gage study files: every row and cell used or listed with its reason.

    A study sheet has a part column (``part``, ``sampel``, ``no`` …), an operator column
    (``petugas``, ``pengukur``, ``operator``), a trial column (``ulangan``, ``trial``,
    ``replicate``; see :data:`sizecheck.schema.STUDY_COLUMNS`) and either dimension columns
    (``panjang_insole (mm)`` …) or a ``value`` column (``nilai``, ``hasil``), optionally with
    ``dimension`` and ``unit`` columns. Files are read like ``sizecheck measure``'s:
    CSV/TSV/``;`` with any of its encodings, or ``.xlsx`` (merged cells filled), title
    rows above the header, decimal commas.

    Rows: blank, repeated-header, average/range/total (``Rata-rata``, ``Range``, ``R̄``)
    and signature rows are skipped and listed; a row without part, operator or trial is
    rejected (``missing_part`` …); a reading given twice (same part, operator, trial and
    dimension) keeps the first (``duplicate_sample``). Cells: ``not_a_number``,
    ``negative``, ``implausible`` (outside the dimension's plausible range),
    ``unknown_dimension``, ``unknown_unit``; ``-`` means not measured (blank).

    Parameters
    ----------
    paths : path or sequence of paths
    dimension : str, optional
        Name of what a ``value`` column measured (without a ``dimension`` column).
    sep, decimal, encoding, sheet, units
        As for :func:`sizecheck.validate.read_measurements`.

    Returns
    -------
    Study

    Raises
    ------
    InputError
        A file cannot be read, or has no study header.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not items:
        raise InputError("No study file given.")
    if dimension is not None and dimension not in DIMENSIONS:
        m = match_column(dimension)
        if m is None or m.kind != "dimension":
            raise UsageError(f"Unknown dimension {dimension!r}. Known: {', '.join(DIMENSIONS)}.")
        dimension = m.canonical
    used: list[dict[str, Any]] = []
    rejects: list[tuple[str, int, str, str, str, str]] = []
    sources: list[SourceAccounting] = []
    notes: list[str] = []
    sheets: list[RawSheet] = []
    for item in items:
        for sh in _study_sheets(
            Path(item), sep=sep, decimal=decimal, encoding=encoding, sheet=sheet
        ):
            notes += sh.notes  # a sheet skipped for lack of a header, a chart sheet
            if not sh.has_header:
                continue
            u, r, acc, nts = _read_sheet(sh, dimension=dimension, units=units)
            used += u
            rejects += r
            sources.append(acc)
            notes += nts
            sheets.append(sh)
    frame = pd.DataFrame(used, columns=[*STUDY_MEASUREMENTS, "header"])
    # A reading given twice (across files too) keeps the first; the later ones are listed.
    twice = frame.duplicated(["part", "operator", "trial", "dimension"], keep="first")
    if twice.any():
        lost: dict[str, int] = {}
        for dup in frame.loc[twice].to_dict(orient="records"):
            rejects.append(
                (
                    str(dup["source"]),
                    int(dup["row"]),
                    str(dup["header"]),
                    f"{dup['value_mm']:g}",
                    RejectCode.DUPLICATE_SAMPLE.value,
                    reject_text(
                        "duplicate_reading",
                        part=dup["part"],
                        operator=dup["operator"],
                        trial=dup["trial"],
                        dimension=dup["dimension"],
                    ),
                )
            )
            lost[str(dup["source"])] = lost.get(str(dup["source"]), 0) + 1
        frame = frame.loc[~twice]
        sources = [_less_used(s, lost.get(s.source, 0), frame) for s in sources]
    measurements = frame.drop(columns="header").reset_index(drop=True)
    measurements["row"] = measurements["row"].astype("int64")
    measurements["value_mm"] = measurements["value_mm"].astype("float64")
    reject_frame = pd.DataFrame(rejects, columns=list(columns.REJECTS))
    reject_frame = reject_frame.sort_values(["source", "row"], kind="stable").reset_index(drop=True)
    return Study(
        measurements=measurements,
        rejects=reject_frame,
        accounting=Accounting.from_sources(sources),
        notes=tuple(notes),
        sheets=tuple(sheets),
    )


def _less_used(acc: SourceAccounting, lost_cells: int, kept: pd.DataFrame) -> SourceAccounting:
    """The accounting of a source after ``lost_cells`` duplicate readings were rejected."""
    if not lost_cells:
        return acc
    rows_used = int(kept.loc[kept["source"] == acc.source, "row"].nunique())
    return replace(
        acc,
        rows_used=rows_used,
        rows_rejected=acc.rows_read - rows_used,
        cells_used=acc.cells_used - lost_cells,
        cells_rejected=acc.cells_rejected + lost_cells,
    )


# --------------------------------------------------------------------------- the whole run


@dataclass(frozen=True, eq=False)
class GageAnalysis:
    """Everything ``sizecheck gage`` computed: the study read, analysed, and its provenance.

    Attributes
    ----------
    study : GageStudy
        The ANOVA-method results.
    read : Study
        The readings as read, with rejects and accounting (all dimensions).
    inputs : list of sizecheck.inputs.InputFile
        The files read, with their SHA-256.
    tolerance_source : str
        ``"option"`` (``--tolerance``), ``"table"`` (the in-spec band of ``table``) or
        ``""`` (no tolerance).
    table : str
        Name of the reference table the tolerance came from (empty otherwise).
    created, version : str
    """

    study: GageStudy
    read: Study
    inputs: list[Any]
    tolerance_source: str = ""
    table: str = ""
    created: str = ""
    version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The content of ``gage.json``: the study (contract keys first) and its provenance."""
        return {
            **self.study.to_dict(),
            "tolerance_source": self.tolerance_source,
            "table": self.table or None,
            "tool": {"name": "sizecheck", "version": self.version},
            "created": self.created,
            "inputs": [
                {"path": f.path, "source": f.source, "sha256": f.sha256, "size_bytes": f.size_bytes}
                for f in self.inputs
            ],
            "accounting": self.read.accounting.to_dict(),
            "notes": list(self.read.notes),
        }


def analyse_study(
    inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    dimension: str | None = None,
    tolerance_mm: float | None = None,
    table: Any = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    units: str = "mm",
) -> GageAnalysis:
    """Read a gage study and analyse it: what ``sizecheck gage`` runs.

    Parameters
    ----------
    inputs : path or sequence of paths
        Study files (:func:`read_study`).
    dimension : str, optional
        The dimension to analyse (needed when the study measured several).
    tolerance_mm : float, optional
        Tolerance width in mm (e.g. 3 for ±1.5 mm). Exclusive with ``table``.
    table : str, path or ReferenceTable, optional
        Take the width from this table's in-spec band for the dimension
        (:func:`tolerance_width`).
    sep, decimal, encoding, sheet, units
        Reading options, as for ``sizecheck measure``.

    Returns
    -------
    GageAnalysis

    Raises
    ------
    GageDesignError
        The study is not complete and balanced.
    InputError, UsageError
        Unreadable files, no usable reading, an unknown dimension or table, both a
        tolerance and a table.
    """
    from datetime import UTC, datetime

    from sizecheck import __version__
    from sizecheck.inputs import InputFile, file_sha256
    from sizecheck.tables import ReferenceTable, load_table

    if tolerance_mm is not None and table is not None:
        raise UsageError("Give either --tolerance or --table, not both.")
    paths = [Path(inputs)] if isinstance(inputs, str | os.PathLike) else [Path(p) for p in inputs]
    read = read_study(paths, dimension=dimension, sep=sep, decimal=decimal,
                      encoding=encoding, sheet=sheet, units=units)  # fmt: skip
    readings = read.readings(_canonical(dimension) if dimension else None)
    dim = str(readings["dimension"].iloc[0])
    source = "option" if tolerance_mm is not None else ""
    table_name = ""
    if table is not None:
        ref = table if isinstance(table, ReferenceTable) else load_table(table)
        tolerance_mm = tolerance_width(ref, dim)
        source, table_name = "table", ref.name
    study = gage_rr(readings, dimension=dim, tolerance_mm=tolerance_mm)
    names = [p.name for p in paths]
    files = [
        InputFile(str(p), p.name if names.count(p.name) == 1 else str(p), file_sha256(p),
                  p.stat().st_size)
        for p in paths
    ]  # fmt: skip
    return GageAnalysis(
        study=study,
        read=read,
        inputs=files,
        tolerance_source=source,
        table=table_name,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        version=__version__,
    )


def _canonical(dimension: str) -> str:
    if dimension in DIMENSIONS or dimension == "value":
        return dimension
    m = match_column(dimension)
    if m is None or m.kind != "dimension":
        raise UsageError(f"Unknown dimension {dimension!r}. Known: {', '.join(DIMENSIONS)}.")
    return m.canonical
