"""Cluster-level charts from ``size_summary``: effective size, heatmap and grading."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import FuncNorm

from sizecheck.i18n import dimension_label, format_number, t
from sizecheck.plotting import style
from sizecheck.plotting._common import get_ax, merged, need, no_data, plain_text, select, short

if TYPE_CHECKING:
    from sizecheck.tables import ReferenceTable

__all__ = [
    "ToleranceInSizes",
    "plot_effective_size",
    "plot_grading",
    "plot_heatmap",
    "tolerance_in_sizes",
    "tolerance_norm",
]

_SS_COLUMNS = ("producer", "dimension", "size", "effective_size")

FloatArray = npt.NDArray[np.float64]


def _by_producer(d: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The rows of each producer, sorted by size, producers in name order (one grouping)."""
    key = d["producer"].astype("str")
    return [(str(name), g.sort_values("size")) for name, g in d.groupby(key, sort=True)]


def _broken_line(d: pd.DataFrame, column: str) -> tuple[FloatArray, FloatArray]:
    """Size and ``column`` of every producer in ``d`` as one line: each producer's
    points by size, a NaN (a break in the line) between producers. One sort, no loop
    over producers: a cluster of 120 is one Line2D instead of 120."""
    order = np.lexsort((d["size"].to_numpy(float), d["producer"].astype("str").to_numpy()))
    names = d["producer"].astype("str").to_numpy()[order]
    x = d["size"].to_numpy(float)[order]
    y = d[column].to_numpy(float)[order]
    breaks = np.flatnonzero(names[1:] != names[:-1]) + 1
    return np.insert(x, breaks, np.nan), np.insert(y, breaks, np.nan)


def _annotation_step(ax: Axes, sizes: FloatArray, lo: float, hi: float) -> int:
    """Write the number at every ``n``-th size so that numbers (about 4 characters at
    :data:`~sizecheck.plotting.style.MIN_FONT_PT`) do not touch at the Axes' width."""
    fig = ax.get_figure(root=True)
    width_in = ax.get_position().width * (fig.get_figwidth() if fig is not None else 6.0)
    if len(sizes) < 2 or width_in <= 0:
        return 1
    per_size_in = width_in * float(np.min(np.diff(sizes))) / (hi - lo)
    label_in = 4.6 * 0.62 * style.MIN_FONT_PT / 72  # "41,6" and a little air
    return max(1, int(np.ceil(label_in / per_size_in)))


#: Points a value label needs between its point and the edge of the plot area: its
#: offset (14 pt under the point, 7 pt above) and its height, with room to spare for a
#: card's chart, which may be drawn up to a third shorter than when it was planned.
_LABEL_ROOM_PT = 24.0


def _points_per_unit(ax: Axes, span: float) -> float:
    """Points per y data unit at the Axes' present height for a y range of ``span``."""
    fig = ax.get_figure(root=True)
    height_in = ax.get_position().height * (fig.get_figheight() if fig is not None else 4.6)
    return height_in * 72.0 / span if span > 0 else 0.0


def _value_label(
    ax: Axes, text: str, x: float, y: float, xlim: tuple[float, float], room: tuple[float, float]
) -> None:
    """Write an effective size by its point: on the side away from the identity line,
    unless the plot area's edge is nearer than :data:`_LABEL_ROOM_PT` there (``room`` =
    points below and above the point) and the other side has more room. A label at the
    first or last size is anchored at the plot area's edge and written inwards, so that
    it never runs over the axis (the card's narrow chart has half a size, less than
    half a number's width, beside its outermost points)."""
    below, above_room = room
    above = y >= x
    if (above_room if above else below) < _LABEL_ROOM_PT:
        above = above_room > below
    lo, hi = xlim
    xy, ha, dx = (x, y), "center", 0.0
    if x - lo <= 0.5 + 1e-9:  # the first size: from the left edge rightwards
        xy, ha, dx = (lo, y), "left", 2.0
    elif hi - x <= 0.5 + 1e-9:  # the last size: from the right edge leftwards
        xy, ha, dx = (hi, y), "right", -2.0
    ax.annotate(text, xy, xytext=(dx, 7 if above else -14), textcoords="offset points",
                ha=ha, fontsize=style.MIN_FONT_PT, annotation_clip=False)  # fmt: skip


