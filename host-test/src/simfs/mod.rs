//! A simulated `wasi:filesystem` in memory, with fault injection and a power-cut model.
//!
//! A [`SimFs`] is a filesystem that components reach through `wasi:filesystem/types` and
//! `wasi:filesystem/preopens` (see [`add_to_linker`]; [`crate::WasiConfig::simulated`]
//! makes a store over one). The test keeps a clone of the handle while stores use it: it
//! can look at what a process sees, fail chosen calls ([`SimFs::fail_call`]), cap the
//! space ([`SimFs::set_capacity`]), and, from the trace of every change, compute what a
//! disk could hold had the power failed at any point ([`SimFs::crash_states`]). Each crash
//! state builds a fresh `SimFs` for the recovery. The model follows RocksDB's
//! `FaultInjectionTestFS`, SQLite's crash-test VFS and ALICE (OSDI 2014).
//!
//! # Semantics
//!
//! Calls answer as wasmtime-wasi does on Linux: paths are relative, `/` separated, and may
//! not leave the directory they start from (`..` past it, or an absolute path, is
//! `not-permitted`); `read` returns at most 64 KiB and reports `end` when it returned no
//! bytes; `write` is positional and writing past the end extends the file with zeros;
//! errors are those of POSIX (`exist`, `no-entry`, `not-directory`, `is-directory`,
//! `not-empty`, ...). There are no symbolic links, hard links, timestamps or streams:
//! those calls answer `unsupported`. One file is at most [`DEFAULT_MAX_FILE_SIZE`] bytes
//! unless [`SimFs::set_max_file_size`] says otherwise (`file-too-large` past it, a short
//! write when part fits). Names are case-sensitive unless [`SimFs::set_case_insensitive`]
//! makes the tree keep them folded to ASCII lower case (as macOS and Windows compare them).
//! `is-same-object` and `metadata-hash` answer as wasmtime does (by the node), or as jco's
//! preview2-shim does ([`Identity::LikeJco`]).
//!
//! One writer per file: an `open-at` of a regular file with the `write` descriptor flag
//! while another descriptor holding that flag is open on it answers `busy`, and changes
//! nothing (no truncation). The descriptor's drop releases it, as does dropping the store
//! (a process that dies). [`SimFs::set_write_locks`] turns that off, as on a host that
//! takes no locks (wasmtime-wasi alone, jco).
//!
//! # Faults
//!
//! Every call that can fail is counted ([`SimFs::calls`]); [`SimFs::fail_call`] makes the
//! Nth call from now, among all calls or chosen [`CallKind`]s, fail with a chosen
//! [`ErrorCode`] and no effect. A failed `sync` or `sync-data` leaves nothing durable (as
//! Linux after an `fsync` error: the data it should have flushed stays unsynced); a failed
//! sync of a directory also loses the writeback of its entry changes, so that a later sync
//! with nothing changed since makes them no more durable
//! ([`TraceEntry::DirectorySyncFailed`]). With a
//! capacity ([`SimFs::set_capacity`]), the sizes of all files together may not pass it:
//! a write that would is cut short to what fits, or fails with `insufficient-space` when
//! nothing fits; a `set-size` that would fails.
//!
//! # The crash model
//!
//! Every successful change is recorded in the trace ([`TraceEntry`]): file and directory
//! creation, writes with their bytes, size changes, syncs of files and of directories,
//! unlinks, renames and directory removals. A test inserts its own markers
//! ([`SimFs::mark`]) to know which of its operations had returned before a point. A *cut
//! point* `k` is a trace position: the power fails just before entry `k`, so entries
//! `0..k` happened. What the disk may then hold:
//!
//! - **File content and size.** `sync` and `sync-data` of a file make its content and
//!   size durable. Since its last sync, each 512-byte sector ([`SECTOR`]) of the file
//!   independently holds any one version from its history: the durable one, or the one
//!   after any write or size change since; so unsynced writes can be torn at sector
//!   boundaries and land out of order. The surviving size is the size at any point of the
//!   file's history since its last sync; bytes past it are gone, and bytes up to it that
//!   no surviving version covers read as zeros.
//! - **Directory entries.** Entry changes (create, unlink, rename, mkdir, rmdir) are not
//!   durable until the directory itself is synced (`sync` or `sync-data` of a descriptor
//!   of that directory; the preopened root can be synced like any other). A crash keeps a
//!   prefix, in order, of each directory's entry changes since its last sync,
//!   independently of other directories; a rename within one directory is one change, a
//!   rename between two is an unlink in one and a link in the other. A file or directory
//!   whose entry does not survive is gone, even if the file itself was synced (the strict
//!   reading, as `FaultInjectionTestFS`: a file's sync does not persist its name).
//!   Entries inside a subdirectory are made durable by syncing that subdirectory.
//!
//! At each cut point, [`CrashKind::KeepEverything`] is the disk after a process kill
//! (everything done is there), [`CrashKind::DropUnsynced`] keeps only what was synced
//! (`FaultInjectionTestFS`), and [`CrashKind::Random`] draws, from a seed, a prefix for
//! every directory, a size for every file and a version for every sector. A
//! [`CrashReplay`] walks the trace once with an incremental state, so that states at many
//! increasing cut points cost one pass over the trace plus one copy of the surviving files
//! per state.
//!
//! The initial files of [`SimFs::from_files`] are durable; [`SimFs::write_durable`] records
//! its file as a program would make it durable (its bytes, the file's sync and the sync of
//! every directory up to the root).

