"""Expected facts: phrases as whole tokens, variants, patterns with a time limit."""

from __future__ import annotations

import time

from sandbox.assistant.facts import MAX_PATTERN_CHARS, PatternGuard, check_facts, fact_problem
from sandbox.assistant.normalise import normalise
from sandbox.assistant.records import PatternFact


def _found(facts: list, answer: str) -> list[bool]:  # type: ignore[type-arg]
    return [c.found for c in check_facts(facts, normalise(answer), PatternGuard())]


def test_a_phrase_is_found_after_normalisation() -> None:
    answer = "Las oficinas abren de LUNES a viernes; la tarifa es de 1.000 pesos."
    assert _found(["lunes a viernes", "1,000 pesos", "Tarifa"], answer) == [True, True, True]


def test_a_phrase_is_matched_as_whole_tokens() -> None:
    assert _found(["25"], "It costs 250 dollars") == [False]
    assert _found(["25"], "It costs 1.25 dollars") == [False]
    assert _found(["25"], "It costs $25.00.") == [True]
    assert _found(["park"], "The parking lot") == [False]


def test_unspaced_scripts_match_anywhere() -> None:
    assert _found(["水道料金"], "水道料金は月末に支払います") == [True]


def test_variants_any_one_matches() -> None:
    facts = [("Monday to Friday", "weekdays"), ("311", "three one one")]
    assert _found(facts, "Call three-one-one on weekdays.") == [True, True]
    assert _found(facts, "Call us on Saturday.") == [False, False]


def test_patterns_match_case_insensitively_on_the_normalised_answer() -> None:
    facts = [PatternFact(pattern=r"\b(8|9) ?am\b"), PatternFact(pattern=r"^open")]
    assert _found(facts, "OPEN from 9 AM!") == [True, True]
    assert _found(facts, "Closed at 10am") == [False, False]


def test_a_catastrophic_pattern_times_out_quickly_and_is_reported() -> None:
    guard = PatternGuard()
    start = time.perf_counter()
    checks = check_facts(
        [PatternFact(pattern="(a+)+$"), "b"], normalise("a" * 20_000 + " b"), guard
    )
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, elapsed
    assert checks[0].found is False and checks[0].timed_out is True
    assert checks[1].found is True
    assert guard.patterns == ["(a+)+$"]


def test_after_too_many_time_outs_patterns_are_skipped() -> None:
    guard = PatternGuard(limit=2)
    text = normalise("a" * 20_000 + " b")
    start = time.perf_counter()
    for _ in range(20):
        check_facts([PatternFact(pattern="(a+)+$")], text, guard)
    assert time.perf_counter() - start < 1.0
    assert guard.exhausted and guard.timeouts == 20


def test_facts_that_can_never_be_checked_are_named() -> None:
    assert fact_problem("!!!") is not None
    assert "regular expression" in (fact_problem(PatternFact(pattern="(unclosed")) or "")
    long = PatternFact(pattern="a" * (MAX_PATTERN_CHARS + 1))
    assert "shorten" in (fact_problem(long) or "")
    assert fact_problem(("fine", "also fine")) is None
