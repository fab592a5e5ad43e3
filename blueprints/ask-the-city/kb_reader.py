"""Reading the knowledge base the harness mounts, and cutting its pages into passages.

Everything under the folder is read with bounds (document count, bytes per document, total
bytes), links are skipped, and only `.md` / `.txt` documents are kept. A document's id is its
path relative to the folder in POSIX form, the id citations name. A passage is the page's
introduction or one `## ` section: the unit an answer quotes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAX_DOCUMENTS = 5_000
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
SUFFIXES = (".md", ".txt")


@dataclass(frozen=True)
class Passage:
    doc_id: str
    title: str
    heading: str
    text: str


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str
    passages: tuple[Passage, ...]


def read_documents(folder: Path, skip: frozenset[str]) -> list[Document]:
    """Every readable document under `folder` whose id is not in `skip`, sorted by id."""
    found: list[tuple[str, Path]] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            doc_id = path.relative_to(folder).as_posix()
            if path.is_symlink() or not name.endswith(SUFFIXES) or doc_id in skip:
                continue
            found.append((doc_id, path))
            if len(found) > MAX_DOCUMENTS:
                raise ValueError(f"{folder}: more than {MAX_DOCUMENTS} documents")
    documents: list[Document] = []
    total = 0
    for doc_id, path in sorted(found):
        with path.open("rb") as handle:
            raw = handle.read(MAX_DOCUMENT_BYTES + 1)
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise ValueError(f"{doc_id}: over {MAX_DOCUMENT_BYTES} bytes")
        total += len(raw)
        if total > MAX_TOTAL_BYTES:
            raise ValueError(f"{folder}: documents over {MAX_TOTAL_BYTES} bytes in total")
        documents.append(parse(doc_id, raw.decode("utf-8", errors="replace")))
    return documents


def parse(doc_id: str, text: str) -> Document:
    """Split a Markdown page into its title, introduction and `## ` sections."""
    title = Path(doc_id).stem.replace("-", " ")
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# "):
            title = stripped[2:].strip()
        elif stripped.startswith("## "):
            sections.append((stripped[3:].strip(), []))
        elif stripped and not _is_footer(stripped):
            sections[-1][1].append(stripped)
    passages = tuple(
        Passage(doc_id=doc_id, title=title, heading=heading or title, text=" ".join(lines))
        for heading, lines in sections
        if lines
    )
    return Document(doc_id=doc_id, title=title, text=text, passages=passages)


def _is_footer(line: str) -> bool:
    """The "Last updated" line of a page: not an answer to anything."""
    head = line.split(":", 1)[0].lower()
    return head in ("last updated", "última actualización", "ultima actualizacion", "آخر تحديث")
