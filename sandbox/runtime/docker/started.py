"""A hardened container whose command runs (`DockerRuntime.start`): finish it, or discard it.

`finish` is the rest of a run (steps 2 to 4 of `sandbox.runtime.docker.runtime`): watch the
command to its end, its timeout counted from the call; freeze the container and copy /output
out through the validating tar reader; remove the container and its volume, always.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from sandbox.errors import SandboxError
from sandbox.runtime.base import ContainerResult, ContainerSpec, TerminalState
from sandbox.runtime.docker.edge import OutputTail, map_docker_errors
from sandbox.runtime.outputs import copy_out

__all__ = ["Command", "StartedDockerContainer"]


@dataclass(frozen=True)
class Command:
    """The pilot command's exec, and the thread that keeps the tails of its output."""

    exec_id: str
    reader: threading.Thread
    out: OutputTail
    err: OutputTail


class Engine(Protocol):
    """What a started container needs of `DockerRuntime`."""

    @property
    def api(self) -> Any: ...

    def watch(
        self, spec: ContainerSpec, container_id: str, digest: str, command: Command
    ) -> tuple[TerminalState, int | None, float]: ...

    def freeze(self, container_id: str) -> bool: ...

    def remove(self, container_id: str, volume: str | None) -> None: ...


class StartedDockerContainer:
    """A hardened container whose command runs (`DockerRuntime.start`)."""

    def __init__(
        self,
        runtime: Engine,
        spec: ContainerSpec,
        digest: str,
        container_id: str,
        volume: str,
        command: Command,
    ) -> None:
        self._runtime = runtime
        self._spec = spec
        self._digest = digest
        self._container_id = container_id
        self._volume = volume
        self._command = command

    def finish(self) -> ContainerResult:
        """Watch the command to its end, freeze the container, copy out /output, remove it."""
        runtime, spec, container_id = self._runtime, self._spec, self._container_id
        try:
            state, exit_code, duration = runtime.watch(
                spec, container_id, self._digest, self._command
            )
            out, err = self._command.out, self._command.err
            files: dict[str, str] = {}
            if state == "succeeded":
                with map_docker_errors(
                    f"copying /output of run {spec.run_id}", image_digest=self._digest
                ):
                    if runtime.freeze(container_id):
                        chunks, _stat = runtime.api.get_archive(container_id, "/output")
                        files = copy_out(chunks, spec.output_dir, spec.output_limits, root="output")
                    else:
                        state = "failed"
                        err.feed(b"\nsandbox: the container stopped before its outputs were read\n")
            return ContainerResult(
                state=state,
                exit_code=exit_code,
                image_digest=self._digest,
                container_id=container_id,
                duration_s=duration,
                stdout_tail=out.text(),
                stderr_tail=err.text(),
                output_dir=spec.output_dir,
                output_files=files,
            )
        finally:
            # A failing clean-up must not hide the error that brought us here.
            failing = sys.exc_info()[0] is not None
            with contextlib.suppress(SandboxError) if failing else contextlib.nullcontext():
                self.discard()

    def discard(self) -> None:
        """Kill and remove the container and its output volume."""
        self._runtime.remove(self._container_id, self._volume)
