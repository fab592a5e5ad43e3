"""The tracking sidecar's request loop, against an in-memory tracker behind the outbox."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sandbox.errors import TrackingError
from sandbox.tracking.memory import InMemoryTracker
from sandbox.tracking.outbox import QueuedTracker
from sandbox.tracking.sidecar_main import Sidecar, serve
from sandbox.tracking.target import TrackingTarget


def _sidecar(tmp_path: Path) -> tuple[Sidecar, InMemoryTracker]:
    memory = InMemoryTracker()
    return Sidecar(QueuedTracker(memory, tmp_path / "outbox"), None), memory


def test_provisional_keys_name_the_run_their_start_request_opened(tmp_path: Path) -> None:
    sidecar, memory = _sidecar(tmp_path)
    start = {"experiment": "e", "run_name": "r1", "tags": {"a": "1"}}
    started = sidecar.answer({"n": 1, "method": "start_run", "args": start})
    run_id = started["result"]
    assert sidecar.answer(
        {"n": 2, "method": "log_metrics", "args": {"run_id": "starting:1", "metrics": {"m": 0.5}}}
    ) == {"n": 2, "result": None}
    assert sidecar.answer({"n": 3, "method": "resolve", "args": {"run_id": "starting:1"}}) == {
        "n": 3,
        "result": run_id,
    }
    sidecar.answer({"n": 4, "method": "end_run", "args": {"run_id": run_id, "status": "FINISHED"}})
    recorded = memory.runs[run_id]
    assert recorded.metrics == {"m": 0.5}
    assert recorded.status == "FINISHED"
    assert sidecar.open_runs == {}


def test_bad_requests_are_refused_not_fatal(tmp_path: Path) -> None:
    sidecar, _ = _sidecar(tmp_path)
    unknown = sidecar.answer({"n": 1, "method": "drop_table", "args": {"run_id": "x"}})
    assert "unknown method" in unknown["refused"]
    malformed = sidecar.answer({"n": 2, "method": "log_params", "args": {}})
    assert "malformed" in malformed["refused"]


def test_without_a_tracker_every_request_fails_with_the_reason() -> None:
    sidecar = Sidecar(None, "cannot open the store")
    answer = sidecar.answer({"n": 1, "method": "start_run", "args": {}})
    assert answer == {"n": 1, "error": "cannot open the store"}
    sidecar.end_abandoned()  # nothing to end, and no error


def test_runs_left_open_at_the_end_of_input_end_killed_and_lost(tmp_path: Path) -> None:
    sidecar, memory = _sidecar(tmp_path)
    start = {"experiment": "e", "run_name": "r1", "tags": {}}
    run_id = sidecar.answer({"n": 1, "method": "start_run", "args": start})["result"]
    sidecar.end_abandoned()
    assert memory.runs[run_id].status == "KILLED"
    assert memory.runs[run_id].tags["sandbox.state"] == "lost"


def test_serve_reports_a_bad_target_on_every_answer() -> None:
    requests = "not json\n" + json.dumps({"n": 1, "method": "end_run", "args": {}}) + "\n"
    out = io.StringIO()
    serve(io.StringIO("{}\n" + requests), out)
    (answer,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert answer["n"] == 1
    assert "bad target line" in answer["error"]


def test_a_failing_tracker_queues_the_call_in_the_outbox(tmp_path: Path) -> None:
    class Down(InMemoryTracker):
        def start_run(self, **kwargs: object) -> str:  # type: ignore[override]
            raise TrackingError("connection refused")

    sidecar = Sidecar(QueuedTracker(Down(), tmp_path / "outbox"), None)
    start = {"experiment": "e", "run_name": "r1", "tags": {}}
    answer = sidecar.answer({"n": 1, "method": "start_run", "args": start})
    assert answer["result"].startswith("queued:")
    assert list((tmp_path / "outbox").glob("*.jsonl"))


def test_a_command_gone_mid_answer_still_has_its_runs_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = InMemoryTracker()
    monkeypatch.setattr(
        TrackingTarget, "open", lambda self: QueuedTracker(memory, tmp_path / "outbox")
    )

    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError("the command exited")

    target = TrackingTarget(tracking_uri="x", artifact_root=None, outbox_dir=tmp_path)
    start = {
        "n": 1,
        "method": "start_run",
        "args": {"experiment": "e", "run_name": "r", "tags": {}},
    }
    serve(io.StringIO(json.dumps(target.to_dict()) + "\n" + json.dumps(start) + "\n"), Gone())
    (run,) = memory.runs.values()
    assert run.status == "KILLED"
