//! Failures at every filesystem call, on the simulated filesystem, through the real
//! `provider.wasm`: each error a call returns leaves the memory, the file and the journal
//! in the state the WIT documents, and the scenarios a storage review found (a refused
//! commit that came back, a journal that made a file unopenable, a removed journal that a
//! power loss brought back, the wrong directory synced, the adapter after a failed write)
//! each have their test.

mod common;

use common::journal::{self, Journal};
use common::library::Library;
use common::simulated::session;
use common::steps::Step;
use common::{PAGE, Rng};
use host_test::dbms::{DbError, DbmsSession, Storage, text, uint};
use host_test::provider::{Memory, MemoryError, ProviderSession};
use host_test::simfs::{CallKind, CallKinds, ErrorCode, SimFs, TraceEntry};
use host_test::{Runtime, WasiConfig};

fn journal_of(fs: &SimFs, name: &str) -> Journal {
    journal::read(&fs.read(&format!("{name}-journal")).expect("a journal")).expect("its header")
}

/// A memory of two pages holding "base" at 0, with one durable commit behind it (so the
/// journal exists and its name is durable).
fn prepared(fs: &SimFs) -> (ProviderSession, Memory) {
    let mut provider = session(fs);
    let memory = provider.open("db.bin").unwrap().unwrap();
    provider.begin_group(memory).unwrap().unwrap();
    provider.grow(memory, 2).unwrap().unwrap();
    provider.write(memory, 0, b"base").unwrap().unwrap();
    provider.commit_group(memory, true).unwrap().unwrap();
    (provider, memory)
}

fn discarded(result: Result<(), MemoryError>) -> String {
    match result {
        Err(MemoryError::GroupDiscarded(text)) => text,
        other => panic!("expected group-discarded, got {other:?}"),
    }
}

#[test]
fn a_refused_durable_commit_is_gone_or_settled_by_the_next_open_and_later_writes_stay() {
    // The calls of a durable commit that fail before the file changes, and what each leaves:
    // the journal's write cut short discards the group and the memory goes on; a failed
    // sync (of the file's pending writes before the record, or of the record) ends the
    // memory's use, and the next open finds the group absent, as the error said.
    struct Case {
        kind: CallKind,
        error: ErrorCode,
        reopen: bool,
    }
    let cases = [
        Case {
            kind: CallKind::Write,
            error: ErrorCode::InsufficientSpace,
            reopen: false,
        },
        Case {
            kind: CallKind::SyncData,
            error: ErrorCode::Io,
            reopen: true,
        },
    ];
    for case in cases {
        let fs = SimFs::new();
        let (mut provider, mut memory) = prepared(&fs);
        provider.write(memory, 100, b"outside").unwrap().unwrap();
        provider.begin_group(memory).unwrap().unwrap();
        provider.write(memory, 10, b"refused").unwrap().unwrap();
        let records_before = journal_of(&fs, "db.bin").records.len();
        fs.fail_call(1, case.kind, case.error);
        let result = provider.commit_group(memory, true).unwrap();
        if case.reopen {
            match result {
                Err(MemoryError::ReopenRequired(text)) => {
                    assert!(text.contains("not in the journal"), "{text}")
                }
                other => panic!("{:?}: expected reopen-required, got {other:?}", case.kind),
            }
            drop(provider);
            provider = session(&fs);
            memory = provider.open("db.bin").unwrap().unwrap();
        } else {
            let why = discarded(result);
            assert!(why.contains("db.bin"), "{:?}: {why}", case.kind);
            assert_eq!(journal_of(&fs, "db.bin").records.len(), records_before);
        }
        let refused = vec![0u8; 7];
        assert_eq!(provider.read(memory, 10, 7).unwrap(), Ok(refused.clone()));
        provider.write(memory, 200, b"later").unwrap().unwrap();
        provider.sync(memory).unwrap().unwrap();
        let after_sync = fs.trace_len();
        drop(provider);

        // Reopened after the process died, and at every power cut after the sync: the
        // refused group as the error said, the later writes present.
        for case_state in fs.crash_states([after_sync], 4, 1) {
            let mut recovered = session(&case_state.state.to_fs());
            let memory = recovered.open("db.bin").unwrap().unwrap();
            assert_eq!(recovered.read(memory, 0, 4).unwrap(), Ok(b"base".to_vec()));
            assert_eq!(
                recovered.read(memory, 10, 7).unwrap(),
                Ok(refused.clone()),
                "{:?}",
                case_state.kind
            );
            assert_eq!(
                recovered.read(memory, 100, 7).unwrap(),
                Ok(b"outside".to_vec())
            );
            assert_eq!(
                recovered.read(memory, 200, 5).unwrap(),
                Ok(b"later".to_vec())
            );
        }
    }
}

