"""Ranking rules: a top-k list must find positives beyond what a random list of k would.

`top_k_lift` passes only when the data establish it: the lower limit of the lift interval at the
budget (precision@k / base rate, at confidence 1 - alpha) lies above `min_lift`. A list that
selects at random has a true lift of 1, so it passes the default `min_lift: 1` only when that
interval misses on its lower side: in at most alpha of runs, near alpha / 2 once the list holds
a few positives (measured by the simulation tests, ``docs/statistics.md``). Balanced accuracy,
the floor of a classifier, says little about a list that selects a tenth of the rows by design;
this rule replaces it for ranking pilots.
"""

from __future__ import annotations

from pydantic import Field

from sandbox.evaluation.ranking import lift_interval
from sandbox.policies.rules.base import Finding, Params, RuleContext

__all__ = ["TopKLiftParams", "check_lift"]


class TopKLiftParams(Params):
    """The smallest lift at the budget the data must establish."""

    min_lift: float = Field(
        default=1.0,
        ge=0,
        description="The lift interval's lower limit must lie above this (1: better than a "
        "random list of the same size).",
    )
    alpha: float | None = Field(
        default=None, gt=0, lt=0.5, description="Default: 1 - evaluation.confidence."
    )


def check_lift(p: TopKLiftParams, ctx: RuleContext) -> Finding:
    """The list's lift at its budget is established above `min_lift`."""
    evaluation = ctx.evaluation
    top = evaluation.top_k
    if top is None:
        return Finding(
            "not_applicable",
            f"a {evaluation.task} evaluation has no top-k list",
            {"threshold": p.min_lift},
        )
    alpha = p.alpha if p.alpha is not None else round(1.0 - evaluation.confidence, 10)
    point = top.at("k")
    lift, low, high = (
        float(a[0])
        for a in lift_interval(
            [point.true_positives], [top.k], [top.positives], [top.rows], 1 - alpha
        )
    )
    evidence = {
        "value": lift,
        "ci_low": low,
        "ci_high": high,
        "threshold": p.min_lift,
        "confidence": round(1.0 - alpha, 6),
        "k": top.k,
        "precision_at_k": point.precision,
        "base_rate": top.base_rate,
        "true_positives": point.true_positives,
        "positives": top.positives,
        "rows": top.rows,
    }
    if top.positives == 0:
        return Finding("not_applicable", "no actual positives: lift is undefined", evidence)
    found = (
        f"the top {top.k:,} rows hold {point.true_positives:,} of {top.positives:,} positives: "
        f"precision {point.precision:.3f} against a base rate of {top.base_rate:.3f}, lift "
        f"{lift:.2f} [{low:.2f}, {high:.2f}] ({1 - alpha:.0%} interval)"
    )
    if low > p.min_lift:
        return Finding("passed", f"{found}, above {p.min_lift:g}", evidence)
    random = (
        f"; these data cannot tell the list from {top.k:,} rows chosen at random"
        if p.min_lift <= 1
        else ""
    )
    return Finding("failed", f"{found}: not established above {p.min_lift:g}{random}", evidence)
