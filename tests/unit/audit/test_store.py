"""Both trail stores: appends verify, tampering shows, and the run index finds a run's records."""

from __future__ import annotations

import multiprocessing
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.audit.record import GENESIS_HASH, TrailRecord
from sandbox.audit.signing import Signer
from sandbox.audit.store import FileTrailStore, MemoryTrailStore, TrailStore
from sandbox.audit.store import file as file_store
from sandbox.audit.store.index import RunIndex
from sandbox.audit.trail import AuditTrail
from sandbox.audit.verify import verify_lines, verify_trail
from sandbox.errors import AuditError

SIGNER = Signer.generate()
VERIFIER = SIGNER.verifier()
Kind = Literal["file", "memory"]
STORES: tuple[Kind, ...] = ("file", "memory")
JSON_INTS = st.integers(-(2**53) + 1, 2**53 - 1)

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
)


@contextmanager
def store_of(kind: Kind) -> Iterator[TrailStore]:
    """A fresh, empty store (a new folder per hypothesis example)."""
    with tempfile.TemporaryDirectory() as folder:
        if kind == "file":
            yield FileTrailStore(Path(folder) / "trail.jsonl")
        else:
            yield MemoryTrailStore()


def fill(store: TrailStore, batch: list[tuple[str, str | None, dict[str, Any]]]) -> list[Any]:
    trail = AuditTrail(store, SIGNER)
    return [trail.append(k, actor="a", run_id=r, payload=p) for k, r, p in batch]


def raw_lines(store: TrailStore) -> list[bytes]:
    return [line for _, line, _ in store.lines()]


def verify_raw(lines: list[bytes], *, anchor: str | None = None) -> bool:
    numbered = [(i, line, True) for i, line in enumerate(lines, start=1)]
    return verify_lines(numbered, VERIFIER, anchor=anchor, first_seq=0, prev=GENESIS_HASH).ok


# --- append, verify, tamper: the same properties for every store -------------------------


@pytest.mark.parametrize("kind", STORES)
@settings(max_examples=25, deadline=None)
@given(batch=appends)
def test_append_then_verify_holds(kind: Kind, batch: list[Any]) -> None:
    with store_of(kind) as store:
        written = fill(store, batch)
        result = verify_trail(store, VERIFIER)
        assert result.ok, result.reason
        assert result.records_checked == len(batch)
        assert store.head().size == len(batch) and store.head().hash == written[-1].hash
        assert list(store.records_from(0)) == written
        for run_id in ("r1", "r2", "r3"):
            assert store.records_for_run(run_id) == [r for r in written if r.run_id == run_id]


