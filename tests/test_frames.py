"""DataFrames in, the same analysis out: `analyse(df)` equals `analyse(path)` (issue 19.1).

A frame goes through the same validation as a file (:func:`sizecheck.validate_frame`):
the independent check is the file route itself, on a CSV written from the same frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import sizecheck as sc
from sizecheck.errors import UsageError

#: Every table of an Analysis that a contract file is written from, and the others a
#: researcher reads.
TABLES = (
    "measurements",
    "deviations",
    "rejects",
    "producer_summary",
    "size_summary",
    "corrections",
    "comparison",
    "conventions",
    "control_points",
    "signals",
    "shifts",
    "levels",
    "model_size_summary",
)


@pytest.fixture(scope="module")
def example_frame() -> pd.DataFrame:
    """The bundled example as a researcher reads it with pandas (title row skipped)."""
    return pd.read_csv(sc.example_path(), sep=";", decimal=",", skiprows=1)


@pytest.fixture(scope="module")
def frame_and_file(example_frame, tmp_path_factory):
    """analyse() of the example frame, and of the CSV that frame writes."""
    path = tmp_path_factory.mktemp("frames") / "from_frame.csv"
    example_frame.to_csv(path, index=False)
    before = example_frame.copy(deep=True)
    by_frame = sc.analyse(example_frame)
    pd.testing.assert_frame_equal(example_frame, before)  # the input is not modified
    return by_frame, sc.analyse(path)


def _plain(frame: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Categories as text (a frame and a file may differ only in category order), and the
    ``source`` labels of frames replaced by ``source``."""
    out = frame.reset_index(drop=True).copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype("str")
    for name in ("source", "first_source", "last_source"):
        if name in out.columns:  # as text on both sides (an empty column has no type)
            out[name] = out[name].astype("str")
            if source is not None:
                out[name] = out[name].replace("<frame 0>", source)
    return out


@pytest.mark.parametrize("name", TABLES)
def test_analyse_of_a_frame_equals_analyse_of_its_file(frame_and_file, name):
    by_frame, by_file = frame_and_file
    assert by_file.inputs[0].source == "from_frame.csv"
    pd.testing.assert_frame_equal(
        _plain(getattr(by_frame, name), "from_frame.csv"), _plain(getattr(by_file, name))
    )


def test_the_findings_and_accounting_of_a_frame_equal_the_files(frame_and_file):
    by_frame, by_file = frame_and_file
    assert by_frame.accounting is not None and by_file.accounting is not None
    assert by_frame.accounting.counts() == by_file.accounting.counts()
    assert by_frame.producers == by_file.producers
    for producer in by_file.producers:
        assert by_frame.findings[producer].to_dict() == by_file.findings[producer].to_dict()


def test_the_frame_is_an_input_with_its_name_and_digest(frame_and_file, example_frame):
    by_frame, _ = frame_and_file
    (inp,) = by_frame.inputs
    assert (inp.kind, inp.path, inp.source) == ("frame", "", "<frame 0>")
    assert inp.sha256 == sc.analyse(example_frame.copy()).inputs[0].sha256
    changed = example_frame.copy()
    changed.iloc[0, changed.columns.get_loc("Panjang Insole (mm)")] += 0.1
    assert sc.analyse(changed).inputs[0].sha256 != inp.sha256


def test_a_frame_read_from_the_example_gives_the_examples_statistics(frame_and_file):
    # The file has a title row above the header; the frame read with skiprows=1 has not:
    # the same measurements, one row number apart, and one reject fewer (the title).
    by_frame, _ = frame_and_file
    by_path = sc.analyse(str(sc.example_path()))  # one path as a plain string
    for name in ("producer_summary", "size_summary", "corrections", "conventions"):
        got, expected = getattr(by_frame, name), getattr(by_path, name)
        pd.testing.assert_frame_equal(_plain(got), _plain(expected))
    file_rejects = by_path.rejects[by_path.rejects["code"] != "skipped_title"]
    assert (file_rejects["row"].to_numpy() - 1).tolist() == by_frame.rejects["row"].tolist()
    assert file_rejects["code"].tolist() == by_frame.rejects["code"].tolist()
    assert set(by_frame.rejects["source"]) == {"<frame 0>"}


def test_named_frames_carry_their_names_as_source(example_frame):
    first = example_frame.iloc[:400]
    second = example_frame.iloc[400:]
    a = sc.analyse({"1 march.xlsx": first, "2 april": second})
    assert set(a.measurements["source"].astype(str)) == {"1 march.xlsx", "2 april"}
    assert [f.source for f in a.inputs] == ["1 march.xlsx", "2 april"]
    # rows are numbered in each frame as in its own CSV: header 1, first row 2
    april = a.measurements[a.measurements["source"] == "2 april"]
    assert int(april["row"].min()) == 2
    # the same as the two frames given in a list, named by position
    b = sc.analyse([first, second])
    assert set(b.rejects["source"]) <= {"<frame 0>", "<frame 1>"}
    pd.testing.assert_frame_equal(_plain(a.producer_summary), _plain(b.producer_summary))


