"""Audit a vendor's predictions alone: no model, no container, the same report and record.

Auditors often receive a file of predictions (with the true outcome and the residents'
sensitive attributes) rather than the model that made them. `audit_predictions` assesses such
a file exactly as a pilot's run is assessed: the same evaluation (numbers equal fairlearn's
`MetricFrame`), the post-run rules of the policy packs, the same reports, an MLflow run, and
the same record as a pilot run (`RunRecorder`: lock, state file, attestation, checkpoint, and
exactly one terminal record). Its trail records are `audit.submitted` and `audit.finished`
(or `run.failed`), whose payloads say `"mode": "predictions-only"` and `"container": null`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np
import pandas as pd

from sandbox.digests import file_sha256
from sandbox.errors import DataError, UserInputError
from sandbox.runs.record import RunRecord, new_run_id
from sandbox.runs.recorder import AUDIT, RunRecorder

if TYPE_CHECKING:
    from sandbox.evaluation.result import Evaluation
    from sandbox.policies.pack import PolicyPack
    from sandbox.policies.verdict import Verdict
    from sandbox.reports.model import AuditReport
    from sandbox.runs.services import RunServices
    from sandbox.tasks import EvaluationSettings, Outcomes, Task

__all__ = ["MODE", "PredictionsAudit", "audit_predictions", "read_predictions_file"]

MODE: Final = "predictions-only"


@dataclass(frozen=True, kw_only=True)
class PredictionsAudit:
    """How a predictions-only audit ended, and where its evidence is."""

    run_id: str
    verdict: Verdict
    evaluation: Evaluation
    report: AuditReport
    reports: dict[str, Path]
    run_dir: Path
    tracker_run_id: str | None
    trail_seq: int
    notes: tuple[str, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        """0 when the verdict passes (possibly with warnings), 3 when it is fail."""
        return 0 if self.verdict.exit_ok else 3


def read_predictions_file(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file of predictions; DataError names the file and the fix."""
    from sandbox.data.reader import read_table

    return read_table(path)


def _columns(frame: pd.DataFrame, path: Path, wanted: dict[str, str]) -> None:
    for option, column in wanted.items():
        if column not in frame.columns:
            available = ", ".join(map(str, frame.columns[:20]))
            raise DataError(
                f"{path}: {option}: column {column!r} not in the file (columns: {available})"
            )


def audit_predictions(
    data: Path,
    *,
    label: str,
    prediction: str,
    sensitive: Sequence[str],
    services: RunServices,
    score: str | None = None,
    positive: str | None = None,
    name: str | None = None,
    policy_packs: Sequence[str] = ("baseline",),
    out_dir: Path | None = None,
    min_group_size: int = 30,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    task: str = "binary_classification",
) -> PredictionsAudit:
    """Assess a file of predictions for performance and group fairness, on the record.

    Uses only the tracker, the trail, the runs folder and the actor of `services`: no
    container runs. Raises DataError for a file or column the caller can fix (before anything
    is recorded); a failure after that is recorded as `run.failed`.
    """
    from sandbox.data.table import group_columns
    from sandbox.policies.pack import load_pack
    from sandbox.tasks import EvaluationSettings, Outcomes, get_task

    data = Path(data)
    if not sensitive:
        raise UserInputError("--sensitive: name at least one sensitive attribute column")
    frame = read_predictions_file(data)
    wanted = {"--label": label, "--prediction": prediction}
    wanted |= {"--score": score} if score else {}
    wanted |= {f"--sensitive[{i}]": c for i, c in enumerate(sensitive)}
    _columns(frame, data, wanted)
    if frame.empty:
        raise DataError(f"{data}: no data rows")
    overlap = {label, prediction, score} & set(sensitive)
    if overlap:
        raise UserInputError(f"--sensitive: {sorted(str(c) for c in overlap)} is also an outcome")
    kind = get_task(task)
    source = str(data)
    y_true = kind.encode_supplied(frame[label], column=label, source=source, positive=positive)
    y_pred = kind.encode_supplied(
        frame[prediction], column=prediction, source=source, positive=positive
    )
    y_score = None
    if score:
        y_score = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=float)
        if np.isnan(y_score).any():
            raise DataError(f"{data}: column {score!r}: scores must be numbers, none missing")
    outcomes = Outcomes(
        labels=y_true,
        predictions=y_pred,
        scores=y_score,
        groups=group_columns(frame, list(sensitive)).reset_index(drop=True),
    )
    settings = EvaluationSettings(
        min_group_size=min_group_size, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed
    )
    packs = tuple(load_pack(pack) for pack in policy_packs)

    run_id = new_run_id()
    record = RunRecord(
        run_id=run_id,
        run_dir=services.runs_dir / run_id,
        mode=MODE,
        name=name or data.stem,
        started_at=datetime.now(UTC),
        packs=packs,
        data_files={data.name: file_sha256(data)},
        columns={
            "label": label,
            "prediction": prediction,
            "score": score,
            "sensitive": [*sensitive],
        },
    )
    with RunRecorder(services, record, kinds=AUDIT) as rec:
        return _audit(
            rec, data, frame, kind, outcomes, settings, positive=positive, out_dir=out_dir
        )