#[test]
fn a_durable_commit_whose_record_cannot_be_synced_is_completed_by_the_next_open() {
    let fs = SimFs::new();
    let (mut provider, memory) = prepared(&fs);
    provider.begin_group(memory).unwrap().unwrap();
    provider.write(memory, 10, b"kept").unwrap().unwrap();
    fs.fail_call(1, CallKind::SyncData, ErrorCode::Io);
    match provider.commit_group(memory, true).unwrap() {
        Err(MemoryError::ReopenRequired(text)) => {
            assert!(text.contains("db.bin-journal"), "{text}")
        }
        other => panic!("expected reopen-required, got {other:?}"),
    }
    assert!(matches!(
        provider.read(memory, 0, 4).unwrap(),
        Err(MemoryError::ReopenRequired(_))
    ));
    drop(provider);
    let mut reopened = session(&fs);
    let memory = reopened.open("db.bin").unwrap().unwrap();
    assert_eq!(reopened.recovery(memory).unwrap().completed_groups, 2);
    assert_eq!(reopened.read(memory, 10, 4).unwrap(), Ok(b"kept".to_vec()));
}

#[test]
fn a_first_durable_commit_whose_directory_cannot_be_synced_is_discarded() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = provider.open("db.bin").unwrap().unwrap();
    provider.begin_group(memory).unwrap().unwrap();
    provider.grow(memory, 1).unwrap().unwrap();
    provider.write(memory, 0, b"first").unwrap().unwrap();
    // The journal is created and its header synced; then its directory's sync fails.
    fs.fail_call(1, CallKind::Sync, ErrorCode::Io);
    discarded(provider.commit_group(memory, true).unwrap());
    assert_eq!(provider.pages(memory).unwrap(), 0);
    assert_eq!(fs.read("db.bin"), Some(Vec::new()));
    provider.begin_group(memory).unwrap().unwrap();
    provider.grow(memory, 1).unwrap().unwrap();
    provider.write(memory, 0, b"second").unwrap().unwrap();
    provider.commit_group(memory, true).unwrap().unwrap();
    assert_eq!(&fs.read("db.bin").unwrap()[..6], b"second");
}

#[test]
fn a_group_the_filesystem_cannot_grow_for_is_discarded_and_the_file_reopens() {
    let fs = SimFs::new();
    let (mut provider, memory) = prepared(&fs);
    fs.set_max_file_size(64 * PAGE);
    provider.begin_group(memory).unwrap().unwrap();
    // 256 TiB: past what the filesystem allows, though not past what the provider may
    // address.
    provider.grow(memory, 1 << 32).unwrap().unwrap();
    provider.write(memory, 20, b"never").unwrap().unwrap();
    discarded(provider.commit_group(memory, true).unwrap());
    assert_eq!(provider.pages(memory).unwrap(), 2);
    assert_eq!(journal_of(&fs, "db.bin").records.len(), 1);
    // Outside a group the same growth is refused as the limit it is.
    assert_eq!(
        provider.grow(memory, 1 << 32).unwrap(),
        Err(MemoryError::LimitExceeded)
    );
    drop(provider);
    let mut reopened = session(&fs);
    let memory = reopened.open("db.bin").unwrap().unwrap();
    assert_eq!(reopened.pages(memory).unwrap(), 2);
    assert_eq!(reopened.read(memory, 20, 5).unwrap(), Ok(vec![0; 5]));
}

