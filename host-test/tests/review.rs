//! An independent review of the provider's crash-safety protocol, as tests.
//!
//! Each test is one scenario: the exact sequence of operations, the filesystem call that
//! fails (injected with `SimFs::fail_call`) and the instant the power fails or the process
//! is killed (a cut point of the trace, with the crash model of `host_test::simfs`). Where
//! the provider once broke what `wit/memory.wit` promises in that scenario, the test's
//! comment tells how; every test failed then and passes since its fix.

mod common;

use common::journal;
use common::simulated::{ok, reopen, session};
use common::steps::Step;
use common::{PAGE, Sandbox};
use host_test::Runtime;
use host_test::provider::MemoryError;
use host_test::simfs::{CallKind, CallKinds, CrashKind, CrashState, ErrorCode, SimFs, TraceEntry};

/// The disk a crash of `kind` leaves just before trace entry `cut`.
fn state_at(fs: &SimFs, cut: usize, kind: CrashKind) -> CrashState {
    let mut replay = fs.replay();
    replay.advance_to(cut);
    replay.state(kind)
}

/// The position of the first trace entry at or after `from` that `what` accepts.
fn first_entry(fs: &SimFs, from: usize, what: impl Fn(&TraceEntry) -> bool) -> usize {
    let trace = fs.trace();
    (from..trace.len())
        .find(|at| what(&trace[*at]))
        .expect("the entry is in the trace")
}

// ---------------------------------------------------------------------------------------
// 1. `sync` after a failed directory sync.

/// `sync()` syncs the journal, clears `unsynced`, then syncs the journal's directory. When
/// only the directory's sync fails, `sync()` answers `io`; the next `sync()` finds
/// `unsynced` clear, skips the directory, and answers `ok` with the journal's name still
/// not durable. A power cut then forgets the journal, and with it every group committed
/// without `durable` that the successful `sync` promised to keep.
#[test]
fn a_sync_retried_after_its_directory_sync_failed_makes_the_journal_durable() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 0, b"acknowledged"));
    ok(provider.commit_group(memory, false));
    // The journal's sync-data succeeds; the directory's sync fails.
    fs.fail_call(1, CallKind::Sync, ErrorCode::Io);
    assert!(matches!(
        provider.sync(memory).unwrap(),
        Err(MemoryError::Io(_))
    ));
    // The retry returns ok: everything made so far is durable, says the contract.
    assert_eq!(provider.sync(memory).unwrap(), Ok(()));
    let synced = fs.trace_len();
    let syncs_of_directory = fs
        .trace()
        .iter()
        .filter(|entry| matches!(entry, TraceEntry::SyncDirectory { .. }))
        .count();
    for case in fs.crash_states([synced], 6, 0x5C) {
        let (mut recovered, memory) = reopen(&case.state, "db.bin");
        assert_eq!(
            recovered.pages(memory).unwrap(),
            1,
            "{:?}: the group `sync` made durable is gone (the journal's directory was synced \
             {syncs_of_directory} time(s), only at the file's creation)",
            case.kind
        );
        assert_eq!(
            ok(recovered.read(memory, 0, 12)),
            b"acknowledged",
            "{:?}",
            case.kind
        );
    }
}

// ---------------------------------------------------------------------------------------
// 2. A durable commit of an empty group.

/// `commit-group(durable)` returns at once when the group wrote nothing and did not grow:
/// nothing is synced, though the WIT says "the group, and everything before it, survives a
/// power loss once this returns".
#[test]
fn a_durable_commit_of_an_empty_group_makes_everything_before_it_durable() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 0, b"outside"));
    ok(provider.begin_group(memory));
    ok(provider.write(memory, 100, b"quick group"));
    ok(provider.commit_group(memory, false));
    ok(provider.begin_group(memory));
    assert_eq!(provider.commit_group(memory, true).unwrap(), Ok(()));
    let committed = fs.trace_len();
    for case in fs.crash_states([committed], 6, 0xE0) {
        let (mut recovered, memory) = reopen(&case.state, "db.bin");
        assert_eq!(recovered.pages(memory).unwrap(), 1, "{:?}", case.kind);
        assert_eq!(ok(recovered.read(memory, 0, 7)), b"outside");
        assert_eq!(ok(recovered.read(memory, 100, 11)), b"quick group");
    }
}

// ---------------------------------------------------------------------------------------
// 3. Writes outside groups of an earlier session.

