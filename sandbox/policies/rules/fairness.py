"""Fairness rules, decided on the evaluation's group rates and their counts.

`fairness_threshold` blocks only on a disparity the data establish. Every pair of groups of
every checked attribute set gets a score interval for its difference (Newcombe) or ratio
(MOVER-R) at level 1 - alpha/M, M being the number of pairs across all those sets
(Bonferroni); the rule fails when some pair's interval lies entirely beyond the threshold. When
every true gap is within the threshold (no disparity at all, in particular), the chance that
any of the M intervals lies beyond it is at most alpha: that is the rule's family-wise
false-alarm rate, measured by the simulation tests (``docs/statistics.md``).

A rate enters only when its denominator (rows for selection rate, actual positives for TPR and
FNR, actual negatives for FPR, predicted positives for precision) reaches the minimum: the
evaluation's `min_group_size`, or a pack's stricter `min_denominator`. Undefined rates (no
denominator at all) never enter. Metric names come from the task types' vocabularies
(`sandbox.tasks`): a rule on a metric the run's task type lacks does not apply.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from sandbox.evaluation.intervals import pair_level
from sandbox.policies.rules.base import Finding, Params, RuleContext
from sandbox.policies.rules.disparity import comparison, decide_set
from sandbox.tasks import get_task, registered_tasks

__all__ = [
    "FairnessThresholdParams",
    "FourFifthsParams",
    "MinGroupSizeParams",
    "check_four_fifths",
    "check_min_group_size",
    "check_threshold",
    "group_metric_names",
]

#: The group metric the four-fifths rule compares (in the vocabulary of classification tasks).
SELECTION_RATE = "selection_rate"

_MIN_DENOMINATOR = Field(
    default=None,
    ge=1,
    description="Smallest denominator (rows, actual positives, actual negatives, predicted "
    "positives) a group's rate needs to enter the decision. Default, and floor: the "
    "evaluation's min_group_size.",
)


def group_metric_names() -> list[str]:
    """Every per-group metric name some registered task type reports."""
    names = (m for task in registered_tasks() for m in task.vocabulary.group_names)
    return sorted(dict.fromkeys(names))


class FairnessThresholdParams(Params):
    """A bound on a between-group disparity of one metric, decided with simultaneous intervals."""

    metric: str = Field(description="A per-group metric of the task type's vocabulary.")
    measure: Literal["difference", "ratio"] = "difference"
    threshold: float = Field(ge=0)
    attributes: tuple[str, ...] = Field(
        default=(), description="Attribute sets to check; empty means all, intersections too."
    )
    decide_on: Literal["interval", "point"] = "interval"
    correction: Literal["bonferroni", "none"] = "bonferroni"
    alpha: float | None = Field(
        default=None, gt=0, lt=0.5, description="Default: 1 - evaluation.confidence."
    )
    min_denominator: int | None = _MIN_DENOMINATOR
    inconclusive: Literal["pass", "warn"] = Field(
        default="pass",
        description="What to do when the point estimate lies beyond the threshold but no "
        "pair's interval does: pass (the default: such warnings have no false-alarm "
        "guarantee) or warn.",
    )

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        known = group_metric_names()
        if value not in known:
            raise ValueError(f"unknown group metric {value!r}; known: {', '.join(known)}")
        return value


class MinGroupSizeParams(Params):
    """The smallest group size an evaluation may rest on."""

    min_size: int | None = Field(
        default=None, ge=1, description="Default, and floor: the evaluation's min_group_size."
    )


class FourFifthsParams(Params):
    """The four-fifths (adverse impact) rule on selection rates."""

    min_ratio: float = Field(default=0.8, gt=0, le=1)
    attributes: tuple[str, ...] = Field(
        default=(), description="Attribute sets to check; empty means all, intersections too."
    )
    decide_on: Literal["point", "interval"] = Field(
        default="point",
        description="point: the classic screen on the observed ratio; interval: as "
        "fairness_threshold on the selection-rate ratio, with its false-alarm guarantee.",
    )
    alpha: float | None = Field(
        default=None, gt=0, lt=0.5, description="Default: 1 - evaluation.confidence."
    )
    min_denominator: int | None = _MIN_DENOMINATOR


def _minimum(evaluation: Any, requested: int | None) -> int:
    """A pack's minimum is a floor: the evaluation's own minimum can only raise it."""
    return max(requested or 0, int(evaluation.min_group_size))


def _lacks(ctx: RuleContext, metric: str) -> bool:
    """The run's task type reports no such group metric."""
    return metric not in get_task(ctx.evaluation.task).vocabulary.group_names


