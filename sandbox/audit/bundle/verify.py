"""Verifying an evidence bundle offline, with nothing but the archive and the keys one trusts.

`verify_bundle` reads the archive into memory, extracts nothing, and checks: every member is
listed in MANIFEST.json with its hash and nothing else is there; each record of
`trail/records.jsonl` (the run's own and the trail's key rotations) is at its position in the
tree whose Merkle root the checkpoint signs (RFC 9162 inclusion proofs) and is signed by a
trusted key; the checkpoint's signature; consistency with any checkpoint the auditor holds;
the manifest's signature; that reports, outputs, manifest and packs hash to what the records
say; and the attestation. It stops at the first problem and names it.

Trust starts from the keys the auditor pins (`KeyChain`, `sandbox.audit.anchor`) and follows
the signed rotation records in the bundle; without pins, from the bundle's own keys, which
proves the bundle intact but not who made it (`trusted` says which).
"""

from __future__ import annotations

import json
import tarfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

import rfc8785

from sandbox.audit import merkle
from sandbox.audit.anchor import KeyChain, Source
from sandbox.audit.attestation import ATTESTATION_NAME, subjects_of, verify_envelope
from sandbox.audit.bundle.contents import BUNDLE_FORMAT, MANIFEST, PROOFS, RECORDS, run_hashes
from sandbox.audit.checkpoint import Checkpoint
from sandbox.audit.events import SUBMITTED_KINDS, TERMINAL_KINDS, TrailKeyRotated
from sandbox.audit.keyring import key_file_name
from sandbox.audit.record import TrailRecord
from sandbox.audit.signing import Verifier
from sandbox.audit.verify import find_key
from sandbox.digests import bytes_sha256
from sandbox.errors import AuditError

__all__ = ["BundleVerification", "verify_bundle"]

_MANIFEST_FIELDS: Final = frozenset({"format", "run_id", "created", "files", "key_id", "sig"})
_MAX_MEMBER_BYTES: Final = 512 * 1024 * 1024
_MAX_TOTAL_BYTES: Final = 1024 * 1024 * 1024
_MAX_MEMBERS: Final = 10_000


@dataclass(frozen=True, kw_only=True)
class BundleVerification:
    """The outcome of `verify_bundle`: what was checked, whom it trusted, the first problem."""

    ok: bool
    run_id: str | None
    checks: tuple[str, ...]
    problem: str | None = None
    key_ids: tuple[str, ...] = ()  # the public keys the bundle carries
    checkpoint: Checkpoint | None = None
    trusted: Source = "bundle"  # "pinned": the auditor's keys; "bundle": the bundle's own
    trusted_keys: tuple[str, ...] = ()  # each trusted key and where its trust came from


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
    if manifest["format"] == "ai-commons-sandbox/bundle/v1":
        raise _Problem(
            f"{MANIFEST}: a version 1 bundle, which carried other runs' records; ask for the run "
            "to be exported again"
        )
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
        raise _Problem(
            f"{MANIFEST}: signed by key {manifest['key_id']}, which is not among the trusted keys"
        )
    unsigned = {k: v for k, v in manifest.items() if k != "sig"}
    try:
        signed = rfc8785.dumps(unsigned)
    except rfc8785.CanonicalizationError as exc:
        raise _Problem(f"{MANIFEST}: cannot be canonicalised ({exc})") from exc
    if not verifier.verify(signed, str(manifest["sig"])):
        raise _Problem(f"{MANIFEST}: the signature does not match: the manifest was altered")


def _hashes(value: object, where: str) -> list[bytes]:
    """A JSON list of hex hashes as bytes; _Problem naming `where` otherwise."""
    try:
        if not isinstance(value, list):
            raise ValueError("not a list")
        found = [bytes.fromhex(str(h)) for h in value]
    except ValueError as exc:
        raise _Problem(f"{PROOFS}: {where}: not a list of hex hashes ({exc})") from exc
    if any(len(h) != 32 for h in found) or len(found) > 64:
        raise _Problem(f"{PROOFS}: {where}: not a list of hex hashes of 32 bytes")
    return found


def _checkpoint(members: Mapping[str, bytes]) -> Checkpoint:
    try:
        checkpoint = Checkpoint.from_bytes(
            members.get("checkpoint.json", b""), source="checkpoint.json"
        )
    except AuditError as exc:
        raise _Problem(str(exc)) from exc
    if checkpoint.root_bytes is None:
        raise _Problem("checkpoint.json: a version 1 checkpoint has no Merkle root to prove with")
    return checkpoint


