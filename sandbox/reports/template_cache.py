"""Compiled report templates kept between processes, so a command does not recompile them.

Compiling the report's and the documents' Jinja templates costs a short command (a
predictions-only audit of 1,000 rows) several tenths of a second, every time. Jinja can keep
the compiled code: `template_cache(folder)` returns a bytecode cache in ``folder`` (the
sandbox home's ``cache/templates``), keyed by template file and checked against the
template's source, so an edited template is recompiled and never served stale.

Compiled code is code: the folder must be the user's own and closed to everyone else (0700).
When it cannot be made so, or is not the user's, there is no cache and templates compile as
before. A cache file that cannot be read or written (a full disk, a folder removed meanwhile,
a file cut short) is treated as absent: the cache only ever saves time, it never fails a
report.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import stat
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

__all__ = ["HOME_FOLDER", "home_cache_dir", "template_cache"]

#: Where, under the sandbox home, compiled templates are kept.
HOME_FOLDER = Path("cache", "templates")

# The Jinja version is part of the name: another version's compiled code is never loaded.
_PATTERN = f"sandbox-jinja{jinja2.__version__}-%s.cache"


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """A file bytecode cache whose failures mean "not cached", never a failed report."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
            bucket.reset()  # unreadable or cut short: compile from the source instead

    def dump_bytecode(self, bucket: Bucket) -> None:
        # Not kept this time (a full disk, a removed folder): the next process tries again.
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def home_cache_dir(home: Path | None) -> Path | None:
    """The compiled-template folder under the sandbox home (None without a home)."""
    return home / HOME_FOLDER if home is not None else None


def template_cache(folder: Path | None) -> jinja2.BytecodeCache | None:
    """A bytecode cache in ``folder`` (created 0700), or None when it would not be private."""
    if folder is None:
        return None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
            if stat.S_IMODE(info.st_mode) != 0o700:
                folder.chmod(0o700)
            return _QuietBytecodeCache(str(folder), _PATTERN)
    except OSError:
        pass
    return None  # a link, or a folder someone else owns: compile every time instead
