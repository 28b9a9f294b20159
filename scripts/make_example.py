"""Generate the bundled SYNTHETIC example: a cluster of nine shoe workshops.

Run from the repository root:  python scripts/make_example.py
It writes data/examples/mojokerto-synthetic.csv deterministically (fixed seed), in
the shape an Indonesian QA office keeps such a file: a title row, ';' separators,
decimal commas, Indonesian headers, dates as dd/mm/yyyy, and a few bad rows.

Every producer and every number is invented. The planted behaviours, which
sizecheck should find (see data/examples/README.md):

=====================  =======================================================
producer               planted behaviour (against paris-point, EU 36-46)
=====================  =======================================================
UD Sumber Rejeki       conforming: on nominal, scatter 0.5 mm
CV Medali Jaya         offset: every length +4 mm (their 41 is ~41.6)
UD Karya Trowulan      grading: lasts graded 5 mm per size (imported lasts
                       relabelled to EU), right at EU 41
Sepatu Puri Makmur     scatter: insole cutting scatter 3 mm
CV Sooko Safety        drift: +3 mm step in every length from 1 May 2026
UD Bintang Kecil       one size small: every length -6.67 mm (their 41 is a 40)
CV Mojo Kembar         two models: Pantofel MK-1 on nominal, Safety MK-8 every length
                       +4 mm (one model off)
UD Wates Jaya          pair mismatch: left lasts 2 mm long, right lasts 2 mm short
                       (left and right differ by 4 mm on last length)
Bengkel Pak Darmo      3 shoes only: insufficient data
=====================  =======================================================

Bad rows planted on purpose: an average row ("Rata-rata"), a value typed 10x too
large, a blank producer, an unreadable size, a non-number, and a signature block.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

SEED = 20261127
OUT = Path(__file__).resolve().parents[1] / "data" / "examples" / "mojokerto-synthetic.csv"
STEP = 20.0 / 3.0  # Paris point, mm per size
BASE = 42.0


def nominal_length(size: np.ndarray) -> np.ndarray:
    return size * STEP


def nominal_girth(size: np.ndarray) -> np.ndarray:
    return 240.0 + 5.0 * (size - BASE)


PRODUCERS = {
    # name: (models, length offset fn, insole sd, last sd, girth sd)
    "UD Sumber Rejeki": ("Pantofel SR-1", "conforming"),
    "CV Medali Jaya": ("Safety MJ-7", "offset"),
    "UD Karya Trowulan": ("Sneaker KT-3", "grading"),
    "Sepatu Puri Makmur": ("Sandal PM-2", "scatter"),
    "CV Sooko Safety": ("Safety SS-9", "drift"),
    "UD Bintang Kecil": ("Casual BK-5", "one_size_small"),
    # two models, one of them off: each model is its own set of lasts
    "CV Mojo Kembar": (("Pantofel MK-1", "conforming"), ("Safety MK-8", "offset")),
    "UD Wates Jaya": ("Casual WJ-4", "pair_mismatch"),
}
DRIFT_FROM = date(2026, 5, 1)


def shoe_rows(rng: np.random.Generator) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    start = date(2026, 2, 2)
    operators = ["Ibu Sri", "Pak Hadi", "Mbak Lilis"]
    for producer, spec in PRODUCERS.items():
        # one model, or several (model, behaviour) measured in turn at each visit
        models = spec if isinstance(spec[0], tuple) else (spec,)
        # ten visits, roughly every two weeks, six pairs per visit
        visit_days = sorted(rng.choice(np.arange(0, 150), size=10, replace=False))
        pair_no = 0
        for day in visit_days:
            when = start + timedelta(days=int(day))
            sizes = rng.integers(36, 47, size=6).astype(float)
            for k, size in enumerate(sizes):
                model, behaviour = models[k % len(models)]
                pair_no += 1
                offset = 0.0
                if behaviour == "offset":
                    offset = 4.0
                elif behaviour == "one_size_small":
                    offset = -STEP
                elif behaviour == "grading":
                    offset = (5.0 - STEP) * (size - 41.0)
                elif behaviour == "drift" and when >= DRIFT_FROM:
                    offset = 3.0
                insole_sd = 3.0 if behaviour == "scatter" else 0.5
                pair_effect = rng.normal(0, 0.3)
                girth_pair = rng.normal(0, 0.6)
                for foot in ("Kiri", "Kanan"):
                    nom = float(nominal_length(np.array(size)))
                    insole = nom + offset + pair_effect + rng.normal(0, insole_sd)
                    last = nom + offset + pair_effect + rng.normal(0, 0.4)
                    if behaviour == "pair_mismatch":  # a mismatched pair of lasts
                        last += 2.0 if foot == "Kiri" else -2.0
                    girth = float(nominal_girth(np.array(size))) + girth_pair + rng.normal(0, 0.6)
                    rows.append(
                        {
                            "Tanggal": when.strftime("%d/%m/%Y"),
                            "Produsen": producer,
                            "Model": model,
                            "Ukuran": f"{size:g}",
                            "Kaki": foot,
                            "Pasang": f"P{pair_no:03d}",
                            "Panjang Insole (mm)": f"{insole:.1f}".replace(".", ","),
                            "Panjang Acuan (mm)": f"{last:.1f}".replace(".", ","),
                            "Lingkar Ball (mm)": f"{girth:.1f}".replace(".", ","),
                            "Petugas": operators[int(rng.integers(0, 3))],
                            "Keterangan": "",
                        }
                    )
    # a very small workshop: three shoes on one day
    for i, (size, foot) in enumerate([(40.0, "Kiri"), (40.0, "Kanan"), (42.0, "Kiri")]):
        nom = float(nominal_length(np.array(size)))
        rows.append(
            {
                "Tanggal": "12/03/2026",
                "Produsen": "Bengkel Pak Darmo",
                "Model": "Pantofel PD",
                "Ukuran": f"{size:g}",
                "Kaki": foot,
                "Pasang": f"D{i // 2 + 1:03d}",
                "Panjang Insole (mm)": f"{nom + rng.normal(1.0, 0.5):.1f}".replace(".", ","),
                "Panjang Acuan (mm)": f"{nom + rng.normal(1.0, 0.4):.1f}".replace(".", ","),
                "Lingkar Ball (mm)": f"{nominal_girth(np.array(size)):.1f}".replace(".", ","),
                "Petugas": "Pak Hadi",
                "Keterangan": "",
            }
        )
    return rows


def plant_bad_rows(rows: list[dict[str, str]], rng: np.random.Generator) -> None:
    """Damage a few rows the way real sheets are damaged, and note it in Keterangan."""
    picks = rng.choice(np.arange(10, len(rows) - 10), size=4, replace=False)
    r = rows[int(picks[0])]
    r["Panjang Insole (mm)"] = r["Panjang Insole (mm)"].replace(",", "")  # 10x: 2735
    r["Keterangan"] = "koma terlewat (contoh data buruk)"
    r = rows[int(picks[1])]
    r["Produsen"] = ""
    r["Keterangan"] = "produsen kosong (contoh data buruk)"
    r = rows[int(picks[2])]
    r["Ukuran"] = "41/42"
    r["Keterangan"] = "ukuran tidak jelas (contoh data buruk)"
    r = rows[int(picks[3])]
    r["Lingkar Ball (mm)"] = "rusak"
    r["Keterangan"] = "acuan rusak (contoh data buruk)"


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = shoe_rows(rng)
    plant_bad_rows(rows, rng)
    header = [
        "No",
        "Tanggal",
        "Produsen",
        "Model",
        "Ukuran",
        "Kaki",
        "Pasang",
        "Panjang Insole (mm)",
        "Panjang Acuan (mm)",
        "Lingkar Ball (mm)",
        "Petugas",
        "Keterangan",
    ]
    lines = [
        "LAPORAN PENGUKURAN INSOLE DAN ACUAN - KLASTER SEPATU MOJOKERTO 2026 "
        "(DATA SINTETIS / SYNTHETIC EXAMPLE)" + ";" * (len(header) - 1),
        ";".join(header),
    ]
    for i, r in enumerate(rows, start=1):
        lines.append(";".join([str(i)] + [r[h] for h in header[1:]]))
    lines.append(";;;;;;Rata-rata;273,1;273,0;240,2;;")
    lines.append(";" * (len(header) - 1))
    lines.append("Mengetahui,;;;;;;;;;;Petugas Pengukur,;")
    lines.append("Kepala UPT;;;;;;;;;;(Ibu Sri);")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(rows)} shoes)")


if __name__ == "__main__":
    main()
