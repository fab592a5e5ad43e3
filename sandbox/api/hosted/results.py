"""A hosted run's report page: report.json read and checked as the register reads it.

`report_page(facts, settings)` loads the run's `report.json` with `sandbox.register.sources.
load_report`: from the run folder when it is on this server, otherwise from the MLflow server
the workers log to, and in either case only when its bytes hash to the digest the signed
`run.finished` record names. The page is rendered from that checked report by the report's
own template (`render_html`): self-contained, no scripts, served under the app's CSP. A run
that did not finish evaluated has no report; a report changed after its run is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.api.hosted.browser import PageRefused
from sandbox.audit.record import TrailRecord
from sandbox.errors import AuditError, UserInputError
from sandbox.hosted.runfacts import RunFacts
from sandbox.register.sources import load_report
from sandbox.reports.render import render_html
from sandbox.settings import Settings

__all__ = ["FinishedRun", "finished", "report_page"]


@dataclass(frozen=True)
class FinishedRun:
    """A run that ended with `run.finished`: what `load_report` reads the report by."""

    run_id: str
    terminal: TrailRecord


def finished(facts: RunFacts) -> FinishedRun | None:
    """The run's `run.finished` record, or None when it ended otherwise or goes on."""
    record = next((r for r in facts.records if r.kind == "run.finished"), None)
    return FinishedRun(facts.run_id, record) if record is not None else None


def report_page(facts: RunFacts, settings: Settings) -> tuple[str, str]:
    """(the report's HTML, where report.json was read); PageRefused when it cannot be shown."""
    run = finished(facts)
    if run is None:
        raise PageRefused(
            404, f"Run {facts.run_id} has no report: only a run that finished evaluated has one."
        )
    try:
        report, origin = load_report(run, settings.runs_dir, settings.mlflow_tracking_uri)
    except AuditError:
        raise PageRefused(
            409,
            f"The report of run {facts.run_id} differs from the one its signed record names: "
            "it is not shown. Operators: restore it from a backup.",
        ) from None
    except UserInputError:
        raise PageRefused(
            503,
            f"The report of run {facts.run_id} cannot be read now: its run folder is not on this "
            "server and the MLflow server does not answer. Operators: check "
            "SANDBOX_MLFLOW_TRACKING_URI.",
        ) from None
    return render_html(report), origin
