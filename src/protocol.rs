//! The protocol: the order of writes, syncs and removals that makes a group's commit atomic
//! and durable, and the recovery at `open`, top to bottom. The journal's byte format is in
//! `journal.rs`; this module decides what is written when.
//!
//! The memory's file is always current as a process sees it: groups are applied to it in
//! place when they commit, and writes outside groups go straight to it. The journal beside
//! it (`<file>-journal`) holds, as records, the groups committed since the last checkpoint,
//! so that after a crash they can be applied again over whatever the file kept.
//!
//! The invariants every step keeps:
//! 1. **Replay never undoes later work.** The records in the journal are exactly the groups
//!    committed since the last checkpoint, in order, and no write or growth outside a group
//!    comes after any of them: such a change first checkpoints a journal that could replay
//!    anything. Applying the records again over any crash state of the file therefore ends in
//!    the state after the last of them.
//! 2. **A record is complete before the file changes.** A commit writes its whole record
//!    (its last hash last) before it grows or writes the file; a durable one also syncs it.
//!    A crash before that leaves the file untouched and a record that never reads back as
//!    complete; a crash after it leaves a record that recovery completes.
//! 3. **Durable means on stable storage, with everything before it.** A durable commit
//!    returns only once its record, the journal's header and the journal's directory entry
//!    are on stable storage, and after writes and growths made outside groups before it are
//!    (the file is synced first when it holds any): a power loss keeps a prefix of the
//!    operations that contains it.
//! 4. **Records leave the journal only once the file holds them durably.** A checkpoint
//!    syncs the file before it starts a new generation of the journal (a new header whose
//!    generation no old record carries), and syncs that header before any record of the new
//!    generation is written.
//! 5. **A failed commit is gone or certain to complete.** Before the file changes, a failure
//!    withdraws the record (truncates the journal before it) and the group is discarded; a
//!    failure once the file may have changed, or when the record cannot be withdrawn, leaves
//!    the record whole, and the memory must be reopened, which completes it.
//! 6. **The file's and the journal's names survive a power loss** once a durable commit or a
//!    `sync` returns: a file created by `open` has its directory synced at once, a journal
//!    when it is first used by a durable commit or a `sync`.

use crate::bindings::exports::wasm_dbms::memory::memory_provider::{MemoryError, Recovery};
use crate::bounds::{Limits, PAGE_SIZE};
use crate::error::{describe, io_detail};
use crate::file::File;
use crate::group::Group;
use crate::journal::{self, Cursor, HEADER_LEN, Kind, Position};
use crate::legacy;
use crate::location::Location;

/// A memory's file and journal, and what of them is not yet on stable storage.
pub struct Storage {
    location: Location,
    file: File,
    /// The committed page count: the file's size over the page size.
    pages: u64,
    /// The journal, once a commit (or the file found at open) made one.
    journal: Option<Journal>,
    /// Writes or growths outside groups since the file's last sync.
    file_unsynced: bool,
    limits: Limits,
}

/// The open journal and where its next record goes.
struct Journal {
    file: File,
    /// The next record's generation, sequence and chain.
    next: Position,
    /// The offset past the last record.
    end: u64,
    /// Whether the header of `next.generation` is known to be on stable storage.
    header_durable: bool,
    /// Whether the journal's directory entry is known to be on stable storage.
    entry_durable: bool,
    /// Records appended since the journal's last sync.
    unsynced: bool,
}

impl Journal {
    /// Whether a crash now could leave records for recovery to apply.
    fn replayable(&self) -> bool {
        self.next.sequence > 0 || !self.header_durable
    }

    /// Starts generation `generation` in `file`: its header is written and synced, and the
    /// records of earlier generations behind it no longer count. A journal larger than
    /// `keep` bytes is truncated to its header on the way.
    fn start(file: File, generation: u64, keep: u64) -> Result<Self, MemoryError> {
        let mut journal = Self {
            file,
            next: Position {
                generation,
                sequence: 0,
                chain: 0,
            },
            end: HEADER_LEN,
            header_durable: false,
            entry_durable: false,
            unsynced: false,
        };
        journal.write_header(keep)?;
        Ok(journal)
    }

    /// Writes and syncs the header of `next.generation`. Until this succeeds the header on
    /// disk is unknown, and no record may be appended.
    fn write_header(&mut self, keep: u64) -> Result<(), MemoryError> {
        let (header, chain) = journal::header(self.next.generation);
        self.next.chain = chain;
        self.next.sequence = 0;
        self.end = HEADER_LEN;
        self.header_durable = false;
        self.file.write_all_at(0, &header)?;
        if self.file.size()? > HEADER_LEN.saturating_add(keep.saturating_mul(2)) {
            self.file.set_size(HEADER_LEN)?;
        }
        self.file.sync()?;
        self.header_durable = true;
        self.unsynced = false;
        Ok(())
    }
}

