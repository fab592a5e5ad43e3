"""The host's view of a local container's memory cgroup: how many processes the OOM killer ended.

Read on the host, never through the container: instant, and immune to a pilot that starves its
own memory cgroup or forged its own files.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["host_oom_kills"]


def host_oom_kills(container_id: str) -> int | None:
    """The kernel's OOM-kill count of a local container's memory cgroup, read on the host.

    Instant and immune to the container's own memory starvation; None when the engine's
    cgroup layout is not one of the usual ones (then the in-container probe decides).
    """
    root = Path("/sys/fs/cgroup")
    for candidate in (
        root / "memory" / "docker" / container_id / "memory.oom_control",  # v1, cgroupfs
        root / "memory" / "system.slice" / f"docker-{container_id}.scope" / "memory.oom_control",
        root / "docker" / container_id / "memory.events",  # v2, cgroupfs
        root / "system.slice" / f"docker-{container_id}.scope" / "memory.events",  # v2, systemd
    ):
        try:
            text = candidate.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
    return None
