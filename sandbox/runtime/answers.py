"""Check the answers an assistant's container wrote before the host uses any of them.

/output/answers.jsonl is untrusted: every cost is bounded before it is paid (file size, line
length, JSON nesting depth, rows), every line must be one JSON object with exactly the keys
`row_id`, `answer`, `citations` and `declined` of the right types and lengths (those of
`sandbox.assistant.records`), and every row id of the questions must appear exactly once.
Whatever the container wrote, reading it ends in answers or in `OutputRejected` naming the
line and what is wrong (the evidence of rule `runtime.outputs-valid`), never in a crash.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import IO, Any, NoReturn

from sandbox.assistant.records import MAX_ANSWER_CHARS, MAX_ITEM_CHARS, MAX_ITEMS, Answer
from sandbox.errors import OutputRejected

__all__ = ["ContainerAnswer", "read_container_answers"]

MAX_ANSWERS_BYTES = 64 * 1024 * 1024
#: One answer of 20,000 characters and 50 citations of 500, even written as \\u escapes.
MAX_LINE_CHARS = 1024 * 1024
#: A valid line nests two levels (the object, its citations); a little slack for a clear error.
MAX_DEPTH = 4
#: Lines tolerated beyond one per question (blank ones) before giving up.
EXTRA_LINES = 1000
KEYS = ("row_id", "answer", "citations", "declined")
_SHOWN = 5
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


@dataclass(frozen=True, kw_only=True)
class ContainerAnswer:
    """One checked line of answers.jsonl, keyed by its synthetic row id."""

    row_id: int
    answer: str
    citations: tuple[str, ...]
    declined: bool

    def to_answer(self, reference_id: str) -> Answer:
        """The published answer record, named by the reference this row id stands for."""
        return Answer(
            id=reference_id,
            answer=self.answer,
            citations=self.citations,
            declined=self.declined,
        )


def read_container_answers(
    path: Path, *, rows: int, max_bytes: int = MAX_ANSWERS_BYTES
) -> tuple[ContainerAnswer, ...]:
    """Read and check answers.jsonl; the answers come back in row-id order 0..rows-1."""
    if rows < 0:
        raise ValueError("rows must not be negative")
    _check_size(path, max_bytes)
    found: dict[int, ContainerAnswer] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for number, line in _lines(handle, path.name):
                if number > rows + EXTRA_LINES:
                    raise OutputRejected(
                        f"{path.name}: more than {rows + EXTRA_LINES} lines for {rows} questions"
                    )
                if not line.strip():
                    continue  # a blank line (e.g. a trailing one) holds no answer
                answer = _parse(line, f"{path.name}: line {number}", rows)
                if answer.row_id in found:
                    raise OutputRejected(
                        f"{path.name}: line {number}: row_id {answer.row_id} appears a second "
                        "time; write each row id exactly once"
                    )
                found[answer.row_id] = answer
    except UnicodeDecodeError as exc:
        raise OutputRejected(f"{path.name}: not UTF-8 text (byte {exc.start})") from exc
    if len(found) != rows:
        missing = [row_id for row_id in range(rows) if row_id not in found]
        raise OutputRejected(
            f"{path.name}: {len(missing)} of {rows} row ids have no answer "
            f"(e.g. {missing[:_SHOWN]}); write one line for every row of questions.jsonl"
        )
    return tuple(found[row_id] for row_id in range(rows))


def _lines(handle: IO[str], name: str) -> Iterator[tuple[int, str]]:
    """(line number, line), refusing a line longer than MAX_LINE_CHARS before reading it whole."""
    number = 0
    while line := handle.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise OutputRejected(f"{name}: line {number} is over {MAX_LINE_CHARS} characters")
        yield number, line


def _parse(line: str, where: str, rows: int) -> ContainerAnswer:
    """One line as an answer, or OutputRejected naming the line and the problem."""
    depth = _depth(line)
    if depth > MAX_DEPTH:
        _reject(where, f"JSON nested {depth} levels deep, over {MAX_DEPTH}")
    try:
        value = json.loads(line, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except _BadJson as exc:
        _reject(where, str(exc))
    except (ValueError, RecursionError) as exc:
        _reject(where, f"not valid JSON ({_shown(str(exc))})")
    if not isinstance(value, dict):
        _reject(where, f"a JSON {type(value).__name__}, not an object")
    keys = list(value)
    if sorted(keys) != sorted(KEYS):
        extra = sorted(set(keys) - set(KEYS))
        missing = sorted(set(KEYS) - set(keys))
        _reject(
            where,
            f"keys must be exactly {list(KEYS)}: missing {missing}, unexpected "
            f"{_shown(extra[:_SHOWN])}",
        )
    row_id = value["row_id"]
    if not isinstance(row_id, int) or isinstance(row_id, bool) or not 0 <= row_id < rows:
        _reject(where, f"row_id {_shown(row_id)} is not an integer in 0..{rows - 1}")
    return ContainerAnswer(
        row_id=row_id,
        answer=_answer_text(value["answer"], where),
        citations=_citations(value["citations"], where),
        declined=_declined(value["declined"], where),
    )


def _answer_text(text: Any, where: str) -> str:
    if not isinstance(text, str):
        _reject(where, f"'answer' is a {_kind(text)}, not text")
    if len(text) > MAX_ANSWER_CHARS:
        _reject(where, f"'answer' has {len(text)} characters, over {MAX_ANSWER_CHARS}")
    _check_unicode(text, where, "answer")
    return text


def _citations(citations: Any, where: str) -> tuple[str, ...]:
    if not isinstance(citations, list):
        _reject(where, f"'citations' is a {_kind(citations)}, not a list of document ids")
    if len(citations) > MAX_ITEMS:
        _reject(where, f"'citations' has {len(citations)} ids, over {MAX_ITEMS}")
    for index, item in enumerate(citations):
        field = f"citations[{index}]"
        if not isinstance(item, str):
            _reject(where, f"'{field}' is a {_kind(item)}, not a document id")
        if not 0 < len(item) <= MAX_ITEM_CHARS:
            _reject(where, f"'{field}' is empty or over {MAX_ITEM_CHARS} characters")
        _check_unicode(item, where, field)
    return tuple(citations)


def _declined(declined: Any, where: str) -> bool:
    if not isinstance(declined, bool):
        _reject(where, f"'declined' is a {_kind(declined)}, not true/false")
    return declined


def _depth(line: str) -> int:
    """How deep the line's arrays and objects nest (brackets inside strings do not count)."""
    brackets = _BRACKETS.findall(_STRING.sub("", line))
    steps = (1 if bracket in "[{" else -1 for bracket in brackets)
    return max(accumulate(steps, initial=0))


