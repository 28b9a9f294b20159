"""Printable drift cards: one A4 page per producer for mentors (pure: returns PDF bytes).

A card is what a penyuluh hands a workshop owner: the issuing office, the report's title
and number (``measure --office --title --report-no``), the producer's name, the measurement
period, the most serious verdict over all dimensions (naming its dimension, with the size
as it is now), every dimension's verdict in one line each, the size ladder and a second
chart of that dimension, its key numbers, the actions that matter, and the reference
table used with its status and source, and a box for the checker's signature and date.
Every word and number comes from the producer's
:class:`~sizecheck.findings.Finding` (computed once, by :func:`sizecheck.pipeline.analyse`).
Built with :class:`matplotlib.figure.Figure` (no pyplot), so thousands can be rendered in
one process without leaking figures.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox, blended_transform_factory

from sizecheck.escaping import visible_controls
from sizecheck.findings import (
    DimensionFinding,
    Finding,
    action_texts,
    chart_data,
    finding_for,
    headline_text,
    key_lines,
    verdict_words,
)
from sizecheck.i18n import check_lang, dimension_label, format_date, has_key, t
from sizecheck.plotting import plot_control_chart, plot_effective_size, plot_size_ladder
from sizecheck.plotting.layout import fit_wrap, fix_ticks, renderer
from sizecheck.plotting.style import house_style

if TYPE_CHECKING:
    from sizecheck.pipeline import Analysis, ReportInfo

__all__ = ["A4_INCHES", "card_figure", "render_card"]

#: A4 portrait in inches (210 × 297 mm).
A4_INCHES: tuple[float, float] = (210 / 25.4, 297 / 25.4)

#: Page margins (figure fraction): left, right, top, bottom.
_LEFT, _RIGHT, _TOP, _BOTTOM = 0.07, 0.93, 0.975, 0.015

#: Font sizes tried, largest first, until the page fits: (actions, key numbers). The
#: key numbers never go below 8 pt (print); the card shows fewer lines instead
#: (:data:`_MAX_KEYS`, :data:`_MAX_ACTIONS`).
_DENSITIES: tuple[tuple[float, float], ...] = (
    (10.5, 9.0),
    (9.5, 8.5),
    (8.8, 8.0),
    (8.0, 8.0),
)

#: Plot-area heights (figure fraction): ladder and second chart, preferred and smallest.
_LADDER_H, _LADDER_MIN = 0.25, 0.15
_SECOND_H, _SECOND_MIN = 0.19, 0.12
#: The ladder's smallest height, when the densest texts and the signature box need it.
_LADDER_LAST = 0.09

#: Actions and key numbers a card shows at most, the most important first; when there
#: are more, the card says that the report has them all.
_MAX_ACTIONS = 2
_MAX_KEYS = 4


def _plain(text: object) -> str:
    return str(text).replace("$", r"\$")


def _shown(text: str, limit: int = 160) -> str:
    """Text from the command line as a card shows it: control characters visible
    (:func:`sizecheck.escaping.visible_controls`), at most ``limit`` characters."""
    return textwrap.shorten(visible_controls(text), limit, placeholder="…")


def _report_info(analysis: Analysis) -> ReportInfo:
    """The report's title, office and number (empty for an analysis made without)."""
    from sizecheck.pipeline import ReportInfo

    info = getattr(analysis, "report_info", None)
    return info if isinstance(info, ReportInfo) else ReportInfo()


#: The signature box: height (figure fraction, 13 mm on A4) and the share of the width
#: given to the name; the rest is for the date.
_SIGNATURE_H, _SIGNATURE_SPLIT = 0.045, 0.62


def _signature_box(page: _Page, lang: str, y0: float) -> float:
    """Draw the box a checker signs and dates ("Diperiksa oleh / Tanggal") across the
    page with its bottom at ``y0``; return its top."""
    fig = page.fig
    x1 = _LEFT + (_RIGHT - _LEFT) * _SIGNATURE_SPLIT
    style: dict[str, Any] = {"transform": fig.transFigure, "linewidth": 0.8, "color": "#555555"}
    fig.add_artist(Rectangle((_LEFT, y0), _RIGHT - _LEFT, _SIGNATURE_H, fill=False, **style))
    fig.add_artist(Line2D([x1, x1], [y0, y0 + _SIGNATURE_H], **style))
    top = y0 + _SIGNATURE_H
    for x, key in ((_LEFT, "workbook.card.checked_by"), (x1, "workbook.card.checked_date")):
        fig.text(x + 0.01, top - 0.006, t(key, lang), fontsize=8, va="top", color="#333333")
    return top


