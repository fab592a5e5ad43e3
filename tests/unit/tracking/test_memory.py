"""The in-memory tracker, the shared value rules, and the lazy MLflow import."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.errors import TrackingError
from sandbox.tracking import (
    DROPPED_METRICS_TAG,
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    InMemoryTracker,
    Tracker,
    clean_metrics,
)
from sandbox.tracking.base import truncate


def test_is_a_tracker() -> None:
    assert isinstance(InMemoryTracker(), Tracker)


def test_records_a_whole_run(tmp_path: Path) -> None:
    (tmp_path / "reports" / "html").mkdir(parents=True)
    (tmp_path / "reports" / "report.json").write_text("{}")
    (tmp_path / "reports" / "html" / "report.html").write_text("<html/>")
    (tmp_path / "pilot.yaml").write_text("name: p\n")
    tracker = InMemoryTracker()

    run_id = tracker.start_run(experiment="pilot", run_name="r1", tags={"a": "1"})
    tracker.log_params(run_id, {"seed": "42"})
    tracker.log_metrics(run_id, {"accuracy": 0.9, "count": 3})
    tracker.set_tags(run_id, {"a": "2", "b": "x"})
    tracker.log_artifacts(run_id, tmp_path / "reports", "reports")
    tracker.log_file(run_id, tmp_path / "pilot.yaml")
    tracker.end_run(run_id, "FINISHED")

    run = tracker.runs[run_id]
    assert (run.experiment, run.run_name, run.status) == ("pilot", "r1", "FINISHED")
    assert run.tags == {"a": "2", "b": "x"}
    assert run.params == {"seed": "42"}
    assert run.metrics == {"accuracy": 0.9, "count": 3.0}
    assert run.artifacts == {
        "reports/report.json": b"{}",
        "reports/html/report.html": b"<html/>",
        "pilot.yaml": b"name: p\n",
    }
    assert tracker.run_url(run_id) == f"memory://pilot/{run_id}"


def test_runs_get_distinct_ids_and_start_open() -> None:
    tracker = InMemoryTracker()
    first = tracker.start_run(experiment="p", run_name="a", tags={})
    second = tracker.start_run(experiment="p", run_name="b", tags={})
    assert first != second
    assert tracker.runs[first].status is None


def test_non_finite_metrics_are_dropped_and_named() -> None:
    tracker = InMemoryTracker()
    run_id = tracker.start_run(experiment="p", run_name="r", tags={})

    tracker.log_metrics(run_id, {"ok": 1.0, "ratio": math.nan, "up": math.inf, "down": -math.inf})

    run = tracker.runs[run_id]
    assert run.metrics == {"ok": 1.0}
    assert run.tags[DROPPED_METRICS_TAG] == "down,ratio,up"


def test_long_values_are_truncated_visibly() -> None:
    tracker = InMemoryTracker()
    run_id = tracker.start_run(experiment="p", run_name="r", tags={"t": "x" * 9000})
    tracker.log_params(run_id, {"p": "y" * 7000})

    run = tracker.runs[run_id]
    assert len(run.tags["t"]) == MAX_TAG_VALUE_LENGTH
    assert len(run.params["p"]) == MAX_PARAM_VALUE_LENGTH
    assert run.params["p"].endswith("[truncated]")


def test_a_param_never_changes_but_may_be_logged_again() -> None:
    tracker = InMemoryTracker()
    run_id = tracker.start_run(experiment="p", run_name="r", tags={})
    tracker.log_params(run_id, {"seed": "1"})
    tracker.log_params(run_id, {"seed": "1"})

    with pytest.raises(TrackingError, match="already '1'"):
        tracker.log_params(run_id, {"seed": "2"})


def test_unknown_run_is_a_tracking_error() -> None:
    with pytest.raises(TrackingError, match="no tracked run"):
        InMemoryTracker().log_metrics("nope", {"a": 1.0})


def test_missing_artifact_sources_are_tracking_errors(tmp_path: Path) -> None:
    tracker = InMemoryTracker()
    run_id = tracker.start_run(experiment="p", run_name="r", tags={})
    with pytest.raises(TrackingError, match="not a folder"):
        tracker.log_artifacts(run_id, tmp_path / "absent")
    with pytest.raises(TrackingError, match="not a file"):
        tracker.log_file(run_id, tmp_path)


def test_clean_metrics_and_truncate() -> None:
    values = clean_metrics({"a": 1, "b": math.nan})
    assert values.finite == {"a": 1.0} and values.dropped == ("b",)
    assert values.dropped_tag() == {DROPPED_METRICS_TAG: "b"}
    assert clean_metrics({"a": 2.0}).dropped_tag() == {}
    assert truncate("abc", 10) == "abc"
    assert len(truncate("a" * 100, 20)) == 20


def test_tracking_package_does_not_import_mlflow() -> None:
    """`import mlflow` costs over a second; the CLI imports the tracking package at start."""
    code = (
        "import sys, sandbox.tracking, sandbox.tracking.mlflow\n"
        "sys.exit(1 if 'mlflow' in sys.modules else 0)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
