"""A job's pilot archive, brought to the worker and checked again before anything reads it.

With `archive_url` set, the worker downloads it from the hosted API
(`GET {archive_url}/api/v1/jobs/{job_id}/archive`, the worker's token as a bearer token) and
streams the body through `receive_archive` into its own store: every size, count and name
limit is enforced again while the bytes arrive, and the archive is kept only if it passes. An
archive already in the worker's store is opened (and scanned) again instead of downloaded.
Without `archive_url`, the worker reads the store the server writes (`archives_dir`: one
machine, or a shared folder). Either way the archive's SHA-256 must be the job's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import httpx

from sandbox.errors import ArchiveRefused, UserInputError
from sandbox.hosted.intake import ArchiveStore, StoredArchive, receive_archive
from sandbox.hosted.job_states import Job

__all__ = ["ArchiveUnavailable", "fetch_archive"]

_CHUNK: Final = 256 * 1024
# Connecting and each read may take this long; a large archive may take longer in total.
_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
_MAX_URL: Final = 2048


class ArchiveUnavailable(Exception):
    """The hosted API did not hand the archive over (down, or refused): worth trying later."""


def _check_archive_url(url: str) -> str:
    if len(url) > _MAX_URL or not url.startswith(("http://", "https://")):
        raise UserInputError(
            "SANDBOX_ARCHIVE_URL: give the hosted API's base URL, https://HOST:PORT"
        )
    return url.rstrip("/")


def _downloaded(url: str, token: str) -> Iterator[bytes]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/gzip"}
    try:
        with (
            httpx.Client(timeout=_TIMEOUT, follow_redirects=False) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code != 200:
                raise ArchiveUnavailable(
                    f"GET {url}: HTTP {response.status_code}; check that SANDBOX_WORKER_TOKEN "
                    "is a token of a principal with the worker role"
                )
            yield from response.iter_bytes(_CHUNK)
    except httpx.HTTPError as exc:
        raise ArchiveUnavailable(f"GET {url}: {type(exc).__name__}: {exc}") from None


def fetch_archive(
    job: Job, store: ArchiveStore, *, archive_url: str | None, token: str | None
) -> StoredArchive:
    """The job's archive in `store`, scanned again and matching the job's SHA-256.

    ArchiveRefused if it breaks a limit or its hash differs; ArchiveUnavailable if the hosted
    API cannot hand it over now.
    """
    digest = f"sha256:{job.archive_sha256}"
    if archive_url is None or store.path_for(digest).exists():
        if archive_url is None and not store.path_for(digest).exists():
            raise ArchiveUnavailable(
                f"{store.path_for(digest)}: the job's archive is not in the store; set "
                "SANDBOX_ARCHIVE_URL, or SANDBOX_ARCHIVE_STORE to the folder the server writes"
            )
        return store.open(digest)
    if not token:
        raise UserInputError(
            "SANDBOX_WORKER_TOKEN: not set; a worker fetching archives from "
            "SANDBOX_ARCHIVE_URL needs a token of a principal with the worker role"
        )
    base = _check_archive_url(archive_url)
    stored = receive_archive(_downloaded(f"{base}/api/v1/jobs/{job.id}/archive", token), store)
    if stored.digest != digest:
        stored.path.unlink(missing_ok=True)
        raise ArchiveRefused(
            f"job {job.id}: the archive served hashes to {stored.digest}, not to the job's "
            f"{digest}; the server's store was changed: submit the pilot again"
        )
    return stored
