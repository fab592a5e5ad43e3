"""A job's pilot archive, for the worker that runs it (`fetch_archive`: the worker role).

The bytes are served as the store keeps them, read in pieces from a file opened without
following links; the worker checks them again against the job's hash when it unpacks them.
Callers that may see the job but not fetch it get 403; anyone else the jobs' one 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from sandbox.api.errors import ApiError
from sandbox.api.hosted.auth import CurrentPrincipal, Hosted
from sandbox.api.hosted.jobs import NO_JOB, find_job, job_view
from sandbox.errors import ArchiveRefused
from sandbox.hosted.access import Action, allowed
from sandbox.hosted.intake import stored_chunks

__all__ = ["ARCHIVE_DIGEST_HEADER", "router"]

router = APIRouter(prefix="/api/v1", tags=["jobs"])
ARCHIVE_DIGEST_HEADER = "X-Archive-SHA256"


@router.get(
    "/jobs/{job_id}/archive",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/gzip": {}}, "description": "The .tar.gz"}},
)
def get_archive(job_id: str, principal: CurrentPrincipal, state: Hosted) -> StreamingResponse:
    """The job's pilot archive (.tar.gz) as it was submitted."""
    job = find_job(state, job_id)
    if not allowed(principal, Action.FETCH_ARCHIVE, job.organisation_id):
        if job_view(principal, job) is None:
            raise ApiError(404, NO_JOB)
        raise ApiError(
            403,
            f"{principal.id} may not fetch job archives: that needs the worker role; "
            "a job's status and results are at GET /api/v1/jobs/{job_id}",
        )
    digest = f"sha256:{job.archive_sha256}"
    pieces = stored_chunks(state.store.path_for(digest), state.limits)
    try:
        first = next(pieces, b"")  # opens and checks the file before the 200 is sent
    except ArchiveRefused:
        raise ApiError(
            404,
            f"job {job.id}: its archive {digest} is not in the archive store; the operator "
            "should check SANDBOX_ARCHIVE_STORE; the city can submit the pilot again",
        ) from None
    body: Iterator[bytes] = chain([first], pieces)
    return StreamingResponse(
        body,
        media_type="application/gzip",
        headers={ARCHIVE_DIGEST_HEADER: job.archive_sha256},
    )
