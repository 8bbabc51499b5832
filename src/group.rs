//! An open crash-atomic group: the bytes it wrote and the size it grew to, kept in the
//! provider's memory until the group commits, and what keeping them costs.
//!
//! The bytes are disjoint ranges (a later write over an earlier one replaces it, touching
//! writes join), so that the journal holds each changed byte once. No range crosses a
//! 64 KiB segment boundary: the group is a table of segments, each a sorted list of its
//! ranges. Every allocation is made fallibly and before anything changes, so a write that
//! cannot be recorded (past the limit, or with no memory left for it) leaves the group as
//! it was.
//!
//! What a group holds, counted against `max-group-bytes`, is its cost in the provider's
//! memory: its bytes, plus [`RANGE_COST`] for each range and [`SEGMENT_COST`] for each
//! segment it touches (an upper bound of their bookkeeping on wasm32: the list entry and
//! its growth, the allocator's header and rounding, the table entry).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;

/// The span no range crosses.
pub const SEGMENT: u64 = 65536;

/// What one range costs beyond its bytes.
pub const RANGE_COST: u64 = 64;

/// What one touched segment costs.
pub const SEGMENT_COST: u64 = 64;

/// The pending state of a group.
pub struct Group {
    /// The page count the group has reached.
    pub pages: u64,
    /// Segment index to its ranges, sorted by start, disjoint and not touching.
    segments: HashMap<u64, Vec<Range>, BuildHasherDefault<SegmentHasher>>,
    /// The sum of the ranges' lengths: the distinct bytes the group holds.
    bytes: u64,
    /// The number of ranges.
    ranges: u64,
}

/// One range of written bytes within a segment.
struct Range {
    /// Its offset within the segment.
    start: u64,
    bytes: Vec<u8>,
}

impl Range {
    fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }
}

/// How one segment's part of a write lands, with everything it needs already allocated.
struct Landing {
    segment: u64,
    /// Where the part starts within the segment, and where in the write's data it is.
    at: u64,
    from: usize,
    len: usize,
    shape: Shape,
}

enum Shape {
    /// The range at `index` holds the part's start: it grows in place.
    InPlace { index: usize },
    /// The ranges `first..first + count` (none: a new range at `first`) become `merged`.
    Replace {
        first: usize,
        count: usize,
        merged: Range,
        /// The segment's list, when the segment is new.
        new_list: Option<Vec<Range>>,
    },
}

/// The error of a write the group cannot take; the group is unchanged and still open.
fn too_large(limit: u64) -> MemoryError {
    MemoryError::GroupTooLarge(limit)
}

impl Group {
    /// A group over a memory of `pages` pages.
    pub fn new(pages: u64) -> Self {
        Self {
            pages,
            segments: HashMap::default(),
            bytes: 0,
            ranges: 0,
        }
    }

    /// Whether the group wrote nothing.
    pub fn is_empty(&self) -> bool {
        self.ranges == 0
    }

    /// The distinct bytes the group holds.
    #[cfg(test)]
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// What the group holds, as counted against its limit.
    #[cfg(test)]
    pub fn held(&self) -> u64 {
        self.bytes + self.ranges * RANGE_COST + self.segments.len() as u64 * SEGMENT_COST
    }

    /// The number of ranges.
    pub fn range_count(&self) -> u64 {
        self.ranges
    }

