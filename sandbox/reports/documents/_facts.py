"""Facts the transparency documents state, each with the ``report.json`` path it comes from.

A document never states what the report does not hold: every value is looked up by its path
in the report's JSON form, and a value that is missing or empty is a *gap* to be listed, not
filled in. The same paths are what a reader (or a test) follows to check each value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.reports.model import AuditReport

__all__ = ["Fact", "ReportFacts", "as_text", "lookup", "suppressed"]

#: Marker for a path that does not resolve.
_ABSENT = object()


@dataclass(frozen=True)
class Fact:
    """A value and the ``report.json`` path(s) it was taken from."""

    value: Any
    sources: tuple[str, ...]

    @property
    def source(self) -> str:
        """The source path(s), comma-separated."""
        return ", ".join(self.sources)


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path of the report's JSON form, or None when absent."""
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _present(value: Any) -> bool:
    if value is None or value is _ABSENT:
        return False
    if isinstance(value, str | list | tuple | dict):
        return len(value) > 0
    return True


def as_text(value: Any, separator: str = "; ") -> str:
    """A fact as one line of text: lists joined with '; ', mappings as 'key: value'."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return separator.join(as_text(v, ", ") for v in value)
    if isinstance(value, dict):
        return separator.join(f"{k}: {as_text(v, ', ')}" for k, v in value.items())
    return " ".join(str(value).split())


def suppressed(count: int, min_group_size: int) -> str:
    """How a count below the minimum group size is published: ``<50``."""
    return f"<{min_group_size}" if count < min_group_size else f"{count}"


class ReportFacts:
    """Look-ups into one report's JSON form, each answer carrying its source path."""

    def __init__(self, report: AuditReport) -> None:
        self.report = report
        self.data: dict[str, Any] = report.model_dump(mode="json")

    def get(self, *paths: str) -> Fact | None:
        """The first path (in order) whose value is present and not empty."""
        for path in paths:
            value = lookup(self.data, path)
            if _present(value):
                return Fact(value, (path,))
        return None

    def transparency(self, *keys: str) -> Fact | None:
        """The first of ``governance.transparency.<key>`` that the pilot declared."""
        return self.get(*(f"governance.transparency.{key}" for key in keys))

    def translated(self, fact: Fact | None, language: str) -> tuple[Fact | None, bool]:
        """A fact in ``language`` when the pilot declared ``governance.transparency.<key>_<lang>``.

        ``<key>`` is the last part of the fact's path (``purpose`` for ``pilot.purpose``).

        Returns the fact and whether it is in the asked language; otherwise the original
        (English) fact, to be quoted as such. Nothing is machine-translated.
        """
        if fact is None or language == "en":
            return fact, True
        key = fact.sources[0].rsplit(".", 1)[-1]
        local = self.transparency(f"{key}_{language}")
        if local is not None:
            return local, True
        return fact, False
