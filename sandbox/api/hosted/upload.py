"""The submission body, streamed from the event loop into the synchronous archive checks.

`receive_archive` pulls chunks from an iterator and blocks on disk and zlib, so it runs on a
worker thread. That thread asks the event loop for one chunk at a time
(`anyio.from_thread.run`): nothing is buffered between them, the body is read only as fast as
it is checked, and a refusal stops the reading at the chunk that broke a rule.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Final

from anyio import from_thread, to_thread
from fastapi import Request
from starlette.requests import ClientDisconnect

from sandbox.api.errors import ApiError
from sandbox.hosted.intake import ArchiveLimits, ArchiveStore, StoredArchive, receive_archive

__all__ = ["MEDIA_TYPES", "check_media_type", "receive_upload"]

#: What a pilot archive may be sent as (`sandbox submit` sends application/gzip).
MEDIA_TYPES: Final = frozenset({"application/gzip", "application/x-gzip"})


def check_media_type(request: Request) -> None:
    """ApiError 415 unless the body is declared a gzip archive."""
    declared = request.headers.get("content-type", "")
    if declared.split(";", 1)[0].strip().lower() not in MEDIA_TYPES:
        raise ApiError(
            415,
            f"Content-Type {declared[:80]!r}: a submission is a pilot archive (.tar.gz); send it "
            "as application/gzip (`sandbox submit PILOT` packs and sends a folder)",
        )


async def _next(stream: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await stream.__anext__()
    except StopAsyncIteration:
        return None


async def receive_upload(
    request: Request, store: ArchiveStore, limits: ArchiveLimits
) -> StoredArchive:
    """The request body, checked while it streams and kept in `store` under its hash.

    Raises ArchiveRefused (400) at the first broken rule; nothing stays in `store` then.
    """
    stream = request.stream()

    def chunks() -> Iterator[bytes]:
        while (chunk := from_thread.run(_next, stream)) is not None:
            if chunk:
                yield chunk

    try:
        return await to_thread.run_sync(receive_archive, chunks(), store, limits)
    except ClientDisconnect:
        cut = "the upload was cut short (the client went away); send it again"
        raise ApiError(400, cut) from None
    finally:
        await stream.aclose()