def test_validate_frame_applies_the_file_rules_and_lists_rejects():
    df = pd.DataFrame(
        {
            "Produsen": ["UD Maju", "UD Maju", "UD Maju", None, "Rata-rata"],
            "Ukuran": ["41", "41", "41/42", "42", None],
            "Kaki": ["left", "right", "kiri", "kanan", None],
            "Panjang Insole (cm)": ["27,35", 27.4, 27.0, 27.9, 27.4],
        }
    )
    clean, rejects = sc.validate_frame(df, table="paris-point", name="sheet A")
    assert clean["foot"].astype(str).tolist() == ["L", "R"]
    assert clean["value_mm"].tolist() == [273.5, 274.0]  # decimal comma and cm, as in a file
    assert set(clean["source"].astype(str)) == {"sheet A"}
    assert rejects[["row", "code"]].to_dict("records") == [
        {"row": 4, "code": "unreadable_size"},
        {"row": 5, "code": "missing_producer"},
        {"row": 6, "code": "skipped_summary"},
    ]


def test_left_and_right_feet_give_the_pair_mismatch_on_the_frame_route():
    rng = np.random.default_rng(7)
    n = 24
    sizes = np.repeat([39.0, 40.0, 41.0, 42.0], n // 4)
    base = pd.DataFrame({"producer": "A", "size": np.repeat(sizes, 2),
                         "pair": np.repeat([f"P{i}" for i in range(n)], 2)})  # fmt: skip
    nominal = sc.load_table("paris-point").nominal("insole_length", base["size"].to_numpy())
    base["insole_length"] = np.round(nominal + rng.normal(0, 0.8, len(base)), 1)
    words = base.assign(foot=np.tile(["left", "right"], n))
    letters = base.assign(foot=np.tile(["L", "R"], n))
    a = sc.analyse(words).producer_summary
    b = sc.analyse(letters).producer_summary
    assert np.isfinite(a["pair_mismatch_mm"]).all()
    pd.testing.assert_frame_equal(a, b)


def test_bad_inputs_to_analyse_are_clear_errors(example_frame, tmp_path):
    path = tmp_path / "x.csv"
    example_frame.to_csv(path, index=False)
    with pytest.raises(UsageError, match="not both"):
        sc.analyse([example_frame, path])
    with pytest.raises(UsageError, match="apply to files"):
        sc.analyse(example_frame, sep=";")
    with pytest.raises(UsageError, match="DataFrames"):
        sc.analyse([42])  # type: ignore[list-item]
    with pytest.raises(UsageError, match="one distinct"):
        sc.validate_frame(example_frame, name="")
    with pytest.raises(sc.InputError):
        sc.analyse(example_frame.iloc[0:0])


def test_frames_with_typed_columns_read_like_text():
    # numbers, dates and categories as pandas holds them give what their text gives
    typed = pd.DataFrame(
        {
            "producer": pd.Categorical(["A", "A", "A", "A"]),
            "size": [40, 41, 42, 43],
            "date": pd.to_datetime(["2026-03-01"] * 2 + ["2026-03-12"] * 2),
            "insole_length": [266.8, np.nan, 280.2, 286.5],
        }
    )
    text = typed.astype({"producer": str, "size": str, "insole_length": str})
    text["date"] = ["1/3/2026", "01/03/2026", "12/03/2026", "2026-03-12"]
    text.loc[1, "insole_length"] = ""
    a, rejects_a = sc.validate_frame(typed)
    b, rejects_b = sc.validate_frame(text)
    cols = ["row", "producer", "size", "date", "dimension", "value_mm"]
    pd.testing.assert_frame_equal(_plain(a[cols]), _plain(b[cols]))
    # the blank length is a row without a measurement either way; only the text dates
    # (1/3 and 12/03: every day and month <= 12) leave their order uncertain
    assert rejects_a["code"].tolist() == ["no_measurement"]
    assert rejects_b["code"].tolist() == ["ambiguous_date", "no_measurement"]
    assert a["date"].dt.day.tolist() == [1, 12, 12]


def test_every_public_function_taking_a_table_takes_its_name(frame_and_file):
    by_frame, _ = frame_and_file
    m = by_frame.measurements
    by_name = sc.compare_to_table(m, "paris-point").deviations
    by_table = sc.compare_to_table(m, sc.load_table("paris-point")).deviations
    pd.testing.assert_frame_equal(by_name, by_table)
    with pytest.raises(UsageError, match="validate_frame"):
        sc.compare_to_table(pd.DataFrame({"produsen": ["A"], "ukuran": [41]}), "paris-point")
    # producer_summary: the base size from the table, bookkeeping columns optional
    explicit = sc.producer_summary(by_name, base_size=42.0)
    pd.testing.assert_frame_equal(sc.producer_summary(by_name, table="paris-point"), explicit)
    bare = by_name.drop(columns=["source", "row"])
    pd.testing.assert_frame_equal(sc.producer_summary(bare, table="paris-point"), explicit)
    chart = sc.control_chart(bare)
    assert len(chart.signals) == len(sc.control_chart(by_name).signals)
    assert chart.signals["first_row"].eq(-1).all()
    undated = by_name.drop(columns=["source", "row", "date"])
    assert len(sc.producer_summary(undated, table="paris-point")) == len(explicit)
    with pytest.raises(UsageError, match="base_size"):
        sc.producer_summary(by_name)


def test_welch_anova_effect_sizes_match_the_classical_anova():
    # Independent source: scipy.stats.f_oneway (the classical one-way F) and the
    # identities η² = F·df1 / (F·df1 + df2), ω² = df1 (F − 1) / (df1 (F − 1) + N)
    # (Olejnik & Algina 2003, Table 1), on unequal groups.
    rng = np.random.default_rng(11)
    groups = [rng.normal(mu, sd, n) for mu, sd, n in ((0, 1, 8), (0.8, 2, 15), (1.5, 0.5, 11))]
    data = pd.DataFrame(
        {"x": np.concatenate(groups), "g": np.repeat(["a", "b", "c"], [len(g) for g in groups])}
    )
    got = sc.welch_anova(data, dv="x", between="g").iloc[0]
    f = sps.f_oneway(*groups).statistic
    n_total, k = len(data), 3
    df1, df2 = k - 1, n_total - k
    assert got["eta2"] == pytest.approx(f * df1 / (f * df1 + df2), rel=1e-12)
    assert got["omega2"] == pytest.approx(df1 * (f - 1) / (df1 * (f - 1) + n_total), rel=1e-12)


def test_welch_anova_effect_sizes_match_statsmodels():
    sm = pytest.importorskip("statsmodels.formula.api")
    anova_lm = pytest.importorskip("statsmodels.stats.anova").anova_lm
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"x": rng.normal(0, 1, 40), "g": np.repeat(list("abcd"), 10)})
    data["x"] += data["g"].map({"a": 0, "b": 0.5, "c": 1, "d": 0.2})
    table = anova_lm(sm.ols("x ~ C(g)", data=data).fit())
    ss_b, ss_w = table["sum_sq"].iloc[0], table["sum_sq"].iloc[1]
    ms_w = table["mean_sq"].iloc[1]
    got = sc.welch_anova(data, dv="x", between="g").iloc[0]
    assert got["eta2"] == pytest.approx(ss_b / (ss_b + ss_w), rel=1e-10)
    assert got["omega2"] == pytest.approx((ss_b - 3 * ms_w) / (ss_b + ss_w + ms_w), rel=1e-10)


