"""Proxy detection: flag a model feature that predicts a sensitive attribute too well.

For each (feature, sensitive attribute) pair, a cross-validated one-feature classifier predicts
the attribute; its ROC AUC (one-vs-rest, macro-averaged over groups) measures how much the
feature gives away. The classifier is a lookup table: numbers are cut into quantile bins,
categories (and missing values) are their own bins, and each held-out row is predicted by its
bin's group shares in the other folds (with a prior for unseen bins). It captures any shape of
relationship and runs in well under a second on the host, on a seeded subsample. Pilot code
never runs.
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
    """Cross-validated ROC AUC of predicting `attribute` from `feature` alone (None: one group)."""
    y, k = _group_codes(attribute, max_groups)
    if k < 2:
        return None
    x = _bins(feature, bins)
    n_bins = int(x.max()) + 1
    fold = np.random.default_rng(seed).permutation(len(x)) % folds
    proba = np.zeros((len(x), k))
    for f in range(folds):
        train = fold != f
        table = np.zeros((n_bins, k))
        np.add.at(table, (x[train], y[train]), 1.0)
        prior = np.bincount(y[train], minlength=k) / max(int(train.sum()), 1)
        shares = (table + prior) / (table.sum(axis=1, keepdims=True) + 1.0)
        proba[~train] = shares[x[~train]]
    if k == 2:
        return _auc(y == 1, proba[:, 1])
    return float(np.mean([_auc(y == g, proba[:, g]) for g in range(k)]))


def _auc(positive: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties counted half; as scikit-learn's."""
    from scipy.stats import rankdata

    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


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
    for attribute in attributes:
        for feature in features:
            auc = proxy_auc(
                frame[feature],
                groups[attribute],
                folds=p.folds,
                bins=p.bins,
                seed=p.seed,
                max_groups=p.max_groups,
            )
            if auc is not None:
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
