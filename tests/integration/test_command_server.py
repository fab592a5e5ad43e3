"""The command server with real processes: commands forked from it, as a user types them.

One server for the module (its socket's name digests the environment, so every command here
shares one home and one runtime folder); it is killed at the end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.integration.test_shared_sidecar import _ends

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT = ROOT / "blueprints" / "benefits-eligibility-screening"


@dataclass(frozen=True)
class Done:
    pid: int  # the process `sandbox` was started as
    returncode: int
    stdout: str
    stderr: str


class Served:
    """The module's environment, and the server it starts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.home = folder / "home"
        runtime = Path(tempfile.mkdtemp(prefix="sbx-"))  # a socket's path is at most 107 bytes
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        self.env.update(
            SANDBOX_HOME=str(self.home),
            XDG_RUNTIME_DIR=str(runtime),
            SANDBOX_COMMAND_SERVER="true",
            SANDBOX_COMMAND_SERVER_IDLE_S="120",
            COLUMNS="120",
        )
        code = "from sandbox.command_server.address import socket_path; print(socket_path())"
        found = subprocess.run(
            [sys.executable, "-c", code], env=self.env, capture_output=True, text=True, check=True
        )
        self.socket = Path(found.stdout.strip())

    def start(self, *args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "sandbox", *args],
            env=self.env,
            cwd=cwd or self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def sandbox(self, *args: str, cwd: Path | None = None) -> Done:
        proc = self.start(*args, cwd=cwd)
        stdout, stderr = proc.communicate(timeout=600)
        return Done(proc.pid, proc.returncode, stdout, stderr)

    def listening(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
        return True  # the request that never came is dropped

    def server_pid(self) -> int | None:
        found = subprocess.run(
            ["pgrep", "-f", f"sandbox.command_server.server --listen {self.socket}"],
            capture_output=True,
            text=True,
        )
        return int(found.stdout.split()[0]) if found.stdout.split() else None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("served")
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 1000)
    predictions = np.where(rng.random(1000) < 0.85, labels, 1 - labels)  # 85 % right
    sexes = rng.choice(["F", "M"], 1000)
    rows = [f"{y},{p},{s}" for y, p, s in zip(labels, predictions, sexes, strict=True)]
    (folder / "p1k.csv").write_text("y,p,sex\n" + "\n".join(rows) + "\n")
    served = Served(folder)
    first = served.sandbox(*AUDIT)  # starts the server in the background, runs on its own
    assert first.returncode == 0, first.stderr
    assert _recorded_pid(served.home) == first.pid
    deadline = time.monotonic() + 180
    while not served.listening():
        assert time.monotonic() < deadline, "the command server never listened"
        time.sleep(0.2)
    yield served
    pid = served.server_pid()
    if pid is not None:
        os.kill(pid, signal.SIGKILL)


def _audit(data: str) -> tuple[str, ...]:
    options = ("--label", "y", "--prediction", "p", "--sensitive", "sex")
    return ("audit", "evaluate", "--data", data, *options)


AUDIT = _audit("p1k.csv")


def _runs(home: Path) -> list[Path]:
    return sorted((home / "runs").iterdir(), key=lambda p: p.stat().st_mtime_ns)


def _recorded_pid(home: Path) -> int:
    return int(json.loads((_runs(home)[-1] / "run.json").read_text())["pid"])


def _started(home: Path, before: int) -> bool:
    runs = _runs(home)
    return len(runs) > before and (runs[-1] / "run.json").is_file()


def _without_ids(text: str) -> str:
    return re.sub(r"[0-9a-f]{6,}|\d{8}T\d{6}Z|seq \d+", "#", text)


