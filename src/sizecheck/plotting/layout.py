"""Measure what a figure actually draws: text extents, overlaps, and text fitted to a width.

Used by the cards (to lay out an A4 page from measured extents rather than guessed line
heights), by the report's charts (:func:`frame_axes` places a chart's Axes from the
measured size of its texts) and by the tests (to check that no two texts of a chart or
card overlap and that every text lies on the page). Only the texts a renderer really
draws are considered: tick labels outside the view limits, empty titles and invisible
artists are not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, FixedLocator
from matplotlib.transforms import Bbox, blended_transform_factory

__all__ = [
    "CHART_COLOURS",
    "EncodedChart",
    "chart_figure",
    "drawn_texts",
    "encode_chart",
    "fit_wrap",
    "fix_ticks",
    "frame_axes",
    "overlaps",
    "renderer",
    "text_overlaps",
]


def renderer(fig: Figure) -> RendererBase:
    """An Agg renderer for ``fig`` (attaches an Agg canvas when the figure has none)."""
    canvas = fig.canvas
    if not hasattr(canvas, "get_renderer"):
        canvas = FigureCanvasAgg(fig)
    return canvas.get_renderer()  # type: ignore[no-any-return]


@contextmanager
def _recording(found: list[Text]) -> Iterator[None]:
    """Record every Text drawn (patching ``Text.draw``; multi-line texts reach the
    renderer line by line without their artist, so the renderer cannot be asked)."""
    original: Callable[..., Any] = Text.draw

    def draw(self: Text, rend: RendererBase) -> Any:
        if self.get_visible() and self.get_text().strip():
            found.append(self)
        return original(self, rend)

    Text.draw = draw  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        Text.draw = original  # type: ignore[method-assign]


def drawn_texts(fig: Figure) -> list[tuple[Text, Bbox]]:
    """Every text artist Agg draws for ``fig``, with its extent in display pixels.

    The figure is drawn once with an Agg canvas; each :class:`~matplotlib.text.Text` that
    reaches the renderer with a non-blank string is returned once, in drawing order.
    """
    canvas = FigureCanvasAgg(fig)
    found: list[Text] = []
    with _recording(found):
        canvas.draw()  # type: ignore[no-untyped-call]
    rend = canvas.get_renderer()  # type: ignore[no-untyped-call]
    seen: set[int] = set()
    out: list[tuple[Text, Bbox]] = []
    for txt in found:
        if id(txt) in seen:
            continue
        seen.add(id(txt))
        out.append((txt, txt.get_window_extent(rend)))
    return out


def overlaps(a: Bbox, b: Bbox, tol: float = 0.5) -> bool:
    """Whether two extents overlap by more than ``tol`` pixels in both directions."""
    dx = float(min(a.x1, b.x1) - max(a.x0, b.x0))
    dy = float(min(a.y1, b.y1) - max(a.y0, b.y0))
    return dx > tol and dy > tol


def text_overlaps(fig: Figure, *, tol: float = 0.5, margin: float = 0.0) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose extents overlap, and texts that leave the page.

    Parameters
    ----------
    fig : Figure
    tol : float, default 0.5
        Pixels of overlap tolerated (anti-aliasing).
    margin : float, default 0.0
        Inches every text must keep from the edge of the page.

    Returns
    -------
    list of (str, str)
        ``(text, other)`` for each overlapping pair and ``(text, "<outside page>")`` for
        each text not inside the page; empty when the layout is clean.
    """
    texts = drawn_texts(fig)
    w, h = fig.bbox.width, fig.bbox.height
    m = margin * fig.dpi
    problems: list[tuple[str, str]] = []
    for i, (ti, bi) in enumerate(texts):
        if bi.x0 < m - tol or bi.y0 < m - tol or bi.x1 > w - m + tol or bi.y1 > h - m + tol:
            problems.append((ti.get_text(), "<outside page>"))
        for tj, bj in texts[i + 1 :]:
            if overlaps(bi, bj, tol):
                problems.append((ti.get_text(), tj.get_text()))
    return problems


