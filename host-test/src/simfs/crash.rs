//! The crash model: what a disk could hold if the power failed at a point of the trace.
//!
//! The rules are those of [the module](super#the-crash-model). [`CrashReplay`] walks the
//! trace once, keeping for every file its durable bytes, its current bytes and the changes
//! since its last sync, and for every directory its durable entries and the entry changes
//! since its last sync; a crash state at the current point costs one copy of the files
//! that survive plus the changes since their last sync, whatever the point.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

use super::SimFs;
use super::trace::{NodeId, TraceEntry};
use super::tree::Snapshot;

/// The unit of a disk write: a crash keeps each sector of a file from one of its versions.
pub const SECTOR: u64 = 512;

/// A disk's content after a power cut: files by path (`a/b.db`), and every directory.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CrashState {
    /// Each surviving file's bytes, by its path from the root.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Each surviving directory (the root excepted), by its path from the root.
    pub directories: BTreeSet<String>,
}

impl CrashState {
    /// The bytes of the file at `path`, if it survived.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// A fresh simulated filesystem holding this state, all of it durable: the disk a
    /// recovery starts from.
    pub fn to_fs(&self) -> SimFs {
        SimFs::from_crash_state(self)
    }
}

impl fmt::Debug for CrashState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (path, bytes) in &self.files {
            map.entry(
                path,
                &format_args!("{} bytes, fnv1a {:016x}", bytes.len(), fnv1a(bytes)),
            );
        }
        for directory in &self.directories {
            map.entry(&format_args!("{directory}/"), &format_args!("directory"));
        }
        map.finish()
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Which crash state to build at a cut point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashKind {
    /// Everything the processes did is on disk: a process kill, not a power cut.
    KeepEverything,
    /// Only what was synced is on disk (RocksDB's `FaultInjectionTestFS`): each file as
    /// at its last sync, each directory's entries as at its last sync.
    DropUnsynced,
    /// A mix drawn from `seed`: per directory a prefix of its unsynced entry changes, per
    /// file a size from its unsynced history and per sector a version from it.
    Random {
        /// The seed of the draws.
        seed: u64,
    },
}

/// One crash state of a sweep over cut points.
#[derive(Clone, Debug)]
pub struct CrashCase {
    /// The trace position the power failed before.
    pub cut: usize,
    /// The last marker the test inserted before the cut, if any.
    pub last_mark: Option<u64>,
    /// How the state was drawn.
    pub kind: CrashKind,
    /// What the disk holds.
    pub state: CrashState,
}

/// A change of a file since its last sync.
#[derive(Clone)]
enum FileEvent {
    Write { offset: u64, data: Arc<[u8]> },
    SetSize { from: u64, to: u64 },
}

impl FileEvent {
    /// The bytes whose content the event sets (a shrink zeroes what it cuts off, so that a
    /// later growth reads zeros), as a range.
    fn touched(&self) -> (u64, u64) {
        match self {
            FileEvent::Write { offset, data } => (*offset, offset + data.len() as u64),
            FileEvent::SetSize { from, to } if to < from => (*to, *from),
            FileEvent::SetSize { .. } => (0, 0),
        }
    }

    /// The file's size after the event, from the size before.
    fn size_after(&self, before: u64) -> u64 {
        match self {
            FileEvent::Write { offset, data } => before.max(offset + data.len() as u64),
            FileEvent::SetSize { to, .. } => *to,
        }
    }

    /// Applies the event to `bytes` (a file's exact content).
    fn apply(&self, bytes: &mut Vec<u8>) {
        match self {
            FileEvent::Write { offset, data } => {
                let (start, end) = (*offset as usize, *offset as usize + data.len());
                if bytes.len() < end {
                    bytes.resize(end, 0);
                }
                bytes[start..end].copy_from_slice(data);
            }
            FileEvent::SetSize { to, .. } => bytes.resize(*to as usize, 0),
        }
    }

