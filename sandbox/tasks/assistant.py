"""Assistant: a resident assistant answering questions from a knowledge base, evaluated offline.

The manifest says ``task: {type: assistant, languages: [en, es, ar], knowledge_base: {path:
knowledge, restricted: ["restricted/**"]}}``. The evaluation set is a JSON Lines file of
references (`sandbox.assistant.records`); the label is each question's expected facts, so
there is no label column to encode and no predictions table: the container writes
`answers.jsonl`, and the host assesses each answer (`sandbox.assistant.scoring`) before the
group evaluation (`sandbox.evaluation.assistant`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandbox.confinement import PilotPath, relative_path
from sandbox.errors import DataError, OutputRejected
from sandbox.tasks.base import EvaluationSettings, Outcomes, PredictionSchema, TaskConfig
from sandbox.tasks.registry import register_task

# The scoring of answers (and numpy, pandas) loads when an assistant is first evaluated:
# importing the registry stays cheap for every other task type.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sandbox.evaluation.result import Evaluation
    from sandbox.evaluation.vocabulary import Vocabulary

__all__ = [
    "ASSISTANT",
    "ASSISTANT_TASK",
    "DEFAULT_MAX_ANSWER_CHARS",
    "Assistant",
    "AssistantConfig",
    "KnowledgeBaseSection",
    "check_assistant_data",
]

#: The manifest's `task.type` (`sandbox.evaluation.assistant.ASSISTANT`, kept equal by a test).
ASSISTANT: Final = "assistant"
DEFAULT_MAX_ANSWER_CHARS: Final = 2_000
#: An ISO 639 code with an optional region or script, as a reference's `language`.
_LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
#: Reference fields the assistant must never see: they would give the answer away.
_NEVER_CROSS: Final = ("id", "language", "expected_facts", "must_decline")


class KnowledgeBaseSection(BaseModel):
    """The folder of documents the assistant answers from, and those it must never disclose."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    path: Annotated[str, PilotPath()] = Field(
        description="A folder inside the pilot folder holding UTF-8 .md and .txt documents; "
        "a document's id (what answers cite) is its path relative to this folder, e.g. "
        "en/water-bills.md. It reaches the container read-only."
    )
    restricted: tuple[str, ...] = Field(
        default=(),
        max_length=100,
        description="Globs relative to the knowledge base naming documents that must never be "
        "quoted or cited (caseworker notes, residents' letters), e.g. 'restricted/**'. '*' "
        "stays within a folder, '**' spans folders.",
    )

    @field_validator("path")
    @classmethod
    def _inside_pilot(cls, value: str) -> str:
        return relative_path(value)  # links are followed when the manifest is loaded

    @field_validator("restricted")
    @classmethod
    def _globs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from sandbox.assistant.knowledge import glob_matcher

        for glob in value:
            if len(glob) > 500:
                raise ValueError(f"{glob[:40]!r}...: a glob has at most 500 characters")
            glob_matcher(glob)  # ValueError for a glob outside the knowledge base
        if len(set(value)) != len(value):
            raise ValueError("a glob is listed twice")
        return value


class AssistantConfig(TaskConfig):
    """Which languages the service offers, its knowledge base, and how long an answer may be."""

    type: Literal["assistant"] = Field(
        description="Assistant: answers residents' questions from a knowledge base; evaluated "
        "offline on expected facts, declines, language, grounding and disclosure."
    )
    languages: tuple[str, ...] = Field(
        min_length=1,
        max_length=20,
        description="The ISO 639 codes of the languages the service offers, e.g. [en, es, ar]; "
        "an answer's language is identified among these only.",
    )
    knowledge_base: KnowledgeBaseSection = Field(
        description="The knowledge base: {path: FOLDER, restricted: [GLOB, ...]}."
    )
    canaries: Annotated[str | None, PilotPath()] = Field(
        default=None,
        description="A UTF-8 file inside the pilot folder, one planted string a line, that must "
        "never appear in an answer; it stays on the host.",
    )
    max_answer_chars: int = Field(
        default=DEFAULT_MAX_ANSWER_CHARS,
        ge=100,
        le=20_000,
        description="Answers longer than this many characters fail (too long for a resident).",
    )

    @field_validator("languages")
    @classmethod
    def _codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not re.fullmatch(_LANGUAGE, code):
                raise ValueError(f"{code!r} is not an ISO 639 code such as en, es or ar")
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    @field_validator("canaries")
    @classmethod
    def _canaries_inside(cls, value: str | None) -> str | None:
        return None if value is None else relative_path(value)


def check_assistant_data(data: Any) -> None:
    """ValueError unless the manifest's data section (`data`) fits an assistant pilot.

    Its sources are JSON Lines evaluation sets; the features that cross the wall include the
    question and nothing that gives the answer away; language is a group attribute.
    """
    for index, source in enumerate(data.sources):
        if source.resolved_format != "jsonl":
            raise ValueError(
                f"sources[{index}]: an assistant's evaluation set is JSON Lines in the "
                f"published references schema (`sandbox schema references`); convert "
                f"{source.path!r} to a .jsonl file, or declare format: jsonl"
            )
        if source.role != "evaluation":
            raise ValueError(
                f"sources[{index}].role: an assistant is evaluated, not trained, in the "
                "sandbox; set role: evaluation"
            )
    if "split" in data.model_fields_set:
        raise ValueError("split: an assistant's questions are all evaluated; remove data.split")
    if data.label != "expected_facts":
        raise ValueError(
            f"label: {data.label!r}: an assistant's label is the facts a correct answer states; "
            "set label: expected_facts"
        )
    if data.id not in (None, "id"):
        raise ValueError(f"id: {data.id!r}: a reference is named by its 'id'; set id: id")
    if "question" not in data.features:
        raise ValueError("features: add 'question': the text the assistant answers")
    for index, name in enumerate(data.features):
        if name in _NEVER_CROSS or name in data.sensitive or name in data.pii:
            raise ValueError(
                f"features[{index}]: {name!r} must never reach the assistant (it is the "
                "answer key, a group attribute or personal data); remove it from features"
            )
    if "language" not in data.sensitive:
        raise ValueError(
            "sensitive: add 'language': an assistant is compared across the languages it serves"
        )


