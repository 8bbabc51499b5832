//! Groups, the journal and its recovery, limits, and what is on disk after each step,
//! through the component boundary on the real filesystem.

mod common;

use common::journal::{self, Journal, Record};
use common::{PAGE, Sandbox};
use host_test::Runtime;
use host_test::provider::{Memory, MemoryError, OpenOptions, ProviderSession, Recovery};

fn session(sandbox: &Sandbox) -> ProviderSession {
    ProviderSession::new(Runtime::shared(), &sandbox.wasi()).unwrap()
}

fn options() -> OpenOptions {
    OpenOptions {
        max_pages: None,
        max_group_bytes: None,
        checkpoint_bytes: None,
    }
}

fn open_with(provider: &mut ProviderSession, path: &str, options: OpenOptions) -> Memory {
    provider.open_with(path, options).unwrap().unwrap()
}

/// The journal beside `name`, read as the provider's recovery reads it.
fn journal_of(sandbox: &Sandbox, name: &str) -> Journal {
    journal::read(&sandbox.bytes(&format!("{name}-journal"))).expect("a valid journal header")
}

fn nothing_recovered() -> Recovery {
    Recovery {
        completed_groups: 0,
        journal_bytes: 0,
        discarded: None,
    }
}

/// `pages` pages of zeros with `writes` laid over them.
fn image(pages: u64, writes: &[(u64, &[u8])]) -> Vec<u8> {
    let mut bytes = vec![0u8; (pages * PAGE) as usize];
    for (offset, data) in writes {
        bytes[*offset as usize..*offset as usize + data.len()].copy_from_slice(data);
    }
    bytes
}

#[test]
fn a_group_is_visible_at_once_and_reaches_the_file_and_the_journal_at_commit() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    let memory = provider.open("group.bin").unwrap().unwrap();
    assert_eq!(provider.recovery(memory).unwrap(), nothing_recovered());
    provider.grow(memory, 1).unwrap().unwrap();
    provider.begin_group(memory).unwrap().unwrap();
    assert_eq!(provider.grow(memory, 2).unwrap(), Ok(1));
    provider.write(memory, PAGE - 2, b"span").unwrap().unwrap();
    provider.write(memory, 2 * PAGE, b"new").unwrap().unwrap();
    assert_eq!(provider.pages(memory).unwrap(), 3);
    assert_eq!(
        provider.read(memory, PAGE - 2, 4).unwrap(),
        Ok(b"span".to_vec())
    );
    assert_eq!(
        provider.read(memory, 2 * PAGE - 1, 5).unwrap(),
        Ok(vec![0, b'n', b'e', b'w', 0])
    );
    assert_eq!(
        sandbox.bytes("group.bin"),
        image(1, &[]),
        "nothing before commit"
    );
    assert!(
        !sandbox.file("group.bin-journal").exists(),
        "no journal before the first commit"
    );

    provider.commit_group(memory, true).unwrap().unwrap();
    let expected = image(3, &[(PAGE - 2, b"span"), (2 * PAGE, b"new")]);
    assert_eq!(sandbox.bytes("group.bin"), expected);
    // The group's ranges, split where they cross a 64 KiB boundary, in one record.
    assert_eq!(
        journal_of(&sandbox, "group.bin"),
        Journal {
            generation: 1,
            records: vec![Record {
                sequence: 0,
                size: 3 * PAGE,
                ranges: vec![
                    (PAGE - 2, b"sp".to_vec()),
                    (PAGE, b"an".to_vec()),
                    (2 * PAGE, b"new".to_vec())
                ],
            }],
        }
    );
    provider.close(memory).unwrap();
    assert!(
        !sandbox.file("group.bin-journal").exists(),
        "close removes the journal"
    );
    assert_eq!(sandbox.bytes("group.bin"), expected);
}