class _Page:
    """Text placed on an A4 figure by measured extents (figure fraction, y up)."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.rend = renderer(fig)

    def extent(self, artist: Any) -> Bbox:
        box: Bbox = artist.get_window_extent(self.rend).transformed(self.fig.transFigure.inverted())
        return box

    def text(self, x: float, y: float, text: str, size: float, width: float, **kw: Any) -> Text:
        """``text`` wrapped to ``width`` (figure fraction) with its top at ``y``."""
        wrapped = fit_wrap(
            self.fig, _plain(text), width, fontsize=size, rend=self.rend, **_font(kw)
        )
        return self.fig.text(x, y, wrapped, fontsize=size, va="top", linespacing=1.3, **kw)

    def below(self, artist: Any, gap: float = 0.0) -> float:
        return float(self.extent(artist).y0) - gap

    def height(self, artist: Any) -> float:
        return float(self.extent(artist).height)


def _font(kw: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments that change a text's width (for measuring)."""
    return {k: v for k, v in kw.items() if k in ("fontweight", "fontstyle", "family")}


def _fit_ylabel(page: _Page, ax: Axes) -> None:
    """Break a y label onto two lines when it is taller than its Axes."""
    label = ax.yaxis.label
    text = label.get_text()
    if " " not in text or "\n" in text:
        return
    if page.height(label) <= page.extent(ax).height * 1.02:
        return
    words = text.split()
    half = len(text) / 2
    best = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - half))
    label.set_text(" ".join(words[:best]) + "\n" + " ".join(words[best:]))


def _fit_across(page: _Page, ax: Axes, x0: float, x1: float) -> None:
    """Narrow an Axes so that everything it draws lies between ``x0`` and ``x1``."""
    tight = ax.get_tightbbox(page.rend)
    if tight is None:
        return
    box = tight.transformed(page.fig.transFigure.inverted())
    pos = ax.get_position()
    new_x0 = pos.x0 + max(0.0, x0 - float(box.x0))
    new_x1 = pos.x1 - max(0.0, float(box.x1) - x1)
    if (new_x0, new_x1) != (pos.x0, pos.x1) and new_x1 - new_x0 > 0.1:
        ax.set_position((new_x0, pos.y0, new_x1 - new_x0, pos.height))


def _legend_below(page: _Page, ax: Axes) -> None:
    """Hang the legend of ``ax`` just under its x-axis label, wherever the Axes now is."""
    legend = ax.get_legend()
    box = ax.xaxis.get_tightbbox(page.rend)
    if legend is None or box is None:
        return
    y = float(box.transformed(page.fig.transFigure.inverted()).y0) - 0.004
    legend.set_bbox_to_anchor(
        (0.5, y), transform=blended_transform_factory(ax.transAxes, page.fig.transFigure)
    )
    legend.set_loc("upper center")


def _decor(page: _Page, ax: Axes) -> tuple[float, float]:
    """Figure-fraction heights of what an Axes draws above and below its plot area."""
    tight = ax.get_tightbbox(page.rend)
    if tight is None:
        return 0.0, 0.0
    box = tight.transformed(page.fig.transFigure.inverted())
    pos = ax.get_position()
    return max(0.0, float(box.y1 - pos.y1)), max(0.0, float(pos.y0 - box.y0))


