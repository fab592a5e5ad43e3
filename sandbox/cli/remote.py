"""How a command reaches a hosted sandbox: the --server and --token-file options, the token,
and the lines that show a job.

A token is never a command-line argument (it would show in `ps` and in shell history): it
comes from SANDBOX_TOKEN or from a file that only its owner can read, read with a size cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.markup import escape

from sandbox.cli.console import console
from sandbox.errors import UserInputError
from sandbox.hosted.views import JobView

if TYPE_CHECKING:  # httpx is imported by the commands that reach a server, not at start-up
    from sandbox.hosted.client import HostedClient

__all__ = [
    "CaFileOption",
    "ServerOption",
    "TokenFileOption",
    "open_client",
    "print_job",
    "read_token",
]

TOKEN_VARIABLE: Final = "SANDBOX_TOKEN"  # noqa: S105 (a variable name, not a secret)
_MAX_TOKEN_FILE: Final = 4096
_MAX_TOKEN: Final = 128

ServerOption = Annotated[
    str,
    typer.Option(
        "--server",
        envvar="SANDBOX_SERVER",
        help="The hosted sandbox, https://HOST[:PORT] (default: SANDBOX_SERVER).",
        show_default=False,
    ),
]
TokenFileOption = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help=f"A file (mode 0600) holding the token; default: the {TOKEN_VARIABLE} variable.",
        show_default=False,
    ),
]
CaFileOption = Annotated[
    Path | None,
    typer.Option(
        "--ca-file",
        envvar="SANDBOX_CA_FILE",
        help="Trust only this authority's certificates (PEM) for the server's https; "
        "default: the public authorities.",
        show_default=False,
    ),
]


def _checked(token: str, source: str) -> str:
    token = token.strip()
    if not token:
        raise UserInputError(f"{source}: empty; put the token an operator issued you there")
    if len(token) > _MAX_TOKEN or not token.isascii() or not token.isprintable() or " " in token:
        raise UserInputError(
            f"{source}: not a token (sbx_ and up to {_MAX_TOKEN} printable characters); put "
            "the token an operator issued you there, alone"
        )
    return token


def read_token(token_file: Path | None) -> str:
    """The token from `token_file`, else from SANDBOX_TOKEN; UserInputError naming the fix."""
    if token_file is None:
        token = os.environ.get(TOKEN_VARIABLE)
        if token is None:
            raise UserInputError(
                f"no token: set {TOKEN_VARIABLE}, or pass --token-file FILE (a file of mode "
                "0600 holding the token an operator issued you)"
            )
        return _checked(token, TOKEN_VARIABLE)
    try:
        with token_file.open("rb") as handle:
            facts = os.fstat(handle.fileno())
            if not stat.S_ISREG(facts.st_mode):
                raise UserInputError(f"--token-file {token_file}: not a regular file")
            if facts.st_mode & 0o077:
                raise UserInputError(
                    f"--token-file {token_file}: other users may read it (mode "
                    f"{stat.S_IMODE(facts.st_mode):04o}); run `chmod 600 {token_file}`"
                )
            data = handle.read(_MAX_TOKEN_FILE + 1)
    except OSError as exc:
        raise UserInputError(
            f"--token-file {token_file}: cannot read it ({exc.strerror})"
        ) from None
    if len(data) > _MAX_TOKEN_FILE:
        raise UserInputError(f"--token-file {token_file}: over {_MAX_TOKEN_FILE} bytes")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise UserInputError(f"--token-file {token_file}: not ASCII text") from None
    return _checked(text, f"--token-file {token_file}")


def open_client(server: str, token_file: Path | None, ca_file: Path | None = None) -> HostedClient:
    """A client of `server`, holding the caller's token."""
    from sandbox.hosted.client import HostedClient

    return HostedClient(server, read_token(token_file), ca_file=ca_file)


def print_job(job: JobView, *, detail: bool = False) -> None:
    """One line for a job; with `detail`, its times, worker, run and error too."""
    verdict = f" {escape(job.verdict)}" if job.verdict else ""
    cancel = " (cancel requested)" if job.cancel_requested and not job.terminal else ""
    console.print(
        f"[bold]{escape(job.id)}[/] {escape(job.state)}{verdict}{cancel}  "
        f"{escape(job.pilot)}  {job.created.isoformat(timespec='seconds')}",
        highlight=False,
        soft_wrap=True,
    )
    if not detail:
        return
    rows = [
        ("organisation", job.organisation),
        ("submitted by", job.principal),
        ("archive", job.archive_sha256),
        ("attempts", str(job.attempts)),
        ("worker", job.worker),
        ("started", job.started.isoformat(timespec="seconds") if job.started else None),
        ("finished", job.finished.isoformat(timespec="seconds") if job.finished else None),
        ("run", job.run_id),
        ("error", job.error),
    ]
    for name, value in rows:
        if value is not None:
            console.print(f"  {name:<13}{escape(value)}", highlight=False, soft_wrap=True)
