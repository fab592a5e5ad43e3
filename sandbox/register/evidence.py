"""What lets a reader check a register entry offline: the run's signed records, each with an
RFC 9162 inclusion proof against one signed checkpoint, the attestation, and the public keys.

The register site holds one checkpoint (``checkpoint.json``) covering every published record.
The latest checkpoint of the trail is used when it covers them and verifies against the trail;
otherwise a new one is signed (``write_checkpoint``, which verifies the trail first), so
building the same register twice gives the same files. Each entry's folder holds:

    records.jsonl          the run's records (submitted ... finished, and its sign-offs), byte
                           for byte as the trail holds them, nothing of any other run
    proofs.json            {"tree_size", "tree_root", "inclusion": {seq: [hex, ...]}}
    attestation.dsse.json  the run's in-toto statement in a DSSE envelope

`verify_evidence` is the offline check: checkpoint signature, each record's signature and
inclusion under the checkpoint's root, and the attestation's signature and trail hashes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sandbox.audit import merkle
from sandbox.audit.attestation import verify_envelope
from sandbox.audit.checkpoint import (
    Checkpoint,
    latest_checkpoint,
    read_checkpoint,
    verify_against_checkpoint,
    write_checkpoint,
)
from sandbox.audit.record import TrailRecord
from sandbox.audit.signing import Verifier
from sandbox.audit.trail import AuditTrail
from sandbox.audit.verify import find_key
from sandbox.errors import AuditError

__all__ = ["covering_checkpoint", "inclusion_proofs", "verify_evidence"]


def covering_checkpoint(
    trail: AuditTrail, keys: Mapping[str, Verifier], checkpoints_dir: Path, last_seq: int
) -> Checkpoint:
    """A verified v2 checkpoint whose tree holds record `last_seq`; signs one if none does."""
    latest = latest_checkpoint(checkpoints_dir)
    if latest is not None:
        checkpoint = read_checkpoint(latest)
        if checkpoint.tree_root is not None and checkpoint.head_seq >= last_seq:
            result = verify_against_checkpoint(trail.store, checkpoint, keys)
            if not result.ok:
                raise AuditError(f"{latest}: {result.reason}; no register was written")
            return checkpoint
    return read_checkpoint(write_checkpoint(trail, trail.signer, checkpoints_dir, keys=keys))


def _leaf(record_hash: str) -> bytes:
    return merkle.leaf_hash(bytes.fromhex(record_hash.removeprefix("sha256:")))


def inclusion_proofs(
    trail: AuditTrail, checkpoint: Checkpoint, records: Sequence[TrailRecord]
) -> dict[str, Any]:
    """Each record's inclusion proof under the checkpoint's root, checked before it is kept."""
    nodes = trail.store.merkle()
    size, root = checkpoint.trail_size, checkpoint.root_bytes or b""
    if merkle.root(nodes, size) != root:
        raise AuditError(f"{trail.location}: the trail's Merkle root is not the checkpoint's")
    inclusion: dict[str, list[str]] = {}
    for record in records:
        path = merkle.inclusion_proof(nodes, record.seq, size)
        if not merkle.verify_inclusion(record.seq, size, _leaf(record.hash), path, root):
            raise AuditError(f"record seq {record.seq}: its inclusion proof does not verify")
        inclusion[str(record.seq)] = [h.hex() for h in path]
    return {"tree_size": size, "tree_root": checkpoint.tree_root, "inclusion": inclusion}


def _records(folder: Path) -> list[tuple[bytes, TrailRecord]]:
    lines = (folder / "records.jsonl").read_bytes().splitlines()
    return [(line, TrailRecord.from_line(line)) for line in lines]


def verify_evidence(
    folder: Path, checkpoint: Checkpoint, keys: Mapping[str, Verifier]
) -> list[str]:
    """Problems with one entry's evidence folder against `checkpoint`; [] when it verifies."""
    problem = checkpoint.check_signature(keys)
    if problem is not None:
        return [f"checkpoint: {problem}"]
    proofs = json.loads((folder / "proofs.json").read_text(encoding="utf-8"))
    root = checkpoint.root_bytes or b""
    problems: list[str] = []
    hashes = set()
    for line, record in _records(folder):
        if record.canonical() != line:
            problems.append(f"record seq {record.seq}: not in canonical form")
        verifier = find_key(keys, record.key_id)
        if verifier is None or not verifier.verify(record.signed_bytes(), record.sig):
            problems.append(f"record seq {record.seq}: its signature does not verify")
        path = [bytes.fromhex(h) for h in proofs["inclusion"].get(str(record.seq), [])]
        if not merkle.verify_inclusion(
            record.seq, checkpoint.trail_size, _leaf(record.hash), path, root
        ):
            problems.append(f"record seq {record.seq}: not in the checkpoint's Merkle tree")
        hashes.add(record.hash)
    envelope = json.loads((folder / "attestation.dsse.json").read_text(encoding="utf-8"))
    try:
        statement = verify_envelope(envelope, keys)
    except AuditError as exc:
        return [*problems, f"attestation: {exc}"]
    attested = {t.get("hash") for t in statement["predicate"].get("trail", [])}
    if not attested <= hashes:
        problems.append("attestation: it names records the entry does not carry")
    return problems
