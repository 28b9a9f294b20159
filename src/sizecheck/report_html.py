"""report.html: one self-contained page for the whole cluster (pure: returns a string).

The page embeds its charts as base64 data URIs (lossless WebP from
:func:`sizecheck.plotting.layout.encode_chart`; PNG is accepted too) and its CSS inline;
it needs no network, prints on A4 (each producer on its own page), and reads on a phone.
A small inline script, without which the page reads the same, makes the producer table
sortable and filterable and opens a clicked chart at full size. Every value from the
data (producer names, file names, reject values) is HTML-escaped by Jinja2's
autoescaping, after its bidirectional overrides and control characters are made visible
(``[U+202E]``).

Charts are passed in as ``images``, a mapping from :func:`chart_key` to image bytes; a chart
missing from the mapping is simply not shown, so the page can be rendered without any.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from sizecheck.escaping import page_environment
from sizecheck.findings import (
    DimensionFinding,
    Finding,
    action_texts,
    finding_for,
    finding_lines,
    headline_text,
    lot_sentence,
    render,
    size_text,
    verdict_flags,
    verdict_words,
)
from sizecheck.i18n import (
    check_lang,
    dimension_label,
    format_date,
    format_number,
    has_key,
    note_text,
    t,
)
from sizecheck.validate import localized_rejects

if TYPE_CHECKING:
    from sizecheck.pipeline import Analysis

__all__ = [
    "CLUSTER_CHARTS",
    "MAX_REJECTS",
    "PRODUCER_CHARTS",
    "accounting_items",
    "chart_key",
    "render_html",
]

#: At most this many rejects are listed in the page (all are in rejects.csv).
MAX_REJECTS = 500

#: Cluster-level charts, per dimension, in page order.
CLUSTER_CHARTS: tuple[str, ...] = ("heatmap", "effective", "grading", "forest")

#: Per-producer charts, per dimension.
PRODUCER_CHARTS: tuple[str, ...] = ("ladder", "effective", "control", "capability")


def chart_key(kind: str, dimension: str, producer: str | None = None) -> str:
    """The key of one chart in the ``images`` mapping.

    >>> chart_key("heatmap", "insole_length")
    'cluster:heatmap:insole_length'
    >>> chart_key("ladder", "insole_length", "CV A:B")
    'producer:ladder:insole_length:CV A:B'
    """
    if producer is None:
        return f"cluster:{kind}:{dimension}"
    return f"producer:{kind}:{dimension}:{producer}"


def _data_uri(image: bytes) -> str:
    """``image`` (PNG, WebP or SVG bytes, told apart by their first bytes) as a data URI."""
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        mime = "image/webp"
    elif image.lstrip()[:1] == b"<":
        mime = "image/svg+xml"
    else:
        mime = "image/png"
    return f"data:{mime};base64," + base64.b64encode(image).decode("ascii")


def accounting_items(accounting: Any, lang: str) -> list[tuple[str, str]]:
    """The accounting as (label, number) pairs for people.

    Accepts an object with ``to_dict()``, a dataclass or a mapping; nested mappings are
    flattened with dotted keys. Known keys (``rows_read`` …) are translated.
    """
    if accounting is None:
        return []
    if hasattr(accounting, "to_dict"):
        data = accounting.to_dict()
    elif is_dataclass(accounting) and not isinstance(accounting, type):
        data = asdict(accounting)
    elif isinstance(accounting, Mapping):
        data = dict(accounting)
    else:
        return []

    out: list[tuple[str, str]] = []

    def walk(d: Mapping[str, Any], prefix: str) -> None:
        for key, value in d.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping):
                walk(value, name + ".")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                continue
            else:
                label = (
                    t(f"accounting.{name}", lang) if has_key(f"accounting.{name}", lang) else name
                )
                digits = 0 if float(value).is_integer() else 1
                out.append((label, format_number(value, lang, digits, grouping=True)))

    walk(data, "")
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _nominal_rows(table: Any, lang: str) -> dict[str, Any]:
    """The table's nominal mm per size and dimension, for the reference-table section."""
    if table.kind != "table":
        return {"heads": [], "rows": []}
    dims = list(table.dimensions)
    values = {d: table.nominal(d, list(table.sizes)) for d in dims}
    rows = [
        [size_text(size, lang)] + [format_number(values[d][i], lang, 1) for d in dims]
        for i, size in enumerate(table.sizes)
    ]
    return {"heads": [t("report.corr_size", lang)] + [dimension_label(d, lang) for d in dims],
            "rows": rows}  # fmt: skip


