"""Text shaping is turned on only for scripts that read wrongly without it."""

from __future__ import annotations

import pytest

from sandbox.reports.documents.fonts import needs_shaping


@pytest.mark.parametrize(
    "text",
    ["Household Stability Assistance", "Ação é já", "Ελληνικά", "Київ", "02134 — 25 € — ½"],
)
def test_latin_greek_cyrillic_and_symbols_need_no_shaping(text: str) -> None:
    assert not needs_shaping(text)


@pytest.mark.parametrize("text", ["مرحبا", "שלום", "नमस्ते", "สวัสดี", "mixed: رسوم $25"])
def test_right_to_left_and_joining_scripts_need_shaping(text: str) -> None:
    assert needs_shaping(text)
