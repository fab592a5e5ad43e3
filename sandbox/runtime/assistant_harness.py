"""The harness of assistant pilots, run inside the runner container beside `harness.py`.

Standalone like the harness (standard library only; never `sandbox`): it is copied into the
runner image and is part of the image's content-addressed tag. `harness.py` hands over to it
when /input/spec.json says `"task": "assistant"`:

- `factory`: imports the spec's entrypoint from /pilot (with the harness's own loader), calls
  it as `factory(knowledge_base=Path("/input/knowledge"), restricted=frozenset(ids),
  languages=[...], seed=int, **params)`, then the returned object's `answer(question, context)`
  once per line of /input/questions.jsonl, in order (`context`: the question's other
  features). Each return is checked (a mapping with `answer`, optional `citations` and
  `declined`, or a plain string) and written to /output/answers.jsonl as
  `{"row_id", "answer", "citations", "declined"}`;
- `command`: runs the pilot's own argv in /pilot, without a shell; it must write
  /output/answers.jsonl itself.

Errors are raised as the caller's error type (`error(message, exit_code=...)`): 2 for a bad
spec or input file, 3 for a pilot's assistant that fails or returns something malformed.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

#: Bounds of one answer, the same as the host's (sandbox.assistant.records).
MAX_ANSWER_CHARS = 20_000
MAX_CITATIONS = 50
MAX_CITATION_CHARS = 500
#: Bounds of the host-written inputs (the host writes far less; anything more is not its file).
MAX_QUESTIONS_BYTES = 256 * 1024 * 1024
MAX_QUESTION_LINE_CHARS = 1024 * 1024
MAX_SPEC_BYTES = 64 * 1024 * 1024
PROGRESS_EVERY = 100
ANSWER_KEYS = frozenset({"answer", "citations", "declined"})
_SHOWN_CHARS = 120

ErrorType = Callable[..., Exception]


class AssistantHarnessError(Exception):
    """A failure with the harness's exit code (used when no error type is handed in)."""

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def is_assistant(spec_path: Path) -> bool:
    """Whether spec.json asks for an assistant; False for anything unreadable (the tabular
    harness then reports what is wrong with it)."""
    try:
        if spec_path.stat().st_size > MAX_SPEC_BYTES:
            return False
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(spec, dict) and spec.get("task") == "assistant"


def run(
    input_dir: Path,
    pilot_dir: Path,
    output_dir: Path,
    load_factory: Callable[[str], Any],
    error: ErrorType = AssistantHarnessError,
) -> None:
    """Answer every question of `input_dir` with the spec's kind of assistant."""
    spec = load_spec(input_dir / "spec.json", error)
    if spec["model"]["kind"] == "command":
        run_command(spec["model"]["command"], cwd=pilot_dir, output=output_dir, error=error)
        return
    questions = read_questions(input_dir / "questions.jsonl", spec["features"], error)
    kb = spec["knowledge_base"]
    random.seed(spec["seed"])  # for assistants that draw from Python's global generator
    factory = load_factory(spec["entrypoint"])
    try:
        assistant = factory(
            knowledge_base=input_dir / "knowledge",
            restricted=frozenset(kb["restricted"]),
            languages=list(spec["languages"]),
            seed=spec["seed"],
            **spec["params"],
        )
    except Exception as exc:
        raise error(
            f"the factory raised {_shown(exc)} with params {_shown(spec['params'])}", exit_code=3
        ) from exc
    if not callable(getattr(assistant, "answer", None)):
        raise error(
            f"the factory returned {type(assistant).__name__}, which has no answer(question, "
            "context) method",
            exit_code=3,
        )
    answer_all(assistant, questions, output_dir / "answers.jsonl", error)


def load_spec(path: Path, error: ErrorType) -> dict[str, Any]:
    """Read and check an assistant's spec.json; every problem names the field."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{path}: missing", exit_code=2) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid JSON: {exc}", exit_code=2) from exc
    if not isinstance(spec, dict) or spec.get("task") != "assistant":
        raise error(f"{path}: expected an object with task 'assistant'", exit_code=2)
    model = spec.get("model") or {"kind": "factory"}
    kind = model.get("kind") if isinstance(model, dict) else None
    if kind == "command":
        argv = model.get("command")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise error("spec.model.command: expected a non-empty list of arguments", exit_code=2)
    elif kind == "factory":
        entrypoint = spec.get("entrypoint")
        if not isinstance(entrypoint, str) or entrypoint.count(":") != 1:
            raise error(
                f"spec.entrypoint: expected 'file.py:factory', got {_shown(entrypoint)}",
                exit_code=2,
            )
    else:
        raise error(f"spec.model.kind: expected factory or command, got {kind!r}", exit_code=2)
    if not isinstance(spec.get("params", {}), dict):
        raise error("spec.params: expected an object of keyword arguments", exit_code=2)
    seed = spec.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise error("spec.seed: expected an integer in [0, 2**32)", exit_code=2)
    for key in ("languages", "features"):
        value = spec.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise error(f"spec.{key}: expected a list of names", exit_code=2)
    if "question" not in spec["features"]:
        raise error("spec.features: must include 'question'", exit_code=2)
    kb = spec.get("knowledge_base")
    if not isinstance(kb, dict) or not all(
        isinstance(kb.get(key), list) and all(isinstance(i, str) for i in kb[key])
        for key in ("documents", "restricted")
    ):
        raise error("spec.knowledge_base: expected lists of document ids", exit_code=2)
    return {**spec, "model": dict(model), "params": spec.get("params", {}), "seed": seed}


def read_questions(path: Path, features: list[str], error: ErrorType) -> list[dict[str, Any]]:
    """The host's questions, in row-id order: {"row_id": int, "question": str, ...}."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise error(f"{path}: missing", exit_code=2) from exc
    if size > MAX_QUESTIONS_BYTES:
        raise error(f"{path}: over {MAX_QUESTIONS_BYTES} bytes", exit_code=2)
    questions: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        while line := handle.readline(MAX_QUESTION_LINE_CHARS + 1):
            where = f"{path}: line {len(questions) + 1}"
            if len(line) > MAX_QUESTION_LINE_CHARS:
                raise error(f"{where}: over {MAX_QUESTION_LINE_CHARS} characters", exit_code=2)
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise error(f"{where}: not valid JSON: {exc}", exit_code=2) from exc
            if (
                not isinstance(row, dict)
                or row.get("row_id") != len(questions)
                or set(row) != {"row_id", *features}
                or not all(isinstance(row[name], str) for name in features)
            ):
                raise error(
                    f"{where}: expected row_id {len(questions)} and the text features {features}",
                    exit_code=2,
                )
            questions.append(row)
    return questions


