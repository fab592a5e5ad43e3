"""`sandbox worker [--concurrency N] [--name NAME]`: run a hosted sandbox's queued jobs here.

Reads SANDBOX_BROKER_URL (RabbitMQ) and SANDBOX_HOSTED_URL (the jobs' database) from the
environment, brings the hosted tables up to date, and serves the job queue until stopped.
The runs use this host's Docker engine, the trail and MLflow the environment names
(SANDBOX_TRAIL_URL, MLFLOW_TRACKING_URI), and fetch archives from SANDBOX_ARCHIVE_URL with
SANDBOX_WORKER_TOKEN (or read SANDBOX_ARCHIVE_STORE when no URL is set).
"""

from __future__ import annotations

from typing import Annotated

import typer

from sandbox.errors import UserInputError

__all__ = ["register", "worker"]

ConcurrencyOption = Annotated[
    int,
    typer.Option(
        "--concurrency", min=1, max=64, help="Jobs run at once (one per CPU the host spares)."
    ),
]
NameOption = Annotated[
    str | None,
    typer.Option("--name", help="This worker's name in job records; default sandbox-PID@HOST."),
]


def register(app: typer.Typer) -> None:
    """Add `worker` to `app`."""
    app.command()(worker)


def worker(concurrency: ConcurrencyOption = 1, name: NameOption = None) -> None:
    """Run queued jobs of a hosted sandbox on this host until stopped."""
    from sandbox.hosted.migrate import migrate
    from sandbox.settings import Settings
    from sandbox.worker.broker import check_broker_url
    from sandbox.worker.tasks import run_worker

    settings = Settings()
    check_broker_url(settings.broker_url)
    if not settings.hosted_url:
        raise UserInputError(
            "SANDBOX_HOSTED_URL: not set; set it to the hosted database's URL, "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE (`bash scripts/postgres.sh` prints one)"
        )
    if name is not None and (not name.isprintable() or not 0 < len(name) <= 200):
        raise UserInputError("--name: give 1-200 printable characters, e.g. worker-1@host")
    migrate(settings.hosted_url)
    run_worker(settings, concurrency=concurrency, name=name)
