"""Gage R&R (sizecheck.gage): the ANOVA method against published values and statsmodels,
the study reader, the outputs, the CLI and the link to ``measure``."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from scipy import stats
from statsmodels.stats.anova import anova_lm
from typer.testing import CliRunner

from sizecheck.cli import app
from sizecheck.columns import GAGE, REJECTS
from sizecheck.errors import InputError, UsageError
from sizecheck.gage import (
    POOL_INTERACTION_P,
    GageDesignError,
    GageResult,
    StudyNote,
    aiag_band,
    analyse_study,
    distinct_categories,
    gage_rr,
    gage_sentence,
    judge_gage,
    load_gage,
    note_text,
    read_study,
)
from sizecheck.report_gage import render_gage_html, write_gage, write_gage_template
from sizecheck.tables import load_table

DATA = Path(__file__).parent / "data" / "gage"
WIDE = {"COLUMNS": "200"}


# --------------------------------------------------------------------------- helpers


def _independent(data: pd.DataFrame, tolerance: float | None = None) -> dict[str, float]:
    """The ANOVA method computed another way: statsmodels' OLS fit and ``anova_lm`` give
    the sums of squares; the AIAG variance components are derived here from its mean
    squares (expected mean squares of the random two-way model)."""
    fit = smf.ols("value_mm ~ C(part) * C(operator)", data=data).fit()
    table = anova_lm(fit)
    ms = table["mean_sq"]
    df = table["df"]
    p = data["part"].nunique()
    o = data["operator"].nunique()
    r = len(data) // (p * o)
    ms_p, ms_o = ms["C(part)"], ms["C(operator)"]
    ms_po, ms_e = ms["C(part):C(operator)"], ms["Residual"]
    p_inter = float(table.loc["C(part):C(operator)", "PR(>F)"])
    pooled = p_inter > 0.25
    if pooled:  # the reduced model, fitted anew: y ~ part + operator
        reduced = anova_lm(smf.ols("value_mm ~ C(part) + C(operator)", data=data).fit())
        ms_e = reduced["mean_sq"]["Residual"]
        rep, inter = ms_e, 0.0
        oper = (ms_o - ms_e) / (p * r)
        part = (ms_p - ms_e) / (o * r)
    else:
        rep = ms_e
        inter = (ms_po - ms_e) / r
        oper = (ms_o - ms_po) / (p * r)
        part = (ms_p - ms_po) / (o * r)
    rep, inter, oper, part = (max(v, 0.0) for v in (rep, inter, oper, part))
    grr = rep + oper + inter
    total = grr + part
    out = {
        "repeatability": rep,
        "operator": oper,
        "operator_x_part": inter,
        "gage_rr": grr,
        "part_to_part": part,
        "total": total,
        "interaction_p": p_inter,
        "pooled": float(pooled),
        "ndc": math.floor(1.41 * math.sqrt(part) / math.sqrt(grr)),
        "f_part": ms_p / ms_po,
        "p_part": float(stats.f.sf(ms_p / ms_po, df["C(part)"], df["C(part):C(operator)"])),
    }
    if tolerance:
        out["pct_tolerance_grr"] = 100 * 6 * math.sqrt(grr) / tolerance
    return out


def _design(
    rng: np.random.Generator,
    parts: int,
    operators: int,
    trials: int,
    *,
    sd_part: float = 1.0,
    sd_oper: float = 0.1,
    sd_inter: float = 0.0,
    sd_rep: float = 0.1,
) -> pd.DataFrame:
    part_eff = rng.normal(0, sd_part, parts)
    oper_eff = rng.normal(0, sd_oper, operators)
    inter_eff = rng.normal(0, sd_inter, (parts, operators))
    rows = [
        (f"P{i + 1}", f"op{j + 1}", k + 1,
         270 + part_eff[i] + oper_eff[j] + inter_eff[i, j] + rng.normal(0, sd_rep))
        for j in range(operators) for k in range(trials) for i in range(parts)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["part", "operator", "trial", "value_mm"])


def _as_printed(values: pd.Series, printed: str) -> None:
    """Each value, rounded as the publication printed it, equals the printed text."""
    for value, text in zip(values.tolist(), printed.split(), strict=True):
        if "e" in text:
            digits = len(text.split("e")[0].split(".")[1])
            assert f"{value:.{digits}e}" == text
        else:
            digits = len(text.split(".")[1]) if "." in text else 0
            assert f"{value:.{digits}f}" == text


def _check(study: object, expected: dict[str, float]) -> None:
    comps = study.components.set_index("source")  # type: ignore[attr-defined]
    for name in ("repeatability", "operator", "operator_x_part", "gage_rr", "part_to_part",
                 "total"):  # fmt: skip
        assert comps.at[name, "variance_mm2"] == pytest.approx(expected[name], rel=1e-9, abs=1e-12)
    assert study.interaction_p == pytest.approx(expected["interaction_p"], rel=1e-9)  # type: ignore[attr-defined]
    assert study.interaction_pooled == bool(expected["pooled"])  # type: ignore[attr-defined]
    assert study.ndc == expected["ndc"]  # type: ignore[attr-defined]
    part_row = study.anova.set_index("source").loc["part"]  # type: ignore[attr-defined]
    assert part_row["f"] == pytest.approx(expected["f_part"], rel=1e-9)
    assert part_row["p"] == pytest.approx(expected["p_part"], rel=1e-7)
    if "pct_tolerance_grr" in expected:
        assert comps.at["gage_rr", "pct_tolerance"] == pytest.approx(
            expected["pct_tolerance_grr"], rel=1e-9
        )


# --------------------------------------------------------------------------- published example

#: R package SixSigma, data set ``ss.data.rr`` (Cano, Moguerza & Redchuk, *Six Sigma with
#: R*, Springer 2012, chapter 5): paper helicopter flight time ``time1``, 3 prototypes ×
#: 3 operators × 3 runs, in the package's row order (operator, then prototype, then run).
SS_DATA_RR_TIME1 = [
    1.27, 0.90, 1.09, 1.12, 1.09, 1.15, 1.73, 1.28, 1.77,  # op #1: prot #1, #2, #3
    1.34, 1.32, 1.27, 1.24, 1.00, 1.14, 1.64, 1.65, 1.77,  # op #2
    1.09, 1.26, 1.09, 1.48, 1.15, 1.15, 1.64, 1.44, 1.68,  # op #3
]  # fmt: skip


def _ss_data_rr() -> pd.DataFrame:
    keys = [(f"prot #{p}", f"op #{o}", f"run #{r}") for o in (1, 2, 3) for p in (1, 2, 3)
            for r in (1, 2, 3)]  # fmt: skip
    frame = pd.DataFrame(keys, columns=["part", "operator", "trial"])
    frame["value_mm"] = SS_DATA_RR_TIME1
    return frame


def test_sixsigma_ss_rr_published_values_interaction_pooled() -> None:
    """``ss.rr(time1, prototype, operator, data = ss.data.rr, lsl = 0.7, usl = 1.8)`` as
    printed in the package's reference manual (SixSigma 0.11.0, example of ``ss.rr``)::

        Complete model (with interaction):
                           Df Sum Sq Mean Sq F value  Pr(>F)
        prototype           2 1.2007  0.6004  28.797 0.00422
        operator            2 0.0529  0.0265   1.270 0.37415
        prototype:operator  4 0.0834  0.0208   0.974 0.44619
        Repeatability      18 0.3854  0.0214
        Reduced model (without interaction):
        prototype      2 1.2007  0.6004  28.174 8.56e-07
        operator       2 0.0529  0.0265   1.242    0.308
        Repeatability 22 0.4688  0.0213
                               VarComp %Contrib
        Total Gage R&R    0.0218822671    25.38
          Repeatability   0.0213087542    24.71
          Reproducibility 0.0005735129     0.67
            operator      0.0005735129     0.67
        Part-To-Part      0.0643389450    74.62
        Total Variation   0.0862212121   100.00
                               StdDev  StudyVar %StudyVar %Tolerance
        Total Gage R&R    0.14792656 0.8875594     50.38      80.69
          Repeatability   0.14597518 0.8758511     49.71      79.62
          Reproducibility 0.02394813 0.1436888      8.16      13.06
        Part-To-Part      0.25365123 1.5219074     86.38     138.36
        Total Variation   0.29363449 1.7618069    100.00     160.16
        Number of Distinct Categories = 2

    The package pools at p > 0.05; AIAG's 0.25 pools here too (p = 0.446).
    """
    study = gage_rr(_ss_data_rr(), tolerance_mm=1.8 - 0.7)
    full = study.anova.set_index("source")
    _as_printed(full.loc["part", ["ss", "ms", "f", "p"]], "1.2007 0.6004 28.797 0.00422")
    _as_printed(full.loc["operator", ["ss", "ms", "f", "p"]], "0.0529 0.0265 1.270 0.37415")
    _as_printed(full.loc["operator_x_part", ["ss", "ms", "f", "p"]], "0.0834 0.0208 0.974 0.44619")
    _as_printed(full.loc["repeatability", ["df", "ss", "ms"]], "18 0.3854 0.0214")
    assert study.interaction_pooled and study.interaction_p > POOL_INTERACTION_P
    assert study.anova_pooled is not None
    reduced = study.anova_pooled.set_index("source")
    _as_printed(reduced.loc["part", ["f", "p"]], "28.174 8.56e-07")
    _as_printed(reduced.loc["operator", ["f", "p"]], "1.242 0.308")
    _as_printed(reduced.loc["repeatability", ["df", "ss", "ms"]], "22 0.4688 0.0213")
    c = study.components.set_index("source")
    cols = ["variance_mm2", "pct_contribution", "sd_mm", "study_var_mm", "pct_study_var",
            "pct_tolerance"]  # fmt: skip
    _as_printed(c.loc["gage_rr", cols], "0.0218822671 25.38 0.14792656 0.8875594 50.38 80.69")
    _as_printed(c.loc["repeatability", cols], "0.0213087542 24.71 0.14597518 0.8758511 49.71 79.62")
    _as_printed(c.loc["reproducibility", cols], "0.0005735129 0.67 0.02394813 0.1436888 8.16 13.06")
    _as_printed(c.loc["operator", cols], "0.0005735129 0.67 0.02394813 0.1436888 8.16 13.06")
    _as_printed(c.loc["part_to_part", cols], "0.0643389450 74.62 0.25365123 1.5219074 86.38 138.36")
    _as_printed(c.loc["total", cols], "0.0862212121 100.00 0.29363449 1.7618069 100.00 160.16")
    assert c.at["operator_x_part", "variance_mm2"] == 0.0
    assert study.ndc == 2
    assert study.verdict == "unacceptable"  # 80.69 % of the tolerance


# --------------------------------------------------------------------------- against statsmodels


@pytest.mark.parametrize(
    ("case", "seed", "kw", "pooled"),
    [
        ("quiet interaction", 1, {"sd_inter": 0.0}, None),
        ("strong interaction", 2, {"sd_inter": 0.4, "sd_rep": 0.05}, False),
        ("10 x 3 x 3, operator smaller than noise", 3, {"sd_oper": 0.0, "sd_rep": 0.3}, None),
    ],
)
def test_matches_statsmodels_anova(case: str, seed: int, kw: dict[str, float],
                                   pooled: bool | None) -> None:  # fmt: skip
    data = _design(np.random.default_rng(seed), 10, 3, 3, **kw)
    expected = _independent(data, tolerance=3.0)
    study = gage_rr(data, tolerance_mm=3.0)
    _check(study, expected)
    if pooled is not None:
        assert study.interaction_pooled is pooled


def test_interaction_kept_is_part_of_reproducibility() -> None:
    data = _design(np.random.default_rng(2), 10, 3, 3, sd_inter=0.4, sd_rep=0.05)
    study = gage_rr(data)
    assert not study.interaction_pooled and study.anova_pooled is None
    c = study.components.set_index("source")["variance_mm2"]
    assert c["operator_x_part"] > 0
    assert c["reproducibility"] == pytest.approx(c["operator"] + c["operator_x_part"])
    assert c["gage_rr"] == pytest.approx(c["repeatability"] + c["reproducibility"])
    assert study.verdict_basis == "pct_study_var"
    assert math.isnan(c.pipe(lambda _: study.component("gage_rr")["pct_tolerance"]))


def test_negative_component_is_set_to_zero_and_named() -> None:
    # operators identical, so MS_operator falls below MS_error in most draws
    for seed in range(40):
        data = _design(np.random.default_rng(seed), 5, 3, 2, sd_oper=0.0, sd_rep=0.2)
        expected = _independent(data)
        study = gage_rr(data)
        _check(study, expected)
        if "operator" in study.zeroed:
            assert study.component("operator")["variance_mm2"] == 0.0
            assert study.to_dict()["zeroed_components"] == list(study.zeroed)
            return
    pytest.fail("no draw gave a negative operator component")


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    parts=st.integers(2, 6),
    operators=st.integers(2, 4),
    trials=st.integers(2, 4),
    sd_inter=st.sampled_from([0.0, 0.3]),
)
def test_random_balanced_studies_match_statsmodels(
    seed: int, parts: int, operators: int, trials: int, sd_inter: float
) -> None:
    data = _design(np.random.default_rng(seed), parts, operators, trials, sd_inter=sd_inter)
    _check(gage_rr(data, tolerance_mm=2.5), _independent(data, tolerance=2.5))


def test_input_frame_is_not_modified_and_keys_may_be_numbers() -> None:
    data = _design(np.random.default_rng(5), 4, 2, 2)
    data["part"] = data["part"].str[1:].astype(int)
    before = data.copy()
    gage_rr(data)
    pd.testing.assert_frame_equal(data, before)


# --------------------------------------------------------------------------- small formulas


def test_bands_and_ndc() -> None:
    # AIAG MSA 4th ed.: < 10 % acceptable, 10-30 % conditional, > 30 % not acceptable
    assert [aiag_band(x) for x in (0.0, 9.99, 10.0, 29.9, 30.0, 30.01)] == [
        "acceptable", "acceptable", "conditional", "conditional", "conditional",
        "unacceptable",
    ]  # fmt: skip
    assert distinct_categories(1.0, 0.2) == math.floor(1.41 * 5)
    assert distinct_categories(1.0, 0.0) is None


# --------------------------------------------------------------------------- design errors


def _complete() -> pd.DataFrame:
    return _design(np.random.default_rng(7), 4, 3, 3)


def test_missing_trials_are_named() -> None:
    data = _complete()
    drop = (data["part"] == "P2") & (data["operator"] == "op3") & (data["trial"].isin([1, 3]))
    with pytest.raises(GageDesignError, match=r"part P2 × operator op3 lacks trials 1, 3"):
        gage_rr(data.loc[~drop])


@pytest.mark.parametrize(
    ("keep", "message"),
    [
        ("operator == 'op1'", r"1 operator\(s\) \(op1\)"),
        ("trial == 1", r"1 trial\(s\) \(1\)"),
        ("part == 'P1'", r"1 part\(s\) \(P1\)"),
    ],
)
def test_too_small_a_study_is_refused(keep: str, message: str) -> None:
    with pytest.raises(GageDesignError, match=message):
        gage_rr(_complete().query(keep))


def test_a_reading_given_twice_is_refused() -> None:
    data = _complete()
    with pytest.raises(GageDesignError, match="more than once: part P1 × operator op1 trial 1"):
        gage_rr(pd.concat([data, data.head(1)]))


def test_bad_values_and_tolerance_are_usage_errors() -> None:
    data = _complete()
    with pytest.raises(UsageError):
        gage_rr(data, tolerance_mm=0)
    data.loc[0, "value_mm"] = np.nan
    with pytest.raises(UsageError):
        gage_rr(data)


# --------------------------------------------------------------------------- reading studies


def _workbook_values() -> pd.DataFrame:
    """The fixture's readings read with openpyxl directly (not through sizecheck)."""
    ws = load_workbook(DATA / "studi_insole.xlsx", data_only=True).active
    rows = []
    operator = None
    for part, op, trial, value, *_ in ws.iter_rows(min_row=5, values_only=True):
        operator = op or operator  # the officer's name is merged over the block
        if isinstance(part, int) and isinstance(value, int | float):
            rows.append((str(part), str(operator), str(trial), float(value)))
    return pd.DataFrame(rows, columns=["part", "operator", "trial", "value_mm"])