def card_figure(
    analysis: Analysis, producer: str, *, lang: str = "en", finding: Finding | None = None
) -> Figure:
    """Build the card of one producer as an A4 :class:`~matplotlib.figure.Figure`.

    The headline is the most serious verdict over all dimensions
    (:attr:`Finding.headline`); the charts and key numbers are of that dimension. The
    second chart is the control chart when that dimension changed over time (a shift in
    time does not show on a size chart), else the effective-size chart.

    The page is laid out from measured text extents: the header from the top down
    (:func:`_header`), the provenance footer and signature box from the bottom up
    (:func:`_footer`), and the charts (:func:`_charts`) take what is left after the key
    numbers and the actions (:func:`_fit_body`); when the texts are long, the charts get
    shorter first, then the fonts smaller, so no text ever overlaps another.

    Parameters
    ----------
    analysis : Analysis
    producer : str
        One of ``analysis.producers``.
    lang : {"en", "id"}, default "en"
    finding : Finding, optional
        The producer's finding; default ``analysis.findings[producer]``.

    Returns
    -------
    Figure
    """
    lang = check_lang(lang)
    if finding is None:
        finding = finding_for(analysis, producer)
    page = _Page(Figure(figsize=A4_INCHES))
    top = _header(page, analysis, producer, finding, lang)
    floor = _footer(page, analysis, finding.headline, lang)
    charts = _charts(page, analysis, producer, finding.headline, lang)
    body = _fit_body(page, charts, finding, lang, room=(top, floor))
    _place(page, charts, body, top)
    return page.fig


def _header(page: _Page, analysis: Analysis, producer: str, finding: Finding, lang: str) -> float:
    """Draw the header top down (banner, date, office, title line, name, period, verdict,
    every dimension's verdict); return the height (figure fraction) under it."""
    fig, left, right = page.fig, _LEFT, _RIGHT
    width = right - left
    y = _TOP
    if analysis.synthetic:
        banner = fig.text(
            0.5,
            y,
            t("card.synthetic", lang),
            ha="center",
            va="top",
            fontsize=11,
            fontweight="bold",
            color="#7a2500",
            bbox={"facecolor": "#FFF1C1", "edgecolor": "#D55E00", "linewidth": 2},
        )
        y = page.below(banner, 0.022)  # the box's padding is drawn around the text
    date = fig.text(
        right,
        y,
        t("card.date", lang, date=format_date(analysis.created, lang)),
        fontsize=9,
        ha="right",
        va="top",
        color="#444444",
    )
    first_width = float(page.extent(date).x0) - left - 0.02
    info = _report_info(analysis)
    if info.office:  # the issuing office heads the page, as on a letterhead
        office = page.text(left, y, _shown(info.office), 10, first_width, fontweight="bold")
        y = page.below(office, 0.004)
        first_width = width
    top_line = _shown(info.title) if info.title else t("card.title", lang)
    if info.report_no:
        top_line += "  ·  " + t("workbook.card.report_no", lang, report_no=_shown(info.report_no))
    head = page.text(left, y, top_line, 10, first_width, color="#444444")
    y = page.below(head, 0.006)
    name = textwrap.shorten(str(producer), 120, placeholder="…")
    title = page.text(left, y, name, 18, width, fontweight="bold")
    y = page.below(title, 0.006)
    if finding.first_date is not None:
        period = t(
            "card.period",
            lang,
            first=format_date(finding.first_date, lang),
            last=format_date(finding.last_date, lang),
        )
        y = page.below(page.text(left, y, period, 9, width, color="#444444"), 0.010)
    else:
        y -= 0.008
    return _verdicts(page, finding, lang, y)


def _verdicts(page: _Page, finding: Finding, lang: str, y: float) -> float:
    """The headline verdict, its meaning in words and every dimension's verdict in one
    line, with their top at ``y``; return the height under them."""
    main = finding.headline
    if main is None:
        return y
    left, width = _LEFT, _RIGHT - _LEFT
    label = page.text(left, y, t("card.verdict", lang), 9.5, width, color="#444444")
    y = page.below(label, 0.002)
    verdict = page.text(left, y, headline_text(finding, lang), 13.5, width, fontweight="bold")
    y = page.below(verdict, 0.004)
    flags = main.flags
    helps = " ".join(
        t(f"verdict_help.{f}", lang)
        for f in flags
        if has_key(f"verdict_help.{f}", lang) and not (f == "offset" and "grading" in flags)
    )
    if helps:
        y = page.below(page.text(left, y, helps, 9, width, color="#333333"), 0.006)
    each = "  ·  ".join(
        f"{t('action.model', lang, model=d.model) if d.model else ''}"
        f"{dimension_label(d.dimension, lang)}: {verdict_words(d.verdict, lang)}"
        for d in (finding.models or finding.dimensions)
    )
    return page.below(page.text(left, y, each, 8.5, width, color="#333333"), 0.01)


