"""The house style of sizecheck charts: colour-blind-safe, legible in grey print.

Colours are the Okabe–Ito palette (safe for the common colour-vision deficiencies); every
series also differs by marker and line style, and the tolerance bands by hatching, so a
chart printed in black and white on a workshop's printer still reads.

Use :data:`RC` with :func:`matplotlib.rc_context` (batch code does) or leave the caller's
style alone (notebooks): the plotting functions set only what they must on their Axes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from itertools import cycle
from typing import Any, cast

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from sizecheck.i18n import format_number

__all__ = [
    "BAND_STYLE",
    "FOOTER_STYLE",
    "MIN_FONT_PT",
    "OKABE_ITO",
    "RC",
    "SERIES",
    "LocaleFormatter",
    "house_style",
    "new_figure",
    "number_formatter",
    "series_styles",
    "set_number_format",
    "tick_decimals",
]

#: Okabe & Ito (2008) "Color Universal Design" palette.
OKABE_ITO: Mapping[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Tolerance bands: face colour, hatch and alpha; in spec is plain, worse is hatched denser.
#: On white, the bands' grey values (Rec. 601 luma, 1 = white) are about 0.96 (in spec),
#: 0.87 (outside tolerance) and 0.76 (mis-sized) before hatching, so they stay apart when
#: a chart is printed in black and white (``tests/test_plotting.py`` checks it).
BAND_STYLE: Mapping[str, Mapping[str, Any]] = {
    "in_spec": {"facecolor": OKABE_ITO["bluish_green"], "alpha": 0.07, "hatch": None},
    "drifting": {"facecolor": OKABE_ITO["orange"], "alpha": 0.36, "hatch": "//"},
    "missized": {"facecolor": OKABE_ITO["vermillion"], "alpha": 0.45, "hatch": "xx"},
}

#: Series styles for producers: colour, marker and line style all differ.
SERIES: tuple[Mapping[str, Any], ...] = (
    {"color": OKABE_ITO["blue"], "marker": "o", "linestyle": "-"},
    {"color": OKABE_ITO["vermillion"], "marker": "s", "linestyle": "--"},
    {"color": OKABE_ITO["bluish_green"], "marker": "^", "linestyle": "-."},
    {"color": OKABE_ITO["reddish_purple"], "marker": "D", "linestyle": ":"},
    {"color": OKABE_ITO["orange"], "marker": "v", "linestyle": "-"},
    {"color": OKABE_ITO["sky_blue"], "marker": "P", "linestyle": "--"},
    {"color": OKABE_ITO["black"], "marker": "X", "linestyle": "-."},
    {"color": "#7F7F7F", "marker": "*", "linestyle": ":"},
)

#: Accent colours by role.
MEAN_COLOR = OKABE_ITO["black"]
#: The means since a detected change (the current period) on the size ladder.
CURRENT_COLOR = OKABE_ITO["reddish_purple"]
DOT_COLOR = OKABE_ITO["blue"]
SIGNAL_COLOR = OKABE_ITO["vermillion"]
LIMIT_COLOR = OKABE_ITO["vermillion"]
REFERENCE_COLOR = "#555555"

#: Smallest text on a chart, in points at the figure's own size: every text of the house
#: style is at least this big, so a chart shown at its size (or larger) reads.
MIN_FONT_PT = 9.0

#: The footer every chart of a report carries (the reference table and its status).
FOOTER_STYLE: Mapping[str, Any] = {"fontsize": MIN_FONT_PT, "color": "#555555"}

#: rcParams of the house style (use with ``matplotlib.rc_context(RC)``).
RC: Mapping[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 10.0,
    "axes.titlesize": 11.0,
    "axes.titleweight": "bold",
    # titles stand at the top of the plot area: no chart has ticks or labels above it,
    # and a fixed position spares matplotlib measuring every tick label of every axis
    # again at each draw to find out (a third of the time of drawing a size ladder)
    "axes.titley": 1.0,
    "axes.labelsize": 10.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "legend.fontsize": MIN_FONT_PT,
    "legend.frameon": False,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "lines.linewidth": 1.6,
    "pdf.fonttype": 3,
}


def series_styles() -> Iterator[Mapping[str, Any]]:
    """Endless cycle of series styles (colour, marker, line style)."""
    return cycle(SERIES)


def tick_decimals(values: Sequence[float], most: int = 4) -> int:
    """The fewest decimals that write every tick value exactly (at most ``most``).

    Ticks 0, 0.25, 0.5 need 2 decimals; 1, 1.5, 2 need 1; 0, 5, 10 need none. Ticks that
    no number of decimals up to ``most`` writes exactly (a tiny range) get ``most``.

    >>> tick_decimals([0.0, 0.25, 0.5]), tick_decimals([1.0, 1.5, 2.0]), tick_decimals([0, 5])
    (2, 1, 0)
    """
    finite = [float(v) for v in values if math.isfinite(v)]
    for d in range(most + 1):
        if all(abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v)) for v in finite):
            return d
    return most


class LocaleFormatter(Formatter):
    """Tick labels written in ``lang`` (decimal comma for Indonesian), all with the same
    number of decimals: as many as the ticks need (:func:`tick_decimals`), or ``digits``.

    Parameters
    ----------
    lang : {"en", "id"}
    digits : int, optional
        Fixed decimals; by default as few as the ticks of the axis need.
    """

    def __init__(self, lang: str, digits: int | None = None) -> None:
        self.lang = lang
        self.digits = digits

    def __call__(self, x: float, pos: int | None = None) -> str:
        digits = self.digits if self.digits is not None else tick_decimals([x], 2)
        return format_number(x, self.lang, digits)

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        digits = self.digits if self.digits is not None else tick_decimals(values)
        return [format_number(v, self.lang, digits) for v in values]


def number_formatter(lang: str, digits: int | None = None) -> LocaleFormatter:
    """A tick formatter writing numbers in ``lang`` (see :class:`LocaleFormatter`).

    Parameters
    ----------
    lang : {"en", "id"}
    digits : int, optional
        Fixed digits; by default as few as the ticks need.
    """
    return LocaleFormatter(lang, digits)


def set_number_format(ax: Axes, lang: str, *, x: bool = True, y: bool = True) -> None:
    """Write the tick labels of ``ax`` in ``lang`` (only the numeric axes asked for)."""
    if x:
        ax.xaxis.set_major_formatter(number_formatter(lang))
    if y:
        ax.yaxis.set_major_formatter(number_formatter(lang))


def new_figure(figsize: tuple[float, float] = (7.0, 4.2), *, dpi: float = 120) -> Figure:
    """A pyplot-free :class:`~matplotlib.figure.Figure` for batch rendering."""
    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def house_style() -> AbstractContextManager[None]:
    """Context manager applying :data:`RC` (``with house_style(): ...``)."""
    return cast(AbstractContextManager[None], mpl.rc_context(cast(Any, dict(RC))))
