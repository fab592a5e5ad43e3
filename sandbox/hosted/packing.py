"""Pack a pilot folder into the archive a hosted sandbox receives: the same folder, same bytes.

The rule for what goes in is the simplest honest one: every regular file under the folder,
except hidden files and folders (any name that starts with a dot: ``.git``, ``.venv``, and a
``.env`` or ``.netrc`` that may hold a secret the sandbox must never receive) and
``__pycache__``. A link to a file inside the folder is packed as a copy of that file;
a link out of the folder, a link to a folder, a device, a FIFO or a socket is refused. The
folder is walked first with `lstat` alone (names, count, depth and total size checked against
the `ArchiveLimits` the server applies) so an oversized folder is refused before any file is
read.

The archive is a POSIX pax tar in one gzip member: names in UTF-8 byte order, mtime 0, uid
and gid 0 with no user or group names, mode 0644 (0755 when the owner may execute), and a
gzip header without a file name or time. The same folder therefore always gives the same
bytes and the same SHA-256 (with the same zlib; another zlib build may compress differently).
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn, cast

from sandbox.confinement import confine, escapes
from sandbox.digests import bytes_sha256
from sandbox.errors import ArchiveRefused
from sandbox.hosted.limits import MANIFEST_ENTRY, ArchiveLimits, NameLedger, name_problem
from sandbox.hosted.tarstream import BLOCK

__all__ = ["COMPRESS_LEVEL", "PackedPilot", "pack_pilot"]

COMPRESS_LEVEL = 6  # level 9 took 1.5-1.8x as long on a blueprint for 1.3% fewer bytes
_SKIPPED_FOLDERS = ("__pycache__",)
_RECORD = 20 * BLOCK  # tarfile pads the stream to whole 10,240-byte records
_PIECE = 1024 * 1024
_DEFAULT = ArchiveLimits()


@dataclass(frozen=True)
class PackedPilot:
    """A packed pilot folder, ready to upload."""

    data: bytes  # the .tar.gz
    digest: str  # sha256:<hex> of `data`: the name the server stores it under
    files: tuple[str, ...]  # archive names, in archive order
    uncompressed_bytes: int  # the tar stream the server decompresses

    def chunks(self, size: int = _PIECE) -> Iterator[bytes]:
        """The archive in pieces of `size` bytes, as an upload sends it."""
        for start in range(0, len(self.data), size):
            yield self.data[start : start + size]


@dataclass(frozen=True)
class _Source:
    name: str  # the archive name
    path: Path  # the file read (a link's target, inside the folder)
    size: int
    executable: bool
    identity: tuple[int, int]  # (st_dev, st_ino) when walked: the file read must be the same


def pack_pilot(folder: Path, limits: ArchiveLimits = _DEFAULT) -> PackedPilot:
    """Pack `folder` deterministically; ArchiveRefused names the file, the limit and the fix."""
    if not folder.is_dir():
        raise ArchiveRefused(f"{folder}: not a folder; pack a pilot folder (with its pilot.yaml)")
    sources = _collect(folder, limits)
    if MANIFEST_ENTRY not in {source.name for source in sources}:
        raise ArchiveRefused(
            f"{folder}: no {MANIFEST_ENTRY}; pack the pilot folder itself (the folder that "
            f"holds {MANIFEST_ENTRY})"
        )
    sources.sort(key=lambda source: source.name.encode("utf-8"))
    budget = _tar_bytes(sources)
    if budget > limits.max_uncompressed_bytes:
        total = sum(source.size for source in sources)
        raise ArchiveRefused(
            f"{folder}: {len(sources)} files of {total} bytes make a {budget}-byte archive, "
            f"over the limit of {limits.max_uncompressed_bytes} (max_uncompressed_bytes); "
            "remove files the pilot does not need"
        )
    sink = _CappedSink(folder, limits.max_compressed_bytes)
    counter = _write(sources, sink)
    data = sink.getvalue()
    return PackedPilot(
        data=data,
        digest=bytes_sha256(data),
        files=tuple(source.name for source in sources),
        uncompressed_bytes=counter,
    )


def _write(sources: list[_Source], sink: _CappedSink) -> int:
    """Write the sources as a pax tar into one gzip member; the tar stream's size."""
    with gzip.GzipFile(
        filename="", mode="wb", fileobj=sink, compresslevel=COMPRESS_LEVEL, mtime=0
    ) as compressed:
        counted = _Counted(compressed)
        stream = cast(IO[bytes], counted)  # tarfile's stream mode only calls write()
        with tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as archive:
            for source in sources:
                info = tarfile.TarInfo(source.name)
                info.size = source.size
                info.mode = 0o755 if source.executable else 0o644
                info.mtime = 0
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                with _ExactReader(source) as reader:
                    archive.addfile(info, reader)
    return counted.size