def test_indonesian_workbook_and_csv_twin_read_the_same_readings() -> None:
    xlsx = read_study(DATA / "studi_insole.xlsx")
    csv = read_study(DATA / "studi_insole.csv")
    cols = ["part", "operator", "trial", "dimension", "value_mm"]
    pd.testing.assert_frame_equal(xlsx.measurements[cols], csv.measurements[cols])
    assert xlsx.dimensions == ["insole_length"]
    expected = _workbook_values()
    got = xlsx.measurements[["part", "operator", "trial", "value_mm"]]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)
    assert len(expected) == 90
    assert csv.rejects.empty and csv.accounting.rows_read == csv.accounting.rows_used == 90


def test_every_row_and_cell_of_the_workbook_is_accounted_for() -> None:
    study = read_study(DATA / "studi_insole.xlsx")
    a = study.accounting
    assert a.rows_read == a.rows_used + a.rows_rejected
    assert a.cells_read == a.cells_used + a.cells_rejected
    assert a.rows_used == 90 and a.cells_used == 90
    codes = study.rejects["code"].value_counts().to_dict()
    assert codes == {"skipped_title": 2, "skipped_blank": 2, "skipped_summary": 3,
                     "skipped_signature": 2}  # fmt: skip
    assert a.rows_rejected == sum(codes.values())
    assert list(study.rejects.columns) == list(REJECTS)
    assert any("keterangan" in n for n in study.notes)  # the note column is named, not lost


