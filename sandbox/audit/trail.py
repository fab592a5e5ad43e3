"""The append-only, hash-chained, signed audit trail (JSON Lines) and its offline verifier.

Each line of the trail file is one record, written as the canonical JSON of RFC 8785 (JCS)
followed by a newline:

    {"actor":"alice","key_id":"ed25519:1f2e...","kind":"run.finished",
     "payload":{"manifest_sha256":"sha256:..."},"prev":"sha256:...","run_id":"r-1",
     "seq":7,"sig":"<base64>","time":"2024-05-01T12:00:00.123456Z"}

- `seq` counts records from 0; `prev` is the hash of the previous record (the genesis record
  points at "sha256:" + 64 zeros);
- the hash of a record is "sha256:" + the sha256 of the canonical JSON of the full record
  (signature included), which is the line's bytes without its newline;
- `sig` is the base64 Ed25519 signature of the canonical JSON of the record without "sig",
  made by the key named by `key_id`.

The trail is byte-exact: the verifier accepts a line only if it is exactly the canonical form
of the record it holds. Re-formatting a line (pretty-printing, re-ordering keys, a different
but equivalent escape) is reported like any other edit, so no byte of the file can change
unnoticed. Truncation at a line boundary removes whole records and leaves a valid, shorter
chain: compare `head_hash` with a hash recorded elsewhere (e.g. a run's tracking tags) or pass
it as `anchor` to `verify_trail` to catch it.

Appends are serialised by a lock file beside the trail (`<trail>.lock`), write each record
with one write, then fsync. A writer killed mid-write leaves a line without its newline; the
next append saves those bytes to `<trail>.fragments/` and records a "trail.recovered" record
(with the fragment's sha256 and length) before its own, so nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeAlias, cast

import filelock
import rfc8785

from sandbox.audit.signing import Signer, Verifier, fsync_dir
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

JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None

GENESIS_HASH: Final = "sha256:" + "0" * 64

#: The record kinds the sandbox writes. Other dotted lower-case names are accepted too.
KINDS: Final = (
    "run.submitted",
    "run.blocked",
    "run.started",
    "run.finished",
    "run.failed",
    "run.rejected",
    "audit.submitted",
    "audit.finished",
    "audit.replayed",
    "trail.recovered",
    "trail.key_rotated",
)

_FIELDS: Final = frozenset(
    {"seq", "kind", "time", "actor", "run_id", "payload", "prev", "key_id", "sig"}
)
_KIND_RE: Final = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_HASH_RE: Final = re.compile(r"^sha256:[0-9a-f]{64}$")
_TIME_RE: Final = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
_TAIL_CHUNK: Final = 64 * 1024
_LOCK_TIMEOUT_S: Final = 120.0
_SYSTEM_ACTOR: Final = "sandbox"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise AuditError("the trail clock returned a naive datetime; it must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _check_json(value: object, where: str) -> None:
    """Reject what JSON (and RFC 8785) cannot carry, naming the offending path."""
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if abs(value) >= 2**53:
            raise AuditError(
                f"{where}: integer {value} is outside the exact JSON range (±(2^53 - 1)); "
                "record it as a string"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AuditError(
                f"{where}: {value} is not a JSON number; record it as null or a string"
            )
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditError(f"{where}: key {key!r} is not a string")
            _check_json(item, f"{where}.{key}")
        return
    raise AuditError(
        f"{where}: {type(value).__name__} is not JSON; use str, int, float, bool, None, "
        "list or dict (hashes as 'sha256:<hex>' strings)"
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_int(digits: str) -> int | float:
    # RFC 8785 writes an integral float such as 1e20 without a fraction; beyond the exact
    # range it can only have been a float, and must read back as one to re-canonicalise.
    value = int(digits)
    return value if abs(value) < 2**53 else float(value)


def _loads(text: str | bytes) -> Any:
    """JSON as RFC 8785 reads it: no NaN or Infinity, large integral numbers as floats."""
    return json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)


@dataclass(frozen=True, kw_only=True)
class TrailRecord:
    """One signed link of the audit chain."""

    seq: int
    kind: str
    time: str
    actor: str
    run_id: str | None
    payload: dict[str, JsonValue] = field(hash=False)
    prev: str
    key_id: str
    sig: str

    def unsigned(self) -> dict[str, JsonValue]:
        """The record as a JSON object without its signature: what `sig` signs.

        The payload is shared with the record, not copied: treat it as read-only.
        """
        return {
            "seq": self.seq,
            "kind": self.kind,
            "time": self.time,
            "actor": self.actor,
            "run_id": self.run_id,
            "payload": self.payload,
            "prev": self.prev,
            "key_id": self.key_id,
        }

    def to_dict(self) -> dict[str, JsonValue]:
        """The full record as a JSON object."""
        return {**self.unsigned(), "sig": self.sig}

    def signed_bytes(self) -> bytes:
        """The canonical JSON (RFC 8785) of the record without "sig"."""
        return rfc8785.dumps(self.unsigned())

    def canonical(self) -> bytes:
        """The canonical JSON (RFC 8785) of the full record: its line, without the newline."""
        return rfc8785.dumps(self.to_dict())

    @property
    def hash(self) -> str:
        """ "sha256:<hex>" of the canonical full record; the next record's `prev`."""
        return _sha256(self.canonical())

    @classmethod
    def from_line(cls, line: bytes) -> TrailRecord:
        """Parse one trail line (without its newline); raises ValueError saying what is wrong.

        Checks shape and canonical form, not the chain or the signature.
        """
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from exc
        try:
            obj = _loads(text)
        except ValueError as exc:
            raise ValueError(f"invalid JSON ({exc})") from exc
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
        if set(obj) != _FIELDS:
            missing = sorted(_FIELDS - set(obj))
            extra = sorted(set(obj) - _FIELDS)
            raise ValueError(f"wrong fields (missing {missing}, unexpected {extra})")
        seq, run_id, payload = obj["seq"], obj["run_id"], obj["payload"]
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise ValueError("seq is not a non-negative integer")
        for name in ("kind", "time", "actor", "prev", "key_id", "sig"):
            if not isinstance(obj[name], str):
                raise ValueError(f"{name} is not a string")
        if run_id is not None and not isinstance(run_id, str):
            raise ValueError("run_id is neither a string nor null")
        if not isinstance(payload, dict):
            raise ValueError("payload is not a JSON object")
        if not _KIND_RE.match(obj["kind"]):
            raise ValueError(f"kind {obj['kind']!r} is not a dotted lower-case name")
        if not _TIME_RE.match(obj["time"]):
            raise ValueError(f"time {obj['time']!r} is not an RFC 3339 UTC timestamp")
        if not _HASH_RE.match(obj["prev"]):
            raise ValueError("prev is not a 'sha256:<64 hex>' hash")
        try:
            canonical = rfc8785.dumps(obj)
        except rfc8785.CanonicalizationError as exc:
            raise ValueError(f"cannot be canonicalised ({exc})") from exc
        if canonical != line:
            raise ValueError("not in canonical JSON form (RFC 8785): the line was re-formatted")
        return cls(
            seq=seq,
            kind=obj["kind"],
            time=obj["time"],
            actor=obj["actor"],
            run_id=run_id,
            payload=payload,
            prev=obj["prev"],
            key_id=obj["key_id"],
            sig=obj["sig"],
        )


