"""`sandbox register build`: the public algorithm register of the configured trail.

Exit codes: 0 written, 2 bad input (an entry that breaks the standard, a report that cannot
be read, an --out that is not a register folder), 1 the trail or a report does not verify.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sandbox.cli.console import console

__all__ = ["app"]

app = typer.Typer(
    help="The public algorithm register: runs approved for publication.", no_args_is_help=True
)


@app.command("build")
def register_build(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the site into.")],
    organisation: Annotated[
        str | None, typer.Option(help="Only this organisation's runs (its id).")
    ] = None,
) -> None:
    """Write index.html, a page and JSON per entry, register.json and the evidence."""
    from sandbox.register.build import build_register
    from sandbox.settings import Settings

    built = build_register(Settings(), out, organisation=organisation)
    for entry in built.entries:
        name = entry.standard.get("name", entry.id)
        console.print(f"  {escape(entry.id)}: {escape(str(name))} (run {entry.approval.run_id})")
    console.print(f"register: {len(built.entries)} entries in {escape(str(out))}/index.html")
    if built.checkpoint is not None:
        console.print(
            f"evidence proven against the checkpoint of {built.checkpoint.trail_size} records"
        )