/// `file_unsynced` starts `false` at `open`, whatever the file holds: writes and growths
/// outside groups made by an earlier session (closed, or killed: a close syncs the file only
/// when a journal exists) are in the page cache, visible to this session, and not synced
/// by its first durable commit, which syncs the journal only. After a power cut the memory
/// holds that commit without the writes it was made over: not a prefix of the operations.
#[test]
fn a_durable_commit_syncs_writes_outside_groups_of_an_earlier_session() {
    let fs = SimFs::new();
    let mut first = session(&fs);
    let memory = ok(first.open("db.bin"));
    ok(first.grow(memory, 4));
    ok(first.write(memory, 3 * PAGE, b"earlier session"));
    first.close(memory).unwrap();
    drop(first);
    let mut second = session(&fs);
    let memory = ok(second.open("db.bin"));
    assert_eq!(ok(second.read(memory, 3 * PAGE, 15)), b"earlier session");
    ok(second.begin_group(memory));
    ok(second.write(memory, 0, b"durable, over the earlier session"));
    assert_eq!(second.commit_group(memory, true).unwrap(), Ok(()));
    let committed = fs.trace_len();
    for case in fs.crash_states([committed], 6, 0xEA) {
        let (mut recovered, memory) = reopen(&case.state, "db.bin");
        assert_eq!(
            ok(recovered.read(memory, 0, 33)),
            b"durable, over the earlier session"
        );
        assert_eq!(recovered.pages(memory).unwrap(), 4, "{:?}", case.kind);
        assert_eq!(ok(recovered.read(memory, 3 * PAGE, 15)), b"earlier session");
    }
}

// ---------------------------------------------------------------------------------------
// 4. Recovery discards acknowledged durable groups that fit.

/// When the last record's size is refused by the filesystem, `complete` keeps only the
/// records whose size the file *already has* (`record.size <= size_now`). After a power
/// cut the file's size is its last synced one, so an acknowledged durable group that grew
/// the file (its growth not yet synced) is dropped with the too-large one, and reported as
/// "nothing of them had reached the file".
///
/// Sequence: a durable group growing the file from 2 to 3 pages returns; the next durable
/// group grows it past the filesystem's limit: its record is written and synced (step 4),
/// its growth fails (step 5). The power fails before `withdraw` truncates the record.
#[test]
fn recovery_keeps_an_acknowledged_durable_group_when_a_later_one_is_too_large() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.grow(memory, 2));
    ok(provider.write(memory, 0, b"base"));
    ok(provider.sync(memory));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 2 * PAGE + 5, b"acknowledged"));
    ok(provider.commit_group(memory, true));
    fs.set_max_file_size(64 * PAGE);
    let before = fs.trace_len();
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1 << 32));
    ok(provider.write(memory, 7, b"too large"));
    assert!(matches!(
        provider.commit_group(memory, true).unwrap(),
        Err(MemoryError::GroupDiscarded(_))
    ));
    // The power fails after the refused record's sync, before its withdrawal.
    let window = first_entry(&fs, before, |e| matches!(e, TraceEntry::SetSize { .. }));
    let state = state_at(&fs, window, CrashKind::DropUnsynced);
    let (mut recovered, memory) = reopen(&state, "db.bin");
    let recovery = recovered.recovery(memory).unwrap();
    assert_eq!(
        recovered.pages(memory).unwrap(),
        3,
        "the acknowledged durable group is lost: {recovery:?}"
    );
    assert_eq!(
        ok(recovered.read(memory, 2 * PAGE + 5, 12)),
        b"acknowledged"
    );
}

/// The same without any failure: two durable groups, the second growing the file to 100
/// pages; the power fails before a checkpoint; the next open runs where files may have at
/// most 50 pages (another filesystem, or a lower `RLIMIT_FSIZE`). The WIT allows the second
/// group to be discarded; the first, which fits, is discarded too.
#[test]
fn recovery_under_a_lower_file_size_limit_completes_the_groups_that_fit() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.grow(memory, 2));
    ok(provider.sync(memory));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 2 * PAGE + 5, b"first"));
    ok(provider.commit_group(memory, true));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 97));
    ok(provider.write(memory, 99 * PAGE, b"second"));
    ok(provider.commit_group(memory, true));
    let state = state_at(&fs, fs.trace_len(), CrashKind::DropUnsynced);
    let disk = state.to_fs();
    disk.set_max_file_size(50 * PAGE);
    let mut recovered = session(&disk);
    let memory = ok(recovered.open("db.bin"));
    let recovery = recovered.recovery(memory).unwrap();
    assert!(recovery.discarded.is_some(), "{recovery:?}");
    assert_eq!(
        recovery.completed_groups, 1,
        "the first group fits in 50 pages: {recovery:?}"
    );
    assert_eq!(ok(recovered.read(memory, 2 * PAGE + 5, 5)), b"first");
}

