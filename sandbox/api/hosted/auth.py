"""Who is calling the hosted API: a bearer token `sbx_...`, checked by `Accounts.authenticate`.

Every route but `/api/health` and `/openapi.json` depends on `current_principal`. A request
without a bearer token, and one whose token is malformed, unknown, wrong, expired or revoked,
get the same 401 (the message of `Accounts.authenticate` for the latter): nothing in the
answer says why a token does not work. The check is a database call, so the dependency is
synchronous and FastAPI runs it in its thread pool.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sandbox.api.errors import ApiError
from sandbox.api.hosted.state import HostedState, hosted_state
from sandbox.errors import AccessDenied
from sandbox.hosted.accounts import REFUSED
from sandbox.hosted.identity import Principal

__all__ = ["BEARER_REQUIRED", "CurrentPrincipal", "Hosted", "current_principal"]

BEARER_REQUIRED: Final = (
    "a bearer token is required: send `Authorization: Bearer sbx_...` with a token an "
    "operator of this hosted sandbox issued to you"
)
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A hosted sandbox token, `sbx_<prefix>_<secret>`, issued by an operator.",
)


def _state(request: Request) -> HostedState:
    return hosted_state(request.app)


Hosted = Annotated[HostedState, Depends(_state)]


def current_principal(
    state: Hosted,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal whose token the request carries; ApiError 401 for any other request."""
    if credentials is None:
        raise ApiError(401, BEARER_REQUIRED)
    try:
        return state.accounts.authenticate(credentials.credentials)
    except AccessDenied:
        raise ApiError(401, REFUSED) from None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
