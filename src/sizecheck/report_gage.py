"""Writing the outputs of ``sizecheck gage``, and the study template.

:func:`write_gage` writes ``gage.csv``, ``gage.json``, ``rejects.csv``, ``charts/gage_*.png``
and ``gage.html`` (one self-contained page in the report language) into one folder and
returns the paths; :func:`render_gage_html` renders the page as a string;
:func:`write_gage_template` writes an empty study sheet laid out for parts × operators ×
trials. Nothing is written outside the folder or path given.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sizecheck.columns import GAGE as GAGE_COLUMNS
from sizecheck.columns import REJECTS as REJECT_COLUMNS
from sizecheck.errors import UsageError
from sizecheck.escaping import page_environment
from sizecheck.i18n import check_lang, dimension_label, format_date, format_number, t
from sizecheck.validate import localized_rejects

if TYPE_CHECKING:
    import pandas as pd

    from sizecheck.gage import GageAnalysis, GageStudy

__all__ = [
    "COLUMN_KEYS",
    "COMPONENT_KEYS",
    "GAGE_CHARTS",
    "GAGE_FILES",
    "render_gage_charts",
    "render_gage_html",
    "write_gage",
    "write_gage_template",
]

#: The files ``write_gage`` writes (besides ``charts/``).
GAGE_FILES: tuple[str, ...] = ("gage.csv", "gage.json", "rejects.csv", "gage.html")

#: The charts, by name: ``charts/gage_<name>.png``.
GAGE_CHARTS: tuple[str, ...] = ("components", "by_part", "by_operator", "ranges")

_CHART_SIZES = {
    "components": (7.0, 4.4),
    "by_part": (7.0, 4.2),
    "by_operator": (6.0, 4.2),
    "ranges": (8.0, 4.4),
}

#: Catalogue keys of the rows and columns of the gage tables (literal, so that the
#: catalogue test sees them used); the CLI prints the same words.
COMPONENT_KEYS = {
    "repeatability": "gage.source.repeatability",
    "reproducibility": "gage.source.reproducibility",
    "operator": "gage.source.operator",
    "operator_x_part": "gage.source.operator_x_part",
    "gage_rr": "gage.source.gage_rr",
    "part_to_part": "gage.source.part_to_part",
    "total": "gage.source.total",
    "part": "gage.source.part",
}
COLUMN_KEYS = {
    "variance_mm2": "gage.col.variance_mm2",
    "pct_contribution": "gage.col.pct_contribution",
    "sd_mm": "gage.col.sd_mm",
    "study_var_mm": "gage.col.study_var_mm",
    "pct_study_var": "gage.col.pct_study_var",
    "pct_tolerance": "gage.col.pct_tolerance",
    "df": "gage.col.df",
    "ss": "gage.col.ss",
    "ms": "gage.col.ms",
    "f": "gage.col.f",
    "p": "gage.col.p",
}
_DIGITS = {
    "variance_mm2": 4,
    "pct_contribution": 1,
    "sd_mm": 3,
    "study_var_mm": 2,
    "pct_study_var": 1,
    "pct_tolerance": 1,
    "df": 0,
    "ss": 4,
    "ms": 4,
    "f": 2,
    "p": 3,
}


def _csv(frame: pd.DataFrame, cols: Sequence[str]) -> bytes:
    text: str = frame.loc[:, list(cols)].to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


def _png(plot: Any, figsize: tuple[float, float], dpi: int, **kwargs: Any) -> bytes:
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    plot(ax=fig.add_subplot(), **kwargs)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def render_gage_charts(
    analysis: GageAnalysis, *, lang: str = "en", dpi: int = 120
) -> dict[str, bytes]:
    """The study's charts as PNG bytes, keyed by :data:`GAGE_CHARTS` name."""
    from sizecheck.plotting.gage import (
        plot_gage_by_operator,
        plot_gage_by_part,
        plot_gage_components,
        plot_gage_range_chart,
    )
    from sizecheck.plotting.style import house_style

    s = analysis.study
    common = {"dimension": s.dimension, "lang": lang}
    plots: dict[str, tuple[Any, dict[str, pd.DataFrame]]] = {
        "components": (plot_gage_components, {"components": s.components}),
        "by_part": (plot_gage_by_part, {"readings": s.readings}),
        "by_operator": (plot_gage_by_operator, {"readings": s.readings}),
        "ranges": (plot_gage_range_chart, {"ranges": s.ranges}),
    }
    with house_style():
        return {
            name: _png(plot, _CHART_SIZES[name], dpi, **data, **common)
            for name, (plot, data) in plots.items()
        }


