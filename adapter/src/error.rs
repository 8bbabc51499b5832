//! The one place where the provider's `memory-error` becomes wasm-dbms's [`MemoryError`],
//! and a failed commit's error what became of its group.

use wasm_dbms_api::memory::MemoryError;

use crate::FlushOutcome;
use crate::bindings::wasm_dbms::memory::memory_provider::MemoryError as ProviderError;

/// What became of a group whose `commit-group` answered `error`: `group-discarded` and a
/// refusal before anything was written are not committed; a `reopen-required` says it in the
/// first word of its text, as the WIT promises; anything else is taken as undecided.
pub fn flush_outcome(error: &ProviderError) -> FlushOutcome {
    match error {
        ProviderError::GroupDiscarded(_) | ProviderError::NoOpenGroup => FlushOutcome::NotCommitted,
        ProviderError::ReopenRequired(text) if text.starts_with("committed:") => {
            FlushOutcome::Committed
        }
        ProviderError::ReopenRequired(text) if text.starts_with("not committed:") => {
            FlushOutcome::NotCommitted
        }
        _ => FlushOutcome::Undecided,
    }
}

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
    fn a_failed_commit_says_what_became_of_its_group() {
        let reopen = |text: &str| ProviderError::ReopenRequired(text.into());
        let cases = [
            (
                reopen("committed: the group is in the journal"),
                FlushOutcome::Committed,
            ),
            (
                reopen("not committed: a sync failed"),
                FlushOutcome::NotCommitted,
            ),
            (
                reopen("undecided: the next open decides"),
                FlushOutcome::Undecided,
            ),
            (
                reopen("a text without its outcome"),
                FlushOutcome::Undecided,
            ),
            (
                ProviderError::GroupDiscarded("full".into()),
                FlushOutcome::NotCommitted,
            ),
            (ProviderError::NoOpenGroup, FlushOutcome::NotCommitted),
            (ProviderError::Io("write".into()), FlushOutcome::Undecided),
        ];
        for (error, outcome) in cases {
            assert_eq!(flush_outcome(&error), outcome, "{error:?}");
        }
    }

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
