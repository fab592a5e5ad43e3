#!/usr/bin/env bash
# Start a hosted sandbox on this machine: PostgreSQL, the broker, the MLflow server, the API and
# N workers. Debian/Ubuntu, as root, after scripts/setup.sh. Idempotent: what already runs is
# left running, the operator and its token are made once.
#
#   bash scripts/hosted.sh            # start (or check) everything; prints where things are
#   bash scripts/hosted.sh status     # which of the API and the workers run
#   bash scripts/hosted.sh stop       # stop the API and the workers (their process groups)
#
# State goes under SANDBOX_HOSTED_DIR (default /var/lib/ai-commons-sandbox/hosted as root,
# ~/.local/share/ai-commons-sandbox/hosted otherwise), mode 0700:
#   hosted.env       the settings every process reads (database, trail, broker, MLflow, home)
#   operator.token   the operator's token (mode 0600), issued on first start for 90 days
#   run/*.pid        the API's and each worker's pid (each is its process group's leader)
#   logs/*.log       their output
#   home/            the sandbox home they share: signing key, archives, run folders
#
# Settings (environment): SANDBOX_HOSTED_WORKERS (2), SANDBOX_API_HOST (127.0.0.1),
# SANDBOX_API_PORT (8600), SANDBOX_OPERATOR_ORG (operators), SANDBOX_OPERATOR (operator-admin),
# SANDBOX_STOP_TIMEOUT (120 s: a worker finishes the run it holds before it stops),
# SANDBOX_HOSTED_SCHEMA (hosted: the schema of the hosted tables; the trail's is <it>_trail),
# SANDBOX_BROKER_URL and MLFLOW_TRACKING_URI (default: what scripts/broker.sh and
# scripts/mlflow.sh print, starting them if need be).
# PostgreSQL, the broker and MLflow are shared services: `stop` leaves them running
# (scripts/postgres.sh, scripts/broker.sh and scripts/mlflow.sh stop them).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
sandbox="$root/.venv/bin/sandbox"
python="$root/.venv/bin/python"
workers="${SANDBOX_HOSTED_WORKERS:-2}"
api_host="${SANDBOX_API_HOST:-127.0.0.1}"
api_port="${SANDBOX_API_PORT:-8600}"
operator_org="${SANDBOX_OPERATOR_ORG:-operators}"
operator="${SANDBOX_OPERATOR:-operator-admin}"
stop_timeout="${SANDBOX_STOP_TIMEOUT:-120}"
schema="${SANDBOX_HOSTED_SCHEMA:-hosted}"
if [ "$(id -u)" = 0 ]; then default_dir=/var/lib/ai-commons-sandbox/hosted
else default_dir="${XDG_DATA_HOME:-$HOME/.local/share}/ai-commons-sandbox/hosted"; fi
state="${SANDBOX_HOSTED_DIR:-$default_dir}"

for number in "$workers" "$api_port" "$stop_timeout"; do
  case "$number" in
    *[!0-9]* | "") echo "error: SANDBOX_HOSTED_WORKERS, SANDBOX_API_PORT and" \
      "SANDBOX_STOP_TIMEOUT take whole numbers (got '$number')" >&2; exit 2 ;;
  esac
done
case "$api_host" in
  *[!0-9a-zA-Z.:-]* | "") echo "error: SANDBOX_API_HOST: an address (got '$api_host')" >&2; exit 2 ;;
esac
case "$schema" in
  [a-z]*) case "$schema" in *[!a-z0-9_]*) schema= ;; esac ;;
  *) schema= ;;
