"""The shared tracking sidecar with a real MLflow store, real processes and real failures.

Each test gets a runtime folder of its own (`XDG_RUNTIME_DIR`), so its server is its own, and
a short idle time, so the server is gone soon after the test.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.tracking import sidecar_socket
from sandbox.tracking.sidecar import SidecarTracker
from sandbox.tracking.sidecar_server import KEPT_STORES
from sandbox.tracking.target import TrackingTarget
from tests.integration.test_tracking_sidecar import assert_ended_as_lost

ROOT = Path(__file__).resolve().parents[2]
IDLE_S = 20.0


@pytest.fixture(autouse=True)
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    short = Path(tempfile.mkdtemp(prefix="sbx-"))  # a socket's path is at most 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short))
    yield short
    path = sidecar_socket.socket_path()
    pid = _server_pid(path) if path is not None else None
    if pid is not None:
        os.kill(pid, signal.SIGKILL)


def _target(home: Path) -> TrackingTarget:
    return TrackingTarget(
        tracking_uri=f"sqlite:///{home / 'mlflow.db'}",
        artifact_root=home / "artifacts",
        outbox_dir=home / "outbox",
    )


def _client(target: TrackingTarget):  # type: ignore[no-untyped-def]
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=target.tracking_uri)


def _server_pid(path: Path) -> int | None:
    """The pid of the server listening on `path` (its peer credentials), None if none."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return None
        creds = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[0])


def _ends(pid: int, within_s: float = 20.0) -> bool:
    """Whether a process exits within `within_s` (it may still be tearing down: an old server
    lets go of its path before it joins its sessions and unloads MLflow). A zombie its new
    parent has not reaped yet has exited."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def _command(target: TrackingTarget, body: str) -> list[str]:
    """`python -c` a command that tracks into `target` through the shared sidecar."""
    head = f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from sandbox.tracking.sidecar import SidecarTracker
        from sandbox.tracking.target import TrackingTarget
        target = TrackingTarget.from_dict({json.dumps(target.to_dict())})
        tracker = SidecarTracker(target, shared_idle_s={IDLE_S})
        """
    return [sys.executable, "-c", textwrap.dedent(head) + textwrap.dedent(body)]


def _logged_run(tracker: SidecarTracker, name: str) -> str:
    key = tracker.start_run(experiment="pilot", run_name=name, tags={"sandbox.run_id": name})
    tracker.log_params(key, {"rows": "10"})
    tracker.log_metrics(key, {"accuracy": 0.5})
    tracker.end_run(key, "FINISHED")
    run_id = tracker.resolve(key)
    tracker.close()
    return run_id


def test_commands_one_after_another_share_one_warm_sidecar(tmp_path: Path) -> None:
    target = _target(tmp_path)
    assert SidecarTracker.warm(target) is None  # none listens yet, and none is started
    first = _logged_run(SidecarTracker(target, shared_idle_s=IDLE_S), "first")
    path = sidecar_socket.socket_path()
    assert path is not None and path.stat().st_mode & 0o777 == 0o600
    server = _server_pid(path)
    warm = SidecarTracker.warm(target)
    assert warm is not None and warm._proc is None  # over the socket, not a process of its own
    second = _logged_run(warm, "second")
    assert _server_pid(path) == server
    for run_id, name in ((first, "first"), (second, "second")):
        run = _client(target).get_run(run_id)
        assert (run.info.status, run.info.run_name) == ("FINISHED", name)
        assert (run.data.params, run.data.metrics) == ({"rows": "10"}, {"accuracy": 0.5})


def test_another_home_is_served_by_the_same_sidecar_into_its_own_store(tmp_path: Path) -> None:
    one, other = _target(tmp_path / "one"), _target(tmp_path / "other")
    first = _logged_run(SidecarTracker(one, shared_idle_s=IDLE_S), "one")
    second = _logged_run(SidecarTracker(other, shared_idle_s=IDLE_S), "other")
    assert _client(one).get_run(first).info.run_name == "one"
    assert _client(other).get_run(second).info.run_name == "other"
    assert not _client(one).search_runs([_client(one).get_run(first).info.experiment_id])[1:]


