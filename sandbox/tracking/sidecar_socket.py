"""Where the shared tracking sidecar listens, and reaching it (starting it when none does).

The socket lives in a folder only this user can enter: `$XDG_RUNTIME_DIR` or the temporary
folder, `ai-commons-sandbox-<uid>/` (mode 0700, owned by the user; anything else there, such
as a link or another user's folder, means no shared sidecar). Its name is a digest of what the
server's answers depend on besides a command's target: the interpreter, the tracking code, the
file-creation mask and the environment (but for the sandbox's own settings and a few that
change from one shell to the next). A command whose digest differs gets a server of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from sandbox import local_socket
from sandbox.host_python import module_command
from sandbox.local_socket import SHELL_VARIABLES, socket_in
from sandbox.tracking.mlflow import ENVIRONMENT_DEFAULTS
from sandbox.tracking.target import TrackingTarget

__all__ = ["connect", "portable", "socket_path"]

_START_WAIT_S: Final = 15.0  # how long a command waits for a server it started to listen
_POLL_S: Final = 0.02
_VOLATILE_PREFIXES: Final = ("SANDBOX_", "PYTEST_")


def socket_path() -> Path | None:
    """This user's socket for the current interpreter, code and environment; None if its
    folder cannot be made private."""
    return socket_in(f"tracking-{_digest()}.sock")


def _digest() -> str:
    code = Path(__file__).resolve().parent
    files = sorted([*code.glob("*.py"), code.parent / "errors.py"])
    stamps = [(f.name, info.st_mtime_ns, info.st_size) for f in files if (info := f.stat())]
    mask = os.umask(0o077)
    os.umask(mask)
    environment = sorted(
        (k, v)
        for k, v in os.environ.items()
        if k not in SHELL_VARIABLES
        and not k.startswith(_VOLATILE_PREFIXES)
        and ENVIRONMENT_DEFAULTS.get(k) != v  # set by a tracker opened in this process
    )
    facts = [sys.executable, str(code), stamps, mask, environment]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:20]


def portable(target: TrackingTarget) -> bool:
    """Whether the target means the same in the server as in this command: every path in it
    absolute (a relative one would be read against the server's working folder)."""
    uri = target.tracking_uri
    relative_uri = uri.startswith("sqlite:///") and not uri.startswith("sqlite:////")
    relative_uri |= uri.startswith("file:") and not uri.startswith("file:/")
    paths = [target.outbox_dir, *([target.artifact_root] if target.artifact_root else [])]
    return not relative_uri and ":" in uri and all(p.is_absolute() for p in paths)


def connect(path: Path, *, idle_s: float, start: bool) -> socket.socket | None:
    """A connection to the server on `path`; with `start`, one is started when none listens.
    None if there is none (then the caller starts a sidecar of its own)."""
    connection = local_socket.connect(path)
    if connection is not None or not start:
        return connection
    command = module_command("sandbox.tracking.sidecar_server", "--listen", str(path))
    try:
        launcher = subprocess.Popen(
            [*command, "--idle", str(idle_s)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,  # outlives the command, and its Ctrl-C
        )
    except OSError:
        return None
    deadline = time.monotonic() + _START_WAIT_S
    while connection is None and time.monotonic() < deadline:
        time.sleep(_POLL_S)
        launcher.poll()  # it forks the server and exits: reap it
        connection = local_socket.connect(path)
    if launcher.poll() is None:
        launcher.kill()  # stuck before forking: it never listened, so nothing is lost
        launcher.wait()
    return connection
