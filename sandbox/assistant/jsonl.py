"""Reading the two JSON Lines files of assistant evaluation: references and answers.

Both come from outside the sandbox (a city's evaluation set, a vendor's exported transcripts)
and are hostile until checked. Every bound holds before the work it limits starts: the file's
size before it is read, the number of lines before any is parsed, a line's length and nesting
depth before `json` sees it. Each line is one JSON object validated against the published
schema (`sandbox schema references`, `sandbox schema answers`); every error is a DataError
naming the file, the line, the field and the fix. Blank lines are skipped; ids are unique.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

from sandbox.assistant.records import Answer, Reference
from sandbox.errors import DataError
from sandbox.hostfile import HostFileError, read_pilot_file
from sandbox.plain_data import bad_text, shown_path

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_LINES",
    "MAX_LINE_BYTES",
    "answers_json_schema",
    "read_answers",
    "read_references",
    "references_json_schema",
]

MAX_FILE_BYTES: Final = 64 * 1024**2
MAX_LINES: Final = 200_000
MAX_LINE_BYTES: Final = 1024**2
#: A reference nests 4 levels at most (object, facts, variants or pattern); vendors' extra
#: fields get room beyond that, but not enough to exhaust the parser's stack.
MAX_DEPTH: Final = 32
_MAX_INT_DIGITS: Final = 100
#: Validation problems reported per line; the rest are counted.
_SHOWN_PROBLEMS = 3

_Record = TypeVar("_Record", bound=BaseModel)

# A JSON string, unrolled so that long strings match in one pass without backtracking.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")

_FIXES: Final = {
    "missing": "add this field",
    "string_type": "write it as text in double quotes",
    "bool_type": "write true or false",
    "tuple_type": 'write a JSON list, e.g. ["..."]',
    "string_too_long": "shorten it",
    "string_too_short": "give a non-empty value",
    "too_long": "list fewer items",
    "too_short": "list at least one item",
    "string_pattern_mismatch": "match the expected form",
}


def read_references(path: Path) -> list[Reference]:
    """The questions of an evaluation set, in file order; DataError naming line and field."""
    return _read(path, Reference, schema="references")


def read_answers(path: Path) -> list[Answer]:
    """An assistant's answers, in file order; DataError naming line and field."""
    return _read(path, Answer, schema="answers")


def references_json_schema() -> dict[str, Any]:
    """The JSON Schema of one line of a references file (an evaluation set's question)."""
    return _json_schema(
        Reference,
        name="references",
        title="AI Commons Sandbox assistant reference (one line of questions.jsonl)",
        description="One question of an assistant's evaluation set, one JSON object per line "
        "of a JSON Lines file: its id, text, language, group attributes (other fields, kept), "
        "the facts a correct answer states, and whether the assistant must decline.",
    )


def answers_json_schema() -> dict[str, Any]:
    """The JSON Schema of one line of an answers file (an assistant's exported answer)."""
    return _json_schema(
        Answer,
        name="answers",
        title="AI Commons Sandbox assistant answer (one line of answers.jsonl)",
        description="The answer to one question, one JSON object per line of a JSON Lines "
        "file: the question's id, the answer's text, the knowledge-base documents it cited and "
        "whether the assistant declined. Other fields are allowed and kept.",
    )


def _json_schema(
    model: type[BaseModel], *, name: str, title: str, description: str
) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:ai-commons-sandbox:assistant-{name}:1"
    schema["title"] = title
    schema["description"] = description
    return schema


def _read(path: Path, model: type[_Record], *, schema: str) -> list[_Record]:
    shown = shown_path(path)
    try:
        data = read_pilot_file(path, max_bytes=MAX_FILE_BYTES)
    except HostFileError as exc:
        raise DataError(
            f"{shown}: {exc}; a {schema} file is JSON Lines of at most "
            f"{MAX_FILE_BYTES // 1024**2} MiB"
        ) from None
    if data.count(b"\n") > MAX_LINES:
        raise DataError(
            f"{shown}: more than {MAX_LINES:,} lines; split the evaluation into smaller files"
        )
    records: list[_Record] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        where = f"{shown}: line {number}"
        text = _line_text(raw.removesuffix(b"\r"), where=where)
        if not text.strip():
            continue
        record = _validate(_parse_object(text, where=where), model, where=where, schema=schema)
        identifier = str(getattr(record, "id"))  # noqa: B009 -- both record types have `id`
        if identifier in first_line:
            raise DataError(
                f"{where}: id: {identifier!r} repeats the id of line {first_line[identifier]}; "
                "give every record its own id"
            )
        first_line[identifier] = number
        records.append(record)
    if not records:
        raise DataError(f"{shown}: no records; write one JSON object per line")
    return records


