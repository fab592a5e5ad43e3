"""The Docker runtime against the real engine: the harness, the hardening and the fences."""

from __future__ import annotations

import fcntl
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from sandbox.errors import OutputRejected, RuntimeUnavailable
from sandbox.runtime import ContainerSpec, Hardening, read_explanations, read_predictions
from sandbox.runtime.docker.runtime import MANAGED_LABEL, RUN_ID_LABEL, DockerRuntime
from tests.integration.conftest import HARNESS_COMMAND as HARNESS

FEATURES = ["age", "income", "visits"]  # as written by conftest.write_inputs

pytestmark = pytest.mark.docker

MakeSpec = Callable[..., ContainerSpec]


def _assert_gone(runtime: DockerRuntime, run_id: str) -> None:
    selector = {"label": f"{RUN_ID_LABEL}={run_id}"}
    assert runtime.api.containers(all=True, filters=selector) == []
    assert not runtime.api.volumes(filters=selector).get("Volumes")


def test_tiny_pilot_runs_through_the_harness(
    make_spec: MakeSpec, docker_runtime: DockerRuntime
) -> None:
    spec = make_spec("tiny-logistic", run_id="it-tiny", params={"C": 0.5})
    expected = pd.read_parquet(spec.input_dir / "score.parquet")["row_id"].tolist()

    result = docker_runtime.run(spec)

    assert result.state == "succeeded", result.stderr_tail
    assert result.exit_code == 0
    assert result.image_digest == docker_runtime.image_digest(spec.image)
    assert set(result.output_files) == {
        "predictions.csv",
        "explanations.json",
        "model/model.joblib",
    }
    assert all(digest.startswith("sha256:") for digest in result.output_files.values())
    predictions = read_predictions(spec.output_dir / "predictions.csv", expected_row_ids=expected)
    assert list(predictions.columns) == ["row_id", "prediction", "score"]
    assert predictions["row_id"].tolist() == expected
    explanations = read_explanations(spec.output_dir / "explanations.json", features=FEATURES)
    assert explanations.method == "permutation_importance"
    assert [item.feature for item in explanations.features] == FEATURES
    _assert_gone(docker_runtime, spec.run_id)


def test_same_inputs_give_byte_identical_outputs(
    make_spec: MakeSpec, docker_runtime: DockerRuntime
) -> None:
    first = docker_runtime.run(make_spec("tiny-logistic", run_id="it-repro-1"))
    second = docker_runtime.run(make_spec("tiny-logistic", run_id="it-repro-2"))

    assert first.output_files["predictions.csv"] == second.output_files["predictions.csv"]
    assert first.output_files["explanations.json"] == second.output_files["explanations.json"]


def test_running_container_has_every_hardening_setting(
    make_spec: MakeSpec, runner_image: str
) -> None:
    seen: dict[str, object] = {}
    hardening = Hardening(memory_mb=300, cpus=0.5, pids_limit=64, timeout_s=30, tmp_size_mb=16)

    def inspect(container_id: str) -> None:
        runtime = DockerRuntime()
        # found by its run-id label, as a crash-recovery sweep would
        [listed] = runtime.api.containers(filters={"label": f"{RUN_ID_LABEL}=it-hardening"})
        assert listed["Id"] == container_id
        seen.update(runtime.api.inspect_container(container_id))

    runtime = DockerRuntime(on_started=inspect)
    spec = make_spec("tiny-logistic", run_id="it-hardening", hardening=hardening)
    spec = ContainerSpec(**{**spec.__dict__, "command": ("sleep", "1")})

    result = runtime.run(spec)

    assert result.state == "succeeded"
    host, config = seen["HostConfig"], seen["Config"]
    assert isinstance(host, dict) and isinstance(config, dict)
    assert host["NetworkMode"] == "none"
    assert config["NetworkDisabled"] is True
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert not host["CapAdd"]
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["Privileged"] is False
    assert config["User"] == "65534:65534"
    assert host["PidsLimit"] == 64
    assert host["Memory"] == 300 * 1024 * 1024
    assert host["MemorySwap"] == host["Memory"]
    assert host["NanoCpus"] == 500_000_000
    assert host["Init"] is True
    assert host["IpcMode"] == "private"
    assert host["PidMode"] == "" and host["UTSMode"] == "" and host["UsernsMode"] == ""
    scratch = "rw,noexec,nosuid,nodev,size=16m,nr_inodes=4096"
    assert host["Tmpfs"] == {"/tmp": scratch, "/dev/shm": scratch}
    assert host["LogConfig"] == {
        "Type": "json-file",
        "Config": {"max-size": str(hardening.log_max_bytes), "max-file": "1"},
    }
    binds = sorted(host["Binds"])
    assert f"{spec.input_dir.resolve()}:/input:ro" in binds
    assert f"{spec.pilot_dir.resolve()}:/pilot:ro" in binds
    assert not any("docker.sock" in bind for bind in binds)
    mounts = {mount["Destination"]: mount for mount in seen["Mounts"]}  # type: ignore[attr-defined]
    assert mounts["/input"]["RW"] is False and mounts["/pilot"]["RW"] is False
    assert mounts["/output"]["Type"] == "volume" and mounts["/output"]["RW"] is True
    assert config["Labels"][MANAGED_LABEL] == "true"
    assert config["Env"] is None or not any(
        name.split("=")[0] in {"HOME", "PATH_HOST", "CI", "USER"} and "root" in name
        for name in config["Env"]
    )
    _assert_gone(runtime, spec.run_id)


