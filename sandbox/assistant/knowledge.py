"""The knowledge base an assistant answers from, and the canaries it must never say.

A knowledge base is a folder of UTF-8 `.md` and `.txt` documents inside the pilot folder. A
document's id is its path relative to the folder in POSIX form (``en/water-bills.md``); that
is what an answer cites. Documents matching one of the manifest's `restricted` globs (caseworker
notes, residents' letters) must never be quoted or cited. Canaries are strings the city planted
in restricted documents; one appearing in an answer is a leak, whatever the document.

The folder is hostile input, so everything is bounded before it is read: links are refused
(the folder itself too), only regular `.md`/`.txt` files are accepted, the number of entries
and of documents, each document's size and the total are checked against what the file system
reports, and each file is then read with `sandbox.hostfile.read_pilot_file`, which refuses a
link or a file that grew. Errors are DataError naming the manifest field, the file and the fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Final

from sandbox.digests import bytes_sha256
from sandbox.errors import DataError
from sandbox.hostfile import HostFileError, read_pilot_file
from sandbox.plain_data import shown_path

__all__ = [
    "DOCUMENT_SUFFIXES",
    "MAX_CANARIES",
    "MAX_CANARY_CHARS",
    "MAX_DOCUMENTS",
    "MAX_DOCUMENT_BYTES",
    "MAX_TOTAL_BYTES",
    "MIN_CANARY_CHARS",
    "Knowledge",
    "glob_matcher",
    "knowledge_digest",
    "load_knowledge",
    "no_knowledge",
    "read_canaries",
]

DOCUMENT_SUFFIXES: Final = (".md", ".txt")
MAX_DOCUMENTS: Final = 5_000
MAX_DOCUMENT_BYTES: Final = 1024**2
MAX_TOTAL_BYTES: Final = 100 * 1024**2
#: Files and folders looked at: bounds the walk of a folder full of things that are refused.
MAX_ENTRIES: Final = 20_000
MAX_FOLDER_DEPTH: Final = 16
MAX_ID_CHARS: Final = 500  # an id must fit a citation
MAX_CANARIES: Final = 1_000
MAX_CANARY_CHARS: Final = 200
#: A shorter canary would be found inside ordinary words and flag every answer as a leak.
MIN_CANARY_CHARS: Final = 4


@dataclass(frozen=True)
class Knowledge:
    """What the assessment knows of the knowledge base: its documents, restricted ids, canaries.

    `available` is False when no knowledge base was given (a predictions-only audit without
    one): groundedness is then not assessed, and only canaries can reveal a leak.
    """

    documents: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    restricted: frozenset[str] = frozenset()
    canaries: tuple[str, ...] = ()
    available: bool = False
    #: SHA-256 of each document's bytes, by id, for the run's record.
    sha256: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def digest(self) -> str:
        """One digest of the whole knowledge base (:func:`knowledge_digest` of its documents)."""
        return knowledge_digest([(i, f"sha256:{h}") for i, h in self.sha256.items()])


def knowledge_digest(pairs: Sequence[tuple[str, str]]) -> str:
    """One digest of a knowledge base: over its sorted (document id, "sha256:<hex>") pairs.

    Canonical JSON (`[["id", "sha256:..."], ...]`, compact), so anyone can recompute it from
    the documents alone.
    """
    canonical = json.dumps(sorted(pairs), ensure_ascii=False, separators=(",", ":"))
    return bytes_sha256(canonical.encode("utf-8"))


def no_knowledge(canaries: Iterable[str] = ()) -> Knowledge:
    """No knowledge base, with (optionally) the canaries to look for."""
    return Knowledge(canaries=tuple(canaries))


def load_knowledge(
    kb_dir: Path,
    *,
    restricted_globs: Sequence[str],
    canaries_file: Path | None = None,
    where: str,
) -> Knowledge:
    """Read the knowledge base in `kb_dir` (and the canaries file); DataError on any flaw.

    `where` names the manifest field that gave the folder, e.g.
    ``pilot.yaml: task.knowledge_base.path``; messages about the canaries file name
    ``task.canaries`` in its place.
    """
    files = _document_files(kb_dir, where=where)
    documents: dict[str, str] = {}
    digests: dict[str, str] = {}
    for doc_id, path in files:
        data = _read(path, max_bytes=MAX_DOCUMENT_BYTES, where=where)
        digests[doc_id] = hashlib.sha256(data).hexdigest()
        documents[doc_id] = _text(data, path, where=where)
    restricted: set[str] = set()
    for index, glob in enumerate(restricted_globs):
        matches = glob_matcher(glob)
        found = {doc_id for doc_id in documents if matches(doc_id)}
        if not found:
            raise DataError(
                f"{where}: restricted[{index}]: {glob!r} matches no document of "
                f"{shown_path(kb_dir)}; correct the glob (relative to the knowledge base, "
                "e.g. 'restricted/**') or remove it"
            )
        restricted |= found
    canaries = (
        read_canaries(canaries_file, where=_canaries_field(where))
        if canaries_file is not None
        else ()
    )
    return Knowledge(
        documents=MappingProxyType(documents),
        restricted=frozenset(restricted),
        canaries=canaries,
        available=True,
        sha256=MappingProxyType(digests),
    )


def _document_files(kb_dir: Path, *, where: str) -> list[tuple[str, Path]]:
    """(id, path) of every document under `kb_dir`, sorted by id; sizes checked, not read."""
    shown = shown_path(kb_dir)
    try:
        info = kb_dir.lstat()
    except OSError:
        raise DataError(
            f"{where}: {shown}: no such folder; create the knowledge base folder in the pilot "
            "folder, or correct the path"
        ) from None
    if stat.S_ISLNK(info.st_mode):
        raise DataError(f"{where}: {shown}: is a symbolic link; put the folder itself there")
    if not stat.S_ISDIR(info.st_mode):
        raise DataError(f"{where}: {shown}: not a folder; name the knowledge base folder")
    root = kb_dir.resolve()
    found: list[tuple[str, Path]] = []
    total = entries = 0
    pending: list[tuple[Path, int]] = [(kb_dir, 0)]
    while pending:
        folder, depth = pending.pop()
        if depth > MAX_FOLDER_DEPTH:
            raise DataError(
                f"{where}: {shown_path(folder)}: folders nested more than {MAX_FOLDER_DEPTH} "
                "deep; flatten the knowledge base"
            )
        try:
            with os.scandir(folder) as listing:
                children = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            raise DataError(
                f"{where}: {shown_path(folder)}: cannot list ({exc.strerror})"
            ) from None
        for entry in children:
            entries += 1
            if entries > MAX_ENTRIES:
                raise DataError(
                    f"{where}: {shown}: more than {MAX_ENTRIES:,} files and folders; keep only "
                    "the documents in the knowledge base"
                )
            path = Path(entry.path)
            doc_id = _document_id(path, kb_dir, where=where)
            if entry.is_symlink():
                raise DataError(
                    f"{where}: {shown_path(path)}: is a symbolic link; put the document "
                    "itself in the knowledge base"
                )
            mode = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(mode.st_mode):
                pending.append((path, depth + 1))
                continue
            _check_document(path, mode, where=where)
            # No link was followed, so the document is inside the folder; checked all the same.
            if not path.resolve().is_relative_to(root):
                raise DataError(f"{where}: {shown_path(path)}: outside the knowledge base")
            total += mode.st_size
            found.append((doc_id, path))
            if len(found) > MAX_DOCUMENTS or total > MAX_TOTAL_BYTES:
                raise DataError(
                    f"{where}: {shown}: more than {MAX_DOCUMENTS:,} documents or "
                    f"{MAX_TOTAL_BYTES // 1024**2} MiB; keep the knowledge base within these "
                    "bounds"
                )
    if not found:
        raise DataError(
            f"{where}: {shown}: holds no documents; add the knowledge base's .md or .txt files"
        )
    return sorted(found)


def _document_id(path: Path, kb_dir: Path, *, where: str) -> str:
    """The POSIX path of `path` relative to `kb_dir`; refused when it cannot be a citation."""
    doc_id = PurePosixPath(*path.relative_to(kb_dir).parts).as_posix()
    shown = shown_path(path)
    if shown != str(path) or re.search(r"[\x00-\x1f\x7f\\]", doc_id):
        raise DataError(
            f"{where}: {shown}: the name is not valid UTF-8 or holds a control character or a "
            "backslash; rename it"
        )
    if len(doc_id) > MAX_ID_CHARS:
        raise DataError(
            f"{where}: {shown}: its path in the knowledge base is longer than {MAX_ID_CHARS} "
            "characters; shorten it"
        )
    return doc_id


def _check_document(path: Path, mode: os.stat_result, *, where: str) -> None:
    shown = shown_path(path)
    if not stat.S_ISREG(mode.st_mode):
        raise DataError(
            f"{where}: {shown}: not a regular file (a device, FIFO or socket); remove it"
        )
    if path.suffix.lower() not in DOCUMENT_SUFFIXES:
        raise DataError(
            f"{where}: {shown}: not a document; a knowledge base holds only .md and .txt "
            "files: convert it or remove it"
        )
    if mode.st_size > MAX_DOCUMENT_BYTES:
        raise DataError(
            f"{where}: {shown}: {mode.st_size:,} bytes is larger than the "
            f"{MAX_DOCUMENT_BYTES:,}-byte limit of a document; split it"
        )


def _canaries_field(where: str) -> str:
    field = "task.knowledge_base.path"
    return where.removesuffix(field) + "task.canaries" if where.endswith(field) else where


def _at(where: str, path: Path) -> str:
    """The start of a message about `path`: the field that named it (if any) and the file."""
    return f"{where}: {shown_path(path)}" if where else shown_path(path)


def _read(path: Path, *, max_bytes: int, where: str) -> bytes:
    try:
        return read_pilot_file(path, max_bytes=max_bytes)
    except HostFileError as exc:
        raise DataError(f"{_at(where, path)}: {exc}") from None


def _text(data: bytes, path: Path, *, where: str) -> str:
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{_at(where, path)}: not UTF-8 text (byte {exc.start + 1}); save it as UTF-8"
        ) from None


def read_canaries(path: Path, *, where: str = "") -> tuple[str, ...]:
    """The canaries of a UTF-8 file, one a line, blank lines ignored, in file order, unique.

    `where` names the manifest field or option that gave the file, for the messages.
    """
    at = _at(where, path)
    data = _read(path, max_bytes=MAX_CANARIES * (4 * MAX_CANARY_CHARS + 2), where=where)
    text = _text(data, path, where=where)
    lines = text.split("\n")
    if len(lines) > MAX_CANARIES + 1:  # +1: the empty piece after a final newline
        raise DataError(f"{at}: more than {MAX_CANARIES:,} lines; plant fewer canaries")
    canaries: dict[str, None] = {}
    for number, line in enumerate(lines, start=1):
        canary = line.strip()
        if not canary:
            continue
        if not MIN_CANARY_CHARS <= len(canary) <= MAX_CANARY_CHARS:
            raise DataError(
                f"{at}: line {number}: a canary has {MIN_CANARY_CHARS} to "
                f"{MAX_CANARY_CHARS} characters (this one {len(canary)}); a short one would "
                "match ordinary words: plant a distinctive string"
            )
        canaries[canary] = None
    return tuple(canaries)


def glob_matcher(glob: str) -> Callable[[str], bool]:
    """Whether a document id matches `glob`, matched in full as `PurePosixPath.full_match` does.

    `*` and `?` stay within one folder, `**` spans any number of folders, `[...]` is a set.
    ValueError when the glob is not a relative path inside the knowledge base.
    """
    parts = PurePosixPath(glob).parts
    if not glob or glob.startswith("/") or "\\" in glob or ".." in parts:
        raise ValueError(f"{glob!r} is not a path inside the knowledge base (no '/', '..', '\\')")
    pieces: list[str] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            pieces.append(".*" if last else "(?:[^/]+/)*")
        else:
            pieces.append(_segment(part) + ("" if last else "/"))
    pattern = re.compile("".join(pieces), re.DOTALL)
    return lambda doc_id: pattern.fullmatch(doc_id) is not None


def _segment(part: str) -> str:
    """The regular expression of one path segment of a glob."""
    out: list[str] = []
    i = 0
    while i < len(part):
        char = part[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := part.find("]", i + 2)) != -1:
            body = part[i + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace("\\-", "-")
            out.append(f"[{'^/' if negate else ''}{body}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)
