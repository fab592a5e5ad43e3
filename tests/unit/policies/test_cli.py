"""`sandbox policy ...` and `sandbox assess`, driven through the console entry point."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from sandbox.cli import main
from tests.pilots import manifest_dict, write_pilot

BLUEPRINT = str(Path(__file__).parents[3] / "blueprints" / "benefits-eligibility-screening")


def _sandbox(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["sandbox", *args])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out + captured.err


def test_list_show_explain(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _sandbox(monkeypatch, capsys, "policy", "list")
    assert code == 0 and "phase-scale" in out and "high-impact" in out
    code, out = _sandbox(monkeypatch, capsys, "policy", "show", "phase-mvp")
    assert code == 0 and "extends: phase-prototype" in out and "phase.proxies" in out
    code, out = _sandbox(monkeypatch, capsys, "policy", "explain", "data.proxy-features")
    assert code == 0 and "EU AI Act Art. 10(2)(f)" in out and "param max_auc" in out
    code, out = _sandbox(monkeypatch, capsys, "policy", "explain", "sign_offs_required")
    assert code == 0 and "param roles (required)" in out
    code, out = _sandbox(monkeypatch, capsys, "policy", "explain", "no.such-rule")
    assert code == 2 and "neither a rule id" in out


def test_check_warns_on_the_blueprint_and_blocks_pii(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out = _sandbox(monkeypatch, capsys, "policy", "check", BLUEPRINT)
    assert code == 0 and "pre-run verdict: pass_with_warnings" in out
    assert "distance_to_office_km -> race_ethnicity" in out
    m = manifest_dict()
    m["data"]["features"] = ["income", "email"]
    code, out = _sandbox(
        monkeypatch, capsys, "policy", "check", str(write_pilot(tmp_path, manifest=m))
    )
    assert code == 3 and "pre-run verdict: blocked" in out


def test_a_malformed_city_pack_exits_2_naming_file_rule_and_field(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pack = {
        "id": "city",
        "version": "1.0.0",
        "description": "City.",
        "extends": "baseline",
        "rules": [{"id": "fairness.four-fifths", "params": {"min_ratio": "high"}}],
    }
    (tmp_path / "city.yaml").write_text(yaml.safe_dump(pack))
    code, out = _sandbox(monkeypatch, capsys, "policy", "show", str(tmp_path / "city.yaml"))
    assert code == 2
    assert "city.yaml: rules[0] (fairness.four-fifths): params.min_ratio" in out.replace("\n", "")


def test_assess_prints_the_level_and_its_drivers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _sandbox(monkeypatch, capsys, "assess", BLUEPRINT)
    assert code == 0 and "impact level: II" in out and "+4" in out and "primarily" in out
    code, out = _sandbox(monkeypatch, capsys, "assess", BLUEPRINT, "--json")
    result = json.loads(out)
    assert result["level"] == "II" and result["packs"] == ["baseline", "phase-prototype"]