def _check_records(
    members: Mapping[str, bytes], chain: KeyChain, run_id: str, checkpoint: Checkpoint
) -> list[TrailRecord]:
    """Every record proven under the checkpoint's root and signed by a trusted key, in order."""
    proofs = _load_json(members, PROOFS)
    inclusion = proofs.get("inclusion") if isinstance(proofs, dict) else None
    if not isinstance(inclusion, dict):
        raise _Problem(f"{PROOFS}: no inclusion proofs")
    size, tree_root = checkpoint.trail_size, checkpoint.root_bytes or b""
    run_records: list[TrailRecord] = []
    last_seq = -1
    for number, line in enumerate(members.get(RECORDS, b"").split(b"\n")[:-1], start=1):
        where = f"{RECORDS}: line {number}"
        try:
            record = TrailRecord.from_line(line)
        except ValueError as exc:
            raise _Problem(f"{where}: {exc}") from exc
        if record.seq <= last_seq:
            raise _Problem(f"{where}: seq {record.seq} is out of order")
        last_seq = record.seq
        is_rotation = record.kind == TrailKeyRotated.kind and record.run_id is None
        if record.run_id != run_id and not is_rotation:
            raise _Problem(f"{where}: a record of another run ({record.kind}) has no place here")
        path = _hashes(inclusion.get(str(record.seq)), f"record seq {record.seq}")
        leaf = merkle.leaf_hash(bytes.fromhex(record.hash.removeprefix("sha256:")))
        if not merkle.verify_inclusion(record.seq, size, leaf, path, tree_root):
            raise _Problem(
                f"{where}: record seq {record.seq} is not proven in the checkpoint's tree "
                f"(size {size}, root {checkpoint.tree_root}): the record or its proof was altered"
            )
        verifier = chain.trusted_for(record.key_id, record.seq)
        if verifier is None:
            raise _Problem(f"{where}: {chain.why_not(record.key_id, record.seq)}")
        if not verifier.verify(record.signed_bytes(), record.sig):
            raise _Problem(f"{where}: the signature does not match the record: it was altered")
        chain.follow(record)
        if not is_rotation:
            run_records.append(record)
    if not run_records or run_records[0].kind not in SUBMITTED_KINDS:
        raise _Problem(f"{RECORDS}: does not start with the submission record of run {run_id}")
    if not any(r.kind in TERMINAL_KINDS for r in run_records):
        ends = ", ".join(sorted(TERMINAL_KINDS))
        raise _Problem(f"{RECORDS}: holds no final record ({ends}) of {run_id}")
    problem = checkpoint.check_signature(chain.as_of(size))
    if problem is not None:
        raise _Problem(f"checkpoint.json: {problem}")
    return run_records


def _check_held(
    members: Mapping[str, bytes],
    chain: KeyChain,
    checkpoint: Checkpoint,
    held: Sequence[Checkpoint],
) -> list[str]:
    """That the bundle's checkpoint is, or provably extends, each checkpoint the auditor holds."""
    proofs = _load_json(members, PROOFS)
    given = proofs.get("consistency", []) if isinstance(proofs, dict) else []
    by_size = {c.get("tree_size"): c for c in given if isinstance(c, dict)}
    lines = []
    for old in held:
        name = f"held checkpoint of {old.time} (size {old.trail_size})"
        problem = old.check_signature(chain.as_of(old.trail_size))
        if problem is not None:
            raise _Problem(f"{name}: {problem}")
        if old.root_bytes is None:
            raise _Problem(f"{name}: a version 1 checkpoint has no Merkle root to compare")
        if (old.trail_size, old.tree_root) == (checkpoint.trail_size, checkpoint.tree_root):
            lines.append(f"{name}: the bundle's checkpoint is the one held")
            continue
        entry = by_size.get(old.trail_size)
        if entry is None or entry.get("tree_root") != old.tree_root:
            raise _Problem(
                f"{name}: the bundle proves no consistency with it; ask for a bundle exported "
                "with `sandbox audit export RUN --checkpoint FILE`"
            )
        proof = _hashes(entry.get("proof"), f"consistency from size {old.trail_size}")
        if not merkle.verify_consistency(
            old.trail_size,
            checkpoint.trail_size,
            old.root_bytes,
            checkpoint.root_bytes or b"",
            proof,
        ):
            raise _Problem(
                f"{name}: the bundle's checkpoint does not extend it: the trail was rewritten "
                "since, or the proof was altered"
            )
        lines.append(f"{name}: the bundle's checkpoint extends it (consistency proof)")
    return lines


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
    submitted = next((r for r in run_records if r.kind in SUBMITTED_KINDS), run_records[0])
    expected = subjects_of(started.payload, terminal.payload, submitted=submitted.payload)
    if statement.get("subject") != expected:
        raise _Problem(f"{ATTESTATION_NAME}: its subjects differ from the run's recorded digests")


