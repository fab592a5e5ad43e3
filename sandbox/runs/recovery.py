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
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sandbox.errors import SandboxError, TrackingError
from sandbox.runs.state import TERMINAL, RunLock, is_abandoned, read_state, write_state

if TYPE_CHECKING:
    from sandbox.runs.pilot_run import RunServices

__all__ = ["LOST_REASON", "RecoveredRun", "recover_abandoned_runs"]

LOST_REASON = "the runner process ended before the run did (killed or crashed)"
TERMINAL_KINDS = frozenset({"run.finished", "run.blocked", "run.failed", "run.lost"})


class _LeftoverRemover(Protocol):
    def remove_leftovers(self, *, run_id: str | None = None) -> Any: ...


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
    for run_dir in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
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
        containers, volumes = _remove_leftovers(services.runtime, run_id, notes)
        seq = _append_lost(services, run_id, state, reason, containers, volumes)
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
    runtime: object, run_id: str, notes: list[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    remove: Callable[..., Any] | None = getattr(runtime, "remove_leftovers", None)
    if remove is None:  # a runtime without engine-side state (e.g. the in-memory fake)
        return (), ()
    try:
        found = remove(run_id=run_id)
    except SandboxError as exc:
        notes.append(f"runtime: leftovers of run {run_id} not removed: {exc}")
        return (), ()
    return tuple(found.containers), tuple(found.volumes)


def _append_lost(
    services: RunServices,
    run_id: str,
    state: dict[str, Any],
    reason: str,
    containers: tuple[str, ...],
    volumes: tuple[str, ...],
) -> int | None:
    from sandbox.audit.trail import records_for_run

    ended = [r for r in records_for_run(services.trail.path, run_id) if r.kind in TERMINAL_KINDS]
    if ended:  # the runner died after its terminal record: the trail already says how it ended
        return None
    record = services.trail.append(
        "run.lost",
        actor=services.actor,
        run_id=run_id,
        payload={
            "last_state": state.get("status"),
            "reason": reason,
            "runner_pid": state.get("pid"),
            "started_at": state.get("started_at"),
            "mlflow_run_id": state.get("tracker_run_id"),
            "removed_containers": list(containers),
            "removed_volumes": list(volumes),
        },
    )
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