def _value_labels(
    ax: Axes,
    x: FloatArray,
    y: FloatArray,
    sizes: FloatArray,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    lang: str,
) -> None:
    """Write the effective size by every point, or every n-th size where they would touch."""
    lo, hi = xlim
    y_lo, y_hi = ylim
    every = _annotation_step(ax, sizes, lo, hi)
    per_unit = _points_per_unit(ax, y_hi - y_lo)
    for xi, yi in zip(x, y, strict=True):
        if int(np.searchsorted(sizes, xi)) % every:
            continue
        _value_label(ax, format_number(yi, lang, 1), xi, yi, (lo, hi),
                     ((yi - y_lo) * per_unit, (y_hi - yi) * per_unit))  # fmt: skip


def _effective_title(producer: str | None, dim_label: str, lang: str) -> str:
    """The default title: one producer's effective sizes, or the cluster's."""
    if producer is not None:
        return t(
            "chart.effective.title_producer",
            lang,
            producer=plain_text(producer),
            dimension=dim_label,
        )
    return t("chart.effective.title", lang, dimension=dim_label)


def _draw_identity_line(ax: Axes, lo: float, hi: float, lang: str) -> None:
    """Draw the identity line: sizes made as the table defines them."""
    ax.plot(
        [lo, hi],
        [lo, hi],
        color=style.REFERENCE_COLOR,
        linewidth=1.2,
        linestyle="-",
        label=t("legend.identity", lang),
        zorder=1,
    )


def _draw_other_producers(ax: Axes, others: pd.DataFrame, lang: str) -> None:
    """Draw every other producer in grey, one line broken between producers."""
    x, y = _broken_line(others, "effective_size")
    ax.plot(
        x,
        y,
        color="#BBBBBB",
        linewidth=0.9,  # no markers: a hundred producers are a thousand dots
        label=t("legend.other_producers", lang),
        zorder=1.5,
    )


