"""Suite samples of assistant pilots: questions and answers rebuilt from each group's counts.

An assistant's outcomes are records, not (label, prediction) values, so its sample declares
each cell as a question (a reference without its id and group attributes) and the answer
given to it, in the suite's `cells: {name: [label, prediction]}` form:

    cells:
      en_correct:
        - {question: When is the water bill due?, expected_facts: [15th]}
        - {answer: It is due on the 15th of each month., citations: [en/water-bills.md]}
    groups:
      - {language: en, en_correct: 80, en_declined: 20}

Each row becomes a reference with the id ``<cell>-<n>`` and the group's values as its group
attributes, paired with an answer under the same id. The sample's knowledge base and canaries
are read as a run reads them (`sandbox.assistant.knowledge`), and the references go through the
same checks and grouping as a run's evaluation set (`sandbox.assistant.evaluation_set`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sandbox.errors import PolicyPackError
from sandbox.manifest import format_location
from sandbox.tasks import Outcomes

__all__ = ["MAX_SAMPLE_ROWS", "assistant_outcomes"]

#: A suite sample stands for an evaluation set; more rows than this is a mistake in its counts.
MAX_SAMPLE_ROWS = 20_000


def assistant_outcomes(raw: Any, pilot_dir: Path, manifest: Any, *, source: Path) -> Outcomes:
    """The references, answers, groups and knowledge of an assistant sample's evaluation.yaml."""
    from sandbox.assistant.evaluation_set import evaluation_set, outcomes
    from sandbox.assistant.knowledge import load_knowledge
    from sandbox.assistant.records import Answer, Reference

    if not isinstance(raw, Mapping) or not isinstance(raw.get("cells"), Mapping):
        raise PolicyPackError(
            f"{source}: cells: an assistant sample declares each cell as "
            "[question, answer]: {name: [{question: ..., expected_facts: [...]}, {answer: ...}]}"
        )
    cells = {str(name): _cell(source, str(name), value) for name, value in raw["cells"].items()}
    groups = raw.get("groups")
    if not isinstance(groups, list) or not groups:
        raise PolicyPackError(f"{source}: groups: expected a list of groups with counts by cell")
    references: list[Any] = []
    answers: list[Any] = []
    for index, group in enumerate(groups):
        where = f"{source}: groups[{index}]"
        if not isinstance(group, Mapping):
            raise PolicyPackError(f"{where}: expected a mapping of attributes and cell counts")
        values = {str(k): str(v) for k, v in group.items() if k not in cells}
        for name, (question, answer) in cells.items():
            count = group.get(name, 0)
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise PolicyPackError(f"{where}.{name}: expected a count (0 or more)")
            if len(references) + count > MAX_SAMPLE_ROWS:
                raise PolicyPackError(
                    f"{where}.{name}: more than {MAX_SAMPLE_ROWS:,} questions in the sample; "
                    "lower the counts"
                )
            for _ in range(count):
                row_id = f"{name}-{len(references)}"
                fields = {**question, **values, "id": row_id}
                references.append(_record(Reference, fields, f"{source}: cells.{name}[0]"))
                answers.append(
                    _record(Answer, {**answer, "id": row_id}, f"{source}: cells.{name}[1]")
                )
    config = manifest.task
    kb = config.knowledge_base
    knowledge = load_knowledge(
        pilot_dir / kb.path,
        restricted_globs=kb.restricted,
        canaries_file=pilot_dir / config.canaries if config.canaries else None,
        where=f"{pilot_dir / 'pilot.yaml'}: task.knowledge_base.path",
    )
    questions = evaluation_set(
        references,
        manifest.data.sensitive,
        source=str(source),
        fix_field=f"{pilot_dir / 'pilot.yaml'}: data.sensitive",
    )
    return outcomes(questions, answers, knowledge)


def _cell(source: Path, name: str, value: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A cell's question fields and answer fields; ids come from the suite, not the cell."""
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(part, Mapping) for part in value)
    ):
        raise PolicyPackError(
            f"{source}: cells.{name}: expected [question, answer], two mappings: "
            "[{question: ..., expected_facts: [...]}, {answer: ..., citations: [...]}]"
        )
    question, answer = (dict(part) for part in value)
    for part, fields in (("0", question), ("1", answer)):
        if "id" in fields:
            raise PolicyPackError(
                f"{source}: cells.{name}[{part}].id: ids are given per row by the suite; remove id"
            )
    return question, answer


def _record(model: type[BaseModel], fields: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise PolicyPackError(f"{where}.{format_location(first['loc'])}: {first['msg']}") from None