    /// The written ranges in offset order, through a sorted list of the touched segments
    /// (allocated fallibly; its cost is within [`SEGMENT_COST`]).
    pub fn sorted(&self) -> Result<SortedRanges<'_>, MemoryError> {
        let mut segments = Vec::new();
        segments
            .try_reserve_exact(self.segments.len())
            .map_err(|_| crate::error::io_detail("group", "cannot allocate its index"))?;
        segments.extend(self.segments.keys().copied());
        segments.sort_unstable();
        Ok(SortedRanges {
            group: self,
            segments,
        })
    }

    /// Records a write of `data` at `offset` (the caller has checked the range), unless the
    /// group would then hold more than `limit` or memory for it cannot be had
    /// (`group-too-large` either way); a refused write changes nothing.
    pub fn write(&mut self, offset: u64, data: &[u8], limit: u64) -> Result<(), MemoryError> {
        // Plan every segment's landing first, allocating what it needs; then apply them all.
        let pieces = data.len().div_ceil(SEGMENT as usize) + 1;
        let mut landings = Vec::new();
        landings
            .try_reserve_exact(pieces)
            .map_err(|_| too_large(limit))?;
        let (mut added_bytes, mut added_ranges, mut new_segments) = (0u64, 0i64, 0u64);
        let mut done = 0usize;
        while done < data.len() {
            let absolute = offset + done as u64;
            let (segment, at) = (absolute / SEGMENT, absolute % SEGMENT);
            let len = ((SEGMENT - at) as usize).min(data.len() - done);
            let (landing, bytes, ranges) = self.plan(segment, at, done, len, limit)?;
            if matches!(
                landing.shape,
                Shape::Replace {
                    new_list: Some(_),
                    ..
                }
            ) {
                new_segments += 1;
            }
            added_bytes += bytes;
            added_ranges += ranges;
            landings.push(landing);
            done += len;
        }
        let ranges_after = self.ranges.checked_add_signed(added_ranges).unwrap_or(0);
        let held_after = self.bytes
            + added_bytes
            + ranges_after * RANGE_COST
            + (self.segments.len() as u64 + new_segments) * SEGMENT_COST;
        if held_after > limit {
            return Err(too_large(limit));
        }
        self.segments
            .try_reserve(new_segments as usize)
            .map_err(|_| too_large(limit))?;
        for landing in landings {
            self.apply(landing, data);
        }
        self.bytes += added_bytes;
        self.ranges = ranges_after;
        Ok(())
    }

    /// How `len` bytes at `at` within `segment` (from `from` in the write's data) would
    /// land: the landing, the distinct bytes it adds and the change in the range count.
    fn plan(
        &mut self,
        segment: u64,
        at: u64,
        from: usize,
        len: usize,
        limit: u64,
    ) -> Result<(Landing, u64, i64), MemoryError> {
        let end = at + len as u64;
        let landing = |shape| Landing {
            segment,
            at,
            from,
            len,
            shape,
        };
        let Some(list) = self.segments.get_mut(&segment) else {
            let mut new_list = Vec::new();
            new_list
                .try_reserve_exact(1)
                .map_err(|_| too_large(limit))?;
            let merged = new_range(at, len, limit)?;
            let shape = Shape::Replace {
                first: 0,
                count: 0,
                merged,
                new_list: Some(new_list),
            };
            return Ok((landing(shape), len as u64, 1));
        };
        // The ranges that overlap or touch `at..end`.
        let first = list.partition_point(|range| range.end() < at);
        let last = list.partition_point(|range| range.start <= end).max(first);
        let covered: u64 = list[first..last]
            .iter()
            .map(|range| range.end().min(end).saturating_sub(range.start.max(at)))
            .sum();
        let added = len as u64 - covered;
        if last - first == 1 && list[first].start <= at {
            // One range holds the start: it grows in place (exactly: its bytes are counted).
            let range = &mut list[first];
            let extra = end.saturating_sub(range.end()) as usize;
            range
                .bytes
                .try_reserve_exact(extra)
                .map_err(|_| too_large(limit))?;
            return Ok((landing(Shape::InPlace { index: first }), added, 0));
        }
        let touching = &list[first..last];
        let start = touching.first().map_or(at, |range| range.start.min(at));
        let merged_end = touching.last().map_or(end, |range| range.end().max(end));
        let mut merged = new_range(start, (merged_end - start) as usize, limit)?;
        for range in touching {
            let within = (range.start - start) as usize;
            merged.bytes[within..within + range.bytes.len()].copy_from_slice(&range.bytes);
        }
        let count = last - first;
        if count == 0 {
            list.try_reserve(1).map_err(|_| too_large(limit))?;
        }
        let shape = Shape::Replace {
            first,
            count,
            merged,
            new_list: None,
        };
        Ok((landing(shape), added, 1 - count as i64))
    }

    /// Applies a planned landing: nothing here allocates.
    fn apply(&mut self, landing: Landing, data: &[u8]) {
        let piece = &data[landing.from..landing.from + landing.len];
        match landing.shape {
            Shape::InPlace { index } => {
                let list = self.segments.get_mut(&landing.segment).expect("planned");
                let range = &mut list[index];
                let within = (landing.at - range.start) as usize;
                if range.bytes.len() < within + piece.len() {
                    range.bytes.resize(within + piece.len(), 0);
                }
                range.bytes[within..within + piece.len()].copy_from_slice(piece);
            }
            Shape::Replace {
                first,
                count,
                mut merged,
                new_list,
            } => {
                let within = (landing.at - merged.start) as usize;
                merged.bytes[within..within + piece.len()].copy_from_slice(piece);
                let list = match new_list {
                    Some(list) => self.segments.entry(landing.segment).or_insert(list),
                    None => self.segments.get_mut(&landing.segment).expect("planned"),
                };
                if count == 0 {
                    list.insert(first, merged);
                } else {
                    list[first] = merged;
                    list.drain(first + 1..first + count);
                }
            }
        }
    }

    /// Lays the group's writes over `out`, which holds the bytes at `offset` as the file has
    /// them.
    pub fn overlay(&self, offset: u64, out: &mut [u8]) {
        if out.is_empty() || self.segments.is_empty() {
            return;
        }
        let end = offset + out.len() as u64;
        for segment in offset / SEGMENT..=(end - 1) / SEGMENT {
            let Some(list) = self.segments.get(&segment) else {
                continue;
            };
            let base = segment * SEGMENT;
            let (from, to) = (offset.max(base) - base, end.min(base + SEGMENT) - base);
            let first = list.partition_point(|range| range.end() <= from);
            for range in list[first..].iter().take_while(|range| range.start < to) {
                let (lo, hi) = (range.start.max(from), range.end().min(to));
                let dst = (base + lo - offset) as usize;
                let src = (lo - range.start) as usize;
                let n = (hi - lo) as usize;
                out[dst..dst + n].copy_from_slice(&range.bytes[src..src + n]);
            }
        }
    }
}

