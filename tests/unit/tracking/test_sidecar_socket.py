"""Where the shared tracking sidecar listens: a private folder, a name per environment."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.tracking import sidecar_socket
from sandbox.tracking.target import TrackingTarget


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    short = Path(tempfile.mkdtemp(prefix="sbx-"))  # a socket's path is at most 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short))
    yield short / f"ai-commons-sandbox-{os.getuid()}"
    shutil.rmtree(short)


def test_the_socket_lives_in_a_folder_only_its_user_enters(runtime_dir: Path) -> None:
    path = sidecar_socket.socket_path()
    assert path is not None and path.parent == runtime_dir
    assert runtime_dir.stat().st_mode & 0o777 == 0o700


def test_a_folder_others_can_enter_or_a_link_means_no_shared_sidecar(runtime_dir: Path) -> None:
    runtime_dir.mkdir(mode=0o755)
    runtime_dir.chmod(0o755)
    assert sidecar_socket.socket_path() is None
    runtime_dir.rmdir()
    elsewhere = runtime_dir.with_name("elsewhere")
    elsewhere.mkdir(mode=0o700)
    runtime_dir.symlink_to(elsewhere)
    assert sidecar_socket.socket_path() is None


def test_a_path_too_long_for_a_socket_means_no_shared_sidecar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path / ("x" * 80)
    deep.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(deep))
    assert sidecar_socket.socket_path() is None


def test_the_name_follows_what_tracking_depends_on(
    runtime_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sidecar_socket.socket_path()
    monkeypatch.setenv("SANDBOX_HOME", "/somewhere/else")  # carried by each command's target
    monkeypatch.setenv("PWD", "/another/folder")
    assert sidecar_socket.socket_path() == first
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")  # what a tracker here sets anyway
    assert sidecar_socket.socket_path() == first
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "another-token")  # read by MLflow itself
    assert sidecar_socket.socket_path() != first
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    old = os.umask(0o027)  # files the server writes would be readable by the group
    try:
        assert sidecar_socket.socket_path() != first
    finally:
        os.umask(old)


@pytest.mark.parametrize(
    ("uri", "outbox", "portable"),
    [
        ("sqlite:////abs/mlflow.db", "/abs/outbox", True),
        ("http://127.0.0.1:5000", "/abs/outbox", True),
        ("sqlite:///relative/mlflow.db", "/abs/outbox", False),
        ("file:mlruns", "/abs/outbox", False),
        ("mlruns", "/abs/outbox", False),
        ("sqlite:////abs/mlflow.db", "relative/outbox", False),
    ],
)
def test_only_a_target_with_absolute_paths_is_shared(uri: str, outbox: str, portable: bool) -> None:
    target = TrackingTarget(tracking_uri=uri, artifact_root=None, outbox_dir=Path(outbox))
    assert sidecar_socket.portable(target) is portable


def test_nothing_listening_and_no_start_means_no_connection(runtime_dir: Path) -> None:
    path = sidecar_socket.socket_path()
    assert path is not None
    assert sidecar_socket.connect(path, idle_s=1, start=False) is None
