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
//! 5. **A failed commit is gone or certain to be settled by the next open.** Before the
//!    record is complete, or when the file's growth fails and the record's withdrawal
//!    (truncating the journal before it) is synced, the group is discarded and the memory
//!    stays usable. Otherwise the record stays whole and the memory must be reopened: the
//!    next open completes it (or, when the filesystem refuses its growth as too large, drops
//!    it and says so).
//! 6. **The file's and the journal's names survive a power loss** once a durable commit or a
//!    `sync` returns: a file created by `open` has its directory synced at once (and is
//!    removed again when that sync fails), a journal when it is first used by a durable
//!    commit or a `sync`. A journal that holds groups is never applied to a file created
//!    anew: it belongs to a file that is gone.
//! 7. **A failed sync is never relied on.** After an `fsync` error, Linux may have dropped
//!    the data it failed to write while the next `fsync` succeeds; so, as PostgreSQL and
//!    RocksDB do, a failed sync of the file or the journal ends the memory's use
//!    (`reopen-required`), keeping the journal, and the next open writes the journal's
//!    groups again (writes outside groups since the last successful sync are then
//!    uncertain). After a failed sync of the directory, the journal's name is not trusted to
//!    a later one, nor is the name of a journal found at open (its maker may have seen such
//!    a failure): the journal is made anew (a new entry, which the sync must write) before a
//!    durable commit relies on its name, and `sync` checkpoints instead.
//! 8. **A record belongs to one header.** Every header carries a random salt, hashed into
//!    the chain of its records: bytes of an earlier record, left in the journal file or
//!    exposed by a block the filesystem reused after a crash, never read as a record of the
//!    current header, whatever its generation.

use crate::bindings::exports::wasm_dbms::memory::memory_provider::{MemoryError, Recovery};
use crate::bounds::{Limits, PAGE_SIZE};
use crate::error::{COMMITTED, NOT_COMMITTED, UNDECIDED, describe, io_detail};
use crate::file::File;
use crate::group::Group;
use crate::journal::{self, Cursor, HEADER_LEN, Kind, Position};
use crate::legacy;
use crate::location::Location;

/// The journal grows by this much at a time for durable commits.
const ALLOCATION: u64 = 1 << 20;

/// The error that ends the memory's use after a sync of `what` failed (invariant 7).
fn sync_failed(what: &str, error: MemoryError) -> MemoryError {
    MemoryError::ReopenRequired(format!(
        "a sync of `{what}` failed ({}): what the disk holds is no longer certain; open the \
         file again, and the groups in its journal are written again (writes outside groups \
         since the last successful sync may be lost)",
        describe(&error)
    ))
}

/// The error that ends the memory's use after a checkpoint synced the file but could not
/// start the journal's next generation: the journal on disk is uncertain (invariant 7).
fn not_emptied(what: &str, error: MemoryError) -> MemoryError {
    MemoryError::ReopenRequired(format!(
        "the file was synced, but emptying `{what}` failed ({}): open the file again, and the \
         groups in its journal are written again",
        describe(&error)
    ))
}

/// The `reopen-required` of a commit whose group is whole in the journal: the next open
/// completes it (the WIT's `committed:`).
fn committed(detail: &str) -> MemoryError {
    MemoryError::ReopenRequired(format!(
        "{COMMITTED} the group is in the journal and the next open completes it; {detail}"
    ))
}

/// The `reopen-required` of a commit of which nothing reached the journal: the next open
/// finds the memory as it was before the group (the WIT's `not committed:`).
fn not_committed(detail: &str) -> MemoryError {
    MemoryError::ReopenRequired(format!(
        "{NOT_COMMITTED} the group is not in the journal and the next open finds the memory \
         as it was before it; {detail}"
    ))
}

/// The `reopen-required` of a commit whose fate only the next open decides: it completes
/// the group or finds the memory as before it (the WIT's `undecided:`).
fn undecided(detail: &str) -> MemoryError {
    MemoryError::ReopenRequired(format!(
        "{UNDECIDED} the next open either completes the group or finds the memory as it was \
         before it; {detail}"
    ))
}

