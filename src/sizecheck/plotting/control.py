"""The control chart (peta kendali) of one producer's sizes in time order."""

from __future__ import annotations

from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from sizecheck.i18n import dimension_label, has_key, t
from sizecheck.plotting import style
from sizecheck.plotting._common import (
    get_ax,
    legend_below,
    merged,
    need,
    no_data,
    plain_text,
    select,
)

__all__ = ["plot_control_chart"]

#: Up to this many distinct dates, each date is a tick of its own.
FEW_DATES = 6

#: Smallest height of the value axis, in mm (a caliper reads 0.1 mm).
MIN_SPAN_MM = 1.0


def _flags(points: pd.DataFrame) -> np.ndarray:
    """Whether a rule signal ends at each point (``signals`` codes, or a boolean ``signal``)."""
    if "signals" in points.columns:
        codes = points["signals"].astype("string").fillna("").str.strip()
        return (codes != "").to_numpy(bool)
    if "signal" in points.columns:
        return points["signal"].fillna(False).astype(bool).to_numpy()
    return np.zeros(len(points), dtype=bool)


def _date_axis(ax: Axes, dates: np.ndarray, lang: str) -> None:
    """Short, unrotated date ticks ("Mar 2026", "15 Mar"), as many as the width holds.

    A few distinct dates (up to :data:`FEW_DATES`) are ticked themselves, and the axis
    spans them with a few days either side: one visit is one tick, not four years of
    empty axis.
    """
    months = t("axis.months", lang).split()
    distinct = np.unique(dates.astype("datetime64[D]"))
    if len(distinct) <= FEW_DATES:
        span_days = int((distinct[-1] - distinct[0]).astype(int))
        pad = np.timedelta64(max(2, round(0.08 * span_days)), "D")
        ax.set_xlim(
            mdates.date2num(distinct[0] - pad),  # type: ignore[no-untyped-call]
            mdates.date2num(distinct[-1] + pad),  # type: ignore[no-untyped-call]
        )
        ax.xaxis.set_major_locator(FixedLocator(mdates.date2num(distinct)))  # type: ignore[no-untyped-call]
    else:
        fig = ax.get_figure(root=True)
        width_in = ax.get_position().width * (
            fig.get_figwidth() if isinstance(fig, Figure) else 6.0
        )
        maxticks = max(2, min(7, int(width_in / 0.8)))
        locator = mdates.AutoDateLocator(minticks=2, maxticks=maxticks)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)

    def fmt(v: float, _pos: int | None = None) -> str:
        d = mdates.num2date(v)  # type: ignore[no-untyped-call]
        if d.day == 1 and len(distinct) > FEW_DATES:
            return f"{months[d.month - 1]} {d.year}"
        return f"{d.day} {months[d.month - 1]}"

    ax.xaxis.set_major_formatter(FuncFormatter(fmt))


def _order_axis(ax: Axes, x: np.ndarray) -> None:
    """Whole-number sample order ticks (1, 2, 3 …, never 1,2), half a step of margin."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlim(float(np.min(x)) - 0.5, float(np.max(x)) + 0.5)


def _value_view(ax: Axes, p: pd.DataFrame) -> None:
    """y limits holding the points and the limits, at least ``MIN_SPAN_MM`` tall.

    One point, or points that all sit on the centre line, would otherwise get an axis a
    few hundredths of a millimetre tall whose every tick reads "0".
    """
    cols = [p[c].to_numpy(float) for c in ("value", "center", "lcl", "ucl")]
    values = np.concatenate(cols)
    values = values[np.isfinite(values)]
    if not values.size:
        return
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < MIN_SPAN_MM:
        mid = 0.5 * (lo + hi)
        ax.set_ylim(mid - MIN_SPAN_MM / 2, mid + MIN_SPAN_MM / 2)


def _x_values_and_label(ax: Axes, p: pd.DataFrame, lang: str) -> tuple[Any, bool]:
    """The points' x (dates when every point has one, else order 1, 2 …) and its label."""
    order = p["order"].to_numpy(float)
    use_dates = "date" in p.columns and bool(pd.to_datetime(p["date"]).notna().all())
    x: Any
    if use_dates:
        dates = pd.to_datetime(p["date"])
        x = dates.to_numpy(dtype="datetime64[ns]")
        ax.set_xlabel(t("axis.date", lang))
    else:
        x = order + 1
        ax.set_xlabel(t("axis.order", lang))
    return x, use_dates