impl Storage {
    /// Opens the memory's file at `location`, settles a journal left by a crash, and
    /// returns the storage with what the recovery did.
    pub fn open(location: Location, limits: Limits) -> Result<(Self, Recovery), MemoryError> {
        let (file, created) = location.open_file()?;
        let size = file.size()?;
        if created || size == 0 {
            // Invariant 6: a new file's name is durable before anything is put in it (and an
            // empty file's, in case the open that created it could not sync it).
            location.sync_directory()?;
        }
        if size % PAGE_SIZE != 0 {
            return Err(MemoryError::MisalignedFile(size));
        }
        let mut storage = Self {
            location,
            file,
            pages: size / PAGE_SIZE,
            journal: None,
            file_unsynced: false,
            limits,
        };
        let recovery = storage.recover()?;
        storage.pages = storage.file.size()? / PAGE_SIZE;
        Ok((storage, recovery))
    }

    /// The committed page count.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The path the memory was opened with.
    pub fn path(&self) -> &str {
        self.location.path()
    }

    /// Settles the journal found beside the file, if any.
    fn recover(&mut self) -> Result<Recovery, MemoryError> {
        let none = Recovery {
            completed_groups: 0,
            journal_bytes: 0,
            discarded: None,
        };
        let Some(journal) = self.location.open_journal()? else {
            return Ok(none);
        };
        let len = journal.size()?;
        let prefix = journal.read_exact_at(0, len.min(HEADER_LEN) as usize)?;
        match journal::classify(&prefix, len) {
            Kind::Foreign => Err(MemoryError::InvalidPath(format!(
                "`{}` is not a journal of this provider, so `{}` cannot keep its journal there; \
                 it was left untouched: move it away",
                journal.path(),
                self.location.path()
            ))),
            Kind::Legacy => {
                let recovery = self.complete_legacy(&journal, len)?;
                // Emptied durably before it goes: if a power loss brings the name back, what
                // comes back is an empty journal, never the old group.
                journal.set_size(0)?;
                journal.sync()?;
                self.location.remove_journal()?;
                Ok(recovery)
            }
            Kind::Unfinished { generation } => {
                self.journal = Some(Journal::start(
                    journal,
                    generation.wrapping_add(1),
                    self.limits.checkpoint_bytes,
                )?);
                Ok(none)
            }
            Kind::Current { generation, chain } => {
                let first = Position {
                    generation,
                    sequence: 0,
                    chain,
                };
                let recovery = self.complete(&journal, first)?;
                // Invariant 4: the completed groups are on stable storage in the file (synced
                // by `complete`) before the new generation makes their records stale.
                self.journal = Some(Journal::start(
                    journal,
                    generation.wrapping_add(1),
                    self.limits.checkpoint_bytes,
                )?);
                Ok(recovery)
            }
        }
    }

    /// Applies the complete records of the journal, starting at `first`, to the file and
    /// syncs it.
    ///
    /// A first pass finds the complete records, reading each once; the second applies them.
    /// When the filesystem refuses the size the records need as too large, the records that
    /// needed it are dropped: a commit grows the file before it writes anything into it, so
    /// nothing of them reached the file. Any other failure (a full disk among them) fails the
    /// open and keeps the journal for the next try.
    fn complete(&mut self, journal: &File, first: Position) -> Result<Recovery, MemoryError> {
        let size_now = self.file.size()?;
        let mut cursor = Cursor::new(journal, HEADER_LEN);
        let mut next = first;
        let mut last = None;
        // The records whose size the file already has: how many, and the last one.
        let mut fitting = (0u64, None);
        let mut count = 0u64;
        while let Some(record) = journal::read_record(
            &mut cursor,
            next,
            last.map_or(0, |r: journal::Record| r.size),
            |_, _| Ok(()),
        )? {
            count += 1;
            if record.size <= size_now {
                fitting = (count, Some(record));
            }
            next.sequence += 1;
            next.chain = record.hash;
            last = Some(record);
        }
        let Some(last) = last else {
            return Ok(Recovery {
                completed_groups: 0,
                journal_bytes: 0,
                discarded: None,
            });
        };

        let failed = |error: MemoryError| {
            io_detail(
                journal.path(),
                &format!(
                    "completing the groups it holds failed ({}); it is kept for the next open",
                    describe(&error)
                ),
            )
        };
        let mut completing = count;
        let mut discarded = None;
        if size_now != last.size {
            match self.file.set_size(last.size) {
                Ok(()) => {}
                // A size the filesystem refuses as too large (not a full disk, which may pass):
                // such a record was never applied, since a commit grows the file first.
                Err(error @ MemoryError::LimitExceeded) if size_now < last.size => {
                    let (fit, fitting_record) = fitting;
                    if let Some(record) = fitting_record
                        && record.size != size_now
                    {
                        self.file.set_size(record.size).map_err(failed)?;
                    }
                    completing = fit;
                    discarded = Some(format!(
                        "{} group(s) grew the memory to {} bytes, which the filesystem refused \
                         ({}); nothing of them had reached the file",
                        count - fit,
                        last.size,
                        describe(&error)
                    ));
                }
                Err(error) => return Err(failed(error)),
            }
        }
        let mut cursor = Cursor::new(journal, HEADER_LEN);
        let mut next = first;
        let mut previous_size = 0;
        for _ in 0..completing {
            let file = &self.file;
            let record = journal::read_record(&mut cursor, next, previous_size, |offset, bytes| {
                file.write_all_at(offset, bytes)
            })
            .map_err(failed)?
            .ok_or_else(|| failed(io_detail(journal.path(), "it changed while being read")))?;
            next.sequence += 1;
            next.chain = record.hash;
            previous_size = record.size;
        }
        self.file.sync().map_err(failed)?;
        Ok(Recovery {
            completed_groups: completing,
            journal_bytes: last.end,
            discarded,
        })
    }

