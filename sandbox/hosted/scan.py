"""One pass over a pilot archive as it streams: every limit and naming rule, nothing buffered.

`scan_archive` pulls compressed chunks, decompresses them in bounded steps and reads each tar
header as it arrives, so a refusal comes after reading only the bytes that cross a limit: a
compression bomb stops at `max_uncompressed_bytes`, a million tiny files at `max_files`, a
header declaring a huge file at once. `EntryRules` holds the per-entry rules; the unpacker
applies the same rules again to what `tarfile` reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NoReturn

from sandbox.errors import ArchiveRefused
from sandbox.hosted.inflate import CompressedBody, Inflater
from sandbox.hosted.limits import ArchiveLimits, NameLedger, name_problem, shown
from sandbox.hosted.tarstream import read_headers

__all__ = ["ArchiveContents", "EntryRules", "kind_of_flag", "scan_archive"]

_KINDS = {
    b"0": "file",
    b"\x00": "file",
    b"5": "folder",
    b"1": "hard link",
    b"2": "symbolic link",
    b"3": "character device",
    b"4": "block device",
    b"6": "FIFO",
    b"7": "contiguous file",
    b"g": "global pax header",
    b"L": "GNU long-name header",
    b"K": "GNU long-link header",
    b"S": "GNU sparse file",
}


@dataclass(frozen=True)
class ArchiveContents:
    """What a checked archive holds, and its identity."""

    digest: str  # sha256:<hex> of the compressed bytes
    compressed_bytes: int
    uncompressed_bytes: int  # the tar stream: headers, data and padding
    files: tuple[str, ...]  # regular files, in archive order
    folders: int


def kind_of_flag(flag: bytes) -> str:
    """A tar type flag in words (``symbolic link``), for rules and messages."""
    return _KINDS.get(flag, f"entry type {flag!r}")


class EntryRules:
    """The rules every entry meets, in archive order: type, name, collisions, count, size."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self._limits = limits
        self._ledger = NameLedger()
        self.entries = 0
        self.declared_bytes = 0
        self.files: list[str] = []

    def check(self, name: str, kind: str, size: int, linkname: str = "") -> str:
        """The entry's name without a folder's final '/', or ArchiveRefused naming the rule."""
        self.entries += 1
        if self.entries > self._limits.max_files:
            _refuse(
                name,
                f"more than {self._limits.max_files} entries (max_files); remove files the "
                "pilot does not need",
            )
        if kind not in ("file", "folder"):
            target = f" to {shown(linkname)}" if "link" in kind else ""
            _refuse(name, f"{kind}{target} not allowed: only regular files and folders")
        relative = name[:-1] if kind == "folder" and name.endswith("/") else name
        problem = name_problem(relative, self._limits)
        if problem is None:
            problem = self._ledger.add(relative, is_dir=kind == "folder")
        if problem is not None:
            _refuse(name, problem)
        if kind == "folder":
            if size:
                _refuse(name, f"a folder entry carrying {size} bytes of data")
            return relative
        self.declared_bytes += size
        if self.declared_bytes > self._limits.max_uncompressed_bytes:
            _refuse(
                name,
                f"declares {size} bytes, bringing the files to {self.declared_bytes} bytes, "
                f"over the limit of {self._limits.max_uncompressed_bytes} "
                "(max_uncompressed_bytes); remove files the pilot does not need",
            )
        self.files.append(relative)
        return relative


def scan_archive(
    chunks: Iterable[bytes],
    limits: ArchiveLimits,
    *,
    sink: Callable[[bytes], object] | None = None,
) -> ArchiveContents:
    """Check a .tar.gz as it streams; every accepted compressed chunk also goes to `sink`."""
    body = CompressedBody(chunks, limits, sink)
    inflater = Inflater(body, limits)
    rules = EntryRules(limits)
    for header in read_headers(inflater.read, max_pax_bytes=limits.max_pax_bytes):
        rules.check(header.name, kind_of_flag(header.type), header.size, header.linkname)
    inflater.finish()
    return ArchiveContents(
        digest=body.digest,
        compressed_bytes=body.size,
        uncompressed_bytes=inflater.size,
        files=tuple(rules.files),
        folders=rules.entries - len(rules.files),
    )


def _refuse(name: str, rule: str) -> NoReturn:
    raise ArchiveRefused(f"archive entry {shown(name)}: {rule}")
