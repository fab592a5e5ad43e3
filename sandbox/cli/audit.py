"""`sandbox audit ...`: check the signed, hash-chained audit trail."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sandbox.cli.console import console, errors
from sandbox.errors import SandboxError
from sandbox.settings import Settings

__all__ = ["app"]

app = typer.Typer(help="Check the signed, hash-chained audit trail.", no_args_is_help=True)


@app.command("verify")
def audit_verify(
    trail: Annotated[Path | None, typer.Option(help="Trail file; default: the sandbox's.")] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="Public key (PEM); default: the one beside the key.")
    ] = None,
) -> None:
    """Verify every signature and hash link of the audit trail; exit 1 at the first bad record."""
    from sandbox.audit.signing import Verifier, public_key_path_for
    from sandbox.audit.trail import verify_trail

    settings = Settings()
    trail_path = trail or settings.trail_path
    key_path = public_key or public_key_path_for(settings.key_path)
    if not trail_path.is_file():
        raise SandboxError(f"{trail_path}: no audit trail yet; run a pilot first (sandbox demo)")
    result = verify_trail(trail_path, Verifier.from_public_key_file(key_path))
    if result.ok:
        console.print(
            f"[green]✓ trail verified[/]: {result.records_checked} records, "
            f"head {result.head_hash}\n  {trail_path}"
        )
        return
    errors.print(
        f"[red]✗ trail does NOT verify[/] at line {result.first_bad_line}"
        f" (seq {result.first_bad_seq}): {result.reason}\n  {trail_path}"
    )
    raise typer.Exit(1)
