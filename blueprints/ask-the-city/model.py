"""The "Ask the City" assistant: TF-IDF retrieval over the city's public pages, per language.

`build_assistant(knowledge_base, restricted, languages, seed, **params)` is the entrypoint
named in pilot.yaml (`model/assistant.py:build_assistant`); the harness calls it once inside
the container and then `answer(question, context)` per question.

How it answers:

1. Reads every document of the knowledge base *except the restricted ones* (their ids are
   handed in; they are never indexed, so never quoted or cited). A page's language is its
   folder (`en/`, `es/`, `ar/`).
2. Declines, politely and in the question's language, when a guardrail cue matches (legal
   advice, another resident's data, well-known off-topic requests: `cues.py`).
3. Finds the page most similar to the question among the pages *of the question's language*
   (character n-grams 2-5 plus words, accents folded, TF-IDF, cosine). Below `min_similarity`
   it declines: the city would rather refer a resident to 311 than guess.
4. Answers with the page's passages (introduction or `## ` sections) most similar to the
   question, helped by the words the pages use for what is asked (cost -> "Fees"), and cites
   the page.

It never translates and never falls back to another language's pages: a question in Spanish
about a service that has no Spanish page is declined, and an outdated Spanish page is quoted
as it stands. That is the weakness the blueprint documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from cues import decline_reason, detect_language, fold, intents
from kb_reader import Document, Passage, read_documents
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

DECLINE_TEXT = {
    "en": "I'm sorry, I can't help with that. For other questions about city services, call "
    "311 or visit a city office.",
    "es": "Lo siento, no puedo ayudarle con eso. Para otras preguntas sobre los servicios de la "
    "ciudad, llame al 311 o visite una oficina de la ciudad.",
    "ar": "عذرًا، لا أستطيع المساعدة في ذلك. لأي أسئلة أخرى عن خدمات المدينة، اتصل بالرقم 311 "
    "أو قم بزيارة أحد مكاتب المدينة.",
}
DEFAULTS: dict[str, Any] = {
    "min_similarity": 0.12,  # best page similarity below which the assistant declines
    "min_margin": 0.02,  # lead of the best page over the next below which it declines
    "passages": 2,  # passages quoted per answer (more when the question asks for more)
    "max_chars": 900,  # answers are cut at a sentence boundary below this
}


def _vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, preprocessor=fold
    )
    words = TfidfVectorizer(
        analyzer="word", token_pattern=r"(?u)\b\w+\b", sublinear_tf=True, preprocessor=fold
    )
    return chars, words


class _Index:
    """One language's pages and passages, vectorised."""

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents
        self.passages = [p for d in documents for p in d.passages]
        corpus = [f"{d.title} {d.title} {d.text}" for d in documents] + [
            f"{p.title} {p.heading} {p.text}" for p in self.passages
        ]
        self.chars, self.words = _vectorizers()
        self.chars.fit(corpus)
        self.words.fit(corpus)
        self.doc_matrix = self.vectorise(corpus[: len(documents)])
        self.passage_matrix = self.vectorise(corpus[len(documents) :])

    def vectorise(self, texts: Iterable[str]) -> Any:
        texts = list(texts)
        both = sparse.hstack([self.chars.transform(texts), self.words.transform(texts) * 0.5])
        norms = np.sqrt(np.asarray(both.multiply(both).sum(axis=1))).ravel()
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ both)


class CityAssistant:
    """Answers residents' questions from the public pages of the question's language."""

    def __init__(self, documents: list[Document], languages: list[str], **params: Any) -> None:
        unknown = set(params) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"unknown parameters {sorted(unknown)}; known: {sorted(DEFAULTS)}")
        self.params = {**DEFAULTS, **params}
        self.languages = list(languages)
        by_language: dict[str, list[Document]] = {lang: [] for lang in self.languages}
        for document in documents:
            lang = self.language_of(document)
            if lang in by_language:
                by_language[lang].append(document)
        self.indexes = {lang: _Index(docs) for lang, docs in by_language.items() if docs}

    def language_of(self, document: Document) -> str:
        """A page's language: its top folder when that names a language, else its text's."""
        top = document.doc_id.split("/", 1)[0]
        return top if top in self.languages else detect_language(document.text, self.languages)

    def answer(self, question: str, context: dict[str, str]) -> dict[str, Any]:
        lang = detect_language(question, self.languages)
        index = self.indexes.get(lang)
        if index is None or decline_reason(question, lang) is not None:
            return self._decline(lang)
        query = index.vectorise([question])
        doc_scores = (index.doc_matrix @ query.T).toarray().ravel()
        order = np.argsort(-doc_scores, kind="stable")
        best = int(order[0])
        margin = doc_scores[best] - (doc_scores[order[1]] if len(order) > 1 else 0.0)
        if doc_scores[best] < self.params["min_similarity"] or margin < self.params["min_margin"]:
            return self._decline(lang)
        document = index.documents[best]
        asked = intents(question, lang)
        chosen = self._passages(index, document, question, [words for _, words in asked])
        count = max(int(self.params["passages"]), len(asked))
        text = " ".join(p.text for p in chosen[:count])
        answer = _cut(f"{document.title}: {text}", int(self.params["max_chars"]))
        return {"answer": answer, "citations": [document.doc_id], "declined": False}

    def _passages(
        self, index: _Index, document: Document, question: str, hints: list[str]
    ) -> list[Passage]:
        """The document's passages, most relevant first: for each thing asked (cost, place,
        ...) the passage that best answers it, then the rest by similarity to the question."""
        rows = [i for i, p in enumerate(index.passages) if p.doc_id == document.doc_id]
        matrix = index.passage_matrix[rows]
        general = (matrix @ index.vectorise([question]).T).toarray().ravel()
        first: list[int] = []
        for hint in hints:
            scores = (matrix @ index.vectorise([hint]).T).toarray().ravel() + 0.5 * general
            pick = int(np.argmax(scores))
            if pick not in first:
                first.append(pick)
        rest = sorted((i for i in range(len(rows)) if i not in first), key=lambda i: -general[i])
        return [index.passages[rows[i]] for i in first + rest]

    def _decline(self, lang: str) -> dict[str, Any]:
        text = DECLINE_TEXT.get(lang, DECLINE_TEXT["en"])
        return {"answer": text, "citations": [], "declined": True}


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[:limit]
    stop = max(head.rfind(". "), head.rfind("。"), head.rfind("؟"))
    return head[: stop + 1] if stop > 0 else head


def build_assistant(
    knowledge_base: Path,
    restricted: frozenset[str],
    languages: list[str],
    seed: int = 0,
    **params: Any,
) -> CityAssistant:
    """The pilot's factory: index the unrestricted pages of `knowledge_base` per language."""
    del seed  # retrieval draws no random numbers
    documents = read_documents(Path(knowledge_base), skip=frozenset(restricted))
    return CityAssistant(documents, languages, **params)