def _chain(
    trusted_keys: Mapping[str, Verifier] | KeyChain | None, bundle_keys: dict[str, Verifier]
) -> KeyChain:
    if isinstance(trusted_keys, KeyChain):
        return trusted_keys.fresh()
    if trusted_keys is not None:
        roots = {k: (v, "pinned") for k, v in trusted_keys.items()}
        return KeyChain(roots, source="pinned", anchor="the given keys")
    roots = {k: (v, f"the bundle's keys/{key_file_name(k)}") for k, v in bundle_keys.items()}
    return KeyChain(roots, source="bundle", anchor="the bundle itself")


def verify_bundle(
    path: Path,
    *,
    trusted_keys: Mapping[str, Verifier] | KeyChain | None = None,
    held: Sequence[Checkpoint] = (),
) -> BundleVerification:
    """Verify an evidence bundle with nothing but its content and the keys one trusts.

    With `trusted_keys` (the keys the city publishes, pinned), every signature must come from
    one of them or from a key they handed over to in a signed rotation record of the bundle;
    without, the bundle's own keys are used (`trusted` "bundle"). `held` are checkpoints the
    auditor holds: the bundle's checkpoint must be one of them or provably extend it.
    """
    checks: list[str] = []
    run_id: str | None = None
    key_ids: tuple[str, ...] = ()
    checkpoint: Checkpoint | None = None
    chain: KeyChain | None = None
    try:
        members = _read_members(Path(path))
        checks.append(f"archive read: {len(members)} files")
        manifest = _check_manifest(members)
        run_id = str(manifest["run_id"])
        checks.append(f"every file matches its sha256 in {MANIFEST}")
        bundle_keys = _bundle_keys(members)
        key_ids = tuple(sorted(bundle_keys))
        chain = _chain(trusted_keys, bundle_keys)
        checkpoint = _checkpoint(members)
        run_records = _check_records(members, chain, run_id, checkpoint)
        checks.append(
            f"{len(run_records)} records of the run are in the checkpointed trail (Merkle "
            f"inclusion proofs against root {checkpoint.tree_root}), each signed by a trusted key"
        )
        checks.append(
            f"checkpoint signature verifies (trail size {checkpoint.trail_size}, "
            f"{checkpoint.time}, key {checkpoint.key_id})"
        )
        checks.extend(_check_held(members, chain, checkpoint, held))
        _check_signature(manifest, chain)
        checks.append(f"{MANIFEST} signature verifies (key {manifest['key_id']})")
        _check_hashes(members, run_records)
        checks.append("reports, outputs, manifest and policy packs match the recorded hashes")
        _check_attestation(members, chain, run_records)
        checks.append("attestation (in-toto statement, DSSE envelope) verifies")
    except _Problem as exc:
        return BundleVerification(
            ok=False,
            run_id=run_id,
            checks=tuple(checks),
            problem=str(exc),
            key_ids=key_ids,
            checkpoint=checkpoint,
            trusted=chain.source if chain else _source(trusted_keys),
            trusted_keys=tuple(chain.describe()) if chain else (),
        )
    return BundleVerification(
        ok=True,
        run_id=run_id,
        checks=tuple(checks),
        key_ids=key_ids,
        checkpoint=checkpoint,
        trusted=chain.source,
        trusted_keys=tuple(chain.describe()),
    )


def _source(trusted_keys: Mapping[str, Verifier] | KeyChain | None) -> Source:
    if isinstance(trusted_keys, KeyChain):
        return trusted_keys.source
    return "bundle" if trusted_keys is None else "pinned"
