"""The MLflow tracking server of a hosted sandbox, as `scripts/mlflow.sh` starts it: its runs in
PostgreSQL, its artifacts uploaded through it (`mlflow-artifacts:/`), listening on 127.0.0.1.

A real container run logs everything through the server, exactly what the embedded store
(SQLite under the home, still the default) holds for the same pilot; a run made while the
server is stopped ends with its verdict on the trail, waits in the outbox, and is delivered
once when the server is back.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.runs.closing import RunOutcome
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.recorder import AUDIT_RECORD
from sandbox.runs.services import RunServices, build_services
from sandbox.settings import Settings

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "mlflow.sh"
PILOT = Path(__file__).parents[1] / "security" / "pilots" / "benign"  # 80 rows, one container


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_user() -> str:
    """The script's own system user, unless this checkout's interpreter is private to root."""
    python = ROOT / ".venv" / "bin" / "python"
    probe = subprocess.run(
        ["runuser", "-u", "nobody", "--", "test", "-x", str(python)], check=False
    )
    return "sandbox-mlflow" if probe.returncode == 0 else "root"


@dataclass(frozen=True)
class Server:
    """One server started by scripts/mlflow.sh on a free port, with its own artifact folder."""

    url: str
    env: dict[str, str]
    artifacts: Path
    log: Path

    def script(self, *args: str) -> str:
        done = subprocess.run(
            ["bash", str(SCRIPT), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"mlflow.sh {args}: {done.stderr[-2000:]}"
        return done.stdout.strip()

    def start(self) -> None:
        assert self.script() == self.url

    def stop(self) -> None:
        self.script("stop")


@pytest.fixture(scope="module")
def server(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """scripts/mlflow.sh's server (PostgreSQL database `mlflow`), stopped at the end."""
    if os.geteuid() != 0:
        why = "scripts/mlflow.sh creates a database role and a system user: run as root"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but {why}")
        pytest.skip(why)
    # Under /tmp, not pytest's private folder: the server's own user must reach it.
    data = Path(tempfile.mkdtemp(prefix="sandbox-mlflow-test-"))
    state = tmp_path_factory.mktemp("mlflow-state")
    port = _free_port()
    env = {
        **os.environ,
        "SANDBOX_MLFLOW_PORT": str(port),
        "SANDBOX_MLFLOW_DIR": str(data),
        "SANDBOX_MLFLOW_PID": str(state / "server.pid"),
        "SANDBOX_MLFLOW_LOG": str(state / "server.log"),
        "SANDBOX_MLFLOW_USER": _server_user(),
        "SANDBOX_MLFLOW_WORKERS": "1",
    }
    found = Server(f"http://127.0.0.1:{port}", env, data / "artifacts", state / "server.log")
    found.start()
    assert found.script() == found.url  # idempotent: a second call only prints the URL
    try:
        yield found
    finally:
        found.stop()
        shutil.rmtree(data, ignore_errors=True)


def _services(home: Path, image: str, uri: str | None) -> RunServices:
    settings = Settings(home=home, image=image, mlflow_tracking_uri=uri, tracking_sidecar=False)
    return build_services(settings)


def _artifacts(uri: str, run_id: str, into: Path) -> dict[str, str]:
    """Every artifact of the run, downloaded through the tracking URI: path -> sha256."""
    from mlflow.tracking import MlflowClient

    local = Path(MlflowClient(uri).download_artifacts(run_id, "", str(into)))
    return {
        p.relative_to(local).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(local.rglob("*"))
        if p.is_file()
    }


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Tracked:
    """One sandbox run and what its MLflow run holds."""

    outcome: RunOutcome
    uri: str
    run: Any  # mlflow.entities.Run
    artifacts: dict[str, str]


def _tracked(outcome: RunOutcome, uri: str, run_id: str, into: Path) -> Tracked:
    from mlflow.tracking import MlflowClient

    run = MlflowClient(uri).get_run(run_id)
    return Tracked(outcome, uri, run, _artifacts(uri, run_id, into))


@pytest.fixture(scope="module")
def live(server: Server, runner_image: str, tmp_path_factory: pytest.TempPathFactory) -> Tracked:
    """The benign pilot run once with MLFLOW_TRACKING_URI at the server."""
    work = tmp_path_factory.mktemp("live")
    pilot = work / "pilot"
    shutil.copytree(PILOT, pilot)
    services = _services(work / "home", runner_image, server.url)
    outcome = run_pilot(pilot, services)
    assert outcome.tracker_run_id is not None, outcome.notes
    return _tracked(outcome, server.url, outcome.tracker_run_id, work / "download")


