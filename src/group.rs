//! An open crash-atomic group: the bytes it wrote and the size it grew to, kept in the
//! provider's memory until the group commits.
//!
//! The bytes are disjoint ranges (a later write over an earlier one replaces it, touching
//! writes join), so that the journal holds each changed byte once. No range crosses a
//! 64 KiB segment boundary: every allocation is at most a segment, made fallibly, and a
//! write that cannot be recorded leaves the group as it was.

use std::collections::BTreeMap;

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;
use crate::error::io_detail;

/// The span no range crosses.
const SEGMENT: u64 = 65536;

/// The pending state of a group.
pub struct Group {
    /// The page count the group has reached.
    pub pages: u64,
    /// Disjoint ranges, each within one segment: start offset to bytes.
    ranges: BTreeMap<u64, Vec<u8>>,
    /// The sum of the ranges' lengths: the distinct bytes the group holds.
    bytes: u64,
}

/// How one segment's part of a write lands: in place in a range that covers its start,
/// or as a new range replacing the ranges it touches.
enum Landing {
    InPlace {
        start: u64,
    },
    Replace {
        start: u64,
        merged: Vec<u8>,
        touching: Vec<u64>,
    },
}

impl Group {
    /// A group over a memory of `pages` pages.
    pub fn new(pages: u64) -> Self {
        Self {
            pages,
            ranges: BTreeMap::new(),
            bytes: 0,
        }
    }

    /// Whether the group wrote nothing.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The distinct bytes the group holds.
    #[cfg(test)]
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The number of ranges.
    pub fn range_count(&self) -> u64 {
        self.ranges.len() as u64
    }

    /// The written ranges, in offset order.
    pub fn ranges(&self) -> impl Iterator<Item = (u64, &[u8])> + Clone {
        self.ranges
            .iter()
            .map(|(start, bytes)| (*start, bytes.as_slice()))
    }

    /// Records a write of `data` at `offset` (the caller has checked the range), unless the
    /// group would then hold more than `limit` distinct bytes (`group-too-large`) or memory
    /// for it cannot be had (`io`); a refused write changes nothing.
    pub fn write(&mut self, offset: u64, data: &[u8], limit: u64) -> Result<(), MemoryError> {
        // Plan every segment's landing first, allocating what it needs; then apply them all.
        let mut landings = Vec::new();
        let mut added = 0u64;
        let mut done = 0usize;
        while done < data.len() {
            let at = offset + done as u64;
            let len = ((SEGMENT - at % SEGMENT) as usize).min(data.len() - done);
            let (landing, grows_by) = self.plan(at, len)?;
            landings
                .try_reserve(1)
                .map_err(|_| io_detail("group", "cannot allocate a write's plan"))?;
            landings.push((landing, at, done, len));
            added += grows_by;
            done += len;
        }
        if self.bytes + added > limit {
            return Err(MemoryError::GroupTooLarge(limit));
        }
        for (landing, at, from, len) in landings {
            let piece = &data[from..from + len];
            match landing {
                Landing::InPlace { start } => {
                    let bytes = self.ranges.get_mut(&start).expect("planned range");
                    let within = (at - start) as usize;
                    if bytes.len() < within + len {
                        bytes.resize(within + len, 0);
                    }
                    bytes[within..within + len].copy_from_slice(piece);
                }
                Landing::Replace {
                    start,
                    mut merged,
                    touching,
                } => {
                    for old in touching {
                        let bytes = self.ranges.remove(&old).expect("planned range");
                        let within = (old - start) as usize;
                        merged[within..within + bytes.len()].copy_from_slice(&bytes);
                    }
                    let within = (at - start) as usize;
                    merged[within..within + len].copy_from_slice(piece);
                    self.ranges.insert(start, merged);
                }
            }
        }
        self.bytes += added;
        Ok(())
    }