mod crash;
mod fault;
mod trace;
mod tree;
mod wasi;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub use self::crash::{CrashCase, CrashKind, CrashReplay, CrashState, CrashStates, SECTOR};
pub use self::fault::{CallKind, CallKinds};
pub use self::trace::{NodeId, TraceEntry};
pub use self::tree::MAX_READ;
pub use self::wasi::bindings::wasi::filesystem::types::ErrorCode;
pub use self::wasi::{
    SimDescriptor, SimDirectoryEntries, SimFsHost, SimFsView, add_to_linker, bindings,
};

use self::fault::Faults;
use self::tree::{Content, Snapshot, Tree};

/// The largest file a simulated filesystem holds unless told otherwise: 1 GiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1 << 30;

/// How the filesystem answers the identity calls `is-same-object` and `metadata-hash`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Identity {
    /// As wasmtime-wasi: two descriptors of one file are the same object, and the hash is
    /// the file's (device and inode), whatever is written.
    #[default]
    Inode,
    /// As jco's preview2-shim: `is-same-object` holds for one descriptor only, and the hash
    /// is the file's modification time and inode, so it changes whenever the file is
    /// written.
    LikeJco,
}

/// A shared handle to one simulated filesystem: clones see the same files.
#[derive(Clone)]
pub struct SimFs {
    state: Arc<Mutex<SimState>>,
}

/// Everything behind the handle.
struct SimState {
    tree: Tree,
    faults: Faults,
    /// The durable state at trace position 0.
    base: Arc<Snapshot>,
    /// `(directory inside the simulation, name the guest sees)` of each preopen.
    preopens: Vec<(String, String)>,
    identity: Identity,
}

impl Default for SimFs {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SimFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("SimFs")
            .field("preopens", &state.preopens)
            .field("used_bytes", &state.tree.used_bytes())
            .field("trace_len", &state.tree.trace().len())
            .field("calls", &state.faults.calls())
            .finish()
    }
}

impl SimFs {
    /// An empty filesystem: the root directory, preopened as `.`.
    pub fn new() -> Self {
        Self::from_files(std::iter::empty::<(&str, &[u8])>())
    }

    /// A filesystem holding `files` (`(path from the root, bytes)`), all of it durable;
    /// directories on the paths are created.
    pub fn from_files<P: AsRef<str>, B: AsRef<[u8]>>(
        files: impl IntoIterator<Item = (P, B)>,
    ) -> Self {
        let files: Vec<(P, B)> = files.into_iter().collect();
        Self::build(
            files
                .iter()
                .map(|(path, bytes)| (path.as_ref(), bytes.as_ref())),
            std::iter::empty(),
        )
    }