#[test]
fn a_journal_whose_growth_the_filesystem_refuses_is_dropped_at_open_and_said_so() {
    // A record the filesystem cannot grow the file for can only be left by a commit whose
    // growth failed, so nothing of it reached the file: `open` completes the records before
    // it, drops it, and says why.
    let fs = SimFs::new();
    fs.set_max_file_size(64 * PAGE);
    fs.write_durable("db.bin", &vec![0; 2 * PAGE as usize]);
    let records = [
        (2 * PAGE, vec![(5u64, b"kept".as_slice())]),
        (4 << 40, vec![(7u64, b"gone".as_slice())]),
    ];
    fs.write_durable("db.bin-journal", &journal::journal(3, &records));
    let mut provider = session(&fs);
    let memory = provider.open("db.bin").unwrap().unwrap();
    let recovery = provider.recovery(memory).unwrap();
    assert_eq!(recovery.completed_groups, 1);
    let why = recovery.discarded.expect("the open says what it dropped");
    assert!(
        why.contains("1 group") && why.contains("nothing of them"),
        "{why}"
    );
    assert_eq!(provider.pages(memory).unwrap(), 2);
    assert_eq!(
        provider.read(memory, 5, 6).unwrap(),
        Ok(b"kept\0\0".to_vec())
    );
    assert_eq!(
        journal_of(&fs, "db.bin"),
        Journal {
            generation: 4,
            records: Vec::new()
        }
    );
}

#[test]
fn a_full_disk_at_open_fails_it_keeps_the_journal_and_the_next_open_completes() {
    let fs = SimFs::new();
    fs.write_durable("db.bin", &[]);
    let data = vec![7u8; 3 * PAGE as usize];
    let records = [(4 * PAGE, vec![(PAGE, data.as_slice())])];
    let bytes = journal::journal(1, &records);
    fs.write_durable("db.bin-journal", &bytes);
    fs.set_capacity(Some(bytes.len() as u64 + PAGE));
    let mut provider = session(&fs);
    match provider.open("db.bin").unwrap() {
        Err(MemoryError::Io(text)) => assert!(text.contains("db.bin-journal"), "{text}"),
        other => panic!("expected io, got {other:?}"),
    }
    assert_eq!(fs.read("db.bin-journal"), Some(bytes));
    fs.set_capacity(None);
    let mut provider = session(&fs);
    let memory = provider.open("db.bin").unwrap().unwrap();
    assert_eq!(provider.recovery(memory).unwrap().completed_groups, 1);
    assert_eq!(
        provider.read(memory, PAGE, 3 * PAGE).unwrap(),
        Ok(data.clone())
    );
}

/// The journal is grown ahead of durable records by a megabyte of zeros at a time; a disk
/// with room for the record but not for that megabyte still takes the commit, durably.
#[test]
fn a_durable_commit_needs_room_for_its_record_only() {
    let fs = SimFs::new();
    let mut provider = session(&fs);
    let memory = provider.open("db.bin").unwrap().unwrap();
    provider.begin_group(memory).unwrap().unwrap();
    provider.grow(memory, 2).unwrap().unwrap();
    provider.write(memory, 0, b"base").unwrap().unwrap();
    provider.commit_group(memory, false).unwrap().unwrap();
    fs.set_capacity(Some(fs.used_bytes() + 16 * 1024));

    provider.begin_group(memory).unwrap().unwrap();
    provider.write(memory, 100, b"durable").unwrap().unwrap();
    assert_eq!(provider.commit_group(memory, true).unwrap(), Ok(()));
    assert_eq!(
        journal_of(&fs, "db.bin").records,
        [
            journal::Record {
                sequence: 0,
                size: 2 * PAGE,
                ranges: vec![(0, b"base".to_vec())]
            },
            journal::Record {
                sequence: 1,
                size: 2 * PAGE,
                ranges: vec![(100, b"durable".to_vec())]
            }
        ]
    );
    for case in fs.crash_states([fs.trace_len()], 6, 0x5EED) {
        let mut recovered = session(&case.state.to_fs());
        let memory = recovered.open("db.bin").unwrap().unwrap();
        assert_eq!(recovered.pages(memory).unwrap(), 2, "{:?}", case.kind);
        assert_eq!(recovered.read(memory, 0, 4).unwrap(), Ok(b"base".to_vec()));
        assert_eq!(
            recovered.read(memory, 100, 7).unwrap(),
            Ok(b"durable".to_vec()),
            "{:?}",
            case.kind
        );
    }
}

