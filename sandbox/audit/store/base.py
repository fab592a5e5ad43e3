"""The `TrailStore` protocol: where the signed records of a trail are kept.

A store keeps records; it does not sign them. `append` hands the store an event and a `Seal`,
a function that turns the event into a signed record chained to a given (seq, prev): the
store calls it under its own lock, after reading its head, so two writers never chain onto
the same record. A seal may read the store (`records_for_run`: the trail refuses a second
terminal record for a run), so the lock is re-entrant within the appending thread.
Verification reads a store's raw lines (`lines`), so it checks any store
the same way (`sandbox.audit.verify`). A store also keeps the Merkle tree over its records
(`merkle`), so checkpoints and inclusion proofs never rehash the whole trail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeAlias, runtime_checkable

from sandbox.audit.events import TrailEvent
from sandbox.audit.merkle import Nodes
from sandbox.audit.record import GENESIS_HASH, TrailRecord

__all__ = ["EMPTY_HEAD", "Head", "Line", "Seal", "TrailStore"]

#: One raw line of a trail: (1-based line number, bytes without newline, ended with newline).
Line: TypeAlias = tuple[int, bytes, bool]

#: Turns an event into the signed record at (seq, prev): the store supplies both.
Seal: TypeAlias = Callable[[TrailEvent, int, str], TrailRecord]


@dataclass(frozen=True)
class Head:
    """How many records a trail holds and the hash of the last one."""

    size: int
    hash: str

    @property
    def seq(self) -> int:
        """Sequence number of the last record (-1 for an empty trail)."""
        return self.size - 1


EMPTY_HEAD = Head(0, GENESIS_HASH)


@runtime_checkable
class TrailStore(Protocol):
    """Keeps a trail's records: atomic appends, its head, and reads by run or position."""

    @property
    def location(self) -> str:
        """Where the records are kept, for messages (a file path, a database URL)."""
        ...

    def append(self, event: TrailEvent, seal: Seal) -> TrailRecord:
        """Under the store's lock: read the head, seal `event` onto it, write it durably."""
        ...

    def head(self) -> Head:
        """The trail's size and last complete record's hash, as of now."""
        ...

    def records_for_run(self, run_id: str) -> list[TrailRecord]:
        """The records of one run, in trail order, found through an index (no scan)."""
        ...

    def records_from(self, seq: int) -> Iterator[TrailRecord]:
        """The records from sequence number `seq` onwards, in order (not verified)."""
        ...

    def records_of_kind(self, kind: str) -> list[TrailRecord]:
        """The records of one kind (e.g. every key rotation), in trail order, from an index."""
        ...

    def merkle(self) -> Nodes:
        """The Merkle tree over the records' hashes (`sandbox.audit.merkle`), kept as appended.

        Derived data like any index: whoever signs or proves with it checks the root first.
        """
        ...

    def lines(self, start: int = 0) -> Iterator[Line]:
        """The raw lines from record `start` onwards, exactly as stored, to verify."""
        ...
