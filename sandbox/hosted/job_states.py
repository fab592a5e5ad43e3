"""A job's values and the rules of its life, with no database: what the workers and the API
read, and what a worker does with a delivery.

    queued ──claim──> running ──end──> finished   (the run reached a verdict, or was refused)
       │   <──release──  │  └──────> cancelled   (cancel asked for, honoured between stages)
       └──cancel──> cancelled        └──redelivered after its worker died──> running again,
                                        or lost once MAX_ATTEMPTS attempts have started

`release` puts a running attempt back in the queue when it could not start its run (the
archive could not be fetched): the next delivery starts the next attempt, within the bound.

A delivery of a job's message is planned from the job and its attempt's lease
(`plan_delivery`): a terminal job is skipped, a queued one runs. A running one is left alone
(WAIT: tried again later) while its worker may be alive: while another session holds the job's
advisory lock, or while its heartbeat is younger than LEASE. A worker renews the heartbeat
every HEARTBEAT_EVERY, so a database restart that drops the lock's connection leaves the live
run alone. Only when both have gone (the worker died, or lost the database for longer than the
lease) is its attempt closed and the job run again or, after MAX_ATTEMPTS, ended lost.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sandbox.errors import UserInputError

__all__ = [
    "HEARTBEAT_EVERY",
    "LEASE",
    "MAX_ATTEMPTS",
    "TERMINAL_STATES",
    "Delivery",
    "Job",
    "JobState",
    "Plan",
    "UnknownJob",
    "check_job_id",
    "new_job_id",
    "plan_delivery",
]

#: Attempts a job may start; a worker dying under the last one leaves the job lost.
MAX_ATTEMPTS: Final = 3
#: How often a running attempt's worker renews its heartbeat.
HEARTBEAT_EVERY: Final = timedelta(seconds=5)
#: How old a heartbeat may be before its attempt counts as abandoned: four renewals, so a worker
#: whose connection dropped (a PostgreSQL restart takes a few seconds) reconnects and renews
#: well before another delivery may take its job over. A dead worker's job waits this long.
LEASE: Final = 4 * HEARTBEAT_EVERY
_JOB_ID: Final = re.compile(r"job_[a-z2-7]{26}")


class JobState(StrEnum):
    """Where a job is; FINISHED, CANCELLED and LOST are terminal."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    LOST = "lost"


TERMINAL_STATES: Final = frozenset({JobState.FINISHED, JobState.CANCELLED, JobState.LOST})


class UnknownJob(UserInputError):
    """No job has this id (or, to its caller, none it may see)."""


@dataclass(frozen=True, kw_only=True)
class Job:
    """A submitted pilot's job, as the database holds it."""

    id: str
    organisation_id: str
    principal_id: str
    archive_sha256: str
    pilot_name: str
    state: JobState
    attempts: int
    run_id: str | None
    verdict: str | None  # the run's verdict or status once FINISHED ("passed", "blocked", ...)
    error: str | None
    cancel_requested: bool
    worker: str | None
    created: datetime
    started: datetime | None
    finished: datetime | None

    @property
    def terminal(self) -> bool:
        """Whether the job has ended (nothing changes it any more)."""
        return self.state in TERMINAL_STATES


def new_job_id() -> str:
    """`job_` and 26 random base32 characters (130 bits): unguessable, safe in a URL."""
    return "job_" + base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def check_job_id(value: object, *, field: str = "job id") -> str:
    """`value` if it is a job id; UserInputError naming `field` and the form if not."""
    if not isinstance(value, str) or not _JOB_ID.fullmatch(value):
        shown = ascii(value[:80]) if isinstance(value, str) else type(value).__name__
        raise UserInputError(
            f"{field}: {shown} is not a job id (job_ and 26 characters a-z, 2-7, as "
            "`sandbox jobs list` shows)"
        )
    return value


class Plan(StrEnum):
    """What a worker does with one delivery of a job's message."""

    SKIP = "skip"  # the job is terminal: acknowledge, run nothing
    RUN = "run"  # start an attempt
    GIVE_UP = "give_up"  # its worker died and no attempt follows: the job ends (`ends_as`)
    WAIT = "wait"  # its worker may be alive (lock held or lease current): try again later


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """A planned delivery: what to do, the attempt it starts, and an attempt left behind."""

    plan: Plan
    attempt: int  # the attempt number a RUN starts (attempts + 1); else the current count
    abandoned_run: str | None = None  # the run of an attempt whose worker died, to close
    abandoned_by: str | None = None  # the worker that held that attempt
    ends_as: JobState | None = None  # the terminal state a GIVE_UP leaves the job in
    retry_in: timedelta | None = None  # a WAIT on a lease: when it runs out
    reason: str = ""


def plan_delivery(
    job: Job,
    *,
    lock_free: bool,
    heartbeat_age: timedelta | None,
    lease: timedelta = LEASE,
    max_attempts: int = MAX_ATTEMPTS,
) -> Delivery:
    """What to do with a delivery of `job`'s message (pure: the caller applies it atomically).

    `lock_free`: the delivery's worker took the job's advisory lock (no other session has it).
    `heartbeat_age`: how long ago, on the database's clock, the attempt last renewed its lease
    (None: never).
    """
    if job.terminal:
        return Delivery(plan=Plan.SKIP, attempt=job.attempts, reason=f"the job is {job.state}")
    if not lock_free:
        return Delivery(
            plan=Plan.WAIT,
            attempt=job.attempts,
            reason=f"another worker holds job {job.id}'s lock (it is running the job)",
        )
    if job.state is JobState.QUEUED:
        if job.attempts >= max_attempts:  # put back after its last attempt could not start
            return Delivery(
                plan=Plan.GIVE_UP,
                attempt=job.attempts,
                ends_as=JobState.LOST,
                reason=f"{max_attempts} attempts could not run it; the last: {job.error}",
            )
        return Delivery(plan=Plan.RUN, attempt=job.attempts + 1)
    # RUNNING: its worker is alive while its lease is current, even with the lock free (a
    # database restart drops the lock's connection, not the run).
    if heartbeat_age is not None and heartbeat_age < lease:
        return Delivery(
            plan=Plan.WAIT,
            attempt=job.attempts,
            retry_in=lease - heartbeat_age,
            reason=f"worker {job.worker or '(unknown)'} renewed its lease on attempt "
            f"{job.attempts} {heartbeat_age.total_seconds():.0f} s ago",
        )
    # Lock free and lease expired: the worker of attempt `attempts` died before acknowledging.
    died = f"worker {job.worker or '(unknown)'} stopped during attempt {job.attempts}"
    if job.attempts >= max_attempts:
        return Delivery(
            plan=Plan.GIVE_UP,
            attempt=job.attempts,
            abandoned_run=job.run_id,
            abandoned_by=job.worker,
            ends_as=JobState.LOST,
            reason=f"{died}, the last of {max_attempts} attempts; the job is not retried",
        )
    if job.cancel_requested:  # asked to stop: do not start another attempt
        return Delivery(
            plan=Plan.GIVE_UP,
            attempt=job.attempts,
            abandoned_run=job.run_id,
            abandoned_by=job.worker,
            ends_as=JobState.CANCELLED,
            reason=f"{died}, after cancellation was asked for",
        )
    return Delivery(
        plan=Plan.RUN,
        attempt=job.attempts + 1,
        abandoned_run=job.run_id,
        abandoned_by=job.worker,
        reason=f"{died}; retried",
    )
