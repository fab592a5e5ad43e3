"""Paths a pilot names stay inside its folder: one check for every path field of a manifest.

A path is refused when it is absolute, has a `..` part or a backslash, or when following its
links would leave the pilot folder. Links are followed one part at a time without ever looking
at anything outside the folder, so the answer (and its message) is the same whether or not
the outside target exists: a refusal reveals nothing about the host.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from pydantic import BaseModel

from sandbox.errors import UserInputError

__all__ = [
    "MAX_LINK_HOPS",
    "PilotPath",
    "confine",
    "confine_fields",
    "escapes",
    "relative_path",
]

MAX_LINK_HOPS = 40


def confine(
    root: Path,
    value: str,
    *,
    field: str,
    where: Path,
    error: type[UserInputError] = UserInputError,
) -> Path:
    """The path `value` names inside `root`, links resolved; `error` if it would leave `root`.

    `where` is the file that names the path (for the message), `field` its field path.
    """
    resolved = _walk(root.resolve(), value)
    if resolved is None:
        raise error(
            f"{where}: {field}: {value!r} is not a path inside the pilot folder; name a file "
            "in the pilot folder by a relative path (no absolute path, no '..', no link that "
            "points outside the folder)"
        )
    return resolved


def escapes(root: Path, value: str) -> bool:
    """True when `value` would leave `root` (absolute, `..`, or a link pointing outside)."""
    return _walk(root.resolve(), value) is None


def _walk(root: Path, value: str) -> Path | None:
    """Follow `value` from `root` part by part; None as soon as it would leave `root`."""
    if not value or "\\" in value or "\x00" in value:
        return None
    relative = PurePosixPath(value)
    if relative.is_absolute() or ".." in relative.parts:
        return None
    current = root
    pending = list(relative.parts)
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":  # only from a link's target: `current` is a real folder here
            if current == root:
                return None
            current = current.parent
            continue
        candidate = current / part
        if not candidate.is_symlink():
            current = candidate
            continue
        hops += 1
        if hops > MAX_LINK_HOPS:
            return None
        try:
            target = PurePosixPath(os.readlink(candidate))
        except OSError:
            return None
        if target.is_absolute():
            # An absolute target is followed only when it names a place inside the folder.
            if not target.is_relative_to(root):
                return None
            current = root
            pending = [*target.relative_to(root).parts, *pending]
        else:
            pending = [*target.parts, *pending]
    return current


class PilotPath:
    """Marks a manifest field that names paths inside the pilot folder.

    `confine_fields` finds every marked field of a validated manifest and confines its value;
    `split` keeps the part before it (``model.py`` of ``model.py:build_model``).
    """

    def __init__(self, *, split: str | None = None) -> None:
        self.split = split

    def path_of(self, value: str) -> str:
        """The path part of a field's value."""
        return value.split(self.split, 1)[0] if self.split else value


def relative_path(value: str) -> str:
    """Validate a path's shape without touching the disk: relative, no '..', no backslash."""
    posix = PurePosixPath(value)
    if not value or posix.is_absolute() or ".." in posix.parts or "\\" in value:
        raise ValueError("must be a relative path inside the pilot folder (no '..', no '/')")
    return value


def confine_fields(
    model: BaseModel, root: Path, *, where: Path, error: type[UserInputError], prefix: str = ""
) -> None:
    """Confine the value of every `PilotPath` field of `model` (nested models too) to `root`."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        field = f"{prefix}.{name}" if prefix else name
        marker = next((m for m in info.metadata if isinstance(m, PilotPath)), None)
        items = list(value) if isinstance(value, tuple | list) else [value]
        for index, item in enumerate(items):
            at = f"{field}[{index}]" if isinstance(value, tuple | list) else field
            if marker is not None and isinstance(item, str):
                confine(root, marker.path_of(item), field=at, where=where, error=error)
            elif isinstance(item, BaseModel):
                confine_fields(item, root, where=where, error=error, prefix=at)
