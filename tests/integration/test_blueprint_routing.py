"""The 311 service-request routing blueprint, run from its folder through the real pipeline.

The run must give the verdict and findings its ``expected.yaml`` names; the documented
disparity (requests written in Spanish recognised less often for the smaller departments) must
show in report.json; and the personal data residents write into their requests must be found by
``data.no-pii-values`` if the unredacted text were offered to the model.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sandbox.policies.rules.data import PII_PATTERNS
from sandbox.runs.pilot_run import RunOutcome, run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings

BLUEPRINT = Path(__file__).resolve().parents[2] / "blueprints" / "311-service-request-routing"


@pytest.fixture(scope="module")
def blueprint_run(
    tmp_path_factory: pytest.TempPathFactory, runner_image: str
) -> tuple[RunOutcome, dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    out = tmp_path_factory.mktemp("out")
    services = build_services(Settings(home=home, image=runner_image))
    outcome = run_pilot(BLUEPRINT, services, out_dir=out)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return outcome, report


def _groups(report: dict[str, Any], attribute: str) -> dict[str, dict[str, Any]]:
    (found,) = (s for s in report["evaluation"]["attribute_sets"] if s["name"] == attribute)
    return {g["label"]: g["metrics"] for g in found["groups"]}


@pytest.mark.docker
def test_verdict_and_findings_are_as_expected(
    blueprint_run: tuple[RunOutcome, dict[str, Any]],
) -> None:
    outcome, report = blueprint_run
    expected = yaml.safe_load((BLUEPRINT / "expected.yaml").read_text(encoding="utf-8"))
    assert outcome.report.runtime is not None
    assert outcome.report.runtime.container_state == "succeeded"
    assert report["verdict"]["status"] == expected["verdict"]
    rules = {o["rule_id"]: o for o in report["verdict"]["outcomes"]}
    for finding in expected["findings"]:
        rule = rules[finding["rule"]]
        assert rule["outcome"] == finding["outcome"], (finding, rule["message"])
        assert finding.get("mentions", "") in rule["message"], (finding, rule["message"])


@pytest.mark.docker
def test_spanish_requests_are_misrouted_more_often(
    blueprint_run: tuple[RunOutcome, dict[str, Any]],
) -> None:
    _, report = blueprint_run
    groups = _groups(report, "language")
    english, spanish = groups["English"], groups["Spanish"]
    assert spanish["accuracy"]["value"] < english["accuracy"]["value"] - 0.05
    # The smaller departments lose most: their Spanish requests go to the large ones.
    for department in ("parks", "code_enforcement"):
        key = f"recall.{department}"
        assert spanish[key]["assessable"] and english[key]["assessable"]
        assert spanish[key]["value"] < english[key]["value"] - 0.1, department
    rules = {o["rule_id"]: o for o in report["verdict"]["outcomes"]}
    (breach,) = rules["fairness.class-recall-difference"]["evidence"]["breaches"]
    assert breach["attribute_set"] == "language: class 'parks'"
    assert (breach["highest_group"], breach["lowest_group"]) == ("English", "Spanish")
    assert breach["ci_low"] > 0.1


@pytest.mark.docker
def test_no_personal_data_crosses_the_wall(
    blueprint_run: tuple[RunOutcome, dict[str, Any]],
) -> None:
    outcome, report = blueprint_run
    assert report["data"]["roles"]["features"] == ["description_redacted", "category", "channel"]
    tables = [pd.read_parquet(p) for p in sorted((outcome.run_dir / "input").glob("*.parquet"))]
    assert len(tables) == 2  # train.parquet and score.parquet
    header = set().union(*(t.columns for t in tables))
    assert not {"description", "reporter_email", "language", "district"} & header
    sent = "\n".join(t.astype(str).to_csv(index=False) for t in tables)
    assert "[NAME]" in sent and "[ADDRESS]" in sent
    for kind, pattern in PII_PATTERNS.items():
        assert not pattern.search(sent), kind
    emails = pd.read_csv(BLUEPRINT / "data" / "requests.csv", usecols=["reporter_email"])
    assert not any(email in sent for email in emails["reporter_email"].dropna().head(200))


def test_the_unredacted_text_would_be_blocked_with_every_kind_of_personal_data(
    tmp_path: Path,
) -> None:
    """Offered to the model, the text as residents wrote it is refused before any container."""
    from sandbox.data.dataset import load_pilot_data
    from sandbox.manifest import load_manifest
    from sandbox.policies.engine import check_stage, decide
    from sandbox.policies.pack import load_pack
    from sandbox.policies.rules import RuleContext
    from sandbox.runtime.base import Hardening

    pilot = tmp_path / "pilot"
    shutil.copytree(BLUEPRINT, pilot)
    manifest = yaml.safe_load((pilot / "pilot.yaml").read_text(encoding="utf-8"))
    manifest["data"]["features"][0] = "description"
    manifest["data"]["pii"].remove("description")
    manifest["data"]["pii"].append("description_redacted")
    (pilot / "pilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), "utf-8")
    loaded = load_manifest(pilot)
    ctx = RuleContext(manifest=loaded, hardening=Hardening(), data=load_pilot_data(pilot, loaded))
    baseline = load_pack("baseline")
    verdict = decide([baseline], check_stage([baseline], "pre_run", ctx))
    assert verdict.status == "blocked"
    (pii,) = (f for f in verdict.failures if f.rule_id == "data.no-pii-values")
    found = {f["pattern"]: f["matches"] for f in pii.evidence["found"]}
    assert set(found) == {"email", "phone", "name", "street_address"}
    assert min(found.values()) > 50