def _status_words(status: str, lang: str) -> str:
    key = f"table_status.{status}"
    return t(key, lang) if has_key(key, lang) else status


def _verdict_class(verdict: str) -> str:
    flags = verdict_flags(verdict)
    if flags == ["conforming"]:
        return "ok"
    if flags == ["insufficient_data"]:
        return "na"
    return "bad"


def _period(finding: Finding, lang: str) -> str:
    if finding.first_date is None:
        return ""
    return t(
        "card.period",
        lang,
        first=format_date(finding.first_date, lang),
        last=format_date(finding.last_date, lang),
    )


#: Columns of the corrections table in a producer's section (catalogue keys).
CORRECTION_HEADS: tuple[str, ...] = (
    "report.corr_size",
    "report.corr_n",
    "report.corr_nominal",
    "report.corr_mean",
    "report.corr_mm",
    "report.corr_sizes",
    "report.corr_ci",
)


def _corrections(d: DimensionFinding, lang: str) -> list[list[str]]:
    """The corrections of one dimension as table rows of text."""
    rows = []
    for c in d.corrections:
        ci = (
            f"{format_number(c.ci_low_mm, lang, 1, signed=True)} … "
            f"{format_number(c.ci_high_mm, lang, 1, signed=True)}"
        )
        rows.append(
            [
                size_text(c.size, lang),
                format_number(c.n, lang, 0),
                format_number(c.nominal_mm, lang, 1),
                format_number(c.mean_mm, lang, 1),
                format_number(c.correction_mm, lang, 1, signed=True),
                format_number(c.correction_sizes, lang, 2, signed=True),
                ci,
            ]
        )
    return rows


#: Columns of the rejects table (catalogue keys), in the order of ``reject_cols``.
REJECT_HEADS: tuple[str, ...] = (
    "report.reject_source",
    "report.reject_row",
    "report.reject_column",
    "report.reject_value",
    "report.reject_code",
    "report.reject_message",
)

#: Catalogue texts of the bundled size conventions (``sizecheck.stats.CONVENTIONS``), by
#: the part of a convention's name before ``+`` (``paris_foot+15`` -> ``paris_foot``).
CONVENTION_TEXTS: dict[str, str] = {
    "paris_last": "convention.paris_last",
    "paris_foot": "convention.paris_foot",
    "paris_shifted": "convention.paris_shifted",
    "grading_5mm": "convention.grading_5mm",
}

#: Columns of the between-producer comparison per size (catalogue keys).
COMPARISON_HEADS: tuple[str, ...] = (
    "report.comp_size",
    "report.comp_producers",
    "report.comp_lowest",
    "report.comp_highest",
    "report.comp_spread_mm",
    "report.comp_spread_sizes",
)

#: Columns of a producer's convention table (catalogue keys).
CONVENTION_HEADS: tuple[str, ...] = (
    "report.conv_dimension",
    "report.conv_convention",
    "report.conv_mean",
    "report.conv_rms",
)


