"""The hosted dashboard in a browser's place: sign-in, sessions, CSRF, who sees which page,
and the phase check at submission; real PostgreSQL, the app in-process.

The last test runs one pilot in the runner container as a worker does, logging to a real
MLflow server (`scripts/mlflow.sh`) from a worker home of its own, so the dashboard reads the
run's report from MLflow and checks it against the signed record; a reviewer signs the run off
and moves the pilot through the pages' forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from sandbox.api.hosted.browser import Browser, browser
from sandbox.api.sessions import SessionStore
from sandbox.hosted.accounts import Accounts
from sandbox.hosted.jobs import JobState
from sandbox.hosted.packing import pack_pilot
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings
from tests.integration.hosted_api import World, make_world, world
from tests.integration.test_mlflow_server import Server, server
from tests.pilots import manifest_dict, write_pilot

__all__ = ["server", "world"]  # the fixtures, imported by name

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CROSS = {"Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"}


def sign_in(w: World, caller: str) -> tuple[TestClient, str]:
    """A browser of its own, signed in with `caller`'s token: (the client, its CSRF token)."""
    client = TestClient(w.app, raise_server_exceptions=False)
    form = client.get("/login")
    assert form.status_code == 200 and "sandbox_login" in form.cookies
    done = client.post(
        "/login",
        data={"csrf": CSRF.findall(form.text)[0], "token": w.tokens[caller]},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and w.tokens[caller] not in cookie
    home = client.get("/")
    assert home.status_code == 200, home.text
    return client, CSRF.findall(home.text)[0]


def job(w: World, pilot: str = "test-pilot", organisation: str = "northtown") -> str:
    owner = "nt-data" if organisation == "northtown" else "sv-data"
    with w.jobs() as jobs:
        return jobs.create(organisation=organisation, principal=owner,
                           archive_sha256="a" * 64, pilot_name=pilot).id  # fmt: skip


def test_sign_in_sign_out_and_csrf(world: World) -> None:
    client = TestClient(world.app, raise_server_exceptions=False)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    form = client.get("/login")
    csrf = CSRF.findall(form.text)[0]
    assert "script" not in form.headers["content-security-policy"]
    bad = client.post("/login", data={"csrf": csrf, "token": "sbx_nope"})
    assert bad.status_code == 401 and "the token is not valid" in bad.text
    for token in ("expired", "revoked"):
        csrf = CSRF.findall(client.get("/login").text)[0]
        refused = client.post("/login", data={"csrf": csrf, "token": world.tokens[token]})
        assert refused.status_code == 401
    csrf = CSRF.findall(client.get("/login").text)[0]
    wrong = client.post("/login", data={"csrf": "x" + csrf, "token": world.tokens["data_team"]})
    crossed = client.post(
        "/login", data={"csrf": csrf, "token": world.tokens["data_team"]}, headers=CROSS
    )
    assert wrong.status_code == crossed.status_code == 403

    browser_, page_csrf = sign_in(world, "data_team")
    queued = job(world)
    cancel = f"/jobs/{queued}/cancel"
    for data, headers in (({}, {}), ({"csrf": "wrong"}, {}), ({"csrf": page_csrf}, CROSS)):
        refused = browser_.post(cancel, data=data, headers=headers, follow_redirects=False)
        assert refused.status_code == 403, (data, headers)
        assert "not sent from this page" in refused.text
    with world.jobs() as jobs:
        assert jobs.get(queued).state is JobState.QUEUED  # nothing was cancelled
    done = browser_.post(cancel, data={"csrf": page_csrf}, follow_redirects=False)
    assert done.status_code == 303
    with world.jobs() as jobs:
        assert jobs.get(queued).state is JobState.CANCELLED

    # Sign-out: refused cross-site; with the form, the session ends on the server.
    session_id = browser_.cookies["sandbox_session"]
    assert browser_.post("/logout", data={"csrf": page_csrf}, headers=CROSS).status_code == 403
    out = browser_.post("/logout", data={"csrf": page_csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    replay = TestClient(world.app, cookies={"sandbox_session": session_id})
    assert replay.get("/", follow_redirects=False).headers["location"] == "/login"
    assert browser(world.app).sessions.get(session_id) is None


def test_revoking_the_token_or_time_ends_the_session(world: World) -> None:
    client, _ = sign_in(world, "reviewer")
    with Accounts(world.url) as accounts:
        accounts.revoke_token("northtown", world.token_ids["reviewer"])
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    # Sessions end on their own: an idle session, on a store whose clock the test moves.
    now = [0.0]
    world.app.state.browser = Browser(
        SessionStore(idle_s=60, clock=lambda: now[0]), browser(world.app).templates
    )
    client, _ = sign_in(world, "data_team")
    now[0] = 59.0
    assert client.get("/", follow_redirects=False).status_code == 200
    now[0] = 59.0 + 61
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_who_sees_which_job_page(world: World) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    north, south = job(world, hostile), job(world, "south-pilot", "southville")
    callers = ("data_team", "reviewer", "other_city", "auditor_granted", "auditor_not_granted")
    pages = {caller: sign_in(world, caller)[0] for caller in callers}
    listing = pages["data_team"].get("/").text
    assert "<script>alert" not in listing and "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    assert "Cancel" in listing and "Cancel" not in pages["reviewer"].get("/").text
    unknown = pages["other_city"].get("/jobs/job_" + "0" * 26)
    hidden = pages["other_city"].get(f"/jobs/{north}")
    assert hidden.status_code == unknown.status_code == 404 and hidden.text == unknown.text
    assert pages["other_city"].get(f"/jobs/{south}").status_code == 200
    assert pages["data_team"].get(f"/jobs/{north}").status_code == 200
    assert "south-pilot" not in pages["data_team"].get("/?organisation=southville").text
    assert pages["data_team"].get("/?organisation=southville").status_code == 403
    # Auditors see the organisations granted to them, chosen on the page.
    granted = pages["auditor_granted"].get("/")
    assert granted.status_code == 200 and hostile not in granted.text
    assert "&lt;script&gt;" in granted.text and "Cancel" not in granted.text
    assert pages["auditor_granted"].get(f"/jobs/{north}").status_code == 200
    nowhere = pages["auditor_not_granted"].get("/jobs/job_" + "0" * 26)
    assert pages["auditor_not_granted"].get(f"/jobs/{north}").text == nowhere.text
    assert "south-pilot" in pages["auditor_not_granted"].get("/?organisation=southville").text
    for page in ("/runs/no-such-run", "/pilots/no-such-pilot", "/runs/..%2F..", "/pilots/%3Cx%3E"):
        assert pages["data_team"].get(page).status_code == 404


def _archive(folder: Path, phase: str) -> bytes:
    manifest = manifest_dict()
    manifest["pilot"]["owner"]["city"] = "Northtown"
    manifest["pilot"]["phase"] = phase
    return pack_pilot(write_pilot(folder, manifest=manifest)).data


def test_a_phase_ahead_of_the_register_is_refused_at_submission(
    world: World, tmp_path: Path
) -> None:
    ahead = world.submit("data_team", _archive(tmp_path / "mvp", "mvp"))
    assert ahead.status_code == 400, ahead.text
    message = ahead.json()["error"]["message"]
    assert "pilot.phase is 'mvp'" in message and "in the prototype phase" in message
    assert "move the pilot first" in message and not world.enqueued
    for phase in ("prototype", "scoping"):
        accepted = world.submit("data_team", _archive(tmp_path / phase, phase))
        assert accepted.status_code in (200, 202), accepted.text
    assert len(world.enqueued) == 2


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "pages"
    folder.mkdir()
    yield folder


def _save(folder: Path, name: str, response: Any) -> str:
    """Keep the page (its HTML is self-contained) for a look in a headless browser."""
    assert response.status_code == 200, response.text[:2000]
    (folder / f"{name}.html").write_text(response.text, encoding="utf-8")
    return str(response.text)


@pytest.mark.docker
def test_a_run_through_the_pages(
    tmp_path: Path, new_schema: Any, runner_image: str, server: Server, shots: Path
) -> None:
    url, trail_url = new_schema(), new_schema()
    w = make_world(url, tmp_path / "home", trail_url=trail_url, mlflow_tracking_uri=server.url)
    manifest = manifest_dict()
    manifest["pilot"]["owner"]["city"] = "Northtown"
    pilot = write_pilot(tmp_path / "pilot", manifest=manifest)
    # The worker's side: its own home (its run folders stay there), the shared trail and MLflow.
    worker = Settings(home=tmp_path / "worker", trail_url=trail_url, tenant="northtown",
                      image=runner_image, mlflow_tracking_uri=server.url)  # fmt: skip
    outcome = run_pilot(pilot, build_services(worker))
    assert outcome.verdict.exit_ok
    run_id = outcome.run_id
    with w.jobs() as jobs:
        made = jobs.create(organisation="northtown", principal="nt-data",
                           archive_sha256="b" * 64, pilot_name="test-pilot")  # fmt: skip
        attempt = jobs.claim(made.id, "worker-1").delivery.attempt
        assert jobs.record_run(made.id, attempt, run_id)
        assert jobs.end(made.id, attempt, JobState.FINISHED, verdict=outcome.verdict.status)
    with w.client:
        data, _ = sign_in(w, "data_team")
        reviewer, csrf = sign_in(w, "reviewer")
        other, _ = sign_in(w, "other_city")
        _save(shots, "jobs", data.get("/"))
        assert run_id in _save(shots, "job", data.get(f"/jobs/{made.id}"))
        page = _save(shots, "run", data.get(f"/runs/{run_id}"))
        assert "Sign off this run" not in page and "/report" in page
        assert "Sign off this run" in reviewer.get(f"/runs/{run_id}").text
        unknown = other.get("/runs/no-such-run")
        assert other.get(f"/runs/{run_id}").text == unknown.text
        assert other.get(f"/runs/{run_id}/report").text == unknown.text
        assert other.get("/pilots/test-pilot").status_code == 404

        # The report comes from MLflow (no run folder on this server), checked against its record.
        assert not (w.settings.runs_dir / run_id).exists()
        report = _save(shots, "report", data.get(f"/runs/{run_id}/report"))
        assert "<script" not in report.lower() and "test-pilot" in report

        # A hostile reason is escaped; a sign-off without the form's token is refused.
        move = {"csrf": csrf, "to": "mvp", "run_id": run_id}
        early = reviewer.post("/pilots/test-pilot/phase", data=move)
        assert early.status_code == 400 and "has no approval for mvp" in early.text
        sign = {"csrf": csrf, "capacity": "programme lead", "decision": "approved",
                "reason": "<b>fine</b>\r\nby me", "publish": "yes"}  # fmt: skip
        refused = reviewer.post(f"/runs/{run_id}/sign-off", data={**sign, "csrf": ""})
        assert refused.status_code == 403
        signed = reviewer.post(f"/runs/{run_id}/sign-off", data=sign, follow_redirects=False)
        assert signed.status_code == 303, signed.text
        page = _save(shots, "run-signed", reviewer.get(f"/runs/{run_id}"))
        assert "&lt;b&gt;fine&lt;/b&gt;" in page and "<b>fine" not in page
        assert reviewer.post("/pilots/test-pilot/phase", data=move).status_code == 200
        journey = _save(shots, "pilot", data.get("/pilots/test-pilot"))
        assert "<svg" in journey and "mvp</strong> phase" in journey and "moved from" in journey

        # Now in mvp, the pilot may be submitted as mvp; scale is still ahead of it.
        manifest["pilot"]["phase"] = "scale"
        (pilot / "pilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        ahead = w.submit("data_team", pack_pilot(pilot).data)
        assert ahead.status_code == 400 and "in the mvp phase" in ahead.text
        manifest["pilot"]["phase"] = "mvp"
        (pilot / "pilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        assert w.submit("data_team", pack_pilot(pilot).data).status_code in (200, 202)
