//! The journal's format: how records are written and read back, in pieces of bounded size.
//! What is written when, and why that order is safe, lives in `protocol.rs`.
//!
//! ```text
//! header (64 bytes, at 0):
//!   "WDBMJRN2" | generation: u64 | salt: u64 | 32 zero bytes | xxh3(bytes 0..56)
//! record (one committed group, appended after the header or the previous record):
//!   generation: u64 | sequence: u64 | size: u64 | count: u64 | body: u64
//!   | xxh3(the five fields, seed: chain)
//!   | count × (offset: u64, len: u64, len bytes)        -- `body` bytes in all
//!   | xxh3(everything from `generation` to the last byte, seed: chain)
//! ```
//! Integers are little-endian. `salt` is drawn at random for every header written (zero in
//! journals written before it was), so that the chain of a generation's records starts from
//! a value no earlier header had: bytes of an earlier journal's records, left in this file
//! or exposed in a block the filesystem reused, never read as records of this one (SQLite's
//! WAL salts its frames for the same reason). `size` is the memory's size in bytes after the group;
//! `sequence` counts records from 0 within a generation; `chain` is the header's hash for
//! the first record and the previous record's last hash after that. A record counts only
//! when its generation is the header's, its sequence is the next one, both hashes match and
//! every range lies within its size: a torn record, a record of an earlier generation left
//! behind a newer header, or bytes that are no record at all are where the journal ends.

use xxhash_rust::xxh3::{Xxh3, xxh3_64_with_seed};

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;
use crate::bounds::{MAX_SIZE, PAGE_SIZE};
use crate::error::io_detail;
use crate::file::{File, PIECE};

/// The first bytes of every journal of this format.
pub const MAGIC: &[u8; 8] = b"WDBMJRN2";

/// The first bytes of a journal written by provider 0.1.
pub const LEGACY_MAGIC: &[u8; 8] = b"WDBMJRN1";

/// The header's length: records start here.
pub const HEADER_LEN: u64 = 64;

/// The fixed part of a record before its ranges.
const HEAD_LEN: usize = 48;

/// The bytes a record adds beyond its ranges' bytes.
const RANGE_HEAD_LEN: u64 = 16;

/// The most a commit buffers before writing: records are written in pieces of this size.
const WRITE_BUFFER: usize = 256 << 10;

/// What the file at the journal's name is, from its first bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    /// A journal of this format, with the header's generation and hash.
    Current { generation: u64, chain: u64 },
    /// A journal whose header was never made durable: empty, or no longer than a header and
    /// holding what a header's write cut short leaves (zeros, or a header's first bytes; the
    /// header is synced before any record is written), or a header that no longer matches
    /// its hash. No record of it can be read.
    Unfinished { generation: u64 },
    /// A journal of provider 0.1.
    Legacy,
    /// Anything else: not a journal of this provider.
    Foreign,
}

/// Reads what a file of `len` bytes whose first bytes (up to [`HEADER_LEN`]) are `prefix`
/// is.
pub fn classify(prefix: &[u8], len: u64) -> Kind {
    if prefix.starts_with(LEGACY_MAGIC) {
        return Kind::Legacy;
    }
    let generation = u64_at(prefix, 8).unwrap_or(0);
    if let Some(header) = prefix.get(..HEADER_LEN as usize)
        && header.starts_with(MAGIC)
        && u64_at(header, 56) == Some(xxh3_64_with_seed(&header[..56], 0))
    {
        return Kind::Current {
            generation,
            chain: u64_at(header, 56).unwrap_or(0),
        };
    }
    if len <= HEADER_LEN && is_cut_header(prefix) {
        return Kind::Unfinished { generation };
    }
    if prefix.starts_with(MAGIC) {
        return Kind::Unfinished { generation };
    }
    Kind::Foreign
}

/// Whether `bytes` are what a header's write cut short can leave: zeros, or the first bytes
/// of a header (its magic, any generation and salt, zeros up to its hash).
fn is_cut_header(bytes: &[u8]) -> bool {
    if bytes.iter().all(|byte| *byte == 0) {
        return true;
    }
    let magic = bytes.len().min(MAGIC.len());
    let zeros = bytes.get(24..bytes.len().min(56)).unwrap_or(&[]);
    bytes[..magic] == MAGIC[..magic] && zeros.iter().all(|byte| *byte == 0)
}

