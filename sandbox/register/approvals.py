"""Which runs are approved for publication, read from the trail by record kind.

A run is published when its latest ``run.signed_off`` record says ``decision: "approved"``
with ``publish: true``, that sign-off names the organisation the run was recorded for, and the
run's terminal record is ``run.finished`` (a blocked, failed or lost run is never published).
A later sign-off of the same run replaces the earlier one: a ``rejected`` decision (or an
approval without ``publish``) withdraws it. Records are read by kind, so this module depends
on the record's payload only (``docs/hosted.md``), never on the event class.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from sandbox.audit.record import TrailRecord
from sandbox.audit.store import TrailStore

__all__ = ["SIGNED_OFF", "Approval", "approved_runs", "latest_sign_offs"]

SIGNED_OFF: Final = "run.signed_off"
_FINISHED: Final = "run.finished"


@dataclass(frozen=True)
class Approval:
    """A run approved for publication: its own records and the sign-off that approved it."""

    run_id: str
    organisation: str | None  # the run's tenant (a hosted organisation id); None on one machine
    sign_off: TrailRecord
    records: tuple[TrailRecord, ...]  # the run's records, sign-offs included, in trail order

    @property
    def terminal(self) -> TrailRecord:
        """The run's `run.finished` record."""
        return next(r for r in self.records if r.kind == _FINISHED)


def latest_sign_offs(records: Iterable[TrailRecord]) -> dict[str, TrailRecord]:
    """Each run's latest sign-off record (records in trail order)."""
    latest: dict[str, TrailRecord] = {}
    for record in records:
        if record.kind == SIGNED_OFF and isinstance(record.run_id, str):
            latest[record.run_id] = record
    return latest


def _tenant(records: Iterable[TrailRecord]) -> str | None:
    for record in records:
        tenant = record.payload.get("tenant") if record.kind == "run.submitted" else None
        if isinstance(tenant, str):
            return tenant
    return None


def _publishes(sign_off: TrailRecord) -> bool:
    payload = sign_off.payload
    return payload.get("decision") == "approved" and payload.get("publish") is True


def approved_runs(store: TrailStore, *, organisation: str | None = None) -> list[Approval]:
    """The runs approved for publication, in the order of their approving records.

    With `organisation`, only that organisation's runs. A sign-off naming another
    organisation than the run's own publishes nothing.
    """
    approvals = []
    for run_id, sign_off in latest_sign_offs(store.records_of_kind(SIGNED_OFF)).items():
        if not _publishes(sign_off):
            continue
        records = tuple(store.records_for_run(run_id))
        terminal = [r for r in records if r.kind != SIGNED_OFF and r.seq < sign_off.seq]
        if not terminal or terminal[-1].kind != _FINISHED:
            continue  # only a run that finished and was evaluated, signed off after it ended
        tenant = _tenant(records)
        if sign_off.payload.get("organisation") != tenant and tenant is not None:
            continue
        if organisation is not None and tenant != organisation:
            continue
        approvals.append(Approval(run_id, tenant, sign_off, records))
    return sorted(approvals, key=lambda a: a.sign_off.seq)
