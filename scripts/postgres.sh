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

password() {
  if [ -n "${SANDBOX_PG_PASSWORD:-}" ]; then
    printf '%s' "$SANDBOX_PG_PASSWORD"
  elif [ -r "$password_file" ]; then
    cat "$password_file"
  fi
}

url() {
  # The password is hex or the operator's own: percent-encode what a URL cannot hold as is.
  local encoded
  encoded="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$(password)")"
  echo "postgresql://$user:$encoded@$host:$port/$db"
}

answers() {
  [ -n "$(password)" ] && command -v psql >/dev/null 2>&1 \
    && PGPASSWORD="$(password)" PGCONNECT_TIMEOUT=3 \
      psql -h "$host" -p "$port" -U "$user" -d "$db" -tAc 'SELECT 1' >/dev/null 2>&1
}

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
  echo "postgres: installing postgresql" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if [ -z "$(cluster)" ]; then
  version="$(pg_lsclusters --no-header 2>/dev/null | awk '{ print $1; exit }')"
  version="${version:-$(ls /usr/lib/postgresql | sort -V | tail -n 1)}"
  echo "postgres: creating cluster $version/sandbox on port $port" >&2
  pg_createcluster "$version" sandbox --port "$port" >>"$log" 2>&1
fi
pg_isready -q -h "$host" -p "$port" || start_cluster
ready

if [ -z "$(password)" ]; then
  install -d -m 0700 "$state_dir"
  (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(24), end="")' >"$password_file")
fi
# Role and database, created or brought in line with the password. psql reads the password
# from its environment (\getenv), so it never appears in a process list.
SANDBOX_PG_NEW_PASSWORD="$(password)" runuser -u postgres -- \
  psql -q -p "$port" -v ON_ERROR_STOP=1 -v user="$user" -v db="$db" >/dev/null <<'SQL'
\getenv pw SANDBOX_PG_NEW_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
answers || {
  echo "error: the role $user cannot connect to $db on $host:$port; check pg_hba.conf" \
    "(a host line for $host with scram-sha-256 or md5)" >&2
  exit 1
}
echo "postgres: running; the sandbox's trail URL follows (SANDBOX_TRAIL_URL)" >&2
url