// ---------------------------------------------------------------------------------------
// 5. A refused commit whose withdrawal was not made durable.

/// A durable commit whose growth fails (step 5) is withdrawn: the journal is truncated
/// before the record, then synced, and the sync's result is ignored. When that sync fails
/// the commit still answers `group-discarded` ("gone for good ... now and after any
/// crash"), and the record it synced at step 4 stays durable. `journal.unsynced` was
/// cleared at step 4, so a later `sync()` does not sync the journal either; and with the
/// record at sequence 0, a write outside groups does not checkpoint. A power cut then
/// brings the refused group back over a later write that `sync` made durable.
#[test]
fn a_withdrawal_whose_sync_fails_requires_a_reopen_and_never_comes_back_over_later_writes() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 0, b"base"));
    ok(provider.commit_group(memory, true));
    ok(provider.checkpoint(memory));

    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 10, b"refused"));
    // The growth fails; the record's sync (the first sync-data) succeeded before it; the
    // withdrawal's sync (the second) fails: the journal is uncertain, so the memory must be
    // reopened rather than go on as if the group were gone for good.
    fs.fail_call(1, CallKind::SetSize, ErrorCode::Io);
    fs.fail_call(2, CallKind::SyncData, ErrorCode::Io);
    match provider.commit_group(memory, true).unwrap() {
        Err(MemoryError::ReopenRequired(text)) => {
            assert!(
                text.contains("withdrawn") && text.contains("power loss"),
                "{text}"
            )
        }
        other => panic!("expected reopen-required, got {other:?}"),
    }
    assert_eq!(fs.injected_faults(), 2);
    assert!(matches!(
        provider.write(memory, 10, b"later!!").unwrap(),
        Err(MemoryError::ReopenRequired(_))
    ));
    drop(provider);
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    assert_eq!(provider.pages(memory).unwrap(), 1);
    ok(provider.write(memory, 10, b"later!!"));
    assert_eq!(provider.sync(memory).unwrap(), Ok(()));
    let synced = fs.trace_len();
    for case in fs.crash_states([synced], 6, 0x4E) {
        let (mut recovered, memory) = reopen(&case.state, "db.bin");
        let recovery = recovered.recovery(memory).unwrap();
        assert_eq!(
            ok(recovered.read(memory, 10, 7)),
            b"later!!",
            "{:?}: the refused group came back over a synced write ({recovery:?})",
            case.kind
        );
        assert_eq!(recovered.pages(memory).unwrap(), 1, "{:?}", case.kind);
    }
}

// ---------------------------------------------------------------------------------------
// 6. A failed sync of the file, then a successful one (Linux's fsync error semantics).

/// On Linux, an `fsync` that fails with EIO marks the failed pages clean: they may never
/// reach the disk, and the next `fsync` returns success ("fsyncgate", PostgreSQL 2018;
/// RocksDB and PostgreSQL since treat a failed sync as fatal). The provider retries: after
/// a checkpoint whose file sync failed, the next checkpoint syncs "successfully" and starts
/// a new generation of the journal, dropping the only copy of an acknowledged durable
/// group that the failed sync did not write. (The simulated filesystem keeps unsynced data
/// after a failed sync, so the disk is built here as that model leaves it: the file as of
/// before the failed sync, the journal as after the second checkpoint.)
#[test]
fn a_failed_file_sync_ends_the_memory_and_the_next_open_writes_the_journal_again() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 0, b"acknowledged"));
    ok(provider.commit_group(memory, true));
    let before_failed_sync = fs.trace_len();
    fs.fail_call(1, CallKind::SyncData, ErrorCode::Io);
    for _ in 0..2 {
        assert!(matches!(
            provider.checkpoint(memory).unwrap(),
            Err(MemoryError::ReopenRequired(_))
        ));
    }
    drop(provider);
    // The disk as Linux may leave it: the file as before the failed sync (its pages marked
    // clean, never written), the journal as it is.
    let file = state_at(&fs, before_failed_sync, CrashKind::DropUnsynced)
        .file("db.bin")
        .expect("the file")
        .to_vec();
    let after = state_at(&fs, fs.trace_len(), CrashKind::DropUnsynced);
    let journal = after.file("db.bin-journal").expect("the journal").to_vec();
    let disk = SimFs::from_files([("db.bin", file), ("db.bin-journal", journal)]);
    let mut recovered = session(&disk);
    let memory = ok(recovered.open("db.bin"));
    assert_eq!(recovered.recovery(memory).unwrap().completed_groups, 1);
    assert_eq!(recovered.pages(memory).unwrap(), 1);
    assert_eq!(ok(recovered.read(memory, 0, 12)), b"acknowledged");
}