def _comparison(comparison: pd.DataFrame, dimension: str, lang: str) -> list[list[str]]:
    """One dimension of ``Analysis.comparison`` ("whose 41 is whose 42") as rows of text:
    size, producers, the smallest and largest producer mean, their spread in mm and in
    sizes (the values of ``comparison.csv``, formatted)."""
    if comparison is None or comparison.empty or "spread_sizes" not in comparison.columns:
        return []
    mine = comparison.loc[comparison["dimension"].astype("str") == dimension].sort_values("size")
    rows = []
    for r in mine.to_dict(orient="records"):
        lowest = f"{r['lowest_producer']} ({format_number(r['mean_min_mm'], lang, 1)} mm)"
        highest = f"{r['highest_producer']} ({format_number(r['mean_max_mm'], lang, 1)} mm)"
        rows.append(
            [
                size_text(r["size"], lang),
                format_number(r["n_producers"], lang, 0),
                lowest,
                highest,
                format_number(r["spread_mm"], lang, 1),
                format_number(r["spread_sizes"], lang, 2),
            ]
        )
    return rows


def _convention_text(row: Mapping[Any, Any], lang: str) -> str:
    """The convention of one ``conventions.csv`` row in ``lang``: a catalogue text for the
    bundled conventions (:data:`CONVENTION_TEXTS`), else the row's own description."""
    from sizecheck.stats import CONVENTIONS

    name = str(row["convention"])
    known = {c.name: c for c in CONVENTIONS}
    key = CONVENTION_TEXTS.get(name.split("+")[0], "")
    if name not in known or not key or not has_key(key, lang):
        return str(row.get("description", name))
    shift = row.get("fitted_shift_mm")
    return t(
        key,
        lang,
        allowance=format_number(known[name].allowance_mm, lang, 1),
        shift=format_number(shift, lang, 1, signed=True) if _cell(shift) else "",
    )


def _conventions(rows: pd.DataFrame, lang: str) -> list[list[str]]:
    """A producer's size convention per dimension, as the model-based ``choice`` of
    ``Analysis.conventions`` (:func:`sizecheck.stats.find_conventions`) has it, as rows
    of text: the chosen convention ("none fits" when even it lies outside the
    tolerance), "undecided" between the candidates within ΔAIC 2 (none is claimed), or
    none when the producer's own line explains the lengths better. The residuals are
    those of the candidate with the lowest AIC."""
    out = []
    frame = rows.loc[rows["choice"].astype("str") != ""] if "choice" in rows.columns else rows[:0]
    for dimension, group in frame.groupby(frame["dimension"].astype("str"), sort=False):
        group = group.sort_values("delta_aic", kind="stable")
        first = group.iloc[0].to_dict()
        names = [_convention_text(r, lang) for r in group.to_dict(orient="records")]
        if first["choice"] == "no_convention":
            text = t("report.conv_no_convention", lang, closest=names[0])
        elif first["choice"] == "undecided":
            text = t("report.conv_undecided", lang, names="; ".join(names))
        elif bool(first.get("fits")):
            text = names[0]
        else:
            text = t("report.conv_none_fits", lang, closest=names[0])
        out.append(
            [
                dimension_label(dimension, lang),
                text,
                format_number(first["mean_residual_mm"], lang, 1, signed=True),
                format_number(first["rms_residual_mm"], lang, 1),
            ]
        )
    return out


def _dimension_block(
    d: DimensionFinding, producer: str, main: str | None, lang: str, img: Any
) -> dict[str, Any]:
    """One dimension (or model × dimension) of a producer's section."""
    flags = d.flags
    charts: list[str | None] = []
    if not d.model:
        charts.append(img(chart_key("ladder", d.dimension, producer)))
        if flags == ("insufficient_data",) and d.dimension != main:
            charts = []
        if d.dimension == main:
            charts.append(img(chart_key("effective", d.dimension, producer)))
        if "drift" in flags or d.drift_signals > 0:
            charts.append(img(chart_key("control", d.dimension, producer)))
        if "scatter" in flags:
            charts.append(img(chart_key("capability", d.dimension, producer)))
    acted = bool({"offset", "grading", "drift"} & set(flags))
    return {
        "label": dimension_label(d.dimension, lang),
        "model": d.model,
        "verdict": verdict_words(d.verdict, lang),
        "cls": _verdict_class(d.verdict),
        "lines": finding_lines(d, lang),
        "charts": [c for c in charts if c],
        "corrections": _corrections(d, lang) if "insufficient_data" not in flags else [],
        "corrections_open": acted,
        "since": format_date(d.change.date, lang) if d.change is not None else "",
    }


