#!/usr/bin/env bash
# Make sure a PostgreSQL server answers for the sandbox's shared audit trail, and print its URL.
# Debian/Ubuntu, as root. Idempotent: when the sandbox's role already connects, it only prints
# the URL. Otherwise it installs `postgresql` from the distribution's packages if missing, starts
# a cluster (systemd when it runs, pg_ctlcluster when not), and creates the role and database.
#
#   bash scripts/postgres.sh            # prints postgresql://sandbox:...@127.0.0.1:5432/sandbox
#   bash scripts/postgres.sh restart    # restart the cluster (used by the restart tests)
#
# Settings (environment): SANDBOX_PG_HOST (127.0.0.1), SANDBOX_PG_PORT (5432),
# SANDBOX_PG_USER and SANDBOX_PG_DB (sandbox), SANDBOX_PG_PASSWORD (default: generated once
# into /var/lib/ai-commons-sandbox/postgres-password, mode 0600).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

host="${SANDBOX_PG_HOST:-127.0.0.1}"
port="${SANDBOX_PG_PORT:-5432}"
user="${SANDBOX_PG_USER:-sandbox}"
db="${SANDBOX_PG_DB:-sandbox}"
state_dir=/var/lib/ai-commons-sandbox
password_file="$state_dir/postgres-password"
log=/var/log/sandbox-postgres.log

case "$user$db" in
  *[!a-z0-9_]*) echo "error: SANDBOX_PG_USER and SANDBOX_PG_DB take a-z, 0-9 and _ only" >&2; exit 2 ;;
esac

password() { stored_secret SANDBOX_PG_PASSWORD "$password_file"; }
url() { echo "postgresql://$user:$(url_encode "$(password)")@$host:$port/$db"; }
answers() { pg_connects "$host" "$port" "$user" "$db" "$(password)"; }

# The cluster listening on $port: "version name" from pg_lsclusters.
cluster() {
  pg_lsclusters --no-header 2>/dev/null | awk -v p="$port" '$3 == p { print $1, $2; exit }'
}

start_cluster() {
  local version name
  read -r version name <<<"$(cluster)"
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start "postgresql@$version-$name"
  else
    echo "postgres: starting cluster $version/$name (log: $log)" >&2
    pg_ctlcluster "$version" "$name" start >>"$log" 2>&1 || {
      echo "error: the cluster $version/$name did not start; see $log and" \
        "/var/log/postgresql/postgresql-$version-$name.log" >&2
      exit 1
    }
  fi
}

ready() {
  for _ in $(seq 1 60); do
    pg_isready -q -h "$host" -p "$port" && return 0
    sleep 0.5
  done
  echo "error: PostgreSQL did not answer on $host:$port within 30 s; see $log" >&2
  exit 1
}

if [ "${1:-}" = "restart" ]; then
  read -r version name <<<"$(cluster)"
  [ -n "${version:-}" ] || { echo "error: no cluster on port $port to restart" >&2; exit 1; }
  pg_ctlcluster "$version" "$name" restart >>"$log" 2>&1
  ready
  exit 0
fi

if answers; then
  url
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: no PostgreSQL answers for $user on $host:$port, and setting one up needs root:" \
    "sudo bash $0" >&2
  exit 2
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt_install postgres postgresql
fi
if [ -z "$(cluster)" ]; then
  version="$(pg_lsclusters --no-header 2>/dev/null | awk '{ print $1; exit }')"
  version="${version:-$(ls /usr/lib/postgresql | sort -V | tail -n 1)}"
  echo "postgres: creating cluster $version/sandbox on port $port" >&2
  pg_createcluster "$version" sandbox --port "$port" >>"$log" 2>&1
fi
pg_isready -q -h "$host" -p "$port" || start_cluster
ready

[ -n "$(password)" ] || new_secret "$password_file"
pg_role_and_database "$user" "$db" "$(password)" "$port"
answers || {
  echo "error: the role $user cannot connect to $db on $host:$port; check pg_hba.conf" \
    "(a host line for $host with scram-sha-256 or md5)" >&2
  exit 1
}
echo "postgres: running; the sandbox's trail URL follows (SANDBOX_TRAIL_URL)" >&2
url
