"""`expected.yaml`: the blueprint test, and how a run's report.json is held against it.

verdict: pass_with_warnings               # the verdict status the run must reach
findings:                                 # each must hold in report.json
  - rule: fairness.four-fifths            # a rule id among verdict.outcomes
    outcome: failed                       # passed, failed or not_applicable
    mentions: race_ethnicity              # optional: a substring of the rule's message
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.errors import UserInputError
from sandbox.manifest import format_location
from sandbox.policies.verdict import Outcome, VerdictStatus
from sandbox.yaml_reader import read_yaml

__all__ = ["Expectation", "ExpectedFinding", "compare", "load_expectation"]

MAX_EXPECTED_BYTES = 100_000


class ExpectedFinding(BaseModel):
    """One rule outcome the run must show."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str = Field(min_length=1, description="A rule id, e.g. fairness.four-fifths.")
    outcome: Outcome = Field(description="passed, failed or not_applicable.")
    mentions: str | None = Field(
        default=None, min_length=1, description="A substring of the rule's message."
    )


class Expectation(BaseModel):
    """What a run of the blueprint on its shipped data must show."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verdict: VerdictStatus
    findings: tuple[ExpectedFinding, ...] = ()


def load_expectation(path: Path) -> Expectation:
    """Read and validate an expected.yaml; UserInputError naming the file and the field."""
    data = read_yaml(path, max_bytes=MAX_EXPECTED_BYTES, error=UserInputError)
    if not isinstance(data, dict):
        raise UserInputError(f"{path}: expected a mapping with `verdict` and `findings`")
    try:
        return Expectation.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UserInputError(
            f"{path}: {format_location(tuple(first['loc']))}: {first['msg']} "
            "(see `sandbox blueprint check --help` and docs/blueprints.md)"
        ) from None


def compare(expectation: Expectation, report: Mapping[str, Any]) -> list[str]:
    """Every way `report` (a parsed report.json) falls short of `expectation`; [] when it holds."""
    verdict = report.get("verdict") or {}
    problems: list[str] = []
    status = verdict.get("status")
    if status != expectation.verdict:
        problems.append(f"verdict is {status!r}, expected {expectation.verdict!r}")
    outcomes = {o.get("rule_id"): o for o in verdict.get("outcomes") or ()}
    for finding in expectation.findings:
        got = outcomes.get(finding.rule)
        if got is None:
            problems.append(f"{finding.rule}: not among the run's rule outcomes")
            continue
        if got.get("outcome") != finding.outcome:
            problems.append(
                f"{finding.rule}: outcome {got.get('outcome')!r}, expected {finding.outcome!r} "
                f"({got.get('message', '')})"
            )
        elif finding.mentions and finding.mentions not in str(got.get("message", "")):
            problems.append(
                f"{finding.rule}: its message does not mention {finding.mentions!r} "
                f"({got.get('message', '')})"
            )
    return problems
