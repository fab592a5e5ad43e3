"""The tracking sidecar's process: `python -m sandbox.tracking.sidecar_main`.

It reads a `TrackingTarget` as its first line on stdin, opens the tracker (importing mlflow
while the command that started it gets on with its run), then runs each request line in
order and answers each with one line on stdout:

    request  {"n": 3, "method": "log_metrics", "args": {"run_id": "starting:1", ...}}
    answer   {"n": 3, "result": null}   or   {"n": 3, "refused": "..."} / {"n": 3, "error": "..."}

`starting:<n>` names the run started by request n: the sidecar swaps in the tracker's id.
At the end of its input (the command finished, or died) it ends every run it started and
nobody ended as KILLED, tagged `sandbox.state=lost`, so no run is left RUNNING in MLflow.

The shared sidecar (`python -m sandbox.tracking.sidecar_server`) serves the same protocol to
every command that connects to its socket.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

from sandbox.errors import TrackingError, TrackingRefused
from sandbox.tracking.base import PROVISIONAL_PREFIX, RunStatus
from sandbox.tracking.outbox import QueuedTracker
from sandbox.tracking.target import TrackingTarget

__all__ = ["main", "quiet", "run_request", "serve"]


class Sidecar:
    """Runs requests against one tracker, translating provisional run keys."""

    def __init__(self, tracker: QueuedTracker | None, problem: str | None) -> None:
        self.tracker = tracker
        self.problem = problem  # why there is no tracker (every request then fails with it)
        self.started: dict[str, str] = {}  # provisional key -> the tracker's id
        self.open_runs: dict[str, str] = {}  # tracker id -> provisional key, until ended

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one request; its answer (a result, a refusal or an error)."""
        n = request.get("n")
        try:
            return {"n": n, "result": self._run(str(request["method"]), request["args"], n)}
        except TrackingRefused as exc:
            return {"n": n, "refused": str(exc)}
        except TrackingError as exc:
            return {"n": n, "error": str(exc)}
        except (KeyError, TypeError, ValueError) as exc:  # not a request this side understands
            return {"n": n, "refused": f"tracking sidecar: malformed request: {exc!r}"}

    def _run(self, method: str, args: dict[str, Any], n: object) -> Any:
        if self.tracker is None:
            raise TrackingError(self.problem or "no tracker")
        if "run_id" in args:
            args = {**args, "run_id": self.started.get(args["run_id"], args["run_id"])}
        result = run_request(self.tracker, method, args)
        if method == "start_run":
            self.started[f"{PROVISIONAL_PREFIX}{n}"] = result
            self.open_runs[result] = f"{PROVISIONAL_PREFIX}{n}"
        elif method == "end_run":
            self.open_runs.pop(args["run_id"], None)
        return result

    def end_abandoned(self) -> None:
        """End the runs the command started and never ended: it finished without, or died."""
        if self.tracker is None:
            return
        for run_id in list(self.open_runs):
            reason = "the command tracking this run ended before the run did"
            try:
                self.tracker.set_tags(run_id, {"sandbox.state": "lost", "sandbox.error": reason})
                self.tracker.end_run(run_id, "KILLED")
            except TrackingError:
                continue  # queued by the outbox or refused: nothing more to do here


def run_request(tracker: QueuedTracker, method: str, args: dict[str, Any]) -> Any:
    """Run one request's call on `tracker`; its result as JSON can carry it."""
    if method == "start_run":
        return tracker.start_run(
            experiment=args["experiment"], run_name=args["run_name"], tags=args["tags"]
        )
    if method == "deliver_pending":
        return dataclasses.asdict(tracker.deliver_pending())
    run_id = args["run_id"]
    if method == "log_params":
        tracker.log_params(run_id, args["params"])
    elif method == "log_metrics":
        tracker.log_metrics(run_id, {k: float(v) for k, v in args["metrics"].items()})
    elif method == "set_tags":
        tracker.set_tags(run_id, args["tags"])
    elif method == "log_artifacts":
        tracker.log_artifacts(run_id, Path(args["folder"]), args["artifact_path"])
    elif method == "log_file":
        tracker.log_file(run_id, Path(args["path"]), args["artifact_path"])
    elif method == "end_run":
        tracker.end_run(run_id, cast(RunStatus, args["status"]))
    elif method == "run_url":
        return tracker.run_url(run_id)
    elif method == "resolve":
        return tracker.resolve(run_id)
    else:
        raise TrackingRefused(f"tracking sidecar: unknown method {method!r}")
    return None


def serve(
    lines: IO[str],
    out: IO[str],
    open_tracker: Callable[[TrackingTarget], QueuedTracker] | None = None,
) -> None:
    """Read the target, then answer every request until the input ends (`open_tracker`
    opens the target's tracker: `TrackingTarget.open` unless given)."""
    first = lines.readline()
    tracker: QueuedTracker | None = None
    problem = None
    try:
        target = TrackingTarget.from_dict(json.loads(first))
        tracker = open_tracker(target) if open_tracker is not None else target.open()
    except TrackingError as exc:
        problem = str(exc)
    except (ValueError, KeyError, TypeError) as exc:
        problem = f"tracking sidecar: bad target line: {exc!r}"
    sidecar = Sidecar(tracker, problem)
    listening = True
    for line in lines:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        if not isinstance(request, dict):
            continue
        answer = sidecar.answer(request)
        if listening:
            try:
                out.write(json.dumps(answer) + "\n")
                out.flush()
            except OSError:  # the command is gone: still run what it sent, then end its runs
                listening = False
    sidecar.end_abandoned()


def quiet() -> None:
    """A sidecar's process ends when its input does, not on Ctrl-C; MLflow's and its
    database's chatter stays quiet."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main() -> None:
    """Serve stdin to stdout."""
    quiet()
    serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
