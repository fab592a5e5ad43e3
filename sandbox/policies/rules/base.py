"""What every rule type is made of: the context it reads, its parameters, what it finds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from sandbox.manifest import PilotManifest
from sandbox.policies.verdict import Outcome, Severity, Stage
from sandbox.runtime.base import ContainerResult, Hardening

if TYPE_CHECKING:
    from sandbox.policies.impact import ImpactResult

__all__ = ["Check", "Finding", "Params", "RuleContext", "RuleType"]


@dataclass(frozen=True, kw_only=True)
class RuleContext:
    """What a rule may look at. `evaluation` and `explanations` are present only after the run."""

    manifest: PilotManifest
    hardening: Hardening
    data: Any = None  # sandbox.data.dataset.PilotData: the checked rows, on the host
    image_digest: str | None = None
    evaluation: Any = None  # sandbox.evaluation.binary.BinaryEvaluation
    explanations: Any = None  # sandbox.runtime.outputs.Explanations, when the model wrote them
    container: ContainerResult | None = None  # how the container ended, once it has run
    outputs_rejected: str | None = None  # why its outputs broke the container contract
    impact: ImpactResult | None = None  # the scored questionnaire, when the run has it already

    def impact_result(self) -> ImpactResult:
        """The pilot's scored impact questionnaire (scored here when the run did not)."""
        if self.impact is not None:
            return self.impact
        from sandbox.policies.impact import assess

        return assess(self.manifest.governance.impact_assessment)


class Params(BaseModel):
    """Base of every rule type's parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Finding:
    """What one check found. Evidence uses `value`, `threshold`, `ci_low`, `ci_high` for the
    headline numbers. `severity` may lower the rule's severity for this run (never raise it):
    a disparity whose interval still includes the threshold is a warning, not a block."""

    outcome: Outcome
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: Severity | None = None


Check = Callable[[Any, RuleContext], Finding]


@dataclass(frozen=True)
class RuleType:
    """A check with its parameter model, the stages it may run at, and a one-line summary."""

    params: type[Params]
    check: Check
    summary: str
    stages: tuple[Stage, ...] = ("pre_run",)
    after_launch: bool = False  # judges how the container ended: not part of the launch gate
