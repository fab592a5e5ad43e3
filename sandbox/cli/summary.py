"""The end-of-run summary a person reads in the terminal: verdict, findings, where things are."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from sandbox.runs.pilot_run import RunOutcome
from sandbox.settings import Settings

__all__ = ["print_summary"]

#: The performance figures the summary leads with, where the run's task type has them.
HEADLINE_PERFORMANCE = (
    "balanced_accuracy",
    "roc_auc",
    "f1",
    "macro_f1",
    "precision_at_k",
    "lift_at_k",
    "mae",
    "rmse",
    "r2",
    "task_success_rate",
    "fact_recall",
    "wrongful_decline_rate",
    "decline_recall",
    "leaked_answers",
)

#: The stderr lines shown in the terminal; the report holds up to 20.
STDERR_LINES = 8

_STYLE = {
    "pass": ("green", "PASS"),
    "pass_with_warnings": ("yellow", "PASS WITH WARNINGS"),
    "fail": ("red", "FAIL"),
    "blocked": ("red", "BLOCKED"),
}


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _headline_metrics(outcome: RunOutcome) -> list[tuple[str, str]]:
    """The first two group metrics of the run's task that have disparities: (name, title)."""
    from sandbox.tasks import get_task

    evaluation = outcome.report.evaluation
    if evaluation is None:
        return []
    present = {name for result in evaluation.attribute_sets for name in result.disparities}
    specs = [s for s in get_task(evaluation.task).vocabulary.group if s.name in present]
    if not specs:  # a task whose metric names are made per run (e.g. one per class)
        return [(name, name) for name in sorted(present)[:2]]
    return [(s.name, s.display) for s in specs[:2]]


def _findings(outcome: RunOutcome) -> Table | None:
    evaluation = outcome.report.evaluation
    if evaluation is None:
        return None
    metrics = _headline_metrics(outcome)
    four_fifths = any(result.four_fifths is not None for result in evaluation.attribute_sets)
    table = Table(title="Key fairness findings", title_justify="left", expand=False)
    table.add_column("attribute set")
    for _, title in metrics:
        table.add_column(f"{escape(title)} diff [CI]")
    if four_fifths:
        table.add_column("four-fifths")
    for result in evaluation.attribute_sets:
        cells = []
        for metric, _ in metrics:
            disparity = result.disparities.get(metric)
            if disparity is None:
                cells.append("n/a")
                continue
            d = disparity.difference
            cells.append(f"{_fmt(d.value)} [{_fmt(d.ci_low)}, {_fmt(d.ci_high)}]")
        if four_fifths:
            ff = result.four_fifths
            cells.append(
                "n/a"
                if ff is None or ff.ratio is None
                else f"{ff.ratio:.2f} "
                + ("[green]holds[/]" if ff.passed else "[yellow]below 0.8[/]")
            )
        table.add_row(escape(result.name), *cells)
    return table


def print_summary(console: Console, outcome: RunOutcome, settings: Settings) -> None:
    """Print the verdict, the findings, the rules that failed, and where the evidence is."""
    colour, label = _STYLE[outcome.verdict.status]
    console.print()
    console.print(
        Panel.fit(
            f"[bold {colour}]{label}[/]  {escape(outcome.pilot)}  run {outcome.run_id}",
            border_style=colour,
        )
    )
    failure = outcome.report.failure
    if failure is not None:
        console.print(f"[bold red]Why the run failed:[/] {escape(failure.reason)}")
        if failure.stderr_tail:
            console.print("[dim]Last lines the model wrote to its error output:[/]")
            for line in failure.stderr_tail.splitlines()[-STDERR_LINES:]:
                console.print(f"  [dim]{escape(line)}[/]", soft_wrap=True)
    evaluation = outcome.report.evaluation
    if evaluation is not None:
        perf = evaluation.performance
        console.print(
            "Performance: "
            + ", ".join(
                f"{k} {perf[k]:.3f}" for k in HEADLINE_PERFORMANCE if perf.get(k) is not None
            )
        )
    findings = _findings(outcome)
    if findings is not None and evaluation is not None:
        console.print(findings)
        console.print(
            f"[dim]Differences over all groups, small ones included (as fairlearn's MetricFrame); "
            "policy gates compare only rates resting on at least "
            f"{evaluation.min_group_size} cases (rows, positives, negatives).[/]"
        )
    for rule in outcome.verdict.failures:
        mark = "[red]✗ blocking[/]" if rule.severity == "block" else "[yellow]! warning[/]"
        console.print(f"{mark} {escape(rule.rule_id)}: {escape(rule.message)}")
    for note in outcome.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    html = outcome.reports.get("html")
    console.print()
    console.print(f"[bold]Report[/]       {escape(str(html))}")
    if outcome.tracker_run_id:
        console.print(
            f"[bold]MLflow run[/]   {outcome.tracker_run_id} (experiment {escape(outcome.pilot)}) "
            f"in {escape(settings.tracking_uri)}"
        )
    console.print(
        f"[bold]Audit record[/] seq {outcome.trail_seq} in {escape(str(settings.trail_path))}"
    )
    console.print("[dim]Verify the trail: sandbox audit verify[/]")
