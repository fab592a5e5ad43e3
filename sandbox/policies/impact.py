"""Impact assessment: score the manifest's questionnaire and place the pilot at level I-IV.

Modelled on Canada's Algorithmic Impact Assessment (Directive on Automated Decision-Making):
each answer carries a risk weight; the raw score is their sum. The mitigations in place carry
their own weights; when they reach 80 % of the mitigation maximum, the raw score is lowered by
15 % (the *mitigated* score). The level is the mitigated score's share of the maximum raw score:

    up to 25 % -> I,  up to 50 % -> II,  up to 75 % -> III,  above -> IV

An unanswered question counts 0 and makes the assessment incomplete; an empty questionnaire
has no level at all (rules gated on a level then apply, to err on the side of caution).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sandbox.manifest import ImpactAssessment

__all__ = [
    "LEVELS",
    "MITIGATIONS",
    "QUESTIONS",
    "ImpactLevel",
    "ImpactResult",
    "Question",
    "assess",
    "level_rank",
]

ImpactLevel = Literal["I", "II", "III", "IV"]
LEVELS: tuple[ImpactLevel, ...] = ("I", "II", "III", "IV")
MITIGATION_SHARE = 0.8
MITIGATION_RELIEF = 0.15


@dataclass(frozen=True)
class Question:
    """One question: its manifest field, its wording, and each answer's risk weight."""

    id: str
    text: str
    weights: dict[str, int]


QUESTIONS: tuple[Question, ...] = (
    Question(
        "effect_on_residents",
        "What does the decision the system supports affect?",
        {"none": 0, "convenience": 1, "access_to_services": 3, "rights_or_livelihood": 4},
    ),
    Question(
        "reversibility",
        "Can a resident have a wrong decision undone?",
        {"reversible": 0, "reversible_with_effort": 2, "irreversible": 4},
    ),
    Question(
        "vulnerable_groups",
        "Do the residents affected include vulnerable groups?",
        {"none": 0, "some": 2, "primarily": 4},
    ),
    Question(
        "data_sensitivity",
        "What is the most sensitive data the model is trained on?",
        {"public_or_aggregate": 0, "personal": 2, "special_category": 4},
    ),
    Question(
        "automation",
        "How much of the decision does the system make itself?",
        {"informational": 0, "decision_support": 1, "partial_automation": 3, "full_automation": 4},
    ),
    Question(
        "residents_affected",
        "How many residents does it affect per year?",
        {"few": 0, "many": 1, "city_wide": 2},
    ),
)

#: Mitigation -> weight: what each lowers the risk by, in the questionnaire's units.
MITIGATIONS: dict[str, int] = {
    "human_review": 3,
    "appeal_process": 2,
    "bias_audit": 2,
    "oversight_board": 2,
    "data_minimisation": 1,
    "public_notice": 1,
    "fallback_process": 1,
    "staff_training": 1,
}


@dataclass(frozen=True, kw_only=True)
class ImpactResult:
    """The scored questionnaire: scores, level, and the answers that drove it."""

    raw_score: int
    max_raw_score: int
    mitigation_score: int
    max_mitigation_score: int
    mitigated_score: float
    level: ImpactLevel | None
    #: (question, answer, weight) of every answered question, heaviest first.
    drivers: tuple[tuple[str, str, int], ...]
    unanswered: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Every question is answered."""
        return not self.unanswered

    def evidence(self) -> dict[str, object]:
        """The result as rule evidence and report data."""
        return {
            "level": self.level,
            "raw_score": self.raw_score,
            "max_raw_score": self.max_raw_score,
            "mitigation_score": self.mitigation_score,
            "max_mitigation_score": self.max_mitigation_score,
            "mitigated_score": self.mitigated_score,
            "drivers": [{"question": q, "answer": a, "weight": w} for q, a, w in self.drivers],
            "unanswered": list(self.unanswered),
        }


def level_rank(level: ImpactLevel) -> int:
    """0 for level I up to 3 for level IV."""
    return LEVELS.index(level)


def _level(share: float) -> ImpactLevel:
    for level, upper in zip(LEVELS, (0.25, 0.5, 0.75), strict=False):
        if share <= upper:
            return level
    return "IV"


def assess(answers: ImpactAssessment) -> ImpactResult:
    """Score the questionnaire and place the pilot at an impact level."""
    drivers, unanswered = [], []
    for question in QUESTIONS:
        answer = answers[question.id]
        if answer is None:
            unanswered.append(question.id)
        else:
            drivers.append((question.id, str(answer), question.weights[str(answer)]))
    drivers.sort(key=lambda d: -d[2])
    raw = sum(weight for _, _, weight in drivers)
    max_raw = sum(max(q.weights.values()) for q in QUESTIONS)
    mitigation = sum(MITIGATIONS[m] for m in answers.mitigations)
    max_mitigation = sum(MITIGATIONS.values())
    relieved = mitigation >= MITIGATION_SHARE * max_mitigation
    mitigated = round(raw * (1 - MITIGATION_RELIEF) if relieved else float(raw), 2)
    return ImpactResult(
        raw_score=raw,
        max_raw_score=max_raw,
        mitigation_score=mitigation,
        max_mitigation_score=max_mitigation,
        mitigated_score=mitigated,
        level=_level(mitigated / max_raw) if drivers else None,
        drivers=tuple(drivers),
        unanswered=tuple(unanswered),
    )