/// Refuses a journal beside a file that does not exist, when it holds groups: they belong
/// to a file that is gone. A journal with nothing to complete is taken over by the open.
fn refuse_orphaned(location: &Location, journal: &File) -> Result<(), MemoryError> {
    let len = journal.size()?;
    let prefix = journal.read_exact_at(0, len.min(HEADER_LEN) as usize)?;
    let holds_groups = match journal::classify(&prefix, len) {
        Kind::Foreign => return Err(location.journal_taken()),
        Kind::Unfinished { .. } => false,
        Kind::Legacy => legacy::read(journal, len, |_, _| Ok(()))?.is_some(),
        Kind::Current { generation, chain } => {
            let first = Position {
                generation,
                sequence: 0,
                chain,
            };
            let mut cursor = Cursor::new(journal, HEADER_LEN);
            journal::read_record(&mut cursor, first, 0, |_, _| Ok(()))?.is_some()
        }
    };
    if !holds_groups {
        return Ok(());
    }
    Err(MemoryError::InvalidPath(format!(
        "`{}` holds committed groups of `{}`, which does not exist: they cannot be completed \
         over a new, empty file. Nothing was created and the journal was left untouched: put \
         the file back, or move the journal away to start an empty memory",
        journal.path(),
        location.path()
    )))
}

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
    /// The journal's name cannot be vouched for: the journal was found at open (another
    /// memory made it, and a sync of its directory may have failed there), or a sync of the
    /// directory failed since. It is made anew before a directory sync is trusted with it.
    journal_name_doubtful: bool,
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
    /// The journal file's size: records written below it overwrite bytes the file already
    /// has, so that their sync need not also make a new size durable.
    allocated: u64,
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
            allocated: 0,
        };
        journal.write_header(keep)?;
        journal.allocated = journal.file.size()?;
        Ok(journal)
    }

    /// Makes the file at least `end` bytes long, a whole number of [`ALLOCATION`]s, by writing
    /// zeros: a record then overwrites bytes the file has, and a durable commit's one sync
    /// costs what overwriting a block costs, not an extension of the file too. (Zeros are
    /// never a record: recovery stops at them.) On failure the file is cut back to its size
    /// before, so that a disk too full for the allocation keeps its free space.
    fn allocate(&mut self, end: u64) -> Result<(), MemoryError> {
        if end <= self.allocated {
            return Ok(());
        }
        let before = self.allocated;
        let target = end.div_ceil(ALLOCATION) * ALLOCATION;
        let zeros = [0u8; 64 << 10];
        while self.allocated < target {
            let n = (target - self.allocated).min(zeros.len() as u64) as usize;
            if let Err(error) = self.file.write_all_at(self.allocated, &zeros[..n]) {
                if self.file.set_size(before).is_ok() {
                    self.allocated = before;
                }
                return Err(error);
            }
            self.allocated += n as u64;
        }
        Ok(())
    }

    /// Writes and syncs the header of `next.generation`. Until this succeeds the header on
    /// disk is unknown, and no record may be appended. The bytes behind the header are kept
    /// for the records to overwrite (they belong to earlier generations, which never
    /// replay) unless the file is larger than twice `keep` or twice an [`ALLOCATION`].
    fn write_header(&mut self, keep: u64) -> Result<(), MemoryError> {
        let (header, chain) = journal::header(self.next.generation, journal::new_salt());
        self.next.chain = chain;
        self.next.sequence = 0;
        self.end = HEADER_LEN;
        self.header_durable = false;
        self.file.write_all_at(0, &header)?;
        if self.file.size()? > HEADER_LEN.saturating_add(keep.max(ALLOCATION).saturating_mul(2)) {
            self.file.set_size(HEADER_LEN)?;
            self.allocated = HEADER_LEN;
        }
        self.file.sync()?;
        self.header_durable = true;
        self.unsynced = false;
        Ok(())
    }
}

