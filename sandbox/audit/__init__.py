"""Evidence of a run: fairness and performance evaluation, reports, and the signed trail.

Names load on first use, so importing the package (and starting the CLI) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.audit.evaluation import BinaryEvaluation, evaluate_binary, flat_metrics
    from sandbox.audit.report import AuditReport, report_json_schema, write_reports
    from sandbox.audit.signing import Signer, Verifier
    from sandbox.audit.trail import (
        AuditTrail,
        TrailRecord,
        TrailVerification,
        iter_records,
        records_for_run,
        verify_trail,
    )

_HOMES = {
    "sandbox.audit.evaluation": ("BinaryEvaluation", "evaluate_binary", "flat_metrics"),
    "sandbox.audit.report": ("AuditReport", "report_json_schema", "write_reports"),
    "sandbox.audit.signing": ("Signer", "Verifier"),
    "sandbox.audit.trail": (
        "AuditTrail",
        "TrailRecord",
        "TrailVerification",
        "iter_records",
        "records_for_run",
        "verify_trail",
    ),
}
_LAZY = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
