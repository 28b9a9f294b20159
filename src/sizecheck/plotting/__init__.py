"""Charts of sizecheck: one function per chart, ``plot_x(data, *, ax=None, **kw) -> Axes``.

Each function takes a frame that :func:`sizecheck.pipeline.analyse` already computed
(it never recomputes a statistic), draws only on the Axes it is given and returns it; the
caller's keyword arguments win over the house style; nothing is shown or saved here. All
text goes through :mod:`sizecheck.i18n` (``lang="en"`` or ``"id"``).

>>> from matplotlib.figure import Figure
>>> from sizecheck.plotting import plot_heatmap
>>> import pandas as pd
>>> ss = pd.DataFrame({"producer": ["A", "B"], "dimension": "insole_length",
...                    "size": [41.0, 41.0], "effective_size": [41.6, 40.9]})
>>> ax = Figure().subplots()
>>> plot_heatmap(ss, dimension="insole_length", ax=ax) is ax
True
"""

from sizecheck.plotting.control import plot_control_chart
from sizecheck.plotting.forest import plot_forest
from sizecheck.plotting.gage import (
    plot_gage_by_operator,
    plot_gage_by_part,
    plot_gage_components,
    plot_gage_range_chart,
)
from sizecheck.plotting.ladder import plot_capability, plot_size_ladder
from sizecheck.plotting.oc import plot_oc_curve
from sizecheck.plotting.proposal import plot_proposal, plot_proposal_corrections
from sizecheck.plotting.scales import plot_effective_size, plot_grading, plot_heatmap
from sizecheck.plotting.style import OKABE_ITO, RC

__all__ = [
    "OKABE_ITO",
    "RC",
    "plot_capability",
    "plot_control_chart",
    "plot_effective_size",
    "plot_forest",
    "plot_gage_by_operator",
    "plot_gage_by_part",
    "plot_gage_components",
    "plot_gage_range_chart",
    "plot_grading",
    "plot_heatmap",
    "plot_oc_curve",
    "plot_proposal",
    "plot_proposal_corrections",
    "plot_size_ladder",
]
