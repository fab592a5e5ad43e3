"""An assistant's transcripts and manifest as a city or an auditor drives the command line.

No container: the answers-only audit needs none, and `sandbox policy check` runs the pre-run
rules alone. Every refusal is one line and exit 2, and a refused audit is on the record.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e.test_cli import sandbox

BLUEPRINT = Path(__file__).resolve().parents[2] / "blueprints" / "ask-the-city"
QUESTIONS = BLUEPRINT / "data" / "questions.jsonl"


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    """Answers to every question: each states its first expected fact, or declines."""
    lines = []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        ref = json.loads(line)
        facts = ref["expected_facts"]
        first = facts[0] if facts else ""
        text = first if isinstance(first, str) else (first[0] if isinstance(first, list) else "")
        lines.append(
            {"id": ref["id"], "answer": text, "declined": ref["must_decline"], "citations": []}
        )
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in lines))
    return path


def _audit(home: Path, answers: Path, *extra: str) -> list[str]:
    return [
        "audit", "evaluate", "--task", "assistant", "--data", str(answers),
        "--sensitive", "language,district", *extra,
    ]  # fmt: skip


def test_an_answers_only_audit_runs_and_leaves_a_verifying_trail(
    tmp_path: Path, answers: Path
) -> None:
    home = tmp_path / "home"
    done = sandbox(home, *_audit(home, answers, "--references", str(QUESTIONS)))
    assert done.returncode in (0, 3), done.stderr + done.stdout
    assert "Answers-only audit" in done.stdout
    assert sandbox(home, "audit", "verify").returncode == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "--references"),
        (("--references", str(QUESTIONS), "--label", "x"), "--task assistant"),
        (("--references", str(QUESTIONS), "--restricted", "a/**"), "--knowledge-base"),
    ],
)
def test_option_mistakes_are_one_line_and_exit_2(
    tmp_path: Path, answers: Path, extra: tuple[str, ...], message: str
) -> None:
    done = sandbox(tmp_path / "home", *_audit(tmp_path / "home", answers, *extra))
    assert done.returncode == 2, done.stderr + done.stdout
    assert message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_missing_answers_are_refused_on_the_record(tmp_path: Path, answers: Path) -> None:
    home = tmp_path / "home"
    lines = answers.read_text(encoding="utf-8").splitlines()
    answers.write_text("\n".join(lines[:-3]) + "\n", encoding="utf-8")
    done = sandbox(home, *_audit(home, answers, "--references", str(QUESTIONS)))
    assert done.returncode == 2, done.stderr + done.stdout
    assert "no answer for 3 of the 900 questions" in done.stderr
    trail = (home / "audit" / "trail.jsonl").read_text(encoding="utf-8")
    assert '"run.failed"' in trail
    assert sandbox(home, "audit", "verify").returncode == 0


def test_personal_data_in_a_question_blocks_before_any_container(tmp_path: Path) -> None:
    pilot = tmp_path / "pilot"
    shutil.copytree(BLUEPRINT, pilot)
    path = pilot / "data" / "questions.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["question"] += " Write to me at jane.roe@example.org"
    lines[0] = json.dumps(first, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = sandbox(tmp_path / "home", "policy", "check", str(pilot))
    assert done.returncode == 3, done.stderr + done.stdout
    assert "data.no-pii-values" in done.stdout and "question (1 email)" in done.stdout
