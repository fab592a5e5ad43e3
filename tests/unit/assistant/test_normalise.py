"""Normalisation: case, accents, digits of every script, number formats, punctuation."""

from __future__ import annotations

import pytest

from sandbox.assistant.normalise import normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café CRÈME", "cafe creme"),
        ("Straße", "strasse"),
        ("Ñandú", "nandu"),
        ("الرسوم ٢٥٠ دولار", "الرسوم 250 دولار"),
        ("۱۲۳ Persian digits", "123 persian digits"),
        ("\uff26\uff35\uff2c\uff2c\u3000\uff11\uff12", "full 12"),  # full-width forms
        ("نَعَم", "نعم"),  # harakat are optional in Arabic
        (
            "\u0645\u0640\u0640\u0640\u0631\u062d\u0628\u0627",
            "\u0645\u0631\u062d\u0628\u0627",
        ),  # tatweel stretches a word, it is not a letter
        ("\u200fمرحبا\u200e", "مرحبا"),  # direction marks  # noqa: RUF001
        ("रुपये", "रुपये"),  # Devanagari vowel signs are letters: kept
        ("Hello,   world!\n\tBye.", "hello world bye"),
    ],
)
def test_case_accents_digits_and_spacing(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,000", "1000"),
        ("1.000", "1000"),
        ("1 000", "1000"),
        ("1\u00a0000", "1000"),
        ("12,345,678", "12345678"),
        ("2,50", "2.50"),
        ("3.5", "3.5"),
        ("1,000.50", "1000.50"),
        ("1.000,50", "1000.50"),
        ("$25.00", "25"),
        ("25", "25"),
        ("25,00 €", "25"),
        ("\u0662\u0665\u066b\u0665\u0660", "25.50"),  # Arabic decimal separator
        ("12.05.2024", "12 05 2024"),  # not a number: its digit groups as words
        ("555-846-1018", "555 846 1018"),
        ("version 2.", "version 2"),
        ("50%", "50"),
    ],
)
def test_number_formats(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_dollars_with_cents_equal_the_whole_amount() -> None:
    assert normalise("The fee is $25.00.") == "the fee is 25" == normalise("the fee is 25")
    assert normalise("$25.50") != normalise("25")


def test_empty_and_punctuation_only() -> None:
    assert normalise("") == ""
    assert normalise(" ¿¡!? … ") == ""