@pytest.fixture(scope="module")
def embedded(runner_image: str, tmp_path_factory: pytest.TempPathFactory) -> Tracked:
    """The same pilot run with no tracking URI: the embedded SQLite store under the home."""
    work = tmp_path_factory.mktemp("embedded")
    pilot = work / "pilot"
    shutil.copytree(PILOT, pilot)
    home = work / "home"
    services = _services(home, runner_image, None)
    assert services.tracking_uri == f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"
    outcome = run_pilot(pilot, services)
    assert outcome.tracker_run_id is not None, outcome.notes
    return _tracked(outcome, services.tracking_uri, outcome.tracker_run_id, work / "download")


def _same_tracking(one: Tracked, other: Tracked) -> None:
    """The same names, the same metric values and the same artifact paths for one pilot."""
    a, b = one.run.data, other.run.data
    assert a.params == b.params
    assert set(a.tags) == set(b.tags)
    assert a.metrics.keys() == b.metrics.keys()
    for name, value in a.metrics.items():
        if name != "runtime.duration_s":  # the container's wall-clock time
            assert b.metrics[name] == value, name
    assert set(one.artifacts) == set(other.artifacts)


def test_a_run_logs_everything_through_the_server(live: Tracked, server: Server) -> None:
    run, outcome = live.run, live.outcome
    assert run.info.status == "FINISHED"
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    assert run.data.tags["sandbox.run_id"] == outcome.run_id
    assert run.data.tags["sandbox.verdict"] == outcome.verdict.status
    assert run.data.params and "governance.rules_failed" in run.data.metrics
    # Every report (the PDF and the model card among them) and the audit record, byte for byte.
    reports = outcome.run_dir / "reports"
    expected = {f"reports/{p.relative_to(reports).as_posix()}": _sha(p) for p in reports.rglob("*")}
    expected = {k: v for k, v in expected.items() if (reports / k[len("reports/") :]).is_file()}
    assert any(k.endswith(".pdf") for k in expected)
    assert any("model_card" in k or "model-card" in k for k in expected)
    assert {k: live.artifacts[k] for k in expected} == expected
    assert live.artifacts[f"audit/{AUDIT_RECORD}"] == _sha(outcome.run_dir / AUDIT_RECORD)
    assert "pilot/pilot.yaml" in live.artifacts
    # The bytes sit in the server's folder, not on the client: no local store was made.
    stored = {p.name for p in server.artifacts.rglob("*") if p.is_file()}
    assert {Path(k).name for k in live.artifacts} <= stored
    home = outcome.run_dir.parents[1]
    assert not (home / "mlflow").exists()


def test_ending_a_run_on_the_server_prints_nothing(
    server: Server, capfd: pytest.CaptureFixture[str]
) -> None:
    """MLflow prints a "View run" link for a server's runs; the CLI's stdout may be JSON."""
    from sandbox.tracking.mlflow import MlflowTracker

    tracker = MlflowTracker(server.url)
    key = tracker.start_run(experiment="quiet-end", run_name="quiet", tags={})
    tracker.end_run(key, "FINISHED")
    assert capfd.readouterr().out == ""
    assert tracker.run_url(key).startswith(f"{server.url}/#/experiments/")


def test_the_server_holds_what_the_embedded_store_holds(live: Tracked, embedded: Tracked) -> None:
    assert embedded.uri.startswith("sqlite:///")  # the default is unchanged
    assert embedded.run.info.artifact_uri.startswith("file://")
    assert embedded.outcome.verdict.status == live.outcome.verdict.status
    _same_tracking(live, embedded)


