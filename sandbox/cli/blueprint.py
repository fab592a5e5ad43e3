"""`sandbox blueprint ...` (list, show, init, check) and `sandbox init`: starting a pilot."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sandbox.cli.console import console

__all__ = ["app", "register"]

app = typer.Typer(
    help="Reference pilots: list them, read one, start a pilot from one, check one.",
    no_args_is_help=True,
)

NameArg = Annotated[
    str, typer.Argument(help="A blueprint's name (`sandbox blueprint list`).", show_default=False)
]
TargetArg = Annotated[
    Path, typer.Argument(help="A new (or empty) folder for the pilot.", show_default=False)
]
Columns = Annotated[
    list[str] | None,
    typer.Option(help="Column names, comma-separated or repeated.", show_default=False),
]


def register(root: typer.Typer) -> None:
    """Add `sandbox init` to `root`."""
    root.command("init")(init)


@app.command("list")
def blueprint_list() -> None:
    """Every blueprint: its name, task type and title."""
    from sandbox.blueprints import list_blueprints

    found = list_blueprints()
    if not found:
        console.print("no blueprints found (looked in the checkout's blueprints/ folder)")
    for item in found:
        console.print(f"[bold]{escape(item.name)}[/] ({item.task}): {escape(item.title)}")
        if item.error:
            console.print(f"  [red]does not load:[/] {escape(item.error)}")
    if found:
        console.print("\n`sandbox blueprint show NAME` tells more; `init NAME DIR` starts a pilot")


@app.command("show")
def blueprint_show(name: NameArg) -> None:
    """What a blueprint is for, its task, its documented risks and its expected result."""
    from sandbox.blueprints.catalog import describe, find_blueprint, read_readme
    from sandbox.blueprints.expected import load_expectation
    from sandbox.blueprints.layout import EXPECTED_NAME
    from sandbox.blueprints.readme import readme_sections, section_summary
    from sandbox.errors import UserInputError

    folder = find_blueprint(name)
    item = describe(folder)
    console.print(f"[bold]{escape(item.name)}[/]: {escape(item.title)}")
    console.print(f"  task: {item.task}    folder: {escape(str(folder))}")
    if item.error:
        console.print(f"  [red]does not load:[/] {escape(item.error)}")
    sections = readme_sections(read_readme(folder))
    for title, text in (("problem", item.problem), ("purpose", item.purpose)):
        if text:
            console.print(f"[bold]{title}[/]: {escape(section_summary(text))}")
    for heading in (
        "Intended use and users",
        "Disparity mechanism and what the sandbox should find",
        "Known risks",
    ):
        if sections.get(heading):
            console.print(f"[bold]{heading}[/]: {escape(section_summary(sections[heading]))}")
    try:
        expected = load_expectation(folder / EXPECTED_NAME)
    except UserInputError:
        return
    console.print(f"[bold]expected verdict[/]: {expected.verdict}")
    for finding in expected.findings:
        about = f" (mentions {finding.mentions!r})" if finding.mentions else ""
        console.print(f"  - {finding.rule}: {finding.outcome}{escape(about)}")


@app.command("init")
def blueprint_init(name: NameArg, target: TargetArg) -> None:
    """Start a pilot in DIR from a blueprint, with its shipped data verified against SHA256SUMS."""
    from sandbox.blueprints.catalog import find_blueprint
    from sandbox.blueprints.copying import copy_blueprint

    copied = copy_blueprint(find_blueprint(name), target)
    console.print(
        f"[green]✓[/] {escape(str(target))}: the blueprint {escape(copied.blueprint)}, "
        f"{copied.files} files; data verified: {escape(', '.join(copied.verified) or 'none')}"
    )
    console.print(f"Run it: sandbox run {escape(str(target))}")
    console.print("Then make it yours: its README.md starts with what to change first.")


@app.command("check")
def blueprint_check(
    folder: Annotated[
        Path, typer.Argument(help="A blueprint folder (e.g. blueprints/NAME).", show_default=False)
    ],
    skip_generator: Annotated[
        bool, typer.Option("--skip-generator", help="Do not run generate.py in the container.")
    ] = False,
    skip_run: Annotated[
        bool, typer.Option("--skip-run", help="Do not run the blueprint test (a full run).")
    ] = False,
) -> None:
    """Check a blueprint: files, manifest, README sections, expected.yaml, data digests,
    generator determinism (run twice in the runner container) and its expected result."""
    from sandbox.blueprints.checker import CheckStep, check_blueprint
    from sandbox.runs.recovery import settle
    from sandbox.runs.services import build_services
    from sandbox.settings import Settings

    services = None
    if not (skip_generator and skip_run):
        services = build_services(Settings())
        for line in settle(services):
            console.print(f"[yellow]{escape(line)}[/]")

    def show(step: CheckStep) -> None:
        mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: "·"}[step.ok]
        console.print(f"{mark} {step.name}: {escape(step.detail)}")

    with tempfile.TemporaryDirectory(prefix="blueprint-check-") as workdir:
        steps = check_blueprint(
            folder,
            services=services,
            workdir=Path(workdir),
            generator=not skip_generator,
            run=not skip_run,
            progress=show,
        )
    failed = [s.name for s in steps if s.ok is False]
    if failed:
        console.print(f"[red]blueprint check failed[/]: {', '.join(failed)}")
        raise typer.Exit(2)
    console.print("[green]blueprint check passed[/]")


def init(
    folder: TargetArg,
    task: Annotated[
        str, typer.Option(help="binary, multiclass, regression or ranking.")
    ] = "binary",
    label: Annotated[
        str | None, typer.Option(help="The column to predict.", show_default=False)
    ] = None,
    features: Columns = None,
    sensitive: Columns = None,
    pii: Columns = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Your CSV or Parquet file (copied into DIR/data/).", show_default=False),
    ] = None,
) -> None:
    """A minimal pilot in DIR for your own data: every field to complete is marked `TODO:`."""
    from sandbox.blueprints.scaffold import write_scaffold

    made = write_scaffold(
        folder,
        task=task,
        label=label,
        features=_split(features),
        sensitive=_split(sensitive),
        pii=_split(pii),
        data=data,
    )
    console.print(f"[green]✓[/] {escape(str(folder))}: {', '.join(made.files)}")
    console.print(
        f"{made.placeholders} fields marked TODO: in pilot.yaml are yours to complete; "
        f"`sandbox policy check {escape(str(folder))}` lists those left."
    )


def _split(values: list[str] | None) -> list[str]:
    """`--features a,b --features c` -> [a, b, c]."""
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]
