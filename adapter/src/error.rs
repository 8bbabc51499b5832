//! The one place where the provider's `memory-error` becomes wasm-dbms's [`MemoryError`].

use wasm_dbms_api::memory::MemoryError;

use crate::bindings::wasm_dbms::memory::memory_provider::MemoryError as ProviderError;

/// Converts a provider error: `out-of-bounds` stays [`MemoryError::OutOfBounds`], every
/// other variant becomes a [`MemoryError::ProviderError`] whose text keeps the detail.
pub fn into_memory_error(error: ProviderError) -> MemoryError {
    let text = match error {
        ProviderError::OutOfBounds => return MemoryError::OutOfBounds,
        ProviderError::MisalignedFile(size) => {
            format!("misaligned file: size {size} is not a multiple of 65536")
        }
        ProviderError::LimitExceeded => "limit exceeded: the memory cannot grow that far".into(),
        ProviderError::Locked => "locked: another opener holds the file".into(),
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
            (ProviderError::Locked, "locked"),
            (
                ProviderError::Io("open `x`: access".into()),
                "open `x`: access",
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
