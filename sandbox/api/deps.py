"""Request dependencies: who is calling (a bearer token or a browser session), and the runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sandbox.api.errors import ApiError
from sandbox.api.runs import RunIndex
from sandbox.api.sessions import Session, SessionStore
from sandbox.api.tenants import TenantFile

__all__ = ["Caller", "CallerTenant", "Runs", "SignedIn", "cookie_name", "is_https"]

_bearer = HTTPBearer(auto_error=False)


def is_https(request: Request) -> bool:
    """Whether the browser reached the app over TLS (directly or through a trusted proxy)."""
    return request.url.scheme == "https"


def cookie_name(request: Request, name: str) -> str:
    """`name` with the `__Host-` prefix over https: the browser then refuses the cookie unless
    this host set it with Secure and Path=/, so a network attacker cannot plant one."""
    return f"__Host-{name}" if is_https(request) else name


@dataclass(frozen=True)
class Caller:
    """Who is calling: the tenant, and the browser session when there is one."""

    tenant: str
    session_id: str | None = None
    session: Session | None = None


def _signed_in(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller | None:
    registry: TenantFile = request.app.state.tenants
    if credentials is not None:
        tenant = registry.city_for(credentials.credentials)
        return Caller(tenant) if tenant else None
    session_id = request.cookies.get(cookie_name(request, "sandbox_session"))
    sessions: SessionStore = request.app.state.sessions
    session = sessions.get(session_id) if session_id else None
    if session_id is None or session is None:
        return None
    # The token that opened the session is looked up afresh: deleting it ends the session.
    tenant = registry.city_for_digest(session.token_sha256)
    return Caller(tenant, session_id, session) if tenant else None


def _caller_tenant(caller: Annotated[Caller | None, Depends(_signed_in)]) -> str:
    if caller is None:
        raise ApiError(401, "a valid bearer token is required (sandbox api token CITY)")
    return caller.tenant


def _runs(request: Request) -> RunIndex:
    index: RunIndex = request.app.state.runs
    return index


CallerTenant = Annotated[str, Depends(_caller_tenant)]
SignedIn = Annotated[Caller | None, Depends(_signed_in)]
Runs = Annotated[RunIndex, Depends(_runs)]
