"""A blueprint README's `## ` sections: their titles in order, their text, what is missing."""

from __future__ import annotations

from collections.abc import Sequence

from sandbox.blueprints.layout import REQUIRED_SECTIONS

__all__ = ["missing_sections", "readme_sections", "readme_title", "section_summary"]


def readme_sections(text: str) -> dict[str, str]:
    """`## ` heading -> the section's text, in order; headings inside code fences are not read."""
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            if current is not None:
                sections[current] = "\n".join(lines).strip()
            current, lines = line[3:].strip(), []
        elif current is not None:
            lines.append(line)
    if current is not None:
        sections[current] = "\n".join(lines).strip()
    return sections


def readme_title(text: str) -> str:
    """The README's `# ` title, or an empty string."""
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def missing_sections(
    titles: Sequence[str], required: Sequence[str] = REQUIRED_SECTIONS
) -> tuple[list[str], bool]:
    """The required sections absent from `titles`, and whether those present are in order."""
    missing = [name for name in required if name not in titles]
    present = [titles.index(name) for name in required if name in titles]
    return missing, present == sorted(present)


def section_summary(text: str, *, max_chars: int = 400) -> str:
    """A section's first paragraph as one line, cut at `max_chars`."""
    paragraph = text.strip().split("\n\n", 1)[0]
    line = " ".join(paragraph.split())
    return line if len(line) <= max_chars else line[: max_chars - 1].rstrip() + "…"
