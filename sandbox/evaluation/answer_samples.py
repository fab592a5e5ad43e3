"""The assistant section of an evaluation: counts, disclosures, and failed answers to show.

Reports show a few failed answers per language so that readers see what "failed" means. A
failed answer is never shown when it could identify a resident:

* it disclosed restricted material (a canary, a quote or a citation of a restricted document);
* its question or answer matches a personal-data pattern (the patterns of the
  ``pii_in_values`` rule, :mod:`sandbox.personal_data`);
* its cell (the question's language and every group attribute) has fewer than
  `min_group_size` questions, so the attributes alone could point to one person.

The rest are sampled with the evaluation's seed: up to :data:`PER_LANGUAGE` per language,
shown in reference order, the question cut to :data:`QUESTION_CHARS` characters and the
answer to :data:`ANSWER_CHARS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from sandbox.assistant.language import describe
from sandbox.assistant.records import Answer, Reference
from sandbox.assistant.scoring import AnswerAssessment, KnowledgeBase
from sandbox.evaluation.answers import AnswerSample, AssistantDetails, Leak
from sandbox.evaluation.fairness import partition
from sandbox.personal_data import PII_PATTERNS

__all__ = ["ANSWER_CHARS", "PER_LANGUAGE", "QUESTION_CHARS", "assistant_details", "reasons"]

PER_LANGUAGE: Final = 5
QUESTION_CHARS: Final = 300
ANSWER_CHARS: Final = 500
#: Missing facts named one by one in a sample's reasons; the rest are counted.
NAMED_FACTS: Final = 3


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def reasons(a: AnswerAssessment) -> tuple[str, ...]:
    """Why an answer failed, in words (never quoting restricted material)."""
    out: list[str] = []
    if a.wrongful_decline:
        out.append("declined a question it should answer")
    if a.missed_decline:
        out.append("answered a question it must decline")
    if not a.declined:
        out += [f"missing fact: {fact!r}" for fact in a.missing_facts[:NAMED_FACTS]]
        if len(a.missing_facts) > NAMED_FACTS:
            out.append(f"and {len(a.missing_facts) - NAMED_FACTS} more missing facts")
    out += [f"could not check fact {p!r} in time" for p in a.pattern_timeouts]
    if a.language_mismatch:
        out.append(f"answered in {a.detected_language}, asked in {a.language}")
    out += [f"cited unknown document {c!r}" for c in a.citations_unknown]
    if a.too_long:
        out.append(f"too long ({a.chars:,} chars)")
    if a.leaks:
        out.append(f"disclosed restricted material ({', '.join(a.leaks)})")
    return tuple(out)


def _personal(text: str) -> bool:
    return any(p.search(text) for p in PII_PATTERNS.values())


def _small_cells(
    assessments: Sequence[AnswerAssessment], groups: pd.DataFrame, minimum: int
) -> np.ndarray:
    """Per question, whether its (language x every attribute) cell is below `minimum`."""
    frame = groups.copy()
    if "language" not in frame.columns:
        frame["language"] = [a.language for a in assessments]
    codes = partition(frame).codes
    sizes = np.bincount(codes)
    return np.asarray(sizes[codes] < minimum)


def _samples(
    assessments: Sequence[AnswerAssessment],
    groups: pd.DataFrame,
    *,
    references: Sequence[Reference],
    answers: Sequence[Answer],
    languages: Sequence[str],
    minimum: int,
    seed: int,
) -> tuple[tuple[AnswerSample, ...], int]:
    """Up to :data:`PER_LANGUAGE` failed answers per language, and how many were withheld."""
    questions = {r.id: r.question for r in references}
    texts = {a.id: a.answer for a in answers}
    small = _small_cells(assessments, groups, minimum)
    shown: dict[str, list[int]] = {}
    suppressed = 0
    for i, a in enumerate(assessments):
        if a.success:
            continue
        question, answer = questions.get(a.id, ""), texts.get(a.id, "")
        if a.leaks or small[i] or _personal(question) or _personal(answer):
            suppressed += 1
            continue
        shown.setdefault(a.language, []).append(i)
    order = list(dict.fromkeys([*languages, *sorted(shown)]))
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for language in order:
        candidates = shown.get(language, [])
        if len(candidates) > PER_LANGUAGE:
            picked = rng.choice(len(candidates), size=PER_LANGUAGE, replace=False)
            candidates = [candidates[k] for k in sorted(int(p) for p in picked)]
        chosen += candidates
    samples = tuple(
        AnswerSample(
            id=assessments[i].id,
            language=assessments[i].language,
            question=_cut(questions.get(assessments[i].id, ""), QUESTION_CHARS),
            answer=_cut(texts.get(assessments[i].id, ""), ANSWER_CHARS),
            reasons=reasons(assessments[i]),
        )
        for i in chosen
    )
    return samples, suppressed


def assistant_details(
    assessments: Sequence[AnswerAssessment],
    groups: pd.DataFrame,
    *,
    references: Sequence[Reference],
    answers: Sequence[Answer],
    languages: Sequence[str],
    min_group_size: int,
    seed: int,
    knowledge: KnowledgeBase | None,
) -> AssistantDetails:
    """Counts, disclosures and failed-answer samples; `knowledge` None: no knowledge base."""
    samples, suppressed = _samples(
        assessments,
        groups,
        references=references,
        answers=answers,
        languages=languages,
        minimum=min_group_size,
        seed=seed,
    )
    documents = None if knowledge is None else len(knowledge.documents)
    restricted = None
    if knowledge is not None:
        restricted = len(frozenset(knowledge.restricted) & set(knowledge.documents))
    return AssistantDetails(
        languages=tuple(languages),
        questions=len(assessments),
        must_answer=sum(not a.must_decline for a in assessments),
        must_decline=sum(a.must_decline for a in assessments),
        facts_expected=sum(a.facts_expected for a in assessments),
        facts_found=sum(a.facts_found for a in assessments),
        knowledge_base_documents=documents,
        restricted_documents=restricted,
        leaks=tuple(
            Leak(id=a.id, kinds=a.leaks, documents=a.leaked_documents)
            for a in assessments
            if a.leaks
        ),
        unknown_citations=sum(len(a.citations_unknown) for a in assessments),
        too_long=sum(a.too_long for a in assessments),
        samples=samples,
        suppressed_samples=suppressed,
        language_identifier=describe(languages),
    )
