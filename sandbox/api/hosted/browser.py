"""The hosted dashboard's browser sessions: who is signed in, their forms, their pages.

Signing in trades a pasted `sbx_...` token for a server-side session (the read-only app's
`SessionStore`): the cookie holds a random id, the session holds the token's prefix and the
SHA-256 of its secret, never the secret. Every request authenticates that token again
(`Accounts.authenticate_digest`), so revoking or expiring the token ends its sessions at once,
and the principal's roles and grants are always the current ones. Sessions also end on their
own (`SessionStore`'s lifetime and idle timeout).

Every state-changing form carries the session's CSRF token, compared in constant time, and
must come from this site (`sandbox.api.pages.same_origin`). Refusals are HTML pages
(`PageRefused`), in the one shape whether the thing asked for is unknown or another's.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import parse_qs

import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sandbox.api.deps import cookie_name, is_https
from sandbox.api.hosted.auth import Hosted
from sandbox.api.pages import SESSION, same_origin, templates_dir
from sandbox.api.sessions import SessionStore
from sandbox.errors import AccessDenied
from sandbox.hosted.identity import Principal
from sandbox.hosted.tokens import parse_token, secret_digest

__all__ = [
    "CROSS_SITE",
    "Browser",
    "PageRefused",
    "SignedIn",
    "Viewer",
    "browser",
    "check_form",
    "guarded",
    "guarded_async",
    "matches",
    "read_form",
    "render",
    "session_cookie",
    "signed_in",
    "token_ref",
]

CROSS_SITE: Final = "This form was not sent from this page, or it has expired. Please try again."
_MAX_FORM_FIELDS: Final = 8
_LOCK: Final = threading.Lock()


@dataclass(frozen=True)
class Browser:
    """The dashboard's sessions and page templates, one per app."""

    sessions: SessionStore
    templates: jinja2.Environment


@dataclass(frozen=True)
class Viewer:
    """A signed-in browser: the principal its token names now, and its session."""

    principal: Principal
    session_id: str
    csrf: str


class PageRefused(Exception):
    """A page that cannot be shown: its status and a message for the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _when(value: datetime | str | None) -> str:
    """A time as the pages show it: `2025-01-31 14:05 UTC`."""
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _environment() -> jinja2.Environment:
    # The dashboard's own templates first, then the read-only app's (its shared stylesheet).
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
            jinja2.FileSystemLoader(templates_dir()),
        ]
    )
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["when"] = _when
    return env


def browser(app: FastAPI) -> Browser:
    """The app's `Browser`, made on first use (a test may set `app.state.browser` first)."""
    with _LOCK:
        made: Browser | None = getattr(app.state, "browser", None)
        if made is None:
            made = Browser(SessionStore(), _environment())
            app.state.browser = made
        return made


def token_ref(token: str) -> str:
    """What a session keeps of the token that opened it: its prefix and its secret's hash."""
    prefix, secret = parse_token(token)
    return f"{prefix}:{secret_digest(secret).hex()}"


def signed_in(request: Request, state: Hosted) -> Viewer | None:
    """The signed-in viewer, or None (no cookie, an ended session, a token no longer valid)."""
    session_id = request.cookies.get(cookie_name(request, SESSION))
    if not session_id:
        return None
    sessions = browser(request.app).sessions
    session = sessions.get(session_id)
    if session is None:
        return None
    prefix, _, digest = session.token_sha256.partition(":")
    try:
        principal = state.accounts.authenticate_digest(prefix, bytes.fromhex(digest))
    except (AccessDenied, ValueError):
        sessions.close(session_id)  # its token was revoked or expired: the session ends too
        return None
    return Viewer(principal, session_id, session.csrf)


SignedIn = Annotated[Viewer | None, Depends(signed_in)]


def session_cookie(request: Request, response: Response, name: str, value: str, age: int) -> None:
    """Set a dashboard cookie: HttpOnly, SameSite=Strict, Secure and `__Host-` over https."""
    response.set_cookie(
        cookie_name(request, name),
        value,
        max_age=age,
        path="/",
        httponly=True,
        secure=is_https(request),
        samesite="strict",
    )


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded form, first value of each field (the body is capped by the app)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        fields = parse_qs(body, max_num_fields=_MAX_FORM_FIELDS)
    except ValueError:
        raise PageRefused(400, "This form has more fields than any form of this site.") from None
    return {key: values[0] for key, values in fields.items() if values}


def matches(expected: str | None, given: str | None) -> bool:
    """Whether two CSRF tokens are both there and equal (compared in constant time)."""
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


def check_form(request: Request, viewer: Viewer | None, form: dict[str, str]) -> Viewer:
    """The viewer, if this form comes from this site with its session's CSRF token."""
    if viewer is None:
        raise PageRefused(401, "You are signed out. Please sign in again.")
    if not same_origin(request) or not matches(viewer.csrf, form.get("csrf")):
        raise PageRefused(403, CROSS_SITE)
    return viewer


def render(
    request: Request, template: str, viewer: Viewer | None, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page of the dashboard; every value is escaped by the templates' autoescape."""
    page = browser(request.app).templates.get_template(template)
    return HTMLResponse(page.render(viewer=viewer, **context), status_code=status)


def _refused(request: Request, viewer: Viewer, exc: PageRefused) -> HTMLResponse:
    return render(request, "refused.html.j2", viewer, status=exc.status, message=exc.message)


def guarded(
    request: Request, viewer: Viewer | None, build: Callable[[Viewer], Response]
) -> Response:
    """`build(viewer)`'s page; the sign-in page when signed out; a refusal's own page."""
    if viewer is None:
        return RedirectResponse("/login", status_code=303)
    try:
        return build(viewer)
    except PageRefused as exc:
        return _refused(request, viewer, exc)


async def guarded_async(
    request: Request, viewer: Viewer | None, build: Callable[[Viewer], Awaitable[Response]]
) -> Response:
    """`guarded` for a form's handler, which reads the request body first."""
    if viewer is None:
        return RedirectResponse("/login", status_code=303)
    try:
        return await build(viewer)
    except PageRefused as exc:
        return _refused(request, viewer, exc)
