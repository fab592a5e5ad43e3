"""Fairness rules, decided on the evaluation's group confusion counts.

`fairness_threshold` decides with the confidence interval, not the point estimate alone: a
disparity *fails* when its whole interval lies beyond the threshold, and only *warns* when the
point estimate is beyond it but the interval still reaches back (the data cannot tell). When
one rule tests m attribute sets (each attribute, pairs, the intersection), each interval is
computed at confidence 1 - alpha/m (Bonferroni), so the chance of any false alarm across all m
stays at alpha. The intervals are recomputed by the evaluation's task type (for binary
classification, re-bootstrapping each set's per-group confusion counts) with a generator seeded
by the evaluation's seed, so they are reproducible. Metric names come from the task types'
vocabularies (`sandbox.tasks`): a rule on a metric the run's task type lacks does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

from sandbox.policies.rules.base import Finding, Params, RuleContext
from sandbox.tasks import get_task, registered_tasks

__all__ = [
    "FairnessThresholdParams",
    "FourFifthsParams",
    "MinGroupSizeParams",
    "check_four_fifths",
    "check_min_group_size",
    "check_threshold",
    "corrected_interval",
    "group_metric_names",
]

#: The group metric the four-fifths rule compares (in the vocabulary of classification tasks).
SELECTION_RATE = "selection_rate"


def group_metric_names() -> list[str]:
    """Every per-group metric name some registered task type reports."""
    names = (m for task in registered_tasks() for m in task.vocabulary.group_names)
    return sorted(dict.fromkeys(names))


class FairnessThresholdParams(Params):
    """A bound on a between-group disparity of one metric, decided with its interval."""

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
    n_bootstrap: int = Field(default=1000, ge=100, le=100_000)
    min_group_size: int | None = Field(
        default=None,
        ge=1,
        description="Smaller groups are reported but left out of the decision (the "
        "min_group_size rule flags them). Default: the evaluation's minimum group size.",
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

    min_size: int = Field(default=30, ge=1)


class FourFifthsParams(Params):
    """The four-fifths (adverse impact) rule on selection rates."""

    min_ratio: float = Field(default=0.8, gt=0, le=1)
    attributes: tuple[str, ...] = Field(
        default=(), description="Attribute sets to check; empty means all, intersections too."
    )
    min_group_size: int | None = Field(
        default=None,
        ge=1,
        description="Smaller groups are left out of the ratio. Default: the evaluation's "
        "minimum group size.",
    )


def corrected_interval(
    evaluation: Any,
    groups: Any,
    metric: str,
    measure: str,
    *,
    confidence: float,
    n_bootstrap: int,
    seed: int,
) -> tuple[float | None, float | None]:
    """Bootstrap interval of one set's between-group difference or ratio at `confidence`."""
    return get_task(evaluation.task).disparity_interval(
        tuple(groups), metric, measure, confidence=confidence, n_bootstrap=n_bootstrap, seed=seed
    )


def _lacks(ctx: RuleContext, metric: str) -> bool:
    """The run's task type reports no such group metric."""
    return metric not in get_task(ctx.evaluation.task).vocabulary.group_names


def _selected_sets(ctx: RuleContext, attributes: tuple[str, ...]) -> list[Any]:
    sets = list(ctx.evaluation.attribute_sets)
    if attributes:
        sets = [s for s in sets if s.name in attributes or s.key in attributes]
    return [s for s in sets if len(s.groups) >= 2]


@dataclass(frozen=True)
class _Comparison:
    """One attribute set's groups large enough to decide on, and their disparity."""

    name: str
    groups: tuple[Any, ...]
    value: float | None
    highest_group: str | None
    lowest_group: str | None
    left_out: int


def _comparison(result: Any, metric: str, measure: str, min_size: int) -> _Comparison:
    """The disparity of `metric` among the groups with at least `min_size` rows.

    A disparity between a group of 4 rows and one of 2 says nothing reliable; such groups
    stay in the report (and the min_group_size rule flags them) but do not decide a gate.
    """
    groups = tuple(g for g in result.groups if g.count >= min_size)
    values = [(g.metrics[metric].value, g.label) for g in groups]
    values = [(v, label) for v, label in values if v is not None]
    left_out = len(result.groups) - len(groups)
    if len(values) < 2:
        return _Comparison(result.name, groups, None, None, None, left_out)
    high, low = max(values), min(values)
    if measure == "difference":
        value: float | None = high[0] - low[0]
    else:
        value = low[0] / high[0] if high[0] > 0 else None
    return _Comparison(result.name, groups, value, high[1], low[1], left_out)