@dataclass(frozen=True, kw_only=True)
class TrailVerification:
    """The outcome of `verify_trail`: either the whole chain holds, or where it first breaks."""

    ok: bool
    records_checked: int  # records that verified, from the start of the file
    head_hash: str  # hash of the last record that verified (GENESIS_HASH if none)
    first_bad_seq: int | None = None  # chain position where verification stopped
    first_bad_line: int | None = None  # 1-based line number in the file
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Tail:
    seq: int  # of the next record
    prev: str  # hash of the last complete record
    fragment: dict[str, JsonValue] | None  # what was set aside from a cut-short last line


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError("write returned no progress")
        view = view[written:]


class AuditTrail:
    """Appends signed, hash-chained records to a JSON Lines file, safely across processes."""

    def __init__(
        self,
        path: Path,
        signer: Signer,
        *,
        clock: Callable[[], datetime] = _utc_now,
        lock_timeout_s: float = _LOCK_TIMEOUT_S,
    ) -> None:
        self.path = Path(path)
        self.signer = signer
        self._clock = clock
        self._lock = filelock.FileLock(
            str(self.path.with_name(self.path.name + ".lock")), timeout=lock_timeout_s
        )

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the trail's append lock: no record is written meanwhile (e.g. for a checkpoint)."""
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

    @property
    def fragments_dir(self) -> Path:
        """Where bytes of interrupted writes are kept (`<trail>.fragments/`)."""
        return self.path.with_name(self.path.name + ".fragments")

    def append(
        self,
        kind: str,
        *,
        actor: str,
        run_id: str | None = None,
        payload: Mapping[str, object],
    ) -> TrailRecord:
        """Sign and append one record; returns it as written."""
        if not _KIND_RE.match(kind):
            raise AuditError(f"kind {kind!r}: use a dotted lower-case name like 'run.finished'")
        if not isinstance(actor, str) or not actor:
            raise AuditError("actor: name who or what caused the event (a user or a service)")
        if run_id is not None and not isinstance(run_id, str):
            raise AuditError(f"run_id: expected a string or None, got {type(run_id).__name__}")
        _check_json(payload, "payload")
        try:
            clean: dict[str, JsonValue] = _loads(rfc8785.dumps(cast(Any, dict(payload))))
        except rfc8785.CanonicalizationError as exc:
            raise AuditError(f"payload: cannot be written as canonical JSON ({exc})") from exc
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                return self._append_locked(kind, actor=actor, run_id=run_id, payload=clean)
        except filelock.Timeout as exc:
            raise AuditError(
                f"{self.path}: another process has held the trail lock for over "
                f"{self._lock.timeout:.0f}s; find it with `fuser {exc.lock_file}` and let it "
                "finish or stop it"
            ) from exc
        except OSError as exc:
            raise AuditError(
                f"{self.path}: cannot append to the audit trail ({exc.strerror or exc}); "
                "check free space and permissions"
            ) from exc

    def _append_locked(
        self, kind: str, *, actor: str, run_id: str | None, payload: dict[str, JsonValue]
    ) -> TrailRecord:
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if created:
                fsync_dir(self.path.parent)
            tail = self._read_tail(fd)
            seq, prev = tail.seq, tail.prev
            if tail.fragment is not None:  # say so in the chain before anything else
                recovered = self._sign(
                    seq,
                    prev,
                    kind="trail.recovered",
                    actor=_SYSTEM_ACTOR,
                    run_id=None,
                    payload=tail.fragment,
                )
                _write_all(fd, recovered.canonical() + b"\n")
                seq, prev = seq + 1, recovered.hash
            record = self._sign(seq, prev, kind=kind, actor=actor, run_id=run_id, payload=payload)
            _write_all(fd, record.canonical() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def _sign(
        self,
        seq: int,
        prev: str,
        *,
        kind: str,
        actor: str,
        run_id: str | None,
        payload: dict[str, JsonValue],
    ) -> TrailRecord:
        draft = TrailRecord(
            seq=seq,
            kind=kind,
            time=_rfc3339(self._clock()),
            actor=actor,
            run_id=run_id,
            payload=payload,
            prev=prev,
            key_id=self.signer.key_id,
            sig="",
        )
        return replace(draft, sig=self.signer.sign(draft.signed_bytes()))

    def _read_tail(self, fd: int) -> _Tail:
        """Next seq and prev hash, read from the end; a partial last line is moved aside."""
        size = os.fstat(fd).st_size
        end = size  # just past the last complete line
        if size and os.pread(fd, 1, size - 1) != b"\n":
            end = self._last_newline_before(fd, size) + 1  # 0 when there is no newline at all
        seq, prev = 0, GENESIS_HASH
        if end:
            start = self._last_newline_before(fd, end - 1) + 1
            line = os.pread(fd, end - 1 - start, start)
            try:
                last = TrailRecord.from_line(line)
            except ValueError as exc:
                raise AuditError(
                    f"{self.path}: line {self._line_count(fd, start) + 1}: the last record "
                    f"cannot be read ({exc}); run `sandbox audit verify` and restore the "
                    "trail from a backup"
                ) from exc
            seq, prev = last.seq + 1, _sha256(line)
        fragment = None
        if end != size:
            fragment = self._save_fragment(os.pread(fd, size - end, end))
            os.ftruncate(fd, end)
            os.fsync(fd)
        return _Tail(seq=seq, prev=prev, fragment=fragment)

    @staticmethod
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

    @staticmethod
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

    def _save_fragment(self, fragment: bytes) -> dict[str, JsonValue]:
        folder = self.fragments_dir
        if not folder.exists():
            folder.mkdir(mode=0o700, exist_ok=True)
            fsync_dir(folder.parent)
        stamp = _rfc3339(self._clock()).replace(":", "").replace("-", "")
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
                "fragment_sha256": _sha256(fragment),
                "fragment_bytes": len(fragment),
                "fragment_file": f"{folder.name}/{name}",
            }
        raise AuditError(f"{folder}: cannot find a free name for the fragment file")


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(1-based line number, line without newline, whether it ended with a newline)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the audit trail ({exc.strerror})") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            if raw.endswith(b"\n"):
                yield number, raw[:-1], True
            else:
                yield number, raw, False


