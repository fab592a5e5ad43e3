"""The tracking sidecar with a real MLflow store, real processes and real failures."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sandbox.errors import TrackingRefused
from sandbox.tracking.outbox import LOCAL_ID_PREFIX
from sandbox.tracking.sidecar import SidecarTracker
from sandbox.tracking.target import TrackingTarget

ROOT = Path(__file__).resolve().parents[2]


def _target(home: Path, uri: str | None = None) -> TrackingTarget:
    return TrackingTarget(
        tracking_uri=uri or f"sqlite:///{home / 'mlflow.db'}",
        artifact_root=home / "artifacts",
        outbox_dir=home / "outbox",
    )


def _client(target: TrackingTarget):  # type: ignore[no-untyped-def]
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=target.tracking_uri)


def test_a_run_logged_through_the_sidecar_is_whole_when_it_ends(tmp_path: Path) -> None:
    target = _target(tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "report.html").write_text("<p>report</p>")
    tracker = SidecarTracker(target)
    key = tracker.start_run(experiment="pilot", run_name="r1", tags={"sandbox.run_id": "r1"})
    assert key.startswith("starting:")  # answered before MLflow is even loaded
    tracker.log_params(key, {"rows": "1000"})
    tracker.log_metrics(key, {"accuracy": 0.9, "ratio": float("nan")})
    tracker.set_tags(key, {"sandbox.state": "finished"})
    tracker.log_artifacts(key, reports, "reports")
    run_id = tracker.resolve(key)
    tracker.end_run(key, "FINISHED")
    assert tracker.run_url(key).endswith("artifacts")
    tracker.close()

    run = _client(target).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"rows": "1000"}
    assert run.data.metrics == {"accuracy": 0.9}
    assert run.data.tags["sandbox.dropped_metrics"] == "ratio"
    assert run.data.tags["sandbox.state"] == "finished"
    names = [f.path for f in _client(target).list_artifacts(run_id, "reports")]
    assert names == ["reports/report.html"]


def test_a_refused_call_is_raised_when_the_run_ends(tmp_path: Path) -> None:
    target = _target(tmp_path)
    tracker = SidecarTracker(target)
    key = tracker.start_run(experiment="pilot", run_name="r2", tags={})
    tracker.log_file(key, tmp_path / "missing.json", "audit")
    with pytest.raises(TrackingRefused, match="not a file"):
        tracker.end_run(key, "FINISHED")
    run_id = tracker.resolve(key)
    tracker.close()
    assert _client(target).get_run(run_id).info.status == "FINISHED"


def test_calls_a_killed_sidecar_never_answered_are_replayed_here(tmp_path: Path) -> None:
    target = _target(tmp_path)
    tracker = SidecarTracker(target)
    proc = tracker._proc
    assert proc is not None
    proc.send_signal(signal.SIGKILL)  # before it has loaded MLflow: nothing was done
    proc.wait()
    key = tracker.start_run(experiment="pilot", run_name="r3", tags={})
    tracker.log_metrics(key, {"accuracy": 0.75})
    tracker.end_run(key, "FINISHED")
    run_id = tracker.resolve(key)
    assert not run_id.startswith("starting:")
    run = _client(target).get_run(run_id)
    assert (run.info.status, run.data.metrics) == ("FINISHED", {"accuracy": 0.75})


def test_a_command_that_dies_leaves_no_run_running(tmp_path: Path) -> None:
    target = _target(tmp_path)
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from sandbox.tracking.sidecar import SidecarTracker
        from sandbox.tracking.target import TrackingTarget
        tracker = SidecarTracker(TrackingTarget.from_dict({json.dumps(target.to_dict())}))
        key = tracker.start_run(experiment="pilot", run_name="dies", tags={{}})
        print(tracker.resolve(key), flush=True)
        os._exit(3)  # no end_run, no clean-up
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 3, done.stderr
    assert_ended_as_lost(target, done.stdout.strip())


def assert_ended_as_lost(target: TrackingTarget, run_id: str) -> None:
    """The run is ended KILLED and tagged lost within a minute (the command died first)."""
    deadline = time.monotonic() + 60
    while (status := _client(target).get_run(run_id).info.status) == "RUNNING":
        assert time.monotonic() < deadline, "the sidecar did not end the abandoned run"
        time.sleep(0.5)
    run = _client(target).get_run(run_id)
    assert status == "KILLED"
    assert run.data.tags["sandbox.state"] == "lost"


def test_with_mlflow_down_the_run_waits_in_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nothing listens on, on this machine only
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    target = _target(tmp_path, uri=f"http://127.0.0.1:{port}")
    tracker = SidecarTracker(target)
    key = tracker.start_run(experiment="pilot", run_name="r4", tags={"sandbox.run_id": "r4"})
    tracker.log_metrics(key, {"accuracy": 0.5})
    tracker.end_run(key, "FINISHED")
    assert tracker.resolve(key).startswith(LOCAL_ID_PREFIX)
    assert tracker.pending()  # delivered by the next command's `settle`
    tracker.close()


def test_an_audit_from_the_command_line_signs_the_sidecars_run_id(tmp_path: Path) -> None:
    data = tmp_path / "p.csv"
    rows = ["sex,y,p"] + [f"{'FM'[i % 2]},{i % 3 == 0:d},{i % 4 == 0:d}" for i in range(400)]
    data.write_text("\n".join(rows) + "\n")
    env = {**os.environ, "SANDBOX_HOME": str(tmp_path / "home"), "SANDBOX_TRACKING_SIDECAR": "1"}
    command = [sys.executable, "-m", "sandbox", "audit", "evaluate", "--data", str(data)]
    command += ["--label", "y", "--prediction", "p", "--sensitive", "sex"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode in (0, 1, 3), done.stdout + done.stderr  # passed, warned, blocked
    trail = tmp_path / "home" / "audit" / "trail.jsonl"
    finished = [json.loads(line) for line in trail.read_text().splitlines()][-1]
    assert finished["kind"] == "audit.finished"
    run_id = finished["payload"]["mlflow_run_id"]
    assert f"MLflow run   {run_id}" in done.stdout
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'home' / 'mlflow' / 'mlflow.db'}"
    run = MlflowClient(tracking_uri=uri).get_run(run_id)
    assert run.info.status == ("FAILED" if done.returncode == 3 else "FINISHED")  # 3: blocked
    assert run.data.tags["sandbox.run_id"] == finished["run_id"]
    artifacts = {f.path for f in MlflowClient(tracking_uri=uri).list_artifacts(run_id)}
    assert {"audit", "reports"} <= artifacts


def test_commands_opening_a_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    target = _target(tmp_path)
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from sandbox.tracking.target import TrackingTarget
        tracker = TrackingTarget.from_dict({json.dumps(target.to_dict())}).open()
        run_id = tracker.start_run(experiment="pilot", run_name=sys.argv[1], tags={{}})
        tracker.end_run(run_id, "FINISHED")
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, f"r{i}"], stderr=subprocess.PIPE)
        for i in range(3)
    ]
    errors = [proc.communicate(timeout=180)[1].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], errors
    runs = _client(target).search_runs(
        [e.experiment_id for e in _client(target).search_experiments()]
    )
    assert sorted(run.info.run_name for run in runs) == ["r0", "r1", "r2"]
