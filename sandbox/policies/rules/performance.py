"""Performance rules: a model must be good enough to be worth piloting with residents.

Metric names and their direction come from the task types' vocabularies (`sandbox.tasks`).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from sandbox.policies.rules.base import Finding, Params, RuleContext
from sandbox.tasks import get_task, registered_tasks

__all__ = ["PerformanceFloorParams", "check_floor", "performance_metric_names"]


def performance_metric_names() -> list[str]:
    """Every overall performance metric name some registered task type reports."""
    names = (m for task in registered_tasks() for m in task.vocabulary.performance_names)
    return sorted(dict.fromkeys(names))


class PerformanceFloorParams(Params):
    """A minimum (or, with greater_is_better false, a maximum) for one performance metric."""

    metric: str = Field(description="An overall metric of the task type's vocabulary.")
    threshold: float
    greater_is_better: bool | None = Field(
        default=None, description="Default: the metric's direction in the task's vocabulary."
    )

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        known = performance_metric_names()
        if value not in known:
            raise ValueError(f"unknown performance metric {value!r}; known: {', '.join(known)}")
        return value


def check_floor(p: PerformanceFloorParams, ctx: RuleContext) -> Finding:
    """The metric reaches the floor (or stays under the ceiling)."""
    vocabulary = get_task(ctx.evaluation.task).vocabulary
    if p.metric not in vocabulary.performance_names:
        return Finding(
            "not_applicable",
            f"a {ctx.evaluation.task} evaluation has no metric {p.metric!r}",
            {"metric": p.metric, "threshold": p.threshold},
        )
    higher = p.greater_is_better
    if higher is None:
        higher = vocabulary.spec(p.metric).greater_is_better
    value = ctx.evaluation.performance.get(p.metric)
    evidence = {
        "metric": p.metric,
        "value": value,
        "threshold": p.threshold,
        "greater_is_better": higher,
    }
    if value is None:
        # the evaluation says why (e.g. an assistant's set has no question to decline)
        why = next((w for w in ctx.evaluation.warnings if f"({p.metric})" in w), "")
        message = f"metric {p.metric!r} was not computed for this run"
        if "not computed: " in why:
            message += ": " + why.split("not computed: ", 1)[1].rstrip(".")
        return Finding("failed", message, evidence)
    ok = value >= p.threshold if higher else value <= p.threshold
    bound = ">=" if higher else "<="
    verb = "meets" if ok else "misses"
    return Finding(
        "passed" if ok else "failed",
        f"{p.metric} {value:.3f} {verb} {bound} {p.threshold}",
        evidence,
    )
