"""gVisor (`SANDBOX_RUNTIME=runsc`) on the real engine: the same runs and wall, one layer more.

A blueprint runs end to end under runsc and under runc with the same seed and must reach the
same verdict and the same metrics. Then a representative set of the hostile pilots of
`tests/security/` runs under runsc through the real pipeline, with the security suite's
invariants (one terminal record, the trail verifies, nothing left on the engine, host canaries
unchanged, every CIS hardening setting on the container) plus the container's runtime being
runsc. Each attack is bounded by its pilot's own time limit.

Where gVisor's answer differs from runc's, the difference is the point of it and is asserted as
such: its kernel is not the host's (another kernel version, its own /proc), and the pilot's
system calls never reach the host's.

Needs runsc registered with the engine (`sudo bash scripts/gvisor.sh`): without it these tests
skip on a laptop and fail under CI=true, as the Docker tests do (tests/conftest.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sandbox.errors import UserInputError
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import build_services
from sandbox.runtime import ContainerSpec, Hardening
from sandbox.runtime.docker.gvisor import GVISOR_RUNTIME, GVisorRuntime
from sandbox.runtime.docker.runtime import DockerRuntime
from sandbox.settings import Settings
from tests.integration.conftest import runner_image  # noqa: F401 - the shared fixture
from tests.integration.test_docker_runtime import _bridge_gateway
from tests.security import test_abuse, test_containment
from tests.security.conftest import Attack, HardeningInspector, Host, Lab, cis_violations
from tests.security.conftest import host as host  # the canary fixture, shared

pytestmark = pytest.mark.docker

BLUEPRINT = Path(__file__).resolve().parents[2] / "blueprints" / "benefits-eligibility-screening"
GRACE_S = 10.0  # gVisor's sandbox takes longer to tear down than a runc container


def _runsc_registered() -> bool:
    try:
        runtimes = DockerRuntime().api.info().get("Runtimes") or {}
    except Exception:
        return False
    return GVISOR_RUNTIME in runtimes


@pytest.fixture(scope="module", autouse=True)
def runsc_registered() -> None:
    """Skip without runsc on a laptop; under CI=true its absence is a failure."""
    if _runsc_registered():
        return
    message = "the Docker engine has no runsc runtime (register it: sudo bash scripts/gvisor.sh)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true but {message}: the gVisor tests must run in CI")
    pytest.skip(message)


class GVisorInspector(HardeningInspector):
    """The security suite's CIS checks, plus: the container runs under runsc."""

    def __call__(self, container_id: str) -> None:
        info = self.runtime.api.inspect_container(container_id)
        found = cis_violations(info)
        if info["HostConfig"].get("Runtime") != GVISOR_RUNTIME:
            found.append(f"runtime is {info['HostConfig'].get('Runtime')!r}, not runsc")
        with self.lock:
            self.violations[container_id] = found


@pytest.fixture(scope="module")
def gvisor_lab(
    tmp_path_factory: pytest.TempPathFactory,
    runner_image: str,  # noqa: F811
    host: Host,
) -> Lab:
    """The security suite's lab, with SANDBOX_RUNTIME=runsc."""
    home = tmp_path_factory.mktemp("gvisor-home")
    inspector = GVisorInspector()
    services = build_services(Settings(home=home, image=runner_image, runtime="runsc"))
    assert services.hardening.runtime == GVISOR_RUNTIME
    runtime = GVisorRuntime(poll_interval_s=0.1, on_started=inspector)
    return Lab(
        services=dataclasses.replace(services, runtime=runtime),
        inspector=inspector,
        host=host,
        workdir=tmp_path_factory.mktemp("gvisor-pilots"),
    )


# --- the same run under runc and runsc ------------------------------------------------------