def _audit(
    rec: RunRecorder,
    data: Path,
    frame: pd.DataFrame,
    task: Task,
    outcomes: Outcomes,
    settings: EvaluationSettings,
    *,
    positive: str | None,
    out_dir: Path | None,
) -> PredictionsAudit:
    """The audit on the record: submitted, evaluated, judged, reported, tracked, finished."""
    from sandbox.tracking.mapping import start_tags, tracked_values

    r = rec.record
    rec.submit(
        {
            "mode": MODE,
            "container": None,
            "pilot": r.name,
            "data": dict(r.data_files),
            "rows": len(frame),
            "columns": r.columns,
            "positive": positive,
            "policy_packs": {p.id: p.sha256 for p in r.packs},
        }
    )
    rec.start_tracking(experiment=r.name, tags=start_tags(r))
    evaluation = task.evaluate(outcomes, settings)
    rec.update(evaluation=evaluation, verdict=_verdict(r.packs, evaluation))
    report = _report(rec, data, frame)
    reports = rec.write_reports(report, out_dir)
    rec.log(tracked_values(rec.record))
    verdict = cast("Verdict", rec.record.verdict)
    finished = rec.finish(
        "audit.finished",
        {
            "mode": MODE,
            "verdict": verdict.status,
            "failed_rules": [o.rule_id for o in verdict.failures],
            "container_state": None,
            "outputs": {},
            "reports": rec.report_hashes(),
        },
        ok=verdict.exit_ok,
    )
    return PredictionsAudit(
        run_id=r.run_id,
        verdict=verdict,
        evaluation=evaluation,
        report=report,
        reports=reports,
        run_dir=r.run_dir,
        tracker_run_id=rec.record.tracker_run_id,
        trail_seq=finished.seq,
        notes=rec.record.notes,
    )


def _verdict(packs: Sequence[PolicyPack], evaluation: Evaluation) -> Verdict:
    """The post-run rules of the packs (the only ones that apply without a model run)."""
    from sandbox.policies.engine import check_stage, decide
    from sandbox.policies.rules import RuleContext
    from sandbox.runtime.base import Hardening

    # Post-run rules read the evaluation only; there is no manifest for a predictions file.
    ctx = RuleContext(manifest=cast(Any, None), hardening=Hardening(), evaluation=evaluation)
    return decide(packs, check_stage(packs, "post_run", ctx))


def _report(rec: RunRecorder, data: Path, frame: pd.DataFrame) -> AuditReport:
    from sandbox.reports import model as r

    record = rec.record
    verdict = cast("Verdict", record.verdict)
    submitted = rec.records[0]
    finished = datetime.now(UTC)
    return r.AuditReport(
        run=r.RunSection(
            run_id=record.run_id,
            started_at=record.started_at,
            finished_at=finished,
            state=verdict.status,
            duration_s=round((finished - record.started_at).total_seconds(), 3),
        ),
        pilot=r.PilotSection(
            name=record.name,
            version=MODE,
            city="(not stated: predictions-only audit)",
            purpose="Audit of supplied predictions; the model itself was not run.",
            task=record.evaluation.task,
        ),
        data=r.DataSection(
            sources=(
                r.DataSource(
                    path=data.name,
                    format=data.suffix.lstrip(".").lower(),
                    sha256=record.data_files[data.name],
                    rows=len(frame),
                    columns=tuple(str(c) for c in frame.columns),
                ),
            )
        ),
        evaluation=record.evaluation,
        verdict=verdict,
        provenance=r.ProvenanceSection(
            manifest_sha256="none (predictions-only audit)",
            policy_pack_id="+".join(p.id for p in record.packs),
            policy_pack_sha256=",".join(p.sha256 for p in record.packs),
            mlflow_run_id=record.tracker_run_id,
            mlflow_tracking_uri=rec.services.tracking_uri,
            trail_path=str(rec.services.trail.path),
            trail_seq=submitted.seq,
            trail_record_hash=submitted.hash,
        ),
        notes=(
            "Predictions-only audit: no container ran; the predictions were supplied as "
            "they are, so nothing here shows how they were produced.",
            *record.notes,
        ),
    )
