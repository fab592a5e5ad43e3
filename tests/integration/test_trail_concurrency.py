"""Real processes appending to one trail: the chain stays whole, and a killed writer is healed."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import time
from collections import Counter
from multiprocessing.synchronize import Event
from pathlib import Path

from sandbox.audit.signing import Signer, Verifier, public_key_path_for
from sandbox.audit.store import FileTrailStore
from sandbox.audit.trail import AuditTrail, iter_records, verify_trail

WRITERS = 4
RECORDS_PER_WRITER = 500


def _append_many(trail_path: str, key_path: str, writer: int, count: int) -> None:
    trail = AuditTrail(Path(trail_path), Signer.load_or_create(Path(key_path)))
    for i in range(count):
        trail.append(
            "run.finished",
            actor=f"writer-{writer}",
            run_id=f"w{writer}-r{i}",
            payload={"writer": writer, "i": i},
        )


def _append_until_killed(trail_path: str, key_path: str, writing: Event) -> None:
    """Append small and very large records until killed, dying in the middle of a large one.

    A large record is written in two halves with a pause between them, and the parent is told
    when the first half is on disk: its SIGKILL then cuts the record short, as a real crash in
    the middle of a write does, on every round and whatever the machine's load.
    """
    real_write = os.write

    def announcing_write(fd: int, data: bytes | memoryview, /) -> int:
        if len(data) <= 2**20:
            return real_write(fd, data)
        half = len(data) // 2
        written = real_write(fd, data[:half])
        writing.set()
        time.sleep(60)  # killed here
        return written + real_write(fd, data[half:])

    os.write = announcing_write  # type: ignore[assignment]  # in the doomed child only
    trail = AuditTrail(Path(trail_path), Signer.load_or_create(Path(key_path)))
    for i in itertools.count():
        trail.append("run.started", actor="doomed", run_id=f"d{i}", payload={"i": i})
        trail.append("run.started", actor="doomed", run_id=f"d{i}", payload={"blob": "x" * 2**25})


def test_concurrent_writers_leave_one_contiguous_verifying_chain(tmp_path: Path) -> None:
    key_path = tmp_path / "keys" / "trail.key"
    Signer.load_or_create(key_path)
    trail_path = tmp_path / "trail.jsonl"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_append_many,
            args=(str(trail_path), str(key_path), writer, RECORDS_PER_WRITER),
        )
        for writer in range(WRITERS)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    elapsed = time.perf_counter() - started
    assert [worker.exitcode for worker in workers] == [0] * WRITERS

    result = verify_trail(trail_path, Verifier.from_public_key_file(public_key_path_for(key_path)))

    assert result.ok, result.reason
    assert result.records_checked == WRITERS * RECORDS_PER_WRITER
    records = list(iter_records(trail_path))
    assert [r.seq for r in records] == list(range(WRITERS * RECORDS_PER_WRITER))
    assert Counter(r.actor for r in records) == {
        f"writer-{w}": RECORDS_PER_WRITER for w in range(WRITERS)
    }
    for writer in range(WRITERS):  # each writer's own records keep its order
        mine = [r.payload["i"] for r in records if r.actor == f"writer-{writer}"]
        assert mine == list(range(RECORDS_PER_WRITER))
        # the run index the writers kept up to date finds each run's record
        found = FileTrailStore(trail_path).records_for_run(f"w{writer}-r{RECORDS_PER_WRITER - 1}")
        assert [r.payload["i"] for r in found] == [RECORDS_PER_WRITER - 1]
    print(f"{WRITERS}x{RECORDS_PER_WRITER} concurrent appends in {elapsed:.2f}s")


def test_writer_killed_mid_write_is_recovered_by_the_next_append(tmp_path: Path) -> None:
    key_path = tmp_path / "trail.key"
    signer = Signer.load_or_create(key_path)
    verifier = signer.verifier()
    trail_path = tmp_path / "trail.jsonl"
    context = multiprocessing.get_context("spawn")
    rounds, recoveries = 3, 0
    for round_ in range(rounds):
        writing = context.Event()
        doomed = context.Process(
            target=_append_until_killed, args=(str(trail_path), str(key_path), writing)
        )
        doomed.start()
        assert writing.wait(timeout=120), "the writer never reached a large write"
        assert doomed.pid is not None
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.join(timeout=30)
        assert doomed.exitcode == -signal.SIGKILL

        before = verify_trail(trail_path, verifier)
        # the kill cut a line short: exactly the last line, nothing else
        assert not before.ok and before.reason is not None, "the kill left no torn record"
        assert "cut short" in before.reason, before.reason
        survivor = AuditTrail(trail_path, signer).append(
            "run.finished", actor="survivor", payload={"round": round_}
        )
        after = verify_trail(trail_path, verifier)

        assert after.ok, after.reason
        assert after.head_hash == survivor.hash
        kinds = [r.kind for r in iter_records(trail_path)]
        recoveries += 1
        assert kinds[-2] == "trail.recovered"
        assert kinds.count("trail.recovered") == recoveries
    assert recoveries == rounds, "every kill cut a record short and every one was recovered"
