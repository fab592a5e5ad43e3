#!/usr/bin/env bash
# Make sure an MLflow tracking server answers for the sandbox's runs, and print its URL.
# Debian/Ubuntu, as root. Idempotent: when a server already answers on the port, it only prints
# the URL. Otherwise it makes sure PostgreSQL runs (scripts/postgres.sh), creates the role and
# database `mlflow` in that cluster, an artifact folder only the server's own system user can
# read, and starts `mlflow server` as that user in the background (pid file, log), on
# 127.0.0.1. Workers upload artifacts through the server (`--serve-artifacts`): their artifact
# URIs are `mlflow-artifacts:/...`, so no worker needs a shared disk.
#
#   bash scripts/mlflow.sh            # prints http://127.0.0.1:5000 once /health answers
#   bash scripts/mlflow.sh url        # the URL if a server answers (exit 1 if none does)
#   bash scripts/mlflow.sh stop       # stop the server this script started (its pid file)
#
# Settings (environment): SANDBOX_MLFLOW_HOST (127.0.0.1), SANDBOX_MLFLOW_PORT (5000),
# SANDBOX_MLFLOW_WORKERS (2), SANDBOX_MLFLOW_USER (sandbox-mlflow: the system user the server
# runs as), SANDBOX_MLFLOW_DIR (/var/lib/sandbox-mlflow: its artifacts, mode 0700),
# SANDBOX_MLFLOW_PID (/run/sandbox-mlflow-PORT.pid), SANDBOX_MLFLOW_LOG
# (/var/log/sandbox-mlflow-PORT.log), SANDBOX_MLFLOW_DB (mlflow: role and database),
# SANDBOX_MLFLOW_DB_PASSWORD (default: generated once into
# /var/lib/ai-commons-sandbox/mlflow-password, mode 0600), SANDBOX_MLFLOW_ALLOWED_HOSTS (the
# Host headers it accepts; required when SANDBOX_MLFLOW_HOST is not a loopback address),
# SANDBOX_MLFLOW_START_TIMEOUT (180 s), and SANDBOX_PG_HOST / SANDBOX_PG_PORT (the cluster).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

root="$(cd "$(dirname "$0")/.." && pwd)"
host="${SANDBOX_MLFLOW_HOST:-127.0.0.1}"
port="${SANDBOX_MLFLOW_PORT:-5000}"
workers="${SANDBOX_MLFLOW_WORKERS:-2}"
svc_user="${SANDBOX_MLFLOW_USER:-sandbox-mlflow}"
data_dir="${SANDBOX_MLFLOW_DIR:-/var/lib/sandbox-mlflow}"
pid_file="${SANDBOX_MLFLOW_PID:-/run/sandbox-mlflow-$port.pid}"
log="${SANDBOX_MLFLOW_LOG:-/var/log/sandbox-mlflow-$port.log}"
db="${SANDBOX_MLFLOW_DB:-mlflow}"
start_timeout="${SANDBOX_MLFLOW_START_TIMEOUT:-180}"
pg_host="${SANDBOX_PG_HOST:-127.0.0.1}"
pg_port="${SANDBOX_PG_PORT:-5432}"
state_dir=/var/lib/ai-commons-sandbox
password_file="$state_dir/mlflow-password"
python="$root/.venv/bin/python"
url="http://$host:$port"

case "$db" in
  *[!a-z0-9_]* | "") echo "error: SANDBOX_MLFLOW_DB takes a-z, 0-9 and _ only" >&2; exit 2 ;;
esac
case "$svc_user" in
  *[!a-z0-9_-]* | "") echo "error: SANDBOX_MLFLOW_USER takes a-z, 0-9, _ and - only" >&2; exit 2 ;;
esac
for number in "$port" "$workers" "$start_timeout"; do
  case "$number" in
    *[!0-9]* | "") echo "error: SANDBOX_MLFLOW_PORT, _WORKERS and _START_TIMEOUT take" \
      "whole numbers (got '$number')" >&2; exit 2 ;;
  esac
