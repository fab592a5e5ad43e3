"""Request body caps for the hosted API: small everywhere, the archive limit for submissions.

The read-only app's `BodyLimit` (413 on a declared or counted excess, while streaming) guards
every route with its small cap; the submission route alone accepts a pilot archive, up to
`ArchiveLimits.max_compressed_bytes`. A declared `Content-Length` above the cap is refused
before a byte of the body is read; the archive checks count the bytes again as they arrive.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.api.limits import MAX_BODY_BYTES, BodyLimit

__all__ = ["SUBMISSIONS_PATH", "RouteBodyLimits"]

SUBMISSIONS_PATH: Final = "/api/v1/submissions"


class RouteBodyLimits:
    """ASGI middleware: `BodyLimit` at `upload_limit` for submissions, the small cap elsewhere."""

    def __init__(
        self, app: ASGIApp, *, upload_limit: int, default_limit: int = MAX_BODY_BYTES
    ) -> None:
        self.upload = BodyLimit(app, limit=upload_limit)
        self.default = BodyLimit(app, limit=default_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pick the cap by the request's path (exactly the submissions route, no prefix)."""
        upload = scope["type"] == "http" and scope.get("path") == SUBMISSIONS_PATH
        await (self.upload if upload else self.default)(scope, receive, send)
