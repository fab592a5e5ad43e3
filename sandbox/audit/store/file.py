"""The trail as a JSON Lines file: one canonical record per line, safe across processes.

Appends are serialised by a lock file beside the trail (`<trail>.lock`), write each record
with one write, then fsync. A writer killed mid-write leaves a line without its newline; the
next append saves those bytes to `<trail>.fragments/` and records a "trail.recovered" record
(with the fragment's sha256 and length) before its own, so nothing is dropped silently.

A run index beside the file (`<trail>.index.sqlite3`, see `index.py`) finds a run's records
and any record's line without reading the trail from its start.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import filelock

from sandbox.audit.events import TrailEvent, TrailRecovered
from sandbox.audit.merkle import MerkleLevels, Nodes, leaf_hash
from sandbox.audit.record import JsonValue, TrailRecord, rfc3339, sha256_of
from sandbox.audit.signing import fsync_dir
from sandbox.audit.store.base import EMPTY_HEAD, Head, Line, Seal
from sandbox.audit.store.index import IndexEntry, RunIndex
from sandbox.errors import AuditError

__all__ = ["FileTrailStore", "read_lines"]

_TAIL_CHUNK: Final = 64 * 1024
_LOCK_TIMEOUT_S: Final = 120.0
_SYSTEM_ACTOR: Final = "sandbox"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError("write returned no progress")
        view = view[written:]


def read_lines(path: Path, *, offset: int = 0, first_line: int = 1) -> Iterator[Line]:
    """The lines of a trail file from byte `offset`, numbered from `first_line`."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the audit trail ({exc.strerror})") from exc
    with handle:
        handle.seek(offset)
        for number, raw in enumerate(handle, start=first_line):
            if raw.endswith(b"\n"):
                yield number, raw[:-1], True
            else:
                yield number, raw, False


def _last_newline_before(fd: int, end: int) -> int:
    """Offset of the last b"\\n" in the file before offset `end`, or -1; reads backwards."""
    pos = end
    while pos > 0:
        start = max(0, pos - _TAIL_CHUNK)
        chunk = os.pread(fd, pos - start, start)
        index = chunk.rfind(b"\n")
        if index >= 0:
            return start + index
        pos = start
    return -1


def _line_count(fd: int, end: int) -> int:
    """Newlines before offset `end` (only used to name a bad line in an error)."""
    count, pos = 0, 0
    while pos < end:
        chunk = os.pread(fd, min(_TAIL_CHUNK, end - pos), pos)
        if not chunk:
            break
        count += chunk.count(b"\n")
        pos += len(chunk)
    return count


