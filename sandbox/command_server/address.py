"""Where this user's command server listens: one socket per interpreter, code and environment.

The socket lives in a folder only the user can enter (`$XDG_RUNTIME_DIR` or the temporary
folder, `ai-commons-sandbox-<uid>/`, shared with the tracking sidecar's). Its name is a digest
of everything the server's preloaded state depends on, so a command never runs in a server
that loaded other code or read another environment:

- the interpreter and its version;
- the size and modification time of every file of the sandbox's package (its code, policy
  packs and templates), and the modification time of every absolute folder on the module
  path (a package installed or removed changes its folder's);
- the whole environment, but for the variables that change from one shell to the next
  without changing what a command does (`PWD`, `OLDPWD`, `SHLVL`, `_`, `COLUMNS`, `LINES`);
- the file-creation mask.

Standard library only, and about 6 ms: every served command computes it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Final

from sandbox.local_socket import SHELL_VARIABLES, socket_in

__all__ = ["socket_path"]

_PACKAGE: Final = Path(__file__).resolve().parents[1]


def socket_path() -> Path | None:
    """This user's command server socket for the current interpreter, code and environment;
    None if its folder cannot be made private."""
    return socket_in(f"commands-{digest()}.sock")


def digest() -> str:
    """The digest of what a server's preloaded state depends on (see the module docstring)."""
    mask = os.umask(0o077)
    os.umask(mask)
    facts: list[object] = [sys.executable, sys.version, mask, _code(), _module_path()]
    facts.append(sorted((k, v) for k, v in os.environ.items() if k not in SHELL_VARIABLES))
    return hashlib.sha256(repr(facts).encode("utf-8", "surrogateescape")).hexdigest()[:24]


def _code() -> list[tuple[str, int, int]]:
    stamps: list[tuple[str, int, int]] = []
    for root, folders, files in os.walk(_PACKAGE):
        folders[:] = sorted(f for f in folders if f != "__pycache__")
        for name in sorted(files):
            if not name.endswith(".pyc"):
                info = os.stat(os.path.join(root, name))
                stamps.append((os.path.join(root, name), info.st_size, info.st_mtime_ns))
    return stamps


def _module_path() -> list[tuple[str, int]]:
    # The first entry is the script's folder or the working folder, and a relative entry is
    # read against the working folder: the server (started from / with -P) searches neither.
    stamps: list[tuple[str, int]] = []
    for entry in sys.path if sys.flags.safe_path else sys.path[1:]:
        if not os.path.isabs(entry):
            continue
        try:
            stamps.append((entry, os.stat(entry).st_mtime_ns))
        except OSError:
            continue
    return stamps
