"""Organisations, principals, their roles, auditor grants and tokens.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from tables.py: a revision must keep meaning what it meant
# when it was written, whatever the tables become later.
_ORGANISATION_ID = "^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
_PRINCIPAL_ID = "^[a-z][a-z0-9.-]{1,62}[a-z0-9]$"


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_key", sa.Text, nullable=False, unique=True),
        _when("created"),
        sa.CheckConstraint(f"id ~ '{_ORGANISATION_ID}'", name="organisations_id_slug"),
    )
    op.create_table(
        "principals",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        _when("created"),
        sa.CheckConstraint(f"id ~ '{_PRINCIPAL_ID}'", name="principals_id_slug"),
        sa.CheckConstraint("kind IN ('user', 'service')", name="principals_kind"),
    )
    op.create_index("ix_principals_organisation_id", "principals", ["organisation_id"])
    op.create_table(
        "principal_roles",
        sa.Column(
            "principal_id",
            sa.Text,
            sa.ForeignKey("principals.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("principal_id", "role"),
        sa.CheckConstraint(
            "role IN ('data_team', 'reviewer', 'auditor', 'operator')",
            name="principal_roles_role",
        ),
    )
    op.create_table(
        "auditor_grants",
        sa.Column(
            "principal_id",
            sa.Text,
            sa.ForeignKey("principals.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=False),
        _when("created"),
        sa.PrimaryKeyConstraint("principal_id", "organisation_id"),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("principal_id", sa.Text, sa.ForeignKey("principals.id"), nullable=False),
        sa.Column("prefix", sa.Text, nullable=False, unique=True),
        sa.Column("secret_sha256", sa.LargeBinary, nullable=False),
        _when("created"),
        _when("expires"),
        _when("revoked", nullable=True),
        _when("last_used", nullable=True),
        sa.CheckConstraint("prefix ~ '^[0-9a-f]{12}$'", name="tokens_prefix"),
        sa.CheckConstraint("octet_length(secret_sha256) = 32", name="tokens_secret_sha256"),
        sa.CheckConstraint("expires >= created", name="tokens_expiry"),
    )
    op.create_index("tokens_by_principal", "tokens", ["principal_id"])


def downgrade() -> None:
    for table in ("tokens", "auditor_grants", "principal_roles", "principals", "organisations"):
        op.drop_table(table)
