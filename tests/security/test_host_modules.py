"""A pilot's Python files never run on the host, even in the folder a command starts in.

Users run `sandbox` from inside a pilot's folder. `python -m` puts the working folder first on
the module path, so each helper process the command starts (the tracking sidecar, the shared
one that outlives the command, the PDF's, the command server) would import a pilot's
`mlflow.py`, `json.py` or `sandbox/` from there in place of the real module. Every helper is
started with `-P`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from sandbox.host_python import module_command

_IMPOSTORS = ("mlflow", "json", "pickle", "fpdf", "pandas", "sqlalchemy")


def _hostile_folder(folder: Path) -> Path:
    """A folder whose modules, if imported, leave a marker file behind."""
    folder.mkdir()
    marker = folder / "ran"
    code = f"import pathlib\npathlib.Path({str(marker)!r}).write_text(__name__)\n"
    for name in _IMPOSTORS:
        (folder / f"{name}.py").write_text(code)
    (folder / "sandbox").mkdir()
    (folder / "sandbox" / "__init__.py").write_text(code)
    return marker


def test_a_helper_never_imports_from_the_working_folder(tmp_path: Path) -> None:
    marker = _hostile_folder(tmp_path / "pilot")
    run = {"cwd": tmp_path / "pilot", "input": "{}", "capture_output": True, "text": True}
    result = subprocess.run(module_command("json.tool"), check=True, **run)
    assert result.stdout.strip() == "{}" and not marker.exists()
    subprocess.run([sys.executable, "-m", "json.tool"], check=False, **run)
    assert marker.exists()  # the attack, without -P


@pytest.mark.parametrize("idle_s", ["0", "5"], ids=["own sidecar", "shared sidecar"])
def test_a_command_started_in_a_hostile_folder_runs_none_of_it(tmp_path: Path, idle_s: str) -> None:
    folder = tmp_path / "pilot"
    marker = _hostile_folder(folder)
    data = folder / "predictions.csv"
    rows = [
        f"{s},{g},{y},{y if i % 5 else 1 - y}"
        for i, (s, g, y) in enumerate(
            (("f", "a", 1), ("m", "b", 0), ("f", "b", 1), ("m", "a", 0)) * 50
        )
    ]
    data.write_text("sex,race,y,p\n" + "\n".join(rows) + "\n")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "SANDBOX_HOME": str(tmp_path / "home"),
        "SANDBOX_TRACKING_SIDECAR": "true",
        "SANDBOX_TRACKING_SIDECAR_IDLE_S": idle_s,  # 0: a sidecar of the command's own
        "XDG_RUNTIME_DIR": str(runtime),  # the shared sidecar's socket, this test's alone
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    command = Path(sys.executable).with_name("sandbox")  # as a user runs it
    result = subprocess.run(
        [
            str(command),
            *("audit", "evaluate", "--data", data.name, "--label", "y"),
            *("--prediction", "p", "--sensitive", "sex,race"),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 3), result.stderr
    assert not marker.exists(), marker.read_text()


def test_a_command_served_from_a_hostile_folder_runs_none_of_it(tmp_path: Path) -> None:
    """The command server starts from / with -P: its module path holds no working folder, so a
    command forked from it works in the caller's folder but imports nothing from there."""
    folder = tmp_path / "pilot"
    marker = _hostile_folder(folder)
    rows = [
        f"{s},{y},{y if i % 5 else 1 - y}" for i, (s, y) in enumerate((("f", 1), ("m", 0)) * 100)
    ]
    (folder / "predictions.csv").write_text("sex,y,p\n" + "\n".join(rows) + "\n")
    runtime = tempfile.mkdtemp(prefix="sbx-")  # a socket's path is at most 107 bytes
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        SANDBOX_HOME=str(tmp_path / "home"),
        SANDBOX_COMMAND_SERVER="true",
        SANDBOX_COMMAND_SERVER_IDLE_S="60",
        XDG_RUNTIME_DIR=runtime,
    )
    env.pop("MLFLOW_TRACKING_URI", None)
    command = [
        str(Path(sys.executable).with_name("sandbox")),  # as a user runs it
        *("audit", "evaluate", "--data", "predictions.csv", "--label", "y"),
        *("--prediction", "p", "--sensitive", "sex"),
    ]
    find = "from sandbox.command_server.address import socket_path; print(socket_path())"
    path = subprocess.run(
        [sys.executable, "-c", find], cwd=folder.parent, env=env, capture_output=True, text=True
    ).stdout.strip()
    try:
        first = subprocess.run(command, cwd=folder, env=env, capture_output=True, timeout=300)
        assert first.returncode in (0, 3), first.stderr
        deadline = time.monotonic() + 180
        while True:  # the server the first command started, once it listens
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                if probe.connect_ex(path) == 0:
                    break
            assert time.monotonic() < deadline, "the command server never listened"
            time.sleep(0.2)
        second = subprocess.Popen(command, cwd=folder, env=env, stderr=subprocess.PIPE)
        _, stderr = second.communicate(timeout=300)
        assert second.returncode in (0, 3), stderr
        runs = sorted((tmp_path / "home" / "runs").iterdir(), key=lambda p: p.stat().st_mtime_ns)
        assert json.loads((runs[-1] / "run.json").read_text())["pid"] != second.pid  # served
        assert not marker.exists(), marker.read_text()
    finally:
        pattern = f"command_server.server --listen {path}"
        found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
        for pid in found.stdout.split():
            os.kill(int(pid), signal.SIGKILL)
