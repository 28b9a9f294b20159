"""Writing files: the only module of sizecheck that touches the file system for output.

Every function here takes the already computed objects, writes them, and returns the
paths it wrote. Nothing is written outside the folder or path it is given.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sizecheck.errors import UsageError
from sizecheck.tables import ReferenceTable, dumps_table

if TYPE_CHECKING:
    import pandas as pd

    from sizecheck.pipeline import Analysis

__all__ = ["OUTPUT_FILES", "summary_dict", "write_report", "write_table", "write_template"]

#: The machine-readable files ``write_report`` writes, with their columns (design.md).
OUTPUT_FILES: dict[str, tuple[str, ...]] = {
    "deviations.csv": (
        "source", "row", "sample_id", "producer", "model", "size_label", "size", "foot",
        "pair", "date", "lot", "operator", "dimension", "value_mm", "nominal_mm",
        "deviation_mm", "deviation_sizes", "lower_mm", "upper_mm", "status",
    ),
    "rejects.csv": ("source", "row", "column", "value", "code", "message"),
    "producer_summary.csv": (
        "producer", "dimension", "n", "n_sizes", "bias_mm", "bias_ci_low_mm",
        "bias_ci_high_mm", "bias_sizes", "offset_mm", "grade_error_mm_per_size",
        "grade_error_ci_low", "grade_error_ci_high", "sd_within_mm", "sd_overall_mm",
        "pct_in_spec", "pct_missized", "cpk", "cpk_ci_low", "cpk_ci_high",
        "pair_mismatch_mm", "drift_signals", "verdict",
    ),
    "size_summary.csv": (
        "producer", "dimension", "size", "n", "mean_mm", "nominal_mm", "bias_mm", "sd_mm",
        "effective_size",
    ),
}  # fmt: skip


def write_table(table: ReferenceTable, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a graded table as TOML to ``path`` and return the path.

    Raises :class:`UsageError` when the file exists and ``overwrite`` is false, so a
    table someone keeps is never replaced by accident.
    """
    target = Path(path)
    if target.suffix != ".toml":
        raise UsageError(f"A table file must end in .toml, found {target.name!r}.")
    if target.exists() and not overwrite:
        raise UsageError(f"{target} exists already; choose another name or pass --force.")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps_table(table), encoding="utf-8")
    return target


# --------------------------------------------------------------------------- measure outputs


def _write_csv(frame: pd.DataFrame, path: Path, columns: Sequence[str] | None = None) -> Path:
    """Write ``frame`` as UTF-8 CSV with dots as decimal marks (pyarrow: fast at 3M rows).

    ``columns`` fixes the leading columns and their order; other columns follow.
    Dates are written as ISO ``YYYY-MM-DD``.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise UsageError(f"Cannot write {path.name}: missing column(s) {', '.join(missing)}.")
        frame = frame.loc[:, list(columns)]
    arrays = []
    names = []
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == object:
            arr = pa.array(col.astype("string"), type=pa.string(), from_pandas=True)
        else:
            arr = pa.array(col, from_pandas=True)
        if pa.types.is_timestamp(arr.type):
            arr = pc.cast(arr, pa.date32())
        arrays.append(arr)
        names.append(str(name))
    table = pa.Table.from_arrays(arrays, names=names)
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
    return path


def _jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and infinities become null, numpy scalars Python numbers."""
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if hasattr(value, "to_dict") and not hasattr(value, "columns"):
        return _jsonable(value.to_dict())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    import pandas as pd

    out = frame.astype(object).where(pd.notna(frame), None)
    return [_jsonable(r) for r in out.to_dict(orient="records")]


def summary_dict(analysis: Analysis) -> dict[str, Any]:
    """The content of ``summary.json``: provenance, inputs, accounting and verdicts."""
    t = analysis.table
    verdicts: dict[str, dict[str, str]] = {}
    for row in analysis.producer_summary.itertuples(index=False):
        verdicts.setdefault(str(row.producer), {})[str(row.dimension)] = str(row.verdict)
    return {
        "tool": {"name": "sizecheck", "version": analysis.version},
        "created": analysis.created,
        "synthetic_data": analysis.synthetic,
        "table": {
            "name": t.name,
            "title": t.title,
            "status": t.status,
            "source": t.source,
            "notes": t.notes,
            "size_system": t.size_system,
            "base_size": t.base_size,
            "origin": t.origin,
        },
        "inputs": [_jsonable(f) for f in analysis.inputs],
        "accounting": _jsonable(analysis.accounting),
        "missing_dimensions": list(analysis.missing_dimensions),
        "thresholds": _jsonable(analysis.thresholds),
        "verdicts": verdicts,
        "drift_signals": _records(analysis.signals),
        "conventions": _records(analysis.conventions),
    }


def _check_out(out: Path, analysis: Analysis) -> Path:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder (it is created if missing).")
    root = out.resolve()
    protected = {Path(f.path).resolve() for f in analysis.inputs}
    clash = [p for p in protected if p.parent == root and p.name in _MEASURE_NAMES]
    if clash:
        raise UsageError(
            f"--out {out} holds the input file {clash[0].name}; sizecheck never overwrites "
            "an input. Choose another --out folder."
        )
    return root


