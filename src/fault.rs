//! Fault injection for the fault tests, compiled in only with the `faults` feature.
//!
//! `WASM_DBMS_MEMORY_FAULT=N:error` makes the Nth filesystem call of the instance fail with
//! an `io` error; `N:trap` traps the instance right there, as if the program died at that
//! instant. Without the feature every point is a no-op.

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;

/// A filesystem call about to be made on `path`.
#[cfg(not(feature = "faults"))]
#[inline(always)]
pub fn point(_path: &str) -> Result<(), MemoryError> {
    Ok(())
}

/// A filesystem call about to be made on `path`: fails or traps when it is the chosen one.
#[cfg(feature = "faults")]
pub fn point(path: &str) -> Result<(), MemoryError> {
    use std::cell::Cell;

    thread_local! {
        static PLAN: Cell<Option<(u64, bool)>> = Cell::new(plan());
    }

    fn plan() -> Option<(u64, bool)> {
        let (_, value) = wasip2::cli::environment::get_environment()
            .into_iter()
            .find(|(name, _)| name == "WASM_DBMS_MEMORY_FAULT")?;
        let (count, mode) = value.split_once(':')?;
        Some((count.parse().ok()?, mode == "trap"))
    }

    PLAN.with(|plan| match plan.get() {
        Some((1, trap)) => {
            plan.set(None);
            if trap {
                // A crash at this instant: the instance traps, with no unwinding or message.
                std::process::abort();
            }
            Err(MemoryError::Io(format!("`{path}`: injected fault")))
        }
        Some((count, trap)) => {
            plan.set(Some((count - 1, trap)));
            Ok(())
        }
        None => Ok(()),
    })
}
