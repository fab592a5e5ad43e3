"""POST /api/v1/submissions against real PostgreSQL: stored, refused, blocked, queued.

The app runs in-process; its state, jobs and trail are in PostgreSQL, its archives in the
test's folder. The body-streaming tests drive the ASGI app directly with a `receive` that
counts what the app pulls, so "refused before reading" and "read no further than the broken
rule" are measured, not assumed.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import anyio
import pytest

from sandbox.audit.events import JobBlocked, JobSubmitted
from sandbox.audit.store import open_store
from sandbox.hosted.intake import ArchiveLimits
from sandbox.runs.pilot_run import REJECTED_EXPERIMENT
from tests.integration.hosted_api import World, make_world, pilot_archive, world
from tests.unit.hosted.archives import Entry, gz, gz_lazily, tar_bytes, zeros
from tests.unit.hosted.archives import pilot_archive as minimal_archive

__all__ = ["world"]  # the fixture, imported by name

SMALL = ArchiveLimits(max_compressed_bytes=64 * 1024, max_uncompressed_bytes=1024 * 1024)


def _records(world: World, kind: str) -> list[Any]:
    store = open_store(world.settings.trail_url, default=world.settings.trail_path)
    return store.records_of_kind(kind)


def _nothing_kept(world: World) -> None:
    assert world.stored() == []
    with world.jobs() as jobs:
        assert jobs.list("northtown") == []
    assert world.enqueued == []


def test_an_archive_is_streamed_stored_and_queued(world: World, tmp_path: Path) -> None:
    body = pilot_archive(tmp_path / "pilot")
    answer = world.submit("data_team", body)
    assert answer.status_code == 202, answer.text
    got = answer.json()
    assert got["status"] == "queued"
    sha = got["archive_sha256"]
    assert [p.name for p in world.stored()] == [f"{sha}.tar.gz"]  # nothing staged is left
    assert (world.settings.archives_dir / f"{sha}.tar.gz").read_bytes() == body
    job = got["job"]
    assert job["state"] == "queued" and job["organisation"] == "northtown"
    assert job["pilot"] == "test-pilot" and job["principal_id"] == "nt-data"
    assert job["archive_sha256"] == sha
    assert got["pre_run"]["status"] in {"passed", "warned"}
    assert "data.no-protected-features" in {o["rule_id"] for o in got["pre_run"]["outcomes"]}
    assert [j.id for j in world.enqueued] == [job["id"]]
    (record,) = _records(world, JobSubmitted.kind)
    assert record.actor == "nt-data"
    assert record.payload == {
        "organisation": "northtown",
        "principal": "nt-data",
        "job_id": job["id"],
        "archive_sha256": sha,
        "pilot": "test-pilot",
    }
    assert world.app.state.hosted.trail.verify().ok


def test_the_same_archive_twice_is_two_jobs_and_one_file(world: World, tmp_path: Path) -> None:
    body = pilot_archive(tmp_path / "pilot")
    first, second = (world.submit("data_team", body).json() for _ in range(2))
    assert first["archive_sha256"] == second["archive_sha256"]
    assert first["job"]["id"] != second["job"]["id"]
    assert len(world.stored()) == 1


def _hostile() -> dict[str, bytes]:
    manifest = Entry("pilot.yaml", b"pilot:\n  name: x\n")
    return {
        "dot-dot name": gz(tar_bytes(manifest, Entry("data/../../x", b"1"))),
        "absolute name": gz(tar_bytes(manifest, Entry("/etc/x", b"1"))),
        "symlink": gz(tar_bytes(manifest, Entry("x", kind=tarfile.SYMTYPE, linkname="/etc"))),
        "hard link": gz(
            tar_bytes(manifest, Entry("y", kind=tarfile.LNKTYPE, linkname="pilot.yaml"))
        ),
        "device": gz(tar_bytes(manifest, Entry("dev", kind=tarfile.CHRTYPE))),
        "names that collide": gz(tar_bytes(manifest, Entry("A.csv", b"1"), Entry("a.csv", b"2"))),
        "no pilot.yaml": gz(tar_bytes(Entry("model.py", b"x = 1\n"))),
        "not gzip": b"PK\x03\x04 a zip file",
        "truncated": gz(tar_bytes(manifest))[:-9],
        "two gzip members": gz(tar_bytes(manifest)) + gz(b"more"),
        "empty": b"",
    }


@pytest.mark.parametrize("case", sorted(_hostile()))
def test_each_hostile_archive_is_refused_and_nothing_is_stored(world: World, case: str) -> None:
    answer = world.submit("data_team", _hostile()[case])
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "bad_request" and error["message"]
    assert str(world.settings.home) not in error["message"]  # no server path goes back
    _nothing_kept(world)


def test_a_bomb_is_refused_at_the_decompressed_limit(
    new_schema: Callable[[], str], tmp_path: Path
) -> None:
    small = make_world(new_schema(), tmp_path / "home", limits=SMALL)
    bomb = b"".join(gz_lazily(zeros(8 * 1024 * 1024)))
    answer = small.submit("data_team", bomb)
    assert answer.status_code == 400
    assert "uncompressed" in answer.json()["error"]["message"]
    _nothing_kept(small)


def test_a_blocked_pilot_is_answered_at_once_with_no_job(world: World, tmp_path: Path) -> None:
    body = pilot_archive(tmp_path / "pilot", features=["income", "sex"])  # a protected feature
    answer = world.submit("data_team", body)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["status"] == "blocked" and got["job"] is None
    assert got["pre_run"]["status"] == "blocked"
    failed = {o["rule_id"] for o in got["pre_run"]["outcomes"] if o["outcome"] == "failed"}
    assert "data.no-protected-features" in failed
    _nothing_kept(world)
    (record,) = _records(world, JobBlocked.kind)
    assert record.payload["job_id"] is None
    assert record.payload["archive_sha256"] == got["archive_sha256"]
    assert record.payload["organisation"] == "northtown"
    from mlflow.tracking import MlflowClient  # only this test reads MLflow

    # A client of its own: `mlflow.set_tracking_uri` would set MLFLOW_TRACKING_URI for the
    # rest of the test session.
    client = MlflowClient(world.settings.tracking_uri)
    experiment = client.get_experiment_by_name(REJECTED_EXPERIMENT)
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.tags["sandbox.state"] == "blocked"
    assert run.data.tags["sandbox.archive_sha256"] == got["archive_sha256"]
    assert run.data.tags["sandbox.trail_seq"] == str(record.seq)
    assert "data.no-protected-features" in run.data.tags["sandbox.error"]


def test_a_pilot_naming_another_city_is_refused(world: World, tmp_path: Path) -> None:
    body = pilot_archive(tmp_path / "pilot", city="Southville")
    answer = world.submit("data_team", body)
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert "pilot.owner.city" in message and "'Southville'" in message
    assert "set pilot.owner.city to 'Northtown'" in message
    _nothing_kept(world)
    with world.jobs() as jobs:
        assert jobs.list("southville") == []  # never filed under the city it names


def test_a_bad_manifest_names_the_field_not_the_servers_folder(
    world: World, tmp_path: Path
) -> None:
    body = pilot_archive(tmp_path / "pilot", label="no-such-column")
    answer = world.submit("data_team", body)
    assert answer.status_code == 400, answer.text
    message = answer.json()["error"]["message"]
    assert "no-such-column" in message
    assert str(world.settings.home) not in message and ".staging" not in message
    _nothing_kept(world)


def test_only_a_gzip_body_is_read(world: World, tmp_path: Path) -> None:
    body = pilot_archive(tmp_path / "pilot")
    answer = world.submit("data_team", body, **{"Content-Type": "application/json"})
    assert answer.status_code == 415
    assert "application/gzip" in answer.json()["error"]["message"]
    _nothing_kept(world)


def test_a_job_that_cannot_be_enqueued_is_cancelled_and_reported(
    new_schema: Callable[[], str], tmp_path: Path
) -> None:
    broken = make_world(new_schema(), tmp_path / "home")
    state = broken.app.state.hosted

    def unreachable(job: Any, settings: Any) -> None:
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    state.enqueue = unreachable
    answer = broken.submit("data_team", pilot_archive(tmp_path / "pilot"))
    assert answer.status_code == 503
    message = answer.json()["error"]["message"]
    with broken.jobs() as jobs:
        (job,) = jobs.list("northtown")
    assert job.id in message and "cancelled" in message and "submit the pilot again" in message
    assert job.state == "cancelled"


# --- the body as the app pulls it ----------------------------------------------------------


def _call(world: World, headers: dict[str, str], chunks: Iterator[bytes]) -> tuple[int, int]:
    """(status, bytes the app pulled) for one submission sent straight to the ASGI app."""
    pulled = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/submissions",
        "raw_path": b"/api/v1/submissions",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }

    async def main() -> None:
        await world.app(scope, receive, send)

    anyio.run(main)
    return status, pulled


def _endless_bomb() -> Iterator[bytes]:
    """gzip of zeros, pulled 4 KiB of compressed bytes at a time, for ever."""

    def forever() -> Iterator[bytes]:
        while True:
            yield bytes(1 << 20)

    buffer = b""
    for piece in gz_lazily(forever()):
        buffer += piece
        while len(buffer) >= 4096:
            yield buffer[:4096]
            buffer = buffer[4096:]


def test_a_declared_length_over_the_limit_is_refused_before_reading(
    new_schema: Callable[[], str], tmp_path: Path
) -> None:
    small = make_world(new_schema(), tmp_path / "home", limits=SMALL)
    headers = {"content-type": "application/gzip", "content-length": str(10**9)}
    status, pulled = _call(small, headers | small.auth("data_team"), _endless_bomb())
    assert (status, pulled) == (413, 0)
    _nothing_kept(small)


def test_an_endless_body_is_read_only_up_to_the_broken_rule(
    new_schema: Callable[[], str], tmp_path: Path
) -> None:
    small = make_world(new_schema(), tmp_path / "home", limits=SMALL)
    headers = {"content-type": "application/gzip"} | small.auth("data_team")
    status, pulled = _call(small, headers, _endless_bomb())
    assert status == 400
    assert pulled <= SMALL.max_compressed_bytes + 4096  # the rest of the stream is never read
    _nothing_kept(small)


def test_the_minimal_archive_is_read_as_a_manifest_error(world: World) -> None:
    answer = world.submit("data_team", minimal_archive())
    assert answer.status_code == 400
    assert "pilot.yaml" in answer.json()["error"]["message"]
    _nothing_kept(world)