    /// Completes the group of a journal left by provider 0.1, when it is complete, and
    /// syncs the file.
    fn complete_legacy(&mut self, journal: &File, len: u64) -> Result<Recovery, MemoryError> {
        let mut recovery = Recovery {
            completed_groups: 0,
            journal_bytes: len,
            discarded: None,
        };
        let Some(size) = legacy::read(journal, len, |_, _| Ok(()))? else {
            return Ok(recovery);
        };
        let size_now = self.file.size()?;
        if size_now != size
            && let Err(error) = self.file.set_size(size)
        {
            if size_now < size && error == MemoryError::LimitExceeded {
                recovery.discarded = Some(format!(
                    "the group grew the memory to {size} bytes, which the filesystem refused \
                     ({}); nothing of it had reached the file",
                    describe(&error)
                ));
                return Ok(recovery);
            }
            return Err(error);
        }
        let file = &self.file;
        legacy::read(journal, len, |offset, bytes| {
            file.write_all_at(offset, bytes)
        })?;
        self.file.sync()?;
        recovery.completed_groups = 1;
        Ok(recovery)
    }

    /// Reads `len` bytes of the committed memory at `offset`; the caller checked the range.
    pub fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, MemoryError> {
        self.file.read_exact_at(offset, len)
    }

    /// Writes outside a group; the caller checked the range. A failure may leave part of
    /// the range written.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), MemoryError> {
        self.before_change_outside_groups()?;
        self.file_unsynced = true;
        self.file.write_all_at(offset, data)
    }

    /// Grows the file to `pages` pages outside a group; the caller checked the limit.
    pub fn grow(&mut self, pages: u64) -> Result<(), MemoryError> {
        self.before_change_outside_groups()?;
        self.file_unsynced = true;
        self.file.set_size(pages * PAGE_SIZE)?;
        self.pages = pages;
        Ok(())
    }

    /// Invariant 1: a change outside a group may not come after a record that recovery
    /// could replay, so such a journal is checkpointed first.
    fn before_change_outside_groups(&mut self) -> Result<(), MemoryError> {
        if self.journal.as_ref().is_some_and(Journal::replayable) {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Commits `group`: on failure, the error is `group-discarded` or `reopen-required`.
    pub fn commit(&mut self, group: &Group, durable: bool) -> Result<(), MemoryError> {
        if group.is_empty() && group.pages == self.pages {
            return Ok(());
        }
        let discard = |error: MemoryError| MemoryError::GroupDiscarded(describe(&error));

        // Step 1 (invariant 3): changes outside groups made before this group become
        // durable before it does.
        if durable && self.file_unsynced {
            self.file.sync().map_err(discard)?;
            self.file_unsynced = false;
        }

        // Step 2: a journal whose header is durable, and for a durable commit whose name is.
        self.ready_journal(durable).map_err(discard)?;
        let journal = self.journal.as_mut().expect("a ready journal");

        // Step 3 (invariant 2): the whole record, its last hash last. A record cut short is
        // never read back as complete; the cut is still truncated away when the host lets it.
        let start = journal.end;
        let size = group.pages * PAGE_SIZE;
        let appended = journal::append(
            &journal.file,
            start,
            journal.next,
            size,
            group.range_count(),
            group.ranges(),
        );
        let record = match appended {
            Ok(record) => record,
            Err(error) => {
                let _ = journal.file.set_size(start);
                return Err(discard(error));
            }
        };
        journal.unsynced = true;

        // Step 4 (invariant 3): a durable record reaches stable storage before the file
        // changes.
        if durable {
            if let Err(error) = journal.file.sync() {
                return Err(self.withdraw(start, error));
            }
            let journal = self.journal.as_mut().expect("a ready journal");
            journal.unsynced = false;
        }

        // Step 5: the growth, the first change to the file: when it fails the file is as
        // it was, and the group can still be withdrawn.
        if group.pages != self.pages
            && let Err(error) = self.file.set_size(size)
        {
            return Err(self.withdraw(start, error));
        }

        // Step 6 (invariant 5): the bytes, in place. From here a failure may leave part of
        // the group in the file, and only the journal can complete it.
        for (offset, data) in group.ranges() {
            if let Err(error) = self.file.write_all_at(offset, data) {
                return Err(MemoryError::ReopenRequired(format!(
                    "{}; the group is in the journal and the next open completes it",
                    describe(&error)
                )));
            }
        }

        let journal = self.journal.as_mut().expect("a ready journal");
        journal.end = record.end;
        journal.next.sequence += 1;
        journal.next.chain = record.hash;
        self.pages = group.pages;

        // Recovery stays bounded: past the limit the journal is emptied. A failure here
        // loses nothing (the records stay, and the next commit tries again).
        if journal.end - HEADER_LEN > self.limits.checkpoint_bytes {
            let _ = self.checkpoint();
        }
        Ok(())
    }

    /// Makes the journal ready for a record: created (its header synced) when missing, its
    /// header rewritten when a checkpoint could not finish it, and its name synced for a
    /// durable commit.
    fn ready_journal(&mut self, durable: bool) -> Result<(), MemoryError> {
        if self.journal.is_none() {
            let file = self.location.create_journal()?;
            match Journal::start(file, 1, self.limits.checkpoint_bytes) {
                Ok(journal) => self.journal = Some(journal),
                Err(error) => {
                    // A journal whose header never became durable holds nothing.
                    let _ = self.location.remove_journal();
                    return Err(error);
                }
            }
        }
        let journal = self.journal.as_mut().expect("a journal");
        if !journal.header_durable {
            journal.write_header(self.limits.checkpoint_bytes)?;
        }
        if durable && !journal.entry_durable {
            self.location.sync_directory()?;
            journal.entry_durable = true;
        }
        Ok(())
    }

    /// Takes back the record written at `start` after `cause` failed, before the file
    /// changed: discarded when the journal could be truncated before it, or else left whole
    /// for the next open to complete.
    fn withdraw(&mut self, start: u64, cause: MemoryError) -> MemoryError {
        let journal = self.journal.as_mut().expect("a ready journal");
        if let Err(error) = journal.file.set_size(start) {
            return MemoryError::ReopenRequired(format!(
                "{}, and withdrawing the group from the journal failed too ({}); the next open \
                 completes it",
                describe(&cause),
                describe(&error)
            ));
        }
        // After a failed sync nothing is certain on that disk; the truncation is synced where
        // the disk still allows.
        let _ = journal.file.sync();
        MemoryError::GroupDiscarded(format!(
            "{}; the group was withdrawn from the journal",
            describe(&cause)
        ))
    }

    /// Puts every change made so far on stable storage: the records of committed groups
    /// (with the journal's name) and the file's changes outside groups.
    pub fn sync(&mut self) -> Result<(), MemoryError> {
        if let Some(journal) = &mut self.journal
            && journal.unsynced
        {
            journal.file.sync()?;
            journal.unsynced = false;
            if !journal.entry_durable {
                self.location.sync_directory()?;
                journal.entry_durable = true;
            }
        }
        if self.file_unsynced {
            self.file.sync()?;
            self.file_unsynced = false;
        }
        Ok(())
    }

    /// Syncs the file, then starts a new, empty generation of the journal (invariant 4):
    /// afterwards the file alone holds the memory.
    pub fn checkpoint(&mut self) -> Result<(), MemoryError> {
        self.file.sync()?;
        self.file_unsynced = false;
        if let Some(journal) = &mut self.journal
            && journal.replayable()
        {
            journal.next.generation = journal.next.generation.wrapping_add(1);
            journal.write_header(self.limits.checkpoint_bytes)?;
        }
        Ok(())
    }

    /// Closes the memory: a checkpoint, then the journal's removal. An empty journal that a
    /// power loss brings back is harmless; when the checkpoint fails the journal stays, and
    /// the next open completes its records.
    pub fn close(&mut self) {
        let Some(journal) = &self.journal else {
            return;
        };
        if journal.replayable() && self.checkpoint().is_err() {
            return;
        }
        let _ = self.location.remove_journal();
    }
}