#[test]
fn a_failure_once_the_file_may_have_changed_requires_a_reopen_that_completes_the_group() {
    let fs = SimFs::new();
    let (mut provider, memory) = prepared(&fs);
    provider.begin_group(memory).unwrap().unwrap();
    provider.write(memory, 10, b"group").unwrap().unwrap();
    provider
        .write(memory, PAGE + 10, b"spans")
        .unwrap()
        .unwrap();
    // The journal's write, then the first in-place write succeed; the second fails.
    fs.fail_call(3, CallKind::Write, ErrorCode::Io);
    match provider.commit_group(memory, true).unwrap() {
        Err(MemoryError::ReopenRequired(text)) => assert!(text.contains("next open"), "{text}"),
        other => panic!("expected reopen-required, got {other:?}"),
    }
    for refused in [
        provider.read(memory, 0, 4).unwrap().map(|_| ()),
        provider.write(memory, 0, b"x").unwrap(),
        provider.sync(memory).unwrap(),
        provider.begin_group(memory).unwrap(),
    ] {
        assert!(matches!(refused, Err(MemoryError::ReopenRequired(_))));
    }
    provider.close(memory).unwrap();
    assert_eq!(
        journal_of(&fs, "db.bin").records.len(),
        2,
        "kept for the next open"
    );
    let mut reopened = session(&fs);
    let memory = reopened.open("db.bin").unwrap().unwrap();
    assert_eq!(reopened.recovery(memory).unwrap().completed_groups, 2);
    assert_eq!(reopened.read(memory, 10, 5).unwrap(), Ok(b"group".to_vec()));
    assert_eq!(
        reopened.read(memory, PAGE + 10, 5).unwrap(),
        Ok(b"spans".to_vec())
    );
}

#[test]
fn a_record_that_cannot_be_withdrawn_is_completed_by_the_next_open() {
    let fs = SimFs::new();
    let (mut provider, memory) = prepared(&fs);
    provider.begin_group(memory).unwrap().unwrap();
    provider.write(memory, 10, b"kept").unwrap().unwrap();
    // The journal's sync fails, and so does the truncation that would withdraw the record.
    fs.fail_call(1, CallKind::SyncData, ErrorCode::Io);
    fs.fail_call(1, CallKind::SetSize, ErrorCode::Io);
    assert!(matches!(
        provider.commit_group(memory, true).unwrap(),
        Err(MemoryError::ReopenRequired(_))
    ));
    drop(provider);
    let mut reopened = session(&fs);
    let memory = reopened.open("db.bin").unwrap().unwrap();
    assert_eq!(reopened.read(memory, 10, 4).unwrap(), Ok(b"kept".to_vec()));
}

#[test]
fn after_a_durable_group_and_a_synced_write_outside_groups_no_power_cut_undoes_the_write() {
    let fs = SimFs::new();
    let (mut provider, memory) = prepared(&fs);
    provider.begin_group(memory).unwrap().unwrap();
    provider.write(memory, 0, b"GROUP").unwrap().unwrap();
    provider.commit_group(memory, true).unwrap().unwrap();
    provider.write(memory, 0, b"after").unwrap().unwrap();
    provider.grow(memory, 3).unwrap().unwrap();
    provider.write(memory, 4 * PAGE, b"grown").unwrap().unwrap();
    provider.sync(memory).unwrap().unwrap();
    let synced = fs.trace_len();
    drop(provider);
    let cuts: Vec<usize> = (synced..=synced + 2).collect();
    let mut checked = 0;
    for case in fs.crash_states(cuts.into_iter().filter(|c| *c <= synced), 20, 3) {
        let mut recovered = session(&case.state.to_fs());
        let memory = recovered.open("db.bin").unwrap().unwrap();
        assert_eq!(recovered.pages(memory).unwrap(), 5, "{:?}", case.kind);
        assert_eq!(recovered.read(memory, 0, 5).unwrap(), Ok(b"after".to_vec()));
        assert_eq!(
            recovered.read(memory, 4 * PAGE, 5).unwrap(),
            Ok(b"grown".to_vec())
        );
        checked += 1;
    }
    assert_eq!(checked, 22);
}

