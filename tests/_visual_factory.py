"""Small Analysis objects for the chart, report and card tests.

The deviations are generated (planted producers: conforming, offset, grading, a step in
time, too few shoes); everything else — summaries, charts, corrections, findings — is what
:func:`sizecheck.pipeline.analyse_deviations` computes from them, as ``measure`` does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _stats_factory import STEP, deviations_from

from sizecheck.pipeline import Analysis, InputFile, analyse_deviations
from sizecheck.tables import load_table

HOSTILE_NAMES = (
    "../../evil",
    "CON",
    "a/b",
    '"quoted"',
    "ÜNAL ŞEN",
    ".hidden",
    "<script>alert(1)</script>",
)

DIMENSIONS = ("insole_length", "last_ball_girth")


def _producer_deviations(
    rng: np.random.Generator, name: str, kind: str, dimensions: tuple[str, ...]
) -> pd.DataFrame:
    frames = []
    n_sizes = 2 if kind == "few" else 6
    per = 1 if kind == "few" else 4
    size = np.repeat(np.arange(38.0, 38.0 + n_sizes), per)
    if kind == "drift":
        # a step in time: every size measured in turn, as on a QA visit. With the sizes in
        # date order (38 first, 43 last) the step is confounded with size, and the chart's
        # residuals from the grading line show little of it (the line absorbs it)
        size = np.tile(np.arange(38.0, 38.0 + n_sizes), per)
    dates = pd.date_range("2026-01-05", periods=size.size, freq="D")
    for dim in dimensions:
        shift = {"offset": 4.0, "drift": 0.0, "grading": 0.0}.get(kind, 0.0)
        value = size * STEP + shift + rng.normal(0.0, 0.5, size.size)
        if kind == "grading":
            value += (5.0 - STEP) * (size - 41.0)
        if kind == "drift":
            value += np.where(np.arange(size.size) >= size.size // 2, 3.0, 0.0)
        frames.append(
            deviations_from(producer=name, size=size, value_mm=value, date=dates, dimension=dim)
        )
    return pd.concat(frames, ignore_index=True)


def make_analysis(
    names: tuple[str, ...] = ("UD Rata", "CV Panjang", "UD Gradasi", "CV Geser", "Pak Kecil"),
    kinds: tuple[str, ...] | None = None,
    *,
    synthetic: bool = True,
    n_rejects: int = 3,
    seed: int = 0,
    dimensions: tuple[str, ...] = DIMENSIONS,
) -> Analysis:
    """An Analysis of a few producers; kinds default to conforming/offset/grading/drift/few."""
    rng = np.random.default_rng(seed)
    default = ("conforming", "offset", "grading", "drift", "few")
    kinds = kinds or tuple(default[i % len(default)] for i in range(len(names)))
    dev = pd.concat(
        [_producer_deviations(rng, n, k, dimensions) for n, k in zip(names, kinds, strict=True)],
        ignore_index=True,
    )
    rejects = pd.DataFrame(
        {
            "source": "input.csv",
            "row": np.arange(2, 2 + n_rejects),
            "column": "Panjang Insole (mm)",
            "value": ["<b>rusak</b>"] * n_rejects,
            "code": "not_a_number",
            "message": "not a number",
        }
    )
    rows_read = dev["row"].nunique() + n_rejects
    # the real statistics and findings of these deviations, as `measure` computes them
    return analyse_deviations(
        dev,
        table=load_table("paris-point"),
        synthetic=synthetic,
        inputs=[InputFile("input.csv", "input.csv", "0" * 64, 100)],
        measurements=dev.iloc[:, :14],
        rejects=rejects,
        accounting={  # type: ignore[arg-type]
            "rows_read": rows_read,
            "rows_used": rows_read - n_rejects,
            "rows_rejected": n_rejects,
        },
    )
