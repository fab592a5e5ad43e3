"""A read-only index of the runs under the sandbox home, as the API serves them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from sandbox.reports.model import AuditReport

__all__ = ["RUN_ID_PATTERN", "RunIndex", "RunSummary"]

RUN_ID_PATTERN = r"^\d{8}T\d{6}Z-[0-9a-f]{6}$"
_RUN_ID = re.compile(RUN_ID_PATTERN)
MAX_REPORT_BYTES = 50 * 1024 * 1024


class RunSummary(BaseModel):
    """One line of the runs list."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    pilot: str
    version: str
    city: str
    department: str | None
    started_at: str
    verdict: str
    failed_rules: list[str]


@dataclass(frozen=True)
class RunIndex:
    """Runs are folders named by run id; a run is visible once its report exists."""

    runs_dir: Path

    def _report_path(self, run_id: str) -> Path | None:
        # The id is matched against a strict pattern before it touches the file system.
        if not _RUN_ID.fullmatch(run_id):
            return None
        path = self.runs_dir / run_id / "reports" / "report.json"
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_REPORT_BYTES:
            return None
        return path

    def report(self, run_id: str, *, city: str) -> AuditReport | None:
        """The run's report when it exists and belongs to `city`; None otherwise (no leak)."""
        path = self._report_path(run_id)
        if path is None:
            return None
        try:
            report = AuditReport.model_validate_json(path.read_bytes())
        except (ValidationError, OSError):
            return None
        return report if report.pilot.city == city else None

    def html(self, run_id: str, *, city: str) -> str | None:
        """The run's HTML report, under the same rule as `report`."""
        if self.report(run_id, city=city) is None:
            return None
        path = self.runs_dir / run_id / "reports" / "report.html"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def summaries(self, *, city: str, limit: int = 200) -> list[RunSummary]:
        """The city's runs, newest first."""
        if not self.runs_dir.is_dir():
            return []
        out: list[RunSummary] = []
        for folder in sorted(self.runs_dir.iterdir(), reverse=True):
            report = self.report(folder.name, city=city)
            if report is None:
                continue
            out.append(
                RunSummary(
                    run_id=report.run.run_id,
                    pilot=report.pilot.name,
                    version=report.pilot.version,
                    city=report.pilot.city,
                    department=report.pilot.department,
                    started_at=report.run.started_at.isoformat(),
                    verdict=report.verdict.status,
                    failed_rules=[o.rule_id for o in report.verdict.failures],
                )
            )
            if len(out) >= limit:
                break
        return out