def _bridge_gateway(runtime: DockerRuntime) -> str:
    """This machine's own address on the default bridge (docker0)."""
    network = runtime.api.inspect_network("bridge")
    configured = (network["IPAM"]["Config"] or [{}])[0].get("Gateway")
    if configured:
        return str(configured)
    bridge = network["Options"].get("com.docker.network.bridge.name", "docker0")
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        request = struct.pack("256s", bridge.encode()[:15])
        reply = fcntl.ioctl(probe.fileno(), 0x8915, request)  # SIOCGIFADDR
    except OSError:
        pytest.skip(f"the bridge interface {bridge} has no IPv4 address")
    finally:
        probe.close()
    return socket.inet_ntoa(reply[20:24])


def test_model_cannot_reach_a_listener_on_the_bridge(
    make_spec: MakeSpec, docker_runtime: DockerRuntime
) -> None:
    # The listener is the test's own, on this machine's docker0 address; nothing else is dialled.
    gateway = _bridge_gateway(docker_runtime)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((gateway, 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        deadline = time.monotonic() + 60  # bounded: stops by itself
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                connection, peer = listener.accept()
            except TimeoutError:
                continue
            accepted.append(peer)
            connection.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        spec = make_spec(
            "network-probe", run_id="it-network", params={"host": gateway, "port": port}
        )
        result = docker_runtime.run(spec)
    finally:
        stop.set()
        server.join(timeout=5)
        listener.close()

    assert result.state == "failed"
    assert "network blocked" in result.stderr_tail
    assert accepted == []
    _assert_gone(docker_runtime, spec.run_id)


def test_symlink_in_output_is_rejected(make_spec: MakeSpec, docker_runtime: DockerRuntime) -> None:
    spec = make_spec("symlink-writer", run_id="it-symlink")

    with pytest.raises(OutputRejected, match="symbolic link"):
        docker_runtime.run(spec)

    assert list(spec.output_dir.iterdir()) == []
    _assert_gone(docker_runtime, spec.run_id)


def test_sleep_forever_times_out(make_spec: MakeSpec, docker_runtime: DockerRuntime) -> None:
    spec = make_spec("sleeper", run_id="it-timeout", hardening=Hardening(timeout_s=3))

    started = time.monotonic()
    result = docker_runtime.run(spec)

    assert result.state == "timed_out"
    assert result.exit_code is None
    assert result.output_files == {}
    assert time.monotonic() - started < 3 + 10
    _assert_gone(docker_runtime, spec.run_id)


def test_memory_bomb_is_oom_killed(make_spec: MakeSpec, docker_runtime: DockerRuntime) -> None:
    spec = make_spec(
        "memory-bomb", run_id="it-oom", hardening=Hardening(memory_mb=256, timeout_s=60)
    )

    result = docker_runtime.run(spec)

    assert result.state == "oom_killed"
    assert result.exit_code == 137
    _assert_gone(docker_runtime, spec.run_id)


def test_missing_image_is_runtime_unavailable(
    docker_runtime: DockerRuntime, tmp_path: Path
) -> None:
    with pytest.raises(RuntimeUnavailable, match="sandbox image build"):
        docker_runtime.image_digest("ai-commons-sandbox/runner:does-not-exist")


def test_leftovers_are_listed_and_removed(docker_runtime: DockerRuntime, runner_image: str) -> None:
    api = docker_runtime.api
    labels = {RUN_ID_LABEL: "it-leftover", MANAGED_LABEL: "true"}
    created = api.create_container(runner_image, command=["sleep", "30"], labels=labels)["Id"]

    assert created in docker_runtime.leftovers().containers
    assert docker_runtime.leftovers(run_id="it-other").containers == ()
    removed = docker_runtime.remove_leftovers(run_id="it-leftover")

    assert created in removed.containers
    _assert_gone(docker_runtime, "it-leftover")


def test_a_started_harness_waits_for_the_go_and_its_timeout_counts_from_there(
    make_spec: MakeSpec, docker_runtime: DockerRuntime
) -> None:
    marker = "/input/.go"
    spec = make_spec(
        "tiny-logistic",
        run_id="it-early",
        command=(*HARNESS, "--wait-for", marker, "--preload"),
        hardening=Hardening(memory_mb=512, timeout_s=4),
    )
    started = docker_runtime.start(spec)
    try:
        time.sleep(5)  # longer than the timeout: the wait before the go is not charged
        assert list(spec.output_dir.iterdir()) == []
        (spec.input_dir / ".go").touch()
        result = started.finish()
    finally:
        started.discard()
    # the harness fitted within its 4 s: its libraries were loaded before the go
    assert result.state == "succeeded", result.stderr_tail
    assert "predictions.csv" in result.output_files
    _assert_gone(docker_runtime, spec.run_id)


def test_a_started_container_discarded_before_the_go_ran_nothing(
    make_spec: MakeSpec, docker_runtime: DockerRuntime
) -> None:
    spec = make_spec("tiny-logistic", run_id="it-discard", command=(*HARNESS, "--wait-for", "/x"))
    started = docker_runtime.start(spec)
    time.sleep(1)
    started.discard()
    assert list(spec.output_dir.iterdir()) == []
    _assert_gone(docker_runtime, spec.run_id)
