"""How `accounts.py` reads the hosted state: its select statements, and rows made into values.

A principal is read with its organisation's name, its roles and its audit grants in one
statement (the roles and grants as arrays), and a token is found by its prefix together with
its principal, so authenticating is one round trip whatever the token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, Final

from sqlalchemy import bindparam, func, select

from sandbox.hosted.identity import Kind, Principal, Role
from sandbox.hosted.tables import auditor_grants, organisations, principal_roles, principals, tokens
from sandbox.hosted.tokens import TokenInfo, TokenState

__all__ = [
    "BY_PREFIX",
    "NO_TOKEN",
    "PRINCIPAL_COLUMNS",
    "TOKEN_COLUMNS",
    "WITH_ORGANISATION",
    "principal_from",
    "shown",
    "token_info",
]

_roles = (
    select(func.array_agg(principal_roles.c.role))
    .where(principal_roles.c.principal_id == principals.c.id)
    .scalar_subquery()
)
_audits = (
    select(func.array_agg(auditor_grants.c.organisation_id))
    .where(auditor_grants.c.principal_id == principals.c.id)
    .scalar_subquery()
)
PRINCIPAL_COLUMNS: Final = (
    principals.c.id,
    principals.c.organisation_id,
    organisations.c.name.label("organisation_name"),
    principals.c.display_name,
    principals.c.kind,
    _roles.label("roles"),
    _audits.label("audits"),
)
WITH_ORGANISATION: Final = principals.join(organisations)
BY_PREFIX: Final = (
    select(
        tokens.c.id.label("token_id"),
        tokens.c.secret_sha256,
        tokens.c.expires,
        tokens.c.revoked,
        tokens.c.last_used,
        *PRINCIPAL_COLUMNS,
    )
    .select_from(tokens.join(WITH_ORGANISATION))
    .where(tokens.c.prefix == bindparam("prefix"))
)
TOKEN_COLUMNS: Final = (
    tokens.c.id,
    tokens.c.principal_id,
    tokens.c.prefix,
    tokens.c.created,
    tokens.c.expires,
    tokens.c.revoked,
    tokens.c.last_used,
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: What authentication checks when no token has the prefix: `BY_PREFIX`'s fields, and values
#: that fail every check (a zero hash no secret has, expired and revoked at the epoch).
NO_TOKEN: Final = SimpleNamespace(
    token_id=0, secret_sha256=bytes(32), expires=_EPOCH, revoked=_EPOCH, last_used=None, id="",
    organisation_id="", organisation_name="", display_name="", kind="service", roles=None,
    audits=None,
)  # fmt: skip


def principal_from(row: Any) -> Principal:
    """A `Principal` from a row of `PRINCIPAL_COLUMNS`."""
    return Principal(
        id=row.id,
        organisation=row.organisation_id,
        organisation_name=row.organisation_name,
        display_name=row.display_name,
        kind=Kind(row.kind),
        roles=frozenset(Role(role) for role in row.roles or ()),
        audits=frozenset(row.audits or ()),
    )


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def token_info(row: Any, organisation: str, now: datetime) -> TokenInfo:
    """A `TokenInfo` from a row of `TOKEN_COLUMNS`, its state as of `now`."""
    expires = row.expires.astimezone(UTC)
    revoked = _utc(row.revoked)
    if revoked is not None:
        state = TokenState.REVOKED
    else:
        state = TokenState.EXPIRED if expires <= now else TokenState.ACTIVE
    return TokenInfo(
        id=row.id,
        principal=row.principal_id,
        organisation=organisation,
        prefix=row.prefix,
        created=row.created.astimezone(UTC),
        expires=expires,
        revoked=revoked,
        last_used=_utc(row.last_used),
        state=state,
    )


def shown(value: object, limit: int = 60) -> str:
    """A caller's value as a message may quote it: escaped, and bounded before it is formatted."""
    if isinstance(value, str):
        return ascii(value[:limit])
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**18:
        return str(value)
    return f"a {type(value).__name__}"