done
case "$data_dir" in
  /*) ;;
  *) echo "error: SANDBOX_MLFLOW_DIR must be an absolute path (got '$data_dir')" >&2; exit 2 ;;
esac

# Loopback only unless the operator names the Host headers the server may answer (MLflow's
# DNS-rebinding guard); cities reach tracking through the hosted API, never this server.
case "$host" in
  127.* | localhost) allowed_hosts="${SANDBOX_MLFLOW_ALLOWED_HOSTS:-$host:$port,localhost:$port}" ;;
  *)
    if [ -z "${SANDBOX_MLFLOW_ALLOWED_HOSTS:-}" ]; then
      echo "error: SANDBOX_MLFLOW_HOST=$host listens beyond loopback; keep 127.0.0.1 behind a" \
        "TLS proxy (docs/operators.md), or set SANDBOX_MLFLOW_ALLOWED_HOSTS to the names" \
        "clients use" >&2
      exit 2
    fi
    allowed_hosts="$SANDBOX_MLFLOW_ALLOWED_HOSTS"
    ;;
esac

answers() {
  [ "$(curl -fsS --max-time 3 "$url/health" 2>/dev/null)" = "OK" ]
}

# The pid in the pid file, if it is still the server this script started (not a reused pid).
running_pid() {
  local pid command
  [ -r "$pid_file" ] || return 1
  pid="$(cat "$pid_file")"
  case "$pid" in *[!0-9]* | "") return 1 ;; esac
  command="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  case "$command" in *"mlflow server"*"--port $port "*) ;; *) return 1 ;; esac
  [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ] && echo "$pid"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pid_file"
    echo "mlflow: no server of this script runs on port $port" >&2
    return 0
  fi
  # The server and its uvicorn workers share one process group, led by the pid on file.
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pid_file"
  echo "mlflow: stopped the server on port $port" >&2
}

wait_ready() {
  local deadline=$((SECONDS + start_timeout))
  while [ "$SECONDS" -lt "$deadline" ]; do
    answers && return 0
    if ! running_pid >/dev/null; then
      echo "error: the MLflow server exited while starting; the end of $log:" >&2
      tail -n 20 "$log" >&2 || true
      exit 1
    fi
    sleep 1
  done
  echo "error: the MLflow server did not answer $url/health within $start_timeout s; see $log" >&2
  exit 1
}

db_password() { stored_secret SANDBOX_MLFLOW_DB_PASSWORD "$password_file"; }

# The role and database `mlflow` in the sandbox's cluster, created or brought in line.
ensure_database() {
  bash "$root/scripts/postgres.sh" >/dev/null
  [ -n "$(db_password)" ] || new_secret "$password_file"
  pg_role_and_database "$db" "$db" "$(db_password)" "$pg_port"
  pg_connects "$pg_host" "$pg_port" "$db" "$db" "$(db_password)" || {
    echo "error: the role $db cannot connect to $db on $pg_host:$pg_port; check pg_hba.conf" \
      "(a host line for $pg_host with scram-sha-256 or md5)" >&2
    exit 1
  }
}

# The server's own system user: it alone reads the artifacts; root keeps the DB password.
ensure_user_and_folder() {
  if ! id -u "$svc_user" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir "$data_dir" \
      --shell /usr/sbin/nologin "$svc_user"
  fi
  install -d -m 0700 -o "$svc_user" -g "$svc_user" "$data_dir" "$data_dir/artifacts"
  runuser -u "$svc_user" -- test -x "$python" -a -w "$data_dir/artifacts" || {
    echo "error: the user $svc_user cannot run $python (its interpreter: $(readlink -f "$python"))" \
      "or write $data_dir/artifacts; build .venv from an interpreter every user can run" \
      "(python3-venv), or set SANDBOX_MLFLOW_USER to a user who can" >&2
    exit 1
  }
}

start() {
  local encoded store_uri
  encoded="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$(db_password)")"
  # psycopg 3 is the driver in .venv; SQLAlchemy's bare postgresql:// means psycopg2.
  store_uri="postgresql+psycopg://$db:$encoded@$pg_host:$pg_port/$db"
  install -d -m 0755 "$(dirname "$pid_file")" "$(dirname "$log")"
  (umask 077 && : >>"$log")
  echo "mlflow: starting the server on $url (log: $log)" >&2
  # setsid: the server leads its own process group, so `stop` ends it and its workers alone.
  # The store URI (with its password) goes in the environment, never on a command line.
  # Telemetry off, and no job executor: the server only records runs.
  cd "$data_dir"
  setsid setpriv --reuid="$svc_user" --regid="$svc_user" --init-groups -- \
    env -i PATH=/usr/bin:/bin HOME="$data_dir" LANG=C.UTF-8 \
    MLFLOW_BACKEND_STORE_URI="$store_uri" \
    MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
    "$python" -m mlflow server \
    --serve-artifacts --artifacts-destination "$data_dir/artifacts" \
    --host "$host" --port "$port" --workers "$workers" \
    --allowed-hosts "$allowed_hosts" --cors-allowed-origins "$url" \
    >>"$log" 2>&1 </dev/null &
  echo "$!" >"$pid_file"
  cd - >/dev/null
}

case "${1:-start}" in
  url)
    answers || { echo "error: no MLflow server answers on $url" >&2; exit 1; }
    echo "$url"
    exit 0
    ;;
  stop)
    [ "$(id -u)" -eq 0 ] || { echo "error: stopping the server needs root: sudo bash $0 stop" >&2; exit 2; }
    stop
    exit 0
    ;;
  start) ;;
  *) echo "usage: bash $0 [start|url|stop]" >&2; exit 2 ;;
esac

if answers; then
  echo "$url"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: no MLflow server answers on $url, and starting one needs root: sudo bash $0" >&2
  exit 2
fi
if ! running_pid >/dev/null; then
  ensure_database
  ensure_user_and_folder
  start
fi
wait_ready
echo "mlflow: running; the sandbox's tracking URI follows (MLFLOW_TRACKING_URI)" >&2
echo "$url"
