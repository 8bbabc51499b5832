//! The one place where the provider's `memory-error` becomes wasm-dbms's [`MemoryError`].

use wasm_dbms_api::memory::MemoryError;

use crate::bindings::wasm_dbms::memory::memory_provider::MemoryError as ProviderError;

/// Converts a provider error: `out-of-bounds` stays [`MemoryError::OutOfBounds`], every
/// other variant becomes a [`MemoryError::ProviderError`] whose text names the variant and
/// keeps its detail.
pub fn into_memory_error(error: ProviderError) -> MemoryError {
    let text = match error {
        ProviderError::OutOfBounds => return MemoryError::OutOfBounds,
        ProviderError::MisalignedFile(size) => {
            format!("misaligned file: size {size} is not a multiple of 65536")
        }
        ProviderError::LimitExceeded => "limit exceeded: the memory cannot grow that far".into(),
        ProviderError::TransferTooLarge(limit) => {
            format!("transfer too large: one call moves at most {limit} bytes")
        }
        ProviderError::GroupTooLarge(limit) => {
            format!("group too large: a group holds at most {limit} bytes")
        }
        ProviderError::GroupAlreadyOpen => "a group is already open".into(),
        ProviderError::NoOpenGroup => "no group is open".into(),
        ProviderError::Locked(message) => format!("locked: {message}"),
        ProviderError::InvalidPath(message) => format!("invalid path: {message}"),
        ProviderError::InvalidOptions(message) => format!("invalid options: {message}"),
        ProviderError::GroupDiscarded(message) => format!("group discarded: {message}"),
        ProviderError::ReopenRequired(message) => format!("reopen required: {message}"),
        ProviderError::Io(message) => format!("io: {message}"),
    };
    MemoryError::ProviderError(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_bounds_keeps_its_meaning() {
        assert!(matches!(
            into_memory_error(ProviderError::OutOfBounds),
            MemoryError::OutOfBounds
        ));
    }

    #[test]
    fn other_errors_keep_their_detail() {
        let cases = [
            (ProviderError::MisalignedFile(65537), "65537"),
            (ProviderError::LimitExceeded, "limit exceeded"),
            (ProviderError::TransferTooLarge(64), "at most 64 bytes"),
            (ProviderError::GroupTooLarge(99), "at most 99 bytes"),
            (ProviderError::GroupAlreadyOpen, "already open"),
            (ProviderError::NoOpenGroup, "no group"),
            (ProviderError::Locked("`x` held".into()), "locked: `x` held"),
            (
                ProviderError::InvalidPath("`x-journal`".into()),
                "invalid path: `x-journal`",
            ),
            (
                ProviderError::InvalidOptions("max".into()),
                "invalid options: max",
            ),
            (
                ProviderError::GroupDiscarded("sync".into()),
                "group discarded: sync",
            ),
            (
                ProviderError::ReopenRequired("write".into()),
                "reopen required: write",
            ),
            (
                ProviderError::Io("open `x`: access".into()),
                "io: open `x`: access",
            ),
        ];
        for (error, detail) in cases {
            match into_memory_error(error) {
                MemoryError::ProviderError(text) => assert!(text.contains(detail), "{text}"),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
