"""MLflow down: the run completes in seconds, on the trail; the tracking data waits in the
outbox and is delivered once the server is up (a real `mlflow server`, on 127.0.0.1 only).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sandbox.runs.pilot_run import run_pilot
from sandbox.tracking.outbox import LOCAL_ID_PREFIX, QueuedTracker

pytestmark = pytest.mark.docker

BENIGN = Path(__file__).parents[1] / "security" / "pilots" / "benign"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def mlflow_server(port: int, store: Path) -> Iterator[None]:
    """A real MLflow tracking server on 127.0.0.1:port, stopped on exit."""
    store.mkdir(parents=True, exist_ok=True)
    command = [
        *(sys.executable, "-m", "mlflow", "server"),
        *("--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}"),
        *("--default-artifact-root", (store / "artifacts").as_uri()),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
    ]
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, "mlflow server exited"
            time.sleep(0.5)
        else:
            raise AssertionError("mlflow server did not start")
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_a_run_completes_while_mlflow_is_down_and_is_delivered_later(
    tmp_path: Path, runner_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    from sandbox.audit.trail import verify_trail
    from sandbox.runs.recovery import settle
    from sandbox.runs.services import build_services
    from sandbox.settings import Settings

    for name in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)  # the tracker's fail-fast defaults apply
    port = _free_port()
    uri = f"http://127.0.0.1:{port}"
    home = tmp_path / "home"
    settings = Settings(
        home=home, image=runner_image, mlflow_tracking_uri=uri, tracking_sidecar=False
    )
    services = build_services(settings)
    tracker = services.tracker
    assert isinstance(tracker, QueuedTracker)
    pilot = tmp_path / "pilot"
    shutil.copytree(BENIGN, pilot)

    started = time.monotonic()
    outcome = run_pilot(pilot, services)
    elapsed = time.monotonic() - started

    assert elapsed < 60, f"the run waited {elapsed:.0f}s on a tracking server that is down"
    assert outcome.verdict.exit_ok
    # No placeholder is signed or reported as if it were the tracker's id: tracking is pending.
    assert outcome.tracker_run_id is None and outcome.record.tracking_pending
    queued = outcome.record.tracker_key
    assert queued is not None and queued.startswith(LOCAL_ID_PREFIX)
    records = services.trail.records_for_run(outcome.run_id)
    assert records[-1].kind == "run.finished"
    assert records[-1].payload["mlflow_run_id"] is None
    assert records[-1].payload["tracking"] == "pending"
    assert outcome.report.provenance.mlflow_run_id is None
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok
    assert tracker.pending() == [queued]

    with mlflow_server(port, tmp_path / "server"):
        done = settle(services)

        assert tracker.pending() == []
        real_id = tracker.tracker_id(queued)
        assert real_id is not None and any(real_id in line for line in done)
        delivered = services.trail.records_for_run(outcome.run_id)[-1]
        assert delivered.kind == "tracking.delivered"
        assert delivered.payload == {"mlflow_run_id": real_id, "queued_as": queued}
        run = MlflowClient(uri).get_run(real_id)
        assert run.info.status == "FINISHED"
        assert run.data.tags["sandbox.run_id"] == outcome.run_id
        assert run.data.tags["sandbox.verdict"] == outcome.verdict.status
        assert "governance.rules_failed" in run.data.metrics
        assert tracker.pending() == []
