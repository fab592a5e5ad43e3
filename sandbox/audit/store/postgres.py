"""The trail in PostgreSQL: one store shared by many processes and hosts.

Each record is kept as the line the file store writes (the same canonical bytes, without the
newline), so the same verifier, checkpoints and Merkle roots apply: a trail copied out with
`lines()` and joined with newlines is a valid trail file. An append is one transaction that
locks the head row (`SELECT ... FOR UPDATE`), seals the event onto it, and writes the record,
its Merkle nodes and the new head together: writers anywhere queue on that row, and a
transaction cut short leaves nothing behind.

A lost connection (a server restart, a dropped network) is reopened once. If it was lost
while an append committed, the store looks at the position it wrote to before sealing again,
so a record is neither lost nor written twice. Messages name the server by its URL with the
password shown as ***, and say what to check.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Final, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow

from sandbox.audit.events import TrailEvent
from sandbox.audit.merkle import Frontier, Nodes, leaf_hash
from sandbox.audit.record import TrailRecord, sha256_of
from sandbox.audit.store.base import Head, Line, Seal
from sandbox.audit.store.postgres_schema import migrate
from sandbox.audit.store.postgres_url import check_url, redact, scrub
from sandbox.errors import AuditError

__all__ = ["PostgresTrailStore"]

_Conn = psycopg.Connection[TupleRow]
_T = TypeVar("_T")
_CONNECT_TIMEOUT_S: Final = 10
_BATCH: Final = 256  # records per read of `lines`: memory stays bounded on a trail of any size


class PostgresTrailStore:
    """Keeps a trail in PostgreSQL tables, safe under concurrent appends from anywhere."""

    def __init__(self, url: str, *, setting: str = "SANDBOX_TRAIL_URL") -> None:
        self._url = check_url(url, setting=setting)
        self._location = redact(url)
        self._lock = threading.RLock()  # one connection per process, used by one thread at once
        self._conn: _Conn | None = None
        self._pid = 0
        self._inherited: list[_Conn] = []
        self._session(lambda conn: migrate(conn, self._location))

    @property
    def location(self) -> str:
        """The database URL, its password shown as ***."""
        return self._location

    # --- connections ----------------------------------------------------------------------

    def _connect(self) -> _Conn:
        if self._conn is not None and self._pid != os.getpid():
            # Inherited across a fork: the parent still talks on that socket. Closing it here
            # would end the parent's session, so it is kept, unused, for the process's life.
            self._inherited.append(self._conn)
            self._conn = None
        if self._conn is None or self._conn.closed:
            try:
                conninfo = self._url
                if "connect_timeout" not in conninfo_to_dict(self._url):
                    conninfo = make_conninfo(self._url, connect_timeout=_CONNECT_TIMEOUT_S)
                conn = psycopg.connect(conninfo, autocommit=True)
            except psycopg.Error as exc:
                raise self._unreachable(exc) from None
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _unreachable(self, exc: BaseException) -> AuditError:
        reason = scrub(str(exc).strip().replace("\n", " "), self._url)
        return AuditError(
            f"{self._location}: cannot connect to PostgreSQL ({reason}); check that the server "
            "runs (`bash scripts/postgres.sh` starts one) and that SANDBOX_TRAIL_URL names its "
            "host, port, database, user and password"
        )

    def _failed(self, exc: psycopg.Error, doing: str) -> AuditError:
        reason = scrub(str(exc).strip().replace("\n", " "), self._url)
        return AuditError(f"{self._location}: cannot {doing} ({reason})")

    def _lost(self) -> bool:
        """Whether the connection is gone (then it is dropped, to be reopened)."""
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            self._conn = None
            return True
        return False

    def _session(self, work: Callable[[_Conn], _T], doing: str = "read the audit trail") -> _T:
        """Run `work` on the connection; once more on a new one if the connection was lost."""
        with self._lock:
            for attempt in range(2):
                conn = self._connect()
                try:
                    return work(conn)
                except psycopg.Error as exc:
                    if not self._lost() or attempt:
                        raise self._failed(exc, doing) from None
            raise AssertionError("unreachable")  # the loop returns or raises

    def close(self) -> None:
        """Close this process's connection (the next call opens a new one)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    # --- appends --------------------------------------------------------------------------

    def append(self, event: TrailEvent, seal: Seal) -> TrailRecord:
        """In one transaction: lock the head row, seal `event` onto it, write record and tree."""
        doing = "append to the audit trail"
        with self._lock:
            for attempt in range(2):
                conn = self._connect()
                sealed: tuple[int, TrailRecord] | None = None
                try:
                    with conn.transaction():
                        head = self._locked_head(conn)
                        record = seal(event, head.size, head.hash)
                        sealed = head.size, record
                        self._write(conn, head.size, record)
                    return record
                except psycopg.Error as exc:
                    if not self._lost():
                        raise self._failed(exc, doing) from None
                    if sealed is not None and self._was_committed(*sealed):
                        return sealed[1]
                    if attempt:
                        raise self._failed(exc, doing) from None
            raise AssertionError("unreachable")  # the loop returns or raises

    @staticmethod
    def _locked_head(conn: _Conn) -> Head:
        row = conn.execute("SELECT size, hash FROM trail_head WHERE id = 0 FOR UPDATE").fetchone()
        if row is None:
            raise psycopg.DataError("the trail_head row is missing")
        return Head(int(row[0]), str(row[1]))

    @staticmethod
    def _write(conn: _Conn, pos: int, record: TrailRecord) -> None:
        line = record.canonical()
        conn.execute(
            "INSERT INTO trail_records (pos, line, seq, run_id, kind) VALUES (%s, %s, %s, %s, %s)",
            (pos, line, record.seq, record.run_id, record.kind),
        )
        frontier = Frontier.of(_Nodes(conn, pos), pos)
        made = frontier.append(leaf_hash(hashlib.sha256(line).digest()))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO trail_nodes (level, idx, hash) VALUES (%s, %s, %s)", made)
        conn.execute(
            "UPDATE trail_head SET size = %s, hash = %s WHERE id = 0", (pos + 1, sha256_of(line))
        )

    def _was_committed(self, pos: int, record: TrailRecord) -> bool:
        """After a connection lost mid-append: whether the record is in the trail after all.

        Asked on a new connection; if that fails too, the error says so and nothing is sealed
        again, so a record that did commit is never written twice.
        """
        conn = self._connect()  # raises, naming the server, when it does not answer
        try:
            row = conn.execute("SELECT line FROM trail_records WHERE pos = %s", (pos,)).fetchone()
        except psycopg.Error as exc:
            self._lost()
            raise self._failed(exc, "check whether the last append was written") from None
        return row is not None and bytes(row[0]) == record.canonical()

    # --- reads ----------------------------------------------------------------------------

    def head(self) -> Head:
        """The trail's size and last record's hash, from the head row."""

        def read(conn: _Conn) -> Head:
            row = conn.execute("SELECT size, hash FROM trail_head WHERE id = 0").fetchone()
            if row is None:
                raise AuditError(f"{self._location}: the trail_head row is missing")
            return Head(int(row[0]), str(row[1]))

        return self._session(read)

    def records_for_run(self, run_id: str) -> list[TrailRecord]:
        """The records of one run, in trail order, from the index on run_id."""
        return self._selected("run_id", run_id)

    def records_of_kind(self, kind: str) -> list[TrailRecord]:
        """The records of one kind, in trail order, from the index on kind."""
        return self._selected("kind", kind)

    def _selected(self, column: str, value: str) -> list[TrailRecord]:
        query = (
            "SELECT pos, line FROM trail_records WHERE run_id = %s ORDER BY pos"
            if column == "run_id"
            else "SELECT pos, line FROM trail_records WHERE kind = %s ORDER BY pos"
        )
        rows = self._session(lambda conn: conn.execute(query, (value,)).fetchall())
        return [self._parse(int(pos), bytes(line)) for pos, line in rows]

    def _parse(self, pos: int, line: bytes) -> TrailRecord:
        try:
            return TrailRecord.from_line(line)
        except ValueError as exc:
            raise AuditError(
                f"{self._location}: record {pos + 1}: {exc}; run `sandbox audit verify` for details"
            ) from exc

    def records_from(self, seq: int) -> Iterator[TrailRecord]:
        """The records from position `seq` onwards, in order (not verified)."""
        for number, line, _ in self.lines(seq):
            yield self._parse(number - 1, line)

    def lines(self, start: int = 0) -> Iterator[Line]:
        """The stored lines from position `start`, numbered from 1, read a batch at a time."""
        pos = start

        def batch(conn: _Conn) -> list[TupleRow]:
            return conn.execute(
                "SELECT pos, line FROM trail_records WHERE pos >= %s ORDER BY pos LIMIT %s",
                (pos, _BATCH),
            ).fetchall()

        while True:
            rows = self._session(batch)
            for found, line in rows:
                yield int(found) + 1, bytes(line), True
            if len(rows) < _BATCH:
                return
            pos = int(rows[-1][0]) + 1

    def merkle(self) -> Nodes:
        """The Merkle tree over the records, as of now, read from trail_nodes."""
        return _StoreNodes(self, self.head().size)

    def node(self, level: int, index: int) -> bytes | None:
        """One Merkle node's hash, or None if the tree has no such node."""
        return self._session(lambda conn: _Nodes(conn, 1 << 62).find(level, index))


class _Nodes:
    """The Merkle nodes of a trail of `size` records, read through one connection."""

    def __init__(self, conn: _Conn, size: int) -> None:
        self._conn = conn
        self.size = size

    def find(self, level: int, index: int) -> bytes | None:
        row = self._conn.execute(
            "SELECT hash FROM trail_nodes WHERE level = %s AND idx = %s", (level, index)
        ).fetchone()
        return bytes(row[0]) if row is not None else None

    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree (level, index); KeyError if not stored."""
        found = self.find(level, index) if (index + 1) << level <= self.size else None
        if found is None:
            raise KeyError((level, index))
        return found


class _StoreNodes:
    """The Merkle tree of a store as of one size, read through the store (reconnecting)."""

    def __init__(self, store: PostgresTrailStore, size: int) -> None:
        self._store = store
        self.size = size

    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree (level, index); KeyError if not stored."""
        found = self._store.node(level, index) if (index + 1) << level <= self.size else None
        if found is None:
            raise KeyError((level, index))
        return found
