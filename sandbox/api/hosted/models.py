"""The hosted API's response models: jobs, pre-run verdicts, submissions, tokens, the caller.

`JobOut` is a `Job` as the API shows it (datetimes in ISO 8601, `organisation` and `pilot` for
`organisation_id` and `pilot_name`). A caller that may see the queue but not the runs (an
operator) gets `JobOut.queue_view`: the job, its state and timing, never its results.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from sandbox.hosted.identity import Principal
from sandbox.hosted.jobs import Job
from sandbox.hosted.tokens import TokenInfo

__all__ = ["JobOut", "OutcomeOut", "PreRunOut", "SubmissionOut", "TokenOut", "WhoAmI"]

_FROZEN = ConfigDict(frozen=True)


class JobOut(BaseModel):
    """A job: who submitted which archive, where it is, and how its run ended."""

    model_config = _FROZEN

    id: str
    organisation: str
    principal_id: str
    archive_sha256: str
    pilot: str
    state: str
    attempts: int
    run_id: str | None
    verdict: str | None
    error: str | None
    cancel_requested: bool
    worker: str | None
    created: datetime
    started: datetime | None
    finished: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        """The whole job, for callers who may read the organisation's runs."""
        return cls(
            id=job.id,
            organisation=job.organisation_id,
            principal_id=job.principal_id,
            archive_sha256=job.archive_sha256,
            pilot=job.pilot_name,
            state=str(job.state),
            attempts=job.attempts,
            run_id=job.run_id,
            verdict=job.verdict,
            error=job.error,
            cancel_requested=job.cancel_requested,
            worker=job.worker,
            created=job.created,
            started=job.started,
            finished=job.finished,
        )

    @classmethod
    def queue_view(cls, job: Job) -> JobOut:
        """What the queue shows (`read_queue`): which job, its state and timing; never its
        results (run, verdict, error), which only the organisation and its auditors read."""
        return cls.of(job).model_copy(update={"run_id": None, "verdict": None, "error": None})


class OutcomeOut(BaseModel):
    """One pre-run rule's outcome."""

    model_config = _FROZEN

    rule_id: str
    outcome: str
    severity: str
    message: str


class PreRunOut(BaseModel):
    """The pre-run policies' verdict, as `sandbox policy check` prints it."""

    model_config = _FROZEN

    status: Literal["passed", "warned", "blocked"]
    packs: list[str]
    outcomes: list[OutcomeOut]


class SubmissionOut(BaseModel):
    """A submission's answer: queued with its job (202), or blocked at the door (200)."""

    model_config = _FROZEN

    status: Literal["queued", "blocked"]
    archive_sha256: str
    job: JobOut | None
    pre_run: PreRunOut


class TokenOut(BaseModel):
    """A token as listings show it: never its secret or its hash."""

    model_config = _FROZEN

    id: int
    principal: str
    organisation: str
    prefix: str
    created: datetime
    expires: datetime
    revoked: datetime | None
    last_used: datetime | None
    state: str

    @classmethod
    def of(cls, info: TokenInfo) -> TokenOut:
        """The listing of one token."""
        return cls(
            id=info.id,
            principal=info.principal,
            organisation=info.organisation,
            prefix=info.prefix,
            created=info.created,
            expires=info.expires,
            revoked=info.revoked,
            last_used=info.last_used,
            state=str(info.state),
        )


class WhoAmI(BaseModel):
    """The caller, as its token says."""

    model_config = _FROZEN

    principal: str
    organisation: str
    roles: list[str]
    kind: str
    audits: list[str]

    @classmethod
    def of(cls, principal: Principal) -> WhoAmI:
        """The principal's id, organisation, roles, kind and the organisations it audits."""
        return cls(
            principal=principal.id,
            organisation=principal.organisation,
            roles=sorted(str(role) for role in principal.roles),
            kind=str(principal.kind),
            audits=sorted(principal.audits),
        )
