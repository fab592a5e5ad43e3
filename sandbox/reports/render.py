"""Render an :class:`~sandbox.reports.model.AuditReport` as self-contained HTML and Markdown.

The HTML is one file a city official can open offline: CSS inline, charts drawn as inline
SVG by the templates, no scripts, no fonts or images from elsewhere. Every text that comes
from a manifest or a policy pack is escaped (Jinja autoescape for HTML, a Markdown filter for
Markdown). The wording follows the project's conventions: a disparity is *observed* and
*assessed*, never proof of discrimination, and nothing is called unbiased.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from sandbox.reports.answers import (
    CHART_METRIC,
    answers_view,
    leak_kinds_text,
    metric_digits,
    overall_answer_rates,
)
from sandbox.reports.disclosure import disparity_hidden, publishable
from sandbox.reports.template_cache import template_cache
from sandbox.tasks import get_task, registered_tasks
from sandbox.tasks.binary import VOCABULARY as BINARY_VOCABULARY

if TYPE_CHECKING:
    from sandbox.evaluation.result import AttributeSetResult, Estimate, Evaluation, GroupResult
    from sandbox.reports.model import AuditReport

__all__ = [
    "Finding",
    "importance_rows_text",
    "key_findings",
    "markdown_text",
    "metric_display",
    "number_text",
    "render_html",
    "render_markdown",
    "template_environment",
    "vocabulary_names",
]

_TEMPLATES = Path(__file__).parent / "templates"

#: Display names of the default (binary) vocabulary; a report uses its own task's.
METRIC_NAMES = {m.name: m.display for m in BINARY_VOCABULARY.group}
PERFORMANCE_NAMES = {m.name: m.display for m in BINARY_VOCABULARY.performance}
VERDICT_TEXT = {
    "pass": ("Pass", "Every governance rule held."),
    "pass_with_warnings": (
        "Pass with warnings",
        "No blocking rule failed; some warnings need review.",
    ),
    "fail": ("Fail", "A blocking governance rule did not hold after the run."),
    "blocked": ("Blocked", "A blocking rule failed before the run: the pilot's model was not run."),
}
#: Metrics drawn in the per-group charts, each with its colour (Okabe-Ito, colour-blind safe).
CHART_METRICS = (("selection_rate", "#0072B2"), ("tpr", "#009E73"), ("fpr", "#D55E00"))
_PALETTE = tuple(colour for _, colour in CHART_METRICS)


def metric_display(name: str) -> str:
    """The display name of a group metric in any registered task type's vocabulary."""
    for task in registered_tasks():
        if name in task.vocabulary.group_names:
            return task.vocabulary.display(name)
    return name


def vocabulary_names(evaluation: Evaluation | None) -> dict[str, Any]:
    """Display names and charted metrics for the evaluation's task type (template globals)."""
    if evaluation is None:
        return {"METRIC_NAMES": METRIC_NAMES, "PERFORMANCE_NAMES": PERFORMANCE_NAMES}
    vocabulary = get_task(evaluation.task).vocabulary
    group = vocabulary.group_names
    charted = tuple((m, c) for m, c in CHART_METRICS if m in group) or tuple(
        zip(group, _PALETTE, strict=False)
    )
    names = {m.name: m.display for m in vocabulary.group}
    # a task whose group metrics depend on the run (one per class) names them itself
    run_names = getattr(get_task(evaluation.task), "metric_names", None)
    if callable(run_names):
        names.update(run_names(evaluation))
    return {
        "METRIC_NAMES": names,
        "PERFORMANCE_NAMES": {m.name: m.display for m in vocabulary.performance},
        "CHART_METRICS": charted,
    }


@dataclass(frozen=True)
class Finding:
    """One plain-language sentence for the key findings, with its tone."""

    tone: Literal["alert", "warn", "ok", "info"]
    text: str


