"""The compressed side of an upload: count, hash and keep each chunk, then gunzip it in bounds.

`CompressedBody` pulls the caller's chunks one at a time, refuses the body as soon as the byte
count crosses the compressed limit, and feeds every accepted chunk to a hash and a sink (the
store's temporary file). `Inflater` decompresses with a cap on every step (zlib's
`max_length`), so the bytes it holds never exceed what the tar reader asked for, and it
refuses the stream once the decompressed total crosses its limit: a bomb costs only the
compressed bytes needed to reach the limit, never the bytes it would expand to.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator

from sandbox.errors import ArchiveRefused
from sandbox.hosted.limits import ArchiveLimits

__all__ = ["CompressedBody", "Inflater"]

_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer (CRC-32 and length checked)


class CompressedBody:
    """The upload's chunks, counted against the compressed limit, hashed and passed to `sink`."""

    def __init__(
        self,
        chunks: Iterable[bytes],
        limits: ArchiveLimits,
        sink: Callable[[bytes], object] | None = None,
    ) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._limits = limits
        self._sink = sink
        self._digest = hashlib.sha256()
        self.size = 0

    def next_chunk(self) -> bytes | None:
        """The next non-empty chunk, or None when the body has ended."""
        for chunk in self._chunks:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise TypeError(f"archive chunks must be bytes, not {type(chunk).__name__}")
            data = bytes(chunk)
            if not data:
                continue
            self.size += len(data)
            if self.size > self._limits.max_compressed_bytes:
                raise ArchiveRefused(
                    f"archive: more than {self._limits.max_compressed_bytes} compressed bytes "
                    "(max_compressed_bytes); remove files the pilot does not need"
                )
            self._digest.update(data)
            if self._sink is not None:
                self._sink(data)
            return data
        return None

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of every byte accepted so far."""
        return "sha256:" + self._digest.hexdigest()


class Inflater:
    """A bounded gunzip of a `CompressedBody`: `read(n)` returns at most n bytes."""

    def __init__(self, body: CompressedBody, limits: ArchiveLimits) -> None:
        self._body = body
        self._limits = limits
        self._zlib = zlib.decompressobj(_GZIP_WBITS)
        self._input = b""  # compressed bytes handed over but not yet consumed
        self._started = False
        self.size = 0  # decompressed bytes returned so far

    def read(self, size: int) -> bytes:
        """Exactly `size` decompressed bytes, fewer only at the end of the gzip stream."""
        out = bytearray()
        while len(out) < size and not self._zlib.eof:
            if not self._input and not self._refill():
                raise ArchiveRefused(
                    "archive: the compressed stream ends early (the upload was cut short); "
                    "send the whole archive again"
                )
            try:
                piece = self._zlib.decompress(self._input, size - len(out))
            except zlib.error as exc:
                raise ArchiveRefused(
                    f"archive: corrupt gzip data ({exc}); pack the pilot folder again"
                ) from None
            self._input = self._zlib.unconsumed_tail
            self.size += len(piece)
            if self.size > self._limits.max_uncompressed_bytes:
                raise ArchiveRefused(
                    f"archive: more than {self._limits.max_uncompressed_bytes} bytes once "
                    "decompressed (max_uncompressed_bytes); a compression bomb, or a pilot "
                    "too large for this server: remove files the pilot does not need"
                )
            out += piece
        return bytes(out)

    def finish(self) -> None:
        """Check that one complete gzip member ended the body: no missing, no extra bytes."""
        if not self._zlib.eof:
            raise ArchiveRefused(
                "archive: the compressed stream does not end where the archive does; "
                "pack the pilot folder again"
            )
        if self._zlib.unused_data or self._input or self._body.next_chunk() is not None:
            raise ArchiveRefused(
                "archive: bytes after the end of the gzip stream (a second stream or trailing "
                "data); send exactly one .tar.gz"
            )

    def _refill(self) -> bool:
        chunk = self._body.next_chunk()
        if chunk is None:
            return False
        if not self._started:
            # The first two bytes decide: a clear answer for a zip, a plain tar or a text body.
            while len(chunk) < len(_GZIP_MAGIC):
                more = self._body.next_chunk()
                if more is None:
                    break
                chunk += more
            if not chunk.startswith(_GZIP_MAGIC):
                raise ArchiveRefused(
                    f"archive: not gzip-compressed (it starts with {chunk[:8]!r}); send the "
                    "pilot folder as a .tar.gz"
                )
            self._started = True
        self._input = chunk
        return True
