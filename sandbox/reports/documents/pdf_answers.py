"""The PDF's "Answers" section for an assistant pilot: counts, disclosures, a chart, samples.

It follows the per-group tables the PDF prints for every task type, and shows what
:mod:`sandbox.reports.answers` prepares: the counts behind the rates, the answers that disclosed
restricted material (question ids, kinds and document ids, never the text), task success per
language as bars with their intervals (a suppressed language shows no bar), and the failed
answers sampled per language. Questions, answers and ids are pilot or vendor text: the
writer prints them as it prints every other string (as plain text, a character the font lacks
as its code point), cut to a readable length first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sandbox.reports.answers import answers_view, leak_kinds_text
from sandbox.reports.documents.fonts import SANS, shown_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fpdf import FPDF

    from sandbox.evaluation.result import AttributeSetResult
    from sandbox.reports.answers import AnswersView
    from sandbox.reports.model import AuditReport

__all__ = ["write_answers"]


def pdf_text(text: str) -> str:
    """Text as the PDF prints it (as in :mod:`sandbox.reports.documents.pdf`)."""
    return shown_text(str(text))


class _Writer(Protocol):
    """The layout helpers of the PDF's writer this section uses."""

    report: AuditReport
    pdf: FPDF

    def heading(self, text: str, level: int = 1) -> None: ...
    def para(self, text: str, *, size: float = 9.5, style: str = "") -> None: ...
    def bullets(self, items: list[str]) -> None: ...
    def table(
        self,
        header: tuple[str, ...],
        rows: Sequence[tuple[str, ...]],
        widths: tuple[float, ...],
        *,
        size: float = 8.5,
        align: tuple[str, ...] | None = None,
        mono: bool = False,
    ) -> None: ...
    def bars(self, result: AttributeSetResult, metric: str = "selection_rate") -> None: ...


def _disclosures(w: _Writer, view: AnswersView) -> None:
    w.heading("Disclosures", 2)
    details = view.details
    if not view.leaks:
        w.para(
            "No knowledge base was given, so restricted documents could not be checked."
            if details.knowledge_base_documents is None
            else "No answer quoted or cited a restricted document or a planted canary."
        )
        return
    w.para(
        f"{len(details.leaks):,} answer(s) disclosed restricted material. They are listed by "
        "question id; the answers' text is not repeated.",
        style="B",
    )
    rows = [
        (leak.id, leak_kinds_text(leak), ", ".join(leak.documents) or "none (a canary)")
        for leak in view.leaks
    ]
    w.table(("Question", "How", "Restricted documents"), rows, (40, 70, 70), size=8)
    if view.leaks_not_listed:
        w.para(f"{view.leaks_not_listed:,} more are listed in report.json.", size=8.5)


def _indented(w: _Writer, text: str, style: str = "", size: float = 8.5) -> None:
    """A paragraph set in from the margin, wrapped at any character (ids have no spaces)."""
    pdf = w.pdf
    pdf.set_font(SANS, style=style, size=size)
    pdf.set_x(pdf.l_margin + 5)
    pdf.multi_cell(
        pdf.epw - 5, size * 0.5, pdf_text(text), align="L", new_x="LMARGIN", new_y="NEXT"
    )


def _samples(w: _Writer, view: AnswersView, min_group_size: int) -> None:
    w.heading("Failed answers, a sample per language", 2)
    w.para(
        "An answer is never sampled when it disclosed restricted material, when its question "
        "or answer looks like personal data, or when its language and group cell has fewer "
        f"than {min_group_size} questions. {view.details.suppressed_samples:,} failed "
        "answer(s) were left out because they could identify a resident.",
        size=8.5,
    )
    for group in view.samples:
        w.para(f"Language: {group.language}", style="B")
        if not group.samples:
            w.para("No failed answer to show in this language.", size=8.5)
        for s in group.samples:
            _indented(w, f"Question {s.id}", "B", 8)
            _indented(w, s.question)
            _indented(w, f"Answer: {s.answer or '(empty)'}")
            _indented(w, "Why it failed: " + "; ".join(s.reasons), "I")
            w.pdf.ln(2)


def write_answers(w: _Writer) -> None:
    """The Answers section, when the report's evaluation is an assistant's; else nothing."""
    ev = w.report.evaluation
    view = answers_view(ev) if ev is not None else None
    if ev is None or view is None:
        return
    w.heading("Answers")
    w.table(("Item", "Value"), [*view.counts], (120, 60), align=("LEFT", "RIGHT"))
    w.para(
        f"Language of each answer: {view.details.language_identifier}. Declined "
        "answers and answers under 20 letters are not assessed for language.",
        size=8.5,
    )
    _disclosures(w, view)
    if view.by_language is not None:
        w.heading("Task success by language", 2)
        overall = view.overall.get("task_success")
        w.para(
            "Share of each language's questions answered fully and correctly, or declined when "
            f"they had to be (bars; lines show the {ev.confidence:.0%} interval"
            + (f"; overall {overall:.3f}" if overall is not None else "")
            + ").",
            size=8.5,
        )
        w.bars(view.by_language, "task_success")
    _samples(w, view, ev.min_group_size)
