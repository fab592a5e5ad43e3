"""Transparency documents derived from a run's report alone.

``report.json`` is the source of truth; each document here is a rendering of it for one
reader, and states nothing the report does not hold:

- ``model-card.md``: the model card (details, intended use, factors, metrics with intervals,
  evaluation and training data, ethical considerations, caveats);
- ``datasheet.md`` and ``datasheet.json``: the data (hashes, rows, columns, missingness,
  group representation, small cells suppressed);
- ``atrs.json`` and ``atrs.md``: an algorithmic transparency record with the sections of the
  UK ATRS, every field sourced or listed as a gap;
- ``notice.en.md``, ``notice.es.md``, ``notice.fr.md``: plain-language notices for residents;
- ``report.pdf``: the full report as a PDF (``pdf.py``; an assistant's Answers section in
  ``pdf_answers.py``; ``pdf_document.py`` breaks its text into lines in linear time;
  ``pdf_process.py`` renders it in a process started early, where a command has a spare core).

An assistant pilot's documents take their assistant wording (capability, what residents are
told, the evaluation set and knowledge base) from ``assistant.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment

from sandbox.reports.documents._facts import as_text
from sandbox.reports.documents.atrs import atrs_json, atrs_record
from sandbox.reports.documents.datasheet import datasheet, datasheet_json
from sandbox.reports.documents.model_card import render_model_card
from sandbox.reports.documents.notice import LANGUAGES, render_notice

if TYPE_CHECKING:
    from sandbox.reports.model import AuditReport

__all__ = [
    "DOCUMENT_FILES",
    "PdfRenderer",
    "atrs_record",
    "datasheet",
    "document_environment",
    "render_documents",
    "write_transparency_documents",
]

_TEMPLATES = Path(__file__).parent / "templates"
PdfRenderer = Callable[["AuditReport"], bytes]

#: Kind (as returned by :func:`write_transparency_documents`) -> file name.
DOCUMENT_FILES: dict[str, str] = {
    "model_card": "model-card.md",
    "datasheet_md": "datasheet.md",
    "datasheet_json": "datasheet.json",
    "atrs_json": "atrs.json",
    "atrs_md": "atrs.md",
    **{f"notice_{lang}": f"notice.{lang}.md" for lang in LANGUAGES},
    "pdf": "report.pdf",
}


def document_environment(cache_dir: Path | None = None) -> Environment:
    """The Jinja environment of the document templates (the report's filters and more).

    With ``cache_dir``, compiled templates are kept there for the next process.
    """
    from sandbox.reports.render import metric_display, template_environment

    env = template_environment(_TEMPLATES, cache_dir=cache_dir)
    env.filters.update(text=as_text, metric_name=metric_display)
    return env


def render_documents(report: AuditReport, *, cache_dir: Path | None = None) -> dict[str, str]:
    """Every text document (all but the PDF), by kind (``cache_dir``: compiled templates)."""
    env = document_environment(cache_dir)
    record = atrs_record(report)
    sheet = datasheet(report)
    name = record["tier_1"]["overview"]["fields"].get("name", {}).get("value")
    texts = {
        "model_card": render_model_card(report, env),
        "datasheet_md": env.get_template("datasheet.md.j2").render(sheet=sheet),
        "datasheet_json": datasheet_json(sheet),
        "atrs_json": atrs_json(record),
        "atrs_md": env.get_template("atrs.md.j2").render(
            record=record, gen=record["generated_from"], name=name
        ),
    }
    for lang in LANGUAGES:
        texts[f"notice_{lang}"] = render_notice(report, lang, env)
    return texts


def write_transparency_documents(
    report: AuditReport,
    out_dir: Path | str,
    *,
    cache_dir: Path | None = None,
    render_pdf: PdfRenderer | None = None,
) -> dict[str, Path]:
    """Write the model card, datasheet, ATRS record, notices and ``report.pdf`` into ``out_dir``.

    ``cache_dir`` keeps the compiled templates for the next process; ``render_pdf`` renders
    the PDF (by default ``pdf.render_pdf``; a ``PdfProcess`` gives the same bytes).
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for kind, text in render_documents(report, cache_dir=cache_dir).items():
        path = folder / DOCUMENT_FILES[kind]
        path.write_text(text, encoding="utf-8")
        paths[kind] = path
    pdf_path = folder / DOCUMENT_FILES["pdf"]
    pdf_path.write_bytes((render_pdf or _render_here)(report))
    paths["pdf"] = pdf_path
    return paths


def _render_here(report: AuditReport) -> bytes:
    from sandbox.reports.documents.pdf import render_pdf  # fpdf2: loaded only when needed

    return render_pdf(report)
