"""A small stand-in of the hosted API, served by uvicorn on a loopback port the test takes,
and a way to run the command line in-process with its exit code.

The stand-in keeps the API's contract (routes, bodies, error shape) and records what it
received, so a test can check what the client sent (chunked, gzip, the bearer token) and
script what the server answers (blocked, refused, failing, hostile, a job's progress).
"""

from __future__ import annotations

import hashlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

TOKEN = "sbx_0123456789ab_" + "A" * 43
JOB_ID = "job_" + "a" * 26


def job_out(state: str = "queued", **changes: Any) -> dict[str, Any]:
    """A JobOut body."""
    job = {
        "id": JOB_ID,
        "organisation": "northtown",
        "principal_id": "northtown-ci",
        "archive_sha256": "sha256:" + "0" * 64,
        "pilot": "example",
        "state": state,
        "attempts": 0 if state == "queued" else 1,
        "run_id": None,
        "verdict": None,
        "error": None,
        "cancel_requested": False,
        "worker": None if state == "queued" else "worker-1",
        "created": "2026-12-01T10:00:00+00:00",
        "started": None,
        "finished": None,
    }
    job.update(changes)
    return job


def pre_run(status: str = "passed", message: str = "every required field is present") -> Any:
    return {
        "status": status,
        "packs": ["municipal-baseline", "phase-prototype"],
        "outcomes": [
            {
                "rule_id": "manifest.required-fields",
                "outcome": "failed" if status == "blocked" else "passed",
                "severity": "block",
                "message": message,
            }
        ],
    }


def error(status: int, message: str) -> JSONResponse:
    body = {"error": {"status": status, "code": "x", "message": message}}
    return JSONResponse(body, status_code=status)


@dataclass
class Script:
    """What the stand-in answers, and what it saw."""

    submission: Any = None  # a (status, body) pair; default: queued
    progress: list[dict[str, Any]] = field(default_factory=list)  # successive GETs of the job
    raw: Response | None = None  # answer every call with this instead
    seen: list[dict[str, Any]] = field(default_factory=list)


def build_app(script: Script) -> FastAPI:
    app = FastAPI()

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    @app.post("/api/v1/submissions")
    async def submissions(request: Request) -> Response:
        digest, total, chunks = hashlib.sha256(), 0, 0
        async for piece in request.stream():
            digest.update(piece)
            total += len(piece)
            chunks += 1
        script.seen.append(
            {
                "path": "submissions",
                "headers": dict(request.headers),
                "sha256": "sha256:" + digest.hexdigest(),
                "bytes": total,
            }
        )
        if script.raw is not None:
            return script.raw
        if not authorised(request):
            return error(401, "the token is not valid; ask an operator for a new one")
        if script.submission is not None:
            status, body = script.submission
            return body if isinstance(body, Response) else JSONResponse(body, status_code=status)
        sha = "sha256:" + digest.hexdigest()
        body = {
            "status": "queued",
            "archive_sha256": sha,
            "job": job_out(archive_sha256=sha),
            "pre_run": pre_run(),
        }
        return JSONResponse(body, status_code=202)

    @app.get("/api/v1/jobs")
    async def jobs(request: Request) -> Response:
        script.seen.append({"path": "jobs", "query": dict(request.query_params)})
        if script.raw is not None:
            return script.raw
        return JSONResponse([job_out("running"), job_out("finished", verdict="passed")])

    @app.get("/api/v1/jobs/{job_id}")
    async def job(job_id: str, request: Request) -> Response:
        script.seen.append({"path": f"jobs/{job_id}"})
        if script.raw is not None:
            return script.raw
        if job_id != JOB_ID or not authorised(request):
            return error(404, f"no job {job_id}")
        body = script.progress.pop(0) if len(script.progress) > 1 else script.progress[0]
        return JSONResponse(body)

    @app.post("/api/v1/jobs/{job_id}/cancel")
    async def cancel(job_id: str) -> Response:
        script.seen.append({"path": f"jobs/{job_id}/cancel"})
        if job_id != JOB_ID:
            return error(404, f"no job {job_id}")
        return JSONResponse(job_out("running", cancel_requested=True))

    return app


@dataclass
class Served:
    url: str
    script: Script


def _serve(script: Script, **ssl: str) -> Iterator[int]:
    """Serve the stand-in on a free loopback port until the generator is closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(build_app(script), log_level="warning", lifespan="off", **ssl)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:  # start-up, not a timed assertion: the test waits, then runs
        time.sleep(0.01)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join()
    sock.close()


@pytest.fixture
def served() -> Iterator[Served]:
    """The stand-in on http://127.0.0.1:<a free port>, stopped after the test."""
    script = Script()
    for port in _serve(script):
        yield Served(f"http://127.0.0.1:{port}", script)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, signed by its own key: (cert, key) PEMs."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def served_tls(tmp_path: Path) -> Iterator[tuple[Served, Path]]:
    """The stand-in on https://localhost:<a free port>, and its certificate."""
    script = Script()
    cert, key = self_signed(tmp_path)
    for port in _serve(script, ssl_certfile=str(cert), ssl_keyfile=str(key)):
        yield Served(f"https://localhost:{port}", script), cert


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Run `sandbox ARGS...` in this process: its exit code, stdout and stderr."""
    from sandbox import cli as command_line
    from sandbox.cli.console import console, errors

    for shown in (console, errors):  # long lines whole, as a wide terminal shows them
        monkeypatch.setattr(shown, "width", 250)
    monkeypatch.setattr("sandbox.cli.submit._FIRST_POLL_S", 0.01)
    monkeypatch.setattr("sandbox.cli.submit._MAX_POLL_S", 0.02)

    def run(*args: str) -> Ran:
        monkeypatch.setattr(sys, "argv", ["sandbox", *args])
        capsys.readouterr()
        code = command_line._run()
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    yield run


@pytest.fixture
def pilot(tmp_path: Path) -> Path:
    """A small pilot folder (the client packs it; the stand-in never reads it)."""
    folder = tmp_path / "my-pilot"
    (folder / "data").mkdir(parents=True)
    (folder / "pilot.yaml").write_text("pilot:\n  name: example\n")
    (folder / "model.py").write_text("def build_model():\n    return None\n")
    (folder / "data" / "cases.csv").write_text("a,b\n" + "1,0\n" * 2000)
    return folder
