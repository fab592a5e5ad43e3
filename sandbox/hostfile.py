"""Reading a file a pilot supplied, on the host, with its size and type checked first.

A pilot folder is hostile input: `pilot.yaml` may be a link to `/dev/zero`, a FIFO that never
answers, or a sparse file of many gigabytes. `read_pilot_file` opens without following a final
symbolic link and without blocking, refuses anything but a regular file, checks the size the
file system reports before reading, and never reads more than the limit even if the file grows.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["HostFileError", "read_pilot_file"]


class HostFileError(Exception):
    """A pilot's file that cannot be read safely; the message says why, for the user."""


def read_pilot_file(path: Path, *, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`, or HostFileError."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise HostFileError("file not found") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            fix = "put the file itself in the pilot folder"
            raise HostFileError(f"is a symbolic link; {fix}") from None
        raise HostFileError(f"cannot read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise HostFileError("is not a regular file (a device, FIFO or folder)")
        if info.st_size > max_bytes:
            raise HostFileError(f"{info.st_size} bytes is larger than the {max_bytes}-byte limit")
        chunks: list[bytes] = []
        remaining = max_bytes + 1  # one byte more tells a file that grew past the limit
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise HostFileError(f"larger than the {max_bytes}-byte limit")
    return data
