"""The cluster at a glance: every producer's offset with its interval, sorted (forest plot)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sizecheck.i18n import dimension_label, format_number, t
from sizecheck.plotting import style
from sizecheck.plotting._common import get_ax, merged, need, no_data, plain_text, short

__all__ = ["FOREST_LABEL_ALL_UP_TO", "forest_figsize", "plot_forest"]

_COLUMNS = (
    "producer",
    "dimension",
    "offset_mm",
    "offset_ci_low_mm",
    "offset_ci_high_mm",
)

#: Up to this many producers every one is named on the axis; beyond, only those whose
#: interval lies wholly outside the tolerance band (and the two ends) are named.
FOREST_LABEL_ALL_UP_TO = 40

#: How each producer is drawn, by where its interval lies against the tolerance band:
#: colour and marker both differ, so the chart reads in grey print.
_GROUPS = (
    ("outside", {"color": style.OKABE_ITO["vermillion"], "marker": "s"}),
    ("crosses", {"color": style.OKABE_ITO["orange"], "marker": "^"}),
    ("inside", {"color": style.OKABE_ITO["bluish_green"], "marker": "o"}),
)
_LEGEND = {
    "outside": "legend.forest_outside",
    "crosses": "legend.forest_crosses",
    "inside": "legend.forest_inside",
}


def forest_figsize(n_producers: int, *, width: float = 7.0) -> tuple[float, float]:
    """A figure size (inches) that gives each producer a readable row.

    About 0.16 in (11.5 pt) per producer up to :data:`FOREST_LABEL_ALL_UP_TO` producers,
    where every name is written; beyond that 0.075 in (5.4 pt) per producer (names only where they
    matter), at least 2.6 in.

    >>> forest_figsize(7), forest_figsize(120)
    ((7.0, 2.6), (7.0, 10.4))
    """
    per = 0.16 if n_producers <= FOREST_LABEL_ALL_UP_TO else 0.075
    return width, round(max(2.6, 1.4 + per * n_producers), 1)


def _group(low: np.ndarray, high: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """``outside`` (interval beyond a limit), ``crosses`` (overlaps a limit) or ``inside``."""
    lo, hi = band
    if not (math.isfinite(lo) or math.isfinite(hi)):
        return np.full(len(low), "inside", dtype=object)
    outside = (high < lo) | (low > hi)
    crosses = ~outside & ((low < lo) | (high > hi))
    return np.where(outside, "outside", np.where(crosses, "crosses", "inside")).astype(object)


def plot_forest(
    offsets: pd.DataFrame,
    *,
    dimension: str | None = None,
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
    label_all: bool | None = None,
    raw: bool = False,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Producers sorted by their (shrunken) offset, each with its interval, against the band.

    Parameters
    ----------
    offsets : DataFrame
        :attr:`sizecheck.cluster.ClusterSummary.offsets` (``producer, dimension,
        offset_mm, offset_ci_low_mm, offset_ci_high_mm``; ``band_low_mm,
        band_high_mm, center_size, cluster_mean_offset_mm, raw_offset_mm`` used when
        present).
    dimension : str, optional
        Which dimension to draw; needed when ``offsets`` holds several.
    lang : {"en", "id"}
    title : str, optional
        Overrides the title (``""`` for none).
    legend : bool, default True
    label_all : bool, optional
        Name every producer on the axis. Default: when there are at most
        :data:`FOREST_LABEL_ALL_UP_TO`; otherwise only producers whose interval lies wholly
        outside the band, and the lowest and highest, are named beside their interval.
    raw : bool, default False
        Also mark each producer's own (unshrunk) mean offset, to show the shrinkage.
    ax : Axes, optional
    **kwargs
        Passed to the interval markers (``Axes.errorbar``); they win over the house style.

    Returns
    -------
    Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> off = pd.DataFrame({"producer": ["A", "B"], "dimension": "last_length",
    ...                     "offset_mm": [0.4, 2.5], "offset_ci_low_mm": [-0.3, 1.8],
    ...                     "offset_ci_high_mm": [1.1, 3.2]})
    >>> ax = plot_forest(off, ax=Figure().subplots())
    >>> [tick.get_text() for tick in ax.get_yticklabels()]
    ['A', 'B']
    """
    ax = get_ax(ax)
    need(offsets, _COLUMNS, "plot_forest")
    dimension, d = _dimension_rows(offsets, dimension)
    if title is None:
        title = _forest_title(d, dimension, lang)
    ax.set_title(title)
    ax.set_xlabel(t("axis.offset_mm", lang))
    if d.empty:
        no_data(ax, lang)
        return ax
    rows = _ForestRows.sorted_from(d)
    small = rows.n > FOREST_LABEL_ALL_UP_TO
    _draw_band_and_means(ax, rows)
    _draw_intervals(ax, rows, small=small, kwargs=kwargs)
    if raw and "raw_offset_mm" in rows.frame.columns:
        ax.plot(
            rows.frame["raw_offset_mm"].to_numpy(float),
            rows.y,
            linestyle="none",
            marker="|",
            color="#555555",
            markersize=5,
            zorder=2,
        )
    _name_producers(ax, rows, label_all=not small if label_all is None else label_all, lang=lang)
    style.set_number_format(ax, lang, y=False)
    if legend:
        ax.legend(handles=_legend_handles(rows, lang), loc="lower right", fontsize=7.0)
    return ax


