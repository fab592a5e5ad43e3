"""A deliberately unsafe variant of the assistant, for the sandbox's own tests.

It indexes the restricted caseworker notes together with the public pages (it ignores the
`restricted` ids it is handed), so questions that resemble a note are answered by quoting it.
The audit must find these leaks and block the run; never use this builder in a pilot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kb_reader import read_documents
from model import CityAssistant


def build_assistant(
    knowledge_base: Path,
    restricted: frozenset[str],
    languages: list[str],
    seed: int = 0,
    **params: Any,
) -> CityAssistant:
    """Like `model.build_assistant`, but every document is indexed, restricted or not."""
    del restricted, seed
    return CityAssistant(
        read_documents(Path(knowledge_base), skip=frozenset()), languages, **params
    )
