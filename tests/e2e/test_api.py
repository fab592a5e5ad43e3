"""The web API as an attacker from another city would try it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sandbox.api import create_app
from sandbox.api.app import tenants_path
from sandbox.api.tenants import issue_token
from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail
from sandbox.runs.pilot_run import RunServices, run_pilot
from sandbox.runtime.fake import FakeRuntime
from sandbox.settings import Settings
from sandbox.tracking.memory import InMemoryTracker
from tests.pilots import manifest_dict, write_pilot
from tests.unit.runs.test_pilot_run import income_rule


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A sandbox home with one run for each of two cities, and a token for each."""
    root = tmp_path_factory.mktemp("api")
    settings = Settings(home=root / "home")
    services = RunServices(
        runtime=FakeRuntime(income_rule),
        tracker=InMemoryTracker(),
        trail=AuditTrail(settings.trail_path, Signer.load_or_create(settings.key_path)),
        image="runner:test",
        runs_dir=settings.runs_dir,
        actor="tester",
    )
    runs = {}
    for city in ("Northtown", "Southport"):
        m = manifest_dict()
        m["pilot"]["owner"]["city"] = city
        pilot = write_pilot(root / city, manifest=m)
        runs[city] = run_pilot(pilot, dataclasses.replace(services, tenant=city)).run_id
    tokens = {city: issue_token(tenants_path(settings), city) for city in runs}
    return {"client": TestClient(create_app(settings)), "runs": runs, "tokens": tokens}


def _auth(world: dict[str, object], city: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world['tokens'][city]}"}  # type: ignore[index]


def _is_error(response, status: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}
    assert body["error"]["status"] == status


def test_health_needs_no_token(world) -> None:  # type: ignore[no-untyped-def]
    assert world["client"].get("/api/health").json() == {"status": "ok"}


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_no_valid_token_no_data(world, header: str | None) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": header} if header else {}
    response = world["client"].get("/api/runs", headers=headers)
    _is_error(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_city_sees_only_its_own_runs(world) -> None:  # type: ignore[no-untyped-def]
    client, runs = world["client"], world["runs"]
    listed = client.get("/api/runs", headers=_auth(world, "Northtown")).json()
    assert [r["run_id"] for r in listed] == [runs["Northtown"]]
    assert listed[0]["city"] == "Northtown" and listed[0]["verdict"]
    own = client.get(f"/api/runs/{runs['Northtown']}", headers=_auth(world, "Northtown"))
    assert own.status_code == 200 and own.json()["pilot"]["city"] == "Northtown"
    assert "trail_path" not in own.json()["provenance"]


def test_another_citys_run_looks_like_no_run(world) -> None:  # type: ignore[no-untyped-def]
    client, runs = world["client"], world["runs"]
    theirs = client.get(f"/api/runs/{runs['Southport']}", headers=_auth(world, "Northtown"))
    missing = client.get("/api/runs/20200101T000000Z-abcdef", headers=_auth(world, "Northtown"))
    _is_error(theirs, 404)
    _is_error(missing, 404)
    assert theirs.json() == missing.json()  # no oracle for which run ids exist
    html = client.get(
        f"/api/runs/{runs['Southport']}/report.html", headers=_auth(world, "Northtown")
    )
    _is_error(html, 404)


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/..%2F..%2Fkeys",
        "/api/runs/%2e%2e",
        "/api/runs/20200101T000000Z-abcdef%00",
        "/api/runs/" + "a" * 5000,
    ],
)
def test_path_tricks_are_refused(world, path: str) -> None:  # type: ignore[no-untyped-def]
    response = world["client"].get(path, headers=_auth(world, "Northtown"))
    assert response.status_code in (404, 422)
    _is_error(response, response.status_code)


def test_html_report_is_served_with_a_strict_policy(world) -> None:  # type: ignore[no-untyped-def]
    run_id = world["runs"]["Northtown"]
    response = world["client"].get(
        f"/api/runs/{run_id}/report.html", headers=_auth(world, "Northtown")
    )
    assert response.status_code == 200 and "<svg" in response.text
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def _csrf(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


def test_browser_sign_in_and_dashboard(world) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(world["client"].app, base_url="https://testserver")
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://testserver"}
    bad = client.post(
        "/login", content=f"csrf={_csrf(client.get('/login').text)}&token=nope", headers=form
    )
    assert bad.status_code == 401 and "not valid" in bad.text
    good = client.post(
        "/login",
        content=f"csrf={_csrf(bad.text)}&token={world['tokens']['Southport']}",
        headers=form,
        follow_redirects=False,
    )
    assert good.status_code == 303
    cookie = good.headers["set-cookie"].lower()
    assert cookie.startswith("__host-sandbox_session=")
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    page = client.get("/")
    assert page.status_code == 200
    assert world["runs"]["Southport"] in page.text and world["runs"]["Northtown"] not in page.text
    assert 'action="/logout"' in page.text


def test_tokens_are_stored_hashed(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tenants.yaml"
    token = issue_token(path, "Eastville")
    text = path.read_text()
    assert token not in text and "Eastville" in text
    assert path.stat().st_mode & 0o077 == 0


def test_a_new_token_works_without_a_restart(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client = world["client"]
    settings_home = Path(client.app.state.runs.runs_dir).parent
    token = issue_token(settings_home / "api" / "tenants.yaml", "Northtown")
    response = client.get("/api/runs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and len(response.json()) == 1
