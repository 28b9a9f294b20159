"""Writing files: the only module of sizecheck that touches the file system for output.

Every function here takes the already computed objects, writes them, and returns the
paths it wrote. Nothing is written outside the folder or path it is given. The outputs
of ``measure`` (:func:`write_report`, :func:`write_visuals`) are written into a staging
folder and published together by :class:`sizecheck.publish.OutputFolder`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, is_dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sizecheck import columns
from sizecheck.columns import DEVIATIONS as DEVIATION_COLUMNS
from sizecheck.columns import LOTS as LOT_COLUMNS
from sizecheck.columns import PRODUCER_SUMMARY as PRODUCER_SUMMARY_COLUMNS
from sizecheck.columns import REJECTS as REJECT_COLUMNS
from sizecheck.columns import SIZE_SUMMARY as SIZE_SUMMARY_COLUMNS
from sizecheck.errors import UsageError, require_columns
from sizecheck.tables import ReferenceTable, dumps_table
from sizecheck.validate import localized_rejects
from sizecheck.workers import process_pool, worker_count

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from sizecheck.findings import Finding
    from sizecheck.pipeline import Analysis, ReportInfo
    from sizecheck.plotting.layout import EncodedChart
    from sizecheck.publish import OutputFolder

__all__ = [
    "DEVIATION_FORMATS",
    "MEASURE_NAMES",
    "OUTPUT_FILES",
    "RECORDED_PACKAGES",
    "REPORT_TABLES",
    "SPREADSHEET_ROWS",
    "VISUAL_NAMES",
    "DeviationsChoice",
    "EarlyDeviations",
    "choose_deviations_format",
    "environment",
    "methods_dict",
    "safe_slug",
    "summary_dict",
    "write_deviations",
    "write_report",
    "write_table",
    "write_template",
    "write_visuals",
]

#: The contract files ``write_report`` writes, with their leading columns (design.md);
#: extra columns, where a frame has them, follow these.
OUTPUT_FILES: dict[str, tuple[str, ...]] = {
    "deviations.csv": DEVIATION_COLUMNS,
    "rejects.csv": REJECT_COLUMNS,
    "producer_summary.csv": PRODUCER_SUMMARY_COLUMNS,
    "size_summary.csv": SIZE_SUMMARY_COLUMNS[:9],
    "lots.csv": LOT_COLUMNS,
    "corrections.csv": columns.CORRECTIONS,
}

#: Decimals written for the millimetre and size columns of ``deviations.csv``: 1e-6 mm,
#: far below any caliper's resolution (0.01 mm), so ``2.1666666666666856`` is written
#: ``2.166667``. The file is a third smaller and a quarter faster to write; the
#: statistics are computed from the unrounded values.
DEVIATION_DECIMALS = 6
_DEVIATION_ROUNDED = (
    "value_mm", "nominal_mm", "deviation_mm", "deviation_sizes", "lower_mm", "upper_mm",
)  # fmt: skip


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


def _formula_safe_arrow(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """:func:`sizecheck.escaping.formula_safe` on every text of ``arr`` at once (a test
    proves it equal to the function applied text by text); nulls stay null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from sizecheck.escaping import NUMBER_PATTERN

    starts = pc.match_substring_regex(arr, r"^[=+\-@\t\r]")
    if not pc.any(starts).as_py():
        return arr  # the usual case: one cheap pass
    number = pc.match_substring_regex(arr, f"^(?:{NUMBER_PATTERN})$")
    unsafe = pc.and_kleene(starts, pc.invert(number))
    apostrophe, nothing = pa.scalar("'", arr.type), pa.scalar("", arr.type)
    return pc.if_else(unsafe, pc.binary_join_element_wise(apostrophe, arr, nothing), arr)


