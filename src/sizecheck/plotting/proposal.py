"""A proposed cluster table: against the Paris point, and what it asks of each producer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sizecheck.errors import UsageError
from sizecheck.i18n import dimension_label, format_number, t
from sizecheck.plotting import style
from sizecheck.plotting._common import get_ax, merged, need, no_data, plain_text, select, short

__all__ = ["corrections_figsize", "plot_proposal", "plot_proposal_corrections"]

_SIZES = ("dimension", "size", "proposal_mm", "loo_low_mm", "loo_high_mm", "paris_mm",
          "current_mm")  # fmt: skip
_LINES = ("producer", "dimension", "level_mm", "step_mm", "own_level_mm", "own_step_mm",
          "chosen", "size_min", "size_max", "base_size")  # fmt: skip
_IMPACT = ("producer", "dimension", "correction_current_mm", "correction_proposal_mm",
           "in_proposal")  # fmt: skip

#: Catalogue keys by reference drawn against (literal, so the catalogue test sees them).
_REF_KEYS = {
    "paris": {
        "title": "propose.chart.title_paris",
        "y": "propose.chart.y_paris",
        "legend": "propose.chart.reference_paris",
    },
    "current": {
        "title": "propose.chart.title_current",
        "y": "propose.chart.y_current",
        "legend": "propose.chart.reference_current",
    },
}

#: The y axis spans at least this much either side of the reference (mm).
MIN_HALF_SPAN_MM = 1.0

#: Up to this many producers each line is named at its right end.
NAME_LINES_UP_TO = 12

#: Where a producer's line ends: size, height, producer, whether it informed the proposal.
_LineEnd = tuple[float, float, str, bool]

_PROPOSAL_COLOR = style.OKABE_ITO["blue"]
_USED_COLOR = "#6E6E6E"
_UNUSED_COLOR = "#B0B0B0"
_BAND_COLOR = style.OKABE_ITO["sky_blue"]


def corrections_figsize(n_producers: int, *, width: float = 7.0) -> tuple[float, float]:
    """A figure size (inches) for :func:`plot_proposal_corrections`: a readable row per
    producer, 0.28 in each up to 40 producers and 0.095 in beyond (names in small print).

    >>> corrections_figsize(7), corrections_figsize(120)
    ((7.0, 3.5), (7.0, 12.9))
    """
    per = 0.28 if n_producers <= 40 else 0.095
    return width, round(max(2.8, 1.5 + per * n_producers), 1)


def _one_dimension(frame: pd.DataFrame, dimension: str | None, what: str) -> str:
    dims = sorted(frame["dimension"].astype("str").unique())
    if dimension is not None:
        return dimension
    if len(dims) != 1:
        raise UsageError(f"{what}: pass dimension=, one of {', '.join(dims) or '(none)'}.")
    return str(dims[0])


def plot_proposal(
    sizes: pd.DataFrame,
    lines: pd.DataFrame | None = None,
    *,
    dimension: str | None = None,
    estimates: pd.DataFrame | None = None,
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
    label_lines: bool | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """The proposal size by size as a difference from the Paris point, with the producers'
    own lines around it and the range of the leave-one-producer-out proposals.

    Everything is drawn as millimetres above (+) or below (−) the Paris point, so that
    a proposal 2 mm longer than the Paris point is a line at +2 and a producer grading
    5 mm per size is a line that falls 1.67 mm per size. Where the Paris-point table has
    no such dimension, the reference is the current table instead (the axis says which).

    Parameters
    ----------
    sizes : DataFrame
        :attr:`sizecheck.propose.TableProposal.sizes` (``dimension, size, proposal_mm,
        loo_low_mm, loo_high_mm, paris_mm, current_mm``).
    lines : DataFrame, optional
        :attr:`sizecheck.propose.TableProposal.lines`: each producer's line over the
        sizes it made; solid when it informed the proposal, dotted when not.
    dimension : str, optional
        Needed when ``sizes`` holds several dimensions.
    estimates : DataFrame, optional
        :attr:`sizecheck.propose.TableProposal.estimates`: the interval of the level is
        drawn at the base size.
    lang : {"en", "id"}
    title : str, optional
        Overrides the title (``""`` for none).
    legend : bool, default True
    label_lines : bool, optional
        Name each producer at the right end of its line; default up to
        :data:`NAME_LINES_UP_TO` producers.
    ax : Axes, optional
    **kwargs
        Passed to the proposal's line (``Axes.plot``); they win over the house style.

    Returns
    -------
    Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> paris = [266.67, 273.33, 280.0]
    >>> s = pd.DataFrame({"dimension": "last_length", "size": [40.0, 41.0, 42.0],
    ...                   "proposal_mm": [268.7, 275.3, 282.0], "loo_low_mm": [268.5, 275.1, 281.8],
    ...                   "loo_high_mm": [268.9, 275.5, 282.2], "paris_mm": paris,
    ...                   "current_mm": paris})
    >>> ax = plot_proposal(s, ax=Figure().subplots())
    >>> [round(float(y), 2) for y in ax.get_lines()[1].get_ydata()]
    [2.03, 1.97, 2.0]
    """
    need(sizes, _SIZES, "plot_proposal")
    ax = get_ax(ax)
    dimension = _one_dimension(sizes, dimension, "plot_proposal")
    d = select(sizes, producer=None, dimension=dimension).sort_values("size")
    paris = d["paris_mm"].to_numpy(float)
    use_paris = bool(len(d)) and bool(np.isfinite(paris).all())
    keys = _REF_KEYS["paris" if use_paris else "current"]
    if title is None:
        title = t(keys["title"], lang, dimension=dimension_label(dimension, lang))
    ax.set_title(title)
    ax.set_xlabel(t("axis.size", lang))
    ax.set_ylabel(t(keys["y"], lang))
    if d.empty:
        no_data(ax, lang)
        return ax
    x = d["size"].to_numpy(float)
    ref = paris if use_paris else d["current_mm"].to_numpy(float)
    _draw_proposal_and_band(ax, d, ref, kwargs)
    labels: list[_LineEnd] = []
    if lines is not None:
        need(lines, _LINES, "plot_proposal")
        lv = select(lines, producer=None, dimension=dimension)
        if label_lines is None:
            label_lines = len(lv) <= NAME_LINES_UP_TO
        labels = _draw_producer_lines(ax, lv, x, ref, faint=not label_lines)
    ci_drawn = _draw_level_interval(ax, estimates, dimension, x, ref)
    # At least ±1 mm around the reference, so that tenths of a millimetre look small.
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(lo, -MIN_HALF_SPAN_MM), max(hi, MIN_HALF_SPAN_MM))
    if label_lines and labels:
        _name_lines(ax, labels)
    style.set_number_format(ax, lang)
    if legend:
        handles = _proposal_legend(
            keys["legend"],
            ci_drawn=ci_drawn,
            used=any(chosen for *_, chosen in labels),
            unused=any(not chosen for *_, chosen in labels),
            lang=lang,
        )
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3,
                  fontsize=7.0)  # fmt: skip
    return ax


def _relative(at: np.ndarray, x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The reference (``ref`` at sizes ``x``) at sizes ``at``, interpolated linearly."""
    return np.asarray(np.interp(at, x, ref), dtype=float)


