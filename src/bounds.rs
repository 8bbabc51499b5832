//! Overflow-safe bounds arithmetic: every size and range check of the provider.

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;

/// Bytes in one page: the WebAssembly and IC stable-memory page.
pub const PAGE_SIZE: u64 = 65536;

/// The largest size a memory may reach: the largest page-aligned file offset a filesystem
/// addresses (file sizes are signed 64-bit on every host WASI runs on).
pub const MAX_SIZE: u64 = (i64::MAX as u64) & !(PAGE_SIZE - 1);

/// Returns the end of `offset..offset + len`, or `out-of-bounds` when it passes `size`
/// or overflows.
pub fn checked_end(offset: u64, len: u64, size: u64) -> Result<u64, MemoryError> {
    offset
        .checked_add(len)
        .filter(|end| *end <= size)
        .ok_or(MemoryError::OutOfBounds)
}

/// Returns the size in bytes after adding `new_pages` to `pages`, or `limit-exceeded` when
/// it passes [`MAX_SIZE`] or overflows.
pub fn grown_size(pages: u64, new_pages: u64) -> Result<u64, MemoryError> {
    pages
        .checked_add(new_pages)
        .and_then(|total| total.checked_mul(PAGE_SIZE))
        .filter(|size| *size <= MAX_SIZE)
        .ok_or(MemoryError::LimitExceeded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_inside_the_size_pass() {
        assert_eq!(checked_end(0, 0, 0).unwrap(), 0);
        assert_eq!(checked_end(10, 0, 10).unwrap(), 10);
        assert_eq!(checked_end(PAGE_SIZE - 1, 1, PAGE_SIZE).unwrap(), PAGE_SIZE);
    }

    #[test]
    fn ranges_past_the_size_or_overflowing_fail() {
        assert!(matches!(
            checked_end(11, 0, 10),
            Err(MemoryError::OutOfBounds)
        ));
        assert!(matches!(
            checked_end(PAGE_SIZE, 1, PAGE_SIZE),
            Err(MemoryError::OutOfBounds)
        ));
        assert!(matches!(
            checked_end(1, u64::MAX, PAGE_SIZE),
            Err(MemoryError::OutOfBounds)
        ));
        assert!(matches!(
            checked_end(u64::MAX, 1, u64::MAX),
            Err(MemoryError::OutOfBounds)
        ));
    }

    #[test]
    fn growth_is_capped_and_overflow_safe() {
        assert_eq!(grown_size(1, 2).unwrap(), 3 * PAGE_SIZE);
        assert_eq!(grown_size(0, MAX_SIZE / PAGE_SIZE).unwrap(), MAX_SIZE);
        assert!(matches!(
            grown_size(1, MAX_SIZE / PAGE_SIZE),
            Err(MemoryError::LimitExceeded)
        ));
        assert!(matches!(
            grown_size(1, u64::MAX),
            Err(MemoryError::LimitExceeded)
        ));
        assert!(matches!(
            grown_size(0, u64::MAX / PAGE_SIZE + 1),
            Err(MemoryError::LimitExceeded)
        ));
    }
}
