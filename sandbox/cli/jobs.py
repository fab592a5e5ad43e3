"""`sandbox jobs list|show|cancel --server URL`: a hosted sandbox's jobs, as a token sees them.

A data team sees its own organisation's jobs, an auditor those of the organisations it is
granted (`--organisation`). A job of another organisation is answered as one that does not
exist. Exit codes: 0 done, 2 refused (unknown job, a token that may not), 1 server failure.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from sandbox.cli.console import console
from sandbox.cli.remote import (
    CaFileOption,
    ServerOption,
    TokenFileOption,
    open_client,
    print_job,
)

__all__ = ["app"]

app = typer.Typer(help="List, show and cancel a hosted sandbox's jobs.", no_args_is_help=True)

JobArg = Annotated[str, typer.Argument(help="A job id (job_...).", show_default=False)]


@app.command("list")
def jobs_list(
    server: ServerOption,
    token_file: TokenFileOption = None,
    ca_file: CaFileOption = None,
    organisation: Annotated[
        str | None,
        typer.Option(help="An organisation an auditor is granted (default: the token's own)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many jobs.")] = 50,
) -> None:
    """The newest jobs first: id, state, verdict, pilot, when submitted."""
    with open_client(server, token_file, ca_file) as client:
        jobs = client.jobs(organisation=organisation, limit=limit)
    if not jobs:
        console.print("no jobs")
    for job in jobs:
        print_job(job)


@app.command("show")
def jobs_show(
    job_id: JobArg,
    server: ServerOption,
    token_file: TokenFileOption = None,
    ca_file: CaFileOption = None,
) -> None:
    """One job: state, attempts, worker, times, run and verdict, error."""
    with open_client(server, token_file, ca_file) as client:
        job = client.job(job_id)
    print_job(job, detail=True)


@app.command("cancel")
def jobs_cancel(
    job_id: JobArg,
    server: ServerOption,
    token_file: TokenFileOption = None,
    ca_file: CaFileOption = None,
) -> None:
    """Cancel a job: a queued one at once, a running one when its worker next checks."""
    with open_client(server, token_file, ca_file) as client:
        job = client.cancel(job_id)
    print_job(job)
    if not job.terminal:
        console.print(
            f"[dim]cancel requested; the worker stops {escape(job.id)} at its next step[/]",
            highlight=False,
        )
