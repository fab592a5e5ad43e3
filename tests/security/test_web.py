"""Host-side attacks on the web surface: tenancy, request bodies, sign-in, probing, reports.

Each test plays a caller (or a pilot) from another city and checks what the API does; none
needs the container engine: runs are made with the fake runtime, the API is driven through
FastAPI's TestClient, the raw ASGI interface, or a uvicorn the test starts on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from fastapi.testclient import TestClient

from sandbox.api import create_app
from sandbox.api.app import tenants_path
from sandbox.api.limits import MAX_BODY_BYTES
from sandbox.api.tenants import issue_token
from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail
from sandbox.errors import UserInputError
from sandbox.runs.pilot_run import RunServices, run_pilot
from sandbox.runs.predictions_audit import audit_predictions
from sandbox.runtime.fake import FakeRuntime
from sandbox.settings import Settings
from sandbox.tracking.memory import InMemoryTracker
from tests.pilots import make_frame, manifest_dict, write_pilot
from tests.unit.runs.test_pilot_run import income_rule

FORM = "application/x-www-form-urlencoded"
PLACEHOLDER = "(not stated: predictions-only audit)"


@dataclasses.dataclass
class World:
    """A sandbox home with runs of two tenants, a token each, and an app over it."""

    settings: Settings
    services: RunServices
    runs: dict[str, str]
    tokens: dict[str, str]
    client: TestClient

    def auth(self, tenant: str) -> dict[str, str]:
        """The bearer header of `tenant`."""
        return {"Authorization": f"Bearer {self.tokens[tenant]}"}

    def run(self, tenant: str | None, city: str, name: str) -> str:
        """Run a pilot that declares `city`, recorded for `tenant`; return its run id."""
        m = manifest_dict()
        m["pilot"]["owner"]["city"] = city
        pilot = write_pilot(self.settings.home.parent / name, manifest=m)
        services = dataclasses.replace(self.services, tenant=tenant)
        return run_pilot(pilot, services).run_id


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Northtown's honest run; Southport's run that claims to be Northtown's."""
    root = tmp_path_factory.mktemp("web")
    settings = Settings(home=root / "home")
    services = RunServices(
        runtime=FakeRuntime(income_rule),
        tracker=InMemoryTracker(),
        trail=AuditTrail(settings.trail_path, Signer.load_or_create(settings.key_path)),
        image="runner:test",
        runs_dir=settings.runs_dir,
        actor="tester",
        tracking_uri=f"sqlite:///{settings.home / 'mlflow' / 'mlflow.db'}",
    )
    w = World(settings, services, {}, {}, TestClient(create_app(settings)))
    w.runs["Northtown"] = w.run("Northtown", "Northtown", "honest")
    w.runs["forged"] = w.run("Southport", "Northtown", "forged")  # claims another city
    w.tokens = {
        city: issue_token(tenants_path(settings), city) for city in ("Northtown", "Southport")
    }
    return w


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["run_id"] for r in response.json()]


# --- tenancy: who ran it, not what the pilot claims ----------------------------------------


def test_forged_owner_city_is_not_served_to_the_city_it_names(world: World) -> None:
    forged = world.runs["forged"]
    north = world.client.get("/api/runs", headers=world.auth("Northtown"))
    assert forged not in _ids(north)
    for path in (f"/api/runs/{forged}", f"/api/runs/{forged}/report.html"):
        assert world.client.get(path, headers=world.auth("Northtown")).status_code == 404


def test_forged_owner_city_is_still_served_to_its_own_tenant(world: World) -> None:
    forged = world.runs["forged"]
    south = world.client.get("/api/runs", headers=world.auth("Southport")).json()
    assert [r["run_id"] for r in south] == [forged]
    assert south[0]["tenant"] == "Southport" and south[0]["city"] == "Northtown"
    report = world.client.get(f"/api/runs/{forged}", headers=world.auth("Southport"))
    assert report.status_code == 200 and report.json()["pilot"]["city"] == "Northtown"


def test_the_tenant_is_signed_into_the_submitted_record(world: World) -> None:
    records = world.services.trail.records_for_run(world.runs["forged"])
    submitted = next(r for r in records if r.kind == "run.submitted")
    assert submitted.payload["tenant"] == "Southport"


