//! Where the built components are: one directory that `scripts/build-components.sh` fills.

use std::path::PathBuf;

/// The provider component.
pub const PROVIDER: &str = "provider.wasm";
/// The wasm-dbms component, importing the provider.
pub const DBMS: &str = "dbms.wasm";
/// The wasm-dbms component with the seed crate `wasi-dbms-memory` linked in.
pub const DBMS_SEED: &str = "dbms-seed.wasm";
/// The wasm-dbms component on `HeapMemoryProvider`, writing its image when closed.
pub const DBMS_HEAP: &str = "dbms-heap.wasm";
/// `dbms.wasm` with `provider.wasm` plugged in by `wac plug`.
pub const COMPOSED: &str = "composed.wasm";
/// The example to-do component (`examples/todo`) with `provider.wasm` plugged in.
pub const TODO_APP: &str = "todo-app.wasm";

/// The artifacts directory: `$ARTIFACTS_DIR`, or `artifacts/` at the repository's top.
pub fn dir() -> PathBuf {
    std::env::var_os("ARTIFACTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts")))
}

/// The path of the artifact `name`.
pub fn path(name: &str) -> PathBuf {
    dir().join(name)
}
