#!/usr/bin/env bash
# Every check: formatting, lints on the host and the wasm32-wasip2 crates, the unit tests,
# and the host tests through the built components (contract, differential, end to end,
# portability, composition, the benchmark at a small scale, and the same scenario under
# jco in Node).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh

echo "== format"
cargo fmt --all --check

echo "== components"
scripts/build-components.sh

echo "== lints"
guests=(-p wasm-dbms-memory-provider -p wasm-dbms-component-memory -p dbms-component -p library-schema)
cargo clippy --quiet --release --target wasm32-wasip2 "${guests[@]}" -- -D warnings
for storage in seed heap; do
    cargo clippy --quiet --release --target wasm32-wasip2 -p dbms-component --features "$storage" -- -D warnings
done
cargo clippy --quiet --release -p host-test --all-targets -- -D warnings

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== unit tests"
cargo test --quiet --release -p wasm-dbms-memory-provider -p wasm-dbms-component-memory --lib 2>&1 | tee -a "$log"

echo "== node host"
(cd node-host && npm ci --no-audit --no-fund --loglevel=error)

echo "== host tests (the crash loop kills the writer 1,000 times)"
CRASH_KILLS=${CRASH_KILLS:-1000} cargo test --release -p host-test --tests -- --nocapture 2>&1 | tee -a "$log"

awk '/^test result:/ { passed += $4; failed += $6 } END { printf "total: %d passed, %d failed\n", passed, failed }' "$log"
