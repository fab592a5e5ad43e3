"""The Merkle tree of the trail: RFC 9162 roots, inclusion and consistency proofs, any size."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.audit.checkpoint import (
    Checkpoint,
    read_checkpoint,
    verify_against_checkpoint,
    write_checkpoint,
)
from sandbox.audit.events import TrailEvent
from sandbox.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleLevels,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from sandbox.audit.record import TrailRecord
from sandbox.audit.signing import Signer
from sandbox.audit.store import FileTrailStore, MemoryTrailStore
from sandbox.audit.trail import AuditTrail


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


def _mth(leaves: list[bytes]) -> bytes:
    """MTH as RFC 9162 defines it, by its recursion (the reference for every test)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def record_event(record: TrailRecord) -> TrailEvent:
    """The event a record was sealed from (to store the very same record elsewhere)."""
    return TrailEvent(actor=record.actor, run_id=record.run_id, payload=record.payload)


def _flip(proof: list[bytes], which: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[which])
    changed[bit // 8 % 32] ^= 1 << (bit % 8)
    return [*proof[:which], bytes(changed), *proof[which + 1 :]]


def test_the_rfc_hashes_use_domain_separation() -> None:
    assert EMPTY_ROOT.hex() == hashlib.sha256(b"").hexdigest()
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert leaf_hash(b"x" * 32) != node_hash(b"x" * 16, b"x" * 16)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=130))
def test_roots_match_the_rfc_recursion_for_every_size(n: int) -> None:
    leaves = _leaves(n)
    tree = MerkleLevels(leaves)
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    assert root(tree, n) == _mth(leaves) == frontier.root()
    for size in range(n + 1):
        assert root(tree, size) == _mth(leaves[:size])
        assert Frontier.of(tree, size).root() == _mth(leaves[:size])


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=70), st.data())
def test_inclusion_holds_for_every_index_and_any_change_breaks_it(
    n: int, data: st.DataObject
) -> None:
    leaves = _leaves(n)
    tree = MerkleLevels(leaves)
    top = root(tree, n)
    for index in range(n):
        proof = inclusion_proof(tree, index, n)
        assert verify_inclusion(index, n, leaves[index], proof, top)
        assert not verify_inclusion(index, n, leaves[(index + 1) % n], proof, top) or n == 1
        if proof:
            which = data.draw(st.integers(0, len(proof) - 1))
            bit = data.draw(st.integers(0, 255))
            assert not verify_inclusion(index, n, leaves[index], _flip(proof, which, bit), top)
            assert not verify_inclusion(index, n, leaves[index], proof[:-1], top)
            assert not verify_inclusion(index, n, leaves[index], [*proof, top], top)
        other = data.draw(st.integers(0, n))
        if other != index and other < n:  # the same proof, claimed at another position
            assert not verify_inclusion(other, n, leaves[index], proof, top) or (
                leaves[other] == leaves[index]
            )
    assert not verify_inclusion(n, n, leaves[0], [], top)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=70), st.data())
def test_consistency_holds_for_every_pair_and_any_change_breaks_it(
    n: int, data: st.DataObject
) -> None:
    leaves = _leaves(n)
    tree = MerkleLevels(leaves)
    new_root = root(tree, n)
    for m in range(n + 1):
        old_root = root(tree, m)
        proof = consistency_proof(tree, m, n)
        assert verify_consistency(m, n, old_root, new_root, proof)
        if 0 < m < n:
            which = data.draw(st.integers(0, len(proof) - 1))
            bit = data.draw(st.integers(0, 255))
            assert not verify_consistency(m, n, old_root, new_root, _flip(proof, which, bit))
            assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
            forged = bytes(32)
            assert not verify_consistency(m, n, forged, new_root, proof)
            assert not verify_consistency(m, n, old_root, forged, proof)
    # a rewritten past: an old tree whose leaf changed is not extended by the new one
    if n > 1:
        m = data.draw(st.integers(1, n - 1))
        changed = _leaves(n)
        changed[0] = leaf_hash(b"rewritten")
        assert not verify_consistency(
            m, n, _mth(changed[:m]), new_root, consistency_proof(tree, m, n)
        )


def test_sizes_beyond_the_tree_are_refused() -> None:
    tree = MerkleLevels(_leaves(5))
    with pytest.raises(ValueError):
        root(tree, 6)
    with pytest.raises(ValueError):
        inclusion_proof(tree, 5, 5)
    with pytest.raises(ValueError):
        consistency_proof(tree, 6, 5)
    assert not verify_consistency(6, 5, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(KeyError):
        tree.node(3, 0)  # 8 leaves: not complete in a tree of 5


def test_the_stores_keep_the_tree_the_checkpoint_signs(tmp_path: Path) -> None:
    signer = Signer.generate()
    file_trail = AuditTrail(tmp_path / "trail.jsonl", signer)
    memory = MemoryTrailStore()
    memory_trail = AuditTrail(memory, signer)
    for i in range(11):
        record = file_trail.append("run.submitted", actor="t", run_id=f"r{i}", payload={"i": i})
        memory.append(record_event(record), lambda _e, _s, _p, r=record: r)
        path = write_checkpoint(file_trail, signer, tmp_path / "cp")
        cp = read_checkpoint(path)
        leaves = [leaf_hash(hashlib.sha256(line).digest()) for _, line, _ in memory.lines()]
        assert cp.root_bytes == _mth(leaves) == root(file_trail.store.merkle(), i + 1)
        assert root(memory_trail.store.merkle(), i + 1) == cp.root_bytes
    assert isinstance(file_trail.store, FileTrailStore)
    file_trail.store.index.reset()  # a rebuilt index holds the same tree
    assert root(file_trail.store.merkle(), 11) == cp.root_bytes


def test_version_1_checkpoints_still_verify_and_seed_a_version_2(tmp_path: Path) -> None:
    signer = Signer.generate()
    trail = AuditTrail(tmp_path / "trail.jsonl", signer)
    for i in range(3):
        trail.append("run.submitted", actor="t", run_id=f"r{i}", payload={})
    head = trail.head()
    draft = Checkpoint(
        trail_size=3,
        head_hash=head.hash,
        time="2026-01-01T00:00:00.000000Z",
        key_id=signer.key_id,
        sig="",
    )
    old = replace(draft, sig=signer.sign(draft.signed_bytes()))
    assert b'"format":"ai-commons-sandbox/checkpoint/v1"' in old.canonical()
    (tmp_path / "cp").mkdir()
    (tmp_path / "cp" / "checkpoint-0000000003-20260101T000000.000000Z.json").write_bytes(
        old.canonical()
    )
    assert (
        read_checkpoint(tmp_path / "cp" / "checkpoint-0000000003-20260101T000000.000000Z.json")
        == old
    )
    assert verify_against_checkpoint(trail.path, old, signer.verifier()).ok
    trail.append("run.submitted", actor="t", run_id="r3", payload={})
    new = read_checkpoint(write_checkpoint(trail, signer, tmp_path / "cp"))
    assert new.tree_root is not None and new.trail_size == 4
    assert new.root_bytes == root(trail.store.merkle(), 4)