class FileTrailStore:
    """Keeps a trail in a JSON Lines file, with crash-safe appends and a run index."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], datetime] = _utc_now,
        lock_timeout_s: float = _LOCK_TIMEOUT_S,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = filelock.FileLock(
            str(self.path.with_name(self.path.name + ".lock")), timeout=lock_timeout_s
        )
        self.index = RunIndex(self.path)

    @property
    def location(self) -> str:
        """The trail file's path."""
        return str(self.path)

    @property
    def fragments_dir(self) -> Path:
        """Where bytes of interrupted writes are kept (`<trail>.fragments/`)."""
        return self.path.with_name(self.path.name + ".fragments")

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the trail's append lock: no record is written meanwhile."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                yield
        except filelock.Timeout as exc:
            raise AuditError(
                f"{self.path}: another process has held the trail lock for over "
                f"{self._lock.timeout:.0f}s; find it with `fuser {exc.lock_file}` and let it "
                "finish or stop it"
            ) from exc

    def append(self, event: TrailEvent, seal: Seal) -> TrailRecord:
        """Under the lock: set aside a torn last line, seal `event` onto the head, fsync."""
        try:
            with self.locked():
                record = self._append_locked(event, seal)
                # The record is written; should indexing fail, the next reader catches up.
                with contextlib.suppress(sqlite3.Error, OSError):
                    self.index.sync()
                return record
        except OSError as exc:
            raise AuditError(
                f"{self.path}: cannot append to the audit trail ({exc.strerror or exc}); "
                "check free space and permissions"
            ) from exc

    def _append_locked(self, event: TrailEvent, seal: Seal) -> TrailRecord:
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if created:
                fsync_dir(self.path.parent)
            head, fragment = self._read_tail(fd, repair=True)
            seq, prev = head.size, head.hash
            if fragment is not None:  # say so in the chain before anything else
                recovered = seal(TrailRecovered(actor=_SYSTEM_ACTOR, payload=fragment), seq, prev)
                _write_all(fd, recovered.canonical() + b"\n")
                seq, prev = seq + 1, recovered.hash
            record = seal(event, seq, prev)
            _write_all(fd, record.canonical() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def head(self) -> Head:
        """Size and last complete record's hash, read from the end of the file (no lock)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return EMPTY_HEAD
        try:
            return self._read_tail(fd, repair=False)[0]
        finally:
            os.close(fd)

    def _read_tail(self, fd: int, *, repair: bool) -> tuple[Head, dict[str, JsonValue] | None]:
        """The head, read from the end; with `repair`, a partial last line is moved aside."""
        size = os.fstat(fd).st_size
        end = size  # just past the last complete line
        if size and os.pread(fd, 1, size - 1) != b"\n":
            end = _last_newline_before(fd, size) + 1  # 0 when there is no newline at all
        head = EMPTY_HEAD
        if end:
            start = _last_newline_before(fd, end - 1) + 1
            line = os.pread(fd, end - 1 - start, start)
            try:
                last = TrailRecord.from_line(line)
            except ValueError as exc:
                raise AuditError(
                    f"{self.path}: line {_line_count(fd, start) + 1}: the last record "
                    f"cannot be read ({exc}); run `sandbox audit verify` and restore the "
                    "trail from a backup"
                ) from exc
            head = Head(last.seq + 1, sha256_of(line))
        fragment = None
        if repair and end != size:
            fragment = self._save_fragment(os.pread(fd, size - end, end))
            os.ftruncate(fd, end)
            os.fsync(fd)
        return head, fragment

    def _save_fragment(self, fragment: bytes) -> dict[str, JsonValue]:
        folder = self.fragments_dir
        if not folder.exists():
            folder.mkdir(mode=0o700, exist_ok=True)
            fsync_dir(folder.parent)
        stamp = rfc3339(self._clock()).replace(":", "").replace("-", "")
        for attempt in range(1000):
            name = f"{stamp}.bin" if attempt == 0 else f"{stamp}-{attempt}.bin"
            try:
                fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            try:
                _write_all(fd, fragment)
                os.fsync(fd)
            finally:
                os.close(fd)
            fsync_dir(folder)
            return {
                "fragment_sha256": sha256_of(fragment),
                "fragment_bytes": len(fragment),
                "fragment_file": f"{folder.name}/{name}",
            }
        raise AuditError(f"{folder}: cannot find a free name for the fragment file")

    def records_for_run(self, run_id: str) -> list[TrailRecord]:
        """The records of one run, read at the offsets the run index holds."""
        return self._indexed(
            lambda: self.index.run_entries(run_id), lambda r: r.run_id == run_id, f"run {run_id}"
        )

    def records_of_kind(self, kind: str) -> list[TrailRecord]:
        """The records of one kind, read at the offsets the index holds."""
        return self._indexed(
            lambda: self.index.kind_entries(kind), lambda r: r.kind == kind, f"kind {kind}"
        )

    def _indexed(
        self,
        lookup: Callable[[], list[IndexEntry]],
        belongs: Callable[[TrailRecord], bool],
        what: str,
    ) -> list[TrailRecord]:
        if not self.path.exists():
            return []
        for attempt in range(2):
            try:
                self.index.sync()
                entries = lookup()
            except (sqlite3.Error, OSError):  # e.g. a read-only copy of a trail
                return [r for r in self.records_from(0) if belongs(r)]
            found = self._read_entries(entries, belongs)
            if found is not None:
                return found
            if attempt == 0:  # the file changed under the index: index it afresh once
                self.index.reset()
        raise AuditError(
            f"{self.path}: the index and the trail disagree about {what}; "
            "run `sandbox audit verify`"
        )

    def merkle(self) -> Nodes:
        """The Merkle tree over the trail's complete lines, from the index (or rebuilt)."""
        try:
            self.index.sync()
            return self.index.tree()
        except (sqlite3.Error, OSError):  # e.g. a read-only copy of a trail: hash it all
            return MerkleLevels(
                leaf_hash(hashlib.sha256(line).digest())
                for _, line, complete in self.lines(0)
                if complete
            )

    def _read_entries(
        self, entries: list[IndexEntry], belongs: Callable[[TrailRecord], bool]
    ) -> list[TrailRecord] | None:
        records: list[TrailRecord] = []
        with self.path.open("rb") as handle:
            for entry in entries:
                handle.seek(entry.offset)
                line = handle.read(entry.length)
                try:
                    record = TrailRecord.from_line(line)
                except ValueError as exc:
                    raise AuditError(
                        f"{self.path}: line {entry.pos + 1}: {exc}; run `sandbox audit verify` "
                        "for details"
                    ) from exc
                if not belongs(record):
                    return None
                records.append(record)
        return records

    def records_from(self, seq: int) -> Iterator[TrailRecord]:
        """The records from `seq` onwards; a cut-short last line is skipped, a bad one named."""
        for line_no, line, complete in self.lines(seq):
            if not complete:
                return
            try:
                yield TrailRecord.from_line(line)
            except ValueError as exc:
                raise AuditError(
                    f"{self.path}: line {line_no}: {exc}; run `sandbox audit verify` for details"
                ) from exc

    def lines(self, start: int = 0) -> Iterator[Line]:
        """The raw lines from line `start` (a record's seq in an intact trail) onwards."""
        if not self.path.exists():
            return iter(())
        offset: int | None = 0
        if start:
            try:
                self.index.sync()
                offset = self.index.offset_of(start)
            except (sqlite3.Error, OSError):
                offset = None
        if offset is None:  # not indexed: count lines from the start instead
            return (line for line in read_lines(self.path) if line[0] > start)
        return read_lines(self.path, offset=offset, first_line=start + 1)
