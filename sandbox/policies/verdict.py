"""The outcome of governance: each rule's result with its evidence, and the run's verdict.

A verdict is published three ways: in the reports (the model itself), in the experiment
tracker (`verdict_tags`, `verdict_metrics`: stable names) and in the signed audit trail
(`verdict_record`: compact, with a digest binding the full evidence).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SEVERITY_RANK",
    "Outcome",
    "RuleOutcome",
    "Severity",
    "Stage",
    "Verdict",
    "VerdictStatus",
    "verdict_disparities",
    "verdict_metrics",
    "verdict_record",
    "verdict_tags",
]

Stage = Literal["pre_run", "runtime", "post_run"]
Severity = Literal["block", "warn", "info"]
Outcome = Literal["passed", "failed", "not_applicable"]
VerdictStatus = Literal["pass", "pass_with_warnings", "fail", "blocked"]
SEVERITY_RANK: dict[Severity, int] = {"info": 0, "warn": 1, "block": 2}
#: Evidence keys with a headline number, logged as metrics when present.
HEADLINE_KEYS = ("value", "threshold", "ci_low", "ci_high")


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
    def decide(
        cls,
        pack: str,
        outcomes: list[RuleOutcome] | tuple[RuleOutcome, ...],
        *,
        started: bool = True,
    ) -> Verdict:
        """Fold rule outcomes into a verdict.

        A failed blocking rule blocks the run when it is a pre-run rule, or a runtime rule
        checked before the container started (`started=False`); after that it fails the run.
        """
        failed = [o for o in outcomes if o.outcome == "failed"]
        gate = ("pre_run",) if started else ("pre_run", "runtime")
        if any(o.severity == "block" and o.stage in gate for o in failed):
            status: VerdictStatus = "blocked"
        elif any(o.severity == "block" for o in failed):
            status = "fail"
        elif any(o.severity == "warn" for o in failed):
            status = "pass_with_warnings"
        else:
            status = "pass"
        return cls(status=status, pack=pack, outcomes=tuple(outcomes))


def verdict_tags(verdict: Verdict) -> dict[str, str]:
    """Tracker tags: ``governance.verdict``, ``governance.packs``, ``governance.rule.<id>``."""
    tags = {"governance.verdict": verdict.status, "governance.packs": verdict.pack}
    for o in verdict.outcomes:
        tags[f"governance.rule.{o.rule_id}"] = o.outcome
        if o.outcome == "failed":
            tags[f"governance.rule.{o.rule_id}.severity"] = o.severity
    return tags


def verdict_metrics(verdict: Verdict) -> dict[str, float]:
    """Tracker metrics: counts, each rule's pass (1) or fail (0), and its headline numbers.

    ``governance.rules_failed``, ``governance.blocking_failures``, ``governance.warnings``,
    ``governance.rule.<id>.passed``, ``governance.rule.<id>.value`` (and ``.threshold``,
    ``.ci_low``, ``.ci_high`` where the rule measured them). Rules that did not apply are left
    out.
    """
    failures = verdict.failures
    metrics = {
        "governance.rules_failed": float(len(failures)),
        "governance.blocking_failures": float(sum(o.severity == "block" for o in failures)),
        "governance.warnings": float(sum(o.severity == "warn" for o in failures)),
    }
    for o in verdict.outcomes:
        if o.outcome == "not_applicable":
            continue
        prefix = f"governance.rule.{o.rule_id}"
        metrics[f"{prefix}.passed"] = float(o.outcome == "passed")
        for key in HEADLINE_KEYS:
            value = o.evidence.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if math.isfinite(value):
                metrics[f"{prefix}.{key}"] = float(value)
    return metrics


def verdict_record(verdict: Verdict) -> dict[str, Any]:
    """The verdict for the signed audit record: each rule's outcome, and a digest of it all.

    The digest is the SHA-256 of the verdict's canonical JSON (every message and evidence), so
    the signed record binds the evidence published in the reports.
    """
    canonical = json.dumps(verdict.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return {
        "status": verdict.status,
        "packs": verdict.pack,
        "rules": {o.rule_id: f"{o.outcome}:{o.severity}" for o in verdict.outcomes},
        "sha256": "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    }


def _values(row: dict[str, Any]) -> tuple[object, ...]:
    return (row.get("value"), row.get("ratio"))


def _plain(value: object) -> str | float | None:
    """A value the signed record can hold: text, a finite number, or None."""
    if isinstance(value, str):
        return value[:200]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def verdict_disparities(verdict: Verdict) -> list[dict[str, Any]]:
    """The headline disparity of each fairness rule that was checked, for the signed record.

    Per rule: its outcome, the metric and measure, the worst value with its interval, the
    threshold and the attribute set it was found in; what a run's journey shows at a glance.
    """
    found = []
    for o in verdict.outcomes:
        e = o.evidence
        if o.outcome == "not_applicable" or "fairness" not in o.rule_id:
            continue
        value = e.get("value")
        checked = e.get("checked")
        rows = [r for r in checked if isinstance(r, dict)] if isinstance(checked, list) else []
        # The attribute set whose value is the headline (the rule's worst).
        where = next(
            (r.get("attribute_set") for r in rows if value is not None and value in _values(r)),
            None,
        )
        found.append(
            {
                "rule_id": o.rule_id,
                "outcome": o.outcome,
                "severity": o.severity,
                "metric": _plain(e.get("metric", "selection_rate" if "min_ratio" in e else None)),
                "measure": _plain(e.get("measure", "ratio" if "min_ratio" in e else None)),
                "attribute_set": _plain(where),
                **{key: _plain(e.get(key)) for key in HEADLINE_KEYS},
            }
        )
    return found
