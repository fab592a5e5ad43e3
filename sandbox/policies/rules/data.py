"""Data rules: what may cross the container wall. No protected column, no personal data."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import Field

from sandbox.personal_data import PII_PATTERNS, PiiKind
from sandbox.policies.rules.base import Finding, Params, RuleContext

__all__ = ["PII_PATTERNS", "NoParams", "PiiParams", "check_no_protected", "check_pii_values"]

MAX_ROW_IDS = 5


class NoParams(Params):
    """This rule type takes no parameters."""


class PiiParams(Params):
    """Which patterns to look for, and how many matches are tolerated (normally none)."""

    patterns: tuple[PiiKind, ...] = (
        "email",
        "phone",
        "national_id",
        "name",
        "street_address",
    )
    max_matches: int = Field(default=0, ge=0)


def check_no_protected(p: NoParams, ctx: RuleContext) -> Finding:
    """No sensitive attribute, PII column or declared proxy is a model feature."""
    data = ctx.manifest.data
    offending = {
        role: sorted(set(data.features) & set(columns))
        for role, columns in (
            ("sensitive", data.sensitive),
            ("pii", data.pii),
            ("proxies", data.proxies),
        )
    }
    offending = {role: cols for role, cols in offending.items() if cols}
    evidence: dict[str, Any] = {"features": list(data.features), "offending": offending}
    if offending:
        listed = "; ".join(f"{role}: {', '.join(cols)}" for role, cols in offending.items())
        return Finding(
            "failed",
            f"model features include protected columns ({listed}); remove them from data.features",
            evidence,
        )
    return Finding(
        "passed",
        "no sensitive attribute, PII column or declared proxy is a model feature",
        evidence,
    )


def check_pii_values(p: PiiParams, ctx: RuleContext) -> Finding:
    """No email, phone number, national id, name or street address in text feature values."""
    if ctx.data is None:
        return Finding("not_applicable", "the data were not loaded", {"threshold": p.max_matches})
    # A tabular pilot's table, or an assistant's questions: both hold the values that cross
    # the wall as `features`, with a `row_ids` array naming each row.
    table = getattr(ctx.data, "table", ctx.data)
    frame: pd.DataFrame = table.features
    found = []
    scanned = []
    for column in ctx.manifest.data.features:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        scanned.append(column)
        text = values.dropna().astype(str)
        # Each distinct value is matched once (a district or status repeats over many rows).
        codes, distinct = pd.factorize(text)
        distinct_text = pd.Series(distinct, dtype=text.dtype)
        for kind in p.patterns:
            hits = distinct_text.str.contains(PII_PATTERNS[kind], regex=True).to_numpy()[codes]
            count = int(hits.sum())
            if count:
                rows = table.row_ids[text.index[hits][:MAX_ROW_IDS]]
                found.append(
                    {"column": column, "pattern": kind, "matches": count, "row_ids": rows.tolist()}
                )
    total = sum(f["matches"] for f in found)
    evidence = {
        "value": total,
        "threshold": p.max_matches,
        "rows": len(frame),
        "scanned_columns": scanned,
        "found": found,
    }
    if total > p.max_matches:
        listed = ", ".join(f"{f['column']} ({f['matches']} {f['pattern']})" for f in found)
        return Finding(
            "failed",
            f"personal data in values that would enter the container: {listed}; declare the "
            "column in data.pii or clean its values",
            evidence,
        )
    return Finding(
        "passed",
        f"no {', '.join(p.patterns)} pattern in {len(scanned)} text feature columns",
        evidence,
    )
