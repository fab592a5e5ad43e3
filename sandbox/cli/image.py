"""`sandbox image ...`: the runner image."""

from __future__ import annotations

from typing import Annotated

import typer

from sandbox.cli.console import console

__all__ = ["app"]

app = typer.Typer(help="Build and inspect the runner image.", no_args_is_help=True)


@app.command("build")
def image_build(
    force: Annotated[bool, typer.Option(help="Rebuild even if the image exists.")] = False,
) -> None:
    """Build the runner image from Debian packages and pinned wheels (no registry needed)."""
    from sandbox.runtime.docker.image import build_runner_image

    with console.status("building the runner image") as status:
        tag = build_runner_image(force=force, progress=lambda line: status.update(line))
    console.print(f"[green]✓[/] runner image {tag}")