// ---------------------------------------------------------------------------------------
// 7. Journals taken for foreign files: a header cut short, a legacy journal emptied.

/// A full disk cuts the header of a new journal short (5 bytes of "WDBMJRN2" fit); the
/// header's write fails, the commit answers `group-discarded` and removes the journal. A
/// kill before the removal, or a power cut after it (the journal's creation and removal are
/// both unsynced directory changes, and a crash may keep the first), leaves a journal of
/// 5 bytes, "WDBMJ": `classify` calls it foreign, and `open` refuses the file with
/// `invalid-path` until someone moves the journal away.
#[test]
fn a_header_cut_short_by_a_full_disk_leaves_a_file_that_opens() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    fs.set_capacity(Some(fs.used_bytes() + 5));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 0, b"group"));
    assert!(matches!(
        provider.commit_group(memory, false).unwrap(),
        Err(MemoryError::GroupDiscarded(_))
    ));
    let end = fs.trace_len();
    // The process killed just before the removal.
    let removal = first_entry(&fs, 0, |e| matches!(e, TraceEntry::Unlink { .. }));
    let killed = state_at(&fs, removal, CrashKind::KeepEverything);
    assert_eq!(killed.file("db.bin-journal"), Some(&b"WDBMJ"[..]));
    let after_kill = session(&killed.to_fs()).open("db.bin").unwrap().err();
    // Power cuts after the commit returned.
    let mut refused = 0;
    let mut states = 0;
    for case in fs.crash_states([end], 48, 0x5407) {
        states += 1;
        let mut opened = session(&case.state.to_fs());
        if let Err(error) = opened.open("db.bin").unwrap() {
            assert!(matches!(error, MemoryError::InvalidPath(_)), "{error:?}");
            refused += 1;
        }
    }
    assert!(
        after_kill.is_none() && refused == 0,
        "killed before the removal: {after_kill:?}; {refused} of {states} power cuts after the \
         commit returned left the file unopenable"
    );
}

/// `open` settles a journal of provider 0.1 by completing its group and syncing the file,
/// then makes the journal one of the current format (an empty one). A power cut at any
/// point of that open must leave a file that opens, with the group whole or not there (and
/// there once the file's sync returned).
#[test]
fn a_power_cut_while_a_legacy_journal_is_settled_leaves_a_file_that_opens() {
    let original = vec![0u8; PAGE as usize];
    let legacy = journal::legacy(PAGE, &[(100, &[7u8; 1500])]);
    let fs = SimFs::from_files([("db.bin", original), ("db.bin-journal", legacy)]);
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    assert_eq!(provider.recovery(memory).unwrap().completed_groups, 1);
    drop(provider);
    let file_synced = first_entry(&fs, 0, |e| matches!(e, TraceEntry::SyncFile { .. }));
    let mut refused = Vec::new();
    let mut states = 0;
    for case in fs.crash_states(0..=fs.trace_len(), 8, 0x1E6) {
        states += 1;
        let mut opened = session(&case.state.to_fs());
        match opened.open("db.bin").unwrap() {
            Ok(memory) => {
                let bytes = ok(opened.read(memory, 100, 1500));
                let whole = bytes == vec![7u8; 1500];
                assert!(
                    whole || bytes == vec![0u8; 1500],
                    "{:?}: a torn group",
                    case.kind
                );
                assert!(
                    whole || case.cut <= file_synced,
                    "{:?}: the group is gone",
                    case.kind
                );
            }
            Err(error) => refused.push(format!("{:?}: {error:?}", case.kind)),
        }
    }
    assert!(
        refused.is_empty(),
        "{} of {states} crash states left the file unopenable, e.g. {}",
        refused.len(),
        refused[0]
    );
}

// ---------------------------------------------------------------------------------------
// 8. Exclusion within one instance.