def test_bad_cells_and_rows_get_their_codes(tmp_path: Path) -> None:
    p = tmp_path / "studi.csv"
    p.write_text(
        "Studi gage lingkar ball\n"
        "No;Sampel;Pengukur;Ulangan;Lingkar ball (cm);Lebar insole (mm)\n"
        "1;1;Sari;1;24,05;98,1\n"
        "2;1;Sari;1;24,1;98,2\n"  # the same reading again
        "3;1;;2;24,0;97,9\n"  # no operator
        "4;2;Sari;1;abc;-\n"  # not a number; '-' = not measured
        "5;2;Sari;2;-24;980\n"  # negative; implausible (980 mm)
        "6;3;Sari;1;;\n"  # no reading at all
        "Rata-rata;;;;24,05;98\n",
        encoding="utf-8",
    )
    study = read_study(p)
    got = sorted(zip(study.rejects["row"], study.rejects["code"], strict=True))
    assert got == [
        (1, "skipped_title"), (4, "duplicate_sample"), (4, "duplicate_sample"),
        (5, "missing_operator"), (6, "not_a_number"), (7, "implausible"), (7, "negative"),
        (8, "no_measurement"), (9, "skipped_summary"),
    ]  # fmt: skip
    m = study.measurements
    assert sorted(m["dimension"].unique()) == ["insole_ball_width", "last_ball_girth"]
    girth = m.loc[m["dimension"] == "last_ball_girth", "value_mm"]
    assert girth.tolist() == [240.5]  # cm in the header: 24,05 cm
    assert set(m["part"]) == {"1"}  # 'Sampel' wins over the running 'No'
    a = study.accounting
    assert (a.rows_read, a.rows_used) == (8, 1)
    assert a.cells_read == a.cells_used + a.cells_rejected
    with pytest.raises(UsageError, match="choose one with --dimension"):
        study.readings()
    # Every reason is written from the catalogue, so the Indonesian page reads it in
    # Indonesian: no English reason is left after localisation.
    from sizecheck.validate import localized_rejects

    id_ = localized_rejects(study.rejects, "id")
    assert not id_["message"].str.startswith("lihat kode").any()  # no fallback "see code"
    assert not (id_["message"] == study.rejects["message"]).any()
    row5 = id_.loc[id_["code"] == "missing_operator", "message"].iloc[0]
    assert "petugas kosong" in row5
    dup = id_.loc[id_["code"] == "duplicate_sample", "message"].tolist()
    assert any("sampel 1, petugas Sari, ulangan 1" in d for d in dup)


