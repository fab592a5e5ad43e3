"""The run index of a trail file: where each record's line starts, and which run it belongs to.

A SQLite file beside the trail (`<trail>.index.sqlite3`) maps each line's position to its
byte offset, length, seq and run id, so a run's records are read straight from their offsets
instead of scanning the trail. The index is derived data, never trusted for integrity: the
trail stays the record, readers re-parse every line they are pointed at, and verification
never looks at the index.

It also keeps the Merkle tree over the lines (`sandbox.audit.merkle`): the hash of every
complete subtree, added as lines are indexed, so a checkpoint's root and a record's inclusion
proof cost a few lookups on a trail of any length. Like the rest of the index it is never
trusted: a checkpoint is signed only over a root recomputed from verified records, and a
bundle's proofs are checked against that root before they are written.

It catches up by itself. `sync` indexes the complete lines past the last one it knows (after
an append, or the first time a reader asks); if the trail no longer ends the way the index
remembers (restored from a backup, truncated, rewritten), it starts over from the first line.
A crash between an append and its index update only leaves the index behind, which the next
`sync` repairs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sandbox.audit.merkle import Frontier, Nodes, leaf_hash
from sandbox.audit.record import GENESIS_HASH, sha256_of
from sandbox.errors import AuditError

__all__ = ["IndexEntry", "RunIndex"]

_CHUNK: Final = 1024 * 1024
_VERSION: Final = 2  # PRAGMA user_version; an index of another version is rebuilt
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    end_offset INTEGER NOT NULL,   -- bytes of the trail indexed (just past a newline)
    line_count INTEGER NOT NULL,   -- complete lines indexed
    last_hash TEXT NOT NULL        -- sha256 of the last indexed line, to notice a new trail
);
CREATE TABLE IF NOT EXISTS lines (
    pos INTEGER PRIMARY KEY,       -- 0-based line number
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,       -- without the newline
    seq INTEGER,
    run_id TEXT,
    kind TEXT
);
CREATE INDEX IF NOT EXISTS lines_by_run ON lines (run_id, pos);
CREATE INDEX IF NOT EXISTS lines_by_seq ON lines (seq);
CREATE INDEX IF NOT EXISTS lines_by_kind ON lines (kind, pos);
CREATE TABLE IF NOT EXISTS nodes ( -- the Merkle tree: every complete subtree's hash
    level INTEGER NOT NULL,        -- 0 for a leaf (a line), n for 2**n lines
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class IndexEntry:
    """Where one line of the trail is: its position, byte offset and length."""

    pos: int
    offset: int
    length: int


class RunIndex:
    """The SQLite index of one trail file; safe to share between processes."""

    def __init__(self, trail_path: Path) -> None:
        self.trail_path = trail_path
        self.path = trail_path.with_name(trail_path.name + ".index.sqlite3")
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def _connect(self) -> sqlite3.Connection:
        # A connection must not cross a fork; each process opens its own.
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            try:
                # WAL lets readers look up runs while a writer indexes; NORMAL skips the fsync
                # per commit, which costs nothing here: a lost update is redone by `sync`.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                if conn.execute("PRAGMA user_version").fetchone()[0] != _VERSION:
                    conn.executescript(
                        "DROP TABLE IF EXISTS lines; DROP TABLE IF EXISTS meta; "
                        "DROP TABLE IF EXISTS nodes;"
                    )
                    conn.execute(f"PRAGMA user_version = {_VERSION}")
                conn.executescript(_SCHEMA)
            except sqlite3.Error:
                conn.close()
                raise
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def close(self) -> None:
        """Close this process's connection (the next call reopens it)."""
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")  # one indexer at a time, across processes
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def sync(self) -> None:
        """Index every complete line the trail holds beyond what is indexed already."""
        try:
            fd = os.open(self.trail_path, os.O_RDONLY)
        except FileNotFoundError:
            fd = -1
        try:
            with self._transaction() as conn:
                self._sync(conn, fd)
        finally:
            if fd >= 0:
                os.close(fd)

    def _sync(self, conn: sqlite3.Connection, fd: int) -> None:
        row = conn.execute("SELECT end_offset, line_count, last_hash FROM meta").fetchone()
        end, count, last = row if row is not None else (0, 0, GENESIS_HASH)
        size = os.fstat(fd).st_size if fd >= 0 else 0
        if end and not self._still_ends_with(conn, fd, size, end, count, last):
            conn.execute("DELETE FROM lines")  # another trail now: index it from the start
            conn.execute("DELETE FROM nodes")
            end, count, last = 0, 0, GENESIS_HASH
        if end < size:
            end, count, last = self._index_from(conn, fd, end, count, last, size)
        conn.execute(
            "INSERT OR REPLACE INTO meta (id, end_offset, line_count, last_hash) "
            "VALUES (0, ?, ?, ?)",
            (end, count, last),
        )

    @staticmethod
    def _still_ends_with(
        conn: sqlite3.Connection, fd: int, size: int, end: int, count: int, last: str
    ) -> bool:
        if fd < 0 or size < end:
            return False
        found = conn.execute("SELECT offset, length FROM lines WHERE pos = ?", (count - 1,))
        row = found.fetchone()
        if row is None or row[0] + row[1] + 1 != end:
            return False
        return sha256_of(os.pread(fd, row[1] + 1, row[0])) == last

    def _index_from(
        self, conn: sqlite3.Connection, fd: int, end: int, count: int, last: str, size: int
    ) -> tuple[int, int, str]:
        """Index the complete lines in bytes [end, size); returns the new (end, count, last)."""
        pending = bytearray()  # bytes read but not yet indexed; starts at file offset `end`
        read_at = end
        frontier = Frontier.of(_ConnNodes(conn, count), count)
        while read_at < size:
            chunk = os.pread(fd, min(_CHUNK, size - read_at), read_at)
            if not chunk:
                break
            search = len(pending)  # a newline can only be in the bytes just read
            pending += chunk
            read_at += len(chunk)
            rows, nodes, start = [], [], 0
            while (newline := pending.find(b"\n", search)) >= 0:
                line = bytes(pending[start:newline])
                seq, run_id, kind = self._key_of(line, count + 1)
                rows.append((count, end + start, len(line), seq, run_id, kind))
                nodes += frontier.append(leaf_hash(hashlib.sha256(line).digest()))
                last = sha256_of(line + b"\n")
                count, start = count + 1, newline + 1
                search = start
            conn.executemany(
                "INSERT OR REPLACE INTO lines (pos, offset, length, seq, run_id, kind) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO nodes (level, idx, hash) VALUES (?, ?, ?)", nodes
            )
            del pending[:start]
            end += start
        return end, count, last

    def _key_of(self, line: bytes, line_no: int) -> tuple[int | None, str | None, str | None]:
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise AuditError(
                f"{self.trail_path}: line {line_no}: not a JSON record ({exc}); run "
                "`sandbox audit verify` for details"
            ) from exc
        if not isinstance(obj, dict):
            return None, None, None
        seq, run_id, kind = obj.get("seq"), obj.get("run_id"), obj.get("kind")
        return (
            seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
            run_id if isinstance(run_id, str) else None,
            kind if isinstance(kind, str) else None,
        )

    def run_entries(self, run_id: str) -> list[IndexEntry]:
        """Where the lines of one run are, in trail order (call `sync` first)."""
        rows = self._connect().execute(
            "SELECT pos, offset, length FROM lines WHERE run_id = ? ORDER BY pos", (run_id,)
        )
        return [IndexEntry(*row) for row in rows]

    def kind_entries(self, kind: str) -> list[IndexEntry]:
        """Where the lines of one kind are, in trail order (call `sync` first)."""
        rows = self._connect().execute(
            "SELECT pos, offset, length FROM lines WHERE kind = ? ORDER BY pos", (kind,)
        )
        return [IndexEntry(*row) for row in rows]

    def tree(self) -> Nodes:
        """The Merkle tree over the lines indexed so far (call `sync` first)."""
        conn = self._connect()
        meta = conn.execute("SELECT line_count FROM meta").fetchone()
        return _ConnNodes(conn, int(meta[0]) if meta is not None else 0)

    def offset_of(self, pos: int) -> int | None:
        """The byte offset of line `pos` (or the indexed end, for the line after the last)."""
        conn = self._connect()
        row = conn.execute("SELECT offset FROM lines WHERE pos = ?", (pos,)).fetchone()
        if row is not None:
            return int(row[0])
        meta = conn.execute("SELECT end_offset, line_count FROM meta").fetchone()
        return int(meta[0]) if meta is not None and meta[1] == pos else None

    def reset(self) -> None:
        """Forget everything indexed, so the next `sync` starts from the first line."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM lines")
            conn.execute("DELETE FROM meta")
            conn.execute("DELETE FROM nodes")


class _ConnNodes:
    """The Merkle nodes of the index, read through one connection."""

    def __init__(self, conn: sqlite3.Connection, size: int) -> None:
        self._conn = conn
        self.size = size

    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree (level, index); KeyError if not indexed."""
        row = self._conn.execute(
            "SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, index)
        ).fetchone()
        if row is None or (index + 1) << level > self.size:
            raise KeyError((level, index))
        return bytes(row[0])
