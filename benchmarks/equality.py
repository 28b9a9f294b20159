"""Save the statistics sizecheck computes, and compare them with a saved run to 1e-9.

A restructuring of the statistics must not change a number by accident. Before the
change, save the outputs of the code as it is; after it, compare::

    .venv/bin/python benchmarks/equality.py save benchmarks/_work/equality-main
    .venv/bin/python benchmarks/equality.py compare benchmarks/_work/equality-main

(``--src DIR`` runs another copy of the package, e.g. a ``git worktree`` of an older
commit, without installing it.) The cases:

- ``sizecheck measure --example`` (the bundled synthetic cluster) through
  :func:`sizecheck.analyse`: every frame of the :class:`~sizecheck.pipeline.Analysis`
  (producer summary, size summary, comparison, conventions, control points, signals,
  shifts, corrections, period levels, size summary per model);
- every file of ``tests/data/ingest`` that measures, the same way;
- a 20,000-shoe season made by ``bench_measure.generate`` (pairs, dates), the same way;
- 40 seeded random ``deviations`` frames with several producers, dimensions and sizes,
  dates on some rows (and on none for some producers), pair ids (missing on some rows,
  pairs with one shoe, a pair id at two sizes or at two producers), lots, missing
  values, ``no_reference`` rows, one-row groups, a one-sided dimension and a
  ``nominal_step_mm`` column; each through ``control_chart``, ``producer_summary`` (the
  chart passed and not), ``size_summary``, ``compare_producers``, ``find_conventions``,
  ``periods`` with its ``corrections`` and ``levels``.

``compare`` checks that every saved frame has the same rows and every saved column (new
columns may be added: extra columns, or a contract column added on purpose), the same
text, and numbers equal to ``|a - b| <= 1e-9 + 1e-9 |b|`` (NaN equal to NaN);
it prints each difference and exits 1 when there is one. Cases whose expected output
changed on purpose are named with ``--expect-changed NAME`` (a glob).

``outputs OLD NEW`` compares two ``sizecheck measure`` output folders the same way: every
CSV, the deviations file (Parquet read back) and every number and text of
``summary.json`` (its creation time and tool version aside); ``--skip NAME`` (a glob,
repeatable) leaves out a file or a JSON key, e.g. ``--skip cluster_summary.csv --skip
'cluster*'`` while the cluster model is being changed::

    .venv/bin/python benchmarks/equality.py outputs DIR_MAIN DIR_BRANCH --skip 'cluster*'
"""

from __future__ import annotations

import argparse
import fnmatch
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

RTOL = 1e-9
ATOL = 1e-9

ANALYSIS_FRAMES = (
    "producer_summary",
    "size_summary",
    "comparison",
    "conventions",
    "control_points",
    "signals",
    "shifts",
    "corrections",
    "levels",
    "model_size_summary",
)


