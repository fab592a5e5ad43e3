#!/usr/bin/env bash
# gVisor as an optional container runtime: install Debian's `runsc`, register it with the Docker
# engine as runtime "runsc" (ptrace platform, no network stack) and make the engine load it.
# Debian/Ubuntu, as root. Idempotent: does nothing when `docker info` already lists runsc.
# Select it for runs with SANDBOX_RUNTIME=runsc.
set -euo pipefail

daemon_json=/etc/docker/daemon.json

# Listed with the arguments this script registers (an older registration without them is redone).
runtime_listed() {
  docker info --format '{{json .Runtimes}}' 2>/dev/null \
    | grep -q '"runsc":{[^}]*"runtimeArgs":\["--platform=ptrace","--network=none"\]'
}

if runtime_listed && command -v runsc >/dev/null 2>&1; then
  echo "gvisor: runsc registered with the Docker engine"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: registering gVisor (runsc) with the Docker engine needs root: sudo bash $0" >&2
  exit 2
fi
if ! docker info >/dev/null 2>&1; then
  echo "error: no Docker engine answers; start one first: sudo bash scripts/engine.sh" >&2
  exit 2
fi

if ! command -v runsc >/dev/null 2>&1; then
  echo "gvisor: installing Debian's runsc package"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >/dev/null; }; then
    echo "error: could not install the runsc package (apt-get install runsc failed);" \
      "gVisor needs Debian bookworm or later (or Ubuntu with the universe component)" >&2
    exit 1
  fi
fi
runsc_path=$(command -v runsc || true)
if [ -z "$runsc_path" ]; then
  echo "error: the runsc package is installed but no runsc binary is on PATH" >&2
  exit 1
fi

# Merge into any existing daemon.json: other keys (and other runtimes) are kept as they are.
mkdir -p "$(dirname "$daemon_json")"
python3 - "$daemon_json" "$runsc_path" <<'PY'
import json
import os
import sys

path, runsc = sys.argv[1], sys.argv[2]
config = {}
if os.path.exists(path) and os.path.getsize(path) > 0:
    with open(path, encoding="utf-8") as handle:
        try:
            config = json.load(handle)
        except ValueError as exc:
            sys.exit(f"error: {path} is not valid JSON ({exc}); fix or remove it, then rerun")
    if not isinstance(config, dict):
        sys.exit(f"error: {path} must hold a JSON object; fix or remove it, then rerun")
runtimes = config.setdefault("runtimes", {})
if not isinstance(runtimes, dict):
    sys.exit(f"error: {path}: 'runtimes' must be an object; fix it, then rerun")
wanted = {"path": runsc, "runtimeArgs": ["--platform=ptrace", "--network=none"]}
if runtimes.get("runsc") != wanted:
    runtimes["runsc"] = wanted
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)
    print(f"gvisor: registered runsc in {path}")
PY

# The engine reloads "runtimes" on SIGHUP, so running containers survive (no restart needed).
if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1 \
  && systemctl is-active --quiet docker; then
  echo "gvisor: reloading the Docker engine (systemctl reload docker)"
  systemctl reload docker
else
  pid=$(pgrep -xo dockerd || true)
  if [ -z "$pid" ]; then
    echo "error: no dockerd process to reload; start the engine: sudo bash scripts/engine.sh" >&2
    exit 1
  fi
  echo "gvisor: reloading the Docker engine (SIGHUP to dockerd $pid)"
  kill -HUP "$pid"
fi
for _ in $(seq 1 40); do
  if runtime_listed; then
    echo "gvisor: runsc registered with the Docker engine"
    exit 0
  fi
  sleep 0.5
done
echo "error: the Docker engine does not list runsc after a reload; check $daemon_json and the" \
  "engine log (/var/log/sandbox-dockerd.log or journalctl -u docker)" >&2
exit 1