_MEASURE_NAMES = {*OUTPUT_FILES, "comparison.csv", "conventions.csv", "summary.json"}


def write_report(
    analysis: Analysis,
    out: str | Path,
    *,
    lang: str = "en",
    charts: bool = True,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write every output of ``sizecheck measure`` into ``out`` and return the paths.

    Parameters
    ----------
    analysis : Analysis
        The result of :func:`sizecheck.pipeline.analyse`.
    out : path
        The output folder, created if missing. Nothing is written outside it, and a
        file that is one of the inputs is never overwritten.
    lang : {"en", "id"}
        Language of what a person reads (charts, report, cards).
    charts : bool
        Also write ``charts/``, ``report.html`` and ``cards/`` (``--no-charts`` skips).
    jobs : int, optional
        Processes used to render charts (default: the number of cores).
    progress : callable, optional
        Called as ``progress(done, total)`` while charts are rendered.
    """
    root = _check_out(Path(out), analysis)
    root.mkdir(parents=True, exist_ok=True)
    written = [
        _write_csv(analysis.deviations, root / "deviations.csv", OUTPUT_FILES["deviations.csv"]),
        _write_csv(analysis.rejects, root / "rejects.csv", OUTPUT_FILES["rejects.csv"]),
        _write_csv(
            analysis.producer_summary,
            root / "producer_summary.csv",
            OUTPUT_FILES["producer_summary.csv"],
        ),
        _write_csv(
            analysis.size_summary, root / "size_summary.csv", OUTPUT_FILES["size_summary.csv"]
        ),
        _write_csv(analysis.comparison, root / "comparison.csv"),
        _write_csv(analysis.conventions, root / "conventions.csv"),
    ]
    summary = summary_dict(analysis)
    if charts:
        visuals = globals().get("write_visuals")
        if visuals is not None:
            written.extend(visuals(analysis, root, lang=lang, jobs=jobs, progress=progress))
    summary["outputs"] = [p.relative_to(root).as_posix() for p in written] + ["summary.json"]
    path = root / "summary.json"
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(path)
    return written


def write_template(
    path: str | Path,
    *,
    lang: str = "en",
    dimensions: Sequence[str] | None = None,
    sizes: Sequence[float] | None = None,
    unit: str = "mm",
    overwrite: bool = False,
) -> Path:
    """Write an empty measurement sheet (``.xlsx`` or ``.csv``) and return its path.

    The headers are the canonical columns in ``lang`` (``produsen``, ``ukuran``, ``kaki``,
    ``panjang_insole (mm)`` …) with the unit in every dimension header, so the sheet reads
    back through :func:`sizecheck.validate.read_measurements` as it is. In ``.xlsx`` the
    foot column offers ``L``/``R`` (``kiri``/``kanan`` in Indonesian) and the size column
    the sizes of ``sizes`` (default EU 33–50 in half sizes) as dropdowns; other values are
    still accepted with a warning, since a QA officer may meet a size outside the list.
    A CSV template uses ``;`` for Indonesian (the Excel separator there) and ``,`` for
    English, in UTF-8 with BOM so Excel opens it correctly.

    Raises
    ------
    UsageError
        Unknown suffix, language, dimension or unit, or the file exists and ``overwrite``
        is false.
    """
    from sizecheck.schema import TEMPLATE_FOOT_CHOICES, template_columns

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in {".xlsx", ".csv"}:
        raise UsageError(f"A template must end in .xlsx or .csv, found {target.name!r}.")
    if target.exists() and not overwrite:
        raise UsageError(f"{target} exists already; choose another name or pass --force.")
    columns = template_columns(lang=lang, dimensions=dimensions, unit=unit)
    headers = [h for _, h in columns]
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        sep = ";" if lang == "id" else ","
        target.write_text(sep.join(headers) + "\r\n", encoding="utf-8-sig", newline="")
        return target

    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    size_list = list(sizes) if sizes is not None else [33 + i / 2 for i in range(35)]
    wb = Workbook()
    ws = wb.active
    ws.title = "pengukuran" if lang == "id" else "measurements"
    ws.append(headers)
    for j, header in enumerate(headers, start=1):
        ws.cell(row=1, column=j).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(j)].width = max(10, len(header) + 2)
    ws.freeze_panes = "A2"
    lookup = {c: get_column_letter(j) for j, (c, _) in enumerate(columns, start=1)}
    foot = ",".join(TEMPLATE_FOOT_CHOICES[lang])
    size_text = ",".join(f"{s:g}" for s in size_list)
    for canonical, choices in (("foot", foot), ("size", size_text)):
        if len(choices) > 255:  # Excel's limit for an inline list
            continue
        dv = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
        dv.errorStyle = "warning"
        dv.showErrorMessage = True
        col = lookup[canonical]
        dv.add(f"{col}2:{col}2000")
        ws.add_data_validation(dv)
    wb.save(target)
    return target
