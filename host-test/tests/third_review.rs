//! The holes a third storage review found by reading the code, each as the scenario that
//! showed it. Every test failed on the provider before its fix; each says exactly what the
//! disk holds afterwards.

mod common;

use common::simulated::{ok, reopen, session};
use common::{PAGE, Sandbox};
use host_test::dbms::{DbmsSession, FlushOutcome, RawStorage, Storage};
use host_test::provider::{MemoryError, OpenOptions, ProviderSession, Recovery};
use host_test::simfs::{CallKind, ErrorCode, Identity, SimFs};
use host_test::{Runtime, WasiConfig};

fn real_session(sandbox: &Sandbox) -> ProviderSession {
    ProviderSession::new(Runtime::shared(), &sandbox.wasi()).unwrap()
}

fn locked(result: &Result<impl std::fmt::Debug, MemoryError>, holder: &str) -> bool {
    matches!(result, Err(MemoryError::Locked(text)) if text.contains(holder))
}

// ---------------------------------------------------------------------------------------
// 1. One memory per file where a file's identity hash changes when it is written.

/// jco's preview2-shim hashes a file's modification time and inode, and answers
/// `is-same-object` for one descriptor only. The provider used to key its one-memory rule on
/// the hash taken at open: after one write the same file hashed differently, and a second
/// `open` succeeded, sharing (and restarting) the first memory's journal.
#[test]
fn a_written_file_cannot_be_opened_twice_where_its_identity_hash_changes_with_writes() {
    let fs = SimFs::new();
    // jco as a host: no write locks, and its identity answers.
    fs.set_identity(Identity::LikeJco);
    fs.set_write_locks(false);
    fs.write_durable("sub/keep", b"");
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 0, b"first"));
    ok(provider.commit_group(memory, true));
    let (file, journal) = (fs.read("db.bin"), fs.read("db.bin-journal"));
    for alias in ["db.bin", "./db.bin", "sub/../db.bin"] {
        let second = provider.open(alias).unwrap();
        assert!(locked(&second, "`db.bin`"), "{alias}: {second:?}");
    }
    assert_eq!(
        (fs.read("db.bin"), fs.read("db.bin-journal")),
        (file, journal)
    );
    // The first memory keeps its journal: its next durable commit survives a power cut.
    ok(provider.begin_group(memory));
    ok(provider.write(memory, 0, b"second"));
    ok(provider.commit_group(memory, true));
    let acknowledged = fs.trace_len();
    for case in fs.crash_states([acknowledged], 6, 0x1DE) {
        let (mut recovered, memory) = reopen(&case.state, "db.bin");
        assert_eq!(
            ok(recovered.read(memory, 0, 6)),
            b"second",
            "{:?}",
            case.kind
        );
    }
}

// ---------------------------------------------------------------------------------------
// 2. A journal beside a file that no longer exists.

/// The file is removed while its journal stays (a crash, then someone removes the database
/// to start afresh). `open` used to create an empty file and complete the journal's groups
/// over zeros: neither the old database nor an empty one.
#[test]
fn a_journal_holding_groups_beside_a_removed_file_is_refused_and_nothing_is_created() {
    let sandbox = Sandbox::new();
    {
        let mut provider = real_session(&sandbox);
        let memory = provider.open("db.bin").unwrap().unwrap();
        provider.begin_group(memory).unwrap().unwrap();
        provider.grow(memory, 1).unwrap().unwrap();
        provider.write(memory, 0, b"of a file").unwrap().unwrap();
        provider.commit_group(memory, true).unwrap().unwrap();
        // The instance goes away without closing: the journal stays.
    }
    std::fs::remove_file(sandbox.file("db.bin")).unwrap();
    let journal = sandbox.bytes("db.bin-journal");

    let mut provider = real_session(&sandbox);
    let refused = provider.open("db.bin").unwrap();
    assert!(
        matches!(&refused, Err(MemoryError::InvalidPath(text))
            if text.contains("`db.bin-journal` holds committed groups of `db.bin`, which does not exist")),
        "{refused:?}"
    );
    assert!(!sandbox.file("db.bin").exists(), "nothing is created");
    assert_eq!(
        sandbox.bytes("db.bin-journal"),
        journal,
        "the journal is untouched"
    );

    // Moved away, it no longer stands in the way: the memory starts empty.
    std::fs::rename(sandbox.file("db.bin-journal"), sandbox.file("kept-aside")).unwrap();
    let memory = provider.open("db.bin").unwrap().unwrap();
    assert_eq!(provider.pages(memory).unwrap(), 0);
    provider.close(memory).unwrap();
    assert_eq!(sandbox.bytes("db.bin"), b"");
    assert_eq!(sandbox.bytes("kept-aside"), journal);
}

