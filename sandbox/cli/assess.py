"""`sandbox assess PILOT`: the impact level of a pilot, and the answers that drove it."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated

import typer

from sandbox.cli.console import PilotArg, console

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `assess` command to the top-level app."""
    app.command("assess")(assess)


def assess(
    pilot: PilotArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Score the impact-assessment questionnaire: raw and mitigated score, level I-IV."""
    from sandbox.manifest import load_manifest
    from sandbox.policies.impact import MITIGATIONS, QUESTIONS
    from sandbox.policies.impact import assess as score
    from sandbox.policies.selection import auto_pack_names

    manifest = load_manifest(pilot)
    answers = manifest.governance.impact_assessment
    result = score(answers)
    packs = auto_pack_names(manifest)
    if as_json:
        document = {**asdict(result), "mitigations": list(answers.mitigations), "packs": packs}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    level = result.level or "not assessed"
    console.print(f"impact level: [bold]{level}[/]")
    console.print(
        f"raw score {result.raw_score} of {result.max_raw_score}; mitigations "
        f"{result.mitigation_score} of {result.max_mitigation_score}; mitigated score "
        f"{result.mitigated_score}",
        highlight=False,
    )
    texts = {q.id: q.text for q in QUESTIONS}
    for question, answer, weight in result.drivers:
        console.print(f"  +{weight}  {texts[question]} {answer}", highlight=False)
    for mitigation in answers.mitigations:
        console.print(f"  mitigation ({MITIGATIONS[mitigation]}): {mitigation}", highlight=False)
    if result.mitigated_score < result.raw_score:
        console.print("  mitigations reach 80 % of their maximum: the score is lowered by 15 %")
    for question in result.unanswered:
        console.print(f"  [yellow]?[/]  unanswered: {texts[question]} ({question})")
    console.print(f"packs applied automatically: {', '.join(packs)}")
