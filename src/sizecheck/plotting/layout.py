"""Measure what a figure actually draws: text extents, overlaps, and text fitted to a width.

Used by the cards (to lay out an A4 page from measured extents rather than guessed line
heights) and by the tests (to check that no two texts of a chart or card overlap and that
every text lies on the page). Only the texts a renderer really draws are considered: tick
labels outside the view limits, empty titles and invisible artists are not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

__all__ = ["drawn_texts", "fit_wrap", "overlaps", "renderer", "text_overlaps"]


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

    Each distinct word is measured once with the renderer, lines are filled greedily by
    adding up word and space widths, and every line is then measured whole; a line that
    came out too wide (kerning, rounding) gives its last word to the next line. So the
    result fits in any language and font, with a few measurements per line instead of
    one per word tried. A single word wider than ``width`` is broken.
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

    space = wide("x x") - wide("xx")
    lines: list[str] = []
    for para in str(text).splitlines() or [""]:
        words: list[str] = []
        for word in para.split():
            while wide(word) > limit and len(word) > 1:  # break an over-long word
                cut = len(word) - 1
                while cut > 1 and wide(word[:cut]) > limit:
                    cut -= 1
                words.append(word[:cut])
                word = word[cut:]
            words.append(word)
        lines.extend(_fill(words, limit, wide, space))
    return "\n".join(lines)


def _fill(words: list[str], limit: float, wide: Callable[[str], float], space: float) -> list[str]:
    """Greedy lines of ``words`` (summed widths), each checked by measuring it whole."""
    if not words:
        return [""]
    lines: list[str] = []
    start = 0
    while start < len(words):
        end, used = start + 1, wide(words[start])
        while end < len(words) and used + space + wide(words[end]) <= limit:
            used += space + wide(words[end])
            end += 1
        while end - start > 1 and wide(" ".join(words[start:end])) > limit:
            end -= 1  # the sum was a little short: the last word goes to the next line
        lines.append(" ".join(words[start:end]))
        start = end
    return lines
