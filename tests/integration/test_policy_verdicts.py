"""The blueprint's verdict follows its policy pack and its data, on the real Docker engine.

The baseline only warns about the blueprint's race and ethnicity selection-rate ratio (about
0.78, below the four-fifths line); a city pack that extends baseline and makes the four-fifths
rule on race and ethnicity a gate fails the run; without the proxy features that carry the
historical bias (`distance_to_office_km`, `service_district`) the same pack lets it pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from sandbox.runs.pilot_run import RunOutcome, RunServices, run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings

BLUEPRINT = Path(__file__).parents[2] / "blueprints" / "benefits-eligibility-screening"
PROXIES = ("distance_to_office_km", "service_district")
CITY_PACK = {
    "id": "example-city",
    "version": "1.0.0",
    "description": "Example City: the four-fifths rule on race and ethnicity is a gate.",
    "extends": "baseline",
    "rules": [
        {
            # A rule of its own: narrowing the inherited rule's attributes would weaken it.
            "id": "example-city.four-fifths-race",
            "type": "four_fifths",
            "title": "Selection rates by race and ethnicity pass the four-fifths line",
            "stage": "post_run",
            "severity": "block",
            "rationale": "Example City gates the disparity its residents raised.",
            "params": {"attributes": ["race_ethnicity"]},
        }
    ],
}
CITY_RULE = "example-city.four-fifths-race"


@pytest.fixture
def services(tmp_path: Path, runner_image: str) -> RunServices:
    return build_services(Settings(home=tmp_path / "home", image=runner_image))


def _copy(tmp_path: Path, *, tightened: bool, fairer: bool) -> Path:
    """A copy of the blueprint under the city pack and/or without its proxy features."""
    pilot = tmp_path / "pilot"
    shutil.copytree(BLUEPRINT, pilot)
    manifest = yaml.safe_load((pilot / "pilot.yaml").read_text())
    if tightened:
        (pilot / "city-pack.yaml").write_text(yaml.safe_dump(CITY_PACK))
        manifest["governance"]["policy_packs"] = ["city-pack.yaml"]
    if fairer:
        data = manifest["data"]
        data["features"] = [f for f in data["features"] if f not in PROXIES]
        model = (pilot / "model.py").read_text()
        for feature in PROXIES:
            model = model.replace(f'    "{feature}",\n', "")
        (pilot / "model.py").write_text(model)
    (pilot / "pilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return pilot


def _four_fifths(
    outcome: RunOutcome, rule_id: str = "fairness.four-fifths"
) -> tuple[str, str, float]:
    rule = next(o for o in outcome.verdict.outcomes if o.rule_id == rule_id)
    race = next(r for r in rule.evidence["checked"] if r["attribute_set"] == "race_ethnicity")
    return rule.outcome, rule.severity, race["ratio"]


@pytest.mark.docker
def test_baseline_warns_about_the_blueprints_disparity(
    tmp_path: Path, services: RunServices
) -> None:
    outcome = run_pilot(_copy(tmp_path, tightened=False, fairer=False), services)
    assert outcome.verdict.status == "pass_with_warnings" and outcome.exit_code == 0
    result, severity, ratio = _four_fifths(outcome)
    assert (result, severity) == ("failed", "warn") and ratio < 0.8
    proxy = next(o for o in outcome.verdict.outcomes if o.rule_id == "data.proxy-features")
    flagged = {p["feature"] for p in proxy.evidence["proxies"]}
    assert set(PROXIES) <= flagged and proxy.severity == "warn"


@pytest.mark.docker
def test_a_tightened_pack_fails_the_blueprint(tmp_path: Path, services: RunServices) -> None:
    outcome = run_pilot(_copy(tmp_path, tightened=True, fairer=False), services)
    assert outcome.verdict.status == "fail" and outcome.exit_code == 3
    assert outcome.report.runtime is not None  # it ran: a post-run gate, not a block
    result, severity, ratio = _four_fifths(outcome, CITY_RULE)
    assert (result, severity) == ("failed", "block") and ratio < 0.8
    # The city pack replaces baseline (it extends it); the phase pack is added by the pilot's phase.
    assert outcome.verdict.pack.split("+") == ["phase-prototype", "example-city"]


@pytest.mark.docker
def test_fairer_data_passes_the_tightened_pack(tmp_path: Path, services: RunServices) -> None:
    outcome = run_pilot(_copy(tmp_path, tightened=True, fairer=True), services)
    assert outcome.verdict.exit_ok and outcome.exit_code == 0, outcome.verdict.failures
    result, _, ratio = _four_fifths(outcome, CITY_RULE)
    assert result == "passed" and ratio >= 0.8
    proxy = next(o for o in outcome.verdict.outcomes if o.rule_id == "data.proxy-features")
    assert not set(PROXIES) & {p["feature"] for p in proxy.evidence["proxies"]}
