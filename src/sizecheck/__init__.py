"""sizecheck: how far do a footwear producer's shoe sizes drift from the reference?

The public API, listed by name. Names are imported on first use, so that
``import sizecheck`` (and the ``sizecheck --help`` command) stays light; the heavy
libraries (pandas, scipy, matplotlib) load only when a function needs them.

>>> import sizecheck as sc
>>> round(float(sc.load_table("paris-point").nominal("last_length", [41])[0]), 1)
273.3
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    __version__: str  # read on first use (importlib.metadata alone costs ~0.1-0.3 s)

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    # errors
    "SizecheckError": "sizecheck.errors",
    "UsageError": "sizecheck.errors",
    "SizeLabelError": "sizecheck.errors",
    "TableError": "sizecheck.errors",
    "UnknownTableError": "sizecheck.errors",
    "InputError": "sizecheck.errors",
    "MissingColumnsError": "sizecheck.errors",
    # sizes
    "SizeSystem": "sizecheck.sizes",
    "SizeLabel": "sizecheck.sizes",
    "parse_size": "sizecheck.sizes",
    "convert_size": "sizecheck.sizes",
    "convert_label": "sizecheck.sizes",
    "last_length_mm": "sizecheck.sizes",
    # tables
    "ReferenceTable": "sizecheck.tables",
    "load_table": "sizecheck.tables",
    "available_tables": "sizecheck.tables",
    "grade": "sizecheck.tables",
    "dumps_table": "sizecheck.tables",
    # example data
    "example_path": "sizecheck.examples",
    "available_examples": "sizecheck.examples",
    # reading and validation
    "read_input": "sizecheck.readers",
    "read_measurements": "sizecheck.validate",
    "validate": "sizecheck.validate",
    "RejectCode": "sizecheck.validate",
    # comparison, statistics, drift
    "compare": "sizecheck.compare",
    "producer_summary": "sizecheck.stats",
    "size_summary": "sizecheck.stats",
    "compare_producers": "sizecheck.stats",
    "find_conventions": "sizecheck.stats",
    "capability": "sizecheck.stats",
    "Thresholds": "sizecheck.stats",
    "DEFAULT_THRESHOLDS": "sizecheck.stats",
    "control_chart": "sizecheck.drift",
    # the whole run
    "Analysis": "sizecheck.pipeline",
    "analyse": "sizecheck.pipeline",
    "write_report": "sizecheck.report",
}

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Analysis",
    "InputError",
    "MissingColumnsError",
    "ReferenceTable",
    "RejectCode",
    "SizeLabel",
    "SizeLabelError",
    "SizeSystem",
    "SizecheckError",
    "TableError",
    "Thresholds",
    "UnknownTableError",
    "UsageError",
    "__version__",
    "analyse",
    "available_examples",
    "available_tables",
    "capability",
    "compare",
    "compare_producers",
    "control_chart",
    "convert_label",
    "convert_size",
    "dumps_table",
    "example_path",
    "find_conventions",
    "grade",
    "last_length_mm",
    "load_table",
    "parse_size",
    "producer_summary",
    "read_input",
    "read_measurements",
    "size_summary",
    "validate",
    "write_report",
]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sizecheck")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()["__version__"] = value = _version()
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sizecheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | {"__version__"})


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from sizecheck.compare import compare
    from sizecheck.errors import (
        InputError,
        MissingColumnsError,
        SizecheckError,
        SizeLabelError,
        TableError,
        UnknownTableError,
        UsageError,
    )
    from sizecheck.examples import available_examples, example_path
    from sizecheck.pipeline import Analysis, analyse
    from sizecheck.report import write_report
    from sizecheck.sizes import (
        SizeLabel,
        SizeSystem,
        convert_label,
        convert_size,
        last_length_mm,
        parse_size,
    )
    from sizecheck.tables import (
        ReferenceTable,
        available_tables,
        dumps_table,
        grade,
        load_table,
    )
