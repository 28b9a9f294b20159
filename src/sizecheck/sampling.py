"""Lot sampling plans: how many shoes to measure from a lot, and when the lot is accepted.

Two kinds of plan, both read from the standards' tables shipped as data files under
``data/sampling/`` (each file's header names the document and table it transcribes and
marks what could not be verified):

**Attributes** (ISO 2859-1, single sampling). The lot size and the inspection level give a
code letter (Table 1); the code letter and the AQL give the sample size ``n``, the
acceptance number ``Ac`` and the rejection number ``Re`` (Table 2-A normal, 2-B tightened,
2-C reduced). Where the table has an arrow, the arrow is followed down (or up) its column
to the first plan, and that plan's own sample size replaces the code letter's. A lot is
accepted when at most ``Ac`` of the ``n`` shoes are out of tolerance, rejected from ``Re``.

**Variables** (s-method, "form k"). The sample size ``n`` and the acceptability constant
``k`` come from ANSI/ASQ Z1.9 Table B-1 (the MIL-STD-414 s-method, with Z1.9's own code
letters, Table A-2). With the sample mean ``x̄`` and standard deviation ``s`` of the ``n``
deviations, the quality statistics are ``Q_U = (U − x̄)/s`` and ``Q_L = (x̄ − L)/s``; the lot
is accepted when every one of them is at least ``k``. This is the acceptance rule of the
s-method of ISO 3951-1 (form k); ISO 3951-1's own n and k (indexed by the ISO 2859-1 code
letters) are not transcribed, as no public copy of its tables was available.

Two-sided limits (a size tolerance ±a) are judged by **separate control of each limit**
(ISO 3951-1's procedure for double specification limits with an AQL for each limit, the
same AQL here): accept when ``Q_U >= k`` and ``Q_L >= k``. It needs only the k-table and
reads in one line; ISO 3951-1's combined control needs its graphical acceptance curves and
Z1.9's combined control (form 2, the M-method) its Table B-3, neither of which is shipped.
The price: with the same AQL at both limits, a lot may hold up to about twice the AQL out
of tolerance in total and still be accepted with high probability.

The probability of acceptance (OC) of a plan, as a function of the lot's true share out of
tolerance ``p``:

- attributes: binomial, ``Pa(p) = P(X <= Ac)``, ``X ~ Binomial(n, p)`` (a large lot; ISO
  2859-1's own OC tables use the same model for percent nonconforming);
- variables (one limit): exact, through the non-central t distribution: ``√n·Q`` follows a
  non-central t with ``n − 1`` degrees of freedom and non-centrality ``√n·z₁₋ₚ``, so
  ``Pa(p) = P(t′ >= k√n)`` (Johnson & Welch 1940; Schilling & Neubauer, *Acceptance
  Sampling in Quality Control*, 2nd ed., ch. 11).

>>> plan = attributes_plan(180, 2.5)
>>> plan.code_letter, plan.sample_size, plan.accept, plan.reject
('G', 32, 2, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from sizecheck._data import data_dir
from sizecheck.columns import LOTS
from sizecheck.errors import UsageError, require_columns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ATTRIBUTE_AQLS",
    "INSPECTIONS",
    "LEVELS",
    "METHODS",
    "VARIABLE_AQLS",
    "VARIABLE_LEVELS",
    "SamplingPlan",
    "acceptance_probability",
    "attributes_plan",
    "code_letter",
    "judge_attributes",
    "judge_lots",
    "judge_variables",
    "plan_words",
    "sampling_plan",
    "variables_plan",
]

#: Inspection levels of ISO 2859-1 Table 1 (II is the usual one).
LEVELS: tuple[str, ...] = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
#: Inspection levels of ANSI/ASQ Z1.9 Table A-2 (variables).
VARIABLE_LEVELS: tuple[str, ...] = ("S-3", "S-4", "I", "II", "III")
#: Normal, tightened or reduced inspection (ISO 2859-1 clause 9, the switching rules).
INSPECTIONS: tuple[str, ...] = ("normal", "tightened", "reduced")
#: Inspection by attributes (count the shoes out of tolerance) or by variables (s-method).
METHODS: tuple[str, ...] = ("attributes", "variables")
#: AQLs in percent nonconforming of ISO 2859-1 Table 2 (the columns above 10 are for
#: nonconformities per 100 items, which a shoe out of tolerance is not).
ATTRIBUTE_AQLS: tuple[float, ...] = (
    0.010, 0.015, 0.025, 0.040, 0.065, 0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5, 4.0, 6.5,
    10.0,
)  # fmt: skip
#: AQLs of ANSI/ASQ Z1.9 Table B-1.
VARIABLE_AQLS: tuple[float, ...] = (
    0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10.0,
)  # fmt: skip

_FILES = {
    "letters": "iso2859-1_table1_code_letters.csv",
    "normal": "iso2859-1_table2a_normal.csv",
    "tightened": "iso2859-1_table2b_tightened.csv",
    "reduced": "iso2859-1_table2c_reduced.csv",
    "variables_letters": "z1.9_table_a2_code_letters.csv",
    "variables": "z1.9_table_b1_s_method.csv",
}

#: The words for each inspection, in the message catalogue.
INSPECTION_WORDS: dict[str, str] = {
    "normal": "plan.inspection_normal",
    "tightened": "plan.inspection_tightened",
    "reduced": "plan.inspection_reduced",
}

_SOURCES = {
    "normal": "ISO 2859-1 Table 2-A (= MIL-STD-105E Table II-A)",
    "tightened": "ISO 2859-1 Table 2-B (= MIL-STD-105E Table II-B)",
    "reduced": "ISO 2859-1:1999 Table 2-C (unverified transcription)",
    "variables": "ANSI/ASQ Z1.9 Table B-1, s-method form k (MIL-STD-414 lineage)",
}


@cache
def _table(key: str) -> pd.DataFrame:
    """A shipped table as text cells (``#`` lines are its source notes)."""
    import pandas as pd

    with data_dir("sampling").joinpath(_FILES[key]).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, comment="#", dtype=str, keep_default_na=False)


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    norm = str(value).strip()
    for a in allowed:
        if norm.lower() == a.lower():
            return a
    raise UsageError(f"Unknown {what} {value!r}. Choose one of: {', '.join(allowed)}.")