    /// Applies the part of the event that falls in `[start, end)` to `bytes`, a file's
    /// content extended with zeros past its size.
    fn apply_within(&self, bytes: &mut [u8], start: u64, end: u64) {
        let (from, to) = self.touched();
        let (lo, hi) = (from.max(start), to.min(end));
        if lo >= hi {
            return;
        }
        match self {
            FileEvent::Write { offset, data } => bytes[lo as usize..hi as usize]
                .copy_from_slice(&data[(lo - offset) as usize..(hi - offset) as usize]),
            FileEvent::SetSize { .. } => bytes[lo as usize..hi as usize].fill(0),
        }
    }
}

/// A file as the replay keeps it.
#[derive(Clone, Default)]
struct ReplayFile {
    /// The content at the last sync.
    durable: Vec<u8>,
    /// The content now.
    current: Vec<u8>,
    /// The changes since the last sync, in order.
    events: Vec<FileEvent>,
}

impl ReplayFile {
    fn synced(bytes: Vec<u8>) -> Self {
        Self {
            durable: bytes.clone(),
            current: bytes,
            events: Vec::new(),
        }
    }

    fn change(&mut self, event: FileEvent) {
        event.apply(&mut self.current);
        self.events.push(event);
    }

    fn sync(&mut self) {
        for event in self.events.drain(..) {
            event.apply(&mut self.durable);
        }
    }

    /// A random version: a size from the history since the last sync, and per sector the
    /// sector's content after one of the changes since (or at the sync), uniformly.
    fn mixed(&self, rng: &mut SplitMix) -> Vec<u8> {
        if self.events.is_empty() {
            return self.durable.clone();
        }
        let mut sizes = Vec::with_capacity(self.events.len() + 1);
        sizes.push(self.durable.len() as u64);
        for event in &self.events {
            let before = *sizes.last().expect("a size");
            sizes.push(event.size_after(before));
        }
        let size = sizes[rng.below(sizes.len() as u64) as usize];
        let extent = sizes.iter().copied().max().expect("a size");
        let sectors = extent.div_ceil(SECTOR) as usize;
        // Reservoir sampling: the k-th version of a sector replaces the choice with
        // probability 1/k, which leaves each version chosen with equal probability.
        let mut versions = vec![1u64; sectors];
        let mut chosen = vec![0usize; sectors];
        for (index, event) in self.events.iter().enumerate() {
            let (from, to) = event.touched();
            for sector in sector_range(from, to) {
                versions[sector] += 1;
                if rng.below(versions[sector]) == 0 {
                    chosen[sector] = index + 1;
                }
            }
        }
        let mut bytes = self.durable.clone();
        bytes.resize(extent as usize, 0);
        for (index, event) in self.events.iter().enumerate() {
            let (from, to) = event.touched();
            for sector in sector_range(from, to) {
                if chosen[sector] > index {
                    let start = sector as u64 * SECTOR;
                    event.apply_within(&mut bytes, start, (start + SECTOR).min(extent));
                }
            }
        }
        bytes.truncate(size as usize);
        bytes
    }
}

/// The sectors that `[from, to)` touches.
fn sector_range(from: u64, to: u64) -> std::ops::Range<usize> {
    if from >= to {
        return 0..0;
    }
    (from / SECTOR) as usize..to.div_ceil(SECTOR) as usize
}

/// A change of a directory's entries since its last sync.
#[derive(Clone)]
enum EntryChange {
    Link {
        name: String,
        node: NodeId,
    },
    Unlink {
        name: String,
    },
    Move {
        from: String,
        to: String,
        node: NodeId,
    },
}

impl EntryChange {
    fn apply(&self, entries: &mut BTreeMap<String, NodeId>) {
        match self {
            EntryChange::Link { name, node } => {
                entries.insert(name.clone(), *node);
            }
            EntryChange::Unlink { name } => {
                entries.remove(name);
            }
            EntryChange::Move { from, to, node } => {
                entries.remove(from);
                entries.insert(to.clone(), *node);
            }
        }
    }
}

/// A directory as the replay keeps it.
#[derive(Clone, Default)]
struct ReplayDirectory {
    durable: BTreeMap<String, NodeId>,
    pending: Vec<EntryChange>,
    /// A failed sync lost the writeback of the pending changes, and none came since: a
    /// sync now writes nothing.
    writeback_lost: bool,
}

impl ReplayDirectory {
    fn change(&mut self, change: EntryChange) {
        self.pending.push(change);
        self.writeback_lost = false;
    }

