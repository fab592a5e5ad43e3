"""A whole hosted sandbox on this machine, as separate processes, for the load and fault tests
and the workers' throughput benchmark.

`HostedStack` owns a fresh hosted schema and trail schema in the PostgreSQL of
`scripts/postgres.sh`, a RabbitMQ vhost of its own on the broker of `scripts/broker.sh`, and a
folder. It starts the API (`sandbox server serve` under uvicorn on a free loopback port) and
workers (`sandbox worker`), each a process in a session of its own with a home of its own, as
on its own host: workers fetch archives from the API with a worker token
(`SANDBOX_ARCHIVE_URL`), never from the API's disk. Every process signs with one key, so the
one trail verifies against it.

Nothing here imports pytest: waits raise `StackTimeout`, so the benchmark uses it too.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import psycopg

from sandbox.audit.events import TERMINAL_KINDS
from sandbox.audit.signing import Signer
from sandbox.audit.store import open_store
from sandbox.hosted.accounts import Accounts
from sandbox.hosted.identity import Kind, Role
from sandbox.hosted.jobs import Job, Jobs
from sandbox.hosted.migrate import migrate
from sandbox.hosted.packing import pack_pilot
from sandbox.runtime.docker.runtime import RUN_ID_LABEL
from tests.pilots import make_frame, manifest_dict, write_pilot

ROOT: Final = Path(__file__).resolve().parents[2]
SANDBOX: Final = str(ROOT / ".venv" / "bin" / "sandbox")
GZIP: Final = {"Content-Type": "application/gzip"}
WORKER_ORG: Final = "operators"
WORKER_PRINCIPAL: Final = "ops-worker"
_DAY: Final = timedelta(days=1)
_SLEEPY_MODEL: Final = """\
import time

from sklearn.linear_model import LogisticRegression


def build_model(**params):
    time.sleep({seconds})  # keeps the container stage open long enough to fault it
    return LogisticRegression(max_iter=200, **params)
"""


class StackTimeout(AssertionError):
    """Something the stack waited for did not happen within its (generous) bound."""


class ServiceMissing(RuntimeError):
    """PostgreSQL or RabbitMQ could not be started by the project's scripts."""


