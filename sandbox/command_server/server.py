"""The command server: the sandbox's libraries loaded once, a fork of them per command.

A command spends about 1.5 s loading pandas, pyarrow, pydantic, MLflow and the report
libraries, longer than a small audit's own work. `python -m sandbox.command_server.server
--listen PATH --idle SECONDS` loads them once and then, for each command that connects
(`client.served`), forks: the child takes the command's streams, working folder, environment
and file mask (`child.run`) and runs the command line as the command's own process would.

- Only a process of the same user is served (the socket's peer credentials are checked, in a
  folder only that user can enter), and only one server holds a path (`PATH.lock`).
- Forks happen from one thread: the server starts no thread of its own; the only ones the
  libraries start as they load (OpenBLAS's workers, jemalloc's background thread) are made
  safe across a fork by the libraries themselves (`pthread_atfork`).
- Each command's process is its own: what it opens, imports or changes stays in it.
- If the command's process on the other side goes away (killed, its terminal closed), the
  child is sent SIGTERM, as the command's own process would have been ended.
- With no command running for SECONDS, or once its socket is removed, the server exits.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import pkgutil
import select
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Final

from sandbox.command_server import child
from sandbox.command_server.protocol import (
    EXITED,
    STARTED,
    ProtocolError,
    receive_request,
    send_answer,
)
from sandbox.local_socket import held_socket, inode, peer_uid

__all__ = ["PRELOADED", "main", "serve"]

#: What a command imports anyway, loaded before the first fork (the command line's consoles
#: are made again in each child, for its caller's terminal).
PRELOADED: Final = (
    "numpy",
    "pandas",
    "pyarrow.csv",
    "pyarrow.parquet",
    "pydantic",
    "fpdf",
    "fontTools.subset",
    "mlflow",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.tracking",
    "sqlalchemy.dialects.sqlite",
    "alembic",
    "filelock",
    "sandbox.cli",
)
#: Every module of these packages too (a command imports most of them as it goes).
PRELOADED_PACKAGES: Final = (
    "sandbox.assistant",
    "sandbox.audit",
    "sandbox.data",
    "sandbox.evaluation",
    "sandbox.policies",
    "sandbox.reports",
    "sandbox.runs",
    "sandbox.tasks",
    "sandbox.tracking",
)
#: Modules that are programs of their own (started as processes), not libraries.
_PROGRAMS: Final = ("_main", "_process", "_server")
_TICK_S: Final = 0.5
_REQUEST_TIMEOUT_S: Final = 5.0


def serve(path: Path, *, idle_s: float) -> None:
    """Serve the commands that connect to `path` until none has run for `idle_s` seconds."""
    with held_socket(path) as listener:
        if listener is None:
            return  # another server holds the path
        _preload()  # before listening: meanwhile, commands run in their own processes
        listener.listen(64)
        _Children(listener, path).serve(idle_s)


def _preload() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # as the tracker sets it
    for name in [*PRELOADED, *_modules(PRELOADED_PACKAGES)]:
        with contextlib.suppress(Exception):  # a real failure shows in the command itself
            importlib.import_module(name)
    with contextlib.suppress(Exception):
        from sandbox.reports.documents.pdf_document import prepare

        prepare()  # the fonts parsed, a blank document made: each child renders from its copy
    gc.collect()
    gc.freeze()  # the children share these pages instead of copying them as the collector runs


def _modules(packages: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for package in packages:
        with contextlib.suppress(Exception):
            path = importlib.import_module(package).__path__
            found = pkgutil.walk_packages(path, prefix=f"{package}.")
            names += [m.name for m in found if not m.name.endswith(_PROGRAMS)]
    return names


class _Children:
    """The commands running, each a child process and the connection of its caller."""

    def __init__(self, listener: socket.socket, path: Path) -> None:
        self.listener = listener
        self.path = path
        self.own = path.stat().st_ino
        self.callers: dict[int, socket.socket | None] = {}  # child pid -> caller (None: gone)
        self.since = time.monotonic()
        wake, self._wakeup = os.pipe()
        self.wake = wake
        os.set_blocking(self._wakeup, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes `select` through the pipe
        signal.set_wakeup_fd(self._wakeup)

    def serve(self, idle_s: float) -> None:
        while self.callers or time.monotonic() - self.since < idle_s:
            if inode(self.path) != self.own:
                break  # removed: nobody can reach this server any more
            self._step(accept=True)
        if inode(self.path) == self.own:
            self.path.unlink()
        while self.callers:  # the commands running still end as they would have
            self._step(accept=False)

    def _step(self, *, accept: bool) -> None:
        callers = [c for c in self.callers.values() if c is not None]
        listening = [self.listener.fileno()] if accept else []
        watched = [self.wake, *(c.fileno() for c in callers), *listening]
        ready = set(select.select(watched, [], [], _TICK_S)[0])
        if self.wake in ready:
            os.read(self.wake, 512)
        self._reap()
        for caller in callers:
            if caller.fileno() in ready:  # a caller sends nothing after its request: it has gone
                self._hang_up(caller)
        if accept and self.listener.fileno() in ready:
            self._accept()

    def _accept(self) -> None:
        connection, _ = self.listener.accept()
        connection.settimeout(_REQUEST_TIMEOUT_S)
        try:
            if peer_uid(connection) != os.getuid():
                raise ProtocolError("another user's process")
            request, fds = receive_request(connection)
        except (OSError, ProtocolError):
            connection.close()
            return
        try:
            pid = os.fork()
        except OSError:  # no process to spare: the caller runs the command itself
            for fd in fds:
                os.close(fd)
            connection.close()
            return
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(self.wake)
            os.close(self._wakeup)
            # Closed as objects, so that none closes a number the command has reused later.
            for server_socket in [self.listener, connection, *self.callers.values()]:
                if server_socket is not None:
                    server_socket.close()
            child.run(request, fds)  # never returns
        for fd in fds:
            os.close(fd)
        self.callers[pid] = connection
        with contextlib.suppress(OSError):
            send_answer(connection, STARTED, pid)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            caller = self.callers.pop(pid, None)
            if caller is not None:
                code = os.waitstatus_to_exitcode(status)
                with contextlib.suppress(OSError):
                    send_answer(caller, EXITED, code if code >= 0 else 128 - code)
                caller.close()
            self.since = time.monotonic()

    def _hang_up(self, caller: socket.socket) -> None:
        """End the command of a caller that has gone, as its own process would have ended."""
        for pid, connection in list(self.callers.items()):
            if connection is caller:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
                self.callers[pid] = None
        caller.close()


def main(argv: list[str] | None = None) -> None:
    """`--listen PATH --idle SECONDS`: fork, and serve PATH in the child (nobody's child once
    the parent, which the command reaps, has exited)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4 or args[0] != "--listen" or args[2] != "--idle":
        raise SystemExit("usage: python -m sandbox.command_server.server --listen PATH --idle S")
    if os.fork():
        os._exit(0)
    serve(Path(args[1]), idle_s=float(args[3]))


if __name__ == "__main__":
    main()
