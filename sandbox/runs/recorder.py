"""`RunRecorder`: one run on the record, whatever kind of run it is and however it ends.

    with RunRecorder(services, record, kinds=PILOT) as rec:
        rec.submit({...})                     # the first trail record
        rec.start_tracking(experiment, tags)  # an MLflow run; a tracker failure is a note
        with rec.stage("data"):
            rec.update(data=...)              # the RunRecord moves on, stage by stage
        ...
        rec.write_reports(report, out_dir)
        rec.finish("run.finished", payload, ok=True)

The recorder owns the run folder, its lock and state file (so recovery can tell a dead run
from a live one), the run's trail records (kept as they are appended: nothing rescans the
trail), tracking that never blocks the run, the reports, the attestation and the checkpoint.
The run ends on the record exactly once: `finish` writes the terminal record; leaving the
block without it (an exception, Ctrl-C) writes the failure record instead, ends the tracked
run as FAILED or KILLED and marks the state file, so no run stays "running".
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from sandbox.errors import SandboxError, TrackingError, TrackingRefused
from sandbox.plain_data import writable_text
from sandbox.runs.record import RunRecord, is_provisional
from sandbox.runs.state import RunLock, close_run_folder, make_run_folder, write_state

if TYPE_CHECKING:
    from sandbox.audit.trail import TrailRecord
    from sandbox.reports.model import AuditReport
    from sandbox.runs.services import RunServices
    from sandbox.tracking.base import RunStatus
    from sandbox.tracking.mapping import TrackedValues

__all__ = [
    "AUDIT",
    "PILOT",
    "REPLAY",
    "Progress",
    "RunKinds",
    "RunRecorder",
    "StageStatus",
    "quiet",
    "stage",
]

StageStatus = Literal["start", "done", "skipped", "failed"]
Progress = Callable[[str, StageStatus, str], None]
AUDIT_RECORD = "audit-record.json"


@dataclass(frozen=True, kw_only=True)
class RunKinds:
    """The trail kinds a kind of run writes, and whether its result is attested."""

    submitted: str | None
    failed: str = "run.failed"
    attest: bool = True
    tracked: bool = True


PILOT = RunKinds(submitted="run.submitted")
AUDIT = RunKinds(submitted="audit.submitted")
# A replay's one record is `audit.replayed`, whether it ran, failed or was lost: a replay
# never adds a terminal record to the run it replays.
REPLAY = RunKinds(submitted=None, failed="audit.replayed", attest=False, tracked=False)


def quiet(stage: str, status: StageStatus, detail: str) -> None:
    """The default progress sink: says nothing."""


@contextmanager
def stage(progress: Progress, name: str) -> Iterator[None]:
    """Report a stage's start and end (or failure, with its first line) to `progress`."""
    progress(name, "start", "")
    try:
        yield
    except BaseException as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        progress(name, "failed", detail)
        raise
    progress(name, "done", "")


