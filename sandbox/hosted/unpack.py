"""Unpack a stored pilot archive into a new folder that the ordinary pipeline then reads.

The store is trusted only for what it checked, so the archive is checked twice more: first
the whole streaming scan again (its bytes must hash to its name), then, while `tarfile`
extracts with its `data` filter (no links, devices, absolute names or paths out of the
folder), every member `tarfile` reads meets the same entry rules, and the files it saw must
be exactly the files the scan saw: two readers that disagree about an archive refuse it.
Nothing is written to the destination until everything passed: extraction goes to a private
sibling folder (0700) that is renamed into place, and removed on any refusal.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import IO

from sandbox.errors import ArchiveRefused
from sandbox.hosted.intake import StoredArchive, stored_chunks
from sandbox.hosted.limits import MANIFEST_ENTRY, ArchiveLimits
from sandbox.hosted.scan import EntryRules, kind_of_flag, scan_archive

__all__ = ["unpack_archive"]

_DEFAULT = ArchiveLimits()


def unpack_archive(stored: StoredArchive, dest: Path, limits: ArchiveLimits = _DEFAULT) -> Path:
    """Extract `stored` into `dest` (a new folder, mode 0700); returns `dest`.

    Raises ArchiveRefused naming the entry and the rule, and leaves no folder behind.
    """
    if os.path.lexists(dest):
        raise FileExistsError(f"{dest}: already exists; unpack into a new folder")
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.unpacking-", dir=dest.parent))
    try:
        contents = scan_archive(stored_chunks(stored.path, limits), limits)
        if contents.digest != stored.digest:
            raise ArchiveRefused(
                f"{stored.path}: its bytes hash to {contents.digest}, not {stored.digest}; "
                "the stored archive was changed: submit the pilot again"
            )
        with _open_stored(stored.path) as handle:
            extracted = _extract(handle, staging, limits)
        if extracted != contents.files:
            raise ArchiveRefused(
                f"{stored.path}: tarfile reads other entries than the streaming check "
                "(an archive built to confuse readers); pack the pilot folder again"
            )
        _check_manifest(staging, stored)
        os.chmod(staging, 0o700)
        os.rename(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def _open_stored(path: Path) -> IO[bytes]:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    return os.fdopen(os.open(path, flags), "rb")


def _extract(handle: IO[bytes], staging: Path, limits: ArchiveLimits) -> tuple[str, ...]:
    """Extract member by member, each checked by the entry rules before tarfile writes it."""
    rules = EntryRules(limits)
    try:
        with tarfile.open(fileobj=handle, mode="r|gz", errorlevel=2) as archive:
            for member in archive:
                rules.check(member.name, kind_of_flag(member.type), member.size, member.linkname)
                archive.extract(member, staging, filter="data")
    except (tarfile.TarError, EOFError, zlib.error) as exc:  # not OSError: a full disk is ours
        raise ArchiveRefused(
            f"archive: refused while extracting ({exc}); pack the pilot folder again"
        ) from None
    return tuple(rules.files)


def _check_manifest(staging: Path, stored: StoredArchive) -> None:
    try:
        info = (staging / MANIFEST_ENTRY).lstat()
    except FileNotFoundError:
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):
        raise ArchiveRefused(
            f"archive {stored.digest}: no {MANIFEST_ENTRY} at its top level, so it is not a "
            f"pilot; pack the pilot folder itself (the folder that holds {MANIFEST_ENTRY})"
        )