impl Storage {
    /// Opens the memory's file at `location`, or creates it empty when it does not exist,
    /// checks its size, and makes a new file's name durable. Nothing else is touched: a
    /// journal beside it is settled by [`Storage::recover`], once the caller holds the file.
    ///
    /// A journal holding groups beside a file that does not exist belongs to a file that is
    /// gone: its groups cannot be completed over an empty file, so the open is refused
    /// (`invalid-path`, naming it), nothing is created and the journal is left as it is.
    pub fn open_file(location: &Location) -> Result<File, MemoryError> {
        loop {
            if let Some(file) = location.open_existing_file()? {
                let size = file.size()?;
                if size == 0 {
                    // An empty file's name, in case the open that created it could not sync it.
                    location.sync_directory()?;
                }
                if size % PAGE_SIZE != 0 {
                    return Err(MemoryError::MisalignedFile(size));
                }
                return Ok(file);
            }
            if let Some(journal) = location.open_journal()? {
                refuse_orphaned(location, &journal)?;
            }
            let Some(file) = location.create_file()? else {
                // It appeared since: open it.
                continue;
            };
            // Invariant 6: a new file's name is durable before anything is put in it. When
            // the directory's sync fails, the file is taken back: a later sync, with nothing
            // changed in the directory, could succeed without writing the name (invariant 7),
            // while the next open creates it anew.
            if let Err(error) = location.sync_directory() {
                drop(file);
                let _ = location.remove_file();
                return Err(error);
            }
            return Ok(file);
        }
    }

    /// Settles the journal a crash left beside `file` (`journal`, opened by the caller), and
    /// returns the storage with what the recovery did.
    pub fn recover(
        location: Location,
        file: File,
        journal: Option<File>,
        limits: Limits,
    ) -> Result<(Self, Recovery), MemoryError> {
        let mut storage = Self {
            location,
            file,
            pages: 0,
            journal: None,
            // A previous session may have left writes outside groups unsynced (its close syncs
            // only with a journal): the first durable commit syncs the file first.
            file_unsynced: true,
            journal_name_doubtful: false,
            limits,
        };
        let recovery = match journal {
            Some(journal) => {
                storage.journal_name_doubtful = true;
                storage.recover_journal(journal)?
            }
            None => Recovery {
                completed_groups: 0,
                journal_bytes: 0,
                discarded: None,
            },
        };
        storage.pages = storage.file.size()? / PAGE_SIZE;
        Ok((storage, recovery))
    }

    /// Where the memory's files are.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The memory's file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The memory's journal, while it has one.
    pub fn journal_file(&self) -> Option<&File> {
        self.journal.as_ref().map(|journal| &journal.file)
    }

    /// The committed page count.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The path the memory was opened with.
    pub fn path(&self) -> &str {
        self.location.path()
    }

    /// Settles `journal`, found beside the file, and keeps it as this memory's journal,
    /// started afresh.
    fn recover_journal(&mut self, journal: File) -> Result<Recovery, MemoryError> {
        let mut recovery = Recovery {
            completed_groups: 0,
            journal_bytes: 0,
            discarded: None,
        };
        let len = journal.size()?;
        let prefix = journal.read_exact_at(0, len.min(HEADER_LEN) as usize)?;
        let generation = match journal::classify(&prefix, len) {
            Kind::Foreign => return Err(self.location.journal_taken()),
            Kind::Legacy => {
                recovery = self.complete_legacy(&journal, len)?;
                // Its group is on stable storage in the file now. The journal becomes one of
                // this format, empty: a crash while it does leaves either the old journal,
                // whose group is already in the file, or a header whose records are none.
                0
            }
            Kind::Unfinished { generation } => generation,
            Kind::Current { generation, chain } => {
                let first = Position {
                    generation,
                    sequence: 0,
                    chain,
                };
                recovery = self.complete(&journal, first)?;
                // Invariant 4: the completed groups are on stable storage in the file (synced
                // by `complete`) before the new generation makes their records stale.
                generation
            }
        };
        self.journal = Some(Journal::start(
            journal,
            generation.wrapping_add(1),
            self.limits.checkpoint_bytes,
        )?);
        Ok(recovery)
    }

