"""Performance rules: a model must be good enough to be worth piloting with residents."""

from __future__ import annotations

from sandbox.policies.rules.base import Finding, Params, RuleContext

__all__ = ["PerformanceFloorParams", "check_floor"]


class PerformanceFloorParams(Params):
    """A minimum (or, with greater_is_better false, a maximum) for one performance metric."""

    metric: str
    threshold: float
    greater_is_better: bool = True


def check_floor(p: PerformanceFloorParams, ctx: RuleContext) -> Finding:
    """The metric reaches the floor (or stays under the ceiling)."""
    value = ctx.evaluation.performance.get(p.metric)
    evidence = {
        "metric": p.metric,
        "value": value,
        "threshold": p.threshold,
        "greater_is_better": p.greater_is_better,
    }
    if value is None:
        return Finding("failed", f"metric {p.metric!r} was not computed for this run", evidence)
    ok = value >= p.threshold if p.greater_is_better else value <= p.threshold
    bound = ">=" if p.greater_is_better else "<="
    verb = "meets" if ok else "misses"
    return Finding(
        "passed" if ok else "failed",
        f"{p.metric} {value:.3f} {verb} {bound} {p.threshold}",
        evidence,
    )
