"""`Lease`: a running attempt's heartbeat, renewed on a thread while the worker runs the job.

Every HEARTBEAT_EVERY the thread renews the attempt's lease (`Jobs.renew`, compare-and-set on
the job, RUNNING and the attempt) and, if the job's advisory lock went with a dropped
connection, takes it again. When the database cannot be reached it keeps trying every second,
so a PostgreSQL restart costs the lease a few seconds of its LEASE. When the renewal finds the
attempt is no longer the job's (another delivery took it over after the lease ran out, or the
job ended), the lease is lost: `lost` says why and the run stops at its next stage
(`jobrun`). The lock held by another session is not enough to stop: a duplicate delivery
takes it briefly to look, sees the current lease and lets go.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Final

from sandbox.errors import HostedStateError
from sandbox.hosted.job_lock import JobLock
from sandbox.hosted.job_states import HEARTBEAT_EVERY
from sandbox.hosted.jobs import Jobs

__all__ = ["Lease"]

_RECONNECT_S: Final = 1.0  # while the database is away: a restart takes seconds
_LOG: Final = logging.getLogger("sandbox.worker")


class Lease:
    """Renew attempt `attempt` of job `job_id` while the block runs (a context manager)."""

    def __init__(
        self,
        jobs: Jobs,
        lock: JobLock,
        attempt: int,
        *,
        every: timedelta = HEARTBEAT_EVERY,
    ) -> None:
        self._jobs, self._lock, self.attempt = jobs, lock, attempt
        self.job_id = lock.job_id
        self._every = every.total_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep, name=f"lease-{self.job_id}", daemon=True)
        self.lost: str | None = None  # why the attempt is no longer this worker's
        self.renewals = 0

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _keep(self) -> None:
        wait = self._every
        while self.lost is None and not self._stop.wait(wait):
            wait = self.renew()

    def renew(self) -> float:
        """One renewal (the thread's step); the seconds until the next."""
        try:
            if not self._jobs.renew(self.job_id, self.attempt):
                self.lost = f"job {self.job_id}: attempt {self.attempt} is no longer this worker's"
                job = self._jobs.get(self.job_id)
                self.lost += f" (it is {job.state} on attempt {job.attempts}, {job.worker})"
                return self._every
            self.renewals += 1
            if not self._lock.take():  # a duplicate delivery looking: renewed, so still ours
                _LOG.info("job %s: another session holds its lock; lease renewed", self.job_id)
        except HostedStateError as exc:
            _LOG.warning("job %s: cannot renew the lease yet: %s", self.job_id, exc)
            return _RECONNECT_S
        return self._every
