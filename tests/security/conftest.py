"""The adversarial suite: malicious pilots run through the real pipeline on the real engine.

Every attack is a small pilot folder under `pilots/`. `attack()` stages a copy (with the
model parameters the test needs), runs it with `run_pilot` on Docker + MLflow (SQLite) + the
signed trail, and checks what must hold after any attack: the run ended exactly once, in the
trail and in MLflow; the trail verifies; nothing of the run is left on the engine; the host's
canary files, the staged pilot and the inputs are unchanged; and the container had every
hardening setting while it ran.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.audit.events import TERMINAL_KINDS
from sandbox.runs.pilot_run import RunOutcome, RunServices, run_pilot
from sandbox.runs.services import build_services
from sandbox.runtime.docker.runtime import RUN_ID_LABEL, DockerRuntime
from sandbox.settings import Settings
from tests.integration.conftest import runner_image  # noqa: F401 - the shared fixture

PILOTS = Path(__file__).parent / "pilots"
ENV_CANARY = "SANDBOX_SECURITY_CANARY"


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file below `folder` (relative path -> hex)."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@dataclass
class HardeningInspector:
    """Called by the runtime with every container it starts; checks the CIS Docker items."""

    runtime: DockerRuntime = field(default_factory=DockerRuntime)
    violations: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, container_id: str) -> None:
        found = cis_violations(self.runtime.api.inspect_container(container_id))
        with self.lock:
            self.violations[container_id] = found


def cis_violations(info: dict[str, Any]) -> list[str]:
    """The CIS Docker Benchmark (section 5) items a pilot container breaks; [] when none."""
    host, config = info["HostConfig"], info["Config"]
    checks = {
        "5.3 all capabilities dropped": host["CapDrop"] == ["ALL"] and not host["CapAdd"],
        "5.4 not privileged": host["Privileged"] is False,
        "5.5 no sensitive host mounts": all(
            not bind.split(":")[0].startswith(("/etc", "/proc", "/sys", "/var/run", "/run"))
            and bind.split(":")[0] != "/"
            for bind in host["Binds"] or []
        ),
        "5.7/5.9 no host network, network none": host["NetworkMode"] == "none"
        and config.get("NetworkDisabled") is True,
        "5.10 memory limited, no swap": host["Memory"] > 0 and host["MemorySwap"] == host["Memory"],
        "5.11 CPU limited": host["NanoCpus"] > 0,
        "5.12 read-only root": host["ReadonlyRootfs"] is True,
        "5.15 own PID namespace": host["PidMode"] == "",
        "5.16 own IPC namespace": host["IpcMode"] == "private",
        "5.17 no host devices": not host["Devices"],
        "5.20 own UTS namespace": host["UTSMode"] == "",
        "5.21 seccomp not disabled": not any(
            "seccomp" in opt and "unconfined" in opt for opt in host["SecurityOpt"] or []
        ),
        "5.25 no-new-privileges": "no-new-privileges:true" in (host["SecurityOpt"] or []),
        "5.28 pids limited": (host["PidsLimit"] or 0) > 0,
        "5.30 own user namespace mode": host["UsernsMode"] == "",
        "5.31 no Docker socket": not any("docker.sock" in bind for bind in host["Binds"] or []),
        "4.1 non-root user": config["User"].split(":")[0] not in {"", "0", "root"},
        "init reaps zombies": host["Init"] is True,
        "ulimits nofile and core": {u["Name"] for u in host["Ulimits"] or []} >= {"nofile", "core"},
        "/tmp capped, noexec": "noexec" in host["Tmpfs"]["/tmp"]
        and "size=" in host["Tmpfs"]["/tmp"]
        and "nr_inodes=" in host["Tmpfs"]["/tmp"],
        "no host environment": not any(
            entry.startswith(ENV_CANARY) for entry in config.get("Env") or []
        ),
        "labelled with its run": RUN_ID_LABEL in (config.get("Labels") or {}),
    }
    return [name for name, ok in checks.items() if not ok]


@dataclass
class Host:
    """What an attack must leave alone: canary files and an environment secret of the host."""

    canaries: dict[Path, str]
    env_secret: str

    def assert_unchanged(self) -> None:
        for path, digest in self.canaries.items():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path


@dataclass
class Lab:
    """Runs attacks and checks the invariants every run must keep."""

    services: RunServices
    inspector: HardeningInspector
    host: Host
    workdir: Path

    def stage(self, name: str, **params: Any) -> Path:
        """A copy of pilots/<name> whose model.params are `params`."""
        target = self.workdir / f"{name}-{secrets.token_hex(3)}"
        shutil.copytree(PILOTS / name, target)
        if params:
            manifest_path = target / "pilot.yaml"
            manifest = yaml.safe_load(manifest_path.read_text())
            manifest["model"]["params"] = params
            manifest_path.write_text(yaml.safe_dump(manifest, sort_keys=False))
        return target

    def attack(self, name: str, **params: Any) -> Attack:
        """Run pilots/<name> through the real pipeline and check the invariants."""
        pilot = self.stage(name, **params)
        before = tree_digest(pilot)
        started = time.monotonic()
        outcome = run_pilot(pilot, self.services)
        elapsed = time.monotonic() - started
        assert tree_digest(pilot) == before, "the pilot folder changed"
        self.check_invariants(outcome)
        return Attack(outcome=outcome, elapsed_s=elapsed)

    def check_invariants(self, outcome: RunOutcome) -> None:
        from mlflow.tracking import MlflowClient

        from sandbox.audit.trail import records_for_run, verify_trail
        from sandbox.runs.state import read_state

        trail = self.services.trail
        assert verify_trail(trail.path, trail.signer.verifier()).ok
        records = records_for_run(trail.path, outcome.run_id)
        terminal = [r.kind for r in records if r.kind in TERMINAL_KINDS]
        assert len(terminal) == 1, terminal
        assert read_state(outcome.run_dir)["status"] == terminal[0].removeprefix("run.")
        status = MlflowClient(self.services.tracking_uri).get_run(outcome.tracker_run_id).info
        assert status.status in {"FINISHED", "FAILED"}
        api = self.inspector.runtime.api
        selector = {"label": f"{RUN_ID_LABEL}={outcome.run_id}"}
        assert api.containers(all=True, filters=selector) == []
        assert not api.volumes(filters=selector).get("Volumes")
        started = [r for r in records if r.kind == "run.started"]
        if started:  # the inputs the host staged are exactly those it recorded
            inputs = started[0].payload["inputs"]
            assert isinstance(inputs, dict)
            for name, digest in inputs.items():
                path = outcome.run_dir / "input" / name
                assert "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() == digest
        with self.inspector.lock:
            bad = {cid: v for cid, v in self.inspector.violations.items() if v}
        assert bad == {}, bad
        self.host.assert_unchanged()


@dataclass(frozen=True)
class Attack:
    outcome: RunOutcome
    elapsed_s: float

    @property
    def container(self) -> dict[str, Any]:
        """Evidence of the runtime rule (state, exit code, duration, stderr tail)."""
        for rule in self.outcome.verdict.outcomes:
            if rule.rule_id == "runtime.container-succeeded":
                return dict(rule.evidence)
        return {}

    @property
    def failed_rules(self) -> set[str]:
        return {o.rule_id for o in self.outcome.verdict.failures}

    @property
    def state(self) -> str | None:
        runtime = self.outcome.report.runtime
        return runtime.container_state if runtime else None

    def probe(self) -> dict[str, Any]:
        import json

        data: dict[str, Any] = json.loads(
            (self.outcome.run_dir / "output" / "probe.json").read_text()
        )
        return data


@pytest.fixture(scope="session")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """Canary files in places a pilot might look for, and a secret in the host environment."""
    secret = "canary-" + secrets.token_hex(16)
    folder = tmp_path_factory.mktemp("host-canaries")
    paths = [folder / "secret.txt", Path("/tmp") / f"sandbox-canary-{secrets.token_hex(4)}"]
    canaries = {}
    for path in paths:
        path.write_text(secret + "\n")
        canaries[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    previous = os.environ.get(ENV_CANARY)
    os.environ[ENV_CANARY] = secret
    yield Host(canaries=canaries, env_secret=secret)
    if previous is None:
        os.environ.pop(ENV_CANARY, None)
    else:
        os.environ[ENV_CANARY] = previous
    for path in paths:
        path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def lab(
    tmp_path_factory: pytest.TempPathFactory,
    runner_image: str,  # noqa: F811
    host: Host,
) -> Lab:
    home = tmp_path_factory.mktemp("security-home")
    inspector = HardeningInspector()
    services = build_services(Settings(home=home, image=runner_image))
    runtime = DockerRuntime(poll_interval_s=0.1, on_started=inspector)
    return Lab(
        services=dataclasses.replace(services, runtime=runtime),
        inspector=inspector,
        host=host,
        workdir=tmp_path_factory.mktemp("security-pilots"),
    )


RunAttack = Callable[..., Attack]
