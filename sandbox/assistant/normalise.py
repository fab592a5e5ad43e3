"""Text normalisation for matching facts, canaries and quotes in an assistant's answers.

Answers and the facts expected in them are compared after the same normalisation, so that
case, accents, spacing and the way a number is written do not decide whether a fact was
stated: NFKC, case folding, diacritics removed (NFKD, combining marks dropped, except the vowel
signs of Indic and South-East Asian scripts, which are letters there), every decimal
digit to ASCII (Arabic-Indic ``٢٥`` is ``25``), thousands separators removed (``1,000``,
``1.000``, ``1 000`` are ``1000``), a decimal comma made a point (``2,50`` is ``2.50``), an
all-zero fraction dropped (``$25.00`` is ``25``), punctuation and symbols outside numbers made
spaces, and whitespace collapsed. After it, tokens are separated by single spaces and the
only punctuation left is the decimal point inside a number.

A number with one separator followed by exactly three digits (``1.000``, ``3,125``) is read
as thousands: the convention of most of the pilots' languages; a decimal written with three
places is therefore read as a whole number, in facts and answers alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = ["normalise", "tokens"]

#: A run of digits with single separators between digit groups (spaces included: "1 000").
_NUMBER = re.compile(r"\d+(?:[.,' \u2019]\d+)+")
_LONE_POINT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_SPACES = re.compile(r"\s+")
_ARABIC_DECIMAL, _ARABIC_THOUSANDS, _TATWEEL = "\u066b", "\u066c", "\u0640"


class _CharMap(dict[int, str | None]):
    """A ``str.translate`` table computed per character on first sight, then cached."""

    def __init__(self, rule: Callable[[str], str | None]) -> None:
        super().__init__()
        self._rule = rule

    def __missing__(self, code: int) -> str | None:
        value = self._rule(chr(code))
        self[code] = value
        return value


def _keeps_marks(char: str) -> bool:
    """Marks that are vowels, not accents: Indic and South-East Asian scripts need them."""
    code = ord(char)
    return 0x0900 <= code <= 0x0EFF or 0x1000 <= code <= 0x109F or 0x1780 <= code <= 0x17FF


def _strip_rule(char: str) -> str | None:
    """Accents, format characters and the tatweel go; digits become ASCII."""
    category = unicodedata.category(char)
    if (category == "Mn" and not _keeps_marks(char)) or category == "Cf" or char == _TATWEEL:
        return None
    if category == "Nd":
        return str(unicodedata.decimal(char))
    if char == _ARABIC_DECIMAL:
        return "."
    if char == _ARABIC_THOUSANDS:
        return ","
    return char


def _punctuation_rule(char: str) -> str | None:
    """Punctuation, symbols and control characters become spaces; the point stays for now."""
    if char == ".":
        return char
    return " " if unicodedata.category(char)[0] in "PSCZ" else char


_STRIP = _CharMap(_strip_rule)
_PUNCTUATION = _CharMap(_punctuation_rule)


def _number(match: re.Match[str]) -> str:
    """One written number in canonical form: digits, and a point before any decimals."""
    text = match.group()
    groups = re.split(r"[.,' \u2019]", text)
    seps = [text[i] for i in range(len(text)) if not text[i].isdigit()]
    head, rest = groups[0], groups[1:]
    grouped = 1 <= len(head) <= 3
    if grouped and len(set(seps)) == 1 and all(len(g) == 3 for g in rest):
        return _fraction("".join(groups), "")  # thousands only: 1,000 / 1.000 / 1 000
    last = seps[-1]
    if (
        last in ".,"
        and len(seps) >= 2
        and grouped
        and len(set(seps[:-1])) == 1
        and seps[0] != last
        and all(len(g) == 3 for g in rest[:-1])
    ):
        return _fraction("".join(groups[:-1]), groups[-1])  # 1,000.50 / 1.000,50
    if len(seps) == 1 and last in ".,":
        return _fraction(head, rest[0])  # a decimal: 2,50 / 3.5
    return " ".join(groups)  # a date, a list, a phone number: digit groups as words


def _fraction(whole: str, decimals: str) -> str:
    return whole if not decimals.strip("0") else f"{whole}.{decimals}"


def normalise(text: str) -> str:
    """`text` in the canonical form facts, canaries and quotes are matched in."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    stripped = unicodedata.normalize("NFKD", folded).translate(_STRIP)
    composed = unicodedata.normalize("NFC", stripped)
    numbers = _NUMBER.sub(_number, composed)
    spaced = _LONE_POINT.sub(" ", numbers.translate(_PUNCTUATION))
    return _SPACES.sub(" ", spaced).strip()


def tokens(text: str) -> list[str]:
    """The tokens of already normalised text."""
    return text.split(" ") if text else []
