"""The client and operator commands against the real stack: PostgreSQL, RabbitMQ, the API
under uvicorn on a free loopback port, and one worker with the Docker engine, each started as
`scripts/hosted.sh` starts them, as separate processes; the commands run from another process.

One blueprint goes the whole way (`sandbox submit --wait`): its exit code is the one
`sandbox run` gives it, the job is finished with its verdict, and the trail verifies. The
operator's commands are checked on the same database: organisations, principals, a token
issued on stdout alone, listed, revoked and then refused.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from .postgres import new_schema, pg_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = str(ROOT / ".venv" / "bin" / "sandbox")
BLUEPRINT = ROOT / "blueprints" / "benefits-eligibility-screening"  # owner.city: Example City


def _run(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SANDBOX, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def broker_url() -> Iterator[str]:
    """The broker `scripts/broker.sh` starts, in a vhost of this test's own (a queue alone)."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "broker.sh")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        why = f"no RabbitMQ broker (scripts/broker.sh: {done.stderr.strip()[-400:]})"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but {why}")
        pytest.skip(why)
    url = done.stdout.strip().splitlines()[-1]
    parts = urlsplit(url)
    vhost = f"test_{secrets.token_hex(6)}"
    for command in (
        ["rabbitmqctl", "add_vhost", vhost],
        ["rabbitmqctl", "set_permissions", "-p", vhost, parts.username or "", ".*", ".*", ".*"],
    ):
        subprocess.run(command, capture_output=True, timeout=120, check=True)
    yield urlunsplit(parts._replace(path=f"/{vhost}"))
    subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=120)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _started(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stopped(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)


def _answers(port: int, api: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the API accepts connections (start-up, not a timed assertion)."""
    for _ in range(600):
        if api.poll() is not None:
            pytest.fail(f"the API stopped: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"the API never answered: {log.read_text()[-2000:]}")


@dataclass
class Stack:
    env: dict[str, str]  # the operator's and the processes' environment
    server: str
    token_file: Path
    logs: Path

    def sandbox(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return _run(self.env, *args, timeout=timeout)

    def city(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """A command of the city's, from another process with its own environment."""
        env = {"PATH": os.environ.get("PATH", ""), "HOME": self.env["HOME"]}
        args = (*args, "--server", self.server, "--token-file", str(self.token_file))
        return _run(env, *args, timeout=timeout)


@pytest.fixture
def stack(
    tmp_path: Path,
    new_schema: Callable[..., str],  # noqa: F811
    broker_url: str,
) -> Iterator[Stack]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SANDBOX_HOME": str(tmp_path / "home"),
        "SANDBOX_HOSTED_URL": new_schema(),
        "SANDBOX_TRAIL_URL": new_schema(),
        "SANDBOX_BROKER_URL": broker_url,
    }
    for args in (
        ["server", "migrate"],
        ["server", "org", "add", "example-city", "Example City"],
        [
            "server",
            "principal",
            "add",
            "example-ci",
            "--org",
            "example-city",
            "--role",
            "data_team",
            "--service",
            "--name",
            "Example City CI",
        ],
    ):
        done = _run(env, *args)
        assert done.returncode == 0, done.stderr
    issued = _run(env, "server", "token", "issue", "example-ci", "--days", "1")
    assert issued.returncode == 0, issued.stderr
    token_file = tmp_path / "city.token"
    token_file.write_text(issued.stdout)
    token_file.chmod(0o600)
    logs = tmp_path / "logs"
    logs.mkdir()
    port = _free_port()
    api = _started(
        [SANDBOX, "server", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env,
        logs / "api.log",
    )
    worker = _started([SANDBOX, "worker", "--name", "worker-1@test"], env, logs / "worker.log")
    try:
        _answers(port, api, logs / "api.log")
        yield Stack(env, f"http://127.0.0.1:{port}", token_file, logs)
    finally:
        _stopped(worker)
        _stopped(api)


def test_a_blueprint_submitted_with_wait_runs_on_the_worker_and_the_trail_verifies(
    stack: Stack,
) -> None:
    done = stack.city("submit", str(BLUEPRINT), "--wait", timeout=1800)
    worker_log = (stack.logs / "worker.log").read_text()[-3000:]
    assert done.returncode == 0, done.stdout + done.stderr + worker_log  # passes with warnings
    assert "pre-run verdict: warned" in done.stdout or "pre-run verdict: passed" in done.stdout
    assert "PASS WITH WARNINGS  benefits-eligibility-screening  run " in done.stdout
    job_id = next(w for w in done.stdout.split() if w.startswith("job_"))

    shown = stack.city("jobs", "show", job_id)
    assert shown.returncode == 0, shown.stderr
    assert f"{job_id} finished passed_with_warnings" in shown.stdout
    assert "worker       worker-1@test" in shown.stdout
    listed = stack.city("jobs", "list")
    assert listed.returncode == 0 and job_id in listed.stdout

    verified = stack.sandbox("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "trail verified" in verified.stdout


def test_the_operator_s_token_commands_and_a_revoked_token_is_refused(stack: Stack) -> None:
    issued = stack.sandbox("server", "token", "issue", "example-ci", "--days", "1")
    assert issued.returncode == 0
    token = issued.stdout.strip()
    assert issued.stdout == token + "\n" and token.startswith("sbx_")  # stdout holds it alone
    assert "shown once" in issued.stderr and token not in issued.stderr

    listed = stack.sandbox("server", "token", "list", "example-city")
    assert listed.returncode == 0 and token not in listed.stdout
    lines = [line.split() for line in listed.stdout.splitlines()]
    assert len(lines) == 2 and all(line[3] == "active" for line in lines)

    first_id = lines[0][0]
    revoked = stack.sandbox("server", "token", "revoke", "example-city", first_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    refused = stack.city("jobs", "list")
    assert refused.returncode == 2 and "the token is not valid" in refused.stderr

    again = stack.sandbox("server", "org", "add", "example-city", "Example City")
    assert again.returncode == 2 and again.stderr.startswith("error: ")
    assert stack.sandbox("server", "org", "add", "example-city", "Example City", "--exist-ok")
    other = stack.sandbox("server", "org", "add", "example-city", "Elsewhere", "--exist-ok")
    assert other.returncode == 2
