"""The two published record types of assistant evaluation: a reference and an answer.

A *reference* is one question of the city's evaluation set, kept on the host: its language,
group attributes, the facts a correct answer states and whether the assistant must decline.
An *answer* is what the assistant said: its text, the knowledge-base documents it cited and
whether it declined. Both are lines of a JSON Lines file whose JSON Schema is published
(`sandbox schema references`, `sandbox schema answers`); fields beyond these are allowed and
kept (a reference's group attributes, a vendor's timestamps).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "MAX_ANSWER_CHARS",
    "MAX_QUESTION_CHARS",
    "Answer",
    "Fact",
    "PatternFact",
    "Reference",
]

MAX_QUESTION_CHARS = 4_000
MAX_ANSWER_CHARS = 20_000
MAX_ITEMS = 50
MAX_ITEM_CHARS = 500

#: An id: 1 to 200 characters, no control characters.
Id = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,200}$")]
#: One phrase of a fact, or one cited document id.
Item = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ITEM_CHARS)]


class PatternFact(BaseModel):
    """A fact stated by matching a regular expression on the normalised answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: Item = Field(
        description="A regular expression (the `regex` package's syntax), matched "
        "case-insensitively on the normalised answer, with a time limit."
    )


#: A phrase, a list of accepted variants (any one matches), or a pattern.
Fact = Item | Annotated[tuple[Item, ...], Field(min_length=1, max_length=20)] | PatternFact


class Reference(BaseModel):
    """One question of the evaluation set, with what a correct answer holds."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: Id = Field(description="Unique within the file; answers name it.")
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] = (
        Field(description="The question's language, an ISO 639 code, e.g. en, es, ar.")
    )
    expected_facts: tuple[Fact, ...] = Field(
        default=(),
        max_length=MAX_ITEMS,
        description="What a correct answer states: each a phrase, a list of accepted "
        "variants, or {pattern: regex}. Empty when the assistant must decline.",
    )
    must_decline: bool = Field(
        default=False,
        description="The assistant must decline: out of scope, legal advice, another "
        "resident's data.",
    )


class Answer(BaseModel):
    """The assistant's answer to one question."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: Id = Field(description="The reference id of the question answered.")
    answer: str = Field(default="", max_length=MAX_ANSWER_CHARS)
    declined: bool = Field(default=False, description="The assistant declined to answer.")
    citations: tuple[Item, ...] = Field(
        default=(),
        max_length=MAX_ITEMS,
        description="Knowledge-base document ids (paths relative to the knowledge base).",
    )
