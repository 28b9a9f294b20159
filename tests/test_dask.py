"""The Dask engine gives the one-machine results: every contract table, the rejects,
the accounting and the findings, on the bundled example and on several generated files
cut into several partitions each (a local cluster of 2 in-process workers).

The reference is the pandas path (:func:`sizecheck.pipeline.analyse`), whose statistics
the other test modules check against independent computations; here the question is
only whether partitioning by producer changes anything.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sizecheck as sc
from sizecheck.cli import app
from sizecheck.examples import example_path
from sizecheck.simulate import write_cluster_csv

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from sizecheck.engine_dask import (  # noqa: E402
    DASK_INSTALL_HINT,
    PER_PRODUCER_TABLES,
    analyse_dask,
    expand_inputs,
    input_text,
)

#: The tables of an Analysis compared, and the rejects (compared exactly).
TABLES = (*PER_PRODUCER_TABLES, "comparison")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def cluster_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three generated files whose producers appear in all of them (same names, other
    visits), one of them with rows a person would have to fix."""
    folder = tmp_path_factory.mktemp("cluster")
    paths = []
    for i in range(3):
        p = folder / f"visits-{i}.csv"
        write_cluster_csv(p, rng=np.random.default_rng(20 + i), n_producers=7, visits=3,
                          pairs_per_visit=4)  # fmt: skip
        paths.append(p)
    first_row = paths[1].read_text("utf-8").splitlines()[1]
    with paths[1].open("a", encoding="utf-8") as fh:
        fh.write("900,Produsen 002,40,L,P0900,2026-06-01,abc,262.0,226.0\n")  # not a number
        fh.write(",,,,,,,,\n")  # blank row
        fh.write("901,,41,R,P0901,2026-06-01,270.0,269.5,229.0\n")  # no producer
        fh.write(first_row + "\n")  # a sample given again, far from its first row
    return paths


def _assert_same(one: sc.Analysis, other: sc.Analysis) -> None:
    """Every table equal to 1e-9, the rejects, accounting and findings identical."""
    for name in TABLES:
        a, b = getattr(one, name), getattr(other, name)
        assert list(a.columns) == list(b.columns), name
        assert len(a) == len(b), name
        pd.testing.assert_frame_equal(
            a.reset_index(drop=True), b.reset_index(drop=True),
            check_dtype=False, check_categorical=False, rtol=1e-9, atol=1e-9, obj=name,
        )  # fmt: skip
    pd.testing.assert_frame_equal(one.rejects, other.rejects)
    assert one.accounting == other.accounting
    assert one.missing_dimensions == other.missing_dimensions
    assert one.inputs == other.inputs
    assert list(one.findings) == list(other.findings)
    assert [f.to_dict() for f in one.findings.values()] == [
        f.to_dict() for f in other.findings.values()
    ]


def test_example_on_dask_equals_pandas(client, tmp_path: Path) -> None:
    path = example_path()
    pandas_run = sc.analyse([path])
    dask_run = analyse_dask([path], partition_rows=600, deviations_to=tmp_path / "dev")
    # several parts of one file, and several partitions of whole producers after the shuffle
    assert dask_run.partitions == math.ceil(dask_run.n_deviations / 600) >= 3
    assert dask_run.shuffled_partitions == dask_run.partitions
    _assert_same(pandas_run, dask_run)
    # the deviations, never gathered by the run, are all in the folder, in file order
    written = pd.read_parquet(tmp_path / "dev")
    assert dask_run.n_deviations == len(pandas_run.deviations) == len(written)
    expected = pandas_run.deviations.loc[:, list(written.columns)]
    written["date"] = pd.to_datetime(written["date"])  # Parquet holds dates as dates
    pd.testing.assert_frame_equal(written, expected, check_categorical=False, check_dtype=False)


def test_several_files_partitioned_by_producer(client, cluster_files: list[Path]) -> None:
    pandas_run = sc.analyse(cluster_files)
    dask_run = analyse_dask(cluster_files, partition_rows=70)
    # a file's deviations are cut into parts of at most partition_rows rows
    rows = pandas_run.deviations.groupby("source", observed=True).size()
    assert dask_run.partitions == sum(math.ceil(n / 70) for n in rows)
    assert dask_run.partitions >= 2 * len(cluster_files)
    assert dask_run.shuffled_partitions == math.ceil(rows.sum() / 70)
    _assert_same(pandas_run, dask_run)
    # the producers really span the files, and the messy rows were caught
    assert pandas_run.producer_summary["producer"].nunique() == 7
    codes = set(dask_run.rejects["code"])
    assert {"not_a_number", "missing_producer", "duplicate_sample"} <= codes
    # rows and cells read = used + rejected, per file and over all
    acc = dask_run.accounting
    assert acc.rows_read == acc.rows_used + acc.rows_rejected
    assert acc.cells_read == acc.cells_used + acc.cells_rejected
    assert [s.source for s in acc.sources] == [p.name for p in cluster_files]
    # row numbers are the file's lines (the header is line 1)
    bad = dask_run.rejects.loc[dask_run.rejects["code"] == "not_a_number"].iloc[0]
    lines = cluster_files[1].read_text("utf-8").splitlines()
    assert lines[int(bad["row"]) - 1].startswith("900,Produsen 002")


