//! Journals left by provider 0.1, which a crash during a commit may have left beside a file:
//! read in pieces, so that `open` can complete their group as that provider would have.
//!
//! ```text
//! "WDBMJRN1" | size: u64 | count: u64 | count × (offset: u64, len: u64, bytes) | fnv1a64: u64
//! ```
//! The checksum covers everything before it; integers are little-endian.

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;
use crate::bounds::{MAX_SIZE, PAGE_SIZE};
use crate::file::File;
use crate::journal::{Cursor, read_range, u64_at};

/// Reads the 0.1 journal of `len` bytes: returns the memory's size after its group when the
/// journal is complete and consistent, passing each range's bytes to `apply(offset, bytes)`
/// as they are read (so apply only a journal already found complete).
pub fn read(
    journal: &File,
    len: u64,
    mut apply: impl FnMut(u64, &[u8]) -> Result<(), MemoryError>,
) -> Result<Option<u64>, MemoryError> {
    let Some(body_len) = len.checked_sub(8) else {
        return Ok(None);
    };
    let mut cursor = Cursor::new(journal, 0);
    let mut hash = Fnv::default();
    let Some(head) = cursor.take(24)? else {
        return Ok(None);
    };
    hash.update(head);
    let (size, count) = (u64_at(head, 8).unwrap_or(0), u64_at(head, 16).unwrap_or(0));
    if size % PAGE_SIZE != 0 || size > MAX_SIZE || count > body_len / 16 {
        return Ok(None);
    }
    for _ in 0..count {
        let room = body_len.saturating_sub(cursor.position());
        let update = &mut |bytes: &[u8]| hash.update(bytes);
        if read_range(&mut cursor, size, room, update, &mut apply)?.is_none() {
            return Ok(None);
        }
    }
    if cursor.position() != body_len {
        return Ok(None);
    }
    let Some(checksum) = cursor.take(8)? else {
        return Ok(None);
    };
    Ok((u64_at(checksum, 0) == Some(hash.0)).then_some(size))
}

/// FNV-1a, 64 bits, as provider 0.1 sealed its journals.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn update(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}
