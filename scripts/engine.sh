#!/usr/bin/env bash
# Make sure a Docker engine is running: install docker.io and start dockerd when needed.
# Debian/Ubuntu, as root. Idempotent: does nothing when an engine already answers.
# The engine reads /etc/docker/daemon.json, where scripts/gvisor.sh registers gVisor (runsc).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# wait_for_engine SECONDS [PID]: true once `docker info` answers; false on timeout or when PID exits.
wait_for_engine() {
  local deadline=$((SECONDS + $1)) pid="${2:-}"
  while [ "$SECONDS" -lt "$deadline" ]; do
    if docker info >/dev/null 2>&1; then
      echo "docker engine: running"
      return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.5
  done
  return 1
}

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
  wait_for_engine 120 || { echo "error: docker did not come up within 120 s; see journalctl -u docker" >&2; exit 1; }
  exit 0
fi

# Without systemd, dockerd runs in the background. Its first start after an unclean stop can time
# out while containerd cleans up the shims of containers that were running (gVisor's among them);
# that cleanup is done by then, so a second start comes up at once. Three attempts, then give up.
log=/var/log/sandbox-dockerd.log
for attempt in 1 2 3; do
  echo "docker engine: starting dockerd (log: $log)"
  nohup dockerd >>"$log" 2>&1 &
  pid=$!
  if wait_for_engine 120 "$pid"; then
    exit 0
  fi
  echo "docker engine: dockerd did not come up (attempt $attempt of 3)" >&2
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
echo "error: dockerd did not come up in 3 attempts; see $log" >&2
exit 1
