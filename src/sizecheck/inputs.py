"""The identity of one input: its path, label and SHA-256 (a file's bytes or a
DataFrame's cells), recorded in ``summary.json`` and ``gage.json``.

A module of its own so that :mod:`sizecheck.pipeline` and :mod:`sizecheck.gage` both use it
without importing each other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["InputFile", "file_sha256", "frame_sha256"]


@dataclass(frozen=True)
class InputFile:
    """One input: its path, the label its rows carry as ``source``, and its hash.

    A DataFrame given to :func:`sizecheck.analyse` is an input of ``kind`` ``"frame"``: its
    ``path`` is empty, its ``sha256`` a digest of its cells
    (:func:`frame_sha256`) and ``size_bytes`` its memory use.
    """

    path: str
    source: str
    sha256: str
    size_bytes: int
    kind: str = "file"


def frame_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a DataFrame's column names and cells (pandas' row hashes, in order):
    two frames with the same cells give the same digest within one pandas version."""
    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode("utf-8"))
    rows = pd.util.hash_pandas_object(frame, index=False)
    digest.update(rows.to_numpy(dtype="uint64").tobytes())
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks (the file is only read)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
