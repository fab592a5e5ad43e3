"""Whether an answer states the facts a reference expects: phrases, variants and patterns.

A phrase is found when its normalised text (:mod:`sandbox.assistant.normalise`) occurs in the
normalised answer as whole tokens ("25" is not found in "250" nor in "1.25"); in scripts
written without spaces between words (Chinese, Japanese, Thai, ...) any occurrence counts. A
list of variants is found when any one is. A pattern is a regular expression of the `regex`
package, searched case-insensitively in the normalised answer with a time limit per search: a
pattern that runs out of time (catastrophic backtracking on a long answer) counts as not
found and is reported, and after :data:`MAX_TIMEOUTS` time-outs in one assessment the
remaining patterns are not run at all, so a hostile evaluation set cannot stall a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import regex

from sandbox.assistant.normalise import normalise
from sandbox.assistant.records import Fact, PatternFact

__all__ = [
    "MAX_PATTERN_CHARS",
    "MAX_TIMEOUTS",
    "PATTERN_SECONDS",
    "FactCheck",
    "PatternGuard",
    "check_facts",
    "fact_problem",
    "fact_text",
    "occurs",
]

#: Longest pattern accepted: longer ones are an error in the evaluation set.
MAX_PATTERN_CHARS = 300
#: Time limit of one pattern search, in seconds.
PATTERN_SECONDS = 0.05
#: Time-outs after which no further pattern is searched in the same assessment.
MAX_TIMEOUTS = 40
_FLAGS = regex.IGNORECASE | regex.UNICODE | regex.V0
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")


@dataclass
class PatternGuard:
    """The time-outs of one assessment: patterns stop running after too many."""

    limit: int = MAX_TIMEOUTS
    timeouts: int = 0
    #: The patterns that ran out of time (or were skipped after the limit), once each.
    patterns: list[str] = field(default_factory=list)

    @property
    def exhausted(self) -> bool:
        """Too many time-outs already: further patterns count as not found."""
        return self.timeouts >= self.limit

    def timed_out(self, pattern: str) -> None:
        self.timeouts += 1
        if pattern not in self.patterns:
            self.patterns.append(pattern)


@dataclass(frozen=True)
class FactCheck:
    """One expected fact in one answer."""

    #: The fact as written in the evaluation set (variants joined by " | ").
    text: str
    found: bool
    #: A pattern that could not be searched in time (counted as not found).
    timed_out: bool = False


def fact_text(fact: Fact) -> str:
    """The fact as shown in reports: the phrase, the variants, or the pattern."""
    if isinstance(fact, PatternFact):
        return fact.pattern
    if isinstance(fact, str):
        return fact
    return " | ".join(fact)


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern, _FLAGS)


@lru_cache(maxsize=65536)
def _phrase(text: str) -> tuple[str, bool]:
    """A phrase's normalised text, and whether it is matched as whole tokens."""
    norm = normalise(text)
    return norm, _UNSPACED.search(norm) is None


def fact_problem(fact: Fact) -> str | None:
    """Why `fact` cannot be checked (an empty phrase, a bad pattern), or None."""
    if isinstance(fact, PatternFact):
        if len(fact.pattern) > MAX_PATTERN_CHARS:
            return f"pattern longer than {MAX_PATTERN_CHARS} characters: shorten it"
        try:
            _compiled(fact.pattern)
        except (regex.error, ValueError) as exc:
            return f"pattern {fact.pattern!r} is not a valid regular expression ({exc})"
        return None
    for phrase in (fact,) if isinstance(fact, str) else fact:
        if not _phrase(phrase)[0]:
            return f"phrase {phrase!r} has no letters or digits, so it can never be found"
    return None


def occurs(phrase: str, text: str) -> bool:
    """`phrase` (raw) occurs in `text` (normalised), as whole tokens where words are spaced."""
    norm, whole = _phrase(phrase)
    if not norm:
        return False
    return f" {norm} " in f" {text} " if whole else norm in text


def _search(pattern: str, text: str, guard: PatternGuard) -> tuple[bool, bool]:
    """(found, timed out) for one pattern; a skipped pattern counts as timed out."""
    if guard.exhausted:
        guard.timed_out(pattern)
        return False, True
    try:
        return _compiled(pattern).search(text, timeout=PATTERN_SECONDS) is not None, False
    except TimeoutError:
        guard.timed_out(pattern)
        return False, True


def check_facts(facts: Iterable[Fact], text: str, guard: PatternGuard) -> tuple[FactCheck, ...]:
    """Each fact, found or not, in `text` (an already normalised answer or document)."""
    out = []
    for fact in facts:
        if isinstance(fact, PatternFact):
            found, late = _search(fact.pattern, text, guard)
            out.append(FactCheck(fact.pattern, found, late))
        else:
            variants = (fact,) if isinstance(fact, str) else fact
            out.append(FactCheck(fact_text(fact), any(occurs(v, text) for v in variants)))
    return tuple(out)
