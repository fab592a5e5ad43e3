#!/usr/bin/env bash
# Make sure a RabbitMQ broker answers for a hosted sandbox's job queue, and print its URL.
# Debian/Ubuntu, as root. Idempotent: when the broker runs and the sandbox's user connects, it
# only prints the URL. Otherwise it installs `rabbitmq-server` from the distribution's packages
# if missing, configures it (127.0.0.1 only, no `guest`, a consumer timeout above any run's),
# starts it (systemd when it runs, `rabbitmq-server -detached` when not), and creates the vhost
# `sandbox` and the user `sandbox` with a generated password.
#
#   bash scripts/broker.sh            # prints amqp://sandbox:...@127.0.0.1:5672/sandbox
#   bash scripts/broker.sh url        # prints the URL only (the broker must be set up)
#   bash scripts/broker.sh stop       # stop the broker (used by the fault tests)
#
# Settings (environment): SANDBOX_BROKER_PORT (5672), SANDBOX_BROKER_CONSUMER_TIMEOUT_MS
# (3600000: an hour; a job's message stays unacknowledged while its run lasts, 600 s by
# default), SANDBOX_BROKER_PASSWORD (default: generated once into
# /var/lib/ai-commons-sandbox/rabbitmq-password, mode 0600).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

port="${SANDBOX_BROKER_PORT:-5672}"
timeout_ms="${SANDBOX_BROKER_CONSUMER_TIMEOUT_MS:-3600000}"
user=sandbox
vhost=sandbox
state_dir=/var/lib/ai-commons-sandbox
password_file="$state_dir/rabbitmq-password"
conf=/etc/rabbitmq/rabbitmq.conf
env_conf=/etc/rabbitmq/rabbitmq-env.conf
log=/var/log/sandbox-rabbitmq.log

case "$port$timeout_ms" in
  *[!0-9]*) echo "error: SANDBOX_BROKER_PORT and SANDBOX_BROKER_CONSUMER_TIMEOUT_MS take digits only" >&2; exit 2 ;;
esac

password() { stored_secret SANDBOX_BROKER_PASSWORD "$password_file"; }
url() { echo "amqp://$user:$(url_encode "$(password)")@127.0.0.1:$port/$vhost"; }

running() { rabbitmqctl -q status >/dev/null 2>&1; }

# The sandbox's user can log in to its vhost (checked by the broker itself, no client needed).
answers() {
  [ -n "$(password)" ] && running \
    && rabbitmqctl -q authenticate_user "$user" "$(password)" >/dev/null 2>&1 \
    && rabbitmqctl -q list_permissions -p "$vhost" 2>/dev/null | grep -q "^$user[[:space:]]"
}

configure() {
  install -d -m 0755 /etc/rabbitmq
  # Loopback only: AMQP, the node's distribution port and epmd alike.
  cat >"$conf" <<CONF
# Written by scripts/broker.sh (AI Commons Sandbox); edits are replaced on the next set-up.
listeners.tcp.default = 127.0.0.1:$port
loopback_users.guest = true
consumer_timeout = $timeout_ms
CONF
  cat >"$env_conf" <<'CONF'
# Written by scripts/broker.sh (AI Commons Sandbox).
NODE_IP_ADDRESS=127.0.0.1
ERL_EPMD_ADDRESS=127.0.0.1
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
CONF
}

start() {
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    systemctl restart rabbitmq-server
  else
    echo "broker: starting rabbitmq-server (log: $log)" >&2
    rabbitmq-server -detached >>"$log" 2>&1 || true
  fi
  # The node registers with epmd a moment after -detached returns: wait for it, then for boot.
  for _ in $(seq 1 120); do
    rabbitmqctl -q await_startup --timeout 60 >>"$log" 2>&1 && return 0
    sleep 1
  done
  echo "error: RabbitMQ did not start within 120 s; see $log and /var/log/rabbitmq/" >&2
  exit 1
}

case "${1:-}" in
  url)
    [ -n "$(password)" ] || { echo "error: no broker set up yet; run: sudo bash $0" >&2; exit 2; }
    url
    exit 0
    ;;
  stop)
    running && rabbitmqctl -q stop >>"$log" 2>&1
    exit 0
    ;;
esac

if answers; then
  url
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: no RabbitMQ answers for $user on 127.0.0.1:$port, and setting one up needs" \
    "root: sudo bash $0" >&2
  exit 2
fi
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  apt_install broker rabbitmq-server
fi
if ! grep -qs "consumer_timeout = $timeout_ms" "$conf" || ! grep -qs "127.0.0.1:$port" "$conf"; then
  configure
  running && { rabbitmqctl -q stop >>"$log" 2>&1 || true; }
fi
running || start

[ -n "$(password)" ] || new_secret "$password_file"
rabbitmqctl -q add_vhost "$vhost" >/dev/null 2>&1 || true
# The password goes in on standard input, never on a command line (a process list shows those).
if rabbitmqctl -q list_users 2>/dev/null | grep -q "^$user[[:space:]]"; then
  password | rabbitmqctl -q change_password "$user" >/dev/null
else
  password | rabbitmqctl -q add_user "$user" >/dev/null
fi
rabbitmqctl -q set_permissions -p "$vhost" "$user" '.*' '.*' '.*' >/dev/null
rabbitmqctl -q delete_user guest >/dev/null 2>&1 || true
answers || { echo "error: the user $user cannot log in to the broker's vhost $vhost" >&2; exit 1; }
echo "broker: running; the sandbox's broker URL follows (SANDBOX_BROKER_URL)" >&2
url
