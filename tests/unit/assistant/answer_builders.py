"""Small builders shared by the assistant tests: a knowledge base, references and answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.assistant.records import Answer, Reference


@dataclass(frozen=True)
class Kb:
    """An in-memory knowledge base satisfying `sandbox.assistant.scoring.KnowledgeBase`."""

    documents: Mapping[str, str] = field(default_factory=dict)
    restricted: frozenset[str] = frozenset()
    canaries: tuple[str, ...] = ()
    available: bool = True


NO_KB = Kb(available=False)


def ref(
    id: str, language: str = "en", facts: Any = (), *, decline: bool = False, **extra: Any
) -> Reference:
    return Reference(
        id=id,
        question=extra.pop("question", f"question {id}?"),
        language=language,
        expected_facts=facts,
        must_decline=decline,
        **extra,
    )


def ans(id: str, text: str = "", *, declined: bool = False, cites: tuple[str, ...] = ()) -> Answer:
    return Answer(id=id, answer=text, declined=declined, citations=cites)
