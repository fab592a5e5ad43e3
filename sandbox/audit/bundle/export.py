"""Exporting an evidence bundle: one archive with everything needed to verify a run elsewhere.

`export_bundle` writes a `.tar.gz` whose members sit under one folder named after the run:

    MANIFEST.json            every other member's sha256, signed (format, run_id, key_id, sig)
    README.txt               how to verify, in two lines
    reports/                 report.json (source of truth), report.html, report.md, ...
    outputs/                 predictions.csv, explanations.json (never the opaque model)
    run/                     audit-record.json, pilot.yaml, policy-packs/<id>.yaml, and run.json
                             reduced to run id, pilot, mode, status and start (no host path, pid)
    hashes.json              manifest, policy pack, input, code, data, output and report hashes,
                             image and image digest, as the trail records them
    trail/records.jsonl      the run's own records and the trail's key rotations, byte for byte,
                             and nothing of any other run
    trail/proofs.json        an RFC 9162 inclusion proof of each of those records against the
                             checkpoint's Merkle root, and consistency proofs from the
                             checkpoints the auditor holds (`held`) to it
    checkpoint.json          the signed checkpoint (size, head, Merkle root) the proofs lead to
    keys/<key id>.pub        the public keys that signed anything in the bundle
    attestation.dsse.json    in-toto statement of the run's result in a DSSE envelope

Input files that crossed the wall (train/score rows of residents) are hashed, never shipped.
The report files are checked against the run's signed record first: a report changed after
its run is never signed into a bundle.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import rfc8785

from sandbox.audit import merkle
from sandbox.audit.attestation import ATTESTATION_NAME, run_statement, sign_envelope
from sandbox.audit.bundle.contents import (
    BUNDLE_FORMAT,
    MANIFEST,
    PROOFS,
    RECORDS,
    RUN_ID_RE,
    RUN_STATE_FIELDS,
    run_hashes,
)
from sandbox.audit.checkpoint import (
    Checkpoint,
    latest_checkpoint,
    read_checkpoint,
    verify_against_checkpoint,
    write_checkpoint,
)
from sandbox.audit.events import TERMINAL_KINDS, TrailKeyRotated
from sandbox.audit.keyring import key_file_name
from sandbox.audit.record import TrailRecord
from sandbox.audit.report_integrity import check_report_files
from sandbox.audit.signing import Verifier
from sandbox.audit.trail import AuditTrail
from sandbox.digests import bytes_sha256
from sandbox.errors import AuditError, UserInputError

__all__ = ["export_bundle"]

_README: Final = """\
Evidence bundle of run {run_id} (AI Commons Sandbox).

Verify it with nothing but this file and the city's published keys:
    sandbox audit verify-bundle {name} --trusted-key city-key.pub
It holds this run's records only, each with a Merkle inclusion proof against the signed
checkpoint. See docs/auditors.md, "Verify a run from a bundle".
"""


def _check_run_id(run_id: str) -> None:
    if not RUN_ID_RE.match(run_id):
        raise UserInputError(f"run id {run_id!r}: expected a name like 20261122T105929Z-f7ea02")


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _builtin_pack(pack_id: str, sha256: object) -> bytes | None:
    """The built-in pack file `pack_id` if its bytes still hash to what the run recorded."""
    from importlib import resources

    path = Path(str(resources.files("sandbox.policies") / "packs" / pack_id / "pack.yaml"))
    if not re.match(r"^[a-z0-9][a-z0-9_-]*$", pack_id) or not path.is_file():
        return None
    data = path.read_bytes()
    return data if bytes_sha256(data) == sha256 else None


def _verified_checkpoint(
    trail: AuditTrail, keys: Mapping[str, Verifier], checkpoints_dir: Path
) -> Checkpoint | None:
    """Verify the whole trail, against the latest checkpoint when there is one; return it."""
    latest = latest_checkpoint(checkpoints_dir)
    if latest is None:
        verification = trail.verify(keys)
        if not verification.ok:
            raise AuditError(
                f"{trail.location}: the trail does not verify ({verification.reason}); "
                "no bundle was written"
            )
        return None
    checkpoint = read_checkpoint(latest)
    result = verify_against_checkpoint(trail.store, checkpoint, keys)
    if not result.ok:
        raise AuditError(f"{latest}: {result.reason}; the trail cannot be exported")
    return checkpoint


def _covering_checkpoint(
    trail: AuditTrail,
    keys: Mapping[str, Verifier],
    checkpoints_dir: Path,
    latest: Checkpoint | None,
    *,
    last_seq: int,
    held: Sequence[Checkpoint],
) -> Checkpoint:
    """A v2 checkpoint covering the run and every held checkpoint; signs a new one if needed."""
    if (
        latest is not None
        and latest.tree_root is not None
        and latest.head_seq >= last_seq
        and all(h.trail_size <= latest.trail_size for h in held)
    ):
        return latest
    return read_checkpoint(write_checkpoint(trail, trail.signer, checkpoints_dir, keys=keys))


def _tree(trail: AuditTrail, checkpoint: Checkpoint) -> merkle.Nodes:
    """The store's Merkle tree, once its root at the checkpoint is the signed one."""
    nodes = trail.store.merkle()
    try:
        if merkle.root(nodes, checkpoint.trail_size) == checkpoint.root_bytes:
            return nodes
    except (KeyError, ValueError):
        pass
    rebuilt = merkle.MerkleLevels()  # a stale index: hash the lines themselves
    for record in trail.records_from(0):
        if rebuilt.size == checkpoint.trail_size:
            break
        rebuilt.append(merkle.leaf_hash(bytes.fromhex(record.hash.removeprefix("sha256:"))))
    if rebuilt.size < checkpoint.trail_size or (
        merkle.root(rebuilt, checkpoint.trail_size) != checkpoint.root_bytes
    ):
        raise AuditError(f"{trail.location}: the trail's Merkle root is not the checkpoint's")
    return rebuilt