def test_analyse_engine_dask_and_globs(client, cluster_files: list[Path]) -> None:
    pattern = str(cluster_files[0].parent / "visits-*.csv")
    assert expand_inputs([pattern]) == [str(p) for p in cluster_files]
    pandas_run, dask_run = sc.analyse(cluster_files), sc.analyse([pattern], engine="dask")
    _assert_same(pandas_run, dask_run)
    # the cluster model, fitted in this process on the columns it reads: the same table
    assert pandas_run.cluster is not None and dask_run.cluster is not None
    pd.testing.assert_frame_equal(
        pandas_run.cluster.summary, dask_run.cluster.summary, check_exact=True
    )
    pd.testing.assert_frame_equal(
        pandas_run.cluster.offsets, dask_run.cluster.offsets, check_exact=True
    )
    assert dask_run.cluster_note == pandas_run.cluster_note
    assert sc.analyse([pattern], engine="dask", cluster=False).cluster is None
    with pytest.raises(sc.InputError, match="No input file matches"):
        expand_inputs([str(cluster_files[0].parent / "none-*.csv")])


def test_same_file_name_in_two_folders_keeps_the_paths_as_labels(
    client, cluster_files: list[Path], tmp_path: Path
) -> None:
    other = tmp_path / cluster_files[0].name
    other.write_bytes(cluster_files[1].read_bytes())
    files = [cluster_files[0], other]
    dask_run = analyse_dask(files)
    _assert_same(sc.analyse(files), dask_run)
    assert {s.source for s in dask_run.accounting.sources} == {str(p) for p in files}


def test_input_text_restores_urls() -> None:
    assert input_text(Path("s3://bucket/a.csv")) == "s3://bucket/a.csv"
    assert input_text(Path("data/a.csv")) == "data/a.csv"
    assert input_text("C:/data/a.csv") == "C:/data/a.csv"


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


