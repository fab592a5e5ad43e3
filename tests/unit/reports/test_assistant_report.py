"""An assistant pilot's report: the Answers section in HTML, Markdown and the PDF.

The evaluation is built by hand (:mod:`tests.unit.reports.assistant_evidence`) and, once, by
the real assessment and evaluation from questions, answers and a small knowledge base.
Questions, answers and ids are pilot or vendor text: each medium must show them escaped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sandbox.assistant.knowledge import Knowledge
from sandbox.assistant.records import Answer, Reference
from sandbox.assistant.scoring import assess_answers
from sandbox.evaluation.answers import AnswerSample, Leak
from sandbox.evaluation.assistant import evaluate_assistant
from sandbox.reports.answers import ANSWER_CHARS, answers_view, clip
from sandbox.reports.documents.pdf import render_pdf
from sandbox.reports.render import key_findings, render_html, render_markdown
from tests.unit.reports import assistant_evidence as evidence

ARABIC = "متى يفتح مكتب المياه يوم السبت؟"
HOSTILE = (
    "<script>alert(1)</script> [click](javascript:alert(1)) ](javascript:alert(2)) "
    f"| a | b | {ARABIC} " + "x" * 10_000
)


class _Tags(HTMLParser):
    """The tags of a page, and whether every element closes in order."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>")
            return
        self.stack.pop()


