"""A command's side: hand the command to the warm server, or start one for the next command.

With `SANDBOX_COMMAND_SERVER=true`, `served(args)` connects to this user's server for the
current code and environment (`address.socket_path`) and has it run the command with this
process's standard streams, working folder, environment and file mask; it relays the signals
a user sends (Ctrl-C, `kill`, a closed terminal) to the command's process and answers its exit
code. When no server listens, it starts one in the background and answers None: this command
then runs in its own process as usual, and the ones after it find the libraries loaded.

Long-running commands (`server`, `api`, `worker`) always run in their own process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, Final

from sandbox.command_server.address import socket_path
from sandbox.command_server.protocol import (
    EXITED,
    STARTED,
    ProtocolError,
    Request,
    read_answer,
    send_request,
)
from sandbox.local_socket import connect

__all__ = ["DEFAULT_IDLE_S", "enabled", "served"]

#: How long a server stays after its last command, unless SANDBOX_COMMAND_SERVER_IDLE_S says.
DEFAULT_IDLE_S: Final = 600.0
_ON: Final = frozenset({"1", "true", "yes", "on"})
_OWN_PROCESS: Final = frozenset({"server", "api", "worker"})
_RELAYED: Final = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_CONNECT_TIMEOUT_S: Final = 5.0


def enabled(args: Sequence[str]) -> bool:
    """Whether `args` go to the command server: switched on, and not a long-running command."""
    switched_on = os.environ.get("SANDBOX_COMMAND_SERVER", "").strip().lower() in _ON
    return switched_on and bool(args) and args[0] not in _OWN_PROCESS


def served(args: Sequence[str]) -> int | None:
    """The exit code of `args` run by the command server; None to run them in this process."""
    if not enabled(args):
        return None
    path = socket_path()
    if path is None:
        return None
    connection = connect(path, timeout_s=_CONNECT_TIMEOUT_S)
    if connection is None:
        _start(path)
        return None
    with connection:
        return _relay(connection, args)


def _start(path: Path) -> None:
    """Start a server on `path` in the background (it outlives this command and its Ctrl-C)."""
    import subprocess

    from sandbox.host_python import module_command

    command = module_command("sandbox.command_server.server", "--listen", str(path))
    with contextlib.suppress(OSError):
        subprocess.Popen(
            [*command, "--idle", str(_idle_s())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,
            cwd="/",
        )


def _idle_s() -> float:
    try:
        idle = float(os.environ.get("SANDBOX_COMMAND_SERVER_IDLE_S", DEFAULT_IDLE_S))
    except ValueError:
        return DEFAULT_IDLE_S  # the command's settings report the bad value
    return idle if idle >= 0 else DEFAULT_IDLE_S


def _relay(connection: socket.socket, args: Sequence[str]) -> int | None:
    """Have the server run `args`; None if it refused before starting anything."""
    try:
        here = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None  # a working folder that is gone: the command's own process says so
    mask = os.umask(0o077)
    os.umask(mask)
    request = Request(argv=tuple(args), env=dict(os.environ), umask=mask)
    relay = _Relay()
    before = {signum: signal.signal(signum, relay) for signum in _RELAYED}
    try:
        send_request(connection, request, [0, 1, 2, here])
        connection.settimeout(None)
        started = read_answer(connection)
    except (OSError, ProtocolError):
        started = None
    finally:
        os.close(here)
    if started is None or started[0] != STARTED:
        relay.back(before)  # nothing was started: this process runs the command
        return None
    relay.to(started[1])
    try:
        ended = read_answer(connection)
    except (OSError, ProtocolError):
        ended = None
    if ended is None or ended[0] != EXITED:
        sys.stderr.write("sandbox: the command server ended before the command did\n")
        return 1
    return ended[1]


class _Relay:
    """A signal handler that passes each signal on to the command's process, keeping those
    that come before the process is known."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.early: list[int] = []

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        if self.pid is None:
            self.early.append(signum)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def to(self, pid: int) -> None:
        """Pass on the signals kept, and the ones to come, to `pid`."""
        self.pid = pid
        for signum in self.early:
            self(signum, None)

    def back(self, handlers: Mapping[signal.Signals, Any]) -> None:
        """Put the handlers back, then raise the signals kept, as if they came now."""
        for kind, handler in handlers.items():
            signal.signal(kind, handler)
        for signum in self.early:
            signal.raise_signal(signum)
