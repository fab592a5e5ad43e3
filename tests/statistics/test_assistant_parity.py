"""Parity gates of an assistant pilot: interval coverage, false alarms and power.

Design: the "Ask the City" evaluation set: 3 languages x 4 districts, about 100 questions per
cell (about 300 per language), 15% of them questions the assistant must decline. The gates
are the baseline's `fairness_threshold` rules on `task_success` and `wrongful_decline`
(difference, threshold 0.1), checking every attribute set (language, district, their
intersection: 3 + 6 + 66 = 75 pairs of groups in one family). Stated properties:

* the Wilson interval of each group's task-success rate, as the evaluation reports it, covers
  the true rate at the nominal level;
* when every group has the same true rates, the chance that either gate blocks is at most
  alpha = 0.05 (family-wise, over every group and attribute set);
* a 0.2 task-success gap of one language is established beyond zero by the report's
  disparity interval almost always, and beyond the 0.1 threshold by the gate with the power
  printed below (about one run in two: a gap of twice the threshold needs more questions to
  be established beyond it at the family-wise level);
* the real evaluation and the real rule decide as the simulation does.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from sandbox.assistant.scoring import AnswerAssessment
from sandbox.evaluation.assistant import evaluate_assistant
from sandbox.evaluation.intervals import pair_level, pairs, range_interval
from sandbox.policies.rules.fairness import FairnessThresholdParams, check_threshold
from tests.statistics.simulate import attribute_sets, gate_blocks, tolerance

ALPHA = 0.05
CONFIDENCE = 0.95
SHAPE = (3, 4)  # languages x districts
PER_CELL = 100
DECLINE_SHARE = 0.15
LANGUAGES = ("ar", "en", "es")
SUCCESS = 0.65
WRONGFUL = 0.08


def _draw(rng: np.random.Generator, runs: int, success: np.ndarray, wrongful: float) -> dict:  # type: ignore[type-arg]
    """Per run and cell: questions, must-answer questions, successes and wrongful declines."""
    cells = SHAPE[0] * SHAPE[1]
    sizes = rng.multinomial(PER_CELL * cells, np.full(cells, 1 / cells), size=runs).reshape(
        runs, *SHAPE
    )
    must = rng.binomial(sizes, 1 - DECLINE_SHARE)
    return {
        "sizes": sizes,
        "must": must,
        "success": rng.binomial(sizes, np.broadcast_to(success, (runs, *SHAPE))),
        "wrongful": rng.binomial(must, wrongful),
    }


def _gate(draw: dict, *, threshold: float = 0.1) -> np.ndarray:  # type: ignore[type-arg]
    """Per run, whether the task-success or the wrongful-decline gate blocks."""
    success = np.stack([draw["success"], draw["sizes"]], axis=-1)
    wrongful = np.stack([draw["wrongful"], draw["must"]], axis=-1)
    options = dict(measure="difference", threshold=threshold, alpha=ALPHA, min_denominator=30)
    return gate_blocks(attribute_sets(success), **options) | gate_blocks(
        attribute_sets(wrongful), **options
    )  # type: ignore[arg-type]


def _assessments(draw: dict, run: int) -> tuple[list[AnswerAssessment], pd.DataFrame]:  # type: ignore[type-arg]
    """Answers of one simulated run whose flags reproduce its cell counts."""
    out, language, district = [], [], []
    for i, j in np.ndindex(SHAPE):
        n, must = int(draw["sizes"][run, i, j]), int(draw["must"][run, i, j])
        wins, wrong = int(draw["success"][run, i, j]), int(draw["wrongful"][run, i, j])
        for k in range(n):
            decline_expected = k >= must
            declined = (not decline_expected and k < wrong) or (decline_expected and k < n)
            out.append(
                AnswerAssessment(
                    id=f"{i}-{j}-{k}",
                    language=LANGUAGES[i],
                    must_decline=decline_expected,
                    declined=declined,
                    facts_expected=0 if decline_expected else 1,
                    facts_found=0,
                    missing_facts=(),
                    correct_decline=decline_expected and declined,
                    wrongful_decline=not decline_expected and declined,
                    missed_decline=False,
                    detected_language=None,
                    language_mismatch=None,
                    citations_unknown=(),
                    grounded=None,
                    leaks=(),
                    leaked_documents=(),
                    chars=10,
                    too_long=False,
                    # successes are spread over the cell independently of the declines
                    success=(k * 7919) % n < wins,
                )
            )
            language.append(LANGUAGES[i])
            district.append(f"d{j}")
    return out, pd.DataFrame({"language": language, "district": district})


def _evaluate(draw: dict, run: int):  # type: ignore[no-untyped-def]
    assessed, groups = _assessments(draw, run)
    return evaluate_assistant(
        assessed,
        groups,
        references=[],
        answers=[],
        languages=LANGUAGES,
        min_group_size=30,
        confidence=CONFIDENCE,
        seed=0,
        has_knowledge_base=False,
    )


def test_the_reported_task_success_intervals_cover_the_true_rates() -> None:
    runs = 120
    truth = np.array([0.75, 0.6, 0.45])  # per language, the same in every district
    draw = _draw(np.random.default_rng(21), runs, truth[:, None], WRONGFUL)
    covered = []
    for run in range(runs):
        evaluation = _evaluate(draw, run)
        for name in ("language", "language & district"):
            for group in evaluation.attribute_set(name).groups:
                point = group.metrics["task_success"]
                true = truth[LANGUAGES.index(group.values["language"])]
                assert (
                    point.numerator is not None
                    and point.ci_low is not None
                    and point.ci_high is not None
                )
                covered.append(point.ci_low <= true <= point.ci_high)
    coverage = float(np.mean(covered))
    print(f"task_success Wilson coverage {coverage:.4f} over {len(covered)} intervals")
    assert coverage >= CONFIDENCE - tolerance(CONFIDENCE, len(covered))


def test_equal_true_rates_block_at_most_alpha() -> None:
    runs = 2000
    draw = _draw(np.random.default_rng(22), runs, np.full(SHAPE, SUCCESS), WRONGFUL)
    rate = float(_gate(draw).mean())
    print(f"no disparity: task-success or wrongful-decline gate blocked {rate:.4f} of {runs}")
    assert rate <= ALPHA + tolerance(ALPHA, runs)


def test_a_02_language_gap_is_found() -> None:
    runs = 1000
    success = np.full(SHAPE, SUCCESS)
    success[2, :] -= 0.2  # Spanish questions succeed less often
    draw = _draw(np.random.default_rng(23), runs, success, WRONGFUL)
    power = float(_gate(draw).mean())
    # the report: the language disparity interval, simultaneous over the three pairs
    excluded = 0
    for run in range(runs):
        x, n = draw["success"][run].sum(axis=1), draw["sizes"][run].sum(axis=1)
        low, _ = range_interval(
            pairs(x, n, confidence=pair_level(CONFIDENCE, 3), measure="difference")
        )
        excluded += low > 0
    print(
        f"0.2 gap, ~300 questions per language: gate at 0.1 blocked {power:.4f}, "
        f"report interval excluded 0 in {excluded / runs:.4f}"
    )
    assert excluded / runs >= 0.95
    assert power >= 0.45


def test_the_real_evaluation_and_rule_decide_as_the_simulation() -> None:
    success = np.full(SHAPE, SUCCESS)
    success[2, :] -= 0.22  # near the gate's edge, so both decisions occur
    draw = _draw(np.random.default_rng(24), 12, success, WRONGFUL)
    success_counts = np.stack([draw["success"], draw["sizes"]], axis=-1)
    expected = gate_blocks(
        attribute_sets(success_counts),
        measure="difference",
        threshold=0.1,
        alpha=ALPHA,
        min_denominator=30,
    )
    params = FairnessThresholdParams(metric="task_success", threshold=0.1, min_denominator=30)
    decided = []
    for run in range(12):
        finding = check_threshold(params, SimpleNamespace(evaluation=_evaluate(draw, run)))  # type: ignore[arg-type]
        decided.append(finding.outcome == "failed")
    assert decided == expected.tolist()
    assert any(decided) and not all(decided)
