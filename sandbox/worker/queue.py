"""`enqueue`: hand a queued job to the workers (what the submission endpoint calls)."""

from __future__ import annotations

import threading
from typing import Final

from celery import Celery
from kombu.exceptions import KombuError

from sandbox.errors import HostedStateError
from sandbox.hosted.job_states import Job
from sandbox.settings import Settings
from sandbox.url_secrets import redact, scrub
from sandbox.worker.broker import QUEUE, TASK, celery_app, check_broker_url

__all__ = ["enqueue"]

_APPS: Final[dict[str, Celery]] = {}  # one per broker URL: its connection pool is reused
_LOCK: Final = threading.Lock()
_RETRY: Final = {"max_retries": 3, "interval_start": 0.5, "interval_step": 1.0}


def _app(broker_url: str) -> Celery:
    with _LOCK:
        if broker_url not in _APPS:
            _APPS[broker_url] = celery_app(broker_url)
        return _APPS[broker_url]


def enqueue(job: Job, settings: Settings) -> None:
    """Send `job`'s task (its id alone), confirmed by the broker before this returns.

    HostedStateError, without the broker's password, if the broker cannot take it.
    """
    url = check_broker_url(settings.broker_url)
    try:
        _app(url).send_task(TASK, args=(job.id,), queue=QUEUE, retry=True, retry_policy=_RETRY)
    except (KombuError, OSError) as exc:
        reason = scrub(" ".join(str(exc).split())[:300], url)
        raise HostedStateError(
            f"{redact(url)}: cannot queue job {job.id} ({type(exc).__name__}: {reason}); "
            "check that the broker runs (`bash scripts/broker.sh` starts it)"
        ) from None