/// "One `memory` per file in a component instance: a second `open` of the file is
/// `locked`." The provider's lock is keyed by the path's text with `.` and empty components
/// dropped, so `sub/../db.bin` is another key for `db.bin`. Under a host without file locks
/// (the WIT's own premise: WASI has none; wasmtime's CLI and jco take none) both opens
/// succeed, and the second one's recovery restarts the first one's journal.
#[test]
fn a_path_with_dot_dot_to_a_held_file_is_locked() {
    use host_test::provider::bindings::Provider;
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.file("sub")).unwrap();
    let runtime = Runtime::shared();
    // A linker with plain wasmtime-wasi: no host lock.
    let mut linker = wasmtime::component::Linker::new(runtime.linker().engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let wasi = sandbox.wasi();
    let mut store = runtime.store(&wasi).unwrap();
    let component = runtime.component(host_test::artifacts::PROVIDER).unwrap();
    let provider = Provider::instantiate(&mut store, &component, &linker).unwrap();
    let api = provider.wasm_dbms_memory_memory_provider().memory();
    let first = api.call_open(&mut store, "db.bin").unwrap().unwrap();
    // Sanity: the same text is refused by the provider itself.
    assert!(matches!(
        api.call_open(&mut store, "db.bin").unwrap(),
        Err(MemoryError::Locked(_))
    ));
    let second = api.call_open(&mut store, "sub/../db.bin").unwrap();
    assert!(
        matches!(second, Err(MemoryError::Locked(_))),
        "a second memory of one file in one instance: {second:?}"
    );
    first.resource_drop(&mut store).unwrap();
}

// ---------------------------------------------------------------------------------------
// 9. A drop whose checkpoint fails.

/// `Drop` checkpoints and removes the journal; when the checkpoint fails (the file's sync,
/// here), it returns silently and the journal stays with its records. The WIT says that
/// after a drop "the file alone holds the whole memory and can be copied or opened by any
/// provider of the same layout"; a provider of that layout (the seed) that writes the file
/// then has its writes undone by this provider's next open, which completes the stale
/// records over them.
#[test]
fn a_drop_whose_closing_sync_fails_keeps_the_journal_for_the_next_open() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1));
    ok(provider.write(memory, 0, b"group"));
    ok(provider.commit_group(memory, true));
    fs.fail_call(1, CallKind::SyncData, ErrorCode::Io);
    provider.close(memory).unwrap();
    drop(provider);
    // The file is not whole alone (the WIT says so): the journal stays, holding the group.
    assert_eq!(
        journal::read(&fs.read("db.bin-journal").unwrap())
            .unwrap()
            .records
            .len(),
        1
    );
    let mut reopened = session(&fs);
    let memory = ok(reopened.open("db.bin"));
    assert_eq!(reopened.recovery(memory).unwrap().completed_groups, 1);
    assert_eq!(ok(reopened.read(memory, 0, 5)), b"group");
    reopened.close(memory).unwrap();
    assert!(!fs.exists("db.bin-journal"), "a clean close removes it");
}

// ---------------------------------------------------------------------------------------
// 10. A directory at the journal's name.

/// The WIT: `invalid-path` when "the journal's name beside it is taken by a file that is
/// not a journal of this provider". A directory there gets `io` (the open of the journal
/// for writing fails with `is-directory`), which says the filesystem failed.
#[test]
fn a_directory_at_the_journal_name_is_an_invalid_path() {
    let mut state = CrashState::default();
    state.files.insert("db.bin".into(), vec![0; PAGE as usize]);
    state.directories.insert("db.bin-journal".into());
    let mut provider = session(&state.to_fs());
    let opened = provider.open("db.bin").unwrap();
    assert!(
        matches!(opened, Err(MemoryError::InvalidPath(_))),
        "{opened:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 11. A stale journal of provider 0.1.

/// Provider 0.1 removed its journal after each commit without syncing the directory, so
/// a power cut can bring back a journal whose group was applied long ago. Its groups only
/// grew the file, so a 0.1 journal whose size is below the file's is stale for certain;
/// `complete_legacy` sets the file to that size anyway, cutting off pages written later.
#[test]
fn a_stale_legacy_journal_is_dropped_not_completed() {
    let mut image = vec![0u8; 3 * PAGE as usize];
    image[..3].copy_from_slice(b"old");
    image[2 * PAGE as usize..][..5].copy_from_slice(b"later");
    let legacy = journal::legacy(2 * PAGE, &[(0, b"old")]);
    let fs = SimFs::from_files([("db.bin", image), ("db.bin-journal", legacy)]);
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    assert_eq!(
        provider.pages(memory).unwrap(),
        3,
        "{:?}",
        provider.recovery(memory).unwrap()
    );
    assert_eq!(ok(provider.read(memory, 2 * PAGE, 5)), b"later");
}

// ---------------------------------------------------------------------------------------
// Scenarios that hold.

/// A durable commit whose growth fails, with the power failing in the window between the
/// growth's failure and the withdrawal (the record durable in the journal, the file
/// untouched), on a disk where the growth is still refused: the refused group is discarded
/// at open and the earlier groups (all synced into the file by a checkpoint) stay.
#[test]
fn a_refused_growth_in_the_withdrawal_window_is_discarded_at_open() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 2));
    ok(provider.write(memory, 0, b"kept"));
    ok(provider.commit_group(memory, true));
    ok(provider.checkpoint(memory));
    let before = fs.trace_len();
    ok(provider.begin_group(memory));
    ok(provider.grow(memory, 1 << 20));
    ok(provider.write(memory, 4, b"refused"));
    fs.set_max_file_size(64 * PAGE);
    assert!(matches!(
        provider.commit_group(memory, true).unwrap(),
        Err(MemoryError::GroupDiscarded(_))
    ));
    let window = first_entry(&fs, before, |e| matches!(e, TraceEntry::SetSize { .. }));
    for kind in [CrashKind::DropUnsynced, CrashKind::KeepEverything] {
        let state = state_at(&fs, window, kind);
        let disk = state.to_fs();
        disk.set_max_file_size(64 * PAGE);
        let mut recovered = session(&disk);
        let memory = ok(recovered.open("db.bin"));
        assert_eq!(recovered.pages(memory).unwrap(), 2, "{kind:?}");
        assert_eq!(ok(recovered.read(memory, 0, 11)), b"kept\0\0\0\0\0\0\0");
    }
}