def test_long_layout_with_value_and_dimension_columns(tmp_path: Path) -> None:
    p = tmp_path / "long.csv"
    rows = ["part,operator,trial,dimension,value,unit"]
    rows += [f"{i},{o},{k},last_length,{270 + i / 10 + k / 100},mm" for o in "AB"
             for k in (1, 2) for i in (1, 2, 3)]  # fmt: skip
    rows.append("1,A,3,heel_height,30,mm")
    rows.append("2,A,3,last_length,27,furlong")
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    study = read_study(p)
    assert study.dimensions == ["last_length"]
    assert sorted(study.rejects["code"]) == ["unknown_dimension", "unknown_unit"]
    assert len(study.readings("last_length")) == 12


def test_a_file_without_a_study_header_says_what_is_needed(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("produsen;ukuran;panjang_insole\nA;41;273\n", encoding="utf-8")
    with pytest.raises(InputError, match="ulangan"):
        read_study(p)


# --------------------------------------------------------------------------- the CLI


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=WIDE)
    return result.exit_code, result.output


def _study_with_spare_columns(path: Path) -> Path:
    """A 2 x 2 x 2 study with a value column beside the dimension column, and a notes
    column: both are left out, with a note each."""
    lines = ["sampel;petugas;ulangan;panjang_insole (mm);nilai;keterangan"]
    for part, operator, trial in itertools.product((1, 2), ("Sari", "Budi"), (1, 2)):
        mm = 266 + part + 0.1 * trial + (0.2 if operator == "Budi" else 0.0)
        lines.append(f"{part};{operator};{trial};{mm:.1f};{mm:.1f};ok")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("lang", "ignored", "value_ignored", "english"),
    [
        ("en", "column(s) not used by a gage study: keterangan",
         "column 'nilai' ignored; the dimension columns are used", None),
        ("id", "kolom keterangan tidak dipakai", "kolom 'nilai' tidak dipakai",
         "not used by a gage study"),
    ],
)  # fmt: skip
def test_notes_on_unused_columns_speak_the_language_of_the_run(
    tmp_path: Path, lang: str, ignored: str, value_ignored: str, english: str | None
) -> None:
    study = _study_with_spare_columns(tmp_path / "studi.csv")
    out = tmp_path / "out"
    code, text = _cli("gage", str(study), "--tolerance", "3", "--lang", lang,
                      "--out", str(out))  # fmt: skip
    assert code == 0, text
    page = (out / "gage.html").read_text(encoding="utf-8")
    for shown in (text, page):
        assert f"studi.csv: {ignored}" in shown.replace("&#39;", "'")
        assert value_ignored in shown.replace("&#39;", "'")
        if english is not None:
            assert english not in shown
    # gage.json is for programs: its notes stay in English, whatever the run's language
    notes = json.loads((out / "gage.json").read_text(encoding="utf-8"))["notes"]
    assert notes == [
        "studi.csv: column(s) not used by a gage study: keterangan.",
        "studi.csv: column 'nilai' ignored; the dimension columns are used.",
    ]