/// A journal with nothing to complete (a header, left by a crash after a checkpoint) beside
/// a removed file is no one's data: the new, empty memory takes it over.
#[test]
fn a_journal_with_nothing_to_complete_beside_a_removed_file_is_taken_over() {
    let sandbox = Sandbox::new();
    {
        let mut provider = real_session(&sandbox);
        let memory = provider.open("db.bin").unwrap().unwrap();
        provider.begin_group(memory).unwrap().unwrap();
        provider.grow(memory, 1).unwrap().unwrap();
        provider.commit_group(memory, true).unwrap().unwrap();
        provider.checkpoint(memory).unwrap().unwrap();
    }
    std::fs::remove_file(sandbox.file("db.bin")).unwrap();
    let mut provider = real_session(&sandbox);
    let memory = provider.open("db.bin").unwrap().unwrap();
    assert_eq!(provider.pages(memory).unwrap(), 0);
    assert_eq!(
        provider.recovery(memory).unwrap(),
        Recovery {
            completed_groups: 0,
            journal_bytes: 0,
            discarded: None
        }
    );
    provider.close(memory).unwrap();
    assert_eq!(sandbox.bytes("db.bin"), b"");
    assert!(!sandbox.file("db.bin-journal").exists());
}

// ---------------------------------------------------------------------------------------
// 3. The journal's name on a case-insensitive filesystem, and other names of it.

/// On a case-insensitive filesystem `db.bin-JOURNAL` is the journal of `db.bin`. The suffix
/// was compared case-sensitively, so the journal opened as a memory.
#[test]
fn the_journal_suffix_is_refused_in_any_case_and_other_spellings_of_the_file_are_locked() {
    let fs = SimFs::new();
    fs.set_case_insensitive(true);
    // A host that takes no write locks, so that the provider's own rule is what answers.
    fs.set_write_locks(false);
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 0, b"data"));
    ok(provider.commit_group(memory, true));
    let (file, journal) = (fs.read("db.bin"), fs.read("db.bin-journal"));
    assert!(journal.is_some());
    for name in ["db.bin-JOURNAL", "DB.BIN-Journal", "db.bin-journaL"] {
        let refused = provider.open(name).unwrap();
        assert!(
            matches!(&refused, Err(MemoryError::InvalidPath(text)) if text.contains("-journal")),
            "{name}: {refused:?}"
        );
    }
    for name in ["DB.BIN", "Db.Bin"] {
        let refused = provider.open(name).unwrap();
        assert!(locked(&refused, "`db.bin`"), "{name}: {refused:?}");
    }
    assert_eq!(
        (fs.read("db.bin"), fs.read("db.bin-journal")),
        (file, journal)
    );
}

/// A hard link to an open memory's journal opened as a memory: the identity check compared
/// files with files only, so on a host without write locks the journal opened as a memory
/// and would have been overwritten (with the lock, the host refused, and the provider said
/// another process held it). And a memory whose journal's name is a link to another open
/// memory's file.
#[test]
fn another_name_of_an_open_memorys_journal_or_file_is_locked_with_and_without_host_locks() {
    for wasi in [
        |sandbox: &Sandbox| sandbox.wasi(),
        |sandbox: &Sandbox| sandbox.wasi().without_file_locks(),
    ] {
        let sandbox = Sandbox::new();
        let wasi = wasi(&sandbox);
        let mut provider = ProviderSession::new(Runtime::shared(), &wasi).unwrap();
        let memory = provider.open("db.bin").unwrap().unwrap();
        provider.begin_group(memory).unwrap().unwrap();
        provider.grow(memory, 1).unwrap().unwrap();
        provider.write(memory, 0, b"data").unwrap().unwrap();
        provider.commit_group(memory, true).unwrap().unwrap();
        let (file, journal) = (sandbox.bytes("db.bin"), sandbox.bytes("db.bin-journal"));

        std::fs::hard_link(sandbox.file("db.bin-journal"), sandbox.file("alias.bin")).unwrap();
        let refused = provider.open("alias.bin").unwrap();
        assert!(
            locked(&refused, "it is the journal of the memory `db.bin`"),
            "locks {}: {refused:?}",
            wasi.file_locks
        );

        std::fs::write(sandbox.file("other.bin"), b"").unwrap();
        std::fs::hard_link(sandbox.file("db.bin"), sandbox.file("other.bin-journal")).unwrap();
        let refused = provider.open("other.bin").unwrap();
        assert!(
            locked(&refused, "it is the file of the memory `db.bin`"),
            "locks {}: {refused:?}",
            wasi.file_locks
        );

        assert_eq!(
            (sandbox.bytes("db.bin"), sandbox.bytes("db.bin-journal")),
            (file, journal)
        );
        assert_eq!(sandbox.bytes("other.bin"), b"");
        assert_eq!(provider.read(memory, 0, 4).unwrap().unwrap(), b"data");
    }
}