def random_deviations(seed: int) -> Any:
    """A messy ``deviations`` frame: what compare() gives on files a QA office keeps."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    # pairs: two shoes of one producer, dimension, size and date; then some right shoes
    # dropped, some ids missing, some reused at another size or producer
    n_pairs = int(rng.integers(20, 200))
    producers = np.array(["A", "B", "C", "D", "E"])
    p_prod = rng.choice(producers, size=n_pairs, p=[0.4, 0.3, 0.2, 0.09, 0.01])
    p_dim = rng.choice(
        np.array(["insole_length", "last_length", "toecap_length"]), n_pairs, p=[0.5, 0.35, 0.15]
    )
    p_size = rng.integers(36, 47, n_pairs) + np.where(rng.random(n_pairs) < 0.1, 0.5, 0.0)
    p_day = rng.integers(0, 60, n_pairs)
    shoe = np.repeat(np.arange(n_pairs), 2)
    keep = ~((np.arange(2 * n_pairs) % 2 == 1) & (rng.random(2 * n_pairs) < 0.15))
    shoe = shoe[keep]
    n = len(shoe)
    prod, dim, size = p_prod[shoe], p_dim[shoe], p_size[shoe].astype(float)
    pair = np.array([f"p{k}" for k in shoe], dtype=object)
    pair[rng.random(n) < 0.1] = None
    pair[rng.random(n) < 0.04] = "p0"
    foot = np.where(np.arange(2 * n_pairs)[keep] % 2 == 0, "L", "R").astype(object)
    foot[rng.random(n) < 0.1] = None
    days = pd.Timestamp("2025-02-01") + pd.to_timedelta(p_day[shoe], unit="D")
    date = pd.Series(days)
    date[rng.random(n) < rng.uniform(0.0, 0.6)] = pd.NaT
    date[prod == "C"] = pd.NaT  # an undated producer
    lot = pd.Series([f"L{k}" for k in rng.integers(0, 6, n)], dtype="str")
    lot[rng.random(n) < 0.3] = pd.NA
    lot[prod == "C"] = pd.NA
    if seed % 4 == 1:
        lot[prod == "C"] = [f"L{k // 5}" for k in range(int((prod == "C").sum()))]
    step = np.where(dim == "toecap_length", 5.0, 20.0 / 3.0)
    nominal = np.where(dim == "toecap_length", 200.0 + 5.0 * (size - 41), size * 20.0 / 3.0)
    offset = {"A": 0.0, "B": 3.0, "C": -1.0, "D": 0.5, "E": 0.0}
    grading = {"A": 0.0, "B": -1.6, "C": 0.2, "D": 0.0, "E": 0.0}
    value = (
        nominal
        + np.array([offset[p] for p in prod])
        + np.array([grading[p] for p in prod]) * (size - 41)
        + rng.normal(0, rng.uniform(0.2, 1.5), n)
    )
    if seed % 3 != 0:  # a step of 3 mm at A halfway through the dates: drift signals
        value = value + np.where((prod == "A") & (p_day[shoe] >= 30), 3.0, 0.0)
    value = np.round(value, int(rng.integers(1, 4)))
    dev = value - nominal
    lower = np.where(dim == "toecap_length", nominal, nominal - 1.5)
    upper = np.where(dim == "toecap_length", np.inf, nominal + 1.5)
    status = np.where((dev >= lower - nominal) & (dev <= upper - nominal), "in_spec", "drifting")
    status = np.where(np.abs(dev) > 3.33, "missized", status).astype(object)
    status[(dim == "toecap_length") & (dev < 0)] = "below_min"
    nr = rng.random(n) < 0.03
    status[nr] = "no_reference"
    nominal = np.where(nr, np.nan, nominal)
    dev = np.where(nr, np.nan, dev)
    size[rng.random(n) < 0.02] = np.nan
    frame = pd.DataFrame(
        {
            "source": np.where(rng.random(n) < 0.7, "a.csv", "b.xlsx"),
            "row": rng.permutation(n) + 2,
            "sample_id": [f"s{k}" for k in range(n)],
            "producer": prod,
            "model": "m",
            "size_label": [f"{s:g}" for s in size],
            "size": size,
            "foot": pd.Series(foot, dtype="str"),
            "pair": pd.Series(pair, dtype="str"),
            "date": date,
            "lot": lot,
            "operator": "op",
            "dimension": dim,
            "value_mm": value,
            "nominal_mm": nominal,
            "deviation_mm": dev,
            "deviation_sizes": dev / step,
            "lower_mm": lower,
            "upper_mm": upper,
            "status": pd.Series(status, dtype="str"),
            "grade_step_mm": step,
        }
    )
    if seed % 3 == 0:
        frame["nominal_step_mm"] = np.where(dim == "toecap_length", 1.0, np.nan)
    if seed % 2 == 0:
        for col in ("source", "producer", "dimension", "status", "foot", "lot"):
            frame[col] = frame[col].astype("category")
    if seed % 5 == 0:
        frame = frame.drop(columns=["pair", "foot"])
    return frame


def _frames_of_analysis(analysis: Any) -> dict[str, Any]:
    return {name: getattr(analysis, name) for name in ANALYSIS_FRAMES}


def _statistics_of(frame: Any) -> dict[str, Any]:
    from sizecheck import drift, stats

    chart = drift.control_chart(frame)
    return {
        "control_points": chart.points,
        "signals": chart.signals,
        "shifts": chart.shifts,
        "producer_summary": stats.producer_summary(frame, base_size=41.0, chart=chart),
        "producer_summary_own_chart": stats.producer_summary(frame, base_size=41.0),
        "size_summary": stats.size_summary(frame),
        "comparison": stats.compare_producers(frame),
        "conventions": stats.find_conventions(frame),
        **_periods_of(frame),
    }


def _periods_of(frame: Any) -> dict[str, Any]:
    """Corrections and period levels, split at each group's detected change."""
    from sizecheck import drift, stats

    groups = stats.prepare(frame)
    periods = stats.periods(groups, drift.control_chart(frame, groups=groups))
    return {"corrections": stats.corrections(periods), "levels": stats.levels(periods)}


