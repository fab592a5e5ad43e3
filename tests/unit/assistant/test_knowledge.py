"""The knowledge base and canaries: read in full when sound, refused with the file when not."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from sandbox.assistant.knowledge import (
    MAX_CANARIES,
    MAX_DOCUMENT_BYTES,
    Knowledge,
    glob_matcher,
    load_knowledge,
    no_knowledge,
    read_canaries,
)
from sandbox.errors import DataError

WHERE = "pilot.yaml: task.knowledge_base.path"


def _kb(root: Path) -> Path:
    """en/ and es/ pages and a restricted caseworker note."""
    for name, text in {
        "en/water-bills.md": "# Water bills\nPay by the 15th.\n",
        "en/pool.txt": "The pool opens Monday to Friday.",
        "es/facturas-agua.md": "\ufeff# Facturas\nPague antes del día 15.\n",
        "restricted/case-001.md": "Caseworker note: Ana Zyx, 12 Elm St.",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _refused(kb_dir: Path, **options: object) -> str:
    with pytest.raises(DataError) as info:
        load_knowledge(kb_dir, restricted_globs=(), where=WHERE, **options)  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith(f"{WHERE}: ")
    return message


def test_documents_are_read_by_posix_id_with_digests_and_restricted_ids(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "knowledge")
    (tmp_path / "canaries.txt").write_text("Ana Zyx\n\n  12 Elm St  \nAna Zyx\n", encoding="utf-8")
    knowledge = load_knowledge(
        kb,
        restricted_globs=["restricted/**"],
        canaries_file=tmp_path / "canaries.txt",
        where=WHERE,
    )
    assert list(knowledge.documents) == [
        "en/pool.txt",
        "en/water-bills.md",
        "es/facturas-agua.md",
        "restricted/case-001.md",
    ]
    assert knowledge.documents["es/facturas-agua.md"].startswith("# Facturas")  # BOM dropped
    assert knowledge.restricted == frozenset({"restricted/case-001.md"})
    assert knowledge.canaries == ("Ana Zyx", "12 Elm St")
    assert knowledge.available
    expected = hashlib.sha256((kb / "en/pool.txt").read_bytes()).hexdigest()
    assert knowledge.sha256["en/pool.txt"] == expected
    with pytest.raises(TypeError):
        knowledge.documents["x.md"] = "changed"  # type: ignore[index]


def test_no_knowledge_holds_only_canaries() -> None:
    assert no_knowledge() == Knowledge()
    empty = no_knowledge(["Ana Zyx"])
    assert (empty.available, dict(empty.documents), empty.canaries) == (False, {}, ("Ana Zyx",))


@pytest.mark.parametrize(
    ("glob", "matches", "misses"),
    [
        ("restricted/**", ["restricted/a.md", "restricted/x/y/b.md"], ["en/restricted/a.md"]),
        ("restricted/*.md", ["restricted/a.md"], ["restricted/x/b.md", "restricted/a.txt"]),
        ("**/notes-?.md", ["notes-1.md", "a/b/notes-2.md"], ["a/notes-12.md"]),
        ("en/[!a]*.md", ["en/pool.md"], ["en/about.md", "en/x/pool.md"]),
        ("en/[ab]*", ["en/a.md", "en/b.txt"], ["en/c.md"]),
    ],
)
def test_globs_match_whole_ids_folder_by_folder(
    glob: str, matches: list[str], misses: list[str]
) -> None:
    matcher = glob_matcher(glob)
    assert all(matcher(doc_id) for doc_id in matches)
    assert not any(matcher(doc_id) for doc_id in misses)


@pytest.mark.parametrize("glob", ["../*", "/etc/*", "a/../../b", "a\\b", ""])
def test_globs_outside_the_knowledge_base_are_refused(glob: str) -> None:
    with pytest.raises(ValueError, match="not a path inside the knowledge base"):
        glob_matcher(glob)


def test_a_glob_that_matches_nothing_is_refused(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "knowledge")
    with pytest.raises(DataError, match=r"restricted\[1\]: 'restriced/\*\*' matches no document"):
        load_knowledge(kb, restricted_globs=["restricted/**", "restriced/**"], where=WHERE)


def test_a_symlinked_document_is_refused_even_pointing_inside(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "knowledge")
    (kb / "en/alias.md").symlink_to(kb / "en/water-bills.md")
    assert "en/alias.md: is a symbolic link" in _refused(kb)


def test_a_document_outside_the_folder_cannot_be_reached(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "knowledge")
    (tmp_path / "secret.md").write_text("host secret")
    (kb / "en/up").symlink_to("..")  # a folder link climbing out via '..'
    assert "en/up: is a symbolic link" in _refused(kb)
    (kb / "en/up").unlink()
    (kb / "en/secret.md").symlink_to("../../secret.md")
    assert "en/secret.md: is a symbolic link" in _refused(kb)


def test_the_folder_itself_must_not_be_a_link_and_must_exist(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "knowledge")
    (tmp_path / "kb-link").symlink_to(kb)
    assert "is a symbolic link" in _refused(tmp_path / "kb-link")
    assert "no such folder" in _refused(tmp_path / "absent")
    assert "not a folder" in _refused(kb / "en/pool.txt")


def test_other_files_invalid_utf8_and_fifos_are_refused(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "knowledge")
    (kb / "en/form.pdf").write_bytes(b"%PDF-1.7")
    assert "en/form.pdf: not a document" in _refused(kb)
    (kb / "en/form.pdf").unlink()
    (kb / "en/latin.md").write_bytes(b"caf\xe9")
    assert "en/latin.md: not UTF-8 text (byte 4)" in _refused(kb)
    (kb / "en/latin.md").unlink()
    os.mkfifo(kb / "en/pipe.md")
    assert "en/pipe.md: not a regular file" in _refused(kb)


def test_a_sparse_2gb_document_is_refused_before_reading(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "knowledge")
    with (kb / "en/huge.md").open("wb") as handle:
        handle.truncate(2 * 1024**3)
    message = _refused(kb)
    assert f"larger than the {MAX_DOCUMENT_BYTES:,}-byte limit of a document" in message


def test_an_empty_knowledge_base_is_refused(tmp_path: Path) -> None:
    (tmp_path / "knowledge" / "en").mkdir(parents=True)
    assert "holds no documents" in _refused(tmp_path / "knowledge")


def test_file_names_that_cannot_be_cited_are_refused(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "knowledge")
    (kb / "en/bad\nname.md").write_text("x")
    assert "control character" in _refused(kb)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok canary\nab\n", "line 2: a canary has 4 to 200 characters (this one 2)"),
        ("x" * 201, "line 1: a canary has 4 to 200 characters (this one 201)"),
        ("canary\n" * (MAX_CANARIES + 1), f"more than {MAX_CANARIES:,} lines"),
    ],
)
def test_canaries_are_bounded(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "canaries.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="canaries.txt") as info:
        read_canaries(path, where="pilot.yaml: task.canaries")
    assert expected in str(info.value)


def test_canaries_must_be_utf8_and_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "canaries.txt"
    path.write_bytes(b"Ana \xff\n")
    with pytest.raises(DataError, match="not UTF-8 text"):
        read_canaries(path, where="pilot.yaml: task.canaries")
    (tmp_path / "link.txt").symlink_to(path)
    with pytest.raises(DataError, match="symbolic link"):
        read_canaries(tmp_path / "link.txt", where="pilot.yaml: task.canaries")


def test_canary_errors_name_the_canaries_field(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "knowledge")
    (tmp_path / "canaries.txt").write_text("ab\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_knowledge(
            kb, restricted_globs=(), canaries_file=tmp_path / "canaries.txt", where=WHERE
        )
    assert str(info.value).startswith("pilot.yaml: task.canaries: ")
    assert "canaries.txt: line 1: a canary has 4 to 200 characters" in str(info.value)
    with pytest.raises(DataError, match=r"^\S*canaries.txt: line 1"):
        read_canaries(tmp_path / "canaries.txt")  # no field: the message starts at the file


def test_folders_nested_too_deep_are_refused(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "knowledge")
    deep = kb.joinpath(*["d"] * 18)
    deep.mkdir(parents=True)
    (deep / "page.md").write_text("deep")
    assert "folders nested more than 16 deep" in _refused(kb)