def test_a_run_while_the_server_is_down_is_delivered_once_it_is_back(
    live: Tracked, server: Server, runner_image: str, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    from sandbox.runs.recovery import settle
    from sandbox.tracking.outbox import LOCAL_ID_PREFIX, QueuedTracker

    pilot = tmp_path / "pilot"
    shutil.copytree(PILOT, pilot)
    services = _services(tmp_path / "home", runner_image, server.url)
    tracker = services.tracker
    assert isinstance(tracker, QueuedTracker)

    server.stop()
    try:
        outcome = run_pilot(pilot, services)
    finally:
        server.start()

    # The run ended with its verdict and its trail records; its tracking waits in the outbox.
    assert outcome.verdict.status == live.outcome.verdict.status
    queued = outcome.record.tracker_key
    assert queued is not None and queued.startswith(LOCAL_ID_PREFIX)
    ended = services.trail.records_for_run(outcome.run_id)[-1]
    assert ended.kind == "run.finished"
    assert ended.payload["tracking"] == "pending" and ended.payload["mlflow_run_id"] is None
    assert tracker.pending() == [queued]

    done = settle(services)

    real_id = tracker.tracker_id(queued)
    assert real_id is not None and any(real_id in line for line in done)
    assert tracker.pending() == []
    assert settle(services) == []  # nothing left to deliver: nothing is sent twice
    kinds = [r.kind for r in services.trail.records_for_run(outcome.run_id)]
    assert kinds.count("tracking.delivered") == 1 and kinds[-1] == "tracking.delivered"

    client = MlflowClient(server.url)
    found = client.search_runs(
        [live.run.info.experiment_id], f"tags.`sandbox.run_id` = '{outcome.run_id}'"
    )
    assert [r.info.run_id for r in found] == [real_id]  # one MLflow run, not two
    delivered = _tracked(outcome, server.url, real_id, tmp_path / "download")
    assert delivered.run.info.status == "FINISHED"
    assert delivered.run.data.tags["sandbox.verdict"] == outcome.verdict.status
    _same_tracking(delivered, live)
    for name in delivered.run.data.metrics:  # each metric logged once, not once per attempt
        assert len(client.get_metric_history(real_id, name)) == 1, name
    reports = outcome.run_dir / "reports"
    for path in (p for p in reports.rglob("*") if p.is_file()):
        assert delivered.artifacts[f"reports/{path.relative_to(reports).as_posix()}"] == _sha(path)
    assert delivered.artifacts[f"audit/{AUDIT_RECORD}"] == _sha(outcome.run_dir / AUDIT_RECORD)


def _replay_tracking(tracker: Any, live: Tracked, experiment: str) -> float:
    """The tracking calls of one run (as `sandbox.runs.closing` makes them), timed."""
    data = live.run.data
    tags = {k: v for k, v in data.tags.items() if not k.startswith("mlflow.")}  # MLflow's own
    run_dir = live.outcome.run_dir
    started = time.perf_counter()
    key = tracker.start_run(experiment=experiment, run_name="bench", tags=tags)
    tracker.log_params(key, data.params)
    tracker.log_metrics(key, data.metrics)
    tracker.set_tags(key, tags)
    tracker.log_artifacts(key, run_dir / "reports", "reports")
    tracker.log_file(key, run_dir / AUDIT_RECORD, "audit")
    tracker.end_run(key, "FINISHED")
    return time.perf_counter() - started


def test_tracking_cost_through_the_server_against_the_embedded_store(
    live: Tracked, server: Server, tmp_path: Path
) -> None:
    """Figures only, printed (no timed assertion): warm trackers, repetitions interleaved."""
    from sandbox.tracking.mlflow import MlflowTracker

    store = tmp_path / "mlflow"
    trackers = {
        "server": MlflowTracker(server.url),
        "embedded": MlflowTracker(f"sqlite:///{store / 'mlflow.db'}", artifact_root=store),
    }
    times: dict[str, list[float]] = {name: [] for name in trackers}
    for repetition in range(11):
        for name, tracker in trackers.items():
            elapsed = _replay_tracking(tracker, live, f"bench-{name}-{os.getpid()}")
            if repetition:  # the first creates the experiment (and the SQLite schema): warm-up
                times[name].append(elapsed)
    server_s, embedded_s = (statistics.median(times[n]) for n in ("server", "embedded"))
    files = sum(1 for p in (live.outcome.run_dir / "reports").rglob("*") if p.is_file())
    print(
        f"\na run's tracking ({len(live.run.data.params)} params, {len(live.run.data.metrics)} "
        f"metrics, {files + 1} files), median of 10: server {server_s:.3f}s, embedded "
        f"{embedded_s:.3f}s, ratio {server_s / embedded_s:.2f}x"
    )
