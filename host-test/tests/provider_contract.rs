//! The memory-provider contract, case by case, through the component boundary.

mod common;

use common::{PAGE, Sandbox};
use host_test::provider::{MemoryError, ProviderSession};
use host_test::{Runtime, WasiConfig};

fn session(wasi: &WasiConfig) -> ProviderSession {
    ProviderSession::new(Runtime::shared(), wasi).expect("instantiate the provider")
}

fn io_message(error: MemoryError) -> String {
    match error {
        MemoryError::Io(message) => message,
        other => panic!("expected an io error, got {other:?}"),
    }
}

fn invalid_path_message(error: MemoryError) -> String {
    match error {
        MemoryError::InvalidPath(message) => message,
        other => panic!("expected an invalid-path error, got {other:?}"),
    }
}

#[test]
fn a_new_file_is_an_empty_memory_of_64_kib_pages() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox.wasi());
    let memory = provider.open("new.bin").unwrap().unwrap();
    assert_eq!(provider.page_size(memory).unwrap(), 65536);
    assert_eq!(provider.size(memory).unwrap(), 0);
    assert_eq!(provider.pages(memory).unwrap(), 0);
    assert_eq!(sandbox.bytes("new.bin").len(), 0);
}

#[test]
fn grow_appends_zeroed_pages_and_returns_the_previous_page_count() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox.wasi());
    let memory = provider.open("grow.bin").unwrap().unwrap();
    assert_eq!(provider.grow(memory, 2).unwrap(), Ok(0));
    provider.write(memory, 0, &[0xAB; 16]).unwrap().unwrap();
    assert_eq!(provider.grow(memory, 1).unwrap(), Ok(2));
    assert_eq!(provider.grow(memory, 0).unwrap(), Ok(3));
    assert_eq!(provider.pages(memory).unwrap(), 3);
    assert_eq!(provider.size(memory).unwrap(), 3 * PAGE);
    let tail = provider.read(memory, PAGE, 2 * PAGE).unwrap().unwrap();
    assert!(tail.iter().all(|byte| *byte == 0));
    let file = sandbox.bytes("grow.bin");
    assert_eq!(file.len() as u64, 3 * PAGE);
    assert_eq!(&file[..16], &[0xAB; 16]);
    assert!(file[16..].iter().all(|byte| *byte == 0));
}

#[test]
fn the_last_byte_and_page_boundaries_are_reachable_and_nothing_past_them() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox.wasi());
    let memory = provider.open("edges.bin").unwrap().unwrap();
    provider.grow(memory, 2).unwrap().unwrap();
    let size = 2 * PAGE;

    provider.write(memory, size - 1, &[7]).unwrap().unwrap();
    assert_eq!(provider.read(memory, size - 1, 1).unwrap(), Ok(vec![7]));
    let across: Vec<u8> = (0..10).collect();
    provider.write(memory, PAGE - 5, &across).unwrap().unwrap();
    assert_eq!(provider.read(memory, PAGE - 5, 10).unwrap(), Ok(across));

    assert_eq!(provider.read(memory, size, 0).unwrap(), Ok(Vec::new()));
    assert_eq!(provider.write(memory, size, &[]).unwrap(), Ok(()));
    assert_eq!(
        provider.read(memory, size, 1).unwrap(),
        Err(MemoryError::OutOfBounds)
    );
    assert_eq!(
        provider.read(memory, size + 1, 0).unwrap(),
        Err(MemoryError::OutOfBounds)
    );
    assert_eq!(
        provider.read(memory, size - 1, 2).unwrap(),
        Err(MemoryError::OutOfBounds)
    );
    let before = sandbox.bytes("edges.bin");
    assert_eq!(
        provider.write(memory, size - 1, &[1, 2]).unwrap(),
        Err(MemoryError::OutOfBounds)
    );
    assert_eq!(
        sandbox.bytes("edges.bin"),
        before,
        "a refused write changed the file"
    );
}

#[test]
fn overflowing_offsets_lengths_and_growths_are_refused_without_change() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox.wasi());
    let memory = provider.open("overflow.bin").unwrap().unwrap();
    provider.grow(memory, 1).unwrap().unwrap();
    provider.write(memory, 0, b"keep").unwrap().unwrap();
    let before = sandbox.bytes("overflow.bin");

    for (offset, len) in [
        (u64::MAX, 1),
        (1, u64::MAX),
        (u64::MAX, u64::MAX),
        (PAGE, u64::MAX - PAGE + 1),
    ] {
        assert_eq!(
            provider.read(memory, offset, len).unwrap(),
            Err(MemoryError::OutOfBounds)
        );
    }
    assert_eq!(
        provider.write(memory, u64::MAX - 1, b"abc").unwrap(),
        Err(MemoryError::OutOfBounds)
    );
    for pages in [u64::MAX, u64::MAX / PAGE, u64::MAX / PAGE + 1, 1 << 47] {
        assert_eq!(
            provider.grow(memory, pages).unwrap(),
            Err(MemoryError::LimitExceeded)
        );
    }
    assert_eq!(provider.pages(memory).unwrap(), 1);
    assert_eq!(sandbox.bytes("overflow.bin"), before);
}

