"""The last stages of every pilot run: reports, tracking and the terminal trail record.

Both kinds of pilot run (a tabular model's and an assistant's) end here, with one
`RunOutcome`; :func:`rule_context` gives the policy rules what the run knows so far.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sandbox.errors import SandboxError
from sandbox.manifest import MANIFEST_NAME
from sandbox.policies.rules import RuleContext
from sandbox.policies.verdict import Verdict, verdict_disparities, verdict_record
from sandbox.runs.record import RunRecord
from sandbox.runs.recorder import RunRecorder

if TYPE_CHECKING:
    from sandbox.reports.model import AuditReport

__all__ = ["TRANSCRIPTS_NAME", "RunOutcome", "finish_run", "rule_context"]

#: An assistant run's answers, keyed by reference id, in the published answers schema.
TRANSCRIPTS_NAME: Final = "answers.jsonl"


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """How one run ended, and where its evidence is."""

    record: RunRecord
    verdict: Verdict
    report: AuditReport
    reports: dict[str, Path]
    trail_seq: int

    @property
    def run_id(self) -> str:
        """The sandbox's id of the run."""
        return self.record.run_id

    @property
    def pilot(self) -> str:
        """The pilot's name."""
        return self.record.name

    @property
    def run_dir(self) -> Path:
        """The run folder: inputs, code, outputs, reports and the audit record."""
        return self.record.run_dir

    @property
    def tracker_run_id(self) -> str | None:
        """The tracker's run id; None while the tracking data waits in the outbox."""
        return self.record.tracker_run_id

    @property
    def notes(self) -> tuple[str, ...]:
        """Problems that did not stop the run (tracking, attestation)."""
        return self.record.notes

    @property
    def exit_code(self) -> int:
        """0 when the verdict lets the pilot proceed, 3 when it is fail or blocked."""
        return 0 if self.verdict.exit_ok else 3


def rule_context(record: RunRecord) -> RuleContext:
    """What the rules may look at, at this point of the run."""

    if record.manifest is None or record.hardening is None:
        raise SandboxError("a pilot run needs its manifest and hardening")
    return RuleContext(
        manifest=record.manifest,
        hardening=record.hardening,
        data=record.data,
        image_digest=record.image_digest,
        evaluation=record.evaluation,
        explanations=record.explanations,
        container=record.container,
        outputs_rejected=record.outputs_rejected,
        impact=record.impact,
    )


def _scored_record(scored: Any) -> dict[str, Any]:
    """The terminal record's proof of scored.csv, when current cases were scored."""
    if scored is None:
        return {}
    return {"scored": {"file": scored.path.name, "sha256": scored.sha256, "rows": scored.rows}}


def finish_run(rec: RunRecorder, out_dir: Path | None) -> RunOutcome:
    """Write the reports, log the run, and close it in the trail: the last step of every run."""
    from sandbox.reports.build import build_report
    from sandbox.tracking.mapping import tracked_values

    s = rec.services
    with rec.stage("reports"):
        report = build_report(
            rec.record, trail_path=s.trail.location, tracking_uri=s.tracking_uri, home=s.home
        )
        reports = rec.write_reports(report, out_dir)
        if out_dir is not None and rec.record.scored is not None:
            shutil.copy2(rec.record.scored.path, out_dir / rec.record.scored.path.name)

    r = rec.record
    if r.verdict is None or r.pilot_dir is None:
        raise SandboxError("a pilot run ends with a verdict")
    verdict = r.verdict
    with rec.stage("tracking"):
        output = r.run_dir / "output"
        rec.log(
            tracked_values(r),
            {
                r.pilot_dir / MANIFEST_NAME: "pilot",
                output / "predictions.csv": "outputs",
                output / "explanations.json": "outputs",
                output / "model": "model",  # opaque: logged as bytes, never loaded
                r.run_dir / "scored.csv": "outputs",
                r.run_dir / TRANSCRIPTS_NAME: "outputs",
            },
        )

    with rec.stage("audit trail"):
        result = r.container
        terminal = rec.finish(
            "run.blocked" if verdict.status == "blocked" else "run.finished",
            {
                "verdict": verdict.status,
                "failed_rules": [o.rule_id for o in verdict.failures],
                "governance": verdict_record(verdict),
                "disparities": verdict_disparities(verdict),
                "container_state": result.state if result else None,
                "outputs": dict(result.output_files) if result else {},
                "reports": rec.report_hashes(),
                **_scored_record(r.scored),
            },
            ok=verdict.exit_ok,
        )
    return RunOutcome(
        record=rec.record,
        verdict=verdict,
        report=report,
        reports=reports,
        trail_seq=terminal.seq,
    )
