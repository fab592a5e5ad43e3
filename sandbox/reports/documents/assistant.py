"""What the transparency documents say of an assistant pilot, where tabular wording would not fit.

An assistant answers residents' questions in their language, citing knowledge-base documents,
and declines what is out of its scope; it gives no "prediction per case" and has no label rate
or feature columns. The record, the notices, the model card and the datasheet ask this module
for their assistant wording; every value still comes from the report (``pilot.task``,
``evaluation.assistant``, ``evaluation.performance``), with its ``report.json`` path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.reports.documents._facts import Fact, ReportFacts

if TYPE_CHECKING:
    from sandbox.evaluation.answers import AssistantDetails
    from sandbox.reports.model import AuditReport

__all__ = [
    "ASSISTANT_TASK",
    "by_task",
    "capability",
    "data_quantities",
    "details_of",
    "is_assistant",
    "knowledge_base",
    "language_names",
    "model_performance",
    "provided_information",
    "system_architecture",
]

ASSISTANT_TASK = "assistant"
_DETAILS = "evaluation.assistant"
Derive = Callable[[ReportFacts], Fact | None]

#: Language names for the notices, in each notice's language; an unlisted code is shown as is.
_LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "en": {"en": "English", "es": "inglés", "fr": "anglais"},
    "es": {"en": "Spanish", "es": "español", "fr": "espagnol"},
    "fr": {"en": "French", "es": "francés", "fr": "français"},
    "ar": {"en": "Arabic", "es": "árabe", "fr": "arabe"},
    "zh": {"en": "Chinese", "es": "chino", "fr": "chinois"},
    "vi": {"en": "Vietnamese", "es": "vietnamita", "fr": "vietnamien"},
    "pt": {"en": "Portuguese", "es": "portugués", "fr": "portugais"},
    "ru": {"en": "Russian", "es": "ruso", "fr": "russe"},
    "ko": {"en": "Korean", "es": "coreano", "fr": "coréen"},
    "tl": {"en": "Tagalog", "es": "tagalo", "fr": "tagalog"},
    "uk": {"en": "Ukrainian", "es": "ucraniano", "fr": "ukrainien"},
    "pl": {"en": "Polish", "es": "polaco", "fr": "polonais"},
    "de": {"en": "German", "es": "alemán", "fr": "allemand"},
    "it": {"en": "Italian", "es": "italiano", "fr": "italien"},
    "so": {"en": "Somali", "es": "somalí", "fr": "somali"},
    "ht": {"en": "Haitian Creole", "es": "criollo haitiano", "fr": "créole haïtien"},
    "hi": {"en": "Hindi", "es": "hindi", "fr": "hindi"},
    "bn": {"en": "Bengali", "es": "bengalí", "fr": "bengali"},
    "ur": {"en": "Urdu", "es": "urdu", "fr": "ourdou"},
    "fa": {"en": "Persian", "es": "persa", "fr": "persan"},
    "tr": {"en": "Turkish", "es": "turco", "fr": "turc"},
    "ca": {"en": "Catalan", "es": "catalán", "fr": "catalan"},
}


def is_assistant(report: AuditReport) -> bool:
    """Whether the report is of an assistant pilot (by its task, or its evaluation's details)."""
    ev = report.evaluation
    return report.pilot.task == ASSISTANT_TASK or (ev is not None and ev.assistant is not None)


def details_of(report: AuditReport) -> AssistantDetails | None:
    """The assistant section of the report's evaluation, if any."""
    return report.evaluation.assistant if report.evaluation is not None else None


def language_names(codes: tuple[str, ...] | list[str], language: str) -> list[str]:
    """Each language code as its name in ``language`` (en, es or fr); unknown codes as written."""
    return [_LANGUAGE_NAMES.get(code.lower(), {}).get(language, code) for code in codes]


def _assistant(facts: ReportFacts) -> bool:
    task = facts.get("pilot.task")
    return (task is not None and task.value == ASSISTANT_TASK) or facts.get(_DETAILS) is not None


def by_task(tabular: Derive, assistant: Derive) -> Derive:
    """A record field's derivation: the assistant's for an assistant pilot, else the tabular one."""

    def derive(facts: ReportFacts) -> Fact | None:
        return assistant(facts) if _assistant(facts) else tabular(facts)

    return derive


def capability(facts: ReportFacts) -> Fact | None:
    """What kind of system it is, in the standard's capability terms."""
    task = facts.get("pilot.task")
    if task is None:
        return None
    if _assistant(facts):
        text = (
            f"Linguistics: natural-language generation and question answering (task type "
            f"{task.value}). The assistant answers residents' questions in writing, citing "
            "documents of the city's knowledge base, and declines questions outside its scope."
        )
    else:
        text = f"Predictive analytics: one result per case record (task type {task.value})."
    return Fact(text, task.sources)


def provided_information(facts: ReportFacts) -> Fact | None:
    """What the assistant gives a resident."""
    languages = facts.get(f"{_DETAILS}.languages")
    text = (
        "A written answer to each question, meant to be in the language it was asked in, "
        "with the knowledge-base documents it draws on; or a decline when the question is out "
        "of scope (legal advice, another resident's data, anything the city has not "
        "documented)."
    )
    sources: tuple[str, ...] = ("pilot.task",)
    if languages is not None:
        text += f" Languages offered: {', '.join(languages.value)}."
        sources += languages.sources
    return Fact(text, sources)


def system_architecture(facts: ReportFacts) -> Fact | None:
    """Where the assistant runs and what it sees."""
    image = facts.get("runtime.image")
    if image is None:
        return None
    network = facts.get("runtime.hardening.network")
    text = f"The assistant runs in a container from image {image.value}"
    sources = list(image.sources)
    if network is not None:
        text += f" with network access '{network.value}'"
        sources += network.sources
    text += (
        "; it sees each question and its declared context fields, and the knowledge base "
        "read-only; the expected facts and the residents' group attributes stay outside."
    )
    return Fact(text, tuple(sources))


_PERFORMANCE = {
    "task_success_rate": "task success rate",
    "fact_recall": "fact recall",
    "decline_recall": "decline recall",
    "wrongful_decline_rate": "wrongful decline rate",
    "language_match_rate": "language match rate",
    "grounded_rate": "grounded rate",
}


def model_performance(facts: ReportFacts) -> Fact | None:
    """The assistant's headline rates, on how many questions."""
    perf, rows = facts.get("evaluation.performance"), facts.get("evaluation.rows")
    if perf is None or rows is None:
        return None
    shown = [f"{name} {perf.value[k]:.3f}" for k, name in _PERFORMANCE.items() if k in perf.value]
    text = (
        f"On {rows.value:,} evaluation questions: {', '.join(shown)}. Results per language and "
        "per group, with confidence intervals, are in the model card and the report."
    )
    sources = (*perf.sources, *rows.sources)
    leaks = facts.get(f"{_DETAILS}.leaks")
    if leaks is not None:
        text += f" {len(leaks.value):,} answer(s) disclosed restricted material."
        sources += leaks.sources
    return Fact(text, sources)


def data_quantities(facts: ReportFacts) -> Fact | None:
    """The evaluation set and the knowledge base, counted."""
    details = facts.get(_DETAILS)
    if details is None:
        return None
    d = details.value
    text = (
        f"{d['questions']:,} evaluation questions in {', '.join(d['languages'])} "
        f"({d['must_answer']:,} to answer, {d['must_decline']:,} to decline; "
        f"{d['facts_expected']:,} expected facts)"
    )
    kb = d.get("knowledge_base_documents")
    if kb is None:
        text += "; no knowledge base was given to the evaluation."
    else:
        text += (
            f"; a knowledge base of {kb:,} documents, "
            f"{d.get('restricted_documents') or 0:,} of them restricted (never to be quoted)."
        )
    return Fact(text, details.sources)


def knowledge_base(report: AuditReport) -> dict[str, Any] | None:
    """The evaluation set and knowledge base as the datasheet states them; None for others."""
    details = details_of(report)
    if details is None:
        return None
    return {
        "questions": details.questions,
        "must_answer": details.must_answer,
        "must_decline": details.must_decline,
        "facts_expected": details.facts_expected,
        "languages": list(details.languages),
        "documents": details.knowledge_base_documents,
        "restricted_documents": details.restricted_documents,
        "source": _DETAILS,
    }
