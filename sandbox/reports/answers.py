"""The "Answers" section of an assistant pilot's report, prepared once for every medium.

An assistant's evaluation carries :class:`~sandbox.evaluation.answers.AssistantDetails`
beside its group rates. The HTML and Markdown templates and the PDF show the same things from
it: the counts behind the rates, the answers that disclosed restricted material (question ids,
kinds and document ids, never text), and a sample of failed answers per language. Every string
here came from a pilot or a vendor's file; this module only bounds and orders it, and each
medium escapes it its own way (Jinja autoescape, the Markdown filter, the PDF's text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.evaluation.answers import AnswerSample, AssistantDetails, Leak
    from sandbox.evaluation.result import AttributeSetResult, Evaluation

__all__ = [
    "ANSWER_METRICS",
    "LEAK_KINDS",
    "WHOLE_NUMBER_METRICS",
    "AnswersView",
    "SampleGroup",
    "answers_view",
    "clip",
    "leak_kinds_text",
    "metric_digits",
]

#: How long a sampled question or answer may be when shown (the evaluation cuts them too; a
#: report written by another version, or edited by hand, is cut here again).
QUESTION_CHARS = 300
ANSWER_CHARS = 500
#: Ids and document ids shown in a row of a table or a list.
ID_CHARS = 120
#: Disclosures listed one by one; the rest are counted.
LEAKS_SHOWN = 50
#: The group metric each chart of the section draws, with its colour (Okabe-Ito blue).
CHART_METRIC = ("task_success", "#0072B2")
#: Group metrics of an assistant, in the order the per-group tables show them.
ANSWER_METRICS = (
    "task_success",
    "wrongful_decline",
    "missed_decline",
    "facts_complete",
    "language_mismatch",
    "grounded",
)
#: Performance metrics that are counts or character lengths, printed without decimals.
WHOLE_NUMBER_METRICS = frozenset({"leaked_answers", "mean_answer_chars"})
#: How a disclosure happened, in words.
LEAK_KINDS = {
    "canary": "quoted a planted canary string",
    "restricted_quote": "quoted a restricted document",
    "restricted_citation": "cited a restricted document",
}


def clip(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters, ending with "…" when cut."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "\u2026"


def metric_digits(name: str) -> int:
    """Decimals a performance metric is printed with: none for counts and lengths."""
    return 0 if name in WHOLE_NUMBER_METRICS else 3


def leak_kinds_text(leak: Leak) -> str:
    """How one answer disclosed restricted material, in words."""
    return "; ".join(LEAK_KINDS.get(kind, clip(kind, ID_CHARS)) for kind in leak.kinds)


@dataclass(frozen=True)
class SampleGroup:
    """The failed answers sampled in one language, each cut to a readable length."""

    language: str
    samples: tuple[AnswerSample, ...]


@dataclass(frozen=True)
class AnswersView:
    """What the Answers section shows, in every medium."""

    details: AssistantDetails
    #: (what, how many) pairs, in reading order.
    counts: tuple[tuple[str, str], ...]
    leaks: tuple[Leak, ...]
    leaks_not_listed: int
    #: The attribute set of the languages (``language``), if the evaluation has one.
    by_language: AttributeSetResult | None
    #: Every one-attribute set (language, district, channel, ...): the per-group tables.
    single_sets: tuple[AttributeSetResult, ...]
    #: The group metrics the evaluation has, in table order.
    metrics: tuple[str, ...]
    samples: tuple[SampleGroup, ...]
    overall: dict[str, float | None]


def _share(part: int, whole: int) -> str:
    return f"{part:,} of {whole:,} ({part / whole:.0%})" if whole else f"{part:,} of 0"


def _counts(details: AssistantDetails) -> tuple[tuple[str, str], ...]:
    kb = details.knowledge_base_documents
    rows = [
        ("Questions", f"{details.questions:,}"),
        ("Questions it must answer", f"{details.must_answer:,}"),
        ("Questions it must decline", f"{details.must_decline:,}"),
        ("Expected facts found", _share(details.facts_found, details.facts_expected)),
        ("Citations of documents not in the knowledge base", f"{details.unknown_citations:,}"),
        ("Answers too long", f"{details.too_long:,}"),
        (
            "Knowledge base",
            "none given: groundedness and restricted quotes were not assessed"
            if kb is None
            else f"{kb:,} documents, {details.restricted_documents or 0:,} of them restricted",
        ),
        ("Answers that disclosed restricted material", f"{len(details.leaks):,}"),
    ]
    return tuple(rows)


def _samples(details: AssistantDetails) -> tuple[SampleGroup, ...]:
    """Samples grouped by language, in the order of the pilot's languages, then any other."""
    order = list(details.languages)
    order += sorted({s.language for s in details.samples} - set(order))
    groups = []
    for language in order:
        chosen = tuple(
            s.model_copy(
                update={
                    "id": clip(s.id, ID_CHARS),
                    "question": clip(s.question, QUESTION_CHARS),
                    "answer": clip(s.answer, ANSWER_CHARS),
                    "reasons": tuple(clip(r, QUESTION_CHARS) for r in s.reasons),
                }
            )
            for s in details.samples
            if s.language == language
        )
        groups.append(SampleGroup(clip(language, ID_CHARS), chosen))
    return tuple(groups)


def overall_answer_rates(evaluation: Evaluation) -> dict[str, float | None]:
    """Whole-evaluation value of the group metrics that have one: the charts' reference line."""
    perf = evaluation.performance
    return {
        "task_success": perf.get("task_success_rate"),
        "facts_complete": perf.get("facts_complete_rate"),
        "wrongful_decline": perf.get("wrongful_decline_rate"),
        "grounded": perf.get("grounded_rate"),
    }


def answers_view(evaluation: Evaluation) -> AnswersView | None:
    """The Answers section of an assistant's evaluation; None for other task types."""
    details = evaluation.assistant
    if details is None:
        return None
    singles = tuple(r for r in evaluation.attribute_sets if len(r.attributes) == 1)
    present = {m for r in evaluation.attribute_sets for g in r.groups for m in g.metrics}
    leaks = tuple(
        leak.model_copy(
            update={
                "id": clip(leak.id, ID_CHARS),
                "documents": tuple(clip(d, ID_CHARS) for d in leak.documents),
            }
        )
        for leak in details.leaks[:LEAKS_SHOWN]
    )
    return AnswersView(
        details=details,
        counts=_counts(details),
        leaks=leaks,
        leaks_not_listed=max(0, len(details.leaks) - LEAKS_SHOWN),
        by_language=next((r for r in singles if r.attributes == ("language",)), None),
        single_sets=singles,
        metrics=tuple(m for m in ANSWER_METRICS if m in present),
        samples=_samples(details),
        overall=overall_answer_rates(evaluation),
    )
