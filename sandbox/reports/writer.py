"""Write a report and every document derived from it into one folder."""

from __future__ import annotations

from pathlib import Path

from sandbox.reports.documents import PdfRenderer, write_transparency_documents
from sandbox.reports.model import AuditReport, report_json
from sandbox.reports.render import render_html, render_markdown

__all__ = ["write_reports"]


def write_reports(
    report: AuditReport,
    out_dir: Path | str,
    *,
    cache_dir: Path | None = None,
    render_pdf: PdfRenderer | None = None,
) -> dict[str, Path]:
    """Write ``report.json``, ``.html``, ``.md`` and the transparency documents into ``out_dir``.

    Keys: ``json``, ``html``, ``md``, then those of
    :func:`~sandbox.reports.documents.write_transparency_documents` (``model_card``,
    ``datasheet_md``, ``datasheet_json``, ``atrs_json``, ``atrs_md``, ``notice_en``,
    ``notice_es``, ``notice_fr``, ``pdf``). Every file lies directly in ``out_dir``.
    ``cache_dir`` keeps the compiled templates for the next process (the same files result);
    ``render_pdf`` renders the PDF (see `write_transparency_documents`).
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "json": ("report.json", report_json(report)),
        "html": ("report.html", render_html(report, cache_dir=cache_dir)),
        "md": ("report.md", render_markdown(report, cache_dir=cache_dir)),
    }
    paths = {}
    for kind, (name, text) in texts.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths[kind] = path
    paths.update(
        write_transparency_documents(report, folder, cache_dir=cache_dir, render_pdf=render_pdf)
    )
    return paths
