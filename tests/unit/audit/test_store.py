"""The file and memory stores: the store contract (`store_contract.py`) and the file's run index."""

from __future__ import annotations

import multiprocessing
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import pytest

from sandbox.audit.record import TrailRecord
from sandbox.audit.signing import Signer
from sandbox.audit.store import FileTrailStore, MemoryTrailStore, TrailStore
from sandbox.audit.store import file as file_store
from sandbox.audit.store.index import RunIndex
from sandbox.audit.trail import AuditTrail
from sandbox.audit.verify import verify_trail
from sandbox.errors import AuditError
from tests.unit.audit import store_contract as contract
from tests.unit.audit.store_contract import SIGNER, NewStore, fill

VERIFIER = SIGNER.verifier()
Kind = Literal["file", "memory"]
STORES: tuple[Kind, ...] = ("file", "memory")

# The store contract, collected here for the file and memory stores.
test_append_then_verify_holds = contract.test_append_then_verify_holds
test_kinds_and_merkle_tree_follow_the_appends = (
    contract.test_kinds_and_merkle_tree_follow_the_appends
)
test_any_flipped_byte_is_detected = contract.test_any_flipped_byte_is_detected
test_deleted_reordered_or_truncated_records_are_detected = (
    contract.test_deleted_reordered_or_truncated_records_are_detected
)


@pytest.fixture(params=STORES)
def new_store(request: pytest.FixtureRequest) -> NewStore:
    """Fresh, empty stores of one kind (a new folder for each)."""
    kind: Kind = request.param

    @contextmanager
    def make() -> Iterator[TrailStore]:
        with tempfile.TemporaryDirectory() as folder:
            if kind == "file":
                yield FileTrailStore(Path(folder) / "trail.jsonl")
            else:
                yield MemoryTrailStore()

    return make


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
    after = trail.append("tracking.delivered", actor="a", run_id="r2", payload={})

    kinds = [r.kind for r in trail.records_for_run("r2")]
    assert kinds == ["run.submitted", "run.started", "run.finished", "tracking.delivered"]
    assert trail.records_for_run("r2")[-1] == after
    assert next(trail.records_from(after.seq - 1)).kind == "trail.recovered"
    assert verify_trail(path, VERIFIER).ok


def test_the_index_notices_a_trail_restored_from_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    trail = _trail(path, runs=2)
    backup = path.read_bytes()
    trail.append("tracking.delivered", actor="a", run_id="r1", payload={})
    assert trail.records_for_run("r1")[-1].kind == "tracking.delivered"

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