def test_a_run_recorded_without_a_tenant_is_served_to_nobody(world: World) -> None:
    run_id = world.run(None, "Northtown", "untenanted")
    for tenant in ("Northtown", "Southport"):
        assert run_id not in _ids(world.client.get("/api/runs", headers=world.auth(tenant)))


def test_predictions_only_audit_has_no_placeholder_tenant(world: World, tmp_path: Path) -> None:
    frame = make_frame(200)
    frame["predicted"] = frame["eligible"]
    data = tmp_path / "predictions.csv"
    frame.drop(columns=["full_name", "email"]).to_csv(data, index=False)
    args: dict[str, Any] = {
        "label": "eligible",
        "prediction": "predicted",
        "sensitive": ["group"],
        "positive": "yes",
        "n_bootstrap": 50,
    }
    untenanted = audit_predictions(data, services=world.services, **args)
    assert untenanted.report.pilot.city == PLACEHOLDER
    with pytest.raises(UserInputError, match="not allowed"):
        issue_token(tenants_path(world.settings), PLACEHOLDER)
    owned = audit_predictions(
        data, services=dataclasses.replace(world.services, tenant="Northtown"), **args
    )
    listed = _ids(world.client.get("/api/runs", headers=world.auth("Northtown")))
    assert owned.run_id in listed and untenanted.run_id not in listed


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "Unknown",
        "none",
        "Not  Stated",
        PLACEHOLDER,
        "x" * 65,
        "<b>City</b>",
        "a\x1b]0;x",
    ],
)
def test_no_token_for_a_reserved_or_unsafe_name(name: str, tmp_path: Path) -> None:
    path = tmp_path / "tenants.yaml"
    with pytest.raises(UserInputError, match="tenant|reserved"):
        issue_token(path, name)
    assert not path.exists()


@pytest.mark.parametrize("name", ["", "(not stated: predictions-only audit)", "x" * 300])
def test_cli_token_with_a_bad_name_is_one_line_and_exit_2(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "SANDBOX_HOME": str(tmp_path), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "api", "token", name],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr and not (tmp_path / "api" / "tenants.yaml").exists()


@pytest.mark.parametrize(
    ("args", "env_tenant"),
    [(["run", "--tenant", "unknown", "."], None), (["run", "."], ""), (["run", "."], "<i>x</i>")],
)
def test_cli_run_with_a_bad_tenant_is_one_line_and_exit_2(
    args: list[str], env_tenant: str | None, tmp_path: Path
) -> None:
    env = {**os.environ, "SANDBOX_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    env.pop("SANDBOX_TENANT", None)
    if env_tenant is not None:
        env["SANDBOX_TENANT"] = env_tenant
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "tenant" in done.stderr
    assert not (tmp_path / "home" / "runs").exists()  # refused before anything started


# --- request bodies: capped while they stream ---------------------------------------------


def _drive(
    app: Any, headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]
) -> tuple[int, int]:
    """Send one POST /login through the raw ASGI interface: (status, body bytes the app read)."""
    read = 0
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/login",
        "raw_path": b"/login",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", FORM.encode()), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    return status[0], read


def _megabytes(count: int) -> Iterator[bytes]:
    return (b"t" * (1 << 20) for _ in range(count))


def test_oversized_login_declared_length_is_refused_before_reading(world: World) -> None:
    app = world.client.app
    status, read = _drive(app, [(b"content-length", str(64 << 20).encode())], _megabytes(64))
    assert status == 413 and read == 0


def test_oversized_login_streamed_is_cut_at_the_cap(world: World) -> None:
    status, read = _drive(world.client.app, [], _megabytes(64))
    assert status == 413 and read <= MAX_BODY_BYTES + (1 << 20)  # one message past the cap
    status, read = _drive(world.client.app, [], (b"t" * 1024 for _ in range(64 * 1024)))
    assert status == 413 and read <= MAX_BODY_BYTES + 1024


