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
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Final

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
    try:
        send_request(connection, request, [0, 1, 2, here])
        connection.settimeout(None)
        started = read_answer(connection)
    except (OSError, ProtocolError):
        return None
    finally:
        os.close(here)
    if started is None or started[0] != STARTED:
        return None
    pid = started[1]

    def relay(signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for signum in _RELAYED:
        signal.signal(signum, relay)
    try:
        ended = read_answer(connection)
    except (OSError, ProtocolError):
        ended = None
    if ended is None or ended[0] != EXITED:
        sys.stderr.write("sandbox: the command server ended before the command did\n")
        return 1
    return ended[1]
