"""What every container backend offers the run pipeline: one `Runtime` protocol.

The pipeline describes a run as a `ContainerSpec` (image, command, the two read-only folders,
the hardening) and gets back a `ContainerResult` whose `output_dir` holds files that were
already copied out of the container and checked against the container contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "ContainerResult",
    "ContainerSpec",
    "Hardening",
    "LeftoverResources",
    "OutputLimits",
    "Runtime",
    "StartedContainer",
    "TerminalState",
    "mount_folder",
]

TerminalState = Literal["succeeded", "failed", "timed_out", "oom_killed"]


@dataclass(frozen=True, kw_only=True)
class Hardening:
    """Isolation settings applied to every container; a policy pack may tighten, never loosen."""

    network: Literal["none"] = "none"
    read_only_root: bool = True
    cap_drop_all: bool = True
    no_new_privileges: bool = True
    user: str = "65534:65534"  # nobody:nogroup; never root
    memory_mb: int = 2048  # swap included: memory-swap equals memory
    cpus: float = 1.0
    pids_limit: int = 256
    timeout_s: float = 600.0
    tmp_size_mb: int = 64
    tmp_inodes: int = 4096  # files and folders in /tmp: no inode exhaustion by a million files
    nofile: int = 1024  # open file descriptors (soft = hard limit)
    log_max_bytes: int = 1_000_000
    # The OCI runtime the engine starts the container with: "runc" (namespaces and cgroups on
    # the host kernel) or "runsc" (gVisor: a user-space kernel between the pilot and the host).
    runtime: str = "runc"

    def tightened(self, other: Hardening) -> Hardening:
        """The stricter of both settings, field by field."""
        return Hardening(
            memory_mb=min(self.memory_mb, other.memory_mb),
            cpus=min(self.cpus, other.cpus),
            pids_limit=min(self.pids_limit, other.pids_limit),
            timeout_s=min(self.timeout_s, other.timeout_s),
            tmp_size_mb=min(self.tmp_size_mb, other.tmp_size_mb),
            tmp_inodes=min(self.tmp_inodes, other.tmp_inodes),
            nofile=min(self.nofile, other.nofile),
            log_max_bytes=min(self.log_max_bytes, other.log_max_bytes),
            # gVisor is the stronger wall: once either side asks for it, it stays
            runtime="runsc" if "runsc" in {self.runtime, other.runtime} else self.runtime,
        )


@dataclass(frozen=True, kw_only=True)
class OutputLimits:
    """Caps on what the container may hand back through /output.

    The Docker runtime also sizes the /output tmpfs with them (bytes and inodes), so a pilot
    that writes too much or too many files runs out of space inside, not the host.
    """

    max_total_bytes: int = 256 * 1024 * 1024
    max_file_bytes: int = 256 * 1024 * 1024
    max_files: int = 1000


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:
    """One pilot container: what runs, what it sees, and how it is fenced in."""

    run_id: str
    image: str
    command: tuple[str, ...]
    input_dir: Path  # mounted read-only at /input
    pilot_dir: Path  # mounted read-only at /pilot (code only, staged by the host)
    output_dir: Path  # empty host folder; validated outputs are copied here
    hardening: Hardening = field(default_factory=Hardening)
    output_limits: OutputLimits = field(default_factory=OutputLimits)
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ContainerResult:
    """How the container ended, with the evidence."""

    state: TerminalState
    exit_code: int | None
    image_digest: str
    container_id: str
    duration_s: float
    stdout_tail: str
    stderr_tail: str
    output_dir: Path
    output_files: dict[str, str]  # relative path -> "sha256:<hex>" of each validated file


@dataclass(frozen=True, kw_only=True)
class LeftoverResources:
    """Managed containers and volumes found (or removed) by label, e.g. after a crash."""

    containers: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()


class StartedContainer(Protocol):
    """A container whose command runs (`Runtime.start`): watch it to its end, or discard it."""

    def finish(self) -> ContainerResult:
        """Watch the command to a terminal state (its timeout counts from now), copy out and
        check its outputs, and remove the container; as `Runtime.run` does."""
        ...

    def discard(self) -> None:
        """Kill and remove the container without reading anything from it."""
        ...


@runtime_checkable
class Runtime(Protocol):
    """A container backend (Docker first; see sandbox.runtime.backends for the others)."""

    def image_digest(self, image: str) -> str:
        """The immutable id of `image` ("sha256:..."); raises RuntimeUnavailable if absent."""
        ...

    def run(self, spec: ContainerSpec) -> ContainerResult:
        """Run one hardened container to a terminal state, then copy out and check its outputs.

        Raises OutputRejected when the outputs break the container contract.
        The container is always removed afterwards.
        """
        ...

    def start(self, spec: ContainerSpec) -> StartedContainer:
        """Create the container and start its command, for `finish` or `discard` later.

        Lets a command that first loads its libraries and then waits for its inputs (the
        harness's `--wait-for`) start while the host still writes them.
        """
        ...

    def remove_leftovers(self, *, run_id: str | None = None) -> LeftoverResources:
        """Remove what a run whose runner died left on the engine (all runs without `run_id`).

        Raises RuntimeUnavailable when the engine cannot be reached.
        """
        ...


def mount_folder(path: Path) -> Path:
    """Create `path` for a read-only mount (mode 0755: the container's user reads it), or
    take it as it is when it exists and is empty (a container started early mounts it before
    the host fills it); FileExistsError when it already holds anything."""
    path.mkdir(parents=True, exist_ok=True)
    if any(path.iterdir()):
        raise FileExistsError(f"{path}: not empty")
    path.chmod(0o755)
    return path
