"""Shipped data and its `data/SHA256SUMS`: the bytes a blueprint (or any pilot) promises.

A pilot folder that ships `data/SHA256SUMS` (the format `sha256sum` writes and `sha256sum -c`
reads: `<64 hex digits>  <file name>` per line, names relative to `data/`) is checked before
its data are read: every listed file must exist with exactly that digest, and every data file
the manifest names under `data/` must be listed. A mismatch is a DataError (exit code 2), so a
run never starts on data that differ from what was published.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from sandbox.confinement import confine
from sandbox.digests import file_sha256
from sandbox.errors import DataError
from sandbox.hostfile import HostFileError, read_pilot_file
from sandbox.manifest import PilotManifest

__all__ = [
    "DATA_FOLDER",
    "SUMS_NAME",
    "check_shipped_data",
    "format_checksums",
    "parse_checksums",
    "read_checksums",
]

DATA_FOLDER = "data"
SUMS_NAME = "SHA256SUMS"
MAX_SUMS_BYTES = 1_000_000
# `sha256sum` writes two spaces (text mode) or a space and `*` (binary mode) before the name.
_LINE = re.compile(r"^(?P<hex>[0-9a-fA-F]{64}) [ *](?P<name>\S.*)$")


def parse_checksums(text: str, *, where: str) -> dict[str, str]:
    """File name -> lower-case hex digest; DataError naming the line for a malformed one."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _LINE.match(line.rstrip("\r"))
        if match is None:
            raise DataError(
                f"{where}: line {number}: expected '<64 hex digits>  <file name>' "
                "(the format `sha256sum` writes)"
            )
        name = match["name"]
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or "\\" in name:
            raise DataError(
                f"{where}: line {number}: {name!r} is not a file name inside {DATA_FOLDER}/"
            )
        if name in sums:
            raise DataError(f"{where}: line {number}: {name!r} is listed twice")
        sums[name] = match["hex"].lower()
    if not sums:
        raise DataError(f"{where}: lists no file; run `sha256sum FILE... > {SUMS_NAME}` in data/")
    return sums


def read_checksums(pilot_dir: Path) -> dict[str, str] | None:
    """The digests `pilot_dir/data/SHA256SUMS` records; None when the folder ships none."""
    path = pilot_dir / DATA_FOLDER / SUMS_NAME
    if not path.exists() and not path.is_symlink():
        return None
    try:
        raw = read_pilot_file(path, max_bytes=MAX_SUMS_BYTES)
    except HostFileError as exc:
        raise DataError(f"{path}: {exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    return parse_checksums(text, where=str(path))


def format_checksums(digests: Mapping[str, str]) -> str:
    """`SHA256SUMS` text for file name -> digest (hex or `sha256:<hex>`), sorted by name."""
    return "".join(
        f"{digest.removeprefix('sha256:')}  {name}\n" for name, digest in sorted(digests.items())
    )


def check_shipped_data(pilot_dir: Path, manifest: PilotManifest) -> dict[str, str] | None:
    """Check the folder's data against its `data/SHA256SUMS`, if it ships one.

    Returns the verified digests (None without a SHA256SUMS); raises DataError naming each file
    that is missing, differs, or is read by the manifest without being listed.
    """
    sums = read_checksums(pilot_dir)
    if sums is None:
        return None
    where = pilot_dir / DATA_FOLDER / SUMS_NAME
    problems: list[str] = []
    for name, expected in sums.items():
        path = confine(pilot_dir, f"{DATA_FOLDER}/{name}", field=name, where=where, error=DataError)
        if not path.is_file():
            problems.append(f"{name}: listed but not found")
        elif file_sha256(path) != f"sha256:{expected}":
            problems.append(f"{name}: its SHA-256 differs from the one recorded")
    for source in manifest.data.sources:
        parts = PurePosixPath(source.path).parts
        inside = parts[1:] if parts and parts[0] == DATA_FOLDER else None
        if inside and "/".join(inside) not in sums:
            problems.append(f"{source.path}: read by pilot.yaml but not listed")
    if problems:
        raise DataError(
            f"{where}: the shipped data do not match their recorded digests: "
            f"{'; '.join(problems)}. Restore the published files (or regenerate them with "
            "generate.py), or, if the data were changed on purpose, write a new SHA256SUMS"
        )
    return sums