def _records(values: np.ndarray, kind: type[Any], *, what: str) -> tuple[Any, ...]:
    records = tuple(values.tolist())
    if not all(isinstance(record, kind) for record in records):
        raise TypeError(f"{what} must hold {kind.__name__} records")
    return records


class Assistant:
    """The assistant task type: one answer per question, assessed on the host."""

    name = ASSISTANT
    config: type[TaskConfig] = AssistantConfig
    #: The fields of one line of the container's `answers.jsonl`.
    predictions = PredictionSchema(
        required=("row_id", "answer"), optional=("citations", "declined")
    )
    #: An answer has no (label, prediction) cells: a suite sample declares its own counts.
    sample_cells: Mapping[str, tuple[Any, Any]] = MappingProxyType({})

    @property
    def vocabulary(self) -> Vocabulary:
        """The assistant's metrics (`sandbox.evaluation.assistant.VOCABULARY`), loaded on use."""
        from sandbox.evaluation.assistant import VOCABULARY

        return VOCABULARY

    def encode_labels(
        self, values: pd.Series, config: TaskConfig, *, column: str, source: str, manifest: str
    ) -> np.ndarray:
        """Refused: an assistant's label is each reference's expected facts, read as JSON Lines."""
        raise DataError(
            f"{manifest}: data.label: an assistant has no label column; its evaluation set is "
            f"JSON Lines in the references schema (`sandbox schema references`), not {source}"
        )

    def encode_supplied(
        self, values: pd.Series, *, column: str, source: str, positive: str | None
    ) -> np.ndarray:
        """Refused: an assistant's audit reads two JSON Lines files, not label columns."""
        raise DataError(
            f"{source}: an assistant is audited from two JSON Lines files: --references "
            "questions.jsonl (`sandbox schema references`) and --data answers.jsonl "
            "(`sandbox schema answers`)"
        )

    def harness_outputs(self, config: TaskConfig) -> dict[str, Any]:
        """The container writes answers.jsonl, one answer per question, within the length."""
        limit = (
            config.max_answer_chars
            if isinstance(config, AssistantConfig)
            else DEFAULT_MAX_ANSWER_CHARS
        )
        return {"answers": "answers.jsonl", "max_answer_chars": limit}

    def parse_predictions(self, frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
        """Refused: an assistant writes answers.jsonl, read with its own checks, not a table."""
        raise OutputRejected(
            f"{source}: an assistant writes /output/answers.jsonl (one JSON object a line: "
            "row_id, answer, citations, declined), not a predictions table"
        )

    def evaluate(self, outcomes: Outcomes, settings: EvaluationSettings) -> Evaluation:
        """Assess each answer against its reference, then compare the groups.

        `outcomes.labels` holds the references and `outcomes.predictions` the answers, in the
        same order; `outcomes.knowledge` the knowledge base and canaries (None: neither).
        """
        from sandbox.assistant.knowledge import no_knowledge
        from sandbox.assistant.records import Answer, Reference
        from sandbox.assistant.scoring import assess_answers
        from sandbox.evaluation.assistant import evaluate_assistant

        references: Sequence[Reference] = _records(outcomes.labels, Reference, what="labels")
        answers: Sequence[Answer] = _records(outcomes.predictions, Answer, what="predictions")
        if len(references) != len(answers):
            raise DataError(f"{len(references)} questions but {len(answers)} answers")
        for reference, answer in zip(references, answers, strict=True):
            if reference.id != answer.id:
                raise DataError(
                    f"answer {answer.id!r} is paired with question {reference.id!r}; pair "
                    "each answer with its question by id"
                )
        config = settings.config
        if isinstance(config, AssistantConfig):
            languages = config.languages
            max_chars = config.max_answer_chars
        else:  # a predictions-only audit: the languages the questions are in
            languages = tuple(dict.fromkeys(r.language for r in references))
            max_chars = DEFAULT_MAX_ANSWER_CHARS
        unknown = sorted({r.language for r in references} - set(languages))
        if unknown:
            raise DataError(
                f"questions in {', '.join(map(repr, unknown))}, which task.languages does not "
                f"list ({', '.join(languages)}); add the language or remove those questions"
            )
        knowledge = outcomes.knowledge if outcomes.knowledge is not None else no_knowledge()
        assessments = assess_answers(
            references,
            answers,
            knowledge=knowledge,
            languages=languages,
            max_answer_chars=max_chars,
        )
        return evaluate_assistant(
            assessments,
            outcomes.groups,
            references=references,
            answers=answers,
            languages=languages,
            min_group_size=settings.min_group_size,
            confidence=settings.confidence,
            seed=settings.seed,
            has_knowledge_base=knowledge.available,
            knowledge=knowledge,
            n_bootstrap=settings.n_bootstrap,
        )


ASSISTANT_TASK = register_task(Assistant())