def _num(value: Any, lang: str, digits: int) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(v):
        return "–"
    if digits == 3 and 0 < abs(v) < 0.001:
        return "< " + format_number(0.001, lang, 3)
    return format_number(v, lang, digits)


_ANOVA_KEYS = {
    "part": "gage.source.part",
    "operator": "gage.source.operator",
    "operator_x_part": "gage.source.operator_x_part",
    "repeatability": "gage.source.error",
    "total": "gage.source.total",
}


def _table(
    frame: pd.DataFrame, cols: Sequence[str], lang: str, names: Mapping[str, str]
) -> dict[str, Any]:
    """A table for the page: translated row names and headers, numbers in ``lang``."""
    return {
        "head": [t("gage.col.source", lang), *(t(COLUMN_KEYS[c], lang) for c in cols)],
        "rows": [
            {
                "name": t(names[str(r["source"])], lang).strip(),
                "indent": t(names[str(r["source"])], lang).startswith(" "),
                "key": str(r["source"]),
                "cells": [_num(r[c], lang, _DIGITS[c]) for c in cols],
            }
            for r in frame.to_dict(orient="records")
        ],
    }


def render_gage_html(
    analysis: GageAnalysis, *, lang: str = "en", images: Mapping[str, bytes] | None = None
) -> str:
    """The study as one self-contained HTML page (charts embedded, no script, no network).

    Every value from the data (operator names, file names, reject values) is escaped.
    """
    from sizecheck.gage import RESOLVE_KEYS

    lang = check_lang(lang)
    images = images or {}
    s = analysis.study
    comp_cols = [c for c in GAGE_COLUMNS[1:] if c != "pct_tolerance" or s.tolerance_mm is not None]
    anova_cols = ["df", "ss", "ms", "f", "p"]
    context = {
        "tr": lambda key, **kw: t(key, lang, **kw),
        "title": t("gage.title", lang),
        "lang_attr": t("gage.lang_attr", lang),
        "created": t(
            "gage.created", lang, date=format_date(analysis.created, lang), version=analysis.version
        ),
        "what": t(
            "gage.what",
            lang,
            dimension=dimension_label(s.dimension, lang).lower(),
            parts=s.parts,
            trials=s.trials,
            operators=s.operators,
            n=len(s.readings),
        ),
        "verdict_cls": {"acceptable": "ok", "conditional": "warn"}.get(s.verdict, "bad"),
        **_verdict_context(analysis, lang),
        "meaning": t(RESOLVE_KEYS[s.verdict], lang),
        **_method_context(s, lang),
        "components": _table(s.components, comp_cols, lang, COMPONENT_KEYS),
        "anova": _table(s.anova, anova_cols, lang, _ANOVA_KEYS),
        "anova_pooled": (
            _table(s.anova_pooled, anova_cols, lang, _ANOVA_KEYS)
            if s.anova_pooled is not None
            else None
        ),
        "charts": [
            "data:image/png;base64," + base64.b64encode(images[name]).decode("ascii")
            for name in GAGE_CHARTS
            if name in images
        ],
        "facts": _facts(s, lang),
        **_read_context(analysis, lang),
    }
    env = page_environment()
    return env.get_template("gage.html.j2").render(**context)