def _draw_points_and_limits(
    ax: Axes, p: pd.DataFrame, x: Any, lang: str, kwargs: dict[str, Any]
) -> None:
    """Draw the points joined in time order, then the centre line and control limits."""
    ax.plot(
        x,
        p["value"].to_numpy(float),
        **merged(
            {
                "color": style.DOT_COLOR,
                "marker": "o",
                "markersize": 3.5,
                "linewidth": 1.0,
                "label": t("legend.point", lang),
                "zorder": 3,
            },
            kwargs,
        ),
    )
    lines: tuple[tuple[str, dict[str, Any]], ...] = (
        ("center", {"color": style.MEAN_COLOR, "label": t("legend.center", lang)}),
        ("ucl", {"color": style.LIMIT_COLOR, "ls": "--", "label": t("legend.limits", lang)}),
        ("lcl", {"color": style.LIMIT_COLOR, "ls": "--"}),
    )
    for column, look in lines:
        y = p[column].to_numpy(float)
        if np.isfinite(y).any():  # one point has no limits: no line, no legend entry
            # a level, not a trend: a change of centre or limits (a tested change, limits
            # of a different subgroup size) is drawn as a step halfway between two points
            ax.plot(x, y, linewidth=1.2, zorder=2, drawstyle="steps-mid", **look)


def _draw_signals(ax: Axes, p: pd.DataFrame, xv: Any, flags: np.ndarray, lang: str) -> None:
    """Mark the points at which a rule signal ends (x ``xv``, the flagged points' x)."""
    ax.scatter(
        xv,
        p["value"].to_numpy(float)[flags],
        marker="X",
        s=55,
        color=style.SIGNAL_COLOR,
        edgecolors="black",
        linewidths=0.5,
        label=t("legend.signal", lang),
        zorder=4,
    )


def _name_signal_rules(
    ax: Axes, signals: pd.DataFrame, producer: str, dimension: str, lang: str
) -> None:
    """Name the rules that fired, in words, in the signal markers' legend entry."""
    need(signals, ("producer", "dimension", "rule"), "plot_control_chart")
    rules = sorted(
        set(select(signals, producer=producer, dimension=dimension)["rule"].astype("str"))
    )
    if rules:
        for coll in ax.collections[-1:]:
            # rule codes (n1, n5 …) mean nothing to a producer: the rules in words
            words = dict.fromkeys(t(f"rule.{r}", lang) if has_key(f"rule.{r}", lang) else r
                                  for r in rules)  # fmt: skip
            coll.set_label(f"{t('legend.signal', lang)}: {'; '.join(words)}")


def plot_control_chart(
    control_points: pd.DataFrame,
    *,
    producer: str,
    dimension: str,
    signals: pd.DataFrame | None = None,
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Points in time order with the centre line, control limits and rule signals.

    Parameters
    ----------
    control_points : DataFrame
        ``Analysis.control_points`` (:func:`sizecheck.drift.control_chart`): ``producer,
        dimension, order, date, value, center, lcl, ucl`` and ``signals`` (rule codes
        ending at each point). Dates are used on the x axis when every point has one.
    producer, dimension : str
    signals : DataFrame, optional
        ``Analysis.signals``: the rules that fired are named in the legend.
    lang : {"en", "id"}, default "en"
    title : str, optional
    legend : bool, default True
    ax : Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot` for the points (they win).

    Returns
    -------
    Axes
        ``ax`` with four lines (points, centre, upper and lower limit) and, when a rule
        fired, one collection of signal markers.
    """
    need(
        control_points,
        ("producer", "dimension", "order", "value", "center", "lcl", "ucl"),
        "plot_control_chart",
    )
    ax = get_ax(ax)
    dim_label = dimension_label(dimension, lang)
    ax.set_title(
        title
        if title is not None
        else t("chart.control.title", lang, producer=plain_text(producer), dimension=dim_label)
    )
    ax.set_ylabel(t("axis.residual_mm", lang))
    p = select(control_points, producer=producer, dimension=dimension).sort_values("order")
    if p.empty:
        ax.set_xlabel(t("axis.order", lang))
        no_data(ax, lang)
        return ax
    x, use_dates = _x_values_and_label(ax, p, lang)
    _draw_points_and_limits(ax, p, x, lang, kwargs)
    flags = _flags(p)
    if flags.any():
        _draw_signals(ax, p, x[flags] if use_dates else np.asarray(x)[flags], flags, lang)
    if signals is not None and not signals.empty and flags.any():
        _name_signal_rules(ax, signals, producer, dimension, lang)
    style.set_number_format(ax, lang, x=not use_dates)
    _value_view(ax, p)
    if use_dates:
        _date_axis(ax, x, lang)
    else:
        _order_axis(ax, np.asarray(x, dtype=float))
    if legend:
        below = -0.22 if use_dates else -0.14
        legend_below(ax, ncol=3, offset=below)
    return ax