class _BadJson(ValueError):
    """JSON that the standard parser accepts but the contract does not."""


def _no_constant(name: str) -> NoReturn:
    raise _BadJson(f"{name} is not a JSON number; write finite numbers only")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _BadJson(f"key {_shown(key)} appears twice in one object")
            seen.add(key)
    return value


def _check_unicode(text: str, where: str, field: str) -> None:
    # json.loads turns an escaped lone surrogate ("\ud800") into text no file or report can hold.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        _reject(where, f"'{field}' holds an unpaired surrogate escape, not valid Unicode")


def _check_size(path: Path, max_bytes: int) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError as exc:
        raise OutputRejected(f"{path.name}: missing from the outputs") from exc
    if not stat.S_ISREG(info.st_mode):
        raise OutputRejected(f"{path.name}: not a regular file")
    if info.st_size > max_bytes:
        raise OutputRejected(f"{path.name}: {info.st_size} bytes, over the {max_bytes} byte cap")


def _kind(value: object) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number" if isinstance(value, int | float) else "value")


def _reject(where: str, problem: str) -> NoReturn:
    raise OutputRejected(f"{where}: {problem}")


def _shown(value: object) -> str:
    """`value` as a short, printable quotation for an error message (never its full size)."""
    text = ascii(value)
    return text if len(text) <= 80 else text[:77] + "..."
