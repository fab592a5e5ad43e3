"""A real `sandbox run` killed with SIGKILL mid-container, then recovery on the next start."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.runs.early_start import READY_NAME
from sandbox.runtime.docker.runtime import RUN_ID_LABEL, DockerRuntime

pytestmark = pytest.mark.docker

SLEEPER = Path(__file__).parents[1] / "security" / "pilots" / "sleep-forever"


def _wait_for_container(runtime: DockerRuntime, runs_dir: Path, deadline_s: float) -> str:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        for run_dir in runs_dir.glob("*"):
            selector = {"label": f"{RUN_ID_LABEL}={run_dir.name}"}
            # started early, a container runs the pilot's code only after the host's go
            went = (run_dir / "input" / READY_NAME).exists()
            if went and runtime.api.containers(filters=selector):
                return run_dir.name
        time.sleep(0.2)
    raise AssertionError("the run never started its container")


def _tracked_status(client: Any, run_id: str, state: dict[str, Any], services: Any) -> str:
    """The run's MLflow status once it has left RUNNING (found by its tag when its id never
    reached the run folder: the tracking sidecar ends such a run itself).

    The dead runner's sidecar ends the run too, at the same moment as recovery; when their
    writes collide, the loser's calls wait in the outbox, which the next command's `settle`
    delivers. Each poll here delivers them the same way."""
    deadline = time.monotonic() + 120
    while True:
        services.tracker.deliver_pending()
        if state.get("tracker_run_id"):
            status = client.get_run(state["tracker_run_id"]).info.status
        else:
            # a sidecar still loading MLflow when its command died creates the run, then ends it
            found = client.search_runs(
                [e.experiment_id for e in client.search_experiments()],
                f"tags.`sandbox.run_id` = '{run_id}'",
            )
            assert len(found) <= 1, found
            status = found[0].info.status if found else "not yet tracked"
        if status not in ("RUNNING", "not yet tracked") or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.5)


def test_a_run_killed_mid_container_is_recovered_as_lost(tmp_path: Path, runner_image: str) -> None:
    from mlflow.tracking import MlflowClient

    from sandbox.audit.trail import records_for_run, verify_trail
    from sandbox.runs.recovery import recover_abandoned_runs
    from sandbox.runs.services import build_services
    from sandbox.runs.state import read_state
    from sandbox.settings import Settings

    pilot = tmp_path / "pilot"
    shutil.copytree(SLEEPER, pilot)
    manifest = yaml.safe_load((pilot / "pilot.yaml").read_text())
    manifest["resources"]["timeout_s"] = 120.0  # far longer than the test waits
    (pilot / "pilot.yaml").write_text(yaml.safe_dump(manifest))
    home = tmp_path / "home"
    env = {**os.environ, "SANDBOX_HOME": str(home), "SANDBOX_IMAGE": runner_image}
    env.pop("MLFLOW_TRACKING_URI", None)
    runner = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "run", str(pilot)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    runtime = DockerRuntime()
    try:
        run_id = _wait_for_container(runtime, home / "runs", deadline_s=90)
        os.killpg(runner.pid, signal.SIGKILL)  # no clean-up of any kind runs
        runner.wait(timeout=30)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    selector = {"label": f"{RUN_ID_LABEL}={run_id}"}
    assert runtime.api.containers(filters=selector)  # the container outlived its runner

    services = build_services(Settings(home=home, image=runner_image))
    recovered = recover_abandoned_runs(services)

    assert [r.run_id for r in recovered] == [run_id]
    records = records_for_run(services.trail.path, run_id)
    terminal = [r for r in records if r.kind in {"run.finished", "run.failed", "run.lost"}]
    assert [r.kind for r in terminal] == ["run.lost"]
    assert terminal[0].payload["last_state"] == "running"
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok
    state = read_state(home / "runs" / run_id)
    assert state["status"] == "lost"
    client = MlflowClient(services.tracking_uri)
    assert _tracked_status(client, run_id, state, services) == "KILLED"
    assert runtime.api.containers(all=True, filters=selector) == []
    assert not runtime.api.volumes(filters=selector).get("Volumes")
    assert recover_abandoned_runs(services) == []  # idempotent
