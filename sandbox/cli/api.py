"""`sandbox api ...`: serve the read-only web API and dashboard, and issue city tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from sandbox.cli.console import console
from sandbox.errors import UserInputError

__all__ = ["app"]

app = typer.Typer(help="Serve the read-only web API and dashboard.", no_args_is_help=True)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve runs, reports and verdicts to the cities holding a token."""
    import uvicorn

    from sandbox.api import create_app
    from sandbox.settings import Settings

    uvicorn.run(create_app(Settings()), host=host, port=port, log_level="info")


@app.command("token")
def token(
    city: Annotated[
        str | None,
        typer.Argument(
            help="The tenant, as runs are recorded for it (default: SANDBOX_TENANT, `local`)."
        ),
    ] = None,
) -> None:
    """Issue an access token for CITY; it is shown once and stored only as a hash.

    CITY must be a valid tenant name (not empty, at most 64 characters of letters, digits,
    spaces and . , ' & ( ) -, not a reserved word); otherwise one line and exit 2.
    """
    from sandbox.api.app import tenants_path
    from sandbox.api.tenants import issue_token
    from sandbox.settings import Settings

    settings = Settings()
    city = settings.tenant if city is None else city
    if city is None:
        raise UserInputError("sandbox api token: name the city (or set SANDBOX_TENANT)")
    path = tenants_path(settings)
    console.print(issue_token(path, city), soft_wrap=True, highlight=False)
    console.print(
        f"[dim]stored as a SHA-256 in {path}; it sees only the runs recorded for {city}[/]",
        highlight=False,
    )
