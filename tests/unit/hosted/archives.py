"""Builders of pilot archives for the tests: well-formed, hostile, and lazily endless ones."""

from __future__ import annotations

import io
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

MANIFEST = b"pilot:\n  name: example\n"


@dataclass
class Entry:
    """One tar member to write; `kind` is a tarfile type flag."""

    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    linkname: str = ""
    pax: dict[str, str] = field(default_factory=dict)


def tar_bytes(*entries: Entry, fmt: int = tarfile.PAX_FORMAT, end: bool = True) -> bytes:
    """An uncompressed tar of `entries` (with the end-of-archive blocks unless `end` is False)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type = entry.kind
            info.linkname = entry.linkname
            info.mode = 0o644
            info.pax_headers = dict(entry.pax)
            if entry.kind == tarfile.REGTYPE:
                info.size = len(entry.data)
                archive.addfile(info, io.BytesIO(entry.data))
            else:
                archive.addfile(info)
        entries_end = buffer.tell()  # closing adds the end-of-archive blocks and padding
    return buffer.getvalue() if end else buffer.getvalue()[:entries_end]


def header(name: str, *, size: int = 0, kind: bytes = tarfile.REGTYPE) -> bytes:
    """One ustar header block (no data)."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.type = kind
    info.mode = 0o644
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def gz(data: bytes) -> bytes:
    """`data` as one gzip member."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def gz_lazily(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """A gzip stream of `blocks`, compressed only as it is pulled (an endless bomb costs
    nothing until someone reads it)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for block in blocks:
        if out := compressor.compress(block):
            yield out
    yield compressor.flush()


def zeros(total: int, piece: int = 1 << 20) -> Iterator[bytes]:
    """`total` zero bytes in pieces."""
    while total > 0:
        yield bytes(min(piece, total))
        total -= piece


class Chunks:
    """An upload body in chunks of `size` bytes that counts the bytes the receiver pulled."""

    def __init__(self, stream: bytes | Iterable[bytes], size: int = 4096) -> None:
        self._stream = [stream] if isinstance(stream, bytes) else stream
        self._size = size
        self.consumed = 0
        self.exhausted = False

    def __iter__(self) -> Iterator[bytes]:
        for part in self._stream:
            for start in range(0, len(part), self._size):
                piece = part[start : start + self._size]
                self.consumed += len(piece)
                yield piece
        self.exhausted = True


def pilot_archive(*extra: Entry) -> bytes:
    """A .tar.gz holding a pilot.yaml and `extra`."""
    return gz(tar_bytes(Entry("pilot.yaml", MANIFEST), *extra))
