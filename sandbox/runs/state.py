"""The state file and lock of a run in progress, so a later process can tell a run whose
runner died (kill -9, power loss) from one that is still going.

A running pipeline holds an exclusive `flock` on `<run_dir>/run.lock` for the whole run and
keeps `<run_dir>/run.json` current. The kernel drops the lock when the process dies, so a
run whose state is not terminal and whose lock can be taken was abandoned.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["TERMINAL", "RunLock", "is_abandoned", "read_state", "write_state"]

STATE_FILE = "run.json"
LOCK_FILE = "run.lock"
TERMINAL = frozenset({"finished", "blocked", "failed", "lost"})


class RunLock:
    """An exclusive lock on a run folder, held by the process that runs it."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; raises BlockingIOError if another live process holds it."""
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (closing the descriptor releases it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def write_state(run_dir: Path, **fields: Any) -> None:
    """Merge `fields` into run.json, atomically (write, fsync, rename)."""
    state = {**read_state(run_dir), **fields}
    tmp = run_dir / (STATE_FILE + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(run_dir / STATE_FILE)


def read_state(run_dir: Path) -> dict[str, Any]:
    """run.json as a dict; empty when missing or unreadable."""
    try:
        data = json.loads((run_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_abandoned(run_dir: Path) -> bool:
    """True when the run never reached a terminal state and no live process holds its lock."""
    if read_state(run_dir).get("status") in TERMINAL or not (run_dir / LOCK_FILE).exists():
        return False
    probe = RunLock(run_dir)
    try:
        probe.acquire()
    except BlockingIOError:
        return False
    probe.release()
    return True
