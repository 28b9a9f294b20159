"""report.html: self-contained, escaped, valid, and it opens in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _visual_factory import HOSTILE_NAMES, make_analysis

from sizecheck.report import CHART_DPI
from sizecheck.report_html import MAX_REJECTS, chart_key, render_html

VOID = {"meta", "img", "br", "hr", "link", "input", "source", "wbr", "col", "area", "base"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# a 1×1 white PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7d6a4a40000000049454e44ae426082"
)


class _Checker(HTMLParser):
    """Tracks element nesting: every non-void element closed, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.ids += [v or "" for k, v in attrs if k == "id"]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>, open: {self.stack[-3:]}")
        else:
            self.stack.pop()


def _check(html: str) -> _Checker:
    c = _Checker()
    c.feed(html)
    c.close()
    assert c.errors == []
    assert c.stack == []
    assert len(c.ids) == len(set(c.ids)), "duplicate ids"
    return c


@pytest.fixture(scope="module")
def hostile():  # type: ignore[no-untyped-def]
    return make_analysis(HOSTILE_NAMES)


def test_page_is_self_contained_and_valid(hostile) -> None:  # type: ignore[no-untyped-def]
    images = {chart_key("ladder", "insole_length", p): PNG for p in hostile.producers}
    html = render_html(hostile, lang="en", images=images)
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport"' in html
    c = _check(html)
    assert c.tags.count("script") == 1  # one small inline script, nothing loaded
    assert "<script src" not in html and "fetch(" not in html and "XMLHttpRequest" not in html
    assert "link" not in c.tags  # no external CSS
    assert 'src="http' not in html and "url(" not in html
    assert html.count('src="data:image/png;base64,') == len(hostile.producers)  # PNG in, PNG out


def test_hostile_names_are_escaped(hostile) -> None:  # type: ignore[no-untyped-def]
    html = render_html(hostile, lang="en")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;quoted&#34;" in html or "&quot;quoted&quot;" in html
    assert "<b>rusak</b>" not in html  # reject values escaped too
    for i in range(1, len(hostile.producers) + 1):
        assert f'id="p{i}"' in html  # anchors never built from names


def test_summary_verdicts_findings_and_provenance() -> None:
    a = make_analysis()
    html = render_html(a, lang="en")
    assert "SYNTHETIC DATA" in html
    for p in a.producers:
        assert p in html
    assert "offset" in html and "grading error" in html and "too few measurements" in html
    assert "on average +4." in html  # CV Panjang's finding, in words
    assert "more than half a size long" in html
    assert "paris-point" in html
    assert "not an SNI standard" in html  # the table is "derived"
    assert "rows read" in html


def test_indonesian_page_uses_decimal_commas() -> None:
    html = render_html(make_analysis(), lang="id")
    assert 'lang="id"' in html
    assert "Laporan" in html and "tabel rujukan" in html.lower()
    assert "rata-rata +4," in html
    assert "DATA SINTETIS" in html


def test_no_banner_for_real_data() -> None:
    html = render_html(make_analysis(synthetic=False), lang="en")
    assert "SYNTHETIC" not in html


