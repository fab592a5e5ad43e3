"""Jobs, kept in the hosted state's database: created at submission, claimed and ended by
workers, listed and cancelled through the API.

Every change of state is a compare-and-set: an UPDATE whose WHERE clause names the state and
attempt the caller saw, so two workers (or a worker and a cancelling caller) can never both
move a job on; the loser re-reads and learns what happened. The rules (which delivery runs,
which is skipped, when a job is given up) are the pure `job_states.plan_delivery`.

While a worker runs an attempt it holds the job's advisory lock (`lock`, `job_lock.JobLock`)
and renews the attempt's lease (`renew`: the `heartbeat` column, set to the database's `now()`,
compare-and-set on the attempt). A claim reads the job under a row lock with the heartbeat's
age on the same clock, so a delivery takes a running job over only when the lock is free and
the lease has run out: a worker that died, not one whose connection a restart dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, func, insert, select, update

from sandbox.errors import UserInputError
from sandbox.hosted.identity import check_organisation_id, check_principal_id
from sandbox.hosted.job_lock import JobLock
from sandbox.hosted.job_states import (
    LEASE,
    MAX_ATTEMPTS,
    TERMINAL_STATES,
    Delivery,
    Job,
    JobState,
    Plan,
    UnknownJob,
    check_job_id,
    new_job_id,
    plan_delivery,
)
from sandbox.hosted.repository import Repository
from sandbox.hosted.tables import jobs

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "TERMINAL_STATES",
    "Claim",
    "Job",
    "JobLock",
    "JobState",
    "Jobs",
    "Plan",
    "UnknownJob",
    "check_job_id",
]

_MAX_LISTED: Final = 1000
_MAX_TEXT: Final = 2000  # an error or a verdict kept on a job: bounded, it reaches listings
_SHA256_HEX: Final = frozenset("0123456789abcdef")
_CAS_ROUNDS: Final = 8  # a job changes state a handful of times: more misses is a bug


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _job_from(row: Any) -> Job:
    return Job(
        id=row.id,
        organisation_id=row.organisation_id,
        principal_id=row.principal_id,
        archive_sha256=row.archive_sha256,
        pilot_name=row.pilot_name,
        state=JobState(row.state),
        attempts=row.attempts,
        run_id=row.run_id,
        verdict=row.verdict,
        error=row.error,
        cancel_requested=row.cancel_requested,
        worker=row.worker,
        created=row.created.astimezone(UTC),
        started=_utc(row.started),
        finished=_utc(row.finished),
    )


def _bounded(value: str | None) -> str | None:
    if value is None:
        return None
    return value if len(value) <= _MAX_TEXT else value[: _MAX_TEXT - 1] + "…"


class Claim:
    """A worker's claim on one delivery: the plan it applied and the job as it left it."""

    __slots__ = ("delivery", "job")

    def __init__(self, delivery: Delivery, job: Job) -> None:
        self.delivery, self.job = delivery, job

    def __repr__(self) -> str:
        return f"Claim({self.delivery.plan}, {self.job.id}, attempt {self.delivery.attempt})"


