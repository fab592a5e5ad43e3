"""The Docker backend: the only place that imports the docker SDK.

runtime.py   `DockerRuntime`: hardened exec-based runs, output copy-out, cleanup
image.py     the runner image, built from Debian packages and pinned wheels
"""
