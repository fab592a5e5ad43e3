"""An assistant's evaluation set on the host: its references, their groups, matched answers.

A pilot run and a predictions-only audit read the same references and pair them with answers
the same way, so both give the same numbers for the same answers. Every problem is a
DataError naming the file and the fix: too few questions, a group attribute that is not a
plain value, an attribute with a single group, answers missing or extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sandbox.assistant.records import Answer, Reference
from sandbox.data.adequacy import MIN_EVALUATION_ROWS, Inputs, check_groups
from sandbox.data.table import group_columns
from sandbox.errors import DataError
from sandbox.tasks.base import Outcomes

__all__ = ["EvaluationSet", "evaluation_set", "match_answers", "outcomes"]

#: The reference field every assistant evaluation groups by.
LANGUAGE = "language"
_SHOWN_IDS = 5


@dataclass(frozen=True, kw_only=True)
class EvaluationSet:
    """The references, in file order, and their group attributes (aligned, as text)."""

    references: tuple[Reference, ...]
    groups: pd.DataFrame
    source: str

    @property
    def languages(self) -> tuple[str, ...]:
        """The questions' languages, in order of first appearance."""
        return tuple(dict.fromkeys(r.language for r in self.references))


def _attribute(reference: Reference, name: str, source: str) -> Any:
    """A reference's value of one group attribute: a plain value or None (missing)."""
    value = reference.language if name == LANGUAGE else (reference.model_extra or {}).get(name)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise DataError(
        f"{source}: reference {reference.id!r}: field {name!r} is a {type(value).__name__}; a "
        "group attribute must be a plain value (text, number or true/false)"
    )


def evaluation_set(
    references: Sequence[Reference], sensitive: Sequence[str], *, source: str, fix_field: str
) -> EvaluationSet:
    """The references with their groups, checked as enough to assess; DataError otherwise.

    `fix_field` names where the group attributes were chosen (``pilot.yaml: data.sensitive``
    or ``--sensitive``) in the messages.
    """
    if len(references) < MIN_EVALUATION_ROWS:
        raise DataError(
            f"{source}: {len(references)} questions; at least {MIN_EVALUATION_ROWS} are needed "
            "before quality or parity can be assessed; add questions to the evaluation set"
        )
    frame = pd.DataFrame(
        {name: [_attribute(r, name, source) for r in references] for name in sensitive}
    )
    groups = group_columns(
        frame,
        list(sensitive),
        source=source,
        fix="rename that value in the file, or leave the field out where it is missing",
    )
    inputs = Inputs(
        source=source,
        label="expected_facts",
        sensitive={c: f"{fix_field}[{i}]" for i, c in enumerate(sensitive)},
        more_rows="add questions to the evaluation set",
        more_of_class="",
        one_group="leave it out of the group attributes, or add questions of other groups",
    )
    check_groups(groups, inputs, rows="questions")
    return EvaluationSet(references=tuple(references), groups=groups, source=source)


def _some(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in ids[:_SHOWN_IDS])
    return shown + (", ..." if len(ids) > _SHOWN_IDS else "")


def match_answers(
    questions: EvaluationSet, answers: Sequence[Answer], *, source: str
) -> tuple[Answer, ...]:
    """The answers in the references' order; DataError when any is missing or unknown."""
    by_id: Mapping[str, Answer] = {a.id: a for a in answers}
    if len(by_id) != len(answers):
        raise DataError(f"{source}: an id appears on more than one line; answer each question once")
    wanted = [r.id for r in questions.references]
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise DataError(
            f"{source}: no answer for {len(missing)} of the {len(wanted)} questions of "
            f"{questions.source} (ids {_some(missing)}); export every question's answer (a "
            "question the assistant did not answer is an answer with declined: true)"
        )
    unknown = sorted(set(by_id) - set(wanted))
    if unknown:
        raise DataError(
            f"{source}: {len(unknown)} answers name ids that are not questions of "
            f"{questions.source} (ids {_some(unknown)}); remove them or add their questions"
        )
    return tuple(by_id[i] for i in wanted)


def outcomes(questions: EvaluationSet, answers: Sequence[Answer], knowledge: Any) -> Outcomes:
    """References and answers (same order) as the task type's outcomes."""
    labels = np.empty(len(questions.references), dtype=object)
    labels[:] = questions.references
    predicted = np.empty(len(answers), dtype=object)
    predicted[:] = list(answers)
    return Outcomes(
        labels=labels,
        predictions=predicted,
        scores=None,
        groups=questions.groups.reset_index(drop=True),
        knowledge=knowledge,
    )
