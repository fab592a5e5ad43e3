"""What a run's records say: the headline disparities a run signs, and the facts read back."""

from __future__ import annotations

from pathlib import Path

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail
from sandbox.hosted.runfacts import MAX_HEADLINES, headline_disparities, read_run
from sandbox.policies.verdict import RuleOutcome, Verdict, verdict_disparities


def _outcome(rule_id: str, outcome: str, evidence: dict[str, object]) -> RuleOutcome:
    return RuleOutcome(
        rule_id=rule_id,
        title="t",
        stage="post_run",
        severity="warn",
        outcome=outcome,
        message="m",
        evidence=evidence,
    )  # type: ignore[arg-type]


def test_each_checked_fairness_rule_signs_its_headline() -> None:
    checked = [
        {"attribute_set": "race_ethnicity", "value": 0.119, "ci_low": 0.05, "ci_high": 0.31},
        {"attribute_set": "sex", "value": 0.011, "ci_low": 0.0, "ci_high": 0.03},
    ]
    verdict = Verdict(
        status="pass_with_warnings",
        pack="baseline",
        outcomes=(
            _outcome("fairness.tpr-difference", "failed", {
                "metric": "tpr", "measure": "difference", "threshold": 0.1, "value": 0.119,
                "ci_low": 0.05, "ci_high": 0.31, "checked": checked}),
            _outcome("fairness.four-fifths", "failed", {
                "min_ratio": 0.8, "threshold": 0.8, "value": 0.77,
                "checked": [{"attribute_set": "age_band", "ratio": 0.77}]}),
            _outcome("fairness.unsettled", "not_applicable", {"value": None}),
            _outcome("performance.floor", "passed", {"value": 0.9, "threshold": 0.7}),
            _outcome("fairness.odd", "passed", {"value": float("nan"), "metric": 3}),
        ),
    )  # fmt: skip
    assert verdict_disparities(verdict) == [
        {"rule_id": "fairness.tpr-difference", "outcome": "failed", "severity": "warn",
         "metric": "tpr", "measure": "difference", "attribute_set": "race_ethnicity",
         "value": 0.119, "threshold": 0.1, "ci_low": 0.05, "ci_high": 0.31},
        {"rule_id": "fairness.four-fifths", "outcome": "failed", "severity": "warn",
         "metric": "selection_rate", "measure": "ratio", "attribute_set": "age_band",
         "value": 0.77, "threshold": 0.8, "ci_low": None, "ci_high": None},
        {"rule_id": "fairness.odd", "outcome": "passed", "severity": "warn", "metric": 3.0,
         "measure": None, "attribute_set": None, "value": None, "threshold": None,
         "ci_low": None, "ci_high": None},
    ]  # fmt: skip


def test_headlines_are_read_back_bounded() -> None:
    many = [{"rule_id": f"fairness.r{i}", "value": i, "note": "x" * 500} for i in range(50)]
    read = headline_disparities({"disparities": [*many, "not a mapping"]})
    assert len(read) == MAX_HEADLINES
    assert read[3] == {"rule_id": "fairness.r3", "value": 3.0, "note": "x" * 200}
    # A run recorded before the list existed: each fairness rule's outcome.
    older = {"governance": {"rules": {"fairness.a": "failed:warn", "data.pii": "passed:block"}}}
    assert headline_disparities(older) == (
        {"rule_id": "fairness.a", "outcome": "failed", "severity": "warn"},
    )
    assert headline_disparities({"governance": "nonsense"}) == ()


def test_the_facts_of_a_run_come_from_its_records(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "trail.jsonl", Signer.generate())
    assert read_run(trail, "r-1") is None
    submitted = {"pilot": "screening", "tenant": "northtown", "phase": "scoping"}
    trail.append("run.submitted", actor="w", run_id="r-1", payload=submitted)
    going = read_run(trail, "r-1")
    assert going is not None
    assert (going.organisation, going.pilot, going.phase, going.ended) == (
        "northtown", "screening", "prototype", None)  # fmt: skip
    trail.append("run.failed", actor="w", run_id="r-1", payload={"error": "boom"})
    ended = read_run(trail, "r-1")
    assert ended is not None
    assert (ended.ended, ended.verdict, ended.passed) == ("run.failed", "failed", False)