#: The look of the one producer highlighted on the effective-size chart.
_HIGHLIGHT: dict[str, Any] = {
    "color": style.OKABE_ITO["vermillion"],
    "marker": "o",
    "linestyle": "-",
}


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
        Where the Axes is too narrow for a number at every size (a card's small chart),
        every second or third size is written, so the numbers never run into each other.
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
        title = _effective_title(producer, dim_label, lang)
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
    _draw_identity_line(ax, lo, hi, lang)
    annotate = producer is not None if annotate is None else annotate
    eff = d["effective_size"].astype(float)
    pad = 0.6 if annotate else 0.3  # room for the numbers written above/below points
    y_lo = min(lo, float(np.nanmin(eff)) - pad)
    y_hi = max(hi, float(np.nanmax(eff)) + pad)
    styles = style.series_styles()
    mine = d["producer"].astype("str") == str(producer)
    if producer is not None and not mine.all():
        _draw_other_producers(ax, d.loc[~mine], lang)
    groups = _by_producer(d.loc[mine] if producer is not None else d)
    for name, s in groups:
        x = s["size"].to_numpy(float)
        y = s["effective_size"].to_numpy(float)
        st = dict(next(styles)) if producer is None else _HIGHLIGHT
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
            _value_labels(ax, x, y, sizes, (lo, hi), (y_lo, y_hi), lang)
    ax.set_xlim(lo, hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xticks(sizes)
    ax.set_aspect("auto")
    style.set_number_format(ax, lang)
    if legend:
        ax.legend(loc="upper left", ncol=1 if producer is not None else 2)
    return ax


#: Tolerance in sizes (in spec, mis-sized beyond) when no table is given: a quarter and
#: a half of a size, about the proposed length tolerance of the Paris point table
#: (±1.5 mm in spec, ±3.33 mm = half a size mis-sized, 6.67 mm per size).
DEFAULT_TOLERANCE_SIZES = (0.25, 0.5)

#: Where the colour scale of the heatmaps reaches (from white at 0 to the darkest at 1),
#: at the tolerance limit, at the mis-sized limit and at twice the mis-sized limit.
COLOUR_ANCHORS = (0.2, 0.6, 1.0)


class ToleranceInSizes(NamedTuple):
    """A dimension's tolerance expressed in sizes (positive numbers, below and above)."""

    lower: float
    upper: float
    lower_missized: float
    upper_missized: float


def tolerance_in_sizes(
    table: ReferenceTable | None, dimension: str, sizes: npt.ArrayLike
) -> ToleranceInSizes:
    """The tolerance of ``dimension`` in sizes: the table's limits around the nominal
    value divided by the grade step (median over ``sizes``), or
    :data:`DEFAULT_TOLERANCE_SIZES` when the table has no two-sided tolerance or no grade
    step for it. A missing mis-sized band is taken as twice the tolerance.

    Examples
    --------
    >>> from sizecheck.tables import load_table
    >>> tol = tolerance_in_sizes(load_table("paris-point"), "insole_length", [40, 41])
    >>> round(tol.lower, 3), round(tol.lower_missized, 3)
    (0.225, 0.499)
    """
    default = DEFAULT_TOLERANCE_SIZES
    fallback = ToleranceInSizes(default[0], default[0], default[1], default[1])
    if table is None or dimension not in table.dimensions:
        return fallback
    step = table.grade_step(dimension)
    s = np.asarray(sizes, dtype=float)
    nominal = table.nominal(dimension, s)
    lim = table.limits(dimension, s)
    parts = [
        np.nanmedian(nominal - lim.lower),
        np.nanmedian(lim.upper - nominal),
        np.nanmedian(nominal - lim.lower_missized),
        np.nanmedian(lim.upper_missized - nominal),
    ]
    if not step or not all(np.isfinite(v) and v > 0 for v in parts):
        return fallback
    lo, hi, lo_m, hi_m = (float(v) / step for v in parts)
    return ToleranceInSizes(lo, hi, lo_m if lo_m > lo else 2 * lo, hi_m if hi_m > hi else 2 * hi)


def tolerance_norm(tol: ToleranceInSizes) -> FuncNorm:
    """The colour scale of every heatmap: the same colour means the same share of the
    tolerance, whatever the dimension.

    Piecewise linear in the deviation (sizes): 0 is the centre (white); the tolerance
    limit, the mis-sized limit and twice the mis-sized limit are the three
    :data:`COLOUR_ANCHORS` of the way to the darkest colour (beyond: the darkest). So
    −0.2 size on a girth whose tolerance is ±0.5 size is pale, and −1.3 sizes on a
    length mis-sized beyond ±0.5 size is dark.
    """
    a, b, c = COLOUR_ANCHORS
    xs = np.array([-2 * tol.lower_missized, -tol.lower_missized, -tol.lower, 0.0,
                   tol.upper, tol.upper_missized, 2 * tol.upper_missized])  # fmt: skip
    us = np.array([-c, -b, -a, 0.0, a, b, c])

    def forward(v: Any) -> Any:
        return np.interp(v, xs, us)

    def inverse(u: Any) -> Any:
        return np.interp(u, us, xs)

    return FuncNorm((forward, inverse), vmin=float(xs[0]), vmax=float(xs[-1]))


def plot_heatmap(
    size_summary: pd.DataFrame,
    *,
    dimension: str,
    table: ReferenceTable | None = None,
    lang: str = "en",
    cmap: str = "PuOr",
    colorbar: bool = True,
    title: str | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Producer × size of the mean deviation in sizes, coloured on the tolerance, annotated.

    The value is ``effective_size - size`` (the mean deviation divided by the grade step,
    as ``size_summary`` gives it). The colours follow :func:`tolerance_norm`: anchored on
    the table's tolerance in sizes, so every heatmap (every dimension, every run with the
    same table) uses one scale: pale inside the tolerance, strong beyond the mis-sized
    limit. The colour bar is ticked at those limits. Every cell also carries its signed
    number so the chart reads in grey print.

    Parameters
    ----------
    size_summary : DataFrame
        ``Analysis.size_summary``.
    dimension : str
    table : ReferenceTable, optional
        ``Analysis.table``: its tolerance anchors the colours; without it,
        :data:`DEFAULT_TOLERANCE_SIZES`.
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
    tol = tolerance_in_sizes(table, dimension, grid.columns.to_numpy(float))
    norm = tolerance_norm(tol)
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
            fontsize=style.MIN_FONT_PT,
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
        cb = ax.figure.colorbar(im, cax=cax, extend="both")
        cb.set_label(t("axis.deviation_sizes_long", lang))
        ticks = [-tol.lower_missized, -tol.lower, 0.0, tol.upper, tol.upper_missized]
        words = ["chart.heatmap.tick_missized", "chart.heatmap.tick_tolerance", None,
                 "chart.heatmap.tick_tolerance", "chart.heatmap.tick_missized"]  # fmt: skip
        cb.set_ticks(ticks)
        cb.set_ticklabels(
            [
                t(w, lang, value=format_number(v, lang, 2, signed=True)) if w else "0"
                for v, w in zip(ticks, words, strict=True)
            ]
        )
        cb.minorticks_off()
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
    for name, s in _by_producer(d):
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
