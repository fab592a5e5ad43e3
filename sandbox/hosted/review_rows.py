"""Sign-offs and phase moves as values, and the rows that copy their trail records.

The trail is the record of a decision; the `sign_offs` and `pilots` rows are copies that make
it quick to look up. `catch_up_sign_offs` and `catch_up_pilot` write the copy of any record
the tables lack (a process that died between appending a record and committing its row), so
every reader sees what the trail says. Both are idempotent: a row is keyed by its record's
sequence number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from sandbox.audit.record import TrailRecord
from sandbox.hosted.tables import pilots, sign_offs

__all__ = [
    "Decision",
    "PhaseMove",
    "SignOff",
    "catch_up_pilot",
    "catch_up_sign_offs",
    "move_from",
    "record_time",
    "sign_off_from",
]


class Decision(StrEnum):
    """What a reviewer decides about a run."""

    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, kw_only=True)
class SignOff:
    """One person's decision on one run, in one capacity, for one phase."""

    organisation: str
    run_id: str
    pilot: str
    phase: str  # the phase the decision is for: the one after the run's own
    principal_id: str
    capacity: str
    decision: str
    reason: str | None
    publish: bool  # whether the public register may show it
    created: datetime
    trail_seq: int  # its run.signed_off record


@dataclass(frozen=True, kw_only=True)
class PhaseMove:
    """A pilot moved one phase on, resting on one run and its approvals."""

    organisation: str
    pilot: str
    from_phase: str
    to_phase: str
    run_id: str
    sign_offs: tuple[int, ...]  # the run.signed_off records it rests on
    moved_by: str
    moved: datetime
    trail_seq: int  # its pilot.phase_moved record


def record_time(record: TrailRecord) -> datetime:
    """A record's time as an aware UTC datetime."""
    return datetime.fromisoformat(record.time.replace("Z", "+00:00")).astimezone(UTC)


def sign_off_from(row: Any) -> SignOff:
    """A `SignOff` from a `sign_offs` row."""
    return SignOff(
        organisation=row.organisation_id,
        run_id=row.run_id,
        pilot=row.pilot,
        phase=row.phase,
        principal_id=row.principal_id,
        capacity=row.capacity,
        decision=row.decision,
        reason=row.reason,
        publish=row.publish,
        created=row.created.astimezone(UTC),
        trail_seq=row.trail_seq,
    )


def move_from(record: TrailRecord) -> PhaseMove:
    """A `PhaseMove` from its `pilot.phase_moved` record."""
    p = record.payload
    seqs = p.get("sign_offs")
    return PhaseMove(
        organisation=str(p.get("organisation")),
        pilot=str(p.get("pilot")),
        from_phase=str(p.get("from")),
        to_phase=str(p.get("to")),
        run_id=str(p.get("run_id")),
        sign_offs=tuple(int(s) for s in seqs if isinstance(s, int))
        if isinstance(seqs, list)
        else (),
        moved_by=record.actor,
        moved=record_time(record),
        trail_seq=record.seq,
    )


def catch_up_sign_offs(conn: Connection, pilot: str, records: Iterable[TrailRecord]) -> None:
    """Write the row of every `run.signed_off` record among `records` the table lacks."""
    for record in records:
        if record.kind != "run.signed_off" or record.run_id is None:
            continue
        p = record.payload
        conn.execute(
            pg_insert(sign_offs)
            .values(
                organisation_id=p.get("organisation"),
                run_id=record.run_id,
                pilot=pilot,
                phase=p.get("phase"),
                principal_id=p.get("reviewer"),
                capacity=p.get("capacity"),
                decision=p.get("decision"),
                reason=p.get("reason"),
                publish=bool(p.get("publish")),
                created=record_time(record),
                trail_seq=record.seq,
            )
            .on_conflict_do_nothing()
        )


def catch_up_pilot(
    conn: Connection, organisation: str, pilot: str, moves: Iterable[TrailRecord]
) -> str | None:
    """Bring the pilot's row up to its latest `pilot.phase_moved` record; its phase, or None."""
    row = conn.execute(
        select(pilots.c.phase, pilots.c.trail_seq).where(
            pilots.c.organisation_id == organisation, pilots.c.name == pilot
        )
    ).one_or_none()
    phase, seq = (row.phase, row.trail_seq) if row is not None else (None, -1)
    mine = [
        r
        for r in moves
        if r.seq > seq
        and r.payload.get("organisation") == organisation
        and r.payload.get("pilot") == pilot
    ]
    if not mine:
        return phase
    last = max(mine, key=lambda r: r.seq)
    values = {"phase": last.payload.get("to"), "updated": record_time(last), "trail_seq": last.seq}
    conn.execute(
        pg_insert(pilots)
        .values(organisation_id=organisation, name=pilot, **values)
        .on_conflict_do_update(index_elements=["organisation_id", "name"], set_=values)
    )
    return str(values["phase"])
