"""Writing the outputs of ``sizecheck propose``.

:func:`write_proposal` writes the proposed table (``NAME.toml``) and, beside it,
``proposal_impact.csv``, ``proposal.html`` (one self-contained page in the report
language) and ``charts/proposal_*.png``, and returns the paths;
:func:`render_proposal_html` renders the page as a string and
:func:`render_proposal_charts` the charts as PNG bytes. Every number on the page comes
from the :class:`~sizecheck.propose.Proposal` (nothing is recomputed here); the words come
from the catalogue. Nothing is written outside the folder of the TOML.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sizecheck.columns import PROPOSAL_IMPACT
from sizecheck.errors import UsageError
from sizecheck.escaping import formula_safe, page_environment
from sizecheck.i18n import check_lang, dimension_label, format_date, format_number, t

if TYPE_CHECKING:
    import pandas as pd

    from sizecheck.propose import Proposal
    from sizecheck.tables import ReferenceTable, Tolerance

__all__ = [
    "IMPACT_FILE",
    "PAGE_FILE",
    "render_proposal_charts",
    "render_proposal_html",
    "write_proposal",
]

#: The impact table and the page, written beside the TOML.
IMPACT_FILE = "proposal_impact.csv"
PAGE_FILE = "proposal.html"


_SELECT_KEYS = {
    "conforming": "propose.select_conforming",
    "all": "propose.select_all",
}
_STEP_KEYS = {"paris": "propose.step_paris", "fit": "propose.step_fit"}
_BASIS_KEYS = {"corrections": "propose.basis_corrections", "bias": "propose.basis_bias"}


def _num(value: Any, lang: str, digits: int, *, signed: bool = False) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return format_number(v, lang, digits, signed=signed)


def _size(value: float, lang: str) -> str:
    return format_number(value, lang, 0 if float(value).is_integer() else 1)


def _tolerance_text(tol: Tolerance | None, lang: str) -> str:
    if tol is None:
        return "–"
    if tol.type == "symmetric":
        return t(
            "propose.tolerance_symmetric",
            lang,
            in_spec=_num(tol.plus, lang, 2).rstrip("0").rstrip(".,"),
            missized=_num(tol.missized_plus, lang, 2).rstrip("0").rstrip(".,"),
        )
    return t(
        "propose.tolerance_asymmetric",
        lang,
        **{
            k: _num(getattr(tol, k), lang, 2).rstrip("0").rstrip(".,")
            for k in ("minus", "plus", "missized_minus", "missized_plus")
        },
    )


def _tolerance_from(code: str, lang: str) -> str:
    if code == "set":
        return t("propose.tolerance_from_set", lang)
    if code == "default":
        return t("propose.tolerance_from_default", lang)
    return t("propose.tolerance_from_table", lang, table=code.removeprefix("table "))


def _verdict(verdict: object, lang: str) -> str:
    from sizecheck.findings import verdict_words

    text = str(verdict) if verdict is not None else ""
    if not text or text == "nan":
        return t("propose.not_proposed", lang)
    return verdict_words(text, lang)


def render_proposal_charts(
    proposal: Proposal, *, lang: str = "en", dpi: int = 120
) -> dict[str, bytes]:
    """Two charts per proposed dimension as PNG bytes: ``<dimension>`` (the proposal
    against the Paris point, :func:`~sizecheck.plotting.proposal.plot_proposal`) and
    ``<dimension>_corrections``
    (:func:`~sizecheck.plotting.proposal.plot_proposal_corrections`)."""
    import io

    from matplotlib.figure import Figure

    from sizecheck.plotting.proposal import (
        corrections_figsize,
        plot_proposal,
        plot_proposal_corrections,
    )
    from sizecheck.plotting.style import house_style

    p = proposal.proposal
    out: dict[str, bytes] = {}

    def png(draw: Any, figsize: tuple[float, float]) -> bytes:
        fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        draw(fig.add_subplot())
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        return buf.getvalue()

    with house_style():
        for dim, rule in p.table.dimensions.items():
            tol = rule.tolerance
            band = (
                (-tol.minus, tol.plus)
                if tol is not None and tol.type in ("symmetric", "asymmetric")
                else None
            )
            n = int((proposal.impact["dimension"] == dim).sum())
            out[dim] = png(
                lambda ax, dim=dim: plot_proposal(
                    p.sizes, p.lines, dimension=dim, estimates=p.estimates, lang=lang, ax=ax
                ),
                (7.6, 4.6),
            )
            out[f"{dim}_corrections"] = png(
                lambda ax, dim=dim, band=band: plot_proposal_corrections(
                    proposal.impact, dimension=dim, band=band, lang=lang, ax=ax
                ),
                corrections_figsize(n),
            )
    return out


def _summary_rows(proposal: Proposal, lang: str) -> list[dict[str, Any]]:
    """One row of the summary table per proposed dimension, in words of ``lang``."""
    p = proposal.proposal
    confidence = float(p.provenance.get("confidence", 0.95))
    conform = {str(r["dimension"]): r for r in proposal.conformity.to_dict(orient="records")}
    return [
        _summary_row(e, conform.get(str(e["dimension"])), p.table, confidence, lang)
        for e in p.estimates.to_dict(orient="records")
    ]


def _summary_row(
    e: Mapping[Any, Any],
    c: Mapping[Any, Any] | None,
    table: ReferenceTable,
    confidence: float,
    lang: str,
) -> dict[str, Any]:
    """One dimension's row: level, interval, step, basis, stability, conformity, tolerance."""
    dim = str(e["dimension"])
    target = format_number(100 * confidence, lang, 0)
    notes = []
    if float(e["level_ci_coverage"]) < confidence:
        notes.append(
            t(
                "propose.coverage_short",
                lang,
                n=int(e["n_producers"]),
                target=target,
                pct=format_number(100 * float(e["level_ci_coverage"]), lang, 0),
            )
        )
    return {
        "dimension": dimension_label(dim, lang),
        "level": t(
            "propose.level",
            lang,
            size=_size(float(e["base_size"]), lang),
            value=_num(e["base_value_mm"], lang, 1),
        ),
        "level_ci": t(
            "propose.level_ci",
            lang,
            pct=target,
            low=_num(e["level_ci_low_mm"], lang, 1),
            high=_num(e["level_ci_high_mm"], lang, 1),
            estimate=_num(e["level_mm"], lang, 2),
        ),
        "step": _step_text(e, target, lang),
        "based_on": t(
            "propose.based_on",
            lang,
            n=int(e["n_producers"]),
            m=format_number(int(e["n"]), lang, 0, grouping=True),
        ),
        "dates": (
            t(
                "propose.dates",
                lang,
                first=format_date(e["first_date"], lang),
                last=format_date(e["last_date"], lang),
            )
            if e["first_date"]
            else "–"
        ),
        "loo": t(
            "propose.loo",
            lang,
            shift=_num(e["loo_max_shift_mm"], lang, 2),
            producer=str(e["loo_producer"]),
        ),
        "conform": _conform_text(c, lang),
        "tolerance": _tolerance_text(table.dimensions[dim].tolerance, lang)
        + " ("
        + _tolerance_from(str(e["tolerance_from"]), lang)
        + ")",
        "notes": notes,
    }


