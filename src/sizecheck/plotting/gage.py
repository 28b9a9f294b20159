"""Charts of a gage R&R study: components of variation, readings by part and by operator,
and the range chart by operator (the four charts AIAG MSA 4th ed. and Minitab show).

Each takes a frame :func:`sizecheck.gage.gage_rr` already computed (``GageStudy.components``,
``.readings``, ``.ranges``) and draws only on the Axes it is given.

>>> import pandas as pd
>>> from matplotlib.figure import Figure
>>> from sizecheck.gage import gage_rr
>>> r = pd.DataFrame({"part": [1, 1, 2, 2] * 2, "operator": ["A"] * 4 + ["B"] * 4,
...                   "trial": [1, 2] * 4, "value_mm": [10, 10.1, 12, 12.2, 10.1, 10, 12.1, 12]})
>>> study = gage_rr(r)
>>> ax = Figure().subplots()
>>> plot_gage_components(study.components, ax=ax) is ax
True
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from sizecheck.gage import sort_labels
from sizecheck.i18n import dimension_label, t
from sizecheck.plotting import style
from sizecheck.plotting._common import get_ax, merged, need, no_data, plain_text, short

__all__ = [
    "plot_gage_by_operator",
    "plot_gage_by_part",
    "plot_gage_components",
    "plot_gage_range_chart",
]

#: The sources shown as bar groups, in order.
_BAR_SOURCES = ("gage_rr", "repeatability", "reproducibility", "part_to_part")
#: The percentages shown per source: column, legend key, colour, hatch.
_BAR_KINDS = (
    ("pct_contribution", "gage.col.pct_contribution", style.OKABE_ITO["blue"], None),
    ("pct_study_var", "gage.col.pct_study_var", style.OKABE_ITO["orange"], "//"),
    ("pct_tolerance", "gage.col.pct_tolerance", style.OKABE_ITO["bluish_green"], "xx"),
)
_SOURCE_KEYS = {
    "gage_rr": "gage.source.gage_rr",
    "repeatability": "gage.source.repeatability",
    "reproducibility": "gage.source.reproducibility",
    "part_to_part": "gage.source.part_to_part",
}


def plot_gage_components(
    components: pd.DataFrame,
    *,
    dimension: str = "value",
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Components of variation: % contribution, % study variation and % tolerance as bars.

    Gage R&R, repeatability, reproducibility and part-to-part, each a group of bars; the
    AIAG lines at 10 % and 30 % are drawn dashed. % tolerance is left out when no
    tolerance was given.

    Parameters
    ----------
    components : DataFrame
        ``GageStudy.components`` (``gage.csv``): ``source, pct_contribution,
        pct_study_var, pct_tolerance``.
    dimension : str
    lang : {"en", "id"}
    title : str, optional
    legend : bool, default True
    ax : Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.bar` (they win).

    Returns
    -------
    Axes
    """
    need(
        components,
        ["source", "pct_contribution", "pct_study_var", "pct_tolerance"],
        "plot_gage_components",
    )
    ax = get_ax(ax)
    dim_label = dimension_label(dimension, lang)
    ax.set_title(
        title if title is not None else t("gage.chart.components_title", lang, dimension=dim_label)
    )
    rows = components.set_index(components["source"].astype("str"))
    kinds = [k for k in _BAR_KINDS if np.isfinite(rows[k[0]].to_numpy(float)).any()]
    present = [s for s in _BAR_SOURCES if s in rows.index]
    if not present or not kinds:
        no_data(ax, lang)
        return ax
    x = np.arange(len(present), dtype=float)
    width = 0.8 / len(kinds)
    top = 0.0
    for i, (col, key, color, hatch) in enumerate(kinds):
        values = rows.loc[present, col].to_numpy(float)
        top = max(top, float(np.nanmax(values)))
        ax.bar(
            x - 0.4 + width * (i + 0.5),
            np.nan_to_num(values),
            width,
            **merged(
                {
                    "color": color,
                    "hatch": hatch,
                    "edgecolor": "#333333",
                    "linewidth": 0.6,
                    "label": t(key, lang),
                },
                kwargs,
            ),
        )
    for level, key in ((10.0, "gage.chart.band_10"), (30.0, "gage.chart.band_30")):
        ax.axhline(level, color=style.LIMIT_COLOR, linestyle="--", linewidth=1.0)
        ax.annotate(
            t(key, lang),
            (1.0, level),
            xycoords=("axes fraction", "data"),
            xytext=(2, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color=style.LIMIT_COLOR,
            annotation_clip=False,
        )
    names = [textwrap.fill(t(_SOURCE_KEYS[s], lang).strip(), 16) for s in present]
    ax.set_xticks(x, names)
    ax.set_ylabel(t("gage.chart.components_y", lang))
    ax.set_ylim(0, max(top * 1.12, 35.0))
    ax.grid(axis="x", visible=False)
    style.set_number_format(ax, lang, x=False)
    if legend:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(kinds))
    return ax


