"""Jobs and workers against a real PostgreSQL, a real RabbitMQ and real Docker.

The jobs' transitions are tested on the database directly. The workers are real processes
(`sandbox worker`, started with subprocess), each with a home of its own as if on its own
host, sharing the PostgreSQL trail, the hosted database, a per-test RabbitMQ vhost, the
archive store and one signing key. Waiting is polling with generous bounds, never a timed
assertion.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from sandbox.audit.events import TERMINAL_KINDS
from sandbox.audit.signing import Signer
from sandbox.audit.store import open_store
from sandbox.hosted.accounts import Accounts
from sandbox.hosted.database import check_url, open_engine
from sandbox.hosted.identity import Kind, Role
from sandbox.hosted.intake import ArchiveStore, receive_archive
from sandbox.hosted.jobs import LEASE, Job, Jobs, JobState, Plan, UnknownJob
from sandbox.hosted.migrate import migrate
from sandbox.hosted.packing import pack_pilot
from sandbox.runtime.backends import open_runtime
from sandbox.settings import Settings
from sandbox.worker import enqueue
from sandbox.worker.jobrun import Busy, handle_delivery
from sandbox.worker.lease import Lease
from tests.integration.postgres import new_schema, pg_url  # noqa: F401
from tests.pilots import make_frame, write_pilot

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = str(ROOT / ".venv" / "bin" / "sandbox")
SHA = "ab" * 32
EXPIRED = timedelta(0)  # a lease that has run out: the claim sees the worker as dead


@pytest.fixture
def hosted(new_schema: Callable[[], str]) -> Iterator[str]:  # noqa: F811
    url = new_schema()
    migrate(url)
    with Accounts(url) as accounts:
        accounts.create_organisation("northtown", "Testville")
        accounts.create_principal(
            "northtown-ci", "northtown", "CI", roles=[Role.DATA_TEAM], kind=Kind.SERVICE
        )
    yield url


@pytest.fixture
def jobs(hosted: str) -> Iterator[Jobs]:
    with Jobs(hosted) as opened:
        yield opened


def _new(jobs: Jobs, sha: str = SHA) -> Job:
    return jobs.create(
        organisation="northtown", principal="northtown-ci", archive_sha256=sha, pilot_name="p"
    )


# --- the jobs table -------------------------------------------------------------------------


def test_jobs_are_created_read_and_listed_newest_first(jobs: Jobs) -> None:
    made = [_new(jobs) for _ in range(3)]
    assert all(job.state is JobState.QUEUED and job.attempts == 0 for job in made)
    assert jobs.get(made[0].id) == made[0]
    assert [job.id for job in jobs.list("northtown")] == [job.id for job in reversed(made)]
    assert jobs.list("northtown", limit=1)[0].id == made[-1].id
    with pytest.raises(UnknownJob, match="no such job"):
        jobs.get("job_" + "a" * 26)


def test_cancelling_a_queued_job_ends_it_and_a_running_one_is_asked(jobs: Jobs) -> None:
    queued = jobs.request_cancel(_new(jobs).id)
    assert queued.state is JobState.CANCELLED and queued.finished is not None
    running = _new(jobs)
    claim = jobs.claim(running.id, "w1")
    assert claim.delivery.plan is Plan.RUN
    asked = jobs.request_cancel(running.id)
    assert asked.state is JobState.RUNNING and asked.cancel_requested
    assert jobs.request_cancel(running.id) == asked  # asking again changes nothing


def test_claims_are_compare_and_set_and_attempts_are_bounded(jobs: Jobs) -> None:
    job = _new(jobs)
    first = jobs.claim(job.id, "w1")
    assert (first.delivery.plan, first.job.attempts, first.job.worker) == (Plan.RUN, 1, "w1")
    assert jobs.record_run(job.id, 1, "run-1")
    # w1 died (its lease ran out: `lease=EXPIRED`): the redelivery takes attempt 2 and names
    # the abandoned run; w1's late writes lose
    second = jobs.claim(job.id, "w2", lease=EXPIRED)
    assert (second.delivery.plan, second.delivery.abandoned_run) == (Plan.RUN, "run-1")
    assert not jobs.end(job.id, 1, JobState.FINISHED, verdict="passed")
    assert not jobs.renew(job.id, 1) and not jobs.record_run(job.id, 1, "run-late")
    assert jobs.claim(job.id, "w3", lease=EXPIRED).delivery.attempt == 3
    given_up = jobs.claim(job.id, "w4", lease=EXPIRED)
    assert given_up.delivery.plan is Plan.GIVE_UP
    assert given_up.job.state is JobState.LOST and "the last of 3 attempts" in str(
        given_up.job.error
    )
    assert jobs.claim(job.id, "w5").delivery.plan is Plan.SKIP


def test_a_running_job_with_a_current_lease_is_left_to_its_worker(jobs: Jobs) -> None:
    """The bug a PostgreSQL restart showed: the lock is free, the worker is not dead."""
    job = _new(jobs)
    jobs.claim(job.id, "w1")
    assert jobs.record_run(job.id, 1, "run-1") and jobs.renew(job.id, 1)
    before = jobs.get(job.id)
    for lock_free in (True, False):
        waiting = jobs.claim(job.id, "w2", lock_free=lock_free)
        assert (waiting.delivery.plan, waiting.delivery.abandoned_run) == (Plan.WAIT, None)
        assert waiting.job == before
    lease_left = jobs.claim(job.id, "w2").delivery.retry_in
    assert lease_left is not None and timedelta(0) < lease_left <= LEASE
    assert jobs.get(job.id) == before  # nothing moved: the same attempt, worker and run


def test_a_duplicate_delivery_during_a_live_lease_is_busy(jobs: Jobs, hosted: str) -> None:
    job = _new(jobs)
    jobs.claim(job.id, "w1")
    before = jobs.get(job.id)
    # No engine, no trail configured: a delivery that ran anything would fail.
    with pytest.raises(Busy, match="renewed its lease on attempt 1") as busy:
        handle_delivery(job.id, Settings(hosted_url=hosted, home=Path("/nonexistent")),
                        worker="w2")  # fmt: skip
    assert busy.value.retry_in is not None
    assert jobs.get(job.id) == before


def test_renewals_are_compare_and_set_on_the_attempt(jobs: Jobs) -> None:
    job = _new(jobs)
    assert not jobs.renew(job.id, 0) and not jobs.renew(job.id, 1)  # queued: no lease
    jobs.claim(job.id, "w1")
    assert jobs.renew(job.id, 1) and not jobs.renew(job.id, 2)
    assert jobs.end(job.id, 1, JobState.FINISHED, verdict="passed")
    assert not jobs.renew(job.id, 1)  # an ended attempt has nothing to renew


def _drop_lock_connection(url: str, job_id: str) -> int:
    """Terminate the session holding the job's advisory lock, as a server restart would."""
    with open_engine(check_url(url)).begin() as conn:
        return len(conn.execute(text(
            "SELECT pg_terminate_backend(l.pid) FROM pg_locks l, "
            "(SELECT hashtextextended(current_schema() || '.jobs.' || :id, 0) AS k) AS key "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid = ((key.k >> 32) & 4294967295)::oid "
            "AND l.objid = (key.k & 4294967295)::oid"
        ), {"id": job_id}).all())  # fmt: skip