def test_a_study_note_survives_pickling_with_its_key() -> None:
    import pickle

    note = StudyNote("gage.note.ignored", source="a.csv", columns="x")
    again = pickle.loads(pickle.dumps(note))
    assert again == note and note_text(again, "id") == note_text(note, "id") != str(note)
    assert note_text("plain text", "id") == "plain text"


def test_cli_balanced_indonesian_workbook_gives_the_right_figures(tmp_path: Path) -> None:
    out = tmp_path / "laporan"
    code, text = _cli("gage", str(DATA / "studi_insole.xlsx"), "--table", "paris-point",
                      "--lang", "id", "--out", str(out))  # fmt: skip
    assert code == 0, text
    expected = _independent(_workbook_values(), tolerance=3.0)  # paris-point: ±1.5 mm
    frame = pd.read_csv(out / "gage.csv")
    assert list(frame.columns) == list(GAGE)
    got = frame.set_index("source")["variance_mm2"]
    for name in ("repeatability", "operator", "operator_x_part", "gage_rr", "part_to_part"):
        assert got[name] == pytest.approx(expected[name], rel=1e-9, abs=1e-12)
    doc = json.loads((out / "gage.json").read_text("utf-8"))
    assert list(doc)[:10] == ["dimension", "parts", "operators", "trials", "tolerance_mm",
                              "interaction_p", "interaction_pooled", "ndc", "verdict",
                              "components"]  # fmt: skip
    assert (doc["dimension"], doc["parts"], doc["operators"], doc["trials"]) == (
        "insole_length", 10, 3, 3)  # fmt: skip
    assert doc["tolerance_mm"] == 3.0 and doc["tolerance_source"] == "table"
    assert doc["ndc"] == expected["ndc"]
    assert doc["interaction_pooled"] == bool(expected["pooled"])
    pct = expected["pct_tolerance_grr"]
    assert doc["verdict"] == aiag_band(pct)
    assert doc["accounting"]["rows_read"] == 99
    assert "Kesimpulan" in text and "ndc" in text
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == {".sizecheck-manifest.json", "gage.csv", "gage.json", "rejects.csv",
                       "gage.html", "charts/gage_components.png", "charts/gage_by_part.png",
                       "charts/gage_by_operator.png", "charts/gage_ranges.png"}  # fmt: skip
    assert len(pd.read_csv(out / "rejects.csv")) == 9


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("rusak_ulangan_hilang.csv",
         "part 4 × operator Sari lacks trial 2; part 7 × operator Dewi lacks trial 3"),
        ("rusak_satu_petugas.csv", "1 operator(s) (Sari)"),
    ],
)  # fmt: skip
def test_cli_broken_study_is_a_clear_error(tmp_path: Path, name: str, message: str) -> None:
    code, text = _cli("gage", str(DATA / name), "--out", str(tmp_path / "o"))
    assert code == 2
    assert text.startswith("Error:") and message in " ".join(text.split())
    assert "Traceback" not in text
    assert not (tmp_path / "o").exists()


