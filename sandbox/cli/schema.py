"""`sandbox schema ...`: JSON Schemas of the sandbox's documents."""

from __future__ import annotations

import json
import sys

import typer

__all__ = ["app"]

app = typer.Typer(help="Print JSON Schemas of the sandbox's documents.", no_args_is_help=True)


@app.command("pilot")
def schema_pilot() -> None:
    """The JSON Schema of pilot.yaml."""
    from sandbox.manifest import manifest_json_schema

    _print_json(manifest_json_schema())


@app.command("policy")
def schema_policy() -> None:
    """The JSON Schema of a policy pack."""
    from sandbox.policies.pack import pack_json_schema

    _print_json(pack_json_schema())


@app.command("report")
def schema_report() -> None:
    """The JSON Schema of report.json."""
    from sandbox.reports.model import report_json_schema

    _print_json(report_json_schema())


@app.command("references")
def schema_references() -> None:
    """The JSON Schema of one line of an assistant's references (questions.jsonl)."""
    from sandbox.assistant.jsonl import references_json_schema

    _print_json(references_json_schema())


@app.command("answers")
def schema_answers() -> None:
    """The JSON Schema of one line of an assistant's answers (answers.jsonl)."""
    from sandbox.assistant.jsonl import answers_json_schema

    _print_json(answers_json_schema())


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