def fit_wrap(
    fig: Figure,
    text: str,
    width: float,
    *,
    fontsize: float,
    rend: RendererBase | None = None,
    **props: Any,
) -> str:
    """Wrap ``text`` into lines no wider than ``width`` (figure fraction) at ``fontsize``.

    Greedy: each line is the longest run of words that fits, measured whole with the
    renderer (as the figure will draw it: kerning, any language and font). Lines are
    measured, not words: where a line ends is first guessed from the characters per
    pixel of the lines measured so far (0.55 em at first), then one word more is tried
    while the longer line still fits, or words are given back until it does -- two
    measurements per line when the guess is right, instead of one per word and one per
    line; the figure's own drawing then finds each final line already measured
    (matplotlib keeps text metrics per renderer). The word more is not measured with its
    line when the two measured apart are already wider than ``width`` by more than
    :data:`JOIN_SLACK_EM`: joining two texts with a space never makes them narrower
    than the two apart, give or take the overhang of their outermost glyphs (the space
    alone is a third of an em), so the longer line could not fit -- one short word is
    measured instead of a whole line. A single word wider than ``width`` is broken.
    """
    rend = rend or renderer(fig)
    limit = width * fig.bbox.width
    probe = Text(0, 0, "", fontsize=fontsize, figure=fig, **props)
    widths: dict[str, float] = {}

    def wide(s: str) -> float:
        if s not in widths:
            probe.set_text(s)
            widths[s] = float(probe.get_window_extent(rend).width)
        return widths[s]

    em = fontsize * fig.dpi / 72.0
    per_char = 0.55 * em  # pixels per character, a first guess
    lines: list[str] = []
    for para in str(text).splitlines() or [""]:
        found, per_char = _fill(para.split(), limit, wide, per_char, JOIN_SLACK_EM * em)
        lines.extend(found)
    return "\n".join(lines)


#: How much narrower (in ems) two texts joined with a space may be than the two measured
#: apart, at most. Measured over 3,600 pairs of the catalogue's words in both languages
#: (regular, bold and italic, 6.5-18 pt), the joined text is wider by exactly the
#: space's advance, 0.32-0.37 em, never less: matplotlib's width of a text is its
#: glyphs' advances. Half an em to spare covers a font whose glyphs overhang.
JOIN_SLACK_EM = 0.5


def _fill(
    words: list[str],
    limit: float,
    wide: Callable[[str], float],
    per_char: float,
    slack: float,
) -> tuple[list[str], float]:
    """Greedy lines of ``words`` no wider than ``limit``, each measured whole (see
    :func:`fit_wrap`); with the pixels per character of the last line, for the next
    paragraph's first guess. ``slack``: :data:`JOIN_SLACK_EM` in pixels."""
    if not words:
        return [""], per_char
    words = list(words)
    lines: list[str] = []
    start = 0

    def fits(end: int) -> bool:
        return wide(" ".join(words[start:end])) <= limit

    def too_wide_with_next(end: int) -> bool:
        # the line up to ``end`` and the next word, measured apart, leave no doubt
        return wide(" ".join(words[start:end])) + wide(words[end]) - slack > limit

    while start < len(words):
        end, chars = start + 1, len(words[start])  # the guess: as many words as characters fit
        while end < len(words) and (chars + 1 + len(words[end])) * per_char <= limit:
            chars += 1 + len(words[end])
            end += 1
        if fits(end):
            while end < len(words) and not too_wide_with_next(end) and fits(end + 1):
                end += 1
        else:
            while end - start > 1:
                end -= 1
                if fits(end):
                    break
        if end == start + 1 and len(words[start]) > 1 and not fits(end):
            # one word wider than the line: break it
            word = words[start]
            cut = len(word) - 1
            while cut > 1 and wide(word[:cut]) > limit:
                cut -= 1
            lines.append(word[:cut])
            words[start] = word[cut:]
            continue
        line = " ".join(words[start:end])
        lines.append(line)
        per_char = max(wide(line) / len(line), 1e-3)
        start = end
    return lines, per_char


