#!/usr/bin/env bash
# The main job: set up (idempotent), then run the reference blueprint end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/sandbox demo "$@"