/// A new range of `len` zeros at `start`, allocated fallibly.
fn new_range(start: u64, len: usize, limit: u64) -> Result<Range, MemoryError> {
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len).map_err(|_| too_large(limit))?;
    bytes.resize(len, 0);
    Ok(Range { start, bytes })
}

/// A group's ranges in offset order.
pub struct SortedRanges<'a> {
    group: &'a Group,
    segments: Vec<u64>,
}

impl SortedRanges<'_> {
    /// Each range as `(offset, bytes)`, in offset order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> + Clone {
        self.segments.iter().flat_map(|segment| {
            let list = &self.group.segments[segment];
            list.iter()
                .map(move |range| (segment * SEGMENT + range.start, range.bytes.as_slice()))
        })
    }
}

/// The hash of a segment index: SplitMix64's finalizer, so that strided indices spread
/// over the table (std's default hasher would need a random seed from the host).
#[derive(Default)]
struct SegmentHasher(u64);

impl Hasher for SegmentHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
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

    fn spans(group: &Group) -> Vec<(u64, u64)> {
        let sorted = group.sorted().unwrap();
        sorted
            .iter()
            .map(|(s, b)| (s, s + b.len() as u64))
            .collect()
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
        assert_eq!(spans(&group), [(8, 24)]);
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
        assert_eq!(
            spans(&group),
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
    fn the_limit_counts_bytes_ranges_and_segments_and_a_refused_write_changes_nothing() {
        let cost = |bytes: u64, ranges: u64, segments: u64| {
            bytes + ranges * RANGE_COST + segments * SEGMENT_COST
        };
        let limit = cost(140, 1, 1) + 10;
        let mut group = Group::new(4);
        group.write(0, &[1; 100], limit).unwrap();
        assert_eq!(group.held(), cost(100, 1, 1));
        // Rewriting held bytes adds nothing; 40 of these 60 are new and join the range.
        group.write(80, &[2; 60], limit).unwrap();
        assert_eq!(group.held(), cost(140, 1, 1));
        let before = bytes_of(&group, 300);
        // A second range would cost its bookkeeping too.
        assert_eq!(
            group.write(200, &[3; 1], limit),
            Err(MemoryError::GroupTooLarge(limit))
        );
        // So would a second segment.
        assert_eq!(
            group.write(SEGMENT - 5, &[3; 10], limit),
            Err(MemoryError::GroupTooLarge(limit))
        );
        assert_eq!(bytes_of(&group, 300), before);
        assert_eq!(group.held(), cost(140, 1, 1));
        group.write(140, &[4; 10], limit).unwrap();
        assert_eq!(group.held(), limit);
        assert_eq!(
            group.write(150, &[5], limit),
            Err(MemoryError::GroupTooLarge(limit))
        );
    }

    #[test]
    fn joining_ranges_gives_their_bookkeeping_back() {
        let mut group = Group::new(1);
        for at in (0..100).step_by(2) {
            group.write(at, &[1], NO_LIMIT).unwrap();
        }
        assert_eq!(group.range_count(), 50);
        group.write(0, &[2; 100], NO_LIMIT).unwrap();
        assert_eq!(group.range_count(), 1);
        assert_eq!(group.held(), 100 + RANGE_COST + SEGMENT_COST);
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
        let mut out = vec![0u8; 1000];
        group.overlay(SEGMENT - 500, &mut out);
        assert_eq!(out, plain[SEGMENT as usize - 500..SEGMENT as usize + 500]);
        assert_eq!(group.bytes(), written.iter().filter(|w| **w).count() as u64);
        let ranges = spans(&group);
        assert_eq!(ranges.len() as u64, group.range_count());
        assert!(
            ranges
                .windows(2)
                .all(|w| w[0].1 < w[1].0 || (w[0].1 == w[1].0 && w[1].0 % SEGMENT == 0)),
            "disjoint, ordered, and touching only at a segment boundary"
        );
        assert!(
            ranges.iter().all(|(s, e)| s / SEGMENT == (e - 1) / SEGMENT),
            "within one segment each"
        );
        let covered: u64 = ranges.iter().map(|(s, e)| e - s).sum();
        assert_eq!(covered, group.bytes());
    }
}
