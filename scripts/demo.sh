#!/usr/bin/env bash
# The main job: build the components, compose them with `wac plug`, run the demo.
# Arguments go to the demo (`--data DIR`, `--linked`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh
scripts/build-components.sh
cargo run --quiet --release -p host-test -- demo "$@"
