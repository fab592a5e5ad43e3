"""Which of the pilot's languages an answer is written in, offline and deterministic.

The identifier is py3langid (a naive Bayes model over byte n-grams, Lui and Baldwin 2012),
whose model ships inside the package: nothing is downloaded. It chooses only among the pilot's
languages (the question is whether a Spanish question got a Spanish answer, not which of 97
languages a short text resembles most). Language codes are compared by their primary subtag
(``pt-BR`` is ``pt``); a pilot language the model does not know is never chosen, and answers
to questions in it are not assessed. The model is loaded once per process and restricted once
per set of languages.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = ["MIN_LETTERS", "describe", "identify", "primary", "supported"]

#: Shorter answers (in letters) are too short to identify reliably: not assessed.
MIN_LETTERS = 20
#: The identifier reads this many characters of an answer: plenty to tell languages apart,
#: and it keeps thousands of long answers fast.
READ_CHARS = 400


def primary(code: str) -> str:
    """The primary language subtag of an ISO 639 code, lower case: ``pt-BR`` -> ``pt``."""
    return code.split("-", 1)[0].strip().lower()


@cache
def _model() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # loads numpy arrays

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@cache
def _known() -> frozenset[str]:
    return frozenset(_model().labels)


def supported(languages: Iterable[str]) -> tuple[str, ...]:
    """The primary subtags among `languages` the identifier can choose, sorted, once each."""
    return tuple(sorted({primary(c) for c in languages} & _known()))


@cache
def _identifier(languages: tuple[str, ...]) -> Any:
    restricted = copy.copy(_model())  # set_languages rebinds attributes: the model is shared
    restricted.set_languages(list(languages))
    return restricted


def _has_letters(text: str, count: int) -> bool:
    """`text` has at least `count` letters (stops counting there)."""
    for char in text:
        if char.isalpha():
            count -= 1
            if count <= 0:
                return True
    return False


def identify(text: str, languages: Iterable[str]) -> str | None:
    """The language of `text` among `languages` (primary subtags), or None.

    None when the text has fewer than :data:`MIN_LETTERS` letters or none of `languages` is
    known to the identifier. Only the first :data:`READ_CHARS` characters are read.
    """
    choices = supported(languages)
    if not choices or not _has_letters(text, MIN_LETTERS):
        return None
    if len(choices) == 1:
        return choices[0]
    label, _ = _identifier(choices).classify(text[:READ_CHARS])
    return str(label)


def describe(languages: Iterable[str]) -> str:
    """The identifier and the languages it chooses among, in words."""
    try:
        release = f"py3langid {version('py3langid')}"
    except PackageNotFoundError:  # pragma: no cover - the dependency is installed
        release = "py3langid"
    codes = tuple(languages)
    choices = supported(codes)
    unknown = sorted({primary(c) for c in codes} - set(choices))
    text = f"{release} restricted to {', '.join(choices) or 'no known language'}"
    return text + (f" (not identifiable: {', '.join(unknown)})" if unknown else "")