def _arrow_column(
    col: pd.Series, decimals: int | None = None, *, formula_safe: bool = False
) -> pa.Array | pa.ChunkedArray:
    """One column as arrow, without copying what need not be copied.

    Categoricals become dictionary arrays over their categories (the CSV writer quotes
    them like strings and decodes them batch by batch), arrow-backed text is passed as
    is, numbers keep NaN as null (an empty field) and timestamps become dates. Floats
    are rounded to ``decimals`` places (:func:`numpy.round`; a zero is written 0, not -0)
    when given. With ``formula_safe``, text that a spreadsheet would run as a formula is
    escaped (:func:`sizecheck.escaping.formula_safe`; for a categorical, its categories).
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        return _formula_safe_arrow(arr) if formula_safe else arr

    if isinstance(col.dtype, pd.CategoricalDtype):
        categories = pd.Series(col.cat.categories).astype("string")
        dictionary = text(pa.array(categories, type=pa.string(), from_pandas=True))
        codes = np.asarray(col.cat.codes, dtype=np.int32)
        missing = codes < 0
        indices = pa.array(codes, mask=missing if missing.any() else None)
        return pa.DictionaryArray.from_arrays(indices, dictionary)
    if col.dtype == object:
        return text(pa.array(col.astype("string"), type=pa.string(), from_pandas=True))
    if decimals is not None and isinstance(col.dtype, np.dtype) and col.dtype.kind == "f":
        # + 0.0: noise rounded to zero is written 0, not -0
        arr = pa.array(np.round(col.to_numpy(), decimals) + 0.0, from_pandas=True)
    else:
        arr = pa.array(col, from_pandas=True)
    if pa.types.is_timestamp(arr.type):
        arr = pc.cast(arr, pa.date32())
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        arr = text(arr)
    return arr


#: Rows per piece of a large CSV: pieces are formatted in threads (pyarrow releases the GIL)
#: and written in order, so the bytes are those of one ``write_csv`` call.
_CSV_CHUNK_ROWS = 1 << 16


def _arrow_table(
    frame: pd.DataFrame,
    what: str,
    columns: Sequence[str] | None = None,
    decimals: Mapping[str, int] | None = None,
    *,
    formula_safe: bool = False,
) -> pa.Table:
    """``frame`` (its ``columns``, in that order, if given) as an arrow table for writing;
    ``decimals`` maps float columns to the decimals kept, ``formula_safe`` escapes text
    cells and column names (see :func:`_arrow_column`)."""
    import pyarrow as pa

    from sizecheck.escaping import formula_safe as safe

    if columns is not None:
        require_columns(frame, columns, what, error=UsageError)
        frame = frame.loc[:, list(columns)]
    names = [str(name) for name in frame.columns]
    arrays = [
        _arrow_column(frame.iloc[:, i], (decimals or {}).get(n), formula_safe=formula_safe)
        for i, n in enumerate(names)
    ]
    return pa.Table.from_arrays(arrays, names=[safe(n) if formula_safe else n for n in names])


def _write_csv(
    frame: pd.DataFrame,
    path: Path,
    columns: Sequence[str] | None = None,
    decimals: Mapping[str, int] | None = None,
) -> Path:
    """Write ``frame`` as UTF-8 CSV with dots as decimal marks (pyarrow: fast at 3M rows).

    ``columns`` selects the columns written and their order (all columns if omitted);
    ``decimals`` maps float columns to the number of decimals written (others: all the
    digits that round-trip).
    Dates are written as ISO ``YYYY-MM-DD``. Text is quoted, numbers are not, missing
    values are empty fields. A text cell (or column name) a spreadsheet would run as a
    formula gets a leading apostrophe (:func:`sizecheck.escaping.formula_safe`, OWASP);
    numbers are untouched. Large frames are formatted in row pieces on all cores.
    """
    import os
    from collections import deque

    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = _arrow_table(frame, f"Writing {path.name}", columns, decimals, formula_safe=True)
    n = table.num_rows
    workers = min(os.cpu_count() or 1, 8)
    if n <= _CSV_CHUNK_ROWS or workers == 1:
        pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
        return path

    def piece(start: int) -> pa.Buffer:
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(include_header=start == 0, quoting_style="needed")
        pacsv.write_csv(table.slice(start, _CSV_CHUNK_ROWS), sink, write_options=options)
        return sink.getvalue()

    pending: deque[Future[pa.Buffer]] = deque()
    with path.open("wb") as fh, ThreadPoolExecutor(workers) as pool:
        for start in range(0, n, _CSV_CHUNK_ROWS):
            pending.append(pool.submit(piece, start))
            if len(pending) > workers:  # bounded: at most workers + 1 pieces in memory
                fh.write(pending.popleft().result())
        while pending:
            fh.write(pending.popleft().result())
    return path


def _jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and infinities become null, numpy scalars Python numbers."""
    # an object's own JSON form first (Accounting.to_dict is "for summary.json")
    if hasattr(value, "to_dict") and not hasattr(value, "columns") and not isinstance(value, type):
        return _jsonable(value.to_dict())
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
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
    """Rows as JSON-ready dicts, converted column by column (thousands of rows)."""
    import numpy as np
    import pandas as pd

    columns: list[list[Any]] = []
    for name in frame.columns:
        col = frame[name]
        kind = col.dtype.kind if isinstance(col.dtype, np.dtype) else ""
        if kind == "f":  # NaN and infinities become null
            values = col.to_numpy()
            keep = np.isfinite(values).tolist()
            columns.append([v if k else None for v, k in zip(values.tolist(), keep, strict=True)])
        elif kind and kind in "iub":
            columns.append(col.to_numpy().tolist())
        else:
            present = pd.notna(col).tolist()
            columns.append(
                [_jsonable(v) if k else None for v, k in zip(col.tolist(), present, strict=True)]
            )
    names = [str(c) for c in frame.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def summary_dict(analysis: Analysis) -> dict[str, Any]:
    """The content of ``summary.json``: provenance, inputs, accounting and verdicts."""
    t = analysis.table
    verdicts: dict[str, dict[str, str]] = {}
    for row in analysis.producer_summary.itertuples(index=False):
        if not getattr(row, "model", ""):  # all models pooled; per model in "findings"
            verdicts.setdefault(str(row.producer), {})[str(row.dimension)] = str(row.verdict)
    return {
        "tool": {"name": "sizecheck", "version": analysis.version},
        "created": analysis.created,
        "synthetic_data": analysis.synthetic,
        "report": _report_info(analysis).to_dict(),
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
        "notes": [str(n) for n in analysis.notes],  # English, as gage.json's
        "missing_dimensions": list(analysis.missing_dimensions),
        "thresholds": _jsonable(analysis.thresholds),
        "methods": methods_dict(analysis),
        "environment": environment(),
        "verdicts": verdicts,
        "drift_signals": _records(analysis.signals),
        "drift_shifts": _records(analysis.shifts),
        "conventions": _records(analysis.conventions),
        "findings": {p: f.to_dict() for p, f in analysis.findings.items()},
        **_lots_dict(analysis),
        "cluster": _cluster_dict(analysis),
        "gage": analysis.gage.to_dict() if analysis.gage is not None else None,
    }


def _report_info(analysis: Analysis) -> ReportInfo:
    """The report's title, office and number (empty for an analysis made without)."""
    from sizecheck.pipeline import ReportInfo

    info = getattr(analysis, "report_info", None)
    return info if isinstance(info, ReportInfo) else ReportInfo()


#: The libraries whose versions ``summary.json`` records (``environment``): those whose
#: numbers or reading the results depend on.
RECORDED_PACKAGES = (
    "sizecheck",
    "numpy",
    "pandas",
    "scipy",
    "pyarrow",
    "matplotlib",
    "openpyxl",
    "xlsxwriter",
)


def environment() -> dict[str, str]:
    """The versions a methods section cites: Python, the platform and
    :data:`RECORDED_PACKAGES` (``"not installed"`` for one that is missing)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for name in RECORDED_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
            out[name] = "not installed"
    return out


def methods_dict(analysis: Analysis) -> dict[str, Any]:
    """The ``methods`` entry of ``summary.json``: what a methods section needs to say how
    the numbers were made — the confidence level, the control-chart rules, the test that
    makes a change (the ``drift`` flag), the verdict thresholds (also under ``thresholds``), the
    multiple-comparison method, the random seeds and the cluster model."""
    from sizecheck.drift import DEFAULT_RULES, RULES
    from sizecheck.stats import BOOTSTRAP_REPLICATES, BOOTSTRAP_SEED
    from sizecheck.stats.reference import MIN_CHANGE_POINTS

    rules = tuple(getattr(analysis, "drift_rules", ()) or DEFAULT_RULES)
    th = analysis.thresholds
    cluster = getattr(analysis, "cluster", None)
    return {
        "confidence_level": getattr(analysis, "confidence", 0.95),
        "drift_rules": [{"code": c, "description": RULES[c].description} for c in rules],
        # the drift flag: stats.change_detected of the chart's least-squares change point
        "drift_change_test": {
            "test": "two-sample t-test of the chart points either side of the "
            "least-squares split, Bonferroni over the T - 1 candidate splits",
            "alpha": getattr(th, "alpha", None),
            "min_points": MIN_CHANGE_POINTS,
            "min_step": "drift_step_share x the in-spec half-width",
            "drift_step_share": getattr(th, "drift_step_share", None),
        },
        "thresholds": _jsonable(th),
        # the family-wise adjustment of the verdict tests (Thresholds.multiple_testing)
        "multiple_comparisons": getattr(th, "multiple_testing", "none"),
        # the change-point bootstrap (stats.periods) draws from this seed, one stream per
        # producer × dimension, so a rerun (or a Dask partition) gives the same intervals
        "seeds": {"change_point_bootstrap": BOOTSTRAP_SEED, **dict(getattr(analysis, "seeds", {}))},
        "bootstrap_replicates": BOOTSTRAP_REPLICATES,
        "cluster_model": (
            sorted(set(cluster.summary["method"].astype(str))) if cluster is not None else []
        ),
    }


def _cluster_dict(analysis: Analysis) -> dict[str, Any]:
    """The ``cluster`` entry of ``summary.json``: whether ``cluster_summary.csv`` was
    written, why not or which dimensions it leaves out, and its rows."""
    from sizecheck.pipeline import CLUSTER_MIN_PRODUCERS

    cluster = getattr(analysis, "cluster", None)
    written = cluster is not None and len(cluster.summary) > 0
    return {
        "written": written,
        "min_producers": CLUSTER_MIN_PRODUCERS,
        "note": getattr(analysis, "cluster_note", ""),
        "left_out": dict(getattr(analysis, "cluster_left_out", {})),
        "summary": _records(cluster.summary) if written and cluster is not None else [],
    }


def _lots_dict(analysis: Analysis) -> dict[str, Any]:
    """The ``lots`` entry of ``summary.json``: the plan, the counts and every decision."""
    plan = getattr(analysis, "lot_plan", None)
    if plan is None:
        return {}
    from sizecheck.findings import lot_counts_of

    lots = analysis.lots
    counts = {d: int((lots["decision"] == d).sum()) if len(lots) else 0
              for d in ("accept", "reject", "under_sampled")}  # fmt: skip
    # lots as terminal, report and card count them: a lot rejected on any measurement
    judged = lot_counts_of(analysis.findings)
    del judged["producers"]
    return {"lots": {"plan": plan.to_dict(), "plan_source": plan.source,
                     "decisions": counts, "judged_lots": judged,
                     "lots": _records(lots)}}  # fmt: skip


def _lots_frame(lots: pd.DataFrame) -> pd.DataFrame:
    """``lots.csv``: the contract columns first (header only when no lot was judged)."""
    import pandas as pd

    if lots is None or lots.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in LOT_COLUMNS})
    rest = [c for c in lots.columns if c not in LOT_COLUMNS]
    return lots.loc[:, [*LOT_COLUMNS, *rest]]


#: Formats ``deviations`` can be written in: ``auto`` (the default) chooses CSV while
#: the rows fit a spreadsheet and Parquet beyond (:func:`choose_deviations_format`);
#: ``csv`` is the contract's CSV whatever its length; ``parquet`` has typed columns, full
#: precision, is ~18x smaller and ~4x faster to write at a million shoes, and is read by
#: pandas, R, DuckDB...
DEVIATION_FORMATS = ("auto", "csv", "parquet")

#: Data rows a spreadsheet opens: Excel and LibreOffice Calc hold 1,048,576 rows, the
#: header included (Excel specifications and limits, "Worksheet size").
SPREADSHEET_ROWS = 1_048_575

#: The files the deviations may be written to, one per written format.
_DEVIATION_FILES = ("deviations.csv", "deviations.parquet")


@dataclass(frozen=True)
class DeviationsChoice:
    """Which file the deviations go to, and why.

    Attributes
    ----------
    requested : {"auto", "csv", "parquet"}
        The format asked for (``--deviations``).
    format : {"csv", "parquet"}
        The format written.
    rows : int
        Rows of the deviations (one per accepted measurement).
    spreadsheet_rows : int
        Data rows a spreadsheet opens (:data:`SPREADSHEET_ROWS`).
    reason : {"fits_spreadsheet", "too_many_rows", "requested"}
        ``auto`` chose CSV because the rows fit a spreadsheet, or Parquet because they
        do not; or the format was asked for by name.
    """

    requested: str
    format: str
    rows: int
    spreadsheet_rows: int
    reason: str

    @property
    def name(self) -> str:
        """The file name: ``deviations.csv`` or ``deviations.parquet``."""
        return f"deviations.{self.format}"

    @property
    def fits_spreadsheet(self) -> bool:
        """Whether a spreadsheet opens every row of the file, were it a CSV."""
        return self.rows <= self.spreadsheet_rows

    def to_dict(self) -> dict[str, Any]:
        """The ``deviations`` entry of ``summary.json``."""
        return {"file": self.name, **asdict(self)}


def _check_deviations_format(fmt: str) -> str:
    if fmt not in DEVIATION_FORMATS:
        raise UsageError(
            f"Unknown deviations format {fmt!r}; choose one of {', '.join(DEVIATION_FORMATS)}."
        )
    return fmt


def choose_deviations_format(requested: str, rows: int) -> DeviationsChoice:
    """The format the deviations are written in for ``--deviations requested``.

    ``auto`` writes CSV while the ``rows`` (plus the header) fit a spreadsheet
    (:data:`SPREADSHEET_ROWS` data rows), so that a QA officer can open the file, and
    Parquet beyond, where no spreadsheet would open it and the CSV costs the most to
    write (about 540 MB for a million shoes × 3 dimensions). ``csv`` and ``parquet`` are
    written as asked.

    Raises
    ------
    UsageError
        ``requested`` is not one of :data:`DEVIATION_FORMATS`.

    Examples
    --------
    >>> choose_deviations_format("auto", 2_000).name
    'deviations.csv'
    >>> choose_deviations_format("auto", 3_000_000).reason
    'too_many_rows'
    >>> choose_deviations_format("csv", 3_000_000).name
    'deviations.csv'
    """
    _check_deviations_format(requested)
    limit = SPREADSHEET_ROWS
    if requested != "auto":
        return DeviationsChoice(requested, requested, rows, limit, "requested")
    if rows <= limit:
        return DeviationsChoice(requested, "csv", rows, limit, "fits_spreadsheet")
    return DeviationsChoice(requested, "parquet", rows, limit, "too_many_rows")


def write_deviations(deviations: pd.DataFrame, path: Path, fmt: str = "csv") -> Path:
    """Write the contract columns of ``deviations`` to ``path`` as CSV or Parquet (what
    ``deviations.csv``/``.parquet`` hold; also each file of the Dask engine's folder)."""
    if fmt == "csv":
        decimals = dict.fromkeys(_DEVIATION_ROUNDED, DEVIATION_DECIMALS)
        return _write_csv(deviations, path, OUTPUT_FILES["deviations.csv"], decimals)
    import pyarrow.parquet as pq

    pq.write_table(
        _arrow_table(deviations, f"Writing {path.name}", OUTPUT_FILES["deviations.csv"]), path
    )
    return path


#: The tables ``write_report`` writes after the deviations, in order: file name and the
#: function writing it from the analysis, to the path given, in the run's language. A new
#: output table is one line here: it is then written into the staging folder, checked
#: before the run starts, published with the others, listed in ``summary.json`` and the
#: manifest, and its text cells escaped. A writer may write nothing (see
#: ``OPTIONAL_TABLES``).
REPORT_TABLES: tuple[tuple[str, Callable[[Analysis, Path, str], object]], ...] = (
    ("rejects.csv", lambda a, p, _: _write_csv(a.rejects, p, OUTPUT_FILES["rejects.csv"])),
    (
        "producer_summary.csv",
        lambda a, p, _: _write_csv(a.producer_summary, p, OUTPUT_FILES["producer_summary.csv"]),
    ),
    (
        "size_summary.csv",
        lambda a, p, _: _write_csv(a.size_summary, p, OUTPUT_FILES["size_summary.csv"]),
    ),
    (
        "corrections.csv",
        lambda a, p, _: _write_csv(a.corrections, p, OUTPUT_FILES["corrections.csv"]),
    ),
    ("comparison.csv", lambda a, p, _: _write_csv(a.comparison, p)),
    ("conventions.csv", lambda a, p, _: _write_csv(a.conventions, p)),
    ("lots.csv", lambda a, p, _: _write_lots(a, p)),
    *(
        (book, lambda a, p, lang, book_lang=book_lang: _write_workbook(a, p, lang, book_lang))
        for book_lang, book in (("en", "summary.xlsx"), ("id", "ringkasan.xlsx"))
    ),
    ("cluster_summary.csv", lambda a, p, _: _write_cluster(a, p)),
)


def _write_cluster(analysis: Analysis, path: Path) -> None:
    """``cluster_summary.csv`` (the contract columns, then the researcher's extras), only
    when a dimension was measured at enough producers; otherwise no file (``summary.json``
    and the terminal say why), and an earlier run's is removed when this run is published."""
    cluster = getattr(analysis, "cluster", None)
    if cluster is not None and len(cluster.summary):
        _write_csv(cluster.summary, path)


def _write_lots(analysis: Analysis, path: Path) -> None:
    """``lots.csv``, only when the run judged lots (``--aql``); otherwise no file, and an
    earlier run's ``lots.csv`` is removed when this run is published."""
    if getattr(analysis, "lot_plan", None) is not None:
        _write_csv(_lots_frame(analysis.lots), path)


def _write_workbook(analysis: Analysis, path: Path, lang: str, book_lang: str) -> None:
    """The workbook in ``book_lang`` (``summary.xlsx`` / ``ringkasan.xlsx``,
    :mod:`sizecheck.workbook`), only when that is the run's language: a run writes one,
    and the other one, left by an earlier run, is removed when this run is published."""
    if lang == book_lang:
        from sizecheck.workbook import write_workbook

        write_workbook(analysis, path, lang=lang)


#: Tables of ``REPORT_TABLES`` written only with some options or data (``lots.csv``:
#: ``--aql``; the workbook: in the run's language; ``cluster_summary.csv``: a dimension
#: measured at 3 producers or more).
OPTIONAL_TABLES = frozenset({"lots.csv", "summary.xlsx", "ringkasan.xlsx", "cluster_summary.csv"})

#: Every name ``write_report`` may write at the top of ``--out`` whatever the data and
#: options: checked before the long work starts, so that a file of the user's there stops
#: the run at once (the charts, cards and optional tables are checked before they are
#: drawn or published; a user's ``lots.csv`` stops only a run that writes one).
MEASURE_NAMES: tuple[str, ...] = (
    *_DEVIATION_FILES,
    *(name for name, _ in REPORT_TABLES if name not in OPTIONAL_TABLES),
    "summary.json",
)

#: What ``write_visuals`` writes, as names of the output folder: it replaces these.
VISUAL_NAMES: tuple[str, ...] = ("charts", "cards", "report.html")
#: The same, as checked before drawing (``/``: a folder).
_VISUAL_CHECK = ("charts/", "cards/", "report.html")


class EarlyDeviations:
    """Write the deviations in a background thread while the statistics run.

    The deviations are by far the largest output (``deviations.csv`` is about 540 MB
    for a million shoes × 3 dimensions) and pyarrow writes them without holding the
    GIL, so ``sizecheck measure`` starts as soon as the deviations exist and computes the
    statistics meanwhile, on the other core. The format is chosen then, from the number
    of rows (:func:`choose_deviations_format`; :attr:`choice` afterwards). Use it as a
    context manager around
    :func:`~sizecheck.pipeline.analyse` (as its ``on_compared`` callback) and
    :func:`write_report` (as its ``early`` argument)::

        with EarlyDeviations(out, inputs) as early:
            analysis = analyse(inputs, on_compared=early)
            write_report(analysis, out, early=early)

    Entering opens the output folder (:class:`sizecheck.publish.OutputFolder`): it takes
    the folder's lock, so a second run into it is refused before any work, and the file is
    written into the run's staging folder. :func:`write_report` writes the other outputs
    beside it and publishes them all together; if the run fails or is interrupted before
    that, nothing is published and the previous run's files stay as they were. ``out`` is
    checked (not empty, not a file, holds no input where an output goes, no file of the
    user's at an output's name) at construction, before the long work starts.
    """

    def __init__(self, out: str | Path, inputs: Sequence[str | Path], fmt: str = "auto") -> None:
        from sizecheck.publish import OutputFolder

        self.fmt = _check_deviations_format(fmt)
        #: The format chosen when writing started (None before).
        self.choice: DeviationsChoice | None = None
        self.folder = OutputFolder(out, inputs=inputs, expect=MEASURE_NAMES)
        self.root = self.folder.root
        self._future: Future[Path] | None = None
        self._pool: ThreadPoolExecutor | None = None

    def __call__(self, deviations: pd.DataFrame) -> None:
        """Start writing ``deviations`` (once; a second call is refused)."""
        if self._future is not None:
            raise UsageError("EarlyDeviations has already started writing the deviations.")
        columns = OUTPUT_FILES["deviations.csv"]
        require_columns(deviations, columns, "Writing the deviations", error=UsageError)
        choice = choose_deviations_format(self.fmt, len(deviations))
        # the contract columns, taken here: copy-on-write keeps them as they are now even
        # if the caller goes on to change its frame while the thread formats them
        frame = deviations.loc[:, list(columns)]
        with self.folder.open().writing(choice.name) as path:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="sizecheck-deviations")
            self._future = self._pool.submit(write_deviations, frame, path, choice.format)
        self.choice = choice

    @property
    def started(self) -> bool:
        """Whether writing has started (``analyse`` got as far as the deviations)."""
        return self._future is not None

    def finish(self) -> Path:
        """Wait until the file is written; return its path in the staging folder."""
        if self._future is None or self.choice is None:
            raise UsageError("EarlyDeviations has not started writing.")
        try:
            return self._future.result()
        except OSError as exc:
            raise self.folder.write_error(self.choice.name, exc) from exc

    def __enter__(self) -> EarlyDeviations:
        self.folder.open()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._future is not None:
            wait([self._future])  # the thread finishes its file before it is removed
        if self._pool is not None:
            self._pool.shutdown()
        self.folder.close()


def write_report(
    analysis: Analysis,
    out: str | Path,
    *,
    lang: str = "en",
    charts: bool = True,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    deviations_format: str = "auto",
    early: EarlyDeviations | None = None,
) -> list[Path]:
    """Write every output of ``sizecheck measure`` into ``out`` and return the paths.

    The files are written into a staging folder inside ``out`` and published together
    when all are written (see :mod:`sizecheck.publish`): a run that fails publishes
    nothing, and only the files of the previous run (listed in its manifest) are replaced
    or removed. The returned paths end with the manifest.

    Parameters
    ----------
    analysis : Analysis
        The result of :func:`sizecheck.pipeline.analyse`.
    out : path
        The output folder, created if missing. Nothing is written outside it, and a
        file that is one of the inputs is never overwritten.
    lang : {"en", "id"}
        Language of what a person reads (charts, report, cards, and the workbook:
        ``summary.xlsx`` in English, ``ringkasan.xlsx`` in Indonesian).
    charts : bool
        Also write ``charts/``, ``report.html`` and ``cards/`` (``--no-charts`` skips;
        those of a previous run are then removed, so the folder holds one run).
    jobs : int, optional
        Processes used to render charts (default: the number of cores).
    progress : callable, optional
        Called as ``progress(done, total)`` while charts are rendered.
    deviations_format : {"auto", "csv", "parquet"}
        ``auto`` (default): ``deviations.csv`` while the rows fit a spreadsheet,
        ``deviations.parquet`` beyond (:func:`choose_deviations_format`); or the format
        named. The other file, left by an earlier run, is removed. ``summary.json``
        records the choice and its reason under ``deviations``.
    early : EarlyDeviations, optional
        A writer already writing ``analysis.deviations`` for ``out`` in the same format:
        its file is used instead of writing the deviations again, and its output folder
        (and lock) is the one published.

    Raises
    ------
    sizecheck.publish.OutputLockedError
        Another run is writing into ``out``.
    sizecheck.publish.OutputConflictError
        ``out`` holds a file, folder or link of the user's where an output goes.
    sizecheck.publish.OutputError
        ``out`` cannot be written (permissions, disk full, a parent is a file).
    """
    from sizecheck.i18n import check_lang
    from sizecheck.publish import OutputFolder

    lang = check_lang(lang)
    # the Dask engine's analysis holds no rows of deviations, only their number
    rows = getattr(analysis, "n_deviations", None)
    rows = len(analysis.deviations) if rows is None else rows
    choice = choose_deviations_format(deviations_format, rows)
    if early is not None:
        if early.choice is not None and early.choice != choice:
            raise UsageError(f"EarlyDeviations writes {early.choice.name}, not {choice.name}.")
        if early.root != Path(out).resolve():
            raise UsageError("EarlyDeviations was made for another output folder.")
        return _publish_report(
            analysis, early.folder.open(), choice, lang, charts, jobs, progress, early
        )
    inputs = [f.path for f in analysis.inputs if f.kind == "file"]
    with OutputFolder(out, inputs=inputs, expect=MEASURE_NAMES) as folder:
        return _publish_report(analysis, folder, choice, lang, charts, jobs, progress, None)


def _publish_report(
    analysis: Analysis,
    folder: OutputFolder,
    choice: DeviationsChoice,
    lang: str,
    charts: bool,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    early: EarlyDeviations | None,
) -> list[Path]:
    """Write every output into ``folder``'s staging folder, then publish them."""
    # the deviations first, as the other outputs are built from them
    if early is not None and early.started:
        early.finish()
    else:
        with folder.writing(choice.name) as path:
            write_deviations(analysis.deviations, path, choice.format)
    # rejects.csv gives each reason in the reader's language (codes stay English)
    tables = replace(analysis, rejects=localized_rejects(analysis.rejects, lang))
    for table_name, write in REPORT_TABLES:
        with folder.writing(table_name) as path:
            write(tables, path, lang)
    summary = summary_dict(analysis)
    summary["deviations"] = choice.to_dict()
    if charts:
        folder.check(_VISUAL_CHECK)  # before the drawing, which takes the time
        _stage_visuals(analysis, folder, lang=lang, jobs=jobs, progress=progress)
    summary["outputs"] = [*folder.staged, "summary.json"]
    with folder.writing("summary.json") as path:
        path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return folder.commit()


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


# --------------------------------------------------------------------------------------
# Charts, report.html and cards (write_visuals)
# --------------------------------------------------------------------------------------

#: Fewer producers than this are rendered in this process (starting workers costs more).
SERIAL_BELOW = 8

#: Resolution of the PNG charts.
CHART_DPI = 100

_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)


