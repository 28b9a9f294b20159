"""Charts: each returns the Axes it was given, with the expected artists and labels."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from _visual_factory import make_analysis
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.legend import Legend

from sizecheck.errors import MissingColumnsError
from sizecheck.plotting import (
    plot_capability,
    plot_control_chart,
    plot_effective_size,
    plot_grading,
    plot_heatmap,
    plot_size_ladder,
)

DIM = "insole_length"


@pytest.fixture(scope="module")
def analysis():  # type: ignore[no-untyped-def]
    return make_analysis()


def _ax() -> Axes:
    return Figure(figsize=(6, 4), dpi=40).add_subplot()


def _draw(ax: Axes) -> None:
    ax.figure.canvas.draw()  # type: ignore[union-attr]


def _texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_size_ladder(analysis) -> None:  # type: ignore[no-untyped-def]
    ax = _ax()
    out = plot_size_ladder(
        analysis.deviations, producer="CV Panjang", dimension=DIM,
        size_summary=analysis.size_summary, ax=ax,
    )  # fmt: skip
    assert out is ax
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 5  # mis-sized below/above, outside tolerance below/above, in spec
    dots = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(dots) == 1 and len(dots[0].get_offsets()) == 24
    assert len(ax.containers) == 1  # the means with their CIs (errorbar)
    assert "(mm)" in ax.get_ylabel()
    assert ax.get_xlabel()
    assert "CV Panjang" in ax.get_title()
    guides = [t.get_text() for t in ax.texts]  # the guide lines in sizes, at the right
    assert guides and all(g.endswith(("size", "sizes")) for g in guides)
    assert not ax.child_axes  # no second axis: the guides say it
    assert ax.get_legend() is not None
    _draw(ax)


def test_size_ladder_caller_kwargs_win(analysis) -> None:  # type: ignore[no-untyped-def]
    ax = _ax()
    plot_size_ladder(analysis.deviations, producer="UD Rata", dimension=DIM, ax=ax, color="red")
    dots = next(c for c in ax.collections if isinstance(c, PathCollection))
    assert mcolors.same_color(dots.get_facecolor()[0][:3], (1.0, 0.0, 0.0))


def test_size_ladder_without_data_says_so(analysis) -> None:  # type: ignore[no-untyped-def]
    ax = _ax()
    plot_size_ladder(analysis.deviations, producer="nobody", dimension=DIM, ax=ax)
    assert _texts(ax) == ["No usable measurements"]


def test_missing_columns_raise(analysis) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MissingColumnsError):
        plot_size_ladder(
            analysis.deviations.drop(columns="nominal_mm"), producer="x", dimension=DIM, ax=_ax()
        )


def test_size_ladder_indonesian_decimal_commas(analysis) -> None:  # type: ignore[no-untyped-def]
    ax = _ax()
    plot_size_ladder(analysis.deviations, producer="UD Rata", dimension=DIM, lang="id", ax=ax)
    _draw(ax)
    guides = [t.get_text() for t in ax.texts]
    assert "+0,5 nomor" in guides and "\N{MINUS SIGN}0,5 nomor" in guides
    assert "Penyimpangan" in ax.get_ylabel()


def test_effective_size(analysis) -> None:  # type: ignore[no-untyped-def]
    ax = _ax()
    assert plot_effective_size(analysis.size_summary, dimension=DIM, ax=ax) is ax
    assert len(ax.lines) == 1 + len(analysis.producers)  # identity + one per producer
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    ax2 = _ax()
    plot_effective_size(analysis.size_summary, dimension=DIM, producer="CV Panjang", ax=ax2)
    assert len(ax2.texts) == 6  # the effective size written at each of its 6 sizes
    assert any(t.get_text().startswith("38.") for t in ax2.texts)
    _draw(ax2)


def test_heatmap(analysis) -> None:  # type: ignore[no-untyped-def]
    ax = _ax()
    assert plot_heatmap(analysis.size_summary, dimension=DIM, lang="id", ax=ax) is ax
    images = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    assert len(images) == 1
    norm = images[0].norm
    assert norm.vmin == -norm.vmax  # centred on zero
    assert len(ax.texts) == len(analysis.size_summary.query("dimension == @DIM"))
    assert any("+0,6" in t.get_text() for t in ax.texts)  # CV Panjang is +4 mm ≈ +0.6 size
    assert len(ax.child_axes) == 1  # colour bar inset
    assert "nomor" in ax.child_axes[0].get_ylabel()
    _draw(ax)


def test_heatmap_without_size_step_says_no_data(analysis) -> None:  # type: ignore[no-untyped-def]
    # A one-sided table (minimum toecap length) has no grade step, so no effective size:
    # the heatmap must say so instead of drawing an empty image (matplotlib warned).
    ss = analysis.size_summary.assign(effective_size=float("nan"))
    ax = _ax()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plot_heatmap(ss, dimension=DIM, ax=ax) is ax
    assert not [a for a in ax.get_children() if isinstance(a, AxesImage)]
    assert len(ax.texts) == 1


def test_grading(analysis) -> None:  # type: ignore[no-untyped-def]
    ax = _ax()
    assert plot_grading(analysis.size_summary, dimension=DIM, ax=ax) is ax
    assert len(ax.lines) == 1 + len(analysis.producers)
    assert "(mm)" in ax.get_ylabel()
    assert ax.get_title()


def test_control_chart(analysis) -> None:  # type: ignore[no-untyped-def]
    ax = _ax()
    # UD Gradasi's ball girth: two signals and no change (a step of 0.6 mm is too small)
    out = plot_control_chart(
        analysis.control_points, producer="UD Gradasi", dimension="last_ball_girth",
        signals=analysis.signals, ax=ax,
    )  # fmt: skip
    assert out is ax
    assert len(ax.lines) == 4  # points, centre, UCL, LCL
    markers = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(markers) == 1  # the points where a rule fired
    # the rules in words, not their codes (n1, n6)
    assert "1 point beyond the control limits" in markers[0].get_label()
    assert "4 of 5 points beyond 1σ" in markers[0].get_label()
    assert "(mm)" in ax.get_ylabel()
    assert ax.get_xlabel() == "Date"
    _draw(ax)
    # CV Geser's +3 mm step is a change: the centre line steps there, no rule fires
    ax = _ax()
    plot_control_chart(
        analysis.control_points, producer="CV Geser", dimension=DIM,
        signals=analysis.signals, ax=ax,
    )  # fmt: skip
    centre = ax.lines[1].get_ydata()
    assert len(set(np.round(centre, 6))) == 2 and centre[-1] - centre[0] > 2.5
    assert not [c for c in ax.collections if isinstance(c, PathCollection)]
    _draw(ax)


def test_capability(analysis) -> None:  # type: ignore[no-untyped-def]
    ps = analysis.producer_summary
    row = ps[(ps.producer == "UD Rata") & (ps.dimension == DIM)].iloc[0]
    ax = _ax()
    out = plot_capability(
        analysis.deviations, producer="UD Rata", dimension=DIM, summary_row=row, ax=ax
    )
    assert out is ax
    assert len(ax.patches) >= 3  # histogram bars
    labels = [ln.get_label() for ln in ax.lines]
    assert any("normal" in lab for lab in labels)
    # 2 tolerance + 2 mis-sized limits + the zero line + the normal curve
    assert len(ax.lines) == 6
    box = [a for a in ax.get_children() if isinstance(a, Legend) and a is not ax.get_legend()]
    assert any("Cpk" in t.get_text() for t in box[0].get_texts())
    assert "(mm)" in ax.get_xlabel()
    _draw(ax)


def test_capability_without_summary_row_has_no_curve(analysis) -> None:  # type: ignore[no-untyped-def]
    ax = _ax()
    plot_capability(analysis.deviations, producer="UD Rata", dimension=DIM, ax=ax)
    assert not any("normal" in ln.get_label() for ln in ax.lines)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "id"])
def test_no_chart_has_overlapping_text(lang: str) -> None:
    """Every chart write_visuals draws for the example and for the thin producers of
    tests/data/thin_producers.csv, framed as in the report (chart_figure, footer),
    measured with Agg: no text on text, no text off the page."""
    from pathlib import Path

    from sizecheck.examples import example_path
    from sizecheck.pipeline import analyse
    from sizecheck.plotting.forest import forest_figsize, plot_forest
    from sizecheck.plotting.layout import chart_figure, text_overlaps
    from sizecheck.plotting.style import house_style
    from sizecheck.report import _cluster_jobs, chart_footer, producer_charts

    thin = Path(__file__).parent / "data" / "thin_producers.csv"
    kinds = {
        "ladder": (plot_size_ladder, (7.0, 4.6)),
        "effective": (plot_effective_size, (6.0, 4.6)),
        "control": (plot_control_chart, (7.0, 4.4)),
        "capability": (plot_capability, (7.0, 4.2)),
    }
    bad = {}
    for a in (analyse([example_path()], synthetic=True), analyse([thin])):
        footer = chart_footer(a, lang)
        ps, ss = a.producer_summary, a.size_summary
        data = {"ladder": {"deviations": a.deviations, "size_summary": ss},
                "effective": {"size_summary": ss},
                "control": {"control_points": a.control_points, "signals": a.signals},
                "capability": {"deviations": a.deviations}}  # fmt: skip
        with house_style():
            for producer in a.producers:
                for kind, dim in producer_charts(a.findings[producer]):
                    plot, size = kinds[kind]
                    kw = dict(data[kind], producer=producer, dimension=dim, lang=lang)
                    if kind == "capability":
                        kw["summary_row"] = ps[(ps.producer == producer) & (ps.model == "")
                                               & (ps.dimension == dim)].iloc[0]  # fmt: skip
                    fig = chart_figure(plot, size, footer=footer, **kw)
                    if got := text_overlaps(fig):
                        bad[(kind, producer, dim)] = got
            plots = {"heatmap": plot_heatmap, "effective": plot_effective_size,
                     "grading": plot_grading}  # fmt: skip
            for kind, dim, part, table, n, _, _, _ in _cluster_jobs(a, lang, 120):
                if kind == "forest":  # the cluster's producer offsets, sized as the report
                    size = (8.0, max(forest_figsize(len(part))[1], 3.8))
                    fig = chart_figure(plot_forest, size, footer=footer, offsets=part,
                                       dimension=dim, lang=lang)  # fmt: skip
                    if got := text_overlaps(fig):
                        bad[(kind, "cluster", dim)] = got
                    continue
                size = (8.0, min(2.2 + 0.32 * n, 40.0)) if kind == "heatmap" else (7.0, 5.0)
                kw = {"table": table} if kind == "heatmap" else {}
                fig = chart_figure(plots[kind], size, footer=footer, size_summary=part,
                                   dimension=dim, lang=lang, **kw)  # fmt: skip
                if got := text_overlaps(fig):
                    bad[(kind, "cluster", dim)] = got
    assert bad == {}


def _fit_wrap_word_by_word(fig, text, width, *, fontsize, **props):  # type: ignore[no-untyped-def]
    """The reference: greedy wrapping that measures every candidate line whole (the
    previous fit_wrap, one measurement per word tried)."""
    from matplotlib.text import Text

    from sizecheck.plotting.layout import renderer

    rend = renderer(fig)
    limit = width * fig.bbox.width
    probe = Text(0, 0, "", fontsize=fontsize, figure=fig, **props)

    def wide(s):  # type: ignore[no-untyped-def]
        probe.set_text(s)
        return probe.get_window_extent(rend).width

    lines = []
    for para in str(text).splitlines() or [""]:
        line = ""
        for word in para.split():
            candidate = f"{line} {word}" if line else word
            if wide(candidate) <= limit:
                line = candidate
                continue
            if line:
                lines.append(line)
            while wide(word) > limit and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and wide(word[:cut]) > limit:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return "\n".join(lines)


def test_fit_wrap_equals_wrapping_word_by_word() -> None:
    """fit_wrap measures lines, not words (a guess from characters, then a word more or
    less, a word more not measured with its line when the two apart are already too
    wide); it must wrap exactly as measuring every candidate line does, on the
    catalogue's sentences in both languages, hostile names, every font size and weight
    the card writes, at the card's widths."""
    import random

    from _visual_factory import HOSTILE_NAMES

    from sizecheck.i18n import catalogue
    from sizecheck.plotting.layout import fit_wrap

    fig = Figure(figsize=(8.27, 11.69))
    rng = random.Random(3)
    texts = sorted({*catalogue("en").values(), *catalogue("id").values()})
    samples = [" ".join(rng.sample(texts, 3)) for _ in range(12)]
    samples += ["Produsen" + "x" * 120 + " kecil", "", "two\nparagraphs here"]
    samples += [" ".join([str(name)] * 15) for name in HOSTILE_NAMES]
    cases = [({}, size) for size in ((6.5, 0.86), (8.0, 0.39), (9.0, 0.39), (13.5, 0.5))]
    cases += [({"fontweight": "bold"}, (10.5, 0.3)), ({"fontstyle": "italic"}, (8.8, 0.83))]
    for props, (fontsize, width) in cases:
        for text in samples:
            got = fit_wrap(fig, text, width, fontsize=fontsize, **props)
            assert got == _fit_wrap_word_by_word(fig, text, width, fontsize=fontsize,
                                                 **props), (text, fontsize, props)  # fmt: skip