def test_capability_offers_a_frame():
    c = sc.capability([15.0, 17.0, 16.0, 18.0, 14.0, 16.0], lsl=8, usl=20)
    row = c.to_frame()
    assert len(row) == 1
    assert row.iloc[0].to_dict() == {k: getattr(c, k) for k in row.columns}


def test_frame_rows_point_back_into_the_frame(example_frame):
    _, rejects = sc.validate_frame(example_frame)
    for rec in rejects[rejects["column"] != ""].head(5).itertuples():
        cell = example_frame.iloc[rec.row - 2][rec.column]
        assert str(cell) in rec.value or rec.value in str(cell)


def test_a_path_string_is_one_file_not_characters(tmp_path):
    with pytest.raises(sc.InputError, match=str(Path("nope.csv"))):
        sc.analyse(str(tmp_path / "nope.csv"))


def test_compare_reads_foot_words_in_a_frame_built_by_hand():
    # a measurements frame built by hand, not validated: left/right words must give the
    # same pair statistics as L/R (they gave NaN before), and a non-foot is refused
    rng = np.random.default_rng(3)
    n = 24
    m = pd.DataFrame({"producer": "A", "size": np.repeat([39.0, 40.0, 41.0, 42.0], n // 2),
                      "dimension": "insole_length",
                      "pair": np.repeat([f"P{i}" for i in range(n)], 2)})  # fmt: skip
    nominal = sc.load_table("paris-point").nominal("insole_length", m["size"].to_numpy())
    m["value_mm"] = nominal + rng.normal(0, 0.8, len(m))

    def summary(feet: list[str]) -> pd.DataFrame:
        dev = sc.compare_to_table(m.assign(foot=np.tile(feet, n)), "paris-point").deviations
        return sc.producer_summary(dev, table="paris-point")

    words, letters = summary(["left", "Kanan"]), summary(["L", "R"])
    assert np.isfinite(words["pair_mismatch_mm"]).all()
    pd.testing.assert_frame_equal(words, letters)
    with pytest.raises(UsageError, match="'x'"):
        sc.compare_to_table(m.assign(foot="x"), "paris-point")
