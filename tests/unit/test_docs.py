"""Every CLI command is documented in the README (datasette's tests/test_docs.py habit)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from sandbox.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[str]:
    found: list[str] = []

    def walk(command: object, prefix: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, [*prefix, name])
        else:
            found.append(" ".join(prefix))

    walk(typer.main.get_command(app), [])
    return found


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_in_the_readme(command: str) -> None:
    readme = (ROOT / "README.md").read_text()
    group, _, leaf = command.rpartition(" ")
    assert f"sandbox {command}" in readme or (
        group and f"sandbox {group}" in readme and leaf in readme
    )
