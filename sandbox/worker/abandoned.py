"""Close the run of a job attempt whose worker died, exactly once.

A redelivered job's previous attempt may have left a run with records in the trail and no
terminal one. Its worker may have been on this host (its run folder is here: the local
recovery of `sandbox.runs.recovery` closes it under the folder's lock, containers, MLflow run
and all) or on another (only the shared trail knows the run: `run.lost` is appended there).
The caller holds the job's advisory lock, so no other delivery of the job closes the same run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.audit.events import TERMINAL_KINDS
from sandbox.runs.recovery import recover_abandoned_runs

if TYPE_CHECKING:
    from sandbox.runs.services import RunServices

__all__ = ["close_abandoned_run"]


def close_abandoned_run(
    services: RunServices, *, run_id: str, job_id: str, attempt: int, worker: str | None,
    reason: str,
) -> int | None:  # fmt: skip
    """Close `run_id` (attempt `attempt` of job `job_id`) as lost; the seq of the `run.lost`
    this appended, if any."""
    # This host's abandoned runs, the one in question among them if its worker ran here.
    recover_abandoned_runs(services, reason=reason)
    if (services.runs_dir / run_id).exists():
        return None  # closed by the recovery above, or by the process holding its lock
    records = services.trail.records_for_run(run_id)
    if not records or any(record.kind in TERMINAL_KINDS for record in records):
        return None  # it never reached the trail, or its worker ended it before dying
    record = services.trail.append(
        "run.lost",
        actor=services.actor,
        run_id=run_id,
        payload={
            "reason": reason,
            "job_id": job_id,
            "attempt": attempt,
            "worker": worker,
            "last_state": "running",
        },
    )
    return record.seq
