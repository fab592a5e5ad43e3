"""The Celery application both sides share: how jobs travel over RabbitMQ.

One durable queue, `sandbox.jobs`, on a durable direct exchange; messages are persistent,
JSON only, and carry a job id and nothing else (the job itself is in PostgreSQL). Publishing
waits for the broker's confirmation, so a job the API has queued is on the broker's disk.
A worker acknowledges a message only after the job's run has its terminal record
(`task_acks_late`), takes one message at a time (`worker_prefetch_multiplier=1`), and a
message whose worker died is redelivered (`task_reject_on_worker_lost`, and RabbitMQ
redelivers what a closed connection left unacknowledged). There is no result backend: a
job's state is read from PostgreSQL.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from celery import Celery
from kombu.entity import Exchange, Queue

from sandbox.errors import UserInputError

__all__ = ["QUEUE", "TASK", "celery_app", "check_broker_url"]

QUEUE: Final = "sandbox.jobs"
TASK: Final = "sandbox.run_job"
_FORM: Final = "amqp://USER:PASSWORD@HOST:5672/VHOST (`bash scripts/broker.sh url` prints it)"
_MAX_URL: Final = 2048


def check_broker_url(url: str | None) -> str:
    """The broker URL if it is an AMQP URL; UserInputError naming the setting if not."""
    if not url:
        raise UserInputError(f"SANDBOX_BROKER_URL: not set; set it to {_FORM}")
    if len(url) > _MAX_URL or urlsplit(url).scheme not in {"amqp", "amqps", "pyamqp"}:
        raise UserInputError(f"SANDBOX_BROKER_URL: not an AMQP URL; set it to {_FORM}")
    return url


def celery_app(broker_url: str) -> Celery:
    """A Celery application on `broker_url`, configured as the module docstring says."""
    app = Celery("sandbox", broker=check_broker_url(broker_url), set_as_current=False)
    exchange = Exchange(QUEUE, type="direct", durable=True)  # type: ignore[no-untyped-call]
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE,
        task_default_exchange=QUEUE,
        task_default_routing_key=QUEUE,
        task_queues=(Queue(QUEUE, exchange, routing_key=QUEUE, durable=True),),  # type: ignore[no-untyped-call]
        task_default_delivery_mode="persistent",
        broker_transport_options={"confirm_publish": True},
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=10,
        worker_send_task_events=False,
        task_send_sent_event=False,
        worker_hijack_root_logger=False,
    )
    return app
