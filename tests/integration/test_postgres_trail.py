"""The PostgreSQL trail against a real server started by `scripts/postgres.sh`.

Every test gets its own schema (`?options=-csearch_path%3D...`), dropped afterwards. Without a
server these tests skip on a laptop and fail under CI=true, like the Docker tests.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from sandbox.audit import merkle
from sandbox.audit.checkpoint import read_checkpoint, write_checkpoint
from sandbox.audit.events import RunFinished, TrailEvent
from sandbox.audit.record import TrailRecord, canonical_payload, rfc3339
from sandbox.audit.signing import Signer
from sandbox.audit.store import Head, Seal, TrailStore
from sandbox.audit.store.postgres import PostgresTrailStore
from sandbox.audit.trail import AuditTrail
from sandbox.audit.verify import verify_trail
from sandbox.errors import AuditError
from tests.unit.audit import store_contract as contract
from tests.unit.audit.store_contract import NewStore

ROOT = Path(__file__).resolve().parents[2]
WRITERS, APPENDS = 4, 50
SIGNER = Signer.generate()


@pytest.fixture
def new_store(new_schema: Callable[..., str]) -> NewStore:
    @contextmanager
    def make() -> Iterator[TrailStore]:
        store = PostgresTrailStore(new_schema())
        try:
            yield store
        finally:
            store.close()

    return make


# The store contract the file and memory stores pass (tests/unit/audit/store_contract.py).
test_append_then_verify_holds = contract.test_append_then_verify_holds
test_kinds_and_merkle_tree_follow_the_appends = (
    contract.test_kinds_and_merkle_tree_follow_the_appends
)
test_any_flipped_byte_is_detected = contract.test_any_flipped_byte_is_detected
test_deleted_reordered_or_truncated_records_are_detected = (
    contract.test_deleted_reordered_or_truncated_records_are_detected
)


def _append_many(url: str, key_path: str, writer: int, count: int) -> None:
    trail = AuditTrail(PostgresTrailStore(url), Signer.load_or_create(Path(key_path)))
    for i in range(count):
        trail.append(
            "run.finished", actor=f"writer-{writer}", run_id=f"w{writer}-r{i}", payload={"i": i}
        )


def test_concurrent_appends_from_processes_leave_one_whole_chain(
    tmp_path: Path, new_schema: Callable[..., str]
) -> None:
    url = new_schema()
    key_path = tmp_path / "trail.key"
    signer = Signer.load_or_create(key_path)
    PostgresTrailStore(url).close()  # the tables exist before the writers race
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_append_many, args=(url, str(key_path), w, APPENDS))
        for w in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [w.exitcode for w in workers] == [0] * WRITERS

    store = PostgresTrailStore(url)
    result = verify_trail(store, signer.verifier())
    assert result.ok, result.reason
    records = list(store.records_from(0))
    assert [r.seq for r in records] == list(range(WRITERS * APPENDS))  # no gap, no duplicate
    assert Counter(r.actor for r in records) == {f"writer-{w}": APPENDS for w in range(WRITERS)}
    for writer in range(WRITERS):
        mine = [r.payload["i"] for r in records if r.actor == f"writer-{writer}"]
        assert mine == list(range(APPENDS))
        assert [r.payload["i"] for r in store.records_for_run(f"w{writer}-r7")] == [7]
    leaves = [merkle.leaf_hash(bytes.fromhex(r.hash[7:])) for r in records]
    tree = store.merkle()
    assert merkle.root(tree, tree.size) == merkle.root(merkle.MerkleLevels(leaves), len(leaves))
    assert store.head().hash == records[-1].hash


def _ticking_clock() -> Callable[[], datetime]:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]

    def clock() -> datetime:
        now[0] += timedelta(seconds=1)
        return now[0]

    return clock


def _same_events(trail: AuditTrail) -> None:
    for i in range(37):
        trail.append(
            "run.started" if i % 3 else "run.submitted",
            actor="city",
            run_id=f"r{i % 5}",
            payload={"i": i, "note": "é ✓ \u2028"},
        )


def test_a_postgres_trail_holds_the_bytes_a_file_trail_holds(
    tmp_path: Path, new_schema: Callable[..., str]
) -> None:
    file_trail = AuditTrail(tmp_path / "trail.jsonl", SIGNER, clock=_ticking_clock())
    pg_trail = AuditTrail(PostgresTrailStore(new_schema()), SIGNER, clock=_ticking_clock())
    _same_events(file_trail)
    _same_events(pg_trail)

    assert [x for _, x, _ in pg_trail.store.lines()] == [x for _, x, _ in file_trail.store.lines()]
    pg_lines = b"".join(line + b"\n" for _, line, _ in pg_trail.store.lines())
    assert pg_lines == (tmp_path / "trail.jsonl").read_bytes()
    assert verify_trail(pg_trail.store, SIGNER.verifier()) == verify_trail(
        tmp_path / "trail.jsonl", SIGNER.verifier()
    )
    assert pg_trail.head() == file_trail.head()
    assert pg_trail.records_for_run("r3") == file_trail.records_for_run("r3")
    assert pg_trail.store.records_of_kind("run.submitted") == (
        file_trail.store.records_of_kind("run.submitted")
    )

    fixed = _ticking_clock()
    made = [
        read_checkpoint(write_checkpoint(t, SIGNER, tmp_path / name, clock=fixed))
        for t, name in ((file_trail, "file"), (pg_trail, "pg"))
    ]
    same = ("trail_size", "head_hash", "tree_root")
    assert [getattr(made[0], f) for f in same] == [getattr(made[1], f) for f in same]
    assert made[0].tree_root is not None


def _terminate(url: str, application_name: str) -> None:
    """End the server session of the store connected as `application_name`."""
    base = url.split("?")[0]
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        )


def _seal(on_seal: Callable[[], None]) -> Seal:
    """A seal as `AuditTrail` makes one, calling `on_seal` inside the store's transaction."""

    def seal(event: TrailEvent, seq: int, prev: str) -> TrailRecord:
        draft = TrailRecord(
            seq=seq,
            kind=event.kind,
            time=rfc3339(datetime(2026, 1, 1, tzinfo=UTC)),
            actor=event.actor,
            run_id=event.run_id,
            payload=canonical_payload(event.payload),
            prev=prev,
            key_id=SIGNER.key_id,
            sig="",
        )
        on_seal()
        return replace(draft, sig=SIGNER.sign(draft.signed_bytes()))

    return seal


