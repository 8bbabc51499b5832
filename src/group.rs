//! An open crash-atomic group: the bytes it wrote, as disjoint ranges (a later write over an
//! earlier one replaces it, adjacent writes join), and the size it grew to, kept in memory
//! until the group commits. The journal then holds each byte the group changed once.

use std::collections::BTreeMap;

/// The pending state of a group.
pub struct Group {
    /// The page count the group has reached.
    pub pages: u64,
    /// Disjoint, non-adjacent written ranges: start offset to bytes.
    ranges: BTreeMap<u64, Vec<u8>>,
}

impl Group {
    /// A group over a memory of `pages` pages.
    pub fn new(pages: u64) -> Self {
        Self {
            pages,
            ranges: BTreeMap::new(),
        }
    }

    /// Whether the group wrote anything.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The written ranges, in offset order.
    pub fn ranges(&self) -> impl ExactSizeIterator<Item = (u64, &[u8])> {
        self.ranges
            .iter()
            .map(|(start, bytes)| (*start, bytes.as_slice()))
    }

    /// Records a write of `data` at `offset`.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let end = offset + data.len() as u64;
        // The ranges that overlap or touch `offset..end`, last first.
        let touching: Vec<u64> = self
            .ranges
            .range(..=end)
            .rev()
            .take_while(|(start, bytes)| *start + bytes.len() as u64 >= offset)
            .map(|(start, _)| *start)
            .collect();
        if let [only] = touching[..]
            && only <= offset
        {
            // Grow the one range in place: appends stay linear.
            let bytes = self.ranges.get_mut(&only).expect("touching range");
            let at = (offset - only) as usize;
            if bytes.len() < at + data.len() {
                bytes.resize(at + data.len(), 0);
            }
            bytes[at..at + data.len()].copy_from_slice(data);
            return;
        }
        let start = touching.last().map_or(offset, |first| (*first).min(offset));
        let merged_end = touching
            .iter()
            .map(|s| s + self.ranges[s].len() as u64)
            .fold(end, u64::max);
        let mut merged = vec![0; (merged_end - start) as usize];
        for old in touching {
            let bytes = self.ranges.remove(&old).expect("touching range");
            let at = (old - start) as usize;
            merged[at..at + bytes.len()].copy_from_slice(&bytes);
        }
        let at = (offset - start) as usize;
        merged[at..at + data.len()].copy_from_slice(data);
        self.ranges.insert(start, merged);
    }

    /// Lays the group's writes over `out`, which holds the bytes at `offset` as the file has
    /// them.
    pub fn overlay(&self, offset: u64, out: &mut [u8]) {
        let end = offset + out.len() as u64;
        let before_end = self.ranges.range(..end).rev();
        for (start, bytes) in before_end.take_while(|(s, b)| *s + b.len() as u64 > offset) {
            let from = offset.max(*start);
            let to = end.min(start + bytes.len() as u64);
            let (dst, src, n) = (
                (from - offset) as usize,
                (from - start) as usize,
                (to - from) as usize,
            );
            out[dst..dst + n].copy_from_slice(&bytes[src..src + n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of(group: &Group, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        group.overlay(0, &mut out);
        out
    }

    #[test]
    fn later_writes_win_and_only_the_overlap_is_laid() {
        let mut group = Group::new(1);
        group.write(2, &[1, 1, 1, 1]);
        group.write(4, &[2, 2, 2, 2]);
        let mut out = [0u8; 6];
        group.overlay(1, &mut out);
        assert_eq!(out, [0, 1, 1, 2, 2, 2]);
    }

    #[test]
    fn overlapping_and_adjacent_writes_join_into_disjoint_ranges() {
        let mut group = Group::new(1);
        group.write(10, &[1; 4]);
        group.write(20, &[2; 4]);
        group.write(14, &[3; 2]);
        group.write(8, &[4; 3]);
        group.write(16, &[5; 4]);
        let ranges: Vec<(u64, usize)> = group.ranges().map(|(s, b)| (s, b.len())).collect();
        assert_eq!(ranges, [(8, 16)]);
        let expected = [
            [0; 8].as_slice(),
            &[4; 3],
            &[1; 3],
            &[3; 2],
            &[5; 4],
            &[2; 4],
        ]
        .concat();
        assert_eq!(bytes_of(&group, 24), expected);
        group.write(30, &[6]);
        assert_eq!(group.ranges().count(), 2);
    }

    #[test]
    fn the_ranges_match_a_plain_byte_array_for_any_writes() {
        let mut state = 7u64;
        let mut next = |bound: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % bound
        };
        let mut group = Group::new(1);
        let mut plain = vec![0u8; 300];
        for round in 0..2000u32 {
            let offset = next(280);
            let len = next(20) as usize;
            let data = vec![(round % 251) as u8 + 1; len];
            group.write(offset, &data);
            plain[offset as usize..offset as usize + len].copy_from_slice(&data);
        }
        assert_eq!(bytes_of(&group, 300), plain);
        let starts: Vec<(u64, u64)> = group
            .ranges()
            .map(|(s, b)| (s, s + b.len() as u64))
            .collect();
        assert!(
            starts.windows(2).all(|w| w[0].1 < w[1].0),
            "disjoint and apart"
        );
    }
}
