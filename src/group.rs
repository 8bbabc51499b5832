//! An open crash-atomic group: its writes, in order, and the size it grew to, kept in memory
//! until the group commits.

/// The pending state of a group.
pub struct Group {
    /// The page count the group has reached.
    pub pages: u64,
    /// `(offset, bytes)` of every write, in order.
    pub writes: Vec<(u64, Vec<u8>)>,
}

impl Group {
    /// A group over a memory of `pages` pages.
    pub fn new(pages: u64) -> Self {
        Self {
            pages,
            writes: Vec::new(),
        }
    }

    /// Lays the group's writes over `out`, which holds the bytes at `offset` as the file has
    /// them.
    pub fn overlay(&self, offset: u64, out: &mut [u8]) {
        let end = offset + out.len() as u64;
        for (at, data) in &self.writes {
            let from = offset.max(*at);
            let to = end.min(at + data.len() as u64);
            if from < to {
                let (dst, src) = ((from - offset) as usize, (from - at) as usize);
                let n = (to - from) as usize;
                out[dst..dst + n].copy_from_slice(&data[src..src + n]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_writes_win_and_only_the_overlap_is_laid() {
        let mut group = Group::new(1);
        group.writes.push((2, vec![1, 1, 1, 1]));
        group.writes.push((4, vec![2, 2, 2, 2]));
        let mut out = [0u8; 6];
        group.overlay(1, &mut out);
        assert_eq!(out, [0, 1, 1, 2, 2, 2]);
    }
}
