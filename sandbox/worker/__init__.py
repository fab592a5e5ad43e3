"""A hosted sandbox's workers: queued jobs carried over RabbitMQ by Celery, run on this host.

    broker.py     the Celery application both sides share: the durable queue, persistent
                  JSON messages carrying a job id, late acknowledgement, no result backend
    queue.py      `enqueue(job, settings)`: publish a job's task, confirmed by the broker
    tasks.py      the job task and `run_worker` (what `sandbox worker` starts)
    jobrun.py     `handle_delivery`: claim a job, fetch and unpack its archive, run it, end it
    fetch.py      `fetch_archive`: from the hosted API through `receive_archive`, or the store
    lease.py      `Lease`: the running attempt's heartbeat, renewed on a thread; lost when
                  another delivery took the job over
    abandoned.py  `close_abandoned_run`: a dead worker's run closed as lost, exactly once

The job's state lives in PostgreSQL (`sandbox.hosted.jobs`); the queue only says which job to
look at. `import sandbox.worker` loads Celery and kombu, never the run pipeline.
"""

from __future__ import annotations

from sandbox.worker.queue import enqueue

__all__ = ["enqueue"]
