"""The PDF rendered in a process started early: `python -m sandbox.reports.documents.pdf_process`.

Before a PDF's first line, fpdf2 and its fonts cost a command about 0.7 s: the import
(fontTools among it) and parsing four TrueType files. A command that will write a report
starts this process as it starts, so that the loading happens on a spare core while the
command reads and evaluates; the finished report then goes over a pipe and the PDF's bytes
come back. They are the bytes `render_pdf` gives in the command's own process: the same code
renders them, from a `blank_document` prepared the same way.

Whatever goes wrong on the way (the process could not start, died, took too long, or answered
with an error), the command renders the PDF itself, so the outcome, an error included, is
the one it would have without this process. The process serves one report; it exits when its
input ends (its command died), and is stopped once its answer is read or when the command
ends without a report. It ignores Ctrl-C, which its command handles.

The messages, each a 8-byte big-endian length and its bytes: the pickled `AuditReport` to the
process (a pipe from the command that started it: nobody else can write to it), then
``b"P"`` and the PDF, or ``b"E"`` and an error's text, back.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import weakref
from typing import IO, TYPE_CHECKING

from sandbox.host_python import module_command

if TYPE_CHECKING:
    from sandbox.reports.model import AuditReport

__all__ = ["PdfProcess", "main"]

_LENGTH = struct.Struct(">Q")
_ANSWER_S = 600.0  # longer than any report takes to render: past it, the command renders


class PdfProcess:
    """A process that has loaded fpdf2 and the fonts and renders one report's PDF."""

    def __init__(self, proc: subprocess.Popen[bytes] | None) -> None:
        self._proc = proc  # None: renders in this process
        self._end = weakref.finalize(self, _end, proc)  # at the latest when this process exits

    @classmethod
    def start(cls) -> PdfProcess:
        """Start the process (a handle that renders in this process if it cannot start)."""
        try:
            proc = subprocess.Popen(
                module_command(__name__), stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
        except OSError:
            return cls(None)
        return cls(proc)

    @property
    def pid(self) -> int | None:
        """The process's id while it may still render (None once used or closed)."""
        return self._proc.pid if self._proc is not None else None

    def render(self, report: AuditReport) -> bytes:
        """The report's PDF: from the process if it answers, else rendered here."""
        answer = self._exchange(report) if self._proc is not None else None
        self.close()
        if answer is not None and answer[:1] == b"P":
            return answer[1:]
        from sandbox.reports.documents.pdf import render_pdf

        return render_pdf(report)

    def close(self) -> None:
        """End the process; later renders are local."""
        self._proc = None
        self._end()

    def _exchange(self, report: AuditReport) -> bytes | None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            _send(proc.stdin, pickle.dumps(report))
            with selectors.DefaultSelector() as selector:
                selector.register(proc.stdout, selectors.EVENT_READ)
                if not selector.select(_ANSWER_S):
                    proc.kill()  # hung: the command renders instead
                    return None
            return _receive(proc.stdout)
        except (OSError, ValueError, pickle.PicklingError):
            return None  # it died (a broken pipe, an answer cut short), or no pickle


def _end(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop the process: it holds nothing (an answer, if any, is read), so it is killed."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def _send(pipe: IO[bytes], message: bytes) -> None:
    pipe.write(_LENGTH.pack(len(message)) + message)
    pipe.flush()


def _receive(pipe: IO[bytes]) -> bytes | None:
    """One message, or None at the end of the input; ValueError if it is cut short."""
    head = pipe.read(_LENGTH.size)
    if not head:
        return None
    if len(head) < _LENGTH.size:
        raise ValueError("a message cut short")
    (size,) = _LENGTH.unpack(head)
    body = pipe.read(size)
    if len(body) < size:
        raise ValueError("a message cut short")
    return body


def main() -> int:
    """Load fpdf2 and the fonts, then render the report that arrives (if one does)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot garble answers

    import sandbox.reports.model  # noqa: F401  (what the pickled report is made of)
    from sandbox.reports.documents.fonts import shown_text
    from sandbox.reports.documents.pdf import render_pdf
    from sandbox.reports.documents.pdf_document import blank_document

    shown_text("")  # the font's character map, for names the font cannot draw
    blank = blank_document(shaping=False)  # what a report without shaped text starts from
    try:
        message = _receive(requests)
    except ValueError:  # cut short: the command died while sending
        return 0
    if message is None:
        return 0
    try:
        answer = b"P" + render_pdf(pickle.loads(message), blank=blank)  # noqa: S301
    except Exception as exc:
        answer = b"E" + repr(exc).encode("utf-8", "replace")
    with contextlib.suppress(OSError):  # a command gone meanwhile (Ctrl-C) wants no answer
        _send(answers, answer)
        answers.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