def test_cli_tolerance_and_table_are_checked(tmp_path: Path) -> None:
    csv = str(DATA / "studi_insole.csv")
    code, text = _cli("gage", csv, "--tolerance", "3", "--table", "paris-point")
    assert code == 2 and "not both" in text
    code, text = _cli("gage", csv, "--table", "sni-8877-safety", "--out", str(tmp_path))
    assert code == 2 and "no dimension 'insole_length'" in text


def test_cli_no_charts_removes_an_earlier_page(tmp_path: Path) -> None:
    csv = str(DATA / "studi_insole.csv")
    assert _cli("gage", csv, "--out", str(tmp_path))[0] == 0
    assert (tmp_path / "gage.html").exists()
    assert _cli("gage", csv, "--out", str(tmp_path), "--no-charts", "--tolerance", "3")[0] == 0
    assert not (tmp_path / "gage.html").exists()
    assert not list((tmp_path / "charts").glob("*.png"))


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("lang", ["en", "id"])
def test_template_is_laid_out_for_10_x_3_x_3_and_reads_back(
    tmp_path: Path, suffix: str, lang: str
) -> None:
    path = tmp_path / f"studi{suffix}"
    code, text = _cli("template", str(path), "--gage", "--lang", lang)
    assert code == 0, text
    study = read_study(path)
    assert study.measurements.empty
    assert (study.rejects["code"] == "no_measurement").sum() == 90
    if suffix == ".xlsx":
        wb = load_workbook(path)
        ws = wb.active
        header = [c.value for c in ws[1]]
        assert header == (["sampel", "petugas", "ulangan", "panjang_insole (mm)"] if lang == "id"
                          else ["part", "operator", "trial", "insole_length (mm)"])  # fmt: skip
        rng = np.random.default_rng(0)
        for row in ws.iter_rows(min_row=2):
            row[3].value = round(266.7 + int(row[0].value) / 3 + rng.normal(0, 0.1), 1)
        wb.save(path)
        filled = gage_rr(read_study(path).readings())
        assert (filled.parts, filled.operators, filled.trials) == (10, 3, 3)


