"""Evaluate a top-k list: what a capacity-limited ranking finds, overall and for each group.

The k highest-scored rows are selected (:func:`top_k`: ties keep the input order). That
selection is a 0/1 decision per row, so every group number is a confusion-count rate of
:mod:`sandbox.evaluation.binary`, equal to fairlearn's ``MetricFrame`` with the same metric
function: the share of the group selected (``selection_rate``), precision at k
(``precision_score``) and recall at k (``recall_score``: the share of the group's positives
selected). Each group also gets its share of the list against its share of the rows.

Overall: precision@k, recall@k, the base rate, and lift (precision@k / base rate), at k and at
k/2 and 2k. The lift interval (:func:`lift_interval`) comes from the MOVER-R interval of the
ratio between the positive rate inside the list and outside it; lift is an increasing function
of that ratio, and exceeds 1 exactly when the ratio does (``docs/statistics.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sandbox.errors import DataError
from sandbox.evaluation.binary import evaluate_binary
from sandbox.evaluation.intervals import ratio_interval, wilson
from sandbox.evaluation.result import (
    AttributeSetResult,
    Estimate,
    Evaluation,
    GroupResult,
)
from sandbox.evaluation.topk import BudgetPoint, TopK

__all__ = [
    "GROUP_METRICS",
    "INTERVALS",
    "RANKING",
    "evaluate_ranking",
    "lift_interval",
    "ranked",
    "top_k",
]

RANKING = "ranking"

#: The binary rates of the top-k selection, by the names a ranking reports them under.
_RENAMED = {
    "selection_rate": "selection_rate_at_k",
    "precision": "precision_at_k",
    "tpr": "recall_at_k",
}
#: Per-group metrics: the three rates (compared between groups), then the two shares (shown
#: side by side: the group's share of the list against its share of the rows).
GROUP_METRICS = (*_RENAMED.values(), "selection_share", "population_share")
#: What each metric's denominator counts, and what an empty one means, in words.
_COUNTED = {
    "selection_rate_at_k": ("rows", "no rows"),
    "precision_at_k": ("selected rows", "none of its rows selected"),
    "recall_at_k": ("actual positives", "no actual positives"),
    "selection_share": ("rows selected overall", "no rows selected"),
    "population_share": ("evaluation rows", "no rows"),
}

INTERVALS = (
    "Wilson score intervals for each group's rate and share and for precision and recall at "
    "each budget; MOVER-R for lift (from the positive rates inside and outside the list); for "
    "the difference (max - min) and ratio (min / max) between groups, Newcombe hybrid score and "
    "MOVER-R intervals for every pair of groups, simultaneous over the attribute set's pairs "
    "(Bonferroni)"
)

FloatArray = npt.NDArray[np.float64]


def ranked(scores: Any) -> npt.NDArray[np.intp]:
    """Rows from the highest score down; equal scores keep the input order.

    One stable sort serves every budget and the k-th score: the top k rows of any k are a
    prefix of this order.
    """
    values = np.asarray(scores, dtype=np.float64)
    if not np.isfinite(values).all():
        raise DataError("scores must be finite numbers to rank the rows")
    return np.argsort(-values, kind="stable")


def _chosen(order: npt.NDArray[np.intp], k: int) -> npt.NDArray[np.bool_]:
    """Which rows are among the first `k` of `order`."""
    chosen = np.zeros(len(order), dtype=np.bool_)
    chosen[order[: max(0, min(k, len(order)))]] = True
    return chosen


def top_k(scores: Any, k: int) -> npt.NDArray[np.bool_]:
    """Which rows are among the `k` highest scores; equal scores keep the input order."""
    return _chosen(ranked(scores), k)


def lift_interval(
    true_positives: Any, k: Any, positives: Any, rows: Any, confidence: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Lift (precision in the top k / base rate) and its interval, elementwise.

    With p1 the positive rate in the list, p0 outside it and w = k / rows, lift is
    g(r) = r / (w r + 1 - w) for r = p1 / p0, increasing in r, so the MOVER-R limits of r (from
    the two Wilson intervals) map to limits of lift. When no positive lies outside the list the
    inverse ratio p0 / p1 is used (r unbounded above: lift up to 1 / w). NaN without positives.
    """
    tp = np.asarray(true_positives, dtype=np.float64)
    kk = np.asarray(k, dtype=np.float64)
    pos = np.asarray(positives, dtype=np.float64)
    n = np.asarray(rows, dtype=np.float64)
    outside, rest = pos - tp, n - kk
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p0, w = tp / kk, outside / rest, kk / n
        lift = p1 / (pos / n)
    l1, u1 = wilson(tp, kk, confidence)
    l0, u0 = wilson(outside, rest, confidence)
    r_low, r_high = ratio_interval(p1, l1, u1, p0, l0, u0)
    q_low, q_high = ratio_interval(p0, l0, u0, p1, l1, u1)
    with np.errstate(invalid="ignore", divide="ignore"):
        inverse = ~(p0 > 0)
        r_low = np.where(inverse, 1.0 / q_high, r_low)
        r_high = np.where(inverse, np.where(q_low > 0, 1.0 / q_low, np.inf), r_high)
        low = np.where(np.isinf(r_low), 1.0 / w, r_low / (w * r_low + 1.0 - w))
        high = np.where(np.isinf(r_high), 1.0 / w, r_high / (w * r_high + 1.0 - w))
    everyone = rest <= 0  # the whole population selected: lift is exactly 1
    low, high = np.where(everyone, 1.0, low), np.where(everyone, 1.0, high)
    undefined = ~(pos > 0)
    nan = np.float64(np.nan)
    lift, low, high = (np.where(undefined, nan, a) for a in (lift, low, high))
    return lift, np.minimum(low, lift), np.maximum(high, lift)


