"""Write the gage R&R test studies: small files shaped like a QA office's study sheets.

Run from the repository root: ``python tests/data/gage/make_gage_fixtures.py``. The files are
committed; this script is how they were made. Every figure is invented for the tests:
10 insoles of one size (EU 40, nominal 266.7 mm), measured 3 times each by 3 officers
with a steel tape read to 0.1 mm.

- ``studi_insole.xlsx``: the balanced study as an Indonesian workbook — title rows,
  ``sampel``/``petugas``/``ulangan``/``panjang_insole (mm)`` headers, the officer's name
  merged over each block, a ``Rata-rata`` row after each block, a note column and a
  signature block.
- ``studi_insole.csv``: the same readings as a ``;`` CSV with decimal commas.
- ``rusak_ulangan_hilang.csv``: the CSV with one reading blank (``-``) and one row deleted.
- ``rusak_satu_petugas.csv``: one officer only.

The workbook is also shipped as the SYNTHETIC example ``gage-insole``
(``data/examples/gage-insole-synthetic.xlsx``, ``sc.example_path("gage-insole")``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FIXED_TIME = dt.datetime(2026, 3, 12, 8, 0, 0)
OPERATORS = ("Sari", "Budi", "Dewi")
PARTS = 10
TRIALS = 3


def readings() -> list[tuple[int, str, int, float]]:
    """(part, operator, trial, mm): parts spread 0.9 mm, officers differ by up to 0.2 mm,
    repeatability 0.1 mm, rounded to 0.1 mm as a tape is read."""
    rng = np.random.default_rng(20260312)
    part_size = 266.7 + rng.normal(0.0, 0.9, PARTS)
    offset = {"Sari": 0.0, "Budi": 0.12, "Dewi": -0.08}
    out = []
    for op in OPERATORS:
        for trial in range(1, TRIALS + 1):
            for part in range(PARTS):
                value = part_size[part] + offset[op] + rng.normal(0.0, 0.1)
                out.append((part + 1, op, trial, round(float(value), 1)))
    return out


def _comma(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


def workbook(rows: list[tuple[int, str, int, float]]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    ws = wb.active
    ws.title = "Studi GRR"
    ws["A1"] = "STUDI GAGE R&R - PANJANG INSOLE NOMOR 40"
    ws.merge_cells("A1:E1")
    ws["A2"] = "UPT Pengujian Mutu Mojokerto - alat: meteran baja (0,1 mm)"
    ws.merge_cells("A2:E2")
    ws.append([])
    ws.append(["sampel", "petugas", "ulangan", "panjang_insole (mm)", "keterangan"])
    for op in OPERATORS:
        block = [r for r in rows if r[1] == op]
        first = ws.max_row + 1
        for part, _, trial, mm in block:
            note = "ujung sol sedikit aus" if (part, trial) == (3, 2) else None
            ws.append([part, op, trial, mm, note])
        ws.merge_cells(f"B{first}:B{ws.max_row}")
        mean = sum(r[3] for r in block) / len(block)
        ws.append(["Rata-rata", None, None, round(mean, 2), None])
    ws.append([])
    ws.append(["Mengetahui,", None, None, None, "Mojokerto, 12 Maret 2026"])
    ws.append(["Kepala UPT", None, None, None, "Petugas: Sari"])
    wb.save(HERE / "studi_insole.xlsx")
    wb.save(HERE.parents[2] / "data" / "examples" / "gage-insole-synthetic.xlsx")


def csv_text(rows: list[tuple[int, str, int, float]]) -> str:
    lines = ["sampel;petugas;ulangan;panjang_insole (mm)"]
    lines += [f"{part};{op};{trial};{_comma(mm)}" for part, op, trial, mm in rows]
    return "\r\n".join(lines) + "\r\n"


def main() -> None:
    rows = readings()
    workbook(rows)
    (HERE / "studi_insole.csv").write_bytes(csv_text(rows).encode("utf-8-sig"))
    broken = []
    for part, op, trial, mm in rows:
        if (part, op, trial) == (7, "Dewi", 3):
            continue  # the row is missing
        value = "-" if (part, op, trial) == (4, "Sari", 2) else _comma(mm)
        broken.append(f"{part};{op};{trial};{value}")
    text = "\r\n".join(["sampel;petugas;ulangan;panjang_insole (mm)", *broken]) + "\r\n"
    (HERE / "rusak_ulangan_hilang.csv").write_bytes(text.encode("utf-8-sig"))
    one = [r for r in rows if r[1] == "Sari"]
    (HERE / "rusak_satu_petugas.csv").write_bytes(csv_text(one).encode("utf-8-sig"))


if __name__ == "__main__":
    main()
