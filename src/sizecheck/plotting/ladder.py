"""One producer's shoes against the tolerance bands: the size ladder and the histogram."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sizecheck.i18n import dimension_label, format_date, format_number, t
from sizecheck.plotting import style
from sizecheck.plotting._common import (
    get_ax,
    grade_step,
    legend_below,
    merged,
    need,
    no_data,
    plain_text,
    select,
)

__all__ = ["plot_capability", "plot_size_ladder"]

_DEV_COLUMNS = (
    "producer",
    "dimension",
    "size",
    "deviation_mm",
    "nominal_mm",
    "lower_mm",
    "upper_mm",
)

FloatArray = npt.NDArray[np.float64]

if TYPE_CHECKING:
    from sizecheck.findings import DimensionFinding


def _usable(d: pd.DataFrame) -> pd.DataFrame:
    keep = (
        pd.to_numeric(d["deviation_mm"], errors="coerce").notna()
        & pd.to_numeric(d["size"], errors="coerce").notna()
    )
    if "status" in d.columns:
        keep &= d["status"].astype("str") != "no_reference"
    return d.loc[keep]


def _relative_bands(d: pd.DataFrame) -> pd.DataFrame:
    """Per size: the limits relative to the nominal value (median over the rows)."""
    nominal = d["nominal_mm"].to_numpy(float)
    rel = pd.DataFrame({"size": d["size"].to_numpy(float)})
    rel["lo"] = d["lower_mm"].to_numpy(float) - nominal
    rel["hi"] = d["upper_mm"].to_numpy(float) - nominal
    lo_m = d["lower_missized_mm"] if "lower_missized_mm" in d.columns else d["lower_mm"]
    hi_m = d["upper_missized_mm"] if "upper_missized_mm" in d.columns else d["upper_mm"]
    rel["lo_m"] = lo_m.to_numpy(float) - nominal
    rel["hi_m"] = hi_m.to_numpy(float) - nominal
    return rel.groupby("size", sort=True).median()


def _steps(sizes: FloatArray) -> tuple[FloatArray, float]:
    """x coordinates of a step band around each size, and the half width used."""
    half = 0.5 * float(np.min(np.diff(sizes))) if len(sizes) > 1 else 0.5
    xs = np.column_stack([sizes - half, sizes + half]).ravel()
    return xs, half


def _limits_view(values: list[float], pad: float) -> tuple[float, float]:
    finite = [v for v in values if np.isfinite(v)]
    lo, hi = min(finite), max(finite)
    span = max(hi - lo, 1.0)
    return lo - pad * span, hi + pad * span


def _means(ax: Axes, s: pd.DataFrame, view: tuple[float, float], lang: str) -> None:
    """The mean per size with its 95 % CI, the CI cut at the edge of the view.

    A size with two shoes has a t-interval ~13 times its spread: drawn whole it would
    squash the chart. A CI end beyond the view is drawn at the edge with a triangle
    pointing on (legend: "CI goes on beyond the chart"); a CI that cannot be computed
    (one shoe or one pair) is not drawn.
    """
    sx = s["size"].to_numpy(float)
    sy = s["bias_mm"].to_numpy(float)
    has_ci = {"bias_ci_low_mm", "bias_ci_high_mm"} <= set(s.columns)
    yerr: Any = None
    cut_low = cut_high = np.zeros(len(sx), dtype=bool)
    if has_ci:
        inset = 0.012 * (view[1] - view[0])
        bottom, top = view[0] + inset, view[1] - inset
        low = s["bias_ci_low_mm"].to_numpy(float)
        high = s["bias_ci_high_mm"].to_numpy(float)
        cut_low, cut_high = low < bottom, high > top
        low = np.clip(np.where(np.isfinite(low), low, sy), bottom, None)
        high = np.clip(np.where(np.isfinite(high), high, sy), None, top)
        yerr = np.vstack([np.maximum(sy - low, 0.0), np.maximum(high - sy, 0.0)])
    ax.errorbar(
        sx,
        sy,
        yerr=yerr,
        fmt="D-",
        color=style.MEAN_COLOR,
        markersize=5,
        linewidth=1.2,
        capsize=3,
        zorder=3,
        label=t("legend.mean_ci" if has_ci else "legend.mean", lang),
    )
    if cut_low.any() or cut_high.any():
        edge: dict[str, Any] = {"color": style.MEAN_COLOR, "s": 42, "zorder": 4, "clip_on": False}
        label = t("legend.ci_beyond", lang)
        if cut_high.any():
            ax.scatter(sx[cut_high], np.full(int(cut_high.sum()), top), marker="^",
                       label=label, **edge)  # fmt: skip
            label = "_" + label  # one legend entry for both
        if cut_low.any():
            ax.scatter(sx[cut_low], np.full(int(cut_low.sum()), bottom), marker="v",
                       label=label, **edge)  # fmt: skip


def _current_means(ax: Axes, current: DimensionFinding, lang: str) -> None:
    """The means per size since the detected change, from the finding's corrections.

    A correction is ``nominal − mean`` of the current period
    (:class:`sizecheck.findings.SizeCorrection`), so the current mean's deviation from
    the reference is ``−correction_mm``: drawn as given, nothing recomputed.
    """
    if current.change is None or not current.corrections:
        return
    done = sorted(current.corrections, key=lambda c: c.size)
    ax.plot(
        [c.size for c in done],
        [-c.correction_mm for c in done],
        linestyle="--",
        marker="s",
        markersize=6,
        markerfacecolor="white",
        markeredgewidth=1.6,
        linewidth=1.4,
        color=style.CURRENT_COLOR,
        zorder=4,
        label=t("legend.current_mean", lang, date=format_date(current.change.date, lang)),
    )


#: At most this many guide lines in sizes on a ladder: beyond, only whole sizes.
_MAX_GUIDES = 8


def _size_guides(ax: Axes, step: float, view: tuple[float, float], lang: str) -> None:
    """Thin dotted lines at every half size of deviation inside the view (whole sizes
    only when there would be more than :data:`_MAX_GUIDES`), each labelled at the right
    edge of the plot area ("+½ size" written ``+0.5 size``): the deviation in sizes
    read off without a second axis. The labels are annotations at x = 1 in axes
    fraction, which :func:`sizecheck.plotting.layout.frame_axes` keeps room for."""
    lo, hi = view[0] / step, view[1] / step
    for unit in (0.5, 1.0):
        levels = [k * unit for k in range(int(np.ceil(lo / unit)), int(np.floor(hi / unit)) + 1)]
        levels = [v for v in levels if v != 0.0]
        if len(levels) <= _MAX_GUIDES:
            break
    for v in levels:
        ax.axhline(v * step, color=style.REFERENCE_COLOR, linewidth=0.7, linestyle=":",
                   zorder=1)  # fmt: skip
        key = "chart.ladder.guide_one" if abs(v) <= 1 else "chart.ladder.guide_many"
        ax.annotate(
            t(key, lang, value=format_number(v, lang, 0 if v % 1 == 0 else 1, signed=True)),
            xy=(1.0, v * step),
            xycoords=("axes fraction", "data"),
            xytext=(3, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=style.MIN_FONT_PT,
            color=style.REFERENCE_COLOR,
        )


def _draw_bands(
    ax: Axes, bands: pd.DataFrame, xs: FloatArray, view: tuple[float, float], lang: str
) -> list[Patch]:
    """Draw the tolerance bands and the zero line; return the bands' legend patches."""
    far = 10.0 * max(abs(view[0]), abs(view[1]), 1.0)

    def rep(col: str) -> FloatArray:
        v = np.clip(bands[col].to_numpy(float), -far, far)
        return np.repeat(v, 2)

    lo, hi, lo_m, hi_m = rep("lo"), rep("hi"), rep("lo_m"), rep("hi_m")
    band_specs = (
        ("missized", [(np.full_like(lo_m, -far), lo_m), (hi_m, np.full_like(hi_m, far))]),
        ("drifting", [(lo_m, lo), (hi, hi_m)]),
        ("in_spec", [(lo, hi)]),
    )
    handles: list[Patch] = []
    for status, parts in band_specs:
        bs = style.BAND_STYLE[status]
        for y_lo, y_hi in parts:
            if np.allclose(y_lo, y_hi):
                continue  # an empty band (e.g. no mis-sized band beyond the in-spec one)
            ax.fill_between(
                xs,
                y_lo,
                y_hi,
                facecolor=bs["facecolor"],
                alpha=bs["alpha"],
                hatch=bs["hatch"],
                edgecolor="#777777" if bs["hatch"] else "none",
                linewidth=0.0,
                zorder=0,
            )
        handles.append(
            Patch(
                facecolor=bs["facecolor"],
                alpha=bs["alpha"],
                hatch=bs["hatch"],
                edgecolor="#777777",
                label=t(f"status.{status}", lang),
            )
        )
    ax.axhline(0.0, color=style.REFERENCE_COLOR, linewidth=1.0, zorder=1)
    return handles


