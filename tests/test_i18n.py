"""Message catalogues and number formatting (sizecheck.i18n)."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from sizecheck.errors import UsageError
from sizecheck.i18n import (
    LANGS,
    catalogue,
    default_lang,
    format_date,
    format_number,
    format_percent,
    t,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "sizecheck"

#: Key families built at run time (f"verdict.{flag}"), so their members never appear
#: literally in the source.
DYNAMIC_PREFIXES = (
    "lang.",
    "error.unit.",  # f"error.unit.{what}" (readers.ReadLimits.check_sheet)
    "error.size.",  # f"error.size.{what}" (readers.ReadLimits.check_bytes)
    "error.header.need_",  # f"error.header.need_{what}" (readers._missing_columns)
    "error.role.",  # f"error.role.{canonical}" (validate._two_columns)
    "size_system.",  # f"size_system.{table.size_system}" (tables.describe)
    "rule.",  # f"rule.{code}": control-chart rules in words
    "reject.",  # f"reject.{key}": reject messages (validate._msg, reject_message)
    "table.min",  # f"table.{tolerance.type}"
    "table.max",
    "verdict.",
    "verdict_help.",
    "status.",
    "table_status.",
    "dimension.",
    "accounting.",
    "finding.size.",
    "action.fix.",  # action.fix.{length,wide}_{plus,minus}
    "action.fix_all.",
    "finding.direction.",
    "finding.amount.",
    "action.offset.",
    "workbook.col.",  # the workbook's headers, by column name
    "workbook.sheet.",
    "workbook.tolerance.",
    "validate.code.",  # f"validate.code.{code}": a reject code named by 'sizecheck validate'
)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys() -> None:
    en, id_ = set(catalogue("en")), set(catalogue("id"))
    assert en - id_ == set(), "keys missing in id.toml"
    assert id_ - en == set(), "keys missing in en.toml"


@pytest.mark.parametrize("lang", LANGS)
def test_no_empty_messages(lang: str) -> None:
    assert [k for k, v in catalogue(lang).items() if not v.strip()] == []


def test_placeholders_agree_between_languages() -> None:
    en, id_ = catalogue("en"), catalogue("id")
    wrong = {k: (_placeholders(en[k]), _placeholders(id_[k])) for k in en}
    assert {k: v for k, v in wrong.items() if v[0] != v[1]} == {}


def test_every_key_is_used() -> None:
    text = "\n".join(
        p.read_text("utf-8")
        for p in [*SRC.rglob("*.py"), *SRC.rglob("*.j2")]
        if "locales" not in p.parts
    )
    unused = [
        k
        for k in catalogue("en")
        if not k.startswith(DYNAMIC_PREFIXES) and not re.search(rf"['\"]{re.escape(k)}['\"]", text)
    ]
    assert unused == []


def test_required_verdict_and_status_words() -> None:
    for lang in LANGS:
        cat = catalogue(lang)
        for v in ("conforming", "offset", "grading", "scatter", "drift", "insufficient_data"):
            assert f"verdict.{v}" in cat
            assert f"verdict_help.{v}" in cat
        for s in ("in_spec", "drifting", "missized", "below_min", "above_max", "no_reference"):
            assert f"status.{s}" in cat


def test_indonesian_never_calls_a_table_tabel_acuan() -> None:
    # "acuan" is the shoe last; a reference table is "tabel rujukan".
    assert not any("tabel acuan" in v.lower() for v in catalogue("id").values())
    assert "tabel rujukan" in t("report.reference", "id").lower()


def test_t_fills_placeholders_and_rejects_unknown_language() -> None:
    assert t("report.n_producers", "en", n=3) == "3 producers"
    assert t("report.n_producers", "ID", n=3) == "3 produsen"
    with pytest.raises(UsageError):
        t("verdict.offset", "fr")
    with pytest.raises(KeyError):
        t("no.such.key", "en")


@pytest.mark.parametrize(
    ("x", "lang", "digits", "kw", "expected"),
    [
        (4.125, "en", 1, {}, "4.1"),
        (4.125, "id", 1, {}, "4,1"),
        (4.1, "id", 1, {"signed": True}, "+4,1"),
        (-4.1, "en", 1, {"signed": True}, "−4.1"),
        (-0.04, "en", 1, {"signed": True}, "0.0"),
        (12345.5, "id", 1, {"grouping": True}, "12.345,5"),
        (12345.5, "en", 1, {"grouping": True}, "12,345.5"),
        (float("nan"), "id", 1, {}, "–"),
        (None, "en", 2, {}, "–"),
        (float("inf"), "en", 2, {}, "–"),
    ],
)
def test_format_number(x: float, lang: str, digits: int, kw: dict, expected: str) -> None:
    assert format_number(x, lang, digits, **kw) == expected


def test_format_date() -> None:
    # CLDR medium dates (Unicode CLDR, via Babel): month in words, day first in Indonesian
    assert format_date("2026-05-01", "en") == "May 1, 2026"
    assert format_date("2026-05-01", "id") == "1 Mei 2026"
    assert format_date("2026-08-17", "id") == "17 Agu 2026"
    assert format_date(None, "id") == "–"
    assert format_date(float("nan"), "id") == "–"


@pytest.mark.parametrize(
    ("share", "lang", "digits", "expected"),
    [
        (0.953, "id", 0, "95%"),  # Indonesian writes 95% without a space (CLDR id percent)
        (0.953, "en", 0, "95%"),
        (0.025, "id", 1, "2,5%"),
        (0.025, "en", 1, "2.5%"),
        (12.5, "id", 0, "1.250%"),
        (float("nan"), "id", 0, "–"),
    ],
)
def test_format_percent(share: float, lang: str, digits: int, expected: str) -> None:
    assert format_percent(share, lang, digits) == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "id_ID.UTF-8"}, "id"),
        ({"LANG": "in_ID"}, "id"),
        ({"LC_ALL": "id_ID.UTF-8", "LANG": "en_US.UTF-8"}, "id"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
    ],
)
def test_default_lang(monkeypatch: pytest.MonkeyPatch, env: dict, expected: str) -> None:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert default_lang() == expected
