"""The state file and lock of a run in progress, so a later process can tell a run whose
runner died (kill -9, power loss) from one that is still going.

A running pipeline holds an exclusive `flock` on `<run_dir>/run.lock` for the whole run and
keeps `<run_dir>/run.json` current. The kernel drops the lock when the process dies, so a
run whose state is not terminal and whose lock can be taken was abandoned.

A run folder is the owner's alone (0700, files 0600; 0750 and 0640 with `shared_read`). The
inputs and code a container reads are readable by its unprivileged user while it runs, behind
the closed run folder; `close_run_folder` takes that back when the run ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any

__all__ = [
    "TERMINAL",
    "RunLock",
    "close_run_folder",
    "folder_mode",
    "is_abandoned",
    "make_run_folder",
    "read_state",
    "write_state",
]

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
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
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


def folder_mode(*, shared_read: bool) -> int:
    """The mode of a run folder: the owner's alone, or also its group's with `shared_read`."""
    return 0o750 if shared_read else 0o700


def make_run_folder(run_dir: Path, *, shared_read: bool) -> None:
    """Create a run folder closed to other users, whatever the process's umask."""
    mode = folder_mode(shared_read=shared_read)
    run_dir.mkdir(mode=mode, parents=True)
    run_dir.chmod(mode)


def close_run_folder(run_dir: Path, *, shared_read: bool) -> None:
    """Make everything in a finished run folder the owner's alone (group-readable if shared).

    The container's unprivileged user no longer needs to read the staged inputs and code, so
    they lose the bits it needed. Links are left alone (their targets are not the run's).
    """
    folder = folder_mode(shared_read=shared_read)
    file = folder & 0o640
    for current, dirs, names in os.walk(run_dir, followlinks=False):
        for name, mode in [*((d, folder) for d in dirs), *((n, file) for n in names)]:
            path = Path(current) / name
            if not path.is_symlink():
                with contextlib.suppress(OSError):  # the closed run folder still guards it
                    path.chmod(mode)
    run_dir.chmod(folder)
