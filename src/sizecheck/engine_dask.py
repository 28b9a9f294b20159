"""The whole analysis on Dask: files read where they lie, statistics per producer.

Every statistic sizecheck reports, except those between producers, is computed within
one producer (and model), in time order. So the run partitions by producer:

1. **read and validate** each input file in a task of its own, with the same readers and
   validation as one machine (:func:`sizecheck.validate.read_measurements`): the file is
   the unit because validation looks across its rows (a sample id given twice, a pair
   id with three shoes, whether the column's dates are written day or month first).
   Row numbers are the file's lines (or spreadsheet rows), as on one machine;
2. **compare** the measurements with the table (:func:`sizecheck.compare.compare`) and
   cut each file's deviations into partitions of about ``partition_rows`` rows;
3. **shuffle** the partitions so that each producer lies in one partition (several
   producers may share one), and restore the rows' file order inside it;
4. **analyse** each partition with :func:`sizecheck.pipeline.analyse_deviations` — the
   very code of the one-machine path — and keep only its per-producer tables and
   findings;
5. **between producers**: concatenate the per-producer tables in producer order and
   build ``comparison`` from the size summaries (:func:`sizecheck.stats.
   compare_producers` reads only those).

The deviations are never gathered in this process: with ``deviations_to`` each
partition of step 2 is written as one Parquet file of a folder (``deviations.parquet/``,
read back whole with ``pandas.read_parquet`` or ``dask.dataframe.read_parquet``), in the
same graph as the statistics, so every file is read once. What reaches this process is
the rejects, the accounting and the per-producer tables.

Requires ``pip install 'sizecheck[dask]'`` (``dask[dataframe]`` and ``distributed``).
The computation runs on the Dask scheduler in use: a ``distributed.Client`` made before
the call (a local cluster or a real one), or ``scheduler="tcp://host:8786"``.
"""

from __future__ import annotations

import glob
import itertools
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sizecheck.errors import InputError, UsageError
from sizecheck.pipeline import (
    CLUSTER_COLUMNS,
    Analysis,
    InputFile,
    ReportInfo,
    describe_cluster,
)
from sizecheck.report import EarlyDeviations

if TYPE_CHECKING:
    from sizecheck.findings import Finding
    from sizecheck.gage import GageResult
    from sizecheck.readers import ReadLimits
    from sizecheck.sampling import SamplingPlan
    from sizecheck.stats import Thresholds
    from sizecheck.tables import ReferenceTable
    from sizecheck.validate import Accounting, SourceAccounting

__all__ = [
    "DASK_INSTALL_HINT",
    "DEFAULT_PARTITION_ROWS",
    "DEVIATIONS_FOLDER",
    "DaskAnalysis",
    "DeviationsFolder",
    "analyse_dask",
    "expand_inputs",
    "input_text",
    "measure_dask",
    "require_dask",
]

#: What to run when Dask is missing.
DASK_INSTALL_HINT = (
    "The Dask engine needs the optional extra: pip install 'sizecheck[dask]' "
    "(dask[dataframe] and distributed)."
)

#: Deviations per partition (rows of the long frame, one per measurement): ~100 MB.
DEFAULT_PARTITION_ROWS = 500_000

#: The folder of Parquet files the Dask engine writes the deviations into.
DEVIATIONS_FOLDER = "deviations.parquet"

#: Per-producer tables of :class:`~sizecheck.pipeline.Analysis`, gathered from the
#: partitions and put in producer order (each producer lies in one partition, so its
#: rows keep the order the one-machine code gives them).
PER_PRODUCER_TABLES = (
    "producer_summary",
    "size_summary",
    "model_size_summary",
    "conventions",
    "control_points",
    "signals",
    "shifts",
    "corrections",
    "levels",
    "lots",
)

_GLOB_CHARS = frozenset("*?[")
_ORDER = "_sizecheck_order"