def _step_text(e: Mapping[Any, Any], target: str, lang: str) -> str:
    """The step per size: fixed by rule, or fitted with its ``target`` % interval."""
    if e["step_rule"] == "fixed":
        return t("propose.step_fixed", lang, value=_num(e["step_value_mm"], lang, 2))
    return t(
        "propose.step_fitted",
        lang,
        value=_num(e["step_value_mm"], lang, 2),
        pct=target,
        low=_num(e["step_ci_low_mm"], lang, 2),
        high=_num(e["step_ci_high_mm"], lang, 2),
    )


def _conform_text(c: Mapping[Any, Any] | None, lang: str) -> str:
    """How many judged producers conform to the current table and to the proposal."""
    if c is None:
        return "–"
    return t(
        "propose.conform",
        lang,
        now=int(c["conforming_current"]),
        then=int(c["conforming_proposal"]),
        n=int(c["n_judged"]),
    )


def _sizes_rows(frame: pd.DataFrame, lang: str) -> list[list[str]]:
    return [
        [
            _size(float(r["size"]), lang),
            _num(r["proposal_mm"], lang, 2),
            _num(r["paris_mm"], lang, 2),
            _num(r["diff_paris_mm"], lang, 2, signed=True),
            _num(r["diff_paris_sizes"], lang, 2, signed=True),
            f"{_num(r['loo_low_mm'], lang, 2)} – {_num(r['loo_high_mm'], lang, 2)}",
        ]
        for r in frame.to_dict(orient="records")
    ]


