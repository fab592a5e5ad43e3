"""`sandbox run`, `sandbox demo` and `sandbox doctor`."""

from __future__ import annotations

from pathlib import Path

import typer

from sandbox.cli.console import OutOption, PilotArg, TenantOption, console

__all__ = ["register"]

REFERENCE_BLUEPRINT = "benefits-eligibility-screening"


def register(app: typer.Typer) -> None:
    """Add the top-level commands to `app`."""
    app.command()(run)
    app.command()(demo)
    app.command()(doctor)


def run(pilot: PilotArg, out: OutOption = None, tenant: TenantOption = None) -> None:
    """Run PILOT end to end: policies, hardened container, evaluation, reports, trail."""
    _run_and_report(pilot, out, tenant)


def demo(out: OutOption = None) -> None:
    """Run the reference blueprint end to end, building the runner image first if needed."""
    from sandbox.runtime.docker.image import build_runner_image, image_exists
    from sandbox.settings import Settings

    settings = Settings()
    if not settings.image and not image_exists():
        console.print("[bold]Building the runner image[/] (first run only; a few minutes)")
        with console.status("building") as status:
            build_runner_image(progress=lambda line: status.update(line))
    _run_and_report(_blueprints_dir() / REFERENCE_BLUEPRINT, out)


def _blueprints_dir() -> Path:
    here = Path(__file__).resolve().parents[2] / "blueprints"
    if here.is_dir():
        return here
    return Path.cwd() / "blueprints"


def _run_and_report(pilot: Path, out: Path | None, tenant: str | None = None) -> None:
    from sandbox.runs.services import build_services
    from sandbox.settings import Settings

    settings = Settings() if tenant is None else Settings(tenant=tenant)
    # Before the run's own imports (pandas, pyarrow, the policies, about a second): the
    # tracker's sidecar loads MLflow while they happen.
    services = build_services(settings)
    from sandbox.cli.progress import StageDisplay
    from sandbox.cli.summary import print_summary
    from sandbox.runs.pilot_run import run_pilot
    from sandbox.runs.recovery import settle

    for line in settle(services):
        console.print(f"[yellow]{line}[/]")
    from rich.markup import escape

    from sandbox.plain_data import shown_path

    # The folder's name is the user's: not valid UTF-8, or markup, it is shown, not obeyed.
    console.print(f"[bold]Pilot[/] {escape(shown_path(pilot))}")
    with StageDisplay(console) as display:
        outcome = run_pilot(pilot, services, out_dir=out, progress=display.update)
    settle(services)
    print_summary(console, outcome, settings)
    raise typer.Exit(outcome.exit_code)


def doctor() -> None:
    """Check the engine, the runner image, the MLflow store and the signing key; say how to fix."""
    from sandbox.cli.doctor import run_checks
    from sandbox.settings import Settings

    checks = run_checks(Settings())
    for check in checks:
        mark = "[green]✓[/]" if check.ok else "[red]✗[/]"
        console.print(f"{mark} {check.name}: {check.detail}")
        if not check.ok and check.fix:
            console.print(f"    fix: {check.fix}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
