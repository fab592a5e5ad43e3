#!/usr/bin/env bash
# Make sure a Docker engine is running: install docker.io and start dockerd when needed.
# Debian/Ubuntu, as root. Idempotent: does nothing when an engine already answers.
# The engine reads /etc/docker/daemon.json, where scripts/gvisor.sh registers gVisor (runsc).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if docker info >/dev/null 2>&1; then
  echo "docker engine: running"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: no Docker engine answers, and installing/starting one needs root: sudo bash $0" >&2
  exit 2
fi
if ! command -v dockerd >/dev/null 2>&1; then
  apt_install "docker engine" docker.io
fi
if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
  systemctl start docker
else
  echo "docker engine: starting dockerd (log: /var/log/sandbox-dockerd.log)"
  nohup dockerd >/var/log/sandbox-dockerd.log 2>&1 &
fi
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker engine: running"
    exit 0
  fi
  sleep 0.5
done
echo "error: dockerd did not come up within 30 s; see /var/log/sandbox-dockerd.log" >&2
exit 1