def safe_slug(name: str, taken: set[str], *, max_length: int = 60) -> str:
    """A file-name-safe, unique slug for ``name``, recorded in ``taken``.

    Non-ASCII letters are transliterated (NFKD, accents dropped, the rest removed), every
    run of other characters (slashes, dots, quotes, spaces) becomes one ``-``, the result
    is lower case, at most ``max_length`` characters, never empty (``producer``), never a
    Windows device name (``con`` → ``con-file``), and unique in ``taken`` (``-2``, ``-3``…).

    Parameters
    ----------
    name : str
    taken : set of str
        Slugs already used; the new slug is added to it.
    max_length : int, default 60

    Returns
    -------
    str

    Examples
    --------
    >>> taken = set()
    >>> [safe_slug(n, taken) for n in ["../../evil", "CON", "ÜNAL ŞEN", ".hidden", "", "con"]]
    ['evil', 'con-file', 'unal-sen', 'hidden', 'producer', 'con-file-2']
    """
    import re
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:max_length].rstrip("-") or "producer"
    if slug in _WINDOWS_RESERVED:
        slug = f"{slug}-file"
    candidate, i = slug, 2
    while candidate in taken:
        candidate = f"{slug}-{i}"
        i += 1
    taken.add(candidate)
    return candidate


def _png(
    plot: Callable[..., Any],
    figsize: tuple[float, float],
    dpi: int,
    *,
    footer: str = "",
    **kwargs: Any,
) -> EncodedChart:
    """:func:`sizecheck.plotting.layout.chart_figure` (no pyplot), drawn once and encoded
    as a palette PNG (``charts/``) and a lossless WebP (``report.html``)."""
    from sizecheck.plotting.layout import chart_figure, encode_chart

    return encode_chart(chart_figure(plot, figsize, dpi=dpi, footer=footer, **kwargs))


