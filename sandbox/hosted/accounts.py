"""Organisations, principals and their tokens, kept in the hosted state's database.

`Accounts(url)` is what the API, the queue and the command line call: register organisations
and principals, grant auditors, issue, list, expire and revoke tokens, and `authenticate` a
token. It checks every argument before the database sees it (errors name the field and the
fix) and lets the database keep the same rules as constraints. Who may call which of these
is the caller's check (`access.allowed`, e.g. `manage_tokens` on the organisation): these
functions do what they are asked, within the organisation they are given.

Authentication gives one answer for every bad token, unknown, malformed, wrong, expired or
revoked alike: the same `AccessDenied` message, after the same lookup by prefix, the same
hash and `hmac.compare_digest`, and the same checks of expiry and revocation, evaluated
without short cuts. Only a valid token takes a further step (recording its last use).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import UTC, timedelta
from itertools import islice
from typing import Any, Final

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from sandbox.errors import AccessDenied, UserInputError
from sandbox.hosted.identity import (
    Kind,
    Organisation,
    Principal,
    Role,
    check_display_name,
    check_organisation_id,
    check_organisation_name,
    check_principal_id,
    name_key,
)
from sandbox.hosted.repository import Repository
from sandbox.hosted.rows import (
    BY_PREFIX,
    NO_TOKEN,
    PRINCIPAL_COLUMNS,
    TOKEN_COLUMNS,
    WITH_ORGANISATION,
    principal_from,
    shown,
    token_info,
)
from sandbox.hosted.tables import auditor_grants, organisations, principal_roles, principals, tokens
from sandbox.hosted.tokens import (
    MAX_LIFETIME,
    IssuedToken,
    TokenInfo,
    new_token,
    parse_token,
    secret_digest,
)

__all__ = ["REFUSED", "Accounts"]

#: The one answer to every token that does not authenticate, whatever the reason.
REFUSED: Final = "the token is not valid; ask an operator of this hosted sandbox for a new one"
_LAST_USED_EVERY: Final = timedelta(minutes=1)  # at most one write per token per minute
_MAX_LISTED: Final = 10_000


def _roles_of(roles: Iterable[Role | str]) -> frozenset[Role]:
    names = ", ".join(role.value for role in Role)
    given = [roles] if isinstance(roles, str) else list(islice(roles, len(Role) + 1))
    if len(given) > len(Role):
        raise UserInputError(f"roles: more than {len(Role)} given; give each of {names} once")
    try:
        checked = frozenset(Role(role) for role in given)
    except ValueError:
        unknown = ", ".join(shown(role) for role in given)
        raise UserInputError(f"roles: {unknown} holds an unknown role; use {names}") from None
    if not checked:
        raise UserInputError(f"roles: none given; give at least one of {names}")
    return checked


def _token_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise UserInputError(
            f"token id: {shown(value)} is not a token id; use the id `list_tokens` shows"
        )
    return value


def _lifetime(expires_in: object) -> timedelta:
    if not isinstance(expires_in, timedelta) or not timedelta(0) < expires_in <= MAX_LIFETIME:
        raise UserInputError(
            f"expires_in: {shown(expires_in)} is not a lifetime a token may have; every "
            f"token expires: give a timedelta over 0 and at most {MAX_LIFETIME.days} days"
        )
    return expires_in


class Accounts(Repository):
    """The organisations, principals and tokens of one hosted sandbox (`migrate` first)."""

    # --- organisations and principals -----------------------------------------------------

    def create_organisation(self, organisation: str, name: str) -> Organisation:
        """Register an organisation: a slug id (`northtown`) and the name its pilots use."""
        check_organisation_id(organisation)
        check_organisation_name(name)
        created = self._now()
        conflicts = {
            "organisations_pkey": f"organisation id {organisation!r} is already registered; "
            "choose another id",
            "organisations_name_key_key": f"organisation name {name!r} is already registered "
            "(names are compared ignoring case and spacing); choose another name",
        }
        with self._transaction("register the organisation", conflicts=conflicts) as conn:
            conn.execute(
                insert(organisations).values(
                    id=organisation, name=name, name_key=name_key(name), created=created
                )
            )
        return Organisation(id=organisation, name=name, created=created)

    def organisation(self, organisation: str) -> Organisation:
        """A registered organisation; UserInputError if there is none with this id."""
        check_organisation_id(organisation)
        with self._transaction("read the organisation") as conn:
            row = conn.execute(
                select(organisations).where(organisations.c.id == organisation)
            ).one_or_none()
        if row is None:
            raise UserInputError(
                f"organisation: {organisation!r} is not registered; register it first"
            )
        return Organisation(id=row.id, name=row.name, created=row.created.astimezone(UTC))

    def create_principal(
        self,
        principal: str,
        organisation: str,
        display_name: str,
        *,
        roles: Iterable[Role | str],
        kind: Kind | str = Kind.USER,
    ) -> Principal:
        """Register a person or a service of `organisation`, with its roles."""
        check_principal_id(principal)
        check_organisation_id(organisation)
        check_display_name(display_name)
        try:
            kind = Kind(kind)
        except ValueError:
            raise UserInputError(f"kind: {shown(kind)} is not one of user, service") from None
        granted = _roles_of(roles)
        org = self.organisation(organisation)
        conflicts = {
            "principals_pkey": f"principal id {principal!r} is already taken; choose another id",
            "principals_organisation_id_fkey": f"organisation: {organisation!r} is not "
            "registered; register it first",
        }
        with self._transaction("register the principal", conflicts=conflicts) as conn:
            conn.execute(
                insert(principals).values(
                    id=principal,
                    organisation_id=organisation,
                    display_name=display_name,
                    kind=kind.value,
                    created=self._now(),
                )
            )
            conn.execute(
                insert(principal_roles),
                [{"principal_id": principal, "role": role.value} for role in sorted(granted)],
            )
        return Principal(
            id=principal,
            organisation=organisation,
            organisation_name=org.name,
            display_name=display_name,
            kind=kind,
            roles=granted,
        )

    def principal(self, principal: str) -> Principal:
        """A registered principal with its roles and audit grants."""
        check_principal_id(principal)
        with self._transaction("read the principal") as conn:
            row = conn.execute(
                select(*PRINCIPAL_COLUMNS)
                .select_from(WITH_ORGANISATION)
                .where(principals.c.id == principal)
            ).one_or_none()
        if row is None:
            raise UserInputError(f"principal: {principal!r} is not registered; register it first")
        return principal_from(row)

    def grant_audit(self, auditor: str, organisation: str) -> Principal:
        """Let `auditor` (a principal with the auditor role) read and verify `organisation`."""
        found = self.principal(auditor)
        if Role.AUDITOR not in found.roles:
            raise UserInputError(
                f"auditor: {auditor!r} does not have the {Role.AUDITOR} role; only auditors are "
                "granted organisations to audit"
            )
        self.organisation(organisation)
        with self._transaction("grant the audit") as conn:
            conn.execute(
                pg_insert(auditor_grants)
                .values(principal_id=auditor, organisation_id=organisation, created=self._now())
                .on_conflict_do_nothing()
            )
        return self.principal(auditor)

    # --- tokens ---------------------------------------------------------------------------

    def issue_token(self, principal: str, *, expires_in: timedelta) -> IssuedToken:
        """A new token for `principal`: its secret is in the result once and stored nowhere."""
        lifetime = _lifetime(expires_in)
        holder = self.principal(principal)
        gone = {"tokens_principal_id_fkey": f"principal: {principal!r} is not registered"}
        for _attempt in range(3):  # a 48-bit prefix collides about never; if it does, redraw
            prefix, secret, token = new_token()
            created = self._now()
            with self._transaction("issue the token", conflicts=gone) as conn:
                row = conn.execute(
                    pg_insert(tokens)
                    .values(
                        principal_id=principal,
                        prefix=prefix,
                        secret_sha256=secret_digest(secret),
                        created=created,
                        expires=created + lifetime,
                    )
                    .on_conflict_do_nothing(index_elements=["prefix"])
                    .returning(*TOKEN_COLUMNS)
                ).one_or_none()
            if row is not None:
                return IssuedToken(token=token, info=token_info(row, holder.organisation, created))
        raise AssertionError("three random token prefixes collided")  # pragma: no cover

    def list_tokens(self, organisation: str, *, limit: int = 1000) -> list[TokenInfo]:
        """The tokens of `organisation`'s principals, oldest first; never a secret or a hash."""
        check_organisation_id(organisation)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= _MAX_LISTED:
            raise UserInputError(f"limit: give a number of tokens from 1 to {_MAX_LISTED}")
        now = self._now()
        with self._transaction("list the tokens") as conn:
            rows = conn.execute(
                select(*TOKEN_COLUMNS)
                .select_from(tokens.join(principals))
                .where(principals.c.organisation_id == organisation)
                .order_by(tokens.c.id)
                .limit(limit)
            ).all()
        return [token_info(row, organisation, now) for row in rows]

    def revoke_token(self, organisation: str, token_id: int) -> TokenInfo:
        """Revoke one of `organisation`'s tokens at once; revoking it again changes nothing."""
        return self._end(
            organisation,
            token_id,
            "revoke",
            revoked=func.coalesce(tokens.c.revoked, bindparam("now")),
        )

    def expire_token(self, organisation: str, token_id: int) -> TokenInfo:
        """Bring one of `organisation`'s tokens' expiry forward to now (never later)."""
        return self._end(
            organisation,
            token_id,
            "expire",
            expires=func.greatest(tokens.c.created, func.least(tokens.c.expires, bindparam("now"))),
        )

    def _end(self, organisation: str, token_id: int, doing: str, **values: Any) -> TokenInfo:
        check_organisation_id(organisation)
        _token_id(token_id)
        now = self._now()
        of_organisation = select(principals.c.id).where(
            principals.c.organisation_id == organisation
        )
        with self._transaction(f"{doing} the token") as conn:
            row = conn.execute(
                update(tokens)
                .where(tokens.c.id == token_id, tokens.c.principal_id.in_(of_organisation))
                .values(**values)
                .returning(*TOKEN_COLUMNS),
                {"now": now},
            ).one_or_none()
        if row is None:  # another organisation's token is as unknown as one that never existed
            raise UserInputError(
                f"token {token_id}: no such token in {organisation}; `list_tokens` shows its ids"
            )
        return token_info(row, organisation, now)

    # --- authentication -------------------------------------------------------------------

    def authenticate(self, token: str) -> Principal:
        """The principal a valid token belongs to; AccessDenied(REFUSED) for any other token."""
        prefix, secret = parse_token(token)
        return self.authenticate_digest(prefix, secret_digest(secret))

    def authenticate_digest(self, prefix: str, digest: bytes) -> Principal:
        """`authenticate` for a token known by its prefix and secret's SHA-256 (a browser
        session keeps these, never the secret); AccessDenied(REFUSED) for any other."""
        now = self._now()
        with self._transaction("check the token") as conn:
            row = conn.execute(BY_PREFIX, {"prefix": prefix}).one_or_none() or NO_TOKEN
            # Every check runs, combined without short cuts: the reason never shows in the time.
            matches = hmac.compare_digest(digest, bytes(row.secret_sha256))
            valid = matches & (row.revoked is None) & (row.expires > now)
            if not valid:
                raise AccessDenied(REFUSED)
            if row.last_used is None or row.last_used < now - _LAST_USED_EVERY:
                conn.execute(
                    update(tokens).where(tokens.c.id == row.token_id).values(last_used=now)
                )
        return principal_from(row)