class Jobs(Repository):
    """The jobs of one hosted sandbox (`migrate` first)."""

    def _read(self, conn: Connection, job_id: str) -> Job:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).one_or_none()
        if row is None:
            raise UnknownJob(f"job {job_id}: no such job; `sandbox jobs list` shows the jobs")
        return _job_from(row)

    def _swap(self, conn: Connection, seen: Job, **values: Any) -> Job | None:
        """Apply `values` if the job is still as `seen` (state and attempt); else None."""
        row = conn.execute(
            update(jobs)
            .where(
                jobs.c.id == seen.id,
                jobs.c.state == seen.state.value,
                jobs.c.attempts == seen.attempts,
            )
            .values(**values)
            .returning(*jobs.c)
        ).one_or_none()
        return None if row is None else _job_from(row)

    # --- the API's side ---------------------------------------------------------------------

    def create(
        self, *, organisation: str, principal: str, archive_sha256: str, pilot_name: str
    ) -> Job:
        """A new queued job for an archive already stored (the caller enqueues it)."""
        check_organisation_id(organisation, field="organisation")
        check_principal_id(principal, field="principal")
        if (
            not isinstance(archive_sha256, str)
            or len(archive_sha256) != 64
            or not set(archive_sha256) <= _SHA256_HEX
        ):
            raise UserInputError("archive_sha256: give the archive's SHA-256 as 64 hex digits")
        if not isinstance(pilot_name, str) or not pilot_name or len(pilot_name) > 200:
            raise UserInputError("pilot_name: give the pilot's name (1-200 characters)")
        with self._transaction("queue the job") as conn:
            row = conn.execute(
                insert(jobs)
                .values(
                    id=new_job_id(),
                    organisation_id=organisation,
                    principal_id=principal,
                    archive_sha256=archive_sha256,
                    pilot_name=pilot_name,
                    state=JobState.QUEUED.value,
                    attempts=0,
                    cancel_requested=False,
                    created=self._now(),
                )
                .returning(*jobs.c)
            ).one()
        return _job_from(row)

    def get(self, job_id: str) -> Job:
        """The job; UnknownJob if there is none with this id."""
        check_job_id(job_id)
        with self._transaction("read the job") as conn:
            return self._read(conn, job_id)

    def list(self, organisation: str, *, limit: int = 100) -> list[Job]:
        """`organisation`'s jobs, newest first."""
        check_organisation_id(organisation, field="organisation")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= _MAX_LISTED:
            raise UserInputError(f"limit: give a number of jobs from 1 to {_MAX_LISTED}")
        with self._transaction("list the jobs") as conn:
            rows = conn.execute(
                select(jobs)
                .where(jobs.c.organisation_id == organisation)
                .order_by(jobs.c.created.desc(), jobs.c.id.desc())
                .limit(limit)
            ).all()
        return [_job_from(row) for row in rows]

    def request_cancel(self, job_id: str) -> Job:
        """Cancel a queued job at once; ask a running one's worker to stop; a terminal job is
        returned as it is."""
        check_job_id(job_id)
        with self._transaction("cancel the job") as conn:
            for _round in range(_CAS_ROUNDS):
                seen = self._read(conn, job_id)
                if seen.terminal or (seen.state is JobState.RUNNING and seen.cancel_requested):
                    return seen
                if seen.state is JobState.QUEUED:
                    done = self._swap(
                        conn,
                        seen,
                        state=JobState.CANCELLED.value,
                        cancel_requested=True,
                        finished=self._now(),
                        error="cancelled before it started",
                    )
                else:
                    done = self._swap(conn, seen, cancel_requested=True)
                if done is not None:
                    return done
        raise AssertionError(f"job {job_id} changed state {_CAS_ROUNDS} times during a cancel")

    # --- the worker's side ------------------------------------------------------------------

    def claim(
        self,
        job_id: str,
        worker: str,
        *,
        lock_free: bool = True,
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> Claim:
        """Apply `plan_delivery` to a delivery of `job_id`'s message, atomically.

        `lock_free`: the caller holds the job's lock (`lock`). RUN: the job is now running
        attempt `delivery.attempt` for `worker`, its lease starting, with no run yet. GIVE_UP:
        the job has ended (`delivery.ends_as`) with the reason. SKIP, WAIT: unchanged.
        The caller closes `delivery.abandoned_run` (its worker died) in the trail.
        """
        check_job_id(job_id)
        with self._transaction("claim the job") as conn:
            for _round in range(_CAS_ROUNDS):
                # The row lock orders this claim with the running worker's renewals.
                row = conn.execute(
                    select(*jobs.c, (func.now() - jobs.c.heartbeat).label("heartbeat_age"))
                    .where(jobs.c.id == job_id)
                    .with_for_update()
                ).one_or_none()
                if row is None:
                    raise UnknownJob(f"job {job_id}: no such job; `sandbox jobs list` shows them")
                seen = _job_from(row)
                delivery = plan_delivery(
                    seen,
                    lock_free=lock_free,
                    heartbeat_age=row.heartbeat_age,
                    lease=lease,
                    max_attempts=max_attempts,
                )
                if delivery.plan in (Plan.SKIP, Plan.WAIT):
                    return Claim(delivery, seen)
                if delivery.plan is Plan.RUN:
                    done = self._swap(
                        conn,
                        seen,
                        state=JobState.RUNNING.value,
                        attempts=delivery.attempt,
                        worker=_bounded(worker),
                        run_id=None,
                        started=self._now(),
                        heartbeat=func.now(),
                    )
                else:
                    assert delivery.ends_as is not None
                    done = self._swap(
                        conn,
                        seen,
                        state=delivery.ends_as.value,
                        finished=self._now(),
                        error=_bounded(delivery.reason),
                    )
                if done is not None:
                    return Claim(delivery, done)
        raise AssertionError(f"job {job_id} changed state {_CAS_ROUNDS} times during a claim")

    def renew(self, job_id: str, attempt: int) -> bool:
        """Renew attempt `attempt`'s lease to the database's now; False if the attempt is no
        longer the job's (taken over, or ended)."""
        return self._attempt_update(job_id, attempt, "renew the job's lease", heartbeat=func.now())

    def record_run(self, job_id: str, attempt: int, run_id: str) -> bool:
        """Note the run of attempt `attempt`; False if the attempt is no longer the job's."""
        return self._attempt_update(job_id, attempt, "record the job's run", run_id=run_id)

    def end(
        self,
        job_id: str,
        attempt: int,
        state: JobState,
        *,
        verdict: str | None = None,
        error: str | None = None,
    ) -> bool:
        """End attempt `attempt` in a terminal `state`; False if it is no longer the job's."""
        if state not in TERMINAL_STATES:
            raise ValueError(f"{state} is not a terminal job state")
        return self._attempt_update(
            job_id,
            attempt,
            "end the job",
            state=state.value,
            verdict=_bounded(verdict),
            error=_bounded(error),
            finished=self._now(),
        )

    def release(self, job_id: str, attempt: int, error: str) -> bool:
        """Put attempt `attempt` back in the queue (its run could not start); False if it is
        no longer the job's. The attempt still counts against MAX_ATTEMPTS."""
        return self._attempt_update(
            job_id,
            attempt,
            "put the job back in the queue",
            state=JobState.QUEUED.value,
            worker=None,
            run_id=None,
            error=_bounded(error),
        )

    def _attempt_update(self, job_id: str, attempt: int, doing: str, **values: Any) -> bool:
        check_job_id(job_id)
        with self._transaction(doing) as conn:
            done = conn.execute(
                update(jobs)
                .where(
                    jobs.c.id == job_id,
                    jobs.c.state == JobState.RUNNING.value,
                    jobs.c.attempts == attempt,
                )
                .values(**values)
            )
            return done.rowcount == 1

    def cancel_requested(self, job_id: str) -> bool:
        """Whether someone asked for the job to stop (a worker polls this between stages)."""
        return self.get(job_id).cancel_requested

    def lock(self, job_id: str) -> JobLock:
        """The job's advisory lock (not yet taken: `JobLock.take`)."""
        return JobLock(self._engine, self._url, job_id)

    @contextmanager
    def hold(self, job_id: str) -> Iterator[bool]:
        """Try to hold the job's advisory lock for as long as the block runs; False when
        another live session holds it."""
        with self.lock(job_id) as lock:
            yield lock.take()
