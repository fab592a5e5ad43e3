"""What a city may see of a report: everything but where the operator keeps things.

Reports record the host's trail path and MLflow store so the operator can find them; a city
served over the web gets neither, nor any other mention of the sandbox home. Every route that
serves a report (JSON, HTML, the runs list) goes through `redact` first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from sandbox.reports.model import AuditReport

__all__ = ["HIDDEN", "public_json", "redact"]

HIDDEN: Final = "(sandbox home)"
_HOST_FIELDS: Final = ("trail_path", "mlflow_tracking_uri")


def _scrub(value: Any, home: str) -> Any:
    """`value` with every mention of the sandbox home replaced, at any depth."""
    if isinstance(value, str):
        return value.replace(home, HIDDEN) if home in value else value
    if isinstance(value, list):
        return [_scrub(item, home) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, home) for key, item in value.items()}
    return value


def redact(report: AuditReport, *, home: Path) -> AuditReport:
    """The report without host paths: the trail path and MLflow store dropped, the home hidden."""
    data = report.model_dump(mode="json")
    provenance = data.get("provenance")
    if isinstance(provenance, dict):
        for name in _HOST_FIELDS:
            provenance[name] = None
    # Both spellings: the home as configured, and as the file system resolves it.
    for spelling in {str(home.resolve()), str(home)}:
        if len(spelling) > 1:
            data = _scrub(data, spelling)
    return AuditReport.model_validate(data)


def public_json(report: AuditReport) -> dict[str, Any]:
    """A redacted report as JSON, the host fields left out rather than null."""
    data: dict[str, Any] = report.model_dump(mode="json", exclude={"provenance": set(_HOST_FIELDS)})
    return data
