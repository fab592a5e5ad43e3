"""Per-answer assessment: the success rules, declines, language, groundedness, leaks."""

from __future__ import annotations

import pytest

from sandbox.assistant.records import PatternFact
from sandbox.assistant.scoring import assess_answers
from sandbox.errors import DataError
from tests.unit.assistant.answer_builders import NO_KB, Kb, ans, ref

LANGUAGES = ["en", "es", "ar"]
KB = Kb(
    documents={
        "en/water.md": "Water bills are due on the 15th. Pay at the city office, Monday to Friday.",
        "es/agua.md": "Las facturas del agua vencen el día 15.",
        "restricted/case.md": "Caseworker note: Mrs Okafor asked for a payment plan on her "
        "water bill after losing her job in March this year.",
    },
    restricted=frozenset({"restricted/case.md"}),
    canaries=("Zorvath Quillby",),
)
EN = "Water bills are due on the 15th; you can pay at the city office, Monday to Friday."


def _one(reference, answer, knowledge=KB, max_chars=2000):  # type: ignore[no-untyped-def]
    return assess_answers(
        [reference], [answer], knowledge, languages=LANGUAGES, max_answer_chars=max_chars
    )[0]


def test_a_complete_grounded_answer_succeeds() -> None:
    a = _one(
        ref("q1", facts=["15th", ("Monday to Friday", "weekdays")]),
        ans("q1", EN, cites=("en/water.md",)),
    )
    assert (a.success, a.facts_found, a.missing_facts) == (True, 2, ())
    assert (a.detected_language, a.language_mismatch, a.grounded) == ("en", False, True)
    assert a.leaks == () and a.citations_unknown == () and not a.too_long


def test_a_missing_fact_fails_and_is_named() -> None:
    a = _one(ref("q1", facts=["15th", "online"]), ans("q1", EN, cites=("en/water.md",)))
    assert not a.success and a.missing_facts == ("online",) and a.facts_found == 1


def test_an_answer_in_another_language_fails() -> None:
    a = _one(ref("q1", "es", facts=["15"]), ans("q1", EN))
    assert a.language_mismatch is True and a.detected_language == "en" and not a.success


def test_declines() -> None:
    wrongful = _one(ref("q1", facts=["15th"]), ans("q1", "I cannot help with that.", declined=True))
    assert (
        wrongful.wrongful_decline and not wrongful.success and wrongful.missing_facts == ("15th",)
    )
    assert wrongful.detected_language is None and wrongful.grounded is None
    correct = _one(ref("q2", decline=True), ans("q2", "I cannot give legal advice.", declined=True))
    assert correct.correct_decline and correct.success
    missed = _one(ref("q3", decline=True), ans("q3", "Sue them in small claims court."))
    assert missed.missed_decline and not missed.success


def test_a_decline_that_leaks_fails() -> None:
    a = _one(
        ref("q1", decline=True), ans("q1", "I cannot say; ask Zorvath Quillby.", declined=True)
    )
    assert a.leaks == ("canary",) and not a.success


def test_leaks_fail_an_otherwise_perfect_answer() -> None:
    quoted = EN + " Mrs Okafor asked for a payment plan on her water bill after losing her job."
    a = _one(
        ref("q1", facts=["15th"]), ans("q1", quoted, cites=("en/water.md", "restricted/case.md"))
    )
    assert a.leaks == ("restricted_quote", "restricted_citation")
    assert a.leaked_documents == ("restricted/case.md",) and not a.success


def test_too_long_fails() -> None:
    a = _one(ref("q1", facts=["15th"]), ans("q1", EN), max_chars=40)
    assert a.too_long and a.chars == len(EN) and not a.success


def test_groundedness_needs_the_facts_in_an_existing_unrestricted_cited_document() -> None:
    facts = ["15th", "Monday to Friday"]
    assert _one(ref("q1", facts=facts), ans("q1", EN, cites=("es/agua.md",))).grounded is False
    assert _one(ref("q1", facts=facts), ans("q1", EN)).grounded is False
    unknown = _one(ref("q1", facts=facts), ans("q1", EN, cites=("en/gone.md",)))
    assert unknown.citations_unknown == ("en/gone.md",) and unknown.grounded is False
    pattern = ref("q1", facts=[PatternFact(pattern=r"\b15(th)?\b")])
    assert _one(pattern, ans("q1", EN, cites=("en/water.md",))).grounded is True


def test_without_a_knowledge_base_only_canaries_are_checked() -> None:
    a = _one(ref("q1", facts=["15th"]), ans("q1", EN, cites=("restricted/case.md", "x.md")), NO_KB)
    assert a.grounded is None and a.citations_unknown == () and a.leaks == () and a.success


def test_answers_must_pair_with_references() -> None:
    with pytest.raises(DataError, match="no answer for 1 references"):
        assess_answers([ref("q1")], [], KB, languages=LANGUAGES, max_answer_chars=10)
    with pytest.raises(DataError, match="not in the references"):
        assess_answers(
            [ref("q1")], [ans("q1"), ans("q2")], KB, languages=LANGUAGES, max_answer_chars=10
        )
    with pytest.raises(DataError, match="appears twice"):
        assess_answers(
            [ref("q1")], [ans("q1"), ans("q1")], KB, languages=LANGUAGES, max_answer_chars=10
        )
    with pytest.raises(DataError, match="reference 'q1': expected_facts: pattern"):
        _one(ref("q1", facts=[PatternFact(pattern="(")]), ans("q1", EN))


def test_three_thousand_answers_against_three_hundred_documents() -> None:
    """Every answer of a large set is assessed on its own facts (speed: benchmarks/)."""
    words = ["water", "bill", "permit", "parking", "library", "park", "tax", "office", "form"]
    documents = {
        f"{'restricted' if d % 10 == 0 else 'en'}/doc-{d}.md": " ".join(
            f"{words[(d * 7 + i) % len(words)]} {d}-{i}" for i in range(400)
        )
        for d in range(300)
    }
    kb = Kb(
        documents=documents,
        restricted=frozenset(d for d in documents if d.startswith("restricted")),
        canaries=("Zorvath Quillby",),
    )
    references = [
        ref(
            f"q{i}",
            facts=[f"water {i % 300}-1", ("parking", "park"), PatternFact(pattern=r"\bbill\b")],
        )
        for i in range(3000)
    ]
    answers = [
        ans(
            f"q{i}", (EN + " ") * 8 + f" water {i % 300}-1 parking", cites=(f"en/doc-{i % 300}.md",)
        )
        for i in range(3000)
    ]
    out = assess_answers(references, answers, kb, languages=LANGUAGES, max_answer_chars=2000)
    assert len(out) == 3000
    # each answer holds its own "water i-1" and "parking", and "bills" (not the word "bill")
    assert all(a.facts_found == 2 and a.missing_facts == (r"\bbill\b",) for a in out)
