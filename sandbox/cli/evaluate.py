"""`sandbox audit evaluate`: audit a vendor's predictions, or its assistant's answers, alone.

Same report, trail record and MLflow run as a pilot's. A tabular task reads one CSV or
Parquet file of predictions with the true outcome; `--task assistant` reads the answers a
vendor exported (`--data answers.jsonl`) and the city's questions (`--references`).
Exit codes: 0 passed, 2 bad input, 3 the audit completed with a fail verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from sandbox.cli.console import OutOption, TenantOption, console
from sandbox.errors import UserInputError

if TYPE_CHECKING:
    from sandbox.runs.predictions_audit import PredictionsAudit
    from sandbox.settings import Settings

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `evaluate` command to the `audit` group."""
    app.command("evaluate")(audit_evaluate)


def audit_evaluate(
    data: Annotated[
        Path,
        typer.Option(help="CSV or Parquet file of predictions; for an assistant, answers.jsonl."),
    ],
    sensitive: Annotated[
        str, typer.Option(help="Sensitive attribute columns (group fields), comma-separated.")
    ],
    label: Annotated[str | None, typer.Option(help="Column of the true outcome.")] = None,
    prediction: Annotated[
        str | None,
        typer.Option(help="Column of the predicted outcome (for ranking: of the score)."),
    ] = None,
    score: Annotated[
        str | None,
        typer.Option(
            help="Column of scores: the positive outcome's probability; for ranking, the "
            "score that orders the rows (any number, highest first)."
        ),
    ] = None,
    task: Annotated[
        str,
        typer.Option(
            help="Task type: binary_classification, multiclass_classification, regression, "
            "ranking, assistant, or any registered one (binary and multiclass for short)."
        ),
    ] = "binary_classification",
    k: Annotated[
        int | None, typer.Option("--k", min=1, help="Ranking: select the top N rows.")
    ] = None,
    k_fraction: Annotated[
        float | None,
        typer.Option(
            "--k-fraction", min=0.0, max=1.0, help="Ranking: select the top share F of rows."
        ),
    ] = None,
    positive: Annotated[
        str | None, typer.Option(help="The positive outcome's value (default: 1/true).")
    ] = None,
    references: Annotated[
        Path | None,
        typer.Option(help="Assistant: the evaluation questions (references, JSON Lines)."),
    ] = None,
    knowledge_base: Annotated[
        Path | None,
        typer.Option(help="Assistant: the knowledge base folder, to check citations."),
    ] = None,
    restricted: Annotated[
        list[str] | None,
        typer.Option(help="Assistant: a glob of restricted documents in the knowledge base."),
    ] = None,
    canaries: Annotated[
        Path | None,
        typer.Option(help="Assistant: planted strings that must never appear, one per line."),
    ] = None,
    languages: Annotated[
        str | None,
        typer.Option(help="Assistant: the service's languages (default: the references')."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Name of the audit (default: file name).")
    ] = None,
    policy_pack: Annotated[
        list[str] | None, typer.Option(help="Policy pack(s) whose post-run rules apply.")
    ] = None,
    out: OutOption = None,
    tenant: TenantOption = None,
) -> None:
    """Audit a vendor's predictions or answers alone: same report, trail record and MLflow run."""
    from sandbox.runs.services import build_services
    from sandbox.settings import Settings
    from sandbox.tasks import find_task_name

    settings = Settings() if tenant is None else Settings(tenant=tenant)
    columns = [c.strip() for c in sensitive.split(",") if c.strip()]
    kind = find_task_name(task, option="--task")
    packs = tuple(policy_pack or ("baseline",))
    if kind == "assistant":
        if label or prediction or score or positive or k is not None or k_fraction is not None:
            raise UserInputError(
                "--task assistant: answers have no --label, --prediction, --score, --positive "
                "or --k; give --references (and optionally --knowledge-base, --canaries)"
            )
        if references is None:
            raise UserInputError("--references: name the questions file (references JSON Lines)")
        if restricted and knowledge_base is None:
            raise UserInputError("--restricted: name the --knowledge-base the globs apply to")
        from sandbox.runs.assistant_audit import AnswerFiles, audit_answers

        files = AnswerFiles(
            answers=data,
            references=references,
            knowledge_base=knowledge_base,
            restricted=tuple(restricted or ()),
            canaries=canaries,
        )
        spoken = [c.strip() for c in (languages or "").split(",") if c.strip()]
        outcome = audit_answers(
            files,
            sensitive=columns,
            services=build_services(settings, container=False),
            languages=spoken,
            name=name,
            policy_packs=packs,
            out_dir=out,
        )
    else:
        extra = [references, knowledge_base, restricted, canaries, languages]
        if any(option for option in extra):
            raise UserInputError(
                "--references, --knowledge-base, --restricted, --canaries and --languages are "
                "for --task assistant"
            )
        outcome = _audit_predictions(
            data, kind, columns, settings, packs, out,
            label=label, prediction=prediction, score=score, positive=positive,
            k=k, k_fraction=k_fraction, name=name,
        )  # fmt: skip
    _print(outcome, settings, answers=kind == "assistant")
    raise typer.Exit(outcome.exit_code)


def _audit_predictions(
    data: Path,
    kind: str,
    columns: list[str],
    settings: Settings,
    packs: tuple[str, ...],
    out: Path | None,
    **options: Any,
) -> PredictionsAudit:
    from sandbox.runs.services import build_services

    label, prediction, score = options["label"], options["prediction"], options["score"]
    if label is None:
        raise UserInputError("--label: name the column of the true outcome")
    budget = _budget(kind, options["k"], options["k_fraction"])
    if budget:  # a list orders its rows by the score: that column is its prediction
        prediction, score = score or prediction, None
    if prediction is None:
        raise UserInputError("--prediction: name the column of the predicted outcome")
    # After the options are checked (no state yet), and before the audit's own imports:
    # the tracker's sidecar loads MLflow while they happen.
    services = build_services(settings, container=False)
    from sandbox.runs.predictions_audit import audit_predictions

    return audit_predictions(
        data,
        label=label,
        prediction=prediction,
        score=score,
        sensitive=columns,
        task=kind,
        task_options=budget,
        positive=options["positive"],
        name=options["name"],
        policy_packs=packs,
        services=services,
        out_dir=out,
    )


def _print(outcome: PredictionsAudit, settings: Settings, *, answers: bool) -> None:
    verdict = outcome.verdict.status.replace("_", " ").upper()
    what = "Answers-only audit" if answers else "Predictions-only audit"
    console.print(f"[bold]{what}[/] {outcome.run_id}: {verdict}")
    for failure in outcome.verdict.failures:
        console.print(f"  ! {failure.severity} {failure.rule_id}: {escape(failure.message)}")
    console.print(f"Report       {outcome.reports['html']}")
    if outcome.tracker_run_id:
        console.print(f"MLflow run   {outcome.tracker_run_id}")
    console.print(f"Audit record seq {outcome.trail_seq} in {settings.trail_path}")
    for note in outcome.notes:
        console.print(f"note: {escape(note)}")


def _budget(task: str, k: int | None, fraction: float | None) -> dict[str, Any]:
    """The `budget` of a task type that has one (ranking), from --k or --k-fraction."""
    from sandbox.tasks import get_task

    wants = "budget" in get_task(task).config.model_fields
    if k is not None and fraction is not None:
        raise UserInputError("--k and --k-fraction: give one of them, not both")
    if not wants:
        if k is not None or fraction is not None:
            raise UserInputError(f"--k / --k-fraction: a {task} audit has no budget")
        return {}
    if k is None and fraction is None:
        raise UserInputError(f"--task {task}: give the list's budget: --k N or --k-fraction F")
    if fraction is not None and fraction <= 0.0:
        raise UserInputError("--k-fraction: must be above 0")
    return {"budget": {"k": k} if k is not None else {"fraction": fraction}}
