"""The Docker backend: the only place that imports the docker SDK.

runtime.py   `DockerRuntime`: hardened exec-based runs, output copy-out, cleanup
edge.py      engine errors translated into the sandbox's own; bounded output tails
image.py     the runner image, built from Debian packages and pinned wheels
"""
