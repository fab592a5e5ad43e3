"""SHA-256 digests of whole files and byte strings, always written ``sha256:<hex>``."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["bytes_sha256", "file_sha256"]


def file_sha256(path: Path) -> str:
    """Digest of a whole file, streamed (never a sample of rows)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def bytes_sha256(data: bytes) -> str:
    """Digest of a byte string."""
    return "sha256:" + hashlib.sha256(data).hexdigest()