def require_dask() -> None:
    """Raise :class:`~sizecheck.errors.UsageError` with the install line when
    ``dask.dataframe`` or ``distributed`` is missing."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError(DASK_INSTALL_HINT) from None


def _protocol(path: str) -> str | None:
    """The fsspec protocol of ``path`` (``s3``, ``gs``...), None for a local path."""
    head, sep, _ = path.partition("://")
    return head if sep and head not in {"file", ""} else None


def input_text(path: str | os.PathLike[str]) -> str:
    """A command-line input as text, with an URL's ``//`` that ``pathlib`` folds
    (``s3:/bucket/x.csv`` back to ``s3://bucket/x.csv``)."""
    text = os.fspath(path)
    head, sep, rest = text.partition(":/")
    if sep and head.isalnum() and len(head) > 1 and not rest.startswith("/"):
        return f"{head}://{rest}"
    return text


def expand_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """The input files named by ``inputs``: paths, and glob patterns expanded in sorted
    order (``data/2026-*.csv``, ``s3://bucket/cluster/*.csv`` through fsspec).

    Raises
    ------
    InputError
        A pattern matches nothing, or a local path is not a file.
    """
    out: list[str] = []
    for item in inputs:
        text = os.fspath(item)
        proto = _protocol(text)
        if _GLOB_CHARS & set(text):
            if proto is None:
                found = sorted(glob.glob(text))  # noqa: PTH207 (absolute patterns too)
            else:
                import fsspec

                fs, _, paths = fsspec.get_fs_token_paths(text)
                found = sorted(fs.unstrip_protocol(p) for p in paths)
            if not found:
                raise InputError(f"No input file matches {text!r}.")
            out.extend(found)
        else:
            out.append(text)
    for text in out:
        if _protocol(text) is None and not Path(text).is_file():
            raise InputError(f"Input file {text!r} does not exist or is not a file.")
    return out


def _size(path: str) -> int:
    if _protocol(path) is None:
        return Path(path).stat().st_size
    import fsspec

    fs, _, [p] = fsspec.get_fs_token_paths(path)
    return int(fs.size(p))


@dataclass(frozen=True)
class _Options:
    """Reading and validation options, the same for every file."""

    sep: str | None
    decimal: str | None
    encoding: str | None
    sheet: str | None
    units: str
    limits: ReadLimits | None


@dataclass
class _FileResult:
    """What one file gave: everything small about it, and where its deviations went."""

    rejects: pd.DataFrame
    sources: list[SourceAccounting]
    notes: tuple[str, ...]
    missing: list[str]
    input_file: InputFile
    #: Rows of each part of the file's deviations, in file order.
    rows: list[int]
    #: The parts as the analysis reads them (every column), in the scratch folder.
    scratch: list[str]
    #: The parts of ``deviations.parquet/`` (contract columns), when asked for.
    written: list[str]


def _read_file(
    path: str, label: str, index: int, ref: ReferenceTable, opts: _Options,
    columns: tuple[str, ...], partition_rows: int, scratch: str, out: str | None,
    categorical: dict[str, Any],
) -> _FileResult:  # fmt: skip
    """Read, validate and compare one file (in a worker); write its deviations in parts of
    ``partition_rows`` rows: every column into ``scratch`` (read back by the analysis) and
    the contract columns into ``out`` (``deviations.parquet/``). Only what is small is
    returned, so a worker holds one file at a time, however many files there are."""
    import tempfile

    from sizecheck.compare import compare
    from sizecheck.pipeline import file_sha256
    from sizecheck.validate import read_measurements

    with tempfile.TemporaryDirectory(prefix="sizecheck-") as tmp:
        local = Path(path)
        if _protocol(path) is not None:  # object storage: a local copy, read as usual
            import fsspec

            local = Path(tmp) / Path(path.split("://", 1)[1]).name
            with fsspec.open(path, "rb") as src, local.open("wb") as dst:
                while chunk := src.read(1 << 24):
                    dst.write(chunk)
        validated = read_measurements(
            [local], table=ref, sep=opts.sep, decimal=opts.decimal, encoding=opts.encoding,
            sheet=opts.sheet, units=opts.units, limits=opts.limits,
        )  # fmt: skip
        info = InputFile(path, label, file_sha256(local), local.stat().st_size)
    if label != local.name:  # the label one machine gives (the path when names clash)
        validated = _relabel(validated, local.name, label)
    compared = compare(validated.measurements, ref)
    dev = compared.deviations.loc[:, list(columns)]  # the file's other columns stay out
    n_parts = max(1, math.ceil(len(dev) / partition_rows))
    bounds = [round(i * len(dev) / n_parts) for i in range(n_parts + 1)]
    rows, scratch_paths, written = [], [], []
    for j, (a, b) in enumerate(itertools.pairwise(bounds)):
        part = dev.iloc[a:b]
        name = f"{index:05d}.{j:05d}.parquet"
        part.to_parquet(Path(scratch) / name, index=False)
        scratch_paths.append(str(Path(scratch) / name))
        if out is not None:
            written.append(str(Path(out) / f"file.{name}"))
            _write_part(part, Path(written[-1]), categorical)
        rows.append(b - a)
    return _FileResult(
        validated.rejects, list(validated.accounting.sources), validated.notes,
        compared.missing_dimensions, info, rows, scratch_paths, written,
    )  # fmt: skip


def _load_part(spec: tuple[str, int]) -> pd.DataFrame:
    """One part of the deviations from the scratch folder as the shuffle moves it: text
    for categories, and each row's place in the input (file, then row) in ``_ORDER``."""
    path, start = spec
    dev = pd.read_parquet(path)
    frame = pd.DataFrame({c: _plain(dev[c]) for c in dev.columns})
    frame[_ORDER] = start + pd.RangeIndex(len(frame)).to_numpy(dtype="int64")
    return frame


def _relabel(validated: Any, name: str, label: str) -> Any:
    """``validated`` with the source ``name`` (and ``name#sheet``) written as ``label``."""
    from sizecheck.validate import Accounting

    def swap(text: str) -> str:
        return label + text[len(name) :] if text.startswith(name) else text

    m = validated.measurements.copy()
    m["source"] = m["source"].astype("str").map(swap).astype("category")
    r = validated.rejects.copy()
    r["source"] = r["source"].astype("str").map(swap)
    sources = [replace(s, source=swap(s.source)) for s in validated.accounting.sources]
    return replace(
        validated, measurements=m, rejects=r, accounting=Accounting.from_sources(sources)
    )


def _plain(col: pd.Series) -> pd.Series:
    """A column as the partitions hold it: categories as text (each file has its own
    categories; text concatenates and shuffles alike everywhere)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.astype("str").where(col.notna(), None).astype("str")
    return col


def _write_part(part: pd.DataFrame, path: Path, categorical: dict[str, Any]) -> int:
    """Write one partition of the deviations as ``deviations.parquet`` is written (the
    columns held as categories there are dictionary-encoded here too)."""
    from sizecheck.report import OUTPUT_FILES, write_deviations

    columns = OUTPUT_FILES["deviations.csv"]
    frame = pd.DataFrame({c: _plain(part[c]) for c in columns})
    write_deviations(frame.astype({c: categorical[c] for c in columns if c in categorical}),
                     path, "parquet")  # fmt: skip
    return len(part)


@dataclass(frozen=True)
class _Settings:
    ref: ReferenceTable
    thresholds: Thresholds
    rules: tuple[str, ...]
    resolution: float | None
    lot_plan: SamplingPlan | None


def _analyse_part(part: pd.DataFrame, s: _Settings) -> dict[str, Any]:
    """The per-producer tables and findings of one partition (whole producers), by the
    one-machine code, :func:`sizecheck.pipeline.analyse_deviations`."""
    from sizecheck.pipeline import analyse_deviations

    if part.empty:
        return {}
    dev = part.sort_values(_ORDER, kind="stable").drop(columns=_ORDER).reset_index(drop=True)
    a = analyse_deviations(
        dev, table=s.ref, thresholds=s.thresholds, drift_rules=s.rules,
        resolution=s.resolution, lot_plan=s.lot_plan,
    )  # fmt: skip
    out: dict[str, Any] = {name: getattr(a, name) for name in PER_PRODUCER_TABLES}
    out["findings"] = a.findings
    return out


#: A partition's analysis as the shuffled frame carries it: one row, one object.
_RESULT_META = pd.DataFrame({"result": pd.Series([], dtype=object)})


def _analyse_frame(part: pd.DataFrame, s: _Settings) -> pd.DataFrame:
    """:func:`_analyse_part` of a partition of the shuffled frame, in a one-row frame, so
    that a partition is analysed by a task of the frame (``map_partitions``) as soon as
    the shuffle hands it over."""
    result = pd.Series([_analyse_part(part, s)], dtype=object)  # a dict, as one object
    return pd.DataFrame({"result": result})


def _result(frame: pd.DataFrame) -> dict[str, Any]:
    result: dict[str, Any] = frame["result"].iloc[0]
    return result


def _by_producer(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Per-producer tables of the partitions in producer order. Each producer's rows
    come from one partition, in the order the one-machine code gives them, and the
    one-machine tables are sorted by producer first: a stable sort by producer alone
    gives the same table."""
    frames = [f for f in frames if not (f.empty and len(f.columns) == 0)]
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if "producer" not in out.columns or out.empty:
        return out.reset_index(drop=True)
    order = out["producer"].astype("str").sort_values(kind="stable").index
    return out.loc[order].reset_index(drop=True)


def _number_parts(parts: Sequence[Path]) -> list[Path]:
    """The parts of ``deviations.parquet/`` (named by file and part as the tasks wrote
    them) renamed ``part.00000.parquet``... in file order."""
    out = []
    for j, path in enumerate(parts):
        out.append(path.with_name(f"part.{j:05d}.parquet"))
        path.rename(out[-1])
    return out


def _cluster_rows(parts: Sequence[str]) -> pd.DataFrame:
    """The rows the cluster model uses (a reference, a deviation), only the columns it
    reads, from every part in file order: the rows, values and order of the one-machine
    deviations. About 70 bytes a row in this process (see docs/dask.md)."""
    frames = []
    for path in parts:
        rows = pd.read_parquet(path, columns=list(CLUSTER_COLUMNS))
        usable = (rows["status"].astype("str") != "no_reference") & rows["deviation_mm"].notna()
        frames.append(rows.loc[usable])
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return out.reset_index(drop=True)


def _judge_whole_family(analysis: DaskAnalysis) -> None:
    """Adjust the tests over the whole family, as one machine does: the partitions
    adjusted each their own producers. The family is the rows of one grouping of the
    producer summary (pooled over models, or per model), as in
    :func:`sizecheck.stats.producer_summary`; the adjusted p-values and the verdicts are
    recomputed over it by the same functions (:func:`sizecheck.stats.verdicts.p_values`,
    :func:`~sizecheck.stats.verdicts.verdicts`), then the findings from the tables
    (:func:`sizecheck.findings.build_findings`), keeping each producer's dates, which
    only its partition saw."""
    from sizecheck.findings import build_findings
    from sizecheck.stats.verdicts import p_values, verdicts

    summary = analysis.producer_summary.copy()
    pooled = (summary["model"].astype("str") == "").to_numpy()
    for level in (pooled, ~pooled):
        if not level.any():
            continue
        rows = summary.loc[level]
        tests = p_values(rows, analysis.thresholds)
        summary.loc[level, "verdict"] = verdicts(rows, analysis.thresholds).to_numpy()
        for column in tests.columns:
            if column.endswith("_p_adjusted"):
                summary.loc[level, column] = tests[column].to_numpy()
    analysis.producer_summary = summary
    dates = {p: (f.first_date, f.last_date) for p, f in analysis.findings.items()}
    analysis.findings = {
        p: replace(f, first_date=dates[p][0], last_date=dates[p][1])
        for p, f in build_findings(analysis).items()
    }


@dataclass
class DaskAnalysis(Analysis):
    """The :class:`~sizecheck.pipeline.Analysis` of :func:`analyse_dask`.

    ``deviations`` and ``measurements`` are empty frames with their columns: the rows
    stay in the partitions. Added attributes: ``n_deviations`` (rows of the deviations),
    ``partitions`` (parts of the files, before the shuffle), ``shuffled_partitions``
    (after it) and ``deviations_files`` (the Parquet files written with
    ``deviations_to``, in file order).
    """

    n_deviations: int = 0
    partitions: int = 0
    shuffled_partitions: int = 0
    deviations_files: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class _Frames:
    """The columns of the deviations, as frames without rows: what Dask is told to expect."""

    no_measurements: pd.DataFrame  # validate's measurements, no rows
    deviations: pd.DataFrame  # compare's deviations, no rows (its dtypes)
    meta: pd.DataFrame  # the parts as written: plain dtypes and the row order column
    #: the categories of a column: fixed ones (status) as they are, else the partition's
    categorical: dict[str, Any]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.deviations.columns)


