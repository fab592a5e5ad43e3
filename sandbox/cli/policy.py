"""`sandbox policy ...`: list, show, explain and check governance policy packs."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from sandbox.cli.console import PilotArg, console

__all__ = ["app"]

app = typer.Typer(
    help="List, show, explain and check governance policy packs.", no_args_is_help=True
)

PackOption = Annotated[
    list[str] | None,
    typer.Option("--pack", help="Also look in this pack file (repeatable)."),
]


@app.command("list")
def policy_list() -> None:
    """The built-in policy packs."""
    from sandbox.policies.pack import builtin_pack_names, load_pack

    for name in builtin_pack_names():
        pack = load_pack(name)
        extends = f", extends {pack.extends}" if pack.extends else ""
        console.print(f"[bold]{pack.id}[/] {pack.version}: {len(pack.rules)} rules{extends}")
        console.print(f"  {escape(pack.description.strip())}")


@app.command("show")
def policy_show(
    pack: Annotated[str, typer.Argument(help="A built-in pack name or a file.")],
) -> None:
    """Every rule of a pack (inherited ones included): stage, severity, type, parameters."""
    from sandbox.policies.pack import load_pack

    loaded = load_pack(pack)
    console.print(f"[bold]{loaded.id}[/] {loaded.version}  {loaded.sha256}")
    if loaded.lineage:
        console.print(f"extends: {' <- '.join(loaded.lineage)}")
    for rule in loaded.rules:
        level = f", from impact level {rule.min_impact_level}" if rule.min_impact_level else ""
        console.print(
            f"- [bold]{rule.id}[/] ({rule.stage}, {rule.severity}, {rule.type}{level}): "
            f"{escape(rule.title)}"
        )
        if rule.params:
            console.print(f"    params: {escape(json.dumps(rule.params, sort_keys=True))}")


@app.command("explain")
def policy_explain(
    rule: Annotated[str, typer.Argument(help="A rule id (e.g. fairness.tpr-difference) or type.")],
    pack: PackOption = None,
) -> None:
    """What a rule checks, why, the clauses it implements, and its parameters."""
    from sandbox.errors import UserInputError
    from sandbox.policies.pack import builtin_pack_names, load_pack
    from sandbox.policies.rules import RULE_TYPES

    packs = [load_pack(name) for name in [*builtin_pack_names(), *(pack or [])]]
    found = [(p, r) for p in packs for r in p.rules if r.id == rule]
    type_name = found[0][1].type if found else rule
    rule_type = RULE_TYPES.get(type_name)
    if rule_type is None:
        raise UserInputError(
            f"{rule!r} is neither a rule id of the packs ({', '.join(p.id for p in packs)}) nor a "
            f"rule type ({', '.join(sorted(RULE_TYPES))}); `sandbox policy show PACK` lists ids"
        )
    for owner, item in found:
        console.print(f"[bold]{item.id}[/] in [bold]{owner.id}[/] {owner.version}: {item.title}")
        console.print(f"  stage {item.stage}, severity {item.severity}", highlight=False)
        if item.min_impact_level:
            console.print(f"  applies from impact level {item.min_impact_level}")
        console.print(f"  why: {escape(item.rationale.strip())}")
        for reference in item.references:
            console.print(f"  implements: {escape(reference)}")
        if item.params:
            console.print(f"  params: {escape(json.dumps(item.params, sort_keys=True))}")
    console.print(f"[bold]type {type_name}[/]: {rule_type.summary}")
    console.print(f"  stages: {', '.join(rule_type.stages)}")
    for name, field in rule_type.params.model_fields.items():
        default = "required" if field.is_required() else f"default {field.default!r}"
        about = f": {field.description}" if field.description else ""
        console.print(f"  param {name} ({default}){escape(about)}", highlight=False)


@app.command("check")
def policy_check(pilot: PilotArg) -> None:
    """Run the pre-run rules only, without a container: fast feedback on a manifest."""
    from sandbox.manifest import load_manifest
    from sandbox.policies.engine import launch_gate
    from sandbox.policies.hardening import effective_hardening
    from sandbox.policies.rules import RuleContext
    from sandbox.policies.selection import packs_for
    from sandbox.runs.pilot_kinds import kind_of
    from sandbox.runs.services import default_hardening
    from sandbox.settings import Settings

    manifest = load_manifest(pilot)
    packs = packs_for(manifest, pilot)
    data = kind_of(manifest).load(pilot, manifest)  # checked as a run checks it
    ctx = RuleContext(
        manifest=manifest,
        hardening=effective_hardening(packs, default_hardening(Settings())),
        data=data,
    )
    verdict = launch_gate(packs, ctx)
    console.print(f"packs: {', '.join(p.id for p in packs)}")
    for outcome in verdict.outcomes:
        mark = {"passed": "[green]✓[/]", "failed": "[red]✗[/]"}.get(outcome.outcome, "·")
        level = f" ({outcome.severity})" if outcome.outcome == "failed" else ""
        console.print(f"{mark} {outcome.rule_id}{level}: {escape(outcome.message)}")
    console.print(f"pre-run verdict: [bold]{verdict.status}[/]")
    raise typer.Exit(0 if verdict.status != "blocked" else 3)