def _counted(ctx: RuleContext, metric: str) -> bool:
    """Every group's value of `metric` carries its numerator and denominator."""
    return all(
        g.metrics[metric].undefined or g.metrics[metric].numerator is not None
        for s in ctx.evaluation.attribute_sets
        for g in s.groups
    )


def _selected_sets(ctx: RuleContext, attributes: tuple[str, ...]) -> list[Any]:
    sets = list(ctx.evaluation.attribute_sets)
    if attributes:
        sets = [s for s in sets if s.name in attributes or s.key in attributes]
    return [s for s in sets if len(s.groups) >= 2]


def check_threshold(p: FairnessThresholdParams, ctx: RuleContext) -> Finding:
    """The disparity stays within the threshold; fails only where the data establish it."""
    evaluation = ctx.evaluation
    if _lacks(ctx, p.metric):
        return Finding(
            "not_applicable",
            f"a {evaluation.task} evaluation has no group metric {p.metric!r}",
            {"metric": p.metric, "threshold": p.threshold},
        )
    minimum = _minimum(evaluation, p.min_denominator)
    if p.decide_on == "interval" and not _counted(ctx, p.metric):
        return Finding(
            "not_applicable",
            f"{p.metric} is not a rate with counts, so it has no score intervals; "
            "use decide_on: point",
            {"metric": p.metric, "threshold": p.threshold},
        )
    compared = [
        comparison(s, p.metric, p.measure, minimum) for s in _selected_sets(ctx, p.attributes)
    ]
    sets = [c for c in compared if c.value is not None]
    alpha = p.alpha if p.alpha is not None else round(1.0 - evaluation.confidence, 10)
    m = sum(c.pairs for c in sets)
    level = pair_level(1.0 - alpha, m if p.correction == "bonferroni" else 1)
    rows = [decide_set(c, p, level) for c in sets]
    difference = p.measure == "difference"
    rows.sort(key=lambda r: -r["value"] if difference else r["value"])
    beyond = [r for r in rows if r["decision"] == "beyond"]
    unsettled = [r for r in rows if r["decision"] == "inconclusive" and r["point_beyond"]]
    worst = (beyond or unsettled or rows or [{}])[0]
    evidence = {
        "metric": p.metric,
        "measure": p.measure,
        "threshold": p.threshold,
        "value": worst.get("value"),
        "ci_low": worst.get("ci_low"),
        "ci_high": worst.get("ci_high"),
        "alpha": alpha,
        "confidence": round(1.0 - alpha, 6),
        "pair_confidence": round(level, 8),
        "correction": p.correction,
        "comparisons": m,
        "decide_on": p.decide_on,
        "min_denominator": minimum,
        "checked": rows,
        "breaches": beyond,
        "not_compared": [c.name for c in compared if c.value is None],
    }
    if not rows:
        return Finding(
            "not_applicable",
            f"no attribute set has two groups with {p.metric} resting on at least {minimum} cases",
            evidence,
        )
    bound = "<=" if difference else ">="
    scope = f"{m} pairs of groups in {len(rows)} attribute sets"
    if beyond:
        pair = worst["established"][0] if worst["established"] else None
        between = f" between {pair['higher']} and {pair['lower']}" if pair else ""
        return Finding(
            "failed",
            f"disparity observed: {p.metric} {p.measure} {worst['value']:.3f} for "
            f"{worst['attribute_set']}{between}, beyond the allowed {bound} {p.threshold} over "
            + (
                "the point estimate"
                if p.decide_on == "point"
                else f"its whole interval [{_fmt(worst['ci_low'])}, {_fmt(worst['ci_high'])}] "
                f"({1 - alpha:.0%} simultaneous over {scope})"
            ),
            evidence,
        )
    if unsettled and p.inconclusive == "warn":
        return Finding(
            "failed",
            f"disparity observed: {p.metric} {p.measure} {worst['value']:.3f} for "
            f"{worst['attribute_set']} (allowed {bound} {p.threshold}), but its interval "
            f"[{_fmt(worst['ci_low'])}, {_fmt(worst['ci_high'])}] still reaches the threshold: "
            "a warning until more data settle it",
            evidence,
            severity="warn",
        )
    if unsettled:
        return Finding(
            "passed",
            f"no {p.metric} {p.measure} beyond {p.threshold} established ({1 - alpha:.0%} "
            f"simultaneous over {scope}); the largest observed, {worst['value']:.3f} for "
            f"{worst['attribute_set']} [{_fmt(worst['ci_low'])}, {_fmt(worst['ci_high'])}], "
            "is not settled by these data",
            evidence,
        )
    return Finding(
        "passed",
        f"{p.metric} {p.measure} {bound} {p.threshold} in all {len(rows)} attribute sets",
        evidence,
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def check_min_group_size(p: MinGroupSizeParams, ctx: RuleContext) -> Finding:
    """Every group has at least the minimum number of evaluation rows."""
    minimum = _minimum(ctx.evaluation, p.min_size)
    counts = [(s.name, g.label, g.count) for s in ctx.evaluation.attribute_sets for g in s.groups]
    small = [{"attribute_set": a, "group": g, "count": c} for a, g, c in counts if c < minimum]
    thin = sum(
        1
        for s in ctx.evaluation.attribute_sets
        for g in s.groups
        if g.count >= minimum
        for rate in g.metrics.values()
        if not rate.assessable
    )
    evidence = {
        "min_size": minimum,
        "threshold": minimum,
        "value": min((c for _, _, c in counts), default=None),
        "small_groups": small,
        "rates_not_assessable_in_larger_groups": thin,
    }
    if small:
        return Finding(
            "failed",
            f"{len(small)} groups have fewer than {minimum} evaluation rows; their rates are "
            "shown with their intervals but not assessed",
            evidence,
        )
    return Finding("passed", f"every group has at least {minimum} evaluation rows", evidence)


def check_four_fifths(p: FourFifthsParams, ctx: RuleContext) -> Finding:
    """The lowest group's selection rate is at least `min_ratio` of the highest's."""
    if _lacks(ctx, SELECTION_RATE):
        return Finding(
            "not_applicable",
            f"a {ctx.evaluation.task} evaluation has no selection rate",
            {"min_ratio": p.min_ratio, "threshold": p.min_ratio},
        )
    if p.decide_on == "interval":
        gate = FairnessThresholdParams(
            metric=SELECTION_RATE,
            measure="ratio",
            threshold=p.min_ratio,
            attributes=p.attributes,
            alpha=p.alpha,
            min_denominator=p.min_denominator,
        )
        return check_threshold(gate, ctx)
    minimum = _minimum(ctx.evaluation, p.min_denominator)
    compared = [
        comparison(s, SELECTION_RATE, "ratio", minimum) for s in _selected_sets(ctx, p.attributes)
    ]
    rows: list[dict[str, Any]] = [
        {
            "attribute_set": c.name,
            "ratio": c.value,
            "lowest_group": c.lowest_group,
            "highest_group": c.highest_group,
            "groups_left_out": [g["group"] for g in c.left_out],
        }
        for c in compared
        if c.value is not None
    ]
    below = [r for r in rows if r["ratio"] < p.min_ratio]
    evidence = {
        "min_ratio": p.min_ratio,
        "threshold": p.min_ratio,
        "min_denominator": minimum,
        "decide_on": p.decide_on,
        "value": min((r["ratio"] for r in rows), default=None),
        "checked": rows,
        "below": below,
    }
    if not rows:
        return Finding("not_applicable", "no selection-rate ratio could be computed", evidence)
    if below:
        names = ", ".join(f"{r['attribute_set']} ({r['ratio']:.2f})" for r in below)
        return Finding(
            "failed",
            f"selection-rate ratio below {p.min_ratio} on the observed rates (a screen, not "
            f"a test): {names}",
            evidence,
        )
    return Finding(
        "passed",
        f"selection-rate ratio >= {p.min_ratio} in all {len(rows)} attribute sets",
        evidence,
    )
