"""The PDF's process renders the bytes the command would, and whatever befalls it, the PDF
is still written: rendered in the command's process instead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.reports import model as r
from sandbox.reports.documents.pdf import render_pdf
from sandbox.reports.documents.pdf_process import PdfProcess


class _Unknown(r.AuditReport):
    """A report of a class the process cannot import: it answers with an error."""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_process_renders_the_bytes_the_command_would(
    report: r.AuditReport, blocked: r.AuditReport
) -> None:
    arabic = report.model_copy(
        update={"pilot": report.pilot.model_copy(update={"name": "مساعد المدينة"})}
    )  # shaped text: the process lays it out from a new document, not its blank one
    for each in (report, blocked, arabic):
        process = PdfProcess.start()
        pid = process.pid
        assert pid is not None
        assert process.render(each) == render_pdf(each)
        assert process.pid is None and _gone(pid)  # one report, then it is stopped


def test_a_process_that_died_or_failed_leaves_the_pdf_to_the_command(
    report: r.AuditReport,
) -> None:
    expected = render_pdf(report)
    died = PdfProcess.start()
    assert died.pid is not None
    os.kill(died.pid, 9)
    assert died.render(report) == expected
    failed = PdfProcess.start()
    unknown = _Unknown.model_validate(report.model_dump())
    assert failed.render(unknown) == render_pdf(unknown) == expected
    used = PdfProcess.start()
    used.render(report)
    assert used.render(report) == expected  # a second report is rendered here


def test_an_unused_process_is_stopped_without_waiting_for_it() -> None:
    process = PdfProcess.start()
    pid = process.pid
    assert pid is not None
    process.close()  # still loading fpdf2: killed, not waited for
    assert _gone(pid)
    process.close()  # twice is harmless


def test_python_files_in_the_working_folder_never_load(
    report: r.AuditReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    for name in ("fpdf", "pickle", "fontTools"):
        (tmp_path / f"{name}.py").write_text(
            f"import pathlib\npathlib.Path({str(marker)!r}).write_text('{name}')\n"
        )
    monkeypatch.chdir(tmp_path)  # a command started in a pilot's folder
    assert PdfProcess.start().render(report) == render_pdf(report)
    assert not marker.exists()


def test_a_blank_prepared_ahead_gives_the_same_bytes_and_serves_one_report(
    report: r.AuditReport, blocked: r.AuditReport
) -> None:
    from sandbox.reports.documents import pdf_document

    fresh = render_pdf(report)
    pdf_document.prepare()  # as a command server does before forking
    assert render_pdf(report) == fresh
    assert pdf_document.prepared() is None  # used up: the next report starts afresh
    assert render_pdf(blocked) == render_pdf(blocked)
