#!/usr/bin/env bash
# The benchmark of BENCHMARKS.md: builds the components and runs every workload on every
# contestant side by side in one process. `--quick` runs a small version in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh
scripts/build-components.sh
cargo run --quiet --release -p host-test -- bench "$@"
