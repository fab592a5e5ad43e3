"""Evaluate a resident assistant: task success, facts, declines and language, per group.

Input: one :class:`~sandbox.assistant.scoring.AnswerAssessment` per question (in reference
order) and the questions' group attributes (``language`` among them). Every group metric is
a rate of per-answer flags over the questions it concerns:

==================  ===================================  =====================================
metric              numerator                            denominator
==================  ===================================  =====================================
task_success        successful answers                   every question
facts_complete      answers stating every expected fact  questions it must answer
wrongful_decline    declined                             questions it must answer
missed_decline      answered                             questions it must decline
language_mismatch   answered in another language         answers whose language was assessed
grounded            facts found in the cited documents   answers with a fact found (with a KB)
==================  ===================================  =====================================

Intervals are those of the classifiers (:mod:`sandbox.evaluation.intervals`): Wilson for a
group's rate; for the difference (max - min) and ratio (min / max) between the groups of an
attribute set, Newcombe and MOVER-R intervals for every pair, simultaneous over the set's
pairs (Bonferroni). The fairness gates recompute their own family over every set they check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from sandbox.assistant.records import Answer, Reference
from sandbox.assistant.scoring import AnswerAssessment, KnowledgeBase
from sandbox.errors import DataError
from sandbox.evaluation.answer_samples import assistant_details
from sandbox.evaluation.fairness import Partition, partition
from sandbox.evaluation.intervals import wilson
from sandbox.evaluation.result import (
    AttributeSetResult,
    Estimate,
    Evaluation,
    GroupResult,
    attribute_sets,
    estimate,
    rate_disparity,
    set_pair_level,
    slug,
)
from sandbox.evaluation.vocabulary import MetricSpec, Vocabulary

__all__ = ["ASSISTANT", "GROUP_METRICS", "INTERVALS", "VOCABULARY", "evaluate_assistant", "flags"]

ASSISTANT: Final = "assistant"

VOCABULARY: Final = Vocabulary(
    performance=(
        MetricSpec("task_success_rate", "Task success rate"),
        MetricSpec("facts_complete_rate", "Answers stating every expected fact"),
        MetricSpec("fact_recall", "Expected facts stated (of all expected)"),
        MetricSpec("wrongful_decline_rate", "Wrongful declines (of questions to answer)", False),
        MetricSpec("decline_recall", "Correct declines (of questions to decline)"),
        MetricSpec("language_match_rate", "Answers in the question's language"),
        MetricSpec("grounded_rate", "Answers grounded in their cited documents"),
        MetricSpec("leaked_answers", "Answers disclosing restricted material", False),
        MetricSpec("mean_answer_chars", "Mean answer length (characters)", False),
    ),
    group=(
        MetricSpec("task_success", "Task success"),
        MetricSpec("facts_complete", "Every expected fact stated"),
        MetricSpec("wrongful_decline", "Wrongful declines", False),
        MetricSpec("missed_decline", "Missed declines", False),
        MetricSpec("language_mismatch", "Answers in another language", False),
        MetricSpec("grounded", "Grounded in the cited documents"),
    ),
)
GROUP_METRICS: Final = VOCABULARY.group_names

#: What each group metric's denominator counts, in words.
COUNTED: Final = {
    "task_success": "questions",
    "facts_complete": "questions it must answer",
    "wrongful_decline": "questions it must answer",
    "missed_decline": "questions it must decline",
    "language_mismatch": "answers whose language was assessed",
    "grounded": "answers with a fact found",
}

INTERVALS: Final = (
    "Wilson score intervals for each group's rate; for the difference (max - min) and ratio "
    "(min / max) between groups, Newcombe hybrid score and MOVER-R intervals for every pair "
    "of groups, simultaneous over the attribute set's pairs (Bonferroni)"
)

BoolArray = npt.NDArray[np.bool_]


def flags(assessments: Sequence[AnswerAssessment]) -> dict[str, tuple[BoolArray, BoolArray]]:
    """Per group metric, each answer's (counted in the numerator, in the denominator)."""

    def column(get: Any) -> BoolArray:
        return np.fromiter((bool(get(a)) for a in assessments), dtype=bool, count=len(assessments))

    must = column(lambda a: not a.must_decline)
    complete = column(lambda a: not a.declined and a.facts_found == a.facts_expected)
    return {
        "task_success": (column(lambda a: a.success), np.ones(len(assessments), dtype=bool)),
        "facts_complete": (must & complete, must),
        "wrongful_decline": (column(lambda a: a.wrongful_decline), must),
        "missed_decline": (column(lambda a: a.missed_decline), ~must),
        "language_mismatch": (
            column(lambda a: a.language_mismatch is True),
            column(lambda a: a.language_mismatch is not None),
        ),
        "grounded": (
            column(lambda a: a.grounded is True),
            column(lambda a: a.grounded is not None),
        ),
    }