def _aql_column(aql: float, allowed: tuple[float, ...]) -> int:
    for i, a in enumerate(allowed):
        if math.isclose(float(aql), a, rel_tol=1e-9):
            return i
    raise UsageError(
        f"AQL {aql:g} is not one of the table's AQLs (percent out of tolerance): "
        f"{', '.join(f'{a:g}' for a in allowed)}."
    )


def _lot_size(lot_size: int) -> int:
    if isinstance(lot_size, bool) or int(lot_size) != lot_size or lot_size < 2:
        raise UsageError(f"The lot size must be a whole number of at least 2, found {lot_size!r}.")
    return int(lot_size)


def code_letter(lot_size: int, level: str = "II", *, method: str = "attributes") -> str:
    """The sample size code letter of a lot.

    Parameters
    ----------
    lot_size : int
        Number of items (shoes) in the lot, at least 2.
    level : str, default "II"
        Inspection level: I, II, III or S-1 … S-4 (variables: S-3, S-4, I, II, III).
    method : {"attributes", "variables"}
        ISO 2859-1 Table 1, or ANSI/ASQ Z1.9 Table A-2 for variables.

    Returns
    -------
    str

    Examples
    --------
    >>> code_letter(180), code_letter(180, "I"), code_letter(180, method="variables")
    ('G', 'E', 'G')
    """
    method = _choice(method, METHODS, "method")
    levels = LEVELS if method == "attributes" else VARIABLE_LEVELS
    level = _choice(level, levels, f"inspection level for {method}")
    n = _lot_size(lot_size)
    table = _table("letters" if method == "attributes" else "variables_letters")
    for low, high, letter in zip(table["lot_min"], table["lot_max"], table[level], strict=True):
        if int(low) <= n and (high == "" or n <= int(high)):
            return str(letter)
    raise UsageError(f"No code letter for a lot of {n}.")  # pragma: no cover - table covers 2+