def _dimension_rows(offsets: pd.DataFrame, dimension: str | None) -> tuple[str, pd.DataFrame]:
    """The dimension to draw (the only one when not given) and its rows with an offset."""
    dims = sorted(offsets["dimension"].astype("str").unique())
    if dimension is None:
        if len(dims) > 1:
            from sizecheck.errors import UsageError

            raise UsageError(f"plot_forest: pass dimension=, one of {', '.join(dims)}.")
        dimension = dims[0] if dims else ""
    d = offsets.loc[offsets["dimension"].astype("str") == dimension]
    d = d.loc[np.isfinite(pd.to_numeric(d["offset_mm"], errors="coerce"))]
    return dimension, d


def _forest_title(d: pd.DataFrame, dimension: str, lang: str) -> str:
    """The default title: the dimension, the size the offsets are taken at, the producers."""
    center = float(d["center_size"].iloc[0]) if "center_size" in d.columns and len(d) else math.nan
    return t(
        "chart.forest.title",
        lang,
        dimension=dimension_label(dimension, lang),
        size=format_number(center, lang, 1 if center % 1 else 0),
        n=len(d),
    )


@dataclass(frozen=True)
class _ForestRows:
    """The producers in drawing order (by offset, then name), one row of the chart each."""

    frame: pd.DataFrame
    y: np.ndarray
    est: np.ndarray
    low: np.ndarray
    high: np.ndarray
    band: tuple[float, float]
    mean: float
    groups: np.ndarray
    names: list[str]

    @property
    def n(self) -> int:
        """The number of producers (rows)."""
        return len(self.frame)

    @property
    def has_band(self) -> bool:
        """Whether the tolerance band has at least one finite limit."""
        return math.isfinite(self.band[0]) or math.isfinite(self.band[1])

    @classmethod
    def sorted_from(cls, d: pd.DataFrame) -> _ForestRows:
        """Sort one dimension's rows by offset and take out what the drawing needs.

        The offset is rounded to 0.01 mm for the order, then the name decides: producers
        whose offsets are equal (all pulled to the cluster mean when the between-producer
        SD is 0) keep the same order when the fit moves them in the ninth digit."""
        order = pd.to_numeric(d["offset_mm"], errors="coerce").round(2)
        d = d.assign(_order=order).sort_values(["_order", "producer"], kind="stable")
        d = d.drop(columns="_order")
        est = d["offset_mm"].to_numpy(float)
        low = d["offset_ci_low_mm"].to_numpy(float)
        high = d["offset_ci_high_mm"].to_numpy(float)
        band = (
            (float(d["band_low_mm"].iloc[0]), float(d["band_high_mm"].iloc[0]))
            if {"band_low_mm", "band_high_mm"} <= set(d.columns)
            else (math.nan, math.nan)
        )
        mean = (
            float(d["cluster_mean_offset_mm"].iloc[0])
            if "cluster_mean_offset_mm" in d.columns
            else float(np.mean(est))
        )
        return cls(
            frame=d,
            y=np.arange(len(d), dtype=float),
            est=est,
            low=low,
            high=high,
            band=band,
            mean=mean,
            groups=_group(low, high, band),
            names=[short(plain_text(p), 22) for p in d["producer"].astype("str")],
        )