def script_url(script: str, *args: str) -> str:
    """The URL a `scripts/*.sh` prints last (starting its service if need be)."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise ServiceMissing(f"scripts/{script}: {done.stderr.strip()[-400:]}")
    return done.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: Callable[[], bool], why: str, timeout: float = 900, every: float = 1) -> None:
    """Poll `what` until it holds; StackTimeout naming `why` past `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise StackTimeout(f"timed out waiting for {why}")
        time.sleep(every)


def small_pilot(
    folder: Path, *, city: str, name: str, seed: int, rows: int = 300, sleep_s: float = 0
) -> bytes:
    """A packed binary pilot of `city` with `rows` generated rows; its model sleeps `sleep_s`."""
    manifest = manifest_dict()
    manifest["pilot"]["name"] = name
    manifest["pilot"]["owner"]["city"] = city
    write_pilot(folder, manifest=manifest, frame=make_frame(rows=rows, seed=seed))
    if sleep_s:
        (folder / "model.py").write_text(_SLEEPY_MODEL.format(seconds=sleep_s))
    return pack_pilot(folder).data


def containers_of(run_id: str) -> list[str]:
    """The ids of the containers (running or not) the Docker engine holds for `run_id`."""
    done = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={RUN_ID_LABEL}={run_id}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.split()


def remove_containers(run_id: str) -> None:
    """Remove a killed worker's leftover containers (its host's recovery is not this test's)."""
    for container in containers_of(run_id):
        subprocess.run(
            ["docker", "rm", "-f", container], capture_output=True, timeout=120, check=False
        )


class HostedStack:
    """One hosted sandbox: its schemas, its vhost, its API and workers, torn down by `close`."""

    def __init__(self, folder: Path, *, mlflow_uri: str | None = None) -> None:
        self.folder = folder
        self.pg = script_url("postgres.sh")
        self.root_broker = script_url("broker.sh")
        self._schemas = [f"stack_{secrets.token_hex(6)}" for _ in range(2)]
        with psycopg.connect(self.pg, autocommit=True) as conn:
            for schema in self._schemas:
                conn.execute(f"CREATE SCHEMA {schema}".encode())
        self.hosted_url, self.trail_url = (self._schema_url(s) for s in self._schemas)
        self.vhost = f"stack-{secrets.token_hex(4)}"
        user = urlsplit(self.root_broker).username or ""
        for command in (
            ["add_vhost", self.vhost],
            ["set_permissions", "-p", self.vhost, user, ".*", ".*", ".*"],
        ):
            subprocess.run(
                ["rabbitmqctl", "-q", *command], capture_output=True, timeout=120, check=True
            )
        self.broker_url = urlunsplit(urlsplit(self.root_broker)._replace(path=f"/{self.vhost}"))
        self.mlflow_uri = mlflow_uri
        self.key = folder / "key" / "trail-ed25519.pem"
        Signer.load_or_create(self.key)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.tokens: dict[str, str] = {}
        self.port = free_port()
        self._jobs: Jobs | None = None  # one pooled handle for polling (pre-pinged)
        self.server = f"http://127.0.0.1:{self.port}"
        migrate(self.hosted_url)
        with Accounts(self.hosted_url) as accounts:
            accounts.create_organisation(WORKER_ORG, "Operators")
            accounts.create_principal(
                WORKER_PRINCIPAL, WORKER_ORG, "Worker hosts", roles=[Role.WORKER], kind=Kind.SERVICE
            )
            self.worker_token = accounts.issue_token(WORKER_PRINCIPAL, expires_in=_DAY).token

    def _schema_url(self, schema: str) -> str:
        return f"{self.pg}?options={quote(f'-csearch_path={schema}', safe='')}"

    # --- organisations and their callers ----------------------------------------------------

    def add_city(self, organisation: str, name: str) -> str:
        """Register `organisation` with a data-team service principal; its token."""
        with Accounts(self.hosted_url) as accounts:
            accounts.create_organisation(organisation, name)
            principal = f"{organisation}-ci"
            accounts.create_principal(
                principal, organisation, f"{name} CI", roles=[Role.DATA_TEAM], kind=Kind.SERVICE
            )
            self.tokens[organisation] = accounts.issue_token(principal, expires_in=_DAY).token
        return self.tokens[organisation]

    def client(self, organisation: str, *, timeout: float = 900) -> httpx.Client:
        """An HTTP client of `organisation`'s data team against the API."""
        return httpx.Client(
            base_url=self.server,
            timeout=timeout,
            headers={"Authorization": f"Bearer {self.tokens[organisation]}"},
        )

    def submit(self, organisation: str, archive: bytes) -> httpx.Response:
        """POST the archive as `organisation`'s data team, streamed in 64 KiB pieces."""
        pieces = (archive[i : i + 65536] for i in range(0, len(archive), 65536))
        with self.client(organisation) as http:
            return http.post("/api/v1/submissions", content=pieces, headers=GZIP)

    # --- processes ------------------------------------------------------------------------

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """A process's environment: this stack's settings and nothing of the caller's."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "MLFLOW_"))}
        (home / "keys").mkdir(parents=True, exist_ok=True)
        if not (home / "keys" / self.key.name).exists():
            shutil.copy2(self.key, home / "keys" / self.key.name)  # the one signer
        settings = {
            "SANDBOX_HOME": str(home),
            "SANDBOX_HOSTED_URL": self.hosted_url,
            "SANDBOX_TRAIL_URL": self.trail_url,
            "SANDBOX_BROKER_URL": self.broker_url,
            "PYTHONUNBUFFERED": "1",
        }
        if self.mlflow_uri:
            settings["MLFLOW_TRACKING_URI"] = self.mlflow_uri
        return base | settings | extra

    def log(self, name: str) -> Path:
        return self.folder / "logs" / f"{name}.log"

    def _start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.log(name).parent.mkdir(exist_ok=True)
        with self.log(name).open("ab") as out:
            self.processes[name] = subprocess.Popen(
                command,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def _alive(self, name: str) -> None:
        if self.processes[name].poll() is not None:
            raise StackTimeout(f"{name} stopped: {self.log(name).read_text()[-3000:]}")

    def start_api(self) -> None:
        """`sandbox server serve` on the stack's port; returns once it answers HTTP."""
        env = self.env(self.folder / "api-home")
        self._start(
            "api",
            [SANDBOX, "server", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env,
        )

        def answers() -> bool:
            self._alive("api")
            try:
                return httpx.get(f"{self.server}/api/v1/whoami", timeout=5).status_code == 401
            except httpx.HTTPError:
                return False

        wait_for(answers, "the API to answer", timeout=300, every=0.5)

    def start_worker(self, name: str) -> None:
        """`sandbox worker --name NAME@stack`; returns once Celery says it is ready."""
        env = self.env(
            self.folder / f"{name}-home",
            SANDBOX_ARCHIVE_URL=self.server,
            SANDBOX_WORKER_TOKEN=self.worker_token,
        )
        self._start(name, [SANDBOX, "worker", "--name", f"{name}@stack"], env)

        def ready() -> bool:
            self._alive(name)
            return " ready." in self.log(name).read_text(errors="replace")

        wait_for(ready, f"{name} to be ready", timeout=300, every=0.5)

    def kill(self, name: str) -> None:
        """SIGKILL the process's whole group: it dies at once (its containers, which the engine
        holds, run on until removed)."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)

    def stop(self, name: str) -> None:
        """SIGTERM (a worker finishes the run it holds), then SIGKILL after two minutes."""
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=60)

    def close(self) -> None:
        """Stop every process, then drop the vhost and the schemas."""
        for name in [n for n in self.processes if n != "api"] + ["api"] * ("api" in self.processes):
            self.stop(name)
        if self._jobs is not None:
            self._jobs.close()
        subprocess.run(
            ["rabbitmqctl", "-q", "delete_vhost", self.vhost],
            capture_output=True,
            timeout=120,
            check=False,
        )
        with psycopg.connect(self.pg, autocommit=True) as conn:
            for schema in self._schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE".encode())

    # --- what the state says ----------------------------------------------------------------

    @property
    def jobs(self) -> Jobs:
        if self._jobs is None:
            self._jobs = Jobs(self.hosted_url)
        return self._jobs

    def job(self, job_id: str) -> Job:
        return self.jobs.get(job_id)

    def wait_jobs(self, job_ids: list[str], *, timeout: float = 900) -> list[Job]:
        """Wait until every job is terminal (the workers still alive); the jobs then."""

        def ended() -> bool:
            for name in self.processes:
                self._alive(name)
            return all(self.job(job_id).terminal for job_id in job_ids)

        wait_for(ended, f"{len(job_ids)} job(s) to end", timeout=timeout, every=1)
        return [self.job(job_id) for job_id in job_ids]

    def running_container(self, job_id: str, *, timeout: float = 600) -> str:
        """Wait until the job's run has a container on the engine; the run id."""
        found: dict[str, str] = {}

        def underway() -> bool:
            run_id = self.job(job_id).run_id
            if run_id is not None and containers_of(run_id):
                found["run"] = run_id
            return "run" in found

        wait_for(underway, f"job {job_id}'s container", timeout=timeout, every=0.5)
        return found["run"]

    def trail_kinds(self, run_id: str) -> list[str]:
        """The kinds of `run_id`'s trail records, in order."""
        store = open_store(self.trail_url, default=Path("/nonexistent"))
        return [record.kind for record in store.records_for_run(run_id)]

    def terminal_kinds(self, run_id: str) -> list[str]:
        return [kind for kind in self.trail_kinds(run_id) if kind in TERMINAL_KINDS]

    def records_of_kind(self, kind: str) -> list[Any]:
        return open_store(self.trail_url, default=Path("/nonexistent")).records_of_kind(kind)

    def verify(self) -> subprocess.CompletedProcess[str]:
        """`sandbox audit verify` of the PostgreSQL trail against the stack's one key."""
        return subprocess.run(
            [SANDBOX, "audit", "verify", "--trusted-key", f"{self.key}.pub"],
            env=self.env(self.folder / "verifier-home"),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