#: Columns of the cluster table (catalogue keys).
CLUSTER_HEADS: tuple[str, ...] = (
    "report.cluster_dim",
    "report.cluster_producers",
    "report.cluster_between",
    "report.cluster_icc",
    "report.cluster_share",
)


def _cluster_rows(analysis: Analysis, lang: str) -> list[list[str]]:
    """One row per dimension of ``cluster_summary.csv``: the figures with their 95 %
    intervals, in words of ``lang`` (nothing computed here)."""
    cluster = getattr(analysis, "cluster", None)
    if cluster is None:
        return []

    def with_ci(value: float, low: float, high: float, digits: int, scale: float = 1.0) -> str:
        unit = " %" if scale != 1.0 else ""
        shown = format_number(value * scale, lang, digits) + unit
        if pd.isna(low) or pd.isna(high):
            return shown
        low_text = format_number(low * scale, lang, digits)
        return f"{shown} ({low_text}–{format_number(high * scale, lang, digits)}{unit})"

    return [
        [
            dimension_label(str(r.dimension), lang),
            format_number(int(r.n_producers), lang, 0),
            with_ci(r.between_sd_mm, r.between_ci_low_mm, r.between_ci_high_mm, 1),
            with_ci(r.icc, r.icc_ci_low, r.icc_ci_high, 2),
            with_ci(r.share_missized, r.share_ci_low, r.share_ci_high, 0, 100.0),
        ]
        for r in cluster.summary.itertuples(index=False)
    ]


def _cluster_producers(analysis: Analysis) -> int:
    """The most producers any dimension of the cluster summary has (0 without one)."""
    cluster = getattr(analysis, "cluster", None)
    if cluster is None or not len(cluster.summary):
        return 0
    return int(cluster.summary["n_producers"].max())


#: Columns of a producer's lot table (catalogue keys).
LOT_HEADS: tuple[str, ...] = (
    "lots.lot",
    "lots.dimension",
    "lots.decision",
    "lots.measured",
    "lots.out",
)

#: A lot's decision in words (catalogue keys) and its class on the page.
LOT_DECISIONS: Mapping[str, tuple[str, str]] = {
    "accept": ("lots.accept", "ok"),
    "reject": ("lots.reject", "bad"),
    "under_sampled": ("lots.under_sampled", "na"),
}


def _lot_rows(finding: Finding, lang: str) -> list[tuple[list[str], str]]:
    """A producer's judged lots as table rows (words), with the verdict class."""
    return [
        (
            [
                r.lot,
                dimension_label(r.dimension, lang),
                t(LOT_DECISIONS[r.decision][0], lang),
                format_number(r.n_measured, lang, 0),
                format_number(r.n_out, lang, 0),
            ],
            LOT_DECISIONS[r.decision][1],
        )
        for r in finding.lots
    ]


def _lot_summary(finding: Finding, lang: str) -> str:
    sentence = lot_sentence(finding.lots)
    return render(sentence, lang) if sentence is not None else ""


def _summary_row(
    finding: Finding, anchor: str, headline: str, dims: Sequence[str], lang: str
) -> dict[str, Any]:
    """A producer's row of the summary table: its headline and a verdict per dimension."""
    by_dim = {d.dimension: d for d in finding.dimensions}
    n_most = max((d.n for d in finding.dimensions), default=0)
    return {
        "anchor": anchor,
        "name": finding.producer,
        "n": format_number(n_most, lang, 0),
        "n_raw": n_most,
        "headline": headline,
        "cells": [
            (verdict_words(by_dim[d].verdict, lang), _verdict_class(by_dim[d].verdict))
            if d in by_dim
            else ("", "")
            for d in dims
        ],
    }


