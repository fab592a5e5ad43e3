"""The API's routes: thin, each parses, calls one function, returns a model."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from sandbox.api.deps import CallerTenant, Runs
from sandbox.api.redaction import public_json
from sandbox.api.runs import RUN_ID_PATTERN, RunSummary

__all__ = ["router"]

router = APIRouter()
RunId = Annotated[str, PathParam(pattern=RUN_ID_PATTERN, max_length=32)]


@router.get("/api/health")
def health() -> dict[str, str]:
    """Liveness: no authentication, no information."""
    return {"status": "ok"}


@router.get("/api/runs")
def list_runs(tenant: CallerTenant, runs: Runs) -> list[RunSummary]:
    """The caller's runs, newest first."""
    return runs.summaries(tenant=tenant)


@router.get("/api/runs/{run_id}")
def get_report(run_id: RunId, tenant: CallerTenant, runs: Runs) -> dict[str, Any]:
    """The run's report (report.json, checked against its record, host paths removed)."""
    return public_json(runs.report(run_id, tenant=tenant))


@router.get("/api/runs/{run_id}/report.html", response_class=HTMLResponse)
def get_report_html(run_id: RunId, tenant: CallerTenant, runs: Runs) -> HTMLResponse:
    """The run's self-contained HTML report (checked against its record, host paths removed)."""
    return HTMLResponse(runs.html(run_id, tenant=tenant))