def test_write_gage_template_refuses_overwrite(tmp_path: Path) -> None:
    p = write_gage_template(tmp_path / "s.xlsx")
    with pytest.raises(UsageError):
        write_gage_template(p)
    with pytest.raises(UsageError):
        write_gage_template(tmp_path / "t.xlsx", operators=1)


# --------------------------------------------------------------------------- link to measure


@pytest.fixture(scope="module")
def gage_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gage")
    write_gage(analyse_study(DATA / "studi_insole.csv", tolerance_mm=3.0), out, charts=False)
    return out / "gage.json"


def test_load_gage_and_sentence(gage_json: Path) -> None:
    result = load_gage(gage_json)
    doc = json.loads(gage_json.read_text("utf-8"))
    grr = next(c for c in doc["components"] if c["source"] == "gage_rr")
    assert result.sd_gage_rr_mm == grr["sd_mm"]
    assert result.pct_tolerance == grr["pct_tolerance"]
    assert result.verdict == doc["verdict"]
    en, id_ = gage_sentence(result, "en"), gage_sentence(result, "id")
    assert "insole length" in en and "widened" in en
    assert "panjang insole" in id_ and "dilonggarkan" in id_ and "," in id_


def test_judge_against_a_tighter_table_band() -> None:
    r = GageResult("insole_length", 0.1, 0.6, None, None, 20.0, 8, "conditional",
                   "pct_study_var", True)  # fmt: skip
    judged = judge_gage(r, load_table("paris-point"))  # ±1.5 mm: width 3
    assert judged.tolerance_mm == 3.0
    assert judged.pct_tolerance == pytest.approx(100 * 0.6 / 3.0)
    assert judged.verdict == "conditional"
    assert judge_gage(r, load_table("sni-8877-safety")) is r  # one-sided: no width


@pytest.mark.parametrize("content", ["{", "[]", '{"dimension": "x"}'])
def test_bad_gage_json_is_an_input_error(tmp_path: Path, content: str) -> None:
    p = tmp_path / "gage.json"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InputError):
        load_gage(p)