def _frames(ref: ReferenceTable) -> _Frames:
    """The empty measurement and deviation frames of ``ref``, and the parts' ``meta``."""
    from sizecheck.compare import compare
    from sizecheck.validate import validate

    no_measurements = validate([], table=ref).measurements  # the columns, no rows
    meta_full = compare(no_measurements, ref).deviations
    columns = tuple(meta_full.columns)
    meta = pd.DataFrame({c: _plain(meta_full[c]) for c in columns})
    meta[_ORDER] = pd.Series([], dtype="int64")
    categorical: dict[str, Any] = {
        c: meta_full[c].dtype if len(meta_full[c].cat.categories) else "category"
        for c in columns
        if isinstance(meta_full[c].dtype, pd.CategoricalDtype)
    }
    return _Frames(no_measurements, meta_full, meta, categorical)


def _table_and_gage(
    inputs: Sequence[str | os.PathLike[str]],
    partition_rows: int,
    table: str | Path | ReferenceTable,
    gage: str | Path | GageResult | None,
) -> tuple[ReferenceTable, GageResult | None]:
    """Check there are inputs and a partition size; load the table and judge the gage study
    against it."""
    from sizecheck.gage import judge_gage, load_gage
    from sizecheck.tables import ReferenceTable, load_table

    if not inputs:
        raise InputError("No input file given. Pass one or more CSV/XLSX files, or --example.")
    if partition_rows < 1:
        raise UsageError(f"partition_rows must be at least 1, not {partition_rows}.")
    ref = table if isinstance(table, ReferenceTable) else load_table(table)
    gage_result = None
    if gage is not None:
        gage_result = judge_gage(gage if not isinstance(gage, str | Path) else load_gage(gage), ref)
    return ref, gage_result


