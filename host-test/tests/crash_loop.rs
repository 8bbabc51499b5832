//! Crashes at random instants: a child process writes books through wasm-dbms and the
//! composed provider until it is killed, announcing each operation before it starts and
//! after it commits, and is killed with SIGKILL at a random moment, again and again. After every kill the database
//! must open (completing or dropping what the journal holds), be page-aligned, pass
//! wasm-dbms's own reads, and hold exactly the books committed, or exactly those and the
//! whole operation that was under way: nothing torn, nothing lost. After closing, the file
//! stands alone (no journal).
//!
//! `CRASH_KILLS` sets the number of kills (default 60; the test command runs 1,000).

mod common;

use std::process::Command;

use common::library::Library;
use common::{Rng, Sandbox, kills};
use host_test::Runtime;
use host_test::dbms::Storage;
use host_test::todo::{self, TodoSession};

fn kills() -> usize {
    std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60)
}

#[test]
fn every_kill_leaves_exactly_the_committed_books_or_those_and_the_operation_under_way() {
    let sandbox = Sandbox::new();
    let mut rng = Rng::new(0xC0FFEE);
    let mut present = 0u64;
    let (mut survived, mut during, mut inside, mut books_checked) = (0, 0, 0, 0);
    for kill in 0..kills() {
        // A fresh database every hundred kills keeps each check short: the file and the
        // journal a kill left beside it (a journal alone would be refused).
        if kill % 100 == 0 {
            let _ = std::fs::remove_file(sandbox.file("crash.db"));
            let _ = std::fs::remove_file(sandbox.file("crash.db-journal"));
            present = 0;
        }
        let mut command = Command::new(env!("CARGO_BIN_EXE_host-test"));
        command
            .args(["crash-workload", "--dir"])
            .arg(sandbox.path());
        let announced = kills::run_and_kill(command, &mut rng);
        let allowed = announced.allowed(present);

        let mut library = Library::open(&sandbox, Storage::Composed, "crash.db");
        let bytes = std::fs::metadata(sandbox.file("crash.db")).unwrap().len();
        assert!(
            bytes.is_multiple_of(65536),
            "kill {kill}: the file is {bytes} bytes"
        );
        // Ids in order, each book as written: a prefix, nothing torn.
        present = library.checked_books(&format!("kill {kill}"));
        assert!(
            allowed.contains(&present),
            "kill {kill}: {present} books, allowed {allowed:?} ({announced:?})"
        );
        during += usize::from(announced.pending.is_some());
        inside += usize::from(present != allowed[0]);
        books_checked += present;
        library.close();
        assert!(
            !sandbox.file("crash.db-journal").exists(),
            "kill {kill}: journal left after close"
        );
        survived += 1;
    }
    assert!(present > 0, "the workload committed books");
    eprintln!(
        "kills survived: {survived}, kills during an operation: {during} (found complete \
         afterwards: {inside}), books checked after kills: {books_checked}, corruptions found: 0"
    );
}

#[test]
fn the_example_component_keeps_exactly_its_flushed_items_across_every_kill() {
    // The to-do example opens the adapter in atomic mode and flushes after each add: after a
    // kill it holds exactly the items added, or those and the one being added.
    let sandbox = Sandbox::new();
    let mut rng = Rng::new(0x70D0);
    let mut present = 0u64;
    let (mut during, mut inside) = (0, 0);
    let rounds = kills() / 2;
    for kill in 0..rounds {
        if kill % 100 == 0 {
            let _ = std::fs::remove_file(sandbox.file("todo.db"));
            let _ = std::fs::remove_file(sandbox.file("todo.db-journal"));
            present = 0;
        }
        let mut command = Command::new(env!("CARGO_BIN_EXE_host-test"));
        command.args(["todo-workload", "--dir"]).arg(sandbox.path());
        let announced = kills::run_and_kill(command, &mut rng);
        let allowed = announced.allowed(present);

        let mut session = TodoSession::new(Runtime::shared(), &sandbox.wasi()).unwrap();
        let items = session.all().unwrap().expect("list the items");
        for (item, id) in items.iter().zip(1..) {
            assert_eq!((item.id, item.text.as_str()), (id, todo::text(id).as_str()));
        }
        present = items.len() as u64;
        assert!(
            allowed.contains(&present),
            "kill {kill}: {present} items, allowed {allowed:?} ({announced:?})"
        );
        during += usize::from(announced.pending.is_some());
        inside += usize::from(present != allowed[0]);
        // The component keeps its database open for its instance's life: the journal stays
        // for the next open, which finds the file page-aligned.
        drop(session);
        assert!(
            std::fs::metadata(sandbox.file("todo.db"))
                .unwrap()
                .len()
                .is_multiple_of(65536)
        );
    }
    assert!(present > 0, "the example added items");
    eprintln!(
        "example: kills survived: {rounds}, during an add: {during} (found complete: {inside}), \
         corruptions found: 0"
    );
}