#[test]
fn durable_commits_sync_the_directory_that_holds_the_files() {
    let fs = SimFs::new();
    fs.write_durable("data/keep", b"");
    let mut provider = session(&fs);
    let memory = provider.open("data/app.db").unwrap().unwrap();
    provider.begin_group(memory).unwrap().unwrap();
    provider.grow(memory, 1).unwrap().unwrap();
    provider.write(memory, 0, b"durable").unwrap().unwrap();
    provider.commit_group(memory, true).unwrap().unwrap();
    let committed = fs.trace_len();
    let trace = fs.trace();
    let created = |name: &str| {
        trace
            .iter()
            .enumerate()
            .find_map(|(at, entry)| match entry {
                TraceEntry::CreateFile {
                    directory,
                    name: created,
                    ..
                } if created == name => Some((at, *directory)),
                _ => None,
            })
    };
    for name in ["app.db", "app.db-journal"] {
        let (at, directory) = created(name).expect("the file was created");
        assert!(
            trace[at..].contains(&TraceEntry::SyncDirectory { node: directory }),
            "the directory holding {name} was synced after its creation"
        );
    }
    // And at every power cut after the commit, both names and the group are there.
    for case in fs.crash_states([committed], 6, 9) {
        assert!(
            case.state.file("data/app.db-journal").is_some(),
            "{:?}",
            case.kind
        );
        let mut recovered = session(&case.state.to_fs());
        let memory = recovered.open("data/app.db").unwrap().unwrap();
        assert_eq!(
            recovered.read(memory, 0, 7).unwrap(),
            Ok(b"durable".to_vec())
        );
    }
}

#[test]
fn the_adapter_never_skips_a_zero_write_after_a_write_that_failed_in_part() {
    let fs = SimFs::new();
    let wasi = WasiConfig::simulated(fs.clone());
    let mut session = DbmsSession::new(Runtime::shared(), &wasi, Storage::Composed).unwrap();
    let raw = session.raw_open("raw.bin", Some(0)).unwrap().unwrap();
    // A page grown and never written: the adapter skips zero writes to it.
    session.raw_grow(raw, 1).unwrap().unwrap();
    let offset = 2 * PAGE;
    // 300 bytes cross as 296 bytes of words, then a tail of 4: the tail's write fails.
    fs.fail_call(2, CallKind::Write, ErrorCode::Io);
    assert!(session.raw_write(raw, offset, &[9; 300]).unwrap().is_err());
    session.raw_write(raw, offset, &[0; 300]).unwrap().unwrap();
    assert_eq!(
        session.raw_read(raw, offset, 300).unwrap(),
        Ok(vec![0; 300]),
        "the zeros reached the file"
    );
    session.raw_close(raw).unwrap();
    assert!(
        fs.read("raw.bin").unwrap()[offset as usize..][..300]
            .iter()
            .all(|b| *b == 0)
    );
}

const STEPS: [Step; 9] = [
    Step::Grow(2),
    Step::Write(0, b"outside"),
    Step::Group(true, 1, b"durable", PAGE + 100),
    Step::Group(false, 0, b"quick", 300),
    Step::Write(400, b"after groups"),
    Step::Sync,
    Step::Group(true, 0, b"last", 2 * PAGE + 7),
    Step::Checkpoint,
    Step::Group(true, 1, b"grown", 3 * PAGE),
];

/// The memory's bytes, and bytes that a failed write outside a group may or may not hold.
#[derive(Default)]
struct Expected {
    bytes: Vec<u8>,
    either: Vec<(u64, Vec<u8>)>,
}

impl Expected {
    /// Whether `found` is what is expected.
    fn matches(&self, found: &[u8]) -> bool {
        found.len() == self.bytes.len()
            && found.iter().enumerate().all(|(at, value)| {
                *value == self.bytes[at]
                    || self.either.iter().any(|(offset, data)| {
                        let offset = *offset as usize;
                        at >= offset && at < offset + data.len() && data[at - offset] == *value
                    })
            })
    }

