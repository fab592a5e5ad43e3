"""Sign-offs of runs and the phase of each pilot.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from tables.py, as in 0001.
_PHASES = "('prototype', 'mvp', 'scale')"


def upgrade() -> None:
    op.create_table(
        "sign_offs",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("pilot", sa.Text, nullable=False),
        sa.Column("phase", sa.Text, nullable=False),
        sa.Column("principal_id", sa.Text, sa.ForeignKey("principals.id"), nullable=False),
        sa.Column("capacity", sa.Text, nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("publish", sa.Boolean, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trail_seq", sa.BigInteger, nullable=False, unique=True),
        sa.CheckConstraint(f"phase IN {_PHASES}", name="sign_offs_phase"),
        sa.CheckConstraint("decision IN ('approved', 'rejected')", name="sign_offs_decision"),
        sa.CheckConstraint("decision = 'approved' OR reason IS NOT NULL", name="sign_offs_reason"),
    )
    op.create_index(
        "sign_offs_one_per_person", "sign_offs", ["run_id", "principal_id"], unique=True
    )
    op.create_index("sign_offs_by_pilot", "sign_offs", ["organisation_id", "pilot"])
    op.create_table(
        "pilots",
        sa.Column("organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("phase", sa.Text, nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trail_seq", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("organisation_id", "name"),
        sa.CheckConstraint(f"phase IN {_PHASES}", name="pilots_phase"),
    )


def downgrade() -> None:
    op.drop_table("pilots")
    op.drop_table("sign_offs")
