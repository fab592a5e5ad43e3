"""The audit report: one versioned JSON model, the machine-readable source of truth.

HTML and Markdown are renderings of this model (:mod:`sandbox.reports.render`), and so are the
transparency documents (:mod:`sandbox.reports.documents`: model card, datasheet, algorithmic
transparency record, residents' notices, PDF): each is derived from the report alone. The JSON
Schema published by :func:`report_json_schema` lets other tools validate ``report.json``.
Sections that cannot be known for a blocked or failed run (runtime, evaluation, explanations)
are optional, and so is every section added after schema 1.0 shipped (``model``,
``governance``, ``data.roles``, ``data.missing_by_column``, ``failure``, ``disclosure``).
Schema 1.1 made the evaluation task-neutral; 1.2 added the rows the model was fitted on, why a
run failed, and the small-cell suppression decision (see :data:`SCHEMA_VERSION`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sandbox.evaluation.result import Evaluation
from sandbox.policies.verdict import Verdict

__all__ = [
    "SCHEMA_VERSION",
    "AuditReport",
    "DataRoles",
    "DataSection",
    "DataSource",
    "DataSplit",
    "DisclosureSection",
    "FailureSection",
    "FeatureImportance",
    "GovernanceSection",
    "ModelSection",
    "PilotSection",
    "ProvenanceSection",
    "RunSection",
    "RuntimeSection",
    "report_json",
    "report_json_schema",
]

#: 1.1: the evaluation is task-neutral (``evaluation.task``; ``counts``, each group's
#: ``confusion`` and each set's ``four_fifths`` are optional, present for binary tasks), and
#: ``data.roles.positive_label`` is optional (absent for task types without one).
#: 1.2: ``data.split.fit_rows`` and ``.importance_rows``, ``model.importance_holdout``,
#: ``failure`` (why the run failed, in the harness's words) and ``disclosure`` (the small-cell
#: suppression decision every publication file applies); all optional.
SCHEMA_VERSION: Literal["1.3"] = "1.3"

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
    title: str = ""
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
    evaluation_fraction: float | None = None
    stratified: bool | None = None
    #: Training rows the model was fitted on: ``train_rows`` less the importance hold-back.
    fit_rows: int | None = None
    #: Training rows held back from fitting to measure feature importance (0: none).
    importance_rows: int | None = None
    #: How the labelled rows were split: random, stratified, time, group, or sources (an
    #: evaluation source, no split); the date column and cut-off, or the group column.
    method: str | None = None
    by: str | None = None
    cutoff: str | None = None
    group_by: str | None = None
    #: One sentence for people: how the rows were split, and which cases were only scored.
    description: str = ""


class DataRoles(BaseModel):
    """What each declared column is for, and what a positive label means (pilot.yaml)."""

    model_config = _FROZEN

    label: str
    positive_label: str | int | bool | None = None
    positive_meaning: str = ""
    features: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    pii: tuple[str, ...] = ()
    proxies: tuple[str, ...] = ()
    #: Each data file's role: train, evaluation or score (pilot.yaml ``data.sources[].role``).
    sources: dict[str, str] = Field(default_factory=dict)
    #: Labelled rows evaluated, and current cases scored for the city (never evaluated).
    evaluated_rows: int | None = None
    scored_rows: int | None = None
    #: The predictions for the scored cases, returned to the city: file name and SHA-256.
    scored_file: str | None = None
    scored_sha256: str | None = None


class DataSection(BaseModel):
    """The data the run used."""

    model_config = _FROZEN

    sources: tuple[DataSource, ...] = ()
    split: DataSplit | None = None
    roles: DataRoles | None = None
    #: Empty cells per used column (label, features, sensitive), over all rows of the sources.
    missing_by_column: dict[str, int] = Field(default_factory=dict)


class ModelSection(BaseModel):
    """The model the pilot declared: its factory, keyword arguments and seed."""

    model_config = _FROZEN

    entrypoint: str
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int | None = None
    #: Share of the training rows held back from fitting for feature importance (pilot.yaml
    #: ``model.importance_holdout``); 0 means importance is measured on the fitted rows.
    importance_holdout: float | None = None
    #: ``factory`` (fitted by the harness), ``artifact`` (a trained model file, never fitted
    #: here) or ``command`` (the pilot's own program).
    kind: str = "factory"
    #: The trained model file inside the pilot folder, its format and SHA-256 (as staged).
    artifact: str | None = None
    artifact_format: str | None = None
    artifact_sha256: str | None = None
    command: tuple[str, ...] | None = None
    #: What a reader must know about this model: trained elsewhere, loaded from a pickle,
    #: feature importance not measured and why.
    notes: tuple[str, ...] = ()


class GovernanceSection(BaseModel):
    """The governance facts the pilot declared, as published in the transparency documents."""

    model_config = _FROZEN

    phase: str | None = None
    policy_packs: tuple[str, ...] = ()
    human_oversight: str = ""
    data_retention: str = ""
    #: Answers to the impact-assessment questionnaire, as declared (a free mapping).
    impact_assessment: dict[str, Any] = Field(default_factory=dict)
    #: Extra fields for the algorithmic transparency record, as declared.
    transparency: dict[str, str] = Field(default_factory=dict)
    out_of_scope_uses: tuple[str, ...] = ()


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


class FailureSection(BaseModel):
    """Why the run failed: the reason in one line, and the tail of the model's error output."""

    model_config = _FROZEN

    #: Who failed: the model's container, or its outputs that the host rejected.
    stage: Literal["model", "outputs"]
    reason: str
    #: The last lines of the container's standard error (bounded); not for publication.
    stderr_tail: str = ""


class DisclosureSection(BaseModel):
    """The small-cell suppression decision every file meant for publication applies."""

    model_config = _FROZEN

    #: Groups with fewer evaluation rows than this are suppressed (None: nothing evaluated).
    min_cell_size: int | None = None
    #: Attribute set name -> suppressed group label -> why it is suppressed.
    suppressed: dict[str, dict[str, str]] = Field(default_factory=dict)
    publication_files: tuple[str, ...] = ()
    internal_files: tuple[str, ...] = ()


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

    schema_version: Literal["1.3"] = SCHEMA_VERSION
    run: RunSection
    pilot: PilotSection
    data: DataSection = DataSection()
    model: ModelSection | None = None
    governance: GovernanceSection | None = None
    runtime: RuntimeSection | None = None
    evaluation: Evaluation | None = None
    explanations: tuple[FeatureImportance, ...] | None = None
    verdict: Verdict
    failure: FailureSection | None = None
    disclosure: DisclosureSection | None = None
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