def _draw_proposal_and_band(
    ax: Axes, d: pd.DataFrame, ref: np.ndarray, kwargs: dict[str, Any]
) -> None:
    """The reference at zero, the leave-one-out band and the proposal, less the reference."""
    x = d["size"].to_numpy(float)
    ax.axhline(0.0, color=style.REFERENCE_COLOR, linewidth=1.0, zorder=1)
    ax.fill_between(
        x,
        d["loo_low_mm"].to_numpy(float) - ref,
        d["loo_high_mm"].to_numpy(float) - ref,
        facecolor=_BAND_COLOR,
        alpha=0.35,
        linewidth=0,
        zorder=2,
    )
    ax.plot(
        x,
        d["proposal_mm"].to_numpy(float) - ref,
        **merged({"color": _PROPOSAL_COLOR, "linewidth": 2.6, "zorder": 4}, kwargs),
    )


def _draw_producer_lines(
    ax: Axes, lines: pd.DataFrame, x: np.ndarray, ref: np.ndarray, *, faint: bool
) -> list[_LineEnd]:
    """Draw each producer's own line (solid if used, dotted if not); return where each ends."""
    ends: list[_LineEnd] = []
    for row in lines.sort_values("producer").to_dict(orient="records"):
        # The producer's own line (what it makes); with one size, its level there.
        level, step = row["own_level_mm"], row["own_step_mm"]
        if not (math.isfinite(level) and math.isfinite(step)):
            level, step = row["level_mm"], row["step_mm"]
        if not (math.isfinite(level) and math.isfinite(step)):
            continue
        own = x[(x >= row["size_min"] - 1e-9) & (x <= row["size_max"] + 1e-9)]
        if len(own) < 2:
            own = np.array([row["size_min"], row["size_max"]], dtype=float)
        y = level + step * (own - row["base_size"]) - _relative(own, x, ref)
        chosen = bool(row["chosen"])
        ax.plot(
            own,
            y,
            color=_USED_COLOR if chosen else _UNUSED_COLOR,
            linewidth=0.6 if faint else 1.0,
            alpha=0.6 if faint else 1.0,
            linestyle="-" if chosen else ":",
            marker="o" if len(np.unique(own)) == 1 else None,
            markersize=3,
            zorder=3,
        )
        ends.append((float(own[-1]), float(y[-1]), str(row["producer"]), chosen))
    return ends


