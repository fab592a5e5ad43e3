"""The MLflow tracker against a real store (SQLite file + local artifact folder)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from sandbox.errors import TrackingError
from sandbox.tracking import DROPPED_METRICS_TAG, MAX_PARAM_VALUE_LENGTH, Tracker
from sandbox.tracking.mlflow import MlflowTracker


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One store for the module: creating an MLflow SQLite schema takes seconds.

    Each test uses its own experiment names, so they stay independent.
    """
    folder = tmp_path_factory.mktemp("mlflow")
    return f"sqlite:///{folder}/mlflow.db", folder / "artifacts"


def test_full_run_reads_back_from_the_store(store: tuple[str, Path], tmp_path: Path) -> None:
    uri, artifact_root = store
    started = time.perf_counter()
    tracker = MlflowTracker(uri, artifact_root=artifact_root)
    assert isinstance(tracker, Tracker)
    run_id = tracker.start_run(
        experiment="benefits-prescreen",
        run_name="run-001",
        tags={"sandbox.pilot": "benefits-prescreen", "sandbox.verdict": "pending"},
    )
    first_store_s = time.perf_counter() - started
    print(f"first SQLite store creation + first run: {first_store_s:.2f}s")

    metrics = {f"fairness.group_{i:03d}.selection_rate": i / 300 for i in range(300)}
    metrics["undefined_ratio"] = math.nan
    metrics["exploded"] = math.inf
    params = {f"param_{i:03d}": str(i) for i in range(150)}  # two param batches
    params["long"] = "v" * 10_000
    tags = {f"tag_{i:03d}": f"value {i}" for i in range(120)}  # two tag batches
    tags["sandbox.verdict"] = "pass"
    reports = tmp_path / "reports"
    (reports / "html").mkdir(parents=True)
    (reports / "report.json").write_text('{"schema": 1}')
    (reports / "html" / "report.html").write_text("<html></html>")
    manifest = tmp_path / "pilot.yaml"
    manifest.write_text("name: benefits-prescreen\n")

    tracker.log_params(run_id, params)
    tracker.log_metrics(run_id, metrics)
    tracker.set_tags(run_id, tags)
    tracker.log_artifacts(run_id, reports, "reports")
    tracker.log_file(run_id, manifest)
    tracker.end_run(run_id, "FINISHED")

    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "run-001"
    assert run.info.end_time is not None
    assert len(run.data.metrics) == 300
    assert run.data.metrics["fairness.group_150.selection_rate"] == pytest.approx(0.5)
    assert run.data.tags[DROPPED_METRICS_TAG] == "exploded,undefined_ratio"
    assert len(run.data.params) == 151
    assert run.data.params["param_149"] == "149"
    assert len(run.data.params["long"]) == MAX_PARAM_VALUE_LENGTH
    assert run.data.params["long"].endswith("[truncated]")
    assert run.data.tags["tag_119"] == "value 119"
    assert run.data.tags["sandbox.verdict"] == "pass"  # the later value replaced "pending"
    assert run.data.tags["sandbox.pilot"] == "benefits-prescreen"

    top = {a.path for a in client.list_artifacts(run_id)}
    assert top == {"reports", "pilot.yaml"}
    assert {a.path for a in client.list_artifacts(run_id, "reports")} == {
        "reports/report.json",
        "reports/html",
    }
    assert [a.path for a in client.list_artifacts(run_id, "reports/html")] == [
        "reports/html/report.html"
    ]
    # artifacts live under the chosen root, not in ./mlartifacts of the working folder
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "benefits-prescreen"
    assert experiment.artifact_location == (artifact_root / "benefits-prescreen").as_uri()
    assert (artifact_root / "benefits-prescreen" / run_id / "artifacts" / "pilot.yaml").is_file()
    assert tracker.run_url(run_id).startswith((artifact_root / "benefits-prescreen").as_uri())


def test_failed_run_reads_back_failed_in_the_same_experiment(store: tuple[str, Path]) -> None:
    uri, artifact_root = store
    tracker = MlflowTracker(uri, artifact_root=artifact_root)
    ok = tracker.start_run(experiment="pilot-a", run_name="ok", tags={})
    tracker.end_run(ok, "FINISHED")
    bad = tracker.start_run(experiment="pilot-a", run_name="bad", tags={})
    tracker.end_run(bad, "FAILED")

    # a second tracker (another process, later) finds the same experiment
    again = MlflowTracker(uri, artifact_root=artifact_root)
    killed = again.start_run(experiment="pilot-a", run_name="killed", tags={})
    again.end_run(killed, "KILLED")

    client = MlflowClient(tracking_uri=uri)
    assert client.get_run(bad).info.status == "FAILED"
    assert client.get_run(killed).info.status == "KILLED"
    ids = {client.get_run(r).info.experiment_id for r in (ok, bad, killed)}
    assert len(ids) == 1


def test_ui_url_builds_a_run_page_address(store: tuple[str, Path]) -> None:
    uri, artifact_root = store
    tracker = MlflowTracker(uri, artifact_root=artifact_root, ui_url="http://127.0.0.1:5000/")
    run_id = tracker.start_run(experiment="pilot-b", run_name="r", tags={})
    experiment_id = MlflowClient(tracking_uri=uri).get_run(run_id).info.experiment_id
    assert tracker.run_url(run_id) == (
        f"http://127.0.0.1:5000/#/experiments/{experiment_id}/runs/{run_id}"
    )


def test_mlflow_errors_become_tracking_errors(store: tuple[str, Path], tmp_path: Path) -> None:
    uri, artifact_root = store
    tracker = MlflowTracker(uri, artifact_root=artifact_root)
    run_id = tracker.start_run(experiment="pilot-c", run_name="r", tags={})
    tracker.log_params(run_id, {"seed": "1"})

    with pytest.raises(TrackingError, match="log params"):
        tracker.log_params(run_id, {"seed": "2"})  # MLflow refuses to change a param
    with pytest.raises(TrackingError, match="look up run"):
        tracker.run_url("0" * 32)
    with pytest.raises(TrackingError, match="not a folder"):
        tracker.log_artifacts(run_id, tmp_path / "absent")


def test_deleted_experiment_is_reported_with_the_fix(store: tuple[str, Path]) -> None:
    uri, artifact_root = store
    tracker = MlflowTracker(uri, artifact_root=artifact_root)
    tracker.end_run(tracker.start_run(experiment="gone", run_name="r", tags={}), "FINISHED")
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("gone")
    assert experiment is not None
    client.delete_experiment(experiment.experiment_id)

    with pytest.raises(TrackingError, match="restore"):
        MlflowTracker(uri, artifact_root=artifact_root).start_run(
            experiment="gone", run_name="r", tags={}
        )


def test_usage_telemetry_is_off_unless_the_operator_chose(
    store: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.environment_variables import MLFLOW_DISABLE_TELEMETRY

    uri, artifact_root = store
    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    MlflowTracker(uri, artifact_root=artifact_root)
    assert MLFLOW_DISABLE_TELEMETRY.get() is True

    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "false")  # an operator's explicit choice
    MlflowTracker(uri, artifact_root=artifact_root)
    assert MLFLOW_DISABLE_TELEMETRY.get() is False
