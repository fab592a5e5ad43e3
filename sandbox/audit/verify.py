"""Verifying a trail: canonical form, seq, prev links, key id and every signature.

Verification reads raw lines, from a file, from any `TrailStore`, or from bytes (a bundle's
slice), and never trusts an index or a cached head. It never raises on malformed content:
it reports the first bad line. Truncation at a line boundary removes whole records and
leaves a valid, shorter chain: pass a hash known from elsewhere (a signed checkpoint) as
`anchor` to catch it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from sandbox.audit.anchor import KeyChain
from sandbox.audit.events import is_terminal
from sandbox.audit.record import GENESIS_HASH, TrailRecord
from sandbox.audit.signing import Verifier
from sandbox.audit.store import Line, TrailStore, read_lines

__all__ = [
    "Keys",
    "OnRecord",
    "TrailVerification",
    "find_key",
    "verify_lines",
    "verify_slice",
    "verify_trail",
]


@dataclass(frozen=True, kw_only=True)
class TrailVerification:
    """The outcome of `verify_trail`: either the whole chain holds, or where it first breaks."""

    ok: bool
    records_checked: int  # records that verified, from the start of the file
    head_hash: str  # hash of the last record that verified (GENESIS_HASH if none)
    first_bad_seq: int | None = None  # chain position where verification stopped
    first_bad_line: int | None = None  # 1-based line number in the file
    reason: str | None = None


#: What checks signatures: one verifier, a keyring mapping key_id -> verifier, or a `KeyChain`
#: (pinned or local roots, grown only by signed rotation records).
Keys: TypeAlias = Verifier | Mapping[str, Verifier]
#: Called with each verified record's 32-byte hash, in order (e.g. to grow a Merkle tree).
OnRecord: TypeAlias = Callable[[bytes], None]


def find_key(keys: Keys, key_id: str) -> Verifier | None:
    """The verifier of `key_id` among `keys`, or None."""
    if isinstance(keys, Verifier):
        return keys if keys.key_id == key_id else None
    found = keys.get(key_id)
    return found if found is not None and found.key_id == key_id else None


def _lookup(keys: Keys) -> Callable[[str, int], tuple[Verifier | None, str]]:
    """A function from a record's key_id and seq to its verifier, or None and why not."""
    if isinstance(keys, KeyChain):
        chain = keys

        def chained(key_id: str, seq: int) -> tuple[Verifier | None, str]:
            found = chain.trusted_for(key_id, seq)
            return (found, "") if found is not None else (None, chain.why_not(key_id, seq))

        return chained
    if isinstance(keys, Verifier):
        single = keys

        def one(key_id: str, seq: int) -> tuple[Verifier | None, str]:
            if key_id == single.key_id:
                return single, ""
            return None, f"signed by key {key_id}, but the verifier holds {single.key_id}"

        return one

    def ring(key_id: str, seq: int) -> tuple[Verifier | None, str]:
        found = keys.get(key_id)
        if found is not None and found.key_id == key_id:
            return found, ""
        held = ", ".join(sorted(keys)) or "no keys"
        return None, f"signed by key {key_id}, which is not in the keyring (it holds {held})"

    return ring


def verify_lines(
    lines: Iterable[Line],
    keys: Keys,
    *,
    anchor: str | None,
    first_seq: int,
    prev: str,
    on_record: OnRecord | None = None,
) -> TrailVerification:
    """Check raw lines that start at record `first_seq`, whose first must point at `prev`.

    A `KeyChain` as `keys` follows the key rotations it verifies.
    """
    checked, head = 0, prev
    anchor_seen = anchor is None
    lookup = _lookup(keys)
    chain = keys if isinstance(keys, KeyChain) else None
    ended: dict[str, TrailRecord] = {}  # run id -> its terminal record: a run ends once

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
        verifier, why = lookup(record.key_id, record.seq)
        if verifier is None:
            return bad(line_no, why)
        if not verifier.verify(record.signed_bytes(), record.sig):
            return bad(line_no, "the signature does not match the record: it was altered")
        if record.run_id is not None and is_terminal(record.kind):
            first = ended.setdefault(record.run_id, record)
            if first is not record:
                return bad(
                    line_no,
                    f"run {record.run_id} ends twice: {record.kind} after {first.kind} "
                    f"(seq {first.seq}); a run has exactly one terminal record",
                )
        digest = hashlib.sha256(line).digest()
        if chain is not None:
            chain.follow(record)
        if on_record is not None:
            on_record(digest)
        checked, head = checked + 1, "sha256:" + digest.hex()
        anchor_seen = anchor_seen or head == anchor
    if not anchor_seen:
        return bad(None, f"anchor {anchor} is not in the trail: records were removed from its end")
    return TrailVerification(ok=True, records_checked=checked, head_hash=head)


def verify_trail(
    source: Path | TrailStore,
    verifier: Keys,
    *,
    anchor: str | None = None,
    on_record: OnRecord | None = None,
) -> TrailVerification:
    """Check a whole trail (file or store): canonical form, seq, prev links, keys, signatures.

    `verifier` is one public key, or a keyring (key_id -> Verifier) holding the current and
    retired keys, so records signed before a key rotation still verify. Never raises on
    malformed content: it reports the first bad line. `anchor` is a record hash known from
    elsewhere (e.g. a signed checkpoint) that the chain must still contain, which catches
    records removed from the end. Raises AuditError only if the file cannot be read at all.
    """
    lines = source.lines() if isinstance(source, TrailStore) else read_lines(Path(source))
    return verify_lines(
        lines, verifier, anchor=anchor, first_seq=0, prev=GENESIS_HASH, on_record=on_record
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
    return verify_lines(_split_lines(data), verifier, anchor=anchor, first_seq=first_seq, prev=prev)


def _split_lines(data: bytes) -> Iterator[Line]:
    if not data:
        return
    parts = data.split(b"\n")
    complete = parts[:-1]
    for number, line in enumerate(complete, start=1):
        yield number, line, True
    if parts[-1]:
        yield len(complete) + 1, parts[-1], False