@pytest.mark.parametrize("kind", STORES)
@settings(max_examples=25, deadline=None)
@given(batch=appends, data=st.data())
def test_any_flipped_byte_is_detected(kind: Kind, batch: list[Any], data: st.DataObject) -> None:
    with store_of(kind) as store:
        fill(store, batch)
        lines = raw_lines(store)
    line_no = data.draw(st.integers(0, len(lines) - 1), label="line")
    offset = data.draw(st.integers(0, len(lines[line_no]) - 1), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    edited = bytearray(lines[line_no])
    edited[offset] ^= 1 << bit
    lines[line_no] = bytes(edited)
    assert not verify_raw(lines)


@pytest.mark.parametrize("kind", STORES)
@settings(max_examples=25, deadline=None)
@given(batch=appends.filter(lambda b: len(b) >= 2), data=st.data())
def test_deleted_reordered_or_truncated_records_are_detected(
    kind: Kind, batch: list[Any], data: st.DataObject
) -> None:
    with store_of(kind) as store:
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


def test_memory_store_dump_is_what_a_file_store_holds(tmp_path: Path) -> None:
    memory = MemoryTrailStore()
    fill(memory, [("run.started", "r1", {"i": 1}), ("run.finished", "r1", {})])
    path = tmp_path / "trail.jsonl"
    path.write_bytes(memory.dump())
    assert verify_trail(path, VERIFIER).ok
    assert FileTrailStore(path).records_for_run("r1") == memory.records_for_run("r1")


# --- the run index ----------------------------------------------------------------------


def _trail(path: Path, runs: int = 20) -> AuditTrail:
    trail = AuditTrail(path, SIGNER)
    for i in range(runs):
        for kind in ("run.submitted", "run.started", "run.finished"):
            trail.append(kind, actor="a", run_id=f"r{i}", payload={"i": i})
    return trail


def test_a_runs_records_are_read_from_the_index_without_a_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trail = _trail(tmp_path / "trail.jsonl")
    expected = [r for r in trail.records_from(0) if r.run_id == "r7"]

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("the trail was read line by line")

    monkeypatch.setattr(file_store, "read_lines", no_scan)
    monkeypatch.setattr(RunIndex, "_index_from", no_scan)
    assert trail.records_for_run("r7") == expected
    assert [r.kind for r in expected] == ["run.submitted", "run.started", "run.finished"]


def test_the_index_catches_up_after_a_torn_last_line_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    trail = _trail(path, runs=3)
    assert len(trail.records_for_run("r2")) == 3
    with path.open("ab") as handle:  # a writer killed mid-line
        handle.write(b'{"actor":"a","kind":"run.started","run_id":"r2"')
    assert len(trail.records_for_run("r2")) == 3  # the torn line is not a record
    after = trail.append("run.failed", actor="a", run_id="r2", payload={})

    kinds = [r.kind for r in trail.records_for_run("r2")]
    assert kinds == ["run.submitted", "run.started", "run.finished", "run.failed"]
    assert trail.records_for_run("r2")[-1] == after
    assert next(trail.records_from(after.seq - 1)).kind == "trail.recovered"
    assert verify_trail(path, VERIFIER).ok


def test_the_index_notices_a_trail_restored_from_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    trail = _trail(path, runs=2)
    backup = path.read_bytes()
    trail.append("run.lost", actor="a", run_id="r1", payload={})
    assert trail.records_for_run("r1")[-1].kind == "run.lost"

    path.write_bytes(backup)  # the index still remembers the later record
    assert [r.kind for r in trail.records_for_run("r1")][-1] == "run.finished"
    path.write_bytes(_other_trail(tmp_path))  # a different trail of the same length and more
    assert [r.payload for r in trail.records_for_run("r1")] == [{"other": True}]


def _other_trail(tmp_path: Path) -> bytes:
    other = AuditTrail(tmp_path / "other.jsonl", SIGNER)
    for i in range(8):
        other.append("run.started", actor="b", run_id=f"x{i}", payload={})
    other.append("run.started", actor="b", run_id="r1", payload={"other": True})
    return (tmp_path / "other.jsonl").read_bytes()


def test_an_index_that_disagrees_with_the_trail_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    trail = _trail(path, runs=3)
    trail.records_for_run("r0")
    lines = path.read_bytes().splitlines(keepends=True)
    lines[0], lines[3] = lines[3], lines[0]  # offsets the index holds now point elsewhere
    path.write_bytes(b"".join(lines))
    found = trail.records_for_run("r0")
    assert {r.run_id for r in found} == {"r0"}


def test_a_read_only_copy_is_still_searched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "trail.jsonl"
    trail = _trail(path, runs=3)

    def cannot_open(self: RunIndex) -> None:
        import sqlite3

        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(RunIndex, "sync", cannot_open)
    assert [r.kind for r in trail.records_for_run("r1")] == [
        "run.submitted",
        "run.started",
        "run.finished",
    ]


def test_a_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    _trail(path, runs=1)
    with path.open("ab") as handle:
        handle.write(b"not json\n")
    with pytest.raises(AuditError, match="line 4"):
        FileTrailStore(path).records_for_run("r0")


def _append_runs(trail_path: str, key_path: str, writer: int, count: int) -> None:
    trail = AuditTrail(Path(trail_path), Signer.load_or_create(Path(key_path)))
    for i in range(count):
        trail.append("run.started", actor=f"w{writer}", run_id=f"r{i % 4}", payload={"i": i})
        if i % 7 == 0:  # readers index too, concurrently with the writers
            trail.records_for_run(f"r{i % 4}")


def test_the_index_stays_right_under_concurrent_appends_from_processes(tmp_path: Path) -> None:
    key_path = tmp_path / "keys" / "trail.key"
    Signer.load_or_create(key_path)
    path = tmp_path / "trail.jsonl"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_append_runs, args=(str(path), str(key_path), w, 40))
        for w in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]

    store = FileTrailStore(path)
    every = list(store.records_from(0))
    assert len(every) == 120
    for run_id in ("r0", "r1", "r2", "r3"):
        assert store.records_for_run(run_id) == [r for r in every if r.run_id == run_id]


def test_records_are_trail_records(tmp_path: Path) -> None:
    trail = _trail(tmp_path / "trail.jsonl", runs=1)
    assert all(isinstance(r, TrailRecord) for r in trail.records_for_run("r0"))
    assert trail.records_for_run("nobody") == []
    assert FileTrailStore(tmp_path / "missing.jsonl").records_for_run("r0") == []
