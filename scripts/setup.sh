#!/usr/bin/env bash
# Everything the sandbox needs on a fresh Debian/Ubuntu machine, idempotently:
# system packages (Docker engine, debootstrap), a virtualenv with the sandbox, the runner image.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)  # the PDF tests read it back
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing ${missing[*]}; run as root: sudo bash $0" >&2
    exit 2
  fi
  apt_install setup "${missing[@]}"
fi

bash scripts/engine.sh
# gVisor (runsc) registered with the engine, so SANDBOX_RUNTIME=runsc and its tests can run.
if [ "$(id -u)" -eq 0 ]; then
  bash scripts/gvisor.sh
elif ! docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; then
  echo "setup: gVisor (runsc) is not registered with the engine; as root: sudo bash scripts/gvisor.sh" >&2
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import sandbox" >/dev/null 2>&1 || [ pyproject.toml -nt .venv/.installed ]; then
  echo "setup: installing the sandbox into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev,runner,hosted]"
  touch .venv/.installed
fi

.venv/bin/sandbox image build