def _collect(folder: Path, limits: ArchiveLimits) -> list[_Source]:
    """Every file to pack, checked from `lstat` alone: no file's content is read here."""
    root = folder.resolve()
    ledger = NameLedger()
    sources: list[_Source] = []
    folders = 0
    pending: list[tuple[str, Path]] = [("", folder)]
    while pending:
        prefix, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                name = prefix + entry.name
                where = directory / entry.name
                if entry.name.startswith("."):
                    continue  # .git, .venv, .env: never uploaded
                if entry.name in _SKIPPED_FOLDERS and where.is_dir():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    folders += 1
                    _check(where, name, limits, ledger, is_dir=True)
                    if folders > limits.max_files:
                        _refuse(where, f"more than {limits.max_files} folders (max_files)")
                    pending.append((name + "/", Path(entry.path)))
                    continue
                _check(where, name, limits, ledger, is_dir=False)
                sources.append(_source(root, where, name, entry))
                if len(sources) > limits.max_files:
                    _refuse(
                        where,
                        f"more than {limits.max_files} files (max_files); remove files the "
                        "pilot does not need",
                    )
    return sources


def _check(
    where: Path, name: str, limits: ArchiveLimits, ledger: NameLedger, *, is_dir: bool
) -> None:
    problem = name_problem(name, limits) or ledger.add(name, is_dir=is_dir)
    if problem is not None:
        _refuse(where, problem)


def _source(root: Path, where: Path, name: str, entry: os.DirEntry[str]) -> _Source:
    """What to read for one entry: the file itself, or the file a link inside points to."""
    path = where
    if entry.is_symlink():
        if escapes(root, name):
            _refuse(where, "a link that points outside the pilot folder; copy the file in")
        path = confine(root, name, field="(packing)", where=where, error=ArchiveRefused)
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError as exc:
        _refuse(where, f"cannot be read ({exc.strerror})")
    if stat.S_ISDIR(info.st_mode):
        _refuse(where, "a link to a folder; replace the link by the folder itself")
    if not stat.S_ISREG(info.st_mode):
        _refuse(where, "a device, FIFO or socket; only regular files can be packed")
    return _Source(
        name=name,
        path=path,
        size=info.st_size,
        executable=bool(info.st_mode & stat.S_IXUSR),
        identity=(info.st_dev, info.st_ino),
    )


def _tar_bytes(sources: list[_Source]) -> int:
    """An upper bound of the tar stream: a header per file, a pax header when the name needs
    one, the data in whole blocks, and the end padded to a whole record."""
    total = 2 * BLOCK
    for source in sources:
        plain = source.name.isascii() and len(source.name) <= 100
        total += BLOCK + (0 if plain else 3 * BLOCK) + -(-source.size // BLOCK) * BLOCK
    return -(-total // _RECORD) * _RECORD


def _refuse(where: Path, problem: str) -> NoReturn:
    raise ArchiveRefused(f"{where}: {problem}")


class _CappedSink(io.BytesIO):
    """The compressed archive in memory, refused as soon as it crosses the compressed limit."""

    def __init__(self, folder: Path, limit: int) -> None:
        super().__init__()
        self._folder = folder
        self._limit = limit

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self._limit:
            raise ArchiveRefused(
                f"{self._folder}: the packed archive is over {self._limit} bytes "
                "(max_compressed_bytes); remove files the pilot does not need"
            )
        return super().write(data)


class _Counted:
    """A write-only file that counts the bytes passing through to `target`."""

    def __init__(self, target: gzip.GzipFile) -> None:
        self._target = target
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return self._target.write(data)


class _ExactReader:
    """A source file, read as exactly the size its walk saw; any change since is refused."""

    def __init__(self, source: _Source) -> None:
        self._source = source
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        try:
            self._fd = os.open(source.path, flags)
        except OSError as exc:
            _refuse(source.path, f"cannot be read ({exc.strerror})")
        info = os.fstat(self._fd)
        if (info.st_dev, info.st_ino) != source.identity or info.st_size != source.size:
            os.close(self._fd)
            _refuse(source.path, "changed while it was being packed; pack the folder again")
        self._left = source.size

    def __enter__(self) -> _ExactReader:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)

    def read(self, size: int = -1) -> bytes:
        wanted = self._left if size < 0 else min(size, self._left)
        data = os.read(self._fd, wanted) if wanted else b""
        self._left -= len(data)
        if wanted and not data:
            _refuse(self._source.path, "shrank while it was being packed; pack the folder again")
        if not self._left and os.read(self._fd, 1):
            _refuse(self._source.path, "grew while it was being packed; pack the folder again")
        return data
