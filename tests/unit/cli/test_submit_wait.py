"""`sandbox submit --wait` follows the job to its end; `sandbox jobs`; `sandbox server` set-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import JOB_ID, TOKEN, Served, job_out

FINISHED = {"finished": "2026-12-01T10:03:00+00:00", "started": "2026-12-01T10:01:00+00:00"}


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_TOKEN", TOKEN)
    monkeypatch.delenv("SANDBOX_SERVER", raising=False)


@pytest.mark.parametrize(
    ("end", "code", "said"),
    [
        (
            job_out("finished", verdict="passed_with_warnings", run_id="run-1", **FINISHED),
            0,
            "PASS WITH WARNINGS  example  run run-1",
        ),
        (job_out("finished", verdict="pass", run_id="run-1", **FINISHED), 0, "PASS  example"),
        (job_out("finished", verdict="blocked", run_id="run-1", **FINISHED), 3, "BLOCKED"),
        (job_out("finished", verdict="failed", run_id="run-1", **FINISHED), 3, "FAIL  example"),
        (job_out("lost", error="worker-1 stopped answering", attempts=2), 1, "job lost"),
        (job_out("cancelled"), 1, "job cancelled"),
        (job_out("finished", error="the tracker failed"), 1, "error: the tracker failed"),
        (job_out("finished", verdict="failed", error="no engine"), 1, "FAIL  example"),
        (job_out("finished", verdict="rejected", error="pilot.yaml: no owner"), 2, "no owner"),
    ],
)
def test_wait_follows_the_job_and_exits_as_sandbox_run_would(
    cli: Any, served: Served, pilot: Path, end: dict[str, Any], code: int, said: str
) -> None:
    served.script.progress = [job_out("queued"), job_out("running"), job_out("running"), end]
    ran = cli("submit", str(pilot), "--server", served.url, "--wait")
    assert ran.code == code, ran.out + ran.err
    assert said in ran.out
    lines = ran.out.splitlines()
    assert "  running on worker-1" in lines  # one progress line per change, not per poll
    assert lines.count("  running on worker-1") == 1
    assert f"{JOB_ID}" in ran.out


def test_wait_rides_out_a_few_failed_polls(cli: Any, served: Served, pilot: Path) -> None:
    served.script.progress = [
        {"id": "broken"},  # not a job: a poll that fails
        {"id": "broken"},
        job_out("finished", verdict="pass", run_id="run-1", **FINISHED),
    ]
    ran = cli("submit", str(pilot), "--server", served.url, "--wait")
    assert ran.code == 0, ran.err


def test_jobs_list_show_and_cancel(cli: Any, served: Served) -> None:
    served.script.progress = [job_out("finished", verdict="blocked", run_id="run-7", **FINISHED)]
    listed = cli("jobs", "list", "--server", served.url, "--limit", "5")
    assert listed.code == 0, listed.err
    assert f"{JOB_ID} running  example" in listed.out
    assert f"{JOB_ID} finished passed  example" in listed.out
    assert served.script.seen[-1]["query"] == {"limit": "5"}
    shown = cli("jobs", "show", JOB_ID, "--server", served.url)
    assert shown.code == 0 and "run          run-7" in shown.out
    cancelled = cli("jobs", "cancel", JOB_ID, "--server", served.url)
    assert cancelled.code == 0 and "(cancel requested)" in cancelled.out


def test_the_server_comes_from_sandbox_server(
    cli: Any, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOX_SERVER", served.url)
    assert cli("jobs", "list").code == 0


def test_an_unknown_job_exits_2_and_a_malformed_id_is_never_sent(cli: Any, served: Served) -> None:
    unknown = cli("jobs", "show", "job_" + "b" * 26, "--server", served.url)
    assert unknown.code == 2 and "refused (404): no job job_bbbb" in unknown.err
    sent = len(served.script.seen)
    bad = cli("jobs", "cancel", "../../tokens/1/revoke", "--server", served.url)
    assert bad.code == 2 and "is not a job id" in bad.err
    assert len(served.script.seen) == sent


@pytest.mark.parametrize(
    "args",
    [
        ["server", "migrate"],
        ["server", "org", "add", "northtown", "Northtown"],
        ["server", "token", "list", "northtown"],
    ],
)
def test_server_commands_need_the_database_url(
    cli: Any, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.delenv("SANDBOX_HOSTED_URL", raising=False)
    ran = cli(*args)
    assert ran.code == 2
    assert ran.err.startswith("error: SANDBOX_HOSTED_URL is not set")
    assert len(ran.err.strip().splitlines()) == 1
