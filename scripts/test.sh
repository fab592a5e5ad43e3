#!/usr/bin/env bash
# The whole test suite, against a real Docker engine and a real MLflow store.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
