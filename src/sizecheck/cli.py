"""The ``sizecheck`` command line: parse, call one library function, print.

This is the only module that imports typer or prints. Library modules are imported
inside the commands so that ``sizecheck --help`` starts without pandas, scipy or
matplotlib. Errors raised on purpose (:class:`sizecheck.errors.SizecheckError`) become
one clear line on stderr and exit code 2; anything else keeps its traceback.

No ``from __future__ import annotations`` here: Typer reads every parameter's annotation
with :func:`typing.get_type_hints` at start-up, and annotations kept as strings are
compiled one by one there (about a tenth of ``sizecheck --help``'s time). Only names
imported for type checking alone are written as strings.
"""

import contextlib
import functools
import itertools
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from sizecheck.report import DeviationsChoice
    from sizecheck.tables import ReferenceTable

P = ParamSpec("P")
R = TypeVar("R")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C

app = typer.Typer(
    name="sizecheck",
    help=(
        "How far do a footwear producer's shoe sizes drift from the reference?\n\n"
        "Example: sizecheck measure --example"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
tables_app = typer.Typer(
    help=(
        "List the reference tables, or show one. Every table states its status "
        "(official, derived, proposal, user) and its source.\n\n"
        "Example: sizecheck tables show paris-point"
    ),
    no_args_is_help=False,
    rich_markup_mode=None,
)
app.add_typer(tables_app, name="tables")

# --------------------------------------------------------------------------- shared options

TableOpt = Annotated[
    str,
    typer.Option(
        "--table",
        "-t",
        help="Reference table: a shipped name (see 'sizecheck tables') or a path to a .toml.",
    ),
]
LangOpt = Annotated[
    str | None,
    typer.Option("--lang", help="Language of what a person reads: en or id (default: system)."),
]
SepOpt = Annotated[
    str | None, typer.Option("--sep", help="CSV separator (default: detected; e.g. ';').")
]
DecimalOpt = Annotated[
    str | None, typer.Option("--decimal", help="Decimal mark: '.' or ',' (default: detected).")
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help="Text encoding of CSV files (default: detected)."),
]
SheetOpt = Annotated[
    str | None,
    typer.Option("--sheet", help="Workbook sheet to read (default: every sheet with a header)."),
]
UnitsOpt = Annotated[
    str,
    typer.Option("--units", help="Unit of columns whose header names none: mm, cm or in."),
]
LimitOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--limit",
        help="Raise a reading limit, NAME=VALUE (repeat): mb (512: MB read from one file, "
        "unpacked for workbooks), rows (10000000), columns (16384), cells (20000000 per "
        "sheet). See README 'Limits'.",
    ),
]


def _read_limits(items: list[str] | None) -> Any:
    """The :class:`~sizecheck.readers.ReadLimits` of ``--limit NAME=VALUE`` options."""
    from sizecheck.readers import ReadLimits

    values: dict[str, float] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            values[key.strip()] = float(value.replace("_", ""))
        except ValueError:
            _fail(f"--limit expects NAME=VALUE such as cells=50000000 or mb=2000, found {item!r}.")
    return ReadLimits().with_values(values)


AqlOpt = Annotated[
    float,
    typer.Option("--aql", help="Acceptance quality limit, percent out of tolerance (e.g. 2.5)."),
]
LevelOpt = Annotated[
    str,
    typer.Option("--level", help="Inspection level: I, II, III or S-1..S-4 (variables: S-3, "
                 "S-4, I, II, III)."),
]  # fmt: skip
InspectionOpt = Annotated[
    str, typer.Option("--inspection", help="normal, tightened or reduced (switching rules).")
]
MethodOpt = Annotated[
    str,
    typer.Option("--method", help="attributes (count shoes out of tolerance, ISO 2859-1) or "
                 "variables (mean and SD against k, s-method)."),
]  # fmt: skip


def _console(stderr: bool = False) -> "Console":
    from rich.console import Console

    # markup off: sources and labels such as "[derived]" are text, never rich markup.
    return Console(stderr=stderr, highlight=False, markup=False, soft_wrap=stderr)


