"""The OC curve of a lot sampling plan: what an AQL means, drawn for a mentor to show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from sizecheck.i18n import format_number, t
from sizecheck.plotting import style
from sizecheck.plotting._common import get_ax, merged

if TYPE_CHECKING:
    from sizecheck.sampling import SamplingPlan

__all__ = ["plot_oc_curve"]


def _num(x: float | None, lang: str) -> str:
    return format_number(x, lang, 3).rstrip("0").rstrip(",.")


def plot_oc_curve(
    plan: SamplingPlan,
    *,
    lang: str = "en",
    max_share: float | None = None,
    title: str | None = None,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Probability of accepting a lot against the lot's true share out of tolerance.

    The curve is :func:`sizecheck.sampling.acceptance_probability` of the plan (binomial
    for attributes; the exact non-central t of one limit for variables). The AQL is
    marked with the chance of accepting a lot that is exactly at the AQL, and the share
    at which a lot is accepted only one time in ten (the lot quality the plan rejects
    nine times out of ten).

    Parameters
    ----------
    plan : SamplingPlan
        From :func:`sizecheck.sampling.sampling_plan`.
    lang : {"en", "id"}, default "en"
    max_share : float, optional
        Right end of the x axis, as a share (0.2 = 20 %); by default where the chance of
        acceptance has fallen below 1 %.
    title : str, optional
    legend : bool, default True
    ax : Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot` for the curve (they win).

    Returns
    -------
    Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from sizecheck.sampling import attributes_plan
    >>> ax = Figure().subplots()
    >>> plot_oc_curve(attributes_plan(180, 2.5), ax=ax) is ax
    True
    """
    from scipy import optimize

    from sizecheck.sampling import INSPECTION_WORDS, acceptance_probability

    ax = get_ax(ax)

    def pa(share: float) -> float:
        return float(acceptance_probability(plan, share))

    if max_share is None:
        right = optimize.brentq(lambda s: pa(s) - 0.01, 1e-9, 1 - 1e-9)
        max_share = min(1.0, max(right * 1.1, 2.5 * plan.aql / 100))
    share = np.linspace(0.0, max_share, 401)
    curve = acceptance_probability(plan, share)
    if plan.method == "attributes":
        label = t("chart.oc.label_attributes", lang, n=plan.sample_size, ac=plan.accept)
    else:
        label = t("chart.oc.label_variables", lang, n=plan.sample_size, k=_num(plan.k, lang))
    ax.plot(
        share * 100,
        curve,
        **merged({"color": style.OKABE_ITO["blue"], "linewidth": 2.0, "label": label}, kwargs),
    )
    aql = plan.aql / 100
    at_aql = pa(aql)
    ax.axvline(plan.aql, color=style.REFERENCE_COLOR, linestyle="--", linewidth=1.0)
    at_aql_label = t(
        "chart.oc.at_aql", lang, aql=_num(plan.aql, lang), pa=format_number(100 * at_aql, lang, 0)
    )
    marker: dict[str, Any] = {"linestyle": "none", "markersize": 7}
    ax.plot([plan.aql], [at_aql], marker="o", color=style.OKABE_ITO["bluish_green"],
            label=at_aql_label, **marker)  # fmt: skip
    if pa(max_share) < 0.10:
        lq = optimize.brentq(lambda s: pa(s) - 0.10, 1e-12, max_share)
        ten_label = t("chart.oc.at_ten", lang, share=format_number(100 * lq, lang, 1))
        ax.plot([lq * 100], [0.10], marker="s", color=style.OKABE_ITO["vermillion"],
                label=ten_label, **marker)  # fmt: skip
    ax.set_xlim(0, max_share * 100)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(t("chart.oc.x", lang))
    ax.set_ylabel(t("chart.oc.y", lang))
    percent = "%" if lang == "id" else " %"  # Indonesian writes 95%
    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _p: format_number(100 * v, lang, 0) + percent)
    )
    ax.xaxis.set_major_formatter(style.number_formatter(lang))
    if title is None:
        title = t(
            "chart.oc.title",
            lang,
            aql=_num(plan.aql, lang),
            inspection=t(INSPECTION_WORDS[plan.inspection], lang),
        )
    ax.set_title(title)
    if legend:
        ax.legend(loc="upper right")
    return ax
