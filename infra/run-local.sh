#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the whole stack locally
# (moto on 127.0.0.1:4566, the API on 127.0.0.1:3000). Extra arguments go to local-stack
# (--port, --moto-port, --aws-endpoint, --schedule-every).
set -euo pipefail
cd "$(dirname "$0")/.."
./infra/setup.sh
export RUST_LOG=${RUST_LOG:-info}
exec cargo run --quiet -p local-stack -- "$@"
