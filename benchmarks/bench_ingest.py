"""Time reading + validating a large wide CSV against a bare ``pandas.read_csv``.

Issue 3: ingestion must be vectorised; reading and validating 1,000,000 rows (wide, three
dimensions) should cost less than about 3x a bare ``pd.read_csv(engine="pyarrow")`` of the
same file. This script writes a synthetic file into ``benchmarks/_work/`` (Indonesian
style by default: ``;`` separators and decimal commas, a title row, producer, size, foot,
date and sample id) and times, in this process and interleaved run by run:

(a) the floor: ``pd.read_csv(path, engine="pyarrow", sep=...)``;
(b) ``sizecheck.validate.read_measurements(path, table="paris-point")``: detection,
    header search, every check, the long ``measurements`` frame and the accounting.

The machine is shared and noisy: read the medians and their ratio, not single runs.

Usage::

    .venv/bin/python benchmarks/bench_ingest.py                  # 1M rows, 3 runs
    .venv/bin/python benchmarks/bench_ingest.py --rows 200000 --runs 5 --style en
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
TARGET_RATIO = 3.0


def generate(path: Path, rows: int, *, style: str, seed: int = 3) -> Path:
    """Write ``rows`` shoes (wide: 3 dimensions) to ``path``; Indonesian or English style."""
    rng = np.random.default_rng(seed)
    size = rng.integers(36, 47, rows)
    producer = np.char.add("UD Produsen ", (rng.integers(0, 200, rows)).astype(str))
    foot = np.where(rng.random(rows) < 0.5, "kiri", "kanan")
    days = pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    length = size * 20 / 3 + rng.normal(0, 1.2, rows)
    columns = {
        "No": np.arange(1, rows + 1).astype(str),
        "Produsen": producer,
        "Ukuran": size.astype(str),
        "Kaki": foot,
        "Tanggal": days.strftime("%d/%m/%Y").to_numpy(),
        "Panjang Insole (mm)": np.round(length, 1),
        "Panjang Acuan (mm)": np.round(length + rng.normal(0.5, 0.8, rows), 1),
        "Lingkar Ball (mm)": np.round(size * 5 + 30 + rng.normal(0, 1.5, rows), 1),
    }
    sep = ";" if style == "id" else ","
    table = pa.table(
        {k: pa.array(v).cast(pa.string()) if v.dtype.kind == "f" else v for k, v in columns.items()}
    )
    if style == "id":
        table = pa.table(
            {
                name: pa.compute.replace_substring(col, ".", ",") if "(mm)" in name else col
                for name, col in zip(table.column_names, table.columns, strict=True)
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(f"DATA PENGUKURAN (SINTETIS){sep * 7}\n".encode())
        pcsv.write_csv(
            table,
            fh,
            write_options=pcsv.WriteOptions(delimiter=sep, quoting_style="none"),
        )
    return path


def main() -> None:
    """Generate (once) and time; print medians and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--style", choices=["id", "en"], default="id")
    args = ap.parse_args()

    from sizecheck.tables import load_table
    from sizecheck.validate import read_measurements

    path = WORK / f"ingest-{args.rows}-{args.style}.csv"
    if not path.exists():
        generate(path, args.rows, style=args.style)
    sep = ";" if args.style == "id" else ","
    table = load_table("paris-point")
    floor: list[float] = []
    ours: list[float] = []
    result = None
    for _ in range(args.runs):
        result = None  # do not hold the previous run's 3M-row frame while timing the next
        gc.collect()
        t0 = time.perf_counter()
        # the title row is skipped so the bare reader sees a plain table
        pd.read_csv(path, engine="pyarrow", sep=sep, skiprows=1)
        floor.append(time.perf_counter() - t0)
        gc.collect()
        t0 = time.perf_counter()
        result = read_measurements(path, table=table)
        ours.append(time.perf_counter() - t0)
    if result is None:
        raise SystemExit("--runs must be at least 1")
    a = result.accounting
    f, o = statistics.median(floor), statistics.median(ours)
    print(f"file: {path.name} ({path.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows)")
    print(f"rows read {a.rows_read:,}, used {a.rows_used:,}; cells used {a.cells_used:,}")
    print(
        f"(a) pd.read_csv(engine='pyarrow') median {f:.2f} s  runs {[round(x, 2) for x in floor]}"
    )
    print(f"(b) read_measurements             median {o:.2f} s  runs {[round(x, 2) for x in ours]}")
    print(f"ratio (b)/(a): {o / f:.2f}  (target < {TARGET_RATIO:g})")


if __name__ == "__main__":
    main()
