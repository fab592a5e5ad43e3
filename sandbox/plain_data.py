"""Plain data: values that can be written to JSON, the trail, the reports and MLflow unchanged.

A pilot's `model.params` travel into `spec.json`, the reports and MLflow params, and every
string of a manifest is written somewhere as UTF-8. YAML can express more than that (dates,
non-string keys, NaN, "\\ud800" escapes that make a lone surrogate), so such values are
refused where they enter, with the field path and the fix, instead of failing later while the
run is being recorded.

    check_plain(value, where=...)  JSON types only, bounded depth and size, valid UTF-8 text
    bad_text(value)                 the path of the first string that is not valid UTF-8
    shown_path(path)                a file name that is not valid UTF-8, escaped for display
    writable_text(text)             text with any lone surrogate escaped, safe to write as UTF-8
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

__all__ = [
    "MAX_PLAIN_DEPTH",
    "MAX_PLAIN_ITEMS",
    "MAX_PLAIN_TEXT",
    "bad_text",
    "check_plain",
    "is_valid_text",
    "shown_path",
    "writable_text",
]

MAX_PLAIN_DEPTH: Final = 16
MAX_PLAIN_ITEMS: Final = 10_000
MAX_PLAIN_TEXT: Final = 10_000  # characters in one string


def is_valid_text(text: str) -> bool:
    """Whether `text` encodes as UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _walk(value: object, where: str) -> Iterator[tuple[str, object, int]]:
    """(path, value, depth) of `value` and everything inside it; keys are yielded as values.

    Iterative, so a deep value is refused by depth rather than ending in a RecursionError.
    """
    stack: list[tuple[str, object, int]] = [(where, value, 0)]
    while stack:
        path, item, depth = stack.pop()
        yield path, item, depth
        children: list[tuple[str, object, int]] = []
        if isinstance(item, dict):
            for key, child in item.items():
                children.append((f"a key in {path}" if path else "a key", key, depth + 1))
                children.append((_join(path, _part(key)), child, depth + 1))
        elif isinstance(item, list | tuple):
            children = [(f"{path}[{i}]", child, depth + 1) for i, child in enumerate(item)]
        stack.extend(reversed(children))


def _part(key: object) -> str:
    """A key as a path part: itself when short, printable text, else an escaped excerpt."""
    if isinstance(key, str) and key.isprintable() and is_valid_text(key) and len(key) <= 40:
        return key
    return ascii(key)[:40]


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def check_plain(value: object, *, where: str = "") -> None:
    """Raise ValueError naming the path unless `value` is bounded JSON data with valid text.

    JSON data: str, int, float (finite), bool, None, lists, and dicts with string keys.
    """
    for items, (found, item, depth) in enumerate(_walk(value, where), start=1):
        path = found or "the value"
        if items > MAX_PLAIN_ITEMS:
            raise ValueError(f"{where or 'the value'}: more than {MAX_PLAIN_ITEMS} values")
        if depth > MAX_PLAIN_DEPTH:
            raise ValueError(f"{path}: nested deeper than {MAX_PLAIN_DEPTH} levels")
        if isinstance(item, str):
            if len(item) > MAX_PLAIN_TEXT:
                raise ValueError(f"{path}: text longer than {MAX_PLAIN_TEXT} characters")
            if not is_valid_text(item):
                raise ValueError(f"{path}: text is not valid UTF-8 (a lone surrogate escape)")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError(f"{path}: {item} is not a JSON number; use a finite number")
        elif isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                raise ValueError(f"{path}: keys must be text; quote them, e.g. '1': 0.5")
        elif not isinstance(item, bool | int | list | tuple) and item is not None:
            kind = type(item).__name__
            raise ValueError(
                f"{path}: a {kind} is not JSON data (text, numbers, true/false, null, lists, "
                "mappings); quote it, e.g. '2024-01-01'"
            )


def bad_text(value: object, *, where: str = "") -> str | None:
    """The path of the first string (value or key) inside `value` that is not valid UTF-8."""
    for path, item, _depth in _walk(value, where):
        if isinstance(item, str) and not is_valid_text(item):
            return path or "(top level)"
    return None


def shown_path(path: Path | str) -> str:
    """`path` for messages and records: bytes that are not UTF-8 shown as \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def writable_text(text: str) -> str:
    """`text` with any lone surrogate written as a \\udXXX escape, so it encodes as UTF-8."""
    return text if is_valid_text(text) else text.encode("utf-8", "backslashreplace").decode()
