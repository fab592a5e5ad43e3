"""A read-only index of the runs under the sandbox home, as the API serves them.

Who a run belongs to comes from its signed submitted record (`tenant`), learnt once per run
and kept in memory. A lookup asks the index only: another tenant's run and a run that does not
exist take the same path (refresh the index, miss in a dictionary) and neither touches a run
folder, so the answer and the work behind it say nothing about which run ids exist.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from sandbox.api.errors import ApiError
from sandbox.api.records import PENDING, read_verified, recorded_facts, recorded_tenant
from sandbox.api.redaction import redact
from sandbox.reports.model import AuditReport

__all__ = ["NOT_FOUND", "RUN_ID_PATTERN", "RunIndex", "RunSummary"]

RUN_ID_PATTERN = r"^\d{8}T\d{6}Z-[0-9a-f]{6}$"
_RUN_ID = re.compile(RUN_ID_PATTERN)
NOT_FOUND = "no such run for your city"


class RunSummary(BaseModel):
    """One line of the runs list."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    tenant: str  # who ran it: the only city that sees it
    pilot: str
    version: str
    city: str  # what the pilot's manifest says (owner.city): a statement, not an identity
    department: str | None
    started_at: str
    verdict: str
    failed_rules: list[str]
    # altered: the report no longer matches the run's signed record; the line comes from the
    # record alone, and the report is not served.
    report: Literal["verified", "altered"] = "verified"


class RunIndex:
    """Runs are folders named by run id; a run is served once it has ended on the record."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self._owners: dict[str, str | None] = {}  # run id -> recorded tenant (None: nobody)
        self._pending: set[str] = set()  # runs that have not ended yet
        self._stamp: int | None = None  # the runs folder's mtime when it was last listed
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        """Learn the owners of runs that appeared or ended since the last call."""
        try:
            stamp = self.runs_dir.stat().st_mtime_ns
        except OSError:
            return
        if stamp != self._stamp:
            self._stamp = stamp
            with os.scandir(self.runs_dir) as entries:
                names = {e.name for e in entries if _RUN_ID.fullmatch(e.name)}
            self._pending |= names - self._owners.keys()
        for name in sorted(self._pending):
            owner = recorded_tenant(self.runs_dir / name)
            if owner != PENDING:
                self._owners[name] = owner
                self._pending.discard(name)

    def _run_dir(self, run_id: str, *, tenant: str) -> Path:
        """The run's folder when it was recorded for `tenant`; 404 otherwise (no oracle)."""
        with self._lock:
            self._refresh()
            owner = self._owners.get(run_id) if _RUN_ID.fullmatch(run_id) else None
        if owner is None or owner != tenant:
            raise ApiError(404, NOT_FOUND)
        return self.runs_dir / run_id

    def _verified_report(self, run_dir: Path) -> AuditReport:
        data = read_verified(run_dir, "report.json")
        try:
            report = AuditReport.model_validate_json(data)
        except ValidationError:
            raise ApiError(500, f"report.json of run {run_dir.name} cannot be read") from None
        return redact(report, home=self.runs_dir.parent)

    def report(self, run_id: str, *, tenant: str) -> AuditReport:
        """The run's report, checked against its record and without host paths."""
        return self._verified_report(self._run_dir(run_id, tenant=tenant))

    def html(self, run_id: str, *, tenant: str) -> str:
        """The run's HTML report: both files checked, rendered from the redacted report."""
        from sandbox.reports.render import render_html

        run_dir = self._run_dir(run_id, tenant=tenant)
        read_verified(run_dir, "report.html")  # an edited page is refused, not re-rendered
        return render_html(self._verified_report(run_dir))

    def run_ids(self, *, tenant: str) -> list[str]:
        """The tenant's run ids, newest first (the index only: no other tenant's file)."""
        with self._lock:
            self._refresh()
            return sorted((r for r, t in self._owners.items() if t == tenant), reverse=True)

    def summaries(self, *, tenant: str, limit: int = 200) -> list[RunSummary]:
        """The tenant's runs whose report is on the record, newest first."""
        out: list[RunSummary] = []
        for run_id in self.run_ids(tenant=tenant):
            try:
                report = self._verified_report(self.runs_dir / run_id)
            except ApiError as exc:
                if exc.status == 409:  # altered: listed from the signed record, flagged
                    out.append(_altered(run_id, tenant, self.runs_dir / run_id))
                continue  # otherwise no report: the run failed before it had one
            out.append(
                RunSummary(
                    run_id=run_id,
                    tenant=tenant,
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


def _altered(run_id: str, tenant: str, run_dir: Path) -> RunSummary:
    """A runs-list line for a run whose report was altered, from its signed records alone."""
    facts = recorded_facts(run_dir)
    rules = facts.get("failed_rules")
    return RunSummary(
        run_id=run_id,
        tenant=tenant,
        pilot=str(facts.get("pilot") or ""),
        version=str(facts.get("version") or ""),
        city="",
        department=None,
        started_at=str(facts.get("started_at") or ""),
        verdict=str(facts.get("verdict") or "unknown"),
        failed_rules=[str(r) for r in rules] if isinstance(rules, list) else [],
        report="altered",
    )