def test_a_served_command_prints_and_records_what_its_own_process_would(served: Served) -> None:
    done = served.sandbox(*AUDIT)
    assert done.returncode == 0, done.stderr
    assert _recorded_pid(served.home) != done.pid  # it ran in a process forked from the server
    own = subprocess.run(
        [sys.executable, "-m", "sandbox", *AUDIT],
        env={**served.env, "SANDBOX_COMMAND_SERVER": "false"},
        cwd=served.folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert own.returncode == 0, own.stderr
    assert _without_ids(done.stdout) == _without_ids(own.stdout)
    assert "PASS" in done.stdout
    report = _runs(served.home)[-2] / "reports"
    assert (report / "report.pdf").read_bytes().startswith(b"%PDF-")
    verified = served.sandbox("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_served_command_reads_paths_against_its_callers_folder(served: Served) -> None:
    elsewhere = served.folder / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    shutil.copy(served.folder / "p1k.csv", elsewhere / "other.csv")
    done = served.sandbox(*_audit("other.csv"), cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert _recorded_pid(served.home) != done.pid
    missing = served.sandbox(*AUDIT, cwd=elsewhere)  # p1k.csv is not in this folder
    assert missing.returncode == 2
    assert "p1k.csv" in missing.stderr and "Traceback" not in missing.stderr


def test_a_usage_error_is_one_line_and_exit_2_through_the_server(served: Served) -> None:
    done = served.sandbox("audit", "evaluate", "--no-such-option")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "--no-such-option" in done.stderr


def test_the_callers_terminal_width_is_the_commands(served: Served) -> None:
    """`COLUMNS` (which does not choose the server) reaches the command's consoles."""
    narrow = {**served.env, "COLUMNS": "60"}
    texts = {}
    for name, switch in (("served", "true"), ("own", "false")):
        done = subprocess.run(
            [sys.executable, "-m", "sandbox", *AUDIT],
            env={**narrow, "SANDBOX_COMMAND_SERVER": switch},
            cwd=served.folder,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        texts[name] = done.stdout
    # The same lines (ids, times and sequence numbers differ, and are wrapped where they fall).
    assert _shape(texts["served"]) == _shape(texts["own"])
    assert max(len(line) for line in texts["served"].splitlines()) <= 60
    wide = served.sandbox(*AUDIT)
    assert max(len(line) for line in wide.stdout.splitlines()) > 60


def _shape(text: str) -> list[str]:
    return [re.sub(r"[0-9a-f]+", "#", line) for line in text.splitlines()]


def test_ctrl_c_reaches_the_served_command_and_the_run_stays_on_the_record(
    served: Served, runner_image: str
) -> None:
    proc, served_pid = _run_started(served, "pilot-interrupted")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert _ends(served_pid)
    verified = served.sandbox("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_caller_killed_ends_its_served_command(served: Served, runner_image: str) -> None:
    proc, served_pid = _run_started(served, "pilot-killed")
    proc.kill()  # no signal to relay: the server sees the connection end
    proc.wait()
    assert _ends(served_pid)
    assert served.listening()  # the server itself stays


def test_an_idle_server_removes_its_socket_and_exits(tmp_path: Path) -> None:
    runtime = Path(tempfile.mkdtemp(prefix="sbx-"))
    path = runtime / "idle.sock"
    command = [sys.executable, "-P", "-m", "sandbox.command_server.server"]
    server = subprocess.Popen([*command, "--listen", str(path), "--idle", "1"], cwd="/")
    server.wait(timeout=30)  # it forks the server and exits
    _wait_for(path.exists, "the server never bound its socket", within_s=120)
    _wait_for(lambda: not path.exists(), "the idle server kept its socket", within_s=120)


def _run_started(served: Served, name: str) -> tuple[subprocess.Popen[str], int]:
    """`sandbox run` of the blueprint, started; its caller and the served process running it."""
    pilot = served.folder / name
    shutil.copytree(BLUEPRINT, pilot)
    before = len(_runs(served.home))
    proc = served.start("run", str(pilot))
    _wait_for(lambda: _started(served.home, before), "the run never started")
    served_pid = _recorded_pid(served.home)
    assert served_pid != proc.pid
    return proc, served_pid


def _wait_for(condition, message: str, within_s: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)
