"""Where a trail's records are kept: one protocol, a file, a database and an in-memory store.

base.py             the `TrailStore` protocol, `Head` (size and last hash) and `Seal`
file.py             JSON Lines file: lock file, crash-safe appends, fragment recovery
index.py            the file store's run index (SQLite beside the trail; derived, self-healing)
memory.py           a list in memory, for tests and throwaway trails
postgres.py         PostgreSQL tables shared by many processes and hosts (the `hosted` extra)
postgres_schema.py  its tables, versioned and migrated at open
postgres_url.py     its URL: checked, and shown only with the password hidden
select.py           `open_store`: the file store, or the database SANDBOX_TRAIL_URL names
"""

from __future__ import annotations

from sandbox.audit.store.base import EMPTY_HEAD, Head, Line, Seal, TrailStore
from sandbox.audit.store.file import FileTrailStore, read_lines
from sandbox.audit.store.memory import MemoryTrailStore
from sandbox.audit.store.select import open_store

__all__ = [
    "EMPTY_HEAD",
    "FileTrailStore",
    "Head",
    "Line",
    "MemoryTrailStore",
    "Seal",
    "TrailStore",
    "open_store",
    "read_lines",
]
