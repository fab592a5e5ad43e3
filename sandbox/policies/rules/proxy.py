"""Proxy detection: flag a model feature that predicts a sensitive attribute too well.

For each (feature, sensitive attribute) pair, a cross-validated one-feature classifier predicts
the attribute; its ROC AUC (one-vs-rest, macro-averaged over groups) measures how much the
feature gives away. The classifier is a lookup table: numbers are cut into quantile bins,
categories (and missing values) are their own bins, and each held-out row is predicted by its
bin's group shares in the other folds (with a prior for unseen bins). It captures any shape of
relationship; as every held-out row of a fold and bin gets the same prediction, the folds and
the AUCs are computed from a table of counts, in time linear in the rows. It runs on the host,
on a seeded subsample of at most `max_rows` rows. Pilot code never runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field

from sandbox.policies.rules.base import Finding, Params, RuleContext

__all__ = ["ProxyParams", "check_proxies", "proxy_auc"]


class ProxyParams(Params):
    """How much a single feature may reveal of a sensitive attribute, and how it is measured."""

    max_auc: float = Field(default=0.6, gt=0.5, le=1.0)
    attributes: tuple[str, ...] = Field(default=(), description="Empty means every one.")
    features: tuple[str, ...] = Field(default=(), description="Empty means every feature.")
    max_rows: int = Field(default=10_000, ge=100, le=1_000_000)
    folds: int = Field(default=5, ge=2, le=20)
    bins: int = Field(default=16, ge=2, le=256)
    max_groups: int = Field(
        default=30,
        ge=2,
        le=200,
        description="The most frequent groups kept apart; rarer ones are pooled (bounds the cost).",
    )
    seed: int = Field(default=0, ge=0)


def _bins(values: pd.Series, bins: int) -> npt.NDArray[np.intp]:
    """A bin code per row: quantile bins for numbers, one bin per category; NaN its own bin."""
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > bins:
        numbers = values.to_numpy(dtype=float)
        edges = np.unique(np.nanquantile(numbers, np.linspace(0, 1, bins + 1)[1:-1]))
        codes = np.searchsorted(edges, numbers, side="right")
        return np.where(np.isnan(numbers), len(edges) + 1, codes).astype(np.intp)
    codes, _ = pd.factorize(values.astype("string").fillna("\x00missing"), sort=True)
    return np.asarray(codes, dtype=np.intp)


def _group_codes(attribute: pd.Series, max_groups: int) -> tuple[npt.NDArray[np.intp], int]:
    """A code per row for the `max_groups - 1` most frequent groups, the rest pooled as one.

    One group per row would make the lookup table and the one-vs-rest AUCs quadratic in the
    rows; pooling rare groups bounds both, and a group too rare to stand alone carries no
    reliable AUC of its own anyway.
    """
    y, groups = pd.factorize(attribute.astype(str), sort=True)
    if len(groups) <= max_groups:
        return np.asarray(y, dtype=np.intp), len(groups)
    counts = np.bincount(y)
    keep = np.argsort(-counts, kind="stable")[: max_groups - 1]
    recode = np.full(len(groups), max_groups - 1, dtype=np.intp)
    recode[keep] = np.arange(max_groups - 1)
    return recode[y], max_groups


def proxy_auc(
    feature: pd.Series,
    attribute: pd.Series,
    *,
    folds: int,
    bins: int,
    seed: int,
    max_groups: int = 30,
) -> float | None:
    """Cross-validated ROC AUC of predicting `attribute` from `feature` alone (None: one group).

    Every held-out row of one fold and one bin gets the same prediction, so the classifier is
    a table of (fold, bin, group) counts and the AUCs are taken over its cells, weighted by
    their rows: the rank-sum statistic exactly, in time linear in the rows.
    """
    y, k = _group_codes(attribute, max_groups)
    if k < 2:
        return None
    return _coded_auc(_bins(feature, bins), y, k, folds=folds, seed=seed)


def _coded_auc(
    x: npt.NDArray[np.intp], y: npt.NDArray[np.intp], k: int, *, folds: int, seed: int
) -> float:
    """`proxy_auc` on a feature's bin codes `x` and an attribute's `k` group codes `y`."""
    n_bins = int(x.max()) + 1
    fold = np.random.default_rng(seed).permutation(len(x)) % folds
    cell = fold * n_bins + x  # the lookup-table entry that predicts each held-out row
    counts = np.bincount(cell * k + y, minlength=folds * n_bins * k).reshape(folds, n_bins, k)
    everyone = counts.sum(axis=0)
    shares = np.empty((folds, n_bins, k))
    for f in range(folds):
        table = everyone - counts[f]  # the other folds' rows
        prior = table.sum(axis=0) / max(int(table.sum()), 1)
        shares[f] = (table + prior) / (table.sum(axis=1, keepdims=True) + 1.0)
    occupied = everyone.sum(axis=1) > 0
    rows = counts[:, occupied].reshape(-1, k)  # a bin of no row adds nothing to an AUC
    scores = shares[:, occupied].reshape(-1, k)
    if k == 2:
        return _cell_auc(rows, scores, 1)
    return float(np.mean([_cell_auc(rows, scores, g) for g in range(k)]))


def _cell_auc(rows: npt.NDArray[np.int64], scores: npt.NDArray[np.float64], group: int) -> float:
    """ROC AUC of `group` against the rest, from each cell's rows and scores; ties count half.

    The Mann-Whitney count (negatives scored below each positive, plus half of those tied) is
    a sum of whole and half numbers, exact in floating point, as the rank-sum formula's is.
    """
    positive = rows[:, group]
    negative = rows.sum(axis=1) - positive
    values, tie = np.unique(scores[:, group], return_inverse=True)
    pos = np.bincount(tie, weights=positive, minlength=len(values))
    neg = np.bincount(tie, weights=negative, minlength=len(values))
    below = np.cumsum(neg) - neg
    u = np.sum(pos * below) + 0.5 * np.sum(pos * neg)
    return float(u / (int(positive.sum()) * int(negative.sum())))


def _auc(positive: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> float:
    """ROC AUC of scored rows, ties counted half (as scikit-learn's): each row a cell."""
    rows = np.stack([~positive, positive], axis=1).astype(np.int64)
    return _cell_auc(rows, np.stack([score, score], axis=1), 1)


def check_proxies(p: ProxyParams, ctx: RuleContext) -> Finding:
    """No model feature predicts a sensitive attribute with an AUC above `max_auc`."""
    manifest = ctx.manifest.data
    attributes = [a for a in (p.attributes or manifest.sensitive) if a in manifest.sensitive]
    features = [f for f in (p.features or manifest.features) if f in manifest.features]
    base: dict[str, Any] = {"threshold": p.max_auc, "attributes": attributes}
    table = getattr(ctx.data, "table", None)  # an assistant's questions have no table
    if table is None:
        why = "no table of model features (an assistant's questions are answered, not scored)"
        return Finding("not_applicable", why if ctx.data is not None else "no data loaded", base)
    if not attributes or not features:
        return Finding("not_applicable", "no sensitive attribute or feature to test", base)
    frame: pd.DataFrame = table.features
    groups: pd.DataFrame = table.groups
    if len(frame) > p.max_rows:
        # the sample depends only on the row count and seed, so both parts stay aligned
        frame = frame.sample(n=p.max_rows, random_state=p.seed)
        groups = groups.loc[frame.index]
    checked: list[dict[str, Any]] = []
    binned = {feature: _bins(frame[feature], p.bins) for feature in features}  # coded once
    for attribute in attributes:
        y, k = _group_codes(groups[attribute], p.max_groups)
        if k < 2:
            continue
        for feature in features:
            auc = _coded_auc(binned[feature], y, k, folds=p.folds, seed=p.seed)
            checked.append({"feature": feature, "attribute": attribute, "auc": round(auc, 4)})
    checked.sort(key=lambda c: -c["auc"])
    flagged = [c for c in checked if c["auc"] > p.max_auc]
    evidence = {
        **base,
        "value": checked[0]["auc"] if checked else None,
        "rows": len(frame),
        "method": f"{p.folds}-fold one-feature lookup classifier, ROC AUC one-vs-rest macro",
        "proxies": flagged,
        "checked": checked,
    }
    if not checked:
        return Finding("not_applicable", "every sensitive attribute has a single group", evidence)
    if flagged:
        listed = ", ".join(f"{c['feature']} -> {c['attribute']} ({c['auc']:.2f})" for c in flagged)
        return Finding(
            "failed",
            f"features predict a sensitive attribute with AUC above {p.max_auc}: {listed}; "
            "review them, declare them in data.proxies, or remove them from data.features",
            evidence,
        )
    return Finding(
        "passed",
        f"no feature predicts a sensitive attribute with AUC above {p.max_auc} "
        f"({len(checked)} pairs, highest {checked[0]['auc']:.2f})",
        evidence,
    )
