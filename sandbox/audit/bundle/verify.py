"""Verifying an evidence bundle offline, with nothing but the archive (and trusted keys).

`verify_bundle` reads the archive into memory, extracts nothing, and checks: every member is
listed in MANIFEST.json with its hash and nothing else is there; the manifest's signature;
every record's signature and chain link in the slice; that the checkpoint signs the slice's
head; that reports, outputs, manifest and packs hash to what the records say; and the
attestation. It stops at the first problem and names it.
"""

from __future__ import annotations

import json
import tarfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

import rfc8785

from sandbox.audit.attestation import ATTESTATION_NAME, subjects_of, verify_envelope
from sandbox.audit.bundle.contents import (
    BUNDLE_FORMAT,
    CONTEXT,
    MANIFEST,
    SLICE,
    run_hashes,
)
from sandbox.audit.checkpoint import Checkpoint
from sandbox.audit.events import SUBMITTED_KINDS, TERMINAL_KINDS
from sandbox.audit.keyring import key_file_name
from sandbox.audit.record import TrailRecord
from sandbox.audit.signing import Verifier
from sandbox.audit.verify import find_key, verify_slice
from sandbox.digests import bytes_sha256
from sandbox.errors import AuditError

__all__ = ["BundleVerification", "verify_bundle"]

_MANIFEST_FIELDS: Final = frozenset({"format", "run_id", "created", "files", "key_id", "sig"})
_MAX_MEMBER_BYTES: Final = 512 * 1024 * 1024
_MAX_TOTAL_BYTES: Final = 1024 * 1024 * 1024
_MAX_MEMBERS: Final = 10_000


@dataclass(frozen=True, kw_only=True)
class BundleVerification:
    """The outcome of `verify_bundle`: what was checked, and the first problem if any."""

    ok: bool
    run_id: str | None
    checks: tuple[str, ...]
    problem: str | None = None
    key_ids: tuple[str, ...] = ()
    checkpoint: Checkpoint | None = None


class _Problem(Exception):
    """The first thing wrong with the bundle (internal: becomes BundleVerification.problem)."""


def _read_members(path: Path) -> dict[str, bytes]:
    """Every member's bytes by its path under the bundle's one top folder; no extraction."""
    members: dict[str, bytes] = {}
    total, root = 0, None
    try:
        with tarfile.open(path, "r:gz") as archive:
            for count, info in enumerate(archive, start=1):
                if count > _MAX_MEMBERS:
                    raise _Problem(f"more than {_MAX_MEMBERS} members")
                parts = PurePosixPath(info.name).parts
                if (
                    not info.isfile()
                    or info.name.startswith("/")
                    or ".." in parts
                    or len(parts) < 2
                ):
                    raise _Problem(f"{info.name}: not a plain file inside the bundle's folder")
                if root is None:
                    root = parts[0]
                if parts[0] != root:
                    raise _Problem(f"{info.name}: outside the bundle's folder {root}/")
                name = "/".join(parts[1:])
                if name in members:
                    raise _Problem(f"{name}: appears twice in the archive")
                total += info.size
                if info.size > _MAX_MEMBER_BYTES or total > _MAX_TOTAL_BYTES:
                    raise _Problem(f"{name}: the bundle is larger than any the sandbox writes")
                handle = archive.extractfile(info)
                if handle is None:
                    raise _Problem(f"{name}: cannot be read")
                members[name] = handle.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise _Problem(f"not a readable .tar.gz archive ({exc})") from exc
    if not members:
        raise _Problem("the archive is empty")
    return members


