#!/usr/bin/env bash
# The README's second command: every test. Installs what is missing, checks that every manifest
# uses each dependency it declares, lints the SAM template, then runs the unit, adapter (moto over
# the wire), handler (events/*.json) and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./infra/setup.sh
echo "== cargo machete (unused dependencies)"
cargo machete || {
  echo "test: remove the dependencies listed above (or, if one is used in a way machete cannot"
  echo "see, list it under [package.metadata.cargo-machete] ignored, saying why)"
  exit 1
}
echo "== cfn-lint template.yaml"
.venv/bin/cfn-lint template.yaml
if cargo nextest --version >/dev/null 2>&1; then
  echo "== cargo nextest run --workspace"
  cargo nextest run --workspace --locked --no-fail-fast
else
  echo "== cargo test --workspace (install cargo-nextest for a faster run and one summary line)"
  cargo test --workspace --locked --no-fail-fast
fi
