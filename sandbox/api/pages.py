"""The browser pages: sign in, sign out, and the dashboard of the city's runs.

Signing in trades the pasted token for a server-side session: the cookie holds a random
session id (HttpOnly, SameSite=Strict, Secure and `__Host-` over https), never the token. The
sign-in and sign-out forms are protected against cross-site requests twice: the browser's
`Origin` / `Sec-Fetch-Site` must name this site, and the form must carry the CSRF token of its
cookie (sign-in) or of its session (sign-out).
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sandbox.api.deps import Runs, SignedIn, cookie_name, is_https
from sandbox.api.errors import ApiError
from sandbox.api.sessions import SessionStore
from sandbox.api.tenants import TenantFile, token_digest

__all__ = ["router", "same_origin", "templates_dir"]

router = APIRouter()
SESSION = "sandbox_session"
LOGIN_CSRF = "sandbox_login"
_FORM_FIELDS = 4
_CROSS_SITE = "This form was not sent from this site, or it has expired. Please sign in again."


def templates_dir() -> Path:
    """Where the page templates live."""
    return Path(__file__).parent / "templates"


def same_origin(request: Request) -> bool:
    """True unless the browser says the request comes from another site (Fetch Metadata, Origin).

    Clients that send neither header (scripts, old browsers) still need the CSRF token.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower() != ""


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form (its size already capped by the body limit)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    fields = parse_qs(body, max_num_fields=_FORM_FIELDS)
    return {key: values[0] for key, values in fields.items() if values}


def _matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


def _login_page(request: Request, *, message: str | None, status: int) -> HTMLResponse:
    """The sign-in form with a fresh CSRF token, in its cookie and in a hidden field."""
    csrf = secrets.token_urlsafe(32)
    page = request.app.state.templates.get_template("login.html.j2").render(
        message=message, csrf=csrf
    )
    response = HTMLResponse(page, status_code=status)
    response.set_cookie(
        cookie_name(request, LOGIN_CSRF),
        csrf,
        max_age=3600,
        path="/",
        httponly=True,
        secure=is_https(request),
        samesite="strict",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    """A form to paste the city's token."""
    return _login_page(request, message=None, status=200)


@router.post("/login", response_class=HTMLResponse, response_model=None)
async def login(request: Request) -> Response:
    """Check the form's origin, CSRF token and pasted token; on success open a session."""
    form = await _form(request)
    csrf_cookie = request.cookies.get(cookie_name(request, LOGIN_CSRF))
    if not same_origin(request) or not _matches(csrf_cookie, form.get("csrf")):
        return _login_page(request, message=_CROSS_SITE, status=403)
    digest = token_digest(form.get("token", "").strip())
    tenants: TenantFile = request.app.state.tenants
    if tenants.city_for_digest(digest) is None:
        return _login_page(request, message="That token is not valid.", status=401)
    sessions: SessionStore = request.app.state.sessions
    session_id, _ = sessions.open(digest)  # always a new id: no session fixation
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        cookie_name(request, SESSION),
        session_id,
        max_age=int(sessions.lifetime_s),
        path="/",
        httponly=True,
        secure=is_https(request),
        samesite="strict",
    )
    response.delete_cookie(cookie_name(request, LOGIN_CSRF), path="/")
    return response


@router.post("/logout", response_model=None)
async def logout(request: Request, caller: SignedIn) -> Response:
    """End the session (the form must come from this site with the session's CSRF token)."""
    form = await _form(request)
    session = caller.session if caller else None
    if session is None or caller is None or caller.session_id is None:
        response = RedirectResponse("/login", status_code=303)
    elif not same_origin(request) or not _matches(session.csrf, form.get("csrf")):
        raise ApiError(403, "sign-out refused: the form was not sent from this site")
    else:
        request.app.state.sessions.close(caller.session_id)
        response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        cookie_name(request, SESSION), path="/", secure=is_https(request), samesite="strict"
    )
    return response


@router.get("/", response_class=HTMLResponse, response_model=None)
def dashboard(request: Request, caller: SignedIn, runs: Runs) -> Response:
    """A page listing the city's runs with their verdicts; the sign-in form when signed out."""
    if caller is None:
        return RedirectResponse("/login", status_code=303)
    page = request.app.state.templates.get_template("dashboard.html.j2").render(
        city=caller.tenant,
        runs=runs.summaries(tenant=caller.tenant),
        csrf=caller.session.csrf if caller.session else None,
    )
    return HTMLResponse(page)
