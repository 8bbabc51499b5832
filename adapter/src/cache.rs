//! A bounded cache of 4 KiB blocks on the consumer's side of the boundary.
//!
//! The provider's file stays authoritative: the adapter writes through, then patches the
//! cached copy. A block enters the cache when a read misses it a second time while it is
//! still remembered from the first miss (a bounded set of "ghosts", as in 2Q), so that reads
//! that never come back, such as random reads over a file larger than the cache, pass by
//! without evicting anything; eviction is CLOCK (second chance). Blocks, not 64 KiB pages,
//! so that a small read costs a small transfer, while wasm-dbms's whole-page reads still
//! fetch in one call.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

/// The block index. Its hasher has no random keys: creating it must not draw from the
/// process's `RandomState` keys, which would shift the order of every `HashMap` wasm-dbms
/// makes after it (and with it the bytes of its schema page).
type Index = HashMap<u64, usize, BuildHasherDefault<BlockHasher>>;

/// Blocks missed once, remembered without their bytes.
type Ghosts = HashSet<u64, BuildHasherDefault<BlockHasher>>;

/// A multiplicative hash of a block number: cheap, and enough for keys the cache chooses.
#[derive(Default)]
pub struct BlockHasher(u64);

impl Hasher for BlockHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0 ^ value)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
}

/// Bytes in one cached block.
pub const BLOCK: u64 = 4096;

struct Slot {
    block: u64,
    bytes: Box<[u8]>,
    referenced: bool,
}

/// Up to `capacity` blocks of [`BLOCK`] bytes.
pub struct BlockCache {
    capacity: usize,
    slots: Vec<Slot>,
    index: Index,
    hand: usize,
    ghosts: Ghosts,
    /// The block read last and its slot, looked at before the index: wasm-dbms reads a
    /// record's fields one after another from the same block.
    last: Option<(u64, usize)>,
}

impl BlockCache {
    /// An empty cache holding at most `capacity` blocks (0 disables it).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            slots: Vec::new(),
            index: Index::default(),
            hand: 0,
            ghosts: Ghosts::default(),
            last: None,
        }
    }

    /// Forgets every block.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.index.clear();
        self.hand = 0;
        self.ghosts.clear();
        self.last = None;
    }

    /// Whether a read that missed `block` should keep it: true when it was missed before and
    /// is still remembered; otherwise it is remembered now.
    pub fn admit(&mut self, block: u64) -> bool {
        if self.ghosts.remove(&block) {
            return true;
        }
        if self.ghosts.len() >= self.capacity {
            self.ghosts.clear();
        }
        self.ghosts.insert(block);
        false
    }

    /// Whether the cache keeps anything.
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// Whether `block` is cached.
    pub fn contains(&self, block: u64) -> bool {
        self.index.contains_key(&block)
    }

    /// The slot holding `block`, if it is cached.
    fn slot_of(&mut self, block: u64) -> Option<usize> {
        if let Some((last, at)) = self.last
            && last == block
            && self.slots.get(at).is_some_and(|slot| slot.block == block)
        {
            return Some(at);
        }
        let at = *self.index.get(&block)?;
        self.last = Some((block, at));
        Some(at)
    }

    /// The cached bytes of `block`.
    pub fn get(&mut self, block: u64) -> Option<&[u8]> {
        let at = self.slot_of(block)?;
        let slot = &mut self.slots[at];
        slot.referenced = true;
        Some(&slot.bytes)
    }

    /// Fills `buf` with the bytes at `offset` when every block they lie in is cached;
    /// returns whether it did (when not, `buf` holds nothing meaningful).
    pub fn read(&mut self, offset: u64, buf: &mut [u8]) -> bool {
        let mut done = 0;
        while done < buf.len() {
            let position = offset + done as u64;
            let within = (position % BLOCK) as usize;
            let n = (BLOCK as usize - within).min(buf.len() - done);
            let Some(bytes) = self.get(position / BLOCK) else {
                return false;
            };
            buf[done..done + n].copy_from_slice(&bytes[within..within + n]);
            done += n;
        }
        true
    }

    /// Keeps `bytes` (one whole block) as `block`, evicting another block when full.
    pub fn insert(&mut self, block: u64, bytes: &[u8]) {
        debug_assert_eq!(bytes.len() as u64, BLOCK);
        if let Some(&at) = self.index.get(&block) {
            self.slots[at].bytes.copy_from_slice(bytes);
            return;
        }
        let at = if self.slots.len() < self.capacity {
            self.slots.push(Slot {
                block,
                bytes: bytes.into(),
                referenced: false,
            });
            self.slots.len() - 1
        } else {
            let at = self.victim();
            let slot = &mut self.slots[at];
            self.index.remove(&slot.block);
            slot.block = block;
            slot.bytes.copy_from_slice(bytes);
            slot.referenced = false;
            at
        };
        self.index.insert(block, at);
    }

    /// The parts of a write of `data` at `offset` that change what the cache holds, as ranges
    /// of `data` (to 8-byte words: a span may carry a few unchanged bytes), with changes
    /// fewer than `gap` bytes apart joined; `None` when a block the write touches is not
    /// cached (then nothing is known about it).
    pub fn changed_spans(&self, offset: u64, data: &[u8], gap: usize) -> Option<Vec<Range<usize>>> {
        let mut spans: Vec<Range<usize>> = Vec::new();
        let mut done = 0;
        while done < data.len() {
            let position = offset + done as u64;
            let within = (position % BLOCK) as usize;
            let n = (BLOCK as usize - within).min(data.len() - done);
            let cached =
                &self.slots[*self.index.get(&(position / BLOCK))?].bytes[within..within + n];
            differences(cached, &data[done..done + n], done, gap, &mut spans);
            done += n;
        }
        Some(spans)
    }

    /// Applies a write of `data` at `offset` to the cached blocks it touches.
    pub fn patch(&mut self, offset: u64, data: &[u8]) {
        let mut done = 0;
        while done < data.len() {
            let position = offset + done as u64;
            let within = (position % BLOCK) as usize;
            let n = (BLOCK as usize - within).min(data.len() - done);
            if let Some(&at) = self.index.get(&(position / BLOCK)) {
                self.slots[at].bytes[within..within + n].copy_from_slice(&data[done..done + n]);
            }
            done += n;
        }
    }

    /// Forgets the blocks that `len` bytes at `offset` touch.
    pub fn forget(&mut self, offset: u64, len: usize) {
        for block in offset / BLOCK..(offset + len as u64).div_ceil(BLOCK) {
            if let Some(at) = self.index.remove(&block) {
                // The slot stays, holding a block nobody asks for, first in line for reuse.
                self.slots[at].block = u64::MAX;
                self.slots[at].referenced = false;
            }
        }
    }

    fn victim(&mut self) -> usize {
        loop {
            let at = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            let slot = &mut self.slots[at];
            if !slot.referenced {
                return at;
            }
            slot.referenced = false;
        }
    }
}

