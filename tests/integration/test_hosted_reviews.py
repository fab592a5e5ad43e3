"""Sign-offs and a phase move through the hosted API, on a real run in the PostgreSQL trail.

A pilot of Northtown runs in the runner container, recorded for the organisation's id in the
PostgreSQL trail, as a worker runs a job; the job row names its run. The hosted API (real
PostgreSQL, the app in-process) then refuses a move without an approval, takes a reviewer's
sign-off, moves the pilot to mvp and shows its journey; other callers get the access
matrix's answers. `sandbox audit verify` checks the shared trail at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from sandbox.hosted.accounts import Accounts
from sandbox.hosted.jobs import JobState
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings
from tests.integration.hosted_api import make_world
from tests.pilots import manifest_dict, write_pilot

pytestmark = pytest.mark.docker


def test_a_run_is_signed_off_and_its_pilot_moved(
    tmp_path: Path, new_schema: Callable[[], str], runner_image: str
) -> None:
    url, trail_url = new_schema(), new_schema()
    home = tmp_path / "home"
    world = make_world(url, home, trail_url=trail_url)
    manifest = manifest_dict()
    manifest["pilot"]["owner"]["city"] = "Northtown"
    pilot = write_pilot(tmp_path / "pilot", manifest=manifest)
    # The worker's side: the job's organisation is the run's tenant, the trail is shared.
    worker = Settings(home=home, trail_url=trail_url, tenant="northtown", image=runner_image)
    outcome = run_pilot(pilot, build_services(worker))
    assert outcome.verdict.exit_ok
    run_id = outcome.run_id
    with world.jobs() as jobs:
        job = jobs.create(organisation="northtown", principal="nt-data",
                          archive_sha256="b" * 64, pilot_name="test-pilot")  # fmt: skip
        attempt = jobs.claim(job.id, "worker-1").delivery.attempt
        assert jobs.record_run(job.id, attempt, run_id)
        assert jobs.end(job.id, attempt, JobState.FINISHED, verdict=outcome.verdict.status)
    client, auth = world.client, world.auth
    phase_url = "/api/v1/pilots/test-pilot/phase"
    sign_url = f"/api/v1/runs/{run_id}/sign-offs"
    move = {"to": "mvp", "run_id": run_id}
    approve = {"capacity": "programme lead", "decision": "approved", "publish": True}

    refused = client.post(phase_url, json=move, headers=auth("reviewer"))
    assert refused.status_code == 400
    assert "has no approval for mvp" in refused.json()["error"]["message"]

    assert client.post(sign_url, json=approve, headers=auth("data_team")).status_code == 403
    assert client.post(sign_url, json=approve, headers=auth("operator")).status_code == 403
    # A reviewer of another city: that city's run and no run at all get the same answer.
    with Accounts(url) as accounts:
        accounts.create_principal("sv-review", "southville", "Sv Reviewer", roles=["reviewer"])
        other = {"Authorization": "Bearer " + accounts.issue_token(
            "sv-review", expires_in=timedelta(days=1)).token}  # fmt: skip
    elsewhere = client.post(sign_url, json=approve, headers=other)
    unknown = client.post("/api/v1/runs/no-such-run/sign-offs", json=approve, headers=other)
    assert elsewhere.status_code == unknown.status_code == 404
    assert elsewhere.json() == unknown.json()
    bad = client.post(sign_url, json={**approve, "decision": "rejected"}, headers=auth("reviewer"))
    assert bad.status_code == 400 and "a rejection needs a reason" in bad.text

    signed = client.post(sign_url, json=approve, headers=auth("reviewer"))
    assert signed.status_code == 201, signed.text
    body = signed.json()
    assert (body["reviewer"], body["phase"], body["decision"]) == ("nt-review", "mvp", "approved")
    again = client.post(sign_url, json=approve, headers=auth("reviewer"))
    assert again.status_code == 400 and "already approved" in again.text

    assert client.get(sign_url, headers=auth("auditor_granted")).json() == [body]
    assert client.get(sign_url, headers=auth("auditor_not_granted")).status_code == 404

    moved = client.post(phase_url, json=move, headers=auth("reviewer"))
    assert moved.status_code == 200, moved.text
    assert (moved.json()["from"], moved.json()["to"]) == ("prototype", "mvp")
    assert moved.json()["sign_offs"] == [body["trail_seq"]]

    journey = client.get("/api/v1/pilots/test-pilot/journey", headers=auth("data_team")).json()
    assert journey["phase"] == "mvp"
    [shown] = journey["runs"]
    assert (shown["run_id"], shown["job_id"], shown["passed"]) == (run_id, job.id, True)
    # The run's signed record headlines each fairness rule it checked, with its numbers.
    headlines = shown["disparities"]
    assert headlines and all(d["rule_id"].startswith(("fairness.", "phase.")) for d in headlines)
    assert any(isinstance(d["value"], float) and d["attribute_set"] for d in headlines)
    kinds = [e["kind"] for e in journey["events"]]
    assert kinds == ["run.submitted", "run.finished", "run.signed_off", "pilot.phase_moved"]
    granted = client.get("/api/v1/pilots/test-pilot/journey?organisation=northtown",
                         headers=auth("auditor_granted"))  # fmt: skip
    assert granted.json() == journey
    hidden = client.get("/api/v1/pilots/test-pilot/journey", headers=auth("other_city"))
    assert hidden.status_code == 404

    # The shared trail, sign-off and move included, verifies as every trail does.
    env = {**os.environ, "SANDBOX_HOME": str(home), "SANDBOX_TRAIL_URL": trail_url}
    verified = subprocess.run(
        [sys.executable, "-m", "sandbox", "audit", "verify"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "trail verified: 5 records" in verified.stdout  # started, finished included