def _dimensions(analysis: Analysis) -> list[str]:
    ps = analysis.producer_summary
    return sorted(ps["dimension"].astype("str").unique().tolist()) if len(ps) else []


def chart_footer(analysis: Analysis, lang: str) -> str:
    """The line every chart carries: the reference table's name and status."""
    from sizecheck.i18n import has_key, t

    table = analysis.table
    key = f"table_status.{table.status}"
    status = t(key, lang) if has_key(key, lang) else table.status
    return t("chart.footer", lang, name=table.name, status=status)


#: The cluster's effective-size and grading charts draw one line per producer; beyond
#: this many producers (no legend, colours repeat) nobody can tell the lines apart, and
#: the heatmap shows the same per producer and size, so they are not drawn.
CLUSTER_LINES_UP_TO = 12


def cluster_charts(analysis: Analysis) -> list[tuple[str, str]]:
    """The cluster charts ``write_visuals`` draws, as ``(kind, dimension)``.

    A heatmap per dimension; the effective-size and grading charts too while there are
    at most :data:`CLUSTER_LINES_UP_TO` producers; the forest plot of the producers'
    shrunken offsets for each dimension of ``cluster_summary.csv``.
    """
    kinds = ["heatmap"]
    if len(analysis.producers) <= CLUSTER_LINES_UP_TO:
        kinds += ["effective", "grading"]
    cluster = getattr(analysis, "cluster", None)
    studied = set(cluster.summary["dimension"].astype("str")) if cluster is not None else set()
    return [
        (kind, dim)
        for dim in _dimensions(analysis)
        for kind in (*kinds, *(["forest"] if dim in studied else []))
    ]