def fix_ticks(ax: Axes) -> None:
    """Write the major ticks of both axes of ``ax`` once, for a chart that is drawn and
    not zoomed: the locator's ticks inside the current view limits and their labels,
    formatted once, become a :class:`~matplotlib.ticker.FixedLocator` and a
    :class:`~matplotlib.ticker.FixedFormatter`. The chart looks the same; matplotlib
    otherwise asks the locator and formats every label again (through Babel, for the
    house style's :class:`~sizecheck.plotting.style.LocaleFormatter`) at each of the
    dozen tick updates of a draw. Call it when the limits and the Axes' size are final
    (how many ticks a locator picks depends on the length of the axis); axes whose
    ticks are already fixed (``set_xticks`` with labels) keep them.
    """
    for axis in (ax.xaxis, ax.yaxis):
        locator, formatter = axis.get_major_locator(), axis.get_major_formatter()
        if isinstance(locator, FixedLocator) and isinstance(formatter, FixedFormatter):
            continue
        values = _in_view(axis)
        labels = [str(s) for s in formatter.format_ticks(values)]
        axis.set_major_locator(FixedLocator(values))
        axis.set_major_formatter(FixedFormatter(labels))


def _pt(artist: Any, rend: RendererBase, fig: Figure) -> tuple[float, float]:
    """Width and height in points of what ``artist`` draws (a Text, Legend …)."""
    box = artist.get_window_extent(rend)
    return float(box.width) * 72.0 / fig.dpi, float(box.height) * 72.0 / fig.dpi


def _rc_points(key: str) -> float:
    """An rc font size in points (``9.0`` or ``"medium"`` alike)."""
    return float(FontProperties(size=mpl.rcParams[key]).get_size_in_points())  # type: ignore[index]


def _widest(
    strings: list[str], rend: RendererBase, fig: Figure, size: float
) -> tuple[float, float]:
    """Largest width and height in points of ``strings`` written at ``size``."""
    boxes = [_pt(Text(0, 0, s, fontsize=size, figure=fig), rend, fig) for s in strings]
    return (max(b[0] for b in boxes), max(b[1] for b in boxes)) if boxes else (0.0, 0.0)


def _in_view(axis: Any) -> list[float]:
    """The values of an axis' major ticks inside its view limits."""
    lo, hi = sorted(axis.get_view_interval())
    return [float(v) for v in axis.get_major_locator()() if lo - 1e-9 <= v <= hi + 1e-9]


def _tick_strings(axis: Any) -> list[str]:
    """The labels an axis will write at its ticks inside the view (formatted, not drawn)."""
    values = _in_view(axis)
    return [s for s in map(str, axis.get_major_formatter().format_ticks(values)) if s]


def _beside(child: Any, rend: RendererBase, fig: Figure) -> float:
    """Points a secondary y axis or a colour bar takes right of its Axes: ticks, their
    labels and the axis label. Fixed ticks (a colour bar's) are measured as written; a
    secondary axis sets its limits only when drawn, so room is kept for a signed number
    like "−10,50"."""
    if isinstance(child.yaxis.get_major_locator(), FixedLocator):
        labels = [t.get_text() for t in child.yaxis.get_majorticklabels() if t.get_text()]
    else:
        labels = ["\N{MINUS SIGN}00,00"]
    width = _widest(labels, rend, fig, _rc_points("ytick.labelsize"))[0]
    label = child.yaxis.label
    out = _rc_points("ytick.major.size") + _rc_points("ytick.major.pad") + width
    if label.get_text():
        out += float(mpl.rcParams["axes.labelpad"]) + _pt(label, rend, fig)[0]
    return out


def _hung_right(ax: Axes, rend: RendererBase, fig: Figure) -> float:
    """Points taken right of the plot area by annotations hung there: ``xy`` at x >= 1
    in ``"axes fraction"`` (a size ladder's guide labels), offset in points."""
    out = 0.0
    for txt in ax.texts:
        coords = getattr(txt, "xycoords", None)
        if not isinstance(coords, tuple) or coords[0] != "axes fraction":
            continue
        if float(txt.xy[0]) < 1.0 or not txt.get_visible():  # type: ignore[attr-defined]
            continue
        offset = float(txt.xyann[0]) if getattr(txt, "anncoords", None) == "offset points" else 0.0  # type: ignore[attr-defined]
        out = max(out, offset + _pt(txt, rend, fig)[0])
    return out