def test_other_producers_are_one_line_broken_between_producers(analysis) -> None:  # type: ignore[no-untyped-def]
    """The grey line of a producer's effective-size chart: every other producer's points
    by size, a break (NaN) between producers, as drawing them one by one would."""
    import numpy as np

    ax = _ax()
    plot_effective_size(analysis.size_summary, dimension=DIM, producer="CV Panjang", ax=ax)
    grey = next(ln for ln in ax.lines if ln.get_label() == "other producers")
    ss = analysis.size_summary.query("dimension == @DIM and producer != 'CV Panjang'")
    xs, ys = [], []
    for _, g in ss.groupby("producer", sort=True):  # the reference: one producer at a time
        g = g.sort_values("size")
        xs += [*g["size"], np.nan]
        ys += [*g["effective_size"], np.nan]
    np.testing.assert_array_equal(grey.get_xdata(), np.array(xs[:-1]))
    np.testing.assert_array_equal(grey.get_ydata(), np.array(ys[:-1]))


@pytest.mark.parametrize("lang", ["en", "id"])
def test_ticks_written_once_draw_the_same_chart(analysis, lang: str) -> None:  # type: ignore[no-untyped-def]
    """fix_ticks (the report's charts) freezes the ticks a chart would draw: the same
    pixels as the chart left to its locators and formatters, and no formatter left
    to call at each tick update."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.ticker import FixedFormatter, FixedLocator

    from sizecheck.plotting.layout import fix_ticks
    from sizecheck.plotting.style import house_style

    pixels = []
    for fix in (False, True):
        with house_style():
            fig = Figure(figsize=(6, 4), dpi=60)
            ax = fig.add_subplot()
            plot_capability(analysis.deviations, producer="UD Rata", dimension=DIM, lang=lang,
                            ax=ax)  # fmt: skip
            if fix:
                fix_ticks(ax)
                for axis in (ax.xaxis, ax.yaxis):
                    assert isinstance(axis.get_major_locator(), FixedLocator)
                    assert isinstance(axis.get_major_formatter(), FixedFormatter)
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            pixels.append(bytes(canvas.buffer_rgba()))
    assert pixels[0] == pixels[1]


@pytest.mark.parametrize("shrink", [1.0, 0.12 / 0.19])
def test_effective_size_labels_stay_inside_a_cards_small_chart(shrink: float) -> None:
    """On the card's small effective-size chart (A4, 0.37 x 0.19 of the page, drawn up
    to a third shorter when the texts are long) no value label crosses an axis: the
    first label sat on the corner of both axes (a point just under the identity line,
    a neighbour's line lower still), the last one reached past the right edge."""
    import pandas as pd

    from sizecheck.cards import A4_INCHES

    sizes = np.arange(36.0, 47.0)
    mine = pd.DataFrame({"producer": "A", "size": sizes, "effective_size": sizes - 0.04})
    low = pd.DataFrame({"producer": "B", "size": sizes, "effective_size": sizes - 0.4})
    ss = pd.concat([mine, low]).assign(dimension=DIM)
    fig = Figure(figsize=A4_INCHES)
    ax = fig.add_axes((0.1, 0.2, 0.37, 0.19))
    plot_effective_size(ss, dimension=DIM, producer="A", legend=False, ax=ax)
    ax.set_position((0.1, 0.2, 0.3, 0.19 * shrink))  # the card narrows it, may shorten it
    fig.canvas.draw()  # type: ignore[no-untyped-call]
    area = ax.get_window_extent()
    labels = [t.get_window_extent() for t in ax.texts]
    assert len(labels) >= 3
    for box in labels:
        assert area.x0 < box.x0 and box.x1 < area.x1, box
        assert area.y0 < box.y0 and box.y1 < area.y1, box


def test_forest_order_of_equal_offsets_is_by_name_whatever_the_last_digits() -> None:
    """With a between-producer SD of 0 every offset is the cluster mean, equal up to the
    fit's last digits; the rows then go by name, not by that noise (review, session 7)."""
    from sizecheck.plotting.forest import _ForestRows

    names = ["UD C", "UD A", "UD B"]
    noise = [-3e-10, 2e-10, 1e-10]  # what moving the rows of the input does to the fit
    rows = pd.DataFrame(
        {
            "producer": names,
            "offset_mm": [-0.0217609 + e for e in noise],
            "offset_ci_low_mm": [-0.5] * 3,
            "offset_ci_high_mm": [0.5] * 3,
        }
    )
    again = rows.assign(offset_mm=[-0.0217609 - e for e in noise])
    assert list(_ForestRows.sorted_from(rows).frame["producer"]) == ["UD A", "UD B", "UD C"]
    assert list(_ForestRows.sorted_from(again).frame["producer"]) == ["UD A", "UD B", "UD C"]