def producer_charts(finding: Finding) -> list[tuple[str, str]]:
    """The charts ``write_visuals`` draws for one producer, as ``(kind, dimension)``:
    those the report shows, each only where the finding it illustrates was judged.

    From the producer's :class:`~sizecheck.findings.Finding` (its dimensions, all models
    pooled; "main" is its headline's dimension):

    - ``ladder`` for every dimension, except a non-main dimension with too few
      measurements to judge (``insufficient_data``);
    - ``effective`` for the main dimension;
    - ``control`` where a control rule fired (verdict ``drift`` or ``drift_signals > 0``):
      the chart shows the signals the finding counts;
    - ``capability`` where the verdict is ``scatter``: the spread is what is wrong.

    The card draws its own charts (vector, in the PDF).
    """
    main = finding.headline.dimension if finding.headline is not None else None
    planned: list[tuple[str, str]] = []
    for d in finding.dimensions:
        flags = d.flags
        if d.dimension == main or "insufficient_data" not in flags:
            planned.append(("ladder", d.dimension))
        if d.dimension == main:
            planned.append(("effective", d.dimension))
        if "drift" in flags or d.drift_signals > 0:
            planned.append(("control", d.dimension))
        if "scatter" in flags:
            planned.append(("capability", d.dimension))
    return planned