def cases() -> Iterator[tuple[str, Callable[[], dict[str, Any]]]]:
    """(name, function computing the frames) for every case."""
    import sizecheck as sc
    from sizecheck.errors import SizecheckError

    yield "example", lambda: _frames_of_analysis(sc.analyse([sc.example_path()], synthetic=True))
    for path in sorted((ROOT / "tests" / "data" / "ingest").iterdir()):
        if path.suffix not in {".csv", ".txt", ".xlsx"}:
            continue

        def ingest(path: Path = path) -> dict[str, Any]:
            try:
                return _frames_of_analysis(sc.analyse([path]))
            except SizecheckError as exc:  # does not measure: nothing to compare
                return {"error": type(exc).__name__}

        yield f"ingest/{path.name}", ingest

    def season() -> dict[str, Any]:
        sys.path.insert(0, str(HERE))
        from bench_measure import generate

        with tempfile.TemporaryDirectory() as tmp:
            path = generate(Path(tmp) / "season.csv", 20_000, 12, seed=3)
            return _frames_of_analysis(sc.analyse([path]))

    yield "season-20000", season
    for seed in range(40):
        yield f"random/{seed:02d}", lambda seed=seed: _statistics_of(random_deviations(seed))


def _differences(name: str, old: Any, new: Any) -> list[str]:
    import numpy as np
    import pandas as pd

    if not isinstance(old, pd.DataFrame):
        return [] if old == new else [f"{name}: {old!r} != {new!r}"]
    if not isinstance(new, pd.DataFrame):
        return [f"{name}: not a frame now ({type(new).__name__})"]
    gone = [c for c in old.columns if c not in new.columns]
    if gone:
        return [f"{name}: columns {gone} are gone"]
    if len(old) != len(new):
        return [f"{name}: {len(old)} rows -> {len(new)}"]
    out = []
    for col in old.columns:
        a, b = old[col], new[col]
        if a.dtype.kind in "fiub" and b.dtype.kind in "fiub":
            x = a.to_numpy(dtype=np.float64)
            y = b.to_numpy(dtype=np.float64)
            same = (x == y) | (np.isnan(x) & np.isnan(y))
            with np.errstate(invalid="ignore"):
                same |= np.abs(x - y) <= ATOL + RTOL * np.abs(x)
            if not same.all():
                i = int(np.nonzero(~same)[0][0])
                out.append(
                    f"{name}.{col}: {int((~same).sum())} values differ, e.g. row {i}: "
                    f"{x[i]!r} -> {y[i]!r}"
                )
        else:
            sa = np.array([str(v) if pd.notna(v) else "<missing>" for v in a], dtype=object)
            sb = np.array([str(v) if pd.notna(v) else "<missing>" for v in b], dtype=object)
            if (sa != sb).any():
                i = int(np.nonzero(sa != sb)[0][0])
                out.append(f"{name}.{col}: text differs, e.g. row {i}: {sa[i]!r} -> {sb[i]!r}")
            if (a.dtype.kind == "M") != (b.dtype.kind == "M"):
                out.append(f"{name}.{col}: dtype {a.dtype} -> {b.dtype}")
    return out


