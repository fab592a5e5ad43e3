"""The per-class fairness gate of multiclass tasks: one class rate, every class, every set.

`class_fairness_threshold` bounds the between-group difference (or ratio) of a per-class rate
(each class's recall, or the share predicted as each class) in every attribute set. It decides
as `fairness_threshold` does, with one family for all of it: every pair of groups, of every
class, in every checked attribute set, gets a score interval at level 1 - alpha/M, M the number
of those pairs, and the rule fails only when some pair's interval lies entirely beyond the
threshold. When every true gap is within the threshold, the chance of any false alarm is at
most alpha (the union bound), however many classes and groups there are; the simulation tests
measure it (``docs/statistics.md``). A class's recall in a group enters only with enough actual
members of the class in that group (`min_denominator`, floored by the evaluation's minimum).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from pydantic import Field

from sandbox.evaluation.intervals import pair_level
from sandbox.policies.rules.base import Finding, Params, RuleContext
from sandbox.policies.rules.disparity import Comparison, comparison, decide_set

__all__ = ["ClassFairnessParams", "check_class_threshold"]


class ClassFairnessParams(Params):
    """A bound on the between-group disparity of a per-class rate, for every class."""

    metric: Literal["recall", "selection_rate"] = Field(
        default="recall",
        description="recall: each class's recall (one-vs-rest TPR); selection_rate: the share "
        "of each group predicted as each class.",
    )
    measure: Literal["difference", "ratio"] = "difference"
    threshold: float = Field(ge=0)
    classes: tuple[str, ...] = Field(
        default=(), description="Class values to check; empty means every class."
    )
    attributes: tuple[str, ...] = Field(
        default=(), description="Attribute sets to check; empty means all, intersections too."
    )
    alpha: float | None = Field(
        default=None, gt=0, lt=0.5, description="Default: 1 - evaluation.confidence."
    )
    min_denominator: int | None = Field(
        default=None,
        ge=1,
        description="Smallest denominator (rows of the class for recall, rows for the share "
        "predicted) a group's rate needs to enter the decision. Default, and floor: the "
        "evaluation's min_group_size.",
    )
    inconclusive: Literal["pass", "warn"] = Field(
        default="pass",
        description="What to do when a point estimate lies beyond the threshold but no pair's "
        "interval does: pass (no false-alarm guarantee for such warnings) or warn.",
    )

    @property
    def decide_on(self) -> str:
        """Class gates always decide on intervals (what `decide_set` reads)."""
        return "interval"


def _comparisons(p: ClassFairnessParams, evaluation: Any, minimum: int) -> list[Comparison]:
    """Every (class, attribute set) the rule checks, named 'set: class'."""
    matrix = evaluation.confusion_matrix
    out = []
    wanted = set(p.classes) or set(matrix.classes)
    for value, key in zip(matrix.classes, matrix.keys, strict=True):
        if value not in wanted:
            continue
        for result in evaluation.attribute_sets:
            if p.attributes and not set(result.attributes) <= set(p.attributes):
                continue
            found = comparison(result, f"{p.metric}.{key}", p.measure, minimum)
            out.append(replace(found, name=f"{result.name}: class {value!r}"))
    return out


def check_class_threshold(p: ClassFairnessParams, ctx: RuleContext) -> Finding:
    """No class's rate differs across groups beyond the threshold, family-wise over classes."""
    evaluation = ctx.evaluation
    base = {"metric": p.metric, "measure": p.measure, "threshold": p.threshold}
    if getattr(evaluation, "confusion_matrix", None) is None:
        return Finding(
            "not_applicable", f"a {evaluation.task} evaluation has no per-class rates", base
        )
    unknown = sorted(set(p.classes) - set(evaluation.confusion_matrix.classes))
    minimum = max(p.min_denominator or 0, int(evaluation.min_group_size))
    compared = _comparisons(p, evaluation, minimum)
    sets = [c for c in compared if c.value is not None]
    alpha = p.alpha if p.alpha is not None else round(1.0 - evaluation.confidence, 10)
    m = sum(c.pairs for c in sets)
    level = pair_level(1.0 - alpha, m)
    rows = sorted(
        (decide_set(c, p, level) for c in sets),
        key=lambda r: -r["value"] if p.measure == "difference" else r["value"],
    )
    beyond = [r for r in rows if r["decision"] == "beyond"]
    unsettled = [r for r in rows if r["decision"] == "inconclusive" and r["point_beyond"]]
    worst = (beyond or unsettled or rows or [{}])[0]
    evidence = {
        **base,
        "value": worst.get("value"),
        "ci_low": worst.get("ci_low"),
        "ci_high": worst.get("ci_high"),
        "alpha": alpha,
        "pair_confidence": round(level, 8),
        "comparisons": m,
        "min_denominator": minimum,
        "checked": rows,
        "breaches": beyond,
        "not_compared": [c.name for c in compared if c.value is None],
        "classes_not_found": unknown,
    }
    name = "recall" if p.metric == "recall" else "share predicted"
    bound = "<=" if p.measure == "difference" else ">="
    if not rows:
        return Finding(
            "not_applicable",
            f"no class has two groups whose {name} rests on at least {minimum} cases",
            evidence,
        )
    scope = f"{1 - alpha:.0%} simultaneous over {m} pairs of groups in {len(rows)} class and "
    scope += "attribute-set combinations"
    shown = f"{worst['value']:.3f} for {worst['attribute_set']} [{_fmt(worst['ci_low'])}, "
    shown += f"{_fmt(worst['ci_high'])}]"
    if beyond:
        pair = worst["established"][0]
        return Finding(
            "failed",
            f"disparity observed: {name} {p.measure} {shown}, between {pair['higher']} and "
            f"{pair['lower']}, beyond the allowed {bound} {p.threshold} over its whole "
            f"interval ({scope})",
            evidence,
        )
    if unsettled:
        text = f"no {name} {p.measure} beyond {p.threshold} established ({scope}); the largest "
        text += f"observed, {shown}, is not settled by these data"
        if p.inconclusive == "warn":
            return Finding("failed", f"disparity observed: {text}", evidence, severity="warn")
        return Finding("passed", text, evidence)
    return Finding(
        "passed",
        f"{name} {p.measure} {bound} {p.threshold} for every class in all attribute sets "
        f"({len(rows)} combinations)",
        evidence,
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