def _footer(page: _Page, analysis: Analysis, main: DimensionFinding | None, lang: str) -> float:
    """Draw the footer bottom up: the version line, the reference table with its status
    (and, for the main dimension, its size system, nominal and tolerance; the long
    source stands in the report), then the signature box; return the height above."""
    fig = page.fig
    version = fig.text(
        _RIGHT,
        _BOTTOM,
        t(
            "card.footer",
            lang,
            version=analysis.version,
            created=format_date(analysis.created, lang),
        ),
        fontsize=6.5,
        ha="right",
        va="bottom",
        color="#777777",
    )
    table = analysis.table
    status_key = f"table_status.{table.status}"
    status = t(status_key, lang) if has_key(status_key, lang) else table.status
    ref_text = t("card.reference", lang, name=table.name, status=status)
    if table.status != "official":
        ref_text += " " + t("card.not_sni", lang)
    if main is not None:
        ref_text = " ".join(table.describe(lang, [main.dimension])) + " " + ref_text
    ref = page.text(_LEFT, 0.0, ref_text, 6.5, _RIGHT - _LEFT, color="#333333")
    ref.set_verticalalignment("bottom")
    ref.set_y(float(page.extent(version).y1) + 0.004)
    return _signature_box(page, lang, float(page.extent(ref).y1) + 0.008) + 0.012


@dataclass(frozen=True)
class _Charts:
    """The card's two charts and what each draws above and below its plot area
    (figure fraction; measured once, at the charts' preferred size)."""

    ladder: Axes
    second: Axes
    ladder_decor: tuple[float, float]
    second_decor: tuple[float, float]


def _charts(
    page: _Page, analysis: Analysis, producer: str, main: DimensionFinding | None, lang: str
) -> _Charts | None:
    """The size ladder of the main dimension and, beside the key numbers, its control
    chart (when it changed over time) or its effective-size chart, drawn at their
    preferred size; ``None`` when there is no main dimension."""
    if main is None:
        return None
    fig, dim = page.fig, main.dimension
    ladder = fig.add_axes((0.1, 0.5, 0.78, _LADDER_H))
    deviations, sizes = chart_data(analysis, main)
    model = t("action.model", lang, model=main.model) if main.model else ""
    title = t("chart.ladder.title", lang, producer="", dimension=model + dimension_label(dim, lang))
    plot_size_ladder(deviations, producer=producer, dimension=dim, size_summary=sizes,
                     lang=lang, title=title.strip(), ax=ladder)  # fmt: skip
    old = ladder.get_legend()
    if old is not None:
        ladder.legend(
            handles=old.legend_handles,
            labels=[txt.get_text() for txt in old.texts],
            loc="upper center",
            ncol=3,
            fontsize=7.5,
        )
        _legend_below(page, ladder)
    second = fig.add_axes((0.1, 0.2, 0.37, _SECOND_H))
    if main.change is not None or "drift" in main.flags:
        plot_control_chart(analysis.control_points, producer=producer, dimension=dim,
                           signals=analysis.signals, lang=lang,
                           title=t("card.control_title", lang), legend=False,
                           ax=second)  # fmt: skip
    else:
        plot_effective_size(sizes, dimension=dim, producer=producer, lang=lang,
                            title=t("card.effective_title", lang), legend=False,
                            ax=second)  # fmt: skip
    second.title.set_fontsize(9.5)
    for ax in (ladder, second):
        _fit_ylabel(page, ax)
    return _Charts(ladder, second, _decor(page, ladder), _decor(page, second))


@dataclass
class _Body:
    """The key numbers and the actions written at one density of :data:`_DENSITIES`
    (their texts drawn at y = 0 until :func:`_place` moves them), the heights they need
    and the charts' heights that go with them (``None``: the charts do not fit)."""

    keys: list[Text]
    heading: Text
    items: list[tuple[Text, Text]]
    more: Text | None
    key_h: float
    act_h: float
    chart_h: tuple[float, float] | None
    need_h: float

    def remove(self) -> None:
        items = [a for item in self.items for a in item]
        for artist in [*self.keys, self.heading, *items, *([self.more] if self.more else [])]:
            artist.remove()


