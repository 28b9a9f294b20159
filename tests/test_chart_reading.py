"""Charts read right (issue 12 item 6): one heatmap scale, bands apart in grey print, thin
data drawn sensibly, text big enough, Indonesian charts in Indonesian.

The thin cases come from ``tests/data/thin_producers.csv`` through the real pipeline:
``Satu Sepatu`` one shoe, ``Dua Sepatu`` two shoes on two dates, ``Pasangan Lebar`` one
pair per size, ``Tanpa Tanggal`` no dates, ``Satu Hari`` ten shoes on one date, ``Dua
Pasang`` two pairs per size spread far apart (a 95 % CI from two pairs is ~13 times the
spread, beyond any sensible view).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from PIL import Image

from sizecheck.i18n import catalogue
from sizecheck.pipeline import Analysis, analyse
from sizecheck.plotting import (
    plot_capability,
    plot_control_chart,
    plot_effective_size,
    plot_grading,
    plot_heatmap,
    plot_size_ladder,
)
from sizecheck.plotting.layout import drawn_texts
from sizecheck.plotting.scales import tolerance_in_sizes, tolerance_norm
from sizecheck.plotting.style import MIN_FONT_PT, house_style
from sizecheck.tables import load_table

THIN = Path(__file__).parent / "data" / "thin_producers.csv"
DIM = "insole_length"


@pytest.fixture(scope="module")
def thin() -> Analysis:
    return analyse([THIN])


def _figure(size: tuple[float, float] = (7.0, 4.6)) -> tuple[Figure, Axes]:
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)  # drawn for real: tick labels and extents as in a PNG
    return fig, fig.add_subplot()


def _row(a: Analysis, producer: str, dim: str = DIM) -> pd.Series:
    ps = a.producer_summary
    return ps[(ps["producer"] == producer) & (ps["dimension"] == dim)].iloc[0]


# ---------------------------------------------------------------- heatmap: one scale


def test_heatmaps_share_one_scale_anchored_on_the_tolerance() -> None:
    """Issue 12: "-0.2 size on girth is as dark as -1.3 sizes on length". With the scale
    anchored on the tolerance in sizes, a deviation at the tolerance limit has one
    colour on every dimension, and -0.2 size of girth (tolerance ±0.5 size in the
    paris-point table: ±2.5 mm at 5 mm per size) is far paler than -1.3 sizes of length
    (mis-sized beyond ±3.33 mm = 0.5 size)."""
    table = load_table("paris-point")
    ss = pd.DataFrame(
        {
            "producer": ["A", "B", "A", "B"],
            "dimension": ["last_ball_girth"] * 2 + ["insole_length"] * 2,
            "size": 41.0,
            "effective_size": [41.0 - 0.2, 41.0 + 0.5, 41.0 - 1.3, 41.0 + 1.5 / (20 / 3)],
        }
    )
    colours = {}
    for dim in ("last_ball_girth", "insole_length"):
        _fig, ax = _figure()
        plot_heatmap(ss, dimension=dim, table=table, ax=ax)
        image = ax.get_images()[0]
        for producer, value in zip(
            ("A", "B"), ss.loc[ss["dimension"] == dim, "effective_size"] - 41.0, strict=True
        ):
            colours[(dim, producer)] = np.asarray(image.cmap(image.norm(value)))[:3]
    # the tolerance limit (+0.5 size on girth, +1.5 mm = +0.225 size on length): one colour
    assert np.allclose(colours[("last_ball_girth", "B")], colours[("insole_length", "B")])

    def luma(rgb: np.ndarray) -> float:
        return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])

    assert luma(colours[("last_ball_girth", "A")]) > 0.85  # in spec: pale
    assert luma(colours[("insole_length", "A")]) < 0.45  # mis-sized far beyond: dark


def test_tolerance_in_sizes_reads_the_table() -> None:
    table = load_table("paris-point")
    length = tolerance_in_sizes(table, "insole_length", [38, 41, 44])
    girth = tolerance_in_sizes(table, "last_ball_girth", [38, 41, 44])
    # domain.md proposals: length ±1.5 mm in spec, ±3.33 mm mis-sized, 20/3 mm per size;
    # girth ±2.5 / ±5 mm at 5 mm per size
    assert length.lower == pytest.approx(1.5 / (20 / 3), abs=1e-3)
    assert length.upper_missized == pytest.approx(3.33 / (20 / 3), abs=1e-3)
    assert girth.upper == pytest.approx(0.5, abs=1e-3)
    assert girth.lower_missized == pytest.approx(1.0, abs=1e-3)
    norm = tolerance_norm(length)
    assert norm(0.0) == pytest.approx(0.5)  # white in the middle of the diverging map
    assert norm(-length.lower) < norm(0.0) < norm(length.upper)


# ------------------------------------------------------- ladder bands in grey print


def _grey(fig: Figure) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return np.asarray(Image.open(buf).convert("L"), dtype=float) / 255.0


def test_ladder_bands_differ_in_grayscale(thin: Analysis) -> None:
    """Printed in black and white, in spec, outside tolerance and mis-sized read as three
    clearly different greys (issue 12: in spec and mis-sized were the same grey)."""
    with house_style():
        fig, ax = _figure()
        plot_size_ladder(thin.deviations, producer="Dua Pasang", dimension=DIM, ax=ax)
        fig.canvas.draw()  # type: ignore[no-untyped-call]
        grey = _grey(fig)
    height = grey.shape[0]
    x0 = ax.get_xlim()[0] + 0.05  # left of the first size: no shoe, no mean line

    def patch(y_mm: float) -> float:
        px, py = ax.transData.transform((x0, y_mm))
        row, col = round(height - py), round(px)
        return float(grey[row - 4 : row + 5, col : col + 12].mean())

    # paris-point insole length: in spec ±1.5 mm, outside tolerance to ±3.33, mis-sized beyond
    in_spec, outside, missized = patch(0.7), patch(2.4), patch(5.0)
    assert in_spec - outside > 0.07, (in_spec, outside)
    assert outside - missized > 0.07, (outside, missized)


# ------------------------------------------------------------------------ thin data


def test_one_point_control_chart_spans_days_not_years(thin: Analysis) -> None:
    fig, ax = _figure()
    plot_control_chart(thin.control_points, producer="Satu Sepatu", dimension=DIM, ax=ax)
    fig.canvas.draw()  # type: ignore[no-untyped-call]
    lo, hi = ax.get_xlim()
    assert hi - lo <= 10  # days (matplotlib's own default for one date spans 4 years)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2 Mar"]
    y0, y1 = ax.get_ylim()
    assert y1 - y0 >= 1.0  # not a hundredth of a millimetre
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(set(labels)) == len(labels)  # never every tick "0"


def test_points_on_one_day_have_distinct_value_ticks(thin: Analysis) -> None:
    fig, ax = _figure()
    plot_control_chart(thin.control_points, producer="Satu Hari", dimension=DIM, ax=ax)
    fig.canvas.draw()  # type: ignore[no-untyped-call]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) >= 3 and len(set(labels)) == len(labels), labels


def test_sample_order_ticks_are_whole_numbers(thin: Analysis) -> None:
    fig, ax = _figure()
    plot_control_chart(
        thin.control_points, producer="Tanpa Tanggal", dimension=DIM, lang="id", ax=ax
    )
    fig.canvas.draw()  # type: ignore[no-untyped-call]
    lo, hi = ax.get_xlim()
    shown = [t.get_text() for t, v in zip(ax.get_xticklabels(), ax.get_xticks(), strict=True)
             if lo <= v <= hi]  # fmt: skip
    assert shown and all(s.isdigit() for s in shown), shown  # 1, 2 — never 1,2 or 1,4


def test_two_dates_are_the_ticks(thin: Analysis) -> None:
    fig, ax = _figure()
    plot_control_chart(thin.control_points, producer="Dua Sepatu", dimension=DIM, lang="id", ax=ax)
    fig.canvas.draw()  # type: ignore[no-untyped-call]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2 Mar", "9 Mar"]


def test_ci_beyond_the_view_is_cut_with_a_marker(thin: Analysis) -> None:
    ss = thin.size_summary
    mine = ss[(ss["producer"] == "Dua Pasang") & (ss["dimension"] == DIM)]
    _fig, ax = _figure()
    plot_size_ladder(thin.deviations, producer="Dua Pasang", dimension=DIM, size_summary=ss, ax=ax)
    y0, y1 = ax.get_ylim()
    beyond = (mine["bias_ci_low_mm"] < y0) | (mine["bias_ci_high_mm"] > y1)
    assert beyond.any()  # the fixture does what it is for
    # the view is set by the shoes and the bands, not by the CI
    dev = thin.deviations.query("producer == 'Dua Pasang' and dimension == @DIM")
    assert y1 - y0 < 3 * (dev["deviation_mm"].max() - dev["deviation_mm"].min() + 6.66)
    marks = [c for c in ax.collections if isinstance(c, PathCollection)
             and "beyond" in str(c.get_label())]  # fmt: skip
    n_marks = sum(len(c.get_offsets()) for c in marks)
    cut = int((mine["bias_ci_low_mm"] < y0).sum() + (mine["bias_ci_high_mm"] > y1).sum())
    assert n_marks == cut
    for line in ax.lines:  # nothing drawn (the CI bars) leaves the view
        ys = np.asarray(line.get_ydata(), dtype=float)
        assert np.all((ys[np.isfinite(ys)] >= y0) & (ys[np.isfinite(ys)] <= y1))
    for coll in ax.collections:
        if type(coll).__name__ == "LineCollection":
            for seg in coll.get_segments():
                assert np.all((seg[:, 1] >= y0) & (seg[:, 1] <= y1))


def _info_box(ax: Axes) -> Legend:
    boxes = [a for a in ax.get_children() if isinstance(a, Legend) and a is not ax.get_legend()]
    assert len(boxes) == 1
    return boxes[0]


@pytest.mark.parametrize("producer", ["Satu Hari", "Dua Pasang"])
def test_capability_box_covers_no_bar(thin: Analysis, producer: str) -> None:
    with house_style():
        fig, ax = _figure((7.0, 4.2))
        plot_capability(thin.deviations, producer=producer, dimension=DIM,
                        summary_row=_row(thin, producer), ax=ax)  # fmt: skip
        fig.canvas.draw()  # type: ignore[no-untyped-call]
        rend = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        box = _info_box(ax).get_window_extent(rend)
        for bar in ax.patches:
            b = bar.get_window_extent(rend)
            overlap_x = min(box.x1, b.x1) - max(box.x0, b.x0)
            overlap_y = min(box.y1, b.y1) - max(box.y0, b.y0)
            assert overlap_x <= 0.5 or overlap_y <= 0.5, producer


def test_no_normal_curve_where_the_data_are_insufficient(thin: Analysis) -> None:
    row = _row(thin, "Pasangan Lebar")
    assert row["verdict"] == "insufficient_data"
    _fig, ax = _figure()
    plot_capability(thin.deviations, producer="Pasangan Lebar", dimension=DIM,
                    summary_row=row, ax=ax)  # fmt: skip
    assert not any("normal" in str(ln.get_label()) for ln in ax.lines)
    texts = [t.get_text() for t in _info_box(ax).get_texts()]
    assert texts == ["n = 6"]  # no mean, SD or Cpk from six shoes


def test_capability_counts_are_whole_numbers(thin: Analysis) -> None:
    fig, ax = _figure()
    plot_capability(thin.deviations, producer="Satu Hari", dimension=DIM,
                    summary_row=_row(thin, "Satu Hari"), lang="id", ax=ax)  # fmt: skip
    fig.canvas.draw()  # type: ignore[no-untyped-call]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels and all(s.isdigit() for s in labels), labels


# ------------------------------------------------------- text size and language


def _every_chart(a: Analysis, lang: str) -> dict[str, Figure]:
    """Every chart kind of one producer and of the cluster, at the sizes write_visuals
    uses."""
    p, ss = "Satu Hari", a.size_summary
    row = _row(a, p)
    kinds: dict[str, tuple[Any, tuple[float, float], dict[str, Any]]] = {
        "ladder": (plot_size_ladder, (7.0, 4.6), {"deviations": a.deviations,
                                                  "size_summary": ss, "producer": p}),
        "control": (plot_control_chart, (7.0, 4.4), {"control_points": a.control_points,
                                                     "signals": a.signals, "producer": p}),
        "capability": (plot_capability, (7.0, 4.2), {"deviations": a.deviations,
                                                     "summary_row": row, "producer": p}),
        "effective": (plot_effective_size, (6.0, 4.6), {"size_summary": ss, "producer": p}),
        "heatmap": (plot_heatmap, (8.0, 4.0), {"size_summary": ss, "table": a.table}),
        "grading": (plot_grading, (7.0, 5.0), {"size_summary": ss}),
    }  # fmt: skip
    figs = {}
    for name, (plot, size, kw) in kinds.items():
        fig, ax = _figure(size)
        plot(ax=ax, dimension=DIM, lang=lang, **kw)
        figs[name] = fig
    return figs


@pytest.mark.parametrize("lang", ["en", "id"])
def test_chart_text_is_at_least_9_points(thin: Analysis, lang: str) -> None:
    with house_style():
        for name, fig in _every_chart(thin, lang).items():
            small = [(t.get_text(), t.get_fontsize()) for t, _ in drawn_texts(fig)
                     if t.get_fontsize() < MIN_FONT_PT]  # fmt: skip
            assert small == [], name


def test_indonesian_charts_speak_indonesian(thin: Analysis) -> None:
    """No sentence of the English catalogue's chart words in an Indonesian chart, and
    numbers with decimal commas."""
    en, id_ = catalogue("en"), catalogue("id")
    english = {v for k, v in en.items()
               if k.split(".")[0] in ("axis", "legend", "chart", "status", "dimension")
               and v != id_.get(k) and len(v) > 3}  # fmt: skip
    with house_style():
        for name, fig in _every_chart(thin, "id").items():
            for txt, _ in drawn_texts(fig):
                text = txt.get_text()
                assert not any(e in text for e in english if "{" not in e), (name, text)
                for word in text.replace("\n", " ").split():
                    core = word.strip("()%+−-")
                    if core.replace(".", "").replace(",", "").isdigit():
                        assert "." not in core, (name, text)  # 0,5 — never 0.5