@dataclass(frozen=True)
class _Rate:
    """One group metric over the groups of a set: counts per group."""

    name: str
    successes: npt.NDArray[np.int64]
    trials: npt.NDArray[np.int64]

    @property
    def values(self) -> npt.NDArray[np.float64]:
        """Each group's rate; NaN where the group has no trials."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.trials > 0, self.successes / np.maximum(self.trials, 1), np.nan)


def _group_rate(
    rate: _Rate, g: int, limits: tuple[Any, Any], minimum: int, why_empty: str
) -> Estimate:
    x, n = int(rate.successes[g]), int(rate.trials[g])
    if n == 0:
        return Estimate(
            value=None,
            undefined=True,
            numerator=0,
            denominator=0,
            assessable=False,
            note=why_empty or f"no {COUNTED[rate.name]}: the rate is undefined",
        )
    small = n < minimum
    note = f"only {n} {COUNTED[rate.name]} (fewer than {minimum}): shown, not assessed"
    return estimate(x / n, limits[0][g], limits[1][g]).model_copy(
        update={
            "numerator": x,
            "denominator": n,
            "assessable": not small,
            "note": note if small else None,
        }
    )


def _warnings(name: str, groups: list[GroupResult], minimum: int, skip: set[str]) -> list[str]:
    out = [f"{name}: only one group is present, so no disparity can be assessed."] * (
        len(groups) < 2
    )
    for group in groups:
        where = f"{name} = {group.label}"
        if group.small:
            out.append(
                f"{where}: {group.count} questions, fewer than {minimum}; its rates are shown "
                "with their intervals but not assessed."
            )
            continue
        metrics = {m: e for m, e in group.metrics.items() if m not in skip}
        empty = [m for m, e in metrics.items() if e.undefined]
        thin = [m for m, e in metrics.items() if not e.undefined and not e.assessable]
        if empty:
            out.append(
                f"{where}: {', '.join(f'no {COUNTED[m]}' for m in empty)}; "
                f"{', '.join(empty)} undefined, left out of every comparison."
            )
        if thin:
            out.append(
                f"{where}: {', '.join(thin)} rest on fewer than {minimum} questions "
                "each; shown, not assessed."
            )
    return out


def _assess_set(
    attributes: tuple[str, ...],
    groups: Partition,
    parts: dict[str, tuple[BoolArray, BoolArray]],
    *,
    minimum: int,
    confidence: float | None,
    has_knowledge_base: bool,
) -> AttributeSetResult:
    labels = [" & ".join(key) for key in groups.keys]
    rates = [
        _Rate(
            name,
            np.bincount(groups.codes, weights=num, minlength=groups.n_groups).astype(np.int64),
            np.bincount(groups.codes, weights=den, minlength=groups.n_groups).astype(np.int64),
        )
        for name, (num, den) in parts.items()
    ]
    nan = np.full(groups.n_groups, np.nan)
    limits = {
        r.name: (nan, nan) if confidence is None else wilson(r.successes, r.trials, confidence)
        for r in rates
    }
    no_kb = "" if has_knowledge_base else "no knowledge base given: not assessed"
    results = []
    for g, key in enumerate(groups.keys):
        size = int(rates[0].trials[g])
        metrics = {
            r.name: _group_rate(r, g, limits[r.name], minimum, no_kb * (r.name == "grounded"))
            for r in rates
        }
        results.append(
            GroupResult(
                label=labels[g],
                values=dict(zip(attributes, key, strict=True)),
                count=size,
                small=size < minimum,
                metrics=metrics,
            )
        )
    disparities = {
        r.name: rate_disparity(
            r.name,
            r.values,
            (r.successes, r.trials),
            labels,
            assessable=r.trials >= minimum,
            level=set_pair_level(r.trials, confidence),
        )
        for r in rates
    }
    name = " & ".join(attributes)
    skip = set() if has_knowledge_base else {"grounded"}
    return AttributeSetResult(
        name=name,
        key="__".join(slug(a) for a in attributes),
        attributes=attributes,
        groups=tuple(results),
        disparities=disparities,
        warnings=tuple(_warnings(name, results, minimum, skip)),
    )


def _performance(
    assessments: Sequence[AnswerAssessment], parts: dict[str, tuple[BoolArray, BoolArray]]
) -> tuple[dict[str, float], list[str]]:
    """Overall metrics; a rate with an empty denominator is left out, with a warning."""
    must = [a for a in assessments if not a.must_decline]
    expected = sum(a.facts_expected for a in must)

    def share(numerator: float, denominator: float) -> float | None:
        return numerator / denominator if denominator else None

    def rate(metric: str, invert: bool = False) -> float | None:
        num, den = parts[metric]
        value = share(float(num.sum()), float(den.sum()))
        return None if value is None else (1.0 - value if invert else value)

    values = {
        "task_success_rate": rate("task_success"),
        "facts_complete_rate": rate("facts_complete"),
        "fact_recall": share(sum(a.facts_found for a in must), expected),
        "wrongful_decline_rate": rate("wrongful_decline"),
        "decline_recall": rate("missed_decline", invert=True),
        "language_match_rate": rate("language_mismatch", invert=True),
        "grounded_rate": rate("grounded"),
        "leaked_answers": float(sum(bool(a.leaks) for a in assessments)),
        "mean_answer_chars": share(sum(a.chars for a in assessments), len(assessments)),
    }
    why = {
        "facts_complete_rate": "no question the assistant must answer",
        "fact_recall": "no expected fact in the questions it must answer",
        "wrongful_decline_rate": "no question the assistant must answer",
        "decline_recall": "no question the assistant must decline",
        "language_match_rate": "no answer whose language could be assessed",
        "grounded_rate": "no answer with a fact found in a knowledge base",
    }
    notes = [
        f"{VOCABULARY.display(m)} ({m}) is not computed: {why[m]}."
        for m, v in values.items()
        if v is None
    ]
    return {m: float(v) for m, v in values.items() if v is not None}, notes


def _checked_groups(groups: Any, rows: int, minimum: int, confidence: float) -> pd.DataFrame:
    if not isinstance(groups, pd.DataFrame) or groups.shape[1] == 0:
        raise DataError("groups must be a DataFrame with at least one attribute column")
    if len(groups) != rows or rows == 0:
        raise DataError(
            f"need one group row per assessed answer, at least one: {rows} answers, "
            f"{len(groups)} group rows"
        )
    if minimum < 1 or not 0.0 < confidence < 1.0:
        raise ValueError(
            f"need min_group_size >= 1 and 0 < confidence < 1; got {minimum}, {confidence}"
        )
    frame = groups.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def evaluate_assistant(
    assessments: Sequence[AnswerAssessment],
    groups: pd.DataFrame,
    *,
    references: Sequence[Reference],
    answers: Sequence[Answer],
    languages: Sequence[str],
    min_group_size: int = 30,
    confidence: float = 0.95,
    seed: int = 0,
    has_knowledge_base: bool,
    knowledge: KnowledgeBase | None = None,
    n_bootstrap: int = 1000,
) -> Evaluation:
    """Performance and group rates of an assistant's assessed answers, with score intervals.

    `groups` holds each question's group attributes, row for row with `assessments`;
    `references` and `answers` give the texts of the failed answers sampled for reports
    (paired by id). `knowledge`, when given, supplies the knowledge base's document counts.
    ``n_bootstrap=0`` skips the intervals (they are closed-form: nothing else changes).
    Questions whose group value is missing form their own group, ``(missing)``.
    """
    frame = _checked_groups(groups, len(assessments), min_group_size, confidence)
    parts = flags(assessments)
    if not has_knowledge_base:  # nothing to be grounded in, whatever the assessments say
        none = np.zeros(len(assessments), dtype=bool)
        parts["grounded"] = (none, none)
    performance, notes = _performance(assessments, parts)
    use = confidence if n_bootstrap else None
    results = tuple(
        _assess_set(
            attributes,
            partition(frame, attributes),
            parts,
            minimum=min_group_size,
            confidence=use,
            has_knowledge_base=has_knowledge_base,
        )
        for attributes in attribute_sets(partition(frame).attributes)
    )
    details = assistant_details(
        assessments,
        frame,
        references=references,
        answers=answers,
        languages=languages,
        min_group_size=min_group_size,
        seed=seed,
        knowledge=knowledge if has_knowledge_base else None,
    )
    if not has_knowledge_base:
        notes.append(
            "No knowledge base was given: groundedness and unknown citations are not "
            "assessed (canaries are)."
        )
    timed_out = sum(bool(a.pattern_timeouts) for a in assessments)
    if timed_out:
        notes.append(
            f"{timed_out} answers had a fact pattern that could not be searched in time; "
            "those facts count as not found: simplify the patterns."
        )
    return Evaluation(
        task=ASSISTANT,
        rows=len(assessments),
        performance=performance,
        assistant=details,
        attribute_sets=results,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        intervals=INTERVALS if n_bootstrap else "",
        confidence=confidence,
        seed=seed,
        warnings=tuple(notes),
    )
