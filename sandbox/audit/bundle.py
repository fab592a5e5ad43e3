"""Evidence bundles: one archive holding everything needed to verify a run on another machine.

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

`verify_bundle` reads the archive into memory, extracts nothing, and checks: every member is
listed in MANIFEST.json with its hash and nothing else is there; the manifest's signature;
every record's signature and chain link in the slice; that the checkpoint signs the slice's
head; that reports, outputs, manifest and packs hash to what the records say; and the
attestation. It stops at the first problem and names it.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Final

import rfc8785

from sandbox.audit.attestation import (
    ATTESTATION_NAME,
    run_statement,
    sign_envelope,
    subjects_of,
    verify_envelope,
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
from sandbox.audit.trail import (
    AuditTrail,
    JsonValue,
    TrailRecord,
    find_key,
    records_for_run,
    verify_slice,
    verify_trail,
)
from sandbox.digests import bytes_sha256
from sandbox.errors import AuditError, UserInputError

__all__ = [
    "BUNDLE_FORMAT",
    "BundleVerification",
    "export_bundle",
    "run_hashes",
    "verify_bundle",
]

BUNDLE_FORMAT: Final = "ai-commons-sandbox/bundle/v1"
MANIFEST: Final = "MANIFEST.json"
_MANIFEST_FIELDS: Final = frozenset({"format", "run_id", "created", "files", "key_id", "sig"})
_RUN_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_MAX_MEMBER_BYTES: Final = 512 * 1024 * 1024
_MAX_TOTAL_BYTES: Final = 1024 * 1024 * 1024
_MAX_MEMBERS: Final = 10_000
_SUBMITTED: Final = ("run.submitted", "audit.submitted")
_TERMINAL: Final = ("run.finished", "run.blocked", "run.failed", "audit.finished")
_README: Final = """\
Evidence bundle of run {run_id} (AI Commons Sandbox).

Verify it with nothing but this file:   sandbox audit verify-bundle {name}
Then compare the key ids and the checkpoint it prints with the ones the city publishes.
See docs/auditors.md, "Verify a run from a bundle".
"""


def _check_run_id(run_id: str) -> None:
    if not _RUN_ID_RE.match(run_id):
        raise UserInputError(f"run id {run_id!r}: expected a name like 20261122T105929Z-f7ea02")


def run_hashes(records: list[TrailRecord]) -> dict[str, JsonValue]:
    """The hashes a run's records hold, gathered in one object (`hashes.json`)."""
    by_kind = {r.kind: r.payload for r in records}
    submitted = next((by_kind[k] for k in _SUBMITTED if k in by_kind), {})
    started = by_kind.get("run.started", {})
    terminal = next((r.payload for r in reversed(records) if r.kind in _TERMINAL), {})
    return {
        "manifest_sha256": submitted.get("manifest_sha256"),
        "policy_packs": submitted.get("policy_packs"),
        "image": started.get("image"),
        "image_digest": started.get("image_digest"),
        "inputs": started.get("inputs", submitted.get("inputs")),
        "code": started.get("code"),
        "data": started.get("data", submitted.get("data")),
        "outputs": terminal.get("outputs"),
        "reports": terminal.get("reports"),
    }


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


def _slice(trail_path: Path, first_seq: int, last_seq: int) -> bytes:
    """Lines first_seq..last_seq of the trail, exactly as stored (seq equals line index)."""
    out = bytearray()
    with trail_path.open("rb") as handle:
        for index, line in enumerate(handle):
            if index > last_seq:
                break
            if index >= first_seq:
                out += line
    return bytes(out)


def _covering_checkpoint(
    trail: AuditTrail, keys: Mapping[str, Verifier], checkpoints_dir: Path, last_seq: int
) -> Checkpoint:
    """The latest checkpoint if it covers `last_seq` and still matches the trail; else a new one."""
    latest = latest_checkpoint(checkpoints_dir)
    if latest is not None:
        checkpoint = read_checkpoint(latest)
        result = verify_against_checkpoint(trail.path, checkpoint, keys)
        if not result.ok:
            raise AuditError(f"{latest}: {result.reason}; the trail cannot be exported")
        if checkpoint.head_seq >= last_seq:
            return checkpoint
    return read_checkpoint(write_checkpoint(trail, trail.signer, checkpoints_dir, keys=keys))


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
    verification = verify_trail(trail.path, keys)
    if not verification.ok:
        raise AuditError(
            f"{trail.path}: the trail does not verify ({verification.reason}); "
            "no bundle was written"
        )
    records = records_for_run(trail.path, run_id)
    if not records:
        raise UserInputError(f"run {run_id}: no record in {trail.path}")
    checkpoint = _covering_checkpoint(trail, keys, checkpoints_dir, records[-1].seq)
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
    members["trail/records.jsonl"] = _slice(trail.path, first, checkpoint.head_seq)
    members["trail/context.json"] = _json_bytes(
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
    name = "trail/records.jsonl"
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
    context = _load_json(members, "trail/context.json")
    run_records = [r for r in records if r.run_id == run_id]
    expected = {
        "run_id": run_id,
        "first_seq": first.seq,
        "last_seq": records[-1].seq,
        "run_records": [r.seq for r in run_records],
    }
    if context != expected:
        raise _Problem("trail/context.json: does not describe the slice in trail/records.jsonl")
    if first.run_id != run_id or first.kind not in _SUBMITTED:
        raise _Problem(f"{name}: does not start with the submission record of run {run_id}")
    if not any(r.kind in _TERMINAL for r in run_records):
        raise _Problem(f"{name}: holds no final record (finished, blocked, failed) of {run_id}")
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
    terminal = next(r for r in reversed(run_records) if r.kind in _TERMINAL)
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
