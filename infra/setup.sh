#!/usr/bin/env bash
# Installs what the local stack and the tests need (idempotent, fast when done): a Python venv at
# .venv with the moto server (the local AWS) and cfn-lint, and cargo-machete (unused dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || { echo "setup: python3 is required (apt-get install -y python3 python3-venv)"; exit 1; }
command -v cargo >/dev/null || { echo "setup: cargo is required (https://rustup.rs)"; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && "$PY" -m venv .venv; }
fi
if ! .venv/bin/python -c 'import moto, cfnlint' 2>/dev/null || ! [ -x .venv/bin/moto_server ]; then
  echo "setup: installing moto[server] and cfn-lint into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
fi

# Pinned: a newer release may judge the manifests differently and fail the test run unasked.
MACHETE_VERSION=0.9.2
if [ "$(cargo machete --version 2>/dev/null)" != "$MACHETE_VERSION" ]; then
  echo "setup: installing cargo-machete $MACHETE_VERSION (about a minute, once)"
  cargo install cargo-machete --locked --version "$MACHETE_VERSION" --quiet
fi
