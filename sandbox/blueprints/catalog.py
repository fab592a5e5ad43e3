"""Where blueprints are found, and what each one is.

Two places are searched, in this order: the `blueprints/` folder of a source checkout (beside
the `sandbox` package), and the copy an installation ships under
`<prefix>/share/ai-commons-sandbox/blueprints`. A blueprint is a folder holding a pilot.yaml;
its name is the folder's name, and the first place that holds a name wins.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from sandbox.blueprints.layout import README_NAME
from sandbox.blueprints.readme import readme_sections, readme_title, section_summary
from sandbox.errors import SandboxError, UserInputError
from sandbox.hostfile import HostFileError, read_pilot_file
from sandbox.manifest import MANIFEST_NAME, load_manifest

__all__ = ["Blueprint", "blueprint_roots", "find_blueprint", "list_blueprints", "read_readme"]

MAX_README_BYTES = 1_000_000


@dataclass(frozen=True, kw_only=True)
class Blueprint:
    """One blueprint as the catalog shows it."""

    name: str
    path: Path
    title: str
    task: str
    purpose: str
    problem: str  # from pilot.yaml when it loads, else the README
    error: str | None = None  # why its pilot.yaml does not load, if it does not


def blueprint_roots() -> list[Path]:
    """The folders searched for blueprints that exist, in the order they are searched."""
    checkout = Path(__file__).resolve().parents[2] / "blueprints"
    installed = Path(sys.prefix) / "share" / "ai-commons-sandbox" / "blueprints"
    roots: list[Path] = []
    for root in (checkout, installed):
        if root.is_dir() and root.resolve() not in [r.resolve() for r in roots]:
            roots.append(root)
    return roots


def read_readme(folder: Path) -> str:
    """The folder's README.md as text; an empty string when there is none or it cannot be read."""
    try:
        return read_pilot_file(folder / README_NAME, max_bytes=MAX_README_BYTES).decode(
            "utf-8", errors="replace"
        )
    except HostFileError:
        return ""


def describe(folder: Path) -> Blueprint:
    """The catalog entry of one blueprint folder (its manifest may be broken: then `error`)."""
    readme = read_readme(folder)
    sections = readme_sections(readme)
    try:
        manifest = load_manifest(folder)
    except SandboxError as exc:
        return Blueprint(
            name=folder.name,
            path=folder,
            title=readme_title(readme) or folder.name,
            task="?",
            purpose="",
            problem=section_summary(sections.get("Resident-facing problem", "")),
            error=str(exc),
        )
    return Blueprint(
        name=folder.name,
        path=folder,
        title=manifest.pilot.title or readme_title(readme) or folder.name,
        task=manifest.task.type,
        purpose=" ".join(manifest.pilot.purpose.split()),
        problem=" ".join(manifest.pilot.problem.split()),
    )


def _folders() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in blueprint_roots():
        for folder in sorted(root.iterdir()):
            if folder.is_dir() and (folder / MANIFEST_NAME).is_file():
                found.setdefault(folder.name, folder)
    return found


def list_blueprints() -> list[Blueprint]:
    """Every blueprint found, by name."""
    return [describe(folder) for _, folder in sorted(_folders().items())]


def find_blueprint(name: str) -> Path:
    """The folder of the blueprint `name`, or of a blueprint folder given by path."""
    folders = _folders()
    if name in folders:
        return folders[name]
    given = Path(name)
    if given.is_dir() and (given / MANIFEST_NAME).is_file():
        return given
    known = ", ".join(sorted(folders)) or "none found"
    raise UserInputError(
        f"no blueprint named {name!r} (known: {known}); `sandbox blueprint list` shows them"
    )
