"""The audit report: one versioned JSON model, the machine-readable source of truth.

HTML and Markdown are renderings of this model (:mod:`sandbox.audit.render`); the JSON Schema
published by :func:`report_json_schema` lets other tools validate ``report.json``. Sections
that cannot be known for a blocked or failed run (runtime, evaluation, explanations) are
optional.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sandbox.audit.evaluation import BinaryEvaluation
from sandbox.audit.render import render_html, render_markdown
from sandbox.policies.verdict import Verdict

__all__ = [
    "SCHEMA_VERSION",
    "AuditReport",
    "DataSection",
    "DataSource",
    "DataSplit",
    "FeatureImportance",
    "PilotSection",
    "ProvenanceSection",
    "RunSection",
    "RuntimeSection",
    "report_json",
    "report_json_schema",
    "write_reports",
]

SCHEMA_VERSION: Literal["1.0"] = "1.0"

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class RunSection(BaseModel):
    """When the run happened and how it ended."""

    model_config = _FROZEN

    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    state: str
    duration_s: float | None = None


class PilotSection(BaseModel):
    """Who runs the pilot, for what, and for whom (from pilot.yaml)."""

    model_config = _FROZEN

    name: str
    version: str
    city: str
    department: str | None = None
    contact: str | None = None
    purpose: str = ""
    problem: str = ""
    intended_users: tuple[str, ...] = ()
    success_indicators: tuple[str, ...] = ()
    task: str


class DataSource(BaseModel):
    """One input data file, hashed whole."""

    model_config = _FROZEN

    path: str
    format: str
    sha256: str
    rows: int | None = None
    columns: tuple[str, ...] = ()


class DataSplit(BaseModel):
    """The seeded host-side split into training rows and evaluation rows."""

    model_config = _FROZEN

    seed: int
    train_rows: int
    eval_rows: int
    train_sha256: str
    score_sha256: str


class DataSection(BaseModel):
    """The data the run used."""

    model_config = _FROZEN

    sources: tuple[DataSource, ...] = ()
    split: DataSplit | None = None


class RuntimeSection(BaseModel):
    """The container that ran the pilot's model."""

    model_config = _FROZEN

    image: str
    image_digest: str | None = None
    hardening: dict[str, Any] = Field(default_factory=dict)
    container_state: str
    exit_code: int | None = None
    duration_s: float | None = None


class FeatureImportance(BaseModel):
    """Importance of one model feature (e.g. permutation importance), mean and spread."""

    model_config = _FROZEN

    feature: str
    importance_mean: float
    importance_std: float | None = None


class ProvenanceSection(BaseModel):
    """Hashes and identifiers that tie the report to its inputs, tracker run and trail."""

    model_config = _FROZEN

    manifest_sha256: str
    policy_pack_id: str
    policy_pack_sha256: str
    mlflow_run_id: str | None = None
    mlflow_tracking_uri: str | None = None
    trail_path: str | None = None
    trail_seq: int | None = None
    trail_record_hash: str | None = None


class AuditReport(BaseModel):
    """Everything an auditor needs about one run, in one versioned document."""

    model_config = _FROZEN

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    run: RunSection
    pilot: PilotSection
    data: DataSection = DataSection()
    runtime: RuntimeSection | None = None
    evaluation: BinaryEvaluation | None = None
    explanations: tuple[FeatureImportance, ...] | None = None
    verdict: Verdict
    provenance: ProvenanceSection
    notes: tuple[str, ...] = ()


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``report.json``."""
    schema = AuditReport.model_json_schema()
    schema["$id"] = f"urn:ai-commons-sandbox:audit-report:{SCHEMA_VERSION}"
    return schema


def report_json(report: AuditReport) -> str:
    """The report as stable JSON text: sorted keys, indented, ending in a newline."""
    data = report.model_dump(mode="json")
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_reports(report: AuditReport, out_dir: Path | str) -> dict[str, Path]:
    """Write ``report.json``, ``report.html`` and ``report.md`` into ``out_dir``."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "json": ("report.json", report_json(report)),
        "html": ("report.html", render_html(report)),
        "md": ("report.md", render_markdown(report)),
    }
    paths = {}
    for kind, (name, text) in texts.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths[kind] = path
    return paths