def check_threshold(p: FairnessThresholdParams, ctx: RuleContext) -> Finding:
    """The disparity stays within the threshold; decided on the corrected interval."""
    evaluation = ctx.evaluation
    if _lacks(ctx, p.metric):
        return Finding(
            "not_applicable",
            f"a {evaluation.task} evaluation has no group metric {p.metric!r}",
            {"metric": p.metric, "threshold": p.threshold},
        )
    min_size = p.min_group_size or evaluation.min_group_size
    selected = _selected_sets(ctx, p.attributes)
    compared = [_comparison(s, p.metric, p.measure, min_size) for s in selected]
    sets = [(c, c.value) for c in compared if c.value is not None]
    alpha = p.alpha if p.alpha is not None else round(1.0 - evaluation.confidence, 10)
    m = len(sets) if p.correction == "bonferroni" else 1
    confidence = 1.0 - alpha / max(m, 1)
    difference = p.measure == "difference"
    rows: list[dict[str, Any]] = []
    for index, (result, value) in enumerate(sets):
        low, high = corrected_interval(
            evaluation,
            result.groups,
            p.metric,
            p.measure,
            confidence=confidence,
            n_bootstrap=p.n_bootstrap,
            seed=evaluation.seed + index,
        )
        # A difference must stay at or below the threshold; a ratio at or above it.
        point_beyond = value > p.threshold if difference else value < p.threshold
        near = low if difference else high
        sure = near is not None and (near > p.threshold if difference else near < p.threshold)
        decision = "beyond" if sure else "uncertain" if point_beyond else "within"
        if p.decide_on == "point" and point_beyond:
            decision = "beyond"
        rows.append(
            {
                "attribute_set": result.name,
                "value": value,
                "ci_low": low,
                "ci_high": high,
                "decision": decision,
                "highest_group": result.highest_group,
                "lowest_group": result.lowest_group,
                "groups_left_out": result.left_out,
            }
        )
    rows.sort(key=lambda r: -r["value"] if difference else r["value"])
    breaches = [r for r in rows if r["decision"] != "within"]
    worst = (breaches or rows or [{}])[0]
    evidence = {
        "metric": p.metric,
        "measure": p.measure,
        "threshold": p.threshold,
        "value": worst.get("value"),
        "ci_low": worst.get("ci_low"),
        "ci_high": worst.get("ci_high"),
        "confidence": round(confidence, 6),
        "correction": p.correction,
        "comparisons": m,
        "decide_on": p.decide_on,
        "min_group_size": min_size,
        "checked": rows,
        "breaches": breaches,
    }
    if not rows:
        return Finding(
            "not_applicable", f"no attribute set reports a {p.metric} {p.measure}", evidence
        )
    bound = "<=" if difference else ">="
    if not breaches:
        return Finding(
            "passed",
            f"{p.metric} {p.measure} {bound} {p.threshold} in all {len(rows)} attribute sets",
            evidence,
        )
    sure_breaches = [r for r in breaches if r["decision"] == "beyond"]
    head = (
        f"disparity observed: {p.metric} {p.measure} {worst['value']:.3f} for "
        f"{worst['attribute_set']} (allowed {bound} {p.threshold})"
    )
    if sure_breaches:
        return Finding(
            "failed",
            f"{head}; {len(sure_breaches)} of {len(rows)} attribute sets beyond the threshold"
            + ("" if p.decide_on == "point" else f" over the whole {confidence:.1%} interval"),
            evidence,
        )
    return Finding(
        "failed",
        f"{head}, but the {confidence:.1%} interval [{_fmt(worst['ci_low'])}, "
        f"{_fmt(worst['ci_high'])}] still reaches the threshold: a warning until more data "
        "settle it",
        evidence,
        severity="warn",
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def check_min_group_size(p: MinGroupSizeParams, ctx: RuleContext) -> Finding:
    """Every group has at least `min_size` evaluation rows."""
    counts = [(s.name, g.label, g.count) for s in ctx.evaluation.attribute_sets for g in s.groups]
    small = [{"attribute_set": a, "group": g, "count": c} for a, g, c in counts if c < p.min_size]
    evidence = {
        "min_size": p.min_size,
        "threshold": p.min_size,
        "value": min((c for _, _, c in counts), default=None),
        "small_groups": small,
    }
    if small:
        return Finding(
            "failed",
            f"{len(small)} groups have fewer than {p.min_size} evaluation rows; "
            "their metrics are uncertain (see the intervals)",
            evidence,
        )
    return Finding("passed", f"every group has at least {p.min_size} evaluation rows", evidence)


def check_four_fifths(p: FourFifthsParams, ctx: RuleContext) -> Finding:
    """The lowest group's selection rate is at least `min_ratio` of the highest's."""
    if _lacks(ctx, SELECTION_RATE):
        return Finding(
            "not_applicable",
            f"a {ctx.evaluation.task} evaluation has no selection rate",
            {"min_ratio": p.min_ratio, "threshold": p.min_ratio},
        )
    min_size = p.min_group_size or ctx.evaluation.min_group_size
    compared = [
        _comparison(s, SELECTION_RATE, "ratio", min_size) for s in _selected_sets(ctx, p.attributes)
    ]
    rows: list[dict[str, Any]] = [
        {
            "attribute_set": c.name,
            "ratio": c.value,
            "lowest_group": c.lowest_group,
            "highest_group": c.highest_group,
            "groups_left_out": c.left_out,
        }
        for c in compared
        if c.value is not None
    ]
    below = [r for r in rows if r["ratio"] < p.min_ratio]
    evidence = {
        "min_ratio": p.min_ratio,
        "threshold": p.min_ratio,
        "min_group_size": min_size,
        "value": min((r["ratio"] for r in rows), default=None),
        "checked": rows,
        "below": below,
    }
    if not rows:
        return Finding("not_applicable", "no selection-rate ratio could be computed", evidence)
    if below:
        names = ", ".join(f"{r['attribute_set']} ({r['ratio']:.2f})" for r in below)
        return Finding("failed", f"selection-rate ratio below {p.min_ratio}: {names}", evidence)
    return Finding(
        "passed",
        f"selection-rate ratio >= {p.min_ratio} in all {len(rows)} attribute sets",
        evidence,
    )
