"""The run's container, started while the host writes its inputs.

A fresh interpreter in the container spends about two seconds importing pandas, pyarrow and
scikit-learn before a tabular model reads a row. So once the pre-run policies let a run go
ahead (a blocked run never creates a container), its container is created and started on a
second thread, and the harness in it (`--wait-for`) loads those libraries (`--preload`; an
assistant brings its own), then waits, while the host splits the data, writes the inputs,
stages the code and appends `run.started`. Only then does the host create the go marker in
/input: the pilot's code runs after the record, and its timeout counts from the go. The marker
is removed when the container ends, so the input folder holds exactly the recorded files again
(a replay checks that).

A run that stops before the go (an error while writing the inputs) discards the container: it
saw no input and ran none of the pilot's code. A container that could not be started early is
started at the go instead, where any error is reported as before.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Final

from sandbox.runtime.base import (
    ContainerResult,
    ContainerSpec,
    Runtime,
    StartedContainer,
    mount_folder,
)

__all__ = ["READY_NAME", "EarlyContainer", "waiting_command"]

#: The go marker the host creates in the input folder (/input in the container).
READY_NAME: Final = ".inputs-ready"


def waiting_command(command: tuple[str, ...], *, preload: bool) -> tuple[str, ...]:
    """The harness command that waits for the go marker, having loaded a tabular model's
    libraries first with `preload` (an assistant's code brings its own)."""
    wait = (*command, "--wait-for", f"/input/{READY_NAME}")
    return (*wait, "--preload") if preload else wait


class EarlyContainer:
    """A run's container started on a thread of its own; `finish` gives it the go."""

    def __init__(self, runtime: Runtime, spec: ContainerSpec) -> None:
        mount_folder(spec.input_dir)
        mount_folder(spec.pilot_dir)
        spec.output_dir.mkdir(parents=True, exist_ok=True)
        self.spec = spec
        self._runtime = runtime
        self._started: StartedContainer | None = None
        self._thread = threading.Thread(
            target=self._start, name=f"sandbox-early-{spec.run_id}", daemon=True
        )
        self._thread.start()

    def _start(self) -> None:
        # Any failure is left for `finish`, which starts the container again and reports it.
        with contextlib.suppress(Exception):
            self._started = self._runtime.start(self.spec)

    def finish(self) -> ContainerResult:
        """Give the go, then watch the container to its end (as `Runtime.run` does)."""
        self._thread.join()
        started, self._started = self._started, None
        marker = self.spec.input_dir / READY_NAME
        marker.touch(mode=0o644)
        try:
            return started.finish() if started is not None else self._runtime.run(self.spec)
        finally:
            marker.unlink(missing_ok=True)

    def discard(self) -> None:
        """Remove a container that never got the go; nothing once `finish` has run."""
        self._thread.join()
        started, self._started = self._started, None
        if started is not None:
            started.discard()
