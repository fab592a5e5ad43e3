"""The run recorder: every run ends on the record exactly once, and tracking never blocks it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, iter_records, verify_trail
from sandbox.errors import SandboxError, TrackingError
from sandbox.runs.record import RunRecord, new_run_id
from sandbox.runs.recorder import AUDIT, RunRecorder
from sandbox.runs.recovery import settle
from sandbox.runs.services import RunServices
from sandbox.runs.state import RunLock, read_state
from sandbox.runtime.fake import FakeRuntime
from sandbox.tracking.memory import InMemoryTracker
from sandbox.tracking.outbox import LOCAL_ID_PREFIX, QueuedTracker


class DownTracker(InMemoryTracker):
    """An in-memory tracker whose server can be down."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def start_run(self, *, experiment: str, run_name: str, tags: Mapping[str, str]) -> str:
        if self.down:
            raise TrackingError("connection refused")
        return super().start_run(experiment=experiment, run_name=run_name, tags=tags)


@pytest.fixture
def services(tmp_path: Path) -> RunServices:
    signer = Signer.load_or_create(tmp_path / "keys" / "key.pem")
    return RunServices(
        runtime=FakeRuntime(lambda spec: {}),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", signer),
        image="unused",
        runs_dir=tmp_path / "runs",
        actor="tester@test",
    )


def _record(services: RunServices) -> RunRecord:
    run_id = new_run_id()
    return RunRecord(
        run_id=run_id,
        run_dir=services.runs_dir / run_id,
        mode="predictions-only",
        name="test",
        started_at=datetime.now(UTC),
    )


def _kinds(services: RunServices) -> list[str]:
    return [r.kind for r in iter_records(services.trail.path)]


def test_ctrl_c_ends_the_run_once_as_failed_and_killed(services: RunServices) -> None:
    record = _record(services)
    with pytest.raises(KeyboardInterrupt), RunRecorder(services, record, kinds=AUDIT) as rec:
        rec.submit({"pilot": "test"})
        rec.start_tracking(experiment="test", tags={})
        raise KeyboardInterrupt
    assert _kinds(services) == ["audit.submitted", "run.failed"]
    assert read_state(record.run_dir)["status"] == "failed"
    (tracked,) = services.tracker.runs.values()  # type: ignore[attr-defined]
    assert tracked.status == "KILLED"
    RunLock(record.run_dir).acquire()  # released: recovery will never touch it again
    assert [r.kind for r in rec.records] == _kinds(services)  # kept as appended


def test_a_run_ends_only_once(services: RunServices) -> None:
    with RunRecorder(services, _record(services), kinds=AUDIT) as rec:
        rec.submit({"pilot": "test", "data": {"f.csv": "sha256:" + "0" * 64}})
        rec.finish("audit.finished", {"verdict": "pass"}, ok=True)
        with pytest.raises(SandboxError, match="already ended"):
            rec.finish("audit.finished", {"verdict": "pass"}, ok=True)
    assert _kinds(services) == ["audit.submitted", "audit.finished"]
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok


def test_a_queued_tracker_id_is_never_signed_and_is_found_after_delivery(
    tmp_path: Path, services: RunServices
) -> None:
    inner = DownTracker()
    inner.down = True
    queued = QueuedTracker(inner, tmp_path / "outbox")
    services = RunServices(**{**services.__dict__, "tracker": queued})
    record = _record(services)
    with RunRecorder(services, record, kinds=AUDIT) as rec:
        rec.submit({"pilot": "test"})
        rec.start_tracking(experiment="test", tags={"sandbox.run_id": record.run_id})
        assert rec.record.tracking_pending and rec.record.tracker_run_id is None
        end = rec.finish("audit.finished", {"verdict": "pass"}, ok=True)
    assert end.payload["mlflow_run_id"] is None and end.payload["tracking"] == "pending"
    assert any("queued" in note for note in rec.record.notes)
    key = rec.record.tracker_key
    assert key is not None and key.startswith(LOCAL_ID_PREFIX)

    inner.down = False
    settle(services)
    (tracked,) = inner.runs.values()
    assert tracked.status == "FINISHED" and queued.tracker_id(key) == tracked.run_id
    delivered = list(iter_records(services.trail.path))[-1]
    assert delivered.kind == "tracking.delivered" and delivered.run_id == record.run_id
    assert delivered.payload == {"mlflow_run_id": tracked.run_id, "queued_as": key}
