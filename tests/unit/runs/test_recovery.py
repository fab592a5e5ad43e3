"""recover_abandoned_runs: a run whose runner died ends once, as "lost", everywhere."""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

import pytest

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, records_for_run, verify_trail
from sandbox.runs.recovery import recover_abandoned_runs
from sandbox.runs.services import RunServices
from sandbox.runs.state import RunLock, read_state, write_state
from sandbox.runtime.fake import FakeRuntime
from sandbox.tracking.memory import InMemoryTracker


class Leftovers:
    containers = ("c1",)
    volumes = ("v1",)


class RecordingRuntime(FakeRuntime):
    def __init__(self) -> None:
        super().__init__(lambda spec: {})
        self.removed: list[str | None] = []

    def remove_leftovers(self, *, run_id: str | None = None) -> Leftovers:
        self.removed.append(run_id)
        return Leftovers()


@pytest.fixture
def services(tmp_path: Path) -> RunServices:
    signer = Signer.load_or_create(tmp_path / "keys" / "key.pem")
    return RunServices(
        runtime=RecordingRuntime(),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", signer),
        image="runner:test",
        runs_dir=tmp_path / "runs",
        actor="tester@test",
    )


def _abandoned_run(services: RunServices, run_id: str, *, status: str = "running") -> Path:
    """A run folder as a runner killed mid-run leaves it: lock file, state, open records."""
    run_dir = services.runs_dir / run_id
    run_dir.mkdir(parents=True)
    tracker_run = services.tracker.start_run(experiment="p", run_name=run_id, tags={})
    lock = RunLock(run_dir)
    lock.acquire()
    write_state(run_dir, run_id=run_id, pid=999999, status=status, tracker_run_id=tracker_run)
    services.trail.append("run.submitted", actor="a", run_id=run_id, payload={})
    lock.release()  # what the kernel does when the runner dies
    return run_dir


def test_an_abandoned_run_is_closed_once_everywhere(services: RunServices) -> None:
    run_dir = _abandoned_run(services, "r1")

    [closed] = recover_abandoned_runs(services)

    assert closed.run_id == "r1" and closed.last_status == "running"
    assert closed.removed_containers == ("c1",) and closed.removed_volumes == ("v1",)
    kinds = [r.kind for r in records_for_run(services.trail.path, "r1")]
    assert kinds == ["run.submitted", "run.lost"]
    lost = records_for_run(services.trail.path, "r1")[-1]
    assert lost.payload["last_state"] == "running"
    assert "killed" in str(lost.payload["reason"])
    assert read_state(run_dir)["status"] == "lost"
    assert isinstance(services.tracker, InMemoryTracker)
    [tracked] = services.tracker.runs.values()
    assert tracked.status == "KILLED" and tracked.tags["sandbox.state"] == "lost"
    assert services.runtime.removed == ["r1"]  # type: ignore[attr-defined]
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok


def test_recovery_is_idempotent(services: RunServices) -> None:
    _abandoned_run(services, "r1")
    assert len(recover_abandoned_runs(services)) == 1
    assert recover_abandoned_runs(services) == []
    assert [r.kind for r in records_for_run(services.trail.path, "r1")].count("run.lost") == 1


def test_live_and_finished_runs_are_left_alone(services: RunServices) -> None:
    live = services.runs_dir / "live"
    live.mkdir(parents=True)
    lock = RunLock(live)
    lock.acquire()  # a runner that is still going
    write_state(live, run_id="live", status="running")
    done = _abandoned_run(services, "done")
    write_state(done, status="finished")
    try:
        assert recover_abandoned_runs(services) == []
    finally:
        lock.release()
    assert read_state(live)["status"] == "running"


def test_a_run_already_ended_in_the_trail_gets_no_second_terminal_record(
    services: RunServices,
) -> None:
    run_dir = _abandoned_run(services, "r1")
    services.trail.append("run.finished", actor="a", run_id="r1", payload={})  # then died

    [closed] = recover_abandoned_runs(services)

    assert closed.trail_seq is None
    kinds = [r.kind for r in records_for_run(services.trail.path, "r1")]
    assert kinds == ["run.submitted", "run.finished"]
    assert read_state(run_dir)["status"] == "lost"


def test_two_recoveries_at_once_close_each_run_once(services: RunServices) -> None:
    for i in range(8):
        _abandoned_run(services, f"r{i}")
    results: list[int] = []

    def recover() -> None:
        results.append(len(recover_abandoned_runs(services)))

    threads = [threading.Thread(target=recover) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(results) == 8
    lost = [r for r in records_for_run_all(services) if r.kind == "run.lost"]
    assert sorted(r.run_id or "" for r in lost) == [f"r{i}" for i in range(8)]


def test_two_processes_recovering_at_once(services: RunServices) -> None:
    for i in range(4):
        _abandoned_run(services, f"p{i}")
    pids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 0
            try:  # a separate process opens its own trail, as `sandbox run` would
                trail = AuditTrail(services.trail.path, services.trail.signer)
                recover_abandoned_runs(dataclasses.replace(services, trail=trail))
            except BaseException as exc:
                print(f"recovery failed in the child: {exc!r}", flush=True)
                code = 1
            finally:
                os._exit(code)
        pids.append(pid)
    for pid in pids:
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    lost = [r for r in records_for_run_all(services) if r.kind == "run.lost"]
    assert sorted(r.run_id or "" for r in lost) == [f"p{i}" for i in range(4)]
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok


def test_a_tracker_failure_becomes_a_note(services: RunServices) -> None:
    _abandoned_run(services, "r1")
    assert isinstance(services.tracker, InMemoryTracker)
    services.tracker.runs.clear()  # the tracker no longer knows the run

    [closed] = recover_abandoned_runs(services)

    assert any("not closed" in note for note in closed.notes)
    assert [r.kind for r in records_for_run(services.trail.path, "r1")][-1] == "run.lost"


def records_for_run_all(services: RunServices) -> list:  # type: ignore[type-arg]
    from sandbox.audit.trail import iter_records

    return list(iter_records(services.trail.path))


def test_a_lost_replay_never_ends_the_run_it_replayed(services: RunServices) -> None:
    run_dir = _abandoned_run(services, "r1", status="finished")
    services.trail.append("run.finished", actor="a", run_id="r1", payload={})
    replay_dir = run_dir / "replays" / "20260101T000000Z-abcd"
    replay_dir.mkdir(parents=True)
    lock = RunLock(replay_dir)
    lock.acquire()
    write_state(replay_dir, run_id="r1", mode="replay", pid=999999, status="running")
    lock.release()  # the replaying process died

    [closed] = recover_abandoned_runs(services)

    assert closed.run_dir == replay_dir and closed.trail_seq is not None
    last = records_for_run(services.trail.path, "r1")[-1]
    assert last.kind == "audit.replayed"
    assert last.payload["status"] == "lost" and last.payload["replay_dir"] == replay_dir.name
    assert read_state(replay_dir)["status"] == "lost"
    assert read_state(run_dir)["status"] == "finished"
    assert services.runtime.removed == ["r1-replay"]  # type: ignore[attr-defined]
    assert recover_abandoned_runs(services) == []