def _gather(
    results: Sequence[dict[str, Any]],
) -> tuple[dict[str, pd.DataFrame], dict[str, Finding]]:
    """The partitions' per-producer tables joined in producer order, and their findings
    sorted by producer."""
    tables = {name: _by_producer([r[name] for r in results if r]) for name in PER_PRODUCER_TABLES}
    findings: dict[str, Finding] = {}
    for r in results:
        findings.update(r.get("findings", {}))
    return tables, {p: findings[p] for p in sorted(findings)}


def _input_labels(inputs: Sequence[str | os.PathLike[str]]) -> tuple[list[str], list[str]]:
    """The input paths (local ones in pathlib's form, URLs as given) and their labels: the
    file name, or the whole path where two inputs share a name."""
    paths = [p if _protocol(p) else str(Path(p)) for p in expand_inputs(inputs)]
    names = [Path(p.split("://", 1)[-1]).name for p in paths]
    labels = [n if names.count(n) == 1 else p for n, p in zip(names, paths, strict=True)]
    return paths, labels


def _folders(
    scratch: str | Path | None, deviations_to: str | Path | None
) -> tuple[Path, Path | None]:
    """A new scratch folder (in ``scratch``, else beside ``deviations_to``, else the
    system's temporary folder) and the ``deviations.parquet/`` folder, both created."""
    tmp_root = Path(scratch) if scratch is not None else None
    if tmp_root is None and deviations_to is not None:
        tmp_root = Path(deviations_to).parent
    if tmp_root is not None:
        tmp_root.mkdir(parents=True, exist_ok=True)
    scratch_dir = Path(tempfile.mkdtemp(prefix=".sizecheck-dask-", dir=tmp_root))
    out_dir = Path(deviations_to) if deviations_to is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    return scratch_dir, out_dir


