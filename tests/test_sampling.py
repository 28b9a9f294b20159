"""Lot sampling plans (sizecheck.sampling): tables, arrows, OC, lot judgement, CLI.

Every number quoted below comes from a named table of a named document, typed here from
that source (not read from the shipped data files), or is computed another way:

- MIL-STD-105E (10 May 1989, public domain) = ISO 2859-1 Table 1 / 2-A / 2-B;
- the MIL-STD-105E level II extracts "TABLE 1-A" (normal) and "TABLE 1-B" (tightened) of
  the NIBS facility guide, www.nibs.org/FMOC/DPW_AC/AC-TABLE.ASC (rows A-Q, AQL .65-15);
- ANSI/ASQ Z1.9-2008 Table A-2 (code letters for variables), and Z1.9 Table B-1 as
  reproduced by M. Casquilho (web.tecnico.ulisboa.pt/~mcasquilho/acad/cq/Z1.9.B1.html).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from typer.testing import CliRunner

from sizecheck import columns
from sizecheck.cli import app
from sizecheck.errors import UsageError
from sizecheck.sampling import (
    acceptance_probability,
    attributes_plan,
    code_letter,
    judge_attributes,
    judge_lots,
    judge_variables,
    plan_words,
    sampling_plan,
    variables_plan,
)

DATA = Path(__file__).parent / "data"
runner = CliRunner()

# MIL-STD-105E Table I (= ISO 2859-1 Table 1): lot range -> S-1, S-2, S-3, S-4, I, II, III.
TABLE_I = [
    (2, 8, "AAAAAAB"),
    (9, 15, "AAAAABC"),
    (16, 25, "AABBBCD"),
    (26, 50, "ABBCCDE"),
    (51, 90, "BBCCCEF"),
    (91, 150, "BBCDDFG"),
    (151, 280, "BCDEEGH"),
    (281, 500, "BCDEFHJ"),
    (501, 1200, "CCEFGJK"),
    (1201, 3200, "CDEGHKL"),
    (3201, 10000, "CDFGJLM"),
    (10001, 35000, "CDFHKMN"),
    (35001, 150000, "DEGJLNP"),
    (150001, 500000, "DEGJMPQ"),
    (500001, 10**9, "DEHKNQR"),
]
LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")

# ANSI/ASQ Z1.9-2008 Table A-2: lot range -> S-3, S-4, I, II, III.
Z19_A2 = [
    (2, 8, "BBBBC"),
    (9, 15, "BBBBD"),
    (16, 25, "BBBCE"),
    (26, 50, "BBCDF"),
    (51, 90, "BBDEG"),
    (91, 150, "BCEFH"),
    (151, 280, "BDFGI"),
    (281, 400, "CEGHJ"),
    (401, 500, "CEGIJ"),
    (501, 1200, "DFHJK"),
    (1201, 3200, "EGIKL"),
    (3201, 10000, "FHJLM"),
    (10001, 35000, "GIKMN"),
    (35001, 150000, "HJLNP"),
    (150001, 500000, "HKMPP"),
    (500001, 10**9, "HKNPP"),
]


@pytest.mark.parametrize(("low", "high", "letters"), TABLE_I)
def test_code_letters_at_every_lot_size_boundary(low: int, high: int, letters: str) -> None:
    for level, letter in zip(LEVELS, letters, strict=True):
        for lot in (low, high):
            assert code_letter(lot, level) == letter, (lot, level)


@pytest.mark.parametrize(("low", "high", "letters"), Z19_A2)
def test_variables_code_letters_at_every_boundary(low: int, high: int, letters: str) -> None:
    for level, letter in zip(("S-3", "S-4", "I", "II", "III"), letters, strict=True):
        for lot in (low, high):
            assert code_letter(lot, level, method="variables") == letter, (lot, level)


def test_the_domain_example_lot_151_to_280_level_ii() -> None:
    # domain.md / ISO 2859-1 Table 1 row 151-280, Table 2-A row G: n 32, AQL 2.5 -> Ac 2 Re 3
    for lot in (151, 180, 280):
        plan = attributes_plan(lot, 2.5)
        assert (plan.code_letter, plan.sample_size, plan.accept, plan.reject) == ("G", 32, 2, 3)
        assert not plan.arrow_moved


# MIL-STD-105E Table II-A, level II extract (NIBS TABLE 1-A): code letter -> Re by AQL
# .65 1.0 1.5 2.5 4.0 6.5 10 (None = arrow). Ac = Re - 1 in the normal table.
NORMAL_RE = {
    "F": (1, None, None, 2, 3, 4, 6),
    "G": (None, None, 2, 3, 4, 6, 8),
    "H": (None, 2, 3, 4, 6, 8, 11),
    "J": (2, 3, 4, 6, 8, 11, 15),
    "K": (3, 4, 6, 8, 11, 15, 22),
    "L": (4, 6, 8, 11, 15, 22, None),
    "Q": (15, 22, None, None, None, None, None),
}
SIZES = {"A": 2, "B": 3, "C": 5, "D": 8, "E": 13, "F": 20, "G": 32, "H": 50, "J": 80,
         "K": 125, "L": 200, "M": 315, "N": 500, "P": 800, "Q": 1250, "R": 2000}  # fmt: skip


def _plan_for_letter(letter: str, aql: float, inspection: str = "normal") -> object:
    lot = next(low for low, _, letters in TABLE_I if letters[6] == letter)
    return attributes_plan(lot, aql, level="III", inspection=inspection)


@pytest.mark.parametrize("letter", sorted(NORMAL_RE))
def test_normal_plans_quoted_from_mil_std_105e(letter: str) -> None:
    for aql, re in zip((0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10.0), NORMAL_RE[letter], strict=True):
        if re is None:
            continue
        plan = _plan_for_letter(letter, aql)
        assert (plan.sample_size, plan.accept, plan.reject) == (SIZES[letter], re - 1, re)


def test_arrows_are_followed_to_the_plan_actually_used() -> None:
    # Table II-A: G at 1.0 is an arrow down -> H: 50 shoes, Ac 1 Re 2
    plan = attributes_plan(200, 1.0)
    assert (plan.code_letter, plan.plan_letter, plan.sample_size) == ("G", "H", 50)
    assert (plan.accept, plan.reject) == (1, 2) and plan.arrow_moved
    # G at 0.65 is an arrow up -> F: 20 shoes, Ac 0 Re 1
    plan = attributes_plan(200, 0.65)
    assert (plan.plan_letter, plan.sample_size, plan.accept, plan.reject) == ("F", 20, 0, 1)
    # L at 10 is an arrow up -> K: 125 shoes, Ac 21 Re 22
    plan = _plan_for_letter("L", 10.0)
    assert (plan.plan_letter, plan.sample_size, plan.accept) == ("K", 125, 21)
    # Q at 0.010 holds 0/1; R at 0.010 points up to it
    plan = _plan_for_letter("R", 0.010)
    assert (plan.plan_letter, plan.sample_size, plan.accept) == ("Q", 1250, 0)
    # the words say that the arrow moved the plan
    assert any("code letter H" in line for line in plan_words(attributes_plan(200, 1.0)))


def test_an_arrow_off_the_table_is_refused_with_advice() -> None:
    # Table II-A row A, column 10: an up arrow in the top row (NIBS extract row A)
    with pytest.raises(UsageError, match="off the table"):
        attributes_plan(8, 10.0)


def test_a_plan_larger_than_the_lot_means_measuring_every_shoe() -> None:
    plan = attributes_plan(8, 0.65)  # A at 0.65 points down to F (20 shoes) > lot of 8
    assert plan.sample_size == 8 and plan.inspect_all
    assert any("every shoe" in line for line in plan_words(plan))


def test_tightened_plans_quoted_from_mil_std_105e() -> None:
    # NIBS TABLE 1-B (MIL-STD-105E Table II-B): Re by AQL .65 1.0 1.5 2.5 4.0 6.5 10
    quoted = {"J": (None, 2, 3, 4, 6, 9, 13), "K": (2, 3, 4, 6, 9, 13, 19)}
    for letter, res in quoted.items():
        for aql, re in zip((0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10.0), res, strict=True):
            if re is not None:
                plan = _plan_for_letter(letter, aql, "tightened")
                assert (plan.sample_size, plan.accept, plan.reject) == (SIZES[letter], re - 1, re)
    # G at 0.65 holds 0/1; G at 1.0 and H at 1.0 point down to J's 1/2 (two arrows)
    assert _plan_for_letter("G", 0.65, "tightened").accept == 0
    plan = attributes_plan(200, 1.0, inspection="tightened")
    assert (plan.plan_letter, plan.sample_size, plan.accept, plan.reject) == ("J", 80, 1, 2)
    # tightened is never looser than normal for the same lot and AQL
    for lot in (20, 180, 1000, 5000):
        for aql in (0.65, 1.0, 2.5, 4.0, 6.5):
            n, t = attributes_plan(lot, aql), attributes_plan(lot, aql, inspection="tightened")
            assert acceptance_probability(t, aql / 100) <= acceptance_probability(n, aql / 100)


def test_reduced_plans_use_the_reduced_sample_sizes_and_adjacent_numbers() -> None:
    # Reduced sample sizes of ISO 2859-1 Table 2-C (the same in MIL-STD-105E Table II-C).
    reduced_n = {"G": 13, "H": 20, "J": 32, "K": 50, "L": 80}
    for letter, n in reduced_n.items():
        plan = _plan_for_letter(letter, 6.5, "reduced")
        assert plan.sample_size == n and plan.reject == plan.accept + 1
    # reduced inspection measures fewer shoes than normal for the same lot
    for lot in (180, 1000, 5000):
        assert attributes_plan(lot, 2.5, inspection="reduced").sample_size < (
            attributes_plan(lot, 2.5).sample_size
        )


def test_bad_arguments_are_refused() -> None:
    for kwargs in ({"aql": 3.0}, {"aql": 15.0}):
        with pytest.raises(UsageError, match="AQL"):
            sampling_plan(180, **kwargs)
    with pytest.raises(UsageError, match="inspection level"):
        sampling_plan(180, 2.5, level="IV")
    with pytest.raises(UsageError, match="lot size"):
        sampling_plan(1, 2.5)
    with pytest.raises(UsageError, match="Reduced"):
        sampling_plan(180, 2.5, method="variables", inspection="reduced")
    with pytest.raises(UsageError, match="inspection level"):
        sampling_plan(180, 2.5, method="variables", level="S-1")


def test_attributes_oc_is_the_binomial_sum() -> None:
    # independent: P(X <= Ac) written out as the sum of binomial terms
    plan = attributes_plan(180, 2.5)
    for p in (0.0, 0.01, 0.025, 0.08, 0.2, 1.0):
        by_hand = sum(math.comb(32, x) * p**x * (1 - p) ** (32 - x) for x in range(plan.accept + 1))
        assert float(acceptance_probability(plan, p)) == pytest.approx(by_hand, abs=1e-12)


# ANSI/ASQ Z1.9 Table B-1 (Casquilho's reproduction): (code letter, n, AQL, k).
Z19_B1_QUOTED = [
    ("C", 4, 1.0, 1.45), ("D", 5, 0.65, 1.65), ("E", 7, 0.25, 2.00), ("F", 10, 1.0, 1.72),
    ("G", 15, 0.65, 1.91), ("H", 20, 1.5, 1.69), ("J", 35, 0.40, 2.18), ("P", 200, 0.10, 2.73),
    ("B", 3, 2.5, 1.12), ("D", 5, 10.0, 0.675), ("F", 10, 4.0, 1.23),
]  # fmt: skip


@pytest.mark.parametrize(("letter", "n", "aql", "k"), Z19_B1_QUOTED)
def test_variables_plans_quoted_from_z19_table_b1(
    letter: str, n: int, aql: float, k: float
) -> None:
    lot = next(low for low, _, letters in Z19_A2 if letters[3] == letter)
    plan = variables_plan(max(lot, n), aql, level="II")
    assert (plan.plan_letter, plan.sample_size, plan.k) == (letter, n, k)


def test_variables_arrows_and_tightened() -> None:
    # Z1.9 B-1 row C at 0.65 is an arrow down -> D: 5 shoes, k 1.65
    plan = variables_plan(20, 0.65)
    assert (plan.code_letter, plan.plan_letter, plan.sample_size, plan.k) == ("C", "D", 5, 1.65)
    # tightened reads the column to the left: G at tightened 2.5 = normal 1.5 = 1.65
    assert variables_plan(180, 2.5, inspection="tightened").k == 1.65


def _pa_by_integration(n: int, k: float, p: float) -> float:
    """Pa of the s-method, by integrating over the chi distribution of s (another way).

    Accept when x̄ + k·s <= U. With σ = 1 and U = z₁₋ₚ: for a given s, x̄ ~ N(μ, 1/n), so
    P(accept | s) = Φ(√n (z₁₋ₚ − k s)); (n − 1) s² ~ χ²(n − 1).
    """
    z = stats.norm.isf(p)

    def integrand(c: float) -> float:
        s = math.sqrt(c / (n - 1))
        return float(stats.norm.cdf(math.sqrt(n) * (z - k * s)) * stats.chi2.pdf(c, n - 1))

    low, high = stats.chi2.ppf([1e-13, 1 - 1e-13], n - 1)
    value, _ = integrate.quad(integrand, low, high, points=[n - 1], limit=400)
    return float(value)


def test_variables_oc_equals_the_integral_over_s() -> None:
    plan = variables_plan(180, 2.5)
    for p in (0.005, 0.025, 0.1, 0.3):
        assert float(acceptance_probability(plan, p)) == pytest.approx(
            _pa_by_integration(plan.sample_size, float(plan.k), p), abs=1e-6
        )


def test_every_variables_k_gives_the_tables_acceptance_chance_at_the_aql() -> None:
    # Z1.9 Table B-1's design: each k accepts a lot at exactly the AQL with probability
    # 1 - alpha of its row (alpha: 11 % for B, 10 % for C-F ... 1 % for P; the column is
    # quoted for B-F). Column T (tightened 0.10 only) is designed for AQL 0.065. Checked
    # for every cell, by the integral above; this is also the check of the cells marked
    # unverified in the data file (rows G-P, AQL 2.5-10).
    from sizecheck.sampling import _table

    table = _table("variables")
    checked = 0
    for row in table.itertuples(index=False):
        n, alpha = int(row.sample_size), float(row.alpha_pct) / 100
        for aql, cell in zip(table.columns[3:], row[3:], strict=True):
            if cell == "v":
                continue
            design_aql = 0.065 if aql == "T" else float(aql)
            pa = _pa_by_integration(n, float(cell), design_aql / 100)
            assert pa == pytest.approx(1 - alpha, abs=0.0065), (row.code_letter, aql)
            checked += 1
    assert checked == 144


def test_judge_variables_by_hand() -> None:
    plan = variables_plan(180, 2.5)  # n 15, k 1.47
    dev = np.array([0.2, -0.3, 0.5, 0.1, -0.1, 0.0, 0.4, -0.2, 0.3, 0.1, -0.4, 0.2, 0.0, 0.1, -0.1])
    mean, s = dev.mean(), dev.std(ddof=1)
    decision, q_low, q_up = judge_variables(dev, -0.8, 0.8, plan)
    assert q_low == pytest.approx((mean + 0.8) / s) and q_up == pytest.approx((0.8 - mean) / s)
    assert decision == ("accept" if min(q_low, q_up) >= 1.47 else "reject")
    # limits ±0.3 mm: Q_U = (0.3 − 0.053) / 0.252 = 0.98 < 1.47
    assert (0.3 - mean) / s < 1.47
    assert judge_variables(dev, -0.3, 0.3, plan)[0] == "reject"
    # one-sided (a minimum): only Q_L counts
    decision, q_low, q_up = judge_variables(dev, -0.8, math.inf, plan)
    assert math.isnan(q_up) and decision == "accept"
    assert judge_variables(dev[:10], -0.8, 0.8, plan)[0] == "under_sampled"


def test_judge_attributes() -> None:
    plan = attributes_plan(180, 2.5)
    assert [judge_attributes(x, 32, plan) for x in (0, 2, 3, 9)] == [
        "accept", "accept", "reject", "reject",
    ]  # fmt: skip
    assert judge_attributes(0, 31, plan) == "under_sampled"


@pytest.fixture(scope="module")
def lot_deviations() -> pd.DataFrame:
    from sizecheck.pipeline import analyse

    return analyse([DATA / "lots.csv"]).deviations


def test_judge_lots_on_a_file_with_lots(lot_deviations: pd.DataFrame) -> None:
    lots = judge_lots(lot_deviations, attributes_plan(180, 2.5))
    assert list(lots.columns[: len(columns.LOTS)]) == list(columns.LOTS)
    got = {(r.producer, r.lot): (r.n_measured, r.n_out, r.decision) for r in lots.itertuples()}
    # tests/data/lots.csv: 32 shoes with 2 out, 32 with 3 out, 10 shoes, 40 all in
    # (3 rows of CV Kaki Emas without a lot take no part)
    assert got == {
        ("CV Kaki Emas", "A-17"): (40, 0, "accept"),
        ("UD Sumber Rejeki", "2026-03-02"): (32, 2, "accept"),
        ("UD Sumber Rejeki", "2026-03-03"): (32, 3, "reject"),
        ("UD Sumber Rejeki", "2026-03-04"): (10, 0, "under_sampled"),
    }
    # n_out counts what a person counts in deviations.csv: status other than in_spec
    d = lot_deviations
    mine = d[(d["lot"].astype("string") == "2026-03-03")]
    assert int((mine["status"].astype(str) != "in_spec").sum()) == 3


def test_judge_lots_variables_uses_the_first_n_shoes(lot_deviations: pd.DataFrame) -> None:
    plan = variables_plan(180, 2.5)
    lots = judge_lots(lot_deviations, plan).set_index("lot")
    d = lot_deviations[lot_deviations["lot"].astype("string") == "A-17"]
    first = d.sort_values(["source", "row"])["deviation_mm"].to_numpy()[: plan.sample_size]
    row = lots.loc["A-17"]
    assert row["mean_mm"] == pytest.approx(first.mean())
    assert row["sd_mm"] == pytest.approx(first.std(ddof=1))
    assert row["q_upper"] == pytest.approx((1.5 - first.mean()) / first.std(ddof=1))
    assert lots.loc["2026-03-04", "decision"] == "under_sampled"


def test_plan_cli_json_is_the_contract_object() -> None:
    result = runner.invoke(app, ["plan", "--lot-size", "200", "--aql", "1.0", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "lot_size": 200, "aql": 1.0, "level": "II", "inspection": "normal",
        "method": "attributes", "code_letter": "G", "sample_size": 50, "accept": 1,
        "reject": 2,
    }  # fmt: skip
    result = runner.invoke(
        app, ["plan", "--lot-size", "180", "--aql", "2.5", "--method", "variables", "--json"]
    )
    assert json.loads(result.output) == {
        "lot_size": 180, "aql": 2.5, "level": "II", "inspection": "normal",
        "method": "variables", "code_letter": "G", "sample_size": 15, "k": 1.47,
    }  # fmt: skip


def test_plan_cli_words_in_both_languages() -> None:
    result = runner.invoke(app, ["plan", "--lot-size", "180", "--aql", "2.5", "--lang", "en"])
    assert "Measure 32 shoes from this lot; accept if at most 2" in " ".join(result.output.split())
    result = runner.invoke(app, ["plan", "--lot-size", "180", "--aql", "2.5", "--lang", "id"])
    text = " ".join(result.output.split())
    assert "Ukur 32 sepatu dari lot ini" in text and "paling banyak 2" in text
    result = runner.invoke(app, ["plan", "--lot-size", "180", "--aql", "3"])
    assert result.exit_code == 2 and "AQL 3" in result.output


def test_measure_with_aql_writes_lots_csv_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["measure", str(DATA / "lots.csv"), "--aql", "2.5", "--lot-size", "180",
            "--no-charts", "-o", str(out), "--lang", "en"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lots = pd.read_csv(out / "lots.csv")
    assert list(lots.columns[: len(columns.LOTS)]) == list(columns.LOTS)
    assert sorted(lots["decision"]) == ["accept", "accept", "reject", "under_sampled"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["lots"]["plan"]["sample_size"] == 32
    assert summary["lots"]["decisions"] == {"accept": 2, "reject": 1, "under_sampled": 1}
    assert "lots.csv" in summary["outputs"]
    # without --aql the file of an earlier run is removed: it is not this run's
    result = runner.invoke(app, [*args[:2], "--no-charts", "-o", str(out)])
    assert result.exit_code == 0 and not (out / "lots.csv").exists()


def test_measure_aql_needs_a_lot_size(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["measure", str(DATA / "lots.csv"), "--aql", "2.5", "-o", str(tmp_path)]
    )
    assert result.exit_code == 2 and "--lot-size" in result.output


def test_oc_curve_chart_draws_the_plans_probabilities() -> None:
    from matplotlib.figure import Figure

    from sizecheck.plotting import plot_oc_curve

    plan = attributes_plan(180, 2.5)
    ax = Figure().subplots()
    assert plot_oc_curve(plan, ax=ax, lang="id") is ax
    line = ax.get_lines()[0]
    x, y = line.get_xdata(), line.get_ydata()
    assert np.allclose(y, acceptance_probability(plan, np.asarray(x) / 100))
    assert "AQL 2,5" in ax.get_title()
