//! Conversion of filesystem errors into the contract's `memory-error`.

use wasip2::filesystem::types::ErrorCode;

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;

/// An `io` error naming the path, the action and the filesystem's error code.
pub fn io(path: &str, action: &str, code: ErrorCode) -> MemoryError {
    MemoryError::Io(format!("{action} `{path}`: {}", code.name()))
}

/// An `io` error naming the path and a problem found by the provider itself.
pub fn io_detail(path: &str, detail: &str) -> MemoryError {
    MemoryError::Io(format!("`{path}`: {detail}"))
}