@dataclass(frozen=True)
class SamplingPlan:
    """A single sampling plan for one lot size, AQL, level and inspection.

    Attributes
    ----------
    lot_size, aql, level, inspection, method
        What the plan was asked for.
    code_letter : str
        The lot's code letter (ISO 2859-1 Table 1, or Z1.9 Table A-2 for variables).
    plan_letter : str
        The code letter whose plan is used: differs from ``code_letter`` when an arrow
        of the master table moved to another row.
    sample_size : int
        Shoes to measure: the plan's own sample size, or the whole lot when the plan
        asks for at least as many shoes as the lot holds (``inspect_all``).
    accept, reject : int or None
        Acceptance and rejection numbers (attributes).
    k : float or None
        Acceptability constant (variables).
    source : str
        The table the plan comes from.
    """

    lot_size: int
    aql: float
    level: str
    inspection: str
    method: str
    code_letter: str
    plan_letter: str
    sample_size: int
    accept: int | None = None
    reject: int | None = None
    k: float | None = None
    source: str = ""
    table_sample_size: int = 0

    @property
    def arrow_moved(self) -> bool:
        """Whether an arrow sent the plan to another code letter (and sample size)."""
        return self.plan_letter != self.code_letter

    @property
    def inspect_all(self) -> bool:
        """Whether the table's sample is at least the lot: every shoe is measured."""
        return self.table_sample_size >= self.lot_size

    def to_dict(self) -> dict[str, Any]:
        """The ``sizecheck plan --json`` object (design.md contract)."""
        out: dict[str, Any] = {
            "lot_size": self.lot_size,
            "aql": self.aql,
            "level": self.level,
            "inspection": self.inspection,
            "method": self.method,
            "code_letter": self.code_letter,
            "sample_size": self.sample_size,
        }
        if self.method == "attributes":
            out.update(accept=self.accept, reject=self.reject)
        else:
            out["k"] = self.k
        return out


def _follow(table: pd.DataFrame, row: int, column: str, what: str) -> tuple[int, str]:
    """Follow the arrows of a master table from ``(row, column)`` to a plan's cell."""
    start = str(table["code_letter"].iloc[row])
    while True:
        cell = str(table[column].iloc[row]).strip()
        if cell not in ("v", "^", "?"):
            return row, cell
        if cell == "?":
            raise UsageError(
                f"{what}: the table has no verified plan for code letter "
                f"{table['code_letter'].iloc[row]} at AQL {column} (see the data file's "
                "notes). Choose another AQL or inspection level."
            )
        row += 1 if cell == "v" else -1
        if not 0 <= row < len(table):
            raise UsageError(
                f"{what}: for code letter {start} at AQL {column} the table's arrow points "
                "off the table, so the standard gives no plan here. Choose another AQL or "
                "inspection level, or measure every shoe of the lot."
            )


def attributes_plan(
    lot_size: int, aql: float, *, level: str = "II", inspection: str = "normal"
) -> SamplingPlan:
    """The ISO 2859-1 single sampling plan for a lot (attributes).

    Parameters
    ----------
    lot_size : int
        Items (shoes) in the lot.
    aql : float
        Acceptance quality limit in percent out of tolerance (0.010 … 10).
    level : str, default "II"
        I, II, III or S-1 … S-4.
    inspection : {"normal", "tightened", "reduced"}

    Returns
    -------
    SamplingPlan

    Examples
    --------
    Lot 151–280 at level II is code G, 32 shoes; at AQL 2.5 accept with at most 2 out of
    tolerance (the example of ISO 2859-1 Table 2-A). At AQL 1.0 the table's arrow points
    down to code H: 50 shoes, accept with at most 1.

    >>> p = attributes_plan(200, 1.0)
    >>> p.code_letter, p.plan_letter, p.sample_size, p.accept, p.reject
    ('G', 'H', 50, 1, 2)
    """
    inspection = _choice(inspection, INSPECTIONS, "inspection")
    letter = code_letter(lot_size, level)
    column = _table(inspection).columns[2 + _aql_column(aql, ATTRIBUTE_AQLS)]
    table = _table(inspection)
    row = int(table.index[table["code_letter"] == letter][0])
    row, cell = _follow(table, row, column, f"{inspection} inspection")
    ac, re = (int(x) for x in cell.split("/"))
    n = int(table["sample_size"].iloc[row])
    return SamplingPlan(
        lot_size=int(lot_size),
        aql=float(aql),
        level=_choice(level, LEVELS, "inspection level"),
        inspection=inspection,
        method="attributes",
        code_letter=letter,
        plan_letter=str(table["code_letter"].iloc[row]),
        sample_size=min(n, int(lot_size)),
        accept=ac,
        reject=re,
        source=_SOURCES[inspection],
        table_sample_size=n,
    )


