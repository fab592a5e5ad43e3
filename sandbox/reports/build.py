"""Assemble a run's audit report from its evidence: manifest, data, container, evaluation,
verdict and the trail record that proves what ran."""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.data.wall import SCORE_FILE, TRAIN_FILE, WallCrossing
from sandbox.manifest import PilotManifest
from sandbox.policies.impact import ImpactResult, assess
from sandbox.reports import model as r
from sandbox.reports.data_roles import role_fields, split_fields
from sandbox.reports.disclosure import disclosure_of
from sandbox.reports.model_kind import model_section

if TYPE_CHECKING:
    from sandbox.reports.model import AuditReport
    from sandbox.runs.record import RunRecord

__all__ = ["build_report", "failure_of", "fitted_rows", "impact_summary"]

#: Bounds of the error output a report quotes: the last lines, and at most this many characters.
STDERR_LINES = 20
STDERR_CHARS = 2000
_HARNESS_ERROR = "harness: error: "


def fitted_rows(train_rows: int, holdout: float) -> tuple[int, int]:
    """(rows fitted on, rows held back for importance), as the harness splits them.

    The harness holds back ``ceil(holdout * train_rows)`` rows with scikit-learn's
    ``train_test_split``; the same expression here gives the same count.
    """
    held = math.ceil(holdout * train_rows) if holdout else 0
    return train_rows - held, held


def _stderr_tail(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()][-STDERR_LINES:]
    return "\n".join(lines)[-STDERR_CHARS:]


def failure_of(record: RunRecord) -> r.FailureSection | None:
    """Why the model's run failed, in the harness's own words when it gave them."""
    if record.outputs_rejected is not None:
        return r.FailureSection(
            stage="outputs",
            reason=f"the model's outputs were rejected: {record.outputs_rejected}"[
                :STDERR_CHARS
            ].rstrip(". "),
        )
    result = record.container
    if result is None or result.state == "succeeded":
        return None
    tail = _stderr_tail(result.stderr_tail)
    hardening = record.hardening
    if result.state == "timed_out":
        limit = f" of {hardening.timeout_s:g} s" if hardening else ""
        reason = f"the model ran longer than its time limit{limit} and was stopped"
    elif result.state == "oom_killed":
        limit = f" of {hardening.memory_mb} MB" if hardening else ""
        reason = f"the model used more memory than its limit{limit} and was stopped"
    else:
        said = [x for x in tail.splitlines() if x.startswith(_HARNESS_ERROR)]
        last = [x for x in tail.splitlines() if x.strip()]
        why = said[-1].removeprefix(_HARNESS_ERROR) if said else (last[-1] if last else "")
        reason = f"the model failed (exit code {result.exit_code})" + (f": {why}" if why else "")
    return r.FailureSection(
        stage="model", reason=reason[:STDERR_CHARS].rstrip(". "), stderr_tail=tail
    )


def shown_location(location: str | None, home: Path | None) -> str | None:
    """A place under the sandbox home written `$SANDBOX_HOME/...`: reports carry no host path.

    A report is signed into the trail and exported in evidence bundles, so it must not say
    where the operator keeps things; `$SANDBOX_HOME` still tells the operator where to look.
    """
    if location is None or home is None:
        return location
    for spelling in sorted({str(home.resolve()), str(home)}, key=len, reverse=True):
        if len(spelling) > 1:
            location = location.replace(spelling, "$SANDBOX_HOME")
    return location