#[test]
fn each_commit_appends_one_record_and_a_checkpoint_empties_the_journal() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    let memory = open_with(
        &mut provider,
        "log.bin",
        OpenOptions {
            checkpoint_bytes: Some(300),
            ..options()
        },
    );
    for (round, text) in [b"one", b"two"].into_iter().enumerate() {
        provider.begin_group(memory).unwrap().unwrap();
        if round == 0 {
            provider.grow(memory, 1).unwrap().unwrap();
        }
        provider
            .write(memory, 10 * round as u64, text)
            .unwrap()
            .unwrap();
        provider.commit_group(memory, false).unwrap().unwrap();
    }
    let records = journal_of(&sandbox, "log.bin").records;
    assert_eq!(
        records,
        [
            Record {
                sequence: 0,
                size: PAGE,
                ranges: vec![(0, b"one".to_vec())]
            },
            Record {
                sequence: 1,
                size: PAGE,
                ranges: vec![(10, b"two".to_vec())]
            }
        ]
    );
    // A commit that takes the journal past 300 bytes of records checkpoints it.
    provider.begin_group(memory).unwrap().unwrap();
    provider.write(memory, 100, &[7; 200]).unwrap().unwrap();
    provider.commit_group(memory, false).unwrap().unwrap();
    assert_eq!(
        journal_of(&sandbox, "log.bin"),
        Journal {
            generation: 2,
            records: Vec::new()
        }
    );
    let expected = image(1, &[(0, b"one"), (10, b"two"), (100, &[7; 200])]);
    assert_eq!(sandbox.bytes("log.bin"), expected);

    provider.begin_group(memory).unwrap().unwrap();
    provider.write(memory, 400, b"three").unwrap().unwrap();
    provider.commit_group(memory, true).unwrap().unwrap();
    assert_eq!(journal_of(&sandbox, "log.bin").records.len(), 1);
    provider.checkpoint(memory).unwrap().unwrap();
    assert_eq!(
        journal_of(&sandbox, "log.bin"),
        Journal {
            generation: 3,
            records: Vec::new()
        }
    );
    assert_eq!(
        sandbox.bytes("log.bin"),
        image(
            1,
            &[(0, b"one"), (10, b"two"), (100, &[7; 200]), (400, b"three")]
        )
    );
}

#[test]
fn a_crash_leaves_the_journal_and_the_next_open_completes_its_groups() {
    let sandbox = Sandbox::new();
    {
        let mut provider = session(&sandbox);
        let memory = provider.open("crash.bin").unwrap().unwrap();
        for (offset, text) in [(0u64, b"first"), (PAGE + 7, b"later")] {
            provider.begin_group(memory).unwrap().unwrap();
            if offset >= provider.size(memory).unwrap() {
                provider.grow(memory, 2).unwrap().unwrap();
            }
            provider.write(memory, offset, text).unwrap().unwrap();
            provider.commit_group(memory, false).unwrap().unwrap();
        }
        // The instance goes away without closing anything: a crash.
    }
    assert_eq!(journal_of(&sandbox, "crash.bin").records.len(), 2);
    // What a power loss could leave of the file's own writes: none of them.
    std::fs::write(sandbox.file("crash.bin"), image(1, &[])).unwrap();

    let mut provider = session(&sandbox);
    let memory = provider.open("crash.bin").unwrap().unwrap();
    let recovery = provider.recovery(memory).unwrap();
    assert_eq!(recovery.completed_groups, 2);
    assert_eq!(recovery.discarded, None);
    assert_eq!(
        sandbox.bytes("crash.bin"),
        image(2, &[(0, b"first"), (PAGE + 7, b"later")])
    );
    assert_eq!(
        journal_of(&sandbox, "crash.bin"),
        Journal {
            generation: 2,
            records: Vec::new()
        }
    );
}

#[test]
fn a_crash_inside_a_group_leaves_none_of_it() {
    let sandbox = Sandbox::new();
    {
        let mut provider = session(&sandbox);
        let memory = provider.open("crash.bin").unwrap().unwrap();
        provider.grow(memory, 1).unwrap().unwrap();
        provider.write(memory, 0, b"kept").unwrap().unwrap();
        provider.begin_group(memory).unwrap().unwrap();
        provider.grow(memory, 4).unwrap().unwrap();
        provider.write(memory, 0, b"lost").unwrap().unwrap();
    }
    assert_eq!(sandbox.bytes("crash.bin"), image(1, &[(0, b"kept")]));
    let mut provider = session(&sandbox);
    let memory = provider.open("crash.bin").unwrap().unwrap();
    assert_eq!(provider.pages(memory).unwrap(), 1);
    assert_eq!(provider.read(memory, 0, 4).unwrap(), Ok(b"kept".to_vec()));
}

