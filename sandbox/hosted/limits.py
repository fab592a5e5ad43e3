"""What a pilot archive may hold: sizes, counts and the rules every entry name must follow.

The same rules serve the client that packs a folder, the server that receives an upload and
the worker that unpacks a stored archive, so a folder the client accepts is one the server
accepts. A name is refused when it could mean something else on another system: absolute,
`..`, an empty or `.` part, a backslash, a control character, bytes that are not UTF-8, or
a spelling that equals another entry's after Unicode NFC normalisation and case folding (on
macOS and Windows two such names are one file).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = [
    "MANIFEST_ENTRY",
    "ArchiveLimits",
    "NameLedger",
    "name_problem",
    "shown",
]

#: The one entry every pilot archive must hold, at its top level.
MANIFEST_ENTRY = "pilot.yaml"
_SHOWN_CHARS = 120


@dataclass(frozen=True, kw_only=True)
class ArchiveLimits:
    """Caps on one pilot archive, each checked before the cost it bounds is paid.

    `max_uncompressed_bytes` bounds the whole tar stream (headers and padding included), so a
    compression bomb stops at it; `max_files` counts every entry, files and folders alike.
    """

    max_compressed_bytes: int = 256 * 1024 * 1024
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    max_files: int = 10_000
    #: UTF-8 bytes of a whole relative name (``data/knowledge/en/recycling.md`` is 30).
    max_name_bytes: int = 255
    #: Parts of a name: ``data/knowledge/en/recycling.md`` is 4 deep.
    max_depth: int = 16

    def __post_init__(self) -> None:
        for field in ("max_compressed_bytes", "max_uncompressed_bytes", "max_files"):
            if getattr(self, field) < 1:
                raise ValueError(f"ArchiveLimits.{field} must be at least 1")
        if self.max_name_bytes < len(MANIFEST_ENTRY) or self.max_depth < 1:
            raise ValueError("ArchiveLimits must allow at least a top-level pilot.yaml")

    @property
    def max_pax_bytes(self) -> int:
        """Largest extended (pax) header accepted: room for one name at its limit, and more."""
        return 4096 + 4 * self.max_name_bytes


def name_problem(name: str, limits: ArchiveLimits) -> str | None:
    """Why `name` (a relative POSIX path, folders without their final `/`) is refused, or None."""
    if any("\ud800" <= char <= "\udfff" for char in name):
        return "the name is not valid UTF-8; rename the file with UTF-8 characters"
    size = len(name.encode("utf-8"))
    if size > limits.max_name_bytes:
        return (
            f"the name is {size} bytes long, over the limit of {limits.max_name_bytes}; "
            "shorten the file name or its folders"
        )
    if any(unicodedata.category(char) == "Cc" for char in name):
        return "a control character (or NUL) in the name; rename the file"
    if "\\" in name:
        return "a backslash in the name; use '/' between folders and rename the file"
    if name.startswith("/"):
        return "an absolute name; name entries relative to the pilot folder"
    parts = name.split("/")
    if ".." in parts:
        return "a '..' part in the name; every entry must stay inside the pilot folder"
    if any(part in ("", ".") for part in parts):
        return "an empty or '.' part in the name; name entries like 'data/cases.csv'"
    if len(parts) > limits.max_depth:
        return (
            f"{len(parts)} levels deep, over the limit of {limits.max_depth}; flatten the folders"
        )
    return None


def _key(name: str) -> str:
    """The spelling two names share when a case-insensitive, normalising file system sees one."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


class NameLedger:
    """The names seen so far, to refuse an entry that repeats or collides with an earlier one.

    Folders are recorded for every file's parents too, so ``Data/a.csv`` after ``data/b.csv``
    collides on the folder, and a file whose parent was an earlier file is refused.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, bool]] = {}  # key -> (spelling, is a folder)

    def add(self, name: str, *, is_dir: bool) -> str | None:
        """Record `name` (already past `name_problem`); why it is refused, or None."""
        parts = name.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            problem = self._record(folder, is_dir=True)
            if problem is not None:
                return problem
        return self._record(name, is_dir=is_dir)

    def _record(self, name: str, *, is_dir: bool) -> str | None:
        key = _key(name)
        earlier = self._seen.get(key)
        if earlier is None:
            self._seen[key] = (name, is_dir)
            return None
        spelling, was_dir = earlier
        if spelling != name:
            return (
                f"collides with {shown(spelling)}: the names are equal after Unicode "
                "normalisation and case folding; rename one of them"
            )
        if is_dir and was_dir:
            return None  # a folder named again (an explicit entry after its files): harmless
        if was_dir or is_dir:
            return f"{shown(name)} is both a file and a folder in the archive"
        return "the name appears twice in the archive (a later copy would replace the first)"


def shown(value: object) -> str:
    """`value` as a short, printable quotation for a message (escapes, never its full size)."""
    text = ascii(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."
