"""`sandbox submit PILOT --server URL [--wait]`: send a pilot to a hosted sandbox.

The folder is packed as `pack_pilot` packs it (the server's limits, checked before a byte is
sent), streamed in chunks, and answered with the pre-run verdict: exit 0 when a job was
queued, 3 when the pilot was blocked at the door (as `sandbox policy check`), 2 when the
folder or the archive was refused, 1 when the server could not be reached or failed. With
`--wait` the command follows the job to its end and exits as `sandbox run` would have: 0 when
the run's verdict lets the pilot proceed, 3 on fail or blocked, 1 when the job was cancelled
or lost or its run ended without a verdict.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.markup import escape

from sandbox.cli.console import PilotArg, console, errors
from sandbox.cli.remote import (
    CaFileOption,
    ServerOption,
    TokenFileOption,
    open_client,
    print_job,
    read_token,
)
from sandbox.hosted.views import BadResponse, JobView, PreRun, verdict_exit_code

if TYPE_CHECKING:  # httpx is imported when a command reaches a server, not at start-up
    from sandbox.hosted.client import HostedClient

__all__ = ["register", "submit"]

_FIRST_POLL_S: Final = 1.0
_MAX_POLL_S: Final = 5.0
_FAILED_POLLS: Final = 10  # consecutive failed polls (a server restarting) before giving up
_MARKS: Final = {"passed": "[green]✓[/]", "failed": "[red]✗[/]"}
_VERDICTS: Final = {
    "pass": "[green]PASS[/]",
    "passed": "[green]PASS[/]",
    "pass_with_warnings": "[yellow]PASS WITH WARNINGS[/]",
    "passed_with_warnings": "[yellow]PASS WITH WARNINGS[/]",
    "fail": "[red]FAIL[/]",
    "failed": "[red]FAIL[/]",
    "blocked": "[red]BLOCKED[/]",
}


def register(app: typer.Typer) -> None:
    """Add `sandbox submit` to `app`."""
    app.command()(submit)


def submit(
    pilot: PilotArg,
    server: ServerOption,
    token_file: TokenFileOption = None,
    ca_file: CaFileOption = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the job to its end; exit with its verdict.")
    ] = False,
) -> None:
    """Send PILOT to a hosted sandbox: pre-run policies at once, the run on a worker."""
    from sandbox.hosted.client import check_server
    from sandbox.hosted.packing import pack_pilot
    from sandbox.plain_data import shown_path

    check_server(server)
    read_token(token_file)  # a missing token is said before the folder is read
    packed = pack_pilot(pilot)
    console.print(
        f"[bold]Pilot[/] {escape(shown_path(pilot))}: {len(packed.files)} files, "
        f"{len(packed.data):,} bytes packed",
        highlight=False,
    )
    with open_client(server, token_file, ca_file) as client:
        answer = client.submit(packed.chunks())
        if answer.archive_sha256.removeprefix("sha256:") != packed.digest.removeprefix("sha256:"):
            raise BadResponse(
                f"{client.server}: the server stored the archive as {answer.archive_sha256}, "
                f"not as the {packed.digest} sent"
            )
        console.print(f"[bold]Archive[/] {escape(packed.digest)}", highlight=False)
        _print_pre_run(answer.pre_run)
        if answer.job is None:
            console.print("[red]blocked at the door: no job was queued[/]")
            raise typer.Exit(3)
        console.print(f"[bold]Job[/] {escape(answer.job.id)} queued", highlight=False)
        if not wait:
            console.print(
                f"[dim]Follow it: sandbox jobs show {escape(answer.job.id)} --server "
                f"{escape(client.server)}[/]",
                highlight=False,
            )
            raise typer.Exit(0)
        try:
            job = _follow(client, answer.job)
        except KeyboardInterrupt:
            errors.print(
                f"stopped waiting; the job goes on: sandbox jobs show {escape(answer.job.id)}"
            )
            raise typer.Exit(130) from None
    raise typer.Exit(_print_end(job))


def _print_pre_run(pre_run: PreRun) -> None:
    """The pre-run rules' outcomes, as `sandbox policy check` prints them."""
    console.print(f"packs: {escape(', '.join(pre_run.packs))}", highlight=False)
    for rule in pre_run.outcomes:
        mark = _MARKS.get(rule.outcome, "·")
        level = f" ({escape(rule.severity)})" if rule.outcome == "failed" else ""
        console.print(
            f"{mark} {escape(rule.rule_id)}{level}: {escape(rule.message)}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"pre-run verdict: [bold]{escape(pre_run.status)}[/]", highlight=False)


def _follow(client: HostedClient, job: JobView) -> JobView:
    """Poll `job` until it is terminal, printing a line whenever its state changes."""
    from sandbox.hosted.client import ServerUnavailable

    started = time.monotonic()
    shown: tuple[str, int] | None = None
    interval, failed = _FIRST_POLL_S, 0
    with console.status(f"{job.id} {job.state}") as status:
        while True:
            if (job.state, job.attempts) != shown:
                shown = (job.state, job.attempts)
                worker = f" on {escape(job.worker)}" if job.worker else ""
                attempt = f" (attempt {job.attempts})" if job.attempts > 1 else ""
                console.print(f"  {escape(job.state)}{worker}{attempt}", highlight=False)
            if job.terminal:
                return job
            time.sleep(interval)
            interval = min(interval * 1.5, _MAX_POLL_S)
            try:
                job = client.job(job.id)
                failed = 0
            except (ServerUnavailable, BadResponse) as exc:
                failed += 1
                if failed >= _FAILED_POLLS:
                    raise
                status.update(f"{job.id}: {escape(str(exc))[:120]}; trying again")
                continue
            elapsed = int(time.monotonic() - started)
            status.update(f"{job.id} {job.state} {elapsed // 60}m{elapsed % 60:02d}s")


def _print_end(job: JobView) -> int:
    """The job's outcome, as `sandbox run` ends; the exit code."""
    code = verdict_exit_code(job)
    if job.state == "finished" and job.verdict is not None:
        label = _VERDICTS.get(job.verdict, escape(job.verdict))
        run = f"  run {escape(job.run_id)}" if job.run_id else ""
        console.print(f"{label}  {escape(job.pilot)}{run}", highlight=False)
    else:
        console.print(f"[red]job {escape(job.state)}[/]", highlight=False)
    if job.error:
        console.print(f"[red]error:[/] {escape(job.error)}", highlight=False, soft_wrap=True)
    print_job(job, detail=True)
    return code
