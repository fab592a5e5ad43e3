"""The `sandbox` command line. Thin: parse, call one core function, show the result.

Exit codes: 0 the run passed (possibly with warnings), 1 an unexpected failure, 2 bad input
(manifest, policy pack, data, arguments), 3 the run completed but its verdict is fail/blocked.
Heavy libraries (docker, mlflow, fairlearn, pandas) are imported inside commands, so
`sandbox --help` starts instantly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from sandbox.errors import SandboxError
from sandbox.settings import Settings

__all__ = ["app", "main"]

REFERENCE_BLUEPRINT = "benefits-eligibility-screening"

app = typer.Typer(
    name="sandbox",
    help="Run municipal AI pilots in a hardened container, under governance, on the record.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="Check the signed, hash-chained audit trail.", no_args_is_help=True)
image_app = typer.Typer(help="Build and inspect the runner image.", no_args_is_help=True)
schema_app = typer.Typer(
    help="Print JSON Schemas of the sandbox's documents.", no_args_is_help=True
)
policy_app = typer.Typer(help="List, show and check governance policy packs.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(image_app, name="image")
app.add_typer(schema_app, name="schema")
app.add_typer(policy_app, name="policy")

console = Console()
errors = Console(stderr=True)

PilotArg = Annotated[
    Path, typer.Argument(help="A pilot folder holding a pilot.yaml.", show_default=False)
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Also write the reports into this folder.")
]


@app.command()
def run(pilot: PilotArg, out: OutOption = None) -> None:
    """Run PILOT end to end: policies, hardened container, evaluation, reports, trail."""
    _run_and_report(pilot, out)


@app.command()
def demo(out: OutOption = None) -> None:
    """Run the reference blueprint end to end, building the runner image first if needed."""
    from sandbox.runtime.image import build_runner_image, image_exists

    settings = Settings()
    if not settings.image and not image_exists():
        console.print("[bold]Building the runner image[/] (first run only; a few minutes)")
        with console.status("building") as status:
            build_runner_image(progress=lambda line: status.update(line))
    _run_and_report(_blueprints_dir() / REFERENCE_BLUEPRINT, out)


def _blueprints_dir() -> Path:
    here = Path(__file__).resolve().parent.parent / "blueprints"
    if here.is_dir():
        return here
    return Path.cwd() / "blueprints"


def _run_and_report(pilot: Path, out: Path | None) -> None:
    from sandbox.pipeline import run_pilot
    from sandbox.progress import StageDisplay
    from sandbox.services import build_services
    from sandbox.summary import print_summary

    settings = Settings()
    console.print(f"[bold]Pilot[/] {pilot}")
    with StageDisplay(console) as display:
        outcome = run_pilot(pilot, build_services(settings), out_dir=out, progress=display.update)
    print_summary(console, outcome, settings)
    raise typer.Exit(outcome.exit_code)


@audit_app.command("verify")
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


@image_app.command("build")
def image_build(
    force: Annotated[bool, typer.Option(help="Rebuild even if the image exists.")] = False,
) -> None:
    """Build the runner image from Debian packages and pinned wheels (no registry needed)."""
    from sandbox.runtime.image import build_runner_image

    with console.status("building the runner image") as status:
        tag = build_runner_image(force=force, progress=lambda line: status.update(line))
    console.print(f"[green]✓[/] runner image {tag}")


@app.command()
def doctor() -> None:
    """Check the engine, the runner image, the MLflow store and the signing key; say how to fix."""
    from sandbox.doctor import run_checks

    checks = run_checks(Settings())
    for check in checks:
        mark = "[green]✓[/]" if check.ok else "[red]✗[/]"
        console.print(f"{mark} {check.name}: {check.detail}")
        if not check.ok and check.fix:
            console.print(f"    fix: {check.fix}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@schema_app.command("pilot")
def schema_pilot() -> None:
    """The JSON Schema of pilot.yaml."""
    from sandbox.manifest import manifest_json_schema

    _print_json(manifest_json_schema())


@schema_app.command("policy")
def schema_policy() -> None:
    """The JSON Schema of a policy pack."""
    from sandbox.policies.pack import pack_json_schema

    _print_json(pack_json_schema())


@schema_app.command("report")
def schema_report() -> None:
    """The JSON Schema of report.json."""
    from sandbox.audit.report import report_json_schema

    _print_json(report_json_schema())


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


@policy_app.command("list")
def policy_list() -> None:
    """The built-in policy packs."""
    from sandbox.policies.pack import builtin_pack_names, load_pack

    for name in builtin_pack_names():
        pack = load_pack(name)
        console.print(f"[bold]{pack.id}[/] {pack.version}: {len(pack.rules)} rules")
        console.print(f"  {pack.description.strip()}")


@policy_app.command("show")
def policy_show(
    pack: Annotated[str, typer.Argument(help="A built-in pack name or a file.")],
) -> None:
    """Every rule of a pack: stage, severity, type, parameters."""
    from sandbox.policies.pack import load_pack

    loaded = load_pack(pack)
    console.print(f"[bold]{loaded.id}[/] {loaded.version}  {loaded.sha256}")
    for rule in loaded.rules:
        console.print(
            f"- [bold]{rule.id}[/] ({rule.stage}, {rule.severity}, {rule.type}): {rule.title}"
        )
        if rule.params:
            console.print(f"    params: {json.dumps(rule.params, sort_keys=True)}")


@policy_app.command("check")
def policy_check(pilot: PilotArg) -> None:
    """Run the pre-run rules only, without a container: fast feedback on a manifest."""
    from sandbox.manifest import load_manifest
    from sandbox.policies.engine import check_stage, decide
    from sandbox.policies.pack import load_pack
    from sandbox.policies.rules import RuleContext
    from sandbox.services import default_hardening

    manifest = load_manifest(pilot)
    packs = [load_pack(name, pilot_dir=pilot) for name in manifest.governance.policy_packs]
    ctx = RuleContext(manifest=manifest, hardening=default_hardening(Settings()))
    verdict = decide(packs, check_stage(packs, "pre_run", ctx))
    for outcome in verdict.outcomes:
        mark = {"passed": "[green]✓[/]", "failed": "[red]✗[/]"}.get(outcome.outcome, "·")
        console.print(f"{mark} {outcome.rule_id}: {outcome.message}")
    console.print(f"pre-run verdict: [bold]{verdict.status}[/]")
    raise typer.Exit(0 if verdict.status != "blocked" else 3)


def main() -> None:
    """Console entry point: map the error tree onto exit codes."""
    try:
        code = app(standalone_mode=False)  # returns the code of a typer.Exit instead of raising
    except SandboxError as exc:
        errors.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        errors.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click's usage errors carry their own exit code (2)
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
