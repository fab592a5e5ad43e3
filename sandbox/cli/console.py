"""The consoles every command prints to, and shared argument types."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["OutOption", "PilotArg", "console", "errors"]

console = Console()
errors = Console(stderr=True)

PilotArg = Annotated[
    Path, typer.Argument(help="A pilot folder holding a pilot.yaml.", show_default=False)
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Also write the reports into this folder.")
]
