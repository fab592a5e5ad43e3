"""The worker's Celery application: the job task registered, and `run_worker` to serve it.

The task hands each delivery to `jobrun.handle_delivery`. A delivery that cannot be handled
now is published again for later (Celery's `retry`, up to an hour): a duplicate of a job
another live worker is running (`Busy`: when the job's lease runs out, or RETRY_EVERY_S), an
archive the hosted API could not hand over, or the hosted database out of reach. Anything
else is acknowledged: a job's own failure is on its record, never retried by the queue.

Tasks run on threads (`--pool threads`): the process's main thread keeps the broker
connection and its heartbeats alive while a run takes minutes, and a worker killed with
SIGKILL takes its runs with it, so nothing of it keeps running after its messages are
redelivered. Each worker host has its own Docker engine; one run at a time by default.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from functools import cache
from typing import Any, Final

from celery import Celery, Task

from sandbox.errors import HostedStateError
from sandbox.hosted.job_states import check_job_id
from sandbox.settings import Settings
from sandbox.worker.broker import QUEUE, TASK, celery_app
from sandbox.worker.fetch import ArchiveUnavailable
from sandbox.worker.jobrun import Busy, handle_delivery

__all__ = ["RETRY_EVERY_S", "default_name", "run_worker", "worker_app"]

RETRY_EVERY_S: Final = 30
_MAX_RETRIES: Final = 120  # an hour of 30 s waits: longer than any run's time limit
_LOG: Final = logging.getLogger("sandbox.worker")
# Libraries that log routine steps at INFO, drowning the jobs' lines at the worker's level:
# fontTools subsetting the PDF report's fonts (about 150 lines a PDF), MLflow's store set-up,
# httpx's line per request, Alembic's per revision.
_QUIETED: Final = ("fontTools", "fpdf", "PIL", "matplotlib", "mlflow", "httpx", "alembic")


@cache
def _settings() -> Settings:
    return Settings()


def default_name() -> str:
    """This worker's name in job records: `sandbox-<pid>@<host>`."""
    return f"sandbox-{os.getpid()}@{socket.gethostname()}"


def worker_app(settings: Settings) -> Celery:
    """The Celery application with the job task, on the settings' broker."""
    app = celery_app(settings.broker_url or "")

    @app.task(name=TASK, bind=True, max_retries=_MAX_RETRIES)  # type: ignore[untyped-decorator]
    def run_job(task: Task[Any, Any], job_id: str) -> None:
        check_job_id(job_id, field="task argument")
        try:
            done = handle_delivery(job_id, _settings(), worker=str(task.request.hostname))
        except (Busy, ArchiveUnavailable, HostedStateError) as exc:
            wait = RETRY_EVERY_S
            if isinstance(exc, Busy) and exc.retry_in is not None:  # a lease: just after it ends
                wait = min(RETRY_EVERY_S, math.ceil(exc.retry_in.total_seconds()) + 1)
            _LOG.warning("job %s: %s; trying again in %d s", job_id, exc, wait)
            raise task.retry(countdown=wait, exc=exc) from None
        _LOG.info("job %s: %s, %s (%s)", job_id, done.plan, done.job.state, done.job.verdict)

    return app


def run_worker(settings: Settings, *, concurrency: int = 1, name: str | None = None) -> None:
    """Serve the job queue in this process until it is stopped."""
    app = worker_app(settings)
    for library in _QUIETED:
        logging.getLogger(library).setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # MLflow sets its level on import
    name = name or default_name()
    if "@" not in name:  # Celery would prefix `celery@`; the host belongs in the name
        name = f"{name}@{socket.gethostname()}"
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            f"--hostname={name}",
            f"--queues={QUEUE}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
    )
