"""Language identification among the pilot's languages, offline."""

from __future__ import annotations

from sandbox.assistant.language import describe, identify, primary, supported

LANGUAGES = ["en", "es", "ar"]


def test_english_spanish_and_arabic_answers() -> None:
    assert (
        identify("Water bills can be paid at the city office from Monday to Friday.", LANGUAGES)
        == "en"
    )
    assert (
        identify(
            "Las facturas del agua se pagan en la oficina municipal de lunes a viernes.", LANGUAGES
        )
        == "es"
    )
    assert (
        identify("يمكن دفع فواتير المياه في مكتب البلدية من الاثنين إلى الجمعة.", LANGUAGES) == "ar"
    )


def test_short_answers_are_not_identified() -> None:
    assert identify("Yes, 311.", LANGUAGES) is None


def test_it_chooses_only_among_the_pilot_languages() -> None:
    french = "Les factures d'eau se paient au bureau de la mairie du lundi au vendredi."
    assert identify(french, LANGUAGES) in LANGUAGES
    assert identify(french, ["en", "es", "fr"]) == "fr"


def test_codes_compare_by_primary_subtag_and_unknown_codes_are_left_out() -> None:
    assert primary("pt-BR") == "pt"
    assert supported(["pt-BR", "en", "xx"]) == ("en", "pt")
    assert identify("The city office is open from Monday to Friday.", ["xx"]) is None
    assert "not identifiable: xx" in describe(["en", "xx"])
    assert describe(LANGUAGES).startswith("py3langid ")
