"""The hosted API's endpoint x role x organisation matrix, against real PostgreSQL.

Every route is called by every kind of caller: Northtown's data team and reviewer, another
city's data team, an auditor granted Northtown and one granted only another city, an
operator, a worker, and the holders of an expired, a revoked, a malformed and no token. The
job and the reviewer's spare token belong to Northtown. A job the caller may not see answers
exactly as a job that does not exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.hosted.jobs import JobState
from sandbox.hosted.tokens import parse_token
from tests.integration.hosted_api import World, pilot_archive, world

__all__ = ["world"]  # the fixture, imported by name

VALID = ["data_team", "reviewer", "other_city", "auditor_granted", "auditor_not_granted"]
VALID += ["operator", "worker"]
#: Route -> the status each valid caller gets. {job} is a Northtown job, {spare} the id of
#: the Northtown reviewer's second token.
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/api/v1/whoami"): dict.fromkeys(VALID, 200),
    ("GET", "/api/v1/jobs"): {
        "data_team": 200, "reviewer": 200, "other_city": 200, "auditor_granted": 403,
        "auditor_not_granted": 403, "operator": 200, "worker": 403,
    },
    ("GET", "/api/v1/jobs?organisation=northtown"): {
        "data_team": 200, "reviewer": 200, "other_city": 403, "auditor_granted": 200,
        "auditor_not_granted": 403, "operator": 200, "worker": 403,
    },
    ("GET", "/api/v1/jobs/{job}"): {
        "data_team": 200, "reviewer": 200, "other_city": 404, "auditor_granted": 200,
        "auditor_not_granted": 404, "operator": 200, "worker": 404,
    },
    ("POST", "/api/v1/jobs/{job}/cancel"): {
        "data_team": 200, "reviewer": 403, "other_city": 404, "auditor_granted": 403,
        "auditor_not_granted": 404, "operator": 200, "worker": 404,
    },
    ("GET", "/api/v1/jobs/{job}/archive"): {
        "data_team": 403, "reviewer": 403, "other_city": 404, "auditor_granted": 403,
        "auditor_not_granted": 404, "operator": 403, "worker": 200,
    },
    ("GET", "/api/v1/tokens"): dict.fromkeys(VALID, 200),
    ("GET", "/api/v1/tokens?organisation=northtown"): {
        "data_team": 200, "reviewer": 200, "other_city": 403, "auditor_granted": 403,
        "auditor_not_granted": 403, "operator": 200, "worker": 403,
    },
    ("POST", "/api/v1/tokens/{spare}/expire"): {
        "data_team": 404, "reviewer": 200, "other_city": 404, "auditor_granted": 404,
        "auditor_not_granted": 404, "operator": 404, "worker": 404,
    },
    ("POST", "/api/v1/tokens/{spare}/revoke?organisation=northtown"): {
        "data_team": 404, "reviewer": 200, "other_city": 403, "auditor_granted": 403,
        "auditor_not_granted": 403, "operator": 200, "worker": 403,
    },
    ("POST", "/api/v1/submissions"): {
        "data_team": 202, "reviewer": 403, "other_city": 400, "auditor_granted": 403,
        "auditor_not_granted": 403, "operator": 403, "worker": 403,
    },
}  # fmt: skip
BAD_TOKENS = ["expired", "revoked", "malformed", "none"]


@pytest.fixture
def job(world: World, tmp_path: Path) -> str:
    answer = world.submit("data_team", pilot_archive(tmp_path / "pilot"))
    assert answer.status_code == 202, answer.text
    job_id: str = answer.json()["job"]["id"]
    return job_id


def _headers(world: World, caller: str) -> dict[str, str]:
    if caller == "none":
        return {}
    if caller == "malformed":
        return {"Authorization": "Bearer sbx_not-a-token"}
    return world.auth(caller)


def _call(world: World, caller: str, method: str, route: str, job: str, body: bytes) -> Any:
    path = route.format(job=job, spare=world.token_ids["spare"])
    headers = _headers(world, caller)
    if route.endswith("submissions"):
        pieces = iter([body])
        headers |= {"Content-Type": "application/gzip"}
        return world.client.request(method, path, headers=headers, content=pieces)
    return world.client.request(method, path, headers=headers)


def test_every_route_answers_every_caller_as_the_matrix_says(
    world: World, job: str, tmp_path: Path
) -> None:
    body = pilot_archive(tmp_path / "again")
    wrong: list[str] = []
    for (method, route), expected in MATRIX.items():
        for caller in VALID + BAD_TOKENS:
            want = expected.get(caller, 401)
            got = _call(world, caller, method, route, job, body)
            if got.status_code != want:
                wrong.append(f"{method} {route} as {caller}: {got.status_code}, not {want}")
            if got.status_code >= 400:  # the one error shape, and nothing else
                assert set(got.json()) == {"error"}
                error = got.json()["error"]
                assert error["status"] == got.status_code and error["message"]
            assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert wrong == []


def test_every_bad_token_gets_the_same_answer(world: World, job: str) -> None:
    bodies = set()
    for caller in ["expired", "revoked", "malformed"]:
        got = world.client.get(f"/api/v1/jobs/{job}", headers=_headers(world, caller))
        assert got.status_code == 401
        assert got.headers["WWW-Authenticate"] == "Bearer"
        bodies.add(got.text)
    assert len(bodies) == 1


UNSEEN = [
    (caller, suffix)
    for caller in ["other_city", "auditor_not_granted", "worker"]
    for suffix in ["", "/cancel", "/archive"]
    if (caller, suffix) != ("worker", "/archive")  # a worker fetches any job's archive
]


@pytest.mark.parametrize(("caller", "suffix"), UNSEEN)
def test_another_organisations_job_is_answered_like_one_that_does_not_exist(
    world: World, job: str, caller: str, suffix: str
) -> None:
    method = "POST" if suffix == "/cancel" else "GET"
    headers = world.auth(caller)
    answers = [
        world.client.request(method, f"/api/v1/jobs/{job_id}{suffix}", headers=headers)
        for job_id in (job, "job_" + "a" * 26, "job_0", "nonsense")
    ]
    assert {(a.status_code, a.text) for a in answers} == {(answers[1].status_code, answers[1].text)}
    assert answers[0].status_code == 404
    with world.jobs() as jobs:
        assert jobs.get(job).state is JobState.QUEUED  # nobody else cancelled it


def test_the_queue_view_hides_a_jobs_results(world: World, job: str) -> None:
    with world.jobs() as jobs:
        claim = jobs.claim(job, "worker-1")
        jobs.record_run(job, claim.delivery.attempt, "20260301T090000Z-abcdef")
        jobs.end(job, claim.delivery.attempt, JobState.FINISHED, verdict="passed")
    full = world.client.get(f"/api/v1/jobs/{job}", headers=world.auth("data_team")).json()
    assert (full["state"], full["verdict"], full["run_id"]) == (
        "finished",
        "passed",
        "20260301T090000Z-abcdef",
    )
    audited = world.client.get(f"/api/v1/jobs/{job}", headers=world.auth("auditor_granted"))
    assert audited.json() == full
    queue = world.client.get(f"/api/v1/jobs/{job}", headers=world.auth("operator")).json()
    assert queue["state"] == "finished" and queue["finished"] == full["finished"]
    assert (queue["verdict"], queue["run_id"], queue["error"]) == (None, None, None)


def test_cancel_stops_a_queued_job_and_a_second_cancel_changes_nothing(
    world: World, job: str
) -> None:
    first = world.client.post(f"/api/v1/jobs/{job}/cancel", headers=world.auth("data_team"))
    assert first.status_code == 200
    assert first.json()["state"] == "cancelled" and first.json()["cancel_requested"]
    again = world.client.post(f"/api/v1/jobs/{job}/cancel", headers=world.auth("operator"))
    assert (
        again.json()["state"] == "cancelled"
        and again.json()["finished"] == first.json()["finished"]
    )


def test_a_worker_fetches_the_archive_byte_for_byte(world: World, tmp_path: Path) -> None:
    body = pilot_archive(tmp_path / "pilot")
    job = world.submit("data_team", body).json()["job"]
    got = world.client.get(f"/api/v1/jobs/{job['id']}/archive", headers=world.auth("worker"))
    assert got.status_code == 200
    assert got.content == body
    assert got.headers["content-type"] == "application/gzip"
    assert got.headers["X-Archive-SHA256"] == job["archive_sha256"]


def test_jobs_are_listed_newest_first_within_the_limit(world: World, tmp_path: Path) -> None:
    body = pilot_archive(tmp_path / "pilot")
    ids = [world.submit("data_team", body).json()["job"]["id"] for _ in range(3)]
    listed = world.client.get("/api/v1/jobs?limit=2", headers=world.auth("reviewer")).json()
    assert [j["id"] for j in listed] == ids[::-1][:2]
    bad = world.client.get("/api/v1/jobs?limit=0", headers=world.auth("reviewer"))
    assert bad.status_code == 422
    reserved = world.client.get("/api/v1/jobs?organisation=Admin", headers=world.auth("operator"))
    assert reserved.status_code == 400 and "organisation" in reserved.json()["error"]["message"]


def test_whoami_and_tokens_show_no_secret(world: World) -> None:
    me = world.client.get("/api/v1/whoami", headers=world.auth("auditor_granted")).json()
    assert me == {
        "principal": "aud-north",
        "organisation": "audit-office",
        "roles": ["auditor"],
        "kind": "user",
        "audits": ["northtown"],
    }
    own = world.client.get("/api/v1/tokens", headers=world.auth("data_team")).json()
    assert {t["principal"] for t in own} == {"nt-data"}
    assert {t["state"] for t in own} == {"active", "expired", "revoked"}
    everyone = world.client.get(
        "/api/v1/tokens?organisation=northtown", headers=world.auth("operator")
    ).json()
    assert {t["principal"] for t in everyone} == {"nt-data", "nt-review"}
    for token in world.tokens.values():
        # The whole 43-character secret: it may hold "_" itself, so a split on the last "_"
        # could leave a few characters that any listing holds by chance.
        _, secret = parse_token(token)
        assert len(secret) == 43
        assert all(secret not in str(t) for t in everyone)


def test_a_revoked_token_stops_working_at_once(world: World) -> None:
    spare = {"Authorization": f"Bearer {world.tokens['spare']}"}
    assert world.client.get("/api/v1/whoami", headers=spare).status_code == 200
    path = f"/api/v1/tokens/{world.token_ids['spare']}/revoke"
    revoked = world.client.post(path, headers=spare)  # its holder revokes it with itself
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert world.client.get("/api/v1/whoami", headers=spare).status_code == 401


def test_the_api_serves_its_schema_but_no_docs_pages(world: World) -> None:
    schema = world.client.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/submissions" in paths and "/api/v1/jobs/{job_id}/archive" in paths
    assert world.client.get("/api/health").json() == {"status": "ok"}  # no token needed
    assert world.client.get("/docs").status_code == 404
    assert world.client.get("/redoc").status_code == 404
    assert schema.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_small_routes_keep_the_small_body_cap(world: World) -> None:
    got = world.client.post(
        "/api/v1/tokens/1/revoke", headers=world.auth("operator"), content=b"x" * 100_000
    )
    assert got.status_code == 413