def _draw_level_interval(
    ax: Axes, estimates: pd.DataFrame | None, dimension: str, x: np.ndarray, ref: np.ndarray
) -> bool:
    """The interval of the proposed level at the base size; whether one was drawn."""
    if estimates is None or "level_ci_low_mm" not in estimates.columns:
        return False
    e = estimates.loc[estimates["dimension"].astype("str") == dimension]
    if not len(e):
        return False
    est = e.iloc[0]
    base = float(est["base_size"])
    at = float(_relative(np.array([base]), x, ref)[0])
    mid = float(est["base_value_mm"]) - at
    low, high = float(est["level_ci_low_mm"]) - at, float(est["level_ci_high_mm"]) - at
    if not (math.isfinite(low) and math.isfinite(high)):
        return False
    ax.errorbar(
        [base],
        [mid],
        yerr=[[max(mid - low, 0.0)], [max(high - mid, 0.0)]],
        fmt="D",
        color=_PROPOSAL_COLOR,
        markersize=5,
        capsize=4,
        elinewidth=1.4,
        zorder=5,
    )
    return True


def _proposal_legend(
    reference_key: str, *, ci_drawn: bool, used: bool, unused: bool, lang: str
) -> list[Any]:
    """Legend entries: proposal, band, level interval and producer lines as drawn, reference."""
    handles: list[Any] = [
        Line2D([], [], color=_PROPOSAL_COLOR, linewidth=2.6,
               label=t("propose.chart.proposal", lang)),
        Patch(facecolor=_BAND_COLOR, alpha=0.35, label=t("propose.chart.loo_band", lang)),
    ]  # fmt: skip
    if ci_drawn:
        handles.append(
            Line2D([], [], color=_PROPOSAL_COLOR, marker="D", linestyle="-", markersize=5,
                   label=t("propose.chart.level_ci", lang))
        )  # fmt: skip
    if used:
        handles.append(
            Line2D([], [], color=_USED_COLOR, linewidth=1.0,
                   label=t("propose.chart.producer_used", lang))
        )  # fmt: skip
    if unused:
        handles.append(
            Line2D([], [], color=_UNUSED_COLOR, linewidth=1.0, linestyle=":",
                   label=t("propose.chart.producer_unused", lang))
        )  # fmt: skip
    handles.append(
        Line2D([], [], color=style.REFERENCE_COLOR, linewidth=1.0,
               label=t(reference_key, lang))
    )  # fmt: skip
    return handles