def _load_json(members: Mapping[str, bytes], name: str) -> Any:
    if name not in members:
        raise _Problem(f"{name}: missing")
    try:
        return json.loads(members[name].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Problem(f"{name}: not JSON ({exc})") from exc


def _check_manifest(members: Mapping[str, bytes]) -> dict[str, Any]:
    manifest = _load_json(members, MANIFEST)
    if not isinstance(manifest, dict) or set(manifest) != _MANIFEST_FIELDS:
        raise _Problem(f"{MANIFEST}: not a bundle manifest ({sorted(_MANIFEST_FIELDS)})")
    if manifest["format"] != BUNDLE_FORMAT:
        raise _Problem(f"{MANIFEST}: unknown format {manifest['format']!r}")
    files = manifest["files"]
    if not isinstance(files, dict):
        raise _Problem(f"{MANIFEST}: files is not an object")
    for name in sorted(set(members) - {MANIFEST}):
        if name not in files:
            raise _Problem(f"{name}: in the archive but not listed in {MANIFEST}")
        if bytes_sha256(members[name]) != files[name]:
            raise _Problem(f"{name}: its sha256 differs from {MANIFEST}: the file was changed")
    for name in sorted(files):
        if name not in members:
            raise _Problem(f"{name}: listed in {MANIFEST} but missing from the archive")
    return manifest


def _bundle_keys(members: Mapping[str, bytes]) -> dict[str, Verifier]:
    keys: dict[str, Verifier] = {}
    for name in sorted(n for n in members if n.startswith("keys/")):
        try:
            verifier = Verifier.from_public_key_pem(members[name], source=name)
        except AuditError as exc:
            raise _Problem(str(exc)) from exc
        if name != f"keys/{key_file_name(verifier.key_id)}":
            raise _Problem(f"{name}: holds key {verifier.key_id}, not the one it is named after")
        keys[verifier.key_id] = verifier
    if not keys:
        raise _Problem("keys/: no public key in the bundle")
    return keys


def _check_signature(manifest: dict[str, Any], keys: Mapping[str, Verifier]) -> None:
    verifier = find_key(keys, str(manifest["key_id"]))
    if verifier is None:
        raise _Problem(f"{MANIFEST}: signed by key {manifest['key_id']}, not among the keys")
    unsigned = {k: v for k, v in manifest.items() if k != "sig"}
    try:
        signed = rfc8785.dumps(unsigned)
    except rfc8785.CanonicalizationError as exc:
        raise _Problem(f"{MANIFEST}: cannot be canonicalised ({exc})") from exc
    if not verifier.verify(signed, str(manifest["sig"])):
        raise _Problem(f"{MANIFEST}: the signature does not match: the manifest was altered")


def _check_trail(
    members: Mapping[str, bytes], keys: Mapping[str, Verifier], run_id: str
) -> tuple[list[TrailRecord], Checkpoint]:
    name = SLICE
    data = members.get(name, b"")
    first_line = data.split(b"\n", 1)[0]
    try:
        first = TrailRecord.from_line(first_line)
    except ValueError as exc:
        raise _Problem(f"{name}: line 1: {exc}") from exc
    result = verify_slice(data, keys, first_seq=first.seq, prev=first.prev)
    if not result.ok:
        raise _Problem(f"{name}: {result.reason}")
    records = [TrailRecord.from_line(line) for line in data.split(b"\n")[:-1]]
    context = _load_json(members, CONTEXT)
    run_records = [r for r in records if r.run_id == run_id]
    expected = {
        "run_id": run_id,
        "first_seq": first.seq,
        "last_seq": records[-1].seq,
        "run_records": [r.seq for r in run_records],
    }
    if context != expected:
        raise _Problem("trail/context.json: does not describe the slice in trail/records.jsonl")
    if first.run_id != run_id or first.kind not in SUBMITTED_KINDS:
        raise _Problem(f"{name}: does not start with the submission record of run {run_id}")
    if not any(r.kind in TERMINAL_KINDS for r in run_records):
        ends = ", ".join(sorted(TERMINAL_KINDS))
        raise _Problem(f"{name}: holds no final record ({ends}) of {run_id}")
    try:
        checkpoint = Checkpoint.from_bytes(
            members.get("checkpoint.json", b""), source="checkpoint.json"
        )
    except AuditError as exc:
        raise _Problem(str(exc)) from exc
    problem = checkpoint.check_signature(keys)
    if problem is not None:
        raise _Problem(f"checkpoint.json: {problem}")
    if checkpoint.head_seq != records[-1].seq or checkpoint.head_hash != result.head_hash:
        raise _Problem(
            "checkpoint.json: its head is not the last record of trail/records.jsonl: the "
            "slice does not end at the signed checkpoint"
        )
    return run_records, checkpoint


def _check_hashes(members: Mapping[str, bytes], run_records: list[TrailRecord]) -> None:
    hashes = run_hashes(run_records)
    if _load_json(members, "hashes.json") != hashes:
        raise _Problem("hashes.json: differs from the hashes in the run's trail records")
    for folder, key in (("reports/", "reports"), ("outputs/", "outputs")):
        recorded = hashes.get(key) or {}
        if not isinstance(recorded, dict):
            raise _Problem(f"the final record's {key} is not an object")
        for name in sorted(n for n in members if n.startswith(folder)):
            short = name.removeprefix(folder)
            if recorded.get(short) != bytes_sha256(members[name]):
                raise _Problem(f"{name}: does not hash to what the run's final record says")
        if key == "reports":
            for short in recorded:
                if folder + short not in members:
                    raise _Problem(f"{folder}{short}: recorded by the run, missing from the bundle")
    if "run/pilot.yaml" in members and bytes_sha256(members["run/pilot.yaml"]) != hashes.get(
        "manifest_sha256"
    ):
        raise _Problem("run/pilot.yaml: does not hash to the run's recorded manifest hash")
    packs = hashes.get("policy_packs") or {}
    for name in sorted(n for n in members if n.startswith("run/policy-packs/")):
        pack_id = name.removeprefix("run/policy-packs/").removesuffix(".yaml")
        if not isinstance(packs, dict) or packs.get(pack_id) != bytes_sha256(members[name]):
            raise _Problem(f"{name}: does not hash to the run's recorded policy pack hash")
    if "run/audit-record.json" in members:
        written = _load_json(members, "run/audit-record.json")
        if not isinstance(written, list) or written != [
            r.to_dict() for r in run_records[: len(written)]
        ]:
            raise _Problem("run/audit-record.json: differs from the run's records in the trail")


def _check_attestation(
    members: Mapping[str, bytes], keys: Mapping[str, Verifier], run_records: list[TrailRecord]
) -> None:
    envelope = _load_json(members, ATTESTATION_NAME)
    try:
        statement = verify_envelope(envelope, keys)
    except AuditError as exc:
        raise _Problem(f"{ATTESTATION_NAME}: {exc}") from exc
    by_kind = {r.kind: r for r in run_records}
    terminal = next(r for r in reversed(run_records) if r.kind in TERMINAL_KINDS)
    started = by_kind.get("run.started", run_records[0])
    predicate = statement.get("predicate") or {}
    if predicate.get("run_id") != terminal.run_id or predicate.get("verdict") != (
        terminal.payload.get("verdict")
    ):
        raise _Problem(f"{ATTESTATION_NAME}: names another run or another verdict")
    if statement.get("subject") != subjects_of(started.payload, terminal.payload):
        raise _Problem(f"{ATTESTATION_NAME}: its subjects differ from the run's recorded digests")


def verify_bundle(
    path: Path, *, trusted_keys: Mapping[str, Verifier] | None = None
) -> BundleVerification:
    """Verify an evidence bundle with nothing but its own content (and optional trusted keys).

    With `trusted_keys`, every signature must come from one of them (the keys the city
    publishes); without, the bundle's own keys are used and their ids are returned so the
    auditor can compare them with the published ones.
    """
    checks: list[str] = []
    run_id: str | None = None
    key_ids: tuple[str, ...] = ()
    checkpoint: Checkpoint | None = None
    try:
        members = _read_members(Path(path))
        checks.append(f"archive read: {len(members)} files")
        manifest = _check_manifest(members)
        run_id = str(manifest["run_id"])
        checks.append(f"every file matches its sha256 in {MANIFEST}")
        bundle_keys = _bundle_keys(members)
        keys = dict(trusted_keys) if trusted_keys is not None else bundle_keys
        key_ids = tuple(sorted(bundle_keys))
        _check_signature(manifest, keys)
        checks.append(f"{MANIFEST} signature verifies (key {manifest['key_id']})")
        run_records, checkpoint = _check_trail(members, keys, run_id)
        checks.append(
            f"trail slice verifies: records {run_records[0].seq}..{checkpoint.head_seq}, "
            "every signature and link"
        )
        checks.append(
            f"checkpoint signs the slice's head (trail size {checkpoint.trail_size}, "
            f"{checkpoint.time})"
        )
        _check_hashes(members, run_records)
        checks.append("reports, outputs, manifest and policy packs match the recorded hashes")
        _check_attestation(members, keys, run_records)
        checks.append("attestation (in-toto statement, DSSE envelope) verifies")
    except _Problem as exc:
        return BundleVerification(
            ok=False,
            run_id=run_id,
            checks=tuple(checks),
            problem=str(exc),
            key_ids=key_ids,
            checkpoint=checkpoint,
        )
    return BundleVerification(
        ok=True, run_id=run_id, checks=tuple(checks), key_ids=key_ids, checkpoint=checkpoint
    )