// ---------------------------------------------------------------------------------------
// 4. What a group of many tiny writes holds.

/// `max-group-bytes` counted distinct bytes only, while each disjoint range costs tens of
/// bytes of bookkeeping: under a 1 GiB limit, one-byte writes two bytes apart ran the
/// provider's 4 GiB linear memory out and trapped. The group now counts its bookkeeping
/// (64 bytes a range, 64 a 64 KiB segment) and refuses the write past the limit, exactly
/// where the count says, keeping everything before it.
#[test]
fn a_group_of_tiny_writes_is_refused_at_its_limit_counting_its_bookkeeping_and_never_traps() {
    let sandbox = Sandbox::new();
    let mut provider = real_session(&sandbox);
    let limit = 1u64 << 30;
    let options = OpenOptions {
        max_pages: None,
        max_group_bytes: Some(limit),
        checkpoint_bytes: None,
    };
    let memory = provider.open_with("tiny.bin", options).unwrap().unwrap();
    provider.begin_group(memory).unwrap().unwrap();
    provider.grow(memory, 32768).unwrap().unwrap();
    // After n writes at 0, 2, 4, ...: n bytes, n ranges, and the segments they reach.
    let held = |n: u64| n + 64 * n + 64 * ((2 * (n - 1)) / 65536 + 1);
    let most = (1..).find(|n| held(n + 1) > limit).unwrap();
    for i in 0..most {
        let written = provider.write(memory, 2 * i, &[1]).unwrap();
        assert_eq!(written, Ok(()), "write {i} of {most}");
    }
    assert_eq!(
        provider.write(memory, 2 * most, &[1]).unwrap(),
        Err(MemoryError::GroupTooLarge(limit))
    );
    // The group kept every write before the refused one, and still takes rewrites.
    assert_eq!(provider.read(memory, 0, 4).unwrap().unwrap(), [1, 0, 1, 0]);
    let last = 2 * (most - 1);
    assert_eq!(provider.read(memory, last, 3).unwrap().unwrap(), [1, 0, 0]);
    provider.write(memory, last, &[2]).unwrap().unwrap();
    provider.abort_group(memory).unwrap().unwrap();
    assert_eq!(provider.pages(memory).unwrap(), 0);
    provider.close(memory).unwrap();
    assert_eq!(sandbox.bytes("tiny.bin"), b"");
    eprintln!("a group of {most} one-byte ranges under a 1 GiB limit: refused at the next");
}

// ---------------------------------------------------------------------------------------
// 5. What the adapter says after a failed flush.

/// The adapter in atomic mode over the simulated filesystem, through the wasm-dbms
/// component's raw storage.
fn atomic(fs: &SimFs) -> (DbmsSession, RawStorage) {
    let wasi = WasiConfig::simulated(fs.clone());
    let mut session = DbmsSession::new(Runtime::shared(), &wasi, Storage::Composed).unwrap();
    let raw = session.raw_open_atomic("db.bin", true).unwrap().unwrap();
    (session, raw)
}

