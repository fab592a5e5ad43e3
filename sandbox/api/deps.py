"""Request dependencies: who is calling, and the run index they may read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sandbox.api.errors import ApiError
from sandbox.api.runs import RunIndex
from sandbox.api.tenants import TenantFile

__all__ = ["TOKEN_COOKIE", "CallerCity", "Runs", "SignedInCity"]

TOKEN_COOKIE = "sandbox_token"  # noqa: S105 - the cookie's name, not a secret

_bearer = HTTPBearer(auto_error=False)


def _signed_in_city(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    registry: TenantFile = request.app.state.tenants
    token = credentials.credentials if credentials else request.cookies.get(TOKEN_COOKIE)
    return registry.city_for(token) if token else None


def _caller_city(city: Annotated[str | None, Depends(_signed_in_city)]) -> str:
    if city is None:
        raise ApiError(401, "a valid bearer token is required (sandbox api token CITY)")
    return city


def _runs(request: Request) -> RunIndex:
    index: RunIndex = request.app.state.runs
    return index


CallerCity = Annotated[str, Depends(_caller_city)]
SignedInCity = Annotated[str | None, Depends(_signed_in_city)]
Runs = Annotated[RunIndex, Depends(_runs)]