def _reach(child: Any, ax: Axes, rend: RendererBase) -> float:
    """How far right of ``ax`` a child Axes reaches, as a share of ``ax``'s width (a
    colour bar ``inset_axes((1.02, 0, 0.025, 1))``: 0.045; a secondary axis: 0)."""
    locator = child.get_axes_locator()
    if locator is None:
        return 0.0
    box, pos = locator(child, rend), ax.get_position()
    return max(0.0, float(box.x1 - pos.x1) / float(pos.width))


def frame_axes(fig: Figure, ax: Axes, *, bottom: float = 0.0, pad: float = 0.06) -> None:
    """Place the single Axes of a chart from the measured size of the texts around it.

    A one-pass stand-in for matplotlib's constrained layout, for charts built like
    sizecheck's (one Axes; a title; axis labels; a legend under the x axis or inside
    the plot; a secondary y axis, a colour bar or annotations hung on the right). The
    title, the axis labels, the labels each axis will write at its ticks (formatted,
    not drawn), the legend below and what stands on the right are measured once with
    Agg, and the Axes is sized so that all of it fits inside the figure with ``pad``
    inches to spare and ``bottom`` inches free along the bottom edge (for a footer);
    the legend is hung just under the x axis label. Constrained layout measures every
    artist of the chart, twice, which doubled the cost of drawing one; this measures a
    dozen strings.

    Parameters
    ----------
    fig : Figure
    ax : Axes
        The chart, already drawn on (limits, ticks, labels and legend set).
    bottom : float, default 0.0
        Inches to keep free under everything.
    pad : float, default 0.06
        Inches between the outermost text and the edge of the figure.
    """
    rend = renderer(fig)
    w_in, h_in = (float(v) for v in fig.get_size_inches())
    labelpad = float(mpl.rcParams["axes.labelpad"])

    # Points above, under, left and right of the plot area.
    top = 0.0
    if ax.title.get_text():
        top = _pt(ax.title, rend, fig)[1] + float(mpl.rcParams["axes.titlepad"])
    xw, xh = _widest(_tick_strings(ax.xaxis), rend, fig, _rc_points("xtick.labelsize"))
    yw = _widest(_tick_strings(ax.yaxis), rend, fig, _rc_points("ytick.labelsize"))[0]
    under = _rc_points("xtick.major.size") + _rc_points("xtick.major.pad") + xh
    if ax.xaxis.label.get_text():
        under += labelpad + _pt(ax.xaxis.label, rend, fig)[1]
    left = _rc_points("ytick.major.size") + _rc_points("ytick.major.pad") + yw
    if ax.yaxis.label.get_text():
        left += labelpad + _pt(ax.yaxis.label, rend, fig)[0]
    right = max([_hung_right(ax, rend, fig), *(_beside(c, rend, fig) for c in ax.child_axes)])
    legend = ax.get_legend()
    hung = legend is not None and float(legend.get_bbox_to_anchor().y1) < float(
        ax.get_window_extent(rend).y0
    )  # a legend under the x axis (not one inside the plot)
    legend_h = _pt(legend, rend, fig)[1] + 2.0 if hung and legend is not None else 0.0

    pt = 1.0 / 72.0
    half_tick = xw / 2 * pt  # the outermost x tick labels stand half outside the plot area
    left_in = pad + max(left * pt, half_tick)
    right_in = pad + max(right * pt, half_tick)
    top_in = pad + top * pt
    bottom_in = pad + bottom + (under + legend_h) * pt
    reach = max((_reach(c, ax, rend) for c in ax.child_axes), default=0.0)
    width = (w_in - left_in - right_in) / (1.0 + reach)
    height = h_in - top_in - bottom_in
    ax.set_position((left_in / w_in, bottom_in / h_in, width / w_in, height / h_in))
    if hung and legend is not None:
        y = (bottom_in - under * pt) / h_in
        where = blended_transform_factory(ax.transAxes, fig.transFigure)
        legend.set_bbox_to_anchor((0.5, y), transform=where)
        legend.set_loc("upper center")


