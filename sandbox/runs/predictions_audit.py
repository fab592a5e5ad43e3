"""Audit a vendor's predictions alone: no model, no container, the same report and record.

Auditors often receive a file of predictions (with the true outcome and the residents'
sensitive attributes) rather than the model that made them. `audit_predictions` assesses such
a file exactly as a pilot's run is assessed: the same evaluation (numbers equal fairlearn's
`MetricFrame`), the post-run rules of the policy packs, the same reports, an MLflow run and
two signed trail records, `audit.submitted` and `audit.finished`, whose payloads say
`"mode": "predictions-only"` and `"container": null`.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np
import pandas as pd

from sandbox.digests import file_sha256
from sandbox.errors import DataError, TrackingError, UserInputError

if TYPE_CHECKING:
    from sandbox.evaluation.binary import BinaryEvaluation
    from sandbox.policies.verdict import Verdict
    from sandbox.reports.model import AuditReport
    from sandbox.runs.pilot_run import RunServices

__all__ = ["MODE", "PredictionsAudit", "audit_predictions", "read_predictions_file"]

MODE: Final = "predictions-only"
_TRUE: Final = frozenset({"1", "true", "yes"})
_FALSE: Final = frozenset({"0", "false", "no"})
_MISSING_GROUP: Final = "(missing)"


@dataclass(frozen=True, kw_only=True)
class PredictionsAudit:
    """How a predictions-only audit ended, and where its evidence is."""

    run_id: str
    verdict: Verdict
    evaluation: BinaryEvaluation
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
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt"):
            return pd.read_csv(path, low_memory=False)
    except (ValueError, OSError, ImportError) as exc:
        raise DataError(f"{path}: cannot be read as {suffix[1:]} ({exc})") from exc
    raise DataError(f"{path}: use a .csv or .parquet file")


def _binary(values: pd.Series, *, column: str, path: Path, positive: str | None) -> np.ndarray:
    """0/1 outcomes from a column: 0/1, booleans, or `positive` against everything else."""
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DataError(f"{path}: column {column!r}: missing value in data row {row + 1}")
    text = values.astype(str).str.strip().str.lower()
    if positive is not None:
        chosen: np.ndarray = (text == positive.strip().lower()).to_numpy(dtype=np.int8)
        return chosen
    seen = set(text.unique())
    if seen <= _TRUE | _FALSE | {"1.0", "0.0"}:
        known: np.ndarray = text.isin(_TRUE | {"1.0"}).to_numpy(dtype=np.int8)
        return known
    shown = ", ".join(sorted(seen)[:5])
    raise DataError(
        f"{path}: column {column!r}: values {shown} are not binary (0/1, true/false); "
        "say which value is the positive outcome with --positive VALUE"
    )


def _columns(frame: pd.DataFrame, path: Path, wanted: dict[str, str]) -> None:
    for option, column in wanted.items():
        if column not in frame.columns:
            available = ", ".join(map(str, frame.columns[:20]))
            raise DataError(
                f"{path}: {option}: column {column!r} not in the file (columns: {available})"
            )


def _new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


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
) -> PredictionsAudit:
    """Assess a file of predictions for performance and group fairness, on the record.

    Uses only the tracker, the trail, the runs folder and the actor of `services`: no
    container runs. Raises DataError for a file or column the caller can fix.
    """
    from sandbox.evaluation.binary import evaluate_binary, flat_metrics
    from sandbox.policies.pack import load_pack
    from sandbox.reports.writer import write_reports
    from sandbox.runs.state import write_state

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
    y_true = _binary(frame[label], column=label, path=data, positive=positive)
    y_pred = _binary(frame[prediction], column=prediction, path=data, positive=positive)
    y_score = None
    if score:
        y_score = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=float)
        if np.isnan(y_score).any():
            raise DataError(f"{data}: column {score!r}: scores must be numbers, none missing")
    groups = pd.DataFrame(
        {c: frame[c].astype("string").fillna(_MISSING_GROUP).astype(str) for c in sensitive}
    )
    evaluation = evaluate_binary(
        y_true=y_true,
        y_pred=y_pred,
        y_score=y_score,
        sensitive=groups,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
    )
    packs = [load_pack(pack) for pack in policy_packs]
    verdict = _verdict(packs, evaluation)

    started_at = datetime.now(UTC)
    run_id = _new_run_id()
    run_dir = services.runs_dir / run_id
    run_dir.mkdir(parents=True)
    data_sha = file_sha256(data)
    audit_name = name or data.stem
    columns = {"label": label, "prediction": prediction, "score": score, "sensitive": [*sensitive]}
    trail, actor = services.trail, services.actor
    notes: list[str] = []
    write_state(run_dir, run_id=run_id, pilot=audit_name, mode=MODE, status="running")
    submitted = trail.append(
        "audit.submitted",
        actor=actor,
        run_id=run_id,
        payload={
            "mode": MODE,
            "container": None,
            "pilot": audit_name,
            "data": {data.name: data_sha},
            "rows": len(frame),
            "columns": columns,
            "positive": positive,
            "policy_packs": {p.id: p.sha256 for p in packs},
        },
    )
    tracker = services.tracker

    def track(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except TrackingError as exc:
            notes.append(f"tracking: {exc}")
            return None

    tracker_run: str | None = track(
        lambda: tracker.start_run(
            experiment=audit_name,
            run_name=run_id,
            tags={"sandbox.run_id": run_id, "sandbox.mode": MODE, "sandbox.data_sha256": data_sha},
        )
    )
    report = _report(
        run_id=run_id,
        name=audit_name,
        data=data,
        data_sha=data_sha,
        frame=frame,
        evaluation=evaluation,
        verdict=verdict,
        packs=packs,
        started_at=started_at,
        tracker_run=tracker_run,
        services=services,
        submitted_seq=submitted.seq,
        submitted_hash=submitted.hash,
        notes=notes,
    )
    report_dir = run_dir / "reports"
    reports = write_reports(report, report_dir)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        reports = {k: Path(shutil.copy2(p, out_dir / p.name)) for k, p in reports.items()}
    if tracker_run:
        params = {f"data.{k}": str(v) for k, v in columns.items()} | {
            "mode": MODE,
            "policy_packs": ",".join(policy_packs),
        }
        metrics = flat_metrics(evaluation)
        metrics["governance.rules_failed"] = float(len(verdict.failures))
        tags = {
            "sandbox.verdict": verdict.status,
            "sandbox.failed_rules": ",".join(o.rule_id for o in verdict.failures) or "none",
        }
        track(lambda: tracker.log_params(tracker_run, params))
        track(lambda: tracker.log_metrics(tracker_run, metrics))
        track(lambda: tracker.set_tags(tracker_run, tags))
        track(lambda: tracker.log_artifacts(tracker_run, report_dir, "reports"))
    finished = trail.append(
        "audit.finished",
        actor=actor,
        run_id=run_id,
        payload={
            "mode": MODE,
            "verdict": verdict.status,
            "failed_rules": [o.rule_id for o in verdict.failures],
            "container_state": None,
            "outputs": {},
            "reports": {p.name: file_sha256(p) for p in sorted(report_dir.iterdir())},
            "mlflow_run_id": tracker_run,
        },
    )
    audit_path = run_dir / "audit-record.json"
    audit_path.write_text(
        json.dumps([submitted.to_dict(), finished.to_dict()], indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    write_state(run_dir, status="finished", tracker_run_id=tracker_run)
    if tracker_run:
        track(lambda: tracker.log_file(tracker_run, audit_path, "audit"))
        track(lambda: tracker.end_run(tracker_run, "FINISHED" if verdict.exit_ok else "FAILED"))
    return PredictionsAudit(
        run_id=run_id,
        verdict=verdict,
        evaluation=evaluation,
        report=report,
        reports=reports,
        run_dir=run_dir,
        tracker_run_id=tracker_run,
        trail_seq=finished.seq,
        notes=tuple(notes),
    )


def _verdict(packs: list[Any], evaluation: BinaryEvaluation) -> Verdict:
    """The post-run rules of the packs (the only ones that apply without a model run)."""
    from sandbox.policies.engine import check_stage, decide
    from sandbox.policies.rules import RuleContext
    from sandbox.runtime.base import Hardening

    # Post-run rules read the evaluation only; there is no manifest for a predictions file.
    ctx = RuleContext(manifest=cast(Any, None), hardening=Hardening(), evaluation=evaluation)
    return decide(packs, check_stage(packs, "post_run", ctx))


def _report(
    *,
    run_id: str,
    name: str,
    data: Path,
    data_sha: str,
    frame: pd.DataFrame,
    evaluation: BinaryEvaluation,
    verdict: Verdict,
    packs: list[Any],
    started_at: datetime,
    tracker_run: str | None,
    services: RunServices,
    submitted_seq: int,
    submitted_hash: str,
    notes: list[str],
) -> AuditReport:
    from sandbox.reports import model as r

    finished = datetime.now(UTC)
    return r.AuditReport(
        run=r.RunSection(
            run_id=run_id,
            started_at=started_at,
            finished_at=finished,
            state=verdict.status,
            duration_s=round((finished - started_at).total_seconds(), 3),
        ),
        pilot=r.PilotSection(
            name=name,
            version=MODE,
            city="(not stated: predictions-only audit)",
            purpose="Audit of supplied predictions; the model itself was not run.",
            task="binary_classification",
        ),
        data=r.DataSection(
            sources=(
                r.DataSource(
                    path=data.name,
                    format=data.suffix.lstrip(".").lower(),
                    sha256=data_sha,
                    rows=len(frame),
                    columns=tuple(str(c) for c in frame.columns),
                ),
            )
        ),
        evaluation=evaluation,
        verdict=verdict,
        provenance=r.ProvenanceSection(
            manifest_sha256="none (predictions-only audit)",
            policy_pack_id="+".join(p.id for p in packs),
            policy_pack_sha256=",".join(p.sha256 for p in packs),
            mlflow_run_id=tracker_run,
            mlflow_tracking_uri=services.tracking_uri,
            trail_path=str(services.trail.path),
            trail_seq=submitted_seq,
            trail_record_hash=submitted_hash,
        ),
        notes=(
            "Predictions-only audit: no container ran; the predictions were supplied as "
            "they are, so nothing here shows how they were produced.",
            *notes,
        ),
    )