#: What checks signatures: one verifier, or a keyring mapping key_id -> verifier (rotation).
Keys: TypeAlias = Verifier | Mapping[str, Verifier]


def find_key(keys: Keys, key_id: str) -> Verifier | None:
    """The verifier of `key_id` among `keys`, or None."""
    if isinstance(keys, Verifier):
        return keys if keys.key_id == key_id else None
    found = keys.get(key_id)
    return found if found is not None and found.key_id == key_id else None


def _lookup(keys: Keys) -> Callable[[str], tuple[Verifier | None, str]]:
    """A function from a record's key_id to its verifier, or None and why not."""
    if isinstance(keys, Verifier):
        single = keys

        def one(key_id: str) -> tuple[Verifier | None, str]:
            if key_id == single.key_id:
                return single, ""
            return None, f"signed by key {key_id}, but the verifier holds {single.key_id}"

        return one

    def ring(key_id: str) -> tuple[Verifier | None, str]:
        found = keys.get(key_id)
        if found is not None and found.key_id == key_id:
            return found, ""
        held = ", ".join(sorted(keys)) or "no keys"
        return None, f"signed by key {key_id}, which is not in the keyring (it holds {held})"

    return ring


def _verify_lines(
    lines: Iterable[tuple[int, bytes, bool]],
    keys: Keys,
    *,
    anchor: str | None,
    first_seq: int,
    prev: str,
) -> TrailVerification:
    checked, head = 0, prev
    anchor_seen = anchor is None
    lookup = _lookup(keys)

    def bad(line_no: int | None, reason: str) -> TrailVerification:
        return TrailVerification(
            ok=False,
            records_checked=checked,
            head_hash=head,
            first_bad_seq=first_seq + checked,
            first_bad_line=line_no,
            reason=reason if line_no is None else f"line {line_no}: {reason}",
        )

    for line_no, line, complete in lines:
        if not complete:
            return bad(
                line_no,
                "the last line is cut short (no newline): a write was interrupted or the "
                "file was truncated; the next append sets the fragment aside",
            )
        try:
            record = TrailRecord.from_line(line)
        except ValueError as exc:
            return bad(line_no, str(exc))
        if record.seq != first_seq + checked:
            return bad(
                line_no,
                f"seq {record.seq} where {first_seq + checked} was expected: "
                "records were deleted, duplicated or reordered",
            )
        if record.prev != head:
            return bad(line_no, "prev does not match the previous record's hash")
        verifier, why = lookup(record.key_id)
        if verifier is None:
            return bad(line_no, why)
        if not verifier.verify(record.signed_bytes(), record.sig):
            return bad(line_no, "the signature does not match the record: it was altered")
        checked, head = checked + 1, _sha256(line)
        anchor_seen = anchor_seen or head == anchor
    if not anchor_seen:
        return bad(None, f"anchor {anchor} is not in the trail: records were removed from its end")
    return TrailVerification(ok=True, records_checked=checked, head_hash=head)


