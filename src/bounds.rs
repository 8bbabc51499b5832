//! Overflow-safe bounds arithmetic and the limits a memory is opened with: every size and
//! range check of the provider.

use crate::bindings::exports::wasm_dbms::memory::memory_provider::{MemoryError, OpenOptions};

/// Bytes in one page: the WebAssembly and IC stable-memory page.
pub const PAGE_SIZE: u64 = 65536;

/// The largest size a memory may reach: the largest page-aligned file offset a filesystem
/// addresses (file sizes are signed 64-bit on every host WASI runs on).
pub const MAX_SIZE: u64 = (i64::MAX as u64) & !(PAGE_SIZE - 1);

/// The most bytes one read or write moves across the component boundary.
pub const MAX_TRANSFER: u64 = 64 << 20;

/// The most distinct bytes a group holds unless the options say otherwise.
pub const DEFAULT_MAX_GROUP_BYTES: u64 = 64 << 20;

/// The largest `max-group-bytes` an opener may ask for: a group lives in the provider's
/// 32-bit linear memory, beside the buffers of its commit.
pub const MAX_GROUP_BYTES_LIMIT: u64 = 1 << 30;

/// The journal size past which a commit also checkpoints, unless the options say otherwise.
pub const DEFAULT_CHECKPOINT_BYTES: u64 = 4 << 20;

/// The limits of one open memory, taken from its open options.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The largest size in bytes the memory may grow to.
    pub max_size: u64,
    /// The most distinct bytes an open group may hold.
    pub max_group_bytes: u64,
    /// The journal size past which a commit checkpoints.
    pub checkpoint_bytes: u64,
}

impl Limits {
    /// The limits `options` ask for, or `invalid-options` when one is out of range.
    pub fn from_options(options: &OpenOptions) -> Result<Self, MemoryError> {
        let max_size = match options.max_pages {
            Some(pages) => pages.saturating_mul(PAGE_SIZE).min(MAX_SIZE),
            None => MAX_SIZE,
        };
        let max_group_bytes = options.max_group_bytes.unwrap_or(DEFAULT_MAX_GROUP_BYTES);
        if !(1..=MAX_GROUP_BYTES_LIMIT).contains(&max_group_bytes) {
            return Err(MemoryError::InvalidOptions(format!(
                "max-group-bytes is {max_group_bytes}; it must lie in 1..={MAX_GROUP_BYTES_LIMIT}"
            )));
        }
        Ok(Self {
            max_size,
            max_group_bytes,
            checkpoint_bytes: options.checkpoint_bytes.unwrap_or(DEFAULT_CHECKPOINT_BYTES),
        })
    }

    /// Returns the size in bytes after adding `new_pages` to `pages`, or `limit-exceeded`
    /// when it passes the maximum size or overflows.
    pub fn grown_size(&self, pages: u64, new_pages: u64) -> Result<u64, MemoryError> {
        pages
            .checked_add(new_pages)
            .and_then(|total| total.checked_mul(PAGE_SIZE))
            .filter(|size| *size <= self.max_size)
            .ok_or(MemoryError::LimitExceeded)
    }
}

/// Returns the end of `offset..offset + len`, or `out-of-bounds` when it passes `size`
/// or overflows.
pub fn checked_end(offset: u64, len: u64, size: u64) -> Result<u64, MemoryError> {
    offset
        .checked_add(len)
        .filter(|end| *end <= size)
        .ok_or(MemoryError::OutOfBounds)
}

/// Checks that `offset..offset + len` lies within `size` and that `len` is a transfer one
/// call may make; returns `len` as a `usize`.
pub fn checked_transfer(offset: u64, len: u64, size: u64) -> Result<usize, MemoryError> {
    checked_end(offset, len, size)?;
    if len > MAX_TRANSFER {
        return Err(MemoryError::TransferTooLarge(MAX_TRANSFER));
    }
    // MAX_TRANSFER fits a 32-bit usize.
    Ok(len as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_pages: Option<u64>) -> Limits {
        Limits::from_options(&OpenOptions {
            max_pages,
            max_group_bytes: None,
            checkpoint_bytes: None,
        })
        .unwrap()
    }

    #[test]
    fn ranges_inside_the_size_pass() {
        assert_eq!(checked_end(0, 0, 0).unwrap(), 0);
        assert_eq!(checked_end(10, 0, 10).unwrap(), 10);
        assert_eq!(checked_end(PAGE_SIZE - 1, 1, PAGE_SIZE).unwrap(), PAGE_SIZE);
    }

    #[test]
    fn ranges_past_the_size_or_overflowing_fail() {
        for (offset, len, size) in [
            (11, 0, 10),
            (PAGE_SIZE, 1, PAGE_SIZE),
            (1, u64::MAX, PAGE_SIZE),
            (u64::MAX, 1, u64::MAX),
        ] {
            assert_eq!(
                checked_end(offset, len, size),
                Err(MemoryError::OutOfBounds)
            );
        }
    }

    #[test]
    fn transfers_past_the_limit_fail_after_the_bounds() {
        let size = 4 * MAX_TRANSFER;
        assert_eq!(
            checked_transfer(0, MAX_TRANSFER, size),
            Ok(MAX_TRANSFER as usize)
        );
        assert_eq!(
            checked_transfer(0, MAX_TRANSFER + 1, size),
            Err(MemoryError::TransferTooLarge(MAX_TRANSFER))
        );
        assert_eq!(
            checked_transfer(1, u64::MAX, size),
            Err(MemoryError::OutOfBounds)
        );
    }

    #[test]
    fn growth_is_capped_and_overflow_safe() {
        let unlimited = limits(None);
        assert_eq!(unlimited.grown_size(1, 2).unwrap(), 3 * PAGE_SIZE);
        assert_eq!(
            unlimited.grown_size(0, MAX_SIZE / PAGE_SIZE).unwrap(),
            MAX_SIZE
        );
        for (pages, new_pages) in [
            (1, MAX_SIZE / PAGE_SIZE),
            (1, u64::MAX),
            (0, u64::MAX / PAGE_SIZE + 1),
        ] {
            assert_eq!(
                unlimited.grown_size(pages, new_pages),
                Err(MemoryError::LimitExceeded)
            );
        }
        let capped = limits(Some(3));
        assert_eq!(capped.grown_size(1, 2).unwrap(), 3 * PAGE_SIZE);
        assert_eq!(capped.grown_size(1, 3), Err(MemoryError::LimitExceeded));
        assert_eq!(limits(Some(u64::MAX)).max_size, MAX_SIZE);
    }

    #[test]
    fn group_limits_outside_their_range_are_refused() {
        for bad in [0, MAX_GROUP_BYTES_LIMIT + 1] {
            let options = OpenOptions {
                max_pages: None,
                max_group_bytes: Some(bad),
                checkpoint_bytes: None,
            };
            assert!(matches!(
                Limits::from_options(&options),
                Err(MemoryError::InvalidOptions(_))
            ));
        }
    }
}
