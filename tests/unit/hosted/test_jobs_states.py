"""A job's life without a database: ids, and what each delivery of its message does."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandbox.errors import UserInputError
from sandbox.hosted.job_states import (
    HEARTBEAT_EVERY,
    LEASE,
    MAX_ATTEMPTS,
    TERMINAL_STATES,
    Job,
    JobState,
    Plan,
    check_job_id,
    new_job_id,
    plan_delivery,
)

WHEN = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FREE: dict[str, Any] = {"lock_free": True, "heartbeat_age": None}  # a queued job: no lease
EXPIRED: dict[str, Any] = {"lock_free": True, "heartbeat_age": LEASE}  # its worker died


def job(state: JobState, **changes: object) -> Job:
    base = Job(
        id="job_" + "a" * 26, organisation_id="northtown", principal_id="northtown-ci",
        archive_sha256="0" * 64, pilot_name="p", state=state, attempts=0, run_id=None,
        verdict=None, error=None, cancel_requested=False, worker=None, created=WHEN,
        started=None, finished=None,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_new_job_ids_have_the_published_form_and_do_not_repeat() -> None:
    made = {new_job_id() for _ in range(1000)}
    assert len(made) == 1000
    assert all(check_job_id(made_id) == made_id and len(made_id) == 30 for made_id in made)


@pytest.mark.parametrize(
    "value",
    ["", "job_", "job_" + "a" * 25, "job_" + "A" * 26, "job_" + "1" * 26, "JOB_" + "a" * 26,
     "job_" + "a" * 26 + "\n", 7, None, "job_" + "a" * 27],
)  # fmt: skip
def test_anything_else_is_not_a_job_id(value: object) -> None:
    with pytest.raises(UserInputError, match="job id: .* is not a job id"):
        check_job_id(value)


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES))
def test_a_terminal_job_is_skipped_whatever_its_history(state: JobState) -> None:
    for attempts in (0, 1, MAX_ATTEMPTS, MAX_ATTEMPTS + 5):
        planned = plan_delivery(
            job(state, attempts=attempts, run_id="r1", worker="w"),
            lock_free=False,
            heartbeat_age=None,
        )
        assert planned.plan is Plan.SKIP
        assert planned.abandoned_run is None


def test_a_queued_job_starts_its_first_attempt() -> None:
    planned = plan_delivery(job(JobState.QUEUED), **FREE)
    assert (planned.plan, planned.attempt, planned.abandoned_run) == (Plan.RUN, 1, None)


def test_a_running_job_on_delivery_lost_its_worker_and_is_retried() -> None:
    planned = plan_delivery(
        job(JobState.RUNNING, attempts=1, run_id="run-1", worker="w1"), **EXPIRED
    )
    assert planned.plan is Plan.RUN
    assert planned.attempt == 2
    assert (planned.abandoned_run, planned.abandoned_by) == ("run-1", "w1")
    assert "worker w1 stopped during attempt 1" in planned.reason


def test_after_the_last_attempt_the_job_is_lost_with_the_reason() -> None:
    planned = plan_delivery(
        job(JobState.RUNNING, attempts=MAX_ATTEMPTS, run_id="run-3", worker="w2"), **EXPIRED
    )
    assert planned.plan is Plan.GIVE_UP
    assert planned.ends_as is JobState.LOST
    assert planned.abandoned_run == "run-3"
    assert f"the last of {MAX_ATTEMPTS} attempts" in planned.reason


def test_a_cancelled_job_whose_worker_died_is_not_started_again() -> None:
    running = job(JobState.RUNNING, attempts=1, run_id="run-1", cancel_requested=True)
    planned = plan_delivery(running, **EXPIRED)
    assert (planned.plan, planned.ends_as) == (Plan.GIVE_UP, JobState.CANCELLED)


def test_a_job_put_back_after_its_last_attempt_is_lost() -> None:
    released = job(JobState.QUEUED, attempts=MAX_ATTEMPTS, error="the archive could not be fetched")
    planned = plan_delivery(released, **FREE)
    assert (planned.plan, planned.ends_as) == (Plan.GIVE_UP, JobState.LOST)
    assert "the archive could not be fetched" in planned.reason


def test_attempts_are_bounded_whatever_the_deliveries() -> None:
    """Redelivering a job whose worker always dies ends it after MAX_ATTEMPTS attempts."""
    current = job(JobState.QUEUED)
    started = 0
    for _delivery in range(20):
        planned = plan_delivery(current, **EXPIRED)
        if planned.plan is Plan.SKIP:
            break
        if planned.plan is Plan.GIVE_UP:
            current = dataclasses.replace(current, state=planned.ends_as, finished=WHEN)
            continue
        started += 1
        current = dataclasses.replace(
            current, state=JobState.RUNNING, attempts=planned.attempt, run_id=f"run-{started}"
        )
    assert started == MAX_ATTEMPTS
    assert current.state is JobState.LOST


# --- the lease: a running job is taken over only when its lock is free and its lease ran out ---


def running(**changes: object) -> Job:
    return job(JobState.RUNNING, **{"attempts": 1, "run_id": "run-1", "worker": "w1", **changes})


@pytest.mark.parametrize("age", [None, timedelta(0), LEASE, LEASE * 100])
def test_a_held_lock_means_a_live_worker_whatever_the_heartbeat(age: timedelta | None) -> None:
    planned = plan_delivery(running(), lock_free=False, heartbeat_age=age)
    assert (planned.plan, planned.attempt, planned.abandoned_run) == (Plan.WAIT, 1, None)
    assert planned.retry_in is None and "holds job" in planned.reason


@pytest.mark.parametrize("state", [JobState.QUEUED, JobState.RUNNING])
def test_a_held_lock_defers_any_unfinished_job(state: JobState) -> None:
    planned = plan_delivery(job(state), lock_free=False, heartbeat_age=None)
    assert planned.plan is Plan.WAIT


@pytest.mark.parametrize("seconds", [0, 1, 5, 19])
def test_a_current_lease_keeps_the_job_with_its_worker_after_the_lock_dropped(
    seconds: int,
) -> None:
    """A PostgreSQL restart drops the lock's connection; the heartbeat says the run goes on."""
    age = timedelta(seconds=seconds)
    planned = plan_delivery(running(), lock_free=True, heartbeat_age=age)
    assert (planned.plan, planned.attempt, planned.abandoned_run) == (Plan.WAIT, 1, None)
    assert planned.retry_in == LEASE - age
    assert "worker w1 renewed its lease on attempt 1" in planned.reason


