"""A cap on request bodies, enforced while the body streams in, before anything buffers it.

The API is read-only: the largest body it accepts is the sign-in form. `BodyLimit` answers
413 at once when `Content-Length` says the body is too large (nothing of it is read), and
otherwise counts the bytes of each `http.request` message as the app pulls them, failing the
read as soon as the count passes the cap: at most one message past the cap is ever held.
"""

from __future__ import annotations

from typing import Final

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.api.errors import error_body

__all__ = ["MAX_BODY_BYTES", "BodyLimit"]

MAX_BODY_BYTES: Final = 16 * 1024


class _BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware: refuse request bodies over `limit` bytes with 413, while streaming."""

    def __init__(self, app: ASGIApp, *, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the bytes the app receives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await _refuse(send, self.limit)
            return
        received = 0
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Raised inside the route, so the app's handler answers in the one shape.
                    raise _BodyTooLarge(self.limit)
            return message

        try:
            await self.app(scope, counted, tracked)
        except _BodyTooLarge:
            if started:  # too late for a status: the connection is dropped instead
                raise
            await _refuse(send, self.limit)


def _content_length(scope: Scope) -> int | None:
    """The declared body length; a malformed one counts as too large (HTTP says reject it)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 19 else 1 << 62
    return None


async def _refuse(send: Send, limit: int) -> None:
    response = error_body(413, _BodyTooLarge(limit).detail)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [*response.raw_headers, (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": response.body})
