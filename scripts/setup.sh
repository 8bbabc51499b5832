#!/usr/bin/env bash
# Installs what the build needs and is missing: the wasm32-wasip2 target and, from crates.io,
# cargo-component, wac and wasm-tools (the last two with only the features used here).
set -euo pipefail

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

install() {
    local command=$1
    shift
    if ! command -v "$command" >/dev/null 2>&1; then
        echo "installing $command (once; a few minutes)"
        cargo install --locked --quiet "$@"
    fi
}
install cargo-component cargo-component@0.21.1
install wac wac-cli@0.12.0 --no-default-features --features wit
install wasm-tools wasm-tools@1.263.0 --no-default-features --features component,validate,print
