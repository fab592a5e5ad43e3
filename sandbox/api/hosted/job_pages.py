"""The dashboard's job pages: an organisation's jobs, one job, and cancelling it.

    GET  /                       the jobs of the caller's organisation (auditors: a granted
                                 one, chosen on the page with ?organisation=ID)
    GET  /jobs/{job_id}          one job, linking its run and its pilot
    POST /jobs/{job_id}/cancel   cancel it (a form with the session's CSRF token)

Who sees what is the API's rule (`jobs.job_view`): the organisation's data team, reviewers
and granted auditors see a job whole, operators its state and times; anyone else, and a job
id that does not exist, get the same 404 page.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sandbox.api.errors import ApiError
from sandbox.api.hosted.auth import Hosted
from sandbox.api.hosted.browser import (
    PageRefused,
    SignedIn,
    Viewer,
    check_form,
    guarded,
    guarded_async,
    read_form,
    render,
)
from sandbox.api.hosted.jobs import find_job, job_view
from sandbox.api.hosted.models import JobOut
from sandbox.api.hosted.state import HostedState
from sandbox.errors import UserInputError
from sandbox.hosted.access import Action, allowed
from sandbox.hosted.identity import Principal, check_organisation_id
from sandbox.hosted.jobs import TERMINAL_STATES, Job

__all__ = ["NO_JOB_PAGE", "Organisation", "organisation_choice", "router"]

router = APIRouter(include_in_schema=False)
NO_JOB_PAGE: Final = "No such job for your organisation. The jobs page lists the jobs you may see."
_LISTED: Final = 100
Organisation = Annotated[str | None, Query(max_length=64)]


def organisation_choice(principal: Principal, requested: str | None) -> tuple[str, list[str]]:
    """(the organisation a page shows, the ones the caller may pick from).

    Default: the caller's own organisation when it may read its runs, else the first one it
    audits. A requested organisation must be one it may read (operators: any, queue only).
    """
    readable = (
        [principal.organisation]
        if allowed(principal, Action.READ_RUN, principal.organisation)
        else []
    )
    readable += sorted(o for o in principal.audits if o != principal.organisation)
    wanted = requested or (readable[0] if readable else principal.organisation)
    try:
        check_organisation_id(wanted, field="organisation")
    except UserInputError as exc:
        raise PageRefused(400, str(exc)) from None
    if not (
        allowed(principal, Action.READ_RUN, wanted) or allowed(principal, Action.READ_QUEUE, wanted)
    ):
        raise PageRefused(
            403,
            f"You may not see the jobs of {wanted}: that needs the data team or reviewer role "
            "there, or an auditor's grant for it.",
        )
    return wanted, readable


def _jobs_page(
    request: Request, viewer: Viewer, state: HostedState, requested: str | None
) -> Response:
    principal = viewer.principal
    organisation, choices = organisation_choice(principal, requested)
    full = allowed(principal, Action.READ_RUN, organisation)
    jobs = [job_view(principal, job) for job in state.jobs.list(organisation, limit=_LISTED)]
    return render(
        request,
        "jobs.html.j2",
        viewer,
        organisation=organisation,
        choices=choices,
        operator=allowed(principal, Action.READ_QUEUE, organisation),
        full=full,
        jobs=[job for job in jobs if job is not None],
        may_cancel=allowed(principal, Action.CANCEL_JOB, organisation),
        terminal=TERMINAL_STATES,
        limit=_LISTED,
    )


@router.get("/", response_model=None)
def jobs_page(
    request: Request, viewer: SignedIn, state: Hosted, organisation: Organisation = None
) -> Response:
    """The organisation's newest jobs, with their states, verdicts and times."""
    return guarded(request, viewer, lambda v: _jobs_page(request, v, state, organisation))


def _visible_job(viewer: Viewer, state: HostedState, job_id: str) -> tuple[Job, JobOut]:
    try:
        job = find_job(state, job_id)
    except ApiError:
        raise PageRefused(404, NO_JOB_PAGE) from None
    shown = job_view(viewer.principal, job)
    if shown is None:  # another organisation's job: the page of a job that does not exist
        raise PageRefused(404, NO_JOB_PAGE)
    return job, shown


def _job_page(request: Request, viewer: Viewer, state: HostedState, job_id: str) -> Response:
    job, shown = _visible_job(viewer, state, job_id)
    return render(
        request,
        "job.html.j2",
        viewer,
        job=shown,
        full=allowed(viewer.principal, Action.READ_RUN, job.organisation_id),
        may_cancel=allowed(viewer.principal, Action.CANCEL_JOB, job.organisation_id),
        terminal=TERMINAL_STATES,
    )


@router.get("/jobs/{job_id}", response_model=None)
def job_page(job_id: str, request: Request, viewer: SignedIn, state: Hosted) -> Response:
    """One job: its state, verdict and times, its run and its pilot."""
    return guarded(request, viewer, lambda v: _job_page(request, v, state, job_id))


def _cancel(viewer: Viewer, state: HostedState, job_id: str) -> Response:
    job, _ = _visible_job(viewer, state, job_id)
    if not allowed(viewer.principal, Action.CANCEL_JOB, job.organisation_id):
        raise PageRefused(
            403, "You may not cancel this organisation's jobs: that needs its data team role."
        )
    state.jobs.request_cancel(job.id)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/jobs/{job_id}/cancel", response_model=None)
async def cancel_job(job_id: str, request: Request, viewer: SignedIn, state: Hosted) -> Response:
    """Cancel a job: a queued one at once, a running one when its worker next looks."""

    async def build(signed: Viewer) -> Response:
        check_form(request, signed, await read_form(request))
        return await run_in_threadpool(_cancel, signed, state, job_id)

    return await guarded_async(request, viewer, build)