def _connect(scheduler: str | None) -> tuple[Any, Any]:
    """A ``(local cluster, client)`` for ``scheduler``: ``"local"`` starts a cluster of one
    process per core, an address connects to it, ``None`` uses Dask's default scheduler."""
    local_cluster: Any = None
    client: Any = None
    if scheduler == "local":  # a cluster for this run: one process per core
        from distributed import Client, LocalCluster

        local_cluster = LocalCluster(
            n_workers=os.cpu_count() or 1, threads_per_worker=1, dashboard_address=None
        )
        client = Client(local_cluster)
    elif scheduler is not None:
        from distributed import Client

        client = Client(scheduler)
    return local_cluster, client


def _read_files(
    paths: Sequence[str], labels: Sequence[str], ref: ReferenceTable, opts: _Options,
    frames: _Frames, partition_rows: int, scratch_dir: Path, out_dir: Path | None,
) -> list[_FileResult]:  # fmt: skip
    """Each file read, validated, compared and written in parts, by one task per file."""
    from dask.base import compute
    from dask.delayed import delayed

    run = scratch_dir.name
    into = (str(scratch_dir), None if out_dir is None else str(out_dir), frames.categorical)
    reads = [
        delayed(_read_file, pure=False)(
            path,
            label,
            i,
            ref,
            opts,
            frames.columns,
            partition_rows,
            *into,
            dask_key_name=f"sizecheck-read-{i}-{run}",
        )
        for i, (path, label) in enumerate(zip(paths, labels, strict=True))
    ]
    (small,) = compute(reads)  # type: ignore[no-untyped-call]
    return list(small)


