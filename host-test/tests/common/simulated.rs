//! Provider sessions over the simulated filesystem, and over the disks its crashes leave.

use host_test::provider::{Memory, MemoryError, ProviderSession};
use host_test::simfs::{CrashState, SimFs};
use host_test::{Runtime, WasiConfig};

/// A fresh provider instance whose `wasi:filesystem` is `fs`.
pub fn session(fs: &SimFs) -> ProviderSession {
    ProviderSession::new(Runtime::shared(), &WasiConfig::simulated(fs.clone())).unwrap()
}

/// The value of a call that must succeed.
pub fn ok<T>(result: wasmtime::Result<Result<T, MemoryError>>) -> T {
    result.unwrap().unwrap()
}

/// A fresh instance over `state`, with the memory at `path` opened.
pub fn reopen(state: &CrashState, path: &str) -> (ProviderSession, Memory) {
    let mut provider = session(&state.to_fs());
    let memory = match provider.open(path).unwrap() {
        Ok(memory) => memory,
        Err(error) => panic!("the open after the crash failed: {error:?} ({state:?})"),
    };
    (provider, memory)
}
