#!/usr/bin/env bash
# Installs what the build needs and is missing: the Rust toolchain that rust-toolchain.toml
# pins (with the wasm32-wasip2 target, rustfmt and clippy) and, from crates.io, cargo-component,
# wac, wasm-tools and wkg. Present tools are skipped. The tools are built without
# optimizations: they do little work here, and that halves their build time.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# rustup does not install a pinned toolchain on first use everywhere: ask for it first, before
# any other cargo or rustup call. Without arguments it installs what rust-toolchain.toml names
# and does nothing when that is present.
rustup toolchain install --no-self-update >/dev/null

install() {
    local command=$1
    shift
    if ! command -v "$command" >/dev/null 2>&1; then
        echo "installing $command (once; a few minutes)"
        cargo install --locked --quiet --debug "$@"
    fi
}
install wac wac-cli@0.12.0 --no-default-features --features wit
install wasm-tools wasm-tools@1.263.0 --no-default-features --features component,validate,print
install wkg wkg@0.16.1
install cargo-component cargo-component@0.21.1