def _producer_section(
    finding: Finding,
    anchor: str,
    headline: str,
    img: Callable[[str], str | None],
    lang: str,
) -> dict[str, Any]:
    """A producer's section of the page: headline, period, actions, lots, dimensions."""
    main = finding.headline.dimension if finding.headline else None
    blocks = [
        _dimension_block(d, finding.producer, main, lang, img)
        for d in (*finding.dimensions, *finding.models)
    ]
    return {
        "anchor": anchor,
        "name": finding.producer,
        "headline": headline,
        "period": _period(finding, lang),
        "actions": action_texts(finding, lang),
        "lots": _lot_rows(finding, lang),
        "lot_summary": _lot_summary(finding, lang),
        "dims": [b for b in blocks if not b["model"]],
        "models": [b for b in blocks if b["model"]],
    }


def render_html(
    analysis: Analysis,
    *,
    lang: str = "en",
    images: Mapping[str, bytes] | None = None,
) -> str:
    """Render the whole report as one self-contained HTML5 page.

    Parameters
    ----------
    analysis : Analysis
        The computed analysis (:func:`sizecheck.pipeline.analyse`).
    lang : {"en", "id"}, default "en"
    images : mapping of str to bytes, optional
        Charts (WebP, PNG or SVG bytes) by :func:`chart_key`; embedded as data URIs.
        Missing charts are left out.

    Returns
    -------
    str
        The page (UTF-8 text).
    """
    lang = check_lang(lang)
    images = images or {}

    def img(key: str) -> str | None:
        png = images.get(key)
        return _data_uri(png) if png else None

    ps = analysis.producer_summary
    dims = sorted(ps["dimension"].astype("str").unique().tolist()) if not ps.empty else []
    length_first = sorted(dims, key=lambda d: (d not in ("insole_length", "last_length"), d))
    findings = [finding_for(analysis, p) for p in analysis.producers]
    context = {
        "lang": lang,
        "tr": lambda key, **kw: t(key, lang, **kw),
        **_heading_context(analysis, findings, lang),
        **_producers_context(analysis, findings, length_first, img, lang),
        **_cluster_context(analysis, length_first, img, lang),
        "table": _table_context(analysis.table, lang),
        **_inputs_context(analysis, lang),
        **_rejects_context(analysis, lang),
    }
    return page_environment().get_template("report.html.j2").render(**context)


def _heading_context(analysis: Analysis, findings: Sequence[Finding], lang: str) -> dict[str, Any]:
    """The page's heading: synthetic banner, date, version, report info, measured period."""
    info = getattr(analysis, "report_info", None)
    dated = [f for f in findings if f.first_date is not None]
    period = (
        t(
            "workbook.report.period",
            lang,
            first=format_date(min(pd.Timestamp(f.first_date) for f in dated), lang),
            last=format_date(max(pd.Timestamp(f.last_date) for f in dated), lang),
        )
        if dated
        else ""
    )
    return {
        "synthetic": bool(analysis.synthetic),
        "created": format_date(analysis.created, lang),
        "version": analysis.version,
        "info": {
            "title": getattr(info, "title", ""),
            "office": getattr(info, "office", ""),
            "report_no": getattr(info, "report_no", ""),
        },
        "period": period,
    }


def _producers_context(
    analysis: Analysis,
    findings: Sequence[Finding],
    dims: Sequence[str],
    img: Callable[[str], str | None],
    lang: str,
) -> dict[str, Any]:
    """The summary table (a row per producer, a verdict per dimension) and the sections."""
    conventions = analysis.conventions
    by_producer = (
        dict(tuple(conventions.groupby(conventions["producer"].astype("str"), sort=False)))
        if conventions is not None and not conventions.empty and "choice" in conventions.columns
        else {}
    )
    summary_rows = []
    sections = []
    for idx, (producer, finding) in enumerate(zip(analysis.producers, findings, strict=True)):
        anchor, headline = f"p{idx + 1}", headline_text(finding, lang)
        summary_rows.append(_summary_row(finding, anchor, headline, dims, lang))
        section = _producer_section(finding, anchor, headline, img, lang)
        section["conventions"] = (
            _conventions(by_producer[producer], lang) if producer in by_producer else []
        )
        sections.append(section)
    return {
        "n_producers": len(analysis.producers),
        "dim_labels": [dimension_label(d, lang) for d in dims],
        "summary_rows": summary_rows,
        "verdict_help": [
            (t(f"verdict.{v}", lang), t(f"verdict_help.{v}", lang))
            for v in (
                "conforming",
                "offset",
                "grading",
                "scatter",
                "drift",
                "pair_mismatch",
                "insufficient_data",
            )
        ],
        "correction_heads": [t(k, lang) for k in CORRECTION_HEADS],
        "comparison_heads": [t(k, lang) for k in COMPARISON_HEADS],
        "convention_heads": [t(k, lang) for k in CONVENTION_HEADS],
        "lot_heads": [t(k, lang) for k in LOT_HEADS],
        "sections": sections,
    }


