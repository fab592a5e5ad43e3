"""The register from a real blueprint run: approval, fields, suppression, links, evidence."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sandbox.audit.checkpoint import read_checkpoint
from sandbox.audit.signing import Verifier
from sandbox.register.build import build_register
from sandbox.register.evidence import verify_evidence
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings

BLUEPRINT = Path(__file__).resolve().parents[2] / "blueprints" / "benefits-eligibility-screening"


@pytest.mark.docker
def test_an_approved_blueprint_run_is_published_with_its_evidence(
    tmp_path: Path, runner_image: str
) -> None:
    settings = Settings(home=tmp_path / "home", image=runner_image)
    services = build_services(settings)
    published = run_pilot(BLUEPRINT, services)
    withdrawn = run_pilot(BLUEPRINT, services)
    sign_off = {"organisation": "local", "reviewer": "ada", "capacity": "service owner"}
    approve = sign_off | {"reviewer_name": "Ada <b>", "decision": "approved", "publish": True}
    trail = services.trail
    trail.append("run.signed_off", actor="ada", run_id=published.run_id, payload=approve)
    trail.append("run.signed_off", actor="ada", run_id=withdrawn.run_id, payload=approve)
    reject = sign_off | {"decision": "rejected", "publish": False}
    trail.append("run.signed_off", actor="ada", run_id=withdrawn.run_id, payload=reject)

    out = tmp_path / "site"
    built = build_register(settings, out)
    (entry,) = built.entries
    assert entry.approval.run_id == published.run_id
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    everything = "".join((out / f).read_text(encoding="utf-8") for f in sorted(files))
    assert withdrawn.run_id not in everything  # a withdrawn run leaves no trace

    standard = json.loads((out / f"entries/{entry.id}.json").read_text())
    assert standard["name"] == "Household Stability Assistance fast-track pre-screening"
    assert standard["status"] == "In ontwikkeling"
    assert standard["contact_email"] == "hsa-pilot@example.gov"
    register = json.loads((out / "register.json").read_text())
    summary = register["entries"][0]
    assert summary["sources"]["status"] == ["governance.phase"]
    atrs = json.loads((out / summary["files"]["atrs"]).read_text())
    assert atrs["generated_from"]["run_id"] == published.run_id

    # small cells: no count under the minimum group size is published
    rep = summary["representation"]
    minimum = rep["min_group_size"]
    shown = [g for s in rep["attribute_sets"] for g in s["groups"]]
    assert any(g["suppressed"] for g in shown)
    assert all(isinstance(g["rows"], str) or g["rows"] >= minimum for g in shown)

    # every link of every page resolves to a file of the site; no script anywhere
    for page in (p for p in files if p.endswith(".html")):
        html = (out / page).read_text(encoding="utf-8")
        assert "<script" not in html and "<b>" not in html  # the reviewer's name is escaped
        for link in re.findall(r'href="([^"]+)"', html):
            assert (out / page).parent.joinpath(link).resolve().is_file(), (page, link)

    # the evidence verifies offline with the published key alone
    checkpoint = read_checkpoint(out / "checkpoint.json")
    keys = {
        v.key_id: v for v in (Verifier.from_public_key_file(p) for p in (out / "keys").iterdir())
    }
    assert verify_evidence(out / "evidence" / entry.id, checkpoint, keys) == []
    records = out / "evidence" / entry.id / "records.jsonl"
    records.write_bytes(records.read_bytes().replace(b"pass_with_warnings", b"pass"))
    assert verify_evidence(out / "evidence" / entry.id, checkpoint, keys)

    # the same trail gives the same files
    again = tmp_path / "again"
    build_register(settings, again)
    build_register(settings, out)
    for name in files:
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
