"""Signed checkpoints catch what a chain alone cannot: truncation and wholesale rewriting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.audit.checkpoint import (
    Checkpoint,
    latest_checkpoint,
    read_checkpoint,
    verify_against_checkpoint,
    verify_since,
    write_checkpoint,
)
from sandbox.audit.signing import Signer
from sandbox.audit.store import FileTrailStore, MemoryTrailStore
from sandbox.audit.trail import AuditTrail
from sandbox.audit.verify import verify_trail
from sandbox.errors import AuditError

SIGNER = Signer.generate()


def _trail(path: Path, n: int, signer: Signer = SIGNER) -> AuditTrail:
    trail = AuditTrail(path, signer)
    for i in range(n):
        trail.append("run.submitted", actor="t", run_id=f"r{i}", payload={"i": i})
    return trail


def test_a_checkpoint_verifies_and_grows_with_the_trail(tmp_path: Path) -> None:
    trail = _trail(tmp_path / "trail.jsonl", 3)
    path = write_checkpoint(trail, SIGNER, tmp_path / "cp")
    cp = read_checkpoint(path)
    assert (cp.trail_size, cp.head_seq, cp.key_id) == (3, 2, SIGNER.key_id)
    assert verify_against_checkpoint(trail.path, cp, SIGNER.verifier()).ok
    trail.append("run.submitted", actor="t", payload={})
    assert verify_against_checkpoint(trail.path, cp, SIGNER.verifier()).ok  # appends are fine
    later = write_checkpoint(trail, SIGNER, tmp_path / "cp")
    assert latest_checkpoint(tmp_path / "cp") == later
    assert path.read_bytes().endswith(b"\n") and json.loads(path.read_bytes())["trail_size"] == 3


def test_truncation_is_caught(tmp_path: Path) -> None:
    trail = _trail(tmp_path / "trail.jsonl", 5)
    cp = read_checkpoint(write_checkpoint(trail, SIGNER, tmp_path / "cp"))
    lines = trail.path.read_bytes().splitlines(keepends=True)
    trail.path.write_bytes(b"".join(lines[:3]))  # a clean cut at a line boundary
    result = verify_against_checkpoint(trail.path, cp, SIGNER.verifier())
    assert not result.ok
    assert "truncated" in (result.reason or "") and "holds 3 records" in (result.reason or "")


def test_a_wholesale_rewrite_with_the_same_key_is_caught(tmp_path: Path) -> None:
    trail = _trail(tmp_path / "trail.jsonl", 4)
    cp = read_checkpoint(write_checkpoint(trail, SIGNER, tmp_path / "cp"))
    trail.path.unlink()
    _trail(trail.path, 6)  # a new, valid chain signed by the same key: verify alone passes
    result = verify_against_checkpoint(trail.path, cp, SIGNER.verifier())
    assert not result.ok and "rewritten" in (result.reason or "")


def test_an_altered_checkpoint_is_caught(tmp_path: Path) -> None:
    trail = _trail(tmp_path / "trail.jsonl", 4)
    path = write_checkpoint(trail, SIGNER, tmp_path / "cp")
    obj = json.loads(path.read_bytes())
    obj["trail_size"], obj["head_seq"] = 2, 1
    forged = Checkpoint.from_bytes(json.dumps(obj).encode())
    result = verify_against_checkpoint(trail.path, forged, SIGNER.verifier())
    assert not result.ok and "altered" in (result.reason or "")
    other = Signer.generate()
    assert not verify_against_checkpoint(trail.path, read_checkpoint(path), other.verifier()).ok


def test_no_checkpoint_vouches_for_a_broken_trail(tmp_path: Path) -> None:
    trail = _trail(tmp_path / "trail.jsonl", 3)
    data = trail.path.read_bytes()
    trail.path.write_bytes(data.replace(b'"i":1', b'"i":7'))
    with pytest.raises(AuditError, match="does not verify"):
        write_checkpoint(trail, SIGNER, tmp_path / "cp")
    assert latest_checkpoint(tmp_path / "cp") is None


def test_malformed_checkpoints_are_refused() -> None:
    with pytest.raises(AuditError, match="not a JSON checkpoint"):
        Checkpoint.from_bytes(b"\xff")
    with pytest.raises(AuditError, match="not a checkpoint"):
        Checkpoint.from_bytes(b'{"trail_size": 1}')


# --- incremental checkpoints ---------------------------------------------------------------


def test_a_checkpoint_verifies_only_what_was_appended_since_the_last(tmp_path: Path) -> None:
    trail = _trail(tmp_path / "trail.jsonl", 6)
    first = read_checkpoint(write_checkpoint(trail, SIGNER, tmp_path / "cp"))
    for i in range(2):
        trail.append("run.finished", actor="t", run_id=f"r{i}", payload={})

    result = verify_since(trail.store, SIGNER.verifier(), first)

    assert result.ok, result.reason
    assert result.records_checked == 2  # not 8
    assert result.head_hash == trail.head().hash
    assert verify_since(trail.store, SIGNER.verifier(), None).records_checked == 8


def test_a_checkpoint_is_written_without_the_append_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trail = _trail(tmp_path / "trail.jsonl", 4)
    write_checkpoint(trail, SIGNER, tmp_path / "cp")
    trail.append("run.finished", actor="t", payload={})

    def no_lock(self: FileTrailStore) -> None:
        raise AssertionError("the checkpoint took the trail's append lock")

    monkeypatch.setattr(FileTrailStore, "locked", no_lock)
    cp = read_checkpoint(write_checkpoint(trail, SIGNER, tmp_path / "cp"))
    assert cp.trail_size == 5


def test_tampering_after_the_last_checkpoint_is_caught_incrementally(tmp_path: Path) -> None:
    trail = _trail(tmp_path / "trail.jsonl", 3)
    write_checkpoint(trail, SIGNER, tmp_path / "cp")
    trail.append("run.finished", actor="t", run_id="late", payload={"i": 41})
    data = trail.path.read_bytes()
    trail.path.write_bytes(data.replace(b'"i":41', b'"i":42'))

    with pytest.raises(AuditError, match="does not verify"):
        write_checkpoint(trail, SIGNER, tmp_path / "cp")
    assert read_checkpoint(latest_checkpoint(tmp_path / "cp") or tmp_path).trail_size == 3


def test_tampering_before_the_last_checkpoint_is_caught_by_a_full_verify(tmp_path: Path) -> None:
    trail = _trail(tmp_path / "trail.jsonl", 4)
    cp = read_checkpoint(write_checkpoint(trail, SIGNER, tmp_path / "cp"))
    data = trail.path.read_bytes()
    trail.path.write_bytes(data.replace(b'"i":1', b'"i":7'))  # a record the checkpoint covers

    # the incremental check trusts what the signed checkpoint already vouched for ...
    write_checkpoint(trail, SIGNER, tmp_path / "cp")
    # ... the full verification does not
    assert not verify_trail(trail.path, SIGNER.verifier()).ok
    outcome = verify_against_checkpoint(trail.path, cp, SIGNER.verifier())
    assert not outcome.ok and "does not verify" in (outcome.reason or "")


def test_a_rewritten_checkpoint_head_stops_the_next_checkpoint(tmp_path: Path) -> None:
    trail = _trail(tmp_path / "trail.jsonl", 3)
    write_checkpoint(trail, SIGNER, tmp_path / "cp")
    trail.path.unlink()
    _trail(trail.path, 5)  # a new chain: the old checkpoint's head record is gone

    with pytest.raises(AuditError, match="rewritten"):
        write_checkpoint(trail, SIGNER, tmp_path / "cp")
    trail.path.write_bytes(trail.path.read_bytes().splitlines(keepends=True)[0])
    with pytest.raises(AuditError, match="truncated"):
        write_checkpoint(trail, SIGNER, tmp_path / "cp")


def test_a_checkpoint_by_an_unknown_key_is_not_trusted_as_a_start(tmp_path: Path) -> None:
    trail = _trail(tmp_path / "trail.jsonl", 3)
    write_checkpoint(trail, Signer.generate(), tmp_path / "cp", keys=SIGNER.verifier())
    data = trail.path.read_bytes()
    trail.path.write_bytes(data.replace(b'"i":1', b'"i":7'))
    with pytest.raises(AuditError, match="does not verify"):  # verified from the start
        write_checkpoint(trail, SIGNER, tmp_path / "cp")


def test_checkpoints_of_a_memory_trail(tmp_path: Path) -> None:
    trail = AuditTrail(MemoryTrailStore(), SIGNER)
    for i in range(3):
        trail.append("run.started", actor="t", run_id=f"r{i}", payload={})
    write_checkpoint(trail, SIGNER, tmp_path / "cp")
    trail.append("run.finished", actor="t", run_id="r0", payload={})
    cp = read_checkpoint(write_checkpoint(trail, SIGNER, tmp_path / "cp"))
    assert (cp.trail_size, cp.head_hash) == (4, trail.head().hash)
    assert verify_against_checkpoint(trail.store, cp, SIGNER.verifier()).ok
