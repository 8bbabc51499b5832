//! The provider's journal format, written from its description (src/journal.rs) for the
//! tests: to read exactly what a commit left on disk, and to make the journals a crash leaves.

use xxhash_rust::xxh3::{Xxh3, xxh3_64_with_seed};

/// One record: a committed group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its sequence number within the generation.
    pub sequence: u64,
    /// The memory's size in bytes after it.
    pub size: u64,
    /// Its ranges: offset and bytes.
    pub ranges: Vec<(u64, Vec<u8>)>,
}

/// What a journal file holds: its generation and its complete records, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Journal {
    pub generation: u64,
    pub records: Vec<Record>,
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// The header of generation `generation` and its hash.
pub fn header(generation: u64) -> (Vec<u8>, u64) {
    let mut header = vec![0u8; 64];
    header[..8].copy_from_slice(b"WDBMJRN2");
    header[8..16].copy_from_slice(&generation.to_le_bytes());
    let hash = xxh3_64_with_seed(&header[..56], 0);
    header[56..].copy_from_slice(&hash.to_le_bytes());
    (header, hash)
}

/// A record chained from `chain`, and its last hash.
pub fn record(
    generation: u64,
    sequence: u64,
    chain: u64,
    size: u64,
    ranges: &[(u64, &[u8])],
) -> (Vec<u8>, u64) {
    let body: u64 = ranges.iter().map(|(_, data)| 16 + data.len() as u64).sum();
    let mut out = Vec::new();
    for field in [generation, sequence, size, ranges.len() as u64, body] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    let head_hash = xxh3_64_with_seed(&out, chain);
    out.extend_from_slice(&head_hash.to_le_bytes());
    for (offset, data) in ranges {
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(data);
    }
    let hash = xxh3_64_with_seed(&out, chain);
    out.extend_from_slice(&hash.to_le_bytes());
    (out, hash)
}

/// A group as a record holds it: the memory's size after it, and its ranges.
pub type Group<'a> = (u64, Vec<(u64, &'a [u8])>);

/// A whole journal of `generation` holding `records` in order.
pub fn journal(generation: u64, records: &[Group<'_>]) -> Vec<u8> {
    let (mut out, mut chain) = header(generation);
    for (sequence, (size, ranges)) in records.iter().enumerate() {
        let (bytes, hash) = record(generation, sequence as u64, chain, *size, ranges);
        out.extend_from_slice(&bytes);
        chain = hash;
    }
    out
}

/// A whole journal behind the header `header` (as a provider wrote it, its salt included)
/// holding `records` in order.
pub fn with_header(header: &[u8], records: &[Group<'_>]) -> Vec<u8> {
    let generation = u64_at(header, 8).expect("a header");
    let mut chain = u64_at(header, 56).expect("a header");
    let mut out = header[..64].to_vec();
    for (sequence, (size, ranges)) in records.iter().enumerate() {
        let (bytes, hash) = record(generation, sequence as u64, chain, *size, ranges);
        out.extend_from_slice(&bytes);
        chain = hash;
    }
    out
}

/// Reads a journal file: its generation and every complete record, stopping where the
/// provider's recovery would stop. `None` when the header is not a valid one.
pub fn read(bytes: &[u8]) -> Option<Journal> {
    let header = bytes.get(..64)?;
    if &header[..8] != b"WDBMJRN2" || u64_at(header, 56)? != xxh3_64_with_seed(&header[..56], 0) {
        return None;
    }
    let generation = u64_at(header, 8)?;
    let mut chain = u64_at(header, 56)?;
    let mut at = 64usize;
    let mut records = Vec::new();
    let mut previous_size = 0;
    while let Some(record) = (|| {
        let head = bytes.get(at..at + 48)?;
        let field = |i: usize| u64_at(head, i * 8).unwrap();
        let (gen_, sequence, size, count, body) =
            (field(0), field(1), field(2), field(3), field(4));
        let valid = gen_ == generation
            && sequence == records.len() as u64
            && field(5) == xxh3_64_with_seed(&head[..40], chain)
            && size % 65536 == 0
            && size >= previous_size;
        if !valid {
            return None;
        }
        let body_bytes = bytes.get(at + 48..at + 48 + usize::try_from(body).ok()?)?;
        let mut ranges = Vec::new();
        let mut rest = body_bytes;
        for _ in 0..count {
            let offset = u64_at(rest, 0)?;
            let len = usize::try_from(u64_at(rest, 8)?).ok()?;
            let data = rest.get(16..16 + len)?;
            if offset + len as u64 > size {
                return None;
            }
            ranges.push((offset, data.to_vec()));
            rest = &rest[16 + len..];
        }
        if !rest.is_empty() {
            return None;
        }
        let end = at + 48 + body_bytes.len();
        let mut hasher = Xxh3::with_seed(chain);
        hasher.update(&bytes[at..end]);
        let hash = hasher.digest();
        if u64_at(bytes, end)? != hash {
            return None;
        }
        Some((
            Record {
                sequence,
                size,
                ranges,
            },
            end + 8,
            hash,
        ))
    })() {
        let (record, end, hash) = record;
        previous_size = record.size;
        records.push(record);
        at = end;
        chain = hash;
    }
    Some(Journal {
        generation,
        records,
    })
}

/// A journal as provider 0.1 wrote it.
pub fn legacy(size: u64, writes: &[(u64, &[u8])]) -> Vec<u8> {
    let mut out = b"WDBMJRN1".to_vec();
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&(writes.len() as u64).to_le_bytes());
    for (offset, data) in writes {
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(data);
    }
    let checksum = out.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}
