"""The bundled example data (synthetic), loadable by name.

>>> example_path().name
'mojokerto-synthetic.csv'
>>> available_examples()
['gage-insole', 'mojokerto']
"""

from __future__ import annotations

from pathlib import Path

from sizecheck._data import data_dir
from sizecheck.errors import UsageError

__all__ = ["EXAMPLES", "available_examples", "example_path"]

#: Example name -> file in the shipped ``examples`` folder. All examples are SYNTHETIC.
EXAMPLES = {
    "mojokerto": "mojokerto-synthetic.csv",
    "gage-insole": "gage-insole-synthetic.xlsx",  # a gage R&R study (sizecheck gage)
}


def available_examples() -> list[str]:
    """Names of the bundled examples."""
    return sorted(EXAMPLES)


def example_path(name: str = "mojokerto") -> Path:
    """Path of a bundled SYNTHETIC example file (see data/examples/README.md).

    Raises :class:`UsageError` for an unknown name, listing the known ones.
    """
    if name not in EXAMPLES:
        raise UsageError(f"Unknown example {name!r}. Available: {', '.join(available_examples())}.")
    return Path(str(data_dir("examples") / EXAMPLES[name]))
