"""Data rules: what may cross the container wall. No protected column, no personal data."""

from __future__ import annotations

import re
from typing import Any, Literal

import pandas as pd
from pydantic import Field

from sandbox.policies.rules.base import Finding, Params, RuleContext

__all__ = ["PII_PATTERNS", "NoParams", "PiiParams", "check_no_protected", "check_pii_values"]

PiiKind = Literal["email", "phone", "national_id", "name", "street_address"]

#: Patterns of personal data in text values. Numbers stored as numbers are not scanned.
PII_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    # Separated digit groups, optionally with a country code: 555-846-1018, (02) 9374 4000.
    "phone": re.compile(
        r"(?<![\w.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)\s?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}(?![\w.])"
    ),
    # US SSN, Canadian SIN, UK National Insurance number.
    "national_id": re.compile(
        r"\b(?:\d{3}-\d{2}-\d{4}|\d{3}[ -]\d{3}[ -]\d{3}|[A-CEGHJ-PR-TW-Z]{2}\d{6}[A-D])\b"
    ),
    # A capitalised (or upper-case) name after a self-introduction (English or Spanish) or a
    # title: "my name is Ana", "ME LLAMO LUIS", "Mrs. Okafor", "Sra Lopez". A bare name ("John
    # called") has no mark a pattern can see; "Dr" and "Sr" without a dot are left out (Drive,
    # Senior Center).
    "name": re.compile(
        r"(?:\b(?i:my\s+name\s+is|my\s+name's|me\s+llamo|mi\s+nombre\s+es)\s+"
        r"|\b(?:Mrs|Mr|Ms|Mx|Miss|Sra|Srta)\.?\s+|\b(?:Dr|Sr)\.\s+)"
        r"[A-Z\u00c0-\u00de](?:[a-z\u00df-\u00ff'\u2019-]+|[A-Z\u00c0-\u00de'\u2019-]+)"
    ),
    # A house number, up to three capitalised or ordinal name words and a street type ("1420
    # Oak St", "77 W 34th Street"); or a Spanish street type, name or ordinal words and a number
    # ("calle Olmo 1420", "Avenida Central #88", "calle 34th 1420").
    "street_address": re.compile(
        r"\b\d{1,5}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?"
        r"(?:(?:[A-Z][A-Za-z'\u00c0-\u00ff-]*|\d+(?:st|nd|rd|th))\s+){1,3}"
        r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|court|ct|place|pl"
        r"|terrace|ter|parkway|pkwy|highway|hwy|way)\b"
        r"|\b(?i:calle|avenida|avda\.|av\.|camino|paseo)\s+"
        r"(?:(?:[A-Z\u00c0-\u00de][\w'-]*|\d+(?i:st|nd|rd|th))\s+){1,3}"
        r"(?:#\s?|n(?:o|\u00ba|\u00b0)\.?\s?)?\d{1,5}\b"
    ),
}
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
    table = ctx.data.table
    frame: pd.DataFrame = table.features
    found = []
    scanned = []
    for column in ctx.manifest.data.features:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        scanned.append(column)
        text = values.dropna().astype(str)
        for kind in p.patterns:
            hits = text.str.contains(PII_PATTERNS[kind], regex=True)
            count = int(hits.sum())
            if count:
                rows = table.row_ids[hits[hits].index[:MAX_ROW_IDS]]
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