def variables_plan(
    lot_size: int, aql: float, *, level: str = "II", inspection: str = "normal"
) -> SamplingPlan:
    """The s-method (form k) plan for a lot: sample size and acceptability constant k.

    From ANSI/ASQ Z1.9 Table A-2 (code letter) and Table B-1 (n, k); tightened
    inspection reads the same table one AQL column to the left, as Z1.9 prints it.

    Parameters
    ----------
    lot_size : int
    aql : float
        0.10 … 10 percent out of tolerance (per limit; see the module notes on two-sided
        limits).
    level : str, default "II"
        S-3, S-4, I, II or III.
    inspection : {"normal", "tightened"}
        Z1.9's reduced plans are not shipped.

    Returns
    -------
    SamplingPlan

    Examples
    --------
    >>> p = variables_plan(180, 2.5)
    >>> p.code_letter, p.sample_size, p.k
    ('G', 15, 1.47)
    """
    inspection = _choice(inspection, INSPECTIONS, "inspection")
    if inspection == "reduced":
        raise UsageError(
            "Reduced inspection by variables is not available (ANSI/ASQ Z1.9's reduced "
            "plans are not shipped). Use normal or tightened, or --method attributes."
        )
    letter = code_letter(lot_size, level, method="variables")
    table = _table("variables")
    index = _aql_column(aql, VARIABLE_AQLS) + (0 if inspection == "normal" else -1)
    column = table.columns[4 + index]  # code_letter, sample_size, alpha_pct, T, 0.10 ...
    row = int(table.index[table["code_letter"] == letter][0])
    row, cell = _follow(table, row, column, f"{inspection} inspection by variables")
    n = int(table["sample_size"].iloc[row])
    if n > int(lot_size):
        raise UsageError(
            f"The variables plan needs {n} shoes but the lot has only {lot_size}: measure "
            "every shoe, or use --method attributes."
        )
    return SamplingPlan(
        lot_size=int(lot_size),
        aql=float(aql),
        level=_choice(level, VARIABLE_LEVELS, "inspection level"),
        inspection=inspection,
        method="variables",
        code_letter=letter,
        plan_letter=str(table["code_letter"].iloc[row]),
        sample_size=n,
        k=float(cell),
        source=_SOURCES["variables"],
        table_sample_size=n,
    )


def sampling_plan(
    lot_size: int,
    aql: float,
    *,
    level: str = "II",
    inspection: str = "normal",
    method: str = "attributes",
) -> SamplingPlan:
    """The plan for a lot: :func:`attributes_plan` or :func:`variables_plan`.

    Raises
    ------
    UsageError
        Unknown level, inspection, method or AQL; a lot size below 2; or no plan in the
        table for this combination (the message says what to change).
    """
    method = _choice(method, METHODS, "method")
    make = attributes_plan if method == "attributes" else variables_plan
    return make(lot_size, aql, level=level, inspection=inspection)


def acceptance_probability(plan: SamplingPlan, p: ArrayLike) -> NDArray[np.float64]:
    """Probability that a lot with a true share ``p`` out of tolerance is accepted (OC).

    Attributes: ``P(X <= Ac)`` with ``X ~ Binomial(n, p)``. Variables (one limit): the
    exact non-central t, ``P(t′(n − 1, √n·z₁₋ₚ) >= k√n)``.

    Parameters
    ----------
    plan : SamplingPlan
    p : array_like
        Share out of tolerance, 0 … 1 (not percent).

    Returns
    -------
    ndarray of float

    Examples
    --------
    >>> plan = attributes_plan(180, 2.5)
    >>> round(float(acceptance_probability(plan, 0.025)), 3)
    0.955
    """
    import numpy as np
    from scipy import stats

    share = np.asarray(p, dtype=float)
    if np.any((share < 0) | (share > 1)):
        raise UsageError("The share out of tolerance must lie between 0 and 1.")
    n = plan.sample_size
    if plan.method == "attributes":
        return np.asarray(stats.binom.cdf(plan.accept, n, share), dtype=float)
    k = float(plan.k or 0.0)
    with np.errstate(divide="ignore"):
        nc = math.sqrt(n) * stats.norm.isf(share)
    pa = stats.nct.sf(k * math.sqrt(n), n - 1, np.clip(nc, -1e6, 1e6))
    return np.asarray(np.where(share <= 0, 1.0, np.where(share >= 1, 0.0, pa)), dtype=float)


