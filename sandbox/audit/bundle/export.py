"""Exporting an evidence bundle: one archive with everything needed to verify a run elsewhere.

`export_bundle` writes a `.tar.gz` whose members sit under one folder named after the run:

    MANIFEST.json            every other member's sha256, signed (format, run_id, key_id, sig)
    README.txt               how to verify, in two lines
    reports/                 report.json (source of truth), report.html, report.md
    outputs/                 predictions.csv, explanations.json (never the opaque model)
    run/                     run.json, audit-record.json, pilot.yaml and policy-packs/<id>.yaml
                             when the run folder keeps them
    hashes.json              manifest, policy pack, input, code, data, output and report hashes,
                             image and image digest, as the trail records them
    trail/records.jsonl      the trail from the run's first record up to the checkpoint's head,
                             byte for byte (other runs' records in between included: the chain
                             cannot be checked without them)
    trail/context.json       where the slice sits in the trail and which records are the run's
    checkpoint.json          a signed checkpoint whose head is the slice's last record
    keys/<key id>.pub        the public keys of the keyring (current and retired)
    attestation.dsse.json    in-toto statement of the run's result in a DSSE envelope

Input files that crossed the wall (train/score rows of residents) are hashed, never shipped.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import tarfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import rfc8785

from sandbox.audit.attestation import ATTESTATION_NAME, run_statement, sign_envelope
from sandbox.audit.bundle.contents import (
    BUNDLE_FORMAT,
    CONTEXT,
    MANIFEST,
    RUN_ID_RE,
    SLICE,
    run_hashes,
)
from sandbox.audit.checkpoint import (
    Checkpoint,
    latest_checkpoint,
    read_checkpoint,
    verify_against_checkpoint,
    write_checkpoint,
)
from sandbox.audit.keyring import key_file_name
from sandbox.audit.signing import Verifier
from sandbox.audit.trail import AuditTrail
from sandbox.digests import bytes_sha256
from sandbox.errors import AuditError, UserInputError

__all__ = ["export_bundle"]

_README: Final = """\
Evidence bundle of run {run_id} (AI Commons Sandbox).

Verify it with nothing but this file:   sandbox audit verify-bundle {name}
Then compare the key ids and the checkpoint it prints with the ones the city publishes.
See docs/auditors.md, "Verify a run from a bundle".
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


def _slice(trail: AuditTrail, first_seq: int, last_seq: int) -> bytes:
    """Lines first_seq..last_seq of the trail, exactly as stored."""
    lines = itertools.islice(trail.store.lines(first_seq), last_seq - first_seq + 1)
    return b"".join(line + b"\n" for _, line, _ in lines)


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


def export_bundle(
    run_id: str,
    *,
    runs_dir: Path,
    trail: AuditTrail,
    keys: Mapping[str, Verifier],
    checkpoints_dir: Path,
    out: Path | None = None,
    now: datetime | None = None,
) -> Path:
    """Write the evidence bundle of `run_id` (default `./sandbox-bundle-<run_id>.tar.gz`).

    The trail is verified first (with the keyring `keys`); the latest checkpoint is used if it
    covers the run, otherwise a new one is written. MANIFEST.json and, when the run folder has
    none, the attestation are signed with the trail's current key.
    """
    _check_run_id(run_id)
    run_dir = runs_dir / run_id
    if not run_dir.is_dir():
        raise UserInputError(f"{run_dir}: no such run; list runs with `ls {runs_dir}`")
    checkpoint = _verified_checkpoint(trail, keys, checkpoints_dir)
    records = trail.records_for_run(run_id)
    if not records:
        raise UserInputError(f"run {run_id}: no record in {trail.location}")
    if checkpoint is None or checkpoint.head_seq < records[-1].seq:
        written = write_checkpoint(trail, trail.signer, checkpoints_dir, keys=keys)
        checkpoint = read_checkpoint(written)
    first = records[0].seq
    records_in_slice = [r for r in records if r.seq <= checkpoint.head_seq]

    members: dict[str, bytes] = {}
    for folder, prefix in (("reports", "reports/"),):
        if (run_dir / folder).is_dir():
            for path in sorted((run_dir / folder).iterdir()):
                if path.is_file() and not path.is_symlink():
                    members[prefix + path.name] = path.read_bytes()
    for name in ("predictions.csv", "explanations.json"):
        path = run_dir / "output" / name
        if path.is_file() and not path.is_symlink():
            members[f"outputs/{name}"] = path.read_bytes()
    for name in ("run.json", "audit-record.json", "pilot.yaml"):
        path = run_dir / name
        if path.is_file() and not path.is_symlink():
            members[f"run/{name}"] = path.read_bytes()
    # Each pack file's own hash (a pack that extends another has a chain digest instead).
    packs = records[0].payload.get("policy_pack_files") or records[0].payload.get("policy_packs")
    if isinstance(packs, dict):
        for pack_id, sha in sorted(packs.items()):
            kept = run_dir / "policy-packs" / f"{pack_id}.yaml"
            data = kept.read_bytes() if kept.is_file() else _builtin_pack(pack_id, sha)
            if data is not None and bytes_sha256(data) == sha:
                members[f"run/policy-packs/{pack_id}.yaml"] = data
    members["hashes.json"] = _json_bytes(run_hashes(records_in_slice))
    members[SLICE] = _slice(trail, first, checkpoint.head_seq)
    members[CONTEXT] = _json_bytes(
        {
            "run_id": run_id,
            "first_seq": first,
            "last_seq": checkpoint.head_seq,
            "run_records": [r.seq for r in records_in_slice],
        }
    )
    members["checkpoint.json"] = checkpoint.canonical()
    for verifier in keys.values():
        members[f"keys/{key_file_name(verifier.key_id)}"] = verifier.public_key_pem()
    attestation = run_dir / ATTESTATION_NAME
    if attestation.is_file():
        members[ATTESTATION_NAME] = attestation.read_bytes()
    else:
        report = (
            json.loads(members["reports/report.json"]) if "reports/report.json" in members else None
        )
        envelope = sign_envelope(run_statement(records_in_slice, report=report), trail.signer)
        members[ATTESTATION_NAME] = _json_bytes(envelope)
    name = (out or Path(f"sandbox-bundle-{run_id}.tar.gz")).name
    members["README.txt"] = _README.format(run_id=run_id, name=name).encode("utf-8")

    created = (now or datetime.now(UTC)).astimezone(UTC)
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
