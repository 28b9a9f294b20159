"""Cluster-level charts from ``size_summary``: effective size, heatmap and grading."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm

from sizecheck.i18n import dimension_label, format_number, t
from sizecheck.plotting import style
from sizecheck.plotting._common import get_ax, merged, need, no_data, plain_text, select, short

__all__ = ["plot_effective_size", "plot_grading", "plot_heatmap"]

_SS_COLUMNS = ("producer", "dimension", "size", "effective_size")


def _producers(d: pd.DataFrame) -> list[str]:
    return sorted(d["producer"].astype("str").unique().tolist())


def plot_effective_size(
    size_summary: pd.DataFrame,
    *,
    dimension: str,
    producer: str | None = None,
    lang: str = "en",
    annotate: bool | None = None,
    title: str | None = None,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Where each labelled size falls on the reference scale ("your 41 is a 41.6").

    ``effective_size`` (size + mean deviation / grade step, from ``size_summary``) against
    the labelled size, with the identity line: a producer on the line makes sizes as the
    table defines them; above it, its shoes are larger than labelled.

    Parameters
    ----------
    size_summary : DataFrame
        ``Analysis.size_summary`` (``producer, dimension, size, effective_size``).
    dimension : str
    producer : str, optional
        Highlight this producer (the others in grey); all producers in colour otherwise.
    lang : {"en", "id"}, default "en"
    annotate : bool, optional
        Write the effective size next to each point; default: when ``producer`` is given.
    title : str, optional
    legend : bool, default True
    ax : Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot` for the producer lines (they win).

    Returns
    -------
    Axes
        ``ax`` with the identity line and one line per producer.
    """
    need(size_summary, _SS_COLUMNS, "plot_effective_size")
    ax = get_ax(ax)
    dim_label = dimension_label(dimension, lang)
    if title is None:
        title = (
            t(
                "chart.effective.title_producer",
                lang,
                producer=plain_text(producer),
                dimension=dim_label,
            )
            if producer is not None
            else t("chart.effective.title", lang, dimension=dim_label)
        )
    ax.set_title(title)
    ax.set_xlabel(t("axis.size", lang))
    ax.set_ylabel(t("axis.effective_size", lang))
    d = select(size_summary, producer=None, dimension=dimension)
    d = d.loc[pd.to_numeric(d["effective_size"], errors="coerce").notna()]
    if d.empty or (producer is not None and (d["producer"].astype("str") != str(producer)).all()):
        no_data(ax, lang)
        return ax
    sizes = np.sort(d["size"].astype(float).unique())
    lo, hi = float(sizes[0]) - 0.5, float(sizes[-1]) + 0.5
    ax.plot(
        [lo, hi],
        [lo, hi],
        color=style.REFERENCE_COLOR,
        linewidth=1.2,
        linestyle="-",
        label=t("legend.identity", lang),
        zorder=1,
    )
    annotate = producer is not None if annotate is None else annotate
    eff = d["effective_size"].astype(float)
    pad = 0.6 if annotate else 0.3  # room for the numbers written above/below points
    y_lo = min(lo, float(np.nanmin(eff)) - pad)
    y_hi = max(hi, float(np.nanmax(eff)) + pad)
    styles = style.series_styles()
    others_labelled = False
    for name in _producers(d):
        s = d.loc[d["producer"].astype("str") == name].sort_values("size")
        x = s["size"].to_numpy(float)
        y = s["effective_size"].to_numpy(float)
        if producer is not None and name != str(producer):
            ax.plot(
                x,
                y,
                color="#BBBBBB",
                linewidth=0.9,
                marker=".",
                markersize=3,
                label=None if others_labelled else t("legend.other_producers", lang),
                zorder=1.5,
            )
            others_labelled = True
            continue
        st = (
            dict(next(styles))
            if producer is None
            else {
                "color": style.OKABE_ITO["vermillion"],
                "marker": "o",
                "linestyle": "-",
            }
        )
        ax.plot(
            x,
            y,
            **merged(
                {
                    **st,
                    "markersize": 5,
                    "linewidth": 1.6,
                    "label": short(plain_text(name)),
                    "zorder": 3,
                },
                kwargs,
            ),
        )
        if annotate:
            for xi, yi in zip(x, y, strict=True):
                above = yi >= xi  # on the side away from the identity line ...
                if yi - y_lo < 1.0 or y_hi - yi < 1.0:  # ... unless that leaves the axes
                    above = yi - y_lo < y_hi - yi
                ax.annotate(
                    format_number(yi, lang, 1),
                    (xi, yi),
                    xytext=(0, 7 if above else -12),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7.5,
                )
    ax.set_xlim(lo, hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xticks(sizes)
    ax.set_aspect("auto")
    style.set_number_format(ax, lang)
    if legend:
        ax.legend(loc="upper left", ncol=1 if producer is not None else 2)
    return ax


def plot_heatmap(
    size_summary: pd.DataFrame,
    *,
    dimension: str,
    lang: str = "en",
    cmap: str = "PuOr",
    colorbar: bool = True,
    title: str | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Producer × size of the mean deviation in sizes, centred on zero and annotated.

    The value is ``effective_size - size`` (the mean deviation divided by the grade step,
    as ``size_summary`` gives it). The diverging colour map is centred on 0 with symmetric
    limits; every cell also carries its signed number so the chart reads in grey print.

    Parameters
    ----------
    size_summary : DataFrame
        ``Analysis.size_summary``.
    dimension : str
    lang : {"en", "id"}, default "en"
    cmap : str, default "PuOr"
        A diverging, colour-blind-safe map (ColorBrewer PuOr).
    colorbar : bool, default True
        Draw a colour bar in an inset of ``ax``.
    title : str, optional
    ax : Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.imshow` (they win).

    Returns
    -------
    Axes
        ``ax`` with one image and one text per non-empty cell.
    """
    need(size_summary, _SS_COLUMNS, "plot_heatmap")
    ax = get_ax(ax)
    ax.set_title(
        title
        if title is not None
        else t("chart.heatmap.title", lang, dimension=dimension_label(dimension, lang))
    )
    ax.set_xlabel(t("axis.size", lang))
    ax.set_ylabel(t("axis.producer", lang))
    d = select(size_summary, producer=None, dimension=dimension)
    if d.empty:
        no_data(ax, lang)
        return ax
    value = d["effective_size"].astype(float) - d["size"].astype(float)
    grid = pd.DataFrame(
        {"producer": d["producer"].astype("str"), "size": d["size"].astype(float), "v": value}
    ).pivot_table(index="producer", columns="size", values="v", aggfunc="first", sort=True)
    m = grid.to_numpy(float)
    finite = m[np.isfinite(m)]
    if not finite.size:  # e.g. a one-sided table (minimum toecap) has no size step
        no_data(ax, lang)
        return ax
    vmax = max(float(np.max(np.abs(finite))) if finite.size else 0.0, 0.25)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax)
    import matplotlib as mpl

    cm = mpl.colormaps[cmap].with_extremes(bad="#F2F2F2")
    im = ax.imshow(
        np.ma.masked_invalid(m),
        **merged({"cmap": cm, "norm": norm, "aspect": "auto", "interpolation": "nearest"}, kwargs),
    )
    for (i, j), v in np.ndenumerate(m):
        if not np.isfinite(v):
            continue
        rgba = cm(norm(v))
        lum = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]
        ax.text(
            j,
            i,
            format_number(v, lang, 1, signed=True),
            ha="center",
            va="center",
            fontsize=7.5,
            color="black" if lum > 0.5 else "white",
        )
    ax.set_xticks(range(m.shape[1]))
    ax.set_xticklabels(
        [format_number(float(s), lang, 1 if float(s) % 1 else 0) for s in grid.columns]
    )
    ax.set_yticks(range(m.shape[0]))
    ax.set_yticklabels([short(plain_text(p)) for p in grid.index])
    ax.grid(False)
    if colorbar:
        cax = ax.inset_axes((1.02, 0.0, 0.025, 1.0))
        cb = ax.figure.colorbar(im, cax=cax)
        cb.set_label(t("axis.deviation_sizes_long", lang))
        cb.ax.yaxis.set_major_formatter(style.number_formatter(lang))
    return ax


def plot_grading(
    size_summary: pd.DataFrame,
    *,
    dimension: str,
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Mean measured value by size for each producer, against the nominal line.

    A producer whose line is steeper or flatter than the reference grades its sizes with
    another step (e.g. Chinese lasts graded 5 mm per size relabelled in Paris sizes).

    Parameters
    ----------
    size_summary : DataFrame
        ``Analysis.size_summary`` (``producer, dimension, size, mean_mm, nominal_mm``).
    dimension : str
    lang : {"en", "id"}, default "en"
    title : str, optional
    legend : bool, default True
    ax : Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot` for the producer lines (they win).

    Returns
    -------
    Axes
        ``ax`` with the nominal line and one line per producer.
    """
    need(size_summary, ("producer", "dimension", "size", "mean_mm", "nominal_mm"), "plot_grading")
    ax = get_ax(ax)
    dim_label = dimension_label(dimension, lang)
    ax.set_title(
        title if title is not None else t("chart.grading.title", lang, dimension=dim_label)
    )
    ax.set_xlabel(t("axis.size", lang))
    ax.set_ylabel(t("axis.measured_mm", lang, dimension=dim_label))
    d = select(size_summary, producer=None, dimension=dimension)
    if d.empty:
        no_data(ax, lang)
        return ax
    nominal = d.groupby(d["size"].astype(float))["nominal_mm"].median().sort_index()
    ax.plot(
        nominal.index.to_numpy(float),
        nominal.to_numpy(float),
        color=style.REFERENCE_COLOR,
        linewidth=4.0,
        alpha=0.35,
        solid_capstyle="round",
        label=t("legend.nominal", lang),
        zorder=1,
    )
    styles = style.series_styles()
    for name in _producers(d):
        s = d.loc[d["producer"].astype("str") == name].sort_values("size")
        ax.plot(
            s["size"].to_numpy(float),
            s["mean_mm"].to_numpy(float),
            **merged(
                {
                    **next(styles),
                    "markersize": 4.5,
                    "linewidth": 1.3,
                    "label": short(plain_text(name)),
                    "zorder": 2,
                },
                kwargs,
            ),
        )
    ax.set_xticks(nominal.index.to_numpy(float))
    style.set_number_format(ax, lang)
    if legend:
        ax.legend(loc="upper left", ncol=2)
    return ax
