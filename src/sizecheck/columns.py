"""The contract columns of every table sizecheck writes or passes between its steps.

One module, so that a reader checks a file's columns against ``shared/design.md`` in one
place, and the writers, the statistics and the tests all take them from here. Each tuple
is in the order the file's columns are written; extra columns, where a frame has them,
follow these. Changing a tuple changes a contract: do it on purpose, with the README and
the tests in the same commit.

>>> PRODUCER_SUMMARY[:3]
('producer', 'model', 'dimension')
"""

from __future__ import annotations

__all__ = [
    "CLUSTER_SUMMARY",
    "COMPARISON",
    "CORRECTIONS",
    "DEVIATIONS",
    "GAGE",
    "LOTS",
    "MEASUREMENTS",
    "PRODUCER_SUMMARY",
    "PROPOSAL_IMPACT",
    "REJECTS",
    "SIZE_SUMMARY",
]

#: The ``measurements`` frame of :func:`sizecheck.validate.validate` (docs/internals.md).
MEASUREMENTS: tuple[str, ...] = (
    "source",
    "row",
    "sample_id",
    "producer",
    "model",
    "size_label",
    "size",
    "foot",
    "pair",
    "date",
    "lot",
    "operator",
    "dimension",
    "value_mm",
)

#: ``deviations.csv`` / ``deviations.parquet``: the measurements, then the comparison.
DEVIATIONS: tuple[str, ...] = (
    *MEASUREMENTS,
    "nominal_mm",
    "deviation_mm",
    "deviation_sizes",
    "lower_mm",
    "upper_mm",
    "status",
)

#: ``rejects.csv``: one row per rejected cell or skipped row.
REJECTS: tuple[str, ...] = ("source", "row", "column", "value", "code", "message")

#: ``producer_summary.csv``: one row per producer × dimension and, when the input has a
#: model column, per producer × model × dimension (``model`` empty: all models pooled).
PRODUCER_SUMMARY: tuple[str, ...] = (
    "producer",
    "model",
    "dimension",
    "n",
    "n_sizes",
    "bias_mm",
    "bias_ci_low_mm",
    "bias_ci_high_mm",
    "bias_sizes",
    "offset_mm",
    "grade_error_mm_per_size",
    "grade_error_ci_low",
    "grade_error_ci_high",
    "sd_within_mm",
    "sd_overall_mm",
    "pct_in_spec",
    "pct_missized",
    "pct_out_expected",
    "cpk",
    "cpk_ci_low",
    "cpk_ci_high",
    "ppk",
    "pair_mismatch_mm",
    "pair_mismatch_ci_low_mm",
    "pair_mismatch_ci_high_mm",
    "drift_signals",
    "step_mm",
    "current_since",
    "current_n",
    "current_bias_mm",
    "current_ci_low_mm",
    "current_ci_high_mm",
    "verdict",
)

#: The frame of :func:`sizecheck.stats.size_summary`; its first nine columns are
#: ``size_summary.csv``.
SIZE_SUMMARY: tuple[str, ...] = (
    "producer",
    "dimension",
    "size",
    "n",
    "mean_mm",
    "nominal_mm",
    "bias_mm",
    "sd_mm",
    "effective_size",
    "size_label",
    "bias_ci_low_mm",
    "bias_ci_high_mm",
    "bias_sizes",
    "effective_size_ci_low",
    "effective_size_ci_high",
)

#: ``comparison.csv``: between producers, per dimension and size.
COMPARISON: tuple[str, ...] = (
    "dimension",
    "size",
    "n_producers",
    "n",
    "mean_min_mm",
    "mean_max_mm",
    "lowest_producer",
    "highest_producer",
    "spread_mm",
    "spread_sizes",
    "welch_k",
    "welch_f",
    "welch_df1",
    "welch_df2",
    "welch_p",
)

#: ``corrections.csv``: producer × model × dimension × size (design.md).
CORRECTIONS: tuple[str, ...] = (
    "producer",
    "model",
    "dimension",
    "size",
    "n",
    "nominal_mm",
    "mean_mm",
    "correction_mm",
    "correction_sizes",
    "ci_low_mm",
    "ci_high_mm",
    "since",
)

#: ``lots.csv``: one row per producer × lot × dimension judged against a sampling plan.
LOTS: tuple[str, ...] = (
    "producer",
    "lot",
    "dimension",
    "plan_code",
    "sample_size_required",
    "n_measured",
    "n_out",
    "accept_number",
    "reject_number",
    "k",
    "decision",
)

#: ``cluster_summary.csv``: the cluster as a whole, per dimension.
CLUSTER_SUMMARY: tuple[str, ...] = (
    "dimension",
    "n_producers",
    "n_visits",
    "between_sd_mm",
    "between_ci_low_mm",
    "between_ci_high_mm",
    "within_sd_mm",
    "visit_sd_mm",
    "icc",
    "icc_ci_low",
    "icc_ci_high",
    "share_missized",
    "share_ci_low",
    "share_ci_high",
    "method",
)

#: ``gage.csv``: one row per variance component of a gage R&R study.
GAGE: tuple[str, ...] = (
    "source",
    "variance_mm2",
    "pct_contribution",
    "sd_mm",
    "study_var_mm",
    "pct_study_var",
    "pct_tolerance",
)

#: ``proposal_impact.csv``: what a proposed cluster table would ask of each producer.
PROPOSAL_IMPACT: tuple[str, ...] = (
    "producer",
    "dimension",
    "verdict_current",
    "verdict_proposal",
    "correction_current_mm",
    "correction_proposal_mm",
)
