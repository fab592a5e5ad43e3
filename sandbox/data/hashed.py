"""One read of a pilot's data file: its bounds, its SHA-256 and its table from the same bytes.

A CSV file is read once, by pandas, through a stream that hashes each block and checks it
against the bounds of `sandbox.data.limits` (NUL bytes, line length, rows) before pandas sees
it: a file that breaks a bound stops the parse at that block with the same `DataError` the
separate scan gave. The blocks are hashed in order on a second thread (hashlib releases the
GIL), so the whole-file hash costs neither a second pass over the file nor parse time. A Parquet
file's bounds come from its footer before anything is decoded; it is hashed on a second thread
while pyarrow decodes it (hashlib releases the GIL), as pyarrow reads it out of order.
"""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from sandbox.data.limits import CsvShape, check_parquet_shape
from sandbox.data.reader import MAX_TABLE_BYTES, ReadOptions, TableFormat, check_table_size
from sandbox.data.reader import parse_table as parse
from sandbox.digests import file_sha256

__all__ = ["CheckedStream", "read_hashed"]

_DRAIN = 1 << 20


class CheckedStream(io.RawIOBase):
    """A binary file read in order, each block checked before it is handed on, and hashed.

    With `hasher` (one worker, so blocks are hashed in order) the hashing runs beside the
    reader; without it, in the reader's thread.
    """

    def __init__(
        self, raw: BinaryIO, shape: CsvShape, hasher: ThreadPoolExecutor | None = None
    ) -> None:
        super().__init__()
        self._raw = raw
        self._shape = shape
        self._hash = hashlib.sha256()
        self._hasher = hasher
        self._last: Future[None] | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        block = self._raw.read(-1 if size is None else size)
        if block:
            self._shape.feed(block)
            if self._hasher is None:
                self._hash.update(block)
            else:
                self._last = self._hasher.submit(self._hash.update, block)
        return block

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        block = self.read(len(buffer))
        buffer[: len(block)] = block
        return len(block)

    def drain(self) -> None:
        """Read (hash and check) whatever the parser left unread."""
        while self.read(_DRAIN):
            pass

    @property
    def sha256(self) -> str:
        """`sha256:<hex>` of every byte read so far (the whole file, once drained)."""
        if self._last is not None:
            self._last.result()  # the worker hashes in order: the last block is the last done
        return f"sha256:{self._hash.hexdigest()}"


def read_hashed(
    path: Path,
    fmt: TableFormat,
    *,
    options: ReadOptions | None = None,
    max_bytes: int = MAX_TABLE_BYTES,
) -> tuple[pd.DataFrame, str]:
    """The file's table exactly as `read_table` reads it, and its whole-file SHA-256."""
    opts = options or ReadOptions()
    check_table_size(path, max_bytes)
    if fmt == "parquet":
        check_parquet_shape(path)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-hash") as hasher:
            digest = hasher.submit(file_sha256, path)
            frame = parse(path, "parquet", options=opts, path=path)
            return frame, digest.result()
    with (
        path.open("rb") as raw,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-hash") as hasher,
    ):
        stream = CheckedStream(raw, CsvShape(path, encoding=opts.encoding), hasher)
        frame = parse(stream, "csv", options=opts, path=path)
        stream.drain()
        return frame, stream.sha256
