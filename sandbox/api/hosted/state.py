"""What the hosted API works with, built once per app: accounts, jobs, archives, trail, queue.

`HostedState` holds the edges the routes call. The database handles (`Accounts`, `Jobs`) open
their connections on first use; the trail and the MLflow tracker are opened on the first call
that needs them (a blocked pilot, a queued job), so building the app touches nothing.
`Enqueue` is how a queued job reaches the workers: `sandbox.worker.enqueue` in service, a
recording function in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import FastAPI

from sandbox.hosted.accounts import Accounts
from sandbox.hosted.intake import ArchiveLimits, ArchiveStore
from sandbox.hosted.jobs import Job, Jobs
from sandbox.runs.services import open_tracker, open_trail
from sandbox.settings import Settings

if TYPE_CHECKING:
    from sandbox.audit.trail import AuditTrail
    from sandbox.tracking.base import Tracker

__all__ = ["Enqueue", "HostedState", "hosted_state"]

Enqueue = Callable[[Job, Settings], None]


@dataclass(kw_only=True)
class HostedState:
    """The hosted API's edges; one per app, shared by every request."""

    settings: Settings
    accounts: Accounts
    jobs: Jobs
    store: ArchiveStore
    enqueue: Enqueue
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    _trail: AuditTrail | None = None
    _tracker: Tracker | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def trail(self) -> AuditTrail:
        """The signed trail (PostgreSQL when SANDBOX_TRAIL_URL is set), opened once."""
        with self._lock:
            if self._trail is None:
                self._trail = open_trail(self.settings)
            return self._trail

    @property
    def tracker(self) -> Tracker:
        """The MLflow tracker behind its durable outbox, opened once."""
        with self._lock:
            if self._tracker is None:
                self._tracker = open_tracker(self.settings)
            return self._tracker

    def close(self) -> None:
        """Close the database connections (the next call opens new ones)."""
        self.accounts.close()
        self.jobs.close()


def hosted_state(app: FastAPI) -> HostedState:
    """The state `create_hosted_app` attached to `app`."""
    state: HostedState = app.state.hosted
    return state