def judge_attributes(n_out: int, n_measured: int, plan: SamplingPlan) -> str:
    """``accept``, ``reject`` or ``under_sampled`` for a lot judged by attributes.

    ``n_out`` shoes out of tolerance among the plan's sample: accept at most ``Ac``,
    reject from ``Re``; fewer shoes measured than the plan needs is ``under_sampled``.

    >>> plan = attributes_plan(180, 2.5)
    >>> judge_attributes(2, 32, plan), judge_attributes(3, 32, plan)
    ('accept', 'reject')
    >>> judge_attributes(0, 20, plan)
    'under_sampled'
    """
    if n_measured < plan.sample_size:
        return "under_sampled"
    return "accept" if n_out <= int(plan.accept or 0) else "reject"


def judge_variables(
    deviations: ArrayLike, lower: float, upper: float, plan: SamplingPlan
) -> tuple[str, float, float]:
    """The s-method (form k) decision for one lot, with its quality statistics.

    ``Q_L = (x̄ − L)/s`` and ``Q_U = (U − x̄)/s`` over the sample's deviations from the
    nominal, ``L``/``U`` the in-spec limits in deviation space (infinite for a one-sided
    tolerance: that statistic is not used). Accept when every finite limit's Q is at
    least ``k`` (separate control of each limit, see the module notes). ``s`` is the
    sample standard deviation (``n − 1``); with ``s = 0`` a Q is +∞ inside the limit.

    Returns
    -------
    (decision, q_lower, q_upper)
        NaN for a limit that does not exist; decision ``under_sampled`` when fewer
        values than the plan needs are given.

    Examples
    --------
    >>> plan = variables_plan(180, 2.5)  # n = 15, k = 1.47
    >>> import numpy as np
    >>> dev = np.linspace(-1.0, 1.0, 15)  # mean 0, s 0.64: Q = 1.5 / 0.64
    >>> decision, q_low, q_up = judge_variables(dev, -1.5, 1.5, plan)
    >>> decision, round(q_low, 2), round(q_up, 2)
    ('accept', 2.35, 2.35)
    """
    import numpy as np

    x = np.asarray(deviations, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < plan.sample_size or len(x) < 2:
        return "under_sampled", math.nan, math.nan
    mean = float(x.mean())
    s = float(x.std(ddof=1))

    def q(distance: float) -> float:
        if not math.isfinite(distance):
            return math.nan  # this limit does not exist (one-sided tolerance)
        if s == 0.0:
            return math.inf if distance > 0 else -math.inf
        return distance / s

    q_lower, q_upper = q(mean - lower), q(upper - mean)
    k = float(plan.k or 0.0)
    ok = all(v >= k for v in (q_lower, q_upper) if not math.isnan(v))
    return ("accept" if ok else "reject"), q_lower, q_upper


#: Columns of :func:`judge_lots` after the ``lots.csv`` contract columns.
LOT_EXTRAS: tuple[str, ...] = (
    "code_letter",
    "method",
    "inspection",
    "aql",
    "mean_mm",
    "sd_mm",
    "q_lower",
    "q_upper",
)


def judge_lots(deviations: pd.DataFrame, plan: SamplingPlan) -> pd.DataFrame:
    """Judge every producer × lot × dimension against one sampling plan.

    The plan's sample is the first ``n`` shoes of the lot in file order (``source``,
    ``row``); a lot with fewer shoes measured than the plan needs is reported
    ``under_sampled``, not judged. Out of tolerance = any status other than ``in_spec``
    (the table's in-spec band). Rows without a lot and rows with status
    ``no_reference`` take no part.

    Parameters
    ----------
    deviations : DataFrame
        ``Analysis.deviations``: ``source, row, producer, lot, dimension, status,
        deviation_mm, nominal_mm, lower_mm, upper_mm``.
    plan : SamplingPlan
        From :func:`sampling_plan`.

    Returns
    -------
    DataFrame
        One row per producer × lot × dimension, sorted, with the ``lots.csv`` columns
        (:data:`sizecheck.columns.LOTS`): ``producer, lot, dimension, plan_code`` (the
        code letter of the plan used), ``sample_size_required, n_measured, n_out``
        (shoes out of tolerance among those judged: the sample, or all measured when
        under-sampled), ``accept_number, reject_number`` (attributes), ``k``
        (variables), ``decision`` (``accept`` | ``reject`` | ``under_sampled``); then
        ``code_letter`` (the lot's), ``method, inspection, aql``, and for variables the
        sample's ``mean_mm, sd_mm`` of the deviations and ``q_lower, q_upper``.
    """
    import numpy as np
    import pandas as pd

    need = ("source", "row", "producer", "lot", "dimension", "status", "deviation_mm",
            "nominal_mm", "lower_mm", "upper_mm")  # fmt: skip
    require_columns(deviations, need, "judge_lots", error=UsageError)
    frame = deviations.loc[:, list(need)]
    lot = frame["lot"].astype("string").str.strip()
    status = frame["status"].astype("string")
    keep = lot.notna() & (lot != "") & (status != "no_reference")
    frame = frame.loc[keep.to_numpy(dtype=bool)].assign(
        lot=lot[keep], producer=frame["producer"].astype("string")[keep],
        dimension=frame["dimension"].astype("string")[keep],
        out=(status[keep] != "in_spec").to_numpy(dtype=bool),
    )  # fmt: skip
    frame = frame.sort_values(["source", "row"], kind="stable")
    rows: list[dict[str, Any]] = []
    n_plan = plan.sample_size
    for (producer, lot_id, dim), g in frame.groupby(
        ["producer", "lot", "dimension"], sort=True, observed=True
    ):
        n_measured = len(g)
        sample = g.iloc[:n_plan] if n_measured >= n_plan else g
        n_out = int(sample["out"].sum())
        row: dict[str, Any] = {
            "producer": producer,
            "lot": lot_id,
            "dimension": dim,
            "plan_code": plan.plan_letter,
            "sample_size_required": n_plan,
            "n_measured": n_measured,
            "n_out": n_out,
            "accept_number": plan.accept,
            "reject_number": plan.reject,
            "k": plan.k,
            "code_letter": plan.code_letter,
            "method": plan.method,
            "inspection": plan.inspection,
            "aql": plan.aql,
            "mean_mm": math.nan,
            "sd_mm": math.nan,
            "q_lower": math.nan,
            "q_upper": math.nan,
        }
        if plan.method == "attributes":
            row["decision"] = judge_attributes(n_out, n_measured, plan)
        else:
            dev = sample["deviation_mm"].to_numpy(dtype=float)
            nominal = sample["nominal_mm"].to_numpy(dtype=float)
            lower = float(np.max(sample["lower_mm"].to_numpy(dtype=float) - nominal))
            upper = float(np.min(sample["upper_mm"].to_numpy(dtype=float) - nominal))
            decision, q_low, q_up = judge_variables(dev, lower, upper, plan)
            row.update(decision=decision, q_lower=q_low, q_upper=q_up)
            if n_measured >= 2:
                row.update(mean_mm=float(dev.mean()), sd_mm=float(dev.std(ddof=1)))
        rows.append(row)
    columns = [*LOTS, *LOT_EXTRAS]
    out = pd.DataFrame(rows, columns=columns)
    for name in ("sample_size_required", "n_measured", "n_out", "accept_number", "reject_number"):
        out[name] = out[name].astype("Int64")
    return out


def plan_words(plan: SamplingPlan, lang: str = "en") -> list[str]:
    """The plan in plain words, one sentence per line, in ``lang`` ("en" or "id").

    >>> print(plan_words(attributes_plan(180, 2.5))[0])  # doctest: +NORMALIZE_WHITESPACE
    Measure 32 shoes from this lot; accept if at most 2 are out of tolerance,
    reject if 3 or more are.
    """
    from sizecheck.i18n import format_number, t

    def num(x: float | None) -> str:
        return format_number(x, lang, 3).rstrip("0").rstrip(",.")

    n = plan.sample_size
    lines: list[str] = []
    if plan.method == "attributes":
        lines.append(t("plan.attributes", lang, n=n, ac=plan.accept, re=plan.reject))
    else:
        lines.append(t("plan.variables", lang, n=n, k=num(plan.k)))
        lines.append(t("plan.variables_two_sided", lang, k=num(plan.k)))
    lines.append(
        t(
            "plan.code",
            lang,
            lot=plan.lot_size,
            level=plan.level,
            letter=plan.code_letter,
            inspection=t(INSPECTION_WORDS[plan.inspection], lang),
            aql=num(plan.aql),
        )
    )
    if plan.arrow_moved:
        lines.append(
            t("plan.arrow", lang, letter=plan.code_letter, used=plan.plan_letter,
              n=plan.table_sample_size)
        )  # fmt: skip
    if plan.inspect_all:
        lines.append(t("plan.inspect_all", lang, n=plan.table_sample_size, lot=plan.lot_size))
    lines.append(t("plan.source", lang, source=plan.source))
    return lines