def _name_lines(ax: Axes, labels: Sequence[_LineEnd]) -> None:
    """Write each producer's name at the right end of its line, nudged apart vertically
    so that names of lines that end close together do not overprint."""
    lo, hi = ax.get_ylim()
    order: list[_LineEnd] = []
    placed: list[float] = []
    for end in sorted({round(item[0], 6) for item in labels}):
        column = sorted((i for i in labels if round(i[0], 6) == end), key=lambda i: i[1])
        order.extend(column)
        placed.extend(_spread([y for _, y, _, _ in column], 0.045 * (hi - lo), lo, hi))
    left, right = ax.get_xlim()
    dx = 0.012 * (right - left)
    for (x_end, y, name, chosen), y_text in zip(order, placed, strict=True):
        ax.annotate(
            short(plain_text(name), 18),
            (x_end, y),
            xytext=(x_end + dx, y_text),
            textcoords="data",
            va="center",
            ha="left",
            fontsize=6.5,
            color="#333333" if chosen else "#777777",
        )
    ax.set_xlim(left, right + 0.22 * (right - left))
    ax.set_ylim(lo, hi)


def _spread(targets: Sequence[float], gap: float, lo: float, hi: float) -> list[float]:
    """Label heights as close to ``targets`` (ascending) as a ``gap`` between them allows.

    Labels that would overlap form a group centred on the mean of its targets; groups
    that then overlap merge, until none do; the whole stack is kept inside ``[lo, hi]``.

    >>> [round(v, 2) for v in _spread([0.0, 0.1, 5.0], 1.0, -10, 10)]
    [-0.45, 0.55, 5.0]
    """
    groups: list[list[float]] = []
    for y in targets:
        groups.append([y])
        while len(groups) > 1:
            prev, last = groups[-2], groups[-1]
            prev_top = sum(prev) / len(prev) + gap * (len(prev) - 1) / 2
            last_bottom = sum(last) / len(last) - gap * (len(last) - 1) / 2
            if last_bottom - prev_top >= gap:
                break
            groups[-2:] = [prev + last]
    out: list[float] = []
    for g in groups:
        start = sum(g) / len(g) - gap * (len(g) - 1) / 2
        out.extend(start + gap * i for i in range(len(g)))
    if out:
        out = [v + max(0.0, lo - out[0]) - max(0.0, out[-1] - hi) for v in out]
    return out


