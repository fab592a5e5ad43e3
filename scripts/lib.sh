# Helpers the set-up scripts share; sourced (`source "$(dirname "$0")/lib.sh"`), never run.

# Install Debian packages quietly: apt_install LABEL PACKAGE... (LABEL starts the progress line).
apt_install() {
  echo "$1: installing ${*:2}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:2}" >/dev/null
}

# A service's secret: the environment variable named $1 when set, else the file $2 (else nothing).
stored_secret() {
  if [ -n "${!1:-}" ]; then
    printf '%s' "${!1}"
  elif [ -r "$2" ]; then
    cat "$2"
  fi
}

# Generate a secret into the file $1: mode 0600, in a folder of mode 0700.
new_secret() {
  install -d -m 0700 "$(dirname "$1")"
  (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(24), end="")' >"$1")
}

# $1 percent-encoded for a URL's user part (a generated secret is hex; an operator's may not be).
url_encode() {
  python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}

# Whether the role $3 logs in to the database $4 on $1:$2 with the password $5.
pg_connects() {
  [ -n "$5" ] && command -v psql >/dev/null 2>&1 \
    && PGPASSWORD="$5" PGCONNECT_TIMEOUT=3 \
      psql -h "$1" -p "$2" -U "$3" -d "$4" -tAc 'SELECT 1' >/dev/null 2>&1
}

# The login role $1 with the password $3 and its own database $2, in the cluster on port $4:
# created, or brought in line with the password. psql reads the password from its environment
# (\getenv), so it never appears in a process list.
pg_role_and_database() {
  SANDBOX_NEW_PG_PASSWORD="$3" runuser -u postgres -- \
    psql -q -p "$4" -v ON_ERROR_STOP=1 -v user="$1" -v db="$2" >/dev/null <<'SQL'
\getenv pw SANDBOX_NEW_PG_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
}
