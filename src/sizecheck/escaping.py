"""Text from the data made safe where a person opens it: spreadsheets, page, terminal, card.

Producer names, sample ids and cell values come from files sizecheck does not control.
Two kinds of text can do harm when shown as they are:

- **Formulas** (OWASP "CSV injection"): a spreadsheet opening a CSV runs a cell that starts
  with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or carriage return) as a formula:
  ``=HYPERLINK("http://evil", "click")``, ``+cmd|' /C calc'!A0``. :func:`formula_safe`
  puts an apostrophe before such text, as OWASP recommends, so that it is shown, not run.
  A text that is a plain number (``-5``, ``+3,5``) is left alone: a spreadsheet reads it as
  that number and nothing runs.
- **Bidirectional controls** (U+202A–U+202E, U+2066–U+2069; "Trojan Source",
  CVE-2021-42574) reorder the text around them: ``"UD \u202eayaJ"`` shows as "UD Jaya".
  Other control characters (an escape ``\x1b[31m`` colours a terminal) do their own
  mischief. :func:`visible_controls` shows each as ``[U+202E]``, so the name reads as
  what the data holds.

See https://owasp.org/www-community/attacks/CSV_Injection and
https://trojansource.codes/.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "BIDI_CONTROLS",
    "FORMULA_STARTS",
    "formula_safe",
    "page_environment",
    "visible_controls",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: The bidirectional embedding, override and isolate characters.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

#: A plain number, as a spreadsheet reads one: sign, digits, one decimal mark, exponent.
NUMBER_PATTERN = r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER = re.compile(NUMBER_PATTERN)


def formula_safe(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it.

    An apostrophe is put before a text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return (OWASP's list), unless the text is a plain number. Use it for every
    text cell of a CSV or workbook whose content comes from the data; numbers are not
    text cells and stay numbers.

    Examples
    --------
    >>> formula_safe('=HYPERLINK("http://x","y")')
    '\\'=HYPERLINK("http://x","y")'
    >>> formula_safe("@SUM(A1)"), formula_safe("+cmd|' /C calc'!A0")[:2]
    ("'@SUM(A1)", "'+")
    >>> formula_safe("-5"), formula_safe("+3,5"), formula_safe("UD Maju-Jaya")
    ('-5', '+3,5', 'UD Maju-Jaya')
    >>> formula_safe("-2+3")
    "'-2+3"
    """
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


#: Each control character shown, by code point: the bidi controls, C0, DEL and C1.
_SHOWN = {c: f"[U+{c:04X}]" for c in [*map(ord, BIDI_CONTROLS), *range(0x20), *range(0x7F, 0xA0)]}


def visible_controls(text: str, *, keep: str = "") -> str:
    """``text`` with each bidirectional control and other control character shown as
    ``[U+XXXX]``, except the characters in ``keep``.

    For names in the terminal and on cards use it as is (a tab or line break in a
    producer name is shown too); report.html keeps ``"\\t\\n\\r"``.

    Examples
    --------
    >>> visible_controls("UD \u202eayaJ")
    'UD [U+202E]ayaJ'
    >>> visible_controls("CV \x1b[31mMerah")
    'CV [U+001B][31mMerah'
    >>> visible_controls("baris\\nbaru", keep="\\n")
    'baris\\nbaru'
    """
    kept = {ord(c): c for c in keep}  # mapped to themselves; the rest as in _SHOWN
    return text.translate(_SHOWN | kept if kept else _SHOWN)


def _shown_on_page(value: Any) -> Any:
    """Every value a page prints, with bidi overrides and control characters shown as
    ``[U+202E]``: a producer, sheet or column name cannot reorder the text around it.
    Tabs and line breaks stay; HTML escaping follows."""
    from markupsafe import Markup

    if isinstance(value, Markup):  # already HTML: the replacements hold no markup
        return Markup(visible_controls(str(value), keep="\t\n\r"))
    if isinstance(value, str):
        return visible_controls(value, keep="\t\n\r")
    return value


def page_environment() -> jinja2.Environment:
    """The Jinja2 environment of every HTML page sizecheck writes (report, gage,
    proposal): autoescaped, strict about undefined names, and every printed value passed
    through :func:`visible_controls`."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("sizecheck", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown_on_page,
    )