#[test]
fn open_completes_the_complete_records_and_drops_a_torn_one_at_any_cut() {
    let sandbox = Sandbox::new();
    let original: Vec<u8> = (0..PAGE).map(|i| (i % 253) as u8).collect();
    let full = journal::journal(
        4,
        &[
            (PAGE, vec![(10, b"first".as_slice())]),
            (2 * PAGE, vec![(20, b"second".as_slice()), (PAGE + 3, b"x")]),
        ],
    );
    let first_end = 64 + 48 + 16 + 5 + 8;
    let after_first = {
        let mut bytes = original.clone();
        bytes[10..15].copy_from_slice(b"first");
        bytes
    };
    let after_both = {
        let mut bytes = after_first.clone();
        bytes[20..26].copy_from_slice(b"second");
        bytes.resize(2 * PAGE as usize, 0);
        bytes[PAGE as usize + 3] = b'x';
        bytes
    };
    for cut in first_end..=full.len() {
        std::fs::write(sandbox.file("torn.bin"), &original).unwrap();
        std::fs::write(sandbox.file("torn.bin-journal"), &full[..cut]).unwrap();
        let mut provider = session(&sandbox);
        let memory = provider.open("torn.bin").unwrap().unwrap();
        let complete = cut == full.len();
        assert_eq!(
            provider.recovery(memory).unwrap().completed_groups,
            if complete { 2 } else { 1 },
            "cut at {cut}"
        );
        let expected = if complete { &after_both } else { &after_first };
        assert!(sandbox.bytes("torn.bin") == *expected, "cut at {cut}");
        provider.close(memory).unwrap();
        assert!(!sandbox.file("torn.bin-journal").exists());
    }
}

#[test]
fn records_of_an_earlier_generation_never_replay() {
    let sandbox = Sandbox::new();
    let original = image(1, &[(0, b"current")]);
    // Generation 5's header over what generation 4 left: record 0 of generation 5, then a
    // complete record of generation 4 that a torn reset left behind.
    let (mut bytes, chain) = journal::header(5);
    let (first, hash) = journal::record(5, 0, chain, PAGE, &[(100, b"new")]);
    bytes.extend_from_slice(&first);
    let (stale, _) = journal::record(4, 1, hash, PAGE, &[(0, b"ancient")]);
    bytes.extend_from_slice(&stale);
    std::fs::write(sandbox.file("gen.bin"), &original).unwrap();
    std::fs::write(sandbox.file("gen.bin-journal"), &bytes).unwrap();
    let mut provider = session(&sandbox);
    let memory = provider.open("gen.bin").unwrap().unwrap();
    assert_eq!(provider.recovery(memory).unwrap().completed_groups, 1);
    assert_eq!(
        sandbox.bytes("gen.bin"),
        image(1, &[(0, b"current"), (100, b"new")])
    );
}

#[test]
fn a_journal_of_provider_0_1_is_completed_and_a_torn_one_dropped() {
    let sandbox = Sandbox::new();
    let original: Vec<u8> = (0..PAGE).map(|i| i as u8).collect();
    let legacy = journal::legacy(2 * PAGE, &[(10, b"first"), (PAGE + 5, b"second")]);
    for cut in [8, 30, legacy.len() - 1, legacy.len()] {
        std::fs::write(sandbox.file("old.bin"), &original).unwrap();
        std::fs::write(sandbox.file("old.bin-journal"), &legacy[..cut]).unwrap();
        let mut provider = session(&sandbox);
        let memory = provider.open("old.bin").unwrap().unwrap();
        let complete = cut == legacy.len();
        assert_eq!(
            provider.recovery(memory).unwrap(),
            Recovery {
                completed_groups: u64::from(complete),
                journal_bytes: cut as u64,
                discarded: None
            }
        );
        let mut expected = original.clone();
        if complete {
            expected[10..15].copy_from_slice(b"first");
            expected.resize(2 * PAGE as usize, 0);
            expected[PAGE as usize + 5..PAGE as usize + 11].copy_from_slice(b"second");
        }
        assert!(sandbox.bytes("old.bin") == expected, "cut at {cut}");
        provider.close(memory).unwrap();
        assert!(!sandbox.file("old.bin-journal").exists(), "cut at {cut}");
    }
}