/// Records of an earlier generation left behind a checkpoint that did not truncate the
/// journal, with a new generation's record overwriting only their start: at every power
/// cut while later groups are committed without `durable`, the stale records never replay
/// over writes made after the checkpoint.
#[test]
fn stale_records_behind_a_new_generation_never_replay() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    ok(provider.grow(memory, 1));
    // Generation 1: three long records writing "stale" bytes.
    for round in 0..3u64 {
        ok(provider.begin_group(memory));
        ok(provider.write(memory, 1000 * round, &[0xAA; 900]));
        ok(provider.commit_group(memory, true));
    }
    ok(provider.checkpoint(memory));
    // Outside a group, then generation 2's short records.
    ok(provider.write(memory, 0, &[0x11; 3000]));
    ok(provider.sync(memory));
    let start = fs.trace_len();
    for round in 0..3u64 {
        ok(provider.begin_group(memory));
        ok(provider.write(memory, 5000 + round, &[0x22]));
        ok(provider.commit_group(memory, false));
    }
    let end = fs.trace_len();
    let cuts: Vec<usize> = (start..=end).collect();
    for case in fs.crash_states(cuts, 3, 0x6E) {
        let (mut recovered, memory) = reopen(&case.state, "db.bin");
        let found = ok(recovered.read(memory, 0, 3000));
        assert!(
            found.iter().all(|b| *b == 0x11),
            "cut {} {:?}: a stale record replayed",
            case.cut,
            case.kind
        );
    }
}

/// A power cut or a kill at any instant of the recovery itself (a journal of three durable
/// groups, one of them growing the file, over a file that kept none of them): the next
/// open completes all three, and the journal is never taken for a foreign file.
#[test]
fn a_crash_during_recovery_is_recovered_by_the_next_open() {
    let records = [
        (PAGE, vec![(10u64, b"one".as_slice())]),
        (
            3 * PAGE,
            vec![(2 * PAGE + 1, b"two".as_slice()), (20, &[9u8; 900][..])],
        ),
        (3 * PAGE, vec![(30, b"three".as_slice())]),
    ];
    let fs = SimFs::from_files([
        ("db.bin", vec![0u8; PAGE as usize]),
        ("db.bin-journal", journal::journal(7, &records)),
    ]);
    let mut provider = session(&fs);
    let memory = ok(provider.open("db.bin"));
    assert_eq!(provider.recovery(memory).unwrap().completed_groups, 3);
    drop(provider);
    let cuts: Vec<usize> = (0..=fs.trace_len()).collect();
    let mut states = 0;
    for case in fs.crash_states(cuts, 4, 0xC0) {
        let (mut recovered, memory) = reopen(&case.state, "db.bin");
        let context = format!("cut {} {:?}", case.cut, case.kind);
        assert_eq!(recovered.pages(memory).unwrap(), 3, "{context}");
        assert_eq!(ok(recovered.read(memory, 10, 3)), b"one", "{context}");
        assert_eq!(
            ok(recovered.read(memory, 20, 10)),
            vec![9u8; 10],
            "{context}"
        );
        assert_eq!(ok(recovered.read(memory, 30, 5)), b"three", "{context}");
        assert_eq!(
            ok(recovered.read(memory, 2 * PAGE + 1, 3)),
            b"two",
            "{context}"
        );
        states += 1;
    }
    assert!(states > 20);
}

