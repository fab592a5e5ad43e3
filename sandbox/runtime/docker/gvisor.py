"""gVisor as the container runtime: the Docker backend with every container under `runsc`.

`SANDBOX_RUNTIME=runsc` chooses it. The engine starts each container with gVisor's runtime
(registered by `scripts/gvisor.sh` with the ptrace platform and no network stack), so the
pilot's system calls reach gVisor's user-space kernel, not the host's; every other hardening
setting (no network, read-only root, no capabilities, no new privileges, unprivileged user,
memory, CPU, process and time limits, capped tmpfs) applies as under runc. The OCI runtime is
part of the run's hardening, so the trail, the report and MLflow record it, and a replay runs
under the runtime the run had.
"""

from __future__ import annotations

from sandbox.errors import UserInputError
from sandbox.runtime.base import ContainerSpec
from sandbox.runtime.docker.runtime import DockerRuntime
from sandbox.runtime.docker.started import StartedDockerContainer

__all__ = ["GVISOR_RUNTIME", "GVisorRuntime"]

GVISOR_RUNTIME = "runsc"


class GVisorRuntime(DockerRuntime):
    """Runs pilot containers under gVisor (`runsc`) on a Docker engine."""

    def start(self, spec: ContainerSpec) -> StartedDockerContainer:
        """As `DockerRuntime.start` (which `run` calls); refuses a spec whose hardening names
        another OCI runtime.

        A silent fallback would record one runtime and run another; the settings give every
        run `hardening.runtime="runsc"` when SANDBOX_RUNTIME=runsc.
        """
        if spec.hardening.runtime != GVISOR_RUNTIME:
            raise UserInputError(
                f"run {spec.run_id}: SANDBOX_RUNTIME=runsc runs containers under gVisor only, "
                f"but the run's hardening names runtime {spec.hardening.runtime!r}; "
                "unset SANDBOX_RUNTIME to run it under runc"
            )
        return super().start(spec)