/// A salt for a new header: random, from the host.
pub fn new_salt() -> u64 {
    wasip2::random::random::get_random_u64()
}

/// The header of a journal of `generation` with `salt`, and its hash (the first record's
/// chain).
pub fn header(generation: u64, salt: u64) -> ([u8; HEADER_LEN as usize], u64) {
    let mut header = [0u8; HEADER_LEN as usize];
    header[..8].copy_from_slice(MAGIC);
    header[8..16].copy_from_slice(&generation.to_le_bytes());
    header[16..24].copy_from_slice(&salt.to_le_bytes());
    let hash = xxh3_64_with_seed(&header[..56], 0);
    header[56..].copy_from_slice(&hash.to_le_bytes());
    (header, hash)
}

/// Where a record stands in its journal.
#[derive(Clone, Copy, Debug)]
pub struct Position {
    /// The header's generation.
    pub generation: u64,
    /// The record's sequence number.
    pub sequence: u64,
    /// The seed of the record's hashes.
    pub chain: u64,
}

/// A record that was written or read: where it ends, the memory size after it, and its
/// last hash (the next record's chain).
#[derive(Clone, Copy, Debug)]
pub struct Record {
    /// The offset just past the record.
    pub end: u64,
    /// The memory's size in bytes after the record's group.
    pub size: u64,
    /// The record's last hash.
    pub hash: u64,
}

/// The bytes the record of a group with `ranges` takes in the journal.
pub fn record_len<'a>(ranges: impl Iterator<Item = (u64, &'a [u8])>) -> u64 {
    let body: u64 = ranges
        .map(|(_, data)| RANGE_HEAD_LEN + data.len() as u64)
        .sum();
    HEAD_LEN as u64 + body + 8
}

/// Writes the record of a group at `at`: the memory is `size` bytes after it, and `ranges`
/// (`count` of them) are its changed bytes. The record's last hash is written last, so a
/// record whose writing stopped anywhere never reads back as complete.
pub fn append<'a>(
    journal: &File,
    at: u64,
    position: Position,
    size: u64,
    count: u64,
    ranges: impl Iterator<Item = (u64, &'a [u8])> + Clone,
) -> Result<Record, MemoryError> {
    let body: u64 = ranges
        .clone()
        .map(|(_, data)| RANGE_HEAD_LEN + data.len() as u64)
        .sum();
    let total = HEAD_LEN as u64 + body + 8;
    let mut head = [0u8; HEAD_LEN];
    for (index, field) in [position.generation, position.sequence, size, count, body]
        .into_iter()
        .enumerate()
    {
        head[index * 8..index * 8 + 8].copy_from_slice(&field.to_le_bytes());
    }
    let head_hash = xxh3_64_with_seed(&head[..40], position.chain);
    head[40..].copy_from_slice(&head_hash.to_le_bytes());

    let mut writer = Writer::new(journal, at, total, position.chain)?;
    writer.put(&head)?;
    for (offset, data) in ranges {
        writer.put(&offset.to_le_bytes())?;
        writer.put(&(data.len() as u64).to_le_bytes())?;
        writer.put(data)?;
    }
    let hash = writer.finish()?;
    Ok(Record {
        end: at + total,
        size,
        hash,
    })
}

/// A record being written: bytes gather in a bounded buffer and go out in pieces, hashed
/// on the way.
struct Writer<'a> {
    journal: &'a File,
    at: u64,
    buffer: Vec<u8>,
    hasher: Xxh3,
}

impl<'a> Writer<'a> {
    fn new(journal: &'a File, at: u64, total: u64, chain: u64) -> Result<Self, MemoryError> {
        let capacity = total.min(WRITE_BUFFER as u64) as usize;
        let mut buffer = Vec::new();
        buffer
            .try_reserve_exact(capacity)
            .map_err(|_| io_detail(journal.path(), "cannot allocate the journal's write buffer"))?;
        Ok(Self {
            journal,
            at,
            buffer,
            hasher: Xxh3::with_seed(chain),
        })
    }