    fn sync(&mut self) {
        if self.writeback_lost {
            return;
        }
        for change in self.pending.drain(..) {
            change.apply(&mut self.durable);
        }
    }

    fn sync_failed(&mut self) {
        self.writeback_lost = !self.pending.is_empty();
    }

    /// The entries after the durable ones and the first `kept` unsynced changes.
    fn entries(&self, kept: usize) -> BTreeMap<String, NodeId> {
        let mut entries = self.durable.clone();
        for change in &self.pending[..kept] {
            change.apply(&mut entries);
        }
        entries
    }
}

/// SplitMix64: small, seeded and reproducible.
#[derive(Clone)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// How one state draws its choices.
enum Chooser {
    Keep,
    Drop,
    Random(SplitMix),
}

impl Chooser {
    fn new(kind: CrashKind) -> Self {
        match kind {
            CrashKind::KeepEverything => Chooser::Keep,
            CrashKind::DropUnsynced => Chooser::Drop,
            CrashKind::Random { seed } => Chooser::Random(SplitMix(seed)),
        }
    }

    /// How many of `pending` unsynced entry changes survive.
    fn prefix(&mut self, pending: usize) -> usize {
        match self {
            Chooser::Keep => pending,
            Chooser::Drop => 0,
            Chooser::Random(_) if pending == 0 => 0,
            Chooser::Random(rng) => rng.below(pending as u64 + 1) as usize,
        }
    }

    fn file(&mut self, file: &ReplayFile) -> Vec<u8> {
        match self {
            Chooser::Keep => file.current.clone(),
            Chooser::Drop => file.durable.clone(),
            Chooser::Random(rng) => file.mixed(rng),
        }
    }
}

/// The trace replayed up to a cut point, from which crash states at that point are built.
///
/// Cut points only move forward ([`CrashReplay::advance_to`]), so that a sweep over many
/// cut points costs one pass over the trace.
pub struct CrashReplay {
    trace: Arc<[TraceEntry]>,
    position: usize,
    last_mark: Option<u64>,
    files: HashMap<NodeId, ReplayFile>,
    directories: HashMap<NodeId, ReplayDirectory>,
}

impl CrashReplay {
    /// A replay of `trace` from the durable state `base`, at cut point 0.
    pub(crate) fn new(base: &Snapshot, trace: Arc<[TraceEntry]>) -> Self {
        Self {
            trace,
            position: 0,
            last_mark: None,
            files: base
                .files
                .iter()
                .map(|(node, bytes)| (*node, ReplayFile::synced(bytes.clone())))
                .collect(),
            directories: base
                .directories
                .iter()
                .map(|(node, entries)| {
                    let directory = ReplayDirectory {
                        durable: entries.clone(),
                        pending: Vec::new(),
                        writeback_lost: false,
                    };
                    (*node, directory)
                })
                .collect(),
        }
    }

    /// The current cut point: entries before it happened, the rest did not.
    pub fn position(&self) -> usize {
        self.position
    }

    /// The trace's length: the last cut point (after everything).
    pub fn trace_len(&self) -> usize {
        self.trace.len()
    }

    /// The last marker before the cut point.
    pub fn last_mark(&self) -> Option<u64> {
        self.last_mark
    }

    /// Moves the cut point forward to `cut`.
    ///
    /// # Panics
    /// When `cut` lies before the current point or past the end of the trace.
    pub fn advance_to(&mut self, cut: usize) {
        assert!(
            (self.position..=self.trace.len()).contains(&cut),
            "cut point {cut} outside {}..={}",
            self.position,
            self.trace.len()
        );
        while self.position < cut {
            let trace = Arc::clone(&self.trace);
            self.apply(&trace[self.position]);
            self.position += 1;
        }
    }

    fn file(&mut self, node: NodeId) -> &mut ReplayFile {
        self.files.get_mut(&node).expect("a file of the trace")
    }

    fn directory(&mut self, node: NodeId) -> &mut ReplayDirectory {
        self.directories
            .get_mut(&node)
            .expect("a directory of the trace")
    }

