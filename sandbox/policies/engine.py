"""The policy engine: run a pack's rules for one stage and fold them into a verdict."""

from __future__ import annotations

from sandbox.policies.pack import PolicyPack
from sandbox.policies.rules import RuleContext, run_rule
from sandbox.policies.verdict import RuleOutcome, Stage, Verdict

__all__ = ["check_stage", "decide"]


def check_stage(packs: list[PolicyPack], stage: Stage, ctx: RuleContext) -> list[RuleOutcome]:
    """Every rule of `stage` across the packs, in pack order."""
    return [run_rule(rule, ctx) for pack in packs for rule in pack.rules if rule.stage == stage]


def decide(packs: list[PolicyPack], outcomes: list[RuleOutcome]) -> Verdict:
    """The verdict over all outcomes so far."""
    return Verdict.decide("+".join(p.id for p in packs), outcomes)