def _proofs(
    nodes: merkle.Nodes,
    checkpoint: Checkpoint,
    records: Sequence[TrailRecord],
    held: Sequence[Checkpoint],
) -> dict[str, Any]:
    """Inclusion proofs of `records` and consistency proofs from `held`, each checked."""
    size, tree_root = checkpoint.trail_size, checkpoint.root_bytes or b""
    inclusion: dict[str, list[str]] = {}
    for record in records:
        path = merkle.inclusion_proof(nodes, record.seq, size)
        leaf = merkle.leaf_hash(bytes.fromhex(record.hash.removeprefix("sha256:")))
        if not merkle.verify_inclusion(record.seq, size, leaf, path, tree_root):
            raise AuditError(f"record seq {record.seq}: its inclusion proof does not verify")
        inclusion[str(record.seq)] = [h.hex() for h in path]
    consistency = []
    for old in held:
        if old.root_bytes is None:
            raise UserInputError(
                f"checkpoint of {old.time}: a version 1 checkpoint has no Merkle root to prove "
                "consistency with; hold a newer one"
            )
        proof = merkle.consistency_proof(nodes, old.trail_size, size)
        if not merkle.verify_consistency(old.trail_size, size, old.root_bytes, tree_root, proof):
            raise AuditError(
                f"checkpoint of {old.time} (size {old.trail_size}): this trail does not extend "
                "it; it belongs to another trail, or this one was rewritten"
            )
        consistency.append(
            {
                "tree_size": old.trail_size,
                "tree_root": old.tree_root,
                "proof": [h.hex() for h in proof],
            }
        )
    return {
        "tree_size": size,
        "tree_root": checkpoint.tree_root,
        "inclusion": inclusion,
        "consistency": consistency,
    }


def _run_files(run_dir: Path, records: Sequence[TrailRecord]) -> dict[str, bytes]:
    """The run folder's evidence: reports, outputs, manifest, packs, a redacted run.json."""
    members: dict[str, bytes] = {}
    if (run_dir / "reports").is_dir():
        for path in sorted((run_dir / "reports").iterdir()):
            if path.is_file() and not path.is_symlink():
                members["reports/" + path.name] = path.read_bytes()
    for name in ("predictions.csv", "explanations.json"):
        path = run_dir / "output" / name
        if path.is_file() and not path.is_symlink():
            members[f"outputs/{name}"] = path.read_bytes()
    for name in ("audit-record.json", "pilot.yaml"):
        path = run_dir / name
        if path.is_file() and not path.is_symlink():
            members[f"run/{name}"] = path.read_bytes()
    state = run_dir / "run.json"
    if state.is_file() and not state.is_symlink():
        try:
            full = json.loads(state.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):
            full = {}
        if isinstance(full, dict):
            kept = {k: full[k] for k in RUN_STATE_FIELDS if k in full}
            members["run/run.json"] = _json_bytes(kept)
    # Each pack file's own hash (a pack that extends another has a chain digest instead).
    packs = records[0].payload.get("policy_pack_files") or records[0].payload.get("policy_packs")
    if isinstance(packs, dict):
        for pack_id, sha in sorted(packs.items()):
            kept_pack = run_dir / "policy-packs" / f"{pack_id}.yaml"
            data = kept_pack.read_bytes() if kept_pack.is_file() else _builtin_pack(pack_id, sha)
            if data is not None and bytes_sha256(data) == sha:
                members[f"run/policy-packs/{pack_id}.yaml"] = data
    return members


