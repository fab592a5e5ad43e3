"""QueuedTracker: failed tracker calls are queued durably and delivered in order later."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import pytest

from sandbox.errors import TrackingError, TrackingRefused
from sandbox.tracking.base import RunStatus
from sandbox.tracking.memory import InMemoryTracker
from sandbox.tracking.outbox import LOCAL_ID_PREFIX, REFUSED_DIR, QueuedTracker


class FlakyTracker(InMemoryTracker):
    """An in-memory tracker that can be switched off; counts the calls it refused."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.refused = 0

    def _check(self) -> None:
        if self.down:
            self.refused += 1
            raise TrackingError("connection refused")

    def start_run(self, *, experiment: str, run_name: str, tags: Mapping[str, str]) -> str:
        self._check()
        return super().start_run(experiment=experiment, run_name=run_name, tags=tags)

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        self._check()
        super().log_params(run_id, params)

    def log_metrics(self, run_id: str, metrics: Mapping[str, float]) -> None:
        self._check()
        super().log_metrics(run_id, metrics)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self._check()
        super().set_tags(run_id, tags)

    def log_file(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        self._check()
        super().log_file(run_id, path, artifact_path)

    def log_artifacts(self, run_id: str, folder: Path, artifact_path: str | None = None) -> None:
        self._check()
        super().log_artifacts(run_id, folder, artifact_path)

    def end_run(self, run_id: str, status: RunStatus) -> None:
        self._check()
        super().end_run(run_id, status)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def inner() -> FlakyTracker:
    return FlakyTracker()


def _queued(inner: FlakyTracker, tmp_path: Path, clock: Clock | None = None) -> QueuedTracker:
    return QueuedTracker(inner, tmp_path / "outbox", retry_after_s=30, clock=clock or Clock())


def test_calls_pass_straight_through_when_the_tracker_is_up(
    inner: FlakyTracker, tmp_path: Path
) -> None:
    tracker = _queued(inner, tmp_path)
    run = tracker.start_run(experiment="e", run_name="r", tags={"a": "1"})
    tracker.log_params(run, {"p": "1"})
    tracker.end_run(run, "FINISHED")
    assert inner.runs[run].status == "FINISHED"
    assert tracker.pending() == []


def test_a_run_made_while_down_is_delivered_in_order_later(
    inner: FlakyTracker, tmp_path: Path
) -> None:
    inner.down = True
    tracker = _queued(inner, tmp_path)
    run = tracker.start_run(experiment="pilot", run_name="r1", tags={"sandbox.run_id": "r1"})
    assert run.startswith(LOCAL_ID_PREFIX)
    tracker.log_params(run, {"model.C": "1.0"})
    tracker.log_metrics(run, {"accuracy": 0.9, "ratio": math.nan})
    report = tmp_path / "report.json"
    report.write_text("{}")
    tracker.log_file(run, report, "reports")
    report.unlink()  # the run folder may be gone by delivery: the outbox kept a copy
    tracker.set_tags(run, {"sandbox.verdict": "pass"})
    tracker.end_run(run, "FINISHED")
    assert inner.refused == 1  # one failure, then queued at once while marked down
    assert inner.runs == {}

    inner.down = False
    delivery = tracker.deliver_pending()

    assert delivery.pending_runs == () and delivery.errors == ()
    assert delivery.delivered_calls == 6
    [real] = inner.runs.values()
    assert delivery.run_ids == {run: real.run_id}
    assert real.params == {"model.C": "1.0"}
    assert real.metrics == {"accuracy": 0.9}
    assert real.tags["sandbox.verdict"] == "pass"
    assert real.artifacts == {"reports/report.json": b"{}"}
    assert real.status == "FINISHED"
    # Only the placeholder -> tracker id pairs stay, so the run can be found later.
    assert tracker.pending() == []
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == ["started.map"]
    assert tracker.tracker_id(run) == real.run_id
    (started,) = delivery.started
    assert (started.local_id, started.tracker_run_id, started.run_id) == (run, real.run_id, "r1")


def test_calls_after_a_queued_one_keep_their_order(inner: FlakyTracker, tmp_path: Path) -> None:
    clock = Clock()
    tracker = _queued(inner, tmp_path, clock)
    run = tracker.start_run(experiment="e", run_name="r", tags={})
    inner.down = True
    tracker.set_tags(run, {"state": "first"})
    inner.down = False
    clock.now = 100  # the tracker is back, but this run has queued calls: queue behind them
    tracker.set_tags(run, {"state": "second"})
    assert inner.runs[run].tags == {}
    tracker.deliver_pending()
    assert inner.runs[run].tags == {"state": "second"}


def test_a_failed_delivery_keeps_the_outbox_and_resumes(
    inner: FlakyTracker, tmp_path: Path
) -> None:
    inner.down = True
    tracker = _queued(inner, tmp_path)
    run = tracker.start_run(experiment="e", run_name="r", tags={})
    tracker.end_run(run, "FAILED")
    delivery = tracker.deliver_pending()
    assert delivery.pending_runs == (run,) and delivery.delivered_calls == 0
    inner.down = False
    assert tracker.deliver_pending().delivered_calls == 2
    assert [r.status for r in inner.runs.values()] == ["FAILED"]


def test_the_outbox_survives_a_new_process(inner: FlakyTracker, tmp_path: Path) -> None:
    inner.down = True
    first = _queued(inner, tmp_path)
    run = first.start_run(experiment="e", run_name="r", tags={})
    first.end_run(run, "KILLED")
    inner.down = False
    second = _queued(inner, tmp_path)  # e.g. the next `sandbox run`
    assert second.pending() == [run]
    second.deliver_pending()
    assert [r.status for r in inner.runs.values()] == ["KILLED"]


def test_a_line_cut_short_by_a_crash_is_not_sent(inner: FlakyTracker, tmp_path: Path) -> None:
    inner.down = True
    tracker = _queued(inner, tmp_path)
    tracker.start_run(experiment="e", run_name="r", tags={})
    [outbox] = (tmp_path / "outbox").glob("*.jsonl")
    with outbox.open("ab") as handle:
        handle.write(b'{"method": "end_run", "args": {"sta')
    inner.down = False
    assert tracker.deliver_pending().delivered_calls == 1
    assert [r.status for r in inner.runs.values()] == [None]


def test_while_down_calls_do_not_wait_on_the_tracker(inner: FlakyTracker, tmp_path: Path) -> None:
    clock = Clock()
    inner.down = True
    tracker = _queued(inner, tmp_path, clock)
    run = tracker.start_run(experiment="e", run_name="r", tags={})
    for i in range(50):
        tracker.set_tags(run, {"i": str(i)})
    assert inner.refused == 1
    clock.now = 31  # after retry_after_s a new run tries the tracker again
    tracker.start_run(experiment="e", run_name="r2", tags={})
    assert inner.refused == 2


# --- a refusal is not an outage ----------------------------------------------------------


def _set_aside(tmp_path: Path) -> list[dict[str, object]]:
    folder = tmp_path / "outbox" / REFUSED_DIR
    lines = [line for f in sorted(folder.glob("*.jsonl")) for line in f.read_text().splitlines()]
    return [json.loads(line) for line in lines]


def test_a_refused_call_is_set_aside_and_the_run_goes_on(
    inner: FlakyTracker, tmp_path: Path
) -> None:
    clock = Clock()
    tracker = _queued(inner, tmp_path, clock)
    run = tracker.start_run(experiment="e", run_name="r", tags={})
    tracker.log_params(run, {"p": "1"})
    with pytest.raises(TrackingRefused, match="never change"):
        tracker.log_params(run, {"p": "2"})
    tracker.set_tags(run, {"sandbox.verdict": "pass"})  # not queued behind the refusal
    tracker.end_run(run, "FINISHED")
    assert inner.runs[run].status == "FINISHED"
    assert inner.runs[run].tags == {"sandbox.verdict": "pass"}
    assert tracker.pending() == []
    [refused] = _set_aside(tmp_path)
    assert refused["method"] == "log_params" and "never change" in str(refused["reason"])
    # The tracker was never considered down: a new run starts under its real id.
    assert not tracker.start_run(experiment="e", run_name="r2", tags={}).startswith(LOCAL_ID_PREFIX)


def test_a_refused_start_raises_and_queues_nothing(tmp_path: Path) -> None:
    class Refusing(FlakyTracker):
        def start_run(self, *, experiment: str, run_name: str, tags: Mapping[str, str]) -> str:
            raise TrackingRefused("experiment is deleted")

    tracker = _queued(Refusing(), tmp_path)
    with pytest.raises(TrackingRefused):
        tracker.start_run(experiment="e", run_name="r", tags={})
    assert tracker.pending() == []
    assert [c["method"] for c in _set_aside(tmp_path)] == ["start_run"]


def test_queued_calls_refused_on_delivery_are_set_aside_once(
    inner: FlakyTracker, tmp_path: Path
) -> None:
    tracker = _queued(inner, tmp_path)
    run = tracker.start_run(experiment="e", run_name="r", tags={})
    tracker.log_params(run, {"p": "1"})
    inner.down = True
    tracker.log_params(run, {"p": "2"})  # queued while down; refused once delivered
    tracker.set_tags(run, {"sandbox.verdict": "fail"})
    tracker.end_run(run, "FAILED")
    outbox = tmp_path / "outbox" / f"{run}.jsonl"
    with outbox.open("ab") as handle:  # a line no tracker could take
        handle.write(b'{"args": {}}\n')
    inner.down = False

    delivery = tracker.deliver_pending()

    assert delivery.pending_runs == () and len(delivery.refused) == 2
    assert inner.runs[run].status == "FAILED"
    assert inner.runs[run].tags == {"sandbox.verdict": "fail"}
    assert tracker.pending() == []
    assert tracker.deliver_pending().delivered_calls == 0
    assert len(_set_aside(tmp_path)) == 2


def test_a_queued_run_whose_start_is_refused_sets_aside_its_calls(
    inner: FlakyTracker, tmp_path: Path
) -> None:
    inner.down = True
    tracker = _queued(inner, tmp_path)
    run = tracker.start_run(experiment="e", run_name="r", tags={})
    tracker.end_run(run, "FINISHED")
    inner.down = False
    inner.start_run = _refuse  # type: ignore[method-assign]

    delivery = tracker.deliver_pending()

    assert delivery.pending_runs == () and len(delivery.refused) == 2
    assert tracker.pending() == [] and inner.runs == {}


def _refuse(**_: object) -> str:
    raise TrackingRefused("invalid experiment name")