def _blueprint_run(tmp_path: Path, image: str, runtime: str) -> dict[str, Any]:
    pilot = tmp_path / f"pilot-{runtime}"
    shutil.copytree(BLUEPRINT, pilot)
    settings = Settings(home=tmp_path / f"home-{runtime}", image=image, runtime=runtime)
    outcome = run_pilot(pilot, build_services(settings), out_dir=tmp_path / f"out-{runtime}")
    report: dict[str, Any] = json.loads((tmp_path / f"out-{runtime}" / "report.json").read_text())
    trail = settings.trail_path.read_text().splitlines()
    started = [json.loads(line) for line in trail if '"run.started"' in line]
    report["started_runtime"] = started[-1]["payload"]["hardening"]["runtime"]
    report["exit_code"] = outcome.exit_code
    from mlflow.tracking import MlflowClient

    tracked = MlflowClient(settings.tracking_uri).get_run(outcome.tracker_run_id)
    report["tracked_runtime"] = tracked.data.tags.get("sandbox.container_runtime")
    return report


#: Rules whose evidence describes the container itself (its runtime, its duration)
CONTAINER_EVIDENCE = {"isolation.hardening", "runtime.container-succeeded"}


def _decisions(report: dict[str, Any]) -> list[tuple[object, ...]]:
    return [
        (
            o["rule_id"],
            o["outcome"],
            o.get("message"),
            None if o["rule_id"] in CONTAINER_EVIDENCE else o.get("evidence"),
        )
        for o in report["verdict"]["outcomes"]
    ]


def test_a_blueprint_reaches_the_same_verdict_and_metrics_under_runsc(
    tmp_path: Path,
    runner_image: str,  # noqa: F811
) -> None:
    runc = _blueprint_run(tmp_path, runner_image, "docker")
    runsc = _blueprint_run(tmp_path, runner_image, "runsc")
    assert runc["started_runtime"] == "runc" and runsc["started_runtime"] == "runsc"
    assert runsc["runtime"]["hardening"]["runtime"] == "runsc"
    assert runsc["runtime"]["container_state"] == "succeeded"
    assert runsc["verdict"]["status"] == runc["verdict"]["status"]
    # every rule decides alike on the same evidence, but for the container's own evidence
    assert _decisions(runsc) == _decisions(runc)
    assert runsc["evaluation"] == runc["evaluation"]
    assert runsc["exit_code"] == runc["exit_code"]
    assert (runc["tracked_runtime"], runsc["tracked_runtime"]) == ("runc", "runsc")


def test_a_runc_hardening_is_refused_by_the_gvisor_backend(
    tmp_path: Path,
    runner_image: str,  # noqa: F811
) -> None:
    (tmp_path / "input").mkdir()
    spec = ContainerSpec(
        run_id="runc-under-runsc",
        image=runner_image,
        command=("true",),
        input_dir=tmp_path / "input",
        pilot_dir=tmp_path / "input",
        output_dir=tmp_path / "output",
        hardening=Hardening(runtime="runc"),
    )
    with pytest.raises(UserInputError, match="unset SANDBOX_RUNTIME"):
        GVisorRuntime().run(spec)


# --- the wall: the security suite's attacks under runsc --------------------------------------


@pytest.fixture
def listeners(gvisor_lab: Lab) -> Iterator[test_containment.Listeners]:
    with test_containment.Listeners(_bridge_gateway(gvisor_lab.inspector.runtime)) as started:
        yield started


def test_network_egress_is_blocked(gvisor_lab: Lab, listeners: test_containment.Listeners) -> None:
    test_containment.test_network_egress_tcp_udp_dns_is_blocked(gvisor_lab, listeners)


def test_host_files_environment_and_proc_do_not_leak(gvisor_lab: Lab) -> None:
    test_containment.test_host_files_environment_and_proc_leaks(gvisor_lab)


def test_writes_outside_output_are_refused(gvisor_lab: Lab) -> None:
    test_containment.test_writes_outside_output_are_refused(gvisor_lab)


