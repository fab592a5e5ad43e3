"""The shared tracking sidecar: one warm MLflow for the commands that follow one another.

Importing MLflow and opening its store takes a command's sidecar about 2.7 s, more than a
small audit's own work. `serve_socket` (`python -m sandbox.tracking.sidecar_server --listen
PATH --idle SECONDS`) keeps one loaded: it listens on the Unix socket PATH (mode 0600, in a folder
only its user can enter) and serves each command that connects with the pipe sidecar's own
protocol (`sidecar_main.serve`: a target line, then requests), each on a thread of its own.

- The tracker of a target is opened once and reused; its calls run one at a time, whichever
  command makes them (MLflow's client and the outbox are used by one call at a time). An
  SQLite store is opened anew when its file is no longer the one opened (a home removed and
  made again): runs never go to a file that is gone. The trackers of the last `KEPT_STORES`
  targets are kept; an older one's database connections are closed.
- A connection that ends with runs still open has them ended KILLED, as the pipe sidecar does.
- Only a process of the same user is served (the socket's peer credentials are checked).
- One server holds a path: it keeps `PATH.lock` locked while it listens. A socket left by a
  server that died is stale, and the next one to take the lock removes it.
- With no command connected for SECONDS, it removes the socket, serves the connections that
  arrived before that, and exits. So it does when its socket is removed (a cleaned temporary
  folder): the next command's server then takes the path.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, cast

from sandbox.local_socket import held_socket, inode, peer_uid
from sandbox.tracking.outbox import QueuedTracker
from sandbox.tracking.sidecar_main import quiet, serve
from sandbox.tracking.target import TrackingTarget

__all__ = ["KEPT_STORES", "main", "serve_socket"]

KEPT_STORES = 8  # open stores kept (one per home, usually): a few file handles each

_TICK_S = 0.5  # how often the idle time is checked


def serve_socket(path: Path, *, idle_s: float) -> None:
    """Serve the commands that connect to `path` until none has for `idle_s` seconds."""
    with held_socket(path) as listener:
        if listener is None:
            return  # another server holds the path
        listener.listen(64)
        own = path.stat().st_ino
        threading.Thread(target=_preload, daemon=True).start()
        sessions = _Sessions()
        listener.settimeout(_TICK_S)
        while sessions.idle_for() < idle_s and inode(path) == own:
            with contextlib.suppress(TimeoutError):
                sessions.start(listener.accept()[0])
        if inode(path) == own:  # else it was removed: nobody can reach this server any more
            path.unlink()
        listener.setblocking(False)  # who connected before the unlink is still served
        with contextlib.suppress(BlockingIOError):
            while True:
                sessions.start(listener.accept()[0])
        listener.close()
    sessions.join()


def _preload() -> None:
    """Import MLflow and its SQL store now, before the first command needs them."""
    from sandbox.tracking.mlflow import preload_sql_store

    with contextlib.suppress(Exception):  # a real failure is reported by the first open
        preload_sql_store()


class _Sessions:
    """The connections being served, the trackers they share, and the time since the last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._opening = threading.Lock()
        self._open = 0
        self._since = time.monotonic()
        self._threads: list[threading.Thread] = []
        # target -> (which store file, tracker), the most recently used last
        self._trackers: OrderedDict[TrackingTarget, tuple[object, QueuedTracker]] = OrderedDict()

    def idle_for(self) -> float:
        with self._lock:
            return 0.0 if self._open else time.monotonic() - self._since

    def start(self, conn: socket.socket) -> None:
        conn.setblocking(True)
        with self._lock:
            self._open += 1
        thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
        self._threads = [*(t for t in self._threads if t.is_alive()), thread]
        thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                if peer_uid(conn) != os.getuid():
                    return
                with (
                    conn.makefile("r", encoding="utf-8") as lines,
                    conn.makefile("w", encoding="utf-8") as out,
                ):
                    serve(lines, out, self._tracker)
        except OSError:
            pass  # the command went away mid-line: its runs were ended by `serve` if it could
        finally:
            with self._lock:
                self._open -= 1
                self._since = time.monotonic()

    def _tracker(self, target: TrackingTarget) -> QueuedTracker:
        with self._opening:
            known = self._trackers.pop(target, None)
            if known is not None and known[0] == _store_file(target):
                self._trackers[target] = known
                return known[1]
            if known is not None:
                _close_store(target)  # the file is another one now
            tracker = cast(QueuedTracker, _Serialized(target.open()))
            self._trackers[target] = (_store_file(target), tracker)
            while len(self._trackers) > KEPT_STORES:
                oldest, _ = self._trackers.popitem(last=False)
                _close_store(oldest)
            return tracker


def _close_store(target: TrackingTarget) -> None:
    """Close what MLflow holds open of an SQLite store (a server's store holds nothing)."""
    if target.sqlite_file is not None:
        from sandbox.tracking.mlflow import forget_sql_store

        forget_sql_store(target.tracking_uri)


def _store_file(target: TrackingTarget) -> object:
    """Which file an SQLite store is (device and inode); None for a server's store."""
    if target.sqlite_file is None:
        return None
    try:
        info = target.sqlite_file.stat()
    except OSError:
        return "missing"
    return (info.st_dev, info.st_ino)


class _Serialized:
    """A tracker whose calls run one at a time, from whichever thread."""

    def __init__(self, tracker: QueuedTracker) -> None:
        self._tracker = tracker
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._tracker, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call


def main(argv: list[str] | None = None) -> None:
    """`--listen PATH --idle SECONDS`: fork, and serve PATH in the child (nobody's child once
    the parent, which the command reaps at once, has exited)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4 or args[0] != "--listen" or args[2] != "--idle":
        raise SystemExit("usage: python -m sandbox.tracking.sidecar_server --listen PATH --idle S")
    quiet()
    if os.fork():
        os._exit(0)
    serve_socket(Path(args[1]), idle_s=float(args[3]))


if __name__ == "__main__":
    main()