    fn put(&mut self, mut bytes: &[u8]) -> Result<(), MemoryError> {
        self.hasher.update(bytes);
        while !bytes.is_empty() {
            let room = self.buffer.capacity() - self.buffer.len();
            let n = room.min(bytes.len());
            self.buffer.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.buffer.len() == self.buffer.capacity() {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), MemoryError> {
        self.journal.write_all_at(self.at, &self.buffer)?;
        self.at += self.buffer.len() as u64;
        self.buffer.clear();
        Ok(())
    }

    /// Writes the last hash and whatever is still buffered; returns the hash.
    fn finish(mut self) -> Result<u64, MemoryError> {
        // The hash is not part of what it hashes.
        let hash = self.hasher.digest();
        if self.buffer.capacity() - self.buffer.len() < 8 {
            self.flush()?;
        }
        self.buffer.extend_from_slice(&hash.to_le_bytes());
        self.flush()?;
        Ok(hash)
    }
}

/// A sequential reader of a journal, through a buffer of at most [`PIECE`] bytes.
pub struct Cursor<'a> {
    journal: &'a File,
    buffer: Vec<u8>,
    buffer_at: u64,
    used: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at `at`.
    pub fn new(journal: &'a File, at: u64) -> Self {
        Self {
            journal,
            buffer: Vec::new(),
            buffer_at: at,
            used: 0,
        }
    }

    /// The offset of the next byte.
    pub fn position(&self) -> u64 {
        self.buffer_at + self.used as u64
    }

    /// The next `n` bytes (`n` at most [`PIECE`]), or `None` when the file ends first.
    /// A host may answer a read with fewer bytes than asked (wasmtime-wasi gives at most
    /// 64 KiB): the buffer is filled until it holds `n` bytes or a read returns none.
    pub fn take(&mut self, n: usize) -> Result<Option<&[u8]>, MemoryError> {
        if self.buffer.len() - self.used < n {
            self.buffer.drain(..self.used);
            self.buffer_at += self.used as u64;
            self.used = 0;
            while self.buffer.len() < n {
                let end = self.buffer_at + self.buffer.len() as u64;
                let piece = self.journal.read_piece(end, PIECE - self.buffer.len())?;
                if piece.is_empty() {
                    return Ok(None);
                }
                self.buffer.extend_from_slice(&piece);
            }
        }
        let bytes = &self.buffer[self.used..self.used + n];
        self.used += n;
        Ok(Some(bytes))
    }

    /// Passes the next `len` bytes to `each`, a piece at a time; `false` when the file ends
    /// first.
    pub fn stream(
        &mut self,
        mut len: u64,
        mut each: impl FnMut(&[u8]) -> Result<(), MemoryError>,
    ) -> Result<bool, MemoryError> {
        while len > 0 {
            let n = len.min(PIECE as u64) as usize;
            match self.take(n)? {
                Some(bytes) => each(bytes)?,
                None => return Ok(false),
            }
            len -= n as u64;
        }
        Ok(true)
    }
}

/// Reads the record at the cursor, expected at `position`, after a record that left the
/// memory `previous_size` bytes long. Returns it when it is complete and valid, passing
/// each range's bytes to `apply(offset, bytes)` as they are read (a piece at a time, so
/// an invalid record may have passed some: apply only records already validated).
pub fn read_record(
    cursor: &mut Cursor<'_>,
    position: Position,
    previous_size: u64,
    mut apply: impl FnMut(u64, &[u8]) -> Result<(), MemoryError>,
) -> Result<Option<Record>, MemoryError> {
    let Some(head) = cursor.take(HEAD_LEN)? else {
        return Ok(None);
    };
    let field = |index: usize| u64_at(head, index * 8).unwrap_or(0);
    let (generation, sequence, size, count, body) =
        (field(0), field(1), field(2), field(3), field(4));
    let head_valid = generation == position.generation
        && sequence == position.sequence
        && field(5) == xxh3_64_with_seed(&head[..40], position.chain)
        && size % PAGE_SIZE == 0
        && size <= MAX_SIZE
        && size >= previous_size
        && count <= body / RANGE_HEAD_LEN;
    if !head_valid {
        return Ok(None);
    }
    let mut hasher = Xxh3::with_seed(position.chain);
    hasher.update(head);
    let mut left = body;
    for _ in 0..count {
        let hash = &mut |bytes: &[u8]| hasher.update(bytes);
        let Some(taken) = read_range(cursor, size, left, hash, &mut apply)? else {
            return Ok(None);
        };
        left -= taken;
    }
    if left != 0 {
        return Ok(None);
    }
    let Some(last) = cursor.take(8)? else {
        return Ok(None);
    };
    let hash = hasher.digest();
    if u64_at(last, 0) != Some(hash) {
        return Ok(None);
    }
    Ok(Some(Record {
        end: cursor.position(),
        size,
        hash,
    }))
}

/// Reads one range at the cursor (`offset: u64, len: u64`, then `len` bytes) of a memory of
/// `size` bytes, in at most `room` bytes of the journal: every byte read goes to `hash`, the
/// range's own to `apply(offset, bytes)` a piece at a time. Returns the bytes the range
/// took, or `None` when it is cut short or does not fit.
pub fn read_range(
    cursor: &mut Cursor<'_>,
    size: u64,
    room: u64,
    hash: &mut impl FnMut(&[u8]),
    apply: &mut impl FnMut(u64, &[u8]) -> Result<(), MemoryError>,
) -> Result<Option<u64>, MemoryError> {
    let Some(range_head) = cursor.take(RANGE_HEAD_LEN as usize)? else {
        return Ok(None);
    };
    hash(range_head);
    let (offset, len) = (
        u64_at(range_head, 0).unwrap_or(0),
        u64_at(range_head, 8).unwrap_or(0),
    );
    let taken = len.checked_add(RANGE_HEAD_LEN);
    let fits = offset.checked_add(len).is_some_and(|end| end <= size)
        && taken.is_some_and(|taken| taken <= room);
    if !fits {
        return Ok(None);
    }
    let mut at = offset;
    let complete = cursor.stream(len, |bytes| {
        hash(bytes);
        apply(at, bytes)?;
        at += bytes.len() as u64;
        Ok(())
    })?;
    Ok(complete.then_some(len + RANGE_HEAD_LEN))
}

/// The little-endian u64 at `at`, if `bytes` holds one there.
pub fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        bytes.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_told_apart() {
        let (header, hash) = header(7, 0x5A17_5A17_5A17_5A17);
        let (unsalted, unsalted_hash) = super::header(7, 0);
        assert_ne!(hash, unsalted_hash, "the salt is hashed");
        assert_eq!(
            classify(&unsalted, HEADER_LEN),
            Kind::Current {
                generation: 7,
                chain: unsalted_hash
            },
            "a header written before salts"
        );
        let full = HEADER_LEN + 100;
        assert_eq!(
            classify(&header, full),
            Kind::Current {
                generation: 7,
                chain: hash
            }
        );
        assert_eq!(classify(&[], 0), Kind::Unfinished { generation: 0 });
        assert_eq!(classify(&[0; 64], 64), Kind::Unfinished { generation: 0 });
        for cut in 1..HEADER_LEN as usize {
            assert!(
                matches!(
                    classify(&header[..cut], cut as u64),
                    Kind::Unfinished { .. }
                ),
                "a header cut at {cut}"
            );
        }
        assert_eq!(
            classify(&[0; 64], full),
            Kind::Foreign,
            "zeros with more behind"
        );
        let mut damaged = header;
        damaged[30] = 1;
        assert_eq!(classify(&damaged, full), Kind::Unfinished { generation: 7 });
        assert_eq!(classify(b"WDBMJRN1 and the rest", 21), Kind::Legacy);
        assert_eq!(classify(b"my own notes", 12), Kind::Foreign);
        assert_eq!(classify(b"WDBMX", 5), Kind::Foreign);
        let notes = [&header[..6], b"notes here"].concat();
        assert_eq!(
            classify(&notes, 16),
            Kind::Foreign,
            "text after a magic's first bytes"
        );
        let mut cut = header[..20].to_vec();
        cut[18] = b'!';
        assert_eq!(
            classify(&cut, 20),
            Kind::Unfinished { generation: 7 },
            "our magic, whole"
        );
    }
}
