"""The trail's record format: one signed link of the chain, as canonical JSON (RFC 8785).

Each line of a trail is one record, written as the canonical JSON of RFC 8785 (JCS) followed
by a newline:

    {"actor":"alice","key_id":"ed25519:1f2e...","kind":"run.finished",
     "payload":{"manifest_sha256":"sha256:..."},"prev":"sha256:...","run_id":"r-1",
     "seq":7,"sig":"<base64>","time":"2024-05-01T12:00:00.123456Z"}

- `seq` counts records from 0; `prev` is the hash of the previous record (the genesis record
  points at "sha256:" + 64 zeros);
- the hash of a record is "sha256:" + the sha256 of the canonical JSON of the full record
  (signature included), which is the line's bytes without its newline;
- `sig` is the base64 Ed25519 signature of the canonical JSON of the record without "sig",
  made by the key named by `key_id`.

A line is accepted only if it is exactly the canonical form of the record it holds, so no
byte can change unnoticed (see `sandbox.audit.verify`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, TypeAlias, cast

import rfc8785

from sandbox.errors import AuditError

__all__ = [
    "GENESIS_HASH",
    "JsonValue",
    "TrailRecord",
    "canonical_payload",
    "check_kind",
    "loads",
    "rfc3339",
    "sha256_of",
]

JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None

GENESIS_HASH: Final = "sha256:" + "0" * 64

_FIELDS: Final = frozenset(
    {"seq", "kind", "time", "actor", "run_id", "payload", "prev", "key_id", "sig"}
)
_KIND_RE: Final = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_HASH_RE: Final = re.compile(r"^sha256:[0-9a-f]{64}$")
_TIME_RE: Final = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


def sha256_of(data: bytes) -> str:
    """ "sha256:<hex>" of `data`: how the trail names a record (and any hashed bytes)."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def rfc3339(moment: datetime) -> str:
    """A timezone-aware moment as the trail writes it: UTC with microseconds and a Z."""
    if moment.tzinfo is None:
        raise AuditError("the trail clock returned a naive datetime; it must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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


def loads(text: str | bytes) -> Any:
    """JSON as RFC 8785 reads it: no NaN or Infinity, large integral numbers as floats."""
    return json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)


def check_kind(kind: str) -> None:
    """Refuse a kind that is not a dotted lower-case name like 'run.finished'."""
    if not _KIND_RE.match(kind):
        raise AuditError(f"kind {kind!r}: use a dotted lower-case name like 'run.finished'")


def canonical_payload(payload: Mapping[str, object]) -> dict[str, JsonValue]:
    """The payload as the trail will store it (its canonical JSON value), or AuditError."""
    _check_json(payload, "payload")
    try:
        clean: dict[str, JsonValue] = loads(rfc8785.dumps(cast(Any, dict(payload))))
    except rfc8785.CanonicalizationError as exc:
        raise AuditError(f"payload: cannot be written as canonical JSON ({exc})") from exc
    return clean


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
        return sha256_of(self.canonical())

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
            obj = loads(text)
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