/// Adds to `spans` where `old` and `new` (of one length) differ, as ranges from `base`, a word
/// of 8 bytes at a time: a word-wise scan, since a byte-wise `memcmp` in WebAssembly costs
/// eight times as much over the mostly unchanged pages wasm-dbms rewrites.
fn differences(old: &[u8], new: &[u8], base: usize, gap: usize, spans: &mut Vec<Range<usize>>) {
    let mut add = |from: usize, to: usize| match spans.last_mut() {
        Some(last) if from < last.end + gap => last.end = to,
        _ => spans.push(from..to),
    };
    let (old_words, old_rest) = old.as_chunks::<8>();
    let (new_words, new_rest) = new.as_chunks::<8>();
    for (index, (a, b)) in old_words.iter().zip(new_words).enumerate() {
        if u64::from_ne_bytes(*a) != u64::from_ne_bytes(*b) {
            add(base + index * 8, base + index * 8 + 8);
        }
    }
    let words = old_words.len() * 8;
    for (index, (a, b)) in old_rest.iter().zip(new_rest).enumerate() {
        if a != b {
            add(base + words + index, base + words + index + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(fill: u8) -> Vec<u8> {
        vec![fill; BLOCK as usize]
    }

    #[test]
    fn a_full_cache_evicts_an_unreferenced_block() {
        let mut cache = BlockCache::new(2);
        cache.insert(1, &block(1));
        cache.insert(2, &block(2));
        assert_eq!(cache.get(1).unwrap()[0], 1);
        cache.insert(3, &block(3));
        assert!(cache.contains(1), "the referenced block stays");
        assert!(!cache.contains(2), "the unreferenced block goes");
        assert_eq!(cache.get(3).unwrap()[0], 3);
    }

    #[test]
    fn writes_patch_every_cached_block_they_cross() {
        let mut cache = BlockCache::new(4);
        cache.insert(0, &block(0));
        cache.insert(1, &block(0));
        cache.patch(BLOCK - 2, &[9, 9, 9, 9]);
        assert_eq!(&cache.get(0).unwrap()[BLOCK as usize - 2..], &[9, 9]);
        assert_eq!(&cache.get(1).unwrap()[..3], &[9, 9, 0]);
        cache.forget(BLOCK, 1);
        assert!(!cache.contains(1));
        assert!(cache.contains(0));
    }

    #[test]
    fn a_block_is_admitted_when_missed_again_while_remembered() {
        let mut cache = BlockCache::new(2);
        assert!(!cache.admit(5));
        assert!(cache.admit(5));
        assert!(!cache.admit(5), "admission uses the memory up");
        assert!(!cache.admit(6));
        assert!(!cache.admit(7), "full: the ghosts start over");
        assert!(!cache.admit(5));
    }

    #[test]
    fn only_the_changed_words_of_a_cached_range_are_spans() {
        let mut cache = BlockCache::new(4);
        cache.insert(0, &block(0));
        cache.insert(1, &block(0));
        let mut data = vec![0u8; 2 * BLOCK as usize];
        assert_eq!(cache.changed_spans(0, &data, 8), Some(vec![]));
        data[3] = 1;
        data[5] = 1;
        data[20] = 2;
        data[BLOCK as usize + 1] = 3;
        let second = BLOCK as usize;
        assert_eq!(
            cache.changed_spans(0, &data, 8),
            Some(vec![0..8, 16..24, second..second + 8])
        );
        assert_eq!(
            cache.changed_spans(0, &data, 64),
            Some(vec![0..24, second..second + 8])
        );
        // A write that starts inside a word: its own words, and a byte-wise tail.
        assert_eq!(cache.changed_spans(3, &data[3..13], 8), Some(vec![0..8]));
        assert_eq!(cache.changed_spans(5, &data[5..8], 8), Some(vec![0..1]));
        assert_eq!(cache.changed_spans(BLOCK, &[0; 10], 8), Some(vec![]));
        assert_eq!(
            cache.changed_spans(2 * BLOCK - 1, &[0; 2], 8),
            None,
            "block 2 is not cached"
        );
    }

    #[test]
    fn word_spans_cover_exactly_the_changed_bytes_and_nothing_far_from_them() {
        let mut state = 11u64;
        let mut next = |bound: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % bound
        };
        for _ in 0..200 {
            let old: Vec<u8> = (0..BLOCK).map(|i| (i % 7) as u8).collect();
            let mut cache = BlockCache::new(1);
            cache.insert(0, &old);
            let from = next(BLOCK) as usize;
            let to = from + next(BLOCK - from as u64 + 1) as usize;
            let mut new = old[from..to].to_vec();
            for _ in 0..next(6) {
                if !new.is_empty() {
                    let at = next(new.len() as u64) as usize;
                    new[at] = new[at].wrapping_add(1);
                }
            }
            let spans = cache.changed_spans(from as u64, &new, 1).unwrap();
            for (at, byte) in new.iter().enumerate() {
                if *byte != old[from + at] {
                    assert!(spans.iter().any(|s| s.contains(&at)), "byte {at} uncovered");
                }
            }
            let changed: Vec<usize> = (0..new.len())
                .filter(|at| new[*at] != old[from + at])
                .collect();
            for pair in spans.windows(2) {
                assert!(pair[0].end < pair[1].start, "spans apart and in order");
            }
            for span in &spans {
                assert!(span.end <= new.len());
                for at in span.clone() {
                    assert!(
                        changed.iter().any(|c| c.abs_diff(at) < 8),
                        "byte {at} is far from every change"
                    );
                }
            }
        }
    }

    #[test]
    fn reads_come_whole_from_cached_blocks_or_not_at_all() {
        let mut cache = BlockCache::new(2);
        cache.insert(3, &block(3));
        cache.insert(4, &block(4));
        let mut buf = [0u8; 6];
        assert!(cache.read(4 * BLOCK - 3, &mut buf));
        assert_eq!(buf, [3, 3, 3, 4, 4, 4]);
        assert!(
            !cache.read(5 * BLOCK - 1, &mut buf),
            "block 5 is not cached"
        );
        cache.forget(4 * BLOCK, 1);
        assert!(
            !cache.read(4 * BLOCK, &mut buf[..1]),
            "a forgotten block, read last before"
        );
        cache.insert(7, &block(7));
        cache.insert(8, &block(8));
        assert!(cache.read(7 * BLOCK, &mut buf[..2]));
        assert_eq!(&buf[..2], &[7, 7]);
    }

    #[test]
    fn a_disabled_cache_keeps_nothing() {
        assert!(!BlockCache::new(0).enabled());
    }
}