/// A flush whose commit fails after the group is whole in the journal (its sync failed):
/// the next open completes it. The adapter said the pending changes were dropped, so a
/// caller that did them again did them twice.
#[test]
fn a_flush_that_failed_after_its_commit_says_committed_and_the_next_open_completes_it() {
    let fs = SimFs::new();
    let (mut session, raw) = atomic(&fs);
    session.raw_flush(raw).unwrap().unwrap();
    session.raw_write(raw, 0, b"kept").unwrap().unwrap();
    // The first sync of this flush is the journal record's.
    fs.fail_call(1, CallKind::SyncData, ErrorCode::Io);
    let failed = session.raw_flush(raw).unwrap().unwrap_err();
    assert!(
        failed.contains(
            "its changes were committed: the next open completes them; do not do them again"
        ) && failed.contains("reopen required: committed:"),
        "{failed}"
    );
    assert_eq!(
        session.raw_failed_flush(raw).unwrap(),
        Some(FlushOutcome::Committed)
    );
    assert!(session.raw_write(raw, 8, b"later").unwrap().is_err());
    drop(session);
    fs.clear_faults();
    let (mut session, raw) = atomic(&fs);
    assert_eq!(session.raw_read(raw, 0, 4).unwrap().unwrap(), b"kept");
    assert_eq!(session.raw_failed_flush(raw).unwrap(), None);
}

/// A flush whose first step, the sync of the file's earlier writes, fails: nothing of the
/// group reached the journal, and the next open finds the memory as it was.
#[test]
fn a_flush_that_failed_before_its_commit_says_not_committed_and_the_next_open_finds_none_of_it() {
    let fs = SimFs::new();
    let (mut session, raw) = atomic(&fs);
    session.raw_write(raw, 0, b"gone").unwrap().unwrap();
    fs.fail_call(1, CallKind::SyncData, ErrorCode::Io);
    let failed = session.raw_flush(raw).unwrap().unwrap_err();
    assert!(
        failed.contains("its changes were not committed")
            && failed.contains("reopen required: not committed:"),
        "{failed}"
    );
    assert_eq!(
        session.raw_failed_flush(raw).unwrap(),
        Some(FlushOutcome::NotCommitted)
    );
    drop(session);
    fs.clear_faults();
    assert_eq!(fs.read("db.bin"), Some(Vec::new()));
    assert!(!fs.exists("db.bin-journal"));
    let (mut session, raw) = atomic(&fs);
    assert_eq!(session.raw_read(raw, 0, 4).unwrap().unwrap(), [0; 4]);
}

/// A flush whose growth of the file fails and whose withdrawal from the journal fails too:
/// only the next open decides, and here it completes the group, whose record is whole.
#[test]
fn a_flush_whose_withdrawal_failed_says_undecided_and_the_next_open_completes_it_whole() {
    let fs = SimFs::new();
    let (mut session, raw) = atomic(&fs);
    session.raw_flush(raw).unwrap().unwrap();
    session.raw_grow(raw, 1).unwrap().unwrap();
    session.raw_write(raw, 2 * PAGE, b"grown").unwrap().unwrap();
    // The file's growth, then the journal's truncation.
    fs.fail_calls_from(1, CallKind::SetSize, ErrorCode::Io);
    let failed = session.raw_flush(raw).unwrap().unwrap_err();
    assert!(
        failed.contains("only the next open decides")
            && failed.contains("reopen required: undecided:"),
        "{failed}"
    );
    assert_eq!(
        session.raw_failed_flush(raw).unwrap(),
        Some(FlushOutcome::Undecided)
    );
    drop(session);
    fs.clear_faults();
    let (mut session, raw) = atomic(&fs);
    assert_eq!(
        session.raw_read(raw, 2 * PAGE, 5).unwrap().unwrap(),
        b"grown"
    );
    assert_eq!(
        fs.read("db.bin").map(|bytes| bytes.len() as u64),
        Some(3 * PAGE)
    );
}

// ---------------------------------------------------------------------------------------
// 6. Hypotheses, settled.