def test_a_job_lock_is_taken_again_after_its_connection_dropped(jobs: Jobs, hosted: str) -> None:
    job = _new(jobs)
    with jobs.lock(job.id) as lock:
        assert lock.take()
        assert _drop_lock_connection(hosted, job.id) == 1
        with Jobs(hosted) as other, other.hold(job.id) as meanwhile:
            assert meanwhile  # the lock went with the connection
        assert lock.take() and lock.held  # a new connection, the lock again
        with Jobs(hosted) as other, other.hold(job.id) as second:
            assert not second
        assert _drop_lock_connection(hosted, job.id) == 1
        with Jobs(hosted) as other, other.hold(job.id) as first:
            assert first
            assert not lock.take() and not lock.held  # another session was quicker
    with Jobs(hosted) as other, other.hold(job.id) as free:
        assert free


def test_an_attempt_ends_once(jobs: Jobs) -> None:
    job = _new(jobs)
    jobs.claim(job.id, "w1")
    assert jobs.end(job.id, 1, JobState.FINISHED, verdict="passed")
    assert not jobs.end(job.id, 1, JobState.FINISHED, verdict="failed")
    ended = jobs.get(job.id)
    assert (ended.state, ended.verdict) == (JobState.FINISHED, "passed")


def test_a_job_lock_is_held_by_one_session_at_a_time(jobs: Jobs, hosted: str) -> None:
    job = _new(jobs)
    with Jobs(hosted) as other, jobs.hold(job.id) as held:
        assert held
        with other.hold(job.id) as second:
            assert not second
    with Jobs(hosted) as other, other.hold(job.id) as again:
        assert again


