"""answers.jsonl from an assistant's container, read as the hostile output it may be."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from sandbox.errors import OutputRejected
from sandbox.runtime.answers import (
    MAX_LINE_CHARS,
    ContainerAnswer,
    read_container_answers,
)


def _line(row_id: object = 0, **changes: object) -> str:
    record: dict[str, object] = {
        "row_id": row_id,
        "answer": f"answer {row_id}",
        "citations": ["en/water.md"],
        "declined": False,
    }
    record.update(changes)
    return json.dumps(record)


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _rejected(path: Path, rows: int = 3, **kwargs: int) -> str:
    with pytest.raises(OutputRejected) as caught:
        read_container_answers(path, rows=rows, **kwargs)
    return str(caught.value)


def test_answers_come_back_in_row_id_order(tmp_path: Path) -> None:
    path = _write(tmp_path, _line(2), "", _line(0, declined=True, citations=[]), _line(1))

    answers = read_container_answers(path, rows=3)

    assert [a.row_id for a in answers] == [0, 1, 2]
    assert answers[0] == ContainerAnswer(row_id=0, answer="answer 0", citations=(), declined=True)
    published = answers[2].to_answer("q-water-7")
    assert (published.id, published.citations, published.declined) == (
        "q-water-7",
        ("en/water.md",),
        False,
    )


def test_unicode_and_long_answers_within_bounds_are_kept(tmp_path: Path) -> None:
    text = "ماء " * 5000  # 20,000 characters, written as \\u escapes
    path = _write(tmp_path, _line(0, answer=text, citations=["d"] * 50))
    [answer] = read_container_answers(path, rows=1)
    assert answer.answer == text and len(answer.citations) == 50


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([_line(0), _line(1)], "1 of 3 row ids have no answer (e.g. [2])"),
        ([_line(0), _line(1), _line(1)], "line 3: row_id 1 appears a second time"),
        ([_line(0), _line(1), _line(3)], "line 3: row_id 3 is not an integer in 0..2"),
        ([_line(-1)], "line 1: row_id -1 is not an integer"),
        ([_line("0")], "line 1: row_id '0' is not an integer"),
        ([_line(True)], "line 1: row_id True is not an integer"),
        ([_line(0.0)], "line 1: row_id 0.0 is not an integer"),
        ([_line(0, score=0.9)], "line 1: keys must be exactly"),
        (['{"row_id": 0, "answer": "a", "citations": []}'], "missing ['declined']"),
        ([_line(0, answer=None)], "line 1: 'answer' is a null, not text"),
        ([_line(0, answer=["a"])], "line 1: 'answer' is a list, not text"),
        ([_line(0, answer="x" * 20_001)], "'answer' has 20001 characters, over 20000"),
        ([_line(0, citations="en/water.md")], "'citations' is a string, not a list"),
        ([_line(0, citations=[1])], "'citations[0]' is a number, not a document id"),
        ([_line(0, citations=["ok", ""])], "'citations[1]' is empty"),
        ([_line(0, citations=["x" * 501])], "'citations[0]' is empty or over 500"),
        ([_line(0, citations=["d"] * 51)], "'citations' has 51 ids, over 50"),
        ([_line(0, declined="false")], "'declined' is a string, not true/false"),
        ([_line(0, declined=0)], "'declined' is a number, not true/false"),
        (['[0, "a", [], false]'], "line 1: a JSON list, not an object"),
        (["not json"], "line 1: not valid JSON"),
        (['{"row_id": 0, "row_id": 1}'], "key 'row_id' appears twice in one object"),
        (['{"row_id": NaN}'], "NaN is not a JSON number"),
        (['{"row_id": 0, "answer": Infinity}'], "Infinity is not a JSON number"),
        (['{"row_id": -Infinity}'], "-Infinity is not a JSON number"),
        ([_line(0, answer="\ud800")], "'answer' holds an unpaired surrogate"),
        ([_line(0, citations=["\udfff.md"])], "'citations[0]' holds an unpaired surrogate"),
        ([_line(0, answer={"a": [[[[1]]]]})], "JSON nested 6 levels deep, over 4"),
    ],
)
def test_hostile_lines_are_rejected_naming_the_line(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    assert message in _rejected(_write(tmp_path, *lines))


def test_brackets_inside_text_are_not_nesting(tmp_path: Path) -> None:
    path = _write(tmp_path, _line(0, answer='[[[[[{{{{ "quoted \\" [[[[[ ]]]]" }'))
    assert read_container_answers(path, rows=1)[0].answer.startswith("[[[[[")


def test_a_depth_bomb_is_refused_quickly(tmp_path: Path) -> None:
    path = _write(tmp_path, "[" * 500_000 + "]" * 500_000)
    started = time.monotonic()
    assert "nested 500000 levels deep" in _rejected(path)
    assert time.monotonic() - started < 5


def test_a_50_mb_line_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"row_id": 0, "answer": "')
        handle.write("x" * (50 * 1024 * 1024))
        handle.write('", "citations": [], "declined": false}\n')
    assert f"line 1 is over {MAX_LINE_CHARS} characters" in _rejected(path)


def test_the_file_size_is_capped_before_reading(tmp_path: Path) -> None:
    path = _write(tmp_path, _line(0), _line(1), _line(2))
    assert "bytes, over the 100 byte cap" in _rejected(path, max_bytes=100)


def test_endless_blank_lines_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text("\n" * 5000, encoding="utf-8")
    assert "more than 1003 lines for 3 questions" in _rejected(path)


def test_missing_link_and_bytes_are_rejected(tmp_path: Path) -> None:
    assert "missing from the outputs" in _rejected(tmp_path / "answers.jsonl")
    (tmp_path / "real.jsonl").write_text(_line(0) + "\n", encoding="utf-8")
    (tmp_path / "answers.jsonl").symlink_to(tmp_path / "real.jsonl")
    assert "not a regular file" in _rejected(tmp_path / "answers.jsonl", rows=1)
    (tmp_path / "answers.jsonl").unlink()
    (tmp_path / "answers.jsonl").write_bytes(b'{"row_id": 0, "answer": "\xff"}\n')
    assert "not UTF-8 text" in _rejected(tmp_path / "answers.jsonl", rows=1)


def test_many_missing_rows_are_summarised(tmp_path: Path) -> None:
    message = _rejected(_write(tmp_path, _line(3)), rows=1000)
    assert "999 of 1000 row ids have no answer (e.g. [0, 1, 2, 4, 5])" in message
    assert len(message) < 300
