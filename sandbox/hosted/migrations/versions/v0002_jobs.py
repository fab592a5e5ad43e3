"""Jobs: submitted pilots queued for the workers, and the worker role that runs them.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from tables.py, as in 0001.
_OLD_ROLES = "('data_team', 'reviewer', 'auditor', 'operator')"
_NEW_ROLES = "('data_team', 'reviewer', 'auditor', 'operator', 'worker')"


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _roles(allowed: str) -> None:
    op.drop_constraint("principal_roles_role", "principal_roles", type_="check")
    op.create_check_constraint("principal_roles_role", "principal_roles", f"role IN {allowed}")


def upgrade() -> None:
    _roles(_NEW_ROLES)
    op.create_table(
        "jobs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("organisation_id", sa.Text, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("principal_id", sa.Text, sa.ForeignKey("principals.id"), nullable=False),
        sa.Column("archive_sha256", sa.Text, nullable=False),
        sa.Column("pilot_name", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Text, nullable=True),
        sa.Column("verdict", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("worker", sa.Text, nullable=True),
        _when("created"),
        _when("started", nullable=True),
        _when("finished", nullable=True),
        _when("heartbeat", nullable=True),
        sa.CheckConstraint("id ~ '^job_[a-z2-7]{26}$'", name="jobs_id"),
        sa.CheckConstraint("archive_sha256 ~ '^[0-9a-f]{64}$'", name="jobs_archive_sha256"),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'finished', 'cancelled', 'lost')", name="jobs_state"
        ),
        sa.CheckConstraint("attempts >= 0", name="jobs_attempts"),
        sa.CheckConstraint(
            "(state IN ('finished', 'cancelled', 'lost')) = (finished IS NOT NULL)",
            name="jobs_finished",
        ),
        sa.CheckConstraint("state <> 'running' OR heartbeat IS NOT NULL", name="jobs_heartbeat"),
    )
    op.create_index("jobs_by_organisation", "jobs", ["organisation_id", "created"])


def downgrade() -> None:
    op.drop_table("jobs")
    op.execute("DELETE FROM principal_roles WHERE role = 'worker'")
    _roles(_OLD_ROLES)
