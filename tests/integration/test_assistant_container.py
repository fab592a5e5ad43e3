"""An assistant pilot's container against the real Docker engine and the real runner image.

The host writes the questions, the knowledge base and the spec (`sandbox.assistant.wall`),
the harness asks the pilot's assistant every question, and the host reads the answers back
as untrusted output (`sandbox.runtime.answers`).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from sandbox.assistant.knowledge import Knowledge
from sandbox.assistant.records import Reference
from sandbox.assistant.wall import AssistantCrossing, write_assistant_inputs
from sandbox.runtime import ContainerSpec, Hardening
from sandbox.runtime.answers import read_container_answers
from sandbox.runtime.docker.runtime import DockerRuntime
from tests.integration.conftest import HARNESS_COMMAND
from tests.integration.test_docker_runtime import _bridge_gateway

pytestmark = pytest.mark.docker

KNOWLEDGE_DESK = """\
from pathlib import Path


class Desk:
    # Answers with the first unrestricted document that shares a keyword with the question.
    def __init__(self, folder, restricted, languages, seed, declines):
        self.documents = {
            path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
        self.restricted = restricted
        self.declines = declines

    def answer(self, question, context):
        words = {w.strip("?.,!¿").lower() for w in question.split()}
        if words & set(self.declines):
            return {"answer": "I cannot help with that.", "declined": True}
        for doc_id, text in self.documents.items():
            if doc_id in self.restricted:
                continue
            if words & {w.strip(".,").lower() for w in text.split() if len(w) > 4}:
                return {"answer": text.strip(), "citations": [doc_id]}
        return f"Please ask at the front desk ({context['channel']})."


def build_assistant(knowledge_base, restricted, languages, seed, declines=()):
    assert isinstance(knowledge_base, Path) and str(knowledge_base) == "/input/knowledge"
    assert languages == ["en", "es"] and seed == 11
    return Desk(knowledge_base, restricted, languages, seed, declines)
"""

COMMAND = """\
import json

with open("/input/questions.jsonl", encoding="utf-8") as questions:
    rows = [json.loads(line) for line in questions]
with open("/output/answers.jsonl", "w", encoding="utf-8") as out:
    for row in rows:
        answer = {"answer": row["question"][::-1], "citations": [], "declined": False}
        out.write(json.dumps({"row_id": row["row_id"], **answer}) + "\\n")
"""

BAD_TYPE = """\
class Sloppy:
    def answer(self, question, context):
        return ["a list", "is not an answer"]


def build_assistant(**kwargs):
    return Sloppy()
"""

PHONES_OUT = """\
import socket


class Leaky:
    def __init__(self, host, port):
        self.host, self.port = host, port

    def answer(self, question, context):
        try:
            with socket.create_connection((self.host, self.port), timeout=3) as connection:
                connection.sendall(question.encode())
        except OSError as exc:
            raise RuntimeError(f"network blocked: {exc!r}") from exc
        return "sent"


def build_assistant(knowledge_base, restricted, languages, seed, host="", port=0):
    return Leaky(host, port)
"""


KNOWLEDGE = Knowledge(
    {
        "en/water-bills.md": "Water bills are due on the 15th of each month.\n",
        "es/agua.md": "Las facturas del agua vencen el día 15 de cada mes.\n",
        "en/parks.md": "Parks open at 7am and close at sunset.\n",
        "restricted/staff.md": "Confidential: the parks director earns 95,000 a year.\n",
    },
    frozenset({"restricted/staff.md"}),
)

QUESTIONS = [
    ("q-water", "When are water bills due?", "en", "web"),
    ("q-agua", "¿Cuándo vencen las facturas del agua?", "es", "phone"),
    ("q-parks", "When do parks open?", "en", "web"),
    ("q-salary", "What does the director earn?", "en", "web"),
    ("q-pets", "Can I bring my cat?", "en", "sms"),
]


def _crossing(
    folder: Path,
    code: str,
    params: dict[str, object],
    model: dict[str, object] | None = None,
) -> AssistantCrossing:
    pilot = folder / "pilot"
    (pilot / "model").mkdir(parents=True)
    for path in (pilot, pilot / "model"):
        path.chmod(0o755)
    (pilot / "model" / "assistant.py").write_text(code, encoding="utf-8")
    (pilot / "model" / "assistant.py").chmod(0o644)
    references = [
        Reference(id=rid, question=text, language=lang, channel=channel)
        for rid, text, lang, channel in QUESTIONS
    ]
    return write_assistant_inputs(
        references,
        KNOWLEDGE,
        features=["question", "channel"],
        spec_fields={
            "model": model or {"kind": "factory"},
            "entrypoint": "model/assistant.py:build_assistant",
            "params": params,
            "seed": 11,
            "languages": ["en", "es"],
            "max_answer_chars": 2000,
        },
        input_dir=folder / "input",
    )


def _spec(folder: Path, runner_image: str, run_id: str) -> ContainerSpec:
    return ContainerSpec(
        run_id=run_id,
        image=runner_image,
        command=HARNESS_COMMAND,
        input_dir=folder / "input",
        pilot_dir=folder / "pilot",
        output_dir=folder / "output",
        hardening=Hardening(memory_mb=512, timeout_s=120),
    )


def test_a_factory_assistant_answers_from_the_knowledge_base(
    tmp_path: Path, runner_image: str, docker_runtime: DockerRuntime
) -> None:
    crossing = _crossing(tmp_path, KNOWLEDGE_DESK, {"declines": ["earn", "salary"]})

    result = docker_runtime.run(_spec(tmp_path, runner_image, "it-assistant"))

    assert result.state == "succeeded", result.stderr_tail
    assert result.exit_code == 0
    assert set(result.output_files) == {"answers.jsonl"}
    assert "answered 5 questions (1 declined) with Desk" in result.stdout_tail
    answers = read_container_answers(tmp_path / "output" / "answers.jsonl", rows=crossing.rows)
    published = {
        crossing.row_ids[a.row_id]: a.to_answer(crossing.row_ids[a.row_id]) for a in answers
    }
    assert published["q-water"].citations == ("en/water-bills.md",)
    assert "15th" in published["q-water"].answer
    assert published["q-agua"].citations == ("es/agua.md",)
    assert published["q-parks"].citations == ("en/parks.md",)
    assert published["q-salary"].declined and not published["q-salary"].citations
    assert published["q-pets"].answer == "Please ask at the front desk (sms)."
    assert not any("restricted/staff.md" in a.citations for a in published.values())

    # the same inputs give the same bytes
    again = tmp_path / "again"
    _crossing(again, KNOWLEDGE_DESK, {"declines": ["earn", "salary"]})
    second = docker_runtime.run(_spec(again, runner_image, "it-assistant-2"))
    assert second.output_files == result.output_files


def test_a_command_writes_the_answers_itself(
    tmp_path: Path, runner_image: str, docker_runtime: DockerRuntime
) -> None:
    command = {"kind": "command", "command": ["python3", "model/assistant.py"]}
    crossing = _crossing(tmp_path, COMMAND, {}, model=command)

    result = docker_runtime.run(_spec(tmp_path, runner_image, "it-assistant-command"))

    assert result.state == "succeeded", result.stderr_tail
    answers = read_container_answers(tmp_path / "output" / "answers.jsonl", rows=crossing.rows)
    assert [a.answer for a in answers] == [text[::-1] for _, text, _, _ in QUESTIONS]


def test_a_return_of_the_wrong_type_fails_the_run_with_the_reason(
    tmp_path: Path, runner_image: str, docker_runtime: DockerRuntime
) -> None:
    _crossing(tmp_path, BAD_TYPE, {})

    result = docker_runtime.run(_spec(tmp_path, runner_image, "it-assistant-bad"))

    assert result.state == "failed"
    assert result.exit_code == 3
    assert "answer() for row 0 returned a list" in result.stderr_tail
    assert result.output_files == {}


def test_an_assistant_cannot_reach_the_network(
    tmp_path: Path, runner_image: str, docker_runtime: DockerRuntime
) -> None:
    # The listener is the test's own, on this machine's docker0 address; nothing else is dialled.
    gateway = _bridge_gateway(docker_runtime)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((gateway, 0))
    listener.listen(1)
    listener.settimeout(0.5)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        deadline = time.monotonic() + 60  # bounded: stops by itself
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                connection, peer = listener.accept()
            except TimeoutError:
                continue
            accepted.append(peer)
            connection.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        params = {"host": gateway, "port": listener.getsockname()[1]}
        _crossing(tmp_path, PHONES_OUT, params)
        result = docker_runtime.run(_spec(tmp_path, runner_image, "it-assistant-net"))
    finally:
        stop.set()
        server.join(timeout=5)
        listener.close()

    assert result.state == "failed"
    assert result.exit_code == 3
    assert "answer() raised RuntimeError" in result.stderr_tail
    assert "network blocked" in result.stderr_tail
    assert accepted == []
