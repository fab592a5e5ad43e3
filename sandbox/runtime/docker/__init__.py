"""The Docker backend: the only place that imports the docker SDK.

runtime.py   `DockerRuntime`: hardened exec-based runs, output copy-out, cleanup
started.py   a started container's `finish` (watch, freeze, copy out, remove) or `discard`
gvisor.py    `GVisorRuntime`: the same runs under gVisor's `runsc` (SANDBOX_RUNTIME=runsc)
edge.py      engine errors translated into the sandbox's own; bounded output tails; the check
             that the engine has the OCI runtime a hardening names
cgroups.py   OOM kills read from a local container's memory cgroup on the host
image.py     the runner image, built from Debian packages and pinned wheels
"""
