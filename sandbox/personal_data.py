"""Patterns of personal data in free text: e-mail, phone, national id, name, street address.

The `pii_in_values` rule scans text features with them before data cross the container wall;
an assistant's evaluation keeps failed answers that match them out of its reports. They live
here, apart from both, so that evaluation and policies share them without importing each
other.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["PII_PATTERNS", "PiiKind"]

PiiKind = Literal["email", "phone", "national_id", "name", "street_address"]

#: Patterns of personal data in text values. Numbers stored as numbers are not scanned.
PII_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    # Separated digit groups, optionally with a country code: 555-846-1018, (02) 9374 4000;
    # a full stop may end the sentence after one, but not continue it as a decimal.
    "phone": re.compile(
        r"(?<![\w.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)\s?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}(?!\w|\.\d)"
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
