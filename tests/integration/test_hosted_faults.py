"""Faults in a running hosted sandbox, with real processes and the machine's real services.

1. A worker killed with SIGKILL inside its container stage while a second worker runs: the job
   is redelivered to the second, runs again and finishes once; the killed attempt's run is
   closed `run.lost` on the trail.
2. PostgreSQL restarted while a run is in its container: the run and the job end once. A
   duplicate delivery after the restart, which dropped the worker's advisory lock, leaves the
   live run alone: the attempt's lease is current, so the duplicate waits and then skips.
3. The broker stopped: a submission is answered 503 in one line and its job is cancelled, not
   left queued with no message; a job queued before the stop runs once the broker is back.
4. The MLflow server stopped while a run is in its container: the run ends with its verdict,
   its tracking waits in the worker's outbox and is delivered once the server is back.

Each test restores the service it stopped in a `finally`. The restarts touch services that
other tests share, so each is kept to one short stop. The pilots' models sleep (`sleep_s`) so
that the fault lands while the container runs; the tests poll with generous bounds and print
how long each fault took to clear, but assert no time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.hosted.jobs import JobState
from sandbox.settings import Settings
from sandbox.worker import enqueue
from tests.integration.hosted_fixtures import missing, stack  # noqa: F401 (fixture)
from tests.integration.hosted_stack import (
    ROOT,
    HostedStack,
    free_port,
    remove_containers,
    script_url,
    small_pilot,
)

pytestmark = pytest.mark.docker

VERDICTS = {"passed", "passed_with_warnings", "failed", "blocked"}
SLEEP_S = 20  # the model's sleep: the container stage outlasts the fault's set-up


def _queued(hosted: HostedStack, archive: bytes) -> str:
    response = hosted.submit("northtown", archive)
    assert response.status_code == 202, response.text
    return str(response.json()["job"]["id"])


def _verified(hosted: HostedStack) -> None:
    done = hosted.verify()
    assert done.returncode == 0, done.stdout + done.stderr


def _city(hosted: HostedStack) -> None:
    hosted.add_city("northtown", "Northtown")
    hosted.start_api()


def test_a_worker_killed_in_its_container_stage_loses_the_run_and_the_job_ends_once(
    stack: HostedStack,  # noqa: F811
    tmp_path: Path,
) -> None:
    _city(stack)
    stack.start_worker("worker-a")
    stack.start_worker("worker-b")
    job_id = _queued(
        stack,
        small_pilot(tmp_path / "slow", city="Northtown", name="slow", seed=1, sleep_s=SLEEP_S),
    )
    first_run = stack.running_container(job_id)
    victim = str(stack.job(job_id).worker).split("@")[0]
    survivor = ({"worker-a", "worker-b"} - {victim}).pop()
    try:
        killed = time.monotonic()
        stack.kill(victim)
        (ended,) = stack.wait_jobs([job_id])
        print(
            f"\nkilled {victim}; the job finished on {survivor} "
            f"{time.monotonic() - killed:.1f} s later"
        )
    finally:
        remove_containers(first_run)
    assert (ended.state, ended.attempts) == (JobState.FINISHED, 2), ended
    assert ended.worker == f"{survivor}@stack" and ended.verdict in VERDICTS
    assert ended.run_id is not None and ended.run_id != first_run
    assert stack.terminal_kinds(first_run) == ["run.lost"], stack.trail_kinds(first_run)
    (lost,) = stack.records_of_kind("run.lost")
    assert lost.payload["job_id"] == job_id and lost.payload["attempt"] == 1
    assert lost.payload["worker"] == f"{victim}@stack"
    assert len(stack.terminal_kinds(ended.run_id)) == 1, stack.trail_kinds(ended.run_id)
    _verified(stack)


def test_postgresql_restarted_during_a_run_the_run_and_the_job_end_once(
    stack: HostedStack,  # noqa: F811
    tmp_path: Path,
) -> None:
    _city(stack)
    stack.start_worker("worker-a")
    job_id = _queued(
        stack,
        small_pilot(tmp_path / "slow", city="Northtown", name="slow", seed=2, sleep_s=SLEEP_S),
    )
    run_id = stack.running_container(job_id)
    try:
        began = time.monotonic()
        restarted = subprocess.run(
            ["bash", str(ROOT / "scripts" / "postgres.sh"), "restart"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        print(f"\nPostgreSQL restarted in {time.monotonic() - began:.1f} s")
    finally:
        script_url("postgres.sh")  # started again if the restart left it down
    assert restarted.returncode == 0, restarted.stderr
    (ended,) = stack.wait_jobs([job_id])
    print(f"the job ended {time.monotonic() - began:.1f} s after the restart began")
    assert (ended.state, ended.attempts, ended.run_id) == (JobState.FINISHED, 1, run_id), ended
    assert ended.verdict in VERDICTS and ended.error is None, ended
    assert len(stack.terminal_kinds(run_id)) == 1, stack.trail_kinds(run_id)
    assert stack.records_of_kind("run.lost") == []
    _verified(stack)


def test_a_duplicate_delivery_after_a_postgresql_restart_leaves_the_live_run_alone(
    stack: HostedStack,  # noqa: F811
    tmp_path: Path,
) -> None:
    _city(stack)
    stack.start_worker("worker-a")
    job_id = _queued(
        stack, small_pilot(tmp_path / "slow", city="Northtown", name="slow", seed=5, sleep_s=30)
    )
    run_id = stack.running_container(job_id)
    try:
        try:
            subprocess.run(
                ["bash", str(ROOT / "scripts" / "postgres.sh"), "restart"],
                capture_output=True,
                timeout=300,
                check=True,
            )
        finally:
            script_url("postgres.sh")
        stack.start_worker("worker-b")
        enqueue(stack.job(job_id), Settings(broker_url=stack.broker_url))  # a duplicate
        (ended,) = stack.wait_jobs([job_id])
    finally:
        remove_containers(run_id)
    assert stack.terminal_kinds(run_id) == ["run.finished"], stack.trail_kinds(run_id)
    assert (ended.attempts, ended.run_id) == (1, run_id), ended


def test_a_stopped_broker_refuses_submissions_cleanly_and_nothing_accepted_is_lost(
    stack: HostedStack,  # noqa: F811
    tmp_path: Path,
) -> None:
    _city(stack)
    pilots = [
        small_pilot(tmp_path / f"p{i}", city="Northtown", name=f"p{i}", seed=10 + i)
        for i in range(3)
    ]
    before = _queued(stack, pilots[0])  # no worker yet: it waits on the broker's disk
    try:
        began = time.monotonic()
        stopped = subprocess.run(
            ["bash", str(ROOT / "scripts" / "broker.sh"), "stop"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert stopped.returncode == 0, stopped.stderr
        asked = time.monotonic()
        refused = stack.submit("northtown", pilots[1])
        print(f"\nthe refused submission was answered in {time.monotonic() - asked:.1f} s")
    finally:
        script_url("broker.sh")
        print(f"the broker was down for {time.monotonic() - began:.1f} s")
    assert refused.status_code == 503, refused.text
    message = refused.json()["error"]["message"]
    assert "\n" not in message and "could not be queued" in message
    assert "***" in message or "amqp" not in message  # never the broker's password
    match = re.search(r"job_[a-z0-9]{26}", message)
    assert match is not None, message
    with stack.client("northtown") as http:
        shown = http.get(f"/api/v1/jobs/{match.group()}").json()
    assert (shown["state"], shown["attempts"]) == ("cancelled", 0)  # visible, never queued

    after = _queued(stack, pilots[2])  # the API reconnects by itself
    stack.start_worker("worker-a")
    ended = stack.wait_jobs([before, after])
    assert {(j.state, j.attempts) for j in ended} == {(JobState.FINISHED, 1)}, ended
    assert all(j.verdict in VERDICTS and j.run_id for j in ended), ended
    for job in ended:
        assert len(stack.terminal_kinds(str(job.run_id))) == 1
    cancelled = stack.job(match.group())
    assert (cancelled.state, cancelled.run_id) == (JobState.CANCELLED, None)
    _verified(stack)


def _server_user() -> str:
    """The MLflow script's own user, unless this checkout's interpreter is private to root."""
    python = ROOT / ".venv" / "bin" / "python"
    probe = subprocess.run(
        ["runuser", "-u", "nobody", "--", "test", "-x", str(python)], check=False
    )
    return "sandbox-mlflow" if probe.returncode == 0 else "root"


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """An MLflow server of `scripts/mlflow.sh` on a free port; its URL and the script's env."""
    if os.geteuid() != 0 or not (ROOT / "scripts" / "mlflow.sh").exists():
        missing("scripts/mlflow.sh (run as root) starts the MLflow server")
    data = Path(tempfile.mkdtemp(prefix="sandbox-mlflow-fault-"))  # the server's user reaches it
    port = free_port()
    env = {
        **os.environ,
        "SANDBOX_MLFLOW_PORT": str(port),
        "SANDBOX_MLFLOW_DIR": str(data),
        "SANDBOX_MLFLOW_PID": str(tmp_path / "mlflow.pid"),
        "SANDBOX_MLFLOW_LOG": str(tmp_path / "mlflow.log"),
        "SANDBOX_MLFLOW_USER": _server_user(),
        "SANDBOX_MLFLOW_WORKERS": "1",
    }
    try:
        yield _mlflow(env, "start"), env
    finally:
        _mlflow(env, "stop")
        shutil.rmtree(data, ignore_errors=True)


