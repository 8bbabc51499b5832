//! One writer per database file on the real filesystem: the host takes an OS lock when the
//! provider opens its file for writing, so a second writer (another store in this process,
//! or another process) is refused until the first closes the file or dies, and a killed
//! holder leaves nothing to clean up.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Child, ChildStdout, Command, Stdio};

use common::Sandbox;
use host_test::provider::{MemoryError, ProviderSession};
use host_test::simfs::SimFs;
use host_test::{Runtime, WasiConfig};

/// Whether `error` is the provider's answer to a file another writer holds: `locked`, which
/// the host's `busy` becomes.
fn refused_as_held(error: &MemoryError) -> bool {
    matches!(error, MemoryError::Locked(_))
}

#[test]
fn a_second_writer_in_this_process_is_refused_until_the_first_closes() {
    let sandbox = Sandbox::new();
    let mut first = ProviderSession::new(Runtime::shared(), &sandbox.wasi()).unwrap();
    let mut second = ProviderSession::new(Runtime::shared(), &sandbox.wasi()).unwrap();
    let held = first.open("held.db").unwrap().unwrap();
    first.grow(held, 1).unwrap().unwrap();
    let refused = second.open("held.db").unwrap().unwrap_err();
    assert!(refused_as_held(&refused), "{refused:?}");
    // Another file is free.
    let other = second.open("other.db").unwrap().unwrap();
    second.close(other).unwrap();
    first.close(held).unwrap();
    let reopened = second.open("held.db").unwrap().unwrap();
    assert_eq!(second.pages(reopened).unwrap(), 1);
}

#[test]
fn a_dropped_store_releases_its_files() {
    let sandbox = Sandbox::new();
    let mut first = ProviderSession::new(Runtime::shared(), &sandbox.wasi()).unwrap();
    first.open("held.db").unwrap().unwrap();
    drop(first);
    let mut second = ProviderSession::new(Runtime::shared(), &sandbox.wasi()).unwrap();
    assert!(second.open("held.db").unwrap().is_ok());
}

#[test]
fn the_simulated_filesystem_refuses_a_second_writer_the_same_way() {
    let fs = SimFs::new();
    let wasi = WasiConfig::simulated(fs.clone());
    let mut first = ProviderSession::new(Runtime::shared(), &wasi).unwrap();
    let mut second = ProviderSession::new(Runtime::shared(), &wasi).unwrap();
    assert!(first.open("held.db").unwrap().is_ok());
    let refused = second.open("held.db").unwrap().unwrap_err();
    assert!(refused_as_held(&refused), "{refused:?}");
    // The first store's end (a process that died) releases the file.
    drop(first);
    let reopened = second.open("held.db").unwrap().unwrap();
    second.close(reopened).unwrap();
}

/// A `host-test hold-memory` process on `held.db` in `sandbox`, and its first line.
fn holder(sandbox: &Sandbox) -> (Child, BufReader<ChildStdout>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args(["hold-memory", "--dir"])
        .arg(sandbox.path())
        .args(["--path", "held.db"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start host-test hold-memory");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    (child, out, line.trim_end().to_owned())
}

#[test]
fn a_second_writer_process_is_refused_until_the_first_is_killed() {
    let sandbox = Sandbox::new();
    let (mut first, _first_out, said) = holder(&sandbox);
    assert_eq!(said, "opened");

    let (mut second, _second_out, said) = holder(&sandbox);
    assert!(said.starts_with("refused "), "{said}");
    assert!(
        said.contains("Locked(\"`held.db` is held by another process"),
        "{said}"
    );
    assert!(second.wait().unwrap().success());

    first.kill().unwrap();
    let status = first.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));

    let (mut third, _third_out, said) = holder(&sandbox);
    assert_eq!(said, "opened");
    // Closing its stdin lets it exit cleanly.
    third.stdin.take().unwrap().flush().unwrap();
    assert!(third.wait().unwrap().success());

    // No lock file, no stale marker: the kernel held the lock, and released it.
    let mut names: Vec<String> = std::fs::read_dir(sandbox.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["held.db".to_owned()]);
}
