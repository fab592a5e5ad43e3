"""A folder on the host that only its user can enter: `private_folder`.

Used for what the sandbox keeps between commands outside its home (the shared sidecar's
socket, the kept help page), where another local user must not plant or read a file. Only
`os` and `stat`, so the cheapest command may call it.
"""

from __future__ import annotations

import os
import stat

__all__ = ["private_folder"]


def private_folder(folder: str | os.PathLike[str], *, create: bool) -> bool:
    """Whether `folder` is a real folder (not a link) of this user's that nobody else can
    enter; with `create`, made (mode 0700) first if it is missing."""
    try:
        if create:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return False
    private = stat.S_ISDIR(info.st_mode) and info.st_mode & 0o077 == 0
    return private and info.st_uid == os.getuid()
