"""The server's side of a submission: receive an uploaded pilot archive into the store.

`receive_archive` checks the body while it streams (see `scan.py`), writing each accepted
chunk to a private temporary file in the store and hashing it; only a body that passes every
check is renamed to ``<store>/<sha256 hex>.tar.gz`` (mode 0600). The name is the content's
hash, so the same archive sent twice is stored once, and a refused body leaves nothing.
`ArchiveStore.open` re-checks a stored archive against its name before anyone uses it.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sandbox.errors import ArchiveRefused
from sandbox.hosted.limits import ArchiveLimits
from sandbox.hosted.scan import ArchiveContents, scan_archive

__all__ = ["ArchiveLimits", "ArchiveStore", "StoredArchive", "receive_archive", "stored_chunks"]

SUFFIX = ".tar.gz"
_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")
_READ_PIECE = 1024 * 1024
_DEFAULT = ArchiveLimits()


@dataclass(frozen=True)
class StoredArchive:
    """An archive in the store: where it is, its hash and what it holds."""

    path: Path
    contents: ArchiveContents

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the archive's bytes (its name in the store)."""
        return self.contents.digest


class ArchiveStore:
    """A folder of content-addressed archives, readable by the server's user alone."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(root, 0o700)

    def path_for(self, digest: str) -> Path:
        """Where the archive with `digest` (``sha256:<hex>``) is kept."""
        match = _DIGEST.match(digest)
        if match is None:
            raise ArchiveRefused(f"{digest!r}: not an archive digest; expected sha256:<64 hex>")
        return self.root / f"{match.group(1)}{SUFFIX}"

    def open(self, digest: str, limits: ArchiveLimits | None = None) -> StoredArchive:
        """A stored archive, scanned again: its bytes must still hash to its name."""
        path = self.path_for(digest)
        limits = limits or _DEFAULT
        contents = scan_archive(stored_chunks(path, limits), limits)
        if contents.digest != digest:
            raise ArchiveRefused(
                f"{path}: its bytes hash to {contents.digest}, not to its name; the stored "
                "archive was changed: delete it and submit the pilot again"
            )
        return StoredArchive(path=path, contents=contents)

    def incoming(self) -> tuple[int, Path]:
        """A new private temporary file in the store (descriptor, path) for one upload."""
        fd, name = tempfile.mkstemp(prefix=".incoming-", suffix=SUFFIX, dir=self.root)
        os.fchmod(fd, 0o600)
        return fd, Path(name)


def receive_archive(
    chunks: Iterable[bytes], store: ArchiveStore, limits: ArchiveLimits = _DEFAULT
) -> StoredArchive:
    """Check an uploaded .tar.gz while it streams and keep it under its hash.

    Raises ArchiveRefused (naming the entry and the limit) as soon as a rule is broken; the
    rest of the body is not read and nothing stays in the store.
    """
    fd, temporary = store.incoming()
    try:
        with os.fdopen(fd, "wb") as spool:
            contents = scan_archive(chunks, limits, sink=spool.write)
            spool.flush()
            os.fsync(spool.fileno())
        final = store.path_for(contents.digest)
        os.replace(temporary, final)  # atomic; the same bytes again replace an equal file
        _sync_folder(store.root)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return StoredArchive(path=final, contents=contents)


def stored_chunks(path: Path, limits: ArchiveLimits) -> Iterator[bytes]:
    """A stored file's bytes in pieces, opened without following links, size checked first."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ArchiveRefused(f"{path}: no such archive in the store") from None
    except OSError as exc:
        raise ArchiveRefused(f"{path}: cannot read the stored archive ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limits.max_compressed_bytes:
            raise ArchiveRefused(
                f"{path}: not a regular file of at most {limits.max_compressed_bytes} bytes"
            )
        while piece := handle.read(_READ_PIECE):
            yield piece


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
