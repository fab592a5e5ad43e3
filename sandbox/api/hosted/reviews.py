"""Sign-offs, phase moves and a pilot's journey (`sandbox.hosted.reviews`, `.journey`).

    POST /api/v1/runs/{run_id}/sign-offs   a reviewer's decision on a run (201 SignOffOut)
    GET  /api/v1/runs/{run_id}/sign-offs   the run's sign-offs, in trail order
    POST /api/v1/pilots/{pilot}/phase      move the pilot one phase on (PhaseMoveOut)
    GET  /api/v1/pilots/{pilot}/journey    runs, verdicts, sign-offs and moves, in order

A run or a pilot that is unknown, and one of an organisation the caller may not read, get the
same 404 body. A refused sign-off or move is a 400 whose message says what is missing.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from sandbox.api.errors import ApiError
from sandbox.api.hosted.auth import CurrentPrincipal, Hosted
from sandbox.api.hosted.state import HostedState
from sandbox.hosted.identity import check_organisation_id
from sandbox.hosted.journey import UnknownPilot, pilot_journey
from sandbox.hosted.phases import MAX_CAPACITY
from sandbox.hosted.reviews import MAX_REASON, PhaseMove, Reviews, SignOff, UnknownRun

__all__ = [
    "NO_PILOT",
    "NO_RUN",
    "PhaseMoveIn",
    "PhaseMoveOut",
    "SignOffIn",
    "SignOffOut",
    "reviews_of",
    "router",
]

router = APIRouter(prefix="/api/v1", tags=["reviews"])
NO_RUN: Final = "no such run for your organisation; a job's run_id names one of its runs"
NO_PILOT: Final = "no such pilot for your organisation; GET /api/v1/jobs lists its pilots"
_LOCK: Final = threading.Lock()
_STRICT: Final = ConfigDict(extra="forbid", frozen=True)


class SignOffIn(BaseModel):
    """A reviewer's decision on a run."""

    model_config = _STRICT

    capacity: str = Field(max_length=MAX_CAPACITY, description="e.g. 'service owner'")
    decision: Literal["approved", "rejected"]
    reason: str | None = Field(default=None, max_length=MAX_REASON, description="To reject.")
    publish: bool = Field(default=False, description="May the public register show it?")


class SignOffOut(BaseModel):
    """A recorded sign-off and its trail record."""

    organisation: str
    run_id: str
    pilot: str
    phase: str
    reviewer: str
    capacity: str
    decision: str
    reason: str | None
    publish: bool
    created: datetime
    trail_seq: int

    @classmethod
    def of(cls, s: SignOff) -> SignOffOut:
        """The API's view of a sign-off."""
        return cls(
            organisation=s.organisation,
            run_id=s.run_id,
            pilot=s.pilot,
            phase=s.phase,
            reviewer=s.principal_id,
            capacity=s.capacity,
            decision=s.decision,
            reason=s.reason,
            publish=s.publish,
            created=s.created,
            trail_seq=s.trail_seq,
        )


class PhaseMoveIn(BaseModel):
    """Move a pilot to its next phase on one of its runs."""

    model_config = _STRICT

    to: Literal["prototype", "mvp", "scale"]
    run_id: str = Field(max_length=128)


class PhaseMoveOut(BaseModel):
    """A recorded phase move and its trail record."""

    organisation: str
    pilot: str
    from_phase: str = Field(serialization_alias="from")
    to: str
    run_id: str
    sign_offs: list[int]
    moved_by: str
    moved: datetime
    trail_seq: int

    @classmethod
    def of(cls, m: PhaseMove) -> PhaseMoveOut:
        """The API's view of a phase move."""
        return cls(
            organisation=m.organisation,
            pilot=m.pilot,
            from_phase=m.from_phase,
            to=m.to_phase,
            run_id=m.run_id,
            sign_offs=list(m.sign_offs),
            moved_by=m.moved_by,
            moved=m.moved,
            trail_seq=m.trail_seq,
        )


def reviews_of(request: Request, state: HostedState) -> Reviews:
    """The app's `Reviews`, made on first use over the hosted state's database and trail."""
    with _LOCK:
        made: Reviews | None = getattr(request.app.state, "reviews", None)
        if made is None:
            made = Reviews(str(state.settings.hosted_url), state.trail)
            request.app.state.reviews = made
        return made


@router.post("/runs/{run_id}/sign-offs", status_code=201)
def sign_off(
    run_id: str, body: SignOffIn, principal: CurrentPrincipal, state: Hosted, request: Request
) -> SignOffOut:
    """Approve or reject one of your organisation's runs, in a named capacity."""
    try:
        made = reviews_of(request, state).sign_off(
            principal,
            run_id,
            capacity=body.capacity,
            decision=body.decision,
            reason=body.reason,
            publish=body.publish,
        )
    except UnknownRun:
        raise ApiError(404, NO_RUN) from None
    return SignOffOut.of(made)


@router.get("/runs/{run_id}/sign-offs")
def list_sign_offs(
    run_id: str, principal: CurrentPrincipal, state: Hosted, request: Request
) -> list[SignOffOut]:
    """The sign-offs of a run you may read, oldest first."""
    try:
        found = reviews_of(request, state).sign_offs(principal, run_id)
    except UnknownRun:
        raise ApiError(404, NO_RUN) from None
    return [SignOffOut.of(s) for s in found]


@router.post("/pilots/{pilot}/phase", response_model_by_alias=True)
def move_phase(
    pilot: str, body: PhaseMoveIn, principal: CurrentPrincipal, state: Hosted, request: Request
) -> PhaseMoveOut:
    """Move one of your organisation's pilots one phase on, resting on one passed run."""
    try:
        moved = reviews_of(request, state).move_phase(
            principal, pilot, to=body.to, run_id=body.run_id
        )
    except UnknownRun:
        raise ApiError(404, NO_RUN) from None
    return PhaseMoveOut.of(moved)


@router.get("/pilots/{pilot}/journey")
def journey(
    pilot: str,
    principal: CurrentPrincipal,
    state: Hosted,
    request: Request,
    organisation: Annotated[
        str | None, Query(max_length=64, description="An organisation id; default: your own.")
    ] = None,
) -> dict[str, Any]:
    """The pilot's runs, verdicts, headline disparities, sign-offs and phase moves."""
    if organisation is not None:
        check_organisation_id(organisation, field="organisation")
    try:
        return pilot_journey(
            reviews_of(request, state), principal, pilot, organisation=organisation
        )
    except UnknownPilot:
        raise ApiError(404, NO_PILOT) from None
