#!/usr/bin/env bash
# Builds every component into artifacts/ and composes the wasm-dbms component with the
# provider. The demo, the tests and the benchmarks all load what this script leaves.
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts
mkdir -p "$out"
wasm=target/wasm32-wasip2/release

# The two product components, with the component tool. (cargo-component 0.21 also builds a
# wasip1 copy beside the native wasip2 component; only the wasip2 one is used.)
component() { cargo component build --quiet --release --target wasm32-wasip2 "$@"; }
component -p wasm-dbms-memory-provider
cp "$wasm/wasm_dbms_memory_provider.wasm" "$out/provider.wasm"
component -p dbms-component
cp "$wasm/dbms_component.wasm" "$out/dbms.wasm"

# The comparison builds of the same wasm-dbms component, with plain cargo.
variant() { cargo build --quiet --release --target wasm32-wasip2 -p dbms-component --features "$1"; }
variant seed
cp "$wasm/dbms_component.wasm" "$out/dbms-seed.wasm"
variant heap
cp "$wasm/dbms_component.wasm" "$out/dbms-heap.wasm"

wac plug "$out/dbms.wasm" --plug "$out/provider.wasm" -o "$out/composed.wasm"

# The example a seed user would write (examples/todo), built the way the README says.
cargo build --quiet --release --target wasm32-wasip2 -p todo
cp "$wasm/todo.wasm" "$out/todo.wasm"
wac plug "$out/todo.wasm" --plug "$out/provider.wasm" -o "$out/todo-app.wasm"

echo "components in $out/: $(cd "$out" && ls *.wasm | tr '\n' ' ')"