// ---------------------------------------------------------------------------------------
// Sweeps: failing calls anywhere in a workload, then power cuts at every barrier.

const STEPS: [Step; 12] = [
    Step::Grow(2),
    Step::Write(0, b"outside"),
    Step::Group(false, 0, b"quick", 300),
    Step::Sync,
    Step::Group(true, 1, b"durable", PAGE + 100),
    Step::Group(false, 0, b"again", 320),
    Step::Write(400, b"after groups"),
    Step::Group(true, 0, b"last", 2 * PAGE + 7),
    Step::Checkpoint,
    Step::Group(false, 1, b"grown", 3 * PAGE),
    Step::Group(true, 0, b"final", 500),
    Step::Sync,
];

/// Whether a step is one after which everything before it must survive a power loss.
fn is_barrier(step: Step) -> bool {
    matches!(step, Step::Group(true, ..) | Step::Sync | Step::Checkpoint)
}

/// Runs the workload with the faults `arm` sets up, and checks every crash state at the cut
/// just after each barrier that returned `ok` (a durable commit, a `sync`, a
/// `checkpoint`) with no failed write outside groups before it: each must reopen to
/// exactly the memory the answers describe. Returns the violations, and whether a fault
/// fired.
fn run_and_check(
    arm: impl Fn(&SimFs),
    context: &str,
    seed: u64,
    every_cut: bool,
) -> (Vec<String>, bool, u64) {
    let fs = SimFs::new();
    arm(&fs);
    let mut violations = Vec::new();
    let mut image: Vec<u8> = Vec::new();
    let mut uncertain = false;
    let mut barriers: Vec<(usize, Vec<u8>, Step)> = Vec::new();
    let mut provider = session(&fs);
    let mut memory = provider.open("sweep.bin").unwrap().ok();
    let mut steps = STEPS.iter();
    while let (Some(handle), Some(step)) = (memory, steps.next()) {
        let size = image.len() as u64;
        let write = |bytes: &mut Vec<u8>, offset: u64, data: &[u8]| {
            bytes[offset as usize..][..data.len()].copy_from_slice(data);
        };
        let mut returned_ok = false;
        let mut reopen_needed = false;
        let mut pending: Option<Vec<u8>> = None;
        match *step {
            Step::Write(offset, data) if offset + data.len() as u64 > size => {}
            Step::Group(_, grow, data, offset)
                if offset + data.len() as u64 > size + grow * PAGE => {}
            Step::Write(offset, data) => match provider.write(handle, offset, data).unwrap() {
                Ok(()) => write(&mut image, offset, data),
                Err(MemoryError::ReopenRequired(_)) => {
                    uncertain = true;
                    reopen_needed = true;
                }
                Err(_) => uncertain = true,
            },
            Step::Grow(pages) => match provider.grow(handle, pages).unwrap() {
                Ok(_) => image.resize(image.len() + (pages * PAGE) as usize, 0),
                Err(MemoryError::ReopenRequired(_)) => reopen_needed = true,
                Err(_) => {}
            },
            Step::Group(durable, grow, data, offset) => {
                ok(provider.begin_group(handle));
                ok(provider.grow(handle, grow));
                ok(provider.write(handle, offset, data));
                let mut after = image.clone();
                after.resize(after.len() + (grow * PAGE) as usize, 0);
                write(&mut after, offset, data);
                match provider.commit_group(handle, durable).unwrap() {
                    Ok(()) => {
                        image = after;
                        returned_ok = true;
                    }
                    Err(MemoryError::GroupDiscarded(_)) => {}
                    Err(MemoryError::ReopenRequired(_)) => {
                        // The next open settles the group: whole, or not there.
                        pending = Some(after);
                        reopen_needed = true;
                    }
                    other => panic!("{context}: commit answered {other:?}"),
                }
            }
            Step::Sync | Step::Checkpoint => {
                let result = match step {
                    Step::Sync => provider.sync(handle).unwrap(),
                    _ => provider.checkpoint(handle).unwrap(),
                };
                returned_ok = result.is_ok();
                reopen_needed = matches!(result, Err(MemoryError::ReopenRequired(_)));
            }
        }
        if returned_ok && is_barrier(*step) && !uncertain {
            barriers.push((fs.trace_len(), image.clone(), *step));
        }
        if reopen_needed {
            provider.close(handle).unwrap();
            provider = session(&fs);
            memory = provider.open("sweep.bin").unwrap().ok();
            if let (Some(handle), Some(after)) = (memory, pending.take()) {
                let size = provider.size(handle).unwrap();
                match provider.read(handle, 0, size).unwrap() {
                    Ok(found) if found == after => image = after,
                    Ok(found) if found == image => {}
                    Ok(_) => {
                        violations.push(format!("{context}: a refused group came back in part"))
                    }
                    // A second failure took the read: what the group became is not known here.
                    Err(_) => uncertain = true,
                }
            }
        }
    }
    if let Some(handle) = memory {
        provider.close(handle).unwrap();
    }
    let fired = fs.injected_faults() > 0;
    let calls = fs.calls();
    fs.clear_faults();
    for (cut, expected, step) in &barriers {
        for case in fs.crash_states([*cut], 2, seed ^ *cut as u64) {
            let mut recovered = session(&case.state.to_fs());
            let found = match recovered.open("sweep.bin").unwrap() {
                Ok(memory) => {
                    let size = recovered.size(memory).unwrap();
                    ok(recovered.read(memory, 0, size))
                }
                Err(error) => {
                    violations.push(format!(
                        "{context}: after {step:?} at cut {cut} ({:?}): open failed: {error:?}",
                        case.kind
                    ));
                    continue;
                }
            };
            if found != *expected {
                let first = found
                    .iter()
                    .zip(expected.iter())
                    .position(|(a, b)| a != b)
                    .unwrap_or(found.len().min(expected.len()));
                violations.push(format!(
                    "{context}: after {step:?} returned, cut {cut} ({:?}): {} bytes found, {} \
                     expected, first difference at {first}",
                    case.kind,
                    found.len(),
                    expected.len()
                ));
            }
        }
    }
    // Any crash at any instant (a kill, or a power cut) leaves a file that opens.
    if every_cut {
        for case in fs.crash_states(0..=fs.trace_len(), 1, seed) {
            let mut recovered = session(&case.state.to_fs());
            if let Err(error) = recovered.open("sweep.bin").unwrap() {
                violations.push(format!(
                    "{context}: cut {} ({:?}): open failed: {error:?}",
                    case.cut, case.kind
                ));
            }
        }
    }
    (violations, fired, calls)
}

