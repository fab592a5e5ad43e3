"""What the sandbox's local servers (the shared tracking sidecar, the command server) share:
where their Unix sockets live, reaching one, and holding one path per server.

Sockets live in a folder only the user can enter, `$XDG_RUNTIME_DIR` or the temporary
folder, `ai-commons-sandbox-<uid>/`; anything else there (a link, another user's folder, one
open to others) means no socket. Standard library only: a command's first milliseconds use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import struct
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

from sandbox.private_folder import private_folder

__all__ = ["SHELL_VARIABLES", "connect", "held_socket", "inode", "peer_uid", "socket_in"]

#: Variables that differ from one shell or terminal to the next but not in what a server
#: loads, left out of the digests that name the servers' sockets.
SHELL_VARIABLES: Final = frozenset({"PWD", "OLDPWD", "SHLVL", "_", "COLUMNS", "LINES"})

_MAX_SOCKET_PATH: Final = 108  # bytes, with the final NUL, that Linux keeps of a socket's path
_LOCK_WAIT_S: Final = 10.0  # how long a new server waits for an exiting one to let go of a path
_PEERCRED: Final = struct.Struct("3i")  # pid, uid, gid


def socket_in(name: str) -> Path | None:
    """The path of this user's socket `name`; None if its folder cannot be made private or
    the path would be too long for a socket."""
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    folder = base / f"ai-commons-sandbox-{os.getuid()}"
    if not private_folder(folder, create=True):
        return None
    path = folder / name
    return path if len(os.fsencode(path)) < _MAX_SOCKET_PATH else None


def connect(path: Path, *, timeout_s: float | None = None) -> socket.socket | None:
    """A connection to the server listening on `path`; None if none does."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(timeout_s)
    try:
        connection.connect(str(path))
    except OSError:
        connection.close()
        return None
    return connection


@contextlib.contextmanager
def held_socket(path: Path) -> Iterator[socket.socket | None]:
    """A socket bound at `path` (mode 0600, not yet listening), for as long as this server
    holds `PATH.lock`; None if another server holds it. A socket left by a server that died
    (and so let go of the lock) is removed first."""
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        if not _hold(lock):
            yield None
            return
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(str(path))
        finally:
            os.umask(old_umask)
        with listener:
            yield listener


def _hold(lock: IO[str]) -> bool:
    """Take `lock`, waiting a little for a server that is exiting; False if another holds it."""
    deadline = time.monotonic() + _LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def inode(path: Path) -> int | None:
    """The inode of `path` (a server's own socket, or one that replaced it); None if gone."""
    try:
        return path.stat().st_ino
    except OSError:
        return None


def peer_uid(connection: socket.socket) -> int:
    """The user id of the process on the other end (the kernel's word, not the peer's)."""
    _pid, uid, _gid = _PEERCRED.unpack(
        connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    )
    return int(uid)