    fn apply(&mut self, entry: &TraceEntry) {
        match entry {
            TraceEntry::CreateFile {
                directory,
                name,
                node,
            } => {
                self.files.insert(*node, ReplayFile::default());
                self.directory(*directory).change(EntryChange::Link {
                    name: name.clone(),
                    node: *node,
                });
            }
            TraceEntry::CreateDirectory {
                directory,
                name,
                node,
            } => {
                self.directories.insert(*node, ReplayDirectory::default());
                self.directory(*directory).change(EntryChange::Link {
                    name: name.clone(),
                    node: *node,
                });
            }
            TraceEntry::Write { node, offset, data } => {
                self.file(*node).change(FileEvent::Write {
                    offset: *offset,
                    data: Arc::clone(data),
                });
            }
            TraceEntry::SetSize { node, from, to } => {
                self.file(*node).change(FileEvent::SetSize {
                    from: *from,
                    to: *to,
                });
            }
            TraceEntry::SyncFile { node } => self.file(*node).sync(),
            TraceEntry::SyncDirectory { node } => self.directory(*node).sync(),
            TraceEntry::DirectorySyncFailed { node } => self.directory(*node).sync_failed(),
            TraceEntry::Unlink {
                directory, name, ..
            }
            | TraceEntry::RemoveDirectory {
                directory, name, ..
            } => {
                self.directory(*directory)
                    .change(EntryChange::Unlink { name: name.clone() });
            }
            TraceEntry::Rename {
                from_directory,
                from_name,
                to_directory,
                to_name,
                node,
                ..
            } => {
                if from_directory == to_directory {
                    self.directory(*from_directory).change(EntryChange::Move {
                        from: from_name.clone(),
                        to: to_name.clone(),
                        node: *node,
                    });
                } else {
                    self.directory(*from_directory).change(EntryChange::Unlink {
                        name: from_name.clone(),
                    });
                    self.directory(*to_directory).change(EntryChange::Link {
                        name: to_name.clone(),
                        node: *node,
                    });
                }
            }
            TraceEntry::Mark(mark) => self.last_mark = Some(*mark),
        }
    }

    /// The crash state of `kind` at the current cut point.
    pub fn state(&self, kind: CrashKind) -> CrashState {
        let mut builder = StateBuilder {
            replay: self,
            chooser: Chooser::new(kind),
            state: CrashState::default(),
            first_path: HashMap::new(),
            ancestors: vec![NodeId::ROOT],
        };
        builder.walk(NodeId::ROOT, "");
        builder.state
    }
}

/// The walk from the root that builds one crash state.
struct StateBuilder<'a> {
    replay: &'a CrashReplay,
    chooser: Chooser,
    state: CrashState,
    /// The path a file was first reached by: a file that two surviving entries name (a
    /// rename between directories whose two halves both survived) has one content.
    first_path: HashMap<NodeId, String>,
    /// The directories being walked, so that entries that would loop are skipped.
    ancestors: Vec<NodeId>,
}

impl StateBuilder<'_> {
    fn walk(&mut self, directory: NodeId, prefix: &str) {
        let replay = self.replay;
        let Some(dir) = replay.directories.get(&directory) else {
            return;
        };
        let kept = self.chooser.prefix(dir.pending.len());
        for (name, node) in dir.entries(kept) {
            let path = format!("{prefix}{name}");
            if replay.directories.contains_key(&node) {
                if self.ancestors.contains(&node) {
                    continue;
                }
                self.state.directories.insert(path.clone());
                self.ancestors.push(node);
                self.walk(node, &format!("{path}/"));
                self.ancestors.pop();
            } else if let Some(file) = replay.files.get(&node) {
                let bytes = match self.first_path.get(&node) {
                    Some(first) => self.state.files[first].clone(),
                    None => {
                        self.first_path.insert(node, path.clone());
                        self.chooser.file(file)
                    }
                };
                self.state.files.insert(path, bytes);
            }
        }
    }
}

