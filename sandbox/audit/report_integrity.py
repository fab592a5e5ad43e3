"""Whether a run's report files are still the ones its signed record names.

A run's terminal record holds the sha256 of every file it wrote under `reports/`. Anything
that serves or exports a report (a bundle, the web API) checks the files against those
hashes first, so a report edited, replaced, added or removed after its run is refused or
marked, never passed on as the run's own.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from sandbox.audit.events import TERMINAL_KINDS
from sandbox.audit.record import TrailRecord
from sandbox.audit.verify import Keys, find_key
from sandbox.digests import file_sha256

__all__ = ["ReportProblem", "check_report_files"]

REPORTS: Final = "reports"

Issue = Literal["modified", "missing", "unrecorded", "not a regular file", "unsigned"]


@dataclass(frozen=True)
class ReportProblem:
    """One report file that differs from the run's signed record."""

    name: str  # the file's name under the run's reports/ ("" when the record itself is at fault)
    issue: Issue
    detail: str

    def __str__(self) -> str:
        where = f"{REPORTS}/{self.name}: " if self.name else ""
        return f"{where}{self.detail}"


def _terminal(records: Sequence[TrailRecord]) -> TrailRecord | None:
    return next((r for r in reversed(records) if r.kind in TERMINAL_KINDS), None)


def check_report_files(
    run_dir: Path, records: Sequence[TrailRecord], *, keys: Keys | None = None
) -> list[ReportProblem]:
    """The report files of a run that differ from its signed terminal record; [] when intact.

    `records` are the run's trail records (`AuditTrail.records_for_run`); with `keys`, the
    terminal record's signature is checked too. Links and other non-regular files count as
    problems: nothing outside the run folder is ever served as its report.
    """
    terminal = _terminal(records)
    if terminal is None:
        return [ReportProblem("", "unsigned", "the run has no final trail record yet")]
    if keys is not None:
        verifier = find_key(keys, terminal.key_id)
        if verifier is None or not verifier.verify(terminal.signed_bytes(), terminal.sig):
            return [
                ReportProblem(
                    "", "unsigned", f"the final record (seq {terminal.seq}) does not verify"
                )
            ]
    recorded = terminal.payload.get("reports")
    recorded = recorded if isinstance(recorded, dict) else {}
    folder = Path(run_dir) / REPORTS
    present = sorted(os.listdir(folder)) if folder.is_dir() else []
    problems: list[ReportProblem] = []
    for name in present:
        path = folder / name
        mode = path.lstat().st_mode
        if not stat.S_ISREG(mode):
            problems.append(ReportProblem(name, "not a regular file", "is a link or special file"))
        elif name not in recorded:
            problems.append(
                ReportProblem(name, "unrecorded", "was added after the run: no record names it")
            )
        elif file_sha256(path) != recorded[name]:
            problems.append(
                ReportProblem(
                    name,
                    "modified",
                    f"was changed after the run: its sha256 differs from the one signed in "
                    f"trail record seq {terminal.seq}",
                )
            )
    for name in sorted(set(recorded) - set(present)):
        problems.append(
            ReportProblem(name, "missing", f"is named in trail record seq {terminal.seq} but gone")
        )
    return problems
