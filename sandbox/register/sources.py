"""A published run's report and attestation, read from where they are and checked first.

The report is ``report.json`` from the run folder (``<runs_dir>/<run id>/reports/``) when the
folder is on this machine. A hosted sandbox's workers keep run folders on their own disks and
log every report to the MLflow server, so otherwise the report is read from the run's MLflow
artifacts (``reports/report.json`` of the MLflow run the ``run.finished`` record names).
Either way the bytes must hash to the ``report.json`` digest in the signed ``run.finished``
record, and no more than ``MAX_REPORT_BYTES`` are read: a report changed after its run is
refused, never published.

The attestation is the run folder's ``attestation.dsse.json``; without the folder (it is not
logged to MLflow) it is signed again from the run's records with the trail's key, as an
evidence bundle does.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Final, Protocol

from sandbox.audit.attestation import ATTESTATION_NAME, run_statement, sign_envelope
from sandbox.audit.bundle.contents import RUN_ID_RE
from sandbox.audit.record import TrailRecord
from sandbox.audit.signing import Signer
from sandbox.digests import bytes_sha256
from sandbox.errors import AuditError, UserInputError
from sandbox.register.approvals import Approval
from sandbox.reports.model import AuditReport

__all__ = ["MAX_REPORT_BYTES", "FinishedRun", "load_attestation", "load_report"]

MAX_REPORT_BYTES: Final = 64 * 1024 * 1024
_MAX_ATTESTATION_BYTES: Final = 4 * 1024 * 1024


def _read_bounded(path: Path, limit: int) -> bytes | None:
    """A regular file's bytes (links not followed), or None when it is not there."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read it ({exc.strerror})") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise UserInputError(f"{path}: not a regular file of at most {limit:,} bytes")
        return handle.read(limit + 1)


def _from_mlflow(approval: FinishedRun, tracking_uri: str | None) -> bytes | None:
    """report.json from the run's MLflow artifacts, or None without an MLflow run."""
    mlflow_run = approval.terminal.payload.get("mlflow_run_id")
    if not isinstance(mlflow_run, str) or not RUN_ID_RE.match(mlflow_run) or not tracking_uri:
        return None
    from mlflow.tracking import MlflowClient

    with tempfile.TemporaryDirectory(prefix="sandbox-register-") as tmp:
        try:
            local = MlflowClient(tracking_uri).download_artifacts(
                mlflow_run, "reports/report.json", tmp
            )
        except Exception as exc:  # MLflow raises many kinds; each means: not readable
            raise UserInputError(
                f"run {approval.run_id}: its folder is not on this machine and MLflow run "
                f"{mlflow_run} has no readable reports/report.json ({type(exc).__name__}); "
                "set SANDBOX_MLFLOW_TRACKING_URI to the server the workers log to"
            ) from exc
        return _read_bounded(Path(local), MAX_REPORT_BYTES)


class FinishedRun(Protocol):
    """What reading a report needs of a run: its id and its `run.finished` record."""

    @property
    def run_id(self) -> str: ...
    @property
    def terminal(self) -> TrailRecord: ...


def load_report(
    approval: FinishedRun, runs_dir: Path, tracking_uri: str | None
) -> tuple[AuditReport, str]:
    """The run's report, checked against its signed record, and where it was read."""
    recorded = approval.terminal.payload.get("reports")
    expected = recorded.get("report.json") if isinstance(recorded, dict) else None
    if not isinstance(expected, str):
        raise AuditError(f"run {approval.run_id}: its run.finished record names no report.json")
    data = _read_bounded(runs_dir / approval.run_id / "reports" / "report.json", MAX_REPORT_BYTES)
    origin = "run folder"
    if data is None:
        data, origin = _from_mlflow(approval, tracking_uri), "MLflow artifact"
    if data is None:
        raise UserInputError(
            f"run {approval.run_id}: no report.json in {runs_dir / approval.run_id} and no "
            "MLflow run to read it from; build the register where the runs are kept"
        )
    if len(data) > MAX_REPORT_BYTES or bytes_sha256(data) != expected:
        raise AuditError(
            f"run {approval.run_id}: report.json ({origin}) differs from the one its signed "
            "record names; nothing was published: restore the report from a backup"
        )
    return AuditReport.model_validate_json(data), origin


def load_attestation(
    approval: Approval, runs_dir: Path, report: AuditReport, signer: Signer
) -> dict[str, Any]:
    """The run's DSSE attestation: the run folder's, or signed now from its records."""
    data = _read_bounded(runs_dir / approval.run_id / ATTESTATION_NAME, _MAX_ATTESTATION_BYTES)
    if data is not None:
        envelope = json.loads(data)
        if isinstance(envelope, dict):
            return envelope
    own = [r for r in approval.records if r.seq <= approval.terminal.seq]
    statement = run_statement(own, report=report.model_dump(mode="json"))
    return sign_envelope(statement, signer)