def verify_trail(path: Path, verifier: Keys, *, anchor: str | None = None) -> TrailVerification:
    """Check the whole chain: canonical form, seq, prev links, key id and every signature.

    `verifier` is one public key, or a keyring (key_id -> Verifier) holding the current and
    retired keys, so records signed before a key rotation still verify. Never raises on
    malformed content: it reports the first bad line. `anchor` is a record hash known from
    elsewhere (e.g. a signed checkpoint) that the chain must still contain, which catches
    records removed from the end. Raises AuditError only if the file cannot be read at all.
    """
    return _verify_lines(
        _lines(Path(path)), verifier, anchor=anchor, first_seq=0, prev=GENESIS_HASH
    )


def verify_slice(
    data: bytes,
    verifier: Keys,
    *,
    first_seq: int,
    prev: str,
    anchor: str | None = None,
) -> TrailVerification:
    """Check a contiguous part of a trail (JSON Lines bytes) that starts at `first_seq`.

    `prev` is the hash the first record must point at; take it from the first record
    itself when nothing earlier is known. Line numbers in the reason count from the slice.
    """
    return _verify_lines(
        _split_lines(data), verifier, anchor=anchor, first_seq=first_seq, prev=prev
    )


def _split_lines(data: bytes) -> Iterator[tuple[int, bytes, bool]]:
    if not data:
        return
    parts = data.split(b"\n")
    complete = parts[:-1]
    for number, line in enumerate(complete, start=1):
        yield number, line, True
    if parts[-1]:
        yield len(complete) + 1, parts[-1], False


def iter_records(path: Path) -> Iterator[TrailRecord]:
    """Read the records of a trail in order, without checking signatures (see verify_trail).

    A cut-short last line (a write in progress or interrupted) is skipped; any other
    malformed line raises AuditError naming it.
    """
    path = Path(path)
    if not path.exists():
        return
    for line_no, line, complete in _lines(path):
        if not complete:
            return
        try:
            yield TrailRecord.from_line(line)
        except ValueError as exc:
            raise AuditError(
                f"{path}: line {line_no}: {exc}; run `sandbox audit verify` for details"
            ) from exc


def records_for_run(path: Path, run_id: str) -> list[TrailRecord]:
    """The records of one run, in trail order."""
    return [record for record in iter_records(path) if record.run_id == run_id]