def _check_usable(
    accounting: Accounting, rejects: pd.DataFrame, labels: Sequence[str], ref: ReferenceTable
) -> None:
    """Raise when no row of any file was used, with the commonest reasons."""
    if accounting.rows_used == 0:
        codes = rejects["code"].astype(str).value_counts()
        reasons = ", ".join(f"{c} {k}" for c, k in codes.head(4).items()) or "no data rows"
        raise InputError(
            f"No usable measurement in {', '.join(labels)} against table {ref.name!r}: "
            f"every row was rejected or skipped ({reasons}). Run 'sizecheck validate' on "
            "the file(s) for the rows and reasons, or check --table."
        )


def _analyse_parts(
    small: Sequence[_FileResult], meta: pd.DataFrame, settings: _Settings, partition_rows: int
) -> tuple[list[dict[str, Any]], int, int, int]:
    """The parts read back, shuffled so each producer lies in one partition of about
    ``partition_rows`` rows (several producers may share one), and analysed; returns the
    per-partition results, the number of rows, of parts and of shuffled partitions."""
    import dask
    import dask.dataframe as dd
    from dask.base import compute
    from dask.delayed import delayed

    specs: list[tuple[str, int]] = []
    for i, r in enumerate(small):
        start = i << 40  # the row's place: its file, then its row in the file
        for part, rows in zip(r.scratch, r.rows, strict=True):
            specs.append((part, start))
            start += rows
    n_rows = sum(sum(r.rows) for r in small)
    n_out = max(1, math.ceil(n_rows / partition_rows))
    # the parts hold text as pandas' own string dtype already: no conversion step
    with dask.config.set({"dataframe.convert-string": False}):
        frame = dd.from_map(_load_part, specs, meta=meta, label="sizecheck-load")  # type: ignore[no-untyped-call]
        shuffled = frame.shuffle("producer", npartitions=n_out)
        # each partition analysed as it is unpacked, its rows dropped when it is done
        analysed = shuffled.map_partitions(_analyse_frame, settings, meta=_RESULT_META)
        (results,) = compute([delayed(_result)(p) for p in analysed.to_delayed()])  # type: ignore[no-untyped-call]
    return list(results), n_rows, len(specs), int(shuffled.npartitions)


