#!/usr/bin/env bash
# The whole test suite, against a real Docker engine, a real MLflow store and a real PostgreSQL
# server (the shared audit trail's tests; scripts/postgres.sh starts one if none answers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/postgres.sh >/dev/null
bash scripts/broker.sh >/dev/null  # RabbitMQ, for the hosted workers' tests
exec .venv/bin/python -m pytest "$@"