def test_a_duplicate_delivery_of_a_finished_job_runs_nothing(jobs: Jobs, hosted: str) -> None:
    job = _new(jobs)
    jobs.claim(job.id, "w1")
    jobs.end(job.id, 1, JobState.FINISHED, verdict="passed")
    before = jobs.get(job.id)
    # No broker, no engine, no trail configured: a delivery that ran anything would fail.
    done = handle_delivery(job.id, Settings(hosted_url=hosted, home=Path("/nonexistent")),
                           worker="w2")  # fmt: skip
    assert done.plan is Plan.SKIP
    assert jobs.get(job.id) == before


def test_a_lease_outlives_a_dropped_connection_and_is_lost_to_a_takeover(
    jobs: Jobs, hosted: str
) -> None:
    job = _new(jobs)
    jobs.claim(job.id, "w1")
    with jobs.lock(job.id) as lock:
        assert lock.take()
        lease = Lease(jobs, lock, 1)  # stepped by hand here; a thread steps it in a worker
        assert _drop_lock_connection(hosted, job.id) == 1
        lease.renew()
        assert (lease.lost, lease.renewals, lock.held) == (None, 1, True)  # the lock again
        taken = jobs.claim(job.id, "w2", lease=EXPIRED)  # as if the lease had run out
        assert taken.delivery.plan is Plan.RUN
        lease.renew()
        assert lease.lost is not None and "running on attempt 2, w2" in lease.lost
    assert (jobs.get(job.id).attempts, jobs.get(job.id).worker) == (2, "w2")


# --- real workers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broker() -> str:
    done = subprocess.run(["bash", str(ROOT / "scripts" / "broker.sh")], capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    if done.returncode != 0:
        why = f"no RabbitMQ (scripts/broker.sh: {done.stderr.strip()[-400:]})"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but {why}")
        pytest.skip(why)
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def vhost(broker: str) -> Iterator[str]:
    """The broker URL on a vhost of this test's own, deleted afterwards."""
    name = f"test-{secrets.token_hex(4)}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, timeout=60)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "sandbox", ".*", ".*",
                    ".*"], check=True, timeout=60)  # fmt: skip
    yield broker.rsplit("/", 1)[0] + "/" + name
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], check=False, timeout=60)


class Cluster:
    """Worker processes on one shared state, each with its own home (as on its own host)."""

    def __init__(self, tmp: Path, hosted: str, trail: str, broker: str) -> None:
        self.tmp, self.hosted, self.trail, self.broker = tmp, hosted, trail, broker
        self.store = ArchiveStore(tmp / "archives")
        self.key = tmp / "key" / "trail-ed25519.pem"
        Signer.load_or_create(self.key)
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def env(self, home: Path) -> dict[str, str]:
        return {**os.environ, "SANDBOX_HOME": str(home), "SANDBOX_HOSTED_URL": self.hosted,
                "SANDBOX_TRAIL_URL": self.trail, "SANDBOX_BROKER_URL": self.broker,
                "SANDBOX_ARCHIVE_STORE": str(self.store.root),
                "PYTHONUNBUFFERED": "1"}  # fmt: skip

    def home(self, name: str) -> Path:
        home = self.tmp / name
        (home / "keys").mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.key, home / "keys" / self.key.name)  # one signer for the one trail
        return home

    def start(self, name: str) -> None:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.workers[name] = subprocess.Popen(
            [SANDBOX, "worker", "--name", name], env=self.env(self.home(name)),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def stop(self) -> None:
        for process in self.workers.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.workers.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=60)

    def submit(self, jobs: Jobs, pilot: Path) -> Job:
        stored = receive_archive(pack_pilot(pilot).chunks(), self.store)
        job = jobs.create(organisation="northtown", principal="northtown-ci",
                          archive_sha256=stored.digest.removeprefix("sha256:"),
                          pilot_name=pilot.name)  # fmt: skip
        enqueue(job, Settings(broker_url=self.broker))
        return job


