"""sizecheck: how far do a footwear producer's shoe sizes drift from the reference?

The public API, listed by name. Names are imported on first use, so that
``import sizecheck`` (and the ``sizecheck --help`` command) stays light; the heavy
libraries (pandas, scipy, matplotlib) load only when a function needs them.

Two functions are exported under names that differ from their module's, because a
package attribute that shares a submodule's name is replaced by the submodule when it is
imported: :func:`sizecheck.compare.compare` is ``compare_to_table`` and
:func:`sizecheck.validate.validate` is ``validate_sheets``.

>>> import sizecheck as sc
>>> round(float(sc.load_table("paris-point").nominal("last_length", [41])[0]), 1)
273.3
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    __version__: str  # read on first use (importlib.metadata alone costs ~0.1-0.3 s)

#: Public name -> (module that defines it, its name there).
_EXPORTS: dict[str, tuple[str, str]] = {
    "SizecheckError": ("sizecheck.errors", "SizecheckError"),
    "UsageError": ("sizecheck.errors", "UsageError"),
    "SizeLabelError": ("sizecheck.errors", "SizeLabelError"),
    "TableError": ("sizecheck.errors", "TableError"),
    "UnknownTableError": ("sizecheck.errors", "UnknownTableError"),
    "InputError": ("sizecheck.errors", "InputError"),
    "MissingColumnsError": ("sizecheck.errors", "MissingColumnsError"),
    "SizeSystem": ("sizecheck.sizes", "SizeSystem"),
    "SizeLabel": ("sizecheck.sizes", "SizeLabel"),
    "parse_size": ("sizecheck.sizes", "parse_size"),
    "convert_size": ("sizecheck.sizes", "convert_size"),
    "convert_label": ("sizecheck.sizes", "convert_label"),
    "last_length_mm": ("sizecheck.sizes", "last_length_mm"),
    "size_from_last_length": ("sizecheck.sizes", "size_from_last_length"),
    "DEFAULT_TOE_ALLOWANCE_MM": ("sizecheck.sizes", "DEFAULT_TOE_ALLOWANCE_MM"),
    "ReferenceTable": ("sizecheck.tables", "ReferenceTable"),
    "load_table": ("sizecheck.tables", "load_table"),
    "available_tables": ("sizecheck.tables", "available_tables"),
    "grade": ("sizecheck.tables", "grade"),
    "dumps_table": ("sizecheck.tables", "dumps_table"),
    "example_path": ("sizecheck.examples", "example_path"),
    "available_examples": ("sizecheck.examples", "available_examples"),
    "read_input": ("sizecheck.readers", "read_input"),
    "ReadLimits": ("sizecheck.readers", "ReadLimits"),
    "read_measurements": ("sizecheck.validate", "read_measurements"),
    "RejectCode": ("sizecheck.validate", "RejectCode"),
    "Accounting": ("sizecheck.validate", "Accounting"),
    "Validated": ("sizecheck.validate", "Validated"),
    "Compared": ("sizecheck.compare", "Compared"),
    "producer_summary": ("sizecheck.stats", "producer_summary"),
    "size_summary": ("sizecheck.stats", "size_summary"),
    "compare_producers": ("sizecheck.stats", "compare_producers"),
    "size_equivalents": ("sizecheck.stats", "size_equivalents"),
    "welch_anova": ("sizecheck.stats", "welch_anova"),
    "find_conventions": ("sizecheck.stats", "find_conventions"),
    "best_conventions": ("sizecheck.stats", "best_conventions"),
    "capability": ("sizecheck.stats", "capability"),
    "Thresholds": ("sizecheck.stats", "Thresholds"),
    "DEFAULT_THRESHOLDS": ("sizecheck.stats", "DEFAULT_THRESHOLDS"),
    "cluster_summary": ("sizecheck.cluster", "cluster_summary"),
    "ClusterSummary": ("sizecheck.cluster", "ClusterSummary"),
    "sample_size": ("sizecheck.power", "sample_size"),
    "SampleSize": ("sizecheck.power", "SampleSize"),
    "simulate_cluster": ("sizecheck.simulate", "simulate_cluster"),
    "SimulatedCluster": ("sizecheck.simulate", "SimulatedCluster"),
    "control_chart": ("sizecheck.drift", "control_chart"),
    "ControlChart": ("sizecheck.drift", "ControlChart"),
    "RULES": ("sizecheck.drift", "RULES"),
    "DEFAULT_RULES": ("sizecheck.drift", "DEFAULT_RULES"),
    "Analysis": ("sizecheck.pipeline", "Analysis"),
    "analyse": ("sizecheck.pipeline", "analyse"),
    "SamplingPlan": ("sizecheck.sampling", "SamplingPlan"),
    "sampling_plan": ("sizecheck.sampling", "sampling_plan"),
    "acceptance_probability": ("sizecheck.sampling", "acceptance_probability"),
    "judge_lots": ("sizecheck.sampling", "judge_lots"),
    "plan_words": ("sizecheck.sampling", "plan_words"),
    "write_report": ("sizecheck.report", "write_report"),
    "write_visuals": ("sizecheck.report", "write_visuals"),
    "write_table": ("sizecheck.report", "write_table"),
    "write_template": ("sizecheck.report", "write_template"),
    "compare_to_table": ("sizecheck.compare", "compare"),
    "validate_sheets": ("sizecheck.validate", "validate"),
    "validate_frame": ("sizecheck.validate", "validate_frame"),
    "gage_rr": ("sizecheck.gage", "gage_rr"),
    "read_study": ("sizecheck.gage", "read_study"),
    "analyse_study": ("sizecheck.gage", "analyse_study"),
    "load_gage": ("sizecheck.gage", "load_gage"),
    "gage_sentence": ("sizecheck.gage", "gage_sentence"),
    "GageStudy": ("sizecheck.gage", "GageStudy"),
    "GageResult": ("sizecheck.gage", "GageResult"),
    "GageAnalysis": ("sizecheck.gage", "GageAnalysis"),
    "GageDesignError": ("sizecheck.gage", "GageDesignError"),
    "write_gage": ("sizecheck.report_gage", "write_gage"),
    "write_gage_template": ("sizecheck.report_gage", "write_gage_template"),
    "propose_table": ("sizecheck.propose", "propose_table"),
    "build_proposal": ("sizecheck.propose", "build_proposal"),
    "proposal_impact": ("sizecheck.propose", "proposal_impact"),
    "TableProposal": ("sizecheck.propose", "TableProposal"),
    "Proposal": ("sizecheck.propose", "Proposal"),
    "write_proposal": ("sizecheck.report_propose", "write_proposal"),
}

#: Public subpackages.
_SUBPACKAGES = ("plotting",)

__all__ = [
    "DEFAULT_RULES",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_TOE_ALLOWANCE_MM",
    "RULES",
    "Accounting",
    "Analysis",
    "ClusterSummary",
    "Compared",
    "ControlChart",
    "GageAnalysis",
    "GageDesignError",
    "GageResult",
    "GageStudy",
    "InputError",
    "MissingColumnsError",
    "Proposal",
    "ReadLimits",
    "ReferenceTable",
    "RejectCode",
    "SampleSize",
    "SamplingPlan",
    "SimulatedCluster",
    "SizeLabel",
    "SizeLabelError",
    "SizeSystem",
    "SizecheckError",
    "TableError",
    "TableProposal",
    "Thresholds",
    "UnknownTableError",
    "UsageError",
    "Validated",
    "__version__",
    "acceptance_probability",
    "analyse",
    "analyse_study",
    "available_examples",
    "available_tables",
    "best_conventions",
    "build_proposal",
    "capability",
    "cluster_summary",
    "compare_producers",
    "compare_to_table",
    "control_chart",
    "convert_label",
    "convert_size",
    "dumps_table",
    "example_path",
    "find_conventions",
    "gage_rr",
    "gage_sentence",
    "grade",
    "judge_lots",
    "last_length_mm",
    "load_gage",
    "load_table",
    "parse_size",
    "plan_words",
    "plotting",
    "producer_summary",
    "proposal_impact",
    "propose_table",
    "read_input",
    "read_measurements",
    "read_study",
    "sample_size",
    "sampling_plan",
    "simulate_cluster",
    "size_equivalents",
    "size_from_last_length",
    "size_summary",
    "validate_frame",
    "validate_sheets",
    "welch_anova",
    "write_gage",
    "write_gage_template",
    "write_proposal",
    "write_report",
    "write_table",
    "write_template",
    "write_visuals",
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
    if name in _SUBPACKAGES:
        return importlib.import_module(f"sizecheck.{name}")
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'sizecheck' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from sizecheck import plotting
    from sizecheck.cluster import (
        ClusterSummary,
        cluster_summary,
    )
    from sizecheck.compare import (
        Compared,
    )
    from sizecheck.compare import compare as compare_to_table
    from sizecheck.drift import (
        DEFAULT_RULES,
        RULES,
        ControlChart,
        control_chart,
    )
    from sizecheck.errors import (
        InputError,
        MissingColumnsError,
        SizecheckError,
        SizeLabelError,
        TableError,
        UnknownTableError,
        UsageError,
    )
    from sizecheck.examples import (
        available_examples,
        example_path,
    )
    from sizecheck.gage import (
        GageAnalysis,
        GageDesignError,
        GageResult,
        GageStudy,
        analyse_study,
        gage_rr,
        gage_sentence,
        load_gage,
        read_study,
    )
    from sizecheck.pipeline import (
        Analysis,
        analyse,
    )
    from sizecheck.power import (
        SampleSize,
        sample_size,
    )
    from sizecheck.propose import (
        Proposal,
        TableProposal,
        build_proposal,
        proposal_impact,
        propose_table,
    )
    from sizecheck.readers import (
        ReadLimits,
        read_input,
    )
    from sizecheck.report import (
        write_report,
        write_table,
        write_template,
        write_visuals,
    )
    from sizecheck.report_gage import (
        write_gage,
        write_gage_template,
    )
    from sizecheck.report_propose import (
        write_proposal,
    )
    from sizecheck.sampling import (
        SamplingPlan,
        acceptance_probability,
        judge_lots,
        plan_words,
        sampling_plan,
    )
    from sizecheck.simulate import (
        SimulatedCluster,
        simulate_cluster,
    )
    from sizecheck.sizes import (
        DEFAULT_TOE_ALLOWANCE_MM,
        SizeLabel,
        SizeSystem,
        convert_label,
        convert_size,
        last_length_mm,
        parse_size,
        size_from_last_length,
    )
    from sizecheck.stats import (
        DEFAULT_THRESHOLDS,
        Thresholds,
        best_conventions,
        capability,
        compare_producers,
        find_conventions,
        producer_summary,
        size_equivalents,
        size_summary,
        welch_anova,
    )
    from sizecheck.tables import (
        ReferenceTable,
        available_tables,
        dumps_table,
        grade,
        load_table,
    )
    from sizecheck.validate import (
        Accounting,
        RejectCode,
        Validated,
        read_measurements,
        validate_frame,
    )
    from sizecheck.validate import validate as validate_sheets
