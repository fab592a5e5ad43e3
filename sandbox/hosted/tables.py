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
    jobs              id (`job_` + 26 base32 characters), organisation_id, principal_id (who
                      submitted it), archive_sha256, pilot_name, state, attempts, run_id (the
                      current attempt's run), verdict, error, cancel_requested, worker,
                      created, started, finished, heartbeat (the running attempt's lease,
                      renewed by its worker on the database's clock)
    sign_offs         id, organisation_id, run_id, pilot, phase (the phase the decision is for),
                      principal_id, capacity, decision (approved or rejected), reason,
                      publish, created, trail_seq (its run.signed_off record): one per
                      (run, person)
    pilots            (organisation_id, name), phase, updated, trail_seq (the
                      pilot.phase_moved record that set the phase)

The schema itself changes only through `migrations/`: a test compares a migrated database
with these definitions. Names are plural nouns and foreign keys `<table in the singular>_id`,
the shape later tables (jobs, their runs, sign-offs) follow.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

__all__ = [
    "JOB_ID_SQL",
    "JOB_STATES_SQL",
    "ORGANISATION_ID_SQL",
    "auditor_grants",
    "jobs",
    "metadata",
    "organisations",
    "pilots",
    "principal_roles",
    "principals",
    "sign_offs",
    "tokens",
]

# The same rules as `identity.py`, kept by the database too: a row written by any client obeys.
ORGANISATION_ID_SQL: Final = "^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
PRINCIPAL_ID_SQL: Final = "^[a-z][a-z0-9.-]{1,62}[a-z0-9]$"
ROLES_SQL: Final = "('data_team', 'reviewer', 'auditor', 'operator', 'worker')"
PREFIX_SQL: Final = "^[0-9a-f]{12}$"
JOB_ID_SQL: Final = "^job_[a-z2-7]{26}$"
JOB_STATES_SQL: Final = "('queued', 'running', 'finished', 'cancelled', 'lost')"

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

jobs: Final = Table(
    "jobs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=False),
    Column("principal_id", Text, ForeignKey("principals.id"), nullable=False),
    Column("archive_sha256", Text, nullable=False),
    Column("pilot_name", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("run_id", Text, nullable=True),
    Column("verdict", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("cancel_requested", Boolean, nullable=False),
    Column("worker", Text, nullable=True),
    _when("created"),
    _when("started", nullable=True),
    _when("finished", nullable=True),
    _when("heartbeat", nullable=True),
    CheckConstraint(f"id ~ '{JOB_ID_SQL}'", name="jobs_id"),
    CheckConstraint("archive_sha256 ~ '^[0-9a-f]{64}$'", name="jobs_archive_sha256"),
    CheckConstraint(f"state IN {JOB_STATES_SQL}", name="jobs_state"),
    CheckConstraint("attempts >= 0", name="jobs_attempts"),
    # A terminal job has its end time, and only a terminal job has one.
    CheckConstraint(
        "(state IN ('finished', 'cancelled', 'lost')) = (finished IS NOT NULL)",
        name="jobs_finished",
    ),
    # A running attempt has a lease from the moment it is claimed.
    CheckConstraint("state <> 'running' OR heartbeat IS NOT NULL", name="jobs_heartbeat"),
    Index("jobs_by_organisation", "organisation_id", "created"),
)

# Sign-offs and phases (revision 0003). Each row copies a signed trail record (`trail_seq`).
PHASES_SQL: Final = "('prototype', 'mvp', 'scale')"

sign_offs: Final = Table(
    "sign_offs",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=False),
    Column("run_id", Text, nullable=False),
    Column("pilot", Text, nullable=False),
    Column("phase", Text, nullable=False),
    Column("principal_id", Text, ForeignKey("principals.id"), nullable=False),
    Column("capacity", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("reason", Text, nullable=True),
    Column("publish", Boolean, nullable=False),
    _when("created"),
    Column("trail_seq", BigInteger, nullable=False, unique=True),
    CheckConstraint(f"phase IN {PHASES_SQL}", name="sign_offs_phase"),
    CheckConstraint("decision IN ('approved', 'rejected')", name="sign_offs_decision"),
    CheckConstraint("decision = 'approved' OR reason IS NOT NULL", name="sign_offs_reason"),
    # One person, one capacity, one decision per run.
    Index("sign_offs_one_per_person", "run_id", "principal_id", unique=True),
    Index("sign_offs_by_pilot", "organisation_id", "pilot"),
)

pilots: Final = Table(
    "pilots",
    metadata,
    Column("organisation_id", Text, ForeignKey("organisations.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("phase", Text, nullable=False),
    _when("updated"),
    Column("trail_seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("organisation_id", "name"),
    CheckConstraint(f"phase IN {PHASES_SQL}", name="pilots_phase"),
)
