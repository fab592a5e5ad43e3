"""Signed checkpoints of the audit trail: its size, head hash and Merkle root, to hand out.

A chain alone cannot show that records were cut from its end, or that the whole file was
rewritten and re-signed by whoever holds the key. A checkpoint closes that gap: it says
"on <time> the trail held <trail_size> records, the last one hashed to <head_hash> and the
Merkle tree over all of them (`merkle.py`, RFC 9162) had the root <tree_root>", signed with
the trail's key. The root lets a bundle prove its run's records are in the trail with
inclusion proofs, and a later checkpoint prove it extends this one, without other records.
Publish it, mail it to the auditor, or file it with the city clerk; later,
`verify_against_checkpoint` (`sandbox audit verify --checkpoint FILE`) proves the trail still
holds that exact record at that exact position.

A checkpoint file is one line of canonical JSON (RFC 8785):

    {"format":"ai-commons-sandbox/checkpoint/v2","head_hash":"sha256:...","head_seq":41,
     "key_id":"ed25519:...","sig":"<base64>","time":"2026-11-22T10:59:43.512000Z",
     "trail_size":42,"tree_root":"sha256:..."}

`sig` is the Ed25519 signature of the canonical JSON of the object without "sig". Version 1
checkpoints (no `tree_root`) still verify against a trail; bundles need version 2.
Checkpoints are written to `<home>/audit/checkpoints/` as
`checkpoint-<trail_size, 10 digits>-<UTC time>.json`.

Writing a checkpoint verifies incrementally: a checkpoint is only ever signed over a chain
that verified, so the next one checks that the trail still holds the last checkpoint's head
record at its position, then verifies only the records after it. That costs the same on a
trail of a hundred records as on one of millions, and takes no lock: records are never
changed once written, and the new checkpoint covers the head as it was when it began, so
other runs keep appending meanwhile. The new root is grown from the last checkpoint's
frontier (read from the store's Merkle index and checked against that checkpoint's signed
root) with the records just verified, so the index is never signed unchecked. A full `verify`
(or `verify --checkpoint`) still reads every record, and is what catches an edit made before
the last checkpoint.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import rfc8785

from sandbox.audit.anchor import KeyChain
from sandbox.audit.merkle import EMPTY_ROOT, Frontier, leaf_hash
from sandbox.audit.record import GENESIS_HASH, sha256_of
from sandbox.audit.signing import Signer
from sandbox.audit.store import Head, TrailStore
from sandbox.audit.trail import AuditTrail
from sandbox.audit.verify import (
    Keys,
    OnRecord,
    TrailVerification,
    find_key,
    verify_lines,
    verify_trail,
)
from sandbox.errors import AuditError

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "CheckpointVerification",
    "checkpoints_dir_for",
    "latest_checkpoint",
    "read_checkpoint",
    "sign_checkpoint",
    "verify_against_checkpoint",
    "verify_against_checkpoints",
    "verify_since",
    "write_checkpoint",
]

CHECKPOINT_FORMAT: Final = "ai-commons-sandbox/checkpoint/v2"
_FORMAT_V1: Final = "ai-commons-sandbox/checkpoint/v1"
_FIELDS_V1: Final = frozenset(
    {"format", "trail_size", "head_seq", "head_hash", "time", "key_id", "sig"}
)
_FIELDS: Final = _FIELDS_V1 | {"tree_root"}
_HASH_RE: Final = re.compile(r"^sha256:[0-9a-f]{64}$")
_NAME_RE: Final = re.compile(r"^checkpoint-(\d{10})-[0-9TZ.]+\.json$")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    """The signed size and head hash of the trail at one moment."""

    trail_size: int  # records in the trail; the head is the record at seq trail_size - 1
    head_hash: str  # hash of that record (GENESIS_HASH for an empty trail)
    time: str
    key_id: str
    sig: str
    tree_root: str | None = None  # "sha256:<hex>" Merkle root; None in a v1 checkpoint

    @property
    def root_bytes(self) -> bytes | None:
        """The Merkle root as 32 bytes (None for a v1 checkpoint)."""
        return bytes.fromhex(self.tree_root.removeprefix("sha256:")) if self.tree_root else None

    @property
    def head_seq(self) -> int:
        """Sequence number of the record the checkpoint names (-1 for an empty trail)."""
        return self.trail_size - 1

    def unsigned(self) -> dict[str, Any]:
        """The checkpoint as a JSON object without its signature: what `sig` signs."""
        unsigned = {
            "format": CHECKPOINT_FORMAT if self.tree_root else _FORMAT_V1,
            "trail_size": self.trail_size,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "time": self.time,
            "key_id": self.key_id,
        }
        return unsigned | ({"tree_root": self.tree_root} if self.tree_root else {})

    def signed_bytes(self) -> bytes:
        """The canonical JSON (RFC 8785) of the checkpoint without "sig"."""
        return rfc8785.dumps(self.unsigned())

    def canonical(self) -> bytes:
        """The file's content: canonical JSON of the whole checkpoint, and a newline."""
        return rfc8785.dumps({**self.unsigned(), "sig": self.sig}) + b"\n"

    def check_signature(self, keys: Keys) -> str | None:
        """None when a key of `keys` signed this checkpoint; otherwise what is wrong."""
        verifier = find_key(keys, self.key_id)
        if verifier is None:
            return f"the checkpoint is signed by key {self.key_id}, which is not among the keys"
        if not verifier.verify(self.signed_bytes(), self.sig):
            return "the checkpoint's signature does not match its content: it was altered"
        return None

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "checkpoint") -> Checkpoint:
        """Parse a checkpoint file; AuditError names what is malformed."""
        try:
            obj = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise AuditError(f"{source}: not a JSON checkpoint ({exc})") from exc
        fields = (
            _FIELDS_V1 if isinstance(obj, dict) and obj.get("format") == _FORMAT_V1 else _FIELDS
        )
        if not isinstance(obj, dict) or set(obj) != fields:
            raise AuditError(f"{source}: not a checkpoint (expected fields {sorted(fields)})")
        if obj["format"] not in (CHECKPOINT_FORMAT, _FORMAT_V1):
            raise AuditError(f"{source}: unknown checkpoint format {obj['format']!r}")
        root = obj.get("tree_root")
        if root is not None and not (isinstance(root, str) and _HASH_RE.match(root)):
            raise AuditError(f"{source}: tree_root is not a 'sha256:<64 hex>' hash")
        size, seq = obj["trail_size"], obj["head_seq"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0 or seq != size - 1:
            raise AuditError(f"{source}: trail_size and head_seq are inconsistent")
        for name in ("head_hash", "time", "key_id", "sig"):
            if not isinstance(obj[name], str):
                raise AuditError(f"{source}: {name} is not a string")
        if not _HASH_RE.match(obj["head_hash"]):
            raise AuditError(f"{source}: head_hash is not a 'sha256:<64 hex>' hash")
        return cls(
            trail_size=size,
            head_hash=obj["head_hash"],
            time=obj["time"],
            key_id=obj["key_id"],
            sig=obj["sig"],
            tree_root=root,
        )


def sign_checkpoint(
    trail_size: int,
    head_hash: str,
    signer: Signer,
    *,
    tree_root: bytes,
    now: datetime | None = None,
) -> Checkpoint:
    """A checkpoint of a trail of `trail_size` records: its head's hash and its Merkle root."""
    moment = (now or _utc_now()).astimezone(UTC)
    draft = Checkpoint(
        trail_size=trail_size,
        head_hash=head_hash,
        time=moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        key_id=signer.key_id,
        sig="",
        tree_root="sha256:" + tree_root.hex(),
    )
    return replace(draft, sig=signer.sign(draft.signed_bytes()))


def write_checkpoint(
    trail: AuditTrail,
    signer: Signer,
    dest_dir: Path,
    *,
    keys: Keys | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> Path:
    """Verify the trail since the last checkpoint in `dest_dir`, then sign its size and head.

    Verified with `keys` (default: the signer's own public key; pass the keyring after a key
    rotation). The first checkpoint in `dest_dir` verifies the whole trail; later ones only
    what was appended since the last one (see the module's docstring). No lock is held, so
    appends go on meanwhile. A checkpoint never vouches for a broken chain: AuditError then.
    Returns the checkpoint file.
    """
    keys = keys if keys is not None else signer.verifier()
    head = trail.head()
    last = _last_trusted(dest_dir, keys)
    new: list[bytes] = []
    result = verify_since(trail.store, keys, last, head=head, on_record=new.append)
    if not result.ok:
        raise AuditError(
            f"{trail.location}: the trail does not verify ({result.reason}); no checkpoint "
            "was written: run `sandbox audit verify` and restore the trail from a backup"
        )
    frontier = _frontier_at(trail.store, last)
    for digest in new:
        frontier.append(leaf_hash(digest))
    checkpoint = sign_checkpoint(
        head.size, head.hash, signer, tree_root=frontier.root(), now=clock()
    )
    dest_dir.mkdir(parents=True, exist_ok=True)
    stamp = checkpoint.time.replace("-", "").replace(":", "")
    path = dest_dir / f"checkpoint-{checkpoint.trail_size:010d}-{stamp}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(checkpoint.canonical())
    tmp.replace(path)
    return path


def _last_trusted(dest_dir: Path, keys: Keys) -> Checkpoint | None:
    """The latest checkpoint in `dest_dir` if one of `keys` signed it; else None."""
    latest = latest_checkpoint(dest_dir)
    if latest is None:
        return None
    try:
        checkpoint = read_checkpoint(latest)
    except AuditError:
        return None  # unreadable: verify from the start instead of trusting it
    return checkpoint if checkpoint.check_signature(keys) is None else None


def _frontier_at(store: TrailStore, checkpoint: Checkpoint | None) -> Frontier:
    """The Merkle frontier at the checkpoint's size, checked against its signed root.

    Read from the store's tree; rebuilt from the trail's lines when the tree disagrees (a
    stale index) or the checkpoint has no root (v1). A rebuilt frontier that still misses the
    signed root means records before the checkpoint were rewritten: AuditError.
    """
    if checkpoint is None:
        return Frontier()
    with contextlib.suppress(KeyError, ValueError):
        frontier = Frontier.of(store.merkle(), checkpoint.trail_size)
        if frontier.root() == checkpoint.root_bytes:
            return frontier
    frontier = Frontier()
    for _, line, _ in itertools.islice(store.lines(0), checkpoint.trail_size):
        frontier.append(leaf_hash(hashlib.sha256(line).digest()))
    if checkpoint.root_bytes is not None and frontier.root() != checkpoint.root_bytes:
        raise AuditError(
            f"{store.location}: the trail was rewritten: its Merkle root over "
            f"{checkpoint.trail_size} records is not the one the checkpoint of "
            f"{checkpoint.time} signed; no checkpoint was written"
        )
    return frontier


def verify_since(
    store: TrailStore,
    keys: Keys,
    checkpoint: Checkpoint | None,
    *,
    head: Head | None = None,
    on_record: OnRecord | None = None,
) -> TrailVerification:
    """Verify the records after `checkpoint` up to `head`, and that its head record is intact.

    With no checkpoint, verifies from the first record. `head` (default: the store's head
    now) bounds the check, so records appended meanwhile are left for the next checkpoint.
    `records_checked` counts the records verified here; `on_record` gets each one's hash.
    """
    head = head or store.head()
    if checkpoint is None or checkpoint.trail_size == 0:
        base_size, base_hash, lines = 0, GENESIS_HASH, store.lines(0)
    else:
        base_size, base_hash = checkpoint.trail_size, checkpoint.head_hash
        if head.size < base_size:
            return _broken(
                f"the trail holds {head.size} records, but the checkpoint of "
                f"{checkpoint.time} covers {base_size}: it was truncated"
            )
        lines = store.lines(checkpoint.head_seq)
        first = next(lines, None)
        if first is None or not first[2] or sha256_of(first[1]) != base_hash:
            return _broken(
                f"record seq {checkpoint.head_seq} no longer hashes to the head of the "
                f"checkpoint of {checkpoint.time}: the trail was rewritten"
            )
    new = itertools.islice(lines, head.size - base_size)
    result = verify_lines(
        new, keys, anchor=None, first_seq=base_size, prev=base_hash, on_record=on_record
    )
    if result.ok and result.head_hash != head.hash:
        return _broken(f"the trail ends before record seq {head.seq}, which it held a moment ago")
    return result


def _broken(reason: str) -> TrailVerification:
    return TrailVerification(ok=False, records_checked=0, head_hash=GENESIS_HASH, reason=reason)


def read_checkpoint(path: Path) -> Checkpoint:
    """Read and parse a checkpoint file (its signature is checked by the verifier)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the checkpoint ({exc.strerror})") from exc
    return Checkpoint.from_bytes(data, source=str(path))


def checkpoints_dir_for(trail_path: Path) -> Path:
    """Where the checkpoints of a trail are kept: `checkpoints/` beside the trail file."""
    return Path(trail_path).parent / "checkpoints"


def latest_checkpoint(dest_dir: Path) -> Path | None:
    """The checkpoint covering the most records in `dest_dir` (the newest among equals)."""
    if not dest_dir.is_dir():
        return None
    found = [p for p in dest_dir.iterdir() if _NAME_RE.match(p.name)]
    return max(found, key=lambda p: p.name) if found else None


@dataclass(frozen=True, kw_only=True)
class CheckpointVerification:
    """The outcome of checking a trail against a checkpoint held elsewhere."""

    ok: bool
    checkpoint: Checkpoint
    trail: TrailVerification | None
    reason: str | None = None


def verify_against_checkpoint(
    trail_path: Path | TrailStore, checkpoint: Checkpoint, keys: Keys
) -> CheckpointVerification:
    """Check the checkpoint's signature, the whole trail, and that the trail still holds the
    checkpoint's head record at its position (and, for v2, its Merkle root): catches
    truncation and wholesale rewriting.
    """
    return verify_against_checkpoints(trail_path, [checkpoint], keys)[0]


def verify_against_checkpoints(
    source: Path | TrailStore, checkpoints: Sequence[Checkpoint], keys: Keys
) -> list[CheckpointVerification]:
    """`verify_against_checkpoint` for several checkpoints, reading the trail once.

    With a `KeyChain`, each checkpoint must be signed by a key trusted for its trail size.
    """
    sizes = {cp.trail_size for cp in checkpoints}
    seen: dict[int, tuple[bytes, bytes]] = {}  # size -> (head record hash, Merkle root)
    if 0 in sizes:
        seen[0] = (bytes(32), EMPTY_ROOT)
    frontier = Frontier()

    def grow(digest: bytes) -> None:
        frontier.append(leaf_hash(digest))
        if frontier.size in sizes:
            seen[frontier.size] = (digest, frontier.root())

    result = verify_trail(source, keys, on_record=grow)
    return [_outcome(cp, result, seen.get(cp.trail_size), keys) for cp in checkpoints]


def _outcome(
    cp: Checkpoint, result: TrailVerification, seen: tuple[bytes, bytes] | None, keys: Keys
) -> CheckpointVerification:
    signers = keys.as_of(cp.trail_size) if isinstance(keys, KeyChain) else keys
    problem = cp.check_signature(signers)
    if problem is None and not result.ok and result.first_bad_line is not None:
        problem = f"the trail itself does not verify: {result.reason}"
    elif problem is None and seen is None:
        problem = (
            f"the trail was truncated: it holds {result.records_checked} records, but the "
            f"checkpoint of {cp.time} covers {cp.trail_size}"
        )
    elif problem is None and seen is not None and cp.trail_size:
        head, tree_root = seen
        if "sha256:" + head.hex() != cp.head_hash:
            problem = (
                f"the trail was rewritten: record seq {cp.head_seq} no longer hashes to the "
                f"checkpoint's head {cp.head_hash} (checkpoint of {cp.time})"
            )
        elif cp.root_bytes is not None and tree_root != cp.root_bytes:
            problem = (
                f"the trail was rewritten: its Merkle root over {cp.trail_size} records is not "
                f"the checkpoint's {cp.tree_root} (checkpoint of {cp.time})"
            )
    return CheckpointVerification(ok=problem is None, checkpoint=cp, trail=result, reason=problem)
