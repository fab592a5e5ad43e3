"""Audit a vendor's assistant from its exported transcripts: no model, same report and record.

A city often cannot run a vendor's chatbot in the sandbox, but can export what it answered to
the city's evaluation questions. `audit_answers` reads those answers (JSON Lines in the
published answers schema) and the city's references, pairs them by id, and assesses them
exactly as an assistant pilot's run is assessed: same metrics, same post-run rules, same
reports, an MLflow run and the record of a predictions-only audit. Given the knowledge base,
citations and groundedness are checked and restricted documents recognised; canaries are
checked whenever given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.digests import file_sha256
from sandbox.errors import UserInputError
from sandbox.runs.predictions_audit import MODE, PredictionsAudit, finish_audit
from sandbox.runs.record import RunRecord, new_run_id
from sandbox.runs.recorder import AUDIT, RunRecorder

if TYPE_CHECKING:
    from sandbox.runs.services import RunServices

__all__ = ["AnswerFiles", "audit_answers"]

ASSISTANT = "assistant"


@dataclass(frozen=True, kw_only=True)
class AnswerFiles:
    """What an assistant audit reads: the answers, the references, optionally the sources."""

    answers: Path
    references: Path
    knowledge_base: Path | None = None
    restricted: tuple[str, ...] = ()
    canaries: Path | None = None


def audit_answers(
    files: AnswerFiles,
    *,
    sensitive: Sequence[str],
    services: RunServices,
    languages: Sequence[str] = (),
    max_answer_chars: int = 2000,
    name: str | None = None,
    policy_packs: Sequence[str] = ("baseline",),
    out_dir: Path | None = None,
    min_group_size: int = 30,
    confidence: float = 0.95,
    seed: int = 0,
) -> PredictionsAudit:
    """Assess exported answers against the city's references, on the record.

    Raises UserInputError for options and DataError for a file that cannot be read, before
    anything is recorded; answers that cannot be paired with the references (missing or
    unknown ids) or assessed (too few questions, one group) raise DataError after the audit
    is recorded as failed. `languages` default to the references' own.
    """
    from sandbox.assistant.evaluation_set import evaluation_set, match_answers, outcomes
    from sandbox.assistant.jsonl import read_answers, read_references
    from sandbox.policies.pack import load_pack
    from sandbox.tasks import EvaluationSettings, get_task
    from sandbox.tasks.assistant import AssistantConfig

    if not sensitive:
        raise UserInputError("--sensitive: name at least one group attribute, e.g. language")
    if files.restricted and files.knowledge_base is None:
        raise UserInputError("--restricted: name the --knowledge-base the globs apply to")
    answers = read_answers(files.answers)
    references = read_references(files.references)
    knowledge = _knowledge(files)
    spoken = tuple(languages) or tuple(dict.fromkeys(r.language for r in references))
    config = _config(AssistantConfig, spoken, max_answer_chars)
    settings = EvaluationSettings(
        min_group_size=min_group_size, confidence=confidence, seed=seed, config=config
    )
    packs = tuple(load_pack(pack) for pack in policy_packs)
    run_id = new_run_id()
    record = RunRecord(
        run_id=run_id,
        run_dir=services.runs_dir / run_id,
        mode=MODE,
        name=name or files.answers.stem,
        started_at=datetime.now(UTC),
        packs=packs,
        data_files=_digests(files, knowledge),
        columns={"sensitive": [*sensitive], "languages": list(spoken)},
    )
    with RunRecorder(services, record, kinds=AUDIT) as rec:
        rec.submit(
            {
                "mode": MODE,
                "container": None,
                "task": ASSISTANT,
                "pilot": record.name,
                "data": dict(record.data_files),
                "rows": len(answers),
                "columns": record.columns,
                "policy_packs": {p.id: p.sha256 for p in packs},
            }
        )
        from sandbox.tracking.mapping import start_tags

        rec.start_tracking(experiment=record.name, tags=start_tags(record))
        questions = evaluation_set(
            references, sensitive, source=str(files.references), fix_field="--sensitive"
        )
        paired = match_answers(questions, answers, source=str(files.answers))
        return finish_audit(
            rec,
            get_task(ASSISTANT),
            outcomes(questions, paired, knowledge),
            settings,
            out_dir=out_dir,
            sources=_sources(files, record.data_files, len(answers), len(references)),
            missing={c: int(questions.groups[c].eq("(missing)").sum()) for c in sensitive},
        )


def _config(kind: Any, languages: tuple[str, ...], max_answer_chars: int) -> Any:
    """The task section the options describe; UserInputError naming the option if invalid."""
    from pydantic import ValidationError

    try:
        return kind.model_validate(
            {
                "type": ASSISTANT,
                "languages": languages,
                "knowledge_base": {"path": "."},
                "max_answer_chars": max_answer_chars,
            }
        )
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        option = {"languages": "--languages", "max_answer_chars": "--max-answer-chars"}
        message = str(first["msg"]).removeprefix("Value error, ")
        raise UserInputError(f"{option.get(where.split('.')[0], where)}: {message}") from None


def _knowledge(files: AnswerFiles) -> Any:
    from sandbox.assistant.knowledge import load_knowledge, no_knowledge, read_canaries

    if files.knowledge_base is None:
        if files.canaries is None:
            return no_knowledge()
        return no_knowledge(canaries=read_canaries(files.canaries))
    return load_knowledge(
        files.knowledge_base,
        restricted_globs=files.restricted,
        canaries_file=files.canaries,
        where="--knowledge-base",
    )


def _digests(files: AnswerFiles, knowledge: Any) -> dict[str, str]:
    """Every file the audit read, by name, with its SHA-256 (the knowledge base as one)."""
    digests = {files.answers.name: file_sha256(files.answers)}
    digests[files.references.name] = file_sha256(files.references)
    if files.canaries is not None:
        digests[files.canaries.name] = file_sha256(files.canaries)
    if files.knowledge_base is not None:
        digests["knowledge_base"] = knowledge.digest
    return digests


def _sources(
    files: AnswerFiles, digests: dict[str, str], answers: int, references: int
) -> list[Any]:
    from sandbox.assistant.records import Answer, Reference
    from sandbox.reports import model as r

    return [
        r.DataSource(
            path=path.name,
            format="jsonl",
            sha256=digests[path.name],
            rows=rows,
            columns=tuple(fields),
        )
        for path, rows, fields in (
            (files.answers, answers, Answer.model_fields),
            (files.references, references, Reference.model_fields),
        )
    ]
