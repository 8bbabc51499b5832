#!/usr/bin/env bash
# Builds every component into artifacts/, composes them with `wac plug`, and packages the WIT
# with `wkg build`. The demo, the tests and the benchmarks all load what this script leaves.
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts
mkdir -p "$out"
wasm=target/wasm32-wasip2/release
build() { cargo build --quiet --release --target wasm32-wasip2 "$@"; }

# The WIT package, in its binary form.
wkg build --wit-dir wit -o "$out/wasm-dbms-memory.wasm"

# The product: the provider, and the wasm-dbms component that imports it (plain cargo with
# wit-bindgen: wasm32-wasip2 builds a component directly).
build -p wasm-dbms-memory-provider
cp "$wasm/wasm_dbms_memory_provider.wasm" "$out/provider.wasm"
build -p dbms-component
cp "$wasm/dbms_component.wasm" "$out/dbms.wasm"
wac plug "$out/dbms.wasm" --plug "$out/provider.wasm" -o "$out/composed.wasm"

# The comparison builds of the same wasm-dbms component.
build -p dbms-component --features seed
cp "$wasm/dbms_component.wasm" "$out/dbms-seed.wasm"
build -p dbms-component --features heap
cp "$wasm/dbms_component.wasm" "$out/dbms-heap.wasm"

# The example a seed user would write (examples/todo), built the way the README says.
build -p todo
cp "$wasm/todo.wasm" "$out/todo.wasm"
wac plug "$out/todo.wasm" --plug "$out/provider.wasm" -o "$out/todo-app.wasm"
echo "components in $out/: $(cd "$out" && ls *.wasm | tr '\n' ' ')"