@pytest.fixture
def cluster(tmp_path: Path, hosted: str, new_schema: Callable[[], str],  # noqa: F811
            vhost: str) -> Iterator[Cluster]:  # fmt: skip
    made = Cluster(tmp_path, hosted, new_schema(), vhost)
    yield made
    made.stop()


def _pilots(tmp: Path, count: int) -> list[Path]:
    return [write_pilot(tmp / f"pilot-{i}", frame=make_frame(rows=200, seed=i))
            for i in range(count)]  # fmt: skip


def _wait(what: Callable[[], bool], why: str, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting: {why}")
        time.sleep(1)


def _terminal_records(trail_url: str, run_id: str) -> list[str]:
    store = open_store(trail_url, default=Path("/nonexistent"))
    return [r.kind for r in store.records_for_run(run_id) if r.kind in TERMINAL_KINDS]


def _verify(cluster: Cluster) -> None:
    done = subprocess.run([SANDBOX, "audit", "verify", "--trusted-key", f"{cluster.key}.pub"],
                          env=cluster.env(cluster.home("verifier")), capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_two_workers_drain_the_queue_each_job_ends_once(
    cluster: Cluster, jobs: Jobs, tmp_path: Path
) -> None:
    submitted = [cluster.submit(jobs, pilot) for pilot in _pilots(tmp_path, 3)]
    cluster.start("worker-a")
    cluster.start("worker-b")
    _wait(lambda: all(jobs.get(j.id).terminal for j in submitted), "every job to end")
    ended = [jobs.get(j.id) for j in submitted]
    assert {(j.state, j.attempts) for j in ended} == {(JobState.FINISHED, 1)}
    assert all(j.verdict in {"passed", "passed_with_warnings", "failed", "blocked"} for j in ended)
    for job in ended:
        assert job.run_id is not None
        assert len(_terminal_records(cluster.trail, job.run_id)) == 1
    # A duplicate message of a finished job runs nothing.
    enqueue(ended[0], Settings(broker_url=cluster.broker))
    _wait(lambda: _queue_empty(cluster.broker), "the duplicate to be consumed", timeout=300)
    assert jobs.get(ended[0].id) == ended[0]
    _verify(cluster)


def _queue_empty(broker: str) -> bool:
    vhost = broker.rsplit("/", 1)[1]
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return all(line.split()[-1] == "0" for line in out.splitlines()[1:] if line.strip())


def test_a_worker_killed_mid_run_loses_its_run_and_the_job_ends_once(
    cluster: Cluster, jobs: Jobs, tmp_path: Path
) -> None:
    (pilot,) = _pilots(tmp_path, 1)
    job = cluster.submit(jobs, pilot)
    cluster.start("worker-a")

    def underway() -> bool:
        run_id = jobs.get(job.id).run_id
        return run_id is not None and bool(
            open_store(cluster.trail, default=Path("/nonexistent")).records_for_run(run_id)
        )

    _wait(underway, "worker-a to start the run")
    first_run = jobs.get(job.id).run_id
    assert first_run is not None
    os.killpg(cluster.workers["worker-a"].pid, signal.SIGKILL)
    cluster.workers["worker-a"].wait(timeout=60)
    cluster.start("worker-b")
    _wait(lambda: jobs.get(job.id).terminal, "the job to end on worker-b")
    ended = jobs.get(job.id)
    assert (ended.state, ended.attempts) == (JobState.FINISHED, 2)
    assert str(ended.worker).startswith("worker-b@")
    assert ended.run_id != first_run
    assert _terminal_records(cluster.trail, first_run) in (["run.lost"], ["run.finished"],
                                                          ["run.blocked"])  # fmt: skip
    assert len(_terminal_records(cluster.trail, str(ended.run_id))) == 1
    _verify(cluster)
    _remove_containers(first_run)


def _remove_containers(run_id: str) -> None:
    open_runtime("docker").remove_leftovers(run_id=run_id)