def _num(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def _interval(estimate: Estimate | None, digits: int = 3) -> str:
    if estimate is None or estimate.ci_low is None or estimate.ci_high is None:
        return ""
    return f"{estimate.ci_low:.{digits}f} to {estimate.ci_high:.{digits}f}"


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


#: Characters that start Markdown markup anywhere in a line (pipes split table cells).
_MD_ALWAYS = re.compile(r"([\\`*\[\]|~])")
#: '_' only opens or closes emphasis at a word's edge: 'race_ethnicity' stays as it is.
_MD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
#: '<' opens raw HTML or an autolink only before a letter, '/', '!' or '?'; '&' opens an
#: entity only as '&name;' or '&#123;'. '<30' and 'A & B' stay as they are.
_MD_HTML = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?\w+;)")
#: At the start of a line: a heading, a block quote, a list item ('- ', '+ ', '1. ', '1) ').
_MD_LINE_START = re.compile(r"^(?:#{1,6}(?=\s|$)|[-+](?=\s|$)|>)")
_MD_ORDERED = re.compile(r"^(\d{1,9})(?=[.)](?:\s|$))")


def _md(text: Any) -> str:
    """Escape text for Markdown inside a line, with backslashes, never HTML entities."""
    line = " ".join(str(text).split())
    line = _MD_ALWAYS.sub(r"\\\1", line)
    line = _MD_UNDERSCORE.sub(r"\\_", line)
    return _MD_HTML.sub(lambda m: "\\" + m.group(0), line)


def _md_start(text: Any) -> str:
    """Escape text that starts a line or a list item: also what would open a block there."""
    line = _MD_LINE_START.sub(lambda m: "\\" + m.group(0), _md(text))
    return _MD_ORDERED.sub(r"\1\\", line)


def overall_rates(evaluation: Evaluation) -> dict[str, float | None]:
    """Whole-population value of each chart metric: the reference line of the charts."""
    if evaluation.assistant is not None:
        return overall_answer_rates(evaluation)
    counts = evaluation.counts
    if counts is None:
        return {}
    negatives = counts.get("negatives", 0)
    return {
        "selection_rate": evaluation.performance.get("selection_rate"),
        "tpr": evaluation.performance.get("recall"),
        "fpr": counts["fp"] / negatives if negatives else None,
    }


def _group_text(group: GroupResult, metric: str, *, publication: bool) -> str:
    if publication:  # the disparity is shown only when neither group is suppressed
        return f"{group.label} ({_num(group.metrics[metric].value)})"
    small = f"; small group, {group.count:,} rows, not for publication" if group.small else ""
    return f"{group.label} ({_num(group.metrics[metric].value)}{small})"


def _largest_disparity(
    report: AuditReport, result: AttributeSetResult, names: dict[str, str], *, publication: bool
) -> Finding | None:
    candidates = [d for m, d in result.disparities.items() if m in dict(CHART_METRICS)] or list(
        result.disparities.values()
    )
    defined = [d for d in candidates if d.difference.value is not None]
    if publication:
        defined = [d for d in defined if not disparity_hidden(report, result.name, d)]
    if len(result.groups) < 2 or not defined:
        return None
    top = max(defined, key=lambda d: d.difference.value or 0.0)
    by_label = {g.label: g for g in result.groups}
    high = _group_text(by_label[top.highest_group or ""], top.metric, publication=publication)
    low = _group_text(by_label[top.lowest_group or ""], top.metric, publication=publication)
    interval = _interval(top.difference)
    confidence = report.evaluation.confidence if report.evaluation else 0.95
    text = (
        f"Across {result.name}, the largest disparity observed is in the "
        f"{names.get(top.metric, top.metric).lower()}: a difference of "
        f"{_num(top.difference.value)} between {high} and {low}"
        + (f"; {confidence:.0%} interval {interval}." if interval else ".")
    )
    if top.includes_undefined:
        text += " Some groups have no cases for this rate, so read it with care."
    tone: Literal["warn", "info"] = "warn" if (top.difference.value or 0) >= 0.1 else "info"
    return Finding(tone, text)


