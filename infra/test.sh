#!/usr/bin/env bash
# The README's second command: every test. Installs what is missing, lints the SAM template, then
# runs the unit, adapter (moto over the wire), handler (events/*.json) and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./infra/setup.sh
echo "== cfn-lint template.yaml"
.venv/bin/cfn-lint template.yaml
echo "== cargo test --workspace"
cargo test --workspace --locked
