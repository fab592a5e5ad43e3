"""Which store keeps the trail: the file under the sandbox home, or the database a URL names.

`SANDBOX_TRAIL_URL` unset keeps today's JSON Lines file; `postgresql://...` (or
`postgres://...`) opens the shared PostgreSQL store, which needs the `hosted` extra
(`psycopg`). Anything else is refused with the setting, the value (password hidden) and the
fix.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.audit.store.base import TrailStore
from sandbox.audit.store.file import FileTrailStore
from sandbox.audit.store.postgres_url import SCHEMES, check_url, redact
from sandbox.errors import UserInputError

__all__ = ["open_store"]


def open_store(url: str | None, *, default: Path, setting: str = "SANDBOX_TRAIL_URL") -> TrailStore:
    """The store `url` names, or the file store at `default` when there is no URL."""
    if url is None or not url.strip():
        return FileTrailStore(default)
    scheme = url.partition(":")[0].lower()
    if scheme not in SCHEMES:
        raise UserInputError(
            f"{setting}: {redact(url)} is not a trail URL; use postgresql://USER:PASSWORD@HOST:"
            f"PORT/DATABASE, or unset it to keep the trail in {default}"
        )
    check_url(url, setting=setting)
    try:
        from sandbox.audit.store.postgres import PostgresTrailStore
    except ImportError as exc:
        raise UserInputError(
            f"{setting} names a PostgreSQL trail, but its driver is missing ({exc.name}); "
            "install it: pip install 'ai-commons-sandbox[hosted]'"
        ) from None
    return PostgresTrailStore(url, setting=setting)
