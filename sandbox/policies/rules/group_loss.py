"""The bounded-group-error rule of regression pilots: no group's MAE far above the overall.

`group_error_ratio` checks, in every attribute set it covers, each group's mean absolute error
relative to the MAE over all evaluation rows (:mod:`sandbox.evaluation.group_loss`). With M the
number of groups checked across all those sets, every group gets an interval at level
1 - alpha/M (Bonferroni), and the rule fails only when some group's whole interval lies above
`max_ratio`. When no group's true ratio exceeds `max_ratio` (in particular when every group has
the same error distribution) the chance of a failure is at most alpha, across every group and
attribute set: the rule's family-wise false-alarm rate (``docs/statistics.md``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from sandbox.evaluation.group_loss import relative_errors
from sandbox.evaluation.intervals import pair_level
from sandbox.policies.rules.base import Finding, Params, RuleContext
from sandbox.tasks import get_task

__all__ = ["GroupErrorRatioParams", "check_group_error_ratio"]

METRIC = "mae"


class GroupErrorRatioParams(Params):
    """A ceiling on each group's MAE relative to the overall MAE, decided on intervals."""

    max_ratio: float = Field(
        default=1.25, ge=1.0, description="Highest allowed group MAE / overall MAE."
    )
    attributes: tuple[str, ...] = Field(
        default=(), description="Attribute sets to check; empty means all, intersections too."
    )
    alpha: float | None = Field(
        default=None, gt=0, lt=0.5, description="Default: 1 - evaluation.confidence."
    )
    min_size: int | None = Field(
        default=None,
        ge=2,
        description="Smallest group checked. Default, and floor: the evaluation's min_group_size.",
    )
    inconclusive: Literal["pass", "warn"] = Field(
        default="pass",
        description="When a group's observed ratio is above max_ratio but its interval still "
        "reaches it: pass (no false-alarm guarantee would back a warning) or warn.",
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None


def _candidates(ctx: RuleContext, p: GroupErrorRatioParams, minimum: int) -> list[Any]:
    sets = list(ctx.evaluation.attribute_sets)
    if p.attributes:
        sets = [s for s in sets if s.name in p.attributes or s.key in p.attributes]
    return [s for s in sets if len(s.groups) >= 2]


def _decide_set(
    result: Any, p: GroupErrorRatioParams, minimum: int, level: float
) -> dict[str, Any]:
    groups = result.groups
    counts = [g.count for g in groups]
    means = [g.metrics[METRIC].value for g in groups]
    sds = [np.nan if g.spread[METRIC] is None else g.spread[METRIC] for g in groups]
    found = relative_errors(counts, means, sds, confidence=level)
    checked = [i for i, g in enumerate(groups) if g.count >= minimum]
    rows = [
        {
            "group": groups[i].label,
            "rows": groups[i].count,
            "mae": means[i],
            "value": float(found.value[i]),
            "ci_low": _finite(found.ci_low[i]),
            "ci_high": _finite(found.ci_high[i]),
        }
        for i in checked
    ]
    rows.sort(key=lambda r: -r["value"])
    beyond = [r for r in rows if r["ci_low"] is not None and r["ci_low"] > p.max_ratio]
    reaching = [r for r in rows if r["value"] > p.max_ratio or (r["ci_high"] or 0) > p.max_ratio]
    worst = (beyond or rows or [{}])[0]
    return {
        "attribute_set": result.name,
        "value": worst.get("value"),
        "ci_low": worst.get("ci_low"),
        "ci_high": worst.get("ci_high"),
        "worst_group": worst.get("group"),
        "decision": "beyond" if beyond else ("inconclusive" if reaching else "within"),
        "point_beyond": bool(rows) and rows[0]["value"] > p.max_ratio,
        "groups_checked": len(rows),
        "groups_left_out": [g.label for g in groups if g.count < minimum],
        "established": beyond[:5],
    }


def check_group_error_ratio(p: GroupErrorRatioParams, ctx: RuleContext) -> Finding:
    """No group's MAE is established above `max_ratio` times the overall MAE."""
    evaluation = ctx.evaluation
    groups = [g for s in evaluation.attribute_sets for g in s.groups]
    if METRIC not in get_task(evaluation.task).vocabulary.group_names or any(
        g.spread is None or METRIC not in g.spread for g in groups
    ):
        return Finding(
            "not_applicable",
            f"a {evaluation.task} evaluation has no group mean absolute errors",
            {"threshold": p.max_ratio},
        )
    minimum = max(p.min_size or 0, int(evaluation.min_group_size), 2)
    sets = _candidates(ctx, p, minimum)
    m = sum(1 for s in sets for g in s.groups if g.count >= minimum)
    alpha = p.alpha if p.alpha is not None else round(1.0 - evaluation.confidence, 10)
    level = pair_level(1.0 - alpha, m)
    rows = [_decide_set(s, p, minimum, level) for s in sets]
    rows = [r for r in rows if r["groups_checked"]]
    rows.sort(key=lambda r: -r["value"])
    beyond = [r for r in rows if r["decision"] == "beyond"]
    unsettled = [r for r in rows if r["point_beyond"]]
    worst = (beyond or unsettled or rows or [{}])[0]
    evidence = {
        "metric": METRIC,
        "threshold": p.max_ratio,
        "value": worst.get("value"),
        "ci_low": worst.get("ci_low"),
        "ci_high": worst.get("ci_high"),
        "alpha": alpha,
        "confidence": round(1.0 - alpha, 6),
        "group_confidence": round(level, 8),
        "comparisons": m,
        "min_size": minimum,
        "checked": rows,
        "breaches": beyond,
    }
    if not rows:
        return Finding(
            "not_applicable", f"no attribute set has a group of at least {minimum} rows", evidence
        )
    scope = f"{m} groups in {len(rows)} attribute sets"
    if beyond:
        top = worst["established"][0]
        return Finding(
            "failed",
            f"disparity observed: the mean absolute error of {worst['attribute_set']} = "
            f"{top['group']} is {top['value']:.3f} times the overall, above the allowed "
            f"{p.max_ratio} over its whole interval [{_fmt(top['ci_low'])}, "
            f"{_fmt(top['ci_high'])}] ({1 - alpha:.0%} simultaneous over {scope})",
            evidence,
        )
    if unsettled:
        text = (
            f"the largest observed, {worst['value']:.3f} times the overall MAE for "
            f"{worst['attribute_set']} = {worst['worst_group']} [{_fmt(worst['ci_low'])}, "
            f"{_fmt(worst['ci_high'])}], is not settled by these data"
        )
        if p.inconclusive == "warn":
            return Finding(
                "failed", f"disparity observed, not settled: {text}", evidence, severity="warn"
            )
        return Finding(
            "passed",
            f"no group's MAE established above {p.max_ratio} times the overall "
            f"({1 - alpha:.0%} simultaneous over {scope}); {text}",
            evidence,
        )
    return Finding(
        "passed",
        f"every group's MAE is at most {p.max_ratio} times the overall in all {len(rows)} "
        f"attribute sets (largest {worst['value']:.3f})",
        evidence,
    )