/// The seed of the `index`-th random state at cut point `cut` of a sweep seeded `seed`.
fn state_seed(seed: u64, cut: usize, index: usize) -> u64 {
    let mut rng = SplitMix(seed ^ (cut as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    rng.next() ^ SplitMix(index as u64).next()
}

/// Crash states at increasing cut points: at each, [`CrashKind::KeepEverything`],
/// [`CrashKind::DropUnsynced`], then random mixes, each from its own seed.
pub struct CrashStates {
    replay: CrashReplay,
    cuts: std::vec::IntoIter<usize>,
    random_per_cut: usize,
    seed: u64,
    queue: VecDeque<CrashKind>,
}

impl CrashStates {
    /// The sweep of `replay` over `cuts` (sorted here, duplicates dropped).
    pub(crate) fn new(
        replay: CrashReplay,
        cuts: impl IntoIterator<Item = usize>,
        random_per_cut: usize,
        seed: u64,
    ) -> Self {
        let mut cuts: Vec<usize> = cuts.into_iter().collect();
        cuts.sort_unstable();
        cuts.dedup();
        Self {
            replay,
            cuts: cuts.into_iter(),
            random_per_cut,
            seed,
            queue: VecDeque::new(),
        }
    }
}

impl Iterator for CrashStates {
    type Item = CrashCase;

    fn next(&mut self) -> Option<CrashCase> {
        loop {
            if let Some(kind) = self.queue.pop_front() {
                return Some(CrashCase {
                    cut: self.replay.position(),
                    last_mark: self.replay.last_mark(),
                    kind,
                    state: self.replay.state(kind),
                });
            }
            let cut = self.cuts.next()?;
            self.replay.advance_to(cut);
            self.queue.push_back(CrashKind::KeepEverything);
            self.queue.push_back(CrashKind::DropUnsynced);
            for index in 0..self.random_per_cut {
                let seed = state_seed(self.seed, cut, index);
                self.queue.push_back(CrashKind::Random { seed });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(offset: u64, bytes: &[u8]) -> FileEvent {
        FileEvent::Write {
            offset,
            data: Arc::from(bytes),
        }
    }

    #[test]
    fn sector_ranges_cover_partial_sectors() {
        assert_eq!(sector_range(0, 0), 0..0);
        assert_eq!(sector_range(0, 1), 0..1);
        assert_eq!(sector_range(511, 513), 0..2);
        assert_eq!(sector_range(512, 1024), 1..2);
    }

    #[test]
    fn a_mixed_version_takes_each_sector_from_one_version() {
        let mut file = ReplayFile::synced(vec![0xAA; 1024]);
        file.change(write(0, &[0xBB; 1024]));
        file.change(write(0, &[0xCC; 1024]));
        let mut seen = BTreeSet::new();
        for seed in 0..200 {
            let bytes = file.mixed(&mut SplitMix(seed));
            assert_eq!(bytes.len(), 1024);
            let (first, second) = bytes.split_at(512);
            assert!(first.iter().all(|b| *b == first[0]));
            assert!(second.iter().all(|b| *b == second[0]));
            seen.insert((first[0], second[0]));
        }
        // Three versions per sector, two independent sectors: nine combinations.
        assert_eq!(seen.len(), 9);
    }

    #[test]
    fn a_shrink_then_growth_reads_zeros_in_every_later_version() {
        let mut file = ReplayFile::synced(vec![7; 600]);
        file.change(FileEvent::SetSize { from: 600, to: 100 });
        file.change(FileEvent::SetSize { from: 100, to: 600 });
        assert_eq!(&file.current[..100], &[7; 100][..]);
        assert!(file.current[100..].iter().all(|b| *b == 0));
        let mut seen = BTreeSet::new();
        for seed in 0..300 {
            let bytes = file.mixed(&mut SplitMix(seed));
            assert!(bytes[..100].iter().all(|b| *b == 7));
            let uniform = |range: std::ops::Range<usize>| {
                let part = &bytes[range];
                assert!(part.iter().all(|b| *b == part[0]));
                part[0]
            };
            if bytes.len() == 100 {
                seen.insert((100, None));
            } else {
                assert_eq!(bytes.len(), 600);
                seen.insert((600, Some((uniform(100..512), uniform(512..600)))));
            }
        }
        let expected = BTreeSet::from([
            (100, None),
            (600, Some((7, 7))),
            (600, Some((7, 0))),
            (600, Some((0, 7))),
            (600, Some((0, 0))),
        ]);
        assert_eq!(seen, expected);
    }
}
