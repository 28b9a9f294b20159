"""The control chart (peta kendali) of one producer's sizes in time order."""

from __future__ import annotations

from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sizecheck.i18n import dimension_label, t
from sizecheck.plotting import style
from sizecheck.plotting._common import get_ax, merged, need, no_data, plain_text, select

__all__ = ["plot_control_chart"]


def _flags(points: pd.DataFrame) -> np.ndarray:
    """Whether a rule signal ends at each point (``signals`` codes, or a boolean ``signal``)."""
    if "signals" in points.columns:
        codes = points["signals"].astype("string").fillna("").str.strip()
        return (codes != "").to_numpy(bool)
    if "signal" in points.columns:
        return points["signal"].fillna(False).astype(bool).to_numpy()
    return np.zeros(len(points), dtype=bool)


def _date_axis(ax: Axes, lang: str) -> None:
    """Short, unrotated date ticks ("Mar 2026", "15 Mar"), as many as the width holds."""
    months = t("axis.months", lang).split()
    fig = ax.get_figure(root=True)
    width_in = ax.get_position().width * (fig.get_figwidth() if isinstance(fig, Figure) else 6.0)
    maxticks = max(2, min(7, int(width_in / 0.7)))
    locator = mdates.AutoDateLocator(minticks=2, maxticks=maxticks)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)

    def fmt(v: float, _pos: int | None = None) -> str:
        d = mdates.num2date(v)  # type: ignore[no-untyped-call]
        if d.day == 1:
            return f"{months[d.month - 1]} {d.year}"
        return f"{d.day} {months[d.month - 1]}"

    ax.xaxis.set_major_formatter(FuncFormatter(fmt))


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
    ax.plot(
        x,
        p["center"].to_numpy(float),
        color=style.MEAN_COLOR,
        linewidth=1.2,
        label=t("legend.center", lang),
        zorder=2,
    )
    ax.plot(
        x,
        p["ucl"].to_numpy(float),
        color=style.LIMIT_COLOR,
        linestyle="--",
        linewidth=1.2,
        label=t("legend.limits", lang),
        zorder=2,
    )
    ax.plot(
        x,
        p["lcl"].to_numpy(float),
        color=style.LIMIT_COLOR,
        linestyle="--",
        linewidth=1.2,
        zorder=2,
    )

    flags = _flags(p)
    if flags.any():
        xv = x[flags] if use_dates else np.asarray(x)[flags]
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
    if signals is not None and not signals.empty and flags.any():
        need(signals, ("producer", "dimension", "rule"), "plot_control_chart")
        rules = sorted(
            set(select(signals, producer=producer, dimension=dimension)["rule"].astype("str"))
        )
        if rules:
            for coll in ax.collections[-1:]:
                coll.set_label(f"{t('legend.signal', lang)} ({', '.join(rules)})")
    style.set_number_format(ax, lang, x=not use_dates)
    if use_dates:
        _date_axis(ax, lang)
    if legend:
        below = -0.22 if use_dates else -0.14
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, below), ncol=3)
    return ax
