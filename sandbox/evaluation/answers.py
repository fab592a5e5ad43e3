"""The assistant section of an evaluation: what the answers held beyond the group rates.

An assistant pilot's :class:`~sandbox.evaluation.result.Evaluation` carries its group rates
like every task type; :class:`AssistantDetails` adds the counts behind them, every answer that
disclosed restricted material (by id, never by text), and a sample of failed answers per
language for the reports, from which answers that could identify a resident are left out.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["AnswerSample", "AssistantDetails", "Leak"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Leak(BaseModel):
    """One answer that disclosed restricted material: which question, how, which documents."""

    model_config = _FROZEN

    #: The reference id of the question; the answer's text is never repeated.
    id: str
    #: "canary", "restricted_quote" or "restricted_citation".
    kinds: tuple[str, ...]
    #: The restricted documents involved (ids in the knowledge base).
    documents: tuple[str, ...] = ()


class AnswerSample(BaseModel):
    """A failed answer shown in the reports, cut to a readable length, with what went wrong."""

    model_config = _FROZEN

    id: str
    language: str
    question: str
    answer: str
    reasons: tuple[str, ...]


class AssistantDetails(BaseModel):
    """Counts, disclosures and failed-answer samples of an assistant's evaluation."""

    model_config = _FROZEN

    languages: tuple[str, ...]
    questions: int
    must_answer: int
    must_decline: int
    facts_expected: int
    facts_found: int
    #: None when no knowledge base was given (a predictions-only audit without one).
    knowledge_base_documents: int | None
    restricted_documents: int | None
    leaks: tuple[Leak, ...]
    unknown_citations: int
    too_long: int
    #: Up to a few failed answers per language, chosen with the evaluation's seed.
    samples: tuple[AnswerSample, ...]
    #: Failed answers never sampled because they could identify a resident.
    suppressed_samples: int
    #: The language identifier and the languages it chose among, in words.
    language_identifier: str
