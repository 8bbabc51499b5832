//! Sync, crash-atomic groups, journal recovery and the single-writer lock, through the
//! component boundary.

mod common;

use common::{PAGE, Sandbox};
use host_test::Runtime;
use host_test::provider::{MemoryError, ProviderSession};

fn session(sandbox: &Sandbox) -> ProviderSession {
    ProviderSession::new(Runtime::shared(), &sandbox.wasi()).unwrap()
}

/// A journal as the provider writes it (see src/journal.rs): what a crash between writing
/// the journal and the file leaves beside the file.
fn journal(size: u64, writes: &[(u64, &[u8])]) -> Vec<u8> {
    let mut out = b"WDBMJRN1".to_vec();
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&(writes.len() as u64).to_le_bytes());
    for (offset, data) in writes {
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(data);
    }
    let checksum = out.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

#[test]
fn a_group_is_visible_at_once_and_reaches_the_file_at_commit() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    let memory = provider.open("group.bin").unwrap().unwrap();
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
        vec![0; PAGE as usize],
        "nothing before commit"
    );

    provider.commit_group(memory, true).unwrap().unwrap();
    let file = sandbox.bytes("group.bin");
    assert_eq!(file.len() as u64, 3 * PAGE);
    assert_eq!(&file[PAGE as usize - 2..PAGE as usize + 2], b"span");
    assert_eq!(&file[2 * PAGE as usize..2 * PAGE as usize + 3], b"new");
    assert!(!sandbox.file("group.bin-journal").exists());
    assert_eq!(provider.sync(memory).unwrap(), Ok(()));
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
        // The instance goes away without committing: a crash.
    }
    let mut provider = session(&sandbox);
    let memory = provider.open("crash.bin").unwrap().unwrap();
    assert_eq!(provider.pages(memory).unwrap(), 1);
    assert_eq!(provider.read(memory, 0, 4).unwrap(), Ok(b"kept".to_vec()));
}

#[test]
fn open_completes_a_group_from_a_complete_journal() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.file("replay.bin"), vec![0; PAGE as usize]).unwrap();
    let writes: [(u64, &[u8]); 2] = [(10, b"first"), (PAGE + 5, b"second")];
    std::fs::write(
        sandbox.file("replay.bin-journal"),
        journal(2 * PAGE, &writes),
    )
    .unwrap();
    let mut provider = session(&sandbox);
    let memory = provider.open("replay.bin").unwrap().unwrap();
    assert_eq!(provider.pages(memory).unwrap(), 2);
    assert_eq!(provider.read(memory, 10, 5).unwrap(), Ok(b"first".to_vec()));
    assert_eq!(
        provider.read(memory, PAGE + 5, 6).unwrap(),
        Ok(b"second".to_vec())
    );
    assert!(!sandbox.file("replay.bin-journal").exists());
}

#[test]
fn open_discards_a_torn_journal_and_keeps_the_file() {
    let sandbox = Sandbox::new();
    let original: Vec<u8> = (0..PAGE).map(|i| i as u8).collect();
    std::fs::write(sandbox.file("torn.bin"), &original).unwrap();
    let complete = journal(2 * PAGE, &[(0, b"never")]);
    for cut in [0, 5, 30, complete.len() - 1] {
        std::fs::write(sandbox.file("torn.bin-journal"), &complete[..cut]).unwrap();
        let mut provider = session(&sandbox);
        let memory = provider.open("torn.bin").unwrap().unwrap();
        assert_eq!(provider.pages(memory).unwrap(), 1, "cut at {cut}");
        provider.close(memory).unwrap();
        assert_eq!(sandbox.bytes("torn.bin"), original, "cut at {cut}");
        assert!(!sandbox.file("torn.bin-journal").exists());
    }
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
fn groups_must_be_opened_once_and_committed_once() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox);
    let memory = provider.open("misuse.bin").unwrap().unwrap();
    assert!(matches!(
        provider.commit_group(memory, false).unwrap(),
        Err(MemoryError::Io(_))
    ));
    provider.begin_group(memory).unwrap().unwrap();
    assert!(matches!(
        provider.begin_group(memory).unwrap(),
        Err(MemoryError::Io(_))
    ));
    provider.commit_group(memory, false).unwrap().unwrap();
    assert_eq!(provider.pages(memory).unwrap(), 0);
}
