"""The audit report: JSON round trip, self-contained HTML, Markdown summary, blocked runs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from sandbox.evaluation.binary import evaluate_binary
from sandbox.policies.verdict import RuleOutcome, Verdict
from sandbox.reports.documents import DOCUMENT_FILES
from sandbox.reports.model import (
    SCHEMA_VERSION,
    AuditReport,
    DataRoles,
    DataSection,
    DataSource,
    DataSplit,
    FeatureImportance,
    GovernanceSection,
    ModelSection,
    PilotSection,
    ProvenanceSection,
    RunSection,
    RuntimeSection,
    report_json,
    report_json_schema,
)
from sandbox.reports.render import render_html, render_markdown
from sandbox.reports.writer import write_reports

START = datetime(2025, 5, 14, 9, 30, tzinfo=UTC)


def _outcome(rule_id: str, stage: str, severity: str, outcome: str, **evidence) -> RuleOutcome:
    return RuleOutcome(
        rule_id=rule_id,
        title=rule_id.replace(".", " ").title(),
        stage=stage,
        severity=severity,
        outcome=outcome,
        message=f"{rule_id} {outcome}",
        evidence=evidence,
    )


def _pilot(**overrides) -> PilotSection:
    fields = {
        "name": "Benefits pre-screening",
        "version": "0.3.1",
        "city": "Rivertown",
        "department": "Social Services",
        "contact": "data-team@rivertown.example",
        "purpose": "Reach eligible households early.",
        "problem": "Eligible households miss the benefit.",
        "intended_users": ("Caseworkers",),
        "success_indicators": ("Share contacted before December",),
        "task": "binary_classification",
    }
    return PilotSection(**(fields | overrides))


def _provenance() -> ProvenanceSection:
    return ProvenanceSection(
        manifest_sha256="a" * 64,
        policy_pack_id="municipal-baseline@1",
        policy_pack_sha256="b" * 64,
        mlflow_run_id="0123abcd",
        mlflow_tracking_uri="sqlite:///tmp/mlflow.db",
        trail_path="/tmp/trail.jsonl",
        trail_seq=3,
        trail_record_hash="c" * 64,
    )


@pytest.fixture(scope="module")
def evaluation():
    rng = np.random.default_rng(7)
    n = 2400
    sex = rng.choice(["female", "male"], n)
    race = rng.choice(["Asian", "Black", "White", "Other"], n, p=[0.2, 0.3, 0.49, 0.01])
    income = rng.normal(30, 10, n) - 4 * (race == "Black")
    y_true = (-(income - 30) / 8 + rng.normal(0, 1, n) > 0).astype(int)
    score = 1 / (1 + np.exp((income - 30) / 8))
    y_pred = (score > 0.5).astype(int)
    return evaluate_binary(
        y_true=y_true,
        y_pred=y_pred,
        y_score=score,
        sensitive=pd.DataFrame({"sex": sex, "race": race}),
        n_bootstrap=200,
    )


@pytest.fixture(scope="module")
def report(evaluation) -> AuditReport:
    outcomes = [
        _outcome("data.no_pii", "pre_run", "block", "passed", pii_columns=["name"]),
        _outcome("fairness.four_fifths", "post_run", "warn", "failed", ratio=0.61),
        _outcome("oversight.review", "pre_run", "info", "not_applicable"),
    ]
    return AuditReport(
        run=RunSection(
            run_id="run-42",
            started_at=START,
            finished_at=START + timedelta(seconds=30),
            state="succeeded",
            duration_s=30.0,
        ),
        pilot=_pilot(),
        data=DataSection(
            sources=(
                DataSource(
                    path="data/households.csv",
                    format="csv",
                    sha256="d" * 64,
                    rows=4000,
                    columns=("income", "sex", "race", "eligible"),
                ),
            ),
            split=DataSplit(
                seed=1,
                train_rows=1600,
                eval_rows=2400,
                train_sha256="e" * 64,
                score_sha256="f" * 64,
            ),
        ),
        runtime=RuntimeSection(
            image="sandbox-runner:0.1.0",
            image_digest="sha256:" + "1" * 64,
            hardening={"network": "none", "read_only": True, "cap_drop": ["ALL"]},
            container_state="exited",
            exit_code=0,
            duration_s=12.5,
        ),
        evaluation=evaluation,
        explanations=(
            FeatureImportance(feature="income", importance_mean=0.21, importance_std=0.02),
            FeatureImportance(feature="noise", importance_mean=-0.001, importance_std=None),
        ),
        verdict=Verdict.decide("municipal-baseline", outcomes),
        provenance=_provenance(),
        notes=("Synthetic data.",),
    )


@pytest.fixture(scope="module")
def blocked() -> AuditReport:
    outcomes = [_outcome("data.no_pii", "pre_run", "block", "failed", pii_columns=["ssn"])]
    return AuditReport(
        run=RunSection(run_id="run-43", started_at=START, state="blocked"),
        pilot=_pilot(department=None, contact=None, intended_users=(), success_indicators=()),
        verdict=Verdict.decide("municipal-baseline", outcomes),
        provenance=ProvenanceSection(
            manifest_sha256="a" * 64,
            policy_pack_id="municipal-baseline@1",
            policy_pack_sha256="b" * 64,
        ),
    )


class _Checker(HTMLParser):
    """Collects tags and checks that every non-void element is closed in order."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr"})
    SVG_SELF_CLOSING = frozenset({"rect", "line", "circle", "path"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>, open: {self.stack[-3:]}")
            return
        self.stack.pop()


def _parse(html: str) -> _Checker:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker


def test_write_reports_round_trips_through_json(report, tmp_path):
    paths = write_reports(report, tmp_path / "out")
    assert set(paths) == {"json", "html", "md", *DOCUMENT_FILES}
    assert all(p.is_file() for p in paths.values())
    text = paths["json"].read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["schema_version"] == SCHEMA_VERSION
    assert text == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert AuditReport.model_validate(data) == report
    assert AuditReport.model_validate_json(text) == report


def test_published_schema_describes_every_section():
    schema = report_json_schema()
    json.dumps(schema)  # serialisable as is
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert set(schema["required"]) == {"run", "pilot", "verdict", "provenance"}
    for section in ("data", "model", "governance", "runtime", "evaluation", "explanations"):
        assert section in schema["properties"]
    assert "notes" in schema["properties"]
    assert "roles" in schema["$defs"]["DataSection"]["properties"]
    assert "missing_by_column" in schema["$defs"]["DataSection"]["properties"]
    for model in ("Evaluation", "AttributeSetResult", "Estimate", "Verdict", "RuleOutcome"):
        assert model in schema["$defs"]


def test_html_is_self_contained_and_well_formed(report):
    html = render_html(report)
    checker = _parse(html)
    assert checker.errors == []
    assert checker.stack == []
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html)
    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html
    assert not any(tag in {"link", "img", "iframe", "object"} for tag, _ in checker.tags)
    assert sum(tag == "svg" for tag, _ in checker.tags) == len(report.evaluation.attribute_sets) + 1


def test_html_shows_verdict_groups_rules_and_hashes(report):
    html = render_html(report)
    assert "Governance verdict: PASS WITH WARNINGS" in html
    assert "verdict-pass_with_warnings" in html
    for result in report.evaluation.attribute_sets:
        assert f"<h3>{result.name.replace('&', '&amp;')}" in html
        for group in result.groups:
            assert group.label.replace("&", "&amp;") in html
    for outcome in report.verdict.outcomes:
        assert outcome.rule_id in html
    assert report.runtime.image_digest in html
    assert report.provenance.manifest_sha256 in html
    assert "disparity observed is not proof of discrimination" in html
    for word in ("unbiased", "certified fair"):
        assert word not in html.lower()


def test_html_escapes_manifest_text(report):
    hostile = report.model_copy(
        update={"pilot": _pilot(name="<script>alert(1)</script>", purpose='"><img src=x>')}
    )
    html = render_html(hostile)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x>" not in html
    md = render_markdown(hostile)
    # Markdown escapes with backslashes: '\<' is a literal '<', never a tag, never '&lt;'
    assert re.search(r"(?<!\\)<(script|img|/script)", md) is None
    assert "\\<script>alert(1)\\</script>" in md
    assert "&lt;" not in md and "&gt;" not in md


def test_markdown_holds_the_key_numbers(report):
    md = render_markdown(report)
    ev = report.evaluation
    assert "PASS WITH WARNINGS" in md
    assert f"{ev.performance['accuracy']:.3f}" in md
    assert f"{ev.performance['roc_auc']:.3f}" in md
    for result in ev.attribute_sets:
        assert f"{result.disparities['selection_rate'].difference.value:.3f}" in md
        assert f"{result.disparities['tpr'].difference.value:.3f}" in md
    assert report.provenance.manifest_sha256 in md
    assert "fairness.four_fifths" in md


def test_blocked_run_renders_without_evaluation(blocked, tmp_path):
    paths = write_reports(blocked, tmp_path)
    assert AuditReport.model_validate_json(paths["json"].read_text(encoding="utf-8")) == blocked
    html = paths["html"].read_text(encoding="utf-8")
    assert _parse(html).errors == []
    assert "Governance verdict: BLOCKED" in html
    assert "verdict-blocked" in html
    assert "was not run" in html
    assert 'id="fairness"' not in html
    assert "<svg" not in html
    md = paths["md"].read_text(encoding="utf-8")
    assert "BLOCKED" in md
    assert "Data\\_No\\_Pii" in md or "data.no_pii" in md


@pytest.mark.parametrize("status", ["pass", "fail"])
def test_each_verdict_has_a_banner(report, status):
    severity = "warn" if status == "pass" else "block"
    outcome = "passed" if status == "pass" else "failed"
    verdict = Verdict.decide(
        "p", [_outcome("perf.min_accuracy", "post_run", severity, outcome, value=0.5)]
    )
    assert verdict.status == status
    html = render_html(report.model_copy(update={"verdict": verdict}))
    assert f"verdict-{status}" in html
    assert f"Governance verdict: {status.upper()}" in html


def test_governance_model_and_roles_round_trip(report):
    full = report.model_copy(
        update={
            "pilot": report.pilot.model_copy(update={"title": "Benefits pre-screening"}),
            "data": report.data.model_copy(
                update={
                    "roles": DataRoles(
                        label="eligible",
                        positive_label=1,
                        positive_meaning="contacted first",
                        features=("income",),
                        sensitive=("sex", "race"),
                        pii=("name",),
                    ),
                    "missing_by_column": {"income": 3, "sex": 0},
                }
            ),
            "model": ModelSection(entrypoint="model.py:build_model", params={"C": 1.0}, seed=7),
            "governance": GovernanceSection(
                phase="prototype",
                policy_packs=("baseline",),
                human_oversight="A caseworker decides.",
                impact_assessment={"reversible": True, "automation": "decision_support"},
                transparency={"tool_name": "Pre-screening"},
            ),
        }
    )
    text = report_json(full)
    assert AuditReport.model_validate_json(text) == full
    assert json.loads(text)["governance"]["impact_assessment"]["reversible"] is True


def test_reports_without_the_new_sections_still_validate(report):
    data = report.model_dump(mode="json")
    for key in ("model", "governance"):
        assert data.pop(key) is None
    assert data["data"].pop("roles") is None
    assert data["data"].pop("missing_by_column") == {}
    assert data["pilot"].pop("title") == ""
    assert AuditReport.model_validate(data) == report
