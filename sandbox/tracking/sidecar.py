"""A `Tracker` whose MLflow lives in a sidecar process, so MLflow's start-up overlaps the run.

Importing mlflow and opening its store takes about 2 s, longer than a small audit's own work.
`SidecarTracker` starts `python -m sandbox.tracking.sidecar_main` at once and sends it every
call as a JSON line without waiting; the sidecar runs them in order through the usual
outbox-backed MLflow tracker (`TrackingTarget.open`). Meanwhile the command reads its data,
evaluates and writes its reports.

- `start_run` answers a provisional key (`starting:<n>`) at once, valid for every later call;
  `resolve(key)` waits for MLflow's own id. The recorder asks for it when it signs the end.
- `end_run` and `run_url` wait until every call sent so far is done: when a command says its
  run is in MLflow, it is, as with a tracker in the command's own process.
- A refusal or failure of an earlier call is raised by the next call that waits, so the run
  still notes it.
- If the sidecar dies or cannot start, the calls it had not answered are replayed in this
  process, in order, through the same outbox-backed tracker: nothing is lost.
- If the command dies, the sidecar (in a session of its own, so a signal to the command's
  process group does not reach it) reads the end of its input and ends the runs left open as
  KILLED (`sandbox.state=lost`). Their ids never reached the run folder, so the trail's
  `run.lost` names no MLflow run; the MLflow run's `sandbox.run_id` tag names the sandbox run.

With `shared_idle_s`, the sidecar is shared (`sidecar_server`, reached through
`sidecar_socket`): the first command starts it, it stays that long after its last command,
and the commands that follow find MLflow loaded; over its socket each command speaks the same
protocol and is treated the same way. Where it cannot be reached, the command starts a sidecar
of its own.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sandbox.errors import TrackingError, TrackingRefused
from sandbox.host_python import module_command
from sandbox.tracking.base import PROVISIONAL_PREFIX, RunStatus
from sandbox.tracking.outbox import Delivery, QueuedTracker, StartedRun, pending_runs
from sandbox.tracking.sidecar_main import run_request
from sandbox.tracking.target import TrackingTarget

__all__ = ["SidecarTracker", "spare_core"]

_POLL_S = 0.5  # how often a wait checks that the sidecar is still alive
_CLOSE_S = 30.0  # how long closing waits for the sidecar's last calls before killing it
LOADAVG = Path("/proc/loadavg")


def spare_core(loadavg: Path = LOADAVG) -> bool:
    """Whether a core is idle now: fewer runnable tasks than cores (the fourth field of
    /proc/loadavg, "running/total", counts this process too). True where it cannot be read."""
    try:
        running = int(loadavg.read_text(encoding="ascii").split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return True
    return running < (os.cpu_count() or 1)


@dataclass
class _Request:
    n: int
    method: str
    args: dict[str, Any]


class SidecarTracker:
    """The Tracker protocol over a pipe or a socket to a sidecar (see the module docstring)."""

    def __init__(
        self, target: TrackingTarget, *, shared_idle_s: float = 0.0, channel: _Channel | None = None
    ) -> None:
        """A sidecar of this command's own; with `shared_idle_s`, the shared sidecar (started
        if none listens, kept for that long after its last command) where it can be."""
        self.target = target
        self.outbox_dir = target.outbox_dir
        self._next = 0
        self._unanswered: dict[int, _Request] = {}  # sent, not yet answered, in order
        self._results: dict[int, Any] = {}  # answers a caller still waits for
        self._waited: set[int] = set()  # requests whose answer someone will ask for
        self._problems: list[TrackingError] = []  # failures to raise at the next wait
        self._buffer = b""
        self._local: QueuedTracker | None = None  # once the sidecar is gone: the tracker here
        self._local_ids: dict[str, str] = {}  # provisional key -> id, for runs replayed here
        self._channel = channel
        #: Whether MLflow is being loaded for this command in a process it started (a core
        #: stays busy meanwhile); not when an earlier command's shared sidecar answers.
        self.loading = channel is None
        try:
            if self._channel is None and shared_idle_s > 0:
                self._channel = _shared(target, shared_idle_s, start=False)  # a warm one
                self.loading = self._channel is None
                if self._channel is None:
                    self._channel = _shared(target, shared_idle_s, start=True)
            if self._channel is None:
                self._channel = _ProcessChannel.start()
            self._write(json.dumps(target.to_dict()))
        except OSError:
            self._take_over()
        self._finalizer = weakref.finalize(self, _close, self._channel, self._unanswered)

    @classmethod
    def warm(cls, target: TrackingTarget) -> SidecarTracker | None:
        """The shared sidecar if one listens already (MLflow loaded); None if none does."""
        channel = _shared(target, 0.0, start=False)
        return cls(target, channel=channel) if channel is not None else None

    @property
    def _proc(self) -> subprocess.Popen[bytes] | None:
        """The sidecar's process, when it is this command's own."""
        return self._channel.proc if isinstance(self._channel, _ProcessChannel) else None

    # --- the Tracker protocol ----------------------------------------------------------

    def start_run(self, *, experiment: str, run_name: str, tags: Mapping[str, str]) -> str:
        """Send the start; answer the run's provisional key at once."""
        args = {"experiment": experiment, "run_name": run_name, "tags": dict(tags)}
        n = self._send("start_run", args, waited=True)
        return f"{PROVISIONAL_PREFIX}{n}"

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Send the params."""
        self._send("log_params", {"run_id": run_id, "params": dict(params)})

    def log_metrics(self, run_id: str, metrics: Mapping[str, float]) -> None:
        """Send the metrics (NaN and infinities travel as JSON's NaN and Infinity)."""
        values = {k: float(v) for k, v in metrics.items()}
        self._send("log_metrics", {"run_id": run_id, "metrics": values})

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Send the tags."""
        self._send("set_tags", {"run_id": run_id, "tags": dict(tags)})

    def log_artifacts(self, run_id: str, folder: Path, artifact_path: str | None = None) -> None:
        """Send the folder's path (it is read when the sidecar logs it, before `end_run`)."""
        args = {"run_id": run_id, "folder": str(folder), "artifact_path": artifact_path}
        self._send("log_artifacts", args)

    def log_file(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        """Send the file's path (it is read when the sidecar logs it, before `end_run`)."""
        args = {"run_id": run_id, "path": str(path), "artifact_path": artifact_path}
        self._send("log_file", args)

    def end_run(self, run_id: str, status: RunStatus) -> None:
        """Close the run and wait until every call sent so far is done."""
        self._wait_for(self._send("end_run", {"run_id": run_id, "status": status}, waited=True))

    def run_url(self, run_id: str) -> str:
        """Ask the sidecar (after every earlier call is done)."""
        return str(self._wait_for(self._send("run_url", {"run_id": run_id}, waited=True)))

    def resolve(self, run_id: str) -> str:
        """MLflow's id for a provisional key (a queued placeholder while MLflow is down)."""
        if not run_id.startswith(PROVISIONAL_PREFIX):
            return run_id
        if run_id in self._local_ids:
            return self._local_ids[run_id]
        n = int(run_id.removeprefix(PROVISIONAL_PREFIX))
        return str(self._wait_for(n, earlier_problems=False))

    # --- the outbox, as `QueuedTracker` offers it --------------------------------------

    def pending(self) -> list[str]:
        """Outbox keys with calls waiting (read from the folder: the sidecar is not asked)."""
        return pending_runs(self.outbox_dir)

    def deliver_pending(self) -> Delivery:
        """Have the sidecar deliver the outbox; nothing to ask when nothing is waiting."""
        if not self.pending():
            return Delivery(
                delivered_calls=0, delivered_runs=(), pending_runs=(), errors=(), run_ids={}
            )
        found = self._wait_for(self._send("deliver_pending", {}, waited=True))
        return _delivery(found)

    def close(self) -> None:
        """Let the sidecar finish its calls and exit (also done when this object goes)."""
        self._finalizer()

    # --- the pipe ----------------------------------------------------------------------

    def _send(self, method: str, args: dict[str, Any], *, waited: bool = False) -> int:
        self._next += 1
        request = _Request(self._next, method, args)
        if waited:
            self._waited.add(request.n)
        if self._local is not None:
            self._run_here(request)
            return request.n
        self._unanswered[request.n] = request
        self._read(timeout=0)  # keep the answer pipe drained: the sidecar never blocks on it
        if self._local is None:
            try:
                self._write(json.dumps({"n": request.n, "method": method, "args": args}))
            except OSError:
                self._take_over()
        return request.n

    def _write(self, line: str) -> None:
        assert self._channel is not None
        self._channel.write(line.encode() + b"\n")

    def _wait_for(self, n: int, *, earlier_problems: bool = True) -> Any:
        """Wait until request `n` and every earlier one is answered; its result.

        Raises request `n`'s own failure, and with `earlier_problems` those of calls nobody
        waited for (reported once).
        """
        while self._local is None and any(k <= n for k in self._unanswered):
            self._read(timeout=_POLL_S)
        self._waited.discard(n)
        result = self._results.pop(n, None)
        if isinstance(result, TrackingError):
            raise result
        if earlier_problems and self._problems:
            first, *more = self._problems
            self._problems = []
            raise type(first)(f"{first} (and {len(more)} more)" if more else str(first))
        return result

    def _read(self, *, timeout: float) -> None:
        """Take in whatever answers have arrived (waiting up to `timeout` for the first)."""
        assert self._channel is not None
        fd = self._channel.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            if self._channel.gone():
                self._take_over()
            return
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:  # a connection reset by a server that went away
            chunk = b""
        if not chunk:  # the sidecar is gone
            self._take_over()
            return
        *lines, self._buffer = (self._buffer + chunk).split(b"\n")
        for line in lines:
            self._take(json.loads(line))

    def _take(self, answer: dict[str, Any]) -> None:
        n = int(answer["n"])
        request = self._unanswered.pop(n, None)
        if request is None:
            return
        result: Any = answer.get("result")
        if "refused" in answer:
            result = TrackingRefused(str(answer["refused"]))
        elif "error" in answer:
            result = TrackingError(str(answer["error"]))
        self._keep(n, result)

    def _keep(self, n: int, result: Any) -> None:
        """Keep an answer for whoever waits for it; a failure nobody waits for is noted."""
        if n in self._waited:
            self._results[n] = result
        elif isinstance(result, TrackingError):
            self._problems.append(result)

    # --- without the sidecar -----------------------------------------------------------

    def _take_over(self) -> None:
        """The sidecar is gone: replay what it had not answered here, in order."""
        if self._local is not None:
            return
        self._local = self.target.open()
        _close(self._channel, {})
        for request in list(self._unanswered.values()):
            self._run_here(request)
        self._unanswered.clear()

    def _run_here(self, request: _Request) -> None:
        assert self._local is not None
        args = dict(request.args)
        if "run_id" in args:
            args["run_id"] = self._local_ids.get(args["run_id"], args["run_id"])
        try:
            result = run_request(self._local, request.method, args)
        except TrackingError as exc:
            result = exc
        else:
            if request.method == "start_run":
                self._local_ids[f"{PROVISIONAL_PREFIX}{request.n}"] = str(result)
        self._keep(request.n, result)


def _delivery(found: dict[str, Any]) -> Delivery:
    """A `Delivery` back from its JSON form."""
    started = tuple(StartedRun(**s) for s in found.get("started", ()))
    return Delivery(
        delivered_calls=int(found["delivered_calls"]),
        delivered_runs=tuple(found["delivered_runs"]),
        pending_runs=tuple(found["pending_runs"]),
        errors=tuple(found["errors"]),
        run_ids=dict(found["run_ids"]),
        started=started,
        refused=tuple(found.get("refused", ())),
    )


def _close(channel: _Channel | None, unanswered: Mapping[int, object]) -> None:
    """End the sidecar's input; wait for its last calls only if some are unanswered.

    With every call answered, the sidecar has nothing left but to exit (or, shared, to serve
    others): the command need not wait for MLflow's interpreter to shut down.
    """
    if channel is not None:
        channel.close(wait=bool(unanswered))


def _shared(target: TrackingTarget, idle_s: float, *, start: bool) -> _SocketChannel | None:
    """A connection to the shared sidecar (with `start`, started if none listens and kept
    `idle_s` after its last command), if it can be used for `target`."""
    from sandbox.tracking import sidecar_socket

    path = sidecar_socket.socket_path()
    if path is None or not sidecar_socket.portable(target):
        return None
    connection = sidecar_socket.connect(path, idle_s=idle_s, start=start)
    return _SocketChannel(connection) if connection is not None else None


class _Channel(Protocol):
    """How requests reach a sidecar and its answers come back."""

    def write(self, data: bytes) -> None: ...
    def fileno(self) -> int: ...  # where answers arrive
    def gone(self) -> bool: ...  # whether the sidecar has ended (asked when nothing arrives)
    def close(self, *, wait: bool) -> None: ...


class _ProcessChannel:
    """The pipes of a sidecar process of this command's own."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc = proc
        self._stdin, self._stdout = proc.stdin, proc.stdout
        os.set_blocking(self._stdout.fileno(), False)

    @classmethod
    def start(cls) -> _ProcessChannel:
        return cls(
            subprocess.Popen(
                module_command("sandbox.tracking.sidecar_main"),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                close_fds=True,
                # Its own session: a signal to the command's process group (Ctrl-C, a kill of
                # the group) leaves it alive to finish or end the runs it holds.
                start_new_session=True,
            )
        )

    def write(self, data: bytes) -> None:
        self._stdin.write(data)
        self._stdin.flush()

    def fileno(self) -> int:
        return self._stdout.fileno()

    def gone(self) -> bool:
        return self.proc.poll() is not None

    def close(self, *, wait: bool) -> None:
        if self.proc.returncode is not None:
            return
        try:
            self._stdin.close()
            if wait:
                self.proc.wait(timeout=_CLOSE_S)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


class _SocketChannel:
    """A connection to the shared sidecar (`sidecar_server`)."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection

    def write(self, data: bytes) -> None:
        self._connection.sendall(data)

    def fileno(self) -> int:
        return self._connection.fileno()

    def gone(self) -> bool:
        return self._connection.fileno() < 0  # a server that went away shows as end of input

    def close(self, *, wait: bool) -> None:
        """Say this command is done; with `wait`, until the server has answered it all."""
        if self._connection.fileno() < 0:
            return
        try:
            self._connection.shutdown(socket.SHUT_WR)
            if wait:
                self._connection.settimeout(_CLOSE_S)
                while self._connection.recv(1 << 16):
                    pass
        except OSError:
            pass
        finally:
            self._connection.close()