def _render_cluster_chart(
    kind: str,
    dim: str,
    size_summary: pd.DataFrame,
    table: ReferenceTable,
    n_producers: int,
    lang: str,
    dpi: int,
    footer: str,
) -> tuple[str, EncodedChart]:
    """One cluster chart of one dimension, keyed by ``report_html.chart_key``.
    ``size_summary`` is the dimension's rows of the table the chart draws: for
    ``forest``, of the cluster's producer offsets."""
    from sizecheck.plotting import plot_effective_size, plot_grading, plot_heatmap
    from sizecheck.plotting.forest import forest_figsize, plot_forest
    from sizecheck.plotting.style import house_style
    from sizecheck.report_html import chart_key

    common: dict[str, Any] = {"dimension": dim, "lang": lang, "size_summary": size_summary}
    with house_style():
        if kind == "forest":
            # 8 in wide for the axis label; at least 3.8 in tall, so that the legend
            # (lower right) leaves a few producers' rows free
            size = (8.0, max(forest_figsize(len(size_summary))[1], 3.8))
            png = _png(plot_forest, size, dpi, footer=footer, offsets=size_summary,
                       dimension=dim, lang=lang)  # fmt: skip
        elif kind == "heatmap":
            size = (8.0, min(2.2 + 0.32 * n_producers, 40.0))
            png = _png(plot_heatmap, size, dpi, footer=footer, table=table, **common)
        elif kind == "effective":
            png = _png(plot_effective_size, (7.0, 5.0), dpi, footer=footer, **common)
        else:
            png = _png(plot_grading, (7.0, 5.0), dpi, footer=footer, **common)
    return chart_key(kind, dim), png