def _cluster_context(
    analysis: Analysis, dims: Sequence[str], img: Callable[[str], str | None], lang: str
) -> dict[str, Any]:
    """The cluster part: charts and comparison per dimension, the cluster summary table."""
    from sizecheck.pipeline import CLUSTER_MIN_PRODUCERS

    cluster = []
    for d in dims:
        charts = [img(chart_key(k, d)) for k in CLUSTER_CHARTS]
        cluster.append(
            {
                "label": dimension_label(d, lang),
                "charts": [c for c in charts if c],
                "comparison": _comparison(analysis.comparison, d, lang),
            }
        )
    return {
        "cluster": cluster,
        "cluster_rows": _cluster_rows(analysis, lang),
        "cluster_heads": [t(k, lang) for k in CLUSTER_HEADS],
        "cluster_min": CLUSTER_MIN_PRODUCERS,
        "cluster_missing": getattr(analysis, "cluster", None) is None
        and bool(getattr(analysis, "cluster_left_out", {})),
        "cluster_producers": _cluster_producers(analysis),
    }


def _table_context(table: Any, lang: str) -> dict[str, Any]:
    """The reference table's section: name, title, status, source, notes, nominal values."""
    return {
        "name": table.name,
        "title": table.text("title", lang),
        "status": _status_words(table.status, lang),
        "official": table.status == "official",
        "source": table.text("source", lang),
        "notes": table.text("notes", lang),
        "describe": table.describe(lang),
        "nominal": _nominal_rows(table, lang),
    }


def _inputs_context(analysis: Analysis, lang: str) -> dict[str, Any]:
    """What was read and how: files with checksums, notes, accounting, lot plan, gage."""
    from sizecheck.gage import gage_sentence
    from sizecheck.sampling import plan_words

    return {
        "inputs": [(f.source, f.sha256) for f in analysis.inputs],
        "read_notes": [note_text(n, lang) for n in analysis.notes],
        "accounting": accounting_items(analysis.accounting, lang),
        "missing_dimensions": ", ".join(
            dimension_label(d, lang) for d in analysis.missing_dimensions
        ),
        "lot_plan": plan_words(analysis.lot_plan, lang) if analysis.lot_plan is not None else [],
        "gage": gage_sentence(analysis.gage, lang) if analysis.gage is not None else "",
    }


def _rejects_context(analysis: Analysis, lang: str) -> dict[str, Any]:
    """The rejected cells and rows, the first :data:`MAX_REJECTS` in words of ``lang``."""
    rejects = analysis.rejects if analysis.rejects is not None else pd.DataFrame()
    reject_cols = ["source", "row", "column", "value", "code", "message"]  # REJECT_HEADS
    shown = localized_rejects(rejects.head(MAX_REJECTS), lang)
    return {
        "reject_heads": [t(k, lang) for k in REJECT_HEADS],
        "reject_rows": [
            [_cell(r.get(c)) for c in reject_cols] for r in shown.to_dict(orient="records")
        ],
        "rejects_total": len(rejects),
        "rejects_capped": len(rejects) > MAX_REJECTS,
        "max_rejects": MAX_REJECTS,
    }
