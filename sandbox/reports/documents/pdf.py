"""The full report as a PDF (fpdf2, pure Python): verdict, findings, groups, rules, provenance.

The PDF is meant for publication: it applies the run's small-cell suppression decision
(:mod:`sandbox.reports.disclosure`), so no count or metric of a suppressed group, no difference
or ratio whose highest or lowest group is suppressed, and no warning that names one is printed;
the reason a run failed is given in one line, without the model's error output. Text is set in
DejaVu Sans (:mod:`sandbox.reports.documents.fonts`): names in any script print as written. The
creation date is the run's finish time: the same report always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any

from sandbox.reports.answers import metric_digits
from sandbox.reports.disclosure import disparity_hidden, hidden_groups, publishable
from sandbox.reports.documents.fonts import MONO, SANS, needs_shaping, shown_text
from sandbox.reports.documents.pdf_answers import write_answers
from sandbox.reports.render import (
    METRIC_NAMES,
    VERDICT_TEXT,
    importance_rows_text,
    key_findings,
    overall_rates,
    vocabulary_names,
)

if TYPE_CHECKING:
    from fpdf import FPDF

    from sandbox.evaluation.result import AttributeSetResult, Disparity, Estimate
    from sandbox.reports.model import AuditReport

__all__ = ["pdf_text", "render_pdf"]

_VERDICT_COLOURS = {
    "pass": (0, 110, 60),
    "pass_with_warnings": (170, 110, 0),
    "fail": (180, 30, 30),
    "blocked": (110, 20, 20),
}
_TONE_MARK = {"alert": "[!]", "warn": "[~]", "ok": "[ok]", "info": "[i]"}
_GREY = (225, 225, 225)
_STRIPE = (246, 246, 246)
_BAR = (0, 114, 178)
_HIDDEN = "suppressed"


def pdf_text(text: Any) -> str:
    """Text as the PDF prints it: as written, a character the font lacks as its code point."""
    written = str(text)  # the font draws all of printable ASCII: nothing to look up
    return written if written.isascii() and written.isprintable() else shown_text(written)


def _cell(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _num(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:,}" if isinstance(value, int) else f"{value:.{digits}f}"


def _with_interval(estimate: Estimate) -> str:
    if estimate.value is None:
        return "n/a"
    text = f"{estimate.value:.3f}"
    if estimate.undefined:
        return text + " (undefined)"
    if estimate.ci_low is not None and estimate.ci_high is not None:
        text += f" [{estimate.ci_low:.3f}, {estimate.ci_high:.3f}]"
    return text


def _disparity(report: AuditReport, set_name: str, d: Disparity | None) -> tuple[str, str]:
    """(difference with interval, ratio) as printed: suppressed when a hidden group is an end."""
    if d is None:
        return "n/a", "n/a"
    if disparity_hidden(report, set_name, d):
        return _HIDDEN, _HIDDEN
    return _with_interval(d.difference), _num(d.ratio.value)


def _group_rows(
    report: AuditReport, result: AttributeSetResult, metrics: tuple[str, ...]
) -> list[tuple[str, ...]]:
    """One row per group: label, rows and each metric; suppressed groups show no number."""
    hidden = hidden_groups(report, result.name)
    minimum = report.evaluation.min_group_size if report.evaluation else 0
    rows: list[tuple[str, ...]] = []
    for g in result.groups:
        if g.label in hidden:
            count = f"<{minimum}" if g.count < minimum else _HIDDEN
            rows.append((g.label, count, *([_HIDDEN] * len(metrics))))
        else:
            label = g.label + (" (small)" if g.small else "")
            rows.append((label, _num(g.count), *(_with_interval(g.metrics[m]) for m in metrics)))
    return rows


class _Writer:
    """Small layout helpers over one FPDF document."""

    def __init__(self, report: AuditReport, pdf: FPDF) -> None:
        self.report = report
        self.pdf = pdf
        pdf.set_margins(15, 15, 15)
        pdf.set_auto_page_break(auto=True, margin=18)
        pilot = report.pilot
        footer = pdf_text(f"{pilot.name} {pilot.version} - run {report.run.run_id}")

        def _footer() -> None:
            pdf.set_y(-12)
            pdf.set_font(SANS, size=8)
            pdf.set_text_color(90, 90, 90)
            pdf.cell(0, 5, footer, align="L")
            pdf.set_x(pdf.l_margin)
            pdf.cell(0, 5, f"page {pdf.page_no()} of {pdf.str_alias_nb_pages}", align="R")
            pdf.set_text_color(0, 0, 0)

        pdf.footer = _footer  # type: ignore[method-assign]
        when = report.run.finished_at or report.run.started_at
        pdf.set_creation_date(when.astimezone(UTC))
        pdf.set_title(pdf_text(f"Audit report: {pilot.name} {pilot.version}"))
        pdf.set_author(pdf_text(f"{pilot.city}, {pilot.department or ''}".strip(", ")))
        pdf.set_subject(pdf_text(f"Run {report.run.run_id}"))
        pdf.set_creator("AI Commons Sandbox")
        pdf.add_page()

    @property
    def width(self) -> float:
        return float(self.pdf.epw)

    def heading(self, text: str, level: int = 1) -> None:
        pdf = self.pdf
        size = {0: 18, 1: 14, 2: 11}[level]
        if level == 1 and pdf.get_y() > pdf.h - 60:
            pdf.add_page()
        pdf.ln(3 if level else 0)
        pdf.set_font(SANS, style="B", size=size)
        pdf.multi_cell(0, size * 0.5, pdf_text(text), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
        pdf.set_font(SANS, size=9.5)

    def para(self, text: str, *, size: float = 9.5, style: str = "") -> None:
        pdf = self.pdf
        pdf.set_font(SANS, style=style, size=size)
        pdf.multi_cell(0, size * 0.5, pdf_text(text), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def bullets(self, items: list[str]) -> None:
        pdf = self.pdf
        pdf.set_font(SANS, size=9.5)
        for item in items:
            pdf.set_x(pdf.l_margin)
            pdf.cell(5, 4.8, "-")
            pdf.multi_cell(0, 4.8, pdf_text(item), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def table(
        self,
        header: tuple[str, ...],
        rows: Sequence[tuple[str, ...]],
        widths: tuple[float, ...],
        *,
        size: float = 8.5,
        align: tuple[str, ...] | None = None,
        mono: bool = False,
    ) -> None:
        from fpdf.fonts import FontFace

        pdf = self.pdf
        pdf.set_font(MONO if mono else SANS, size=size)
        headings = FontFace(family=SANS, emphasis="BOLD", fill_color=_GREY)
        pdf.set_fill_color(255, 255, 255)
        with pdf.table(
            cell_fill_color=_STRIPE,
            cell_fill_mode="ROWS",
            col_widths=widths,
            text_align=align or ("LEFT",) * len(header),
            headings_style=headings,
            line_height=size * 0.48,
            padding=1,
            width=self.width,
        ) as table:
            table.row([pdf_text(h) for h in header])
            for values in rows:
                # A cell taller than a page cannot be drawn: long values are cut (JSON keeps them)
                table.row([_cell(pdf_text(v)) for v in values])
        pdf.set_font(SANS, size=9.5)
        pdf.ln(2)

    def bars(self, result: AttributeSetResult, metric: str = "selection_rate") -> None:
        """A rate per group, with its interval, as horizontal bars (none if hidden)."""
        hidden = hidden_groups(self.report, result.name)
        pdf = self.pdf
        label_w, bar_w, row_h = 62.0, 95.0, 5.0
        needed = row_h * (len(result.groups) + 2)
        if pdf.get_y() + needed > pdf.h - 20:
            pdf.add_page()
        pdf.set_font(SANS, size=8)
        for group in result.groups:
            estimate = group.metrics[metric]
            y = pdf.get_y()
            x0 = pdf.l_margin + label_w
            pdf.set_x(pdf.l_margin)
            small = " (small)" if group.small else ""
            pdf.cell(label_w - 2, row_h, pdf_text(group.label + small)[:48], align="R")
            if group.label in hidden:
                pdf.set_xy(x0, y)
                pdf.cell(bar_w, row_h, _HIDDEN)
                pdf.set_xy(pdf.l_margin, y + row_h)
                continue
            value = estimate.value or 0.0
            pdf.set_fill_color(*_BAR)
            pdf.rect(x0, y + 1, max(0.3, bar_w * value), row_h - 2, style="F")
            if estimate.ci_low is not None and estimate.ci_high is not None:
                pdf.set_draw_color(40, 40, 40)
                mid = y + row_h / 2
                pdf.line(x0 + bar_w * estimate.ci_low, mid, x0 + bar_w * estimate.ci_high, mid)
            pdf.set_xy(x0 + bar_w + 2, y)
            pdf.cell(20, row_h, f"{value:.3f}")
            pdf.set_xy(pdf.l_margin, y + row_h)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_fill_color(255, 255, 255)
        pdf.ln(2)


def _summary(w: _Writer) -> None:
    report = w.report
    pilot, run, verdict = report.pilot, report.run, report.verdict
    w.heading(f"Audit report: {pilot.title or pilot.name} {pilot.version}", 0)
    label, text = VERDICT_TEXT[verdict.status]
    pdf = w.pdf
    pdf.set_fill_color(*_VERDICT_COLOURS[verdict.status])
    pdf.set_text_color(255, 255, 255)
    pdf.set_font(SANS, style="B", size=13)
    pdf.cell(0, 10, pdf_text(f"  Governance verdict: {label.upper()}"), fill=True)
    pdf.ln(10)
    pdf.set_text_color(0, 0, 0)
    pdf.set_fill_color(255, 255, 255)
    pdf.ln(1)
    w.para(text, size=9.5)
    if report.failure is not None:
        w.para(f"Why the run failed: {report.failure.reason}.", style="B")
    facts = [
        ("Pilot", f"{pilot.name} {pilot.version}"),
        ("City", f"{pilot.city}" + (f", {pilot.department}" if pilot.department else "")),
        ("Contact", pilot.contact or "not stated"),
        ("Task", pilot.task.replace("_", " ")),
        ("Run", f"{run.run_id} ({run.state})"),
        ("Started", run.started_at.isoformat()),
        ("Finished", run.finished_at.isoformat() if run.finished_at else "n/a"),
        (
            "Policy pack",
            f"{verdict.pack}: {len(verdict.outcomes)} rule checks, "
            f"{len(verdict.failures)} did not hold",
        ),
    ]
    w.table(("Item", "Value"), facts, (28, 152), size=9)
    if pilot.purpose:
        w.para("Purpose: " + pilot.purpose)
    w.heading("Key findings")
    w.bullets([f"{_TONE_MARK[f.tone]} {f.text}" for f in key_findings(report, publication=True)])


def _task_fairness(w: _Writer, metrics: dict[str, str]) -> None:
    """Per attribute set: each group's value of every metric of the task's vocabulary."""
    ev = w.report.evaluation
    if ev is None:
        return
    w.heading("Fairness by attribute set")
    width = 120 / max(len(metrics), 1)
    for r in ev.attribute_sets:
        w.heading(r.name, 2)
        rows = _group_rows(w.report, r, tuple(metrics))
        w.table(("Group", "Rows", *metrics.values()), rows, (45, 15, *[width] * len(metrics)))


def _evaluation(w: _Writer) -> None:
    ev = w.report.evaluation
    if ev is None:
        w.heading("Fairness and performance")
        w.para("No evaluation is available for this run: the pilot's model was not assessed.")
        return
    w.heading("Performance")
    names = vocabulary_names(ev)
    rows = [
        (name, _num(ev.performance[k], metric_digits(k)))
        for k, name in names["PERFORMANCE_NAMES"].items()
        if k in ev.performance
    ]
    w.table(("Metric", "Value"), rows, (120, 60), align=("LEFT", "RIGHT"))
    if ev.counts is None:  # not a classifier: one table per set over the task's own metrics
        _task_fairness(w, names["METRIC_NAMES"])
        return
    w.heading("Fairness by attribute set")
    w.para(
        f"{ev.confidence:.0%} intervals in brackets. Difference = highest minus lowest group; "
        f"ratio = lowest over highest. Groups under {ev.min_group_size} evaluation rows are "
        "suppressed, and so "
        "is the next smallest where a hidden one could be derived from a total, and so is a "
        "difference or ratio whose highest or lowest group is suppressed."
    )
    summary: list[tuple[str, ...]] = []
    for r in ev.attribute_sets:
        d = r.disparities
        ff = r.four_fifths
        shown = {
            m: _disparity(w.report, r.name, d.get(m)) for m in ("selection_rate", "tpr", "fpr")
        }
        summary.append(
            (
                r.name,
                str(len(r.groups)),
                shown["selection_rate"][0],
                shown["selection_rate"][1],
                "n/a" if ff is None or ff.passed is None else ("met" if ff.passed else "below 0.8"),
                shown["tpr"][0],
                shown["fpr"][0],
            )
        )
    w.table(
        (
            "Attribute set",
            "Groups",
            "Sel. rate diff.",
            "Ratio",
            "4/5 rule",
            "TPR diff.",
            "FPR diff.",
        ),
        summary,
        (34, 13, 31, 13, 17, 36, 36),
        size=7.5,
    )
    overall = overall_rates(ev)
    for r in ev.attribute_sets:
        w.heading(r.name, 2)
        if len(r.attributes) == 1:
            w.para(
                "Selection rate per group (bars; lines show the interval; overall "
                f"{_num(overall['selection_rate'])}):",
                size=8.5,
            )
            w.bars(r)
        group_rows = _group_rows(w.report, r, ("selection_rate", "tpr", "fpr"))
        w.table(
            ("Group", "Rows", METRIC_NAMES["selection_rate"], "TPR", "FPR"),
            group_rows,
            (48, 20, 38, 37, 37),
            size=7.5,
            align=("LEFT", "RIGHT", "LEFT", "LEFT", "LEFT"),
        )
        warnings = [x for x in r.warnings if publishable(w.report, x)]
        if warnings:
            w.bullets(
                warnings[:6]
                + ([f"... and {len(warnings) - 6} more warnings"] if len(warnings) > 6 else [])
            )


def _rules_and_provenance(w: _Writer) -> None:
    report = w.report
    w.heading("Policy rules")
    rule_rows: list[tuple[str, ...]] = [
        (
            f"{o.title} ({o.rule_id})",
            o.stage.replace("_", " "),
            o.severity,
            o.outcome.replace("_", " "),
            o.message,
        )
        for o in report.verdict.outcomes
    ]
    w.table(
        ("Rule", "Stage", "Severity", "Outcome", "Message"),
        rule_rows,
        (52, 17, 15, 18, 78),
        size=7.5,
    )
    if report.explanations:
        w.heading("Feature importance")
        w.para(f"Permutation importance, measured on {importance_rows_text(report)}.", size=8.5)
        top = sorted(report.explanations, key=lambda f: abs(f.importance_mean), reverse=True)
        w.table(
            ("Feature", "Importance (mean)", "Spread (std)"),
            [(f.feature, _num(f.importance_mean), _num(f.importance_std)) for f in top[:15]],
            (100, 40, 40),
            align=("LEFT", "RIGHT", "RIGHT"),
        )
    w.heading("Provenance")
    pv = report.provenance
    rows: list[tuple[str, ...]] = [
        ("Manifest SHA-256", pv.manifest_sha256),
        ("Policy pack", pv.policy_pack_id),
        ("Policy pack SHA-256", pv.policy_pack_sha256),
    ]
    rows += [(f"Data {s.path}", s.sha256) for s in report.data.sources]
    split = report.data.split
    if split:
        fitted = "" if split.fit_rows is None else f", model fitted on {split.fit_rows:,}"
        rows += [
            ("Rows", f"{split.train_rows:,} training{fitted}; {split.eval_rows:,} evaluation"),
            ("Training rows file", split.train_sha256),
            ("Scored rows file", split.score_sha256),
        ]
    if report.runtime:
        rows += [
            ("Image", report.runtime.image),
            ("Image digest", report.runtime.image_digest or "not recorded"),
        ]
    if pv.mlflow_run_id:
        rows.append(("MLflow run", pv.mlflow_run_id))
    if pv.trail_record_hash:
        rows.append((f"Trail record {pv.trail_seq}", pv.trail_record_hash))
    w.table(("Item", "Value"), rows, (42, 138), size=7.5, mono=True)
    if report.notes:
        w.heading("Notes", 2)
        w.bullets(list(report.notes))
    w.para(
        "A disparity observed is not proof of discrimination; it is a prompt to investigate "
        "and, where needed, mitigate. Small groups and wide intervals call for caution. "
        f"report.json (schema {report.schema_version}) is the source of truth; this PDF is a "
        "rendering of it.",
        size=8.5,
        style="I",
    )


def render_pdf(
    report: AuditReport, *, document: type[FPDF] | None = None, blank: FPDF | None = None
) -> bytes:
    """The report as PDF bytes (A4). `document`: the FPDF class that lays it out (`Document`);
    `blank`: a blank document made earlier (else `prepare`'s), unless the text needs shaping."""
    from sandbox.reports.documents.pdf_document import blank_document, prepared

    shaping = needs_shaping(report.model_dump_json())
    blank = None if shaping else blank or (prepared() if document is None else None)
    if blank is None:
        blank = blank_document(shaping=shaping, document=document)
    writer = _Writer(report, blank)
    _summary(writer)
    _evaluation(writer)
    write_answers(writer)
    _rules_and_provenance(writer)
    return bytes(writer.pdf.output())
