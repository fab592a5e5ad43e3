"""Key rotation: records signed by a retired key keep verifying through the keyring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.audit.keyring import (
    export_public_keys,
    key_file_name,
    keyring_dir,
    load_keyring,
    read_keyring_dir,
    rotate_key,
)
from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, iter_records, verify_trail
from sandbox.errors import AuditError


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "trail-ed25519.pem"


def test_rotation_keeps_old_records_verifiable(tmp_path: Path, key_path: Path) -> None:
    trail_path = tmp_path / "audit" / "trail.jsonl"
    old = Signer.load_or_create(key_path)
    AuditTrail(trail_path, old).append("run.submitted", actor="a", payload={"n": 1})

    rotation = rotate_key(trail_path, key_path, actor="admin")
    assert rotation.old_key_id == old.key_id != rotation.new_key_id
    new = Signer.load_or_create(key_path)
    assert new.key_id == rotation.new_key_id  # the key announced is the key installed
    AuditTrail(trail_path, new).append("run.submitted", actor="a", payload={"n": 2})

    records = list(iter_records(trail_path))
    assert [r.key_id for r in records] == [old.key_id, old.key_id, new.key_id]
    handover = records[1]
    assert handover.kind == "trail.key_rotated"
    assert handover.payload["new_key_id"] == new.key_id
    keyring = load_keyring(key_path)
    assert set(keyring) == {old.key_id, new.key_id}
    assert verify_trail(trail_path, keyring).ok
    # One key alone no longer covers the whole trail; the message names the key.
    only_new = verify_trail(trail_path, new.verifier())
    assert not only_new.ok and only_new.first_bad_seq == 0
    assert old.key_id in (only_new.reason or "")
    missing_old = verify_trail(trail_path, {new.key_id: new.verifier()})
    assert not missing_old.ok and "not in the keyring" in (missing_old.reason or "")


def test_the_private_key_file_stays_private(tmp_path: Path, key_path: Path) -> None:
    Signer.load_or_create(key_path)
    rotate_key(tmp_path / "trail.jsonl", key_path, actor="admin")
    assert key_path.stat().st_mode & 0o777 == 0o600


def test_export_public_keys_writes_every_key_and_an_index(tmp_path: Path, key_path: Path) -> None:
    Signer.load_or_create(key_path)
    rotation = rotate_key(tmp_path / "trail.jsonl", key_path, actor="admin")
    index = export_public_keys(
        load_keyring(key_path), tmp_path / "out", current=rotation.new_key_id
    )
    listed = json.loads(index.read_text())
    assert listed["current"] == rotation.new_key_id
    assert set(listed["keys"]) == {rotation.old_key_id, rotation.new_key_id}
    assert set(read_keyring_dir(tmp_path / "out")) == set(listed["keys"])


def test_a_key_file_named_after_another_key_is_refused(key_path: Path) -> None:
    signer = Signer.load_or_create(key_path)
    folder = keyring_dir(key_path)
    folder.mkdir()
    other = Signer.generate()
    (folder / key_file_name(other.key_id)).write_bytes(signer.verifier().public_key_pem())
    with pytest.raises(AuditError, match="named after another key"):
        read_keyring_dir(folder)