def _mlflow(env: dict[str, str], command: str) -> str:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "mlflow.sh"), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"mlflow.sh {command}: {done.stderr[-2000:]}"
    return done.stdout.strip()


def _tracked(uri: str, run_id: str) -> list[str]:
    """The statuses of the MLflow runs tagged with the sandbox run id."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    ids = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(ids, filter_string=f"tags.`sandbox.run_id` = '{run_id}'")
    return [run.info.status for run in runs]


def _tracked_once_settled(uri: str, run_id: str, within_s: float = 60.0) -> list[str]:
    """`_tracked`, once no run of `run_id` is RUNNING any more (or the time is up)."""
    deadline = time.monotonic() + within_s
    while "RUNNING" in (statuses := _tracked(uri, run_id)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return statuses


def test_mlflow_stopped_during_a_run_the_verdict_stands_and_tracking_arrives_later(
    stack: HostedStack,  # noqa: F811
    mlflow_server: tuple[str, dict[str, str]],
    tmp_path: Path,
) -> None:
    uri, env = mlflow_server
    stack.mlflow_uri = uri
    _city(stack)
    stack.start_worker("worker-a")
    outbox = stack.folder / "worker-a-home" / "mlflow-outbox"
    slow = _queued(
        stack,
        small_pilot(tmp_path / "slow", city="Northtown", name="slow", seed=3, sleep_s=SLEEP_S),
    )
    run_id = stack.running_container(slow)
    try:
        began = time.monotonic()
        _mlflow(env, "stop")
        (ended,) = stack.wait_jobs([slow])
        assert ended.state is JobState.FINISHED and ended.error is None, ended
        assert ended.verdict in VERDICTS, ended
        assert list(outbox.glob("*.jsonl")), "the run's tracking calls wait in the outbox"
    finally:
        _mlflow(env, "start")
        print(f"\nMLflow was down for {time.monotonic() - began:.1f} s")
    # The next job's worker delivers what waited, then tracks its own run.
    after = _queued(stack, small_pilot(tmp_path / "next", city="Northtown", name="next", seed=4))
    (next_job,) = stack.wait_jobs([after])
    assert next_job.state is JobState.FINISHED and next_job.run_id is not None
    # The worker settles after it has ended the job: the delivery may still be under way.
    assert _tracked_once_settled(uri, run_id) == ["FINISHED"]
    assert _tracked_once_settled(uri, next_job.run_id) == ["FINISHED"]
    deadline = time.monotonic() + 30
    while list(outbox.glob("*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.2)  # the outbox file goes once its last call is delivered
    assert not list(outbox.glob("*.jsonl"))
    assert len(stack.terminal_kinds(run_id)) == 1
    _verified(stack)
