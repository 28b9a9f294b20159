"""Plain-language findings and actions from the computed tables, in English or Indonesian.

Shared by the HTML report and the printed cards. Every number comes from
``producer_summary``, ``size_summary`` or ``signals`` of an :class:`~sizecheck.pipeline.
Analysis`; nothing is recomputed here, only worded.

>>> verdict_words("offset+grading", "en")
'offset, grading error'
>>> size_phrase(0.6, "insole_length", "en")
'more than half a size long'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from sizecheck.i18n import dimension_label, format_date, format_number, has_key, t

if TYPE_CHECKING:
    from sizecheck.pipeline import Analysis

__all__ = [
    "FLAGS",
    "LENGTH_DIMENSIONS",
    "actions",
    "drift_since",
    "finding_lines",
    "first_signal_date",
    "main_dimension",
    "size_amount",
    "size_phrase",
    "verdict_flags",
    "verdict_words",
]

#: Length dimensions, in the order a card picks its main one.
LENGTH_DIMENSIONS: tuple[str, ...] = (
    "insole_length",
    "last_length",
    "last_stick_length",
    "inside_length",
    "toecap_internal_length",
)

#: Verdict flags in order of what a workshop should fix first.
FLAGS: tuple[str, ...] = ("grading", "offset", "scatter", "drift")


def _f(row: Mapping[str, Any] | pd.Series, key: str) -> float:
    try:
        v = row[key]
    except (KeyError, IndexError):
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def verdict_flags(verdict: object) -> list[str]:
    """The flags of a verdict string (``"offset+grading"`` → ``["offset", "grading"]``)."""
    return [f.strip() for f in str(verdict).split("+") if f.strip()]


def verdict_words(verdict: object, lang: str = "en") -> str:
    """A verdict in words, flags joined with commas.

    Parameters
    ----------
    verdict : str
        ``conforming``, ``insufficient_data`` or flags joined by ``+``.
    lang : {"en", "id"}

    Returns
    -------
    str
    """
    words = [
        t(f"verdict.{f}", lang) if has_key(f"verdict.{f}", lang) else f
        for f in verdict_flags(verdict)
    ]
    return ", ".join(words) if words else t("verdict.insufficient_data", lang)


def _direction(dimension: str, positive: bool) -> str:
    from sizecheck.schema import DIMENSIONS

    kind = DIMENSIONS[dimension].kind if dimension in DIMENSIONS else "length"
    word = "length" if kind == "length" else "wide"
    return f"{word}_{'plus' if positive else 'minus'}"


def size_phrase(bias_sizes: float, dimension: str, lang: str = "en") -> str:
    """How big a mean deviation is, in words ("more than half a size long").

    Parameters
    ----------
    bias_sizes : float
        Mean deviation in sizes (``bias_sizes`` of ``producer_summary``).
    dimension : str
        Lengths read "long/short", girths and widths "large/small".
    lang : {"en", "id"}

    Returns
    -------
    str
        Empty when ``bias_sizes`` is not finite.
    """
    if not math.isfinite(bias_sizes):
        return ""
    b = abs(bias_sizes)
    if b < 0.1:
        return t("finding.size.on", lang)
    word = t(f"finding.direction.{_direction(dimension, bias_sizes > 0)}", lang)
    if b < 0.25:
        return t("finding.size.slightly", lang, dir=word)
    if b < 0.5:
        return t("finding.size.under_half", lang, dir=word)
    if b < 0.95:
        return t("finding.size.over_half", lang, dir=word)
    return t("finding.size.sizes", lang, n=format_number(b, lang, 1), dir=word)


def size_amount(sizes: float, lang: str = "en") -> str:
    """How many sizes, without a direction ("more than half a size")."""
    if not math.isfinite(sizes):
        return ""
    b = abs(sizes)
    if b < 0.25:
        return t("finding.amount.quarter", lang)
    if b < 0.5:
        return t("finding.amount.under_half", lang)
    if b < 0.95:
        return t("finding.amount.over_half", lang)
    return t("finding.amount.sizes", lang, n=format_number(b, lang, 1))


def main_dimension(producer_summary: pd.DataFrame, producer: str) -> str | None:
    """The dimension a card shows: the first length measured, else the most measured one."""
    rows = producer_summary.loc[producer_summary["producer"].astype("str") == str(producer)]
    if rows.empty:
        return None
    dims = rows["dimension"].astype("str").tolist()
    for d in LENGTH_DIMENSIONS:
        if d in dims:
            return d
    return str(rows.sort_values("n", ascending=False)["dimension"].iloc[0])


def first_signal_date(signals: pd.DataFrame, producer: str, dimension: str) -> object | None:
    """The earliest ``first_date`` of the control-chart signals of one producer × dimension."""
    if signals is None or signals.empty or "first_date" not in signals.columns:
        return None
    s = signals.loc[
        (signals["producer"].astype("str") == str(producer))
        & (signals["dimension"].astype("str") == dimension)
    ]
    dates = pd.to_datetime(s["first_date"], errors="coerce").dropna()
    return None if dates.empty else dates.min()


def drift_since(control_points: pd.DataFrame, producer: str, dimension: str) -> object | None:
    """Date the current level began: the chart's least-squares change point.

    :func:`sizecheck.drift.change_points` on the chart of one producer × dimension
    (``control_points``): the first charted date after the single step change that best
    splits the points, rather than where a rule window happened to start. ``None`` when
    the chart has no signal, fewer than two points, or no dates (lot or row charts).
    """
    from sizecheck.drift import change_points

    if control_points is None or control_points.empty or "date" not in control_points.columns:
        return None
    p = control_points.loc[
        (control_points["producer"].astype("str") == str(producer))
        & (control_points["dimension"].astype("str") == dimension)
    ]
    if p.empty:
        return None
    shifts = change_points(p)
    if shifts.empty:
        return None
    date = pd.to_datetime(shifts["shift_date"].iloc[0], errors="coerce")
    return None if pd.isna(date) else date


def finding_lines(
    row: Mapping[str, Any] | pd.Series,
    *,
    lang: str = "en",
    grade_step: float | None = None,
    drift_since: object | None = None,
) -> list[str]:
    """Sentences describing one producer × dimension row of ``producer_summary``.

    Parameters
    ----------
    row : Series or mapping
        One row of ``producer_summary``.
    lang : {"en", "id"}
    grade_step : float, optional
        The table's grade step for the dimension (mm per size), to word grading errors.
    drift_since : date, optional
        When the level shifted (:func:`drift_since`, the chart's change point).

    Returns
    -------
    list of str
    """
    dim = str(row["dimension"])
    label = dimension_label(dim, lang)
    flags = verdict_flags(row["verdict"])
    n = int(_f(row, "n")) if math.isfinite(_f(row, "n")) else 0
    if "insufficient_data" in flags:
        return [t("finding.insufficient", lang, dimension=label, n=n)]
    out = [
        t(
            "finding.bias",
            lang,
            dimension=label,
            bias=format_number(_f(row, "bias_mm"), lang, 1, signed=True),
            low=format_number(_f(row, "bias_ci_low_mm"), lang, 1, signed=True),
            high=format_number(_f(row, "bias_ci_high_mm"), lang, 1, signed=True),
            phrase=size_phrase(_f(row, "bias_sizes"), dim, lang),
            n=n,
        )
    ]
    ge = _f(row, "grade_error_mm_per_size")
    if "grading" in flags and math.isfinite(ge):
        if grade_step:
            out.append(
                t(
                    "finding.grading",
                    lang,
                    grow=format_number(grade_step + ge, lang, 1),
                    step=format_number(grade_step, lang, 1),
                    ge=format_number(ge, lang, 2, signed=True),
                    low=format_number(_f(row, "grade_error_ci_low"), lang, 2, signed=True),
                    high=format_number(_f(row, "grade_error_ci_high"), lang, 2, signed=True),
                )
            )
        else:
            out.append(
                t("finding.grading_nostep", lang, ge=format_number(ge, lang, 2, signed=True))
            )
    out.append(
        t(
            "finding.spread",
            lang,
            sd=format_number(_f(row, "sd_within_mm"), lang, 1),
            pct=format_number(_f(row, "pct_in_spec"), lang, 0),
            pct_missized=format_number(_f(row, "pct_missized"), lang, 0),
        )
    )
    cpk = _f(row, "cpk")
    if math.isfinite(cpk):
        out.append(
            t(
                "finding.cpk",
                lang,
                cpk=format_number(cpk, lang, 2),
                low=format_number(_f(row, "cpk_ci_low"), lang, 2),
                high=format_number(_f(row, "cpk_ci_high"), lang, 2),
            )
        )
    signals = _f(row, "drift_signals")
    if math.isfinite(signals) and signals > 0:
        key = "finding.drift" if "drift" in flags else "finding.drift_weak"
        out.append(
            t(
                key,
                lang,
                n=int(signals),
                date=format_date(drift_since, lang) if drift_since is not None else "–",
            )
        )
    pm = _f(row, "pair_mismatch_mm")
    if math.isfinite(pm):
        out.append(t("finding.pair", lang, mm=format_number(pm, lang, 1)))
    return out


def _size_text(size: float, lang: str) -> str:
    return format_number(size, lang, 0 if float(size).is_integer() else 1)


def _action(
    flag: str,
    row: pd.Series,
    analysis: Analysis,
    producer: str,
    lang: str,
) -> str | None:
    dim = str(row["dimension"])
    label = dimension_label(dim, lang)
    table = analysis.table
    try:
        step = table.grade_step(dim)
    except Exception:  # a dimension the table lacks
        step = None
    ss = analysis.size_summary
    mine = ss.loc[
        (ss["producer"].astype("str") == str(producer)) & (ss["dimension"].astype("str") == dim)
    ].sort_values("size")
    is_length = _direction(dim, True).startswith("length")
    if flag == "offset":
        base = float(table.base_size)
        offset = _f(row, "offset_mm")
        in_range = not mine.empty and mine["size"].min() <= base <= mine["size"].max()
        if math.isfinite(offset) and in_range:
            mm, where = offset, _size_text(base, lang)
        else:
            mm, where = _f(row, "bias_mm"), ""
        if not math.isfinite(mm):
            return None
        sign = "plus" if mm > 0 else "minus"
        eff = base + mm / step if (step and where) else math.nan
        kind = "length" if is_length else "wide"
        key = f"action.offset.{kind}_{sign}" + ("" if where else "_avg")
        return t(
            key,
            lang,
            dimension=label,
            size=where,
            mm=format_number(abs(mm), lang, 1),
            eff=format_number(eff, lang, 1),
            amount=size_amount(mm / step, lang) if step else "",
        )
    if flag == "grading":
        ge = _f(row, "grade_error_mm_per_size")
        if not (math.isfinite(ge) and step):
            return None
        lo_size = hi_size = lo_dev = hi_dev = ""
        if len(mine) >= 2:
            lo_size = _size_text(float(mine["size"].iloc[0]), lang)
            hi_size = _size_text(float(mine["size"].iloc[-1]), lang)
            lo_dev = format_number(float(mine["bias_mm"].iloc[0]), lang, 1, signed=True)
            hi_dev = format_number(float(mine["bias_mm"].iloc[-1]), lang, 1, signed=True)
        return t(
            "action.grading",
            lang,
            dimension=label,
            grow=format_number(step + ge, lang, 1),
            step=format_number(step, lang, 1),
            lo_size=lo_size,
            hi_size=hi_size,
            lo_dev=lo_dev,
            hi_dev=hi_dev,
        )
    if flag == "scatter":
        return t(
            "action.scatter",
            lang,
            dimension=label,
            sd=format_number(_f(row, "sd_within_mm"), lang, 1),
            pct=format_number(_f(row, "pct_in_spec"), lang, 0),
        )
    if flag == "drift":
        since = drift_since(analysis.control_points, producer, dim)
        return t(
            "action.drift",
            lang,
            dimension=label,
            date=format_date(since, lang) if since is not None else "–",
        )
    if flag == "insufficient_data":
        min_n = getattr(analysis.thresholds, "min_n", 8)
        return t(
            "action.insufficient",
            lang,
            dimension=label,
            n=int(_f(row, "n")) if math.isfinite(_f(row, "n")) else 0,
            min_n=min_n,
        )
    return None


def actions(
    analysis: Analysis, producer: str, *, lang: str = "en", max_actions: int = 3
) -> list[str]:
    """The few actions that matter for one producer, most important first.

    One action per verdict flag (offset, then grading, scatter, drift), taken from the
    main dimension first, then the others; ``insufficient_data`` asks for more shoes;
    a producer with nothing to fix is told so.

    Parameters
    ----------
    analysis : Analysis
    producer : str
    lang : {"en", "id"}
    max_actions : int, default 3

    Returns
    -------
    list of str
    """
    ps = analysis.producer_summary
    rows = ps.loc[ps["producer"].astype("str") == str(producer)]
    main = main_dimension(ps, producer)
    dims: Sequence[str] = sorted(
        rows["dimension"].astype("str").unique(), key=lambda d: (d != main, d)
    )
    out: list[str] = []
    seen: set[str] = set()
    for flag in (*FLAGS, "insufficient_data"):
        for dim in dims:
            row = rows.loc[rows["dimension"].astype("str") == dim].iloc[0]
            flags = verdict_flags(row["verdict"])
            if flag == "offset" and "grading" in flags:
                continue  # the offset of a grading error is fixed by grading, not shifting
            if flag in flags and flag not in seen:
                text = _action(flag, row, analysis, producer, lang)
                if text:
                    out.append(text)
                    seen.add(flag)
                if flag in seen:
                    break
    if not out:
        out.append(t("action.conforming", lang))
    return out[:max_actions]
