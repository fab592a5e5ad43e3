"""The caller (`whoami`) and tokens: list, revoke, expire.

An operator (`manage_tokens`) lists, revokes and expires the tokens of any organisation it
names (default: its own). Anyone else sees and ends only its own tokens: a token of another
principal is answered like a token that does not exist. No answer holds a secret or a hash.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Path, Query

from sandbox.api.errors import ApiError
from sandbox.api.hosted.auth import CurrentPrincipal, Hosted
from sandbox.api.hosted.models import TokenOut, WhoAmI
from sandbox.api.hosted.state import HostedState
from sandbox.errors import UserInputError
from sandbox.hosted.access import Action, allowed
from sandbox.hosted.identity import Principal, check_organisation_id
from sandbox.hosted.tokens import TokenInfo

__all__ = ["NOT_YOURS", "router"]

router = APIRouter(prefix="/api/v1", tags=["tokens"])
NOT_YOURS: Final = "no such token of yours; GET /api/v1/tokens lists the ids you may use"
_MAX_LISTED: Final = 10_000

Organisation = Annotated[
    str | None,
    Query(max_length=64, description="An organisation id (operators); default: your own."),
]
TokenId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/whoami")
def whoami(principal: CurrentPrincipal) -> WhoAmI:
    """Who the token belongs to: principal, organisation, roles, kind, audited organisations."""
    return WhoAmI.of(principal)


def _scope(principal: Principal, organisation: str | None) -> tuple[str, bool]:
    """(organisation, whether the caller manages its tokens or sees only its own)."""
    wanted = principal.organisation if organisation is None else organisation
    check_organisation_id(wanted, field="organisation")
    if allowed(principal, Action.MANAGE_TOKENS, wanted):
        return wanted, True
    if wanted != principal.organisation:
        raise ApiError(
            403,
            f"{principal.id} may not manage the tokens of {wanted!r}: that needs the operator "
            "role; leave out `organisation` to see your own tokens",
        )
    return wanted, False


def _listed(state: HostedState, principal: Principal, organisation: str | None) -> list[TokenInfo]:
    wanted, manages = _scope(principal, organisation)
    found = state.accounts.list_tokens(wanted, limit=_MAX_LISTED)
    return found if manages else [t for t in found if t.principal == principal.id]


@router.get("/tokens")
def list_tokens(
    principal: CurrentPrincipal, state: Hosted, organisation: Organisation = None
) -> list[TokenOut]:
    """The organisation's tokens (operators) or your own, oldest first."""
    return [TokenOut.of(info) for info in _listed(state, principal, organisation)]


def _end(
    state: HostedState, principal: Principal, token_id: int, organisation: str | None, how: str
) -> TokenOut:
    wanted, manages = _scope(principal, organisation)
    if not manages and all(t.id != token_id for t in _listed(state, principal, None)):
        raise ApiError(404, NOT_YOURS)
    end = state.accounts.revoke_token if how == "revoke" else state.accounts.expire_token
    try:
        return TokenOut.of(end(wanted, token_id))
    except UserInputError:  # not a token of that organisation
        raise ApiError(404, NOT_YOURS) from None


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: TokenId, principal: CurrentPrincipal, state: Hosted, organisation: Organisation = None
) -> TokenOut:
    """Revoke a token at once; revoking it again changes nothing."""
    return _end(state, principal, token_id, organisation, "revoke")


@router.post("/tokens/{token_id}/expire")
def expire_token(
    token_id: TokenId, principal: CurrentPrincipal, state: Hosted, organisation: Organisation = None
) -> TokenOut:
    """Bring a token's expiry forward to now; doing it again changes nothing."""
    return _end(state, principal, token_id, organisation, "expire")
