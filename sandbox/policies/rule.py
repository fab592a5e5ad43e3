"""One governance rule as a pack declares it: id, type, stage, severity, parameters, why."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sandbox.policies.impact import ImpactLevel
from sandbox.policies.verdict import Severity, Stage

__all__ = ["Rule"]


class Rule(BaseModel):
    """One governance rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,80}$")
    type: str = Field(description="The rule type (`sandbox policy explain TYPE`).")
    title: str = Field(min_length=1, max_length=200)
    stage: Stage
    severity: Severity
    params: dict[str, Any] = Field(default_factory=dict)
    rationale: str = Field(min_length=1, max_length=4000)
    references: tuple[str, ...] = Field(
        default=(), description="Framework clauses the rule implements (NIST AI RMF, EU AI Act...)."
    )
    min_impact_level: ImpactLevel | None = Field(
        default=None,
        description="Check the rule only from this impact level up (always, if not assessed).",
    )