def analyse_dask(
    inputs: Sequence[str | os.PathLike[str]],
    *,
    table: str | Path | ReferenceTable = "paris-point",
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    units: str = "mm",
    thresholds: Thresholds | None = None,
    drift_rules: Sequence[str] | None = None,
    synthetic: bool = False,
    lot_plan: SamplingPlan | None = None,
    gage: str | Path | GageResult | None = None,
    resolution: float | None = None,
    limits: ReadLimits | None = None,
    scheduler: str | None = None,
    partition_rows: int = DEFAULT_PARTITION_ROWS,
    deviations_to: str | Path | None = None,
    cluster: bool = True,
    scratch: str | Path | None = None,
) -> DaskAnalysis:
    """:func:`sizecheck.pipeline.analyse` on Dask: the same tables, partitioned by producer.

    Parameters
    ----------
    inputs : sequence of path or str
        Measurement files (CSV/TSV/XLSX), glob patterns (``data/*.csv``), and fsspec
        URLs (``s3://bucket/cluster/*.csv``, with ``s3fs`` installed on every worker).
    table, sep, decimal, encoding, sheet, units, thresholds, drift_rules, synthetic, \
lot_plan, gage, resolution, limits
        As for :func:`sizecheck.pipeline.analyse`.
    scheduler : str, optional
        Address of a ``dask-scheduler`` (``tcp://10.0.0.5:8786``), or ``"local"``: a
        local cluster of one worker process per core, made for this run. Default: the
        Dask scheduler in use (a ``distributed.Client`` made before the call, else
        Dask's local threads).
    partition_rows : int, default 500,000
        Deviations (rows: one per measurement) per partition: a file's deviations are
        cut into ``ceil(rows / partition_rows)`` parts, and the shuffle makes
        ``ceil(all rows / partition_rows)`` partitions of whole producers.
    deviations_to : path, optional
        A folder (created) to write the deviations into, one Parquet file per part
        (``part.00000.parquet``...), in file order.
    cluster : bool, default True
        As for :func:`sizecheck.pipeline.analyse`: the cluster model
        (``Analysis.cluster``), fitted in this process on the columns it reads.
    scratch : path, optional
        Where the run keeps the parts of the deviations between reading and the shuffle
        (every column, Parquet; removed at the end). Every worker must see it at the same
        path. Default: beside ``deviations_to``, else the temporary folder of this
        machine (enough for a local cluster).

    Returns
    -------
    DaskAnalysis
        An :class:`~sizecheck.pipeline.Analysis` with every table of the one-machine
        path; ``deviations`` and ``measurements`` are empty frames with their columns.

    Raises
    ------
    UsageError
        Dask is not installed (the message says how to install it).
    InputError
        As :func:`sizecheck.pipeline.analyse`.
    """
    require_dask()
    from sizecheck import drift, stats
    from sizecheck.validate import Accounting

    ref, gage_result = _table_and_gage(inputs, partition_rows, table, gage)
    paths, labels = _input_labels(inputs)
    opts = _Options(sep, decimal, encoding, sheet, units, limits)
    th = thresholds if thresholds is not None else stats.DEFAULT_THRESHOLDS
    settings = _Settings(
        ref, th, tuple(drift_rules) if drift_rules is not None else drift.DEFAULT_RULES,
        resolution, lot_plan,
    )  # fmt: skip
    frames = _frames(ref)
    scratch_dir, out_dir = _folders(scratch, deviations_to)
    local_cluster, client = _connect(scheduler)
    try:
        # 1. each file read, validated, compared and written in parts, by one task
        small = _read_files(paths, labels, ref, opts, frames, partition_rows, scratch_dir, out_dir)
        accounting = Accounting.from_sources([s for r in small for s in r.sources])
        rejects = pd.concat([r.rejects for r in small], ignore_index=True)
        _check_usable(accounting, rejects, labels, ref)
        written = _number_parts([Path(w) for r in small for w in r.written])
        # 2. the parts read back, shuffled by producer, and analysed
        results, n_rows, n_parts, n_shuffled = _analyse_parts(
            small, frames.meta, settings, partition_rows
        )
        # 3. the cluster model between producers, on the few columns it reads
        cluster_rows = _cluster_rows([p for r in small for p in r.scratch]) if cluster else None
    finally:
        if client is not None:
            client.close()
        if local_cluster is not None:
            local_cluster.close()
        shutil.rmtree(scratch_dir, ignore_errors=True)

    tables, findings = _gather(results)
    empty = frames.deviations.iloc[0:0]
    size_summary = tables["size_summary"]
    analysis = DaskAnalysis(
        table=ref,
        inputs=[r.input_file for r in small],
        measurements=frames.no_measurements,
        rejects=rejects,
        accounting=accounting,
        deviations=empty,
        missing_dimensions=sorted({d for r in small for d in r.missing}),
        notes=tuple(n for r in small for n in r.notes),
        producer_summary=tables["producer_summary"],
        size_summary=size_summary,
        comparison=stats.compare_producers(empty, size_summary=size_summary),
        conventions=tables["conventions"],
        control_points=tables["control_points"],
        signals=tables["signals"],
        shifts=tables["shifts"],
        thresholds=th,
        synthetic=synthetic,
        lot_plan=lot_plan,
        lots=tables["lots"],
        gage=gage_result,
        corrections=tables["corrections"],
        levels=tables["levels"],
        model_size_summary=tables["model_size_summary"],
        findings=findings,
        drift_rules=settings.rules,
        n_deviations=n_rows,
        partitions=n_parts,
        shuffled_partitions=n_shuffled,
        deviations_files=written,
    )
    if th.multiple_testing != "none":
        _judge_whole_family(analysis)
    if cluster_rows is not None:
        analysis.cluster, analysis.cluster_note, analysis.cluster_left_out = describe_cluster(
            cluster_rows
        )
    return analysis