    /// A filesystem holding a crash state, all of it durable: the disk after the power cut.
    pub fn from_crash_state(state: &CrashState) -> Self {
        Self::build(
            state
                .files
                .iter()
                .map(|(path, bytes)| (path.as_str(), bytes.as_slice())),
            state.directories.iter().map(String::as_str),
        )
    }

    fn build<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        directories: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut tree = Tree::new(DEFAULT_MAX_FILE_SIZE);
        tree.populate(files, directories);
        let base = Arc::new(tree.snapshot());
        Self {
            state: Arc::new(Mutex::new(SimState {
                tree,
                faults: Faults::default(),
                base,
                preopens: vec![(String::new(), ".".to_owned())],
                identity: Identity::default(),
            })),
        }
    }

    /// Replaces the preopens: `(directory inside the simulation, name the guest sees)`.
    /// A directory that does not exist when the guest asks is left out.
    pub fn set_preopens(&self, preopens: &[(&str, &str)]) {
        self.lock().preopens = preopens
            .iter()
            .map(|(path, name)| ((*path).to_owned(), (*name).to_owned()))
            .collect();
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // A test that panicked while holding the lock leaves a consistent state: every
        // change is made whole or not at all before the lock is released.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The bytes of the file at `path` (from the root) as a process sees them now.
    pub fn read(&self, path: &str) -> Option<Vec<u8>> {
        let state = self.lock();
        match state.tree.content(state.tree.find(path)?)? {
            Content::File(bytes) => Some(bytes.clone()),
            Content::Directory { .. } => None,
        }
    }

    /// Whether a file or directory is at `path` now.
    pub fn exists(&self, path: &str) -> bool {
        self.lock().tree.find(path).is_some()
    }

    /// Whether a directory is at `path` now.
    pub fn is_directory(&self, path: &str) -> bool {
        let state = self.lock();
        state
            .tree
            .find(path)
            .and_then(|node| state.tree.content(node))
            .is_some_and(|content| matches!(content, Content::Directory { .. }))
    }

    /// Every file and directory as a process sees them now.
    pub fn current_state(&self) -> CrashState {
        let (files, directories) = self.lock().tree.files_and_directories();
        CrashState {
            files,
            directories: directories.into_iter().collect(),
        }
    }

    /// Every file as a process sees it now, by path.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.lock().tree.files_and_directories().0
    }

    /// Creates or replaces the file at `path` with `bytes` and makes it durable, for a
    /// test's setup: recorded as a program would do it (see [the module](self)), counted as
    /// no call, and exempt from faults and limits.
    pub fn write_durable(&self, path: &str, bytes: &[u8]) {
        self.lock().tree.put_durable(path, bytes);
    }

    /// Calls counted so far (every call that can fail).
    pub fn calls(&self) -> u64 {
        self.lock().faults.calls()
    }

    /// Calls of `kind` counted so far.
    pub fn calls_of(&self, kind: CallKind) -> u64 {
        self.lock().faults.calls_of(kind)
    }

    /// Calls failed by an injected fault so far.
    pub fn injected_faults(&self) -> u64 {
        self.lock().faults.injected()
    }

    /// Fails the `nth` call from now (1: the next) among `kinds` with `error`, once; the
    /// call has no effect.
    pub fn fail_call(&self, nth: u64, kinds: impl Into<CallKinds>, error: ErrorCode) {
        self.lock().faults.arm(nth, kinds.into(), error, false);
    }

    /// Fails the `nth` call from now among `kinds` and every later one among them with
    /// `error` (a device that died), until [`SimFs::clear_faults`].
    pub fn fail_calls_from(&self, nth: u64, kinds: impl Into<CallKinds>, error: ErrorCode) {
        self.lock().faults.arm(nth, kinds.into(), error, true);
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Caps the bytes all files together may hold (`None`: no cap).
    pub fn set_capacity(&self, bytes: Option<u64>) {
        self.lock().tree.capacity = bytes;
    }

    /// The bytes all files hold now (files unlinked but still open included).
    pub fn used_bytes(&self) -> u64 {
        self.lock().tree.used_bytes()
    }

    /// Makes names case-insensitive (set before any file exists: names already in the
    /// tree are not folded).
    pub fn set_case_insensitive(&self, on: bool) {
        self.lock().tree.case_insensitive = on;
    }

    /// Turns the one-writer lock on or off (on unless told otherwise).
    pub fn set_write_locks(&self, on: bool) {
        self.lock().tree.write_locks = on;
    }

    /// Sets how `is-same-object` and `metadata-hash` answer.
    pub fn set_identity(&self, identity: Identity) {
        self.lock().identity = identity;
    }

    /// How `is-same-object` and `metadata-hash` answer.
    fn identity(&self) -> Identity {
        self.lock().identity
    }

    /// How many times the bytes or size of `node` changed.
    fn modified(&self, node: NodeId) -> u64 {
        self.lock().tree.modified(node)
    }

    /// Sets the largest size of one file.
    pub fn set_max_file_size(&self, bytes: u64) {
        self.lock().tree.max_file_size = bytes;
    }

    /// Inserts the marker `mark` in the trace; returns its position.
    pub fn mark(&self, mark: u64) -> usize {
        self.lock().tree.mark(mark)
    }

    /// The number of trace entries: the last cut point.
    pub fn trace_len(&self) -> usize {
        self.lock().tree.trace().len()
    }

    /// A copy of the trace (write data is shared, not copied).
    pub fn trace(&self) -> Vec<TraceEntry> {
        self.lock().tree.trace().to_vec()
    }

    /// A replay of the trace so far, at cut point 0.
    pub fn replay(&self) -> CrashReplay {
        let state = self.lock();
        CrashReplay::new(&state.base, Arc::from(state.tree.trace()))
    }

    /// Crash states at each of `cuts` (in increasing order, duplicates once): keep
    /// everything, drop everything unsynced, and `random_per_cut` random mixes drawn from
    /// `seed`. Lazy: each state is built when the iterator reaches it.
    ///
    /// # Panics
    /// While iterating, at a cut point past the end of the trace.
    pub fn crash_states(
        &self,
        cuts: impl IntoIterator<Item = usize>,
        random_per_cut: usize,
        seed: u64,
    ) -> CrashStates {
        CrashStates::new(self.replay(), cuts, random_per_cut, seed)
    }

    /// Runs `op` on the tree as a call of `kind`, unless a fault fails it first.
    fn call<R>(
        &self,
        kind: CallKind,
        op: impl FnOnce(&mut Tree) -> Result<R, ErrorCode>,
    ) -> Result<R, ErrorCode> {
        let mut state = self.lock();
        if let Some(error) = state.faults.enter(kind) {
            return Err(error);
        }
        op(&mut state.tree)
    }

    /// A `sync` or `sync-data` (`kind`) of `node`: recorded when it succeeds; when a fault
    /// fails it, a directory's pending entry changes lose their writeback.
    fn sync(&self, kind: CallKind, node: NodeId) -> Result<(), ErrorCode> {
        let mut state = self.lock();
        if let Some(error) = state.faults.enter(kind) {
            state.tree.sync_failed(node);
            return Err(error);
        }
        state.tree.sync(node);
        Ok(())
    }

    /// Closes a descriptor of `node`.
    fn release(&self, node: NodeId, writer: bool) {
        self.lock().tree.release(node, writer);
    }

    /// Whether `other` is a handle to this same filesystem.
    fn same(&self, other: &SimFs) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }

    /// Opens a descriptor of every preopen that exists: `(directory, guest name)`.
    fn hold_preopens(&self) -> Vec<(NodeId, String)> {
        let mut state = self.lock();
        let found: Vec<(NodeId, String)> = state
            .preopens
            .iter()
            .filter_map(|(path, name)| {
                let node = state.tree.find(path)?;
                let is_directory = matches!(state.tree.content(node)?, Content::Directory { .. });
                is_directory.then(|| (node, name.clone()))
            })
            .collect();
        for (node, _) in &found {
            state.tree.hold(*node);
        }
        found
    }
}
