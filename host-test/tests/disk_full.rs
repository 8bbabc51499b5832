//! A full disk: a child process runs with a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored)
//! and grows and writes until the provider refuses. Refusals are typed errors that change
//! nothing; afterwards, without the limit, everything acknowledged is there.

mod common;

use std::process::Command;

use common::Sandbox;
use common::library::Library;
use host_test::Runtime;
use host_test::dbms::Storage;
use host_test::provider::ProviderSession;

const LIMIT: u64 = 1 << 20;

fn number(output: &str, key: &str) -> u64 {
    output
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{key}` in {output}"))
}

#[test]
fn a_full_disk_refuses_growth_and_commits_with_typed_errors_and_keeps_what_was_acknowledged() {
    let sandbox = Sandbox::new();
    let output = Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args(["disk-full", "--limit", &LIMIT.to_string(), "--dir"])
        .arg(sandbox.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("grow refused: limit-exceeded"), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (pages, books) = (number(&stdout, "pages "), number(&stdout, "books "));
    let completes = number(&stdout, "refused completes ") == 1;
    assert_eq!(
        pages,
        LIMIT / 65536,
        "the memory grew up to the limit and no further"
    );

    let mut provider = ProviderSession::new(Runtime::shared(), &sandbox.wasi()).unwrap();
    let memory = provider.open("full.bin").unwrap().unwrap();
    assert_eq!(provider.pages(memory).unwrap(), pages);
    for page in 0..pages {
        assert_eq!(
            provider.read(memory, page * 65536, 4).unwrap(),
            Ok(b"page".to_vec())
        );
    }

    let mut library = Library::open(&sandbox, Storage::Composed, "full.db");
    let present = library.checked_books("after the disk filled");
    // The refused insert is there exactly when its error said the next open completes it.
    assert_eq!(
        present,
        books + u64::from(completes),
        "{books} acknowledged, the refused one completes: {completes}"
    );
    library.close();
    assert!(!sandbox.file("full.db-journal").exists());
    assert!(sandbox.bytes("full.db").len().is_multiple_of(65536));
    eprintln!("disk full: {pages} pages, {books} books acknowledged, {present} present");
}