def _verdict_context(analysis: GageAnalysis, lang: str) -> dict[str, str]:
    """The verdict's band and sentence: against the tolerance if one is known, else the study."""
    from sizecheck.gage import BAND_KEYS

    s = analysis.study
    grr = s.component("gage_rr")
    band = t(BAND_KEYS[s.verdict], lang)
    if s.verdict_basis == "pct_tolerance" and s.tolerance_mm is not None:
        basis = {
            "option": t("gage.tolerance_from_option", lang),
            "table": t("gage.tolerance_from_table", lang, table=analysis.table),
        }.get(analysis.tolerance_source, t("gage.tolerance_from_study", lang))
        verdict = t(
            "gage.verdict_tolerance",
            lang,
            pct=format_number(float(grr["pct_tolerance"]), lang, 1),
            tolerance=format_number(s.tolerance_mm, lang, 2),
            basis=basis,
            band=band,
        )
    else:
        verdict = t(
            "gage.verdict_study",
            lang,
            pct=format_number(float(grr["pct_study_var"]), lang, 1),
            band=band,
        )
    return {"band": band, "verdict": verdict}


def _method_context(s: GageStudy, lang: str) -> dict[str, str]:
    """How the figures were reached: categories, interaction pooled or kept, zeroed parts."""
    from sizecheck.gage import POOL_INTERACTION_P

    p_text = _num(s.interaction_p, lang, 3)
    limit = format_number(POOL_INTERACTION_P, lang, 2)
    zeroed = (
        t(
            "gage.zeroed",
            lang,
            names=", ".join(t(COMPONENT_KEYS[z], lang).strip() for z in s.zeroed),
        )
        if s.zeroed
        else ""
    )
    return {
        "ndc": t("gage.ndc", lang, ndc=s.ndc) if s.ndc is not None else t("gage.ndc_none", lang),
        "pooling": t(
            "gage.pooled" if s.interaction_pooled else "gage.kept", lang, p=p_text, limit=limit
        ),
        "zeroed": zeroed,
    }


def _facts(s: GageStudy, lang: str) -> list[tuple[str, str]]:
    """The study's design as (label, value) pairs, from dimension to tolerance."""
    return [
        (t("gage.dimension", lang), dimension_label(s.dimension, lang)),
        (t("gage.parts", lang), str(s.parts)),
        (t("gage.operators", lang), ", ".join(sorted(set(s.readings["operator"])))),
        (t("gage.trials", lang), str(s.trials)),
        (
            t("gage.tolerance", lang),
            f"{format_number(s.tolerance_mm, lang, 2)} mm"
            if s.tolerance_mm is not None
            else t("gage.none", lang),
        ),
    ]


def _read_context(analysis: GageAnalysis, lang: str) -> dict[str, Any]:
    """What was read: files and checksums, accounting, the first 500 rejects, notes."""
    from sizecheck.gage import note_text

    rejects = localized_rejects(analysis.read.rejects, lang)
    counted = (
        "rows_read",
        "rows_used",
        "rows_rejected",
        "cells_read",
        "cells_used",
        "cells_rejected",
    )
    return {
        "inputs": [(f.source, f.sha256) for f in analysis.inputs],
        "accounting": [
            (t(f"accounting.{k}", lang), format_number(v, lang, 0, grouping=True))
            for k, v in analysis.read.accounting.counts().items()
            if k in counted
        ],
        "rejects": [
            [str(r.get(c, "")) for c in REJECT_COLUMNS]
            for r in rejects.head(500).to_dict(orient="records")
        ],
        "reject_head": [t(f"report.reject_{c}", lang) for c in REJECT_COLUMNS],
        "notes": [note_text(n, lang) for n in analysis.read.notes],
    }