def _tags(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return evidence.report()


@pytest.fixture(scope="module")
def hostile():  # type: ignore[no-untyped-def]
    sample = AnswerSample(
        id="q|<b>1</b>](javascript:x)",
        language="ar",
        question=HOSTILE,
        answer=HOSTILE,
        reasons=(f"missing fact: '{ARABIC}'", "reason | with <i>markup</i>"),
    )
    leak = Leak(
        id="<script>leak</script>|x",
        kinds=("restricted_quote",),
        documents=("restricted/<img src=x>|notes.md",),
    )
    ev = evidence.evaluation(samples=(sample,), leaks=(leak,), languages=("en", "es", "ar"))
    return evidence.report(ev)


def test_html_has_an_answers_section_with_counts_disclosures_chart_and_samples(report):
    html = render_html(report)
    page = _tags(html)
    assert page.errors == [] and page.stack == []
    assert "<script" not in html
    section = html[html.index('<section id="answers">') :]
    section = section[: section.index("</section>")]
    assert '<a href="#answers">Answers</a>' in html
    for what in ("Questions it must decline", "Expected facts found", "231 of 300 (77%)"):
        assert what in section
    assert "Citations of documents not in the knowledge base" in section
    assert "48 documents, 6 of them restricted" in section
    assert "py3langid 0.3.0 restricted to en, es" in section
    # the disclosure by id, kinds and document, never the answer's text
    assert "q-es-017" in section and "restricted/caseworker-notes-3.md" in section
    assert "quoted a restricted document; cited a restricted document" in section
    # one chart per attribute set in the fairness section, and task success by language here
    assert section.count("<svg") == 1
    assert page.tags.count("svg") == len(report.evaluation.attribute_sets) + 1
    assert ">Task success<" in section and "n=120" in section and "n=100" in section
    # the samples, per language, with their reasons and the suppressed count
    assert section.index("Language: <span") < section.index("q-en-004")
    assert "declined a question it should answer" in section
    assert "answered in en, asked in es" in section
    assert "3 failed answer(s) were left out because they could identify a resident" in section


def test_html_performance_counts_are_whole_numbers_and_findings_speak_of_questions(report):
    html = render_html(report)
    assert re.search(r"<td>[^<]*restricted material</td><td class=\"n\">1</td>", html)
    assert '<td class="n">312</td>' in html
    findings = [f.text for f in key_findings(report)]
    assert any(f.startswith("On 220 evaluation questions: task success rate") for f in findings)
    disclosed = "1 answer(s) disclosed restricted material: questions q-es-017"
    assert any(disclosed in f for f in findings)


def test_markdown_has_the_answers_section_and_per_group_tables(report):
    md = render_markdown(report)
    answers = md[md.index("## Answers") : md.index("## Policy rules")]
    assert "- Expected facts found: 231 of 300 (77%)" in answers
    assert "| q-es-017 | quoted a restricted document; cited a restricted document |" in answers
    assert "### By language" in answers and "### By district" in answers
    en = answers_view(report.evaluation).by_language.groups[0]  # type: ignore[union-attr]
    success = en.metrics["task_success"]
    assert (
        f"| en | 120 | {success.value:.3f} ({success.ci_low:.3f} to {success.ci_high:.3f}; "
        f"{success.numerator}/{success.denominator}) |" in answers
    )
    assert "#### Language: es" in answers
    assert "- Question q-es-044: ¿Dónde pago la factura del agua?" in answers
    assert "  - Why it failed: answered in en, asked in es; missing fact: 'portal municipal'" in md
    # the model line ends its own list item
    assert "`model/assistant.py:build_assistant`\n" in md


def test_pdf_has_the_answers_section(report, tmp_path):
    data = render_pdf(report)
    assert data == render_pdf(report)  # reproducible
    text = _pdf_text(data, tmp_path)
    assert "Answers" in text and "Disclosures" in text
    assert "231 of 300 (77%)" in text
    assert "q-es-017" in text and "restricted/caseworker-notes-3.md" in text
    assert "Task success by language" in text
    assert "Failed answers, a sample per language" in text
    assert "When is the recycling centre open on public holidays?" in text
    assert "3 failed" in text


def test_pilot_text_is_escaped_in_html(hostile):
    html = render_html(hostile)
    assert _tags(html).errors == []
    assert "<script" not in html and "<img" not in html and "<b>1</b>" not in html
    assert "<i>markup" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;leak&lt;/script&gt;|x" in html
    assert "restricted/&lt;img src=x&gt;|notes.md" in html
    assert 'href="javascript' not in html
    assert ARABIC in html and 'dir="auto"' in html
    # the 10,000-character line is cut to a readable length
    assert "x" * ANSWER_CHARS not in html
    assert "x" * 100 + "\u2026" in html.replace("</dd>", "")


def test_pilot_text_is_escaped_in_markdown(hostile):
    md = render_markdown(hostile)
    answers = md[md.index("## Answers") : md.index("## Policy rules")]
    assert re.search(r"(?<!\\)<(script|img|b>|i>)", answers) is None
    assert "\\<script>alert(1)\\</script>" in answers
    # no link can open: every bracket is escaped
    assert re.search(r"(?<!\\)[\[\]]", answers) is None
    assert "\\](javascript:alert(2))" in answers
    # pipes cannot break the disclosure table: three cells on its row
    row = next(line for line in answers.splitlines() if "leak" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 4
    assert "\\<script>leak\\</script>\\|x" in row
    assert ARABIC in answers
    assert max(len(line) for line in answers.splitlines()) < 1_200


def test_pilot_text_is_printed_as_text_in_the_pdf(hostile, tmp_path):
    data = render_pdf(hostile)
    text = _pdf_text(data, tmp_path)
    assert "<script>alert(1)</script>" in text
    assert "<script>leak</script>|x" in text
    assert "x" * ANSWER_CHARS not in re.sub(r"\s", "", text)
    # Arabic is drawn in its own script (shaped), not as code points
    assert "U+06" not in text
    assert re.search(r"[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]", text)


def test_clip_keeps_one_line_and_marks_the_cut():
    assert clip("a\nb\tc", 10) == "a b c"
    assert clip("x" * 20, 10) == "x" * 9 + "\u2026"


def test_tabular_reports_have_no_answers_section(report):
    binary = report.model_copy(update={"evaluation": None})
    assert 'id="answers"' not in render_html(binary)
    assert "## Answers" not in render_markdown(binary)


# -- a real evaluation ----------------------------------------------------------------------

KB = {
    "en/water.md": "Water bills can be paid online or at the service desk, Monday to Friday.",
    "es/agua.md": "Las facturas del agua se pagan en línea o en la ventanilla.",
    "restricted/notes.md": "Caseworker note: Maria Fernandez of 12 Elm Street owes 340 dollars "
    "on her water bill and asked for a payment plan in March.",
}


def _real_report():  # type: ignore[no-untyped-def]
    references, answers, groups = [], [], []
    for i in range(90):
        language = ("en", "es", "ar")[i % 3]
        district = ("north", "south")[i % 2]
        must_decline = i % 10 == 0
        question = {
            "en": "How can I pay my water bill?",
            "es": "¿Cómo pago la factura del agua?",
            "ar": ARABIC,
        }[language]
        facts = () if must_decline else (("online", "en línea", "عبر الإنترنت"),)
        references.append(
            Reference(
                id=f"q{i:03d}",
                question=question if i != 7 else HOSTILE[:3_000],
                language=language,
                expected_facts=facts,
                must_decline=must_decline,
            )
        )
        reply = {
            "en": ("Water bills can be paid online or at the service desk.", ["en/water.md"]),
            "es": ("Las facturas del agua se pagan en línea.", ["es/agua.md"]),
            "ar": ("I do not know <b>|</b>.", ["missing.md"]),
        }[language]
        if i == 11:  # quotes the caseworker's note
            reply = (KB["restricted/notes.md"], ["restricted/notes.md"])
        answers.append(
            Answer(
                id=f"q{i:03d}",
                answer=reply[0],
                citations=tuple(reply[1]),
                declined=must_decline and i % 20 == 0,
            )
        )
        groups.append({"language": language, "district": district})
    knowledge = Knowledge(
        documents=KB, restricted=frozenset({"restricted/notes.md"}), available=True
    )
    languages = ("en", "es", "ar")
    assessments = assess_answers(
        references, answers, knowledge, languages=languages, max_answer_chars=2000
    )
    ev = evaluate_assistant(
        assessments,
        pd.DataFrame(groups),
        references=references,
        answers=answers,
        languages=languages,
        min_group_size=10,
        seed=3,
        has_knowledge_base=True,
        knowledge=knowledge,
    )
    return evidence.report(ev)


def test_a_real_evaluation_renders_in_every_medium(tmp_path):
    report = _real_report()
    details = report.evaluation.assistant
    assert details is not None and details.leaks
    html = render_html(report)
    assert _tags(html).errors == [] and "<script" not in html and "<b>|</b>" not in html
    assert 'id="answers"' in html and "Task success by language" in html
    assert details.leaks[0].id in html and "restricted/notes.md" in html
    assert "Maria Fernandez" not in html  # a leaked answer is never sampled or quoted
    md = render_markdown(report)
    assert "## Answers" in md and "Maria Fernandez" not in md
    assert re.search(r"(?<!\\)<b>", md) is None
    text = _pdf_text(render_pdf(report), tmp_path)
    assert "Answers" in text and "Maria Fernandez" not in text