def _cluster_jobs(
    analysis: Analysis, lang: str, dpi: int
) -> list[tuple[str, str, pd.DataFrame, ReferenceTable, int, str, int, str]]:
    """The arguments of :func:`_render_cluster_chart` for every chart of
    :func:`cluster_charts` (each with its dimension's rows of the size table only)."""
    ss = analysis.size_summary
    dim_of = ss["dimension"].astype("str") if len(ss) else None
    cluster = getattr(analysis, "cluster", None)
    offsets = cluster.offsets if cluster is not None else ss.iloc[0:0]
    offset_dim = offsets["dimension"].astype("str") if len(offsets) else None
    footer = chart_footer(analysis, lang)
    n = len(analysis.producers)

    def rows(kind: str, dim: str) -> pd.DataFrame:
        if kind == "forest":
            return offsets.loc[offset_dim == dim] if offset_dim is not None else offsets
        return ss.loc[dim_of == dim] if dim_of is not None else ss

    return [
        (kind, dim, rows(kind, dim), analysis.table, n, lang, dpi, footer)
        for kind, dim in cluster_charts(analysis)
    ]


def _render_cluster(analysis: Analysis, lang: str, dpi: int) -> dict[str, EncodedChart]:
    """Every cluster chart of :func:`cluster_charts`, keyed by ``chart_key``."""
    return dict(_render_cluster_chart(*job) for job in _cluster_jobs(analysis, lang, dpi))


class _ProducerRows:
    """Where each producer's rows are in every frame of an Analysis, grouped once.

    ``part(producer)`` is the Analysis one producer's charts and card need: its own rows
    of every frame with a ``producer`` column (taken by position, no scan of the whole
    frame per producer), the whole ``size_summary`` (a producer's effective-size chart
    draws the others in grey), no measurements or rejects. Small to send to a worker.
    """

    def __init__(self, analysis: Analysis) -> None:
        import dataclasses

        import pandas as pd

        self.analysis = analysis
        self.positions: dict[str, dict[Any, Any]] = {}
        for f in dataclasses.fields(analysis):
            frame = getattr(analysis, f.name)
            if f.name in ("size_summary", "measurements", "rejects"):
                continue
            if isinstance(frame, pd.DataFrame) and "producer" in frame.columns:
                key = frame["producer"].astype("str")
                self.positions[f.name] = key.groupby(key, sort=False).indices

    def part(self, producer: str) -> Analysis:
        import dataclasses

        import numpy as np

        a = self.analysis
        mine = {
            name: getattr(a, name).iloc[groups.get(producer, np.empty(0, dtype=np.intp))]
            for name, groups in self.positions.items()
        }
        return dataclasses.replace(
            a,
            measurements=a.measurements.iloc[0:0],
            rejects=a.rejects.iloc[0:0],
            accounting=None,
            findings={producer: a.findings[producer]} if producer in a.findings else {},
            **mine,
        )


def _render_producer(
    analysis: Analysis, producer: str, lang: str, dpi: int
) -> tuple[dict[str, EncodedChart], bytes]:
    """The charts of :func:`producer_charts` for one producer, by ``chart_key``, and its
    card (PDF bytes); runs in a worker on the producer's part of the analysis."""
    from sizecheck.cards import render_card
    from sizecheck.findings import finding_for
    from sizecheck.plotting import (
        plot_capability,
        plot_control_chart,
        plot_effective_size,
        plot_size_ladder,
    )
    from sizecheck.plotting.style import house_style
    from sizecheck.report_html import chart_key

    a = analysis
    ps = a.producer_summary
    if "model" in ps.columns:
        ps = ps.loc[ps["model"].astype("str") == ""]  # the charts show all models pooled
    footer = chart_footer(a, lang)
    finding = finding_for(a, producer)
    by_dim = {d.dimension: d for d in finding.dimensions}
    out: dict[str, EncodedChart] = {}
    with house_style():
        for kind, dim in producer_charts(finding):
            common: dict[str, Any] = {
                "producer": producer, "dimension": dim, "lang": lang, "footer": footer,
            }  # fmt: skip
            if kind == "ladder":
                png = _png(plot_size_ladder, (7.0, 4.6), dpi, deviations=a.deviations,
                           size_summary=a.size_summary, current=by_dim.get(dim),
                           **common)  # fmt: skip
            elif kind == "effective":
                png = _png(plot_effective_size, (6.0, 4.6), dpi, size_summary=a.size_summary,
                           **common)  # fmt: skip
            elif kind == "control":
                png = _png(plot_control_chart, (7.0, 4.4), dpi, control_points=a.control_points,
                           signals=a.signals, **common)  # fmt: skip
            else:
                row = ps.loc[(ps["producer"].astype("str") == producer)
                             & (ps["dimension"].astype("str") == dim)].iloc[0]  # fmt: skip
                png = _png(plot_capability, (7.0, 4.2), dpi, deviations=a.deviations,
                           summary_row=row, **common)  # fmt: skip
            out[chart_key(kind, dim, producer)] = png
    return out, render_card(a, producer, lang=lang)


def _render_producer_job(
    args: tuple[Analysis, str, str, int],
) -> tuple[str, tuple[dict[str, EncodedChart], bytes]]:
    """Process-pool entry point (module level, so it pickles under ``spawn``)."""
    analysis, producer, lang, dpi = args
    return producer, _render_producer(analysis, producer, lang, dpi)


def _render_cluster_job(
    args: tuple[str, str, pd.DataFrame, ReferenceTable, int, str, int, str],
) -> tuple[str, EncodedChart]:
    """Process-pool entry point for one cluster chart."""
    return _render_cluster_chart(*args)


