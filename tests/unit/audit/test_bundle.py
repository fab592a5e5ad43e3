"""Evidence bundles verify with nothing but themselves, and fail after any change to any file."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from sandbox.audit.bundle import export_bundle, verify_bundle
from sandbox.audit.checkpoint import write_checkpoint
from sandbox.audit.keyring import load_keyring, rotate_key
from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail
from sandbox.runs.pilot_run import RunOutcome, RunServices, run_pilot
from sandbox.runtime.fake import FakeRuntime
from sandbox.tracking.memory import InMemoryTracker
from tests.pilots import write_pilot
from tests.unit.runs.test_pilot_run import income_rule


@pytest.fixture
def services(tmp_path: Path) -> RunServices:
    signer = Signer.load_or_create(tmp_path / "home" / "keys" / "trail-ed25519.pem")
    return RunServices(
        runtime=FakeRuntime(income_rule),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "home" / "audit" / "trail.jsonl", signer),
        image="runner:test",
        runs_dir=tmp_path / "home" / "runs",
        actor="tester@test",
    )


@pytest.fixture
def run(tmp_path: Path, services: RunServices) -> RunOutcome:
    return run_pilot(write_pilot(tmp_path / "pilot"), services)


def _export(services: RunServices, run_id: str, out: Path) -> Path:
    key_path = services.trail.signer.public_key_path
    assert key_path is not None
    return export_bundle(
        run_id,
        runs_dir=services.runs_dir,
        trail=services.trail,
        keys=load_keyring(key_path.with_suffix("")),
        checkpoints_dir=services.trail.path.parent / "checkpoints",
        out=out,
    )


def _members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle, "r:gz") as archive:
        return {m.name: archive.extractfile(m).read() for m in archive}  # type: ignore[union-attr]


def _repack(members: dict[str, bytes], dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return dest


def test_a_bundle_verifies_in_a_clean_folder(
    tmp_path: Path, services: RunServices, run: RunOutcome
) -> None:
    bundle = _export(services, run.run_id, tmp_path / "out" / "b.tar.gz")
    clean = tmp_path / "elsewhere"
    clean.mkdir()
    moved = Path(shutil.copy(bundle, clean / "bundle.tar.gz"))
    shutil.rmtree(tmp_path / "home")  # nothing of the sandbox is left
    result = verify_bundle(moved)
    assert result.ok, result.problem
    assert result.run_id == run.run_id
    assert result.checkpoint is not None and result.checkpoint.head_seq == run.trail_seq
    names = {n.split("/", 1)[1] for n in _members(moved)}
    assert {
        "MANIFEST.json",
        "reports/report.json",
        "reports/report.html",
        "outputs/predictions.csv",
        "hashes.json",
        "trail/records.jsonl",
        "trail/proofs.json",
        "checkpoint.json",
        "attestation.dsse.json",
        "run/audit-record.json",
        "run/policy-packs/baseline.yaml",
    } <= names
    assert not any(n.startswith("input/") for n in names)  # residents' rows never leave
    hashes = json.loads(_members(moved)[f"{run.run_id}/hashes.json"])
    assert hashes["image_digest"].startswith("sha256:") and "train.parquet" in hashes["inputs"]


def test_flipping_any_byte_of_any_member_is_caught(
    tmp_path: Path, services: RunServices, run: RunOutcome
) -> None:
    bundle = _export(services, run.run_id, tmp_path / "b.tar.gz")
    members = _members(bundle)
    assert verify_bundle(_repack(members, tmp_path / "same.tar.gz")).ok
    for index, (name, data) in enumerate(sorted(members.items())):
        for position in {0, len(data) // 2, len(data) - 1}:
            changed = bytearray(data)
            changed[position] ^= 0x01
            tampered = _repack({**members, name: bytes(changed)}, tmp_path / f"t{index}.tar.gz")
            result = verify_bundle(tampered)
            assert not result.ok, f"flipping byte {position} of {name} went unnoticed"
            assert result.problem


def test_removed_added_and_corrupt_members_are_caught(
    tmp_path: Path, services: RunServices, run: RunOutcome
) -> None:
    bundle = _export(services, run.run_id, tmp_path / "b.tar.gz")
    members = _members(bundle)
    root = run.run_id
    fewer = {k: v for k, v in members.items() if k != f"{root}/reports/report.md"}
    result = verify_bundle(_repack(fewer, tmp_path / "fewer.tar.gz"))
    assert not result.ok and "reports/report.md" in (result.problem or "")
    more = {**members, f"{root}/reports/extra.txt": b"hello"}
    result = verify_bundle(_repack(more, tmp_path / "more.tar.gz"))
    assert not result.ok and "not listed" in (result.problem or "")
    escape = {**members, "../evil": b"x"}
    assert not verify_bundle(_repack(escape, tmp_path / "escape.tar.gz")).ok
    raw = bytearray(bundle.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "corrupt.tar.gz").write_bytes(bytes(raw))
    assert not verify_bundle(tmp_path / "corrupt.tar.gz").ok


def test_trusted_keys_pin_the_signer(
    tmp_path: Path, services: RunServices, run: RunOutcome
) -> None:
    bundle = _export(services, run.run_id, tmp_path / "b.tar.gz")
    own = services.trail.signer.verifier()
    assert verify_bundle(bundle, trusted_keys={own.key_id: own}).ok
    stranger = Signer.generate().verifier()
    result = verify_bundle(bundle, trusted_keys={stranger.key_id: stranger})
    assert not result.ok and "neither a pinned key" in (result.problem or "")


def test_bundle_spans_later_records_and_a_key_rotation(
    tmp_path: Path, services: RunServices, run: RunOutcome
) -> None:
    pilot = tmp_path / "pilot"
    run_pilot(pilot, services)  # a second run: its records sit between ours and the checkpoint
    key_path = tmp_path / "home" / "keys" / "trail-ed25519.pem"
    rotation = rotate_key(services.trail.path, key_path, actor="admin")
    trail = AuditTrail(services.trail.path, rotation.signer)
    write_checkpoint(
        trail, rotation.signer, trail.path.parent / "checkpoints", keys=load_keyring(key_path)
    )
    bundle = export_bundle(
        run.run_id,
        runs_dir=services.runs_dir,
        trail=trail,
        keys=load_keyring(key_path),
        checkpoints_dir=trail.path.parent / "checkpoints",
        out=tmp_path / "b.tar.gz",
    )
    result = verify_bundle(bundle)
    assert result.ok, result.problem
    assert set(result.key_ids) == {rotation.old_key_id, rotation.new_key_id}
    assert result.checkpoint is not None and result.checkpoint.head_seq > run.trail_seq