def test_commands_at_once_each_have_their_whole_run(tmp_path: Path) -> None:
    target = _target(tmp_path)
    body = """
        key = tracker.start_run(experiment="pilot", run_name=sys.argv[1], tags={})
        for step in range(20):
            tracker.log_metrics(key, {f"m{step}": step})
        tracker.end_run(key, "FINISHED")
        print(tracker.resolve(key), tracker._proc is None)
        """
    procs = [
        subprocess.Popen([*_command(target, body), f"r{i}"], stdout=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    outputs = [proc.communicate(timeout=180)[0].split() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0, 0]
    for run_id, _shared in outputs:
        run = _client(target).get_run(run_id)
        assert run.info.status == "FINISHED" and len(run.data.metrics) == 20
    assert any(shared == "True" for _, shared in outputs)  # one server, started once


def test_a_command_that_dies_has_its_run_ended_and_the_sidecar_serves_on(tmp_path: Path) -> None:
    target = _target(tmp_path)
    body = """
        key = tracker.start_run(experiment="pilot", run_name="dies", tags={})
        print(tracker.resolve(key), flush=True)
        os._exit(3)  # no end_run, no clean-up
        """
    done = subprocess.run(_command(target, body), capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert_ended_as_lost(target, done.stdout.strip())
    warm = SidecarTracker.warm(target)
    assert warm is not None
    assert _client(target).get_run(_logged_run(warm, "after")).info.status == "FINISHED"


def test_a_killed_sidecar_is_replaced_and_nothing_it_held_is_lost(tmp_path: Path) -> None:
    target = _target(tmp_path)
    _logged_run(SidecarTracker(target, shared_idle_s=IDLE_S), "warm-up")
    path = sidecar_socket.socket_path()
    assert path is not None
    tracker = SidecarTracker(target, shared_idle_s=IDLE_S)
    key = tracker.start_run(experiment="pilot", run_name="orphan", tags={})
    server = _server_pid(path)
    assert server is not None
    os.kill(server, signal.SIGKILL)
    tracker.log_metrics(key, {"accuracy": 0.75})  # the server is gone: replayed here
    tracker.end_run(key, "FINISHED")
    run = _client(target).get_run(tracker.resolve(key))
    assert (run.info.status, run.data.metrics) == ("FINISHED", {"accuracy": 0.75})
    assert path.exists()  # a stale socket: the next command's server takes its place
    replaced = _logged_run(SidecarTracker(target, shared_idle_s=IDLE_S), "replaced")
    assert _client(target).get_run(replaced).info.status == "FINISHED"
    deadline = time.monotonic() + 30
    while _server_pid(sidecar_socket.socket_path() or path) in (None, server):  # a new one
        assert time.monotonic() < deadline, "no new shared sidecar took the stale one's place"
        time.sleep(0.2)


def test_an_idle_sidecar_exits_and_takes_its_socket_along(tmp_path: Path) -> None:
    target = _target(tmp_path)
    _logged_run(SidecarTracker(target, shared_idle_s=1.0), "brief")
    path = sidecar_socket.socket_path()
    assert path is not None
    deadline = time.monotonic() + 30
    while path.exists():
        assert time.monotonic() < deadline, "the idle sidecar did not exit"
        time.sleep(0.2)
    assert SidecarTracker.warm(target) is None


def test_a_removed_socket_ends_its_sidecar_and_the_next_command_starts_one(
    tmp_path: Path,
) -> None:
    target = _target(tmp_path)
    _logged_run(SidecarTracker(target, shared_idle_s=IDLE_S), "first")
    path = sidecar_socket.socket_path()
    assert path is not None
    old = _server_pid(path)
    path.unlink()  # a temporary folder cleaned while the sidecar is warm
    started = time.monotonic()
    tracker = SidecarTracker(target, shared_idle_s=IDLE_S)
    assert tracker._proc is None  # a new shared sidecar, not one of the command's own
    assert time.monotonic() - started < 10
    _logged_run(tracker, "second")
    assert _server_pid(path) not in (None, old)
    assert old is not None and _ends(old)


def test_a_store_removed_and_made_again_gets_the_next_runs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    target = _target(home)
    _logged_run(SidecarTracker(target, shared_idle_s=IDLE_S), "before")
    (home / "mlflow.db").unlink()  # a user starts afresh while the sidecar is warm
    after = _logged_run(SidecarTracker(target, shared_idle_s=IDLE_S), "after")
    assert _client(target).get_run(after).info.run_name == "after"


def test_many_homes_keep_a_bounded_number_of_stores_open(tmp_path: Path) -> None:
    homes = [_target(tmp_path / f"home{i}") for i in range(KEPT_STORES + 6)]
    path = sidecar_socket.socket_path()
    assert path is not None

    def open_files() -> int:
        pid = _server_pid(path)
        assert pid is not None
        return len(os.listdir(f"/proc/{pid}/fd"))

    for i, target in enumerate(homes):
        _logged_run(SidecarTracker(target, shared_idle_s=IDLE_S), f"run{i}")
        if i == KEPT_STORES - 1:
            kept = open_files()
    assert open_files() <= kept + 2  # older stores' connections were closed
    again = _logged_run(SidecarTracker(homes[0], shared_idle_s=IDLE_S), "again")
    assert _client(homes[0]).get_run(again).info.status == "FINISHED"