def _small_groups(evaluation: Evaluation, *, publication: bool) -> Finding | None:
    small = [(r, g) for r in evaluation.attribute_sets for g in r.groups if g.small]
    if not small:
        return None
    head = f"{len(small)} group(s) have fewer than {evaluation.min_group_size} rows"
    if publication:
        return Finding("warn", f"{head}; their values are suppressed in this document.")
    examples = ", ".join(f"{r.name} = {g.label} ({g.count:,} rows)" for r, g in small[:4])
    more = f" and {len(small) - 4} more" if len(small) > 4 else ""
    return Finding(
        "warn",
        f"{head}: {examples}{more}. Their estimates are uncertain; this internal report shows "
        "them, marked small, and the documents for publication suppress them.",
    )


def _evaluation_findings(report: AuditReport, *, publication: bool) -> list[Finding]:
    evaluation = report.evaluation
    if evaluation is None:
        return []
    findings: list[Finding] = []
    perf = evaluation.performance
    short = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "roc_auc": "ROC AUC"}
    short |= {"precision_at_k": "precision at k", "lift_at_k": "lift at k"}
    short |= {"mae": "MAE", "rmse": "RMSE", "r2": "R²"}  # regression
    short |= {"task_success_rate": "task success rate", "decline_recall": "decline recall"}
    parts = [f"{name} {_num(perf[k])}" for k, name in short.items() if k in perf]
    unit = "questions" if evaluation.assistant is not None else "rows"
    findings.append(
        Finding("info", f"On {evaluation.rows:,} evaluation {unit}: {', '.join(parts)}.")
    )
    names = vocabulary_names(evaluation)["METRIC_NAMES"]
    for result in evaluation.attribute_sets:
        finding = _largest_disparity(report, result, names, publication=publication)
        if finding:
            findings.append(finding)
    rules = [(r, r.four_fifths) for r in evaluation.attribute_sets if r.four_fifths]
    below = [(r, ff) for r, ff in rules if ff.passed is False]
    met = [r for r, ff in rules if ff.passed]
    if below:
        listed = "; ".join(
            r.name
            if publication and disparity_hidden(report, r.name, r.disparities.get("selection_rate"))
            else f"{r.name} (ratio {_num(ff.ratio)}, {ff.lowest_group} vs {ff.highest_group})"
            for r, ff in below
        )
        findings.append(
            Finding(
                "alert",
                "Four-fifths rule: the lowest group selection rate is below 0.8 of the "
                f"highest for {listed}.",
            )
        )
    if met:
        listed = ", ".join(r.name for r in met)
        findings.append(
            Finding("ok", f"Four-fifths rule: selection-rate ratio is 0.8 or more for {listed}.")
        )
    small = _small_groups(evaluation, publication=publication)
    return findings + _disclosure_findings(evaluation) + ([small] if small else [])


def _disclosure_findings(evaluation: Evaluation) -> list[Finding]:
    """An assistant's answers that disclosed restricted material: ids only, never text."""
    details = evaluation.assistant
    if details is None or (details.knowledge_base_documents is None and not details.leaks):
        return []
    if not details.leaks:
        return [Finding("ok", "No answer quoted or cited a restricted document or a canary.")]
    ids = ", ".join(leak.id for leak in details.leaks[:5])
    more = f" and {len(details.leaks) - 5} more" if len(details.leaks) > 5 else ""
    return [
        Finding(
            "alert",
            f"{len(details.leaks):,} answer(s) disclosed restricted material: questions "
            f"{ids}{more}. The Answers section lists how and which documents.",
        )
    ]