def test_an_append_whose_connection_dies_is_written_once(new_schema: Callable[..., str]) -> None:
    url = new_schema(application_name="doomed-writer")
    store = PostgresTrailStore(url)
    AuditTrail(store, SIGNER).append("run.started", actor="a", run_id="r1", payload={})
    kills: list[int] = []

    def kill_once() -> None:  # the session dies inside the append's transaction, once
        if not kills:
            kills.append(1)
            _terminate(url, "doomed-writer")

    written = store.append(RunFinished(actor="a", run_id="r1", payload={}), _seal(kill_once))

    assert kills == [1]
    assert [r.kind for r in store.records_for_run("r1")] == ["run.started", "run.finished"]
    assert store.head() == Head(2, written.hash)
    assert verify_trail(store, SIGNER.verifier()).ok


def test_an_append_that_keeps_losing_its_connection_fails_clearly_and_writes_nothing(
    pg_url: str, new_schema: Callable[..., str]
) -> None:
    url = new_schema(application_name="always-killed")
    store = PostgresTrailStore(url)
    AuditTrail(store, SIGNER).append("run.started", actor="a", run_id="r1", payload={})

    with pytest.raises(AuditError, match="cannot append to the audit trail") as caught:
        store.append(
            RunFinished(actor="a", run_id="r1", payload={}),
            _seal(lambda: _terminate(url, "always-killed")),
        )
    password = urlsplit(pg_url).password
    assert password and password not in str(caught.value) and "***" in str(caught.value)
    assert store.head().size == 1
    assert verify_trail(store, SIGNER.verifier()).records_checked == 1


def test_the_store_reconnects_after_a_server_restart(new_schema: Callable[..., str]) -> None:
    store = PostgresTrailStore(new_schema())
    trail = AuditTrail(store, SIGNER)
    trail.append("run.started", actor="a", run_id="r1", payload={})
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres.sh"), "restart"], check=True, timeout=120
    )
    trail.append("run.finished", actor="a", run_id="r1", payload={})

    assert [r.seq for r in store.records_from(0)] == [0, 1]
    assert verify_trail(store, SIGNER.verifier()).ok


def _cli(home: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SANDBOX_HOME": str(home), "SANDBOX_TRAIL_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def test_a_tampered_row_is_found_by_sandbox_audit_verify(
    tmp_path: Path, new_schema: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.runs.services import open_trail
    from sandbox.settings import Settings

    url = new_schema()
    monkeypatch.setenv("SANDBOX_TRAIL_URL", url)
    trail = open_trail(Settings(home=tmp_path))
    assert isinstance(trail.store, PostgresTrailStore)
    for i in range(5):
        trail.append("run.started", actor="a", run_id=f"r{i}", payload={"score": 0.5})

    done = _cli(tmp_path, url, "audit", "verify")
    assert done.returncode == 0, done.stderr
    assert "trail verified" in done.stdout and "5 records" in done.stdout

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE trail_records SET line = convert_to(replace(convert_from(line, 'UTF8'), "
            "'0.5', '0.9'), 'UTF8') WHERE pos = 2"
        )
    result = verify_trail(PostgresTrailStore(url), trail.signer.verifier())
    assert not result.ok and result.first_bad_seq == 2
    done = _cli(tmp_path, url, "audit", "verify")
    assert done.returncode == 1
    assert "does NOT verify" in done.stderr and "seq 2" in done.stderr


def test_a_wrong_password_is_named_without_the_password(pg_url: str, tmp_path: Path) -> None:
    parts = urlsplit(pg_url)
    wrong = "not-the-password-" + secrets.token_hex(4)
    url = parts._replace(netloc=f"{parts.username}:{wrong}@{parts.hostname}:{parts.port}").geturl()

    with pytest.raises(AuditError) as caught:
        PostgresTrailStore(url)
    message = str(caught.value)
    assert wrong not in message and "***" in message
    assert "password authentication failed" in message and "SANDBOX_TRAIL_URL" in message

    done = _cli(tmp_path, url, "audit", "verify")
    assert done.returncode == 1
    assert wrong not in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert "cannot connect to PostgreSQL" in done.stderr


def test_an_audit_on_the_database_trail_signs_its_checkpoint(
    tmp_path: Path, new_schema: Callable[..., str]
) -> None:
    url = new_schema()
    rows = ["sex,y,p"] + [f"{'FM'[i % 2]},{i % 3 % 2},{i % 5 % 2}" for i in range(400)]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    home = tmp_path / "home"
    done = _cli(
        home, url, "audit", "evaluate", "--data", str(tmp_path / "p.csv"),
        "--label", "y", "--prediction", "p", "--sensitive", "sex",
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stdout + done.stderr
    checkpoints = list((home / "audit" / "checkpoints").iterdir())
    assert len(checkpoints) == 1
    assert not (home / "audit" / "trail.jsonl").exists()  # the records are in the database
    assert PostgresTrailStore(url).head().size == 2  # audit.submitted, audit.finished
    verified = _cli(home, url, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
