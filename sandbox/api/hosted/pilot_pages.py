"""The dashboard's pilot page: a pilot's journey across phases, and moving it one phase on.

    GET  /pilots/{pilot}[?organisation=ID]   its phase, runs, verdicts, sign-offs and moves
                                             (`journey.pilot_journey`), and a chart of its
                                             headline disparities run after run
    POST /pilots/{pilot}/phase               a reviewer moves it on, resting on one of its
                                             runs (a form with the session's CSRF token)

A pilot the caller may not read is the same 404 page as one that does not exist.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

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
from sandbox.api.hosted.chart import disparity_chart
from sandbox.api.hosted.job_pages import Organisation, organisation_choice
from sandbox.api.hosted.reviews import reviews_of
from sandbox.errors import AccessDenied, UserInputError
from sandbox.hosted.access import Action, allowed
from sandbox.hosted.identity import Kind
from sandbox.hosted.journey import pilot_journey
from sandbox.hosted.phases import next_phase
from sandbox.hosted.reviews import Reviews, UnknownRun

__all__ = ["NO_PILOT_PAGE", "router"]

router = APIRouter(include_in_schema=False)
NO_PILOT_PAGE: Final = "No such pilot for your organisation. The jobs page lists its pilots."


def _journey(reviews: Reviews, viewer: Viewer, pilot: str, organisation: str) -> dict[str, Any]:
    try:
        return pilot_journey(reviews, viewer.principal, pilot, organisation=organisation)
    except UserInputError:  # UnknownPilot, or a name that cannot be one: the same page
        raise PageRefused(404, NO_PILOT_PAGE) from None


def _pilot_page(
    request: Request,
    viewer: Viewer,
    reviews: Reviews,
    pilot: str,
    requested: str | None,
    *,
    message: str | None = None,
    status: int = 200,
) -> Response:
    principal = viewer.principal
    try:
        organisation, _ = organisation_choice(principal, requested)
    except PageRefused:
        raise PageRefused(404, NO_PILOT_PAGE) from None
    journey = _journey(reviews, viewer, pilot, organisation)
    target = next_phase(journey["phase"])
    may_move = (
        target is not None
        and principal.kind is Kind.USER
        and organisation == principal.organisation
        and allowed(principal, Action.SIGN_OFF, organisation)
    )
    candidates = [r for r in journey["runs"] if r["passed"] and r["phase"] == journey["phase"]]
    return render(
        request,
        "pilot.html.j2",
        viewer,
        status=status,
        message=message,
        journey=journey,
        own=organisation == principal.organisation,
        chart=disparity_chart(journey["runs"]),
        target=target,
        may_move=may_move,
        candidates=candidates,
    )


@router.get("/pilots/{pilot}", response_model=None)
def pilot_page(
    pilot: str, request: Request, viewer: SignedIn, state: Hosted, organisation: Organisation = None
) -> Response:
    """The pilot's journey: phase, runs, verdicts, sign-offs, moves and a disparity chart."""
    return guarded(
        request,
        viewer,
        lambda v: _pilot_page(request, v, reviews_of(request, state), pilot, organisation),
    )


def _move(
    request: Request, viewer: Viewer, reviews: Reviews, pilot: str, form: dict[str, str]
) -> Response:
    try:
        reviews.move_phase(
            viewer.principal, pilot, to=form.get("to", ""), run_id=form.get("run_id", "")
        )
    except UnknownRun:
        raise PageRefused(404, NO_PILOT_PAGE) from None
    except AccessDenied as exc:
        raise PageRefused(403, str(exc)) from None
    except UserInputError as exc:  # refused: the pilot's page again, saying what is missing
        return _pilot_page(request, viewer, reviews, pilot, None, message=str(exc), status=400)
    return RedirectResponse(f"/pilots/{pilot}", status_code=303)


@router.post("/pilots/{pilot}/phase", response_model=None)
async def move_phase(pilot: str, request: Request, viewer: SignedIn, state: Hosted) -> Response:
    """Move the pilot one phase on, resting on one passed run and its approvals."""

    async def build(signed: Viewer) -> Response:
        form = await read_form(request)
        check_form(request, signed, form)
        reviews = await run_in_threadpool(reviews_of, request, state)
        return await run_in_threadpool(_move, request, signed, reviews, pilot, form)

    return await guarded_async(request, viewer, build)
