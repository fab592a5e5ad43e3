"""Oversight rules: the impact is assessed, people stay in charge, and named people sign off."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from sandbox.manifest import Phase
from sandbox.policies.impact import ImpactLevel, level_rank
from sandbox.policies.rules.base import Finding, Params, RuleContext

__all__ = [
    "ImpactParams",
    "OversightParams",
    "SignOffParams",
    "check_impact",
    "check_oversight",
    "check_sign_offs",
]


class ImpactParams(Params):
    """Whether every question must be answered, and the highest level a pack accepts."""

    require_complete: bool = True
    max_level: ImpactLevel | None = None


class OversightParams(Params):
    """How much the human-oversight statement must say, and whether full automation is refused."""

    min_chars: int = Field(default=40, ge=1)
    refuse_full_automation: bool = True


class SignOffParams(Params):
    """The roles that must sign off before a pilot runs in one of `phases` (empty: any phase)."""

    roles: tuple[str, ...] = Field(min_length=1)
    phases: tuple[Phase, ...] = ()


def check_impact(p: ImpactParams, ctx: RuleContext) -> Finding:
    """The questionnaire is answered and the level is within what the pack accepts."""
    result = ctx.impact_result()
    evidence = {**result.evidence(), "max_level": p.max_level}
    if result.level is None:
        return Finding(
            "failed",
            "no impact assessment: answer the questionnaire in governance.impact_assessment "
            "(`sandbox assess PILOT` shows the level)",
            evidence,
        )
    problems = []
    if p.require_complete and result.unanswered:
        problems.append(f"unanswered: {', '.join(result.unanswered)}")
    if p.max_level is not None and level_rank(result.level) > level_rank(p.max_level):
        problems.append(f"impact level {result.level} is above the {p.max_level} this pack accepts")
    if problems:
        return Finding("failed", f"impact assessment: {'; '.join(problems)}", evidence)
    return Finding(
        "passed",
        f"impact level {result.level} (mitigated score {result.mitigated_score} of "
        f"{result.max_raw_score})",
        evidence,
    )


def check_oversight(p: OversightParams, ctx: RuleContext) -> Finding:
    """A person is in charge: oversight is described, and the decision is not fully automated."""
    governance = ctx.manifest.governance
    statement = governance.human_oversight.strip()
    automation = governance.impact_assessment.automation
    evidence = {
        "value": len(statement),
        "threshold": p.min_chars,
        "automation": automation,
    }
    problems = []
    if len(statement) < p.min_chars:
        problems.append(
            f"governance.human_oversight has {len(statement)} characters, fewer than "
            f"{p.min_chars}: say who reviews which decisions and how they can override them"
        )
    if p.refuse_full_automation and automation == "full_automation":
        problems.append("the impact assessment declares full automation; a person must decide")
    if problems:
        return Finding("failed", "; ".join(problems), evidence)
    return Finding("passed", "human oversight is declared", evidence)


def check_sign_offs(p: SignOffParams, ctx: RuleContext) -> Finding:
    """Every required role has signed off the pilot's current phase."""
    phase = ctx.manifest.pilot.phase
    evidence: dict[str, Any] = {"phase": phase, "roles": list(p.roles), "phases": list(p.phases)}
    if p.phases and phase not in p.phases:
        return Finding("not_applicable", f"no sign-off is required in the {phase} phase", evidence)
    signed = {
        s.role.strip().lower(): s for s in ctx.manifest.governance.sign_offs if s.phase == phase
    }
    missing = [role for role in p.roles if role.strip().lower() not in signed]
    evidence |= {
        "signed": [
            {"role": s.role, "name": s.name, "date": s.date}
            for s in ctx.manifest.governance.sign_offs
            if s.phase == phase
        ],
        "missing": missing,
        "value": len(p.roles) - len(missing),
        "threshold": len(p.roles),
    }
    if missing:
        return Finding(
            "failed",
            f"the {phase} phase needs sign-offs from: {', '.join(missing)}; add them to "
            "governance.sign_offs (role, name, phase, date)",
            evidence,
        )
    return Finding("passed", f"signed off for the {phase} phase by {len(p.roles)} roles", evidence)