#[test]
fn a_file_at_the_journal_name_that_is_no_journal_is_left_untouched_and_the_open_refused() {
    let sandbox = Sandbox::new();
    let database = image(1, &[(0, b"data")]);
    let mut zeros_then_data = vec![0u8; 64];
    zeros_then_data.extend_from_slice(b"my notes");
    // (A file of at most 64 bytes holding a journal header's first bytes is what a header's
    // write cut short leaves: that one is taken for an empty journal.)
    let foreign: [&[u8]; 4] = [b"my own notes", b"WDBMX", &zeros_then_data, &[1; 100]];
    for contents in foreign {
        std::fs::write(sandbox.file("db.bin"), &database).unwrap();
        std::fs::write(sandbox.file("db.bin-journal"), contents).unwrap();
        let mut provider = session(&sandbox);
        match provider.open("db.bin").unwrap() {
            Err(MemoryError::InvalidPath(text)) => {
                assert!(text.contains("db.bin-journal"), "{text}")
            }
            other => panic!("expected invalid-path, got {other:?}"),
        }
        assert_eq!(sandbox.bytes("db.bin-journal"), contents);
        assert_eq!(sandbox.bytes("db.bin"), database);
    }
}

#[test]
fn a_journal_name_cannot_be_opened_as_a_memory() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    let memory = provider.open("db.bin").unwrap().unwrap();
    for path in ["db.bin-journal", "other-journal", "./x/../db.bin-journal"] {
        match provider.open(path).unwrap() {
            Err(MemoryError::InvalidPath(text)) => {
                assert!(text.contains(path) && text.contains("-journal"), "{text}")
            }
            other => panic!("{path}: expected invalid-path, got {other:?}"),
        }
    }
    assert!(!sandbox.file("db.bin-journal").exists());
    assert!(!sandbox.file("other-journal").exists());
    provider.close(memory).unwrap();
}

#[test]
fn growth_past_max_pages_is_refused_in_and_out_of_groups() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    let capped = OpenOptions {
        max_pages: Some(3),
        ..options()
    };
    let memory = open_with(&mut provider, "capped.bin", capped);
    assert_eq!(provider.grow(memory, 2).unwrap(), Ok(0));
    assert_eq!(
        provider.grow(memory, 2).unwrap(),
        Err(MemoryError::LimitExceeded)
    );
    provider.begin_group(memory).unwrap().unwrap();
    assert_eq!(
        provider.grow(memory, 2).unwrap(),
        Err(MemoryError::LimitExceeded)
    );
    assert_eq!(provider.grow(memory, 1).unwrap(), Ok(2));
    assert_eq!(
        provider.grow(memory, 1).unwrap(),
        Err(MemoryError::LimitExceeded)
    );
    provider.commit_group(memory, false).unwrap().unwrap();
    assert_eq!(sandbox.bytes("capped.bin").len() as u64, 3 * PAGE);
}

/// A group holds its bytes plus 64 for each run of them and 64 for each 64 KiB segment:
/// room for 1,000 bytes in one run is 1,128.
#[test]
fn a_write_past_the_group_limit_is_refused_and_the_group_keeps_what_it_had() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    let limit = 1000 + 64 + 64;
    let limited = OpenOptions {
        max_group_bytes: Some(limit),
        ..options()
    };
    let memory = open_with(&mut provider, "limit.bin", limited);
    provider.grow(memory, 1).unwrap().unwrap();
    provider.begin_group(memory).unwrap().unwrap();
    provider.write(memory, 0, &[1; 600]).unwrap().unwrap();
    assert_eq!(
        provider.write(memory, 1000, &[2; 600]).unwrap(),
        Err(MemoryError::GroupTooLarge(limit))
    );
    provider.write(memory, 0, &[3; 600]).unwrap().unwrap();
    provider.write(memory, 600, &[4; 400]).unwrap().unwrap();
    assert_eq!(
        provider.write(memory, 5000, &[5]).unwrap(),
        Err(MemoryError::GroupTooLarge(limit))
    );
    provider.commit_group(memory, true).unwrap().unwrap();
    let expected = image(1, &[(0, &[3; 600]), (600, &[4; 400])]);
    assert_eq!(sandbox.bytes("limit.bin"), expected);
    assert_eq!(
        journal_of(&sandbox, "limit.bin").records[0].ranges,
        [(0, [[3u8; 600].as_slice(), &[4; 400]].concat())]
    );
}

