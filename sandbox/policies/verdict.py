"""The outcome of governance: each rule's result with its evidence, and the run's verdict."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Outcome", "RuleOutcome", "Severity", "Stage", "Verdict", "VerdictStatus"]

Stage = Literal["pre_run", "runtime", "post_run"]
Severity = Literal["block", "warn", "info"]
Outcome = Literal["passed", "failed", "not_applicable"]
VerdictStatus = Literal["pass", "pass_with_warnings", "fail", "blocked"]


class RuleOutcome(BaseModel):
    """One rule checked once: did it hold, and what was measured."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    title: str
    stage: Stage
    severity: Severity
    outcome: Outcome
    message: str
    evidence: dict[str, Any] = Field(default_factory=dict)


class Verdict(BaseModel):
    """The governance verdict of a run, with every rule's outcome."""

    model_config = ConfigDict(frozen=True)

    status: VerdictStatus
    pack: str
    outcomes: tuple[RuleOutcome, ...] = ()

    @property
    def exit_ok(self) -> bool:
        """True when the pilot may proceed: pass, or pass with warnings."""
        return self.status in ("pass", "pass_with_warnings")

    @property
    def failures(self) -> tuple[RuleOutcome, ...]:
        """Rules that did not hold, whatever their severity."""
        return tuple(o for o in self.outcomes if o.outcome == "failed")

    @classmethod
    def decide(cls, pack: str, outcomes: list[RuleOutcome] | tuple[RuleOutcome, ...]) -> Verdict:
        """Fold rule outcomes into a verdict: a failed pre-run block rule blocks the run."""
        failed = [o for o in outcomes if o.outcome == "failed"]
        if any(o.severity == "block" and o.stage == "pre_run" for o in failed):
            status: VerdictStatus = "blocked"
        elif any(o.severity == "block" for o in failed):
            status = "fail"
        elif any(o.severity == "warn" for o in failed):
            status = "pass_with_warnings"
        else:
            status = "pass"
        return cls(status=status, pack=pack, outcomes=tuple(outcomes))
