#!/usr/bin/env bash
# Every check: formatting, lints, the WIT package, the components (built and composed), the
# unit tests, the adapter crate's packaging, and the host tests through the built components
# (contract, differential, end to end, portability, power cuts, faults, the crash loop, the
# quickstart outside the workspace, the benchmark at a small scale, jco in Node), and the
# contract under wasmtime-py. Ends with one `total: N passed, M failed` line.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh

echo "== format"
cargo fmt --all --check

echo "== components and the WIT package"
scripts/build-components.sh

echo "== cargo component builds the provider too"
cargo component build --quiet --release --target wasm32-wasip2 -p wasm-dbms-memory-provider
diff <(wasm-tools component wit target/wasm32-wasip2/release/wasm_dbms_memory_provider.wasm) \
    <(wasm-tools component wit artifacts/provider.wasm)

echo "== lints"
guests=(-p wasm-dbms-memory-provider -p wasm-dbms-component-memory -p dbms-component -p library-schema -p todo)
cargo clippy --quiet --release --target wasm32-wasip2 "${guests[@]}" -- -D warnings
for storage in seed heap; do
    cargo clippy --quiet --release --target wasm32-wasip2 -p dbms-component --features "$storage" -- -D warnings
done
cargo clippy --quiet --release -p host-test -p todo-host --all-targets -- -D warnings

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== unit tests"
cargo test --quiet --release -p wasm-dbms-memory-provider -p wasm-dbms-component-memory --lib 2>&1 | tee -a "$log"

echo "== the adapter's documentation examples"
cargo test --quiet --release -p wasm-dbms-component-memory --doc 2>&1 | tee -a "$log"

echo "== the adapter crate packages and builds on its own"
cargo publish --quiet --dry-run --allow-dirty -p wasm-dbms-component-memory

echo "== node host"
(cd node-host && npm ci --no-audit --no-fund --loglevel=error)

echo "== python host"
py-host/run.sh 2>&1 | tee -a "$log"

echo "== host tests (1,000 kills, 1,000 power cuts per workload)"
cargo build --quiet --release -p host-test -p todo-host --all-targets
CRASH_KILLS=${CRASH_KILLS:-1000} POWER_CUTS=${POWER_CUTS:-1000} \
    cargo test --release -p host-test --tests -- --nocapture 2>&1 | tee -a "$log"

awk '
    /^test result:/ { passed += $4; failed += $6 }
    /^py-host: [0-9]+ passed, [0-9]+ failed/ { passed += $2; failed += $4 }
    END { printf "total: %d passed, %d failed\n", passed, failed }
' "$log"
