"""The JSON Lines readers: every published field read, every hostile file refused with its line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox.assistant.jsonl import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_LINE_BYTES,
    MAX_LINES,
    answers_json_schema,
    read_answers,
    read_references,
    references_json_schema,
)
from sandbox.assistant.records import PatternFact
from sandbox.cli import app
from sandbox.errors import DataError

REFERENCE = {"id": "q1", "question": "When is the pool open?", "language": "en"}


def _write(path: Path, lines: list[str] | str) -> Path:
    text = lines if isinstance(lines, str) else "".join(f"{line}\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def _refused(path: Path, *, answers: bool = False) -> str:
    with pytest.raises(DataError) as info:
        (read_answers if answers else read_references)(path)
    return str(info.value)


def test_references_are_read_in_order_with_facts_and_extra_fields(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                **REFERENCE,
                "district": "north",
                "expected_facts": ["Monday to Friday", ["9:00", "9 am"], {"pattern": r"\d+ eur"}],
            }
        ),
        "",
        "   ",
        json.dumps({**REFERENCE, "id": "q2", "must_decline": True, "language": "es"}),
    ]
    first, second = read_references(_write(tmp_path / "q.jsonl", lines))
    assert first.expected_facts == (
        "Monday to Friday",
        ("9:00", "9 am"),
        PatternFact(pattern=r"\d+ eur"),
    )
    assert first.model_extra == {"district": "north"}
    assert not first.must_decline
    assert (second.id, second.language, second.must_decline, second.expected_facts) == (
        "q2",
        "es",
        True,
        (),
    )


def test_answers_default_to_answered_without_citations(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "a.jsonl",
        '\ufeff{"id": "q1", "answer": "Open 9-5.", "citations": ["en/pool.md"], "ts": 3}\r\n'
        '{"id": "q2", "declined": true}',
    )
    first, second = read_answers(path)
    assert (first.answer, first.citations, first.declined) == ("Open 9-5.", ("en/pool.md",), False)
    assert first.model_extra == {"ts": 3}
    assert (second.answer, second.declined) == ("", True)


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.jsonl", [json.dumps(REFERENCE), "", json.dumps(REFERENCE)])
    message = _refused(path)
    assert "q.jsonl: line 3: id: 'q1' repeats the id of line 1" in message


def test_a_field_error_names_line_field_and_fix(tmp_path: Path) -> None:
    bad = {**REFERENCE, "expected_facts": ["ok", "x" * 501]}
    path = _write(tmp_path / "q.jsonl", [json.dumps(REFERENCE | {"id": "q0"}), json.dumps(bad)])
    message = _refused(path)
    assert "line 2: expected_facts[1]: String should have at most 500 characters (shorten it)" in (
        message
    )
    assert "sandbox schema references" in message


@pytest.mark.parametrize(
    ("fact", "field"),
    [
        (5, "expected_facts[0]: a fact is a phrase"),
        (["a", 5], "expected_facts[0][1]"),
        ({"pattern": 5}, "expected_facts[0].pattern"),
        ({"regex": "x"}, "expected_facts[0].pattern"),
    ],
)
def test_a_bad_fact_reports_the_form_it_was_written_in(
    tmp_path: Path, fact: object, field: str
) -> None:
    path = _write(tmp_path / "q.jsonl", [json.dumps({**REFERENCE, "expected_facts": [fact]})])
    message = _refused(path)
    assert f"line 1: {field}" in message
    assert "constrained-str" not in message and "PatternFact" not in message


def test_missing_fields_and_wrong_types(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.jsonl", ['{"id": "q1"}'])
    assert "line 1: question: Field required (add this field)" in _refused(path)
    path = _write(tmp_path / "a.jsonl", ['{"id": "q1", "answer": 5, "declined": "maybe"}'])
    message = _refused(path, answers=True)
    assert "answer: Input should be a valid string" in message
    assert "declined: Input should be a valid boolean" in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"id": "q1", "score": NaN}', "NaN is not a JSON number"),
        ('{"id": "q1", "score": -Infinity}', "-Infinity is not a JSON number"),
        ('{"id": "q1", "score": 1e999}', "1e999 is too large a number"),
        ('{"id": "q1", "n": ' + "9" * 5000 + "}", "a number of 5,000 digits"),
        ('{"id": "q1", "id": "q2"}', "'id' is given twice in one object"),
        ('["q1"]', "a JSON list, not an object"),
        ("42", "a JSON int, not an object"),
        ('{"id": "q1"', "not valid JSON"),
        ('{"id": "q1", "x": "\\ud800"}', "x: text is not valid UTF-8"),
        ('{"id": "bad\\nid", "question": "q", "language": "en"}', "id: 'bad\\nid' does not match"),
    ],
)
def test_hostile_lines_are_refused_with_their_line(
    tmp_path: Path, line: str, expected: str
) -> None:
    path = _write(tmp_path / "q.jsonl", [json.dumps(REFERENCE | {"id": "q0"}), line])
    message = _refused(path)
    assert "q.jsonl: line 2: " in message
    assert expected in message


def test_nesting_10000_deep_is_refused_before_parsing(tmp_path: Path) -> None:
    deep = '{"id": "q1", "x": ' + "[" * 10_000 + "]" * 10_000 + "}"
    message = _refused(_write(tmp_path / "q.jsonl", [deep]))
    assert f"line 1: nested 10001 levels deep, more than the limit of {MAX_DEPTH}" in message


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    question = "[[[{{{" * 50 + ' " ' + "]]]" * 50  # the quote is escaped in the line
    line = json.dumps({**REFERENCE, "question": question})
    (reference,) = read_references(_write(tmp_path / "q.jsonl", [line]))
    assert reference.question == question


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_bytes(json.dumps(REFERENCE).encode() + b'\n{"id": "q\xff"}\n')
    assert "line 2: not UTF-8 text (byte 10 of the line); save the file as UTF-8" in _refused(path)


def test_a_sparse_2gb_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    with path.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: no disk space used, nothing to read
    message = _refused(path)
    assert f"larger than the {MAX_FILE_BYTES}-byte limit" in message


def test_an_over_long_line_and_too_many_lines(tmp_path: Path) -> None:
    long = json.dumps({**REFERENCE, "question": "x" * MAX_LINE_BYTES})
    assert "line 1: " in _refused(_write(tmp_path / "q.jsonl", [long]))
    many = tmp_path / "many.jsonl"
    many.write_bytes(b"\n" * (MAX_LINES + 1))
    assert f"more than {MAX_LINES:,} lines" in _refused(many)


def test_links_fifos_missing_and_empty_files_are_refused(tmp_path: Path) -> None:
    real = _write(tmp_path / "real.jsonl", [json.dumps(REFERENCE)])
    (tmp_path / "link.jsonl").symlink_to(real)
    assert "is a symbolic link" in _refused(tmp_path / "link.jsonl")
    os.mkfifo(tmp_path / "fifo.jsonl")
    assert "not a regular file" in _refused(tmp_path / "fifo.jsonl")
    assert "file not found" in _refused(tmp_path / "absent.jsonl")
    assert "no records" in _refused(_write(tmp_path / "blank.jsonl", ["", "  "]))


def test_published_schemas_describe_one_line(tmp_path: Path) -> None:
    references, answers = references_json_schema(), answers_json_schema()
    assert references["$id"] == "urn:ai-commons-sandbox:assistant-references:1"
    assert answers["$id"] == "urn:ai-commons-sandbox:assistant-answers:1"
    assert {"id", "question", "language", "expected_facts", "must_decline"} <= set(
        references["properties"]
    )
    assert {"id", "answer", "declined", "citations"} <= set(answers["properties"])
    assert references["required"] == ["id", "question", "language"]
    assert references["title"] and answers["description"]


@pytest.mark.parametrize("name", ["references", "answers"])
def test_sandbox_schema_prints_the_record_schemas(name: str) -> None:
    result = CliRunner().invoke(app, ["schema", name])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$id"] == f"urn:ai-commons-sandbox:assistant-{name}:1"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
