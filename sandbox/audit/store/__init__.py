"""Where a trail's records are kept: one protocol, a file store and an in-memory store.

base.py     the `TrailStore` protocol, `Head` (size and last hash) and `Seal`
file.py     JSON Lines file: lock file, crash-safe appends, fragment recovery
index.py    the file store's run index (SQLite beside the trail; derived, self-healing)
memory.py   a list in memory, for tests and throwaway trails
"""

from __future__ import annotations

from sandbox.audit.store.base import EMPTY_HEAD, Head, Line, Seal, TrailStore
from sandbox.audit.store.file import FileTrailStore, read_lines
from sandbox.audit.store.memory import MemoryTrailStore

__all__ = [
    "EMPTY_HEAD",
    "FileTrailStore",
    "Head",
    "Line",
    "MemoryTrailStore",
    "Seal",
    "TrailStore",
    "read_lines",
]
