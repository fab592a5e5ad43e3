"""The `TrailStore` protocol: where the signed records of a trail are kept.

A store keeps records; it does not sign them. `append` hands the store an event and a `Seal`,
a function that turns the event into a signed record chained to a given (seq, prev): the
store calls it under its own lock, after reading its head, so two writers never chain onto
the same record. Verification reads a store's raw lines (`lines`), so it checks any store
the same way (`sandbox.audit.verify`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeAlias, runtime_checkable

from sandbox.audit.events import TrailEvent
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

    def lines(self, start: int = 0) -> Iterator[Line]:
        """The raw lines from record `start` onwards, exactly as stored, to verify."""
        ...