def _fail(message: str, lang: str = "en") -> NoReturn:
    from rich.markup import escape

    from sizecheck.escaping import visible_controls
    from sizecheck.i18n import t

    # a file name or cell value in the message cannot colour or reorder the terminal
    text = escape(visible_controls(message, keep="\n"))
    _console(stderr=True).print(f"[bold red]{t('cli.error', lang)}:[/] {text}", markup=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _error_lang(kwargs: Mapping[str, object]) -> str:
    """The language of a command's error: its --lang, else the system's; English when
    --lang itself is wrong."""
    from sizecheck.errors import SizecheckError

    try:
        lang = kwargs.get("lang")
        return _language(lang if isinstance(lang, str) else None)
    except SizecheckError:
        return "en"


def _os_error_text(exc: OSError) -> str:
    """An OS error as one line naming the path: ``Permission denied: /data/out``."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{reason}: {' -> '.join(paths)}" if paths else reason


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn :class:`SizecheckError` and any OS error (permissions, disk full, not a
    folder) into one clear line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from sizecheck.errors import SizecheckError

        try:
            return func(*args, **kwargs)
        except SizecheckError as exc:
            from sizecheck.i18n import error_text

            lang = _error_lang(kwargs)
            _fail(error_text(exc, lang), lang)
        except OSError as exc:
            _fail(_os_error_text(exc))

    return wrapper


def _load_table(name: str) -> "ReferenceTable":
    from sizecheck.tables import load_table

    return load_table(name)


# --------------------------------------------------------------------------- tables


def _sizes_text(sizes: tuple[float, ...]) -> str:
    if len(sizes) < 2:
        return ", ".join(f"{s:g}" for s in sizes)
    steps = {round(b - a, 6) for a, b in itertools.pairwise(sizes)}
    if len(steps) == 1:
        return f"{sizes[0]:g}–{sizes[-1]:g} (step {steps.pop():g})"
    return ", ".join(f"{s:g}" for s in sizes)


@tables_app.callback(invoke_without_command=True)
@handle_errors
def tables(ctx: typer.Context) -> None:
    """List the shipped reference tables with their size system, sizes, status and source.

    Example: sizecheck tables
    """
    if ctx.invoked_subcommand is not None:
        return
    from sizecheck.tables import available_tables, load_table

    con = _console()
    con.print("Reference tables (no SNI defines a shoe size table; each states its source)\n")
    for name in available_tables():
        t = load_table(name)
        kind = ", grading rule" if t.kind == "rule" else ""
        con.print(f"{t.name}  {t.size_system} {_sizes_text(t.sizes)}  status: {t.status}{kind}")
        con.print(f"  {t.title}")
        con.print(f"  source: {t.source}\n")


@tables_app.command("show")
@handle_errors
def tables_show(
    table: Annotated[str, typer.Argument(help="A shipped table name or a path to a .toml.")],
) -> None:
    """Show a table's nominal values and tolerances per size, with its provenance.

    Example: sizecheck tables show paris-point
    """
    from rich.table import Table

    from sizecheck.tables import iter_rows

    t = _load_table(table)
    con = _console()
    from rich.markup import escape

    # A user table's title or name may hold "[derived]" and the like: text, not markup.
    con.print(f"[bold]{escape(t.title)}[/]  ({escape(t.name)})", markup=True)
    con.print(f"status: [bold]{t.status}[/]   size system: {t.size_system}", markup=True)
    con.print(f"source: {t.source}")
    if t.notes:
        con.print(f"notes:  {t.notes}")
    dims = Table(title="Dimensions")
    for col in ("dimension", "nominal rule", "grade step", "tolerance"):
        dims.add_column(col, overflow="fold")
    for d in t.dimensions.values():
        if d.tabulated:
            rule = "tabulated (CSV)"
        elif d.base_value is None:
            rule = f"+{d.step:g} mm/size (no base value)"
        else:
            rule = f"{d.base_value:g} mm at {t.base_size:g}, {d.step:+.4g} mm/size"
        step = t.grade_step(d.name)
        tol = d.tolerance.describe() if d.tolerance else "none"
        if d.tolerance_note:
            tol += f" [{d.tolerance_note}]"
        dims.add_row(d.name, rule, f"{step:.4g}" if step else "—", tol)
    con.print(dims)
    for d in t.dimensions.values():
        con.print(f"  {d.name}: {d.definition}")
    if t.kind == "rule":
        con.print(
            "This is a grading rule without base values. Grade it from a master last:\n"
            f"  sizecheck grade --rule {t.name} --base-size {t.base_size:g} "
            "--master DIMENSION=MM --name NAME --out NAME.toml"
        )
        return
    values = Table(title="Nominal mm per size (in-spec limits in brackets)")
    values.add_column("size", justify="right")
    names = list(t.dimensions)
    for name in names:
        values.add_column(name, justify="right")
    by_size: dict[float, dict[str, str]] = {}
    for r in iter_rows(t):
        low, up = float(r["lower_mm"]), float(r["upper_mm"])
        bounds = (
            f"≥{low:.1f}"
            if up == float("inf")
            else f"≤{up:.1f}"
            if low == float("-inf")
            else f"{low:.1f}–{up:.1f}"
        )
        by_size.setdefault(float(r["size"]), {})[str(r["dimension"])] = (
            f"{float(r['nominal_mm']):.1f} ({bounds})"
        )
    for size, cells in by_size.items():
        values.add_row(f"{size:g}", *(cells.get(n, "") for n in names))
    con.print(values)


# --------------------------------------------------------------------------- convert


@app.command()
@handle_errors
def convert(
    label: Annotated[str, typer.Argument(help="A size label: 41, 41½, 'UK 7', 'US W 9', 260/95.")],
    to: Annotated[
        str, typer.Option("--to", help="Target system: eu, uk, us-men, us-women, mondopoint, jp.")
    ],
    from_system: Annotated[
        str, typer.Option("--from", help="System of a bare number (default eu).")
    ] = "eu",
    allowance: Annotated[
        float | None,
        typer.Option(
            "--allowance",
            help="Toe allowance in mm (last − foot), 0 to 40, used between last-based "
            "(EU/UK/US) and foot-based (Mondopoint/JP) systems. Default 15.",
        ),
    ] = None,
) -> None:
    """Convert a size label to another system through last length.

    EU, UK and US sizes name the last, Mondopoint and JP the foot: between the two
    families the toe allowance (last − foot) decides the result, and is printed. Sizes are
    never negative.

    Example: sizecheck convert "UK 7" --to eu
    """
    from sizecheck.sizes import DEFAULT_TOE_ALLOWANCE_MM, convert_label, foot_based

    used = DEFAULT_TOE_ALLOWANCE_MM if allowance is None else allowance
    c = convert_label(label, to, default_system=from_system, allowance_mm=used)
    con = _console()
    con.print(
        f"{c.source.system} {c.source.value:g} = [bold]{c.to_system} {c.value:.2f}[/]",
        markup=True,
    )
    if c.allowance_used:
        note = "default" if allowance is None else "given"
        con.print(
            f"last length {c.last_length_mm:.1f} mm, foot length {c.foot_length_mm:.1f} mm, "
            f"toe allowance {c.allowance_mm:g} mm ({note})"
        )
    elif foot_based(c.to_system):
        con.print(
            f"foot length {c.foot_length_mm:.1f} mm (both systems name the foot: no toe "
            "allowance involved)"
        )
    else:
        con.print(
            f"last length {c.last_length_mm:.1f} mm (both systems name the last: no toe "
            "allowance involved)"
        )


# --------------------------------------------------------------------------- grade


def _pairs(items: list[str], what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[key.strip()] = float(value.replace(",", "."))
        except ValueError:
            _fail(f"{what} expects DIMENSION=MM such as last_length=270.5, found {item!r}.")
    return out


def _size_list(text: str) -> list[float]:
    """The sizes of ``--sizes``, counted before they are made (``36-1e9`` is refused)."""
    from sizecheck.tables import MAX_TABLE_SIZES

    try:
        if "-" in text.strip()[1:] and "," not in text:
            first, _, last = text.strip().partition("-")
            a, b = float(first), float(last)
            step = 0.5 if (a % 1 or b % 1) else 1.0
            count = (b - a) / step + 1
            if not 1 <= count <= MAX_TABLE_SIZES:  # also false for NaN; inf is too many
                _fail(
                    f"--sizes {text!r} makes {count:,.0f} sizes; a table has 1 to "
                    f"{MAX_TABLE_SIZES:,} (from ≤ to), e.g. 36-46."
                )
            return [a + i * step for i in range(round(count))]
        return [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        _fail(f"--sizes expects a range such as 36-46 or a list such as 36,37,38; found {text!r}.")


@app.command()
@handle_errors
def grade(
    master: Annotated[
        list[str],
        typer.Option("--master", "-m", help="A master last's dimension: DIMENSION=MM (repeat)."),
    ],
    base_size: Annotated[float, typer.Option("--base-size", help="Size of the master last.")],
    name: Annotated[str, typer.Option("--name", help="Name of the new table.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The .toml file to write.")],
    rule: Annotated[
        str | None,
        typer.Option(
            "--rule", help="Grading rule or table to take steps from, e.g. bbkkp-2012-children."
        ),
    ] = None,
    step: Annotated[
        list[str] | None,
        typer.Option("--step", help="Override a step: DIMENSION=MM per size (repeat)."),
    ] = None,
    sizes: Annotated[
        str | None,
        typer.Option("--sizes", help="Sizes to cover: 36-46 or 36,37,38 (at most 1000)."),
    ] = None,
    system: Annotated[
        str,
        typer.Option(
            "--system",
            help="Size system (without --rule): eu, uk, us-men, us-women, mondopoint or jp.",
        ),
    ] = "eu",
    title: Annotated[str | None, typer.Option("--title", help="Title of the table.")] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Provenance text (default: describes the master)."),
    ] = None,
    status: Annotated[
        str, typer.Option("--status", help="official, derived, proposal or user.")
    ] = "user",
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
) -> None:
    """Grade a reference table from a master last, and write it as TOML.

    Every command accepts the written file with --table FILE.toml.

    Example: sizecheck grade --master last_length=280.5 --master last_ball_girth=241
    --base-size 42 --name medali-2026 --out medali-2026.toml
    """
    from sizecheck.report import write_table
    from sizecheck.tables import grade as grade_table

    rule_table = _load_table(rule) if rule else None
    table = grade_table(
        _pairs(master, "--master"),
        base_size=base_size,
        name=name,
        title=title,
        size_system=system,
        sizes=_size_list(sizes) if sizes else None,
        steps=_pairs(step or [], "--step"),
        rule=rule_table,
        status=status,
        source=source,
    )
    path = write_table(table, out, overwrite=force)
    _console().print(
        f"Wrote {path} ({len(table.dimensions)} dimension(s), sizes {_sizes_text(table.sizes)}). "
        f"Use it with --table {path}"
    )


# --------------------------------------------------------------------------- measure


def _out_folder(value: str | Path) -> Path:
    """``--out``: a folder name; an empty one (the current folder, by accident) is refused.

    Typer passes the default (a ``Path``) through the parser as well as the user's text.
    """
    if isinstance(value, Path):
        return value
    if not value.strip():
        raise typer.BadParameter("empty; give a folder (it is created if missing).")
    return Path(value)


@contextlib.contextmanager
def _interruptible(out: Path, lang: str) -> Iterator[None]:
    """Ctrl-C during ``measure``: one line saying that nothing was published, exit 130."""
    from sizecheck.i18n import t

    try:
        yield
    except KeyboardInterrupt:
        _console(stderr=True).print(t("cli.interrupted", lang, out=out))
        raise typer.Exit(EXIT_INTERRUPTED) from None


@app.command()
@handle_errors
def measure(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(help="Measurement files: CSV, TSV or XLSX, as the QA office keeps them."),
    ] = None,
    example: Annotated[
        bool, typer.Option("--example", help="Analyse the bundled SYNTHETIC example cluster.")
    ] = False,
    table: TableOpt = "paris-point",
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder for every output (created if missing). A run publishes its files "
            "only when all are written, and replaces only files sizecheck wrote there.",
            parser=_out_folder,
        ),
    ] = Path("sizecheck-report"),
    lang: LangOpt = None,
    no_charts: Annotated[
        bool,
        typer.Option("--no-charts", help="Write only the tables: CSV, JSON, workbook (fast)."),
    ] = False,
    deviations: Annotated[
        str,
        typer.Option(
            "--deviations",
            help="Format of the per-measurement file: auto (deviations.csv while its rows "
            "fit a spreadsheet, 1,048,575, else deviations.parquet), csv, or parquet (full "
            "precision, ~18x smaller and faster to write; for pandas, R, DuckDB).",
        ),
    ] = "auto",
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Exit 1 when any producer is not conforming (for scripts and CI)."
        ),
    ] = False,
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules",
            help="Control-chart rules, comma separated: we1..we4 (Western Electric), "
            "n1..n8 (Nelson). Default: see README.",
        ),
    ] = None,
    sep: SepOpt = None,
    decimal: DecimalOpt = None,
    encoding: EncodingOpt = None,
    sheet: SheetOpt = None,
    units: UnitsOpt = "mm",
    limit: LimitOpt = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            help="Processes drawing charts and cards, and fitting the cluster model beside "
            "the statistics on large files (default: all cores; 1: one process).",
        ),
    ] = None,
    min_n: Annotated[
        int, typer.Option("--min-n", help="Fewer measurements than this: insufficient data.")
    ] = 8,
    alpha: Annotated[
        float, typer.Option("--alpha", help="Significance level of the offset and grading tests.")
    ] = 0.05,
    min_sizes: Annotated[
        int, typer.Option("--min-sizes", help="Distinct sizes needed before grading is judged.")
    ] = 3,
    scatter_share: Annotated[
        float,
        typer.Option(
            "--scatter-share",
            help="Scatter when the within spread alone puts more than this share out of spec.",
        ),
    ] = 0.05,
    drift_step: Annotated[
        float,
        typer.Option(
            "--drift-step",
            help="Drift when the sizes changed significantly at one point in time, by more "
            "than this share of the in-spec half-width (1.0: 1.5 mm for lengths at ±1.5 mm).",
        ),
    ] = 1.0,
    drift_signals: Annotated[
        int,
        typer.Option(
            "--drift-signals",
            hidden=True,
            help="Not read any more (drift is a tested change, see --drift-step); accepted "
            "so that existing scripts run.",
        ),
    ] = 2,
    pair_mismatch: Annotated[
        float,
        typer.Option(
            "--pair-mismatch",
            help="Pair mismatch when left and right differ systematically by more than this "
            "share of the in-spec half-width (1.0: 1.5 mm for lengths at ±1.5 mm).",
        ),
    ] = 1.0,
    multiple_testing: Annotated[
        str,
        typer.Option(
            "--multiple-testing",
            help="Adjust the offset, grading and pair-mismatch tests for testing every "
            "producer × dimension: none (each at --alpha, the default), holm (family-wise "
            "error rate) or fdr (Benjamini–Hochberg false discovery rate).",
        ),
    ] = "none",
    resolution: Annotated[
        float | None,
        typer.Option(
            "--resolution",
            help="Resolution the lengths were read to, mm (e.g. 0.5): no spread is taken "
            "below resolution/sqrt(12). Default: inferred per producer and dimension.",
        ),
    ] = None,
    aql: Annotated[
        float | None,
        typer.Option(
            "--aql",
            help="Judge each producer's lots (lot column) at this AQL, "
            "percent out of tolerance; writes lots.csv. Needs --lot-size.",
        ),
    ] = None,
    lot_size: Annotated[
        int | None,
        typer.Option("--lot-size", help="Shoes in each lot (with --aql), e.g. one day's output."),
    ] = None,
    level: LevelOpt = "II",
    inspection: InspectionOpt = "normal",
    method: MethodOpt = "attributes",
    gage: Annotated[
        Path | None,
        typer.Option(
            "--gage",
            help="gage.json of a gage R&R study ('sizecheck gage'): say whether the "
            "measurement system can resolve the tolerance. Nothing is widened for it.",
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="pandas (one process) or dask: read, validate and analyse on a Dask "
            "cluster, partitioned by producer, with the same tables; inputs may be globs "
            "and s3:// URLs; deviations go to the folder deviations.parquet/. Not drawn by "
            "dask: charts/, report.html, the cards. Needs pip install 'sizecheck[dask]'.",
        ),
    ] = "pandas",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="With --engine dask: the Dask scheduler's address (tcp://host:8786); "
            "default a local cluster, one worker per core.",
        ),
    ] = None,
    title: Annotated[
        str,
        typer.Option(
            "--title",
            help="Report title, shown on report.html, every card and the workbook "
            "(default: the tool's own title).",
        ),
    ] = "",
    office: Annotated[
        str,
        typer.Option(
            "--office",
            help="Issuing office, e.g. 'UPT Persepatuan Mojokerto': shown on report.html, "
            "every card and the workbook.",
        ),
    ] = "",
    report_no: Annotated[
        str,
        typer.Option(
            "--report-no",
            help="Report number, e.g. 'QA/2026/114': shown on report.html, every card and "
            "the workbook.",
        ),
    ] = "",
) -> None:
    """Measure how far each producer's sizes drift from the reference table.

    Writes deviations.csv (.parquet beyond a spreadsheet's rows), rejects.csv,
    producer_summary.csv, size_summary.csv, corrections.csv, comparison.csv,
    conventions.csv, summary.json, the workbook for Excel (summary.xlsx, or ringkasan.xlsx
    with --lang id) and, unless --no-charts, charts/, report.html and one printable card
    per producer under --out; with --aql and
    --lot-size also lots.csv (each producer's lots judged by a sampling plan, see
    'sizecheck plan'). --title, --office and --report-no head the report, every card
    and the workbook (each card also has a box to sign). --engine dask writes the same
    tables and the workbook, the deviations as the folder deviations.parquet/, and no
    charts/, report.html or cards. Exit 0 when the
    analysis is done; 1 with --strict when a producer is not conforming; 2 for unusable
    input, an unknown table or bad usage.

    Example: sizecheck measure --example --lang id
    """
    import dataclasses

    from sizecheck.examples import example_path
    from sizecheck.i18n import t
    from sizecheck.pipeline import ReportInfo, analyse
    from sizecheck.report import EarlyDeviations, write_report
    from sizecheck.stats import Thresholds

    info = ReportInfo(title=title, office=office, report_no=report_no)
    files = list(inputs or [])
    if example:
        files.insert(0, example_path())
    language = _language(lang)
    if not files:
        _fail(t("cli.no_input", language), language)
    rule_list = [r.strip() for r in rules.split(",") if r.strip()] if rules else None
    lot_plan = None
    if aql is not None or lot_size is not None:
        if aql is None or lot_size is None:
            _fail("Lots are judged with both --aql and --lot-size, e.g. --aql 2.5 --lot-size 180.")
        from sizecheck.sampling import sampling_plan

        lot_plan = sampling_plan(lot_size, aql, level=level, inspection=inspection, method=method)
    read_limits = _read_limits(limit)
    con = _console()
    if engine not in ("pandas", "dask"):
        _fail(f"Unknown --engine {engine!r}; choose pandas or dask.")
    if scheduler is not None and engine != "dask":
        _fail("--scheduler is used with --engine dask.")
    thresholds = Thresholds(
        min_n=min_n,
        alpha=alpha,
        min_sizes_for_grading=min_sizes,
        scatter_max_share=scatter_share,
        drift_min_signals=drift_signals,
        drift_step_share=drift_step,
        pair_mismatch_share=pair_mismatch,
        multiple_testing=multiple_testing,
    )
    if engine == "dask" and deviations not in ("auto", "parquet"):
        _fail(
            f"--deviations {deviations}: the Dask engine writes the deviations as the Parquet "
            "folder deviations.parquet/ (--deviations auto or parquet). Use --engine pandas "
            "for deviations.csv."
        )
    if engine == "dask":
        from sizecheck.engine_dask import input_text, measure_dask, require_dask
        from sizecheck.i18n import t
        from sizecheck.report import choose_deviations_format

        require_dask()
        with _interruptible(out, language):
            dask_run, written = measure_dask(
                [input_text(f) for f in files], out, lang=language,
                scheduler=scheduler or "local", table=table, sep=sep, decimal=decimal,
                encoding=encoding, sheet=sheet, units=units, drift_rules=rule_list,
                thresholds=thresholds, synthetic=example and not inputs, lot_plan=lot_plan,
                gage=gage, resolution=resolution, limits=read_limits, report_info=info,
            )  # fmt: skip
        choice = choose_deviations_format("parquet", dask_run.n_deviations)
        _print_measure_summary(con, dask_run, out, written, language, choice)
        if not no_charts:
            con.print(t("cli.dask_no_charts", language))
        _exit_strict(dask_run, strict)
        return
    # deviations.csv, the largest output, is written in a thread while the statistics run;
    # EarlyDeviations also holds --out's lock and staging folder until the run is published
    with _interruptible(out, language), EarlyDeviations(out, files, deviations) as early:
        analysis = analyse(
            files,
            table=table,
            sep=sep,
            decimal=decimal,
            encoding=encoding,
            sheet=sheet,
            units=units,
            drift_rules=rule_list,
            thresholds=thresholds,
            synthetic=example and not inputs,
            on_compared=early,
            lot_plan=lot_plan,
            gage=gage,
            resolution=resolution,
            limits=read_limits,
            jobs=jobs,
        )
        analysis = dataclasses.replace(analysis, report_info=info)
        written = _write_with_progress(
            write_report,
            analysis,
            out,
            lang=language,
            charts=not no_charts,
            jobs=jobs,
            deviations_format=deviations,
            early=early,
        )
    _print_measure_summary(con, analysis, out, written, language, early.choice)
    _exit_strict(analysis, strict)


def _exit_strict(analysis: Any, strict: bool) -> None:
    """``--strict``: exit 1 when a producer is not conforming."""
    if strict:
        flagged = analysis.producer_summary["verdict"].astype(str)
        bad = ~flagged.isin(["conforming", "insufficient_data"])
        if bool(bad.any()):
            raise typer.Exit(EXIT_FINDINGS)


def _language(lang: str | None) -> str:
    from sizecheck.i18n import check_lang, default_lang

    return default_lang() if lang is None else check_lang(lang)


def _write_with_progress(
    write: Callable[..., list[Path]], *args: Any, lang: str, **kwargs: Any
) -> list[Path]:
    from rich.progress import Progress

    from sizecheck.i18n import t

    with Progress(console=_console(stderr=True), transient=True) as bar:
        task = bar.add_task(t("cli.drawing", lang), total=None)

        def progress(done: int, total: int) -> None:  # producers drawn, of all producers
            words = t("cli.drawing_producers", lang, done=done, total=total)
            bar.update(task, completed=done, total=total, description=words)

        return write(*args, lang=lang, progress=progress, **kwargs)


def _print_cluster(
    con: "Console", analysis: Any, out: Path, written: list[Path], lang: str
) -> None:
    """Where cluster_summary.csv is, or why it was not written (summary.json says it too)."""
    from sizecheck.i18n import dimension_label, t
    from sizecheck.pipeline import CLUSTER_MIN_PRODUCERS

    left = analysis.cluster_left_out
    if any(p.name == "cluster_summary.csv" for p in written):
        n = int(analysis.cluster.summary["n_producers"].max())
        con.print(t("cli.cluster_written", lang, producers=n, path=out / "cluster_summary.csv"))
        if left:
            dims = ", ".join(f"{dimension_label(d, lang)} ({n})" for d, n in left.items())
            con.print(t("cli.cluster_left_out", lang, min=CLUSTER_MIN_PRODUCERS, dims=dims))
    elif analysis.cluster is None and left:
        most = max(left.values())
        con.print(t("cli.cluster_not_written", lang, min=CLUSTER_MIN_PRODUCERS, most=most))


def _print_measure_summary(
    con: "Console",
    analysis: Any,
    out: Path,
    written: list[Path],
    lang: str,
    deviations: "DeviationsChoice | None" = None,
) -> None:
    from rich.table import Table
    from rich.text import Text

    from sizecheck.escaping import visible_controls
    from sizecheck.findings import headline_text, verdict_words
    from sizecheck.i18n import dimension_label, note_text, t

    table = analysis.table
    if analysis.synthetic:
        con.print(t("cli.synthetic", lang))
    con.print(
        t("cli.table_used", lang, name=table.name, status=t(f"table_status.{table.status}", lang))
    )
    con.print(t("cli.source", lang, source=table.text("source", lang)))
    acc = analysis.accounting.to_dict()
    problems = acc["rows_rejected"] - acc.get("rows_skipped", 0)
    con.print(
        t(
            "cli.accounting_rows",
            lang,
            rows_read=acc["rows_read"],
            rows_used=acc["rows_used"],
            rows_skipped=acc.get("rows_skipped", 0),
            rows_problem=problems,
        )
    )
    for note in analysis.notes:  # a sheet left out is said, as a row left out is
        con.print(Text(visible_controls(note_text(note, lang))))
    if analysis.missing_dimensions:
        missing = ", ".join(dimension_label(d, lang) for d in analysis.missing_dimensions)
        con.print(t("cli.missing_dimensions", lang, dims=missing))
    findings = analysis.findings
    dims = sorted({d.dimension for f in findings.values() for d in f.dimensions})
    grid = Table(title=t("cli.producers_title", lang))
    grid.add_column(t("cli.producer", lang))
    for dim in dims:
        grid.add_column(dimension_label(dim, lang))
    for producer in analysis.producers:
        f = findings[producer]
        # a producer of several models: one row per model (each is its own set of lasts)
        for model in dict.fromkeys(d.model for d in (f.models or f.dimensions)):
            by_dim = {d.dimension: d.verdict for d in (f.models or f.dimensions)
                      if d.model == model}  # fmt: skip
            cells = [verdict_words(by_dim[d], lang) if d in by_dim else "" for d in dims]
            name = visible_controls(f"{producer} — {model}" if model else producer)
            grid.add_row(Text(name), *cells)
    con.print(grid)
    shown = [f for f in findings.values() if f.headline is not None and f.headline.severity > 1]
    if shown:
        con.print(t("cli.findings_title", lang))
        for f in shown:
            line = f"  • {visible_controls(f.producer)}: {headline_text(f, lang)}"
            con.print(Text(line))
    con.print(t("cli.measure_done", lang, producers=len(analysis.producers)))
    con.print(t("cli.written", lang, n=len(written), out=out))
    if deviations is not None:
        con.print(_deviations_line(deviations, lang))
    if analysis.lot_plan is not None:
        _print_lots(con, analysis, lang)
    _print_cluster(con, analysis, out, written, lang)
    report = out / "report.html"
    if report in written or report.resolve() in written:
        con.print(t("cli.report_written", lang, path=report))
        con.print(t("cli.cards_written", lang, path=out / "cards"))
    if problems:
        con.print(t("cli.look_at_rejects", lang, n=problems, path=out / "rejects.csv"))
    if analysis.gage is not None:
        from sizecheck.gage import gage_sentence

        con.print(gage_sentence(analysis.gage, lang))


def _deviations_line(choice: "DeviationsChoice", lang: str) -> str:
    """One line: which file holds the deviations, and why that format."""
    from sizecheck.i18n import format_number, t

    rows = format_number(choice.rows, lang, 0, grouping=True)
    limit = format_number(choice.spreadsheet_rows, lang, 0, grouping=True)
    if choice.reason == "requested":
        if choice.format == "csv" and not choice.fits_spreadsheet:
            return t("cli.too_many_rows", lang, rows=rows, limit=limit)
        return t("cli.deviations.requested", lang, name=choice.name, fmt=choice.format)
    if choice.reason == "fits_spreadsheet":
        return t("cli.deviations.fits_spreadsheet", lang, rows=rows, limit=limit)
    return t("cli.deviations.too_many_rows", lang, rows=rows, limit=limit)


def _print_lots(con: "Console", analysis: Any, lang: str) -> None:
    from sizecheck.findings import lot_counts_of
    from sizecheck.i18n import t
    from sizecheck.sampling import plan_words

    con.print(plan_words(analysis.lot_plan, lang)[0])
    lots = analysis.lots
    if lots.empty:
        con.print(t("cli.lots_none", lang))
        return
    # counted as the findings count them (lots per producer, not lot × dimension rows)
    con.print(t("cli.lots", lang, **lot_counts_of(analysis.findings)))


_ACCOUNTING_KEYS = (
    "rows_read",
    "rows_used",
    "rows_rejected",
    "cells_read",
    "cells_used",
    "cells_rejected",
)


# --------------------------------------------------------------------------- plan


@app.command()
@handle_errors
def plan(
    lot_size: Annotated[
        int | None,
        typer.Option("--lot-size", help="Number of shoes in the lot (e.g. one day's output)."),
    ] = None,
    aql: Annotated[
        float | None,
        typer.Option(
            "--aql", help="Acceptance quality limit, percent out of tolerance (e.g. 2.5)."
        ),
    ] = None,
    level: LevelOpt = "II",
    inspection: InspectionOpt = "normal",
    method: MethodOpt = "attributes",
    power: Annotated[
        float | None,
        typer.Option(
            "--power",
            help="Visits and pairs per producer instead of a lot plan: the chance (e.g. 0.8) "
            "of finding the --offset and/or --grading; needs --sd, --pair-icc, --visit-icc.",
        ),
    ] = None,
    offset: Annotated[
        float | None, typer.Option("--offset", help="With --power: offset to find, mm.")
    ] = None,
    grading: Annotated[
        float | None,
        typer.Option("--grading", help="With --power: grading error to find, mm per size."),
    ] = None,
    sd: Annotated[
        float | None,
        typer.Option(
            "--sd",
            help="With --power: SD of one shoe around its producer's line, mm "
            "(within_producer_sd_mm of cluster_summary).",
        ),
    ] = None,
    pair_icc: Annotated[
        float | None,
        typer.Option(
            "--pair-icc", help="With --power: correlation of the two shoes of a pair (pair_icc)."
        ),
    ] = None,
    visit_icc: Annotated[
        float | None,
        typer.Option(
            "--visit-icc",
            help="With --power: correlation of two shoes of one visit (visit_icc).",
        ),
    ] = None,
    alpha: Annotated[
        float, typer.Option("--alpha", help="With --power: significance level (two-sided).")
    ] = 0.05,
    pairs_per_visit: Annotated[
        int | None,
        typer.Option("--pairs-per-visit", help="With --power: fix the pairs measured per visit."),
    ] = None,
    visits: Annotated[
        int | None, typer.Option("--visits", help="With --power: fix the number of visits.")
    ] = None,
    max_visits: Annotated[
        int, typer.Option("--max-visits", help="With --power: most visits to consider.")
    ] = 30,
    sizes: Annotated[
        str,
        typer.Option(
            "--sizes",
            help="With --power: the producer's sizes, spread over each visit's pairs "
            "(e.g. 36-46 or 38,40,42).",
        ),
    ] = "36-46",
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the plan as one JSON object (for scripts).")
    ] = False,
    lang: LangOpt = None,
) -> None:
    """How many shoes to measure from a lot and when it is accepted; or, with --power, how
    many pairs on how many visits find a producer's offset or grading error.

    Attributes: ISO 2859-1 single sampling (code letter, sample size, Ac/Re, the
    table's arrows followed to the plan actually used). Variables: sample size and
    acceptability constant k of the s-method (ANSI/ASQ Z1.9 Table B-1).

    --power: the design effect of pairs within visits (Kish 1965; Donner & Klar 2000),
    the offset tested on visit means and the grading within visits, power from the
    noncentral t; take --sd, --pair-icc and --visit-icc from cluster_summary (Python:
    sc.cluster_summary). The Python twin is sc.sample_size.

    Example: sizecheck plan --lot-size 180 --aql 2.5

    Example: sizecheck plan --power 0.8 --offset 1.5 --sd 1.0 --pair-icc 0.5 --visit-icc 0.2
    """
    if power is not None:
        _plan_power(
            power=power,
            offset=offset,
            grading=grading,
            sd=sd,
            pair_icc=pair_icc,
            visit_icc=visit_icc,
            alpha=alpha,
            pairs_per_visit=pairs_per_visit,
            visits=visits,
            max_visits=max_visits,
            sizes=sizes,
            lot_options=lot_size is not None or aql is not None,
            json_out=json_out,
            lang=lang,
        )
        return
    from sizecheck.errors import UsageError
    from sizecheck.sampling import plan_words, sampling_plan

    power_only = [
        name
        for name, value in (
            ("--offset", offset),
            ("--grading", grading),
            ("--sd", sd),
            ("--pair-icc", pair_icc),
            ("--visit-icc", visit_icc),
        )
        if value is not None
    ]
    if power_only:
        raise UsageError(f"{', '.join(power_only)}: used only with --power (e.g. --power 0.8).")
    if lot_size is None or aql is None:
        raise UsageError(
            "Give --lot-size and --aql for a lot plan (sizecheck plan --lot-size 180 --aql 2.5), "
            "or --power for visits and pairs per producer."
        )
    p = sampling_plan(lot_size, aql, level=level, inspection=inspection, method=method)
    if json_out:
        import json

        typer.echo(json.dumps(p.to_dict(), ensure_ascii=False))
        return
    con = _console()
    for line in plan_words(p, _language(lang)):
        con.print(line)


def _parse_sizes(text: str) -> list[float]:
    """``36-46`` (every whole size) or ``38,40,42`` as a list of sizes."""
    from sizecheck.errors import UsageError

    try:
        if "," in text or "-" not in text.strip().lstrip("-"):
            return [float(part) for part in text.split(",") if part.strip()]
        low, high = (float(part) for part in text.split("-", 1))
    except ValueError:
        raise UsageError(
            f"--sizes {text!r}: write a range like 36-46 or a list like 38,40,42."
        ) from None
    if high < low:
        raise UsageError(f"--sizes {text!r}: the range runs from the smaller size to the larger.")
    return [low + i for i in range(int(high - low) + 1)]


def _plan_power(
    *,
    power: float,
    offset: float | None,
    grading: float | None,
    sd: float | None,
    pair_icc: float | None,
    visit_icc: float | None,
    alpha: float,
    pairs_per_visit: int | None,
    visits: int | None,
    max_visits: int,
    sizes: str,
    lot_options: bool,
    json_out: bool,
    lang: str | None,
) -> None:
    from sizecheck.errors import UsageError
    from sizecheck.power import power_words, sample_size

    if lot_options:
        raise UsageError("--power plans visits and pairs per producer: leave out --lot-size/--aql.")
    if sd is None or pair_icc is None or visit_icc is None:
        missing = [
            name
            for name, value in (("--sd", sd), ("--pair-icc", pair_icc), ("--visit-icc", visit_icc))
            if value is None
        ]
        raise UsageError(
            f"--power needs {', '.join(missing)} (from cluster_summary: within_producer_sd_mm, "
            "pair_icc, visit_icc)."
        )
    p = sample_size(
        offset_mm=offset,
        grade_error_mm_per_size=grading,
        sd_mm=sd,
        pair_icc=pair_icc,
        visit_icc=visit_icc,
        power=power,
        alpha=alpha,
        sizes=_parse_sizes(sizes),
        pairs_per_visit=pairs_per_visit,
        visits=visits,
        max_visits=max_visits,
    )
    if json_out:
        import json

        typer.echo(json.dumps(p.to_dict(), ensure_ascii=False))
        return
    con = _console()
    for line in power_words(p, _language(lang)):
        con.print(line)


# --------------------------------------------------------------------------- validate, template


@app.command("validate")
@handle_errors
def validate_cmd(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Measurement files: CSV, TSV, Excel 'Unicode text' or XLSX."),
    ],
    table: TableOpt = "paris-point",
    sep: SepOpt = None,
    decimal: DecimalOpt = None,
    encoding: EncodingOpt = None,
    sheet: SheetOpt = None,
    units: UnitsOpt = "mm",
    show: Annotated[
        int, typer.Option("--show", help="How many rows to list per problem code.")
    ] = 5,
    limit: LimitOpt = None,
    lang: LangOpt = None,
) -> None:
    """Check measurement files without analysing them: what is used, what is not, and why.

    Prints how each file was read (separator, decimal mark, encoding, header row), the
    row and cell accounting, and the problems by code with their first rows, in --lang
    (with --lang id each code is named by its reason in words). Title, blank,
    average/total and signature rows are listed as skipped, not as problems. Exit 0 when
    nothing is rejected for a problem, 1 when something is, 2 when a file cannot be read.

    Example: sizecheck validate qa_maret.xlsx --table paris-point --lang id
    """
    from sizecheck.validate import read_measurements

    language = _language(lang)

    result = read_measurements(
        inputs,
        table=_load_table(table),
        sep=sep,
        decimal=decimal,
        encoding=encoding,
        sheet=sheet,
        units=units,
        limits=_read_limits(limit),
    )
    _print_validation(_console(), result, show, language)
    if not result.clean:
        raise typer.Exit(EXIT_FINDINGS)


def _print_validation(con: "Console", result: Any, show: int, lang: str) -> None:
    from rich.table import Table
    from rich.text import Text

    from sizecheck.escaping import visible_controls
    from sizecheck.i18n import note_text, t
    from sizecheck.validate import RejectCode, localized_rejects

    for s in result.sheets:
        if not s.has_header:
            continue
        if s.format == "csv":
            how = t("validate.read_csv", lang, source=s.source, row=s.header_row,
                    sep=repr(s.sep), decimal=repr(s.decimal), encoding=s.encoding)  # fmt: skip
        else:
            how = t("validate.read_sheet", lang, source=s.source, row=s.header_row,
                    sheet=repr(s.sheet), decimal=repr(s.decimal))  # fmt: skip
        con.print(how)
    for note in result.notes:
        con.print(Text(visible_controls(t("validate.note", lang, note=note_text(note, lang)))))
    acc = Table(title=t("validate.accounting", lang))
    for key in ("validate.col_source", "validate.col_rows_read", "validate.col_used",
                "validate.col_rejected", "validate.col_skipped", "validate.col_cells_read",
                "validate.col_used", "validate.col_rejected", "validate.col_blank"):  # fmt: skip
        acc.add_column(t(key, lang), justify="left" if key == "validate.col_source" else "right")
    a = result.accounting
    for s in (*a.sources, a):
        acc.add_row(
            getattr(s, "source", t("validate.total", lang)),
            *(str(getattr(s, f)) for f in ("rows_read", "rows_used", "rows_rejected",
              "rows_skipped", "cells_read", "cells_used", "cells_rejected", "cells_blank")),
        )  # fmt: skip
    con.print(acc)
    rejects = result.rejects
    if len(rejects) == 0:
        con.print(t("validate.clean", lang))
        return
    grid = Table(title=t("validate.by_code", lang))
    for key in ("validate.col_code", "validate.col_n", "validate.col_first",
                "validate.col_message"):  # fmt: skip
        grid.add_column(t(key, lang))
    for code in RejectCode:
        sub = rejects[rejects["code"] == code.value]
        if len(sub) == 0:
            continue
        first = sub.head(max(show, 1))
        where = "; ".join(
            f"{r.source}:{r.row}"
            + (f" {r.column}" if r.column else "")
            + (f" {r.value!r}" if r.value and not code.is_skip else "")
            for r in first.itertuples()
        ) + (" …" if len(sub) > len(first) else "")
        # the code in words of ``lang`` (in English the code itself, as rejects.csv has it)
        label = t(f"validate.code.{code.value}", lang)
        if code.is_skip:
            label += " " + t("validate.skipped", lang)
        message = localized_rejects(first.head(1), lang)["message"].iloc[0]
        grid.add_row(label, str(len(sub)), where, str(message))
    con.print(grid)
    n_problems = len(result.problems)
    if n_problems:
        con.print(t("validate.problems", lang, n=n_problems))
    else:
        con.print(t("validate.only_skipped", lang))


@app.command()
@handle_errors
def template(
    file: Annotated[Path, typer.Argument(help="The sheet to write: FILE.xlsx or FILE.csv.")],
    lang: LangOpt = None,
    dimensions: Annotated[
        str | None,
        typer.Option(
            "--dimensions",
            help="Dimension columns, comma separated (default: insole_length, "
            "insole_ball_width, last_length, last_ball_girth).",
        ),
    ] = None,
    units: UnitsOpt = "mm",
    table: Annotated[
        str | None,
        typer.Option("--table", "-t", help="Offer this table's sizes in the size dropdown."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    gage: Annotated[
        bool,
        typer.Option(
            "--gage",
            help="A gage R&R study sheet instead (sampel, petugas, ulangan and one dimension, "
            "the first of --dimensions), laid out for 10 parts x 3 operators x 3 trials.",
        ),
    ] = False,
) -> None:
    """Write an empty measurement sheet with the headers sizecheck reads.

    Headers are in English or Indonesian (--lang id: produsen, ukuran, kaki,
    panjang_insole (mm) ...), with the unit in every dimension header; an .xlsx template
    has dropdowns for foot and size. With --gage: a study sheet for 'sizecheck gage'.

    Example: sizecheck template pengukuran.xlsx --lang id
    """
    from sizecheck.report import write_template

    if gage:
        from sizecheck.report_gage import write_gage_template

        first = dimensions.split(",")[0].strip() if dimensions else "insole_length"
        study = write_gage_template(file, lang=_language(lang), dimension=first, unit=units,
                                    overwrite=force)  # fmt: skip
        _console().print(f"Template written: {study}")
        return
    dims = [d.strip() for d in dimensions.split(",") if d.strip()] if dimensions else None
    sizes = _load_table(table).sizes if table else None
    path = write_template(
        file, lang=_language(lang), dimensions=dims, sizes=sizes, unit=units, overwrite=force
    )
    _console().print(f"Template written: {path}")


# --------------------------------------------------------------------------- gage


@app.command("gage")
@handle_errors
def gage_cmd(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Study files (CSV or XLSX): part, operator, trial and readings."),
    ],
    dimension: Annotated[
        str | None,
        typer.Option("--dimension", "-d", help="Dimension to analyse (when several were read)."),
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option("--tolerance", help="Tolerance width in mm (3 for ±1.5 mm)."),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option(
            "--table", "-t", help="Take the tolerance width from this table's in-spec band."
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for every output (created if missing).")
    ] = Path("gage-report"),
    lang: LangOpt = None,
    no_charts: Annotated[
        bool, typer.Option("--no-charts", help="Write only gage.csv, gage.json, rejects.csv.")
    ] = False,
    sep: SepOpt = None,
    decimal: DecimalOpt = None,
    encoding: EncodingOpt = None,
    sheet: SheetOpt = None,
    units: UnitsOpt = "mm",
) -> None:
    """Can the measurement system resolve the tolerance? Crossed gage R&R, ANOVA method.

    Reads a study (parts measured several times by several operators; columns part or
    sampel, operator or petugas, trial or ulangan, and a dimension or value column),
    runs the two-way ANOVA with interaction (AIAG MSA 4th ed.; the interaction pooled
    when p > 0.25), and writes gage.csv, gage.json, rejects.csv and, unless --no-charts,
    charts/ and gage.html into --out. Exit 0 when done; 2 for an unreadable, incomplete
    or unbalanced study (the missing readings are named) or bad usage.

    Example: sizecheck gage studi_insole.xlsx --table paris-point --lang id
    """
    from rich.text import Text

    from sizecheck.escaping import visible_controls
    from sizecheck.gage import BAND_KEYS, analyse_study, note_text
    from sizecheck.i18n import dimension_label, format_number, t
    from sizecheck.report_gage import write_gage

    language = _language(lang)
    analysis = analyse_study(
        inputs, dimension=dimension, tolerance_mm=tolerance, table=table, sep=sep,
        decimal=decimal, encoding=encoding, sheet=sheet, units=units,
    )  # fmt: skip
    written = write_gage(analysis, out, lang=language, charts=not no_charts)
    study = analysis.study
    con = _console()
    acc = analysis.read.accounting.to_dict()
    con.print(t("cli.accounting", language, **{k: acc[k] for k in _ACCOUNTING_KEYS}))
    for note in analysis.read.notes:  # names from the file: controls shown, not obeyed
        con.print(Text(visible_controls(note_text(note, language))))
    con.print(
        t("gage.cli.study", language, dimension=dimension_label(study.dimension, language),
          parts=study.parts, operators=study.operators, trials=study.trials)
    )  # fmt: skip
    _print_gage_table(con, analysis, language)
    con.print(_gage_pooling(analysis, language))
    basis = (
        t("gage.cli.basis_tolerance", language,
          tolerance=format_number(study.tolerance_mm, language, 2))
        if study.verdict_basis == "pct_tolerance"
        else t("gage.cli.basis_study", language)
    )  # fmt: skip
    con.print(
        t("gage.cli.verdict", language, band=t(BAND_KEYS[study.verdict], language),
          pct=format_number(study.pct_gage_rr, language, 1), basis=basis)
    )  # fmt: skip
    con.print(t("gage.cli.ndc", language, ndc=study.ndc if study.ndc is not None else "–"))
    con.print(t("gage.cli.written", language, n=len(written), out=out))
    page = out / "gage.html"
    if page.exists():
        con.print(t("gage.cli.page", language, path=page))


def _gage_pooling(analysis: Any, lang: str) -> str:
    from sizecheck.gage import POOL_INTERACTION_P
    from sizecheck.i18n import format_number, t

    study = analysis.study
    key = "gage.pooled" if study.interaction_pooled else "gage.kept"
    return t(key, lang, p=format_number(study.interaction_p, lang, 3),
             limit=format_number(POOL_INTERACTION_P, lang, 2))  # fmt: skip


def _print_gage_table(con: "Console", analysis: Any, lang: str) -> None:
    from rich.table import Table

    from sizecheck.i18n import format_number, t
    from sizecheck.report_gage import COLUMN_KEYS, COMPONENT_KEYS

    study = analysis.study
    cols = ["variance_mm2", "sd_mm", "study_var_mm", "pct_contribution", "pct_study_var"]
    if study.tolerance_mm is not None:
        cols.append("pct_tolerance")
    digits = {"variance_mm2": 4, "sd_mm": 3, "study_var_mm": 2}
    grid = Table(title=t("gage.components", lang))
    grid.add_column(t("gage.col.source", lang))
    for c in cols:
        grid.add_column(t(COLUMN_KEYS[c], lang), justify="right")
    for row in study.components.to_dict(orient="records"):
        grid.add_row(
            t(COMPONENT_KEYS[row["source"]], lang),
            *(format_number(row[c], lang, digits.get(c, 1)) for c in cols),
        )
    con.print(grid)


# --------------------------------------------------------------------------- propose


@app.command("propose")
@handle_errors
def propose_cmd(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(help="Measurement files of the cluster: CSV, TSV or XLSX."),
    ] = None,
    example: Annotated[
        bool, typer.Option("--example", help="Use the bundled SYNTHETIC example cluster.")
    ] = False,
    table: TableOpt = "paris-point",
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--from",
            help="Whose lines inform the proposal: 'conforming' (conforming to --table for "
            "that dimension; the default), 'all', or a producer name (repeat --from for "
            "several). A dimension with fewer than 3 such producers is not proposed.",
        ),
    ] = None,
    base_size: Annotated[
        float | None,
        typer.Option(
            "--base-size",
            help="Size at which the levels are given (default: the --table's base size).",
        ),
    ] = None,
    step: Annotated[
        str,
        typer.Option(
            "--step",
            help="paris: lengths keep 20/3 mm per size, girths and widths take the median of "
            "the producers' steps; fit: every step is the median of the producers' steps.",
        ),
    ] = "paris",
    tolerances_from: Annotated[
        str | None,
        typer.Option(
            "--tolerances-from",
            help="Carry the tolerances of this table (name or .toml; default: --table).",
        ),
    ] = None,
    tolerance: Annotated[
        list[str] | None,
        typer.Option(
            "--tolerance",
            help="Set a tolerance, DIMENSION=IN_SPEC[/MISSIZED] in mm "
            "(±), e.g. last_length=1.5/3.33; repeatable.",
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="The proposed table (.toml); proposal_impact.csv, "
            "proposal.html and charts/ are written beside it.",
        ),
    ] = Path("proposal.toml"),
    title: Annotated[str | None, typer.Option("--title", help="Title of the table.")] = None,
    lang: LangOpt = None,
    no_charts: Annotated[
        bool, typer.Option("--no-charts", help="Write only the .toml and proposal_impact.csv.")
    ] = False,
    sep: SepOpt = None,
    decimal: DecimalOpt = None,
    encoding: EncodingOpt = None,
    sheet: SheetOpt = None,
    units: UnitsOpt = "mm",
) -> None:
    """Propose a cluster size table from the producers' own data (status: proposal).

    Per dimension: the median of the chosen producers' size lines (level at the base
    size, step per size), each producer counted once, with distribution-free 95 %
    intervals and a leave-one-producer-out check. Writes the table (--out, loads with
    --table like any table), proposal_impact.csv (each producer's verdict and mean
    correction against the current table and the proposal) and, unless --no-charts,
    proposal.html and charts/ beside it. Verdicts use measure's default thresholds.
    Exit 0 when done; 2 for unusable input, bad usage, or no dimension with 3 producers.

    Example: sizecheck propose data/*.csv --from all --out medali-2027.toml --lang id
    """
    from sizecheck.escaping import visible_controls
    from sizecheck.examples import example_path
    from sizecheck.i18n import dimension_label, format_number, t
    from sizecheck.propose import SKIP_KEYS, build_proposal, parse_tolerance
    from sizecheck.report_propose import write_proposal

    files = list(inputs or [])
    if example:
        files.insert(0, example_path())
    language = _language(lang)
    if not files:
        _fail(t("cli.no_input", language), language)
    chosen: str | list[str] = "conforming"
    if select:
        chosen = select[0] if len(select) == 1 and select[0] in ("conforming", "all") else select
    tolerances = dict(parse_tolerance(text) for text in tolerance or [])
    result = build_proposal(
        files, table=table, select=chosen, base_size=base_size,
        step=step,  # type: ignore[arg-type]  # checked by propose_table
        tolerances_from=tolerances_from, tolerances=tolerances, name=out.stem, title=title,
        sep=sep, decimal=decimal, encoding=encoding, sheet=sheet, units=units,
        synthetic=example and not inputs,
    )  # fmt: skip
    written = write_proposal(result, out, lang=language, charts=not no_charts)
    con = _console()
    if example and not inputs:
        con.print(t("cli.synthetic", language))
    if result.current.accounting is not None:
        acc = result.current.accounting.to_dict()
        con.print(t("cli.accounting", language, **{k: acc[k] for k in _ACCOUNTING_KEYS}))
    _print_proposal(con, result, language)
    from sizecheck.propose import MIN_PRODUCERS

    for r in result.proposal.skipped.to_dict(orient="records"):
        text = t(
            SKIP_KEYS[r["reason"]],
            language,
            dimension=dimension_label(r["dimension"], language),
            n=r["n_chosen"],
            names=visible_controls(r["producers"].replace("; ", ", ")) or "–",
            min=MIN_PRODUCERS,
        )
        con.print(t("propose.cli.skipped", language, text=text))
    con.print(
        t("propose.cli.proposed", language, n=len(result.table.dimensions),
          size=format_number(result.table.base_size, language,
                             0 if result.table.base_size.is_integer() else 1))
    )  # fmt: skip
    con.print(t("propose.cli.written", language, n=len(written), out=out))
    page = out.parent / "proposal.html"
    if not no_charts:
        con.print(t("propose.cli.page", language, path=page))
    con.print(t("propose.cli.use", language, path=out))


def _print_proposal(con: "Console", result: Any, lang: str) -> None:
    from rich.table import Table

    from sizecheck.escaping import visible_controls
    from sizecheck.i18n import dimension_label, format_number, t

    conform = result.conformity.set_index("dimension")
    grid = Table(title=t("propose.summary", lang))
    for key in (
        "propose.dimension",
        "propose.col_level",
        "propose.col_step",
        "propose.col_from",
        "propose.col_loo",
        "propose.col_conform",
    ):
        grid.add_column(t(key, lang))  # fmt: skip
    for e in result.proposal.estimates.to_dict(orient="records"):
        c = conform.loc[e["dimension"]]
        step = (
            t("propose.cli.row_step_fixed", lang, value=format_number(e["step_value_mm"], lang, 2))
            if e["step_rule"] == "fixed"
            else t("propose.cli.row_step", lang, value=format_number(e["step_value_mm"], lang, 2),
                   low=format_number(e["step_ci_low_mm"], lang, 2),
                   high=format_number(e["step_ci_high_mm"], lang, 2))
        )  # fmt: skip
        grid.add_row(
            dimension_label(e["dimension"], lang),
            t("propose.cli.row_level", lang, value=format_number(e["base_value_mm"], lang, 1),
              low=format_number(e["level_ci_low_mm"], lang, 1),
              high=format_number(e["level_ci_high_mm"], lang, 1)),
            step,
            t("propose.based_on", lang, n=e["n_producers"], m=e["n"]),
            t("propose.loo", lang, shift=format_number(e["loo_max_shift_mm"], lang, 2),
              producer=visible_controls(e["loo_producer"])),
            t("propose.conform", lang, now=c["conforming_current"],
              then=c["conforming_proposal"], n=c["n_judged"]),
        )  # fmt: skip
    con.print(grid)


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (the ``sizecheck`` console script).

    Before numpy is imported, ``NUMPY_MADVISE_HUGEPAGE=0`` is set unless the environment
    sets it: numpy otherwise asks the kernel for 2 MB pages for every large array, and at
    a million shoes the short-lived arrays of a run then cost ~1.5 s of kernel time
    zeroing fresh huge pages (measured: ``measure`` at 1M shoes 14.8–16.6 → 12.4–14.5 s
    CPU, 3 runs each). Likewise ``OPENBLAS_NUM_THREADS=1``: the matrices of a run are
    small (2 × 2 to 5 × 5), so OpenBLAS's worker threads do no useful work, but they wait
    for it spinning on the other core: at 1M shoes 1.1 s of CPU, at 300k 1.5 s (measured
    with ``benchmarks/profile_stages.py``: CPU of the other threads 2.81 → 1.73 s, the
    stages unchanged). Library use (notebooks) is not affected.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    return app(args=argv if argv is not None else sys.argv[1:], prog_name="sizecheck")
