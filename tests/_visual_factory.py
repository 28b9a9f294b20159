"""Small Analysis objects for the chart, report and card tests, with the contract columns.

Frames follow design.md / docs/internals.md and the real column names of sizecheck.stats
and sizecheck.drift (``control_points.signals`` holds rule codes, ``signals`` one row per
episode). Values are plausible but made up: these tests check drawing and writing, not
statistics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _stats_factory import STEP, deviations_from

from sizecheck.pipeline import Analysis, InputFile
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


def _verdict(kind: str, n: int) -> str:
    if n < 8:
        return "insufficient_data"
    return {"offset": "offset", "grading": "offset+grading", "drift": "drift"}.get(
        kind, "conforming"
    )


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
    kind_of = dict(zip(names, kinds, strict=True))

    ps_rows, ss_rows, cp_rows, sig_rows = [], [], [], []
    for (producer, dim), g in dev.groupby(["producer", "dimension"], sort=True):
        d = g["deviation_mm"].to_numpy(float)
        n = len(d)
        bias = float(d.mean())
        ge = -1.67 if kind_of[producer] == "grading" else 0.01
        drift_n = 3 if kind_of[producer] == "drift" else 0
        ps_rows.append(
            {
                "producer": producer,
                "dimension": dim,
                "n": n,
                "n_sizes": g["size"].nunique(),
                "bias_mm": bias,
                "bias_ci_low_mm": bias - 0.3,
                "bias_ci_high_mm": bias + 0.3,
                "bias_sizes": bias / STEP,
                "offset_mm": bias - 0.5 if kind_of[producer] == "grading" else bias,
                "grade_error_mm_per_size": ge,
                "grade_error_ci_low": ge - 0.1,
                "grade_error_ci_high": ge + 0.1,
                "sd_within_mm": 0.5,
                "sd_overall_mm": float(d.std(ddof=1)) if n > 1 else np.nan,
                "pct_in_spec": 100.0 * float((g["status"] == "in_spec").mean()),
                "pct_missized": 100.0 * float((g["status"] == "missized").mean()),
                "cpk": 1.0,
                "cpk_ci_low": 0.8,
                "cpk_ci_high": 1.2,
                "pair_mismatch_mm": np.nan,
                "drift_signals": drift_n,
                "verdict": _verdict(kind_of[producer], n),
            }
        )
        for size, s in g.groupby("size", sort=True):
            sd = s["deviation_mm"].to_numpy(float)
            m = float(sd.mean())
            ss_rows.append(
                {
                    "producer": producer,
                    "dimension": dim,
                    "size": float(size),
                    "n": len(sd),
                    "mean_mm": float(s["value_mm"].mean()),
                    "nominal_mm": float(s["nominal_mm"].iloc[0]),
                    "bias_mm": m,
                    "sd_mm": float(sd.std(ddof=1)) if len(sd) > 1 else np.nan,
                    "effective_size": float(size) + m / STEP,
                    "size_label": f"{size:g}",
                    "bias_ci_low_mm": m - 0.4,
                    "bias_ci_high_mm": m + 0.4,
                    "bias_sizes": m / STEP,
                }
            )
        g = g.sort_values("date")
        value = g["deviation_mm"].to_numpy(float) - bias
        flags = np.where(value > 1.4, "n1", "")
        for i, (v, f, date, row) in enumerate(zip(value, flags, g["date"], g["row"], strict=True)):
            cp_rows.append(
                {
                    "producer": producer,
                    "dimension": dim,
                    "order": i,
                    "unit": "date",
                    "date": date,
                    "lot": pd.NA,
                    "source": "input.csv",
                    "row": int(row),
                    "n": 1,
                    "value": v,
                    "center": 0.0,
                    "sigma": 0.5,
                    "lcl": -1.5,
                    "ucl": 1.5,
                    "signals": f,
                }
            )
        if drift_n:
            half = n // 2
            sig_rows.append(
                {
                    "producer": producer,
                    "dimension": dim,
                    "rule": "n2",
                    "description": "9 points in a row on the same side of the centre",
                    "first_order": half,
                    "last_order": n - 1,
                    "n_points": n - half,
                    "first_date": g["date"].iloc[half],
                    "last_date": g["date"].iloc[-1],
                    "first_lot": pd.NA,
                    "last_lot": pd.NA,
                    "first_source": "input.csv",
                    "first_row": 2,
                    "last_source": "input.csv",
                    "last_row": 3,
                }
            )
    signal_cols = [
        "producer", "dimension", "rule", "description", "first_order", "last_order",
        "n_points", "first_date", "last_date", "first_lot", "last_lot", "first_source",
        "first_row", "last_source", "last_row",
    ]  # fmt: skip
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
    return Analysis(
        table=load_table("paris-point"),
        inputs=[InputFile("input.csv", "input.csv", "0" * 64, 100)],
        measurements=dev.iloc[:, :14],
        rejects=rejects,
        accounting={
            "rows_read": rows_read,
            "rows_used": rows_read - n_rejects,
            "rows_rejected": n_rejects,
        },
        deviations=dev,
        missing_dimensions=[],
        producer_summary=pd.DataFrame(ps_rows),
        size_summary=pd.DataFrame(ss_rows),
        comparison=pd.DataFrame(),
        conventions=pd.DataFrame(),
        control_points=pd.DataFrame(cp_rows),
        signals=pd.DataFrame(sig_rows, columns=signal_cols),
        thresholds=None,
        synthetic=synthetic,
    )
