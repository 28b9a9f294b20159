"""The whole analysis in one call: read → validate → compare → summarise.

:func:`analyse` is what ``sizecheck measure`` runs; notebooks call it too, or call
each step themselves and stop after any of them. Nothing here writes files: pass
the :class:`Analysis` to :func:`sizecheck.report.write_report`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import pandas as pd

from sizecheck import __version__
from sizecheck.compare import compare
from sizecheck.errors import InputError, UsageError
from sizecheck.i18n import catalogue_error
from sizecheck.inputs import InputFile, file_sha256, frame_sha256
from sizecheck.tables import ReferenceTable, load_table

if TYPE_CHECKING:  # imported where used: analyse() imports them lazily
    from sizecheck import drift, stats
    from sizecheck.cluster import ClusterSummary
    from sizecheck.findings import Finding
    from sizecheck.gage import GageResult
    from sizecheck.readers import ReadLimits
    from sizecheck.sampling import SamplingPlan
    from sizecheck.stats import Thresholds
    from sizecheck.validate import Accounting, Validated

__all__ = [
    "CLUSTER_COLUMNS",
    "CLUSTER_MIN_PRODUCERS",
    "CLUSTER_PROCESS_MIN_ROWS",
    "Analysis",
    "InputFile",
    "Inputs",
    "ReportInfo",
    "analyse",
    "analyse_deviations",
    "describe_cluster",
    "file_sha256",
    "frame_sha256",
]

#: Longest title, office or report number accepted (characters): a page heading, not a
#: document.
MAX_INFO_CHARS = 200


@dataclass(frozen=True)
class ReportInfo:
    """What identifies a report as an office issues it (``measure --title --office
    --report-no``), shown on ``report.html``, every card, the workbook's first sheet and
    in ``summary.json`` (``report``). Empty fields are left out where shown.

    Raises
    ------
    UsageError
        A field longer than :data:`MAX_INFO_CHARS` characters.

    Examples
    --------
    >>> ReportInfo(office=" Dinas Perindustrian Mojokerto ").to_dict()["office"]
    'Dinas Perindustrian Mojokerto'
    """

    title: str = ""
    office: str = ""
    report_no: str = ""

    def __post_init__(self) -> None:
        from sizecheck.errors import UsageError

        for name, option in (("title", "--title"), ("office", "--office"),
                             ("report_no", "--report-no")):  # fmt: skip
            value = str(getattr(self, name) or "").strip()
            if len(value) > MAX_INFO_CHARS:
                raise UsageError(
                    f"{option} is {len(value)} characters long; give at most "
                    f"{MAX_INFO_CHARS} (it is printed as a heading on every page)."
                )
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, str]:
        """The fields as they are, for ``summary.json``."""
        return {"title": self.title, "office": self.office, "report_no": self.report_no}


#: ``cluster_summary.csv`` is written for a dimension measured at this many producers or
#: more: with fewer there is no between-producer spread to speak of.
CLUSTER_MIN_PRODUCERS = 3

#: The columns the cluster model reads (:func:`describe_cluster`): the group, the value,
#: what makes a visit and a pair, the tolerance band.
CLUSTER_COLUMNS = (
    "producer", "dimension", "size", "deviation_mm", "status", "date", "lot", "pair",
    "nominal_mm", "lower_mm", "upper_mm",
)  # fmt: skip

#: From this many deviation rows on (about 67,000 shoes of 3 dimensions), and when
#: ``jobs`` allows two processes, the cluster model is fitted in a worker process while
#: the per-producer statistics are computed here (:func:`analyse_deviations`). Below it
#: the fit takes about a second or less, about what starting the worker costs.
CLUSTER_PROCESS_MIN_ROWS = 200_000


#: What :func:`analyse` reads: a path, a DataFrame, a sequence of either kind, or a
#: mapping of names to DataFrames (the names become the rows' ``source``).
Inputs: TypeAlias = (
    str | os.PathLike[str] | pd.DataFrame | Sequence["str | os.PathLike[str] | pd.DataFrame"]
    | Mapping[str, pd.DataFrame]
)  # fmt: skip


def _split_inputs(inputs: Inputs) -> tuple[list[Path], list[pd.DataFrame], list[str] | None]:
    """``inputs`` as paths, or as frames with their names (None: the default names)."""
    if isinstance(inputs, pd.DataFrame):
        return [], [inputs], None
    if isinstance(inputs, str | os.PathLike):
        return [Path(inputs)], [], None
    if isinstance(inputs, Mapping):
        return [], list(inputs.values()), [str(k) for k in inputs]
    items = list(inputs)
    frames = [i for i in items if isinstance(i, pd.DataFrame)]
    if frames and len(frames) != len(items):
        raise UsageError(
            "Pass either files or DataFrames to analyse(), not both in one call (read a "
            "file into a DataFrame with pandas, or write the frames to files)."
        )
    if frames:
        return [], frames, None
    paths: list[Path] = []
    for i in items:
        if not isinstance(i, str | os.PathLike):
            raise UsageError(
                f"analyse() reads paths and pandas DataFrames; got {type(i).__name__}."
            )
        paths.append(Path(i))
    return paths, [], None


@dataclass
class Analysis:
    """Everything one run computed, ready to be written or explored.

    Attributes
    ----------
    table : ReferenceTable
        The reference used, with its provenance.
    inputs : list of InputFile
    measurements, rejects : DataFrame
        Accepted measurements and every rejected cell or skipped row.
    accounting : Accounting or None
        Row and cell accounting (``to_dict()`` gives the JSON form); None in the
        per-producer slices the report renders charts from.
    deviations : DataFrame
        One row per accepted measurement, compared with the table.
    missing_dimensions : list of str
        Dimensions measured that the table lacks.
    producer_summary, size_summary, comparison, conventions : DataFrame
        The statistics (see :mod:`sizecheck.stats`).
    control_points, signals, shifts : DataFrame
        The control chart points, rule signals and the estimated date and size of each
        shift (see :mod:`sizecheck.drift`).
    thresholds : Thresholds
        The verdict thresholds used.
    synthetic : bool
        True when the data are the bundled synthetic example.
    lot_plan : SamplingPlan or None
        The lot sampling plan asked for (``measure --aql``), else None.
    lots : DataFrame
        One row per producer × lot × dimension judged against ``lot_plan``
        (:func:`sizecheck.sampling.judge_lots`; the ``lots.csv`` columns); empty without
        a plan or a lot column.
    corrections : DataFrame
        What to change at each size, per producer × model × dimension × size, from the
        rows since the last detected change (:func:`sizecheck.stats.corrections`;
        ``corrections.csv``).
    levels : DataFrame
        The mean deviation of each period (whole, before and since a detected change)
        per producer × model × dimension (:func:`sizecheck.stats.levels`).
    model_size_summary : DataFrame
        ``size_summary`` per producer × model × dimension × size (a ``model`` column
        after ``producer``), for the charts of a model's finding; empty without a model
        column.
    findings : dict of str to Finding
        One :class:`~sizecheck.findings.Finding` per producer: what the terminal, report,
        cards, workbook and summary.json show (:func:`sizecheck.findings.build_findings`).
    cluster : sizecheck.cluster.ClusterSummary or None
        The cluster as a whole (:func:`sizecheck.cluster.cluster_summary`: variance
        components, ICC, share of producers off size, shrunken offsets) for every
        dimension measured at :data:`CLUSTER_MIN_PRODUCERS` producers or more;
        ``cluster_summary.csv``. None when no dimension has enough producers
        (``cluster_note`` says why) or when ``analyse(..., cluster=False)``.
    cluster_note : str
        Why the cluster summary is missing or leaves dimensions out (English, for
        ``summary.json``; empty when every dimension is in it).
    cluster_left_out : dict of str to int
        The dimensions left out of the cluster summary, with their number of producers.
    drift_rules : tuple of str
        The control-chart rules applied (codes of :data:`sizecheck.drift.RULES`).
    confidence : float
        The level of every confidence interval in the tables (0.95).
    seeds : dict of str to int
        The seed of every random number generator the analysis used (simulation,
        bootstrap), by what it was used for; empty when nothing random was used.
    gage : sizecheck.gage.GageResult or None
        The measurement system's gage R&R (``--gage gage.json``), judged against this
        table's in-spec band for its dimension when the table has one; ``None`` without
        a study. It widens nothing: it is reported beside the verdicts
        (:func:`sizecheck.gage.gage_sentence`).
    report_info : ReportInfo
        Title, issuing office and report number (``measure --title --office
        --report-no``); empty by default.
    notes : tuple of str
        What reading left out besides rows (a workbook sheet without a measurement
        header, a chart sheet): :class:`sizecheck.i18n.Note` in English, shown in the
        run's language by :func:`sizecheck.i18n.note_text`.
    """

    table: ReferenceTable
    inputs: list[InputFile]
    measurements: pd.DataFrame
    rejects: pd.DataFrame
    accounting: Accounting | None
    deviations: pd.DataFrame
    missing_dimensions: list[str]
    producer_summary: pd.DataFrame
    size_summary: pd.DataFrame
    comparison: pd.DataFrame
    conventions: pd.DataFrame
    control_points: pd.DataFrame
    signals: pd.DataFrame
    thresholds: Thresholds
    synthetic: bool = False
    shifts: pd.DataFrame = field(default_factory=pd.DataFrame)
    lot_plan: SamplingPlan | None = None
    lots: pd.DataFrame = field(default_factory=pd.DataFrame)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    version: str = __version__
    gage: GageResult | None = None
    corrections: pd.DataFrame = field(default_factory=pd.DataFrame)
    levels: pd.DataFrame = field(default_factory=pd.DataFrame)
    model_size_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    findings: dict[str, Finding] = field(default_factory=dict)
    report_info: ReportInfo = field(default_factory=ReportInfo)
    notes: tuple[str, ...] = ()
    cluster: ClusterSummary | None = None
    cluster_note: str = ""
    cluster_left_out: dict[str, int] = field(default_factory=dict)
    drift_rules: tuple[str, ...] = ()
    confidence: float = 0.95
    seeds: dict[str, int] = field(default_factory=dict)

    @property
    def producers(self) -> list[str]:
        """The producers analysed, sorted."""
        return sorted(self.producer_summary["producer"].unique().tolist())


def analyse(
    inputs: Inputs,
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
    on_compared: Callable[[pd.DataFrame], object] | None = None,
    lot_plan: SamplingPlan | None = None,
    gage: str | Path | GageResult | None = None,
    resolution: float | None = None,
    limits: ReadLimits | None = None,
    engine: str = "pandas",
    scheduler: str | None = None,
    cluster: bool = True,
    jobs: int | None = 1,
) -> Analysis:
    """Run the whole analysis on measurement files or DataFrames.

    Parameters
    ----------
    inputs : path, DataFrame, sequence of either, or mapping of name to DataFrame
        CSV, TSV or XLSX files as QA offices keep them (one path, as a string or
        :class:`~pathlib.Path`, or several); or pandas DataFrames with the same columns,
        validated by the same rules (:func:`sizecheck.validate.validate_frame`): their
        rejects are in ``Analysis.rejects`` with ``source`` ``<frame 0>``, ``<frame 1>``…
        or the mapping's names, and rows numbered as in ``frame.to_csv(index=False)``
        (header row 1). Files and frames are not mixed in one call.
    table : str, path or ReferenceTable, default "paris-point"
        The reference: a shipped name, a ``.toml`` path, or a loaded table.
    sep, decimal, encoding, sheet, units, limits
        Reading options (see :func:`sizecheck.validate.read_measurements`); for
        DataFrames only ``units`` applies (the others are refused).
    thresholds : sizecheck.stats.Thresholds, optional
        Verdict thresholds; defaults to :data:`sizecheck.stats.DEFAULT_THRESHOLDS`.
    drift_rules : sequence of str, optional
        Control-chart rules (see :mod:`sizecheck.drift`); default rules otherwise.
    synthetic : bool
        Mark the run as made on synthetic data (the bundled example).
    on_compared : callable, optional
        Called with the deviations as soon as they exist, before the statistics:
        ``sizecheck measure`` passes a :class:`sizecheck.report.EarlyDeviations` here, so
        that ``deviations.csv`` is written while the statistics are computed.
    resolution : float, optional
        The resolution (mm) the lengths were read to; default: inferred per producer ×
        dimension (see :func:`sizecheck.stats.producer_summary`). No σ is taken below
        resolution / √12.
    lot_plan : sizecheck.sampling.SamplingPlan, optional
        Judge every producer × lot × dimension against this plan
        (:func:`sizecheck.sampling.judge_lots`, into ``Analysis.lots``).
    gage : path or GageResult, optional
        A ``gage.json`` written by ``sizecheck gage`` (or its :class:`GageResult`): the
        measurement system's spread, judged against the table's in-spec band for the
        study's dimension (:func:`sizecheck.gage.judge_gage`). Nothing is widened for it.
    engine : {"pandas", "dask"}, default "pandas"
        ``"dask"``: read, validate and analyse on Dask, partitioned by producer, with
        the same code and results (:func:`sizecheck.engine_dask.analyse_dask`; inputs may
        then also be glob patterns and fsspec URLs; ``on_compared`` is not called).
    scheduler : str, optional
        With ``engine="dask"``: a Dask scheduler's address, or ``"local"`` for a local
        cluster made for the run; default the Dask scheduler in use.
    cluster : bool, default True
        Describe the cluster as a whole (``Analysis.cluster``, ``cluster_summary.csv``)
        when a dimension was measured at :data:`CLUSTER_MIN_PRODUCERS` producers or more.
    jobs : int or None, default 1
        Processes the statistics may use: ``1`` everything in this process, None all
        cores (what ``sizecheck measure`` does unless ``--jobs``). See
        :func:`analyse_deviations`; not used by the Dask engine.

    Returns
    -------
    Analysis
    """
    from sizecheck.validate import frame_names as frame_labels
    from sizecheck.validate import read_frames

    if engine == "dask":
        from sizecheck.engine_dask import analyse_dask

        sources: list[str | os.PathLike[str]] = []
        items = [inputs] if isinstance(inputs, str | os.PathLike | pd.DataFrame) else inputs
        for item in items if not isinstance(items, Mapping) else [items]:
            if not isinstance(item, str | os.PathLike):
                raise UsageError(
                    "engine='dask' reads files; analyse DataFrames with engine='pandas'."
                )
            sources.append(item)
        return analyse_dask(
            sources, table=table, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet,
            units=units, thresholds=thresholds, drift_rules=drift_rules, synthetic=synthetic,
            lot_plan=lot_plan, gage=gage, resolution=resolution, limits=limits,
            scheduler=scheduler, cluster=cluster,
        )  # fmt: skip
    if engine != "pandas":
        raise UsageError(f"Unknown engine {engine!r}; choose pandas or dask.")

    paths, frames, frame_names = _split_inputs(inputs)
    if not paths and not frames:
        raise InputError("No input file given. Pass one or more CSV/XLSX files, or --example.")
    ref = table if isinstance(table, ReferenceTable) else load_table(table)
    gage_result = None
    if gage is not None:
        from sizecheck.gage import judge_gage, load_gage

        gage_result = judge_gage(gage if not isinstance(gage, str | Path) else load_gage(gage), ref)
    validated: Validated
    if frames:
        options = {"sep": sep, "decimal": decimal, "encoding": encoding, "sheet": sheet,
                   "limits": limits}  # fmt: skip
        given = [k for k, v in options.items() if v is not None]
        if given:
            raise UsageError(
                f"Reading option(s) {', '.join(given)} apply to files, not to DataFrames."
            )
        labels = frame_labels(len(frames), frame_names)
        validated = read_frames(frames, names=labels, table=ref, units=units)
        files = [
            InputFile("", label, frame_sha256(f), int(f.memory_usage(deep=True).sum()), "frame")
            for f, label in zip(frames, labels, strict=True)
        ]
    else:
        validated, files = _read_files(
            paths, table=ref, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet,
            units=units, limits=limits,
        )  # fmt: skip
    if validated.measurements.empty:
        counts = validated.rejects["code"].astype(str).value_counts()
        reasons = ", ".join(f"{code} {n}" for code, n in counts.head(4).items()) or "no data rows"
        raise InputError(
            f"No usable measurement in {', '.join(f.source for f in files)} against table "
            f"{ref.name!r}: every row was rejected or skipped ({reasons}). Run 'sizecheck "
            "validate' on the file(s) for the rows and reasons, or check --table."
        )
    compared = compare(validated.measurements, ref)
    if on_compared is not None:
        on_compared(compared.deviations)
    return analyse_deviations(
        compared.deviations,
        table=ref,
        thresholds=thresholds,
        drift_rules=drift_rules,
        resolution=resolution,
        synthetic=synthetic,
        lot_plan=lot_plan,
        gage=gage_result,
        cluster=cluster,
        inputs=files,
        measurements=validated.measurements,
        rejects=validated.rejects,
        accounting=validated.accounting,
        missing_dimensions=compared.missing_dimensions,
        notes=validated.notes,
        jobs=jobs,
    )


def _read_files(
    paths: Sequence[Path],
    *,
    table: ReferenceTable,
    sep: str | None,
    decimal: str | None,
    encoding: str | None,
    sheet: str | None,
    units: str,
    limits: ReadLimits | None,
) -> tuple[Validated, list[InputFile]]:
    """Read and validate files, hashing them meanwhile: the half of :func:`analyse` that
    reads files."""
    from sizecheck.validate import read_measurements

    for p in paths:
        if not p.is_file():
            raise catalogue_error(InputError, "error.input_missing", path=repr(str(p)))
    names = [p.name for p in paths]
    # The inputs are hashed in a thread while they are read (hashlib releases the GIL).
    with ThreadPoolExecutor(1, thread_name_prefix="sizecheck-sha256") as pool:
        digests = pool.map(file_sha256, paths)
        validated = read_measurements(
            paths, table=table, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet,
            units=units, limits=limits,
        )  # fmt: skip
        # The same label the rows carry: the file name, or the path when two names clash.
        files = [
            InputFile(str(p), p.name if names.count(p.name) == 1 else str(p), digest,
                      p.stat().st_size)
            for p, digest in zip(paths, digests, strict=True)
        ]  # fmt: skip
    return validated, files


def analyse_deviations(
    deviations: pd.DataFrame,
    *,
    table: str | Path | ReferenceTable = "paris-point",
    thresholds: Thresholds | None = None,
    drift_rules: Sequence[str] | None = None,
    resolution: float | None = None,
    synthetic: bool = False,
    lot_plan: SamplingPlan | None = None,
    gage: GageResult | None = None,
    cluster: bool = True,
    inputs: Sequence[InputFile] = (),
    measurements: pd.DataFrame | None = None,
    rejects: pd.DataFrame | None = None,
    accounting: Accounting | None = None,
    missing_dimensions: Sequence[str] = (),
    notes: Sequence[str] = (),
    jobs: int | None = 1,
) -> Analysis:
    """The statistics half of :func:`analyse`, from deviations already compared.

    Every per-producer table is computed once: pooled over models, and per model when
    the deviations have a ``model`` column with values (each model is usually its own
    set of lasts); then the findings (:func:`sizecheck.findings.build_findings`). The
    cluster model (:func:`describe_cluster`) is fitted meanwhile in a worker process
    when ``jobs`` allows two processes and there are :data:`CLUSTER_PROCESS_MIN_ROWS`
    deviations or more; otherwise here, after the findings. Either way it gives the
    same numbers, and its errors are raised after the findings' own.

    Parameters
    ----------
    deviations : DataFrame
        The ``deviations`` of :func:`sizecheck.compare.compare`. Not modified.
    table : str, path or ReferenceTable, default "paris-point"
        The table the deviations were compared with.
    thresholds, drift_rules, resolution, synthetic, lot_plan
        As for :func:`analyse`.
    gage : GageResult, optional
        An already judged gage study (:func:`sizecheck.gage.judge_gage`).
    cluster : bool, default True
        As for :func:`analyse`.
    inputs, measurements, rejects, accounting, missing_dimensions, notes
        What reading found, carried into the :class:`Analysis` (empty by default).
    jobs : int or None, default 1
        Processes to use: ``1`` everything in this process, None all cores. Worker
        processes are started with ``spawn``: a script that passes another value runs
        its analysis under ``if __name__ == "__main__":``, as :mod:`multiprocessing`
        requires.

    Returns
    -------
    Analysis
    """
    from sizecheck import drift, stats
    from sizecheck.findings import build_findings

    ref = table if isinstance(table, ReferenceTable) else load_table(table)
    th = thresholds if thresholds is not None else stats.DEFAULT_THRESHOLDS
    rules = tuple(drift_rules) if drift_rules is not None else drift.DEFAULT_RULES
    with _cluster_beside(deviations, run=cluster, jobs=jobs) as cluster_result:
        pooled = _per_producer(deviations, stats.GROUP_BY, ref, th, rules, resolution)
        levels_ = [pooled]
        if "model" in deviations.columns and bool(deviations["model"].notna().any()):
            by_model = ("producer", "model", "dimension")
            levels_.append(_per_producer(deviations, by_model, ref, th, rules, resolution))
        groups, chart, size_summary = pooled.groups, pooled.chart, pooled.sizes
        sizes_by_model = levels_[1].sizes if len(levels_) > 1 else pd.DataFrame()
        lots = pd.DataFrame()
        if lot_plan is not None:
            from sizecheck.sampling import judge_lots

            lots = judge_lots(deviations, lot_plan)
        empty = deviations.iloc[0:0]
        analysis = Analysis(
            table=ref,
            inputs=list(inputs),
            measurements=measurements if measurements is not None else empty,
            rejects=rejects if rejects is not None else pd.DataFrame(),
            accounting=accounting,
            deviations=deviations,
            missing_dimensions=list(missing_dimensions),
            producer_summary=_stack([lv.summary for lv in levels_]),
            size_summary=size_summary,
            comparison=stats.compare_producers(deviations, size_summary=size_summary),
            conventions=stats.find_conventions(deviations, groups=groups),
            control_points=chart.points,
            signals=chart.signals,
            shifts=chart.shifts,
            thresholds=th,
            synthetic=synthetic,
            lot_plan=lot_plan,
            lots=lots,
            gage=gage,
            corrections=_stack([lv.corrections for lv in levels_]),
            levels=_stack([lv.levels for lv in levels_]),
            model_size_summary=sizes_by_model,
            drift_rules=tuple(rules),
            notes=tuple(notes),
        )
        analysis.findings = build_findings(analysis)
        if cluster:
            analysis.cluster, analysis.cluster_note, analysis.cluster_left_out = cluster_result()
    return analysis


#: What :func:`describe_cluster` gives: the summary (or None), the note, the dimensions
#: left out with their number of producers.
ClusterResult: TypeAlias = "tuple[ClusterSummary | None, str, dict[str, int]]"


@contextmanager
def _cluster_beside(
    deviations: pd.DataFrame, *, run: bool, jobs: int | None
) -> Iterator[Callable[[], ClusterResult]]:
    """Start :func:`describe_cluster` on ``deviations`` in a worker process when ``jobs``
    allows two processes and there are :data:`CLUSTER_PROCESS_MIN_ROWS` rows or more;
    give the function that returns its result (waiting for the worker), or that
    computes it here. A thread would not do: the fit holds the GIL (measured: the two
    stages took longer side by side in threads than one after the other). The worker
    gets only :data:`CLUSTER_COLUMNS`, through a temporary file rather than the pool's
    pipe: a task of hundreds of MB blocks the pool's sending thread until the worker has
    read it, and ``Pool.terminate`` (an error or Ctrl-C here) then waits for that thread
    forever (seen: 1 run in 3 of the error test hung). The message is now a path."""
    import tempfile

    from sizecheck.workers import one_worker, worker_count

    if not run or worker_count(jobs) < 2 or len(deviations) < CLUSTER_PROCESS_MIN_ROWS:
        yield lambda: describe_cluster(deviations)
        return
    with tempfile.TemporaryDirectory(prefix="sizecheck-", ignore_cleanup_errors=True) as tmp:
        columns = [c for c in CLUSTER_COLUMNS if c in deviations.columns]
        path = Path(tmp) / "cluster-columns.pkl"
        deviations[columns].to_pickle(path)
        worker = one_worker()
        try:
            yield worker.apply_async(_describe_cluster_file, (str(path),)).get
        except BaseException:
            worker.terminate()
            raise
        worker.close()
        worker.join()


def _describe_cluster_file(path: str) -> ClusterResult:
    """:func:`describe_cluster` of the columns :func:`_cluster_beside` wrote to ``path``
    (run in the worker process)."""
    return describe_cluster(pd.read_pickle(path))


def describe_cluster(
    deviations: pd.DataFrame,
) -> ClusterResult:
    """The cluster summary of every dimension measured at :data:`CLUSTER_MIN_PRODUCERS`
    producers or more, a note naming the dimensions left out (why none is in), and those
    dimensions with their number of producers. ``deviations`` needs only
    :data:`CLUSTER_COLUMNS` (the Dask engine and the worker process pass those)."""
    from sizecheck.cluster import cluster_summary

    usable = deviations["status"].astype("str") != "no_reference"
    usable &= deviations["deviation_mm"].notna()
    rows = deviations.loc[usable]
    counts = rows.groupby(rows["dimension"].astype("str"), sort=True)["producer"].nunique()
    few = {str(d): int(n) for d, n in counts.items() if n < CLUSTER_MIN_PRODUCERS}
    left_out = ", ".join(f"{d} ({n})" for d, n in few.items())
    if len(few) == len(counts):
        return (
            None,
            (
                f"cluster_summary.csv not written: no dimension was measured at "
                f"{CLUSTER_MIN_PRODUCERS} producers or more (producers per dimension: "
                f"{left_out or 'none'})."
            ),
            few,
        )
    result = cluster_summary(deviations, min_producers=CLUSTER_MIN_PRODUCERS)
    if not few:
        return result, "", few
    return (
        result,
        (
            f"Left out of cluster_summary.csv, measured at fewer than {CLUSTER_MIN_PRODUCERS} "
            f"producers: {left_out}."
        ),
        few,
    )


@dataclass(frozen=True, eq=False)
class _Level:
    """The per-producer statistics of one grouping (pooled, or per model)."""

    groups: stats.Groups
    chart: drift.ControlChart
    summary: pd.DataFrame
    levels: pd.DataFrame
    corrections: pd.DataFrame
    sizes: pd.DataFrame


def _per_producer(
    deviations: pd.DataFrame,
    by: Sequence[str],
    ref: ReferenceTable,
    th: stats.Thresholds,
    rules: Sequence[str],
    resolution: float | None,
) -> _Level:
    """Group by ``by``, chart, split at detected changes, summarise: one grouping's
    producer summary, period levels, size summary and corrections, each computed once."""
    from sizecheck import drift, stats

    groups = stats.prepare(deviations, by=by)
    chart = drift.control_chart(deviations, rules=rules, groups=groups, thresholds=th)
    periods = stats.periods(groups, chart, min_n=th.min_n)
    summary = stats.producer_summary(
        deviations,
        base_size=ref.base_size,
        thresholds=th,
        chart=chart,
        groups=groups,
        resolution=resolution,
        periods=periods,
    )
    sizes = stats.size_summary(deviations, groups=groups, resolution=resolution)
    corrections = stats.corrections(periods, resolution=resolution, sizes=sizes)
    return _Level(groups, chart, summary, stats.levels(periods), corrections, sizes)


def _stack(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Tables of the groupings one under the other, ``model`` "" for the pooled rows,
    sorted by producer, model, dimension (pooled first)."""
    parts = []
    for frame in frames:
        if "model" not in frame.columns:
            frame = frame.copy()
            frame.insert(1, "model", "")
        parts.append(frame.astype({"model": "str"}))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    keys = [c for c in ("producer", "model", "dimension", "size", "period") if c in out.columns]
    order = out.sort_values(keys[:3], kind="stable").index
    return out.loc[order].reset_index(drop=True)