def plot_proposal_corrections(
    impact: pd.DataFrame,
    *,
    dimension: str | None = None,
    band: tuple[float, float] | None = None,
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Each producer's mean correction against the current table and against the proposal.

    One row per producer, sorted by the correction the proposal would ask: an open grey
    circle for today's table, a filled blue diamond for the proposal, joined by a line.
    The correction is what to add to the product to reach the table (a negative number
    means make it smaller). Producers whose lines informed the proposal are named in bold.

    Parameters
    ----------
    impact : DataFrame
        :attr:`sizecheck.propose.Proposal.impact` (``producer, dimension,
        correction_current_mm, correction_proposal_mm, in_proposal``).
    dimension : str, optional
        Needed when ``impact`` holds several dimensions.
    band : (float, float), optional
        The proposal's in-spec band around 0 (e.g. ``(-1.5, 1.5)``), shaded.
    lang : {"en", "id"}
    title : str, optional
    legend : bool, default True
    ax : Axes, optional
    **kwargs
        Passed to the proposal's markers (``Axes.plot``); they win over the house style.

    Returns
    -------
    Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> imp = pd.DataFrame({"producer": ["A", "B"], "dimension": "last_length",
    ...                     "correction_current_mm": [-2.0, 0.5],
    ...                     "correction_proposal_mm": [-0.1, 2.4], "in_proposal": [True, False]})
    >>> ax = plot_proposal_corrections(imp, ax=Figure().subplots())
    >>> [tick.get_text() for tick in ax.get_yticklabels()]
    ['A', 'B']
    """
    need(impact, _IMPACT, "plot_proposal_corrections")
    ax = get_ax(ax)
    dimension = _one_dimension(impact, dimension, "plot_proposal_corrections")
    d = select(impact, producer=None, dimension=dimension)
    d = d.loc[np.isfinite(pd.to_numeric(d["correction_proposal_mm"], errors="coerce"))]
    if title is None:
        title = t("propose.chart.corrections_title", lang,
                  dimension=dimension_label(dimension, lang))  # fmt: skip
    ax.set_title(title)
    ax.set_xlabel(t("propose.chart.correction_mm", lang))
    if d.empty:
        no_data(ax, lang)
        return ax
    d = d.sort_values(["correction_proposal_mm", "producer"], kind="stable")
    y = np.arange(len(d), dtype=float)
    now = d["correction_current_mm"].to_numpy(float)
    then = d["correction_proposal_mm"].to_numpy(float)
    if band is not None:
        ax.axvspan(band[0], band[1], facecolor=style.BAND_STYLE["in_spec"]["facecolor"],
                   alpha=style.BAND_STYLE["in_spec"]["alpha"], linewidth=0, zorder=0)  # fmt: skip
    ax.axvline(0.0, color=style.REFERENCE_COLOR, linewidth=1.0, zorder=1)
    for yi, a, b in zip(y, now, then, strict=True):
        if math.isfinite(a):
            ax.plot([a, b], [yi, yi], color="#9A9A9A", linewidth=1.0, zorder=2)
    many = len(d) > 40
    ax.plot(now, y, linestyle="none", marker="o", markersize=3.5 if many else 6,
            markerfacecolor="white", markeredgecolor="#6E6E6E", markeredgewidth=1.0,
            zorder=3)  # fmt: skip
    ax.plot(
        then,
        y,
        **merged(
            {"linestyle": "none", "marker": "D", "markersize": 3.2 if many else 5.5,
             "color": _PROPOSAL_COLOR,
             "zorder": 4},
            kwargs,
        ),
    )  # fmt: skip
    names = [short(plain_text(p), 22) for p in d["producer"].astype("str")]
    ax.set_yticks(y, names)
    used = d["in_proposal"].fillna(False).astype(bool).to_numpy()
    for tick, is_used in zip(ax.get_yticklabels(), used, strict=True):
        tick.set_fontweight("bold" if is_used else "normal")
    ax.tick_params(axis="y", labelsize=8.0 if len(d) <= 20 else 6.0 if not many else 4.5, length=0)
    ax.set_ylim(-0.7, len(d) - 0.3)
    ax.grid(axis="y", visible=False)
    style.set_number_format(ax, lang, y=False)
    if legend:
        handles: list[Any] = [
            Line2D([], [], linestyle="none", marker="o", markerfacecolor="white",
                   markeredgecolor="#6E6E6E", label=t("propose.chart.now", lang)),
            Line2D([], [], linestyle="none", marker="D", color=_PROPOSAL_COLOR,
                   label=t("propose.chart.then", lang)),
        ]  # fmt: skip
        if band is not None:
            handles.append(
                Patch(facecolor=style.BAND_STYLE["in_spec"]["facecolor"],
                      alpha=style.BAND_STYLE["in_spec"]["alpha"],
                      label=t("propose.chart.band", lang,
                              band=format_number(band[1], lang, 1)))
            )  # fmt: skip
        if used.any():
            handles.append(Line2D([], [], linestyle="none",
                                  label=t("propose.chart.bold_used", lang)))  # fmt: skip
        ax.legend(handles=handles, loc="best", fontsize=7.0)
    return ax