class RunRecorder:
    """A context manager that keeps one run on the record; see the module docstring."""

    def __init__(
        self,
        services: RunServices,
        record: RunRecord,
        *,
        kinds: RunKinds,
        progress: Progress = quiet,
    ) -> None:
        self.services = services
        self.record = record
        self.kinds = kinds
        self.progress = progress
        self.records: list[TrailRecord] = []  # this run's records, in order
        self.reports: dict[str, Path] = {}
        self.terminal: TrailRecord | None = None
        self._lock = RunLock(record.run_dir)

    # --- the run's life -------------------------------------------------------------------

    def __enter__(self) -> Self:
        r = self.record
        make_run_folder(r.run_dir, shared_read=self.services.shared_read)
        self._lock.acquire()
        write_state(
            r.run_dir,
            run_id=r.run_id,
            pilot=r.name,
            mode=r.mode,
            pilot_dir=str(r.pilot_dir.resolve()) if r.pilot_dir else None,
            pid=os.getpid(),
            started_at=r.started_at.isoformat(),
            status="running",
            tenant=self.services.tenant,
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.terminal is None:  # the run must end on the record even on Ctrl-C
                self._fail(exc)
        finally:
            close_run_folder(self.record.run_dir, shared_read=self.services.shared_read)
            self._lock.release()

    def update(self, **changes: Any) -> RunRecord:
        """Move the run's record on with what a stage found."""
        self.record = replace(self.record, **changes)
        return self.record

    def note(self, text: str) -> None:
        """Keep a note for the report and the outcome (a problem that did not stop the run)."""
        self.update(notes=(*self.record.notes, text))

    def stage(self, name: str) -> AbstractContextManager[None]:
        """Report a stage's start and end (or failure) to the progress sink."""
        return stage(self.progress, name)

    # --- the trail ------------------------------------------------------------------------

    def append(self, kind: str, payload: dict[str, Any]) -> TrailRecord:
        """Append one record of this run to the trail, and keep it."""
        s = self.services
        record = s.trail.append(kind, actor=s.actor, run_id=self.record.run_id, payload=payload)
        self.records.append(record)
        return record

    def submit(self, payload: dict[str, Any]) -> TrailRecord | None:
        """The run's first record (`run.submitted`, `audit.submitted`)."""
        if self.kinds.submitted is None:
            return None
        # Who the run belongs to is the operator's setting, signed here; never the pilot's word.
        return self.append(self.kinds.submitted, {**payload, "tenant": self.services.tenant})

    def finish(self, kind: str, payload: dict[str, Any], *, ok: bool) -> TrailRecord:
        """End the run on the record: its terminal record, state, attestation and checkpoint."""
        if self.terminal is not None:
            raise SandboxError(f"run {self.record.run_id} already ended as {self.terminal.kind}")
        # The state file knows two good ends: blocked before the container, or finished.
        record = self._close(
            kind, payload, status="blocked" if kind == "run.blocked" else "finished"
        )
        self._end_tracking("FINISHED" if ok else "FAILED")
        return record

    def _fail(self, exc: BaseException | None) -> None:
        error = f"{type(exc).__name__}: {exc}" if exc else "the run ended without a final record"
        payload: dict[str, Any] = {"error": writable_text(error)[:4000]}
        if self.kinds.failed == "audit.replayed":
            payload |= {"status": "failed", "replay_dir": self.record.run_dir.name}
        self._close(self.kinds.failed, payload, status="failed")
        if self.record.tracker_key:
            key = self.record.tracker_key
            tags = {"sandbox.state": "failed", "sandbox.error": str(exc)[:4000]}
            self.track(lambda: self.services.tracker.set_tags(key, tags))
        self._end_tracking("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")

    def _close(self, kind: str, payload: dict[str, Any], *, status: str) -> TrailRecord:
        self._settle_tracking()
        r = self.record
        if self.kinds.tracked:
            payload = {**payload, **self._tracking_fields()}
        self.terminal = record = self.append(kind, payload)
        write_state(r.run_dir, status=status)
        audit_path = r.run_dir / AUDIT_RECORD
        audit_path.write_text(
            json.dumps([x.to_dict() for x in self.records], indent=2, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        # A blocked run is attested too: its subjects are the manifest and packs it was judged on.
        self._attest_and_checkpoint(attest=self.kinds.attest)
        if r.tracker_key:
            key = r.tracker_key
            self.track(lambda: self.services.tracker.log_file(key, audit_path, "audit"))
        return record

    def _tracking_fields(self) -> dict[str, Any]:
        """What the trail says of tracking: the tracker's id, never a queued placeholder."""
        fields: dict[str, Any] = {"mlflow_run_id": self.record.tracker_run_id}
        if self.record.tracking_pending:
            fields["tracking"] = "pending"  # delivered later; see `tracking.delivered`
        return fields

    def _attest_and_checkpoint(self, *, attest: bool) -> None:
        """Sign the run's in-toto attestation and a checkpoint of the trail.

        Both can be rebuilt later (`sandbox audit checkpoint`, `export`), so a failure here is
        a note on the run, not a failed run.
        """
        from sandbox.audit.attestation import write_attestation
        from sandbox.audit.checkpoint import checkpoints_dir_for, write_checkpoint
        from sandbox.audit.keyring import load_keyring

        s = self.services
        try:
            if attest:
                write_attestation(self.record.run_dir, self.records, s.trail.signer)
            keys = load_keyring(s.key_path) if s.key_path else None
            # A trail in a database has no file to keep its checkpoints beside.
            folder = s.checkpoints_dir or checkpoints_dir_for(s.trail.path)
            write_checkpoint(s.trail, s.trail.signer, folder, keys=keys)
        except SandboxError as exc:
            self.note(f"audit: {exc}")

    # --- tracking: it never stops the run ---------------------------------------------------

    def track(self, action: Callable[[], Any]) -> Any:
        """Call the tracker; a tracker failure becomes a note, the trail still records the run."""
        try:
            return action()
        except TrackingRefused as exc:  # set aside by the outbox, never replayed
            self.note(f"tracking: refused, not retried: {exc}")
            return None
        except TrackingError as exc:
            self.note(f"tracking: {exc}")
            return None

    def start_tracking(self, *, experiment: str, tags: Mapping[str, str]) -> None:
        """Open the run's tracked run, and remember its id where recovery can find it."""
        r = self.record
        tracker = self.services.tracker
        key = self.track(
            lambda: tracker.start_run(experiment=experiment, run_name=r.run_id, tags=tags)
        )
        self.update(tracker_key=key)
        if not is_provisional(key):  # recovery must never be handed a provisional key
            write_state(r.run_dir, tracker_run_id=key)
        if self.record.tracking_pending:
            self.note(
                "tracking: the tracker was unreachable; the run's tracking data is queued and "
                "delivered when it is back (the trail then records its MLflow run id)"
            )

    def _settle_tracking(self) -> None:
        """Wait for the tracker's own id of a run it answered provisionally (a sidecar)."""
        key = self.record.tracker_key
        if not is_provisional(key):
            return
        tracker = self.services.tracker
        settled = self.track(lambda: tracker.resolve(str(key)))
        self.update(tracker_key=settled)  # None: the tracked run could not be started
        if settled:
            write_state(self.record.run_dir, tracker_run_id=settled)

    def log(self, values: TrackedValues, files: Mapping[Path, str] = {}) -> None:
        """Params, metrics and tags in one batch each, then the reports and `files`."""
        key = self.record.tracker_key
        if not key:
            return
        tracker = self.services.tracker
        self.track(lambda: tracker.log_params(key, values.params))
        self.track(lambda: tracker.log_metrics(key, values.metrics))
        self.track(lambda: tracker.set_tags(key, values.tags))
        reports = self.record.run_dir / "reports"
        if reports.is_dir():
            self.track(lambda: tracker.log_artifacts(key, reports, "reports"))
        for path, artifact_path in files.items():
            if path.is_file():
                self.track(partial(tracker.log_file, key, path, artifact_path))
            elif path.is_dir() and not path.is_symlink():  # a folder: every file in it
                self.track(partial(tracker.log_artifacts, key, path, artifact_path))

    def _end_tracking(self, status: RunStatus) -> None:
        key = self.record.tracker_key
        if key:
            self.track(lambda: self.services.tracker.end_run(key, status))

    # --- reports --------------------------------------------------------------------------

    def write_reports(self, report: AuditReport, out_dir: Path | None) -> dict[str, Path]:
        """Write every report into the run folder (and copy them to `out_dir`)."""
        from sandbox.reports.template_cache import home_cache_dir
        from sandbox.reports.writer import write_reports

        cache_dir = home_cache_dir(self.services.home)  # compiled templates, kept for next time
        pdf = self.services.pdf
        reports = write_reports(
            report,
            self.record.run_dir / "reports",
            cache_dir=cache_dir,
            render_pdf=pdf.render if pdf is not None else None,
        )
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            reports = {k: Path(shutil.copy2(p, out_dir / p.name)) for k, p in reports.items()}
        self.reports = reports
        return reports

    def report_hashes(self) -> dict[str, str]:
        """The sha256 of every report file in the run folder, for the terminal record."""
        from sandbox.digests import file_sha256

        folder = self.record.run_dir / "reports"
        return {p.name: file_sha256(p) for p in sorted(folder.iterdir())} if folder.is_dir() else {}