def _json_frames(data: Any, prefix: str = "") -> dict[str, Any]:
    """Every number and text of a JSON document, as a one-column frame per path."""
    import pandas as pd

    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_json_frames(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(data, list) and data and all(not isinstance(v, dict | list) for v in data):
        return {prefix: pd.DataFrame({"value": data})}
    if isinstance(data, list):
        out = {}
        for i, v in enumerate(data):
            out.update(_json_frames(v, f"{prefix}[{i}]"))
        return out
    return {prefix: pd.DataFrame({"value": [data]})}


#: Parts of summary.json that differ between two runs by nature.
RUN_FIELDS = ("created", "tool_version", "version", "elapsed")


def compare_outputs(old: Path, new: Path, skip: Sequence[str]) -> list[str]:
    """Differences between two ``sizecheck measure`` output folders: every CSV, the
    deviations (CSV or Parquet, read back) and ``summary.json`` (run time and version
    aside), numbers to 1e-9; names in ``skip`` (globs) are left out."""
    import json

    import pandas as pd

    problems: list[str] = []
    names = sorted({p.name for p in old.iterdir()} | {p.name for p in new.iterdir()})
    for name in names:
        if any(fnmatch.fnmatch(name, g) for g in skip):
            continue
        a, b = old / name, new / name
        if name.endswith((".csv", ".parquet", ".json")) and not (a.exists() and b.exists()):
            problems.append(f"{name}: only in {'old' if a.exists() else 'new'} folder")
            continue
        if name.endswith(".csv"):
            kw: dict[str, Any] = {"keep_default_na": False, "na_values": [""], "dtype": str}
            fa, fb = pd.read_csv(a, **kw), pd.read_csv(b, **kw)
            problems += _differences(name, _typed(fa), _typed(fb))
            if a.read_bytes() != b.read_bytes():
                print(f"note: {name} is not byte-identical (numbers compared to 1e-9)")
        elif name.endswith(".parquet"):
            problems += _differences(name, pd.read_parquet(a), pd.read_parquet(b))
        elif name == "summary.json":
            ja, jb = (_json_frames(json.loads(p.read_text("utf-8"))) for p in (a, b))
            for key in sorted(set(ja) | set(jb)):
                if any(f in key.split(".") for f in RUN_FIELDS) or any(
                    fnmatch.fnmatch(key, g) for g in skip
                ):
                    continue
                if key not in ja or key not in jb:
                    problems.append(f"summary.json {key}: only in one run")
                else:
                    problems += _differences(f"summary.json {key}", ja[key], jb[key])
    return problems


def _typed(frame: Any) -> Any:
    """Columns that read as numbers, as numbers (the CSVs were read as text)."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        numbers = pd.to_numeric(out[col], errors="coerce")
        if bool((numbers.notna() == out[col].notna()).all()) and out[col].notna().any():
            out[col] = numbers
    return out


def _file(folder: Path, case: str) -> Path:
    return folder / (case.replace("/", "__") + ".pkl")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["save", "compare", "outputs"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("other", type=Path, nargs="?", help="outputs: the new output folder")
    parser.add_argument(
        "--skip", action="append", default=[], help="outputs: file or JSON key names (globs)"
    )
    parser.add_argument("--src", type=Path, help="import sizecheck from this src/ folder")
    parser.add_argument(
        "--expect-changed",
        action="append",
        default=[],
        help="case or case.frame names (globs) whose output changed on purpose",
    )
    args = parser.parse_args(argv)
    if args.action == "outputs":
        if args.other is None:
            parser.error("outputs needs two folders: OLD NEW")
        found = compare_outputs(args.folder, args.other, args.skip)
        for line in found:
            print("DIFFERS:", line)
        print(
            f"outputs {args.folder} -> {args.other}: "
            f"{'equal' if not found else f'{len(found)} differences'} (rtol {RTOL:g})"
        )
        return 1 if found else 0
    if args.src is not None:
        sys.path.insert(0, str(args.src.resolve()))
    import sizecheck

    print(f"sizecheck from {Path(sizecheck.__file__).parent}")
    problems: list[str] = []
    changed_on_purpose: list[str] = []
    n_frames = 0
    if args.action == "save":
        args.folder.mkdir(parents=True, exist_ok=True)
    for case, compute in cases():
        frames = compute()
        path = _file(args.folder, case)
        if args.action == "save":
            path.write_bytes(pickle.dumps(frames))
            continue
        saved = pickle.loads(path.read_bytes())
        for key in sorted(set(saved) | set(frames)):
            label = f"{case}.{key}"
            n_frames += 1
            if key not in frames or key not in saved:
                diffs = [f"{label}: only in {'saved' if key in saved else 'new'} run"]
            else:
                diffs = _differences(label, saved[key], frames[key])
            if diffs and any(fnmatch.fnmatch(label, g) for g in args.expect_changed):
                changed_on_purpose += diffs
            else:
                problems += diffs
    if args.action == "save":
        print(f"saved to {args.folder}")
        return 0
    for line in changed_on_purpose:
        print("changed on purpose:", line)
    for line in problems:
        print("DIFFERS:", line)
    verdict = "equal" if not problems else f"{len(problems)} differences"
    print(f"{n_frames} frames compared (rtol {RTOL:g}, atol {ATOL:g}): {verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
