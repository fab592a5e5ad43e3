"""The policy engine: run the packs' rules for one stage and fold them into a verdict.

Every run, and every tool that previews one (`sandbox policy check`, the pack suites), goes
through the same steps:

    packs = packs_for(manifest, pilot_dir)                  # sandbox.policies.selection
    hardening = effective_hardening(packs, defaults)        # sandbox.policies.hardening
    gate = launch_gate(packs, ctx)                          # blocked: no container
    ... container ...
    decide(packs, [*gate.outcomes, *container_checks(packs, ctx),
                   *check_stage(packs, "post_run", ctx)])
"""

from __future__ import annotations

from collections.abc import Sequence

from sandbox.policies.pack import PolicyPack
from sandbox.policies.rules import RULE_TYPES, RuleContext, run_rule
from sandbox.policies.verdict import RuleOutcome, Stage, Verdict

__all__ = ["check_stage", "container_checks", "decide", "launch_gate"]


def check_stage(
    packs: Sequence[PolicyPack], stage: Stage, ctx: RuleContext, *, after_launch: bool = False
) -> list[RuleOutcome]:
    """Every rule of `stage` across the packs, in pack order.

    The rules that judge how the container ended are checked only with `after_launch`.
    """
    return [
        run_rule(rule, ctx)
        for pack in packs
        for rule in pack.rules
        if rule.stage == stage and RULE_TYPES[rule.type].after_launch == after_launch
    ]


def launch_gate(packs: Sequence[PolicyPack], ctx: RuleContext) -> Verdict:
    """May the container start? The pre-run and runtime rules; `blocked` means it may not."""
    outcomes = check_stage(packs, "pre_run", ctx) + check_stage(packs, "runtime", ctx)
    return decide(packs, outcomes, started=False)


def container_checks(packs: Sequence[PolicyPack], ctx: RuleContext) -> list[RuleOutcome]:
    """The runtime rules that judge how the container ended (`ctx.container`)."""
    return check_stage(packs, "runtime", ctx, after_launch=True)


def decide(
    packs: Sequence[PolicyPack], outcomes: Sequence[RuleOutcome], *, started: bool = True
) -> Verdict:
    """The verdict over all outcomes so far; `started=False` before the container exists."""
    return Verdict.decide("+".join(p.id for p in packs), list(outcomes), started=started)
