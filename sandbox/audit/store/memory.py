"""A trail kept in memory: the store of tests and throwaway trails, safe across threads."""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator

from sandbox.audit.events import TrailEvent
from sandbox.audit.merkle import MerkleLevels, Nodes, leaf_hash
from sandbox.audit.record import TrailRecord, sha256_of
from sandbox.audit.store.base import EMPTY_HEAD, Head, Line, Seal
from sandbox.errors import AuditError

__all__ = ["MemoryTrailStore"]


class MemoryTrailStore:
    """Keeps a trail's lines in a list, with an index of each run's positions."""

    def __init__(self, lines: Iterable[bytes] = ()) -> None:
        self._lock = threading.RLock()  # re-entrant: a seal may read the run it closes
        self._lines: list[bytes] = []
        self._runs: defaultdict[str, list[int]] = defaultdict(list)
        self._tree = MerkleLevels()
        for line in lines:  # a trail loaded as stored, e.g. to verify an edited copy
            self._lines.append(line)
            self._index(len(self._lines) - 1, line)

    @property
    def location(self) -> str:
        """Where the records are kept."""
        return f"memory:{id(self):x}"

    def _index(self, position: int, line: bytes) -> None:
        self._tree.append(leaf_hash(hashlib.sha256(line).digest()))
        try:
            run_id = TrailRecord.from_line(line).run_id
        except ValueError:
            return  # verification names a malformed line; the index only skips it
        if run_id is not None:
            self._runs[run_id].append(position)

    def append(self, event: TrailEvent, seal: Seal) -> TrailRecord:
        """Seal `event` onto the head and keep it; one writer at a time."""
        with self._lock:
            head = self._head()
            record = seal(event, head.size, head.hash)
            line = record.canonical()
            self._lines.append(line)
            self._index(len(self._lines) - 1, line)
            return record

    def _head(self) -> Head:
        if not self._lines:
            return EMPTY_HEAD
        try:
            last = TrailRecord.from_line(self._lines[-1])
        except ValueError as exc:
            raise AuditError(f"{self.location}: the last record cannot be read ({exc})") from exc
        return Head(last.seq + 1, sha256_of(self._lines[-1]))

    def head(self) -> Head:
        """The trail's size and last record's hash."""
        with self._lock:
            return self._head()

    def records_for_run(self, run_id: str) -> list[TrailRecord]:
        """The records of one run, from the index."""
        with self._lock:
            lines = [self._lines[i] for i in self._runs.get(run_id, ())]
        return [TrailRecord.from_line(line) for line in lines]

    def records_from(self, seq: int) -> Iterator[TrailRecord]:
        """The records from `seq` onwards."""
        for _, line, _ in self.lines(seq):
            yield TrailRecord.from_line(line)

    def records_of_kind(self, kind: str) -> list[TrailRecord]:
        """The records of one kind, in trail order (a scan: memory is small)."""
        with self._lock:
            lines = list(self._lines)
        found = []
        for line in lines:
            try:
                record = TrailRecord.from_line(line)
            except ValueError:
                continue
            if record.kind == kind:
                found.append(record)
        return found

    def merkle(self) -> Nodes:
        """The Merkle tree over the records, grown with every append."""
        return self._tree

    def lines(self, start: int = 0) -> Iterator[Line]:
        """The raw lines from position `start`, as a snapshot."""
        with self._lock:
            snapshot = self._lines[start:]
        for number, line in enumerate(snapshot, start=start + 1):
            yield number, line, True

    def dump(self) -> bytes:
        """The trail as JSON Lines bytes, as a file store would hold it."""
        with self._lock:
            return b"".join(line + b"\n" for line in self._lines)