@pytest.mark.parametrize("age", [None, LEASE, LEASE + timedelta(microseconds=1), LEASE * 10])
def test_a_free_lock_and_an_expired_lease_mean_the_worker_died(age: timedelta | None) -> None:
    planned = plan_delivery(running(), lock_free=True, heartbeat_age=age)
    assert (planned.plan, planned.attempt, planned.abandoned_run) == (Plan.RUN, 2, "run-1")


def test_the_lease_is_a_parameter_and_outlasts_several_renewals() -> None:
    assert LEASE >= 3 * HEARTBEAT_EVERY
    age = timedelta(seconds=3)
    short = plan_delivery(running(), lock_free=True, heartbeat_age=age, lease=age)
    assert short.plan is Plan.RUN
    cancelled = running(cancel_requested=True)
    assert plan_delivery(cancelled, lock_free=True, heartbeat_age=age).plan is Plan.WAIT


def test_the_last_attempt_is_given_up_only_once_its_lease_ran_out() -> None:
    last = running(attempts=MAX_ATTEMPTS)
    assert plan_delivery(last, lock_free=True, heartbeat_age=timedelta(0)).plan is Plan.WAIT
    assert plan_delivery(last, lock_free=True, heartbeat_age=LEASE).plan is Plan.GIVE_UP


@pytest.mark.parametrize("lock_free", [True, False])
def test_a_terminal_job_is_skipped_even_while_its_lock_is_held(lock_free: bool) -> None:
    ended = job(JobState.FINISHED, attempts=1, finished=WHEN)
    assert plan_delivery(ended, lock_free=lock_free, heartbeat_age=None).plan is Plan.SKIP
