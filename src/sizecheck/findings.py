"""One finding per producer: what terminal, report, card, workbook and summary.json show.

A :class:`Finding` is *data*: the verdict of every dimension (pooled, and per model when
the producer makes several), the size as it is now (the level since the last detected
change, and before it), the corrections per size, the pair mismatch, the spread, and the
actions — each action a catalogue key with the numbers it quotes. It is built once, by
:func:`build_findings`, from the tables the statistics computed
(``producer_summary``, ``corrections``, ``levels``); nothing here computes a statistic.
Words come from the message catalogue when a finding is rendered
(:func:`render`, :func:`finding_lines`, :func:`action_texts`, :func:`headline_text`), so
every output shows the same numbers in English or Indonesian.

>>> verdict_words("offset+grading", "en")
'offset, grading error'
>>> size_phrase(0.6, "insole_length", "en")
'more than half a size long'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sizecheck.i18n import dimension_label, format_date, format_number, has_key, t

if TYPE_CHECKING:
    import pandas as pd

    from sizecheck.pipeline import Analysis
    from sizecheck.tables import ReferenceTable

__all__ = [
    "EXPLAINS",
    "FLAGS",
    "LENGTH_DIMENSIONS",
    "SEVERITY",
    "Action",
    "Change",
    "DimensionFinding",
    "Finding",
    "Interval",
    "Level",
    "LotResult",
    "SizeCorrection",
    "Value",
    "action_texts",
    "build_findings",
    "finding_lines",
    "headline_text",
    "key_lines",
    "lot_actions",
    "lot_counts",
    "lot_counts_of",
    "lot_sentence",
    "render",
    "size_amount",
    "size_phrase",
    "verdict_flags",
    "verdict_words",
]

#: Length dimensions, in the order they are shown first.
LENGTH_DIMENSIONS: tuple[str, ...] = (
    "insole_length",
    "last_length",
    "last_stick_length",
    "inside_length",
    "toecap_internal_length",
)

#: Verdict flags in the order a workshop should act on them (and shown in).
FLAGS: tuple[str, ...] = ("drift", "grading", "offset", "pair_mismatch", "scatter")

#: Below this many shoes the share measured out of spec is a rough figure (a binomial
#: share of 30 has a 95 % interval about ±15 points wide): the scatter finding says so
#: when it differs much from the share the spread predicts.
FEW_SHOES = 30

#: How serious a flag is for the headline: a size that is wrong now (offset, grading, a
#: change in time) before a pair that does not match or shoes that scatter; conforming
#: before too little data. Ties go to the dimension furthest out of tolerance.
SEVERITY: Mapping[str, int] = {
    "offset": 4,
    "grading": 4,
    "drift": 4,
    "pair_mismatch": 3,
    "scatter": 2,
    "conforming": 1,
    "insufficient_data": 0,
}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Value:
    """A number (or date, or text) to quote in a sentence, and how to write it.

    ``kind`` is one of ``mm`` (1 decimal), ``mm_signed``, ``mm_abs`` (unsigned),
    ``mm2`` (2 decimals, signed, for mm per size), ``sizes`` (1 decimal), ``size`` (a
    size label), ``pct`` (0 decimals), ``count``, ``ratio`` (2 decimals), ``date``,
    ``dimension`` (a dimension name, written in the reader's language), ``dimensions``
    (several, in lower case, joined with commas), ``text``
    (written as it is), ``key`` (a catalogue key, written in the reader's language).
    """

    value: Any
    kind: str = "mm"

    def text(self, lang: str) -> str:
        v, kind = self.value, self.kind
        if kind == "mm":
            return format_number(v, lang, 1)
        if kind == "mm_signed":
            return format_number(v, lang, 1, signed=True)
        if kind == "mm_abs":
            return format_number(abs(v) if _finite(v) else v, lang, 1)
        if kind == "mm2":
            return format_number(v, lang, 2, signed=True)
        if kind == "sizes":
            return format_number(v, lang, 1)
        if kind == "size":
            return size_text(v, lang)
        if kind == "pct":
            return format_number(v, lang, 0)
        if kind == "count":
            return format_number(v, lang, 0, grouping=True)
        if kind == "ratio":
            return format_number(v, lang, 2)
        if kind == "date":
            return format_date(v, lang)
        if kind == "dimension":
            return dimension_label(str(v), lang)
        if kind == "dimensions":
            return ", ".join(dimension_label(str(x), lang).lower() for x in v)
        if kind == "key":
            return t(str(v), lang)
        return str(v)

    def to_dict(self) -> Any:
        return _plain(self.value)


@dataclass(frozen=True)
class Sentence:
    """A catalogue key and the values of its placeholders."""

    key: str
    values: Mapping[str, Value] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        return t(self.key, lang, **{k: v.text(lang) for k, v in self.values.items()})

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "values": {k: v.to_dict() for k, v in self.values.items()}}


@dataclass(frozen=True)
class Action(Sentence):
    """One thing to do: a sentence, the flag and dimension (and model) it is about."""

    flag: str = ""
    dimension: str = ""
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(flag=self.flag, dimension=self.dimension, model=self.model)
        return out


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval (NaN where unknown)."""

    value: float
    low: float = math.nan
    high: float = math.nan

    @property
    def known(self) -> bool:
        return _finite(self.value)


@dataclass(frozen=True)
class Level:
    """The mean deviation (measured − nominal, mm) over a period, with its interval."""

    n: int
    mean_mm: float
    ci_low_mm: float
    ci_high_mm: float
    since: Any = None  # first date of the period (None: from the start / undated)


@dataclass(frozen=True)
class Change:
    """A detected change in time: when, by how much, and the level on either side."""

    date: Any  # first charted date after the change (None on charts of lots or rows)
    step_mm: float
    before: Level
    after: Level
    step_low_mm: float = math.nan  # bootstrap interval of the step
    step_high_mm: float = math.nan
    date_low: Any = None  # bootstrap interval of the first date after the change
    date_high: Any = None


@dataclass(frozen=True)
class SizeCorrection:
    """What to change at one size to bring it to nominal (since the last change)."""

    size: float
    n: int
    nominal_mm: float
    mean_mm: float
    correction_mm: float
    correction_sizes: float
    ci_low_mm: float
    ci_high_mm: float


@dataclass(frozen=True)
class DimensionFinding:
    """The finding for one producer × dimension (``model`` empty: all models pooled)."""

    producer: str
    model: str
    dimension: str
    verdict: str
    n: int
    n_sizes: int
    whole: Level
    current: Level
    change: Change | None
    offset_mm: float
    grade_error: Interval
    table_step_mm: float
    producer_step_mm: float
    sd_within_mm: float
    pct_in_spec: float
    pct_missized: float
    pct_out_expected: float
    cpk: Interval
    ppk: float
    pair_mismatch: Interval
    pair_mismatch_limit_mm: float
    drift_signals: int
    corrections: tuple[SizeCorrection, ...]
    more_n: int = 0
    more_sizes: int = 0
    tolerance_mm: float = math.nan

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(verdict_flags(self.verdict))

    @property
    def severity(self) -> int:
        return max((SEVERITY.get(f, 1) for f in self.flags), default=0)

    @property
    def current_sizes(self) -> float:
        """The current mean deviation in sizes (NaN when the grade step is unknown)."""
        step = self.table_step_mm
        return self.current.mean_mm / step if _finite(step) and step > 0 else math.nan

    @property
    def worst(self) -> SizeCorrection | None:
        """The size furthest from nominal now (largest |correction|)."""
        known = [c for c in self.corrections if _finite(c.correction_mm)]
        return max(known, key=lambda c: abs(c.correction_mm)) if known else None

    @property
    def magnitude(self) -> float:
        """How far out the worst size is now, in tolerances (0 when unknown)."""
        worst = self.worst
        mm = abs(worst.correction_mm) if worst else abs(self.current.mean_mm)
        tol = self.tolerance_mm if _finite(self.tolerance_mm) and self.tolerance_mm > 0 else 1.0
        return mm / tol if _finite(mm) else 0.0

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class LotResult:
    """One lot × dimension judged by the sampling plan (a row of ``lots.csv``).

    ``decision`` is ``accept``, ``reject`` or ``under_sampled`` (fewer shoes measured
    than the plan's sample, so not judged); ``n_out`` counts shoes outside the table's
    in-spec band among those judged.
    """

    lot: str
    dimension: str
    decision: str
    n_measured: int
    n_out: int
    sample_size: int


@dataclass(frozen=True)
class Finding:
    """Everything one producer is told, as data.

    Attributes
    ----------
    producer : str
    headline : DimensionFinding or None
        The most serious verdict over all dimensions (see :data:`SEVERITY`).
    dimensions : tuple of DimensionFinding
        Every dimension, all models pooled, lengths first.
    models : tuple of DimensionFinding
        Per model × dimension, when the producer makes more than one model.
    actions : tuple of Action
        What to do, most important first.
    first_date, last_date : date or None
        The measurement period.
    lots : tuple of LotResult
        The producer's lots judged by the sampling plan (``measure --aql``); empty
        without a plan.
    """

    producer: str
    headline: DimensionFinding | None
    dimensions: tuple[DimensionFinding, ...]
    models: tuple[DimensionFinding, ...]
    actions: tuple[Action, ...]
    first_date: Any = None
    last_date: Any = None
    lots: tuple[LotResult, ...] = ()

    def dimension(self, name: str, model: str = "") -> DimensionFinding | None:
        pool = self.dimensions if not model else self.models
        return next((d for d in pool if d.dimension == name and d.model == model), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _plain(self)
        out["headline"] = (
            {"dimension": self.headline.dimension, "verdict": self.headline.verdict}
            if self.headline
            else None
        )
        return out


# --------------------------------------------------------------------------- helpers


def _finite(x: object) -> bool:
    try:
        return math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """JSON-ready values: NaN → None, dates → ISO text, dataclasses → dicts."""
    from dataclasses import fields, is_dataclass

    if isinstance(value, Value | Sentence):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):
        try:
            import pandas as pd

            if pd.isna(value):
                return None
        except (TypeError, ValueError):
            pass
        return str(value.date().isoformat() if hasattr(value, "date") else value.isoformat())
    return str(value)


def _num(row: Mapping[Any, Any], key: str) -> float:
    try:
        v = row[key]
    except (KeyError, IndexError):
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _int(row: Mapping[Any, Any], key: str) -> int:
    v = _num(row, key)
    return int(v) if _finite(v) else 0


def _date(row: Mapping[Any, Any], key: str) -> Any:
    import pandas as pd

    v = row.get(key) if isinstance(row, Mapping) else None
    if v is None:
        return None
    ts = pd.to_datetime(v, errors="coerce")
    return None if pd.isna(ts) else ts


def verdict_flags(verdict: object) -> list[str]:
    """The flags of a verdict string (``"offset+grading"`` → ``["offset", "grading"]``)."""
    return [f.strip() for f in str(verdict).split("+") if f.strip()]


def verdict_words(verdict: object, lang: str = "en") -> str:
    """A verdict in words, flags joined with commas.

    Parameters
    ----------
    verdict : str
        ``conforming``, ``insufficient_data`` or flags joined by ``+``.
    lang : {"en", "id"}

    Returns
    -------
    str
    """
    words = [
        t(f"verdict.{f}", lang) if has_key(f"verdict.{f}", lang) else f
        for f in verdict_flags(verdict)
    ]
    return ", ".join(words) if words else t("verdict.insufficient_data", lang)


def is_length(dimension: str) -> bool:
    """Lengths read "long/short", girths and widths "large/small"."""
    from sizecheck.schema import DIMENSIONS

    kind = DIMENSIONS[dimension].kind if dimension in DIMENSIONS else "length"
    return kind == "length"


def _direction(dimension: str, positive: bool) -> str:
    word = "length" if is_length(dimension) else "wide"
    return f"{word}_{'plus' if positive else 'minus'}"


def size_phrase(bias_sizes: float, dimension: str, lang: str = "en") -> str:
    """How big a mean deviation is, in words ("more than half a size long").

    Parameters
    ----------
    bias_sizes : float
        Mean deviation in sizes.
    dimension : str
        Lengths read "long/short", girths and widths "large/small".
    lang : {"en", "id"}

    Returns
    -------
    str
        Empty when ``bias_sizes`` is not finite.
    """
    if not _finite(bias_sizes):
        return ""
    b = abs(bias_sizes)
    if b < 0.1:
        return t("finding.size.on", lang)
    word = t(f"finding.direction.{_direction(dimension, bias_sizes > 0)}", lang)
    if b < 0.25:
        return t("finding.size.slightly", lang, dir=word)
    if b < 0.5:
        return t("finding.size.under_half", lang, dir=word)
    if b < 0.95:
        return t("finding.size.over_half", lang, dir=word)
    return t("finding.size.sizes", lang, n=format_number(b, lang, 1), dir=word)


def size_amount(sizes: float, lang: str = "en") -> str:
    """How many sizes, without a direction ("more than half a size")."""
    if not _finite(sizes):
        return ""
    b = abs(sizes)
    if b < 0.25:
        return t("finding.amount.quarter", lang)
    if b < 0.5:
        return t("finding.amount.under_half", lang)
    if b < 0.95:
        return t("finding.amount.over_half", lang)
    return t("finding.amount.sizes", lang, n=format_number(b, lang, 1))


def size_text(size: object, lang: str = "en") -> str:
    """A size as written on a label: ``41``, ``41,5`` (id) or ``41.5`` (en)."""
    if not _finite(size):
        return str(size)
    s = float(size)  # type: ignore[arg-type]
    return format_number(s, lang, 0 if s.is_integer() else 1)


# --------------------------------------------------------------------------- building


def _level(row: Mapping[Any, Any], prefix: str, since: Any = None) -> Level:
    return Level(
        n=_int(row, f"{prefix}n"),
        mean_mm=_num(row, f"{prefix}bias_mm"),
        ci_low_mm=_num(row, f"{prefix}ci_low_mm" if prefix else "bias_ci_low_mm"),
        ci_high_mm=_num(row, f"{prefix}ci_high_mm" if prefix else "bias_ci_high_mm"),
        since=since,
    )


def _corrections(
    rows: pd.DataFrame | Sequence[Mapping[Any, Any]] | None,
) -> tuple[SizeCorrection, ...]:
    """The corrections of one finding, by size: a frame's rows, or rows already in size
    order (as :func:`build_findings` hands them over)."""
    import pandas as pd

    if rows is None or len(rows) == 0:
        return ()
    if isinstance(rows, pd.DataFrame):
        rows = rows.sort_values("size").to_dict(orient="records")
    out = []
    for r in rows:
        out.append(
            SizeCorrection(
                size=_num(r, "size"),
                n=_int(r, "n"),
                nominal_mm=_num(r, "nominal_mm"),
                mean_mm=_num(r, "mean_mm"),
                correction_mm=_num(r, "correction_mm"),
                correction_sizes=_num(r, "correction_sizes"),
                ci_low_mm=_num(r, "ci_low_mm"),
                ci_high_mm=_num(r, "ci_high_mm"),
            )
        )
    return tuple(out)


def dimension_finding(
    row: Mapping[Any, Any],
    *,
    corrections: pd.DataFrame | Sequence[Mapping[Any, Any]] | None = None,
    before: Mapping[Any, Any] | None = None,
    table_step_mm: float = math.nan,
    tolerance_mm: float = math.nan,
    min_n: int = 8,
    min_sizes: int = 3,
) -> DimensionFinding:
    """One :class:`DimensionFinding` from a ``producer_summary`` row and its tables.

    Parameters
    ----------
    row : mapping
        One row of ``producer_summary`` (contract columns, ``model`` "" when pooled).
    corrections : DataFrame or sequence of mapping, optional
        Its rows of ``corrections`` (one per size; as records, in size order).
    before : mapping, optional
        Its ``before`` row of ``levels`` (the period before the last change), when a
        change was detected.
    table_step_mm : float
        The table's grade step for the dimension (mm per size).
    tolerance_mm : float
        Half the width of the in-spec band (mm), to rank how far out a finding is.
    min_n, min_sizes : int
        The thresholds of ``insufficient_data``, to say how much more to measure.
    """
    verdict = str(row.get("verdict", "insufficient_data"))
    whole = _level(row, "")
    whole = Level(_int(row, "n"), whole.mean_mm, whole.ci_low_mm, whole.ci_high_mm)
    since = _date(row, "current_since")
    current = _level(row, "current_", since)
    step = _num(row, "step_mm")
    change = None
    if before is not None and _finite(step):
        change = Change(
            date=since,
            step_mm=step,
            before=Level(
                n=_int(before, "n"),
                mean_mm=_num(before, "bias_mm"),
                ci_low_mm=_num(before, "ci_low_mm"),
                ci_high_mm=_num(before, "ci_high_mm"),
            ),
            after=current,
            step_low_mm=_num(row, "step_ci_low_mm"),
            step_high_mm=_num(row, "step_ci_high_mm"),
            date_low=_date(row, "since_ci_low"),
            date_high=_date(row, "since_ci_high"),
        )
    if current.n == 0 or not _finite(current.mean_mm):
        current = whole
    ge = Interval(
        _num(row, "grade_error_mm_per_size"),
        _num(row, "grade_error_ci_low"),
        _num(row, "grade_error_ci_high"),
    )
    n, n_sizes = _int(row, "n"), _int(row, "n_sizes")
    return DimensionFinding(
        producer=str(row["producer"]),
        model=str(row.get("model") or ""),
        dimension=str(row["dimension"]),
        verdict=verdict,
        n=n,
        n_sizes=n_sizes,
        whole=whole,
        current=current,
        change=change,
        offset_mm=_num(row, "offset_mm"),
        grade_error=ge,
        table_step_mm=table_step_mm,
        producer_step_mm=table_step_mm + ge.value if ge.known else math.nan,
        sd_within_mm=_num(row, "sd_within_mm"),
        pct_in_spec=_num(row, "pct_in_spec"),
        pct_missized=_num(row, "pct_missized"),
        pct_out_expected=_num(row, "pct_out_expected"),
        cpk=Interval(_num(row, "cpk"), _num(row, "cpk_ci_low"), _num(row, "cpk_ci_high")),
        ppk=_num(row, "ppk"),
        pair_mismatch=Interval(
            _num(row, "pair_mismatch_mm"),
            _num(row, "pair_mismatch_ci_low_mm"),
            _num(row, "pair_mismatch_ci_high_mm"),
        ),
        pair_mismatch_limit_mm=_num(row, "pair_mismatch_limit_mm"),
        drift_signals=_int(row, "drift_signals"),
        corrections=_corrections(corrections),
        more_n=max(0, min_n - n),
        more_sizes=max(0, min_sizes - n_sizes),
        tolerance_mm=tolerance_mm,
    )


def _dimension_order(dimension: str) -> tuple[int, str]:
    try:
        return (LENGTH_DIMENSIONS.index(dimension), dimension)
    except ValueError:
        return (len(LENGTH_DIMENSIONS), dimension)


def headline(dimensions: Sequence[DimensionFinding]) -> DimensionFinding | None:
    """The most serious finding: highest :data:`SEVERITY`, then furthest out of
    tolerance now, then lengths first."""
    if not dimensions:
        return None
    return max(
        dimensions,
        key=lambda d: (d.severity, round(d.magnitude, 6), -_dimension_order(d.dimension)[0]),
    )


# --------------------------------------------------------------------------- sentences


def _dim(d: DimensionFinding) -> Value:
    return Value(d.dimension, "dimension")


def _phrase(mm: float, d: DimensionFinding) -> Value:
    """ "more than half a size long" for a deviation of ``mm`` on ``d``'s dimension."""
    step = d.table_step_mm
    sizes = mm / step if _finite(step) and step > 0 else math.nan
    return Value(("phrase", sizes, d.dimension), "phrase")


def _fix(size: float, correction_mm: float, d: DimensionFinding) -> Sentence:
    """ "size 38: shorten by 5.0 mm" (a correction is what to ADD to the product)."""
    grow = correction_mm > 0
    kind = "length" if is_length(d.dimension) else "wide"
    return Sentence(
        f"action.fix.{kind}_{'plus' if grow else 'minus'}",
        {"size": Value(size, "size"), "mm": Value(correction_mm, "mm_abs")},
    )


def _ends(d: DimensionFinding) -> tuple[SizeCorrection, SizeCorrection] | None:
    known = [c for c in d.corrections if _finite(c.correction_mm)]
    if len(known) < 2:
        return None
    return known[0], known[-1]


def finding_sentences(d: DimensionFinding) -> list[Sentence]:
    """The key numbers of one dimension, as sentences (see :func:`finding_lines`): its
    level (now and before a detected change, or over the whole period), its grading,
    its spread and capability, drift signals left unexplained, and the pair mismatch."""
    if "insufficient_data" in d.flags:
        return [_insufficient(d)]
    return [
        *_level_sentences(d),
        *_grading_sentences(d),
        *_spread_sentences(d),
        *_signal_sentences(d),
    ]


def _insufficient(d: DimensionFinding) -> Sentence:
    """Too few shoes or sizes to judge: how many there are, and how many more are needed."""
    return Sentence(
        "finding.insufficient",
        {
            "dimension": _dim(d),
            "n": Value(d.n, "count"),
            "sizes": Value(d.n_sizes, "count"),
            "more_n": Value(d.more_n, "count"),
            "more_sizes": Value(d.more_sizes, "count"),
        },
    )


def _level_sentences(d: DimensionFinding) -> list[Sentence]:
    """The level (mean deviation with its interval): since the detected change, before
    it, and the change's own interval; or over the whole period when there is none."""
    flags = d.flags
    out: list[Sentence] = []
    if d.change is not None:
        c = d.change
        out.append(
            Sentence(
                "finding.now",
                {
                    "dimension": _dim(d),
                    "date": Value(c.date, "date"),
                    "bias": Value(c.after.mean_mm, "mm_signed"),
                    "low": Value(c.after.ci_low_mm, "mm_signed"),
                    "high": Value(c.after.ci_high_mm, "mm_signed"),
                    "n": Value(c.after.n, "count"),
                    "phrase": _phrase(c.after.mean_mm, d),
                },
            )
        )
        out.append(
            Sentence(
                "finding.before",
                {
                    "bias": Value(c.before.mean_mm, "mm_signed"),
                    "low": Value(c.before.ci_low_mm, "mm_signed"),
                    "high": Value(c.before.ci_high_mm, "mm_signed"),
                    "n": Value(c.before.n, "count"),
                    "step": Value(c.step_mm, "mm_signed"),
                },
            )
        )
        out.append(_change_interval(c))
    else:
        key = "finding.bias_all_sizes" if "grading" in flags else "finding.bias"
        out.append(
            Sentence(
                key,
                {
                    "dimension": _dim(d),
                    "bias": Value(d.whole.mean_mm, "mm_signed"),
                    "low": Value(d.whole.ci_low_mm, "mm_signed"),
                    "high": Value(d.whole.ci_high_mm, "mm_signed"),
                    "n": Value(d.n, "count"),
                    "phrase": _phrase(d.whole.mean_mm, d),
                },
            )
        )
    return out


def _grading_sentences(d: DimensionFinding) -> list[Sentence]:
    """The grading error (the producer's step per size against the table's, with its
    interval) and the deviations it leaves at the smallest and largest sizes made."""
    out: list[Sentence] = []
    ends = _ends(d)
    if "grading" in d.flags and d.grade_error.known:
        values: dict[str, Value] = {
            "grow": Value(d.producer_step_mm, "mm"),
            "step": Value(d.table_step_mm, "mm"),
            "ge": Value(d.grade_error.value, "mm2"),
            "low": Value(d.grade_error.low, "mm2"),
            "high": Value(d.grade_error.high, "mm2"),
        }
        out.append(Sentence("finding.grading", values))
        if ends is not None:
            lo, hi = ends
            out.append(
                Sentence(
                    "finding.ends",
                    {
                        "lo_size": Value(lo.size, "size"),
                        "lo_dev": Value(-lo.correction_mm, "mm_signed"),
                        "hi_size": Value(hi.size, "size"),
                        "hi_dev": Value(-hi.correction_mm, "mm_signed"),
                    },
                )
            )
    return out


def _spread_sentences(d: DimensionFinding) -> list[Sentence]:
    """The spread around the producer's own line and the shares in and out of tolerance
    (over both periods when a change was found), and Cpk/Ppk with Cpk's interval."""
    flags = d.flags
    out: list[Sentence] = []
    whole = d.change is not None  # the shares are over both periods: say so
    out.append(
        Sentence(
            "finding.spread_whole" if whole else "finding.spread",
            {
                "sd": Value(d.sd_within_mm, "mm"),
                "expected": Value(d.pct_out_expected, "pct"),
                "pct": Value(d.pct_in_spec, "pct"),
                "pct_missized": Value(d.pct_missized, "pct"),
            },
        )
    )
    observed = 100.0 - d.pct_in_spec
    if "scatter" in flags and d.n < FEW_SHOES and abs(observed - d.pct_out_expected) >= 10:
        out.append(Sentence("finding.spread_few", {"n": Value(d.n, "count")}))
    if d.cpk.known:
        out.append(
            Sentence(
                "finding.cpk_whole" if whole else "finding.cpk",
                {
                    "cpk": Value(d.cpk.value, "ratio"),
                    "low": Value(d.cpk.low, "ratio"),
                    "high": Value(d.cpk.high, "ratio"),
                    "ppk": Value(d.ppk, "ratio"),
                },
            )
        )
    return out


def _signal_sentences(d: DimensionFinding) -> list[Sentence]:
    """Drift signals a detected change does not explain, and the left/right mismatch of
    pairs against its limit."""
    flags = d.flags
    out: list[Sentence] = []
    if d.drift_signals > 0:  # signals a detected change does not explain (drift.py)
        key = "finding.drift_more" if "drift" in flags else "finding.drift_weak"
        out.append(Sentence(key, {"n": Value(d.drift_signals, "count")}))
    if d.pair_mismatch.known:
        key = "finding.pair_bad" if "pair_mismatch" in flags else "finding.pair"
        out.append(
            Sentence(
                key,
                {
                    "mm": Value(d.pair_mismatch.value, "mm"),
                    "low": Value(d.pair_mismatch.low, "mm"),
                    "high": Value(d.pair_mismatch.high, "mm"),
                    "limit": Value(d.pair_mismatch_limit_mm, "mm"),
                },
            )
        )
    return out


def _change_interval(c: Change) -> Sentence:
    """The bootstrap intervals of a change's step and of its date (first visit after it)."""
    values = {
        "step": Value(c.step_mm, "mm_signed"),
        "low": Value(c.step_low_mm, "mm_signed"),
        "high": Value(c.step_high_mm, "mm_signed"),
    }
    if c.date is None or c.date_low is None or c.date_high is None:
        return Sentence("finding.change_undated", values)
    if c.date_low == c.date_high:
        return Sentence("finding.change_one_date", {**values, "date": Value(c.date, "date")})
    dates = {
        "date": Value(c.date, "date"),
        "date_low": Value(c.date_low, "date"),
        "date_high": Value(c.date_high, "date"),
    }
    return Sentence("finding.change_dated", {**values, **dates})


def _eff_size(d: DimensionFinding, base_size: float) -> tuple[float, float]:
    """A size to speak of (the base size when made, else the middle size made) and what
    it is now in sizes of the reference ("your 41 fits like a 41.6")."""
    sizes = [c.size for c in d.corrections]
    if sizes and not (min(sizes) <= base_size <= max(sizes)):
        base_size = sizes[len(sizes) // 2]
    step = d.table_step_mm
    eff = base_size + d.current.mean_mm / step if _finite(step) and step > 0 else math.nan
    return base_size, eff


def _since(d: DimensionFinding) -> Value:
    if d.change is None:
        return Value("", "text")
    return Value(Sentence("action.since", {"date": Value(d.change.date, "date")}), "sentence")


def _model(d: DimensionFinding) -> Value:
    if not d.model:
        return Value("", "text")
    return Value(Sentence("action.model", {"model": Value(d.model, "text")}), "sentence")


def _fix_all(mm: float, d: DimensionFinding) -> Sentence:
    """ "shorten the insole pattern (and ask for lasts) 3.2 mm shorter" for a level of
    ``mm`` (measured − nominal) on ``d``'s dimension."""
    kind = "length" if is_length(d.dimension) else "wide"
    return Sentence(
        f"action.fix_all.{kind}_{'plus' if mm > 0 else 'minus'}", {"mm": Value(mm, "mm_abs")}
    )


def dimension_actions(d: DimensionFinding, *, base_size: float) -> list[Action]:
    """What to do about one dimension's flags, with the current level's numbers.

    A change in time comes first and carries the fix of the level it left the product
    at (put back what changed, or correct by the current deviation); a grading error
    is fixed per size (the ends of the corrections table), an offset by one amount
    for every size; a pair mismatch and scatter each have their own action.
    """
    flags = d.flags
    common = {"dimension": _dim(d), "model": _model(d)}
    acts: list[Action] = []

    def act(flag: str, key: str, **values: Value) -> None:
        acts.append(Action(key, {**common, **values}, flag, d.dimension, d.model))

    if "insufficient_data" in flags:
        sizes = (
            Value(
                Sentence("action.insufficient_sizes", {"more_sizes": Value(d.more_sizes, "count")}),
                "sentence",
            )
            if d.more_sizes > 0
            else Value("", "text")
        )
        act(
            "insufficient_data",
            "action.insufficient",
            n=Value(d.n, "count"),
            more_n=Value(d.more_n, "count"),
            sizes=sizes,
        )
        return acts
    ends = _ends(d)
    now = d.current.mean_mm
    out_now = _finite(now) and _finite(d.tolerance_mm) and abs(now) > d.tolerance_mm
    if "drift" in flags and d.change is not None:
        c = d.change
        values = {
            "date": Value(c.date, "date"),
            "step": Value(c.step_mm, "mm_signed"),
            "after": Value(c.after.mean_mm, "mm_signed"),
        }
        if out_now and "grading" not in flags:
            act("drift", "action.drift_out", **values, fix=Value(_fix_all(now, d), "sentence"))
        else:
            act("drift", "action.drift", **values)
    elif "drift" in flags:
        act("drift", "action.drift_undated", n=Value(d.drift_signals, "count"))
    if "grading" in flags and ends is not None:
        lo, hi = ends
        act(
            "grading",
            "action.grading",
            grow=Value(d.producer_step_mm, "mm"),
            step=Value(d.table_step_mm, "mm"),
            since=_since(d),
            lo_fix=Value(_fix(lo.size, lo.correction_mm, d), "sentence"),
            hi_fix=Value(_fix(hi.size, hi.correction_mm, d), "sentence"),
        )
    elif "offset" in flags and not ("drift" in flags and d.change is not None) and _finite(now):
        size, eff = _eff_size(d, base_size)
        kind = "length" if is_length(d.dimension) else "wide"
        act(
            "offset",
            f"action.offset.{kind}_{'plus' if now > 0 else 'minus'}",
            mm=Value(now, "mm_abs"),
            amount=Value(("amount", now, d), "amount"),
            since=_since(d),
            size=Value(size, "size"),
            eff=Value(eff, "sizes"),
        )
    if "pair_mismatch" in flags:
        act(
            "pair_mismatch",
            "action.pair_mismatch",
            mm=Value(d.pair_mismatch.value, "mm"),
            limit=Value(d.pair_mismatch_limit_mm, "mm"),
        )
    if "scatter" in flags:
        act(
            "scatter",
            "action.scatter",
            sd=Value(d.sd_within_mm, "mm"),
            expected=Value(d.pct_out_expected, "pct"),
            observed=Value(100.0 - d.pct_in_spec, "pct"),
        )
    return acts


def producer_actions(
    dimensions: Sequence[DimensionFinding],
    models: Sequence[DimensionFinding],
    *,
    base_size: float,
) -> tuple[Action, ...]:
    """Every action for one producer, most important first.

    When the producer makes several models, each model is judged on its own lasts and
    patterns: the actions come from the model findings (each names its model), so a
    producer with one model off is told which. Actions are ordered by :data:`FLAGS`
    (grading, offset, drift, pair mismatch, scatter), then by how far out the dimension
    is, lengths first; too little data comes last; a producer with nothing to fix is told
    so.
    """
    source = list(models) if models else list(dimensions)
    ranked = sorted(source, key=lambda d: (-round(d.magnitude, 6), _dimension_order(d.dimension)))
    acts: list[Action] = []
    for d in ranked:
        acts.extend(dimension_actions(d, base_size=base_size))
    order = {f: i for i, f in enumerate((*FLAGS, "insufficient_data"))}
    acts.sort(key=lambda a: order.get(a.flag, len(order)))  # stable: keeps the ranking
    if not acts:
        acts.append(Action("action.conforming", {}, "conforming"))
    elif all(a.flag == "insufficient_data" for a in acts) and len(acts) > 1:
        more = Action("action.insufficient_more", {"n": Value(len(acts) - 1, "count")})
        acts = [acts[0], Action(more.key, more.values, "insufficient_data")]
    return tuple(acts)


def lot_actions(lots: Sequence[LotResult]) -> list[Action]:
    """What to do about judged lots: a rejected lot is held and every shoe of it checked
    before it ships (containment comes before correcting the pattern), an under-sampled
    lot is measured up to the plan's sample. One action per lot, its dimensions named."""
    acts: list[Action] = []
    kinds = (("reject", "lots.action_rejected"), ("under_sampled", "lots.action_short"))
    for decision, key in kinds:
        by_lot: dict[str, list[LotResult]] = {}
        for r in lots:
            if r.decision == decision:
                by_lot.setdefault(r.lot, []).append(r)
        for lot, rs in by_lot.items():
            worst = max(rs, key=lambda r: (r.n_out, -r.n_measured))
            acts.append(
                Action(
                    key,
                    {
                        "lot": Value(lot, "text"),
                        "dimensions": Value(tuple(r.dimension for r in rs), "dimensions"),
                        "n_out": Value(worst.n_out, "count"),
                        "n": Value(worst.n_measured, "count"),
                        "sample": Value(worst.sample_size, "count"),
                    },
                    "lot",
                )
            )
    return acts


def lot_counts(lots: Sequence[LotResult]) -> dict[str, int]:
    """A producer's judged lots by decision, counted as lots (``lots.csv`` has a row per
    lot *and dimension*): a lot is rejected when any of its dimensions is, too short of
    shoes when one is and none rejects it, accepted otherwise. Keys ``n, accepted,
    rejected, short``; the terminal adds them up over producers."""
    names = {r.lot for r in lots}
    rejected = {r.lot for r in lots if r.decision == "reject"}
    short = {r.lot for r in lots if r.decision == "under_sampled"} - rejected
    return {
        "n": len(names),
        "accepted": len(names - rejected - short),
        "rejected": len(rejected),
        "short": len(short),
    }


def lot_counts_of(findings: Mapping[str, Finding]) -> dict[str, int]:
    """:func:`lot_counts` added up over producers, for the run as a whole (terminal,
    ``summary.json``), plus ``producers``: how many had lots judged."""
    total = dict.fromkeys(("n", "accepted", "rejected", "short", "producers"), 0)
    for finding in findings.values():
        for key, value in lot_counts(finding.lots).items():
            total[key] += value
        total["producers"] += bool(finding.lots)
    return total


def lot_sentence(lots: Sequence[LotResult]) -> Sentence | None:
    """The producer's lots counted by decision (:func:`lot_counts`; None without lots)."""
    if not lots:
        return None
    return Sentence("lots.summary", {k: Value(v, "count") for k, v in lot_counts(lots).items()})


# --------------------------------------------------------------------------- rendering


def render(item: Sentence | Value, lang: str = "en") -> str:
    """A sentence or value in words of ``lang``; nested sentences are rendered too."""
    if isinstance(item, Sentence):
        return t(item.key, lang, **{k: render(v, lang) for k, v in item.values.items()})
    kind, v = item.kind, item.value
    if kind == "sentence":
        return render(v, lang)
    if kind == "phrase":
        _, sizes, dimension = v
        return size_phrase(sizes, dimension, lang)
    if kind == "amount":
        _, mm, d = v
        step = d.table_step_mm
        return size_amount(mm / step if _finite(step) and step > 0 else math.nan, lang)
    return item.text(lang)


def finding_lines(d: DimensionFinding, lang: str = "en") -> list[str]:
    """The key numbers of one dimension in words (report sections and the card)."""
    return [render(s, lang) for s in finding_sentences(d)]


#: The key numbers that explain each flag of a verdict, the most telling first (sentence
#: keys of :func:`finding_sentences`).
EXPLAINS: Mapping[str, tuple[str, ...]] = {
    "offset": ("finding.now", "finding.bias", "finding.bias_all_sizes"),
    "grading": ("finding.ends", "finding.grading"),
    "drift": (
        "finding.before", "finding.change_dated", "finding.change_one_date",
        "finding.change_undated", "finding.drift_more",
    ),
    "scatter": (
        "finding.spread", "finding.spread_whole", "finding.spread_few", "finding.cpk",
        "finding.cpk_whole",
    ),
    "pair_mismatch": ("finding.pair_bad",),
}  # fmt: skip


def key_lines(d: DimensionFinding, lang: str, limit: int) -> tuple[list[str], bool]:
    """At most ``limit`` of :func:`finding_lines` for a page with little room (the card),
    chosen so that every flag of the verdict keeps the numbers behind it, and whether
    some were left out.

    Round by round, each flag of the verdict (in its order) takes the most telling line
    that :data:`EXPLAINS` it and is not taken yet; lines that explain no flag fill what room
    is left. The lines keep :func:`finding_sentences`' order and wording.
    """
    sentences = finding_sentences(d)
    where = {s.key: i for i, s in enumerate(sentences)}
    queues = [[where[k] for k in EXPLAINS.get(f, ()) if k in where] for f in d.flags]
    chosen: list[int] = []
    while len(chosen) < limit and any(queues):
        for queue in queues:
            while queue and queue[0] in chosen:
                queue.pop(0)
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    chosen += [i for i in range(len(sentences)) if i not in chosen][: limit - len(chosen)]
    return [render(sentences[i], lang) for i in sorted(chosen)], len(sentences) > len(chosen)


def action_texts(finding: Finding, lang: str = "en", limit: int | None = None) -> list[str]:
    """A producer's actions in words, most important first (``limit`` of them)."""
    acts = finding.actions if limit is None else finding.actions[:limit]
    return [render(a, lang) for a in acts]


def headline_text(finding: Finding, lang: str = "en") -> str:
    """One line for the terminal and the report's summary: the most serious verdict,
    its dimension, and the numbers behind it as they are now ("Insole length: offset —
    +4.0 mm, more than half a size long, since 23/05/2026"; a grading error by its two
    ends, a pair mismatch by the left/right gap, scatter by the share it puts out)."""
    d = finding.headline
    if d is None:
        return ""
    words = verdict_words(d.verdict, lang)
    label = dimension_label(d.dimension, lang)
    if d.model:
        label = t("action.model", lang, model=d.model) + label
    flags = d.flags
    if "insufficient_data" in flags:
        return t("finding.headline_thin", lang, dimension=label, verdict=words,
                 n=format_number(d.n, lang, 0))  # fmt: skip
    base = {"dimension": label, "verdict": words}
    ends = _ends(d)
    if "grading" in flags and ends is not None:
        lo, hi = ends
        return t(
            "finding.headline_grading",
            lang,
            **base,
            lo_size=size_text(lo.size, lang),
            lo_dev=format_number(-lo.correction_mm, lang, 1, signed=True),
            hi_size=size_text(hi.size, lang),
            hi_dev=format_number(-hi.correction_mm, lang, 1, signed=True),
        )
    mm = d.current.mean_mm
    level = {
        **base,
        "mm": format_number(mm, lang, 1, signed=True),
        "phrase": size_phrase(d.current_sizes, d.dimension, lang),
    }
    if d.change is not None and ({"offset", "drift"} & set(flags)):
        return t("finding.headline_since", lang, **level, date=format_date(d.change.date, lang))
    if "offset" in flags or "drift" in flags or flags == ("conforming",):
        return t("finding.headline", lang, **level)
    if "pair_mismatch" in flags:
        return t("finding.headline_pair", lang, **base,
                 mm=format_number(d.pair_mismatch.value, lang, 1))  # fmt: skip
    return t("finding.headline_scatter", lang, **base, sd=format_number(d.sd_within_mm, lang, 1),
             pct=format_number(d.pct_out_expected, lang, 0))  # fmt: skip


# --------------------------------------------------------------------------- the builder


def build_findings(analysis: Analysis) -> dict[str, Finding]:
    """One :class:`Finding` per producer of ``analysis``, in producer order.

    Reads ``analysis.producer_summary`` (pooled rows have ``model`` ""), ``corrections``,
    ``levels`` and ``lots`` (a rejected or under-sampled lot's action comes first); the
    table gives the grade step and the in-spec half-width of each dimension. Nothing is
    recomputed.
    """
    ps = analysis.producer_summary
    th = analysis.thresholds
    table = analysis.table
    min_n = int(getattr(th, "min_n", 8))
    min_sizes = int(getattr(th, "min_sizes_for_grading", 3))
    corr_by, before_by = _by_key(
        getattr(analysis, "corrections", None), getattr(analysis, "levels", None)
    )
    per_producer: dict[str, list[DimensionFinding]] = {}
    rows = ps.to_dict(orient="records")
    for k, row in zip(_row_keys(ps).tolist(), rows, strict=True):
        step, tol = _step_and_half_tolerance(table, str(row["dimension"]))
        f = dimension_finding(
            row,
            corrections=corr_by.get(k),
            before=before_by.get(k),
            table_step_mm=step,
            tolerance_mm=tol,
            min_n=min_n,
            min_sizes=min_sizes,
        )
        per_producer.setdefault(f.producer, []).append(f)
    dates = _periods(analysis)
    lots_by = _lots(analysis)
    return {
        producer: _producer_finding(
            producer,
            per_producer[producer],
            period=dates.get(producer, (None, None)),
            lots=lots_by.get(producer, ()),
            base_size=float(table.base_size),
        )
        for producer in sorted(per_producer)
    }


def _row_keys(frame: pd.DataFrame) -> pd.Series:
    """Each row's producer, model (empty when pooled) and dimension, as one text key."""
    import pandas as pd

    model = frame["model"] if "model" in frame.columns else pd.Series("", index=frame.index)
    return (
        frame["producer"].astype("str")
        + "\x00"
        + model.fillna("").astype("str")
        + "\x00"
        + frame["dimension"].astype("str")
    )


def _by_key(
    corr: pd.DataFrame | None, levels: pd.DataFrame | None
) -> tuple[dict[str, list[dict[Any, Any]]], dict[str, Mapping[str, Any]]]:
    """The per-size corrections of each producer × model × dimension in size order (one
    pass: sorted by size once, each row to its key), and its level before a change."""
    corr_by: dict[str, list[dict[Any, Any]]] = {}
    if corr is not None and not corr.empty:
        by_size = corr.sort_values("size", kind="stable")
        records = by_size.to_dict(orient="records")
        for k, r in zip(_row_keys(by_size).tolist(), records, strict=True):
            corr_by.setdefault(k, []).append(r)
    before_by: dict[str, Mapping[str, Any]] = {}
    if levels is not None and not levels.empty:
        b = levels[levels["period"].astype("str") == "before"]
        records_b = cast("list[Mapping[str, Any]]", b.to_dict(orient="records"))
        before_by = dict(zip(_row_keys(b), records_b, strict=True))
    return corr_by, before_by


def _step_and_half_tolerance(table: ReferenceTable, dimension: str) -> tuple[float, float]:
    """The table's grade step of ``dimension`` and half its tolerance band,
    ``(minus + plus) / 2`` (NaN for a one-sided tolerance or a dimension it lacks)."""
    try:
        step = table.grade_step(dimension)
        tol = table.dimension(dimension).tolerance
    except Exception:  # a dimension the table lacks
        return math.nan, math.nan
    half_mm = math.nan
    if tol is not None and math.isfinite(tol.minus) and math.isfinite(tol.plus):
        half_mm = (tol.minus + tol.plus) / 2.0
    return (float(step) if step else math.nan), half_mm


def _producer_finding(
    producer: str,
    found: Sequence[DimensionFinding],
    *,
    period: tuple[Any, Any],
    lots: tuple[LotResult, ...],
    base_size: float,
) -> Finding:
    """One producer's finding from its dimension findings: pooled ones in dimension order,
    per-model ones when it makes two models or more, the headline and the actions."""
    pooled = sorted((d for d in found if not d.model), key=lambda d: _dimension_order(d.dimension))
    models = sorted(
        (d for d in found if d.model), key=lambda d: (d.model, _dimension_order(d.dimension))
    )
    if len({d.model for d in models}) < 2:
        models = []  # one model: its findings are the pooled ones
    first, last = period
    return Finding(
        producer=producer,
        headline=headline(models or pooled) if models else headline(pooled),
        dimensions=tuple(pooled),
        models=tuple(models),
        actions=(
            *lot_actions(lots),
            *producer_actions(pooled, models, base_size=base_size),
        ),
        first_date=first,
        last_date=last,
        lots=lots,
    )


def _lots(analysis: Analysis) -> dict[str, tuple[LotResult, ...]]:
    """``analysis.lots`` (the ``lots.csv`` rows) as :class:`LotResult` per producer."""
    lots = getattr(analysis, "lots", None)
    if lots is None or lots.empty:
        return {}
    out: dict[str, list[LotResult]] = {}
    for r in lots.to_dict(orient="records"):
        out.setdefault(str(r["producer"]), []).append(
            LotResult(
                lot=str(r["lot"]),
                dimension=str(r["dimension"]),
                decision=str(r["decision"]),
                n_measured=_int(r, "n_measured"),
                n_out=_int(r, "n_out"),
                sample_size=_int(r, "sample_size_required"),
            )
        )
    return {p: tuple(v) for p, v in out.items()}


def _periods(analysis: Analysis) -> dict[str, tuple[Any, Any]]:
    """First and last measurement date per producer (None when undated)."""
    import pandas as pd

    d = analysis.deviations
    if "date" not in d.columns or d.empty:
        return {}
    dates = pd.to_datetime(d["date"], errors="coerce")
    agg = dates.groupby(d["producer"], observed=True, sort=False).agg(["min", "max"]).dropna()
    return {str(p): (lo, hi) for p, lo, hi in zip(agg.index, agg["min"], agg["max"], strict=True)}


def finding_for(analysis: Analysis, producer: str) -> Finding:
    """The finding of one producer: ``analysis.findings[producer]`` (built by
    :func:`sizecheck.pipeline.analyse`), or built here for an analysis without them."""
    found = getattr(analysis, "findings", None) or {}
    if producer in found:
        return found[producer]  # type: ignore[no-any-return]
    built = build_findings(analysis)
    if producer not in built:
        raise KeyError(f"No finding for producer {producer!r}.")
    return built[producer]


def chart_data(analysis: Analysis, d: DimensionFinding) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The deviations and size summary a chart of finding ``d`` shows: the producer's
    rows of ``d``'s model when ``d`` is a model's finding, else of all its models."""
    dev, ss = analysis.deviations, analysis.size_summary
    if d.model and "model" in dev.columns and not analysis.model_size_summary.empty:
        dev = dev.loc[dev["model"].astype("str") == d.model]
        by = analysis.model_size_summary
        ss = by.loc[by["model"].astype("str") == d.model].drop(columns="model")
    return dev, ss