#[test]
fn options_out_of_range_are_refused_before_anything_is_created() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    for bad in [0, (1 << 30) + 1] {
        let options = OpenOptions {
            max_group_bytes: Some(bad),
            ..options()
        };
        assert!(matches!(
            provider.open_with("opts.bin", options).unwrap(),
            Err(MemoryError::InvalidOptions(text)) if text.contains("max-group-bytes")
        ));
    }
    assert!(!sandbox.file("opts.bin").exists());
}

#[test]
fn groups_open_once_commit_or_abort_once_and_an_aborted_group_leaves_nothing() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    let memory = provider.open("misuse.bin").unwrap().unwrap();
    assert_eq!(
        provider.commit_group(memory, false).unwrap(),
        Err(MemoryError::NoOpenGroup)
    );
    assert_eq!(
        provider.abort_group(memory).unwrap(),
        Err(MemoryError::NoOpenGroup)
    );
    provider.begin_group(memory).unwrap().unwrap();
    assert_eq!(
        provider.begin_group(memory).unwrap(),
        Err(MemoryError::GroupAlreadyOpen)
    );
    provider.grow(memory, 2).unwrap().unwrap();
    provider.write(memory, 5, b"gone").unwrap().unwrap();
    provider.abort_group(memory).unwrap().unwrap();
    assert_eq!(provider.pages(memory).unwrap(), 0);
    assert_eq!(sandbox.bytes("misuse.bin"), Vec::<u8>::new());
    assert!(!sandbox.file("misuse.bin-journal").exists());
    provider.begin_group(memory).unwrap().unwrap();
    provider.commit_group(memory, false).unwrap().unwrap();
    assert!(
        !sandbox.file("misuse.bin-journal").exists(),
        "an empty group writes nothing"
    );
}

#[test]
fn a_second_open_of_a_held_path_is_locked_until_the_first_closes() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    let first = provider.open("held.bin").unwrap().unwrap();
    for path in ["held.bin", "./held.bin"] {
        let error = provider.open(path).unwrap().unwrap_err();
        assert!(
            matches!(&error, MemoryError::Locked(text) if text.contains(path)),
            "{error:?}"
        );
    }
    let other = provider.open("other.bin").unwrap().unwrap();
    provider.close(first).unwrap();
    let again = provider.open("held.bin").unwrap().unwrap();
    provider.close(again).unwrap();
    provider.close(other).unwrap();
}

#[test]
fn a_leftover_journal_larger_than_the_provider_could_hold_twice_is_completed_in_pieces() {
    use std::io::{Seek, SeekFrom, Write};
    use xxhash_rust::xxh3::Xxh3;

    let sandbox = Sandbox::new();
    // One record of 1.5 GiB of zeros over page 0 and a tail after it: a journal that
    // neither the provider's memory (4 GiB at most) nor a copy of it could hold twice.
    let zeros: u64 = 3 << 29;
    let size = zeros + PAGE;
    std::fs::write(sandbox.file("big.bin"), image(1, &[(0, b"overwritten")])).unwrap();
    let (header, chain) = journal::header(1);
    let mut head = Vec::new();
    let body = 16 + zeros + 16 + 4;
    for field in [1u64, 0, size, 2, body] {
        head.extend_from_slice(&field.to_le_bytes());
    }
    let head_hash = xxhash_rust::xxh3::xxh3_64_with_seed(&head, chain);
    head.extend_from_slice(&head_hash.to_le_bytes());
    let mut hasher = Xxh3::with_seed(chain);
    hasher.update(&head);
    let first_range = [0u64.to_le_bytes(), zeros.to_le_bytes()].concat();
    hasher.update(&first_range);
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..zeros / chunk.len() as u64 {
        hasher.update(&chunk);
    }
    let tail = [zeros.to_le_bytes(), 4u64.to_le_bytes()].concat();
    hasher.update(&tail);
    hasher.update(b"tail");
    let mut file = std::fs::File::create(sandbox.file("big.bin-journal")).unwrap();
    file.write_all(&header).unwrap();
    file.write_all(&head).unwrap();
    file.write_all(&first_range).unwrap();
    // The zeros stay a hole in the file.
    file.seek(SeekFrom::Current(zeros as i64)).unwrap();
    file.write_all(&tail).unwrap();
    file.write_all(b"tail").unwrap();
    file.write_all(&hasher.digest().to_le_bytes()).unwrap();
    drop(file);

    let mut provider = session(&sandbox);
    let memory = provider.open("big.bin").unwrap().unwrap();
    assert_eq!(provider.recovery(memory).unwrap().completed_groups, 1);
    assert_eq!(provider.size(memory).unwrap(), size);
    assert_eq!(provider.read(memory, 0, 16).unwrap(), Ok(vec![0; 16]));
    assert_eq!(
        provider.read(memory, zeros - 2, 8).unwrap(),
        Ok(vec![0, 0, b't', b'a', b'i', b'l', 0, 0])
    );
    provider.close(memory).unwrap();
    assert_eq!(
        std::fs::metadata(sandbox.file("big.bin")).unwrap().len(),
        size
    );
}

