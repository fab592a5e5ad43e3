"""The Docker backend of `Runtime`, on the docker SDK (the only module that imports `docker`).

One run, step by step:

1. create a hardened container whose main process is a trusted idle command under the
   engine's init (`sleep infinity`), with /input and /pilot bind-mounted read-only and /output
   a size-capped tmpfs volume;
2. start it and run the pilot's command with `exec`, keeping only a bounded tail of its
   stdout/stderr, polling until it ends or the wall-clock timeout passes (then: kill);
   `start` stops after the exec, so a command can load its libraries while the host still
   writes its inputs, and `finish` does the rest (the timeout counts from there);
3. freeze the container (`pause`), so that no process the pilot left behind can change
   /output while it is read, and, while the container still exists (the tmpfs would vanish
   on stop), copy /output out with `get_archive` through the validating tar reader of
   `sandbox.runtime.outputs`;
4. kill and remove the container and its output volume, always, whatever happened.

A pilot that stops the container itself (e.g. by signalling its init) ends `failed`: its
outputs are gone with the container's tmpfs and nothing of it is trusted.

Engine and SDK exceptions are translated at this edge by `map_docker_errors()`.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from sandbox.errors import RuntimeUnavailable, SandboxError, UserInputError
from sandbox.runtime.base import (
    ContainerResult,
    ContainerSpec,
    Hardening,
    LeftoverResources,
    TerminalState,
)
from sandbox.runtime.docker.cgroups import host_oom_kills
from sandbox.runtime.docker.edge import (
    IMAGE_FIX,
    TAIL_BYTES,
    OutputTail,
    check_oci_runtime,
    map_docker_errors,
)
from sandbox.runtime.docker.started import Command, StartedDockerContainer

__all__ = [
    "MANAGED_LABEL",
    "RUN_ID_LABEL",
    "DockerRuntime",
    "LeftoverResources",
]

RUN_ID_LABEL = "ai-commons-sandbox.run-id"
MANAGED_LABEL = "ai-commons-sandbox.managed"
IDLE_COMMAND = ("sleep", "infinity")
OOM_PROBE_TIMEOUT_S = 5.0
#: After the command's output stream ends, its exit is polled this often for this long.
EXIT_POLL_S = 0.01
EXIT_GRACE_S = 1.0
REMOVE_ATTEMPTS = 6  # about half a minute of retries in all
SIGKILL_EXIT = 137  # 128 + SIGKILL: how the kernel's OOM killer ends a process


class DockerRuntime:
    """Runs pilot containers on a Docker engine (the local one by default)."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_timeout_s: float = 120.0,
        poll_interval_s: float = 0.2,
        tail_bytes: int = TAIL_BYTES,
        on_started: Callable[[str], None] | None = None,
    ) -> None:
        self._base_url = base_url
        self._api_timeout_s = api_timeout_s
        self._poll_interval_s = poll_interval_s
        self._tail_bytes = tail_bytes
        self._on_started = on_started  # called with the container id once it runs
        self._client: Any = None
        self._verified_runtimes: set[str] = {"runc"}  # OCI runtimes the engine has
        # A local engine's cgroups can be read on this host (a remote engine's cannot).
        self._local = base_url is None or base_url.startswith("unix://")

    @property
    def api(self) -> Any:
        """The low-level docker-py `APIClient`, connected on first use."""
        if self._client is None:
            with map_docker_errors("connecting to Docker"):
                if self._base_url:
                    self._client = docker.APIClient(
                        base_url=self._base_url, version="auto", timeout=self._api_timeout_s
                    )
                else:
                    self._client = docker.from_env(timeout=int(self._api_timeout_s)).api
        return self._client

    def image_digest(self, image: str) -> str:
        """The immutable id of `image` ("sha256:..."); raises RuntimeUnavailable if absent."""
        with map_docker_errors(f"inspecting image {image}"):
            try:
                return str(self.api.inspect_image(image)["Id"])
            except docker.errors.NotFound as exc:
                raise RuntimeUnavailable(
                    f"image {image} is not on the engine; {IMAGE_FIX}"
                ) from exc

    def has_image(self, image: str) -> bool:
        """Whether the engine holds `image`."""
        with map_docker_errors(f"inspecting image {image}"):
            try:
                self.api.inspect_image(image)
            except docker.errors.NotFound:
                return False
        return True

    def import_rootfs(self, tarball: Path, *, tag: str, changes: list[str]) -> str:
        """`docker import` a root file system tarball under `tag`; returns the image id."""
        repository, _, version = tag.rpartition(":")
        with map_docker_errors(f"importing {tarball.name} as {tag}"):
            self.api.import_image(
                src=str(tarball), repository=repository, tag=version, changes=changes
            )
        return self.image_digest(tag)

    def run(self, spec: ContainerSpec) -> ContainerResult:
        """Run one hardened container to a terminal state, then copy out and check its outputs.

        Outputs are copied only from a run that succeeded; a failed, timed-out or OOM-killed
        run returns its state and output tails with no output files. Raises OutputRejected
        when the outputs break the container contract, RuntimeUnavailable when the engine or
        the image is missing, ContainerError when the engine refuses the container.
        """
        return self.start(spec).finish()

    def start(self, spec: ContainerSpec) -> StartedDockerContainer:
        """Create and start the hardened container and its command (steps 1 and 2's exec).

        The command's timeout counts from `finish`, so a command that waits for its inputs is
        not charged for the wait. Raises as `run` does; nothing is left on the engine then.
        """
        _check_spec(spec)
        if spec.hardening.runtime not in self._verified_runtimes:
            check_oci_runtime(self.api, spec.hardening.runtime, run_id=spec.run_id)
            self._verified_runtimes.add(spec.hardening.runtime)
        digest = self.image_digest(spec.image)
        safe_id = re.sub(r"[^A-Za-z0-9_.-]", "-", spec.run_id)[:40]
        volume = f"ai-commons-sandbox-output-{safe_id}-{uuid.uuid4().hex[:8]}"
        container_id = ""
        try:
            with map_docker_errors(
                f"creating the container of run {spec.run_id}", image_digest=digest
            ):
                self._create_output_volume(volume, spec)
                container_id = str(self._create_container(spec, digest, volume)["Id"])
                self.api.start(container_id)
            if self._on_started is not None:
                self._on_started(container_id)
            command = self._exec(spec, container_id, digest)
        except BaseException:
            with contextlib.suppress(SandboxError):  # the error that brought us here wins
                self.remove(container_id, volume)
            raise
        return StartedDockerContainer(self, spec, digest, container_id, volume, command)

    def leftovers(self, *, run_id: str | None = None) -> LeftoverResources:
        """Managed containers and output volumes still on the engine (e.g. after a crash).

        Without `run_id` this lists those of every run, including runs still in progress in
        other processes: sweep them only when no run is in progress.
        """
        label = f"{RUN_ID_LABEL}={run_id}" if run_id else f"{MANAGED_LABEL}=true"
        selector = {"label": label}
        with map_docker_errors("listing managed containers"):
            containers = self.api.containers(all=True, filters=selector)
            volumes = self.api.volumes(filters=selector).get("Volumes") or []
        return LeftoverResources(
            containers=tuple(str(c["Id"]) for c in containers),
            volumes=tuple(str(v["Name"]) for v in volumes),
        )

    def remove_leftovers(self, *, run_id: str | None = None) -> LeftoverResources:
        """Kill and remove managed containers and output volumes; returns what was removed."""
        found = self.leftovers(run_id=run_id)
        for container_id in found.containers:
            self.remove(container_id, None)
        for volume in found.volumes:
            self.remove("", volume)
        return found

    # --- one run -------------------------------------------------------------------------

    def _create_output_volume(self, name: str, spec: ContainerSpec) -> None:
        # A tmpfs-backed volume, not a `--tmpfs` mount: the engine's archive API (get_archive)
        # reads volumes but not container tmpfs mounts, and the size option caps the output.
        # nr_inodes counts the root folder too, so a full volume archives to at most
        # max_files tar members: a pilot making a million files hits ENOSPC inside.
        limits = spec.output_limits
        options = (
            f"size={limits.max_total_bytes},nr_inodes={limits.max_files},"
            "mode=1777,nosuid,nodev,noexec"
        )
        self.api.create_volume(
            name=name,
            driver="local",
            driver_opts={"type": "tmpfs", "device": "tmpfs", "o": options},
            labels={RUN_ID_LABEL: spec.run_id, MANAGED_LABEL: "true"},
        )

    def _create_container(self, spec: ContainerSpec, digest: str, volume: str) -> Any:
        hardening = spec.hardening
        memory = f"{hardening.memory_mb}m"
        fsize = spec.output_limits.max_file_bytes
        host_config = self.api.create_host_config(
            network_mode=hardening.network,
            runtime=hardening.runtime,  # runc, or runsc: gVisor's kernel under the same limits
            read_only=hardening.read_only_root,
            cap_drop=["ALL"] if hardening.cap_drop_all else None,
            security_opt=["no-new-privileges:true"] if hardening.no_new_privileges else None,
            privileged=False,
            init=True,
            ipc_mode="private",
            pids_limit=hardening.pids_limit,
            mem_limit=memory,
            memswap_limit=memory,  # equal to the memory limit: no swap
            nano_cpus=int(hardening.cpus * 1e9),
            # /dev/shm mounted by us, not the engine: the engine's has no inode cap, and a
            # million empty files there exhaust kernel memory
            tmpfs={"/tmp": _tmp_options(hardening), "/dev/shm": _tmp_options(hardening)},  # noqa: S108 - the container's own tmpfs
            ulimits=[
                docker.types.Ulimit(name="nofile", soft=hardening.nofile, hard=hardening.nofile),
                docker.types.Ulimit(name="core", soft=0, hard=0),
                # no file larger than the output cap, not even a sparse one: the host would
                # otherwise stream its apparent size (e.g. 64 GiB of holes) out of the engine
                docker.types.Ulimit(name="fsize", soft=fsize, hard=fsize),
            ],
            oom_kill_disable=False,
            binds={
                str(spec.input_dir.resolve()): {"bind": "/input", "mode": "ro"},
                str(spec.pilot_dir.resolve()): {"bind": "/pilot", "mode": "ro"},
                volume: {"bind": "/output", "mode": "rw"},
            },
            log_config=docker.types.LogConfig(
                type="json-file",
                config={"max-size": str(hardening.log_max_bytes), "max-file": "1"},
            ),
        )
        return self.api.create_container(
            image=digest,
            command=list(IDLE_COMMAND),
            entrypoint=[],
            user=hardening.user,
            working_dir="/",
            environment=dict(spec.environment),
            labels={RUN_ID_LABEL: spec.run_id, MANAGED_LABEL: "true"},
            network_disabled=True,
            host_config=host_config,
        )

    def _exec(self, spec: ContainerSpec, container_id: str, digest: str) -> Command:
        """Start the pilot command via exec; a thread keeps the tails of its output."""
        out, err = OutputTail(self._tail_bytes), OutputTail(self._tail_bytes)
        with map_docker_errors(f"starting the command of run {spec.run_id}", image_digest=digest):
            exec_id = self.api.exec_create(
                container_id,
                list(spec.command),
                user=spec.hardening.user,
                environment=dict(spec.environment),
                workdir="/",
            )["Id"]
        reader = threading.Thread(
            target=self._drain,
            args=(exec_id, out, err),
            name=f"sandbox-exec-{spec.run_id}",
            daemon=True,
        )
        reader.start()
        return Command(exec_id=exec_id, reader=reader, out=out, err=err)

    def watch(
        self, spec: ContainerSpec, container_id: str, digest: str, command: Command
    ) -> tuple[TerminalState, int | None, float]:
        """Poll the command until it ends or the timeout (counted from now) passes."""
        started = time.monotonic()
        deadline = started + spec.hardening.timeout_s
        exit_code: int | None = None
        timed_out = False
        stream_ended: float | None = None
        with map_docker_errors(f"watching run {spec.run_id}", image_digest=digest):
            while True:
                try:
                    info = self.api.exec_inspect(command.exec_id)
                except docker.errors.NotFound:  # gone with its container: see below
                    info = {"Running": False, "ExitCode": None}
                if not info["Running"] and info["ExitCode"] is not None:
                    exit_code = int(info["ExitCode"])
                    break
                # The exec's stream ended, or the engine lost the exec (no longer running, no
                # exit code): the container itself may have died. Under gVisor an OOM kill
                # ends the sandbox's whole kernel, and the exec's stream stays open after it.
                lost = not info["Running"] or not command.reader.is_alive()
                if lost and not self._running(container_id):
                    break
                if time.monotonic() >= deadline:
                    timed_out = self._running(container_id)
                    if timed_out:
                        self.api.kill(container_id)
                    break
                if command.reader.is_alive():
                    # the output stream ends with the command: its end wakes this wait at once
                    command.reader.join(timeout=self._poll_interval_s)
                else:  # ended: poll briefly while the engine records the exit, then as usual
                    stream_ended = stream_ended or time.monotonic()
                    recent = time.monotonic() - stream_ended < EXIT_GRACE_S
                    time.sleep(EXIT_POLL_S if recent else self._poll_interval_s)
            duration = time.monotonic() - started
            command.reader.join(timeout=5.0)
            state: TerminalState
            if timed_out:
                state = "timed_out"
            elif self._oom_killed(container_id, exit_code):
                state = "oom_killed"
            elif exit_code == 0:
                state = "succeeded"
            else:
                state = "failed"
        return state, exit_code, duration

    def _running(self, container_id: str) -> bool:
        return bool(self.api.inspect_container(container_id)["State"].get("Running"))

    def _drain(self, exec_id: str, out: OutputTail, err: OutputTail) -> None:
        # Runs in a thread; the stream ends when the command exits or the container is killed.
        with contextlib.suppress(
            docker.errors.DockerException, requests.exceptions.RequestException
        ):
            for stdout, stderr in self.api.exec_start(exec_id, stream=True, demux=True):
                out.feed(stdout)
                err.feed(stderr)

    def _oom_killed(self, container_id: str, exit_code: int | None) -> bool:
        """Whether the memory limit was hit: the engine's flag, or the cgroup's OOM counter."""
        state = self.api.inspect_container(container_id)["State"]
        if state.get("OOMKilled"):
            return True
        if not exit_code or not state.get("Running"):
            return False
        # cgroup v1: an OOM kill inside an exec does not flag the container (State.OOMKilled
        # stays false, the exec just ends with 137), but the memory cgroup counts every kill;
        # read the kernel's counter with a trusted command, never the pilot's own output.
        # A pilot may have exhausted the pids limit with processes that outlive it, so the
        # probe may fail to start: then the exit code alone decides (failed, not a crash).
        from_host = host_oom_kills(container_id) if self._local else None
        if from_host is not None:
            return from_host > 0
        # The probe gets a few seconds: in a memory cgroup starved by the pilot even `cat`
        # can block in the kernel, and the caller must still kill the container on time.
        answer: list[str] = []

        def probe() -> None:
            with contextlib.suppress(docker.errors.APIError, requests.exceptions.RequestException):
                exec_id = self.api.exec_create(
                    container_id,
                    ["cat", "/sys/fs/cgroup/memory/memory.oom_control"],
                    user="65534:65534",
                )["Id"]
                answer.append(self.api.exec_start(exec_id).decode("utf-8", errors="replace"))

        worker = threading.Thread(target=probe, name="sandbox-oom-probe", daemon=True)
        worker.start()
        worker.join(timeout=OOM_PROBE_TIMEOUT_S)
        if not answer:
            # No answer in time: only memory starvation blocks a read of a cgroup file.
            return exit_code == SIGKILL_EXIT and worker.is_alive()
        text = answer[0]
        counters = dict(line.split(maxsplit=1) for line in text.splitlines() if " " in line)
        value = counters.get("oom_kill", "0").strip()
        return value.isdigit() and int(value) > 0

    def _remove_container(self, container_id: str) -> None:
        # A container whose processes are stuck in the kernel (a fork bomb starving its memory
        # cgroup) can outlast the engine's wait for the kill; it dies seconds later, so retry.
        for attempt in range(REMOVE_ATTEMPTS):
            try:
                self.api.remove_container(container_id, force=True, v=True)
                return
            except docker.errors.NotFound:
                return
            except docker.errors.APIError:
                if attempt == REMOVE_ATTEMPTS - 1:
                    raise
                time.sleep(min(2.0**attempt, 8.0))

    def freeze(self, container_id: str) -> bool:
        """Pause the container before its outputs are read; False if it no longer runs."""
        try:
            self.api.pause(container_id)
        except docker.errors.APIError:
            state = self.api.inspect_container(container_id)["State"]
            if not state.get("Running"):
                return False
            raise
        return True

    def remove(self, container_id: str, volume: str | None) -> None:
        """Kill and remove the container, then its output volume; never raises on absence."""
        with map_docker_errors("removing the container"):
            if container_id:
                self._remove_container(container_id)
            if volume:
                with contextlib.suppress(docker.errors.NotFound):
                    self.api.remove_volume(volume, force=True)


def _tmp_options(hardening: Hardening) -> str:
    return f"rw,noexec,nosuid,nodev,size={hardening.tmp_size_mb}m,nr_inodes={hardening.tmp_inodes}"


def _check_spec(spec: ContainerSpec) -> None:
    hardening: Hardening = spec.hardening
    user = hardening.user.split(":", 1)[0]
    if user in {"", "0", "root"}:
        raise UserInputError(
            f"run {spec.run_id}: hardening.user must not be root, got {hardening.user!r}"
        )
    if hardening.network != "none":
        raise UserInputError(f"run {spec.run_id}: hardening.network must be 'none'")
    for name, folder in (("input_dir", spec.input_dir), ("pilot_dir", spec.pilot_dir)):
        if not folder.is_dir():
            raise UserInputError(f"run {spec.run_id}: {name} {folder} is not a folder")
    spec.output_dir.mkdir(parents=True, exist_ok=True)
    if any(spec.output_dir.iterdir()):
        raise UserInputError(f"run {spec.run_id}: output_dir {spec.output_dir} is not empty")
