"""The house style of sizecheck charts: colour-blind-safe, legible in grey print.

Colours are the Okabe–Ito palette (safe for the common colour-vision deficiencies); every
series also differs by marker and line style, and the tolerance bands by hatching, so a
chart printed in black and white on a workshop's printer still reads.

Use :data:`RC` with :func:`matplotlib.rc_context` (batch code does) or leave the caller's
style alone (notebooks): the plotting functions set only what they must on their Axes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from itertools import cycle
from typing import Any, cast

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sizecheck.i18n import format_number

__all__ = [
    "BAND_STYLE",
    "OKABE_ITO",
    "RC",
    "SERIES",
    "house_style",
    "new_figure",
    "number_formatter",
    "series_styles",
    "set_number_format",
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
BAND_STYLE: Mapping[str, Mapping[str, Any]] = {
    "in_spec": {"facecolor": OKABE_ITO["bluish_green"], "alpha": 0.18, "hatch": None},
    "drifting": {"facecolor": OKABE_ITO["orange"], "alpha": 0.22, "hatch": "//"},
    "missized": {"facecolor": OKABE_ITO["vermillion"], "alpha": 0.18, "hatch": "xx"},
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
DOT_COLOR = OKABE_ITO["blue"]
SIGNAL_COLOR = OKABE_ITO["vermillion"]
LIMIT_COLOR = OKABE_ITO["vermillion"]
REFERENCE_COLOR = "#555555"

#: rcParams of the house style (use with ``matplotlib.rc_context(RC)``).
RC: Mapping[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "legend.fontsize": 8.0,
    "legend.frameon": False,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "lines.linewidth": 1.6,
    "pdf.fonttype": 3,
}


def series_styles() -> Iterator[Mapping[str, Any]]:
    """Endless cycle of series styles (colour, marker, line style)."""
    return cycle(SERIES)


def number_formatter(lang: str, digits: int | None = None) -> FuncFormatter:
    """A tick formatter writing numbers in ``lang`` (decimal comma for Indonesian).

    Parameters
    ----------
    lang : {"en", "id"}
    digits : int, optional
        Fixed digits; by default as few as the tick needs (up to 2).
    """

    def fmt(x: float, _pos: int | None = None) -> str:
        if digits is not None:
            return format_number(x, lang, digits)
        for d in range(3):
            if abs(round(x, d) - x) < 1e-9:
                return format_number(x, lang, d)
        return format_number(x, lang, 2)

    return FuncFormatter(fmt)


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