def _spread_within_size(x: FloatArray) -> FloatArray:
    """Each shoe's place among its size's shoes in row order, -0.5 to 0.5 (0 if alone)."""
    order = np.argsort(x, kind="stable")
    rank = np.empty(len(x))
    xs_sorted = x[order]
    starts = np.r_[0, np.flatnonzero(np.diff(xs_sorted)) + 1]
    counts = np.diff(np.r_[starts, len(xs_sorted)])
    within = np.arange(len(xs_sorted)) - np.repeat(starts, counts)
    per = np.repeat(counts, counts)
    spread = np.where(per > 1, within / np.maximum(per - 1, 1) - 0.5, 0.0)
    rank[order] = spread
    return rank


def _draw_shoes(ax: Axes, d: pd.DataFrame, half: float, lang: str, kwargs: dict[str, Any]) -> None:
    """Draw each shoe a dot, spread a little sideways within its size."""
    x = d["size"].to_numpy(float)
    jitter = _spread_within_size(x) * min(0.5 * half, 0.3)
    ax.scatter(
        x + jitter,
        d["deviation_mm"].to_numpy(float),
        **merged(
            {
                "s": 16,
                "color": style.DOT_COLOR,
                "alpha": 0.8,
                "edgecolors": "white",
                "linewidths": 0.4,
                "label": t("legend.shoe", lang),
                "zorder": 2,
            },
            kwargs,
        ),
    )