@pytest.mark.slow  # three runs of the example (~7 s)
def test_measure_engine_dask_writes_the_same_files(client, tmp_path: Path) -> None:
    runner = CliRunner()
    one, other = tmp_path / "pandas", tmp_path / "dask"
    heading = ["--title", "Musim 2026", "--office", "UPT Mojokerto", "--report-no", "QA/7"]
    pandas_args = ["measure", "--example", "--no-charts", "--deviations", "parquet", *heading]
    res = runner.invoke(app, [*pandas_args, "--out", str(one)])
    assert res.exit_code == 0, res.output
    address = client.scheduler.address
    dask_args = ["measure", "--example", "--engine", "dask", "--scheduler", address, *heading]
    res = runner.invoke(app, [*dask_args, "--out", str(other)])
    assert res.exit_code == 0, res.output
    # the terminal says what the Dask engine does not draw
    assert "no charts/, report.html or cards" in " ".join(res.output.split())
    assert not (other / "report.html").exists()
    # byte for byte, the cluster model's table too
    pandas_files = _outputs(one)
    assert "cluster_summary.csv" in pandas_files
    assert pandas_files == _outputs(other)
    pd.testing.assert_frame_equal(
        pd.read_parquet(one / "deviations.parquet"), pd.read_parquet(other / "deviations.parquet")
    )
    a = json.loads((one / "summary.json").read_text("utf-8"))
    b = json.loads((other / "summary.json").read_text("utf-8"))
    assert b["cluster"]["written"] is True
    assert b["report"] == {"title": "Musim 2026", "office": "UPT Mojokerto", "report_no": "QA/7"}
    for key in set(a) - {"created", "outputs"}:
        assert a[key] == b[key], key
    assert all(n.startswith("deviations.parquet/part.") for n in b["outputs"][:1])
    manifest = json.loads((other / ".sizecheck-manifest.json").read_text("utf-8"))
    assert set(manifest["files"]) == set(b["outputs"])
    # a second run into the same folder replaces the first one's partitions
    res = runner.invoke(app, [*dask_args, "--out", str(other)])
    assert res.exit_code == 0, res.output
    assert len(list((other / "deviations.parquet").iterdir())) == 1
    # the pandas engine into the same folder: its file replaces the Dask engine's folder
    res = runner.invoke(app, [*pandas_args, "--out", str(other)])
    assert res.exit_code == 0, res.output
    assert (other / "deviations.parquet").is_file()
    pd.testing.assert_frame_equal(
        pd.read_parquet(one / "deviations.parquet"), pd.read_parquet(other / "deviations.parquet")
    )
    # and the Dask engine writes no deviations.csv: refused, before any work
    res = runner.invoke(app, [*dask_args, "--deviations", "csv", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "deviations.parquet/" in res.output
    assert not (tmp_path / "x").exists()


def test_without_dask_the_engine_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if missing
    res = CliRunner().invoke(
        app, ["measure", "--example", "--engine", "dask", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install 'sizecheck[dask]'" in lines[0], res.output
    assert DASK_INSTALL_HINT.startswith("The Dask engine")
    assert not (tmp_path / "o").exists()


def test_unknown_engine_is_refused(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["measure", "--example", "--engine", "spark", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2 and "spark" in res.output
    with pytest.raises(sc.UsageError, match="engine"):
        sc.analyse([example_path()], engine="spark")


def test_lots_judged_per_producer(client, tmp_path: Path) -> None:
    from sizecheck.sampling import sampling_plan

    files = []
    for i in range(2):
        p = tmp_path / f"lots-{i}.csv"
        write_cluster_csv(p, rng=np.random.default_rng(i), n_producers=4, visits=3,
                          pairs_per_visit=6)  # fmt: skip
        frame = pd.read_csv(p, dtype=str)
        frame["lot"] = "L-" + frame["date"]  # one lot per visit
        frame.to_csv(p, index=False)
        files.append(p)
    plan = sampling_plan(180, 2.5)
    pandas_run = sc.analyse(files, lot_plan=plan)
    assert len(pandas_run.lots) > 0
    _assert_same(pandas_run, analyse_dask(files, lot_plan=plan, partition_rows=60))


@pytest.mark.parametrize("method", ["holm", "fdr"])
def test_multiple_testing_adjusts_over_all_producers(
    client, cluster_files: list[Path], method: str
) -> None:
    # the family is every producer x dimension, as on one machine, not each partition's
    th = sc.Thresholds(multiple_testing=method)
    pandas_run = sc.analyse(cluster_files, thresholds=th)
    dask_run = sc.analyse(cluster_files, engine="dask", thresholds=th)
    small = analyse_dask(cluster_files, thresholds=th, partition_rows=70)
    assert small.shuffled_partitions >= 3  # the 7 producers are judged in several partitions
    _assert_same(pandas_run, dask_run)
    _assert_same(pandas_run, small)
    ps = small.producer_summary
    raw, adjusted = ps["offset_p"], ps["offset_p_adjusted"]
    assert (adjusted.dropna() >= raw[adjusted.notna()]).all()
    assert (adjusted.dropna() > raw[adjusted.notna()]).any()  # the adjustment did something


def _publish(out: Path, names: dict[str, bytes]) -> list[str]:
    """One run's files published into ``out`` (as write_report does), its manifest back."""
    from sizecheck.publish import OutputFolder, read_manifest

    with OutputFolder(
        out, expect=[n.split("/")[0] + ("/" if "/" in n else "") for n in names]
    ) as f:
        for name, data in names.items():
            f.write_bytes(name, data)
        f.commit()
    return list(read_manifest(out))


def test_the_other_engine_replaces_the_deviations_file_or_folder(tmp_path: Path) -> None:
    # pandas writes the file deviations.parquet, Dask the folder deviations.parquet/
    pandas_run = {"deviations.parquet": b"one file", "summary.json": b"{}"}
    dask_run = {
        "deviations.parquet/part.00000.parquet": b"a",
        "deviations.parquet/part.00001.parquet": b"b",
        "summary.json": b"{}",
    }
    assert _publish(tmp_path, pandas_run) == list(pandas_run)
    assert _publish(tmp_path, dask_run) == list(dask_run)
    assert (tmp_path / "deviations.parquet").is_dir()
    assert sorted(p.name for p in (tmp_path / "deviations.parquet").iterdir()) == [
        "part.00000.parquet", "part.00001.parquet"
    ]  # fmt: skip
    assert _publish(tmp_path, pandas_run) == list(pandas_run)
    assert (tmp_path / "deviations.parquet").read_bytes() == b"one file"


def test_a_folder_of_the_users_is_not_replaced_by_the_deviations_file(tmp_path: Path) -> None:
    from sizecheck.publish import OutputConflictError

    dask_run = {"deviations.parquet/part.00000.parquet": b"a", "summary.json": b"{}"}
    _publish(tmp_path, dask_run)
    (tmp_path / "deviations.parquet" / "notes.txt").write_text("mine", "utf-8")
    with pytest.raises(OutputConflictError, match=r"deviations\.parquet"):
        _publish(tmp_path, {"deviations.parquet": b"one file", "summary.json": b"{}"})
    assert (tmp_path / "deviations.parquet" / "notes.txt").read_text("utf-8") == "mine"
    assert (tmp_path / "deviations.parquet" / "part.00000.parquet").read_bytes() == b"a"