#[test]
fn a_transfer_past_the_limit_is_a_typed_error_before_anything_is_allocated() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox.wasi());
    let memory = provider.open("sparse.bin").unwrap().unwrap();
    // 8 GiB, sparse: nothing is written, so the disk holds almost nothing.
    let pages = (8u64 << 30) / PAGE;
    assert_eq!(provider.grow(memory, pages).unwrap(), Ok(0));
    assert_eq!(
        std::fs::metadata(sandbox.file("sparse.bin")).unwrap().len(),
        pages * PAGE
    );
    let limit = provider.max_transfer(memory).unwrap();
    assert_eq!(limit, 64 << 20);
    for len in [limit + 1, 5 << 30, (8 << 30) - 1] {
        assert_eq!(
            provider.read(memory, 0, len).unwrap(),
            Err(MemoryError::TransferTooLarge(limit))
        );
    }
    assert_eq!(
        provider.read_words(memory, 8, limit / 8 + 1).unwrap(),
        Err(MemoryError::TransferTooLarge(limit))
    );
    let whole = provider
        .read(memory, (8 << 30) - limit, limit)
        .unwrap()
        .unwrap();
    assert_eq!(whole.len() as u64, limit);
    assert!(whole.iter().all(|byte| *byte == 0));
    assert_eq!(
        provider.read(memory, (8 << 30) - 4, 4).unwrap(),
        Ok(vec![0; 4])
    );
}

#[test]
fn a_misaligned_file_is_refused_and_left_untouched() {
    let sandbox = Sandbox::new();
    let contents: Vec<u8> = (0..PAGE + 1).map(|i| i as u8).collect();
    std::fs::write(sandbox.file("odd.bin"), &contents).unwrap();
    let mut provider = session(&sandbox.wasi());
    assert_eq!(
        provider.open("odd.bin").unwrap().unwrap_err(),
        MemoryError::MisalignedFile(PAGE + 1)
    );
    assert_eq!(sandbox.bytes("odd.bin"), contents);
}

#[test]
fn an_existing_file_keeps_its_pages_across_fresh_instances() {
    let sandbox = Sandbox::new();
    let wasi = sandbox.wasi();
    {
        let mut provider = session(&wasi);
        let memory = provider.open("keep.bin").unwrap().unwrap();
        provider.grow(memory, 3).unwrap().unwrap();
        provider
            .write(memory, 2 * PAGE + 100, b"persisted")
            .unwrap()
            .unwrap();
    }
    let mut provider = session(&wasi);
    let memory = provider.open("keep.bin").unwrap().unwrap();
    assert_eq!(provider.pages(memory).unwrap(), 3);
    assert_eq!(
        provider.read(memory, 2 * PAGE + 100, 9).unwrap(),
        Ok(b"persisted".to_vec())
    );
}

#[test]
fn two_memories_on_two_files_are_independent() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox.wasi());
    let first = provider.open("a.bin").unwrap().unwrap();
    let second = provider.open("b.bin").unwrap().unwrap();
    provider.grow(first, 1).unwrap().unwrap();
    provider.grow(second, 2).unwrap().unwrap();
    provider.write(first, 0, b"first").unwrap().unwrap();
    provider.write(second, 0, b"second").unwrap().unwrap();
    assert_eq!(provider.pages(first).unwrap(), 1);
    assert_eq!(provider.pages(second).unwrap(), 2);
    assert_eq!(provider.read(first, 0, 5).unwrap(), Ok(b"first".to_vec()));
    assert_eq!(provider.read(second, 0, 6).unwrap(), Ok(b"second".to_vec()));
    provider.close(first).unwrap();
    assert_eq!(provider.read(second, 0, 6).unwrap(), Ok(b"second".to_vec()));
}

#[test]
fn a_directory_where_the_file_should_be_is_an_invalid_path_naming_it() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.file("folder")).unwrap();
    let mut provider = session(&sandbox.wasi());
    let message = invalid_path_message(provider.open("folder").unwrap().unwrap_err());
    assert!(message.contains("folder"), "{message}");
    assert!(sandbox.file("folder").is_dir());
}

#[test]
fn without_a_preopen_the_open_fails_with_the_path_in_the_message() {
    let mut provider = session(&WasiConfig::none());
    let message = invalid_path_message(provider.open("db.bin").unwrap().unwrap_err());
    assert!(
        message.contains("db.bin") && message.contains("preopen"),
        "{message}"
    );
}

#[test]
fn paths_resolve_against_named_preopens_like_a_wasi_program() {
    let sandbox = Sandbox::new();
    let mut wasi = WasiConfig::none();
    wasi.preopens
        .push((sandbox.path().to_path_buf(), "/data".into()));
    let mut provider = session(&wasi);
    let memory = provider.open("/data/named.bin").unwrap().unwrap();
    provider.grow(memory, 1).unwrap().unwrap();
    assert_eq!(sandbox.bytes("named.bin").len() as u64, PAGE);
    let message = invalid_path_message(provider.open("/elsewhere/x.bin").unwrap().unwrap_err());
    assert!(message.contains("/elsewhere/x.bin"), "{message}");
    let message = io_message(provider.open("/data/../escape.bin").unwrap().unwrap_err());
    assert!(message.contains("escape.bin"), "{message}");
    assert!(!sandbox.path().parent().unwrap().join("escape.bin").exists());
}

#[test]
fn a_missing_parent_directory_is_an_io_error() {
    let sandbox = Sandbox::new();
    let mut provider = session(&sandbox.wasi());
    let message = io_message(provider.open("missing/db.bin").unwrap().unwrap_err());
    assert!(message.contains("missing/db.bin"), "{message}");
}