def chart_figure(
    plot: Callable[..., Any],
    figsize: tuple[float, float],
    *,
    dpi: float = 120,
    footer: str = "",
    **kwargs: Any,
) -> Figure:
    """A pyplot-free Figure with ``plot(ax=ax, **kwargs)`` drawn on its one Axes, framed.

    ``footer`` (the report's charts: the reference table and its status) is written
    along the bottom edge, wrapped to the width; the ticks are written once
    (:func:`fix_ticks`) and the Axes is placed by :func:`frame_axes` around the texts
    it measures.

    Parameters
    ----------
    plot : callable
        A chart function of :mod:`sizecheck.plotting`.
    figsize : (float, float)
        Inches.
    dpi : float, default 120
    footer : str, optional
    **kwargs
        Passed to ``plot``.

    Returns
    -------
    Figure
    """
    from sizecheck.plotting.style import FOOTER_STYLE

    fig = Figure(figsize=figsize, dpi=dpi)
    ax = fig.add_subplot()
    plot(ax=ax, **kwargs)
    strip = 0.0
    if footer:
        size = float(FOOTER_STYLE["fontsize"])
        text = fit_wrap(fig, footer, 0.97, fontsize=size)
        fig.text(0.012, 0.012, text, ha="left", va="bottom", **FOOTER_STYLE)
        strip = (text.count("\n") + 1) * size * 1.3 / 72 + 0.06
    frame_axes(fig, ax, bottom=strip)
    fix_ticks(ax)  # after framing: a locator's ticks depend on the Axes' size
    return fig


#: Colours of an encoded chart's palette. A chart is a few flat colours (the Okabe-Ito
#: series, the bands, greys) plus the anti-aliased edges between them; 256 keep the
#: heatmap's colour scale and the edges without visible steps.
CHART_COLOURS = 256


@dataclass(frozen=True)
class EncodedChart:
    """One chart, encoded twice from the same pixels (:func:`encode_chart`).

    Attributes
    ----------
    png : bytes
        8-bit palette PNG: the file in ``charts/`` (opens in every office program).
    webp : bytes
        Lossless WebP of the same palette image: what ``report.html`` embeds (about 30 %
        smaller than the PNG; every current browser shows WebP).
    """

    png: bytes
    webp: bytes


def encode_chart(
    fig: Figure, *, dpi: float | None = None, colours: int = CHART_COLOURS
) -> EncodedChart:
    """Draw ``fig`` once with Agg and encode it as a palette PNG and a lossless WebP.

    The RGBA pixels are reduced to at most ``colours`` colours (Pillow's fast octree,
    no dithering: flat areas stay flat) and written as an 8-bit indexed PNG, and, from
    the same palette image, as a lossless WebP. Against matplotlib's default 32-bit RGBA
    PNG the PNG is about 3x smaller and quicker to write (issue 14 item 3: a report that
    travels). The figure's background is opaque white (the house style), so dropping
    the alpha channel loses nothing.

    Parameters
    ----------
    fig : Figure
    dpi : float, optional
        Resolution; default the figure's own.
    colours : int, default CHART_COLOURS
        Largest palette size (2-256).

    Returns
    -------
    EncodedChart
    """
    import io

    from PIL import Image

    if dpi is not None:
        fig.set_dpi(dpi)
    # the canvas (and so the renderer) that laid the chart out, when it was Agg:
    # matplotlib keeps text metrics per renderer, so the texts frame_axes and fit_wrap
    # measured are not measured again to draw them
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()  # type: ignore[no-untyped-call]
    width, height = canvas.get_width_height()
    rgba = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    rgb = Image.frombuffer("RGBA", (width, height), rgba).convert("RGB")
    palette = rgb.quantize(colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    png, webp = io.BytesIO(), io.BytesIO()
    palette.save(png, format="PNG")
    # lossless: "quality" is the effort spent compressing; method 3 at 80 is 4 % smaller
    # than method 2 at 50 in the same time (method 6 gains 0.5 % more at 90x the time)
    palette.save(webp, format="WEBP", lossless=True, method=3, quality=80)
    return EncodedChart(png.getvalue(), webp.getvalue())
