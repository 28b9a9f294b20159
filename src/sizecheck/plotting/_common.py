"""Helpers shared by the chart functions (selection, grade step, empty charts)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.legend import Legend

from sizecheck.errors import require_columns
from sizecheck.escaping import visible_controls
from sizecheck.i18n import t


def get_ax(ax: Axes | None) -> Axes:
    """The caller's Axes, or pyplot's current one in an interactive session."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # interactive use only; batch code always passes ax

    return plt.gca()


def need(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise a helpful error when ``frame`` lacks ``columns``."""
    require_columns(frame, columns, what, hint="Pass the frame from sizecheck.pipeline.")


def select(frame: pd.DataFrame, *, producer: str | None, dimension: str) -> pd.DataFrame:
    """Rows of one dimension (and one producer when given)."""
    mask = frame["dimension"].astype("str").to_numpy() == dimension
    if producer is not None:
        mask &= frame["producer"].astype("str").to_numpy() == str(producer)
    out: pd.DataFrame = frame.loc[mask]
    return out


def grade_step(deviations: pd.DataFrame) -> float | None:
    """The grade step (mm per size) carried by a deviations frame, if any."""
    if "grade_step_mm" in deviations.columns:
        steps = pd.to_numeric(deviations["grade_step_mm"], errors="coerce").dropna()
        if len(steps):
            return float(steps.median())
    if "deviation_sizes" in deviations.columns and "deviation_mm" in deviations.columns:
        dm = pd.to_numeric(deviations["deviation_mm"], errors="coerce").to_numpy(float)
        ds = pd.to_numeric(deviations["deviation_sizes"], errors="coerce").to_numpy(float)
        ok = np.isfinite(dm) & np.isfinite(ds) & (np.abs(ds) > 1e-9)
        if ok.any():
            return float(np.median(dm[ok] / ds[ok]))
    return None


def no_data(ax: Axes, lang: str) -> None:
    """Say in the middle of an empty chart that there is nothing to draw."""
    ax.text(
        0.5,
        0.5,
        t("chart.no_data", lang),
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="#555555",
    )
    ax.set_xticks([])
    ax.set_yticks([])


def short(name: str, width: int = 26) -> str:
    """Shorten a long label for an axis, with an ellipsis."""
    name = str(name)
    return name if len(name) <= width else name[: width - 1] + "…"


def merged(ours: dict[str, Any], caller: dict[str, Any]) -> dict[str, Any]:
    """Our artist settings with the caller's keyword arguments on top (the caller wins)."""
    out = dict(ours)
    out.update(caller)
    return out


#: Characters per line of a legend label below a chart, by number of columns: three
#: columns of 24 characters at 9 pt fit a chart 7 inches wide.
LEGEND_CHARS = {1: 72, 2: 36, 3: 24}


def legend_below(
    ax: Axes,
    *,
    ncol: int,
    offset: float = -0.14,
    handles: Sequence[Any] | None = None,
    labels: Sequence[str] | None = None,
) -> Legend:
    """A legend centred under the x axis, ``ncol`` columns, long labels on two lines.

    Labels are wrapped at :data:`LEGEND_CHARS` characters so the legend is never wider
    than the chart, whatever the language ("rata-rata per nomor, selang kepercayaan 95%"
    is twice as long as "mean per size, 95 % CI").
    """
    if handles is None or labels is None:
        handles, labels = ax.get_legend_handles_labels()
    width = LEGEND_CHARS.get(ncol, 24)
    wrapped = [textwrap.fill(str(label), width, break_long_words=False) for label in labels]
    return ax.legend(
        handles=list(handles),
        labels=wrapped,
        loc="upper center",
        bbox_to_anchor=(0.5, offset),
        ncol=ncol,
    )


def plain_text(label: object) -> str:
    """A name from the data as a chart prints it, as written.

    Mathtext dollars are escaped (``A$B$`` is not a formula), and bidirectional and other
    control characters are shown as ``[U+XXXX]`` (:func:`sizecheck.escaping.visible_controls`):
    a right-to-left override in ``"UD \u202eayaJ"`` must not make the chart read as "UD
    Jaya", another producer. Cards, terminal and report.html show names the same way.
    """
    return visible_controls(str(label)).replace("$", r"\$")
