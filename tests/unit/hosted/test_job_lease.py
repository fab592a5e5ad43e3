"""A running attempt's lease, one renewal at a time, with the database faked at its edge.

The real renewals (compare-and-set on PostgreSQL, the lock taken again after a dropped
connection) are in tests/integration/test_hosted_workers.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

from sandbox.errors import HostedStateError
from sandbox.hosted.job_lock import JobLock
from sandbox.hosted.job_states import HEARTBEAT_EVERY, Job, JobState
from sandbox.hosted.jobs import Jobs
from sandbox.worker.lease import Lease

JOB_ID = "job_" + "b" * 26
WHEN = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
RUNNING = Job(
    id=JOB_ID, organisation_id="northtown", principal_id="northtown-ci", archive_sha256="0" * 64,
    pilot_name="p", state=JobState.RUNNING, attempts=1, run_id="run-1", verdict=None,
    error=None, cancel_requested=False, worker="w1", created=WHEN, started=WHEN, finished=None,
)  # fmt: skip


class FakeJobs:
    """The database's answers to `renew`, in order (an exception is raised)."""

    def __init__(self, answers: list[bool | Exception], job: Job = RUNNING) -> None:
        self.answers: Iterator[bool | Exception] = iter(answers)
        self.job = job
        self.renewed: list[tuple[str, int]] = []

    def renew(self, job_id: str, attempt: int) -> bool:
        self.renewed.append((job_id, attempt))
        answer = next(self.answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get(self, job_id: str) -> Job:
        return self.job


class FakeLock:
    job_id = JOB_ID

    def __init__(self, free: bool) -> None:
        self.free, self.tries = free, 0

    def take(self) -> bool:
        self.tries += 1
        return self.free


def lease(jobs: FakeJobs, lock: FakeLock, attempt: int = 1) -> Lease:
    return Lease(cast(Jobs, jobs), cast(JobLock, lock), attempt)


def test_a_renewal_keeps_the_lease_and_the_lock() -> None:
    jobs, lock = FakeJobs([True, True]), FakeLock(free=True)
    kept = lease(jobs, lock)
    assert kept.renew() == HEARTBEAT_EVERY.total_seconds()
    assert kept.renew() == HEARTBEAT_EVERY.total_seconds()
    assert (kept.lost, kept.renewals, lock.tries) == (None, 2, 2)
    assert jobs.renewed == [(JOB_ID, 1), (JOB_ID, 1)]


def test_a_database_away_is_retried_soon_and_the_lease_is_not_lost() -> None:
    away = HostedStateError("postgresql://sandbox:***@127.0.0.1/sandbox: cannot renew")
    jobs, lock = FakeJobs([away, away, True]), FakeLock(free=True)
    kept = lease(jobs, lock)
    waits = [kept.renew() for _ in range(3)]
    assert waits[0] == waits[1] < HEARTBEAT_EVERY.total_seconds() == waits[2]
    assert (kept.lost, kept.renewals) == (None, 1)


def test_the_lock_held_by_a_looking_delivery_does_not_end_a_renewed_lease() -> None:
    jobs, lock = FakeJobs([True, True]), FakeLock(free=False)
    kept = lease(jobs, lock)
    kept.renew()
    lock.free = True  # the duplicate delivery saw the lease and let go
    kept.renew()
    assert (kept.lost, kept.renewals, lock.tries) == (None, 2, 2)


def test_an_attempt_taken_over_loses_the_lease_and_says_to_whom() -> None:
    taken = dataclasses.replace(RUNNING, attempts=2, run_id="run-2", worker="w2")
    jobs, lock = FakeJobs([True, False], job=taken), FakeLock(free=False)
    kept = lease(jobs, lock)
    kept.renew()
    kept.renew()
    assert kept.lost is not None
    assert f"job {JOB_ID}: attempt 1 is no longer this worker's" in kept.lost
    assert "running on attempt 2, w2" in kept.lost
    assert lock.tries == 1  # a lost attempt does not try for the new attempt's lock


def test_the_thread_stops_when_the_block_ends() -> None:
    jobs: Any = FakeJobs([])  # never renews: the block ends before the first renewal
    with lease(jobs, FakeLock(free=True)) as kept:
        pass
    assert (kept.lost, kept.renewals, jobs.renewed) == (None, 0, [])