def test_rejects_are_capped_with_a_note() -> None:
    a = make_analysis(("A",), ("conforming",), n_rejects=MAX_REJECTS + 20)
    html = render_html(a, lang="en")
    assert f"first {MAX_REJECTS} of {MAX_REJECTS + 20}" in html
    assert html.count("&lt;b&gt;rusak&lt;/b&gt;") == MAX_REJECTS


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_report_opens_in_headless_chromium(tmp_path: Path) -> None:
    import numpy as np
    from matplotlib.image import imread

    from sizecheck.report import write_visuals

    a = make_analysis(("UD Rata", "CV Panjang", "<script>alert(1)</script>"))
    write_visuals(a, tmp_path / "out", lang="id", dpi=40, jobs=1)
    page = (tmp_path / "out" / "report.html").as_uri()
    shot = tmp_path / "shot.png"
    base = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    dom = subprocess.run(
        [*base, "--enable-logging=stderr", "--v=0", "--dump-dom", page],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert 'id="p1"' in dom.stdout and 'id="p3"' in dom.stdout
    assert "&lt;script&gt;" in dom.stdout
    console = [ln for ln in dom.stderr.splitlines() if ":CONSOLE(" in ln]
    assert console == []
    subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1200,2000", page],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    pixels = imread(str(shot))
    assert pixels.shape[0] >= 1000
    assert float(np.var(pixels[..., :3])) > 0.001  # not blank


# The report is loaded into a 390 px wide iframe (headless Chromium will not make its
# window narrower than 500 px, so --window-size=390 would measure a 500 px page and crop
# the screenshot); a script in the wrapper page, not in the report, measures the iframe's
# layout and writes the result into the DOM, which --dump-dom prints.
_PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="f" style="width:390px;height:900px;border:0" srcdoc="{srcdoc}"></iframe>
<script>
document.getElementById("f").addEventListener("load", (ev) => {{
  const doc = ev.target.contentDocument;
  const vw = doc.documentElement.clientWidth;
  const bad = [];
  for (const el of doc.body.querySelectorAll("*")) {{
    if (el.closest(".scroll")) continue;  // may scroll sideways inside its own box
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 1 || r.left < -1)) {{
      bad.push(el.tagName + "." + el.className + ":" + Math.round(r.left)
               + "-" + Math.round(r.right));
    }}
  }}
  for (const box of doc.querySelectorAll(".scroll")) {{
    if (box.getBoundingClientRect().right > vw + 1) bad.push("scroll box wider than viewport");
  }}
  for (const dd of doc.querySelectorAll("dl dd")) {{  // no squeezed one-word columns
    if (dd.getBoundingClientRect().width < 0.6 * vw)
      bad.push("narrow dd: " + dd.textContent.slice(0, 30));
  }}
  for (const td of doc.querySelectorAll("#accounting table.stack td")) {{  // no letter-by-letter
    if (td.textContent.trim() && td.getBoundingClientRect().width < 0.5 * vw)
      bad.push("squeezed reject cell: " + td.textContent.slice(0, 30));
  }}
  const summary = doc.querySelector("#summary .scroll");  // needs no sideways scroll
  if (summary && summary.scrollWidth > summary.clientWidth + 1)
    bad.push("summary table scrolls sideways");
  const out = document.createElement("pre");
  out.id = "layout-result";
  out.textContent = JSON.stringify({{
    viewport: vw, scrollWidth: doc.documentElement.scrollWidth, bad: bad.slice(0, 20),
  }});
  document.body.appendChild(out);
}});
</script></body></html>"""


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
@pytest.mark.parametrize("lang", ["en", "id"])
def test_report_fits_a_phone_screen(tmp_path: Path, lang: str) -> None:
    """At 390 CSS px nothing sticks out sideways (wide tables scroll inside their box)."""
    import json
    import re
    from html import escape

    from sizecheck.report import write_visuals

    a = make_analysis(("UD Rata", "CV Panjang", "UD Gradasi", "Koperasi Pengrajin Sepatu Kulit"))
    write_visuals(a, tmp_path / "out", lang=lang, dpi=40, jobs=1)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(_PROBE.format(srcdoc=escape(html, quote=True)), encoding="utf-8")
    dom = subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
            "--window-size=800,1000", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    found = re.search(r'<pre id="layout-result">(.*?)</pre>', dom.stdout, re.S)
    assert found, "the measuring script did not run"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert 360 <= result["viewport"] <= 390
    assert result["bad"] == []
    assert result["scrollWidth"] <= result["viewport"]


@pytest.mark.slow
def test_example_report_travels(tmp_path: Path) -> None:
    """Issue 14.3: the bundled example's report.html (9 producers, charts at the default
    resolution) stays under 2 MB, small enough for WhatsApp or e-mail."""
    import sizecheck as sc
    from sizecheck.report import write_visuals

    a = sc.analyse([sc.example_path()], table="paris-point", synthetic=True)
    write_visuals(a, tmp_path, lang="id")
    size = (tmp_path / "report.html").stat().st_size
    assert size <= 2_000_000, f"report.html is {size / 1e6:.2f} MB"
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("data:image/webp") >= 30


# At desktop width: the report in a 1280 px iframe; a script in the wrapper page (not in
# the report) measures the charts, clicks one, sorts and filters the producer table, and
# writes what it found into the DOM for --dump-dom.
_DESKTOP_PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="f" style="width:1280px;height:1400px;border:0" srcdoc="{srcdoc}"></iframe>
<script>
document.getElementById("f").addEventListener("load", (ev) => {{
  const doc = ev.target.contentDocument;
  const win = ev.target.contentWindow;
  const bad = [];
  let charts = 0;
  for (const box of doc.querySelectorAll(".charts")) {{
    const tops = [...box.querySelectorAll("figure")].map((f) => f.getBoundingClientRect().top);
    if (new Set(tops.map(Math.round)).size !== tops.length) bad.push("two charts in a row");
  }}
  let leastPxPerInch = 1e9;
  for (const img of doc.querySelectorAll(".charts img")) {{
    charts += 1;
    const inches = img.naturalWidth / {dpi};
    leastPxPerInch = Math.min(leastPxPerInch, img.getBoundingClientRect().width / inches);
  }}
  const first = doc.querySelector(".charts img");
  const before = first.getBoundingClientRect().width;
  first.click();
  const big = doc.querySelector(".zoom img");
  const zoomed = big ? big.getBoundingClientRect().width : 0;
  doc.dispatchEvent(new win.KeyboardEvent("keydown", {{ key: "Escape" }}));
  const closed = doc.querySelector(".zoom") === null;
  const table = doc.getElementById("producer-table");
  const n = () => [...table.tBodies[0].rows].map((r) => Number(r.cells[1].dataset.sort));
  const button = table.tHead.rows[0].cells[1].querySelector("button");
  button.click();
  const up = n();
  button.click();
  const down = n();
  const input = doc.querySelector(".filter input");
  const name = table.tBodies[0].rows[2].cells[0].textContent.trim();
  input.value = name;
  input.dispatchEvent(new win.Event("input"));
  const shown = [...table.tBodies[0].rows].filter((r) => !r.hidden).length;
  const out = document.createElement("pre");
  out.id = "layout-result";
  out.textContent = JSON.stringify({{
    bad, charts, leastPxPerInch, before, zoomed, closed, up, down, shown,
    viewport: doc.documentElement.clientWidth,
  }});
  document.body.appendChild(out);
}});
</script></body></html>"""

_CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip

#: The charts of the layout tests are drawn at the resolution measure uses.
LAYOUT_DPI = CHART_DPI


@pytest.fixture(scope="module")
def drawn_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """report.html of five producers in Indonesian (the longer texts), charts at the
    default resolution, and the number of producers."""
    from sizecheck.report import write_visuals

    out = tmp_path_factory.mktemp("layout")
    a = make_analysis()
    write_visuals(a, out, lang="id", dpi=LAYOUT_DPI, jobs=1)
    return out / "report.html", len(a.producers)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_report_at_desktop_width(drawn_report: tuple[Path, int], tmp_path: Path) -> None:
    """Issue 12.5 at 1280 px: charts one to a row, shown at least at their own size (a
    9 pt label shows >= 9 pt: >= 96 CSS px per figure inch), a click opens a chart larger
    and Esc closes it; the producer table sorts by a column and filters by text."""
    import json
    import re
    from html import escape

    html = drawn_report[0].read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(
        _DESKTOP_PROBE.format(srcdoc=escape(html, quote=True), dpi=LAYOUT_DPI), encoding="utf-8"
    )
    dom = subprocess.run(
        [str(CHROMIUM), *_CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--hide-scrollbars", "--window-size=1300,1400", "--virtual-time-budget=5000",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    found = re.search(r'<pre id="layout-result">(.*?)</pre>', dom.stdout, re.S)
    assert found, "the measuring script did not run"
    r = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert r["viewport"] >= 1200
    assert r["charts"] >= 10 and r["bad"] == []
    assert r["leastPxPerInch"] >= 96
    assert r["zoomed"] > 1.2 * r["before"] and r["closed"]
    assert r["up"] == sorted(r["up"]) and r["down"] == sorted(r["down"], reverse=True)
    assert r["shown"] == 1


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
@pytest.mark.skipif(shutil.which("pdfimages") is None, reason="poppler-utils not installed")
def test_report_prints_on_a4(drawn_report: tuple[Path, int], tmp_path: Path) -> None:
    """Issue 12.5: printed (Chromium's print to PDF), the report is A4, at most producers
    + 3 pages, each producer starts a page, and no page holds only a heading."""
    page, n_producers = drawn_report
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        [str(CHROMIUM), *_CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
        capture_output=True, timeout=180, check=True,
    )  # fmt: skip
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info.stdout, re.M)
    assert size is not None
    assert abs(float(size.group(1)) - 595) < 2 and abs(float(size.group(2)) - 842) < 2  # A4
    assert pages <= n_producers + 3
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout.split("\f")  # fmt: skip
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]  # fmt: skip
    with_images = {int(row.split()[0]) for row in images if row.strip()}
    firsts = []
    for i, page_text in enumerate(text[:pages], start=1):
        lines = [ln.strip() for ln in page_text.splitlines() if ln.strip()]
        assert len(lines) > 3 or (lines and i in with_images), f"page {i} holds only {lines}"
        firsts.append(lines[0])
    html = page.read_text(encoding="utf-8")
    names = re.findall(r'<article id="p\d+">\n<h2>(.*?)</h2>', html)
    assert len(names) == n_producers
    for name in names:
        assert name in firsts, f"{name} does not start a page"
