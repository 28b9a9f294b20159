"""Statistics of deviations: per producer, per size, between producers.

Every table function takes the long ``deviations`` frame that
:func:`sizecheck.compare.compare` produces (one row per accepted measurement, see
``docs/internals.md``) and returns a new tidy DataFrame, one row per group, without
touching its input. Rows whose ``status`` is ``no_reference`` or whose ``nominal_mm``,
``deviation_mm`` or ``size`` is missing are left out of every statistic.

The package, in the order a reviewer reads it:

- :mod:`~sizecheck.stats.reference` — each statistic once, for one group's plain arrays,
  with its formula and source: the file a statistician checks.
- :mod:`~sizecheck.stats.groups` — :func:`prepare` builds a :class:`Groups` (the usable
  rows, grouped, in time order, with the independent unit of each shoe) once; every table
  function takes it as ``groups=`` or builds its own.
- :mod:`~sizecheck.stats.kernels` — the same statistics vectorised over all groups;
  ``tests/test_kernels.py`` proves them equal to the references.
- :mod:`~sizecheck.stats.summary` (:func:`producer_summary`),
  :mod:`~sizecheck.stats.verdicts` (:class:`Thresholds`, :func:`verdicts`: a pure
  function of the summary), :mod:`~sizecheck.stats.per_size` (:func:`size_summary`,
  :func:`compare_producers`, :func:`size_equivalents`, :func:`welch_anova`),
  :mod:`~sizecheck.stats.conventions` (:func:`find_conventions`) and
  :mod:`~sizecheck.stats.process_capability` (:func:`capability`) build the tables.

Named constants
---------------
``D2``
    1.128, the bias-correction constant d2 for moving ranges of span 2:
    ``sigma_within = mean moving range / D2``.
``DEFAULT_THRESHOLDS``
    The verdict thresholds (:class:`Thresholds`); see that class for each value.
``CONVENTIONS``
    The candidate sizing conventions tried by :func:`find_conventions`.
``BOOTSTRAP_SEED``, ``BOOTSTRAP_REPLICATES``
    20261129 and 999: the seed and replicates of the change-point bootstrap
    (:func:`change_point_intervals`); the same data give the same intervals.
``CONVENTION_TIE_MM``
    0.05 mm: within this margin of the lowest RMS, a convention with nothing fitted is
    preferred by :func:`find_conventions`.
"""

from __future__ import annotations

from sizecheck.stats.conventions import (
    CONVENTION_TIE_MM,
    CONVENTIONS,
    Convention,
    best_conventions,
    find_conventions,
)
from sizecheck.stats.groups import GROUP_BY, REQUIRED_COLUMNS, Groups, prepare
from sizecheck.stats.per_size import (
    COMPARISON_COLUMNS,
    SIZE_SUMMARY_COLUMNS,
    compare_producers,
    size_equivalents,
    size_summary,
    welch_anova,
)
from sizecheck.stats.periods import (
    BOOTSTRAP_REPLICATES,
    BOOTSTRAP_SEED,
    Periods,
    change_point_intervals,
    corrections,
    levels,
    periods,
)
from sizecheck.stats.process_capability import Capability, capability
from sizecheck.stats.reference import D2, MISSIZED_STATUSES, capability_indices
from sizecheck.stats.summary import (
    PRODUCER_SUMMARY_COLUMNS,
    SUMMARY_EXTRA_COLUMNS,
    producer_summary,
)
from sizecheck.stats.verdicts import DEFAULT_THRESHOLDS, Thresholds, change_detected, verdicts

__all__ = [
    "BOOTSTRAP_REPLICATES",
    "BOOTSTRAP_SEED",
    "COMPARISON_COLUMNS",
    "CONVENTIONS",
    "CONVENTION_TIE_MM",
    "D2",
    "DEFAULT_THRESHOLDS",
    "GROUP_BY",
    "MISSIZED_STATUSES",
    "PRODUCER_SUMMARY_COLUMNS",
    "REQUIRED_COLUMNS",
    "SIZE_SUMMARY_COLUMNS",
    "SUMMARY_EXTRA_COLUMNS",
    "Capability",
    "Convention",
    "Groups",
    "Periods",
    "Thresholds",
    "best_conventions",
    "capability",
    "capability_indices",
    "change_detected",
    "change_point_intervals",
    "compare_producers",
    "corrections",
    "find_conventions",
    "levels",
    "periods",
    "prepare",
    "producer_summary",
    "size_equivalents",
    "size_summary",
    "verdicts",
    "welch_anova",
]
