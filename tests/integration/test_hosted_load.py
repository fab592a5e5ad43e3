"""The hosted sandbox under load: three organisations submit 30 pilots at once, through the
real API over HTTP (uvicorn, its own process), to two worker processes.

Every job reaches exactly one terminal state, every run has exactly one terminal trail record,
the PostgreSQL trail verifies, and no organisation can read or infer another's jobs: its list
holds its own alone, and another's job id gets the very answer an unknown id gets.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.integration.hosted_fixtures import stack  # noqa: F401 (fixture)
from tests.integration.hosted_stack import HostedStack, small_pilot

pytestmark = pytest.mark.docker

CITIES = {"northtown": "Northtown", "southville": "Southville", "eastport": "Eastport"}
PER_CITY = 10
VERDICTS = {"passed", "passed_with_warnings", "failed", "blocked"}
UNKNOWN = "job_" + "a" * 26


def _answer(response: httpx.Response) -> tuple[int, object]:
    return response.status_code, response.json()


def test_three_organisations_submit_thirty_pilots_at_once_to_two_workers(
    stack: HostedStack,  # noqa: F811
    tmp_path: Path,
) -> None:
    archives = {
        (org, i): small_pilot(
            tmp_path / "pilots" / f"{org}-{i}",
            city=city,
            name=f"{org}-screening-{i}",
            seed=1000 * n + i,
        )
        for n, (org, city) in enumerate(CITIES.items())
        for i in range(PER_CITY)
    }
    for org, city in CITIES.items():
        stack.add_city(org, city)
    stack.start_api()
    stack.start_worker("worker-a")
    stack.start_worker("worker-b")

    gate = threading.Barrier(len(archives))

    def send(key: tuple[str, int]) -> httpx.Response:
        gate.wait()  # all 30 requests leave together
        return stack.submit(key[0], archives[key])

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(archives)) as pool:
        answers = dict(zip(archives, pool.map(send, archives), strict=True))
    for key, response in answers.items():
        assert response.status_code == 202, (key, response.text)
        assert response.json()["status"] == "queued"
    owner = {r.json()["job"]["id"]: key[0] for key, r in answers.items()}
    assert len(owner) == len(archives)  # one job per submission

    ended = stack.wait_jobs(list(owner), timeout=1800)
    print(f"\n30 jobs submitted and run on 2 workers in {time.monotonic() - started:.1f} s")

    # Exactly one terminal state each, on a first attempt; one terminal record per run.
    for job in ended:
        assert (job.state.value, job.attempts) == ("finished", 1), job
        assert job.verdict in VERDICTS and job.error is None, job
        assert job.organisation_id == owner[job.id]
        assert job.run_id is not None
        assert len(stack.terminal_kinds(job.run_id)) == 1, stack.trail_kinds(job.run_id)
    assert len({job.run_id for job in ended}) == len(ended)
    assert set(Counter(str(job.worker) for job in ended)) == {"worker-a@stack", "worker-b@stack"}
    submitted = stack.records_of_kind("job.submitted")
    assert sorted(r.payload["job_id"] for r in submitted) == sorted(owner)
    assert all(r.payload["organisation"] == owner[r.payload["job_id"]] for r in submitted)

    _no_organisation_sees_another_s_jobs(stack, owner)
    verified = stack.verify()
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "trail verified" in verified.stdout


def _no_organisation_sees_another_s_jobs(hosted: HostedStack, owner: dict[str, str]) -> None:
    for org in CITIES:
        with hosted.client(org) as http:
            listed = http.get("/api/v1/jobs", params={"limit": 1000})
            assert listed.status_code == 200
            assert {j["id"] for j in listed.json()} == {j for j, o in owner.items() if o == org}
            assert {j["organisation"] for j in listed.json()} == {org}
            unknown = _answer(http.get(f"/api/v1/jobs/{UNKNOWN}"))
            unknown_cancel = _answer(http.post(f"/api/v1/jobs/{UNKNOWN}/cancel"))
            unknown_archive = _answer(http.get(f"/api/v1/jobs/{UNKNOWN}/archive"))
            assert unknown[0] == unknown_cancel[0] == unknown_archive[0] == 404
            for job_id in (j for j, o in owner.items() if o != org):
                assert _answer(http.get(f"/api/v1/jobs/{job_id}")) == unknown
                assert _answer(http.post(f"/api/v1/jobs/{job_id}/cancel")) == unknown_cancel
                assert _answer(http.get(f"/api/v1/jobs/{job_id}/archive")) == unknown_archive
            for other in set(CITIES) - {org}:
                refused = http.get("/api/v1/jobs", params={"organisation": other})
                assert refused.status_code == 403, refused.text
