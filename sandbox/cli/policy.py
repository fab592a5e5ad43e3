"""`sandbox policy ...`: list, show and check governance policy packs."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from sandbox.cli.console import PilotArg, console
from sandbox.settings import Settings

__all__ = ["app"]

app = typer.Typer(help="List, show and check governance policy packs.", no_args_is_help=True)


@app.command("list")
def policy_list() -> None:
    """The built-in policy packs."""
    from sandbox.policies.pack import builtin_pack_names, load_pack

    for name in builtin_pack_names():
        pack = load_pack(name)
        console.print(f"[bold]{pack.id}[/] {pack.version}: {len(pack.rules)} rules")
        console.print(f"  {pack.description.strip()}")


@app.command("show")
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


@app.command("check")
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