def _line_text(raw: bytes, *, where: str) -> str:
    """One line as text: at most MAX_LINE_BYTES, valid UTF-8."""
    if len(raw) > MAX_LINE_BYTES:
        raise DataError(
            f"{where}: {len(raw):,} bytes is longer than the {MAX_LINE_BYTES:,}-byte limit of "
            "a line; shorten the record (a question, an answer or an extra field)"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{where}: not UTF-8 text (byte {exc.start + 1} of the line); save the file as UTF-8"
        ) from None


def _parse_object(text: str, *, where: str) -> dict[str, Any]:
    """The JSON object of one line: bounded depth, finite numbers, no repeated keys."""
    depth = _depth(text)
    if depth > MAX_DEPTH:
        raise DataError(
            f"{where}: nested {depth} levels deep, more than the limit of {MAX_DEPTH}; "
            "flatten the record"
        )
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{where}: not valid JSON ({exc.msg}, column {exc.colno}); write one JSON object "
            "per line"
        ) from None
    except ValueError as exc:  # a refused constant, key or number, from the hooks below
        raise DataError(f"{where}: {exc}") from None
    if not isinstance(value, dict):
        kind = "list" if isinstance(value, list) else type(value).__name__
        raise DataError(
            f"{where}: a JSON {kind}, not an object; write one object per line, e.g. "
            '{"id": "q1", ...}'
        )
    if (field := bad_text(value)) is not None:
        raise DataError(
            f"{where}: {field}: text is not valid UTF-8 (a lone surrogate escape such as "
            "\\ud800); write the character itself"
        )
    return value


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, brackets inside strings ignored."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot be deeper than the bound: skip the scan
    deepest = depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number; write a finite number or null")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is too large a number; write a finite number")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > _MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(text):,} digits; write at most {_MAX_INT_DIGITS}")
    return int(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise ValueError(f"{key[:80]!r} is given twice in one object; keep one")
        value[key] = item
    return value


def _validate(value: dict[str, Any], model: type[_Record], *, where: str, schema: str) -> _Record:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = list(dict.fromkeys(_problems(exc, value)))
        shown = problems[:_SHOWN_PROBLEMS]
        more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
        raise DataError(
            f"{where}: {'; '.join(shown)}{more}; see `sandbox schema {schema}`"
        ) from None


def _problems(exc: ValidationError, value: dict[str, Any]) -> list[str]:
    """Each validation error as `field: what is wrong (fix)`.

    A fact may take three forms, so pydantic reports one error per form; only the errors of
    the form the fact was written in are kept (its JSON type says which).
    """
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        if len(loc) >= 3 and loc[0] == "expected_facts" and isinstance(loc[1], int):
            field = f"expected_facts[{loc[1]}]"
            form = _fact_form(value, loc[1])
            if form is None:
                problems.append(
                    f"{field}: a fact is a phrase, a list of accepted phrases or "
                    '{"pattern": "regex"} (write it as one of these)'
                )
                continue
            if not str(loc[2]).startswith(form):
                continue
            loc = loc[3:]
        else:
            field, loc = "", loc
        problems.append(_problem(error, (field + _path(loc)).removeprefix(".")))
    return problems


def _fact_form(value: dict[str, Any], index: int) -> str | None:
    """The union member a written fact targets: its JSON type; None for any other type."""
    try:
        fact = value["expected_facts"][index]
    except (KeyError, IndexError, TypeError):
        return None
    forms: dict[type, str] = {str: "constrained-str", list: "tuple[", dict: "PatternFact"}
    return forms.get(type(fact))


def _problem(error: Any, field: str) -> str:
    if error["type"] == "string_pattern_mismatch":
        message = f"{str(error.get('input'))[:80]!r} does not match {error['ctx']['pattern']}"
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
    fix = _FIXES.get(error["type"])
    return f"{field or '(the record)'}: {message}" + (f" ({fix})" if fix else "")


def _path(loc: tuple[int | str, ...]) -> str:
    """A location as a field path suffix: ``[2]``, ``.pattern``."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
