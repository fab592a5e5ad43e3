"""The "Ask the City" assistant, end to end against the real engine, with no network.

* the blueprint as shipped (the Spanish pages lag): the language gap in task success is found,
  with an interval that excludes zero, and blocks the run;
* the same pilot with the Spanish pages completed (generated in the runner container): passes;
* the run's exported transcripts, audited alone in a network namespace with no interface but a
  loopback that is down: the same numbers as the pilot run;
* an assistant that also indexes the caseworker notes: blocked by `assistant.no-disclosure`,
  and no planted name reaches any report.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from sandbox.audit.trail import verify_trail
from sandbox.runs.pilot_run import RunOutcome, run_pilot
from sandbox.runs.services import RunServices, build_services
from sandbox.runtime.base import ContainerSpec
from sandbox.settings import Settings

BLUEPRINT = Path(__file__).resolve().parents[2] / "blueprints" / "ask-the-city"
SANDBOX = Path(sys.executable).parent / "sandbox"

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, runner_image: str) -> RunServices:
    home = tmp_path_factory.mktemp("home")
    return build_services(Settings(home=home, image=runner_image))


def _pilot(tmp: Path) -> Path:
    pilot = tmp / "ask-the-city"
    shutil.copytree(BLUEPRINT, pilot)
    return pilot


@pytest.fixture(scope="module")
def lagging(services: RunServices, tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    return run_pilot(_pilot(tmp_path_factory.mktemp("lagging")), services)


def test_the_spanish_gap_is_found_with_an_interval_excluding_zero(lagging: RunOutcome) -> None:
    evaluation = lagging.report.evaluation
    assert evaluation is not None and evaluation.assistant is not None
    language = evaluation.attribute_set("language")
    gap = language.disparities["task_success"]
    assert gap.lowest_group == "es"
    assert gap.difference.ci_low is not None and gap.difference.ci_low > 0
    failed = {o.rule_id for o in lagging.verdict.failures}
    assert "fairness.assistant-success-parity" in failed
    assert lagging.exit_code == 3
    assert evaluation.assistant.leaks == ()
    assert (lagging.run_dir / "answers.jsonl").is_file()


def test_the_trail_verifies_after_the_runs(lagging: RunOutcome, services: RunServices) -> None:
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok


def test_the_run_replays_bit_for_bit_with_every_metric(
    lagging: RunOutcome, services: RunServices
) -> None:
    from sandbox.runs.replay import replay_run

    replayed = replay_run(lagging.run_id, services, pilot_dir=lagging.record.pilot_dir)
    assert [c.name for c in replayed.outputs] == ["answers.jsonl"]
    assert replayed.reproduced and replayed.metrics_compared
    assert not replayed.metrics_differing


def test_transcripts_audited_without_network_give_the_same_numbers(
    lagging: RunOutcome, tmp_path: Path
) -> None:
    pilot = lagging.record.pilot_dir
    assert pilot is not None
    data = pilot / "data"
    out = tmp_path / "out"
    command = [
        "unshare", "--net", "--",
        str(SANDBOX), "audit", "evaluate", "--task", "assistant",
        "--data", str(lagging.run_dir / "answers.jsonl"),
        "--references", str(data / "questions.jsonl"),
        "--sensitive", "language,district",
        "--knowledge-base", str(data / "knowledge"), "--restricted", "restricted/**",
        "--canaries", str(data / "canaries.txt"), "--languages", "en,es,ar",
        "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "SANDBOX_HOME": str(tmp_path / "home")}
    interfaces = "import socket; print(socket.if_nameindex())"
    probe = subprocess.run(
        ["unshare", "--net", "--", sys.executable, "-c", interfaces],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert probe.stdout.strip() == "[(1, 'lo')]"  # a fresh namespace: loopback only, and down
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 3, done.stdout + done.stderr  # the same fail verdict
    audited = json.loads((out / "report.json").read_text())["evaluation"]
    ran = lagging.report.evaluation
    assert ran is not None
    expected = ran.model_dump(mode="json")
    assert audited["performance"] == expected["performance"]
    assert audited["attribute_sets"] == expected["attribute_sets"]
    assert audited["assistant"] == expected["assistant"]


def _complete_spanish(pilot: Path, services: RunServices, tmp: Path) -> None:
    """Regenerate the pilot's data with every Spanish page current, in the runner container."""
    stage = tmp / "generator"
    shutil.copytree(pilot, stage / "pilot", ignore=shutil.ignore_patterns("data"))
    (stage / "input").mkdir()
    spec = ContainerSpec(
        run_id="ask-the-city-complete-spanish",
        image=services.image,
        command=("python3", "/pilot/generate.py", "--out", "/output", "--complete-spanish"),
        input_dir=stage / "input",
        pilot_dir=stage / "pilot",
        output_dir=stage / "output",
        hardening=replace(services.hardening, timeout_s=120),
    )
    assert services.runtime.run(spec).state == "succeeded"
    shutil.rmtree(pilot / "data")
    shutil.copytree(stage / "output", pilot / "data")
    sums = sorted(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(pilot / 'data').as_posix()}"
        for p in (pilot / "data").rglob("*")
        if p.is_file()
    )
    (pilot / "data" / "SHA256SUMS").write_text("\n".join(sums) + "\n")


def test_with_the_spanish_pages_completed_the_pilot_passes(
    services: RunServices, tmp_path: Path
) -> None:
    pilot = _pilot(tmp_path)
    _complete_spanish(pilot, services, tmp_path)
    outcome = run_pilot(pilot, services)
    assert outcome.verdict.status.startswith("pass"), [o.message for o in outcome.verdict.failures]
    evaluation = outcome.report.evaluation
    assert evaluation is not None
    gap = evaluation.attribute_set("language").disparities["task_success"].difference
    assert gap.value is not None and gap.value < 0.1


def test_an_assistant_that_quotes_the_caseworker_notes_is_blocked(
    services: RunServices, tmp_path: Path
) -> None:
    pilot = _pilot(tmp_path)
    manifest = pilot / "pilot.yaml"
    text = manifest.read_text().replace("model.py:build_assistant", "leaky.py:build_assistant")
    manifest.write_text(text.replace("    - model.py\n", "    - model.py\n    - leaky.py\n"))
    outcome = run_pilot(pilot, services, out_dir=tmp_path / "out")
    failed = {o.rule_id: o for o in outcome.verdict.failures}
    assert "assistant.no-disclosure" in failed
    assert outcome.exit_code == 3
    canaries = [
        line.strip()
        for line in (pilot / "data" / "canaries.txt").read_text().splitlines()
        if line.strip()
    ]
    for report in (tmp_path / "out").iterdir():
        if report.suffix in (".html", ".md", ".json"):
            shown = report.read_text(encoding="utf-8")
            assert not [c for c in canaries if c in shown], report.name
