"""The policy engine: run the packs' rules for one stage and fold them into a verdict.

The run pipeline calls, in order:

    packs = packs_for(manifest, pilot_dir)                  # sandbox.policies.selection
    hardening = effective_hardening(packs, defaults)        # sandbox.policies.hardening
    gate = check_stage(packs, "pre_run", ctx) + check_stage(packs, "runtime", ctx)
    decide(packs, gate, started=False)                      # blocked: no container
    ... container ...
    decide(packs, gate + container + check_stage(packs, "post_run", ctx))
"""

from __future__ import annotations

from collections.abc import Sequence

from sandbox.policies.pack import PolicyPack
from sandbox.policies.rules import RuleContext, run_rule
from sandbox.policies.verdict import RuleOutcome, Stage, Verdict

__all__ = ["check_stage", "decide"]


def check_stage(packs: Sequence[PolicyPack], stage: Stage, ctx: RuleContext) -> list[RuleOutcome]:
    """Every rule of `stage` across the packs, in pack order."""
    return [run_rule(rule, ctx) for pack in packs for rule in pack.rules if rule.stage == stage]


def decide(
    packs: Sequence[PolicyPack], outcomes: Sequence[RuleOutcome], *, started: bool = True
) -> Verdict:
    """The verdict over all outcomes so far; `started=False` before the container exists."""
    return Verdict.decide("+".join(p.id for p in packs), list(outcomes), started=started)
