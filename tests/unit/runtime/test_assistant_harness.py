"""The assistant harness, run on the host against temporary /input, /pilot and /output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.assistant.knowledge import Knowledge
from sandbox.assistant.records import Reference
from sandbox.assistant.wall import write_assistant_inputs
from sandbox.runtime import harness

ASSISTANT = """\
from pathlib import Path


class Desk:
    def __init__(self, root, restricted, languages, seed, greeting):
        self.texts = {
            p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*.md"))
        }
        self.restricted = restricted
        self.greeting = greeting
        self.languages = languages
        self.seed = seed

    def answer(self, question, context):
        if "salary" in question:
            return {"answer": "", "declined": True}
        for doc_id, text in self.texts.items():
            if doc_id not in self.restricted and question.split()[0].lower() in text.lower():
                return {"answer": f"{self.greeting} {text.strip()}", "citations": [doc_id]}
        return f"{self.greeting} [{context['channel']}] {self.languages} {self.seed}"


def build_assistant(knowledge_base, restricted, languages, seed, greeting="Hi"):
    assert isinstance(knowledge_base, Path)
    return Desk(knowledge_base, restricted, languages, seed, greeting)
"""


QUESTIONS = [
    ("q1", "Water bills: when are they due?"),
    ("q2", "Parks open at what time?"),
    ("q3", "What is the mayor's salary?"),
]


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "output").mkdir()
    (tmp_path / "pilot" / "model").mkdir(parents=True)
    (tmp_path / "pilot" / "model" / "assistant.py").write_text(ASSISTANT, encoding="utf-8")
    monkeypatch.setattr(harness, "INPUT", tmp_path / "input")
    monkeypatch.setattr(harness, "OUTPUT", tmp_path / "output")
    monkeypatch.setattr(harness, "PILOT", tmp_path / "pilot")
    return tmp_path


def _inputs(folder: Path, *, model: dict[str, object] | None = None, **params: object) -> None:
    references = [
        Reference(id=rid, question=text, language="en", channel="web") for rid, text in QUESTIONS
    ]
    knowledge = Knowledge(
        {"en/water.md": "Water bills are due monthly.\n", "hr/pay.md": "Parks staff pay."},
        frozenset({"hr/pay.md"}),
    )
    write_assistant_inputs(
        references,
        knowledge,
        features=["question", "channel"],
        spec_fields={
            "model": model or {"kind": "factory"},
            "entrypoint": "model/assistant.py:build_assistant",
            "params": params,
            "seed": 3,
            "languages": ["en", "es"],
            "max_answer_chars": 2000,
        },
        input_dir=folder / "input",
    )


def _answers(folder: Path) -> list[dict[str, object]]:
    text = (folder / "output" / "answers.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_a_factory_answers_every_question_in_row_order(folders: Path) -> None:
    _inputs(folders, greeting="Hello")

    assert harness.main() == 0

    assert _answers(folders) == [
        {
            "row_id": 0,
            "answer": "Hello Water bills are due monthly.",
            "citations": ["en/water.md"],
            "declined": False,
        },
        {  # the restricted document mentions parks, but this assistant never uses it
            "row_id": 1,
            "answer": "Hello [web] ['en', 'es'] 3",
            "citations": [],
            "declined": False,
        },
        {"row_id": 2, "answer": "", "citations": [], "declined": True},
    ]


@pytest.mark.parametrize(
    ("returned", "reason"),
    [
        ("42", "returned a int"),
        ("{'answer': 'x', 'sources': []}", "unexpected keys ['sources']"),
        ("{'answer': 1}", "'answer' as a int"),
        ("{'citations': ['a']}", "no 'answer' text"),
        ("{'answer': 'x', 'declined': 'no'}", "'declined' as a str"),
        ("{'answer': 'x', 'citations': 'a.md'}", "'citations' that are not a list"),
        ("{'answer': 'x', 'citations': ['']}", "a citation that is empty"),
        ("{'answer': 'x' * 20001}", "20001 characters, over 20000"),
        ("{'answer': 'x', 'citations': ['a'] * 51}", "51 citations, over 50"),
        ("'\\ud800'", "not valid Unicode"),
    ],
)
def test_a_malformed_return_is_a_model_failure(
    folders: Path, capsys: pytest.CaptureFixture[str], returned: str, reason: str
) -> None:
    code = "class A:\n    def answer(self, q, c):\n        return " + returned + "\n"
    code += "def build_assistant(**kwargs):\n    return A()\n"
    (folders / "pilot" / "model" / "assistant.py").write_text(code, encoding="utf-8")
    _inputs(folders)

    assert harness.main() == 3

    err = capsys.readouterr().err
    assert "answer() for row 0 returned" in err and reason in err
    assert not (folders / "output" / "answers.jsonl").exists()  # no half answer set


def test_an_assistant_without_answer_or_a_failing_one_exits_3(
    folders: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = "def build_assistant(**kwargs):\n    return object()\n"
    (folders / "pilot" / "model" / "assistant.py").write_text(code, encoding="utf-8")
    _inputs(folders)
    assert harness.main() == 3
    assert "no answer(question, context) method" in capsys.readouterr().err

    code = "class A:\n    def answer(self, q, c):\n        raise KeyError(q)\n"
    code += "def build_assistant(**kwargs):\n    return A()\n"
    (folders / "pilot" / "model" / "assistant.py").write_text(code, encoding="utf-8")
    assert harness.main() == 3
    assert "answer() raised KeyError" in capsys.readouterr().err


def test_a_bad_spec_exits_2(folders: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _inputs(folders, model={"kind": "artifact", "artifact": "x.onnx", "format": "onnx"})
    assert harness.main() == 2
    assert "spec.model.kind: expected factory or command" in capsys.readouterr().err


def test_a_command_writes_the_answers_itself(
    folders: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = (
        "import pathlib, sys\n"
        "out = pathlib.Path(sys.argv[1])\n"
        "if len(sys.argv) > 2:\n"
        "    out.write_text('{}\\n')\n"
    )
    (folders / "pilot" / "write.py").write_text(script, encoding="utf-8")
    target = str(folders / "output" / "answers.jsonl")
    _inputs(folders, model={"kind": "command", "command": ["python3", "write.py", target, "x"]})
    assert harness.main() == 0  # what it wrote is the host's to check
    assert "finished and wrote" in capsys.readouterr().out

    (folders / "output" / "answers.jsonl").unlink()
    spec = json.loads((folders / "input" / "spec.json").read_text())
    spec["model"]["command"] = ["python3", "write.py", target]
    (folders / "input" / "spec.json").write_text(json.dumps(spec))
    assert harness.main() == 3  # it exited 0 but wrote no answers.jsonl
    assert "answers.jsonl" in capsys.readouterr().err