def key_findings(report: AuditReport, *, publication: bool = False) -> list[Finding]:
    """The report's key findings in plain words, most important first.

    With ``publication``, the findings apply the run's suppression decision
    (:mod:`sandbox.reports.disclosure`): no value of a suppressed group, and no message that
    names one.
    """
    findings: list[Finding] = []
    if report.failure is not None:
        findings.append(Finding("alert", f"The run failed: {report.failure.reason}."))
    failed = report.verdict.failures
    for outcome in failed:
        tone: Literal["alert", "warn"] = "alert" if outcome.severity == "block" else "warn"
        message = (
            outcome.message
            if not publication or publishable(report, outcome.message)
            else "(the message names a group too small to publish)"
        )
        findings.append(
            Finding(tone, f"Policy rule \u201c{outcome.title}\u201d did not hold: {message}")
        )
    if report.evaluation is None:
        findings.append(
            Finding(
                "info",
                "No evaluation is available for this run, so fairness and "
                "performance were not assessed.",
            )
        )
    findings.extend(_evaluation_findings(report, publication=publication))
    if not failed:
        findings.insert(0, Finding("ok", "Every governance rule in the policy pack held."))
    return findings


def template_environment(
    folder: Path = _TEMPLATES, *, cache_dir: Path | None = None
) -> Environment:
    """A Jinja environment over ``folder`` with the report's filters and wording tables.

    With ``cache_dir``, compiled templates are kept there for the next process
    (:mod:`sandbox.reports.template_cache`).
    """
    env = Environment(
        loader=FileSystemLoader(folder),
        bytecode_cache=template_cache(cache_dir),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "svg.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=_num, interval=_interval, md=_md, md_start=_md_start, value_text=_value_text
    )
    env.filters.update(leak_kinds=leak_kinds_text, digits=metric_digits)
    env.globals.update(
        METRIC_NAMES=METRIC_NAMES,
        PERFORMANCE_NAMES=PERFORMANCE_NAMES,
        VERDICT_TEXT=VERDICT_TEXT,
        CHART_METRICS=CHART_METRICS,
    )
    return env


def _environment(cache_dir: Path | None) -> Environment:
    return template_environment(_TEMPLATES, cache_dir=cache_dir)


#: Public names of the text helpers the transparency documents share with the report.
markdown_text = _md
number_text = _num


def importance_rows_text(report: AuditReport) -> str:
    """Which rows the feature importances were measured on, in words."""
    split = report.data.split
    if split is None or split.fit_rows is None:
        return "rows the run reported"
    if split.importance_rows:
        return (
            f"{split.importance_rows:,} training rows held back from fitting "
            "(the model did not see them)"
        )
    return f"the {split.fit_rows:,} rows the model was fitted on (no rows were held back)"


def _context(report: AuditReport) -> dict[str, Any]:
    evaluation = report.evaluation
    importances = sorted(
        report.explanations or (), key=lambda f: abs(f.importance_mean), reverse=True
    )
    return {
        "report": report,
        "findings": key_findings(report),
        "overall": overall_rates(evaluation) if evaluation else {},
        "importances": importances[:20],
        "importance_low": min(
            [0.0, *(f.importance_mean - (f.importance_std or 0.0) for f in importances[:20])]
        ),
        "importance_high": max(
            [0.0, *(f.importance_mean + (f.importance_std or 0.0) for f in importances[:20])]
        ),
        "importances_hidden": max(0, len(importances) - 20),
        "importance_rows_text": importance_rows_text(report),
        "css": (_TEMPLATES / "report.css").read_text(encoding="utf-8"),
        "answers": answers_view(evaluation) if evaluation else None,
        "ANSWER_CHART": (CHART_METRIC,),
        **vocabulary_names(evaluation),
    }


def render_html(report: AuditReport, *, cache_dir: Path | None = None) -> str:
    """The report as one self-contained HTML page (``cache_dir``: compiled templates)."""
    return _environment(cache_dir).get_template("report.html.j2").render(_context(report))


def render_markdown(report: AuditReport, *, cache_dir: Path | None = None) -> str:
    """A concise Markdown summary of the report (``cache_dir``: compiled templates)."""
    return _environment(cache_dir).get_template("report.md.j2").render(_context(report))