/// One failing call (each call in turn, with `io` and `insufficient-space`), the workload
/// run to its end as the answers allow (a memory that must be reopened is reopened), then
/// power cuts just after every barrier that returned `ok`: everything must be there; and
/// at every cut of the trace, a kill, a power cut dropping everything unsynced and a random
/// one each leave a file that opens.
/// `faults.rs` checks failures in the process view only, `power_cut.rs` power cuts without
/// failures; this checks the two together. It passes.
#[test]
fn one_failing_call_then_power_cuts_at_every_barrier() {
    let mut violations = Vec::new();
    let mut runs = 0;
    'calls: for n in 1.. {
        for error in [ErrorCode::Io, ErrorCode::InsufficientSpace] {
            let context = format!("call {n} fails with {error:?}");
            let arm = |fs: &SimFs| fs.fail_call(n, CallKinds::ANY, error);
            let (found, fired, _) = run_and_check(arm, &context, n, true);
            violations.extend(found);
            runs += 1;
            if !fired {
                break 'calls;
            }
        }
    }
    eprintln!("one failing call: {runs} runs");
    assert!(
        violations.is_empty(),
        "{} violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
}

/// The same with two failures: any call, and then any one `sync` or `sync-data` (a disk
/// that is failing fails more than once; a full disk fails syncs too). This is the sweep
/// that finds finding 5 (a refused commit whose withdrawal did not reach the disk) from
/// the workload itself; it fails.
#[test]
fn two_failing_calls_then_power_cuts_at_every_barrier() {
    let syncs = CallKinds::of(&[CallKind::Sync, CallKind::SyncData]);
    let (_, _, calls) = run_and_check(|_| {}, "no failure", 0, false);
    let mut violations = Vec::new();
    let mut runs = 0;
    for n in 1..=calls + 10 {
        for k in 1..=20 {
            for error in [ErrorCode::Io, ErrorCode::InsufficientSpace] {
                let context = format!("call {n} fails with {error:?}, and sync {k} with io");
                let arm = |fs: &SimFs| {
                    fs.fail_call(n, CallKinds::ANY, error);
                    fs.fail_call(k, syncs, ErrorCode::Io);
                };
                let (found, _, _) = run_and_check(arm, &context, n * 31 + k, false);
                violations.extend(found);
                runs += 1;
            }
        }
    }
    eprintln!(
        "two failing calls: {runs} runs, {} violations",
        violations.len()
    );
    for line in &violations {
        eprintln!("{line}");
    }
    assert!(
        violations.is_empty(),
        "{} violation(s), the first:\n{}",
        violations.len(),
        violations
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