def _pair(low: Any, high: Any) -> tuple[float | None, float | None]:
    return tuple(float(v) if np.isfinite(v) else None for v in (low, high))  # type: ignore[return-value]


def _point(
    label: str, k: int, truth: npt.NDArray[np.intp], order: npt.NDArray[np.intp], confidence: float
) -> BudgetPoint:
    # an integer count: the same whichever order the selected rows are summed in
    tp, positives, rows = int(truth[order[:k]].sum()), int(truth.sum()), len(truth)
    (p_low,), (p_high,) = wilson([tp], [k], confidence)
    (r_low,), (r_high,) = wilson([tp], [positives], confidence)
    lift, l_low, l_high = (
        float(a[0]) for a in lift_interval([tp], [k], [positives], [rows], confidence)
    )
    return BudgetPoint(
        label=label,
        k=k,
        true_positives=tp,
        precision=tp / k,
        precision_ci=_pair(p_low, p_high),
        recall=tp / positives if positives else None,
        recall_ci=_pair(r_low, r_high),
        lift=lift if np.isfinite(lift) else None,
        lift_ci=_pair(l_low, l_high),
    )


def _rate(point: Estimate, metric: str, minimum: int) -> Estimate:
    """A binary rate under its ranking name, its note in the ranking's words."""
    counted, empty = _COUNTED[metric]
    if point.undefined:
        return point.model_copy(update={"note": f"{empty}: the rate is undefined"})
    note = None
    if not point.assessable:
        note = f"only {point.denominator} {counted} (fewer than {minimum}): shown, not assessed"
    return point.model_copy(update={"note": note})


def _share(part: int, whole: int, confidence: float | None, minimum: int, metric: str) -> Estimate:
    low, high = (np.nan, np.nan)
    if confidence is not None and whole:
        (low,), (high,) = wilson([part], [whole], confidence)
    rate = _rate(
        Estimate(
            value=part / whole if whole else None,
            ci_low=_pair(low, high)[0],
            ci_high=_pair(low, high)[1],
            undefined=not whole,
            numerator=part,
            denominator=whole,
            assessable=whole >= minimum,
        ),
        metric,
        minimum,
    )
    return rate


