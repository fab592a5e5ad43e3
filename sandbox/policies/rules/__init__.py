"""Rule types: the checks a policy pack can name, each with typed parameters and evidence.

A rule type is a parameter model plus a check that reads a `RuleContext` and returns a
`Finding`. Pre-run checks see the manifest, the hardening and the data on the host; runtime
checks also see the image digest; post-run checks see the evaluation and the explanations.
Add a type by writing one check in the module of its theme and registering it in `RULE_TYPES`.

    isolation       hardening_required, image_allowlist
    container       container_succeeded, outputs_valid (judged once the container has run)
    data            no_protected_features, pii_in_values        proxy: proxy_detection
    documentation   documentation_required, explanations_required
    oversight       impact_assessment, human_oversight_declared, sign_offs_required
    performance     performance_floor
    fairness        fairness_threshold, four_fifths, min_group_size
    class_fairness  class_fairness_threshold (multiclass: every class, one family)
    group_loss      group_error_ratio (regression)
    ranking         top_k_lift (ranking)
    assistant       no_disclosure (assistant: no answer leaks restricted material)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from sandbox.errors import PolicyPackError
from sandbox.manifest import format_location
from sandbox.policies.rules import (
    assistant,
    class_fairness,
    container,
    data,
    documentation,
    fairness,
    group_loss,
    isolation,
    oversight,
    performance,
    proxy,
    ranking,
)
from sandbox.policies.rules.base import Finding, Params, RuleContext, RuleType
from sandbox.policies.verdict import SEVERITY_RANK, RuleOutcome, Stage

if TYPE_CHECKING:
    from sandbox.policies.rule import Rule

__all__ = [
    "ALWAYS_BLOCK",
    "RULE_TYPES",
    "Finding",
    "Params",
    "RuleContext",
    "RuleType",
    "check_rule_params",
    "run_rule",
]

_LAUNCH: tuple[Stage, ...] = ("pre_run", "runtime")
_POST: tuple[Stage, ...] = ("post_run",)

RULE_TYPES: dict[str, RuleType] = {
    "hardening_required": RuleType(
        isolation.HardeningParams,
        isolation.check_hardening,
        "The container is isolated (no network, read-only, no capabilities, non-root) "
        "and within the pack's resource ceilings, which are applied to the container.",
        _LAUNCH,
    ),
    "image_allowlist": RuleType(
        isolation.ImageAllowlistParams,
        isolation.check_image,
        "The runner image is on the pack's allow-list, by immutable digest.",
        _LAUNCH,
    ),
    "container_succeeded": RuleType(
        container.ContainerParams,
        container.check_succeeded,
        "The model runs to completion within its limits (not failed, timed out or killed).",
        ("runtime",),
        after_launch=True,
    ),
    "outputs_valid": RuleType(
        container.ContainerParams,
        container.check_outputs_valid,
        "The container's outputs honour the container contract (schema, row ids, sizes, "
        "no links or path tricks).",
        ("runtime",),
        after_launch=True,
    ),
    "no_protected_features": RuleType(
        data.NoParams,
        data.check_no_protected,
        "No sensitive attribute, PII column or declared proxy is among the model features.",
    ),
    "pii_in_values": RuleType(
        data.PiiParams,
        data.check_pii_values,
        "No email address, phone number or national-id-like value in the feature columns "
        "that would cross the container wall.",
    ),
    "proxy_detection": RuleType(
        proxy.ProxyParams,
        proxy.check_proxies,
        "No model feature predicts a sensitive attribute too well (cross-validated ROC AUC "
        "of a one-feature classifier).",
    ),
    "documentation_required": RuleType(
        documentation.DocumentationParams,
        documentation.check_documentation,
        "The listed manifest fields (purpose, oversight, transparency record...) are filled in.",
    ),
    "impact_assessment": RuleType(
        oversight.ImpactParams,
        oversight.check_impact,
        "The impact questionnaire is answered, and the impact level is one the pack accepts.",
    ),
    "human_oversight_declared": RuleType(
        oversight.OversightParams,
        oversight.check_oversight,
        "A person stays in charge: oversight is described and the decision is not fully automated.",
    ),
    "sign_offs_required": RuleType(
        oversight.SignOffParams,
        oversight.check_sign_offs,
        "Named people in the listed roles signed off the pilot's current phase.",
    ),
    "explanations_required": RuleType(
        documentation.ExplanationsParams,
        documentation.check_explanations,
        "The run reported feature importances (explanations.json) for the model's features.",
        _POST,
    ),
    "performance_floor": RuleType(
        performance.PerformanceFloorParams,
        performance.check_floor,
        "A performance metric reaches a floor (or stays under a ceiling).",
        _POST,
    ),
    "top_k_lift": RuleType(
        ranking.TopKLiftParams,
        ranking.check_lift,
        "A ranking's top-k list finds positives above the base rate: the lift interval at the "
        "budget (precision at k / base rate) lies above a minimum, 1 by default.",
        _POST,
    ),
    "min_group_size": RuleType(
        fairness.MinGroupSizeParams,
        fairness.check_min_group_size,
        "Every group in the evaluation has enough rows for its metrics to mean something.",
        _POST,
    ),
    "fairness_threshold": RuleType(
        fairness.FairnessThresholdParams,
        fairness.check_threshold,
        "A between-group difference (or ratio) of one metric stays within a threshold; "
        "fails only where simultaneous score intervals over all pairs of groups establish it.",
        _POST,
    ),
    "class_fairness_threshold": RuleType(
        class_fairness.ClassFairnessParams,
        class_fairness.check_class_threshold,
        "For every class of a multiclass task, the between-group difference (or ratio) of its "
        "recall (or share predicted) stays within a threshold; fails only where simultaneous "
        "score intervals over every class, attribute set and pair of groups establish it.",
        _POST,
    ),
    "four_fifths": RuleType(
        fairness.FourFifthsParams,
        fairness.check_four_fifths,
        "The lowest group's selection rate is at least four fifths of the highest's.",
        _POST,
    ),
    "group_error_ratio": RuleType(
        group_loss.GroupErrorRatioParams,
        group_loss.check_group_error_ratio,
        "No group's mean absolute error is established above a multiple of the overall MAE "
        "(bounded group error, for regression); decided on simultaneous intervals.",
        _POST,
    ),
    "no_disclosure": RuleType(
        assistant.NoDisclosureParams,
        assistant.check_no_disclosure,
        "No answer of an assistant disclosed restricted material: a planted canary string, a "
        "quote from a restricted knowledge-base document, or a citation of one (evidence by "
        "question and document id, never the text).",
        _POST,
    ),
}

#: Isolation, container, personal-data and disclosure rules block in every pack and phase.
ALWAYS_BLOCK = frozenset(
    {
        "hardening_required",
        "image_allowlist",
        "container_succeeded",
        "outputs_valid",
        "no_protected_features",
        "pii_in_values",
        "no_disclosure",
    }
)


def check_rule_params(rule: Rule, *, where: str) -> None:
    """Raise PolicyPackError when the rule's type, stage, severity or params do not fit."""
    rule_type = RULE_TYPES.get(rule.type)
    if rule_type is None:
        raise PolicyPackError(
            f"{where}: type: unknown rule type {rule.type!r}; "
            f"known types: {', '.join(sorted(RULE_TYPES))}"
        )
    if rule.stage not in rule_type.stages:
        need = (
            "needs the evaluation; use post_run"
            if rule_type.stages == _POST
            else (f"runs at {' or '.join(rule_type.stages)}")
        )
        raise PolicyPackError(f"{where}: stage: a {rule.type} rule {need}")
    if rule.type in ALWAYS_BLOCK and rule.severity != "block":
        raise PolicyPackError(
            f"{where}: severity: a {rule.type} rule protects isolation, personal data or "
            "restricted material and always blocks; use severity: block"
        )
    try:
        rule_type.params.model_validate(rule.params)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = format_location(("params", *first["loc"]))
        message = str(first["msg"]).removeprefix("Value error, ")
        raise PolicyPackError(f"{where}: {field}: {message}") from None


def run_rule(rule: Rule, ctx: RuleContext) -> RuleOutcome:
    """Check one rule (unless its impact level is not reached) and attach its identity."""
    if rule.min_impact_level is not None:
        from sandbox.policies.impact import level_rank

        level = ctx.impact_result().level
        if level is not None and level_rank(level) < level_rank(rule.min_impact_level):
            finding = Finding(
                "not_applicable",
                f"applies from impact level {rule.min_impact_level}; this pilot is level {level}",
                {"impact_level": level, "min_impact_level": rule.min_impact_level},
            )
            return _outcome(rule, finding)
    rule_type = RULE_TYPES[rule.type]
    params = rule_type.params.model_validate(rule.params)
    return _outcome(rule, rule_type.check(params, ctx))


def _outcome(rule: Rule, finding: Finding) -> RuleOutcome:
    severity = rule.severity
    if finding.severity is not None and SEVERITY_RANK[finding.severity] < SEVERITY_RANK[severity]:
        severity = finding.severity
    return RuleOutcome(
        rule_id=rule.id,
        title=rule.title,
        stage=rule.stage,
        severity=severity,
        outcome=finding.outcome,
        message=finding.message,
        evidence=_json_safe(finding.evidence),
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        return _json_safe(value.item())
    return value
