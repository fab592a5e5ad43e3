"""One delivery of a job's message, handled: claim, fetch, unpack, run, record, clean up.

`handle_delivery` is what the Celery task calls; it needs no Celery. It tries the job's
advisory lock (`Jobs.lock`), claims the job with `Jobs.claim` and does what the plan says:

- SKIP: the job is terminal (finished, cancelled or lost): nothing runs, the message is
  acknowledged. A duplicate delivery of a finished job never runs it again.
- GIVE_UP: the previous attempt's worker died and no attempt follows; its run is closed lost.
- WAIT: another worker holds the job's lock or a current lease on it: `Busy`, try later.
- RUN: the attempt's lease is kept (`lease.Lease`) until the job ends. An abandoned run of a
  previous attempt is closed lost first; then the archive is
  fetched and checked, unpacked into a private temporary folder and run by `run_pilot` for
  the job's organisation (the tenant), with the run id noted on the job before the run
  starts. The job ends FINISHED with the run's verdict (`passed`, `passed_with_warnings`,
  `failed`, `blocked`), or with `rejected`/`failed` and the error for a pilot the pipeline
  refused: a pilot's error is an answer, never a reason to try again.

Cancellation of a running job is honoured at the start of each stage up to the evaluation
(the run then ends as `run.failed`, the job CANCELLED); a container already running is left
to finish or reach its time limit, and a run past its evaluation completes. A lost lease (the
attempt was taken over) stops the run at the start or end of its next stage, whatever the
stage rather than letting it finish: its `run.failed` and the new attempt's `run.lost` race,
and the trail keeps the first terminal record of a run. The job is the new attempt's.

`Busy` means another live worker holds the job (a duplicate message): try again later
(`retry_in`, when its lease says how long).
`ArchiveUnavailable` means the attempt was put back in the queue: try again later.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

from sandbox.errors import SandboxError, UserInputError
from sandbox.hosted.intake import ArchiveStore
from sandbox.hosted.job_states import Delivery, Job, JobState, Plan
from sandbox.hosted.jobs import Jobs
from sandbox.hosted.unpack import unpack_archive
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.record import new_run_id
from sandbox.runs.recorder import Progress, StageStatus
from sandbox.runs.recovery import settle
from sandbox.runs.services import RunServices, build_services
from sandbox.settings import Settings
from sandbox.worker.abandoned import close_abandoned_run
from sandbox.worker.fetch import ArchiveUnavailable, fetch_archive
from sandbox.worker.lease import Lease

__all__ = ["VERDICTS", "Busy", "Handled", "JobCancelled", "JobLost", "handle_delivery"]

#: A run's verdict status as a job reports it.
VERDICTS: Final = {
    "pass": "passed",
    "pass_with_warnings": "passed_with_warnings",
    "fail": "failed",
    "blocked": "blocked",
}
#: Stages at whose start a cancellation is honoured: before the run's evidence is complete.
_CANCELLABLE: Final = frozenset({"data", "pre-run policies", "inputs", "container", "evaluation"})


class Busy(Exception):
    """Another live worker holds the job: this delivery is a duplicate, to be tried later
    (after `retry_in`, when the job's lease says how long)."""

    def __init__(self, message: str, *, retry_in: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_in = retry_in


class JobCancelled(SandboxError):
    """Someone asked for the job to stop; the run ends here, on the record."""


class JobLost(SandboxError):
    """The attempt's lease was lost (another delivery took the job over): the run stops."""


@dataclass(frozen=True, kw_only=True)
class Handled:
    """What one delivery did."""

    plan: Plan
    job: Job  # as the delivery left it
    lost_run: str | None = None  # a previous attempt's run this delivery closed as lost


def _watch(jobs: Jobs, lease: Lease) -> Progress:
    def progress(stage: str, status: StageStatus, _detail: str) -> None:
        if status == "failed":
            return  # the stage is already failing: let its own error end the run
        if lease.lost is not None:
            raise JobLost(f"{lease.lost}; its run stopped at stage {stage!r}")
        if status == "start" and stage in _CANCELLABLE and jobs.cancel_requested(lease.job_id):
            raise JobCancelled(f"job {lease.job_id}: cancelled at the start of stage {stage!r}")

    return progress


def _ended_as(services: RunServices, run_id: str) -> str:
    """`rejected` if the run was refused before it started, else `failed`."""
    kinds = {record.kind for record in services.trail.records_for_run(run_id)}
    return "rejected" if "run.rejected" in kinds or not kinds else "failed"


def _run(jobs: Jobs, job: Job, lease: Lease, services: RunServices, settings: Settings) -> Job:
    attempt = lease.attempt
    if jobs.cancel_requested(job.id):
        jobs.end(job.id, attempt, JobState.CANCELLED, error="cancelled before its run started")
        return jobs.get(job.id)
    store = ArchiveStore(settings.archives_dir)
    try:
        stored = fetch_archive(
            job, store, archive_url=settings.archive_url, token=settings.worker_token
        )
    except ArchiveUnavailable as exc:
        jobs.release(job.id, attempt, f"the archive could not be fetched: {exc}")
        raise
    except UserInputError as exc:  # refused by the limits, or not the job's archive
        jobs.end(job.id, attempt, JobState.FINISHED, verdict="rejected", error=str(exc))
        return jobs.get(job.id)
    run_id = new_run_id()
    if not jobs.record_run(job.id, attempt, run_id):
        return jobs.get(job.id)  # the attempt is no longer this worker's
    folder = Path(tempfile.mkdtemp(prefix="sandbox-job-"))  # 0700: this user's alone
    try:
        pilot_dir = unpack_archive(stored, folder / "pilot")
        outcome = run_pilot(pilot_dir, services, progress=_watch(jobs, lease), run_id=run_id)
    except JobLost:
        pass  # the job is the new attempt's: nothing of this one may end it
    except JobCancelled as exc:
        jobs.end(job.id, attempt, JobState.CANCELLED, error=str(exc))
    except UserInputError as exc:
        verdict = _ended_as(services, run_id)
        jobs.end(job.id, attempt, JobState.FINISHED, verdict=verdict, error=str(exc))
    except SandboxError as exc:  # the sandbox's own failure, recorded as run.failed
        jobs.end(job.id, attempt, JobState.FINISHED, verdict="failed", error=str(exc))
    else:
        status = outcome.verdict.status
        jobs.end(job.id, attempt, JobState.FINISHED, verdict=VERDICTS.get(status, status))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(SandboxError):  # if MLflow is away, they wait in the outbox
        settle(services)  # deliver tracking calls queued while MLflow was away
    return jobs.get(job.id)


def handle_delivery(job_id: str, settings: Settings, *, worker: str) -> Handled:
    """Handle one delivery of `job_id`'s message (see the module docstring)."""
    if not settings.hosted_url:
        raise UserInputError("SANDBOX_HOSTED_URL: not set; a worker needs the hosted database")
    with Jobs(settings.hosted_url) as jobs, jobs.lock(job_id) as lock:
        claim = jobs.claim(job_id, worker, lock_free=lock.take())
        delivery, job = claim.delivery, claim.job
        if delivery.plan is Plan.WAIT:
            raise Busy(delivery.reason, retry_in=delivery.retry_in)
        if delivery.plan is Plan.SKIP:
            return Handled(plan=Plan.SKIP, job=job)
        if delivery.plan is Plan.GIVE_UP:
            lost = _close(_services(job, settings), job, delivery)
            return Handled(plan=Plan.GIVE_UP, job=job, lost_run=lost)
        with Lease(jobs, lock, delivery.attempt) as lease:
            services = _services(job, settings)
            lost = _close(services, job, delivery)
            ended = _run(jobs, job, lease, services, settings)
        return Handled(plan=Plan.RUN, job=ended, lost_run=lost)


def _services(job: Job, settings: Settings) -> RunServices:
    """The run services of the job's organisation (the tenant), never the pilot's claim."""
    # A worker runs job after job: MLflow stays loaded in its process, no sidecar per job.
    update = {"tenant": job.organisation_id, "tracking_sidecar": False}
    return build_services(settings.model_copy(update=update))


def _close(services: RunServices, job: Job, delivery: Delivery) -> str | None:
    """Close the run a previous attempt's dead worker left, if any; its id."""
    if delivery.abandoned_run is None:
        return None
    close_abandoned_run(
        services,
        run_id=delivery.abandoned_run,
        job_id=job.id,
        attempt=delivery.attempt - 1 if delivery.plan is Plan.RUN else delivery.attempt,
        worker=delivery.abandoned_by,
        reason=delivery.reason,
    )
    return delivery.abandoned_run
