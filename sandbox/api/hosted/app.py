"""The hosted API's app factory: one app per hosted sandbox, nothing opened until first use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from sandbox.api.app import SECURITY_HEADERS
from sandbox.api.errors import error_body, install_error_handlers
from sandbox.api.hosted import archives, dashboard, jobs, reviews, submissions, tokens
from sandbox.api.hosted.limits import RouteBodyLimits
from sandbox.api.hosted.state import Enqueue, HostedState
from sandbox.api.routes import health
from sandbox.errors import AccessDenied, HostedStateError, UserInputError
from sandbox.hosted.accounts import Accounts
from sandbox.hosted.database import SETTING
from sandbox.hosted.intake import ArchiveLimits, ArchiveStore
from sandbox.hosted.jobs import Jobs
from sandbox.hosted.migrate import migrate
from sandbox.settings import Settings, prepare_home

__all__ = ["create_hosted_app"]


def _default_enqueue() -> Enqueue:
    from sandbox.worker import enqueue  # Celery loads only in a server that queues jobs

    return enqueue


def create_hosted_app(
    settings: Settings | None = None,
    *,
    enqueue: Enqueue | None = None,
    limits: ArchiveLimits | None = None,
    migrate_on_start: bool = True,
) -> FastAPI:
    """The hosted API over `settings.hosted_url` (the state), its archive store and trail.

    `enqueue` hands a queued job to the workers (default `sandbox.worker.enqueue`);
    `migrate_on_start` brings the tables up to date when the app starts, as every server does.
    """
    settings = settings or Settings()
    if not settings.hosted_url:
        raise UserInputError(
            f"{SETTING}: not set; the hosted API keeps organisations, tokens and jobs in "
            f"PostgreSQL: set {SETTING} to postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    prepare_home(settings)
    url = settings.hosted_url
    state = HostedState(
        settings=settings,
        accounts=Accounts(url),
        jobs=Jobs(url),
        store=ArchiveStore(settings.archives_dir),
        enqueue=enqueue or _default_enqueue(),
        limits=limits or ArchiveLimits(),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if migrate_on_start:
            migrate(url)
        yield
        state.close()

    app = FastAPI(
        title="AI Commons Sandbox (hosted)",
        summary="Submit pilots to a hosted sandbox, follow their jobs, manage tokens.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.hosted = state
    install_error_handlers(app)
    _install_hosted_errors(app)
    # Added first, so it sits inside the headers middleware and its 413 gets the headers too.
    app.add_middleware(RouteBodyLimits, upload_limit=state.limits.max_compressed_bytes)

    @app.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    app.add_api_route("/api/health", health, methods=["GET"])  # liveness, no token
    app.include_router(submissions.router)
    app.include_router(jobs.router)
    app.include_router(archives.router)
    app.include_router(tokens.router)
    app.include_router(reviews.router)
    app.include_router(dashboard.router)  # the browser pages
    return app


def _install_hosted_errors(app: FastAPI) -> None:
    """A refused action is 403; the hosted state's database being unreachable is 503."""

    @app.exception_handler(AccessDenied)
    async def _denied(request: Request, exc: AccessDenied) -> JSONResponse:
        return error_body(403, str(exc))

    @app.exception_handler(HostedStateError)
    async def _state(request: Request, exc: HostedStateError) -> JSONResponse:
        return error_body(503, str(exc))
