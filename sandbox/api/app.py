"""The web API and dashboard: read-only, one city per token, nothing built at import time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import jinja2
from fastapi import FastAPI, Request, Response

from sandbox.api import pages, routes
from sandbox.api.errors import install_error_handlers
from sandbox.api.limits import BodyLimit
from sandbox.api.runs import RunIndex
from sandbox.api.sessions import SessionStore
from sandbox.api.tenants import TenantFile
from sandbox.settings import Settings, prepare_home

__all__ = ["SECURITY_HEADERS", "create_app", "tenants_path"]

# Reports are self-contained: inline styles and SVG, no scripts, nothing fetched.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def tenants_path(settings: Settings) -> Path:
    """The tenants file under the sandbox home."""
    return settings.home / "api" / "tenants.yaml"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for one sandbox home."""
    settings = settings or Settings()
    prepare_home(settings)  # tenants and sessions live under it: the owner's alone
    app = FastAPI(
        title="AI Commons Sandbox",
        summary="Read-only access to a city's pilot runs, reports and verdicts.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
    )
    app.state.tenants = TenantFile(tenants_path(settings))
    app.state.runs = RunIndex(settings.runs_dir)
    app.state.sessions = SessionStore()
    app.state.templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(pages.templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    install_error_handlers(app)
    # Added first, so it sits inside the headers middleware and its 413 gets the headers too.
    app.add_middleware(BodyLimit)

    @app.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    app.include_router(routes.router)
    app.include_router(pages.router)
    return app
