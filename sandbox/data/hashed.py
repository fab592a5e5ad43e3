"""A pilot's data file: its bounds and SHA-256 from one scan, then its table, unchanged.

A CSV file is first scanned once in blocks, each checked against the bounds of
`sandbox.data.limits` (NUL bytes, line length, rows) and hashed in order on a second thread
(hashlib releases the GIL): a file that breaks a bound stops there, before anything parses it.
pandas then parses the file by its path, on every core (`sandbox.data.reader`). A Parquet
file's bounds come from its footer before anything is decoded; it is hashed on a second thread
while pyarrow decodes it. Either way the file's identity and change time are compared before
and after, so the table is always made of the bytes hashed: a file changed meanwhile is refused.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from sandbox.data.limits import CsvShape, check_parquet_shape
from sandbox.data.reader import MAX_TABLE_BYTES, ReadOptions, TableFormat, check_table_size
from sandbox.data.reader import parse_table as parse
from sandbox.digests import file_sha256
from sandbox.errors import DataError

__all__ = ["read_hashed"]

_BLOCK = 1 << 20


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
    before = _identity(path.stat())
    if fmt == "parquet":
        check_parquet_shape(path)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-hash") as hasher:
            hashing = hasher.submit(file_sha256, path)
            frame = parse(path, "parquet", options=opts, path=path)
            digest = hashing.result()
    else:
        digest = _scanned_sha256(CsvShape(path, encoding=opts.encoding))
        frame = parse(path, "csv", options=opts, path=path)
    if _identity(path.stat()) != before:
        raise DataError(f"{path}: the file changed while it was read; run again once it is saved")
    return frame, digest


def _scanned_sha256(shape: CsvShape) -> str:
    """`sha256:<hex>` of a text file fed block by block to its bounds (DataError at the first
    block that breaks one); the blocks are hashed in order beside the scan."""
    digest = hashlib.sha256()
    with (
        shape.path.open("rb") as handle,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-hash") as hasher,
    ):
        while block := handle.read(_BLOCK):
            shape.feed(block)
            hasher.submit(digest.update, block)
    return f"sha256:{digest.hexdigest()}"  # the pool has hashed every block once closed


def _identity(stat: os.stat_result) -> tuple[int, ...]:
    """What changes whenever a file's bytes do: its inode, size, modification and change times
    (a change time cannot be set back, so a restored modification time still shows). Only a
    rewrite of the same size within one tick of the file system's clock (a few milliseconds)
    of the write before it goes unseen."""
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