#: Refused under runc and under runsc alike. gVisor's kernel has no ambient capabilities or
#: NoNewPrivs line in /proc/<pid>/status, and does not load the engine's seccomp profile inside
#: the sandbox (its own kernel answers every call; the host's filter confines that kernel).
REFUSED = (
    "setuid(0)",
    "setgid(0)",
    "chown",
    "raw_socket",
    "packet_socket",
    "mount",
    "unshare_net",
    "init_module",
    "settimeofday",
    "sethostname",
    "mknod_device",
)
#: What gVisor's kernel grants a process without capabilities where Linux refuses: a mount
#: namespace of its own (mounting stays refused) and a nominal priority (gVisor's tasks are
#: scheduled by the host as threads of its kernel, not by the value). Neither reaches the host.
GVISOR_GRANTS = {"unshare_mount", "nice_-20"}


def test_privilege_and_capability_use_is_refused(gvisor_lab: Lab) -> None:
    attack = gvisor_lab.attack("privilege")
    assert attack.state == "succeeded", attack.container
    probe = attack.probe()
    assert probe["uid"] == 65534 and probe["gid"] == 65534
    assert int(probe["cap_eff"], 16) == 0 and int(probe["cap_bnd"], 16) == 0
    assert probe["setuid_files"] == []
    refused = {name: probe[name] for name in REFUSED if not probe[name].startswith("denied")}
    assert refused == {}
    granted = {name for name, result in probe.items() if str(result).startswith("allowed")}
    assert granted <= GVISOR_GRANTS | {"ptrace_pid1"}, granted


def test_no_docker_socket_in_reach(gvisor_lab: Lab) -> None:
    test_containment.test_no_docker_socket_in_reach(gvisor_lab)


ABUSERS = {
    "fork-bomb": {"timed_out", "failed", "oom_killed"},
    "memory-bomb": {"oom_killed", "failed"},
    "cpu-spin": {"timed_out"},
}


@pytest.fixture(scope="module")
def abuse(gvisor_lab: Lab) -> dict[str, Attack]:
    """The resource abusers and a benign pilot, all at once, under runsc."""
    names = [*ABUSERS, "benign"]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        futures = {name: pool.submit(gvisor_lab.attack, name) for name in names}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", sorted(ABUSERS))
def test_resource_abuse_ends_in_a_defined_state_in_time(
    abuse: dict[str, Attack], name: str
) -> None:
    attack = abuse[name]
    assert attack.state in ABUSERS[name], attack.container
    assert attack.outcome.verdict.status == "fail"
    assert "runtime.container-succeeded" in attack.failed_rules
    assert attack.container["duration_s"] <= test_abuse._timeout_of(name) + GRACE_S
    assert list(attack.outcome.run_dir.joinpath("output").iterdir()) == []


def test_benign_pilot_beside_the_abusers_succeeds(abuse: dict[str, Attack]) -> None:
    test_abuse.test_benign_pilot_beside_the_abusers_succeeds(abuse)


def test_killing_the_containers_init_fails_the_run(gvisor_lab: Lab) -> None:
    test_abuse.test_killing_the_containers_init_fails_the_run(gvisor_lab)


def test_huge_sparse_file_is_stopped_by_the_file_size_limit(gvisor_lab: Lab) -> None:
    test_abuse.test_huge_sparse_file_is_stopped_by_the_file_size_limit(gvisor_lab)


@pytest.mark.parametrize("name", ["output-symlink", "output-hardlink", "nan-scores"])
def test_hostile_outputs_are_refused(gvisor_lab: Lab, name: str) -> None:
    test_abuse.test_hostile_outputs_are_refused(gvisor_lab, name)


def test_filling_tmp_ends_in_time_with_the_bytes_capped(gvisor_lab: Lab) -> None:
    # gVisor keeps /tmp in its own memory and caps its bytes, but its release in Debian 12
    # does not cap inodes (nr_inodes): a million empty files run into the time limit (or the
    # memory limit) instead, never into the host kernel's tmpfs.
    attack = gvisor_lab.attack("fill-tmp")
    assert attack.state in {"succeeded", "timed_out", "oom_killed"}, attack.container
    assert attack.container["duration_s"] <= test_abuse._timeout_of("fill-tmp") + GRACE_S
    if attack.state == "succeeded":
        assert attack.probe()["/tmp"]["bytes"]["bytes"] <= 64 * 1024 * 1024