def _order(values: pd.Series) -> list[str]:
    return sort_labels(values.astype("str").unique().tolist())


def plot_gage_by_part(
    readings: pd.DataFrame,
    *,
    dimension: str = "value",
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Every reading by part, with the part means joined: parts should differ far more
    than the readings of one part do.

    Parameters
    ----------
    readings : DataFrame
        ``GageStudy.readings``: ``part, value_mm``.
    dimension, lang, title, legend, ax
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.scatter` for the readings (they win).

    Returns
    -------
    Axes
    """
    need(readings, ["part", "value_mm"], "plot_gage_by_part")
    ax = get_ax(ax)
    dim_label = dimension_label(dimension, lang)
    ax.set_title(
        title if title is not None else t("gage.chart.by_part_title", lang, dimension=dim_label)
    )
    if readings.empty:
        no_data(ax, lang)
        return ax
    parts = _order(readings["part"])
    pos = {p: i for i, p in enumerate(parts)}
    x = readings["part"].astype("str").map(pos).to_numpy(float)
    y = readings["value_mm"].to_numpy(float)
    ax.scatter(
        x,
        y,
        **merged(
            {
                "s": 16,
                "color": style.DOT_COLOR,
                "alpha": 0.6,
                "label": t("gage.chart.readings", lang),
                "zorder": 2,
            },
            kwargs,
        ),
    )
    means = readings.groupby(readings["part"].astype("str"))["value_mm"].mean().reindex(parts)
    ax.plot(
        np.arange(len(parts)),
        means.to_numpy(float),
        color=style.MEAN_COLOR,
        marker="D",
        markersize=5,
        linewidth=1.4,
        label=t("gage.chart.mean", lang),
        zorder=3,
    )
    ax.set_xticks(np.arange(len(parts)), [plain_text(short(p, 10)) for p in parts])
    ax.set_xlabel(t("gage.chart.part", lang))
    ax.set_ylabel(t("gage.chart.reading", lang))
    ax.grid(axis="x", visible=False)
    style.set_number_format(ax, lang, x=False)
    if legend:
        ax.legend(loc="best")
    return ax


def plot_gage_by_operator(
    readings: pd.DataFrame,
    *,
    dimension: str = "value",
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """The readings of each operator as a box, with the operator means joined: a slope
    between operators is reproducibility (one officer reads longer than another).

    Parameters
    ----------
    readings : DataFrame
        ``GageStudy.readings``: ``operator, value_mm``.
    dimension, lang, title, legend, ax
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.boxplot` (they win).

    Returns
    -------
    Axes
    """
    need(readings, ["operator", "value_mm"], "plot_gage_by_operator")
    ax = get_ax(ax)
    dim_label = dimension_label(dimension, lang)
    ax.set_title(
        title if title is not None else t("gage.chart.by_operator_title", lang, dimension=dim_label)
    )
    if readings.empty:
        no_data(ax, lang)
        return ax
    operators = _order(readings["operator"])
    groups = readings.groupby(readings["operator"].astype("str"))["value_mm"]
    data = [groups.get_group(o).to_numpy(float) for o in operators]
    ax.boxplot(
        data,
        positions=np.arange(len(operators)),
        **merged(
            {
                "widths": 0.5,
                "patch_artist": True,
                "boxprops": {"facecolor": "#E8F1F8", "edgecolor": style.DOT_COLOR},
                "medianprops": {"color": style.DOT_COLOR},
                "showfliers": True,
            },
            kwargs,
        ),
    )
    means = [float(d.mean()) for d in data]
    ax.plot(
        np.arange(len(operators)),
        means,
        color=style.MEAN_COLOR,
        marker="D",
        markersize=5,
        linewidth=1.4,
        label=t("gage.chart.mean", lang),
        zorder=3,
    )
    ax.set_xticks(np.arange(len(operators)), [plain_text(short(o, 14)) for o in operators])
    ax.set_xlabel(t("gage.chart.operator", lang))
    ax.set_ylabel(t("gage.chart.reading", lang))
    ax.grid(axis="x", visible=False)
    style.set_number_format(ax, lang, x=False)
    if legend:
        ax.legend(loc="best")
    return ax


def _draw_ranges_by_operator(
    ax: Axes, ranges: pd.DataFrame, kwargs: dict[str, Any]
) -> tuple[list[float], list[str], int]:
    """Draw each operator's part ranges, named above; return ticks, labels and end x."""
    operators = _order(ranges["operator"])
    parts = _order(ranges["part"])
    start = 0
    ticks: list[float] = []
    labels: list[str] = []
    for k, op in enumerate(operators):
        sub = ranges.loc[ranges["operator"].astype("str") == op]
        sub = sub.set_index(sub["part"].astype("str")).reindex(
            [p for p in parts if p in set(sub["part"].astype("str"))]
        )
        x = start + np.arange(len(sub), dtype=float)
        ax.plot(
            x,
            sub["range_mm"].to_numpy(float),
            **merged(
                {"color": style.DOT_COLOR, "marker": "o", "markersize": 4, "linewidth": 1.2}, kwargs
            ),
        )
        out = sub["out"].to_numpy(bool)
        if out.any():
            ax.scatter(
                x[out],
                sub["range_mm"].to_numpy(float)[out],
                s=60,
                marker="s",
                facecolor="none",
                edgecolor=style.SIGNAL_COLOR,
                linewidth=1.6,
                zorder=4,
            )
        ax.annotate(
            plain_text(short(op, 16)),
            ((x[0] + x[-1]) / 2, 1.0),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="bottom",
            fontsize=8.5,
            fontweight="bold",
        )
        if k:
            ax.axvline(start - 0.5, color="#999999", linewidth=0.8)
        ticks += x.tolist()
        labels += [plain_text(short(p, 6)) for p in sub.index]
        start += len(sub) + 1
    return ticks, labels, start


def _range_chart_legend(ax: Axes, ucl: float, any_out: bool, lang: str) -> None:
    """The legend below the range chart: ranges, R̄, the UCL if any, out ranges if any."""
    handles = [
        Line2D(
            [],
            [],
            color=style.DOT_COLOR,
            marker="o",
            markersize=4,
            label=t("gage.chart.range", lang),
        ),
        Line2D([], [], color=style.MEAN_COLOR, label=t("gage.chart.rbar", lang)),
    ]
    if np.isfinite(ucl):
        handles.append(
            Line2D([], [], color=style.LIMIT_COLOR, linestyle="--", label=t("gage.chart.ucl", lang))
        )
    if any_out:
        handles.append(
            Line2D(
                [],
                [],
                color=style.SIGNAL_COLOR,
                marker="s",
                linestyle="",
                markerfacecolor="none",
                label=t("gage.chart.out", lang),
            )
        )
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4, fontsize=7.5
    )


