"""Close the runs whose runner died (kill -9, power loss, OOM of the host process).

A running pipeline holds the flock of its run folder (`sandbox.runs.state`); when the process
dies the kernel drops the lock, and the run is left with a non-terminal status in run.json,
an MLflow run still RUNNING, perhaps a container and an output volume still on the engine,
and no terminal record in the trail. `recover_abandoned_runs` finds such runs and ends each
exactly once:

1. take the run's lock (so two recovering processes, or a runner that is somehow still
   alive, never close the same run twice) and re-read run.json under it;
2. remove its leftover containers and volumes (by run-id label);
3. append `run.lost` to the trail, unless the trail already holds a terminal record for the
   run (a runner killed between its trail append and its run.json update);
4. end the MLflow run as KILLED (a tracker failure becomes a note, never a stop);
5. write status "lost" to run.json: the run is now terminal and is never looked at again.

Every kind of run the `RunRecorder` keeps (pilot runs, predictions-only audits, replays under
`<run>/replays/`) is found and closed the same way; a lost replay is recorded as
`audit.replayed` with status "lost", never as the end of the run it replayed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.errors import SandboxError, TrackingError
from sandbox.runs.state import TERMINAL, RunLock, is_abandoned, read_state, write_state
from sandbox.runtime.base import Runtime

if TYPE_CHECKING:
    from sandbox.runs.services import RunServices

__all__ = ["LOST_REASON", "RecoveredRun", "recover_abandoned_runs", "settle"]

LOST_REASON = "the runner process ended before the run did (killed or crashed)"


@dataclass(frozen=True, kw_only=True)
class RecoveredRun:
    """One abandoned run, as recovery closed it."""

    run_id: str
    run_dir: Path
    last_status: str | None
    trail_seq: int | None  # seq of the run.lost record; None if the trail already ended it
    tracker_run_id: str | None
    removed_containers: tuple[str, ...]
    removed_volumes: tuple[str, ...]
    notes: tuple[str, ...]


def recover_abandoned_runs(
    services: RunServices, *, reason: str = LOST_REASON
) -> list[RecoveredRun]:
    """Close every abandoned run under services.runs_dir; returns what was closed.

    Idempotent: a recovered run is terminal ("lost") and is skipped next time. Safe when two
    processes recover at once: each run is closed under its own lock, by one of them.
    """
    runs_dir = services.runs_dir
    if not runs_dir.is_dir():
        return []
    recovered = []
    run_dirs = sorted(p for p in runs_dir.iterdir() if p.is_dir())
    replay_dirs = sorted(p for d in run_dirs for p in (d / "replays").glob("*") if p.is_dir())
    for run_dir in [*run_dirs, *replay_dirs]:
        if not is_abandoned(run_dir):
            continue
        closed = _recover_one(services, run_dir, reason)
        if closed is not None:
            recovered.append(closed)
    return recovered


def _recover_one(services: RunServices, run_dir: Path, reason: str) -> RecoveredRun | None:
    lock = RunLock(run_dir)
    try:
        lock.acquire()
    except BlockingIOError:  # a live runner or another recovery holds it
        return None
    try:
        state = read_state(run_dir)
        if state.get("status") in TERMINAL:  # closed by someone else meanwhile
            return None
        run_id = str(state.get("run_id") or run_dir.name)
        last_status = state.get("status")
        notes: list[str] = []
        replay = state.get("mode") == "replay"
        label = f"{run_id}-replay" if replay else run_id  # the container's run-id label
        containers, volumes = _remove_leftovers(services.runtime, label, notes)
        seq = _append_lost(services, run_dir, state, reason, containers, volumes)
        tracker_run = state.get("tracker_run_id")
        if isinstance(tracker_run, str) and tracker_run:
            _end_tracker_run(services, tracker_run, reason, notes)
        write_state(run_dir, status="lost", lost_reason=reason)
        return RecoveredRun(
            run_id=run_id,
            run_dir=run_dir,
            last_status=str(last_status) if last_status is not None else None,
            trail_seq=seq,
            tracker_run_id=tracker_run if isinstance(tracker_run, str) else None,
            removed_containers=containers,
            removed_volumes=volumes,
            notes=tuple(notes),
        )
    finally:
        lock.release()


def _remove_leftovers(
    runtime: Runtime, run_id: str, notes: list[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    try:
        found = runtime.remove_leftovers(run_id=run_id)
    except SandboxError as exc:
        notes.append(f"runtime: leftovers of run {run_id} not removed: {exc}")
        return (), ()
    return tuple(found.containers), tuple(found.volumes)


def _append_lost(
    services: RunServices,
    run_dir: Path,
    state: dict[str, Any],
    reason: str,
    containers: tuple[str, ...],
    volumes: tuple[str, ...],
) -> int | None:
    """Close the run in the trail, unless its runner did so before it died."""
    from sandbox.audit.events import TERMINAL_KINDS
    from sandbox.tracking.outbox import LOCAL_ID_PREFIX

    run_id = str(state.get("run_id") or run_dir.name)
    records = services.trail.records_for_run(run_id)
    payload: dict[str, Any] = {
        "last_state": state.get("status"),
        "reason": reason,
        "runner_pid": state.get("pid"),
        "started_at": state.get("started_at"),
        "removed_containers": list(containers),
        "removed_volumes": list(volumes),
    }
    if state.get("mode") == "replay":
        # A replay never ends the run it replays: its one record is `audit.replayed`.
        kind = "audit.replayed"
        payload |= {"status": "lost", "replay_dir": run_dir.name}
        ended = [
            r for r in records if r.kind == kind and r.payload.get("replay_dir") == run_dir.name
        ]
    else:
        kind = "run.lost"
        ended = [r for r in records if r.kind in TERMINAL_KINDS]
        tracker_run = state.get("tracker_run_id")
        pending = isinstance(tracker_run, str) and tracker_run.startswith(LOCAL_ID_PREFIX)
        payload["mlflow_run_id"] = None if pending else tracker_run
        if pending:
            payload["tracking"] = "pending"
    if ended:  # the runner died after its terminal record: the trail already says how it ended
        return None
    record = services.trail.append(kind, actor=services.actor, run_id=run_id, payload=payload)
    return record.seq


def _end_tracker_run(
    services: RunServices, tracker_run: str, reason: str, notes: list[str]
) -> None:
    tracker = services.tracker
    with contextlib.suppress(TrackingError):
        tracker.set_tags(tracker_run, {"sandbox.state": "lost", "sandbox.error": reason})
    try:
        tracker.end_run(tracker_run, "KILLED")
    except TrackingError as exc:
        notes.append(f"tracking: run {tracker_run} not closed: {exc}")


def settle(services: RunServices) -> list[str]:
    """Before and after a run: close runs whose runner died, deliver queued tracking data.

    Returns one line per thing done, for the user to read.
    """
    from sandbox.tracking.outbox import QueuedTracker
    from sandbox.tracking.sidecar import SidecarTracker

    done = [
        f"closed run {r.run_id}, abandoned by a runner that died, as lost"
        for r in recover_abandoned_runs(services)
    ]
    tracker = services.tracker
    if isinstance(tracker, QueuedTracker | SidecarTracker):
        delivery = tracker.deliver_pending()
        if delivery.delivered_calls:
            done.append(f"delivered {delivery.delivered_calls} queued tracking calls to MLflow")
        if delivery.refused:  # kept in the outbox's refused/ folder, never replayed
            done.append(
                f"set aside {len(delivery.refused)} queued tracking calls MLflow refused "
                f"(see {tracker.outbox_dir / 'refused'})"
            )
        for started in delivery.started:
            # The trail said "tracking pending"; now it says where the run is in the tracker.
            services.trail.append(
                "tracking.delivered",
                actor=services.actor,
                run_id=started.run_id,
                payload={"mlflow_run_id": started.tracker_run_id, "queued_as": started.local_id},
            )
            done.append(f"run {started.run_id} is MLflow run {started.tracker_run_id}")
    return done
