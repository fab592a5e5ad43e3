"""The transparency documents of an assistant pilot say what an assistant is and does.

The record's capability is linguistics; the notices tell residents they are talking to
software that can be wrong, how to reach a person and which languages it serves; the model
card describes the task and the results per language; the datasheet describes the evaluation
questions and the knowledge base instead of a label and feature columns.
"""

from __future__ import annotations

import json

import pytest

from sandbox.reports.documents import render_documents
from sandbox.reports.documents.assistant import language_names
from sandbox.reports.documents.atrs import atrs_record
from sandbox.reports.documents.datasheet import datasheet
from sandbox.reports.model import DataRoles
from tests.unit.reports import assistant_evidence as evidence


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return evidence.report()


@pytest.fixture(scope="module")
def texts(report):  # type: ignore[no-untyped-def]
    return render_documents(report)


def _fields(record: dict) -> dict:  # type: ignore[type-arg]
    return {
        name: field
        for tier in ("tier_1", "tier_2")
        for section in record[tier].values()
        for name, field in section["fields"].items()
    }


def test_the_record_says_linguistics_and_describes_answers(report):
    fields = _fields(atrs_record(report))
    assert fields["capability"]["value"].startswith("Linguistics: natural-language generation")
    assert fields["capability"]["source"] == ["pilot.task"]
    provided = fields["provided_information"]["value"]
    assert "answer to each question" in provided and "Languages offered: en, es" in provided
    assert "prediction" not in provided
    assert "knowledge base read-only" in fields["system_architecture"]["value"]
    assert "feature columns" not in fields["system_architecture"]["value"]
    performance = fields["model_performance"]["value"]
    assert performance.startswith("On 220 evaluation questions: task success rate ")
    assert "1 answer(s) disclosed restricted material" in performance
    quantities = fields["data_quantities"]["value"]
    assert "220 evaluation questions in en, es (176 to answer, 44 to decline" in quantities
    assert "48 documents, 6 of them restricted" in quantities
    assert fields["data_quantities"]["source"] == ["evaluation.assistant"]


def test_a_tabular_record_keeps_its_wording(report):
    tabular = report.model_copy(
        update={
            "pilot": report.pilot.model_copy(update={"task": "binary_classification"}),
            "evaluation": None,
            "data": report.data.model_copy(
                update={
                    "roles": DataRoles(
                        label="eligible", positive_label=1, positive_meaning="contacted first"
                    )
                }
            ),
        }
    )
    fields = _fields(atrs_record(tabular))
    assert fields["capability"]["value"].startswith("Predictive analytics")
    assert fields["provided_information"]["value"].startswith("One prediction per case")
    assert "feature columns" in fields["system_architecture"]["value"]


@pytest.mark.parametrize(
    ("language", "software", "wrong", "person", "served"),
    [
        (
            "en",
            "you are talking to software, not to a person",
            "The assistant can be wrong.",
            "## How to reach a person",
            "It answers in: English, Spanish.",
        ),
        (
            "es",
            "está hablando con un programa informático, no con una persona",
            "El asistente puede equivocarse.",
            "## Cómo hablar con una persona",
            "Responde en: inglés, español.",
        ),
        (
            "fr",
            "vous échangez avec un logiciel, pas avec une personne",
            "L'assistant peut se tromper.",
            "## Comment parler à une personne",
            "Il répond en : anglais, espagnol.",
        ),
    ],
)
def test_notices_say_it_is_software_that_can_be_wrong(  # type: ignore[no-untyped-def]
    texts, language, software, wrong, person, served
):
    notice = texts[f"notice_{language}"]
    for words in (software, wrong, person, served):
        assert words in notice, (language, words)
    assert "Ask for a person at the service desk or call 311." in notice
    for tabular in ("positive result", "resultado positivo", "résultat positif", "one result"):
        assert tabular not in notice


def test_a_notice_names_the_missing_route_to_a_person_as_a_gap(report):
    bare = report.model_copy(
        update={"governance": report.governance.model_copy(update={"transparency": {}})}
    )
    notice = render_documents(bare)["notice_en"]
    assert "has not yet said how to reach a person instead of the assistant" in notice


def test_language_codes_read_as_names_and_unknown_ones_as_written():
    assert language_names(("en", "es", "ar"), "fr") == ["anglais", "espagnol", "arabe"]
    assert language_names(("xx",), "en") == ["xx"]


def test_the_model_card_describes_the_task_and_results_per_language(report, texts):
    card = texts["model_card"]
    assert "- Task: assistant. It answers residents' questions in writing, citing" in card
    assert "declines questions outside its scope" in card
    assert "positive value" not in card and "None" not in card
    assert "Overall, on 220 evaluation questions" in card
    for group in report.evaluation.attribute_set("language").groups:
        success = group.metrics["task_success"]
        assert f"| language | {group.label} | {group.count} | {success.value:.3f} (" in card
    assert "Knowledge base: 48 documents, 6 of them restricted" in card
    assert "The sandbox fits nothing for an assistant" in card
    # the sampled failed answers stay in the internal report
    assert "recycling centre" not in card


def test_the_datasheet_describes_the_questions_and_the_knowledge_base(report, texts):
    sheet = datasheet(report)
    assert sheet["knowledge_base"] == {
        "questions": 220,
        "must_answer": 176,
        "must_decline": 44,
        "facts_expected": 300,
        "languages": ["en", "es"],
        "documents": 48,
        "restricted_documents": 6,
        "source": "evaluation.assistant",
    }
    json.loads(texts["datasheet_json"])
    md = texts["datasheet_md"]
    assert "## Evaluation set and knowledge base" in md
    assert "48 documents (Markdown or plain text), 6 of them restricted" in md
    assert "## Fields and missingness" in md
    assert "Label: `" not in md and "positive value" not in md
    assert "| Group | Questions | Share | Must decline |" in md
    rep = sheet["group_representation"]
    assert rep["of"] == "evaluation questions"
    en = rep["attribute_sets"][0]["groups"][0]
    declines = report.evaluation.attribute_set("language").groups[0].metrics["missed_decline"]
    assert en["label_rate"] == round(declines.denominator / 120, 4)
    # a group below the minimum is suppressed, as for every task type
    cells = {g["group"]: g for g in rep["attribute_sets"][2]["groups"]}
    assert cells["es & east"]["rows"] == "<30" and cells["es & east"]["label_rate"] is None


def test_text_documents_quote_no_answer(texts):
    # failed answers are sampled for the report only; the record, notices, card and sheet
    # give counts and rates
    for kind, text in texts.items():
        assert "Monday to Friday" not in text, kind
        assert "¿Dónde pago la factura del agua?" not in text, kind