def answer_all(
    assistant: Any, questions: list[dict[str, Any]], path: Path, error: ErrorType
) -> None:
    """Ask every question in order and write one checked line per answer.

    Streamed, so a long evaluation set never holds every answer in memory; a failure removes
    the partial file, so the host never sees half an answer set.
    """
    declined = 0
    try:
        with path.open("w", encoding="utf-8") as out:
            for number, row in enumerate(questions, start=1):
                context = {k: v for k, v in row.items() if k not in ("row_id", "question")}
                try:
                    returned = assistant.answer(row["question"], context)
                except Exception as exc:
                    raise error(
                        f"answer() raised {_shown(exc)} on row {row['row_id']}", exit_code=3
                    ) from exc
                record = {"row_id": row["row_id"], **checked_answer(returned, row["row_id"], error)}
                declined += record["declined"]
                out.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
                if number % PROGRESS_EVERY == 0:
                    print(f"harness: answered {number} of {len(questions)}", file=sys.stderr)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    print(
        f"harness: answered {len(questions)} questions ({declined} declined) "
        f"with {type(assistant).__name__}"
    )


def checked_answer(returned: Any, row_id: int, error: ErrorType) -> dict[str, Any]:
    """One return of `answer()` as {"answer", "citations", "declined"}, or a model failure."""

    def bad(problem: str) -> Exception:
        return error(
            f"answer() for row {row_id} returned {problem}; expected a string or a mapping "
            "with 'answer' (text), optional 'citations' (a list of document ids) and "
            "optional 'declined' (true/false)",
            exit_code=3,
        )

    if isinstance(returned, str):
        returned = {"answer": returned}
    if not isinstance(returned, Mapping):
        raise bad(f"a {type(returned).__name__}")
    extra = [key for key in returned if key not in ANSWER_KEYS]
    if extra:
        raise bad(f"unexpected keys {_shown(extra)}")
    declined = returned.get("declined", False)
    if not isinstance(declined, bool):
        raise bad(f"'declined' as a {type(declined).__name__}")
    text = returned.get("answer", "" if declined else None)
    if not isinstance(text, str):
        raise bad("no 'answer' text" if text is None else f"'answer' as a {type(text).__name__}")
    if len(text) > MAX_ANSWER_CHARS:
        raise bad(f"an answer of {len(text)} characters, over {MAX_ANSWER_CHARS}")
    citations = returned.get("citations", [])
    if not isinstance(citations, list | tuple) or not all(isinstance(c, str) for c in citations):
        raise bad(f"'citations' that are not a list of strings: {_shown(citations)}")
    if len(citations) > MAX_CITATIONS:
        raise bad(f"{len(citations)} citations, over {MAX_CITATIONS}")
    if any(not 0 < len(c) <= MAX_CITATION_CHARS for c in citations):
        raise bad(f"a citation that is empty or over {MAX_CITATION_CHARS} characters")
    for value in (text, *citations):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise bad("text that is not valid Unicode (a lone surrogate)") from None
    return {"answer": text, "citations": list(citations), "declined": declined}


def run_command(argv: list[str], *, cwd: Path, output: Path, error: ErrorType) -> None:
    """Run the pilot's own program in `cwd` without a shell; it writes answers.jsonl itself."""
    sys.stdout.flush()  # keep the log in order: the program writes to the same streams
    try:
        completed = subprocess.run(argv, cwd=cwd, env=dict(os.environ), check=False)
    except OSError as exc:
        raise error(f"spec.model.command: cannot start {argv[0]!r}: {exc}", exit_code=2) from exc
    if completed.returncode != 0:
        raise error(f"the command {argv!r} exited with status {completed.returncode}", exit_code=3)
    if not (output / "answers.jsonl").is_file():
        raise error(f"the command {argv!r} wrote no {output}/answers.jsonl", exit_code=3)
    print(f"harness: the command {argv!r} finished and wrote {output}/answers.jsonl")


def _shown(value: object) -> str:
    """`value` as a short quotation for an error message (never its full size)."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."
