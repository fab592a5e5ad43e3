"""The dashboard's run pages: a run, its report, its sign-offs, and a reviewer's sign-off.

    GET  /runs/{run_id}            the run as its signed records tell it, and its sign-offs
    GET  /runs/{run_id}/report     its report (`results.report_page`: read and hash-checked)
    POST /runs/{run_id}/sign-off   a reviewer's decision (a form with the session's CSRF token)

A run is read from the trail (`runfacts.read_run`), never from the caller; a run of an
organisation the caller may not read is the same 404 page as a run that does not exist.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
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
from sandbox.api.hosted.results import report_page
from sandbox.api.hosted.reviews import reviews_of
from sandbox.api.hosted.state import HostedState
from sandbox.errors import AccessDenied, UserInputError
from sandbox.hosted.access import Action, allowed
from sandbox.hosted.identity import Kind
from sandbox.hosted.phases import next_phase, required_capacities
from sandbox.hosted.reviews import Reviews, SignOff, UnknownRun
from sandbox.hosted.runfacts import RunFacts, read_run

__all__ = ["NO_RUN_PAGE", "router"]

router = APIRouter(include_in_schema=False)
NO_RUN_PAGE: Final = "No such run for your organisation. A job's page links the run it started."


def _run(reviews: Reviews, viewer: Viewer, run_id: str) -> tuple[RunFacts, list[SignOff]]:
    """The run and its sign-offs, if the viewer may read it; the one 404 page otherwise."""
    try:
        given = reviews.sign_offs(viewer.principal, run_id)  # checks the viewer may read it
        facts = read_run(reviews.trail, run_id)
    except UserInputError:  # UnknownRun, or an id that cannot be one: the same page
        raise PageRefused(404, NO_RUN_PAGE) from None
    if facts is None:
        raise PageRefused(404, NO_RUN_PAGE)
    return facts, given


def _run_page(
    request: Request,
    viewer: Viewer,
    reviews: Reviews,
    run_id: str,
    *,
    message: str | None = None,
    status: int = 200,
) -> Response:
    facts, given = _run(reviews, viewer, run_id)
    signing_for = next_phase(facts.phase) or facts.phase if facts.phase else None
    principal = viewer.principal
    may_sign = (
        facts.ended is not None
        and principal.kind is Kind.USER
        and allowed(principal, Action.SIGN_OFF, str(facts.organisation))
        and all(s.principal_id != principal.id for s in given)
    )
    return render(
        request,
        "run.html.j2",
        viewer,
        status=status,
        message=message,
        run=facts,
        sign_offs=given,
        signing_for=signing_for,
        capacities=required_capacities(signing_for) if may_sign and signing_for else (),
        may_sign=may_sign,
        has_report=facts.ended == "run.finished",
    )


@router.get("/runs/{run_id}", response_model=None)
def run_page(run_id: str, request: Request, viewer: SignedIn, state: Hosted) -> Response:
    """A run: pilot, phase, verdict, headline disparities, sign-offs, and the sign-off form."""
    return guarded(
        request, viewer, lambda v: _run_page(request, v, reviews_of(request, state), run_id)
    )


def _report(request: Request, viewer: Viewer, state: HostedState, run_id: str) -> Response:
    facts, _ = _run(reviews_of(request, state), viewer, run_id)
    page, _origin = report_page(facts, state.settings)
    return HTMLResponse(page)


@router.get("/runs/{run_id}/report", response_model=None)
def run_report(run_id: str, request: Request, viewer: SignedIn, state: Hosted) -> Response:
    """The run's report, only if it is the one its signed record names."""
    return guarded(request, viewer, lambda v: _report(request, v, state, run_id))


def _sign_off(
    request: Request, viewer: Viewer, reviews: Reviews, run_id: str, form: dict[str, str]
) -> Response:
    try:
        reviews.sign_off(
            viewer.principal,
            run_id,
            capacity=form.get("capacity", "").strip(),
            decision=form.get("decision", ""),
            # Browsers send a textarea's line breaks as CRLF; the trail keeps plain "\n".
            reason=form.get("reason", "").replace("\r\n", "\n").strip() or None,
            publish=form.get("publish") == "yes",
        )
    except UnknownRun:
        raise PageRefused(404, NO_RUN_PAGE) from None
    except AccessDenied as exc:
        raise PageRefused(403, str(exc)) from None
    except UserInputError as exc:  # refused: the run's page again, saying what to change
        return _run_page(request, viewer, reviews, run_id, message=str(exc), status=400)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.post("/runs/{run_id}/sign-off", response_model=None)
async def sign_off(run_id: str, request: Request, viewer: SignedIn, state: Hosted) -> Response:
    """Record a reviewer's approval or rejection of the run, in a named capacity."""

    async def build(signed: Viewer) -> Response:
        form = await read_form(request)
        check_form(request, signed, form)
        reviews = await run_in_threadpool(reviews_of, request, state)
        return await run_in_threadpool(_sign_off, request, signed, reviews, run_id, form)

    return await guarded_async(request, viewer, build)
