//! The wasmtime host of the wasm-dbms memory provider.
//!
//! It loads the built components, gives them WASI with preopened directories (or a
//! simulated filesystem, [`simfs`]), links a wasm-dbms component to the provider (or loads
//! their `wac plug` composition), and drives both for the tests, the demo and the
//! benchmarks.

pub mod artifacts;
pub mod bench;
pub mod crash_workload;
pub mod dbms;
pub mod disk_full;
pub mod file_lock;
pub mod host;
pub mod linking;
pub mod provider;
pub mod simfs;
pub mod sync_count;
pub mod todo;

pub use crate::host::{HostState, Runtime, WasiConfig};