def build_report(
    record: RunRecord, *, trail_path: Path | str, tracking_uri: str | None, home: Path | None = None
) -> AuditReport:
    """The versioned report of one run, from everything its record holds."""
    manifest, verdict = record.manifest, record.verdict
    if manifest is None or verdict is None:
        raise ValueError(f"run {record.run_id}: a report needs the manifest and the verdict")
    packs, data, crossing = record.packs, record.data, record.crossing
    ran = crossing is not None  # the runtime section exists once inputs were written
    if crossing is not None and not isinstance(crossing, WallCrossing):
        # an assistant's questions and knowledge base: no split, no training rows
        record, crossing = replace(record, crossing=None), None
    result, evaluation, explanations = record.container, record.evaluation, record.explanations
    # The runtime section exists once the inputs were written for a container.
    hardening = record.hardening if ran else None
    pilot = manifest.pilot
    finished = datetime.now(UTC)
    sources = tuple(
        r.DataSource(path=x.path, format=x.format, sha256=x.sha256, rows=x.rows, columns=x.columns)
        for x in data.sources
    )
    split = None
    holdout = manifest.model.importance_holdout
    if crossing is not None:
        fitted: tuple[int | None, int | None] = fitted_rows(crossing.train_rows, holdout)
        if manifest.model.kind != "factory":  # the harness fits only a factory's model
            fitted = (None, None)
        fit, held = fitted
        split = r.DataSplit(
            seed=manifest.data.split.seed,
            train_rows=crossing.train_rows,
            eval_rows=crossing.eval_rows,
            train_sha256=crossing.files[TRAIN_FILE],
            score_sha256=crossing.files[SCORE_FILE],
            fit_rows=fit,
            importance_rows=held,
            **split_fields(record),
        )
    runtime = None
    if hardening is not None:
        runtime = r.RuntimeSection(
            image=str(record.image),
            image_digest=result.image_digest if result else None,
            hardening=asdict(hardening),
            container_state=result.state if result else "outputs_rejected",
            exit_code=result.exit_code if result else None,
            duration_s=result.duration_s if result else None,
        )
    importances = None
    if explanations is not None:
        importances = tuple(
            r.FeatureImportance(
                feature=f.feature,
                importance_mean=f.importance_mean,
                importance_std=f.importance_std,
            )
            for f in explanations.features
        )
    started = record.started_record
    return r.AuditReport(
        run=r.RunSection(
            run_id=record.run_id,
            started_at=record.started_at,
            finished_at=finished,
            state=verdict.status,
            duration_s=round((finished - record.started_at).total_seconds(), 3),
        ),
        pilot=r.PilotSection(
            name=pilot.name,
            version=pilot.version,
            title=pilot.title,
            city=pilot.owner.city,
            department=pilot.owner.department,
            contact=pilot.owner.contact,
            purpose=pilot.purpose,
            problem=pilot.problem,
            intended_users=pilot.intended_users,
            success_indicators=pilot.success_indicators,
            task=manifest.task.type,
        ),
        data=r.DataSection(
            sources=sources,
            split=split,
            roles=r.DataRoles(
                label=manifest.data.label,
                # only task types with a positive class declare these
                positive_label=getattr(manifest.task, "positive_label", None),
                positive_meaning=getattr(manifest.task, "positive_meaning", ""),
                features=manifest.data.features,
                sensitive=manifest.data.sensitive,
                pii=manifest.data.pii,
                proxies=manifest.data.proxies,
                **role_fields(record),
            ),
            missing_by_column=dict(data.missing_by_column),
        ),
        model=model_section(record),
        governance=r.GovernanceSection(
            phase=pilot.phase,
            policy_packs=tuple(p.id for p in packs),
            human_oversight=manifest.governance.human_oversight,
            data_retention=manifest.governance.data_retention,
            impact_assessment=impact_summary(manifest, record.impact),
            transparency=dict(manifest.governance.transparency),
        ),
        runtime=runtime,
        evaluation=evaluation,
        explanations=importances,
        verdict=verdict,
        failure=failure_of(record),
        disclosure=disclosure_of(evaluation),
        provenance=r.ProvenanceSection(
            manifest_sha256=str(record.manifest_sha256),
            policy_pack_id="+".join(p.id for p in packs),
            policy_pack_sha256=",".join(p.sha256 for p in packs),
            mlflow_run_id=record.tracker_run_id,
            mlflow_tracking_uri=shown_location(tracking_uri, home),
            trail_path=shown_location(str(trail_path), home),
            trail_seq=started.seq if started else None,
            trail_record_hash=started.hash if started else None,
        ),
        notes=record.notes,
    )


def impact_summary(manifest: PilotManifest, impact: ImpactResult | None = None) -> dict[str, Any]:
    """The declared impact-assessment answers and what they score to (`impact`, if scored)."""
    answers = manifest.governance.impact_assessment
    return {
        "answers": answers.model_dump(mode="json", exclude_defaults=True),
        "assessment": (impact or assess(answers)).evidence(),
    }
