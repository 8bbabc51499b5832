//! Conversion of filesystem errors into the contract's `memory-error`: the one place where
//! an error code becomes a message.

use wasip2::filesystem::types::ErrorCode;

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;

/// How the text of a `reopen-required` from `commit-group` begins when the group is whole
/// in the journal: the next open completes it.
pub const COMMITTED: &str = "committed:";

/// How it begins when nothing of the group reached the journal: the next open finds the
/// memory as it was before the group.
pub const NOT_COMMITTED: &str = "not committed:";

/// How it begins when only the next open decides: it completes the group, or finds the
/// memory as it was before it.
pub const UNDECIDED: &str = "undecided:";

/// An `io` error naming the action, the path and the filesystem's error code.
pub fn io(path: &str, action: &str, code: ErrorCode) -> MemoryError {
    MemoryError::Io(format!("{action} `{path}`: {}", code.name()))
}

/// An `io` error naming the path and a problem found by the provider itself.
pub fn io_detail(path: &str, detail: &str) -> MemoryError {
    MemoryError::Io(format!("`{path}`: {detail}"))
}

/// The error for a failed size change: a size the filesystem or the process cannot have is
/// `limit-exceeded`, anything else `io`.
pub fn resize(path: &str, code: ErrorCode) -> MemoryError {
    match code {
        ErrorCode::FileTooLarge => MemoryError::LimitExceeded,
        code => io(path, "resize", code),
    }
}

/// The text of any error, for the messages of errors that wrap another.
pub fn describe(error: &MemoryError) -> String {
    match error {
        MemoryError::OutOfBounds => "out of bounds".into(),
        MemoryError::MisalignedFile(size) => format!("misaligned file of {size} bytes"),
        MemoryError::LimitExceeded => "the file cannot grow that far".into(),
        MemoryError::TransferTooLarge(limit) => format!("a transfer past {limit} bytes"),
        MemoryError::GroupTooLarge(limit) => format!("a group past {limit} bytes"),
        MemoryError::GroupAlreadyOpen => "a group is already open".into(),
        MemoryError::NoOpenGroup => "no group is open".into(),
        MemoryError::Locked(text)
        | MemoryError::InvalidPath(text)
        | MemoryError::InvalidOptions(text)
        | MemoryError::GroupDiscarded(text)
        | MemoryError::ReopenRequired(text)
        | MemoryError::Io(text) => text.clone(),
    }
}
