"""POST /api/v1/submissions: a pilot archive in, a queued job or a blocked verdict out.

    1. the caller must be its organisation's data team (before a byte of the body is read);
    2. the body streams through the archive checks into a private staging folder;
    3. the archive is unpacked and judged (`admission.admit`): owner, manifest, pre-run rules,
       and a `pilot.phase` no later than the register's (`phase_check`);
    4. blocked: 200, no job; a `job.blocked` record and a run in MLflow's rejected-pilots
       experiment say so. Otherwise the archive moves into the store under its hash, the job
       is created, a `job.submitted` record is appended and the job is enqueued: 202.

A job whose record or enqueueing fails is cancelled at once (queued -> cancelled) and the
caller gets 503 naming the job: no job stays queued with no message on its way to a worker.
Whatever is refused leaves nothing in the store.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from sandbox.api.errors import ApiError
from sandbox.api.hosted.admission import Admission, admit
from sandbox.api.hosted.auth import CurrentPrincipal, Hosted
from sandbox.api.hosted.limits import SUBMISSIONS_PATH
from sandbox.api.hosted.models import JobOut, SubmissionOut
from sandbox.api.hosted.phase_check import check_submitted_phase
from sandbox.api.hosted.reviews import reviews_of
from sandbox.api.hosted.state import HostedState
from sandbox.api.hosted.upload import check_media_type, receive_upload
from sandbox.audit.events import JobBlocked, JobSubmitted
from sandbox.hosted.access import Action, allowed
from sandbox.hosted.identity import Principal
from sandbox.hosted.intake import ArchiveStore, StoredArchive
from sandbox.hosted.jobs import Job
from sandbox.hosted.reviews import Reviews
from sandbox.runs.pilot_run import track_rejection

__all__ = ["router"]

router = APIRouter(tags=["submissions"])
_STAGING: Final = ".staging"
_ERROR: Final = {"model": None, "description": "The error, in the API's one error shape."}
_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "The pilot folder as a .tar.gz (`sandbox submit` packs it).",
        "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _staging_folder(state: HostedState) -> Path:
    """A new private folder for one upload, beside the store (so a move is a rename)."""
    parent = state.store.root / _STAGING
    parent.mkdir(mode=0o700, exist_ok=True)
    folder = parent / secrets.token_hex(12)
    folder.mkdir(mode=0o700)
    return folder


@router.post(
    SUBMISSIONS_PATH,
    status_code=202,
    responses={
        200: {"model": SubmissionOut, "description": "Blocked by a pre-run rule: no job."},
        400: _ERROR,
        403: _ERROR,
        413: _ERROR,
        415: _ERROR,
        503: _ERROR,
    },
    openapi_extra=_BODY,
)
async def submit(
    request: Request, response: Response, principal: CurrentPrincipal, state: Hosted
) -> SubmissionOut:
    """Submit a pilot archive: queued as a job (202), or blocked at the door (200)."""
    if not allowed(principal, Action.SUBMIT, principal.organisation):
        raise ApiError(
            403,
            f"{principal.id} may not submit pilots: submitting needs the data_team role in "
            f"{principal.organisation}; use a data team's token",
        )
    check_media_type(request)
    staging = await run_in_threadpool(_staging_folder, state)
    try:
        upload = ArchiveStore(staging / "upload")
        stored = await receive_upload(request, upload, state.limits)
        reviews = lambda: reviews_of(request, state)  # noqa: E731 (opened only when needed)
        answer = await run_in_threadpool(_file, state, principal, stored, staging, reviews)
    finally:
        await run_in_threadpool(shutil.rmtree, staging, True)
    if answer.status == "blocked":
        response.status_code = 200
    return answer


def _file(
    state: HostedState,
    principal: Principal,
    stored: StoredArchive,
    staging: Path,
    reviews: Callable[[], Reviews],
) -> SubmissionOut:
    """Judge the staged archive, then block it or queue it (synchronous: a worker thread)."""
    admission = admit(stored, staging, principal, state.settings, state.limits)
    check_submitted_phase(reviews(), admission.organisation, admission.manifest)
    sha256 = stored.digest.removeprefix("sha256:")
    payload: dict[str, object] = {
        "organisation": admission.organisation,
        "principal": principal.id,
        "job_id": None,
        "archive_sha256": sha256,
        "pilot": admission.manifest.pilot.name,
    }
    if admission.blocked:
        _record_blocked(state, principal, admission, payload)
        return SubmissionOut(
            status="blocked", archive_sha256=sha256, job=None, pre_run=admission.pre_run
        )
    os.replace(stored.path, state.store.path_for(stored.digest))  # same file system: a rename
    job = state.jobs.create(
        organisation=admission.organisation,
        principal=principal.id,
        archive_sha256=sha256,
        pilot_name=admission.manifest.pilot.name,
    )
    _queue(state, principal, job, payload | {"job_id": job.id})
    return SubmissionOut(
        status="queued", archive_sha256=sha256, job=JobOut.of(job), pre_run=admission.pre_run
    )


def _queue(state: HostedState, principal: Principal, job: Job, payload: dict[str, object]) -> None:
    """Record the job and hand it to the workers; cancel it if either fails."""
    try:
        state.trail.record(JobSubmitted(actor=principal.id, payload=payload))
        state.enqueue(job, state.settings)
    except Exception as exc:  # the broker's or the trail's own errors, whatever their type
        state.jobs.request_cancel(job.id)  # queued -> cancelled: never queued with no message
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ApiError(
            503,
            f"job {job.id} could not be queued ({reason}) and was cancelled: nothing will run; "
            "submit the pilot again in a while (operators: check SANDBOX_BROKER_URL and "
            "SANDBOX_TRAIL_URL)",
        ) from exc


def _record_blocked(
    state: HostedState, principal: Principal, admission: Admission, payload: dict[str, object]
) -> None:
    """The blocked submission on the record: a signed `job.blocked`, and a rejected MLflow run."""
    record = state.trail.record(JobBlocked(actor=principal.id, payload=payload))
    failed = [o for o in admission.pre_run.outcomes if o.outcome == "failed"]
    error = "blocked by pre-run policies: " + "; ".join(
        f"{o.rule_id} ({o.severity}): {o.message}" for o in failed
    )
    tags = {
        "sandbox.state": "blocked",
        "sandbox.organisation": admission.organisation,
        "sandbox.principal": principal.id,
        "sandbox.pilot": admission.manifest.pilot.name,
        "sandbox.archive_sha256": str(payload["archive_sha256"]),
        "sandbox.trail_seq": str(record.seq),
    }
    track_rejection(state.tracker, f"blocked-{record.seq}", tags, error)
