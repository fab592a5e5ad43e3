"""The hosted state's tables (SQLAlchemy Core), as the latest migration leaves them.

    organisations     id (a slug), name, name_key (the name NFC-normalised, case-folded,
                      spaces collapsed: unique, so no two cities' names differ only in case),
                      created
    principals        id, organisation_id, display_name, kind (user or service), created
    principal_roles   one row per (principal, role)
    auditor_grants    one row per (auditor principal, organisation it may read and verify)
    tokens            id, principal_id, prefix (unique, shown in listings), secret_sha256 (the
                      SHA-256 of the secret: never the secret), created, expires, revoked,
                      last_used

The schema itself changes only through `migrations/`: a test compares a migrated database
with these definitions. Names are plural nouns and foreign keys `<table in the singular>_id`,
the shape later tables (jobs, their runs, sign-offs) follow.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

__all__ = [
    "ORGANISATION_ID_SQL",
    "auditor_grants",
    "metadata",
    "organisations",
    "principal_roles",
    "principals",
    "tokens",
]

# The same rules as `identity.py`, kept by the database too: a row written by any client obeys.
ORGANISATION_ID_SQL: Final = "^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
PRINCIPAL_ID_SQL: Final = "^[a-z][a-z0-9.-]{1,62}[a-z0-9]$"
ROLES_SQL: Final = "('data_team', 'reviewer', 'auditor', 'operator')"
PREFIX_SQL: Final = "^[0-9a-f]{12}$"

metadata: Final = MetaData()


def _when(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


organisations: Final = Table(
    "organisations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("name_key", Text, nullable=False, unique=True),
    _when("created"),
    CheckConstraint(f"id ~ '{ORGANISATION_ID_SQL}'", name="organisations_id_slug"),
)

principals: Final = Table(
    "principals",
    metadata,
    Column("id", Text, primary_key=True),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=False, index=True),
    Column("display_name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    _when("created"),
    CheckConstraint(f"id ~ '{PRINCIPAL_ID_SQL}'", name="principals_id_slug"),
    CheckConstraint("kind IN ('user', 'service')", name="principals_kind"),
)

principal_roles: Final = Table(
    "principal_roles",
    metadata,
    Column("principal_id", Text, ForeignKey("principals.id", ondelete="CASCADE"), nullable=False),
    Column("role", Text, nullable=False),
    PrimaryKeyConstraint("principal_id", "role"),
    CheckConstraint(f"role IN {ROLES_SQL}", name="principal_roles_role"),
)

auditor_grants: Final = Table(
    "auditor_grants",
    metadata,
    Column("principal_id", Text, ForeignKey("principals.id", ondelete="CASCADE"), nullable=False),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=False),
    _when("created"),
    PrimaryKeyConstraint("principal_id", "organisation_id"),
)

tokens: Final = Table(
    "tokens",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("principal_id", Text, ForeignKey("principals.id"), nullable=False),
    Column("prefix", Text, nullable=False, unique=True),
    Column("secret_sha256", LargeBinary, nullable=False),
    _when("created"),
    _when("expires"),
    _when("revoked", nullable=True),
    _when("last_used", nullable=True),
    CheckConstraint(f"prefix ~ '{PREFIX_SQL}'", name="tokens_prefix"),
    CheckConstraint("octet_length(secret_sha256) = 32", name="tokens_secret_sha256"),
    CheckConstraint("expires >= created", name="tokens_expiry"),
    Index("tokens_by_principal", "principal_id"),
)
