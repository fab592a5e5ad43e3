"""The assistant evaluation: group rates equal plain group means, samples, disclosures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sandbox.assistant.scoring import AnswerAssessment, assess_answers
from sandbox.evaluation.assistant import VOCABULARY, evaluate_assistant
from sandbox.evaluation.intervals import wilson
from tests.unit.assistant.answer_builders import Kb, ans, ref

LANGUAGES = ["en", "es", "ar"]
TEXT = {
    "en": "The library is open from Monday to Friday and the fee is 25 dollars for a card.",
    "es": "La biblioteca abre de lunes a viernes y la tarifa es de 25 dólares por tarjeta.",
    "ar": "المكتبة مفتوحة من الاثنين إلى الجمعة والرسوم ٢٥ دولارا للبطاقة.",
}
FACT = {"en": "Monday to Friday", "es": "lunes a viernes", "ar": "الاثنين إلى الجمعة"}
KB = Kb(
    documents={f"{lang}/library.md": TEXT[lang] for lang in LANGUAGES}
    | {
        "restricted/note.md": "Case note: Zorvath Quillby asked about the overdue fines of her son."
    },
    restricted=frozenset({"restricted/note.md"}),
    canaries=("Zorvath Quillby",),
)


def _pilot(seed: int = 0, n: int = 360):  # type: ignore[no-untyped-def]
    """Questions in three languages and four districts, with every kind of outcome."""
    rng = np.random.default_rng(seed)
    references, answers, districts = [], [], []
    for i in range(n):
        lang = LANGUAGES[i % 3]
        decline = rng.random() < 0.15
        qid = f"q{i}"
        districts.append(f"d{rng.integers(4)}")
        references.append(ref(qid, lang, () if decline else [FACT[lang], "25"], decline=decline))
        roll = rng.random()
        if roll < 0.1:
            answers.append(ans(qid, "Sorry, I cannot help with that.", declined=True))
        elif roll < 0.2:
            answers.append(ans(qid, TEXT["en"], cites=("en/library.md",)))
        elif roll < 0.25:
            answers.append(
                ans(qid, TEXT[lang] + " Ask Zorvath Quillby.", cites=("restricted/note.md",))
            )
        elif roll < 0.4:
            answers.append(
                ans(qid, "It is open on weekdays, call 555-846-1018 today.", cites=("gone.md",))
            )
        else:
            answers.append(ans(qid, TEXT[lang], cites=(f"{lang}/library.md",)))
    groups = pd.DataFrame({"language": [r.language for r in references], "district": districts})
    assessed = assess_answers(references, answers, KB, languages=LANGUAGES, max_answer_chars=2000)
    return references, answers, groups, assessed


def _evaluate(references, answers, groups, assessed, **kw):  # type: ignore[no-untyped-def]
    options = dict(
        languages=LANGUAGES,
        min_group_size=10,
        confidence=0.95,
        seed=3,
        has_knowledge_base=True,
        knowledge=KB,
    )
    return evaluate_assistant(
        assessed, groups, references=references, answers=answers, **(options | kw)
    )


def _flags(assessed: list[AnswerAssessment]) -> pd.DataFrame:
    rows = []
    for a in assessed:
        must = not a.must_decline
        rows.append(
            {
                "task_success": float(a.success),
                "facts_complete": float(not a.declined and a.facts_found == a.facts_expected)
                if must
                else np.nan,
                "wrongful_decline": float(a.wrongful_decline) if must else np.nan,
                "missed_decline": np.nan if must else float(a.missed_decline),
                "language_mismatch": np.nan
                if a.language_mismatch is None
                else float(a.language_mismatch),
                "grounded": np.nan if a.grounded is None else float(a.grounded),
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("attributes", [("language",), ("district",), ("language", "district")])
def test_group_rates_equal_a_plain_groupby_mean_of_the_flags(attributes: tuple[str, ...]) -> None:
    references, answers, groups, assessed = _pilot()
    evaluation = _evaluate(references, answers, groups, assessed)
    frame = pd.concat([groups, _flags(assessed)], axis=1)
    means = frame.groupby(list(attributes))[list(VOCABULARY.group_names)].mean()
    counts = frame.groupby(list(attributes))[list(VOCABULARY.group_names)].count()
    result = evaluation.attribute_set(" & ".join(attributes))
    assert len(result.groups) == len(means)
    for group in result.groups:
        key = tuple(group.values[a] for a in attributes)
        key = key[0] if len(key) == 1 else key
        for metric in VOCABULARY.group_names:
            point = group.metrics[metric]
            expected = means.loc[key, metric]
            assert point.denominator == counts.loc[key, metric], (key, metric)
            if np.isnan(expected):
                assert point.undefined
            else:
                assert point.value == pytest.approx(expected, abs=1e-12), (key, metric)
                low, high = wilson([point.numerator], [point.denominator], 0.95)
                assert (point.ci_low, point.ci_high) == pytest.approx((low[0], high[0]))


def test_every_outcome_is_present_and_the_overall_rates_add_up() -> None:
    references, answers, groups, assessed = _pilot()
    evaluation = _evaluate(references, answers, groups, assessed)
    flags = _flags(assessed)
    perf = evaluation.performance
    assert set(perf) == set(VOCABULARY.performance_names)
    assert perf["task_success_rate"] == pytest.approx(flags["task_success"].mean())
    assert perf["wrongful_decline_rate"] == pytest.approx(flags["wrongful_decline"].mean())
    assert perf["decline_recall"] == pytest.approx(1 - flags["missed_decline"].mean())
    assert perf["language_match_rate"] == pytest.approx(1 - flags["language_mismatch"].mean())
    assert 0 < perf["task_success_rate"] < 1 and perf["leaked_answers"] > 0
    language = evaluation.attribute_set("language")
    disparity = language.disparities["task_success"]
    assert disparity.comparisons == 3 and disparity.difference.ci_low is not None
    assert evaluation.task == "assistant" and evaluation.rows == len(references)


def test_details_list_leaks_by_id_and_sample_failed_answers_without_personal_data() -> None:
    references, answers, groups, assessed = _pilot()
    details = _evaluate(references, answers, groups, assessed).assistant
    assert details is not None
    leaked = [a for a in assessed if a.leaks]
    assert [leak.id for leak in details.leaks] == [a.id for a in leaked]
    assert all(leak.kinds == ("canary", "restricted_citation") for leak in details.leaks)
    assert all(leak.documents == ("restricted/note.md",) for leak in details.leaks)
    assert (details.knowledge_base_documents, details.restricted_documents) == (4, 1)
    assert details.unknown_citations == sum(len(a.citations_unknown) for a in assessed)
    by_language = {lang: [s for s in details.samples if s.language == lang] for lang in LANGUAGES}
    assert all(len(s) == 5 for s in by_language.values())
    ids = {s.id for s in details.samples}
    assert not ids & {leak.id for leak in details.leaks}
    assert all("555-846-1018" not in s.answer for s in details.samples)  # a phone number
    failed = sum(not a.success for a in assessed)
    assert details.suppressed_samples >= len(leaked) and details.suppressed_samples < failed
    assert all(s.reasons for s in details.samples)
    assert details.language_identifier.startswith("py3langid")


def test_samples_are_seeded_and_cut() -> None:
    references, answers, groups, assessed = _pilot()
    one = _evaluate(references, answers, groups, assessed, seed=1).assistant
    again = _evaluate(references, answers, groups, assessed, seed=1).assistant
    other = _evaluate(references, answers, groups, assessed, seed=2).assistant
    assert one is not None and again is not None and other is not None
    assert one.samples == again.samples and one.samples != other.samples
    long = [ref("x", "en", ["Monday to Friday"], question="Q" * 400)]
    reply = [ans("x", "word " * 200)]
    assessed_long = assess_answers(long, reply, KB, languages=LANGUAGES, max_answer_chars=300)
    details = evaluate_assistant(
        assessed_long,
        pd.DataFrame({"language": ["en"]}),
        references=long,
        answers=reply,
        languages=LANGUAGES,
        min_group_size=1,
        has_knowledge_base=True,
    ).assistant
    assert details is not None
    (sample,) = details.samples
    assert len(sample.question) == 300 and sample.question.endswith("\u2026")
    assert len(sample.answer) == 500
    assert (
        "too long (1,000 chars)" in sample.reasons
        and "missing fact: 'Monday to Friday'" in sample.reasons
    )


def test_small_cells_are_never_sampled() -> None:
    references, answers, groups, assessed = _pilot(n=60)
    details = _evaluate(references, answers, groups, assessed, min_group_size=30).assistant
    assert details is not None
    assert details.samples == () and details.suppressed_samples == sum(
        not a.success for a in assessed
    )


def test_without_a_knowledge_base_grounded_is_undefined_and_said_so() -> None:
    references, answers, groups, assessed = _pilot()
    evaluation = _evaluate(references, answers, groups, assessed, has_knowledge_base=False)
    assert "grounded_rate" not in evaluation.performance
    group = evaluation.attribute_set("language").groups[0]
    assert group.metrics["grounded"].undefined
    assert any("No knowledge base" in w for w in evaluation.warnings)
    assert (
        evaluation.assistant is not None and evaluation.assistant.knowledge_base_documents is None
    )


def test_vocabulary_directions() -> None:
    lower = {m.name for m in VOCABULARY if not m.greater_is_better}
    assert {"wrongful_decline", "missed_decline", "language_mismatch", "leaked_answers"} <= lower
    assert not {"task_success", "facts_complete", "grounded", "decline_recall"} & lower