def _groups(
    result: AttributeSetResult, k: int, rows: int, confidence: float | None, minimum: int
) -> AttributeSetResult:
    groups: list[GroupResult] = []
    for group in result.groups:
        cells = group.confusion or {}
        metrics = {new: _rate(group.metrics[old], new, minimum) for old, new in _RENAMED.items()}
        metrics["selection_share"] = _share(
            cells.get("tp", 0) + cells.get("fp", 0), k, confidence, minimum, "selection_share"
        )
        metrics["population_share"] = _share(
            group.count, rows, confidence, minimum, "population_share"
        )
        groups.append(group.model_copy(update={"metrics": metrics}))
    disparities = {
        new: result.disparities[old].model_copy(update={"metric": new})
        for old, new in _RENAMED.items()
    }
    return result.model_copy(
        update={
            "groups": tuple(groups),
            "disparities": disparities,
            "four_fifths": None,
            "warnings": tuple(_warnings(result.name, groups, minimum)),
        }
    )


def _warnings(name: str, groups: list[GroupResult], minimum: int) -> list[str]:
    out = (
        [f"{name}: only one group is present, so no disparity can be assessed."]
        if len(groups) < 2
        else []
    )
    for group in groups:
        where = f"{name} = {group.label}"
        if group.small:
            out.append(
                f"{where}: {group.count} rows, fewer than {minimum}; its rates are shown with "
                "their intervals but not assessed."
            )
        for metric in _RENAMED.values():
            rate = group.metrics[metric]
            if rate.undefined or (not rate.assessable and not group.small):
                out.append(f"{where}: {metric}: {rate.note}.")
    return out


def evaluate_ranking(
    *,
    y_true: Any,
    y_score: Any,
    sensitive: pd.DataFrame,
    k: int,
    budget: str,
    min_group_size: int = 30,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Evaluation:
    """Assess the top-k list of `y_score` against 0/1 labels, overall and per group.

    ``n_bootstrap=0`` skips the intervals (they are closed-form, so no other value matters).
    `k` above the number of rows selects every row, with a warning.
    """
    truth = np.asarray(y_true)
    scores = np.asarray(y_score, dtype=np.float64)
    rows = len(truth)
    if len(scores) != rows:
        raise DataError(f"lengths differ: y_true {rows}, y_score {len(scores)}")
    if k < 1:
        raise DataError(f"the budget selects {k} rows; it must select at least one")
    notes: list[str] = []
    if k > rows:
        notes.append(
            f"The budget ({budget}) exceeds the {rows:,} evaluation rows: every row is selected."
        )
        k = rows
    order = ranked(scores)
    chosen = _chosen(order, k)
    binary = evaluate_binary(
        y_true=truth,
        y_pred=chosen.astype(np.int8),
        sensitive=sensitive,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
    )
    labels = truth.astype(np.intp)
    level = confidence if n_bootstrap else None
    sets = tuple(_groups(s, k, rows, level, min_group_size) for s in binary.attribute_sets)
    budgets = {"k/2": max(1, k // 2), "k": k, "2k": min(rows, 2 * k)}
    curve = tuple(
        _point(label, size, labels, order, confidence)
        for label, size in budgets.items()
        if label == "k" or size != k
    )
    kth = scores[order[k - 1]]
    tied = scores == kth
    top = TopK(
        k=k,
        budget=budget,
        rows=rows,
        positives=int(labels.sum()),
        base_rate=float(labels.mean()),
        tied_at_cutoff=int(tied.sum()),
        tied_selected=int((tied & chosen).sum()),
        curve=curve,
    )
    if top.tied_at_cutoff > top.tied_selected:
        notes.append(
            f"{top.tied_at_cutoff:,} rows share the score of the k-th row; {top.tied_selected:,} "
            "of them were selected, by input row order (ties at the cut-off)."
        )
    at_k = top.at("k")
    performance = {
        "k": float(k),
        "precision_at_k": at_k.precision,
        "recall_at_k": at_k.recall if at_k.recall is not None else float("nan"),
        "base_rate": top.base_rate,
        "lift_at_k": at_k.lift if at_k.lift is not None else float("nan"),
        "selection_rate_at_k": k / rows,
    }
    return binary.model_copy(
        update={
            "task": RANKING,
            "performance": {m: v for m, v in performance.items() if np.isfinite(v)},
            # the list's counts are in `top_k`: the binary counts would read as a classifier's
            "counts": None,
            "attribute_sets": sets,
            "intervals": INTERVALS if n_bootstrap else "",
            "warnings": tuple(notes),
            "top_k": top,
        }
    )