def _impact_rows(frame: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    rows = []
    for r in frame.to_dict(orient="records"):
        used = bool(r["in_proposal"])
        rows.append(
            {
                "used": used,
                "cells": [
                    str(r["producer"]),
                    t("propose.yes" if used else "propose.no", lang),
                    _verdict(r["verdict_current"], lang),
                    _verdict(r["verdict_proposal"], lang),
                    _num(r["correction_current_mm"], lang, 2, signed=True),
                    _num(r["correction_proposal_mm"], lang, 2, signed=True),
                    _num(r["loo_shift_mm"], lang, 2) if used else "",
                ],
            }
        )
    return rows


def _excluded_rows(lines: pd.DataFrame, lang: str) -> list[list[str]]:
    from sizecheck.propose import REASON_KEYS

    rows = []
    for r in lines.loc[~lines["chosen"]].to_dict(orient="records"):
        verdict = _verdict(r["verdict_current"], lang) if r["verdict_current"] else "–"
        rows.append([str(r["producer"]), t(REASON_KEYS[str(r["reason"])], lang, verdict=verdict)])
    return rows


def _skipped_texts(proposal: Proposal, lang: str) -> list[str]:
    from sizecheck.propose import MIN_PRODUCERS, SKIP_KEYS

    return [
        t(
            SKIP_KEYS[str(r["reason"])],
            lang,
            dimension=dimension_label(str(r["dimension"]), lang),
            n=int(r["n_chosen"]),
            names=str(r["producers"]).replace("; ", ", ") or "–",
            min=MIN_PRODUCERS,
        )
        for r in proposal.proposal.skipped.to_dict(orient="records")
    ]


def render_proposal_html(
    proposal: Proposal, *, lang: str = "en", images: Mapping[str, bytes] | None = None
) -> str:
    """The proposal as one self-contained HTML page (charts embedded, no script, no network).

    Every value from the data (producer names, file names) is escaped.
    """
    lang = check_lang(lang)
    images = images or {}
    p = proposal.proposal
    current = proposal.current
    prov = p.provenance
    select = prov.get("select", "conforming")
    if isinstance(select, str):
        select_text = t(_SELECT_KEYS[select], lang)
    else:
        select_text = t("propose.select_named", lang, names=", ".join(select))
    chosen = sorted({n for d in prov.get("dimensions", {}).values() for n in d["producers"]})

    def img(key: str) -> str | None:
        return (
            "data:image/png;base64," + base64.b64encode(images[key]).decode("ascii")
            if key in images
            else None
        )

    sections = []
    for dim in p.table.dimensions:
        sections.append(
            {
                "id": f"dim-{dim}",
                "title": dimension_label(dim, lang),
                "charts": [c for c in (img(dim), img(f"{dim}_corrections")) if c],
                "sizes": _sizes_rows(p.sizes.loc[p.sizes["dimension"] == dim], lang),
                "impact": _impact_rows(proposal.impact.loc[proposal.impact["dimension"] == dim],
                                       lang),
                "excluded": _excluded_rows(p.lines.loc[p.lines["dimension"] == dim], lang),
            }
        )  # fmt: skip
    context = {
        "tr": lambda key, **kw: t(key, lang, **kw),
        "lang_attr": t("propose.lang_attr", lang),
        "title": t("propose.title", lang),
        "name": p.table.name,
        "synthetic": bool(getattr(current, "synthetic", False)),
        "created": t(
            "propose.created",
            lang,
            date=format_date(prov.get("created"), lang),
            version=prov.get("version", ""),
        ),
        "what": t(
            "propose.what",
            lang,
            name=p.table.name,
            n=len(chosen),
            table=f"{current.table.name} — {t(f'table_status.{current.table.status}', lang)}",
        ),
        "select": select_text,
        "step": t(_STEP_KEYS[str(prov.get("step_rule", "paris"))], lang),
        "summary": _summary_rows(proposal, lang),
        "skipped": _skipped_texts(proposal, lang),
        "sections": sections,
        "method": t("propose.method", lang, size=_size(p.table.base_size, lang)),
        "basis": t(_BASIS_KEYS[proposal.correction_basis], lang),
        "facts": [
            (t("propose.current_table", lang), current.table.provenance()),
            (t("propose.tolerances_table", lang), str(prov.get("tolerances_from", ""))),
            (t("propose.tool", lang), f"sizecheck {prov.get('version', '')}"),
        ],
        "inputs": [(f.source, f.sha256) for f in current.inputs],
    }
    env = page_environment()
    return env.get_template("proposal.html.j2").render(**context)


def _check_target(out: Path) -> None:
    if out.suffix.lower() != ".toml":
        raise UsageError(f"--out {out}: the proposal is a table, give a path ending in .toml.")
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give the path of the .toml to write.")


def write_proposal(
    proposal: Proposal,
    out: str | Path,
    *,
    lang: str = "en",
    charts: bool = True,
    dpi: int = 120,
) -> list[Path]:
    """Write the proposed table to ``out`` (a ``.toml`` path) and, in the same folder,
    ``proposal_impact.csv``, ``proposal.html`` and ``charts/proposal_<dimension>*.png``
    (the last two unless ``charts`` is false); return the paths written. Producer names
    that a spreadsheet would run as a formula get a leading apostrophe in the CSV
    (:func:`sizecheck.escaping.formula_safe`); the page shows control characters in
    names as ``[U+XXXX]``.

    Published like ``sizecheck measure``'s files (:class:`sizecheck.publish.OutputFolder`
    on the folder of ``out``): everything is rendered and written into a staging folder
    first and moved into place when complete, under the folder's lock, so a failure or an
    interruption leaves the folder as it was. Only files an earlier ``sizecheck propose``
    run wrote there are replaced; its ``charts/proposal_*.png`` and (without ``charts``)
    ``proposal.html`` that this run does not write again are removed, so the folder never
    shows another proposal's page or charts. A folder holding another command's files
    (``sizecheck measure``'s report) is refused.

    Raises
    ------
    UsageError
        ``out`` does not end in ``.toml``, is a folder, or an output would overwrite an
        input file.
    sizecheck.publish.OutputConflictError
        A place to write to holds something sizecheck did not write (a table of your
        own), or the folder holds another sizecheck command's files.
    sizecheck.publish.OutputError
        The folder cannot be written.
    """
    from sizecheck.publish import OutputFolder, read_manifest

    lang = check_lang(lang)
    target = Path(out)
    _check_target(target)
    impact = proposal.impact
    columns = [*PROPOSAL_IMPACT, *[c for c in impact.columns if c not in PROPOSAL_IMPACT]]
    # A producer name a spreadsheet would run as a formula is written with an apostrophe.
    safe = impact.loc[:, columns].assign(producer=impact["producer"].astype(str).map(formula_safe))
    csv_text: str = safe.to_csv(index=False, lineterminator="\n")
    # Everything is rendered before anything is written: a failure changes no file.
    images = render_proposal_charts(proposal, lang=lang, dpi=dpi) if charts else {}
    page = render_proposal_html(proposal, lang=lang, images=images) if charts else None
    files = {target.name: proposal.proposal.toml.encode("utf-8"), IMPACT_FILE: csv_text.encode()}
    files |= {f"charts/proposal_{key}.png": png for key, png in images.items()}
    if page is not None:
        files[PAGE_FILE] = page.encode("utf-8")
    folder = target.parent
    earlier_charts = [n for n in read_manifest(folder) if n.startswith("charts/proposal_")]
    scope = [target.name, IMPACT_FILE, PAGE_FILE, *earlier_charts]
    inputs = [f.path for f in proposal.current.inputs]
    with OutputFolder(folder, inputs=inputs, expect=list(files), command="propose") as out_folder:
        for name, data in files.items():
            out_folder.write_bytes(name, data)
        *written, _manifest = out_folder.commit(scope=scope, last=(target.name,))
    return written
