"""A model card (Mitchell et al., 2019) of the pilot's model, built from a report.

Sections: model details, intended use and users, out-of-scope uses, factors, metrics with
intervals, evaluation data, training data, ethical considerations, caveats and
recommendations. An assistant's card describes its task (answers citing knowledge-base
documents, declines what is out of scope), every answer rate per language and group, and its
evaluation set and knowledge base in place of a training split. What the report does not hold
is listed under "Gaps", never filled in. Per-group numbers of groups below the minimum group
size are suppressed, as in the datasheet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.reports.answers import answers_view
from sandbox.reports.disclosure import disparity_hidden, hidden_groups, publishable
from sandbox.reports.documents._facts import ReportFacts
from sandbox.reports.documents.assistant import is_assistant
from sandbox.reports.render import vocabulary_names
from sandbox.tasks import get_task

if TYPE_CHECKING:
    from jinja2 import Environment

    from sandbox.evaluation.result import Evaluation
    from sandbox.reports.model import AuditReport

__all__ = ["GROUP_METRICS", "model_card_context", "model_card_gaps", "render_model_card"]

#: Group metrics shown per group, with their interval.
GROUP_METRICS = ("selection_rate", "tpr", "fpr")
#: Disparities shown per attribute set.
DISPARITY_METRICS = ("selection_rate", "tpr", "fpr", "fnr")
#: An assistant's disparities shown: those the baseline pack gates on across groups.
ASSISTANT_DISPARITIES = ("task_success", "wrongful_decline", "language_mismatch")


def model_card_gaps(report: AuditReport) -> list[str]:
    """Model-card content the report does not hold, named for the reader."""
    facts = ReportFacts(report)
    wanted = {
        "Out-of-scope uses (governance.out_of_scope_uses)": facts.get(
            "governance.out_of_scope_uses"
        ),
        "Model parameters (model)": facts.get("model.entrypoint"),
        "Training data description (governance.transparency.training_data)": (
            facts.transparency("data_description", "training_data")
        ),
        "Human oversight (governance.human_oversight)": facts.get("governance.human_oversight"),
        "Risks and mitigations (governance.transparency.risks, .mitigations)": (
            facts.transparency("risks", "mitigations")
        ),
        "Evaluation (no evaluation in this run)": facts.get("evaluation.rows"),
        "Data roles (data.roles)": facts.get("data.roles.label"),
    }
    return [name for name, fact in wanted.items() if fact is None]


def _shown(ev: Evaluation | None, preferred: tuple[str, ...]) -> tuple[str, ...]:
    """The preferred metrics the task reports, else the task's own first group metrics."""
    if ev is None:
        return preferred
    names = get_task(ev.task).vocabulary.group_names
    return tuple(m for m in preferred if m in names) or names[: len(preferred)]


def _metrics_shown(ev: Evaluation | None) -> dict[str, tuple[str, ...]]:
    """Group metrics per group and disparities per set: an assistant shows every rate."""
    view = answers_view(ev) if ev is not None else None
    if view is not None:
        return {
            "group_metrics": view.metrics,
            "disparity_metrics": tuple(m for m in ASSISTANT_DISPARITIES if m in view.metrics),
        }
    return {
        "group_metrics": _shown(ev, GROUP_METRICS),
        "disparity_metrics": _shown(ev, DISPARITY_METRICS),
    }


def model_card_context(report: AuditReport) -> dict[str, Any]:
    """What the model card template shows."""
    facts = ReportFacts(report)
    governance = report.governance
    transparency = governance.transparency if governance else {}
    ev = report.evaluation
    sets = ev.attribute_sets if ev else ()
    hidden = {r.name: hidden_groups(report, r.name) for r in sets}
    # a difference or ratio whose highest or lowest group is hidden would give that group away
    hidden_disparities = {
        (r.name, m)
        for r in sets
        for m, d in r.disparities.items()
        if disparity_hidden(report, r.name, d)
    }
    return {
        "hidden": hidden,
        "hidden_disparities": hidden_disparities,
        "warnings": [w for w in (ev.warnings if ev else ()) if publishable(report, w)],
        "failures": [o for o in report.verdict.failures if publishable(report, o.message)],
        "report": report,
        "gov": governance,
        "roles": report.data.roles,
        "model": report.model,
        "ev": report.evaluation,
        "split": report.data.split,
        "training_data": facts.transparency("data_description", "training_data"),
        "risks": transparency.get("risks") or transparency.get("risks_and_mitigations"),
        "mitigations": transparency.get("mitigations"),
        **_metrics_shown(ev),
        "assistant": is_assistant(report),
        "answers": answers_view(ev) if ev is not None else None,
        **vocabulary_names(ev),
        "gaps": model_card_gaps(report),
        "date": (report.run.finished_at or report.run.started_at).date().isoformat(),
    }


def render_model_card(report: AuditReport, env: Environment) -> str:
    """The model card as Markdown."""
    return env.get_template("model-card.md.j2").render(model_card_context(report))
