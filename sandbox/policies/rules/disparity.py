"""One attribute set's disparity among the groups that may decide a fairness gate.

:func:`comparison` keeps the groups whose rate rests on enough cases; :func:`decide_set` gives
every pair of them a score interval at the gate's per-pair level and says whether the set's
disparity is established beyond the threshold, shown within it, or not settled by the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sandbox.evaluation.intervals import pairs, range_interval

__all__ = ["Comparison", "comparison", "decide_set"]


@dataclass(frozen=True)
class Comparison:
    """One attribute set's groups whose rate may decide, and the observed disparity."""

    name: str
    labels: tuple[str, ...]
    successes: tuple[int, ...]
    trials: tuple[int, ...]
    value: float | None
    highest_group: str | None
    lowest_group: str | None
    left_out: tuple[dict[str, Any], ...]

    @property
    def pairs(self) -> int:
        """Pairs of groups compared."""
        return len(self.labels) * (len(self.labels) - 1) // 2


def comparison(result: Any, metric: str, measure: str, minimum: int) -> Comparison:
    """The disparity of `metric` among the groups whose rate rests on enough cases.

    A TPR resting on 9 actual positives says little, and one with no actual positives says
    nothing: such groups stay in the report, flagged, and are listed here as left out.
    """
    kept: list[tuple[float, str, int, int]] = []
    left_out: list[dict[str, Any]] = []
    for group in result.groups:
        rate = group.metrics[metric]
        count = rate.denominator if rate.denominator is not None else group.count
        if rate.value is None or count < minimum:
            reason = rate.note or f"{count} rows, fewer than {minimum}"
            if rate.value is not None and rate.note is None:
                reason = f"{count} in the denominator, fewer than {minimum}"
            left_out.append({"group": group.label, "denominator": count, "reason": reason})
            continue
        kept.append((rate.value, group.label, rate.numerator or 0, count))
    value = high = low = None
    if len(kept) >= 2:
        high_item, low_item = max(kept), min(kept)
        high, low = high_item[1], low_item[1]
        if measure == "difference":
            value = high_item[0] - low_item[0]
        elif high_item[0] > 0:
            value = low_item[0] / high_item[0]
    return Comparison(
        name=result.name,
        labels=tuple(k[1] for k in kept),
        successes=tuple(k[2] for k in kept),
        trials=tuple(k[3] for k in kept),
        value=value,
        highest_group=high,
        lowest_group=low,
        left_out=tuple(left_out),
    )


def _beyond(value: float, threshold: float, measure: str) -> bool:
    """A difference must stay at or below the threshold; a ratio at or above it."""
    return value > threshold if measure == "difference" else value < threshold


def decide_set(c: Comparison, p: Any, level: float) -> dict[str, Any]:
    """One attribute set's evidence: observed disparity, simultaneous interval, decision."""
    found = pairs(c.successes, c.trials, confidence=level, measure=p.measure)
    low, high = range_interval(found)
    far = found.ci_low if p.measure == "difference" else found.ci_high
    established = np.flatnonzero(_beyond_array(far, p.threshold, p.measure))
    value = c.value if c.value is not None else float("nan")
    point_beyond = c.value is not None and _beyond(value, p.threshold, p.measure)
    if p.decide_on == "point":
        decision = "beyond" if point_beyond else "within"
    elif len(established):
        decision = "beyond"
    else:
        near = high if p.measure == "difference" else low
        decision = (
            "inconclusive" if point_beyond or _beyond(near, p.threshold, p.measure) else "within"
        )
    order = np.argsort(-far if p.measure == "difference" else far)
    shown = [k for k in order if k in set(established.tolist())][:5]
    return {
        "attribute_set": c.name,
        "value": c.value,
        "ci_low": _finite(low),
        "ci_high": _finite(high),
        "decision": decision,
        "point_beyond": point_beyond,
        "highest_group": c.highest_group,
        "lowest_group": c.lowest_group,
        "groups_compared": len(c.labels),
        "groups_left_out": list(c.left_out),
        "established": [
            {
                "higher": c.labels[found.high[k]],
                "lower": c.labels[found.low[k]],
                "value": float(found.value[k]),
                "ci_low": _finite(found.ci_low[k]),
                "ci_high": _finite(found.ci_high[k]),
            }
            for k in shown
        ],
    }


def _beyond_array(values: Any, threshold: float, measure: str) -> Any:
    with np.errstate(invalid="ignore"):
        return values > threshold if measure == "difference" else values < threshold


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None