    fn check(&self, found: &[u8], context: &str) {
        assert_eq!(found.len(), self.bytes.len(), "{context}: size");
        for (at, value) in found.iter().enumerate() {
            let maybe = self.either.iter().any(|(offset, data)| {
                let offset = *offset as usize;
                at >= offset && at < offset + data.len() && data[at - offset] == *value
            });
            assert!(
                *value == self.bytes[at] || maybe,
                "{context}: byte {at} is {value}, expected {}",
                self.bytes[at]
            );
        }
    }
}

#[test]
fn an_error_at_any_call_leaves_what_the_contract_says() {
    let mut injected = 0;
    for n in 1.. {
        for error in [ErrorCode::Io, ErrorCode::InsufficientSpace] {
            let fs = SimFs::new();
            fs.fail_call(n, CallKinds::ANY, error);
            let mut expected = Expected::default();
            let mut provider = session(&fs);
            let context = format!("call {n} fails with {error:?}");
            let mut memory = provider.open("sweep.bin").unwrap().ok();
            let mut steps = STEPS.iter();
            while let (Some(handle), Some(step)) = (memory, steps.next()) {
                let Next::Reopen(pending) =
                    run_step(&mut provider, handle, *step, &mut expected, &context)
                else {
                    continue;
                };
                provider.close(handle).unwrap();
                provider = session(&fs);
                let handle = provider.open("sweep.bin").unwrap().unwrap();
                memory = Some(handle);
                if let Some(after) = pending {
                    // Settled by this open: the group whole, or not there at all.
                    let size = provider.size(handle).unwrap();
                    let found = provider.read(handle, 0, size).unwrap().unwrap();
                    let whole = Expected {
                        bytes: after,
                        either: expected.either.clone(),
                    };
                    if whole.matches(&found) {
                        expected.bytes = whole.bytes;
                    }
                }
            }
            if let Some(handle) = memory {
                provider.close(handle).unwrap();
            }
            let fired = fs.injected_faults() > 0;
            fs.clear_faults();
            // Reopened without faults: exactly what the calls' results said.
            let mut provider = session(&fs);
            let handle = provider.open("sweep.bin").unwrap().unwrap();
            let size = provider.size(handle).unwrap();
            let found = provider.read(handle, 0, size).unwrap().unwrap();
            expected.check(&found, &context);
            provider.close(handle).unwrap();
            assert!(!fs.exists("sweep.bin-journal"), "{context}: journal left");
            if !fired {
                eprintln!(
                    "faults: {injected} errors injected, one at each call; corruptions found: 0"
                );
                return;
            }
            injected += 1;
        }
    }
}

/// What a step leaves to do.
enum Next {
    /// Go on with the next step.
    GoOn,
    /// Reopen the memory (it answered `reopen-required`); the next open settles the group
    /// whose memory would be `Some(bytes)`: whole, or not there.
    Reopen(Option<Vec<u8>>),
}