/// The largest group a 1 GiB limit holds: its bytes, one run in each 64 KiB segment
/// (64 + 64 bytes of bookkeeping each), written in transfers of the most a call moves;
/// it commits in pieces, and one byte more is refused.
#[test]
fn a_group_of_a_gibibyte_commits_in_pieces_and_one_byte_more_is_refused() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    let limit = 1u64 << 30;
    let memory = open_with(
        &mut provider,
        "gib.bin",
        OpenOptions {
            max_group_bytes: Some(limit),
            ..options()
        },
    );
    let held = |bytes: u64| bytes + 128 * bytes.div_ceil(PAGE);
    let whole_segments = limit / (PAGE + 128);
    let rest = (limit - held(whole_segments * PAGE)).saturating_sub(128);
    let most = whole_segments * PAGE + rest;
    assert_eq!(held(most), limit);
    let piece = provider.max_transfer(memory).unwrap();
    provider.begin_group(memory).unwrap().unwrap();
    provider.grow(memory, limit / PAGE + 1).unwrap().unwrap();
    let mut at = 0;
    while at < most {
        let len = piece.min(most - at);
        let data = vec![(at / piece) as u8 + 1; len as usize];
        provider.write(memory, at, &data).unwrap().unwrap();
        at += len;
    }
    assert_eq!(
        provider.write(memory, most, &[9]).unwrap(),
        Err(MemoryError::GroupTooLarge(limit))
    );
    provider.commit_group(memory, false).unwrap().unwrap();
    provider.close(memory).unwrap();
    let file = std::fs::read(sandbox.file("gib.bin")).unwrap();
    assert_eq!(file.len() as u64, limit + PAGE);
    for (index, chunk) in file[..most as usize].chunks(piece as usize).enumerate() {
        assert!(
            chunk.iter().all(|byte| *byte == index as u8 + 1),
            "piece {index}"
        );
    }
    assert!(file[most as usize..].iter().all(|byte| *byte == 0));
}

#[test]
fn a_database_copied_while_open_opens_whole_elsewhere() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    let memory = provider.open("live.bin").unwrap().unwrap();
    let mut expected = Vec::new();
    for round in 0..5u8 {
        provider.begin_group(memory).unwrap().unwrap();
        provider.grow(memory, 1).unwrap().unwrap();
        let data = vec![round + 1; 3000];
        provider
            .write(memory, u64::from(round) * PAGE + 7, &data)
            .unwrap()
            .unwrap();
        provider.commit_group(memory, false).unwrap().unwrap();
        expected.resize(expected.len() + PAGE as usize, 0);
        let at = usize::from(round) * PAGE as usize + 7;
        expected[at..at + 3000].copy_from_slice(&data);
    }
    // The file and its journal, copied while the memory is open (between calls).
    let copy = Sandbox::new();
    for name in ["live.bin", "live.bin-journal"] {
        std::fs::copy(sandbox.file(name), copy.file(name)).unwrap();
    }
    let mut elsewhere = session(&copy);
    let opened = elsewhere.open("live.bin").unwrap().unwrap();
    assert_eq!(elsewhere.recovery(opened).unwrap().completed_groups, 5);
    elsewhere.close(opened).unwrap();
    assert!(copy.bytes("live.bin") == expected);
    assert!(!copy.file("live.bin-journal").exists());
    provider.close(memory).unwrap();
    assert!(sandbox.bytes("live.bin") == expected);
}
