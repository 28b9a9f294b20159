"""write_visuals draws what the report shows, each chart names its table, workers get
their own producer's rows (issue 14 item 2, issue 12 item 6)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
from _visual_factory import make_analysis

from sizecheck import findings
from sizecheck.plotting import plot_size_ladder
from sizecheck.plotting.layout import chart_figure, drawn_texts
from sizecheck.plotting.style import house_style
from sizecheck.report import (
    CLUSTER_LINES_UP_TO,
    _ProducerRows,
    chart_footer,
    cluster_charts,
    producer_charts,
    write_visuals,
)


def test_every_chart_drawn_is_in_the_report_and_nothing_else(tmp_path: Path) -> None:
    """ "Draw nothing nobody reads": each PNG under charts/ is embedded in report.html
    once (as a lossless WebP of the same pixels), and the report embeds no chart that
    charts/ lacks."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    a = make_analysis(dimensions=("insole_length", "last_ball_girth"))
    paths = write_visuals(a, tmp_path, lang="en", jobs=1, dpi=30)
    pngs = sorted(p for p in paths if p.suffix == ".png")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    embedded = re.findall(r'src="data:image/(\w+);base64,([^"]+)"', html)
    assert {kind for kind, _ in embedded} == {"webp"}
    assert len(embedded) == len(pngs)

    def pixels(data: bytes) -> bytes:
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).tobytes()

    in_report = sorted(pixels(base64.b64decode(b64)) for _, b64 in embedded)
    assert in_report == sorted(pixels(p.read_bytes()) for p in pngs)


def test_charts_are_small_palette_pngs(tmp_path: Path) -> None:
    """Issue 14.3: charts are 8-bit palette PNGs (a few flat colours), not 32-bit RGBA."""
    from PIL import Image

    a = make_analysis(dimensions=("insole_length",))
    paths = write_visuals(a, tmp_path, lang="en", jobs=1, dpi=60)
    for p in (p for p in paths if p.suffix == ".png"):
        with Image.open(p) as im:
            assert im.mode == "P", p


def test_charts_planned_by_verdict() -> None:
    ps = pd.DataFrame(
        {
            "producer": "P",
            "dimension": ["insole_length", "last_length", "last_ball_girth", "last_waist_girth"],
            "n": [40, 40, 3, 40],
            "verdict": ["offset", "scatter", "insufficient_data", "conforming"],
            "drift_signals": [0, 0, 0, 2],
        }
    )
    dims = tuple(
        findings.dimension_finding(row, table_step_mm=20 / 3)
        for row in ps.assign(model="").to_dict(orient="records")
    )
    finding = findings.Finding("P", findings.headline(dims), dims, (), ())
    planned = producer_charts(finding)
    assert ("ladder", "insole_length") in planned
    assert ("effective", "insole_length") in planned  # the main (length) dimension
    assert ("control", "insole_length") not in planned  # no rule fired: nothing to show
    assert ("capability", "insole_length") not in planned  # scatter not the problem
    assert ("capability", "last_length") in planned
    assert ("ladder", "last_ball_girth") not in planned  # 3 shoes: nothing to judge
    assert ("control", "last_waist_girth") in planned  # two signals, though conforming
    assert [k for k, d in planned if d == "last_waist_girth"] == ["ladder", "control"]


def test_cluster_line_charts_only_while_the_lines_can_be_told_apart() -> None:
    few = make_analysis(tuple(f"P{i}" for i in range(3)), dimensions=("insole_length",))
    many = make_analysis(
        tuple(f"P{i}" for i in range(CLUSTER_LINES_UP_TO + 1)), dimensions=("insole_length",)
    )
    # the forest plot of the producers' offsets wherever the cluster summary has the
    # dimension (three producers or more): it stays readable at any number
    assert sorted(k for k, _ in cluster_charts(few)) == [
        "effective",
        "forest",
        "grading",
        "heatmap",
    ]
    assert [k for k, _ in cluster_charts(many)] == ["heatmap", "forest"]


def test_a_worker_gets_only_its_producers_rows() -> None:
    a = make_analysis()
    rows = _ProducerRows(a)
    for producer in a.producers:
        part = rows.part(producer)
        for name in ("deviations", "producer_summary", "control_points", "signals"):
            mine = getattr(a, name)
            mine = mine[mine["producer"].astype("str") == producer]
            pd.testing.assert_frame_equal(getattr(part, name), mine)
        pd.testing.assert_frame_equal(part.size_summary, a.size_summary)  # others in grey
        assert part.measurements.empty and part.rejects.empty
    assert rows.part("nobody").deviations.empty


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "Reference table: paris-point, derived"),
        ("id", "Tabel rujukan: paris-point, turunan"),
    ],
)
def test_every_chart_names_its_table_and_status(lang: str, words: str) -> None:
    a = make_analysis()
    footer = chart_footer(a, lang)
    assert footer.startswith(words)
    with house_style():
        fig = chart_figure(plot_size_ladder, (7.0, 4.6), dpi=60, footer=footer,
                           deviations=a.deviations, producer="UD Rata",
                           dimension="insole_length", lang=lang)  # fmt: skip
    texts = [t.get_text().replace("\n", " ") for t, _ in drawn_texts(fig)]
    assert footer in texts


def test_progress_counts_producers(tmp_path: Path) -> None:
    a = make_analysis(("A", "B", "C"), dimensions=("insole_length",))
    calls: list[tuple[int, int]] = []
    write_visuals(a, tmp_path, jobs=1, dpi=30, progress=lambda d, n: calls.append((d, n)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_ladder_shows_the_current_period_after_a_change() -> None:
    """After a detected change the ladder draws the means since then, as the finding's
    corrections give them (deviation now = -correction, findings.SizeCorrection), and
    names the date in the legend; without a change it draws nothing more."""
    import numpy as np
    from matplotlib.figure import Figure

    from sizecheck.i18n import format_date, t

    a = make_analysis(("CV Geser", "UD Rata"), kinds=("drift", "conforming"))
    changed = next(d for d in a.findings["CV Geser"].dimensions if d.change is not None)
    label = t("legend.current_mean", "en", date=format_date(changed.change.date, "en"))
    with house_style():
        ax = Figure().add_subplot()
        plot_size_ladder(a.deviations, producer="CV Geser", dimension=changed.dimension,
                         size_summary=a.size_summary, current=changed, ax=ax)  # fmt: skip
    lines = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert len(lines) == 1
    expected = sorted((c.size, -c.correction_mm) for c in changed.corrections)
    assert np.allclose(lines[0].get_xdata(), [x for x, _ in expected])
    assert np.allclose(lines[0].get_ydata(), [y for _, y in expected])
    legend = [" ".join(txt.get_text().split()) for txt in ax.get_legend().get_texts()]
    assert label in legend  # (legend_below wraps long labels)

    steady = a.findings["UD Rata"].dimensions[0]
    assert steady.change is None
    with house_style():
        ax = Figure().add_subplot()
        plot_size_ladder(a.deviations, producer="UD Rata", dimension=steady.dimension,
                         size_summary=a.size_summary, current=steady, ax=ax)  # fmt: skip
    assert not [ln for ln in ax.get_lines() if "since" in str(ln.get_label())]
