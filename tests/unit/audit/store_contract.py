"""What every `TrailStore` must do: appends verify, tampering shows, the index finds a run.

The tests here take a `new_store` fixture: a function returning a context manager that yields
a fresh, empty store. A test module imports them and defines `new_store` for its stores
(`test_store.py`: file and memory; the PostgreSQL integration tests: a fresh schema).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeAlias

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.audit import merkle
from sandbox.audit.events import is_terminal
from sandbox.audit.record import GENESIS_HASH
from sandbox.audit.signing import Signer
from sandbox.audit.store import TrailStore
from sandbox.audit.trail import AuditTrail
from sandbox.audit.verify import verify_lines, verify_trail

__all__ = [
    "NewStore",
    "fill",
    "test_any_flipped_byte_is_detected",
    "test_append_then_verify_holds",
    "test_deleted_reordered_or_truncated_records_are_detected",
    "test_kinds_and_merkle_tree_follow_the_appends",
]

SIGNER = Signer.generate()
VERIFIER = SIGNER.verifier()
NewStore: TypeAlias = Callable[[], AbstractContextManager[TrailStore]]
Batch: TypeAlias = list[tuple[str, str | None, dict[str, Any]]]


def _ending_once(batch: Batch) -> Batch:
    """A run ends once (the trail refuses a second terminal record): a later ending of a run
    that has ended becomes a progress record."""
    ended: set[str] = set()
    kept: Batch = []
    for kind, run_id, payload in batch:
        if run_id is not None and is_terminal(kind):
            kind = "run.started" if run_id in ended else kind
            ended.add(run_id)
        kept.append((kind, run_id, payload))
    return kept


appends = st.lists(
    st.tuples(
        st.sampled_from(["run.submitted", "run.started", "run.finished", "run.lost"]),
        st.sampled_from(["r1", "r2", "r3", None]),
        st.dictionaries(
            st.text(max_size=6),
            st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
            max_size=3,
        ),
    ),
    min_size=1,
    max_size=12,
).map(_ending_once)


# The factory fixture is built once per test and makes a fresh store per example.
contract = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def fill(store: TrailStore, batch: Batch) -> list[Any]:
    trail = AuditTrail(store, SIGNER)
    return [trail.append(k, actor="a", run_id=r, payload=p) for k, r, p in batch]


def raw_lines(store: TrailStore) -> list[bytes]:
    return [line for _, line, _ in store.lines()]


def verify_raw(lines: list[bytes], *, anchor: str | None = None) -> bool:
    numbered = [(i, line, True) for i, line in enumerate(lines, start=1)]
    return verify_lines(numbered, VERIFIER, anchor=anchor, first_seq=0, prev=GENESIS_HASH).ok


@contract
@given(batch=appends)
def test_append_then_verify_holds(new_store: NewStore, batch: Batch) -> None:
    with new_store() as store:
        written = fill(store, batch)
        result = verify_trail(store, VERIFIER)
        assert result.ok, result.reason
        assert result.records_checked == len(batch)
        assert store.head().size == len(batch) and store.head().hash == written[-1].hash
        assert list(store.records_from(0)) == written
        assert list(store.records_from(len(batch) - 1)) == written[-1:]
        for run_id in ("r1", "r2", "r3"):
            assert store.records_for_run(run_id) == [r for r in written if r.run_id == run_id]


@contract
@given(batch=appends)
def test_kinds_and_merkle_tree_follow_the_appends(new_store: NewStore, batch: Batch) -> None:
    with new_store() as store:
        written = fill(store, batch)
        for kind in ("run.submitted", "run.finished"):
            assert store.records_of_kind(kind) == [r for r in written if r.kind == kind]
        leaves = [merkle.leaf_hash(bytes.fromhex(r.hash.removeprefix("sha256:"))) for r in written]
        expected = merkle.MerkleLevels(leaves)
        tree = store.merkle()
        assert tree.size == len(written)
        for size in range(len(written) + 1):
            assert merkle.root(tree, size) == merkle.root(expected, size)


@contract
@given(batch=appends, data=st.data())
def test_any_flipped_byte_is_detected(
    new_store: NewStore, batch: Batch, data: st.DataObject
) -> None:
    with new_store() as store:
        fill(store, batch)
        lines = raw_lines(store)
    line_no = data.draw(st.integers(0, len(lines) - 1), label="line")
    offset = data.draw(st.integers(0, len(lines[line_no]) - 1), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    edited = bytearray(lines[line_no])
    edited[offset] ^= 1 << bit
    lines[line_no] = bytes(edited)
    assert not verify_raw(lines)


@contract
@given(batch=appends.filter(lambda b: len(b) >= 2), data=st.data())
def test_deleted_reordered_or_truncated_records_are_detected(
    new_store: NewStore, batch: Batch, data: st.DataObject
) -> None:
    with new_store() as store:
        fill(store, batch)
        lines = raw_lines(store)
        head = store.head().hash
    edit = data.draw(st.sampled_from(["delete", "swap", "truncate"]), label="edit")
    if edit == "delete":
        del lines[data.draw(st.integers(0, len(lines) - 2), label="index")]  # not the last
        assert not verify_raw(lines)
    elif edit == "swap":
        i = data.draw(st.integers(0, len(lines) - 2), label="i")
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
        assert not verify_raw(lines)
    else:  # a clean cut is only seen against a hash known from elsewhere
        cut = data.draw(st.integers(0, len(lines) - 1), label="keep")
        assert not verify_raw(lines[:cut], anchor=head)