#: Left edge of the key numbers beside the second chart (figure fraction).
_KEY_X = 0.54


def _card_lines(finding: Finding, lang: str) -> tuple[list[str], list[str], bool]:
    """The key numbers and the actions a card writes (at most :data:`_MAX_KEYS` and
    :data:`_MAX_ACTIONS`, the most important first), and whether the report has more."""
    main = finding.headline
    keys, left_out = key_lines(main, lang, _MAX_KEYS) if main is not None else ([], False)
    todo = action_texts(finding, lang, limit=_MAX_ACTIONS)
    return keys, todo, left_out or len(finding.actions) > len(todo)


def _fit_body(
    page: _Page, charts: _Charts | None, finding: Finding, lang: str, room: tuple[float, float]
) -> _Body:
    """The key numbers and actions at the largest density of :data:`_DENSITIES` at which
    they fit with the charts between ``room`` = (top, floor); at the densest when none
    does. The fit only gets easier as the fonts get smaller, so the density is found by
    bisection: at most three densities are written and measured, not all four. At most
    :data:`_MAX_KEYS` key numbers and :data:`_MAX_ACTIONS` actions are written, and a
    line saying that the report has the others when there are more; at the densest,
    actions and then key numbers are left out until the page fits."""
    lines, todo, more = _card_lines(finding, lang)
    top, floor = room

    def fits(body: _Body) -> bool:
        # the charts shrunk to the room leave need_h equal to it, up to rounding
        return (body.chart_h is not None or charts is None) and body.need_h <= top - floor + 1e-9

    lo, hi = 0, len(_DENSITIES) - 1  # the answer lies in [lo, hi]
    best: _Body | None = None
    while lo < hi:
        mid = (lo + hi) // 2
        body = _write_body(page, charts, lines, todo, lang, mid, top - floor, more=more)
        if fits(body):
            if best is not None:
                best.remove()
            best, hi = body, mid
        else:
            body.remove()
            lo = mid + 1
    if best is None:
        best = _write_body(page, charts, lines, todo, lang, lo, top - floor, more=more)
    # At the densest, texts that still do not fit give way: the last action, then the
    # last key number (never below one of each; the report has them all).
    while not fits(best) and (len(todo) > 1 or len(lines) > 1):
        best.remove()
        todo, lines = (todo[:-1], lines) if len(todo) > 1 else (todo, lines[:-1])
        best = _write_body(page, charts, lines, todo, lang, lo, top - floor, more=True)
    return best