def _render_all(
    analysis: Analysis,
    *,
    lang: str,
    dpi: int,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[dict[str, EncodedChart], dict[str, tuple[dict[str, EncodedChart], bytes]]]:
    """Draw every chart and card: ``(cluster charts by key, {producer: (its charts by
    key, its card)})``.

    With at least :data:`SERIAL_BELOW` producers and ``jobs`` > 1, in a pool of worker
    processes (default: all cores; :func:`sizecheck.workers.process_pool`): the cluster
    charts first (the heatmap of
    120 producers is the longest single task), then one task per producer with only its
    part of the analysis (:class:`_ProducerRows`, grouped once), at most two tasks per
    worker waiting so that the parts are not all in memory at once. ``progress(done,
    total)`` counts producers.
    """
    producers = analysis.producers
    total = len(producers)
    results: dict[str, tuple[dict[str, EncodedChart], bytes]] = {}

    def collect(producer: str, result: tuple[dict[str, EncodedChart], bytes]) -> None:
        results[producer] = result
        if progress is not None:
            progress(len(results), total)

    rows = _ProducerRows(analysis)
    workers = worker_count(jobs)
    if len(producers) < SERIAL_BELOW or workers == 1:
        for p in producers:
            collect(p, _render_producer(rows.part(p), p, lang, dpi))
        return _render_cluster(analysis, lang, dpi), results

    from concurrent.futures import FIRST_COMPLETED, wait

    pool = process_pool(min(workers, len(producers)))
    try:
        cluster_futures = [
            pool.submit(_render_cluster_job, job) for job in _cluster_jobs(analysis, lang, dpi)
        ]
        pending: set[Future[Any]] = set(cluster_futures)
        waiting = iter(producers)
        while True:
            while len(pending) < 2 * workers:
                producer = next(waiting, None)
                if producer is None:
                    break
                job = (rows.part(producer), producer, lang, dpi)
                pending.add(pool.submit(_render_producer_job, job))
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                key, value = fut.result()
                if isinstance(value, tuple):
                    collect(key, value)
    except BaseException:
        # Ctrl-C or an error: drop the waiting producers, do not wait for the pool
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    # in the order of the serial run, not the order the workers finished in: the
    # outputs (summary.json's list of charts) are the same from run to run
    cluster = dict(fut.result() for fut in cluster_futures)
    return cluster, {p: results[p] for p in producers}


def write_visuals(
    analysis: Analysis,
    out: str | Path,
    *,
    lang: str = "en",
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    dpi: int = CHART_DPI,
) -> list[Path]:
    """Write ``charts/``, ``report.html`` and ``cards/<producer>.pdf`` into ``out``.

    Charts are 8-bit palette PNG files (:func:`~sizecheck.plotting.layout.encode_chart`;
    the report embeds the same pixels as lossless WebP), the ones the report shows:
    ``charts/<kind>_<dimension>.png`` for the cluster (:func:`cluster_charts`: a heatmap
    per dimension, and the effective-size and grading charts up to
    :data:`CLUSTER_LINES_UP_TO` producers) and
    ``charts/<producer>/<kind>_<dimension>.png`` per producer (:func:`producer_charts`:
    the size ladder, the effective size of the main dimension, a control chart where a
    rule fired, a capability chart where the verdict is ``scatter``). Every chart names
    the reference table and its status in a footer. Producer folder and card names are
    :func:`safe_slug` of the name. Producers are rendered in worker processes
    (:func:`_render_all`) when there are at least :data:`SERIAL_BELOW` of them and
    ``jobs`` allows; workers return bytes and only this process writes. Workers exit
    when this process ends, even if it is killed.

    The files are published as :func:`write_report` publishes (see
    :mod:`sizecheck.publish`): all together when all are drawn, replacing the charts,
    cards and report of the previous run and nothing else.

    Parameters
    ----------
    analysis : Analysis
        The result of :func:`sizecheck.pipeline.analyse`.
    out : path
        Output folder (created if missing). Nothing is written outside it.
    lang : {"en", "id"}, default "en"
        Language of the charts, the report and the cards.
    jobs : int, optional
        Worker processes; default all cores (``os.cpu_count()``). ``1`` renders serially.
    progress : callable, optional
        Called as ``progress(done, total)`` after each producer (``total`` = producers).
    dpi : int, default CHART_DPI
        Resolution of the PNG charts.

    Returns
    -------
    list of Path
        Every file written, sorted, then the manifest.
    """
    from sizecheck.publish import OutputFolder

    inputs = [f.path for f in analysis.inputs if f.kind == "file"]
    with OutputFolder(out, inputs=inputs, expect=_VISUAL_CHECK) as folder:
        _stage_visuals(analysis, folder, lang=lang, jobs=jobs, progress=progress, dpi=dpi)
        *paths, manifest = folder.commit(scope=VISUAL_NAMES)
    return [*sorted(paths), manifest]


def _stage_visuals(
    analysis: Analysis,
    folder: OutputFolder,
    *,
    lang: str,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    dpi: int = CHART_DPI,
) -> None:
    """Draw the charts, cards and report of :func:`write_visuals` into ``folder``."""
    from sizecheck.i18n import check_lang
    from sizecheck.report_html import render_html

    lang = check_lang(lang)
    taken: set[str] = set()
    slugs = {p: safe_slug(p, taken) for p in analysis.producers}
    dim_slugs = {d: safe_slug(d, set()) for d in _dimensions(analysis)}

    cluster, per_producer = _render_all(analysis, lang=lang, dpi=dpi, jobs=jobs, progress=progress)
    images: dict[str, bytes] = {}  # report.html embeds the WebP, charts/ holds the PNG
    for key, chart in cluster.items():
        kind, dim = key.split(":")[1:3]
        folder.write_bytes(f"charts/{kind}_{dim_slugs.get(dim, 'x')}.png", chart.png)
        images[key] = chart.webp
    for producer in analysis.producers:
        charts, card = per_producer[producer]
        slug = slugs[producer]
        folder.write_bytes(f"cards/{slug}.pdf", card)
        for key, chart in charts.items():
            kind, dim = key.split(":")[1:3]
            folder.write_bytes(f"charts/{slug}/{kind}_{dim_slugs.get(dim, 'x')}.png", chart.png)
            images[key] = chart.webp

    html = render_html(analysis, lang=lang, images=images)
    folder.write_bytes("report.html", html.encode("utf-8"))