/// Runs one step, checking that its result is one the contract allows for a failure, and
/// updating what the memory must hold.
fn run_step(
    provider: &mut ProviderSession,
    memory: Memory,
    step: Step,
    expected: &mut Expected,
    context: &str,
) -> Next {
    let write = |bytes: &mut Vec<u8>, offset: u64, data: &[u8]| {
        bytes[offset as usize..offset as usize + data.len()].copy_from_slice(data);
    };
    let size = expected.bytes.len() as u64;
    match step {
        Step::Write(offset, data) if offset + data.len() as u64 > size => {
            let refused = provider.write(memory, offset, data).unwrap();
            assert_eq!(refused, Err(MemoryError::OutOfBounds), "{context}");
        }
        Step::Group(_, grow, data, offset) if offset + data.len() as u64 > size + grow * PAGE => {
            // An earlier growth failed: the group's write lies past the memory.
            provider.begin_group(memory).unwrap().unwrap();
            provider.grow(memory, grow).unwrap().unwrap();
            let refused = provider.write(memory, offset, data).unwrap();
            assert_eq!(refused, Err(MemoryError::OutOfBounds), "{context}");
            provider.abort_group(memory).unwrap().unwrap();
        }
        Step::Write(offset, data) => match provider.write(memory, offset, data).unwrap() {
            Ok(()) => write(&mut expected.bytes, offset, data),
            Err(MemoryError::Io(_)) => expected.either.push((offset, data.to_vec())),
            // The checkpoint before it failed to sync: the write was not made.
            Err(MemoryError::ReopenRequired(_)) => return Next::Reopen(None),
            other => panic!("{context}: write answered {other:?}"),
        },
        Step::Grow(pages) => match provider.grow(memory, pages).unwrap() {
            Ok(_) => expected
                .bytes
                .resize(expected.bytes.len() + (pages * PAGE) as usize, 0),
            Err(MemoryError::Io(_)) => {}
            Err(MemoryError::ReopenRequired(_)) => return Next::Reopen(None),
            other => panic!("{context}: grow answered {other:?}"),
        },
        Step::Group(durable, grow, data, offset) => {
            provider.begin_group(memory).unwrap().unwrap();
            provider.grow(memory, grow).unwrap().unwrap();
            provider.write(memory, offset, data).unwrap().unwrap();
            let mut after = expected.bytes.clone();
            after.resize(after.len() + (grow * PAGE) as usize, 0);
            write(&mut after, offset, data);
            match provider.commit_group(memory, durable).unwrap() {
                Ok(()) => expected.bytes = after,
                Err(MemoryError::GroupDiscarded(_)) => {
                    // As before the group: its size and, where they lie inside it, its bytes.
                    let size = expected.bytes.len() as u64;
                    assert_eq!(provider.size(memory).unwrap(), size, "{context}");
                    if offset + data.len() as u64 <= size && expected.either.is_empty() {
                        let before = expected.bytes[offset as usize..][..data.len()].to_vec();
                        assert_eq!(
                            provider.read(memory, offset, data.len() as u64).unwrap(),
                            Ok(before)
                        );
                    }
                }
                Err(MemoryError::ReopenRequired(_)) => return Next::Reopen(Some(after)),
                other => panic!("{context}: commit answered {other:?}"),
            }
        }
        Step::Sync => match provider.sync(memory).unwrap() {
            Ok(()) | Err(MemoryError::Io(_)) => {}
            Err(MemoryError::ReopenRequired(_)) => return Next::Reopen(None),
            other => panic!("{context}: sync answered {other:?}"),
        },
        Step::Checkpoint => match provider.checkpoint(memory).unwrap() {
            Ok(()) | Err(MemoryError::Io(_)) => {}
            Err(MemoryError::ReopenRequired(_)) => return Next::Reopen(None),
            other => panic!("{context}: checkpoint answered {other:?}"),
        },
    }
    Next::GoOn
}

#[test]
fn wasm_dbms_loses_nothing_acknowledged_and_keeps_nothing_refused_at_any_failing_call() {
    // A database of twenty books, then: open, insert one book, a transaction of two.
    let template = SimFs::new();
    {
        let wasi = WasiConfig::simulated(template.clone()).with_seed(7);
        let mut library = Library::open_with(&wasi, Storage::Composed, "fault.db");
        library.insert(
            "authors",
            vec![
                uint("id", 0),
                text("name", "Fault"),
                text("email", "f@example.org"),
            ],
        );
        for id in 0..20 {
            library.insert("books", host_test::crash_workload::book(id));
        }
        library.close();
    }
    let files = template.files();
    let mut rng = Rng::new(5);
    let mut injected = 0;
    for n in 1.. {
        let fs = SimFs::from_files(files.iter().map(|(p, b)| (p.as_str(), b.as_slice())));
        let error = [ErrorCode::Io, ErrorCode::InsufficientSpace][rng.below(2) as usize];
        fs.fail_call(n, CallKinds::ANY, error);
        let wasi = WasiConfig::simulated(fs.clone()).with_seed(7);
        let mut session = DbmsSession::new(Runtime::shared(), &wasi, Storage::Composed).unwrap();
        let mut outcome = Outcome::new(20);
        if let Ok(Ok(db)) = session.open_with("fault.db", true) {
            let book = host_test::crash_workload::book;
            outcome.note(session.insert(db, "books", &book(20)).unwrap(), 21);
            let transaction = session.begin(db).unwrap().and_then(|()| {
                session.insert(db, "books", &book(21)).unwrap()?;
                session.insert(db, "books", &book(22)).unwrap()?;
                session.commit(db).unwrap()
            });
            outcome.note(transaction, 23);
        }
        drop(session);
        let fired = fs.injected_faults() > 0;
        fs.clear_faults();
        let mut library = Library::open_with(
            &WasiConfig::simulated(fs.clone()).with_seed(7),
            Storage::Composed,
            "fault.db",
        );
        let present = library.checked_books(&format!("call {n}"));
        assert_eq!(
            present, outcome.books,
            "call {n} ({error:?}): books present ({:?})",
            outcome.refused
        );
        library.close();
        if !fired {
            assert_eq!(present, 23);
            break;
        }
        injected += 1;
    }
    assert!(injected > 30, "only {injected} calls");
    eprintln!(
        "faults under wasm-dbms: {injected} errors injected, one at each call; corruptions found: 0"
    );
}

