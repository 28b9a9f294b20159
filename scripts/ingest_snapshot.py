"""Save, or compare with a saved copy, what ingestion makes of a set of input files.

A refactor of :mod:`sizecheck.readers` / :mod:`sizecheck.validate` must leave the
measurements, rejects, accounting and notes of every file exactly as they were, except where
a change is made on purpose. Run this on the old code with ``save``, on the new code with
``compare``::

    python scripts/ingest_snapshot.py save /tmp/ingest-before
    python scripts/ingest_snapshot.py compare /tmp/ingest-before

The files read: every file of ``tests/data/ingest``, ``tests/data/hostile`` (when present)
and the bundled example, each validated against ``paris-point`` and with no table, plus
messy files generated here (long layout with a unit column, duplicates, foot/date errors,
summary and signature rows, decimal commas). Files that fail to read are recorded by
their error message. ``compare`` prints one line per file and exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

GENERATED = {
    "gen_long_units.csv": (
        "produsen;ukuran;no;kaki;dimensi;nilai;satuan\n"
        "UD A;41;1;L;insole_length;27,3;cm\nUD A;41;1;L;insole_length;27,4;cm\n"
        "UD A;41;2;R;lebar_insole;98;mm\nUD A;41;2;R;lebar_insole;3,9;in\n"
        "UD A;42;3;X;panjang_acuan;280;furlong\nUD B;;4;L;last_length;281;mm\n"
        "UD B;43;5;kanan;lingkar_ball;-4;mm\nUD B;43;5;kanan;tidak_ada;244;mm\n"
        "Rata-rata;;;;;200;\n"
    ),
    "gen_wide_messy.csv": (
        "Laporan\n\nNo,Produsen,Ukuran,Kaki,Tanggal,Pasang,Panjang Insole (mm),Lingkar Ball (cm)\n"
        "1,UD A,41,kiri,12/03/2026,p1,273.5,23.9\n2,UD A,41,kanan,12/03/2026,p1,274,24\n"
        "1,UD A,41,kiri,12/03/2026,p1,273.6,23.8\n3,UD A,42,ki,31/02/2026,p2,-,-\n"
        "4,,42,R,2026-03-01,p2,280,24.1\n5,UD B,41/42,L,1 Agu 2026,p3,275,24\n"
        "6,UD B,60,L,46093,p4,299,25\n7,UD B,43,Z,kemarin,p5,2870,abc\n"
        "Produsen,Ukuran,,,,,,\nJumlah,,,,,,1000,\nMengetahui,,,,,,,\n(Budi),,,,,,,\n"
    ),
    "gen_decimal_comma.csv": (
        "produsen;ukuran;panjang_acuan;lebar_acuan\nA;41;273,3;98,1\nA;41½;1.234,5;97\n"
        "B;UK 7;271;1,234\nB;US W 9;270,5;99\n"
    ),
}


def _inputs(work: Path) -> list[Path]:
    files = [p for p in sorted((ROOT / "tests/data/ingest").iterdir()) if p.suffix != ".py"]
    hostile = ROOT / "tests/data/hostile"
    if hostile.is_dir():
        files += [p for p in sorted(hostile.iterdir()) if p.name != "README.md"]
    files.append(ROOT / "data/examples/mojokerto-synthetic.csv")
    for name, text in GENERATED.items():
        (work / name).write_text(text, encoding="utf-8")
        files.append(work / name)
    return files


def _outputs() -> dict[str, Any]:
    from sizecheck.errors import SizecheckError
    from sizecheck.validate import read_measurements

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in _inputs(Path(tmp)):
            for table in ("paris-point", None):
                key = f"{path.name} [{table}]"
                try:
                    v = read_measurements(path, table=table)
                except SizecheckError as exc:
                    out[key] = ("error", type(exc).__name__, str(exc))
                    continue
                out[key] = (
                    "ok",
                    v.measurements,
                    v.rejects,
                    v.accounting.to_dict(),
                    list(v.notes),
                )
    return out


def _same(a: Any, b: Any) -> str | None:
    if a[0] != b[0]:
        return f"{a[0]} before, {b[0]} now: {b[1:] if b[0] == 'error' else ''}"
    if a[0] == "error":
        return None if a == b else f"error changed: {a[2]!r} -> {b[2]!r}"
    for what, x, y in (("measurements", a[1], b[1]), ("rejects", a[2], b[2])):
        try:
            pd.testing.assert_frame_equal(x, y, check_exact=True)
        except AssertionError as exc:
            return f"{what} differ: {str(exc).splitlines()[:6]}"
    if a[3] != b[3]:
        return f"accounting differs: {a[3]} -> {b[3]}"
    if a[4] != b[4]:
        return f"notes differ: {a[4]} -> {b[4]}"
    return None


def main() -> int:
    """Save or compare; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["save", "compare"])
    ap.add_argument("folder", type=Path)
    args = ap.parse_args()
    store = args.folder / "ingest_outputs.pickle"
    now = _outputs()
    if args.action == "save":
        args.folder.mkdir(parents=True, exist_ok=True)
        store.write_bytes(pickle.dumps(now))
        print(f"saved {len(now)} outputs to {store}")
        return 0
    before = pickle.loads(store.read_bytes())
    differ = compared = 0
    for key in sorted(set(before) | set(now)):
        if key not in before or key not in now:
            print(f"{key}: only {'now' if key in now else 'before'}")
            continue
        why = _same(before[key], now[key])
        differ += why is not None
        compared += 1
        print(f"{key}: {'identical' if why is None else why}")
    print(f"{compared - differ} of {compared} outputs in both identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