def write_gage(
    analysis: GageAnalysis,
    out: str | Path,
    *,
    lang: str = "en",
    charts: bool = True,
    dpi: int = 120,
) -> list[Path]:
    """Write ``gage.csv``, ``gage.json``, ``rejects.csv`` and (with ``charts``)
    ``charts/gage_*.png`` and ``gage.html`` into ``out``; return the paths written.

    Published like ``sizecheck measure``'s files (:class:`sizecheck.publish.OutputFolder`):
    everything is rendered and written into a staging folder first and moved into place
    when complete, under the folder's lock, so an interrupted run changes nothing; only
    files an earlier ``sizecheck gage`` run wrote are replaced, and those this run does
    not write again (``gage.html`` and the charts without ``charts``) are removed, so the
    folder never mixes two studies. A folder holding another command's files is refused.

    Raises
    ------
    UsageError
        ``out`` is a file, or holds an input file where an output goes.
    sizecheck.publish.OutputConflictError
        A place to write to holds something sizecheck did not write, or ``out`` holds
        another sizecheck command's files.
    sizecheck.publish.OutputError
        The folder cannot be written.
    """
    from sizecheck.publish import OutputFolder

    s = analysis.study
    files = {
        "gage.csv": _csv(s.components, GAGE_COLUMNS),
        "rejects.csv": _csv(analysis.read.rejects, REJECT_COLUMNS),
        "gage.json": (json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False) + "\n").encode(
            "utf-8"
        ),
    }
    if charts:  # rendered before the folder is touched
        images = render_gage_charts(analysis, lang=lang, dpi=dpi)
        files |= {f"charts/gage_{name}.png": png for name, png in images.items()}
        files["gage.html"] = render_gage_html(analysis, lang=lang, images=images).encode("utf-8")
    scope = [*GAGE_FILES, *(f"charts/gage_{name}.png" for name in GAGE_CHARTS)]
    inputs = [f.path for f in analysis.inputs]
    with OutputFolder(out, inputs=inputs, expect=list(files), command="gage") as folder:
        for name, data in files.items():
            folder.write_bytes(name, data)
        *written, _manifest = folder.commit(scope=scope, last=("gage.json",))
    return written


def write_gage_template(
    path: str | Path,
    *,
    lang: str = "en",
    dimension: str = "insole_length",
    unit: str = "mm",
    parts: int = 10,
    operators: int = 3,
    trials: int = 3,
    overwrite: bool = False,
) -> Path:
    """Write an empty gage study sheet (``.xlsx`` or ``.csv``) laid out for parts ×
    operators × trials, and return its path.

    One row per reading, in the order the AIAG manual collects them: operator by operator,
    trial by trial, every part. The part, operator and trial cells are filled (operators
    ``A``, ``B``, ``C`` … to be replaced by the officers' names); the reading is left blank.
    Headers in ``lang`` (``sampel``, ``petugas``, ``ulangan``, ``panjang_insole (mm)``);
    the sheet reads back through :func:`sizecheck.gage.read_study` as it is.

    Raises
    ------
    UsageError
        Unknown suffix, language, dimension or unit; fewer than 2 parts, operators or
        trials; or the file exists and ``overwrite`` is false.
    """
    from sizecheck.schema import header_text

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in {".xlsx", ".csv"}:
        raise UsageError(f"A template must end in .xlsx or .csv, found {target.name!r}.")
    if target.exists() and not overwrite:
        raise UsageError(f"{target} exists already; choose another name or pass --force.")
    lang = check_lang(lang)
    if unit not in {"mm", "cm", "in"}:
        raise UsageError(f"Unit {unit!r} is not usable in a template; use mm, cm or in.")
    if min(parts, operators, trials) < 2 or max(parts, operators, trials) > 100:
        raise UsageError("A study needs 2 to 100 parts, operators and trials (AIAG: 10 × 3 × 3).")
    try:
        value_header = header_text(dimension, lang=lang, unit=unit)
    except KeyError:
        raise UsageError(f"Unknown dimension {dimension!r}.") from None
    keys = ("sampel", "petugas", "ulangan") if lang == "id" else ("part", "operator", "trial")
    headers = [*keys, value_header]
    names = [chr(ord("A") + i) if i < 26 else f"P{i + 1}" for i in range(operators)]
    rows = [
        [part, op, trial, None]
        for op in names
        for trial in range(1, trials + 1)
        for part in range(1, parts + 1)
    ]
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        sep = ";" if lang == "id" else ","
        lines = [sep.join(headers)] + [sep.join(f"{c}" for c in r[:3]) + sep for r in rows]
        target.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig", newline="")
        return target
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "studi_gage" if lang == "id" else "gage_study"
    ws.append(headers)
    for j in range(1, len(headers) + 1):
        ws.cell(row=1, column=j).font = Font(bold=True)
    for r in rows:
        ws.append(r)
    ws.column_dimensions["D"].width = max(12, len(value_header) + 2)
    ws.freeze_panes = "A2"
    wb.save(target)
    return target
