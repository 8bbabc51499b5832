//! The redo journal of a committing group: the memory's size after the group and every
//! write it made, in order, sealed by a checksum so that a torn journal is recognised.
//!
//! ```text
//! "WDBMJRN1" | size: u64 | count: u64 | count × (offset: u64, len: u64, bytes) | fnv1a64: u64
//! ```
//! Integers are little-endian.

const MAGIC: &[u8; 8] = b"WDBMJRN1";
const HEADER: usize = 24;

/// A decoded journal.
pub struct Journal<'a> {
    /// The memory's size in bytes after the group.
    pub size: u64,
    /// `(offset, bytes)` of every write of the group, in order.
    pub writes: Vec<(u64, &'a [u8])>,
}

/// The journal of a group that leaves the memory `size` bytes long after `writes`.
pub fn encode<'a>(size: u64, writes: impl ExactSizeIterator<Item = (u64, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&(writes.len() as u64).to_le_bytes());
    for (offset, data) in writes {
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(data);
    }
    let checksum = fnv1a(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// The journal in `bytes`, or `None` when it is torn, foreign or inconsistent.
pub fn decode(bytes: &[u8]) -> Option<Journal<'_>> {
    let (body, checksum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if body.len() < HEADER || &body[..8] != MAGIC || fnv1a(body) != u64_at(checksum, 0)? {
        return None;
    }
    let size = u64_at(body, 8)?;
    let count = u64_at(body, 16)?;
    let mut rest = &body[HEADER..];
    let mut writes = Vec::new();
    for _ in 0..count {
        let offset = u64_at(rest, 0)?;
        let len = usize::try_from(u64_at(rest, 8)?).ok()?;
        let data = rest.get(16..16usize.checked_add(len)?)?;
        if offset.checked_add(len as u64)? > size {
            return None;
        }
        writes.push((offset, data));
        rest = &rest[16 + len..];
    }
    rest.is_empty().then_some(Journal { size, writes })
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// FNV-1a, 64 bits.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_round_trips() {
        let writes: [(u64, &[u8]); 2] = [(10, &[1, 2, 3]), (65536, &[9; 100])];
        let bytes = encode(2 * 65536, writes.into_iter());
        let journal = decode(&bytes).unwrap();
        assert_eq!(journal.size, 2 * 65536);
        assert_eq!(
            journal.writes,
            [(10, &[1u8, 2, 3][..]), (65536, &[9u8; 100][..])]
        );
    }

    #[test]
    fn every_torn_or_damaged_journal_is_refused() {
        let bytes = encode(65536, [(0, &[7u8; 40][..])].into_iter());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[30] ^= 1;
        assert!(decode(&flipped).is_none());
        assert!(
            decode(&encode(65536, [(65530, &[1u8; 10][..])].into_iter())).is_none(),
            "a write past the size"
        );
    }
}
