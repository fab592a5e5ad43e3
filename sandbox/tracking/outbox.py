"""A `Tracker` that never loses a call: what the tracker cannot take now is queued and replayed.

`QueuedTracker(inner, outbox_dir)` forwards every call to `inner`. When a call fails with
`TrackingError` (the MLflow server is down, the database is locked), the call is appended to
a per-run outbox file (`<outbox_dir>/<run key>.jsonl`, one JSON line per call, fsynced) and
the run keeps going; `deliver_pending()` later replays each outbox in order and removes it
once every call went through.

A refusal is not an outage. A call the tracker refuses as invalid (`TrackingRefused`: a bad
name or value, an unknown run) would be refused again on every replay, so it is never queued:
it is written to `<outbox_dir>/refused/<run key>.jsonl` with the reason, raised to the caller
(the run keeps it as a note), and the tracker is not considered down, so the run's later
calls (its verdict, its end) still go through. A queued call refused on delivery is set aside
the same way and delivery goes on with the next one.

- Once a run has a queued call, its later calls are queued too (never sent ahead of an
  earlier one), so the tracker sees them in the order the run made them.
- A run started while the tracker is down gets a local id ("queued:<hex>"); on delivery
  `start_run` is replayed first and the real id replaces the local one in every later call.
  Each such pair is kept in `<outbox_dir>/started.map` (`tracker_id(local)` reads it), so
  a run recorded while the tracker was down can still be found in it.
- After a failure the tracker is considered down for `retry_after_s`: calls in that window
  are queued at once instead of each waiting on a dead server.
- Artifacts are copied into the outbox when queued: the run folder may be gone by delivery.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sandbox.errors import TrackingError, TrackingRefused
from sandbox.tracking.base import RunStatus, Tracker

__all__ = [
    "LOCAL_ID_PREFIX",
    "REFUSED_DIR",
    "Delivery",
    "QueuedTracker",
    "StartedRun",
    "pending_runs",
]

LOCAL_ID_PREFIX = "queued:"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
_STARTED = "started.map"  # JSON lines; not "*.jsonl", which names an outbox
REFUSED_DIR = "refused"  # calls the tracker refused: kept for people, never replayed


@dataclass(frozen=True, kw_only=True)
class StartedRun:
    """A run whose start was queued, now started in the tracker under its own id."""

    local_id: str  # the placeholder the run was given while the tracker was down
    tracker_run_id: str
    run_id: str  # the sandbox run it tracks


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """What one `deliver_pending()` pass did."""

    delivered_calls: int
    delivered_runs: tuple[str, ...]  # outbox keys emptied (local or tracker run ids)
    pending_runs: tuple[str, ...]  # outboxes still waiting (the tracker failed again)
    errors: tuple[str, ...]
    run_ids: dict[str, str]  # local id -> tracker id, for runs started on delivery
    started: tuple[StartedRun, ...] = ()
    refused: tuple[str, ...] = ()  # queued calls the tracker refused: set aside, not retried


class QueuedTracker:
    """Wraps any Tracker; failed calls go to a durable per-run outbox, replayed in order."""

    def __init__(
        self,
        inner: Tracker,
        outbox_dir: Path,
        *,
        retry_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.outbox_dir = Path(outbox_dir)
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._down_until = 0.0
        self._lock = threading.Lock()

    # --- the Tracker protocol ----------------------------------------------------------

    def start_run(self, *, experiment: str, run_name: str, tags: Mapping[str, str]) -> str:
        """Open a run; while the tracker is down, a local id whose start is queued."""
        args = {"experiment": experiment, "run_name": run_name, "tags": dict(tags)}
        if self._available():
            try:
                return self.inner.start_run(experiment=experiment, run_name=run_name, tags=tags)
            except TrackingRefused as exc:
                self._set_aside(run_name, {"method": "start_run", "args": args}, exc)
                raise
            except TrackingError as exc:
                self._mark_down(exc)
        local = f"{LOCAL_ID_PREFIX}{_SAFE.sub('-', run_name)[:60]}-{secrets.token_hex(4)}"
        self._enqueue(local, "start_run", args)
        return local

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Log params now, or queue them."""
        self._call(run_id, "log_params", {"params": dict(params)})

    def log_metrics(self, run_id: str, metrics: Mapping[str, float]) -> None:
        """Log metrics now, or queue them (NaN and infinities are queued as strings)."""
        encoded = {k: _encode_float(float(v)) for k, v in metrics.items()}
        self._call(run_id, "log_metrics", {"metrics": encoded})

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Set tags now, or queue them."""
        self._call(run_id, "set_tags", {"tags": dict(tags)})

    def log_artifacts(self, run_id: str, folder: Path, artifact_path: str | None = None) -> None:
        """Log a folder now, or queue a copy of it."""
        self._call(run_id, "log_artifacts", {"folder": str(folder), "artifact_path": artifact_path})

    def log_file(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        """Log a file now, or queue a copy of it."""
        self._call(run_id, "log_file", {"path": str(path), "artifact_path": artifact_path})

    def end_run(self, run_id: str, status: RunStatus) -> None:
        """Close the run now, or queue its closing."""
        self._call(run_id, "end_run", {"status": status})

    def run_url(self, run_id: str) -> str:
        """The inner tracker's URL, or the outbox file while the run is only queued."""
        if run_id.startswith(LOCAL_ID_PREFIX):
            return self._outbox(run_id).as_uri()
        return self.inner.run_url(run_id)

    def resolve(self, run_id: str) -> str:
        """A queued run keeps its local id until delivery; any other id is the inner tracker's."""
        return run_id if run_id.startswith(LOCAL_ID_PREFIX) else self.inner.resolve(run_id)

    # --- delivery ----------------------------------------------------------------------

    def pending(self) -> list[str]:
        """Outbox keys with calls waiting, oldest first."""
        return pending_runs(self.outbox_dir)

    def deliver_pending(self) -> Delivery:
        """Replay every outbox in order; stop an outbox at its first failure (kept for later)."""
        delivered, done, waiting, errors = 0, [], [], []
        run_ids: dict[str, str] = {}
        started: list[StartedRun] = []
        refused: list[str] = []
        for key in self.pending():
            try:
                count, real_id, run_id = self._deliver(key, refused)
            except TrackingError as exc:
                waiting.append(key)
                errors.append(f"{key}: {exc}")
                self._mark_down(exc)
                continue
            delivered += count
            done.append(key)
            if real_id is not None and real_id != key:
                run_ids[key] = real_id
                started.append(StartedRun(local_id=key, tracker_run_id=real_id, run_id=run_id))
        if not waiting:
            self._down_until = 0.0
        return Delivery(
            delivered_calls=delivered,
            delivered_runs=tuple(done),
            pending_runs=tuple(waiting),
            errors=tuple(errors),
            run_ids=run_ids,
            started=tuple(started),
            refused=tuple(refused),
        )

    def tracker_id(self, local_id: str) -> str | None:
        """The tracker's id of a run once queued as `local_id` (None: not delivered yet)."""
        path = self.outbox_dir / _STARTED
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            found = [e for e in _read_entries(handle) if e.get("local_id") == local_id]
        return str(found[-1]["tracker_run_id"]) if found else None

    def _deliver(self, key: str, refused: list[str]) -> tuple[int, str | None, str]:
        path = self._outbox(key)
        with _locked(path) as handle:
            entries = _read_entries(handle)
            done = sum(1 for e in entries if e.get("op") == "done")
            calls = [e for e in entries if e.get("op") != "done"]
            real_id = next((e["run_id"] for e in entries if e.get("op") == "started"), None)
            calls = [e for e in calls if e.get("op") != "started"]
            run_id = key
            delivered = 0
            for index, entry in enumerate(calls):
                if index < done:
                    continue  # delivered by an earlier, interrupted pass
                try:
                    if entry.get("method") == "start_run":
                        args = entry["args"]
                        real_id = self.inner.start_run(**args)
                        _append(handle, {"op": "started", "run_id": real_id})
                        run_id = str(args["tags"].get("sandbox.run_id", args["run_name"]))
                        self._keep_started(key, real_id, run_id)
                    else:
                        target = real_id if key.startswith(LOCAL_ID_PREFIX) else key
                        if target is None:
                            raise TrackingRefused(f"outbox {path}: no tracked run to send it to")
                        self._replay(target, entry)
                except (TrackingRefused, KeyError, TypeError, AttributeError) as exc:
                    # Refused, or a line no tracker could take: set it aside, never retry it.
                    reason = exc if isinstance(exc, TrackingRefused) else f"malformed: {exc!r}"
                    refused.append(f"{key}: {entry.get('method')}: {reason}")
                    self._set_aside(key, entry, reason)
                _append(handle, {"op": "done"})
                delivered += 1
            path.unlink()
            shutil.rmtree(self._blobs(key), ignore_errors=True)
        return delivered, real_id, run_id

    def _keep_started(self, local_id: str, tracker_run_id: str, run_id: str) -> None:
        """Keep the placeholder -> tracker id pair before anything else is delivered."""
        entry = {"local_id": local_id, "tracker_run_id": tracker_run_id, "run_id": run_id}
        with _locked(self.outbox_dir / _STARTED) as handle:
            _append(handle, entry)

    def _replay(self, run_id: str, entry: dict[str, Any]) -> None:
        method, args = entry["method"], entry["args"]
        inner = self.inner
        if method == "log_params":
            inner.log_params(run_id, args["params"])
        elif method == "log_metrics":
            inner.log_metrics(run_id, {k: _decode_float(v) for k, v in args["metrics"].items()})
        elif method == "set_tags":
            inner.set_tags(run_id, args["tags"])
        elif method == "log_artifacts":
            inner.log_artifacts(run_id, Path(args["folder"]), args["artifact_path"])
        elif method == "log_file":
            inner.log_file(run_id, Path(args["path"]), args["artifact_path"])
        elif method == "end_run":
            inner.end_run(run_id, cast(RunStatus, args["status"]))
        else:
            raise TrackingRefused(f"outbox: unknown queued call {method!r}")

    # --- queueing ------------------------------------------------------------------------

    def _available(self) -> bool:
        return self._clock() >= self._down_until

    def _mark_down(self, exc: TrackingError) -> None:
        self._down_until = self._clock() + self.retry_after_s

    def _call(self, run_id: str, method: str, args: dict[str, Any]) -> None:
        if self._available() and not self._has_outbox(run_id):
            try:
                self._replay(run_id, {"method": method, "args": args})
                return
            except TrackingRefused as exc:
                self._set_aside(run_id, {"method": method, "args": args}, exc)
                raise
            except TrackingError as exc:
                self._mark_down(exc)
        self._enqueue(run_id, method, args)

    def _set_aside(self, key: str, entry: Mapping[str, Any], reason: object) -> None:
        """Keep a refused call, with why, where people can read it; it is never replayed."""
        folder = self.outbox_dir / REFUSED_DIR
        record = {
            "method": entry.get("method"),
            "args": entry.get("args"),
            "reason": str(reason)[:4000],
            "refused_at": time.time(),
        }
        with self._lock:
            folder.mkdir(parents=True, exist_ok=True)
            with _locked(folder / f"{_key(key)}.jsonl") as handle:
                _append(handle, record)

    def _has_outbox(self, run_id: str) -> bool:
        return run_id.startswith(LOCAL_ID_PREFIX) or self._outbox(run_id).exists()

    def _enqueue(self, key: str, method: str, args: dict[str, Any]) -> None:
        if method in ("log_artifacts", "log_file"):
            args = self._keep_copy(key, method, args)
        with self._lock:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            with _locked(self._outbox(key)) as handle:
                _append(handle, {"method": method, "args": args})

    def _keep_copy(self, key: str, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Copy the artifact into the outbox: delivery must not depend on the run folder."""
        blobs = self._blobs(key)
        blobs.mkdir(parents=True, exist_ok=True)
        target = blobs / secrets.token_hex(6)
        if method == "log_artifacts":
            source = Path(args["folder"])
            if source.is_dir():
                shutil.copytree(source, target)
                return {**args, "folder": str(target)}
            return args
        source = Path(args["path"])
        if source.is_file():
            target.mkdir()
            copied = target / source.name  # MLflow names the artifact after the file
            shutil.copy2(source, copied)
            return {**args, "path": str(copied)}
        return args

    def _outbox(self, key: str) -> Path:
        return self.outbox_dir / f"{_key(key)}.jsonl"

    def _blobs(self, key: str) -> Path:
        return self.outbox_dir / f"{_key(key)}.files"


def pending_runs(outbox_dir: Path) -> list[str]:
    """The outbox keys under `outbox_dir` with calls waiting, oldest first."""
    if not outbox_dir.is_dir():
        return []
    files = sorted(outbox_dir.glob("*.jsonl"), key=lambda p: p.stat().st_mtime_ns)
    return [_unkey(p.stem) for p in files]


def _key(run_id: str) -> str:
    return _SAFE.sub(lambda m: f"%{ord(m.group()):02x}", run_id)


def _unkey(name: str) -> str:
    return re.sub(r"%([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), name)


def _encode_float(value: float) -> float | str:
    return value if value == value and value not in (float("inf"), float("-inf")) else str(value)


def _decode_float(value: float | str) -> float:
    return float(value)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[Any]:
    """The outbox file opened for append and read, under an exclusive flock."""
    while True:
        handle = open(path, "a+b")  # noqa: SIM115 - closed below or by the with
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = -1
        if current == os.fstat(handle.fileno()).st_ino:
            break
        handle.close()  # delivered and removed while we waited: start a fresh outbox
    with handle:
        yield handle


def _append(handle: Any, entry: dict[str, Any]) -> None:
    handle.write(json.dumps(entry, sort_keys=True).encode() + b"\n")
    handle.flush()
    os.fsync(handle.fileno())


def _read_entries(handle: Any) -> list[dict[str, Any]]:
    """The complete lines of an outbox; a line cut short by a crash is dropped (never sent)."""
    handle.seek(0)
    entries = []
    for raw in handle.read().split(b"\n"):
        if not raw:
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
