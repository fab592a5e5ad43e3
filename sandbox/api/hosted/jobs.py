"""Jobs: the organisation's list, one job, and cancelling it.

A caller sees a job in full when it may read the organisation's runs (`read_run`: its data
team and reviewers, an auditor granted it), and its state and timing alone when it may only
watch the queue (`read_queue`: operators). Any other job, and a job id that does not exist,
get the same 404: the answer says nothing of another organisation's work.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query

from sandbox.api.errors import ApiError
from sandbox.api.hosted.auth import CurrentPrincipal, Hosted
from sandbox.api.hosted.models import JobOut
from sandbox.api.hosted.state import HostedState
from sandbox.errors import UserInputError
from sandbox.hosted.access import Action, allowed
from sandbox.hosted.identity import Principal, check_organisation_id
from sandbox.hosted.jobs import Job, check_job_id

__all__ = ["NO_JOB", "find_job", "job_view", "router"]

router = APIRouter(prefix="/api/v1", tags=["jobs"])
NO_JOB: Final = "no such job for your organisation; GET /api/v1/jobs lists the jobs you may see"
_MAX_LISTED: Final = 1000


def job_view(principal: Principal, job: Job) -> JobOut | None:
    """The job as `principal` may see it: whole, its queue view, or None (not at all)."""
    if allowed(principal, Action.READ_RUN, job.organisation_id):
        return JobOut.of(job)
    if allowed(principal, Action.READ_QUEUE, job.organisation_id):
        return JobOut.queue_view(job)
    return None


def find_job(state: HostedState, job_id: str) -> Job:
    """The job with this id; ApiError 404 (NO_JOB) when there is none."""
    try:
        return state.jobs.get(check_job_id(job_id))
    except UserInputError:  # malformed or unknown: the same answer
        raise ApiError(404, NO_JOB) from None


def _visible(state: HostedState, principal: Principal, job_id: str) -> tuple[Job, JobOut]:
    job = find_job(state, job_id)
    shown = job_view(principal, job)
    if shown is None:  # another organisation's job is answered like one that does not exist
        raise ApiError(404, NO_JOB)
    return job, shown


@router.get("/jobs")
def list_jobs(
    principal: CurrentPrincipal,
    state: Hosted,
    organisation: Annotated[
        str | None, Query(max_length=64, description="An organisation id; default: your own.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=_MAX_LISTED)] = 100,
) -> list[JobOut]:
    """The organisation's jobs, newest first."""
    wanted = principal.organisation if organisation is None else organisation
    check_organisation_id(wanted, field="organisation")
    if allowed(principal, Action.READ_RUN, wanted):
        return [JobOut.of(job) for job in state.jobs.list(wanted, limit=limit)]
    if allowed(principal, Action.READ_QUEUE, wanted):
        return [JobOut.queue_view(job) for job in state.jobs.list(wanted, limit=limit)]
    raise ApiError(
        403,
        f"{principal.id} may not read the jobs of {wanted!r}: that needs the data_team or "
        "reviewer role in the organisation, an auditor's grant for it, or the operator role",
    )


@router.get("/jobs/{job_id}")
def get_job(job_id: str, principal: CurrentPrincipal, state: Hosted) -> JobOut:
    """One job."""
    return _visible(state, principal, job_id)[1]


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, principal: CurrentPrincipal, state: Hosted) -> JobOut:
    """Cancel a job: a queued one at once, a running one when its worker next looks."""
    job, _ = _visible(state, principal, job_id)
    if not allowed(principal, Action.CANCEL_JOB, job.organisation_id):
        raise ApiError(
            403,
            f"{principal.id} may not cancel {job.organisation_id}'s jobs: cancelling needs the "
            "data_team role in the organisation, or the operator role",
        )
    cancelled = job_view(principal, state.jobs.request_cancel(job.id))
    assert cancelled is not None  # visibility depends on the organisation alone
    return cancelled
