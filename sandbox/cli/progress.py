"""A live display of the run's stages for the terminal (rich)."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from sandbox.runs.pilot_run import StageStatus

__all__ = ["StageDisplay"]


class StageDisplay:
    """Shows a spinner on the running stage and one line per finished stage, with its time."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._status: Status | None = None
        self._started: dict[str, float] = {}

    def __enter__(self) -> StageDisplay:
        self._status = self.console.status("starting")
        self._status.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._status is not None:
            self._status.stop()

    def update(self, stage: str, status: StageStatus, detail: str) -> None:
        """Receive one progress event from the pipeline."""
        if status == "start":
            self._started[stage] = time.perf_counter()
            if self._status is not None:
                self._status.update(f"{stage}…")
            return
        took = time.perf_counter() - self._started.get(stage, time.perf_counter())
        if status == "done":
            self.console.print(f"  [green]✓[/] {stage:<18} [dim]{took:6.2f}s[/]")
        elif status == "skipped":
            self.console.print(f"  [dim]-[/] {stage:<18} [dim]skipped: {escape(detail)}[/]")
        else:
            self.console.print(f"  [red]✗[/] {stage:<18} [red]{escape(detail)}[/]")