def _draw_band_and_means(ax: Axes, rows: _ForestRows) -> None:
    """The tolerance band (open ends reach past the intervals), zero and the cluster mean."""
    lo, hi = rows.band
    if rows.has_band:
        span_lo = lo if math.isfinite(lo) else min(float(np.nanmin(rows.low)), 0.0) - 1.0
        span_hi = hi if math.isfinite(hi) else max(float(np.nanmax(rows.high)), 0.0) + 1.0
        band_style = style.BAND_STYLE["in_spec"]
        ax.axvspan(
            span_lo,
            span_hi,
            facecolor=band_style["facecolor"],
            alpha=band_style["alpha"],
            linewidth=0,
            zorder=0,
        )
    ax.axvline(0.0, color=style.REFERENCE_COLOR, linewidth=1.0, zorder=1)
    ax.axvline(rows.mean, color=style.MEAN_COLOR, linewidth=0.9, linestyle="--", zorder=1)


def _draw_intervals(ax: Axes, rows: _ForestRows, *, small: bool, kwargs: dict[str, Any]) -> None:
    """Each producer's offset and interval, coloured and shaped by where it lies."""
    est, low, high, y = rows.est, rows.low, rows.high, rows.y
    for name, look in _GROUPS:
        sel = rows.groups == name
        if not sel.any():
            continue
        ax.errorbar(
            est[sel],
            y[sel],
            xerr=np.vstack([est[sel] - low[sel], high[sel] - est[sel]]),
            **merged(
                {
                    "fmt": look["marker"],
                    "color": look["color"],
                    "markersize": 3.0 if small else 4.5,
                    "elinewidth": 0.8 if small else 1.2,
                    "capsize": 0,
                    "linestyle": "none",
                    "zorder": 3,
                },
                kwargs,
            ),
        )


def _name_producers(ax: Axes, rows: _ForestRows, *, label_all: bool, lang: str) -> None:
    """Every name on the y axis, or only the outside and end producers beside their interval."""
    n, y = rows.n, rows.y
    ax.set_ylim(-0.8, n - 0.2)
    ax.grid(axis="y", visible=False)
    if label_all:
        ax.set_yticks(y, rows.names)
        ax.tick_params(axis="y", labelsize=8.0 if n <= 20 else 6.5, length=0)
        return
    ax.set_yticks([])
    ax.set_ylabel(t("axis.producers_sorted", lang, n=n))
    named = np.flatnonzero(rows.groups == "outside")
    named = np.union1d(named, [0, n - 1]).astype(int)
    for i in named:
        left = rows.est[i] > rows.mean  # write on the side away from the crowd
        ax.annotate(
            rows.names[i],
            (rows.high[i] if left else rows.low[i], y[i]),
            xytext=(3 if left else -3, 0),
            textcoords="offset points",
            ha="left" if left else "right",
            va="center",
            fontsize=5.5,
            color="#333333",
        )
    pad = 0.25 * float(np.nanmax(rows.high) - np.nanmin(rows.low))
    ax.set_xlim(float(np.nanmin(rows.low)) - pad, float(np.nanmax(rows.high)) + pad)


def _legend_handles(rows: _ForestRows, lang: str) -> list[Any]:
    """Legend entries: the groups drawn, the band when there is one, the cluster mean."""
    handles: list[Any] = [
        Line2D(
            [],
            [],
            color=look["color"],
            marker=look["marker"],
            linestyle="-",
            linewidth=1.0,
            markersize=4.5,
            label=t(_LEGEND[name], lang),
        )
        for name, look in _GROUPS
        if (rows.groups == name).any()
    ]
    if rows.has_band:
        handles.append(
            Patch(
                facecolor=style.BAND_STYLE["in_spec"]["facecolor"],
                alpha=style.BAND_STYLE["in_spec"]["alpha"],
                label=t("legend.spec_band", lang),
            )
        )
    handles.append(
        Line2D(
            [],
            [],
            color=style.MEAN_COLOR,
            linestyle="--",
            linewidth=0.9,
            label=t("legend.cluster_mean", lang, mean=format_number(rows.mean, lang, 2)),
        )
    )
    return handles
