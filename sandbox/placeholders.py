"""Placeholders in a pilot.yaml: the fields a scaffold leaves for the team to complete.

`sandbox init` writes every answer it cannot know as a text starting with `TODO:` (what to
write there). A manifest that still holds one is refused when it is loaded, so neither
`sandbox policy check` nor `sandbox run` accepts a pilot whose governance answers were never
given; the message lists every field left to complete.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PLACEHOLDER", "placeholder", "placeholder_fields"]

PLACEHOLDER = "TODO:"


def placeholder(what: str) -> str:
    """The placeholder text for a field: `TODO: <what to write here>`."""
    return f"{PLACEHOLDER} {what}"


def placeholder_fields(document: Any, prefix: str = "") -> list[str]:
    """The field paths (`pilot.purpose`, `data.features[0]`) whose value is a placeholder."""
    found: list[str] = []
    if isinstance(document, str):
        if document.lstrip().startswith(PLACEHOLDER):
            found.append(prefix or "(top level)")
    elif isinstance(document, dict):
        for key, value in document.items():
            found += placeholder_fields(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(document, list | tuple):
        for index, value in enumerate(document):
            found += placeholder_fields(value, f"{prefix}[{index}]")
    return found