def test_oversized_login_to_a_real_server_is_answered_without_the_body(world: World) -> None:
    server = uvicorn.Server(
        uvicorn.Config(world.client.app, host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: " + FORM.encode() + b"\r\nContent-Length: 67108864\r\n\r\n"
            )
            conn.sendall(b"t" * 65536)  # a little of the 64 MB; the answer must not wait for it
            answer = conn.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    finally:
        server.should_exit = True
        thread.join(timeout=20)


# --- sign-in: CSRF, a server-side session, sign-out ---------------------------------------


def _csrf(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


def _sign_in(client: TestClient, token: str, **headers: str) -> Any:
    csrf = _csrf(client.get("/login").text)
    return client.post(
        "/login",
        content=f"csrf={csrf}&token={token}",
        headers={"Content-Type": FORM, **headers},
        follow_redirects=False,
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.testserver"},
    ],
)
def test_cross_origin_login_is_refused(world: World, headers: dict[str, str]) -> None:
    client = TestClient(world.client.app, base_url="https://testserver")
    response = _sign_in(client, world.tokens["Northtown"], **headers)
    assert response.status_code == 403 and "sandbox_session" not in response.headers.get(
        "set-cookie", ""
    )
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_without_the_forms_csrf_token_is_refused(world: World) -> None:
    client = TestClient(world.client.app, base_url="https://testserver")
    client.get("/login")  # the browser holds a CSRF cookie, the attacker's form cannot read it
    for body in (
        f"token={world.tokens['Northtown']}",
        f"csrf=guess&token={world.tokens['Northtown']}",
    ):
        response = client.post("/login", content=body, headers={"Content-Type": FORM})
        assert response.status_code == 403
    fresh = TestClient(world.client.app, base_url="https://testserver")  # no CSRF cookie at all
    response = fresh.post(
        "/login",
        content=f"csrf=x&token={world.tokens['Northtown']}",
        headers={"Content-Type": FORM},
    )
    assert response.status_code == 403


def test_the_cookie_holds_a_session_id_never_the_token(world: World) -> None:
    client = TestClient(world.client.app, base_url="https://testserver")
    token = world.tokens["Northtown"]
    response = _sign_in(client, token, Origin="https://testserver")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert token not in cookie and hashlib.sha256(token.encode()).hexdigest() not in cookie
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "secure" in lowered
    assert "max-age=28800" in lowered and lowered.startswith("__host-sandbox_session=")
    # A cookie holding the token itself (the old scheme) signs nobody in.
    other = TestClient(world.client.app, base_url="https://testserver")
    other.cookies.set("__Host-sandbox_session", token)
    other.cookies.set("sandbox_token", token)
    assert other.get("/api/runs").status_code == 401


def test_plain_http_cookie_is_not_secure_and_not_host_prefixed(world: World) -> None:
    client = TestClient(world.client.app, base_url="http://testserver")
    response = _sign_in(client, world.tokens["Northtown"])
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("sandbox_session=") and "secure" not in cookie
    assert client.get("/api/runs").status_code == 200


def test_sign_out_ends_the_session_on_the_server(world: World) -> None:
    client = TestClient(world.client.app, base_url="https://testserver")
    _sign_in(client, world.tokens["Northtown"], Origin="https://testserver")
    stolen = client.cookies.get("__Host-sandbox_session")
    page = client.get("/")
    assert page.status_code == 200 and 'action="/logout"' in page.text
    cross = client.post(
        "/logout",
        content=f"csrf={_csrf(page.text)}",
        headers={"Content-Type": FORM, "Origin": "https://evil.example"},
    )
    assert cross.status_code == 403 and client.get("/api/runs").status_code == 200
    out = client.post(
        "/logout",
        content=f"csrf={_csrf(page.text)}",
        headers={"Content-Type": FORM, "Origin": "https://testserver"},
        follow_redirects=False,
    )
    assert out.status_code == 303 and out.headers["location"] == "/login"
    replay = TestClient(world.client.app, base_url="https://testserver")
    replay.cookies.set("__Host-sandbox_session", str(stolen))
    assert replay.get("/api/runs").status_code == 401
    assert replay.get("/", follow_redirects=False).headers["location"] == "/login"


def test_removing_a_token_ends_its_sessions(world: World, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    token = issue_token(tenants_path(settings), "Eastville")
    client = TestClient(create_app(settings), base_url="https://testserver")
    _sign_in(client, token, Origin="https://testserver")
    assert client.get("/api/runs").status_code == 200
    tenants_path(settings).write_text(yaml.safe_dump({"tenants": []}))
    assert client.get("/api/runs").status_code == 401


# --- probing run ids: another tenant's run and no run do the same work ----------------------

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPENED is not None and event in ("open", "os.scandir", "os.listdir") and args:
        target = args[0]
        _OPENED.append(f"{event} {os.fsdecode(target) if isinstance(target, str | bytes) else ''}")


sys.addaudithook(_audit)


def _touched(client: TestClient, path: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    global _OPENED
    _OPENED = []
    try:
        status = client.get(path, headers=headers).status_code
    finally:
        touched, _OPENED = _OPENED, None
    return status, touched


@pytest.mark.parametrize("route", ["/api/runs/{}", "/api/runs/{}/report.html"])
def test_another_tenants_run_and_a_missing_run_take_the_same_path(world: World, route: str) -> None:
    theirs, missing = world.runs["forged"], "20200101T000000Z-abcdef"
    home = str(world.settings.home)
    world.client.get("/api/runs", headers=world.auth("Northtown"))  # warm the shared index
    for fresh in (True, False):  # an index built during the request, and a warm one
        results = []
        for run_id in (theirs, missing):
            client = TestClient(create_app(world.settings)) if fresh else world.client
            status, touched = _touched(client, route.format(run_id), world.auth("Northtown"))
            results.append((status, sorted(t for t in touched if home in t)))
        assert results[0] == results[1] and results[0][0] == 404
        if not fresh:  # a warm lookup opens no file: nothing of the other tenant's run
            assert results[0][1] == []


# --- no host path in any route; reports checked against their record -------------------------


def test_no_host_path_in_any_route(world: World) -> None:
    client = TestClient(world.client.app, base_url="https://testserver")
    _sign_in(client, world.tokens["Northtown"], Origin="https://testserver")
    run_id = world.runs["Northtown"]
    pages = ["/", "/login", "/api/runs", f"/api/runs/{run_id}", f"/api/runs/{run_id}/report.html"]
    stored = (world.settings.runs_dir / run_id / "reports" / "report.html").read_text()
    home = str(world.settings.home)
    assert home in stored  # the operator's copy keeps them; the web never shows them
    for page in pages:
        text = client.get(page).text
        for secret in (home, str(world.settings.home.resolve()), "trail.jsonl", "mlflow.db"):
            assert secret not in text, (page, secret)


def test_an_edited_report_is_refused_not_served(world: World) -> None:
    run_id = world.run("Northtown", "Northtown", "edited")
    reports = world.settings.runs_dir / run_id / "reports"
    for name, route in (
        ("report.json", f"/api/runs/{run_id}"),
        ("report.html", f"/api/runs/{run_id}/report.html"),
    ):
        original = (reports / name).read_bytes()
        (reports / name).write_bytes(original.replace(b"test-pilot", b"fair-pilot"))
        try:
            response = world.client.get(route, headers=world.auth("Northtown"))
            assert response.status_code == 409, response.text
            body = response.json()["error"]
            assert body["code"] == "report_altered" and "signed record" in body["message"]
            assert "fair-pilot" not in response.text
            listed = world.client.get("/api/runs", headers=world.auth("Northtown")).json()
            line = next(r for r in listed if r["run_id"] == run_id)
            assert line["report"] == ("altered" if name == "report.json" else "verified")
            assert line["pilot"] == "test-pilot"  # from the signed record, not the edited file
        finally:
            (reports / name).write_bytes(original)
    assert (
        world.client.get(f"/api/runs/{run_id}", headers=world.auth("Northtown")).status_code == 200
    )


def test_a_report_replaced_by_a_link_is_refused(world: World) -> None:
    run_id = world.run("Northtown", "Northtown", "linked")
    report = world.settings.runs_dir / run_id / "reports" / "report.json"
    kept = report.with_suffix(".kept")
    report.rename(kept)
    report.symlink_to(kept)
    response = world.client.get(f"/api/runs/{run_id}", headers=world.auth("Northtown"))
    assert response.status_code == 409