/// Nothing random tied a record to its journal: every journal started at generation 1 with
/// the same header, so the records of an earlier journal of the file, in blocks a filesystem
/// without ordered data (ext4 `data=writeback`, among others) hands to the new journal and
/// shows after a power cut, passed as its records. Here the new journal's header is durable
/// and its first record was under way; the old journal's records stand where it goes.
/// Replaying them undid a synced write. With a random salt in every header they never pass.
#[test]
fn records_of_an_earlier_journal_never_pass_as_records_of_a_new_one() {
    let sandbox = Sandbox::new();
    let mut provider = real_session(&sandbox);
    let memory = provider.open("db.bin").unwrap().unwrap();
    provider.begin_group(memory).unwrap().unwrap();
    provider.grow(memory, 1).unwrap().unwrap();
    provider.write(memory, 0, &[1]).unwrap().unwrap();
    provider.commit_group(memory, true).unwrap().unwrap();
    provider.begin_group(memory).unwrap().unwrap();
    provider.write(memory, 0, &[2]).unwrap().unwrap();
    provider.commit_group(memory, true).unwrap().unwrap();
    let old_journal = sandbox.bytes("db.bin-journal");
    provider.close(memory).unwrap();
    assert!(!sandbox.file("db.bin-journal").exists());

    // The next life: a synced write outside groups, then a durable commit cut short.
    let mut provider = real_session(&sandbox);
    let memory = provider.open("db.bin").unwrap().unwrap();
    provider.write(memory, 0, &[9]).unwrap().unwrap();
    provider.sync(memory).unwrap().unwrap();
    let file_before = sandbox.bytes("db.bin");
    provider.begin_group(memory).unwrap().unwrap();
    provider.write(memory, 100, &[7]).unwrap().unwrap();
    provider.commit_group(memory, true).unwrap().unwrap();
    let new_header = sandbox.bytes("db.bin-journal")[..64].to_vec();
    drop(provider);

    // The disk the power cut leaves: the file as synced, the new header, the old records.
    std::fs::write(sandbox.file("db.bin"), &file_before).unwrap();
    let crashed = [&new_header[..], &old_journal[64..]].concat();
    std::fs::write(sandbox.file("db.bin-journal"), &crashed).unwrap();
    let mut provider = real_session(&sandbox);
    let memory = provider.open("db.bin").unwrap().unwrap();
    assert_eq!(provider.recovery(memory).unwrap().completed_groups, 0);
    assert_eq!(
        provider.read(memory, 0, 1).unwrap().unwrap(),
        [9],
        "the synced write"
    );
    assert_eq!(
        provider.read(memory, 100, 1).unwrap().unwrap(),
        [0],
        "the cut commit"
    );
}

/// A directory sync that failed may have lost the names it should have written while a
/// later one succeeds (Linux marks a failed writeback clean). The journal's first durable
/// use failed at its directory's sync; the next durable commit synced the directory again,
/// trusted the success, and a power cut lost the journal's name with the acknowledged
/// commit in it. The commit now makes the journal anew first, which the sync must write.
#[test]
fn a_durable_commit_after_a_failed_directory_sync_survives_every_power_cut() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 0, b"first"));
    // The directory's sync (`sync`; files are synced with `sync-data`).
    fs.fail_call(1, CallKind::Sync, ErrorCode::Io);
    let first = provider.commit_group(memory, true).unwrap();
    assert!(
        matches!(&first, Err(MemoryError::GroupDiscarded(_))),
        "{first:?}"
    );
    assert_eq!(provider.pages(memory).unwrap(), 0);
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 0, b"second"));
    ok(provider.commit_group(memory, true));
    let acknowledged = fs.trace_len();
    for case in fs.crash_states([acknowledged], 8, 0xD1) {
        let (mut recovered, memory) = reopen(&case.state, "db.bin");
        assert_eq!(recovered.pages(memory).unwrap(), 1, "{:?}", case.kind);
        assert_eq!(
            ok(recovered.read(memory, 0, 6)),
            b"second",
            "{:?}",
            case.kind
        );
    }
}

/// A recovery whose sync of the file fails: the open fails with `io`, and says that writes
/// made outside groups by the program that held the file last, and not synced, may be lost
/// (a failed sync may drop them). It said only that the journal was kept.
#[test]
fn a_recovery_whose_file_sync_fails_keeps_the_journal_and_says_unsynced_writes_may_be_lost() {
    let fs = SimFs::new();
    {
        let mut provider = session(&fs);
        let memory = ok(provider.open("db.bin"));
        ok(provider.begin_group(memory));
        ok(provider.grow(memory, 1));
        ok(provider.write(memory, 0, b"group"));
        ok(provider.commit_group(memory, true));
    }
    let journal = fs.read("db.bin-journal");
    // The recovery's first sync is the file's, after completing the group.
    fs.fail_call(1, CallKind::SyncData, ErrorCode::Io);
    let mut provider = session(&fs);
    let failed = provider.open("db.bin").unwrap();
    assert!(
        matches!(&failed, Err(MemoryError::Io(text))
            if text.contains("writes the last program to hold the file made outside groups and did not sync may be lost")
                && text.contains("the journal is kept")),
        "{failed:?}"
    );
    assert_eq!(fs.read("db.bin-journal"), journal);
    fs.clear_faults();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    assert_eq!(ok(provider.read(memory, 0, 5)), b"group");
    assert_eq!(provider.recovery(memory).unwrap().completed_groups, 1);
}
