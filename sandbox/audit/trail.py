"""The audit trail: signs events into hash-chained records kept by a `TrailStore`.

`AuditTrail` is what the rest of the sandbox writes through: `append(kind, ...)` or
`record(event)` checks the event, and the store seals it (under its lock) onto its head with
this trail's key and clock. The record format is in `record.py`, the stores in `store/`,
verification in `verify.py`.

    trail = AuditTrail(settings.trail_path, signer)          # the JSON Lines file store
    trail = AuditTrail(MemoryTrailStore(), signer)            # any other store
    trail.append("run.finished", actor="alice", run_id="r-1", payload={...})
    trail.records_for_run("r-1")                              # from the run index, no scan
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from sandbox.audit.events import EVENTS, KINDS, TrailEvent, is_terminal
from sandbox.audit.record import (
    GENESIS_HASH,
    JsonValue,
    TrailRecord,
    canonical_payload,
    check_kind,
    rfc3339,
)
from sandbox.audit.signing import Signer
from sandbox.audit.store import FileTrailStore, Head, TrailStore
from sandbox.audit.verify import Keys, TrailVerification, find_key, verify_slice, verify_trail
from sandbox.errors import AuditError

__all__ = [
    "GENESIS_HASH",
    "KINDS",
    "AuditTrail",
    "JsonValue",
    "Keys",
    "TrailRecord",
    "TrailVerification",
    "find_key",
    "iter_records",
    "records_for_run",
    "verify_slice",
    "verify_trail",
]

_LOCK_TIMEOUT_S: Final = 120.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _GenericEvent(TrailEvent):
    """An event of a kind not declared in `events.py`: accepted, never terminal."""


class AuditTrail:
    """Signs events into hash-chained records and appends them to its store."""

    def __init__(
        self,
        store: TrailStore | Path,
        signer: Signer,
        *,
        clock: Callable[[], datetime] = _utc_now,
        lock_timeout_s: float = _LOCK_TIMEOUT_S,
    ) -> None:
        if isinstance(store, str | Path):
            store = FileTrailStore(Path(store), clock=clock, lock_timeout_s=lock_timeout_s)
        self.store: TrailStore = store
        self.signer = signer
        self._clock = clock

    @property
    def path(self) -> Path:
        """The trail file (only for a trail kept in a file)."""
        if isinstance(self.store, FileTrailStore):
            return self.store.path
        raise AuditError(f"{self.store.location}: the trail is not kept in a file")

    @property
    def location(self) -> str:
        """Where the trail is kept, for messages and provenance."""
        return self.store.location

    def append(
        self,
        kind: str,
        *,
        actor: str,
        run_id: str | None = None,
        payload: Mapping[str, object],
    ) -> TrailRecord:
        """Sign and append one record of `kind`; returns it as written."""
        check_kind(kind)
        event_class = EVENTS.get(kind, _GenericEvent)
        return self._append(kind, event_class(actor=actor, run_id=run_id, payload=payload))

    def record(self, event: TrailEvent) -> TrailRecord:
        """Sign and append one event; returns its record as written."""
        check_kind(event.kind)
        return self._append(event.kind, event)

    def _append(self, kind: str, event: TrailEvent) -> TrailRecord:
        if not isinstance(event.actor, str) or not event.actor:
            raise AuditError("actor: name who or what caused the event (a user or a service)")
        if event.run_id is not None and not isinstance(event.run_id, str):
            raise AuditError(
                f"run_id: expected a string or None, got {type(event.run_id).__name__}"
            )
        clean = canonical_payload(event.payload)  # before the lock: payloads can be large

        def seal(sealed: TrailEvent, seq: int, prev: str) -> TrailRecord:
            # The store may seal an event of its own first (trail.recovered).
            if sealed is event:
                if event.run_id is not None and is_terminal(kind):
                    self._refuse_second_ending(kind, event.run_id)  # under the store's lock
                return self._seal(kind, sealed, clean, seq, prev)
            return self._seal(sealed.kind, sealed, canonical_payload(sealed.payload), seq, prev)

        return self.store.append(event, seal)

    def _refuse_second_ending(self, kind: str, run_id: str) -> None:
        """A run ends once: no terminal record after its first (checked under the lock, so
        two processes closing one run cannot both succeed)."""
        for record in self.store.records_for_run(run_id):
            if is_terminal(record.kind):
                raise AuditError(
                    f"run {run_id}: cannot record {kind}, the run already ended with "
                    f"{record.kind} (seq {record.seq}); a run has exactly one terminal record"
                )

    def _seal(
        self, kind: str, event: TrailEvent, payload: dict[str, JsonValue], seq: int, prev: str
    ) -> TrailRecord:
        draft = TrailRecord(
            seq=seq,
            kind=kind,
            time=rfc3339(self._clock()),
            actor=event.actor,
            run_id=event.run_id,
            payload=payload,
            prev=prev,
            key_id=self.signer.key_id,
            sig="",
        )
        return replace(draft, sig=self.signer.sign(draft.signed_bytes()))

    def head(self) -> Head:
        """How many records the trail holds and the last one's hash."""
        return self.store.head()

    def records_for_run(self, run_id: str) -> list[TrailRecord]:
        """The records of one run, in trail order (from the store's index)."""
        return self.store.records_for_run(run_id)

    def records_from(self, seq: int) -> Iterator[TrailRecord]:
        """The records from sequence number `seq` onwards (not verified)."""
        return self.store.records_from(seq)

    def verify(self, keys: Keys | None = None, *, anchor: str | None = None) -> TrailVerification:
        """Verify the whole chain (default: with this trail's own public key)."""
        return verify_trail(self.store, keys or self.signer.verifier(), anchor=anchor)


def iter_records(path: Path) -> Iterator[TrailRecord]:
    """Read the records of a trail file in order, without checking signatures.

    A cut-short last line (a write in progress or interrupted) is skipped; any other
    malformed line raises AuditError naming it.
    """
    return FileTrailStore(Path(path)).records_from(0)


def records_for_run(path: Path, run_id: str) -> list[TrailRecord]:
    """The records of one run in a trail file, in trail order (from its run index)."""
    return FileTrailStore(Path(path)).records_for_run(run_id)
