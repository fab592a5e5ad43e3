"""DockerRuntime.watch: how the end of a command is told apart (the engine's API scripted).

The loop is real; only the engine's answers are scripted, replaying what Docker reported in
each case on the real engine (the integration and security suites run the real thing).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sandbox.runtime import ContainerSpec, Hardening
from sandbox.runtime.docker.edge import OutputTail
from sandbox.runtime.docker.runtime import DockerRuntime
from sandbox.runtime.docker.started import Command


class ScriptedEngine:
    """The exec runs until `dies_at` seconds; then the container is gone, OOM-killed."""

    def __init__(self, dies_at: float, *, exec_forgets: bool) -> None:
        self.start = time.monotonic()
        self.dies_at = dies_at
        self.exec_forgets = exec_forgets  # gVisor: the exec reads not running, no exit code
        self.killed = False
        self.stream_closed = threading.Event()  # by a kill, or a moment after the death

    def _dead(self) -> bool:
        return time.monotonic() - self.start >= self.dies_at

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        if not self._dead():
            return {"Running": True, "ExitCode": None}
        return {"Running": False, "ExitCode": None if self.exec_forgets else 137}

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        dead = self._dead()
        return {"State": {"Running": not dead, "OOMKilled": dead, "ExitCode": 137 if dead else 0}}

    def kill(self, container_id: str) -> None:
        self.killed = True
        self.stream_closed.set()


def _watch(engine: ScriptedEngine, timeout_s: float) -> tuple[str, int | None, float]:
    runtime = DockerRuntime(poll_interval_s=0.05)
    runtime._client = engine
    spec = ContainerSpec(
        run_id="run-1",
        image="ai-commons-sandbox/runner:test",
        command=("python3", "/opt/sandbox/harness.py"),
        input_dir=Path("input"),
        pilot_dir=Path("pilot"),
        output_dir=Path("output"),
        hardening=Hardening(timeout_s=timeout_s),
    )
    # The exec's output stream stays open a while after the death, as gVisor's does.
    lingers = min(engine.dies_at + 1.0, 30.0)
    reader = threading.Thread(target=engine.stream_closed.wait, args=(lingers,), daemon=True)
    reader.start()
    command = Command(exec_id="exec-1", reader=reader, out=OutputTail(64), err=OutputTail(64))
    return runtime.watch(spec, "container-1", "sha256:abc", command)


def test_a_dead_container_is_seen_at_once_though_its_exec_stream_stays_open() -> None:
    engine = ScriptedEngine(dies_at=0.2, exec_forgets=True)
    state, exit_code, duration = _watch(engine, timeout_s=20.0)
    assert state == "oom_killed"
    assert exit_code is None
    assert duration < 1.0  # not at the 20 s deadline, nor when the stream closes
    assert not engine.killed


def test_an_exec_with_an_exit_code_ends_the_watch() -> None:
    engine = ScriptedEngine(dies_at=0.2, exec_forgets=False)
    state, exit_code, duration = _watch(engine, timeout_s=20.0)
    assert (state, exit_code) == ("oom_killed", 137)
    assert duration < 2.0


def test_a_command_still_running_at_the_deadline_is_killed_and_timed_out() -> None:
    engine = ScriptedEngine(dies_at=60.0, exec_forgets=True)
    state, exit_code, duration = _watch(engine, timeout_s=0.3)
    assert (state, exit_code) == ("timed_out", None)
    assert engine.killed
    assert 0.3 <= duration < 2.0