class DeviationsFolder(EarlyDeviations):
    """The output folder of a Dask run, with ``deviations.parquet/`` written by the run.

    Used as :class:`~sizecheck.report.EarlyDeviations` is: it holds the folder's lock
    and staging folder; :attr:`staging_path` is the folder the partitions are written
    into (:func:`analyse_dask`'s ``deviations_to``), and :func:`sizecheck.report.
    write_report` then writes the other outputs beside it and publishes them all.
    """

    def __init__(self, out: str | Path, inputs: Sequence[str | Path]) -> None:
        from sizecheck.publish import OutputFolder
        from sizecheck.report import MEASURE_NAMES

        expect = [n for n in MEASURE_NAMES if n != DEVIATIONS_FOLDER]
        self.fmt = "parquet"
        #: Set when the run is done (:func:`sizecheck.report.choose_deviations_format`).
        self.choice = None
        self.folder = OutputFolder(out, inputs=inputs, expect=[*expect, f"{DEVIATIONS_FOLDER}/"])
        self.root = self.folder.root
        self._future = None
        self._pool = None
        self._path: Path | None = None

    def __call__(self, deviations: pd.DataFrame) -> None:
        raise UsageError("The Dask engine writes deviations.parquet/ itself.")

    def __enter__(self) -> DeviationsFolder:
        self.folder.open()
        return self

    @property
    def staging_path(self) -> Path:
        """The folder (in the staging folder) the deviations' partitions go into."""
        if self._path is None:
            first = self.folder.open().stage(f"{DEVIATIONS_FOLDER}/part.00000.parquet")
            self._path = first.parent
        return self._path

    @property
    def started(self) -> bool:
        """Whether :attr:`staging_path` was handed out (the run writes there)."""
        return self._path is not None

    def finish(self) -> Path:
        """The staged folder (the run has written it when :func:`analyse_dask` returned)."""
        return self.staging_path


def measure_dask(
    inputs: Sequence[str | os.PathLike[str]],
    out: str | Path,
    *,
    lang: str = "en",
    scheduler: str | None = "local",
    partition_rows: int = DEFAULT_PARTITION_ROWS,
    report_info: ReportInfo | None = None,
    **options: Any,
) -> tuple[DaskAnalysis, list[Path]]:
    """``sizecheck measure --engine dask``: analyse on Dask and publish the outputs.

    Writes what :func:`sizecheck.report.write_report` writes without charts, with the
    deviations as the folder ``deviations.parquet/`` (one Parquet file per partition, in
    file order); the charts, ``report.html`` and the cards need each producer's rows in
    one process and are drawn by the pandas engine only.

    Parameters
    ----------
    inputs : sequence of path or str
        As for :func:`analyse_dask`.
    out : path
        The output folder (see :func:`sizecheck.report.write_report`).
    lang : {"en", "id"}
    scheduler : str, optional
        As for :func:`analyse_dask`; default a local cluster for the run.
    partition_rows : int
        As for :func:`analyse_dask`.
    report_info : ReportInfo, optional
        Title, office and report number (``measure --title --office --report-no``): on
        the workbook's first sheet and in ``summary.json``.
    **options
        The other keywords of :func:`analyse_dask`.

    Returns
    -------
    analysis, written : DaskAnalysis, list of Path
    """
    from sizecheck.report import choose_deviations_format, write_report

    require_dask()
    files = expand_inputs(inputs)
    local = [f for f in files if _protocol(f) is None]
    with DeviationsFolder(out, local) as early:
        analysis = analyse_dask(
            files, scheduler=scheduler, partition_rows=partition_rows,
            deviations_to=early.staging_path, **options,
        )  # fmt: skip
        if report_info is not None:
            analysis.report_info = report_info
        early.choice = choose_deviations_format("parquet", analysis.n_deviations)
        written = write_report(
            analysis, out, lang=lang, charts=False, deviations_format="parquet", early=early
        )
    return analysis, written