    /// Applies the complete records of the journal, starting at `first`, to the file and
    /// syncs it.
    ///
    /// A first pass finds the complete records, reading each once; the second applies them.
    /// When the filesystem refuses the size the last records need as too large, the longest
    /// run of records whose size it accepts is completed and the rest dropped: a commit grows
    /// the file before it writes anything into it, so nothing of a record whose size the
    /// file never had reached it, and a commit whose growth failed was never acknowledged.
    /// Any other failure (a full disk among them) fails the open and keeps the journal for
    /// the next try.
    fn complete(&mut self, journal: &File, first: Position) -> Result<Recovery, MemoryError> {
        let mut cursor = Cursor::new(journal, HEADER_LEN);
        let mut next = first;
        let mut last: Option<journal::Record> = None;
        // Each size the records reach, with how many records reach no further: sizes only
        // grow, so this holds one entry per growth.
        let mut sizes: Vec<(u64, u64)> = Vec::new();
        let mut count = 0u64;
        while let Some(record) =
            journal::read_record(&mut cursor, next, last.map_or(0, |r| r.size), |_, _| Ok(()))?
        {
            count += 1;
            match sizes.last_mut() {
                Some((size, records)) if *size == record.size => *records = count,
                _ => {
                    sizes.try_reserve(1).map_err(|_| {
                        io_detail(journal.path(), "cannot allocate the list of its sizes")
                    })?;
                    sizes.push((record.size, count));
                }
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
        let size_now = self.file.size()?;
        // From the largest size down: the first the filesystem takes.
        let mut refusal = None;
        for (size, records) in sizes.iter().rev() {
            let resized = if *size == size_now {
                Ok(())
            } else {
                self.file.set_size(*size)
            };
            match resized {
                Ok(()) => {
                    completing = *records;
                    break;
                }
                Err(error @ MemoryError::LimitExceeded) => {
                    refusal = Some(error);
                    completing = 0;
                }
                Err(error) => return Err(failed(error)),
            }
        }
        if let Some(error) = refusal {
            discarded = Some(format!(
                "{} group(s) grew the memory to {} bytes, which the filesystem refused ({}); \
                 nothing of them had reached the file",
                count - completing,
                last.size,
                describe(&error)
            ));
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
        self.file.sync().map_err(|error| {
            io_detail(
                self.file.path(),
                &format!(
                    "its sync after completing the journal's groups failed ({}); the journal is \
                     kept, and the next open completes them again, but writes the last program \
                     to hold the file made outside groups and did not sync may be lost (after a \
                     failed sync the system may drop what it did not write)",
                    describe(&error)
                ),
            )
        })?;
        Ok(Recovery {
            completed_groups: completing,
            journal_bytes: last.end,
            discarded,
        })
    }

    /// Completes the group of a journal left by provider 0.1, when it is complete and not
    /// older than the file, and syncs the file.
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
        if size < size_now {
            // Provider 0.1 grew the file before writing it and never shrank it: a journal
            // smaller than the file is one whose removal a crash undid, older than the pages
            // past it. Completing it would undo later work.
            return Ok(recovery);
        }
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

    /// Commits `group`: on failure, the error is `group-discarded` or `reopen-required`, whose
    /// text begins with what became of the group (`committed:`, `not committed:` or
    /// `undecided:`).
    pub fn commit(&mut self, group: &Group, durable: bool) -> Result<(), MemoryError> {
        if group.is_empty() && group.pages == self.pages {
            // Nothing to write; a durable commit still makes everything before it durable.
            return if durable {
                self.sync().map_err(|error| match error {
                    MemoryError::ReopenRequired(why) => not_committed(&why),
                    other => MemoryError::GroupDiscarded(describe(&other)),
                })
            } else {
                Ok(())
            };
        }
        let discard = |error: MemoryError| MemoryError::GroupDiscarded(describe(&error));
        let ranges = group.sorted().map_err(discard)?;

        // Step 1 (invariant 3): changes outside groups made before this group become
        // durable before it does.
        if durable && self.file_unsynced {
            self.file
                .sync()
                .map_err(|error| not_committed(&describe(&sync_failed(self.file.path(), error))))?;
            self.file_unsynced = false;
        }

        // Step 2: a journal whose header is durable, and for a durable commit whose name is.
        self.ready_journal(durable).map_err(|error| match error {
            MemoryError::ReopenRequired(why) => not_committed(&why),
            other => discard(other),
        })?;
        let journal = self.journal.as_mut().expect("a ready journal");

        // Step 3 (invariant 2): the whole record, its last hash last. A record cut short is
        // never read back as complete; the cut is still truncated away when the host lets it.
        let start = journal.end;
        if durable {
            // Best effort: a disk without room for the allocation may still have room for
            // the record, whose own write decides.
            let end = start + journal::record_len(ranges.iter());
            let _ = journal.allocate(end);
        }
        let size = group.pages * PAGE_SIZE;
        let appended = journal::append(
            &journal.file,
            start,
            journal.next,
            size,
            group.range_count(),
            ranges.iter(),
        );
        let record = match appended {
            Ok(record) => {
                journal.allocated = journal.allocated.max(record.end);
                record
            }
            Err(error) => {
                if journal.file.set_size(start).is_ok() {
                    journal.allocated = journal.allocated.min(start);
                }
                return Err(discard(error));
            }
        };
        journal.unsynced = true;

        // Step 4 (invariants 3 and 7): a durable record reaches stable storage before the
        // file changes. When the sync fails the record stays: the next open completes it.
        if durable {
            if let Err(error) = journal.file.sync() {
                return Err(committed(&format!(
                    "{}; it is not known to be durable",
                    describe(&sync_failed(journal.file.path(), error))
                )));
            }
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
        for (offset, data) in ranges.iter() {
            if let Err(error) = self.file.write_all_at(offset, data) {
                return Err(committed(&describe(&error)));
            }
        }

        let journal = self.journal.as_mut().expect("a ready journal");
        journal.end = record.end;
        journal.next.sequence += 1;
        journal.next.chain = record.hash;
        self.pages = group.pages;

        // Recovery stays bounded: past the limit the journal is emptied. A failure here is
        // the checkpoint's `reopen-required`: the group is done, in the journal or in the
        // synced file, and the next open finds it.
        if journal.end - HEADER_LEN > self.limits.checkpoint_bytes {
            self.checkpoint()
                .map_err(|error| committed(&describe(&error)))?;
        }
        Ok(())
    }

    /// Makes the journal ready for a record: created (its header synced) when missing, its
    /// header rewritten when a checkpoint could not finish it, and its name synced for a
    /// durable commit. A journal whose name is doubtful (found at open, or after a failed
    /// sync of the directory) is made anew before its name is synced (see
    /// [`Storage::renew_journal`]).
    fn ready_journal(&mut self, durable: bool) -> Result<(), MemoryError> {
        if durable
            && self.journal_name_doubtful
            && self
                .journal
                .as_ref()
                .is_none_or(|journal| !journal.entry_durable)
        {
            self.renew_journal()?;
        }
        if self.journal.is_none() {
            let file = match self.location.create_journal() {
                Ok(file) => file,
                // Left by an attempt whose header failed and whose removal failed too.
                Err(_) => self.unfinished_journal()?,
            };
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
            if let Err(error) = self.location.sync_directory() {
                self.journal_name_doubtful = true;
                return Err(error);
            }
            self.journal_name_doubtful = false;
            journal.entry_durable = true;
        }
        Ok(())
    }

    /// Removes the journal, after emptying it when it holds records (a checkpoint), so that
    /// the next one is a new entry of the directory.
    ///
    /// After a failed sync of a directory, Linux may have marked its changes written while
    /// they are not, and a later sync with nothing changed since succeeds without writing
    /// them: the journal's name could then vanish at a power loss under a commit that was
    /// acknowledged durable. A memory cannot know whether that happened to a journal it
    /// found at open (the one that made it may have seen the failure and stopped). A new
    /// entry changes the directory again, so the next sync that succeeds writes it.
    fn renew_journal(&mut self) -> Result<(), MemoryError> {
        if self.journal.as_ref().is_some_and(Journal::replayable) {
            self.checkpoint()?;
        }
        self.journal = None;
        self.location.remove_journal()
    }

    /// The journal file an earlier failed creation left, when it holds no record.
    fn unfinished_journal(&self) -> Result<File, MemoryError> {
        let file = self.location.open_journal()?.ok_or_else(|| {
            io_detail(
                &self.location.journal_path(),
                "cannot be created nor opened",
            )
        })?;
        let len = file.size()?;
        let prefix = file.read_exact_at(0, len.min(HEADER_LEN) as usize)?;
        match journal::classify(&prefix, len) {
            Kind::Unfinished { .. } => Ok(file),
            // A header whose write went through and whose sync did not: still no record.
            Kind::Current { .. } if len == HEADER_LEN => Ok(file),
            _ => Err(MemoryError::InvalidPath(format!(
                "`{}` appeared beside the file and is not an empty journal; it was left untouched",
                file.path()
            ))),
        }
    }

    /// Takes back the record written at `start` after the file's growth failed with
    /// `cause`, before the file changed: discarded once the journal is truncated before it
    /// on stable storage; otherwise the next open settles it.
    fn withdraw(&mut self, start: u64, cause: MemoryError) -> MemoryError {
        let journal = self.journal.as_mut().expect("a ready journal");
        let truncated = journal.file.set_size(start);
        if truncated.is_ok() {
            journal.allocated = journal.allocated.min(start);
        }
        if let Err(error) = truncated {
            return undecided(&format!(
                "{}, and withdrawing the group from the journal failed too ({}): the next open \
                 completes it, or drops it when the file still cannot grow",
                describe(&cause),
                describe(&error)
            ));
        }
        if let Err(error) = journal.file.sync() {
            // Invariant 7: the truncation may not be on disk, and the journal is uncertain.
            return undecided(&format!(
                "{}; the group was withdrawn from the journal, but its sync failed ({}): after a \
                 power loss the next open may still find the group",
                describe(&cause),
                describe(&error)
            ));
        }
        journal.unsynced = false;
        MemoryError::GroupDiscarded(format!(
            "{}; the group was withdrawn from the journal",
            describe(&cause)
        ))
    }

    /// Puts every change made so far on stable storage: the records of committed groups
    /// (with the journal's name) and the file's changes outside groups.
    pub fn sync(&mut self) -> Result<(), MemoryError> {
        let needs_entry = |journal: &Journal| journal.replayable() && !journal.entry_durable;
        if self.journal_name_doubtful && self.journal.as_ref().is_some_and(needs_entry) {
            // The journal's name is doubtful: it is not trusted to a directory sync (see
            // `renew_journal`), and the file takes the journal's groups instead.
            return self.checkpoint();
        }
        if let Some(journal) = &mut self.journal {
            if journal.unsynced {
                journal
                    .file
                    .sync()
                    .map_err(|error| sync_failed(journal.file.path(), error))?;
                journal.unsynced = false;
            }
            if needs_entry(journal) {
                if let Err(error) = self.location.sync_directory() {
                    self.journal_name_doubtful = true;
                    return Err(error);
                }
                journal.entry_durable = true;
            }
        }
        if self.file_unsynced {
            self.file
                .sync()
                .map_err(|error| sync_failed(self.file.path(), error))?;
            self.file_unsynced = false;
        }
        Ok(())
    }

    /// Syncs the file, then starts a new, empty generation of the journal (invariant 4):
    /// afterwards the file alone holds the memory.
    pub fn checkpoint(&mut self) -> Result<(), MemoryError> {
        self.file
            .sync()
            .map_err(|error| sync_failed(self.file.path(), error))?;
        self.file_unsynced = false;
        if let Some(journal) = &mut self.journal
            && journal.replayable()
        {
            journal.next.generation = journal.next.generation.wrapping_add(1);
            journal
                .write_header(self.limits.checkpoint_bytes)
                .map_err(|error| not_emptied(journal.file.path(), error))?;
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