def plot_gage_range_chart(
    ranges: pd.DataFrame,
    *,
    dimension: str = "value",
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Range chart by operator: each part's range over its trials, operator by operator,
    with R̄ and the upper control limit; ranges above it are marked.

    Parameters
    ----------
    ranges : DataFrame
        ``GageStudy.ranges`` (:func:`sizecheck.gage.range_chart`): ``operator, part,
        range_mm, center_mm, ucl_mm, out``.
    dimension, lang, title, legend, ax
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot` for the ranges (they win).

    Returns
    -------
    Axes
    """
    need(
        ranges,
        ["operator", "part", "range_mm", "center_mm", "ucl_mm", "out"],
        "plot_gage_range_chart",
    )
    ax = get_ax(ax)
    dim_label = dimension_label(dimension, lang)
    ax.set_title(
        title if title is not None else t("gage.chart.range_title", lang, dimension=dim_label),
        pad=16,
    )
    if ranges.empty:
        no_data(ax, lang)
        return ax
    ucl = float(ranges["ucl_mm"].iloc[0])
    rbar = float(ranges["center_mm"].iloc[0])
    ticks, labels, start = _draw_ranges_by_operator(ax, ranges, kwargs)
    ax.axhline(rbar, color=style.MEAN_COLOR, linewidth=1.2)
    if np.isfinite(ucl):
        ax.axhline(ucl, color=style.LIMIT_COLOR, linestyle="--", linewidth=1.2)
    ax.set_xticks(ticks, labels, fontsize=7 if len(ticks) > 30 else 8.5)
    ax.set_xlim(-0.7, start - 1.3)
    top = float(np.nanmax([ucl if np.isfinite(ucl) else 0.0, ranges["range_mm"].max()]))
    ax.set_ylim(0, top * 1.12 if top > 0 else 1.0)
    ax.set_xlabel(t("gage.chart.part", lang))
    ax.set_ylabel(t("gage.chart.range", lang))
    ax.grid(axis="x", visible=False)
    style.set_number_format(ax, lang, x=False)
    if legend:
        _range_chart_legend(ax, ucl, bool(ranges["out"].astype(bool).any()), lang)
    return ax
