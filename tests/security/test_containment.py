"""Attacks on the wall itself: network, host files, writes outside /output, privilege, the
Docker socket, neighbours. Each pilot probes and reports; the run must end well and the probe
must show every attempt contained.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.test_docker_runtime import _bridge_gateway
from tests.security.conftest import Attack, Lab

pytestmark = pytest.mark.docker


def _succeeded(attack: Attack) -> None:
    assert attack.state == "succeeded", attack.container
    assert "runtime.container-succeeded" not in attack.failed_rules
    assert "runtime.outputs-valid" not in attack.failed_rules


class Listeners:
    """TCP and UDP listeners of the test itself on this machine's docker0 address."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind((address, 0))
        self.tcp.listen(4)
        self.tcp.settimeout(0.2)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((address, 0))
        self.udp.settimeout(0.2)
        self.dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.dns.bind((address, 0))
        self.dns.settimeout(0.2)
        self.received: list[object] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        deadline = time.monotonic() + 120  # bounded: stops by itself
        while not self._stop.is_set() and time.monotonic() < deadline:
            for sock in (self.tcp, self.udp, self.dns):
                try:
                    if sock is self.tcp:
                        connection, peer = sock.accept()
                        connection.close()
                        self.received.append(("tcp", peer))
                    else:
                        self.received.append(("udp", sock.recvfrom(512)))
                except TimeoutError:
                    continue

    def __enter__(self) -> Listeners:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in (self.tcp, self.udp, self.dns):
            sock.close()


@pytest.fixture
def listeners(lab: Lab) -> Iterator[Listeners]:
    with Listeners(_bridge_gateway(lab.inspector.runtime)) as started:
        yield started


def test_network_egress_tcp_udp_dns_is_blocked(lab: Lab, listeners: Listeners) -> None:
    attack = lab.attack(
        "net-egress",
        host=listeners.address,
        tcp_port=listeners.tcp.getsockname()[1],
        udp_port=listeners.udp.getsockname()[1],
        dns_port=listeners.dns.getsockname()[1],
    )
    _succeeded(attack)
    probe = attack.probe()
    for channel in ("tcp", "udp", "dns_udp", "dns_tcp"):
        assert probe[channel].startswith("blocked"), (channel, probe[channel])
    assert probe["interfaces"] == ["lo"]
    assert probe["routes"] == []
    assert not any("lo" not in line for line in probe["ipv6_routes"])
    time.sleep(0.5)  # let a late datagram arrive, if any had left
    assert listeners.received == []


def test_host_files_environment_and_proc_leaks(lab: Lab) -> None:
    canaries = [str(path) for path in lab.host.canaries]
    attack = lab.attack("host-files", canaries=canaries)
    _succeeded(attack)
    probe = attack.probe()
    dump = json.dumps(probe)
    assert lab.host.env_secret not in dump  # neither in its environment nor in PID 1's
    files = probe["files"]
    for path in canaries:
        assert files[path].startswith("denied"), path
    assert "PATH=" in files["/proc/1/environ"] or files["/proc/1/environ"].startswith("denied")
    for secret in ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"):
        # masked by the engine: absent, unreadable, or read as empty
        assert files[secret] == "read: " or files[secret].startswith("denied"), secret
    assert files["/etc/shadow"].startswith("denied")
    assert files["/pilot/data.csv"].startswith("denied")  # data never crosses as code
    assert files["/pilot/secrets.txt"].startswith("denied")
    assert files["/input/../pilot/data.csv"].startswith("denied")
    assert probe["pilot_listing"] == ["model.py"]
    # the model's columns only, and the host's empty go marker (`sandbox.runs.early_start`)
    assert probe["input_listing"] == [
        ".inputs-ready",
        "score.parquet",
        "spec.json",
        "train.parquet",
    ]
    mounts = files["/proc/self/mountinfo"]
    assert "docker.sock" not in mounts
    writable = {
        fields[4]
        for fields in (line.split() for line in mounts.splitlines())
        if fields[5].split(",")[0] == "rw"
    }
    allowed = {"/output", "/tmp", "/dev/shm", "/dev", "/dev/pts", "/dev/mqueue", "/proc"}
    # /proc/<masked> are the engine's masks (empty, root-owned); /sys/fs/cgroup is a
    # root-owned tmpfs whose controllers are mounted read-only
    unexpected = {m for m in writable - allowed if not m.startswith("/proc/")}
    assert unexpected <= {"/sys/fs/cgroup"}, unexpected
    assert len(probe["proc_pids"]) < 10  # only the container's own processes
    assert probe["home_dirs"] == []
    assert set(probe["environ"]) <= {
        "PATH",
        "HOSTNAME",
        "PYTHONPATH",
        "PYTHONDONTWRITEBYTECODE",
        "LANG",
        "HOME",
        "LC_CTYPE",
        "KMP_DUPLICATE_LIB_OK",  # set by scikit-learn when imported
        "KMP_INIT_AT_FORK",
    }


def test_writes_outside_output_are_refused(lab: Lab) -> None:
    attack = lab.attack("write-outside")
    _succeeded(attack)  # the attempts fail inside; the run itself completes
    probe = attack.probe()
    allowed = {name: result for name, result in probe.items() if not result.startswith("denied")}
    assert allowed == {}


def test_privilege_and_capability_use_is_refused(lab: Lab) -> None:
    attack = lab.attack("privilege")
    _succeeded(attack)
    probe = attack.probe()
    assert probe["uid"] == 65534 and probe["gid"] == 65534
    assert int(probe["cap_eff"], 16) == 0 and int(probe["cap_bnd"], 16) == 0
    assert int(probe["cap_amb"], 16) == 0
    assert probe["no_new_privs"] == "1"
    assert probe["seccomp"] == "2"  # the engine's default profile is on (filter mode)
    assert probe["setuid_files"] == []
    # ptrace is allowed by the default seccomp profile between processes of the same user:
    # the container's init is one, with no capability, so attaching to it gains nothing
    if not probe["ptrace_pid1"].startswith("denied"):
        assert probe["pid1_uid"].split()[:2] == ["65534", "65534"]
        assert int(probe["pid1_cap_eff"], 16) == 0
    for name in (
        "setuid(0)",
        "setgid(0)",
        "chown",
        "raw_socket",
        "packet_socket",
        "mount",
        "unshare_user",
        "unshare_mount",
        "unshare_net",
        "add_key",
        "keyctl",
        "init_module",
        "settimeofday",
        "sethostname",
        "mknod_device",
        "nice_-20",
    ):
        assert probe[name].startswith("denied"), (name, probe[name])


def test_no_docker_socket_in_reach(lab: Lab) -> None:
    attack = lab.attack("docker-socket")
    _succeeded(attack)
    probe = attack.probe()
    assert probe["sockets_found"] == []
    assert all(result.startswith("denied") for result in probe["known_paths"].values())
    assert probe["docker_env"] == {}


def test_two_concurrent_pilots_cannot_see_each_other(lab: Lab) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(lab.attack, "peer", me="a", other="b")
        second = pool.submit(lab.attack, "peer", me="b", other="a")
        attacks = [first.result(), second.result()]
    for attack in attacks:
        _succeeded(attack)
        probe = attack.probe()
        assert probe["seen"] == {}, probe
        assert not any("peer" in p and "me=" in p for p in probe["processes"])
    assert attacks[0].outcome.run_dir != attacks[1].outcome.run_dir