def export_bundle(
    run_id: str,
    *,
    runs_dir: Path,
    trail: AuditTrail,
    keys: Mapping[str, Verifier],
    checkpoints_dir: Path,
    out: Path | None = None,
    now: datetime | None = None,
    held: Sequence[Checkpoint] = (),
) -> Path:
    """Write the evidence bundle of `run_id` (default `./sandbox-bundle-<run_id>.tar.gz`).

    The trail is verified first (with the keyring `keys`) and the run's reports against its
    signed record (AuditError naming any changed file). The latest checkpoint is used if it
    covers the run and every `held` checkpoint, otherwise a new one is written; `held` are
    checkpoints an auditor already holds, to which the bundle adds consistency proofs.
    MANIFEST.json and, when the run folder has none, the attestation are signed with the
    trail's current key.
    """
    _check_run_id(run_id)
    run_dir = runs_dir / run_id
    if not run_dir.is_dir():
        raise UserInputError(f"{run_dir}: no such run; list runs with `ls {runs_dir}`")
    latest = _verified_checkpoint(trail, keys, checkpoints_dir)
    records = trail.records_for_run(run_id)
    if not records:
        raise UserInputError(f"run {run_id}: no record in {trail.location}")
    if not any(r.kind in TERMINAL_KINDS for r in records):
        raise UserInputError(f"run {run_id}: has not ended; export it once it has")
    problems = check_report_files(run_dir, records)
    if problems:
        listed = "; ".join(str(p) for p in problems)
        raise AuditError(
            f"run {run_id}: its reports differ from its signed record ({listed}); no bundle was "
            "written: restore the run's reports from a backup"
        )
    checkpoint = _covering_checkpoint(
        trail, keys, checkpoints_dir, latest, last_seq=records[-1].seq, held=held
    )
    rotations = [
        r
        for r in trail.store.records_of_kind(TrailKeyRotated.kind)
        if r.seq < checkpoint.trail_size
    ]
    proven = sorted({r.seq: r for r in [*records, *rotations]}.values(), key=lambda r: r.seq)
    nodes = _tree(trail, checkpoint)

    members = _run_files(run_dir, records)
    members["hashes.json"] = _json_bytes(run_hashes(records))
    members[RECORDS] = b"".join(r.canonical() + b"\n" for r in proven)
    members[PROOFS] = _json_bytes(_proofs(nodes, checkpoint, proven, held))
    members["checkpoint.json"] = checkpoint.canonical()
    attestation = run_dir / ATTESTATION_NAME
    if attestation.is_file():
        members[ATTESTATION_NAME] = attestation.read_bytes()
    else:
        report = (
            json.loads(members["reports/report.json"]) if "reports/report.json" in members else None
        )
        envelope = sign_envelope(run_statement(records, report=report), trail.signer)
        members[ATTESTATION_NAME] = _json_bytes(envelope)
    signers = {r.key_id for r in proven} | {checkpoint.key_id, trail.signer.key_id}
    signers |= {str(s.get("keyid")) for s in json.loads(members[ATTESTATION_NAME])["signatures"]}
    available = {**keys, trail.signer.key_id: trail.signer.verifier()}
    for key_id in sorted(signers & set(available)):
        members[f"keys/{key_file_name(key_id)}"] = available[key_id].public_key_pem()
    name = (out or Path(f"sandbox-bundle-{run_id}.tar.gz")).name
    members["README.txt"] = _README.format(run_id=run_id, name=name).encode("utf-8")
    return _write(members, run_id, trail, out, (now or datetime.now(UTC)).astimezone(UTC))


def _write(
    members: dict[str, bytes], run_id: str, trail: AuditTrail, out: Path | None, created: datetime
) -> Path:
    """Sign the manifest of `members` and write the archive atomically."""
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "run_id": run_id,
        "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": {path: bytes_sha256(data) for path, data in sorted(members.items())},
        "key_id": trail.signer.key_id,
    }
    manifest["sig"] = trail.signer.sign(rfc8785.dumps(manifest))
    members[MANIFEST] = rfc8785.dumps(manifest) + b"\n"

    target = out or Path.cwd() / f"sandbox-bundle-{run_id}.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with tarfile.open(tmp, "w:gz") as archive:
        for member, data in sorted(members.items()):
            info = tarfile.TarInfo(f"{run_id}/{member}")
            info.size, info.mode, info.mtime = len(data), 0o644, int(created.timestamp())
            archive.addfile(info, io.BytesIO(data))
    tmp.replace(target)
    return target