def _write_body(
    page: _Page,
    charts: _Charts | None,
    lines: list[str],
    todo: list[str],
    lang: str,
    density: int,
    room: float,
    *,
    more: bool = False,
) -> _Body:
    """Write the key numbers and the actions at ``_DENSITIES[density]`` and work out the
    charts' heights for the ``room`` (figure fraction) left between header and footer:
    the preferred heights, else shorter in proportion down to the smallest, else (at the
    densest only) the ladder gives way further."""
    act_size, key_size = _DENSITIES[density]
    last = density == len(_DENSITIES) - 1
    fig, left, right = page.fig, _LEFT, _RIGHT
    width = right - left
    keys: list[Text] = []
    key_h = 0.0
    if lines:
        kt = page.text(_KEY_X, 0.0, t("card.key_numbers", lang), 11, right - _KEY_X,
                       fontweight="bold")  # fmt: skip
        keys.append(kt)
        key_h = page.height(kt)
        for line in lines:
            bt = page.text(_KEY_X, 0.0, "• " + line, key_size, right - _KEY_X)
            keys.append(bt)
            key_h += 0.004 + page.height(bt)
    heading = page.text(left, 0.0, t("card.actions", lang), 13, width, fontweight="bold")
    act_h = page.height(heading) + 0.006
    items: list[tuple[Text, Text]] = []
    for i, text in enumerate(todo, start=1):
        if last:
            text = textwrap.shorten(text, 400, placeholder="…")
        num = fig.text(left, 0.0, f"{i}.", fontsize=act_size, fontweight="bold", va="top")
        body = page.text(left + 0.035, 0.0, text, act_size, width - 0.035)
        items.append((num, body))
        act_h += page.height(body) + 0.01
    note = None
    if more:  # the card's lines were cut: the report has them all
        note = page.text(left, 0.0, t("card.more", lang), act_size, width, color="#444444",
                         fontstyle="italic")  # fmt: skip
        act_h += page.height(note) + 0.004
    if charts is None:
        return _Body(keys, heading, items, note, key_h, act_h, None, act_h)
    la, lb = charts.ladder_decor
    sa, sb = charts.second_decor
    free = room - act_h - la - lb - sa - sb - 0.04
    want = _LADDER_H + _SECOND_H
    chart_h: tuple[float, float] | None = None
    if free >= want:
        chart_h = (_LADDER_H, _SECOND_H)
    elif free >= _LADDER_MIN + _SECOND_MIN or last:
        share = max(free - _LADDER_MIN - _SECOND_MIN, 0.0) / (want - _LADDER_MIN - _SECOND_MIN)
        chart_h = (
            _LADDER_MIN + share * (_LADDER_H - _LADDER_MIN),
            _SECOND_MIN + share * (_SECOND_H - _SECOND_MIN),
        )
    need_h = act_h
    if chart_h is not None:
        need_h = la + chart_h[0] + lb + 0.02 + max(sa + chart_h[1] + sb, key_h) + 0.02 + act_h
        if last and need_h > room:  # the densest texts: the ladder gives way
            ladder = max(_LADDER_LAST, chart_h[0] - (need_h - room))
            need_h -= chart_h[0] - ladder
            chart_h = (ladder, chart_h[1])
    return _Body(keys, heading, items, note, key_h, act_h, chart_h, need_h)


def _place(page: _Page, charts: _Charts | None, body: _Body, y: float) -> None:
    """Move the charts, the key numbers beside the second chart and the actions under
    them into place, from ``y`` (under the header) down."""
    if charts is not None and body.chart_h is not None:
        h_ladder, h_second = body.chart_h
        (la, lb), (sa, sb) = charts.ladder_decor, charts.second_decor
        top = y - la
        charts.ladder.set_position((0.1, top - h_ladder, 0.78, h_ladder))
        y = top - h_ladder - lb - 0.02
        charts.second.set_position((0.1, y - sa - h_second, 0.37, h_second))
        yk = y
        for artist in body.keys:
            artist.set_y(yk)
            yk = page.below(artist, 0.004)
        for ax, limit in ((charts.ladder, _RIGHT), (charts.second, _KEY_X - 0.03)):
            _fit_ylabel(page, ax)
            _fit_across(page, ax, _LEFT, limit)
            fix_ticks(ax)  # size and limits final: the ticks the PDF draws, written once
        _legend_below(page, charts.ladder)
        y = min(y - sa - h_second - sb, yk) - 0.02
    body.heading.set_y(y)
    y = page.below(body.heading, 0.006)
    for num, text in body.items:
        num.set_y(y)
        text.set_y(y)
        y = page.below(text, 0.01)
    if body.more is not None:
        body.more.set_y(y + 0.006 if body.items else y)


def render_card(
    analysis: Analysis, producer: str, *, lang: str = "en", finding: Finding | None = None
) -> bytes:
    """One producer's A4 card as PDF bytes (one page).

    Parameters
    ----------
    analysis : Analysis
    producer : str
    lang : {"en", "id"}, default "en"
    finding : Finding, optional
        The producer's finding; default ``analysis.findings[producer]``.

    Returns
    -------
    bytes
        A one-page PDF document.
    """
    buf = io.BytesIO()
    with house_style():
        fig = card_figure(analysis, producer, lang=lang, finding=finding)
        metadata = {"Title": f"sizecheck — {producer}", "Creator": f"sizecheck {analysis.version}"}
        with PdfPages(buf, metadata=metadata) as pdf:
            pdf.savefig(fig)
    return buf.getvalue()