    /// How `len` bytes at `at`, within one segment, would land, and how many distinct bytes
    /// they would add.
    fn plan(&mut self, at: u64, len: usize) -> Result<(Landing, u64), MemoryError> {
        let end = at + len as u64;
        let segment_start = at - at % SEGMENT;
        let last_start = end.min(segment_start + SEGMENT - 1);
        // The ranges of this segment that overlap or touch `at..end`, last first.
        let touching: Vec<(u64, u64)> = self
            .ranges
            .range(segment_start..=last_start)
            .rev()
            .map(|(start, bytes)| (*start, *start + bytes.len() as u64))
            .take_while(|(_, range_end)| *range_end >= at)
            .collect();
        let covered: u64 = touching
            .iter()
            .map(|(start, range_end)| range_end.min(&end).saturating_sub(*start.max(&at)))
            .sum();
        let added = len as u64 - covered;
        if let [(start, range_end)] = touching[..]
            && start <= at
        {
            // One range holds the start: grow it in place (appends stay linear).
            let extra = end.saturating_sub(range_end) as usize;
            self.ranges
                .get_mut(&start)
                .expect("touching range")
                .try_reserve(extra)
                .map_err(|_| io_detail("group", "cannot allocate a range"))?;
            return Ok((Landing::InPlace { start }, added));
        }
        let start = touching.last().map_or(at, |(first, _)| (*first).min(at));
        let merged_end = touching.first().map_or(end, |(_, last)| (*last).max(end));
        let mut merged = Vec::new();
        merged
            .try_reserve_exact((merged_end - start) as usize)
            .map_err(|_| io_detail("group", "cannot allocate a range"))?;
        merged.resize((merged_end - start) as usize, 0);
        let touching = touching.into_iter().map(|(start, _)| start).collect();
        Ok((
            Landing::Replace {
                start,
                merged,
                touching,
            },
            added,
        ))
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

    const NO_LIMIT: u64 = u64::MAX;

    fn bytes_of(group: &Group, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        group.overlay(0, &mut out);
        out
    }

    #[test]
    fn later_writes_win_and_only_the_overlap_is_laid() {
        let mut group = Group::new(1);
        group.write(2, &[1, 1, 1, 1], NO_LIMIT).unwrap();
        group.write(4, &[2, 2, 2, 2], NO_LIMIT).unwrap();
        let mut out = [0u8; 6];
        group.overlay(1, &mut out);
        assert_eq!(out, [0, 1, 1, 2, 2, 2]);
        assert_eq!(group.bytes(), 6);
    }

    #[test]
    fn overlapping_and_adjacent_writes_join_into_disjoint_ranges() {
        let mut group = Group::new(1);
        group.write(10, &[1; 4], NO_LIMIT).unwrap();
        group.write(20, &[2; 4], NO_LIMIT).unwrap();
        group.write(14, &[3; 2], NO_LIMIT).unwrap();
        group.write(8, &[4; 3], NO_LIMIT).unwrap();
        group.write(16, &[5; 4], NO_LIMIT).unwrap();
        let ranges: Vec<(u64, usize)> = group.ranges().map(|(s, b)| (s, b.len())).collect();
        assert_eq!(ranges, [(8, 16)]);
        assert_eq!(group.bytes(), 16);
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
        group.write(30, &[6], NO_LIMIT).unwrap();
        assert_eq!(group.range_count(), 2);
    }

    #[test]
    fn no_range_crosses_a_segment_and_the_bytes_stay_in_order() {
        let mut group = Group::new(4);
        let data: Vec<u8> = (0..3 * SEGMENT).map(|i| (i % 251) as u8).collect();
        group.write(100, &data, NO_LIMIT).unwrap();
        let ranges: Vec<(u64, u64)> = group
            .ranges()
            .map(|(s, b)| (s, s + b.len() as u64))
            .collect();
        assert_eq!(
            ranges,
            [
                (100, SEGMENT),
                (SEGMENT, 2 * SEGMENT),
                (2 * SEGMENT, 3 * SEGMENT),
                (3 * SEGMENT, 3 * SEGMENT + 100)
            ]
        );
        let mut out = vec![0; data.len()];
        group.overlay(100, &mut out);
        assert_eq!(out, data);
        assert_eq!(group.bytes(), data.len() as u64);
    }

    #[test]
    fn a_write_past_the_limit_is_refused_and_changes_nothing() {
        let mut group = Group::new(4);
        group.write(0, &[1; 100], 150).unwrap();
        // Rewriting held bytes adds nothing; 40 of these 60 are new: 140 in all.
        group.write(80, &[2; 60], 150).unwrap();
        assert_eq!(group.bytes(), 140);
        let before = bytes_of(&group, 300);
        assert_eq!(
            group.write(SEGMENT - 5, &[3; 20], 150),
            Err(MemoryError::GroupTooLarge(150))
        );
        assert_eq!(bytes_of(&group, 300), before);
        assert_eq!(group.bytes(), 140);
        group.write(140, &[4; 10], 150).unwrap();
        assert_eq!(group.bytes(), 150);
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
        let span = 3 * SEGMENT as usize;
        let mut group = Group::new(3);
        let mut plain = vec![0u8; span];
        let mut written = vec![false; span];
        for round in 0..4000u32 {
            let offset = if round % 3 == 0 {
                SEGMENT * (1 + next(2)) - next(30)
            } else {
                next(span as u64 - 300)
            };
            let len = next(300) as usize;
            let data = vec![(round % 251) as u8 + 1; len];
            group.write(offset, &data, NO_LIMIT).unwrap();
            let range = offset as usize..offset as usize + len;
            plain[range.clone()].copy_from_slice(&data);
            written[range].fill(true);
        }
        assert_eq!(bytes_of(&group, span), plain);
        assert_eq!(group.bytes(), written.iter().filter(|w| **w).count() as u64);
        let ranges: Vec<(u64, u64)> = group
            .ranges()
            .map(|(s, b)| (s, s + b.len() as u64))
            .collect();
        assert!(
            ranges.windows(2).all(|w| w[0].1 <= w[1].0),
            "disjoint and ordered"
        );
        assert!(
            ranges.iter().all(|(s, e)| s / SEGMENT == (e - 1) / SEGMENT),
            "within one segment each"
        );
    }
}