/// What a run with one failing call must leave: the books of every acknowledged operation,
/// and of the first refused one only when its error says the next open completes it; after
/// a refusal, the adapter refuses everything.
struct Outcome {
    books: u64,
    refused: Option<DbError>,
}

impl Outcome {
    fn new(books: u64) -> Self {
        Self {
            books,
            refused: None,
        }
    }

    fn note(&mut self, result: Result<(), DbError>, books_after: u64) {
        match (result, &self.refused) {
            (Ok(()), None) => self.books = books_after,
            (Ok(()), Some(refusal)) => panic!("a call succeeded after {refusal:?}"),
            (Err(error), None) => {
                if matches!(&error, DbError::Storage(text) if text.contains("reopen required")) {
                    self.books = books_after;
                }
                self.refused = Some(error);
            }
            (Err(_), Some(_)) => {}
        }
    }
}

#[test]
fn wasm_dbms_never_registers_its_tables_over_a_schema_page_it_could_not_read() {
    // wasm-dbms takes a schema page it cannot read for an empty database; the adapter
    // refuses every call after a failed read, so the open fails and the file is untouched.
    let template = SimFs::new();
    {
        let wasi = WasiConfig::simulated(template.clone()).with_seed(7);
        let mut library = Library::open_with(&wasi, Storage::Composed, "schema.db");
        library.insert(
            "authors",
            vec![
                uint("id", 0),
                text("name", "A"),
                text("email", "a@example.org"),
            ],
        );
        library.close();
    }
    let files = template.files();
    let before = files["schema.db"].clone();
    let fs = SimFs::from_files(files.iter().map(|(p, b)| (p.as_str(), b.as_slice())));
    // The provider's open reads only the journal's absence; the first read is wasm-dbms's.
    fs.fail_call(1, CallKind::Read, ErrorCode::Io);
    let wasi = WasiConfig::simulated(fs.clone()).with_seed(7);
    let mut session = DbmsSession::new(Runtime::shared(), &wasi, Storage::Composed).unwrap();
    match session.open("schema.db").unwrap() {
        Err(DbError::Storage(text)) => assert!(text.contains("a read failed"), "{text}"),
        other => panic!("expected a storage error, got {other:?}"),
    }
    drop(session);
    assert_eq!(fs.injected_faults(), 1);
    assert!(fs.read("schema.db").unwrap() == before, "the file changed");
    let mut library = Library::open_with(&wasi, Storage::Composed, "schema.db");
    assert_eq!(library.count("authors"), 1);
}

#[test]
fn a_new_memory_that_cannot_hold_wasm_dbms_reserved_pages_is_an_error_not_a_panic() {
    let fs = SimFs::new();
    fs.set_max_file_size(PAGE);
    let wasi = WasiConfig::simulated(fs.clone());
    let mut session = DbmsSession::new(Runtime::shared(), &wasi, Storage::Composed).unwrap();
    // Write-through: the adapter grows the reserved pages when it opens, before any
    // `DbmsContext::new` (which panics when it cannot grow).
    let refused = session.raw_open("tiny.bin", None).unwrap();
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.contains("limit exceeded")),
        "{refused:?}"
    );
    // Atomic (the database): the growth is in the first group, which cannot commit.
    match session.open("tiny.db").unwrap() {
        Err(DbError::Storage(text)) => assert!(text.contains("a flush failed"), "{text}"),
        other => panic!("expected a storage error, got {other:?}"),
    }
    assert_eq!(
        fs.read("tiny.db"),
        Some(Vec::new()),
        "nothing reached the file"
    );
}
