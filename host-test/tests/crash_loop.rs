//! Crashes at random instants: a child process writes books through wasm-dbms and the
//! composed provider, and is killed with SIGKILL at a random moment, again and again. After
//! every kill the database must open (replaying or discarding the journal), be page-aligned,
//! pass wasm-dbms's own reads, and hold exactly a prefix of the committed books: everything
//! the child reported committed, and at most the one group it was committing.
//!
//! `CRASH_KILLS` sets the number of kills (default 60; the long run uses 1000).

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::library::Library;
use common::{Rng, Sandbox};
use host_test::dbms::Storage;

fn kills() -> usize {
    std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60)
}

#[test]
fn every_kill_leaves_a_prefix_of_the_committed_books() {
    let sandbox = Sandbox::new();
    let mut rng = Rng::new(0xC0FFEE);
    let mut committed: Option<u64> = None;
    let mut survived = 0;
    let mut journals = 0;
    let mut books_checked = 0;
    for kill in 0..kills() {
        // A fresh database every hundred kills keeps each check short.
        if kill % 100 == 0 {
            let _ = std::fs::remove_file(sandbox.file("crash.db"));
            committed = None;
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_host-test"))
            .args(["crash-workload", "--dir"])
            .arg(sandbox.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the workload");
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|line| line.parse::<u64>().ok())
                .last()
        });
        std::thread::sleep(Duration::from_millis(30 + rng.below(250)));
        child.kill().expect("SIGKILL the workload");
        child.wait().unwrap();
        if let Some(last) = reader.join().unwrap() {
            committed = Some(last);
        }

        // A kill inside a commit leaves a journal (complete or torn) for the open to settle.
        journals += usize::from(sandbox.file("crash.db-journal").exists());
        let mut library = Library::open(&sandbox, Storage::Composed, "crash.db");
        let bytes = std::fs::metadata(sandbox.file("crash.db")).unwrap().len();
        assert!(
            bytes.is_multiple_of(65536),
            "kill {kill}: the file is {bytes} bytes"
        );
        // Ids in order, each book as written: a prefix, nothing torn.
        let present = library.checked_books(&format!("kill {kill}"));
        let reported = committed.map_or(0, |last| last + 1);
        assert!(
            present >= reported,
            "kill {kill}: {present} books, {reported} were committed"
        );
        assert!(
            present <= reported + 3,
            "kill {kill}: {present} books, only {reported} committed"
        );
        committed = present.checked_sub(1);
        books_checked += present;
        library.close();
        assert!(
            !sandbox.file("crash.db-journal").exists(),
            "kill {kill}: journal left after close"
        );
        survived += 1;
    }
    assert!(committed.unwrap_or(0) > 0, "the workload committed books");
    let _ = std::fs::remove_file(sandbox.file("crash.db"));
    eprintln!(
        "kills survived: {survived}, journals settled at open: {journals}, \
         books checked after kills: {books_checked}"
    );
}