esac
[ -n "$schema" ] || { echo "error: SANDBOX_HOSTED_SCHEMA: a-z, then a-z, 0-9 and _" >&2; exit 2; }
case "$state" in
  /*) ;;
  *) echo "error: SANDBOX_HOSTED_DIR must be an absolute path (got '$state')" >&2; exit 2 ;;
esac
[ -x "$sandbox" ] || { echo "error: no $sandbox; run 'bash scripts/setup.sh' first" >&2; exit 2; }

# A pid file's process, if it still runs and is still one of ours (pids are reused).
alive() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q sandbox
}

# start NAME COMMAND...: in the background, in a session (and process group) of its own.
start() {
  local name="$1" pid_file="$state/run/$1.pid"
  shift
  if alive "$pid_file"; then
    echo "$name: running (pid $(cat "$pid_file"))"
    return
  fi
  setsid "$@" >>"$state/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$pid_file"
  echo "$name: started (pid $!, log $state/logs/$name.log)"
}

stop_all() {
  local pid_file pid waited found=1
  for pid_file in "$state"/run/*.pid; do
    [ -e "$pid_file" ] || continue
    found=0
    if alive "$pid_file"; then
      pid="$(cat "$pid_file")"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
      waited=0
      while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt "$stop_timeout" ]; do
        sleep 1
        waited=$((waited + 1))
      done
      if kill -0 "$pid" 2>/dev/null; then
        echo "$(basename "$pid_file" .pid): still running after ${stop_timeout}s; killing it" >&2
        kill -KILL -- "-$pid" 2>/dev/null || true
      fi
      echo "$(basename "$pid_file" .pid): stopped"
    fi
    rm -f "$pid_file"
  done
  [ "$found" = 0 ] || echo "nothing started under $state"
}

status() {
  local pid_file found=1
  for pid_file in "$state"/run/*.pid; do
    [ -e "$pid_file" ] || continue
    found=0
    if alive "$pid_file"; then echo "$(basename "$pid_file" .pid): running (pid $(cat "$pid_file"))"
    else echo "$(basename "$pid_file" .pid): not running"; fi
  done
  [ "$found" = 0 ] || echo "nothing started under $state"
}

# The hosted state and the trail in schemas of their own (MLflow has a database of its own).
schema_url() {
  "$python" - "$1" "$2" <<'EOF'
import sys
import psycopg
url, schema = sys.argv[1], sys.argv[2]
with psycopg.connect(url, autocommit=True) as conn:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}".encode())
print(f"{url}?options=-csearch_path%3D{schema}")
EOF
}

write_env() {
  local pg_url="$1" broker_url="$2" mlflow_url="$3" env_file="$state/hosted.env"
  (
    umask 077
    cat >"$env_file.tmp" <<EOF
SANDBOX_HOSTED_URL='$(schema_url "$pg_url" "$schema")'
SANDBOX_TRAIL_URL='$(schema_url "$pg_url" "${schema}_trail")'
SANDBOX_BROKER_URL='$broker_url'
MLFLOW_TRACKING_URI='$mlflow_url'
SANDBOX_HOME='$state/home'
SANDBOX_SERVER='http://$api_host:$api_port'
EOF
    mv "$env_file.tmp" "$env_file"
  )
}

wait_for_api() {
  "$python" - "http://$api_host:$api_port/api/v1/whoami" <<'EOF'
import sys
import time
import urllib.error
import urllib.request

for _ in range(120):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2)  # noqa: S310
    except urllib.error.HTTPError:
        sys.exit(0)  # it answers (401 without a token)
    except OSError:
        time.sleep(1)
    else:
        sys.exit(0)
sys.exit(1)
EOF
}

start_all() {
  install -d -m 0700 "$state" "$state/run" "$state/logs" "$state/home"
  local pg_url broker_url mlflow_url i
  pg_url="$(bash "$root/scripts/postgres.sh" | tail -n 1)"
  broker_url="${SANDBOX_BROKER_URL:-$(bash "$root/scripts/broker.sh" | tail -n 1)}"
  mlflow_url="${MLFLOW_TRACKING_URI:-$(bash "$root/scripts/mlflow.sh" | tail -n 1)}"
  write_env "$pg_url" "$broker_url" "$mlflow_url"
  set -a
  # shellcheck disable=SC1091
  . "$state/hosted.env"
  set +a
  "$sandbox" server migrate
  "$sandbox" server org add "$operator_org" "Operators" --exist-ok
  "$sandbox" server principal add "$operator" --org "$operator_org" --role operator \
    --name "Hosted sandbox operator" --exist-ok
  if [ ! -s "$state/operator.token" ]; then
    (umask 077 && "$sandbox" server token issue "$operator" --days 90 >"$state/operator.token.tmp")
    mv "$state/operator.token.tmp" "$state/operator.token"
  fi
  start api "$sandbox" server serve --host "$api_host" --port "$api_port"
  wait_for_api || { echo "error: the API did not answer; see $state/logs/api.log" >&2; exit 1; }
  for i in $(seq 1 "$workers"); do
    start "worker-$i" "$sandbox" worker --name "worker-$i@$(hostname)"
  done
  echo "API      http://$api_host:$api_port"
  echo "settings $state/hosted.env   (set -a; . $state/hosted.env; set +a)"
  echo "operator $state/operator.token"
  echo "logs     $state/logs/"
}

case "${1:-start}" in
  start) start_all ;;
  stop) stop_all ;;
  status) status ;;
  *) echo "usage: bash scripts/hosted.sh [start|status|stop]" >&2; exit 2 ;;
esac
