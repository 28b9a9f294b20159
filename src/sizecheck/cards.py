"""Printable drift cards: one A4 page per producer for mentors (pure: returns PDF bytes).

A card is what a penyuluh hands a workshop owner: the producer's name, the date, the verdict
in words, the size ladder and the effective-size chart of its main length dimension, the
two or three actions that matter, and the reference table used with its status and source.
Built with :class:`matplotlib.figure.Figure` (no pyplot), so thousands can be rendered in
one process without leaking figures.
"""

from __future__ import annotations

import io
import textwrap
from typing import TYPE_CHECKING, Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sizecheck.findings import (
    actions,
    drift_since,
    finding_lines,
    main_dimension,
    verdict_words,
)
from sizecheck.i18n import check_lang, dimension_label, format_date, has_key, t
from sizecheck.plotting import plot_control_chart, plot_effective_size, plot_size_ladder
from sizecheck.plotting.style import house_style

if TYPE_CHECKING:
    from sizecheck.pipeline import Analysis

__all__ = ["A4_INCHES", "card_figure", "render_card"]

#: A4 portrait in inches (210 × 297 mm).
A4_INCHES: tuple[float, float] = (210 / 25.4, 297 / 25.4)

_WRAP = 105  # characters per line of body text at 9 pt across the page


def _wrap(text: str, width: int = _WRAP) -> str:
    return "\n".join(textwrap.fill(p, width) for p in str(text).splitlines() or [""])


def _plain(text: object) -> str:
    return str(text).replace("$", r"\$")


def _line_height(fontsize: float, spacing: float = 1.3) -> float:
    """Height of one text line as a fraction of the A4 page height."""
    return fontsize * spacing / 72.0 / A4_INCHES[1]


def card_figure(analysis: Analysis, producer: str, *, lang: str = "en") -> Figure:
    """Build the card of one producer as an A4 :class:`~matplotlib.figure.Figure`.

    The second chart is the effective-size chart, or the control chart when the main
    dimension's verdict is ``drift`` (a shift in time does not show on a size chart).

    Parameters
    ----------
    analysis : Analysis
    producer : str
        One of ``analysis.producers``.
    lang : {"en", "id"}, default "en"

    Returns
    -------
    Figure
    """
    lang = check_lang(lang)
    fig = Figure(figsize=A4_INCHES)
    ps = analysis.producer_summary
    rows = ps.loc[ps["producer"].astype("str") == str(producer)]
    dim = main_dimension(ps, producer)
    left, right = 0.07, 0.93

    def block(y: float, text: str, size: float, width: int, *, x: float = left, **kw: Any) -> float:
        """Write wrapped text with its top at ``y``; return the y below it."""
        wrapped = _wrap(_plain(text), width)
        fig.text(x, y, wrapped, fontsize=size, va="top", linespacing=1.3, **kw)
        return y - _line_height(size) * (wrapped.count("\n") + 1)

    y = 0.975
    if analysis.synthetic:
        fig.text(
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
        y -= 0.032
    fig.text(
        right,
        y,
        t("card.date", lang, date=format_date(analysis.created, lang)),
        fontsize=9,
        ha="right",
        va="top",
        color="#444444",
    )
    y = block(y, t("card.title", lang), 10, 60, color="#444444")
    y = block(
        y - 0.004, textwrap.shorten(str(producer), 70, placeholder="…"), 18, 60, fontweight="bold"
    )
    y -= 0.012
    if dim is not None:
        row = rows.loc[rows["dimension"].astype("str") == dim].iloc[0]
        flags = [f for f in str(row["verdict"]).split("+") if f]
        y = block(y, t("card.verdict", lang), 9.5, 100, color="#444444")
        y = block(
            y,
            f"{dimension_label(dim, lang)}: {verdict_words(row['verdict'], lang)}",
            13.5,
            68,
            fontweight="bold",
        )
        helps = " ".join(
            t(f"verdict_help.{f}", lang)
            for f in flags
            if has_key(f"verdict_help.{f}", lang) and not (f == "offset" and "grading" in flags)
        )
        y = block(y - 0.003, helps, 9, 110, color="#333333")

        top = y - 0.035  # room for the chart title
        ax_ladder = fig.add_axes((0.1, top - 0.25, 0.78, 0.25))
        plot_size_ladder(
            analysis.deviations,
            producer=producer,
            dimension=dim,
            size_summary=analysis.size_summary,
            lang=lang,
            title=t(
                "chart.ladder.title", lang, producer="", dimension=dimension_label(dim, lang)
            ).strip(),
            ax=ax_ladder,
        )
        old = ax_ladder.get_legend()
        if old is not None:
            ax_ladder.legend(
                handles=old.legend_handles,
                labels=[txt.get_text() for txt in old.texts],
                loc="upper center",
                bbox_to_anchor=(0.5, -0.14),
                ncol=3,
                fontsize=7.5,
            )
        y = top - 0.25 - 0.085

        ax2 = fig.add_axes((0.1, y - 0.03 - 0.19, 0.37, 0.19))
        if "drift" in flags:
            plot_control_chart(
                analysis.control_points,
                producer=producer,
                dimension=dim,
                signals=analysis.signals,
                lang=lang,
                title=t("card.control_title", lang),
                legend=False,
                ax=ax2,
            )
        else:
            plot_effective_size(
                analysis.size_summary,
                dimension=dim,
                producer=producer,
                lang=lang,
                title=t("card.effective_title", lang),
                legend=False,
                ax=ax2,
            )
        ax2.title.set_fontsize(9.5)
        try:
            step = analysis.table.grade_step(dim)
        except Exception:
            step = None
        lines = finding_lines(
            row,
            lang=lang,
            grade_step=step,
            drift_since=drift_since(analysis.control_points, producer, dim),
        )
        yk = block(y, t("card.key_numbers", lang), 11, 50, x=0.54, fontweight="bold")
        for line in lines:
            yk = block(yk - 0.004, "• " + line, 8.3, 54, x=0.54)
        y = min(y - 0.03 - 0.19 - 0.07, yk - 0.015)
    # Actions
    y = block(y, t("card.actions", lang), 13, 60, fontweight="bold") - 0.006
    for i, text in enumerate(actions(analysis, producer, lang=lang), start=1):
        fig.text(left, y, f"{i}.", fontsize=10.5, fontweight="bold", va="top")
        y = block(y, text, 10.5, 88, x=left + 0.035) - 0.01
    # Reference and footer
    table = analysis.table
    status_key = f"table_status.{table.status}"
    status = t(status_key, lang) if has_key(status_key, lang) else table.status
    ref = t("card.reference", lang, name=table.name, status=status, source=table.source)
    if table.status != "official":
        ref += " " + t("card.not_sni", lang)
    fig.text(left, 0.08, _wrap(_plain(ref), 165), fontsize=6.5, va="top", color="#333333")
    fig.text(
        right,
        0.015,
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
    return fig


def render_card(analysis: Analysis, producer: str, *, lang: str = "en") -> bytes:
    """One producer's A4 card as PDF bytes (one page).

    Parameters
    ----------
    analysis : Analysis
    producer : str
    lang : {"en", "id"}, default "en"

    Returns
    -------
    bytes
        A one-page PDF document.
    """
    buf = io.BytesIO()
    with house_style():
        fig = card_figure(analysis, producer, lang=lang)
        metadata = {"Title": f"sizecheck — {producer}", "Creator": f"sizecheck {analysis.version}"}
        with PdfPages(buf, metadata=metadata) as pdf:
            pdf.savefig(fig)
    return buf.getvalue()