@pytest.mark.slow
def test_measure_with_gage_states_it_and_widens_nothing(tmp_path: Path, gage_json: Path) -> None:
    plain, linked = tmp_path / "plain", tmp_path / "linked"
    assert _cli("measure", "--example", "--no-charts", "--out", str(plain))[0] == 0
    code, text = _cli("measure", "--example", "--no-charts", "--out", str(linked),
                      "--gage", str(gage_json), "--lang", "en")  # fmt: skip
    assert code == 0, text
    assert "Measuring insole length (gage R&R study)" in " ".join(text.split())
    for name in ("producer_summary.csv", "deviations.csv", "size_summary.csv"):
        assert (plain / name).read_bytes() == (linked / name).read_bytes()
    summary = json.loads((linked / "summary.json").read_text("utf-8"))
    assert summary["gage"]["dimension"] == "insole_length"
    assert summary["gage"]["widens_verdicts"] is False
    assert summary["gage"]["tolerance_mm"] == 3.0
    assert json.loads((plain / "summary.json").read_text("utf-8"))["gage"] is None


# --------------------------------------------------------------------------- page and charts


def test_page_escapes_names_and_speaks_both_languages(tmp_path: Path) -> None:
    data = _design(np.random.default_rng(9), 4, 2, 2)
    data["operator"] = data["operator"].map({"op1": "<script>x</script>", "op2": "Sri & Budi"})
    p = tmp_path / "s.csv"
    data.to_csv(p, index=False)
    analysis = analyse_study(p, tolerance_mm=3.0)
    for lang, word in (("en", "Verdict"), ("id", "Kesimpulan")):
        page = render_gage_html(analysis, lang=lang)
        assert "<script>x" not in page and "&lt;script&gt;" in page
        assert word in page and "Sri &amp; Budi" in page


# --------------------------------------------------------------------------- publishing


def test_gage_output_never_mixes_with_a_measure_report_or_a_users_file(tmp_path: Path) -> None:
    """``write_gage`` publishes through the same OutputFolder as ``measure``: a measure
    report's folder is refused (both write ``rejects.csv``), a user's own ``gage.csv`` is
    never replaced, and a second gage run without charts removes the first run's page."""
    from sizecheck.publish import OutputConflictError

    study = analyse_study(DATA / "studi_insole.csv", tolerance_mm=3.0)
    report = tmp_path / "report"
    assert CliRunner().invoke(app, ["measure", "--example", "--no-charts", "--out",
                                    str(report)]).exit_code == 0  # fmt: skip
    before = {p: p.read_bytes() for p in report.rglob("*") if p.is_file()}
    with pytest.raises(OutputConflictError, match="sizecheck measure"):
        write_gage(study, report, charts=False)
    assert {p: p.read_bytes() for p in report.rglob("*") if p.is_file()} == before

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "gage.csv").write_text("my own notes\n")
    with pytest.raises(OutputConflictError, match=r"gage\.csv"):
        write_gage(study, mine, charts=False)
    assert (mine / "gage.csv").read_text() == "my own notes\n"
    assert sorted(p.name for p in mine.iterdir()) == ["gage.csv"]  # nothing else published

    out = tmp_path / "gage"
    first = write_gage(study, out, charts=True)
    assert out / "gage.html" in first and (out / "charts" / "gage_ranges.png").is_file()
    write_gage(study, out, charts=False)
    assert not (out / "gage.html").exists() and not (out / "charts").exists()
    assert sorted(p.name for p in out.iterdir()) == [
        ".sizecheck-manifest.json", "gage.csv", "gage.json", "rejects.csv"]  # fmt: skip


def test_names_from_a_study_file_cannot_reorder_the_terminal_or_gage_html(
    tmp_path: Path,
) -> None:
    # a sheet and a column named with a right-to-left override: shown as [U+202E], as
    # measure's report and terminal show producer names (escaping.page_environment)
    from openpyxl import Workbook

    rng = np.random.default_rng(1)
    wb = Workbook()
    ws = wb.active
    ws.title = "studi"
    ws.append(["part", "operator", "trial", "value_mm", "<b>c\u202eABC"])
    for j, k, i in itertools.product(range(3), range(2), range(10)):
        ws.append([f"P{i + 1}", f"op{j + 1}", k + 1, 270 + rng.normal(0, 1), "x"])
    wb.create_sheet("<i>n\u202eXYZ").append(["catatan"])
    path = tmp_path / "studi.xlsx"
    wb.save(path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["gage", str(path), "--out", str(out), "--lang", "id"])
    assert result.exit_code == 0, result.output
    page = (out / "gage.html").read_text(encoding="utf-8")
    for shown in (result.output, page):
        assert "\u202e" not in shown
        assert "[U+202E]ABC" in shown and "[U+202E]XYZ" in shown
    assert "<b>c" not in page and "<i>n" not in page  # and no markup from the file
