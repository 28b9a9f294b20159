"""Where the data shipped with sizecheck live (reference tables, example data, sampling tables).

The wheel carries the top-level ``data/`` folders inside the package, read through
:mod:`importlib.resources`. An editable (development) install does not copy them,
so the repository's own ``data/`` folder is used instead.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path


def data_dir(name: str) -> Traversable:
    """The shipped data folder ``name`` (``reference_lasts``, ``examples`` or ``sampling``)."""
    packaged = resources.files("sizecheck") / "data" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "data" / name
