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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

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
    from sandbox.tasks import EvaluationSettings, Outcomes, Task, TaskConfig

__all__ = [
    "MODE",
    "PredictionsAudit",
    "audit_predictions",
    "finish_audit",
    "read_predictions_file",
]

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


def _outcomes(
    frame: pd.DataFrame,
    data: Path,
    task: Task,
    *,
    label: str,
    prediction: str,
    sensitive: Sequence[str],
    score: str | None,
    positive: str | None,
) -> Outcomes:
    """The supplied rows as outcomes, checked as a pilot's evaluation rows are checked."""
    from sandbox.data.adequacy import check_evaluation_rows, label_classes
    from sandbox.data.table import group_columns
    from sandbox.runs.supplied_outcomes import (
        GROUP_FIX,
        check_columns,
        supplied_inputs,
        wanted_columns,
    )
    from sandbox.tasks import Outcomes
    from sandbox.tasks.binary import parse_scores

    wanted = wanted_columns(label, prediction, score, sensitive)
    check_columns([str(c) for c in frame.columns], data, wanted)
    if frame.empty:
        raise DataError(f"{data}: no data rows")
    source = str(data)
    y_true = task.encode_supplied(frame[label], column=label, source=source, positive=positive)
    # a task whose prediction is not of its label's kind (a ranking's score) reads it its way
    own = getattr(task, "encode_supplied_prediction", None)
    y_pred = (
        own(frame[prediction], column=prediction, source=source)
        if callable(own)
        else task.encode_supplied(
            frame[prediction], column=prediction, source=source, positive=positive
        )
    )
    y_score = None
    if score:
        y_score = parse_scores(
            frame[score],
            source=source,
            column=score,
            error=DataError,
            fix="rescale them to probabilities, or leave out --score",
        )
    groups = group_columns(
        frame,
        list(sensitive),
        source=source,
        fix=GROUP_FIX,
    ).reset_index(drop=True)
    check_evaluation_rows(
        y_true,
        groups,
        classes=label_classes(task.sample_cells),
        inputs=supplied_inputs(data, label, sensitive, positive),
    )
    return Outcomes(labels=y_true, predictions=y_pred, scores=y_score, groups=groups)


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
    task_options: Mapping[str, Any] | None = None,
) -> PredictionsAudit:
    """Assess a file of predictions for performance and group fairness, on the record.

    Uses only the tracker, the trail, the runs folder and the actor of `services`: no
    container runs. Raises UserInputError for options and DataError for a file that cannot
    be read (before anything is recorded); a readable file whose rows cannot be assessed (a
    missing column, labels of one class, too few rows, one group, scores outside [0, 1])
    raises DataError after the audit is recorded as failed, as a pilot run's data is.
    `task_options` are the fields of the task type's manifest section that its evaluation
    needs (a ranking's budget: ``{"budget": {"k": 100}}``).
    """
    from sandbox.policies.pack import load_pack
    from sandbox.tasks import EvaluationSettings, get_task

    data = Path(data)
    if not sensitive:
        raise UserInputError("--sensitive: name at least one sensitive attribute column")
    overlap = {label, prediction, score} & set(sensitive)
    if overlap:
        raise UserInputError(f"--sensitive: {sorted(str(c) for c in overlap)} is also an outcome")
    kind = get_task(task)
    config = _task_config(kind, task_options, positive)
    from sandbox.runs.supplied_outcomes import read_coded

    coded = read_coded(
        data, kind, label=label, prediction=prediction, sensitive=sensitive, score=score
    )
    frame = None if coded is not None else read_predictions_file(data)
    rows = coded.rows if coded is not None else len(cast("pd.DataFrame", frame))
    settings = EvaluationSettings(
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
        config=config,
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
        _submit(rec, rows, positive=positive)
        if coded is not None:
            from sandbox.runs.supplied_outcomes import coded_outcomes

            outcomes = coded_outcomes(
                coded,
                data,
                kind,
                label=label,
                prediction=prediction,
                sensitive=sensitive,
                score=score,
                positive=positive,
            )
            columns = coded.columns
            missing = {c: coded.missing_rows(c) for c in _used(record.columns)}
            coded = None  # its codes are spread into the outcomes: free them before evaluating
        else:
            frame = cast("pd.DataFrame", frame)
            outcomes = _outcomes(
                frame,
                data,
                kind,
                label=label,
                prediction=prediction,
                sensitive=sensitive,
                score=score,
                positive=positive,
            )
            columns = tuple(str(c) for c in frame.columns)
            missing = {c: int(frame[c].isna().sum()) for c in _used(record.columns)}
        return finish_audit(
            rec,
            kind,
            outcomes,
            settings,
            out_dir=out_dir,
            sources=[_source(data, columns, rows, record.data_files[data.name])],
            missing=missing,
        )


def _task_config(
    kind: Task, options: Mapping[str, Any] | None, positive: str | None
) -> TaskConfig | None:
    """The task section the options describe (None without options); UserInputError if bad."""
    from pydantic import ValidationError

    if not options:
        return None
    fields: dict[str, Any] = {"type": kind.name, **options}
    if "positive_label" in kind.config.model_fields:
        fields.setdefault("positive_label", positive if positive is not None else 1)
    try:
        return kind.config.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise UserInputError(f"--task {kind.name}: {where}: {message}") from None


def _submit(rec: RunRecorder, rows: int, *, positive: str | None) -> None:
    """The audit's first record and its tracked run."""
    from sandbox.tracking.mapping import start_tags

    r = rec.record
    rec.submit(
        {
            "mode": MODE,
            "container": None,
            "pilot": r.name,
            "data": dict(r.data_files),
            "rows": rows,
            "columns": r.columns,
            "positive": positive,
            "policy_packs": {p.id: p.sha256 for p in r.packs},
        }
    )
    rec.start_tracking(experiment=r.name, tags=start_tags(r))


def _source(data: Path, columns: Sequence[str], rows: int, sha256: str) -> Any:
    """How the report's datasheet describes one supplied file."""
    from sandbox.reports import model as r

    return r.DataSource(
        path=data.name,
        format=data.suffix.lstrip(".").lower(),
        sha256=sha256,
        rows=rows,
        columns=tuple(columns),
    )


def finish_audit(
    rec: RunRecorder,
    task: Task,
    outcomes: Outcomes,
    settings: EvaluationSettings,
    *,
    out_dir: Path | None,
    sources: Sequence[Any],
    missing: Mapping[str, int],
) -> PredictionsAudit:
    """The audit on the record once submitted: evaluated, judged, reported, tracked, finished.

    `sources` describe the supplied files for the report (`sandbox.reports.model.DataSource`);
    `missing` counts the empty values of each column the audit read.
    """
    from sandbox.tracking.mapping import tracked_values

    r = rec.record
    evaluation = task.evaluate(outcomes, settings)
    rec.update(evaluation=evaluation, verdict=_verdict(r.packs, evaluation))
    report = _report(rec, sources, missing)
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


def _used(columns: dict[str, Any] | None) -> list[str]:
    """The columns an audit read: outcome, prediction, score, sensitive attributes."""
    c = columns or {}
    named = [c.get("label"), c.get("prediction"), c.get("score"), *c.get("sensitive", [])]
    return list(dict.fromkeys(str(name) for name in named if name))


def _report(rec: RunRecorder, sources: Sequence[Any], missing: Mapping[str, int]) -> AuditReport:
    from sandbox.reports import model as r
    from sandbox.reports.build import shown_location

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
            # The tenant who ran the audit; a display text only, never who may see the run.
            city=rec.services.tenant or "(not stated: predictions-only audit)",
            purpose="Audit of supplied predictions; the model itself was not run.",
            task=record.evaluation.task,
        ),
        data=r.DataSection(sources=tuple(sources), missing_by_column=dict(missing)),
        evaluation=record.evaluation,
        verdict=verdict,
        provenance=r.ProvenanceSection(
            manifest_sha256="none (predictions-only audit)",
            policy_pack_id="+".join(p.id for p in record.packs),
            policy_pack_sha256=",".join(p.sha256 for p in record.packs),
            mlflow_run_id=record.tracker_run_id,
            mlflow_tracking_uri=shown_location(rec.services.tracking_uri, rec.services.home),
            trail_path=shown_location(rec.services.trail.location, rec.services.home),
            trail_seq=submitted.seq,
            trail_record_hash=submitted.hash,
        ),
        notes=(
            "Predictions-only audit: no container ran; the predictions were supplied as "
            "they are, so nothing here shows how they were produced.",
            *record.notes,
        ),
    )
