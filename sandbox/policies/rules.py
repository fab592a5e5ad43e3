"""Rule types: the checks a policy pack can name, each with typed parameters and evidence.

A rule type is a parameter model plus a check that reads a `RuleContext` and returns a
`RuleOutcome`. Pre-run checks see the manifest and the hardening; post-run checks also see
the evaluation. Add a type by writing one check and registering it in `RULE_TYPES`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.errors import PolicyPackError
from sandbox.manifest import PilotManifest, format_location
from sandbox.policies.pack import Rule
from sandbox.policies.verdict import Outcome, RuleOutcome
from sandbox.runtime.base import Hardening

__all__ = ["RULE_TYPES", "RuleContext", "RuleType", "check_rule_params", "run_rule"]


@dataclass(frozen=True, kw_only=True)
class RuleContext:
    """What a rule may look at. `evaluation` is present only after the run."""

    manifest: PilotManifest
    hardening: Hardening
    data: Any = None  # sandbox.dataset.PilotData: the checked rows, on the host
    image_digest: str | None = None
    evaluation: Any = None  # sandbox.audit.evaluation.BinaryEvaluation


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(_Params):
    """This rule type takes no parameters."""


class HardeningParams(_Params):
    """Ceilings a pack may impose on top of the built-in hardening."""

    max_memory_mb: int | None = Field(default=None, ge=64)
    max_cpus: float | None = Field(default=None, gt=0)
    max_timeout_s: float | None = Field(default=None, gt=0)
    max_pids: int | None = Field(default=None, ge=16)


class FairnessThresholdParams(_Params):
    """A bound on a between-group disparity of one metric."""

    metric: Literal["selection_rate", "tpr", "fpr", "fnr", "precision", "accuracy"]
    measure: Literal["difference", "ratio"] = "difference"
    threshold: float = Field(ge=0)
    attributes: tuple[str, ...] = Field(
        default=(), description="Attribute sets to check; empty means all, intersections too."
    )


class PerformanceFloorParams(_Params):
    """A minimum (or maximum) for one performance metric."""

    metric: str
    threshold: float
    greater_is_better: bool = True


class MinGroupSizeParams(_Params):
    """The smallest group size an evaluation may rest on."""

    min_size: int = Field(default=30, ge=1)


class FourFifthsParams(_Params):
    """The four-fifths (adverse impact) rule on selection rates."""

    min_ratio: float = Field(default=0.8, gt=0, le=1)


Check = Callable[[Rule, Any, RuleContext], tuple[Outcome, str, dict[str, Any]]]


@dataclass(frozen=True)
class RuleType:
    """A check with its parameter model and a one-line description for the docs."""

    params: type[_Params]
    check: Check
    summary: str
    post_run: bool = False


def _hardening(
    rule: Rule, p: HardeningParams, ctx: RuleContext
) -> tuple[Outcome, str, dict[str, Any]]:
    h = ctx.hardening
    evidence: dict[str, Any] = {
        "network": h.network,
        "read_only_root": h.read_only_root,
        "cap_drop_all": h.cap_drop_all,
        "no_new_privileges": h.no_new_privileges,
        "user": h.user,
        "memory_mb": h.memory_mb,
        "cpus": h.cpus,
        "pids_limit": h.pids_limit,
        "timeout_s": h.timeout_s,
    }
    problems = []
    if h.network != "none":
        problems.append("network is not 'none'")
    if not (h.read_only_root and h.cap_drop_all and h.no_new_privileges):
        problems.append("read-only root, dropped capabilities and no-new-privileges are required")
    if h.user.split(":", 1)[0] in {"", "0", "root"}:
        problems.append("the container user must not be root")
    ceilings = [
        ("memory_mb", h.memory_mb, p.max_memory_mb),
        ("cpus", h.cpus, p.max_cpus),
        ("timeout_s", h.timeout_s, p.max_timeout_s),
        ("pids_limit", h.pids_limit, p.max_pids),
    ]
    for name, value, ceiling in ceilings:
        if ceiling is not None and value > ceiling:
            problems.append(f"{name} {value} exceeds the pack's ceiling {ceiling}")
    if problems:
        return "failed", "; ".join(problems), evidence
    return "passed", "the container is fully isolated and within the pack's limits", evidence


def _no_protected_features(
    rule: Rule, p: NoParams, ctx: RuleContext
) -> tuple[Outcome, str, dict[str, Any]]:
    data = ctx.manifest.data
    offending = {
        role: sorted(set(data.features) & set(columns))
        for role, columns in (
            ("sensitive", data.sensitive),
            ("pii", data.pii),
            ("proxies", data.proxies),
        )
    }
    offending = {role: cols for role, cols in offending.items() if cols}
    evidence = {"features": list(data.features), "offending": offending}
    if offending:
        listed = "; ".join(f"{role}: {', '.join(cols)}" for role, cols in offending.items())
        return (
            "failed",
            f"model features include protected columns ({listed}); remove them from data.features",
            evidence,
        )
    return (
        "passed",
        "no sensitive attribute, PII column or declared proxy is a model feature",
        evidence,
    )


def _selected_sets(ctx: RuleContext, attributes: tuple[str, ...]) -> list[Any]:
    sets = list(ctx.evaluation.attribute_sets)
    if attributes:
        sets = [s for s in sets if s.name in attributes or s.key in attributes]
    return sets


def _fairness_threshold(
    rule: Rule, p: FairnessThresholdParams, ctx: RuleContext
) -> tuple[Outcome, str, dict[str, Any]]:
    breaches, checked = [], []
    for result in _selected_sets(ctx, p.attributes):
        disparity = result.disparities.get(p.metric)
        if disparity is None:
            continue
        estimate = getattr(disparity, p.measure)
        if estimate.value is None:
            continue
        row = {
            "attribute_set": result.name,
            "value": estimate.value,
            "ci_low": estimate.ci_low,
            "ci_high": estimate.ci_high,
            "highest_group": disparity.highest_group,
            "lowest_group": disparity.lowest_group,
        }
        checked.append(row)
        # A difference must stay at or below the threshold; a ratio at or above it.
        beyond = (
            estimate.value > p.threshold
            if p.measure == "difference"
            else estimate.value < p.threshold
        )
        if beyond:
            breaches.append(row)
    evidence = {
        "metric": p.metric,
        "measure": p.measure,
        "threshold": p.threshold,
        "checked": checked,
        "breaches": breaches,
    }
    if not checked:
        return "not_applicable", f"no attribute set reports a {p.metric} {p.measure}", evidence
    bound = "<=" if p.measure == "difference" else ">="
    if breaches:
        worst = breaches[0]
        return (
            "failed",
            f"disparity observed: {p.metric} {p.measure} {worst['value']:.3f} for "
            f"{worst['attribute_set']} (allowed {bound} {p.threshold}); "
            f"{len(breaches)} of {len(checked)} attribute sets beyond the threshold",
            evidence,
        )
    return (
        "passed",
        f"{p.metric} {p.measure} {bound} {p.threshold} in all {len(checked)} attribute sets",
        evidence,
    )


def _performance_floor(
    rule: Rule, p: PerformanceFloorParams, ctx: RuleContext
) -> tuple[Outcome, str, dict[str, Any]]:
    value = ctx.evaluation.performance.get(p.metric)
    evidence = {
        "metric": p.metric,
        "value": value,
        "threshold": p.threshold,
        "greater_is_better": p.greater_is_better,
    }
    if value is None:
        return "failed", f"metric {p.metric!r} was not computed for this run", evidence
    ok = value >= p.threshold if p.greater_is_better else value <= p.threshold
    bound = ">=" if p.greater_is_better else "<="
    verb = "meets" if ok else "misses"
    return (
        ("passed" if ok else "failed"),
        f"{p.metric} {value:.3f} {verb} {bound} {p.threshold}",
        evidence,
    )


def _min_group_size(
    rule: Rule, p: MinGroupSizeParams, ctx: RuleContext
) -> tuple[Outcome, str, dict[str, Any]]:
    small = [
        {"attribute_set": s.name, "group": g.label, "count": g.count}
        for s in ctx.evaluation.attribute_sets
        for g in s.groups
        if g.count < p.min_size
    ]
    evidence = {"min_size": p.min_size, "small_groups": small}
    if small:
        return (
            "failed",
            f"{len(small)} groups have fewer than {p.min_size} evaluation rows; "
            "their metrics are uncertain (see the intervals)",
            evidence,
        )
    return "passed", f"every group has at least {p.min_size} evaluation rows", evidence


def _four_fifths(
    rule: Rule, p: FourFifthsParams, ctx: RuleContext
) -> tuple[Outcome, str, dict[str, Any]]:
    rows = [
        {
            "attribute_set": s.name,
            "ratio": s.four_fifths.ratio,
            "lowest_group": s.four_fifths.lowest_group,
            "highest_group": s.four_fifths.highest_group,
        }
        for s in ctx.evaluation.attribute_sets
        if s.four_fifths.ratio is not None
    ]
    below = [r for r in rows if r["ratio"] < p.min_ratio]
    evidence = {"min_ratio": p.min_ratio, "checked": rows, "below": below}
    if not rows:
        return "not_applicable", "no selection-rate ratio could be computed", evidence
    if below:
        names = ", ".join(f"{r['attribute_set']} ({r['ratio']:.2f})" for r in below)
        return "failed", f"selection-rate ratio below {p.min_ratio}: {names}", evidence
    return (
        "passed",
        f"selection-rate ratio >= {p.min_ratio} in all {len(rows)} attribute sets",
        evidence,
    )


RULE_TYPES: dict[str, RuleType] = {
    "hardening_required": RuleType(
        HardeningParams,
        _hardening,
        "The container is isolated (no network, read-only, no capabilities, non-root) "
        "and within the pack's resource ceilings.",
    ),
    "no_protected_features": RuleType(
        NoParams,
        _no_protected_features,
        "No sensitive attribute, PII column or declared proxy is among the model features.",
    ),
    "fairness_threshold": RuleType(
        FairnessThresholdParams,
        _fairness_threshold,
        "A between-group difference (or ratio) of one metric stays within a threshold.",
        post_run=True,
    ),
    "four_fifths": RuleType(
        FourFifthsParams,
        _four_fifths,
        "The lowest group's selection rate is at least four fifths of the highest's.",
        post_run=True,
    ),
    "min_group_size": RuleType(
        MinGroupSizeParams,
        _min_group_size,
        "Every group in the evaluation has enough rows for its metrics to mean something.",
        post_run=True,
    ),
    "performance_floor": RuleType(
        PerformanceFloorParams,
        _performance_floor,
        "A performance metric reaches a floor (or stays under a ceiling).",
        post_run=True,
    ),
}


def check_rule_params(rule: Rule, *, where: str) -> None:
    """Raise PolicyPackError when the rule's type is unknown or its params do not fit it."""
    rule_type = RULE_TYPES.get(rule.type)
    if rule_type is None:
        raise PolicyPackError(
            f"{where}: type: unknown rule type {rule.type!r}; "
            f"known types: {', '.join(sorted(RULE_TYPES))}"
        )
    if rule_type.post_run and rule.stage != "post_run":
        raise PolicyPackError(
            f"{where}: stage: a {rule.type} rule needs the evaluation; use post_run"
        )
    try:
        rule_type.params.model_validate(rule.params)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = format_location(("params", *first["loc"]))
        raise PolicyPackError(f"{where}: {field}: {first['msg']}") from None


def run_rule(rule: Rule, ctx: RuleContext) -> RuleOutcome:
    """Check one rule and wrap the result with the rule's identity."""
    rule_type = RULE_TYPES[rule.type]
    params = rule_type.params.model_validate(rule.params)
    outcome, message, evidence = rule_type.check(rule, params, ctx)
    return RuleOutcome(
        rule_id=rule.id,
        title=rule.title,
        stage=rule.stage,
        severity=rule.severity,
        outcome=outcome,
        message=message,
        evidence=_json_safe(evidence),
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