def _ladder_legend(ax: Axes, band_handles: list[Patch]) -> None:
    """The legend below the ladder: the drawn entries, then the bands from in spec out."""
    points, labels = ax.get_legend_handles_labels()
    legend_below(
        ax,
        ncol=3,
        handles=[*points, *band_handles[::-1]],
        labels=[*labels, *(str(h.get_label()) for h in band_handles[::-1])],
    )


def plot_size_ladder(
    deviations: pd.DataFrame,
    *,
    producer: str,
    dimension: str,
    size_summary: pd.DataFrame | None = None,
    current: DimensionFinding | None = None,
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Deviation by size for one producer, each shoe a dot, against the tolerance bands.

    Bands (relative to the nominal value, from ``lower_mm``/``upper_mm`` and
    ``lower_missized_mm``/``upper_missized_mm``): in spec (plain), drifting (``//``) and
    mis-sized (``xx``). Means per size come from ``size_summary`` (``bias_mm``), with their
    95 % confidence interval when it carries ``bias_ci_low_mm``/``bias_ci_high_mm``. Dotted
    guide lines at every half size of deviation (the grade step), labelled at the right
    edge, read the deviation in sizes.

    Parameters
    ----------
    deviations : DataFrame
        ``Analysis.deviations``: ``producer, dimension, size, deviation_mm, nominal_mm,
        lower_mm, upper_mm`` (and the in-memory ``lower_missized_mm``,
        ``upper_missized_mm``, ``grade_step_mm`` when present).
    producer, dimension : str
        The producer and dimension to draw.
    size_summary : DataFrame, optional
        ``Analysis.size_summary``; without it no means are drawn.
    current : DimensionFinding, optional
        The producer's finding for this dimension: when it found a change in time, the
        means per size since then (its corrections) are drawn as well, dashed, open
        squares, so the size as it is now shows beside the means over all dates.
    lang : {"en", "id"}, default "en"
    title : str, optional
        Replaces the default title.
    legend : bool, default True
    ax : Axes, optional
        Drawn on; pyplot's current Axes when omitted.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.scatter` for the shoes (they win over ours).

    Returns
    -------
    Axes
        ``ax``, with three band collections (fill_between), the shoes (one
        PathCollection), the zero line, with a grade step the guide lines in sizes
        (annotated) and, with ``size_summary``, the means.
    """
    need(deviations, _DEV_COLUMNS, "plot_size_ladder")
    ax = get_ax(ax)
    dim_label = dimension_label(dimension, lang)
    ax.set_title(
        title
        if title is not None
        else t("chart.ladder.title", lang, producer=plain_text(producer), dimension=dim_label)
    )
    ax.set_xlabel(t("axis.size", lang))
    ax.set_ylabel(t("axis.deviation_mm", lang))
    d = _usable(select(deviations, producer=producer, dimension=dimension))
    if d.empty:
        no_data(ax, lang)
        return ax

    bands = _relative_bands(d)
    sizes = bands.index.to_numpy(float)
    xs, half = _steps(sizes)
    dev = d["deviation_mm"].to_numpy(float)
    view_values = [
        float(dev.min()),
        float(dev.max()),
        0.0,
        *bands["lo_m"].tolist(),
        *bands["hi_m"].tolist(),
    ]
    y0, y1 = _limits_view(view_values, 0.08)
    handles = _draw_bands(ax, bands, xs, (y0, y1), lang)
    _draw_shoes(ax, d, half, lang, kwargs)

    if size_summary is not None:
        need(size_summary, ("producer", "dimension", "size", "bias_mm"), "plot_size_ladder")
        s = select(size_summary, producer=producer, dimension=dimension).sort_values("size")
        if not s.empty:
            _means(ax, s, (y0, y1), lang)
    if current is not None:
        _current_means(ax, current, lang)

    ax.set_xlim(sizes[0] - half, sizes[-1] + half)
    ax.set_ylim(y0, y1)
    ax.set_xticks(sizes)
    style.set_number_format(ax, lang)
    step = grade_step(d)
    if step:
        _size_guides(ax, step, (y0, y1), lang)
    if legend:
        _ladder_legend(ax, handles)
    return ax


def _get(row: Mapping[str, Any] | pd.Series | None, key: str) -> float:
    if row is None:
        return float("nan")
    try:
        value = row[key]
    except (KeyError, IndexError):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _verdict(row: Mapping[str, Any] | pd.Series | None) -> list[str]:
    """The verdict flags of a ``producer_summary`` row (empty without a row)."""
    if row is None:
        return []
    try:
        value = row["verdict"]
    except (KeyError, IndexError):
        return []
    return str(value).split("+")


def _draw_histogram(
    ax: Axes, dev: FloatArray, bins: int | str, lang: str, kwargs: dict[str, Any]
) -> tuple[Any, FloatArray]:
    """Draw the histogram of the deviations; return the bar heights and bin edges."""
    heights, edges, _ = ax.hist(
        dev,
        **merged(
            {
                "bins": bins,
                "color": style.OKABE_ITO["sky_blue"],
                "edgecolor": "white",
                "linewidth": 0.6,
                "label": t("legend.shoes", lang),
                "zorder": 2,
            },
            kwargs,
        ),
    )
    return heights, edges


def _draw_limit_lines(ax: Axes, d: pd.DataFrame, lang: str) -> None:
    """Draw the spec limits, the mis-sized limits (where apart from them) and zero."""
    bands = _relative_bands(d).median()
    for col, key, ls in (
        ("lo", "legend.spec_limits", "-"),
        ("hi", None, "-"),
        ("lo_m", "legend.missized_limits", "--"),
        ("hi_m", None, "--"),
    ):
        v = float(bands[col])
        if not np.isfinite(v) or (col.endswith("_m") and v == float(bands[col[:2]])):
            continue
        ax.axvline(
            v,
            color=style.LIMIT_COLOR,
            linestyle=ls,
            linewidth=1.4,
            label=t(key, lang) if key else None,
            zorder=3,
        )
    ax.axvline(0.0, color=style.REFERENCE_COLOR, linestyle=":", linewidth=1.0, zorder=3)


def _draw_normal_fit(
    ax: Axes,
    summary_row: Mapping[str, Any] | pd.Series | None,
    n: int,
    edges: FloatArray,
    lang: str,
) -> tuple[list[str], list[float]]:
    """Draw a judged row's normal curve for ``n`` shoes; return its box lines and top."""
    lines: list[str] = []
    tops: list[float] = []
    mean, sd = _get(summary_row, "bias_mm"), _get(summary_row, "sd_within_mm")
    judged = "insufficient_data" not in _verdict(summary_row)
    if not (judged and np.isfinite(mean) and np.isfinite(sd) and sd > 0):
        return lines, tops
    width = float(np.median(np.diff(edges))) if len(edges) > 1 else 1.0
    lo = min(float(edges[0]), mean - 4 * sd)
    hi = max(float(edges[-1]), mean + 4 * sd)
    xg = np.linspace(lo, hi, 200)
    pdf = np.exp(-0.5 * ((xg - mean) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
    ax.plot(
        xg,
        pdf * n * width,
        color=style.MEAN_COLOR,
        linewidth=1.6,
        label=t("legend.normal_fit", lang),
        zorder=4,
    )
    tops.append(float(np.max(pdf)) * n * width)
    lines.append(
        t(
            "chart.capability.mean_sd",
            lang,
            mean=format_number(mean, lang, 2, signed=True),
            sd=format_number(sd, lang, 2),
        )
    )
    cpk = _get(summary_row, "cpk")
    if np.isfinite(cpk):
        lines.append(
            t(
                "chart.capability.cpk",
                lang,
                cpk=format_number(cpk, lang, 2),
                low=format_number(_get(summary_row, "cpk_ci_low"), lang, 2),
                high=format_number(_get(summary_row, "cpk_ci_high"), lang, 2),
            )
        )
    return lines, tops


def _draw_figures_box(ax: Axes, lines: list[str]) -> None:
    """Draw the box of figures (n, mean and SD, Cpk) where it covers the least data."""
    invisible = [Patch(visible=False) for _ in lines]
    box = ax.legend(
        invisible,
        lines,
        loc="best",
        handlelength=0,
        handletextpad=0,
        frameon=True,
        framealpha=0.9,
        edgecolor="#BBBBBB",
        borderpad=0.5,
    )
    box.set_zorder(5)
    ax.add_artist(box)


def plot_capability(
    deviations: pd.DataFrame,
    *,
    producer: str,
    dimension: str,
    summary_row: Mapping[str, Any] | pd.Series | None = None,
    lang: str = "en",
    bins: int | str = "auto",
    title: str | None = None,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Histogram of one producer's deviations with the limits and the fitted normal curve.

    The curve uses ``bias_mm`` and ``sd_within_mm`` of the producer's row of
    ``producer_summary`` (not recomputed here); the box quotes ``n``, the mean, the SD
    and ``cpk`` with its CI, in the upper corner that covers the least data (the y axis
    leaves room for it above the bars). A row whose verdict is ``insufficient_data``
    gets no curve and no figures but ``n``: too few shoes to judge a spread by.

    Parameters
    ----------
    deviations : DataFrame
        ``Analysis.deviations``.
    producer, dimension : str
    summary_row : Series or mapping, optional
        The producer × dimension row of ``Analysis.producer_summary``.
    lang : {"en", "id"}, default "en"
    bins : int or str, default "auto"
        Passed to :meth:`~matplotlib.axes.Axes.hist`.
    title : str, optional
    legend : bool, default True
    ax : Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.hist` (they win over ours).

    Returns
    -------
    Axes
        ``ax`` with the histogram bars, the limit lines, the box (an extra legend) and,
        with a judged ``summary_row``, the normal curve.
    """
    need(deviations, _DEV_COLUMNS, "plot_capability")
    ax = get_ax(ax)
    dim_label = dimension_label(dimension, lang)
    ax.set_title(
        title
        if title is not None
        else t("chart.capability.title", lang, producer=plain_text(producer), dimension=dim_label)
    )
    ax.set_xlabel(t("axis.deviation_mm", lang))
    ax.set_ylabel(t("axis.count", lang))
    d = _usable(select(deviations, producer=producer, dimension=dimension))
    if d.empty:
        no_data(ax, lang)
        return ax
    dev = d["deviation_mm"].to_numpy(float)
    heights, edges = _draw_histogram(ax, dev, bins, lang, kwargs)
    _draw_limit_lines(ax, d, lang)
    lines = [t("chart.capability.n", lang, n=len(dev))]
    tops = [float(np.max(heights)) if len(heights) else 0.0]
    fit_lines, fit_tops = _draw_normal_fit(ax, summary_row, len(dev), edges, lang)
    lines += fit_lines
    tops += fit_tops
    # Head room above the bars and the curve for the box, which matplotlib places in the
    # upper corner that covers the least data (a legend's "best" location).
    ax.set_ylim(0.0, max(max(tops), 1.0) * (1.0 + 0.16 * len(lines)))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _draw_figures_box(ax, lines)
    style.set_number_format(ax, lang)
    if legend:
        legend_below(ax, ncol=2)
    else:
        ax.legend_ = None  # the box stays (an artist of its own); no legend below
    return ax
