"""Signing in to the hosted dashboard with a token, and signing out.

    GET  /login    the form: paste a token (its CSRF token in a cookie and a hidden field)
    POST /login    from this site, with that CSRF token and a valid token: a new session
    POST /logout   from this site, with the session's CSRF token: the session ends

A refused token gets the one answer `Accounts.authenticate` gives every bad token.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sandbox.api.deps import cookie_name, is_https
from sandbox.api.hosted.auth import Hosted
from sandbox.api.hosted.browser import (
    CROSS_SITE,
    PageRefused,
    SignedIn,
    browser,
    check_form,
    matches,
    read_form,
    render,
    session_cookie,
    token_ref,
)
from sandbox.api.pages import LOGIN_CSRF, SESSION, same_origin
from sandbox.errors import AccessDenied
from sandbox.hosted.accounts import REFUSED

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_LOGIN_CSRF_AGE = 3600


def _login_page(request: Request, *, message: str | None, status: int) -> HTMLResponse:
    """The sign-in form with a fresh CSRF token, in its cookie and in a hidden field."""
    csrf = secrets.token_urlsafe(32)
    response = render(request, "login.html.j2", None, status=status, message=message, csrf=csrf)
    session_cookie(request, response, LOGIN_CSRF, csrf, _LOGIN_CSRF_AGE)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    """A form to paste a token issued by this sandbox's operators."""
    return _login_page(request, message=None, status=200)


@router.post("/login", response_model=None)
async def login(request: Request, state: Hosted) -> Response:
    """Check the form's origin, its CSRF token and the pasted token; then open a session."""
    try:
        form = await read_form(request)
    except PageRefused as exc:
        return _login_page(request, message=exc.message, status=exc.status)
    if not same_origin(request) or not matches(
        request.cookies.get(cookie_name(request, LOGIN_CSRF)), form.get("csrf")
    ):
        return _login_page(request, message=CROSS_SITE, status=403)
    token = form.get("token", "").strip()
    try:
        await run_in_threadpool(state.accounts.authenticate, token)
    except AccessDenied:
        return _login_page(request, message=REFUSED, status=401)
    sessions = browser(request.app).sessions
    session_id, _ = sessions.open(token_ref(token))  # always a new id: no session fixation
    response = RedirectResponse("/", status_code=303)
    session_cookie(request, response, SESSION, session_id, int(sessions.lifetime_s))
    response.delete_cookie(cookie_name(request, LOGIN_CSRF), path="/")
    return response


@router.post("/logout", response_model=None)
async def logout(request: Request, viewer: SignedIn) -> Response:
    """End the session; the form must come from this site with the session's CSRF token."""
    if viewer is not None:
        try:
            check_form(request, viewer, await read_form(request))
        except PageRefused as exc:
            return render(
                request, "refused.html.j2", viewer, status=exc.status, message=exc.message
            )
        browser(request.app).sessions.close(viewer.session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        cookie_name(request, SESSION), path="/", secure=is_https(request), samesite="strict"
    )
    return response
