"""The assistant kind of pilot: questions and a knowledge base in, answers out.

The references (language, expected facts, whether to decline, group attributes) stay on the
host; only each question's text and the manifest's other `data.features` cross the wall, with
the knowledge base. The container's answers are checked as untrusted output, paired with their
references by row id, written to the run folder in the published answers schema
(``answers.jsonl``: the same file a predictions-only audit reads) and evaluated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.errors import OutputRejected
from sandbox.runs.closing import TRANSCRIPTS_NAME
from sandbox.runs.container import AssessedOutputs, output_reason

if TYPE_CHECKING:
    from sandbox.assistant.pilot_data import AssistantData
    from sandbox.manifest import PilotManifest
    from sandbox.runs.record import RunRecord

__all__ = ["ASSISTANT", "AssistantPilot"]

ANSWERS_NAME = "answers.jsonl"


class AssistantPilot:
    """A resident assistant's pilot."""

    preload = False  # the harness loads no scikit-learn: an assistant brings its own code

    def load(self, pilot_dir: Path, manifest: PilotManifest) -> AssistantData:
        """The evaluation set, the knowledge base and the canaries."""
        from sandbox.assistant.pilot_data import load_assistant_data

        return load_assistant_data(pilot_dir, manifest)

    def cross(
        self, data: AssistantData, manifest: PilotManifest, input_dir: Path, *, legacy: bool = False
    ) -> Any:
        """questions.jsonl, the knowledge base and spec.json (one layout: `legacy` is ignored)."""
        from sandbox.assistant.wall import write_assistant_inputs
        from sandbox.tasks.assistant import AssistantConfig

        config = manifest.task
        if not isinstance(config, AssistantConfig):
            raise ValueError("an assistant pilot's task section is an AssistantConfig")
        model = manifest.model
        return write_assistant_inputs(
            data.questions.references,
            data.knowledge,
            features=manifest.data.features,
            spec_fields={
                "model": model.harness_spec(),
                "entrypoint": model.entrypoint,
                "params": model.params,
                "seed": model.seed,
                "languages": list(config.languages),
                "max_answer_chars": config.max_answer_chars,
            },
            input_dir=input_dir,
        )

    def assess(self, record: RunRecord, output_dir: Path) -> AssessedOutputs:
        """The answers, checked, paired with their references and evaluated."""
        from sandbox.assistant.evaluation_set import outcomes
        from sandbox.runtime.answers import read_container_answers
        from sandbox.tasks import EvaluationSettings, get_task

        data, crossing, manifest = record.data, record.crossing, record.manifest
        if manifest is None:
            raise ValueError("assessing answers needs the manifest")
        try:
            rows = read_container_answers(output_dir / ANSWERS_NAME, rows=crossing.rows)
        except OutputRejected as exc:
            return AssessedOutputs(rejected=output_reason(exc))
        answers = [row.to_answer(crossing.row_ids[row.row_id]) for row in rows]
        _write_transcripts(record.run_dir / TRANSCRIPTS_NAME, answers)
        task = get_task(manifest.task.type)
        evaluation = task.evaluate(
            outcomes(data.questions, answers, data.knowledge), EvaluationSettings.of(manifest)
        )
        return AssessedOutputs(evaluation=evaluation)


def _write_transcripts(path: Path, answers: list[Any]) -> None:
    """The answers keyed by reference id: what a predictions-only audit of them reads."""
    lines = (
        json.dumps(a.model_dump(mode="json"), ensure_ascii=False, sort_keys=True) for a in answers
    )
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


ASSISTANT = AssistantPilot()
