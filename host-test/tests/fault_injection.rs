//! Faults at every filesystem call: the provider built with injectable faults fails (or
//! traps, a crash at that instant) the Nth `wasi:filesystem` call of an instance that opens
//! a database, inserts a book and commits a transaction of two more, for every N up to the
//! last call. After each, the database reopens cleanly with exactly a prefix of the books:
//! every acknowledged commit, nothing torn.

mod common;

use common::Sandbox;
use common::library::Library;
use host_test::crash_workload::book;
use host_test::dbms::{DbmsSession, Storage, text, uint};
use host_test::{Runtime, WasiConfig};

const BASE: u64 = 20;

/// The books in the database, checked against what the workload writes.
fn books(sandbox: &Sandbox) -> u64 {
    let mut library = Library::open(sandbox, Storage::Composed, "fault.db");
    assert!(
        !sandbox.file("fault.db-journal").exists(),
        "the open left the journal"
    );
    let books = library.checked_books("after a fault");
    library.close();
    books
}

/// Opens, inserts one book, commits a transaction of two; returns how many books were
/// acknowledged as committed, and whether the fault fired at all.
fn faulted_run(sandbox: &Sandbox, fault: &str) -> (u64, bool) {
    let mut wasi: WasiConfig = sandbox.wasi();
    wasi.env
        .push(("WASM_DBMS_MEMORY_FAULT".into(), fault.into()));
    let mut session = DbmsSession::new(Runtime::shared(), &wasi, Storage::ComposedFaults).unwrap();
    let mut acknowledged = BASE;
    let mut clean = true;
    let mut step = |result: wasmtime::Result<Result<(), host_test::dbms::DbError>>| match result {
        Ok(Ok(())) => true,
        Ok(Err(_)) | Err(_) => {
            clean = false;
            false
        }
    };
    let db = match session.open_with("fault.db", true) {
        Ok(Ok(db)) => db,
        _ => return (acknowledged, true),
    };
    if step(session.insert(db, "books", &book(BASE))) {
        acknowledged = BASE + 1;
        let transaction = step(session.begin(db))
            && step(session.insert(db, "books", &book(BASE + 1)))
            && step(session.insert(db, "books", &book(BASE + 2)))
            && step(session.commit(db));
        if transaction {
            acknowledged = BASE + 3;
        }
    }
    (acknowledged, !clean)
}

fn every_call_fails_once(mode: &str) -> usize {
    let sandbox = Sandbox::new();
    let mut library = Library::open(&sandbox, Storage::Composed, "fault.db");
    let author = vec![
        uint("id", 0),
        text("name", "Fault"),
        text("email", "f@example.org"),
    ];
    library.insert("authors", author);
    for id in 0..BASE {
        library.insert("books", book(id));
    }
    library.close();
    let template = sandbox.bytes("fault.db");

    let mut injected = 0;
    for n in 1.. {
        std::fs::write(sandbox.file("fault.db"), &template).unwrap();
        let (acknowledged, fired) = faulted_run(&sandbox, &format!("{n}:{mode}"));
        let present = books(&sandbox);
        assert!(
            [BASE, BASE + 1, BASE + 3].contains(&present) && present >= acknowledged,
            "{mode} at call {n}: {present} books, {acknowledged} acknowledged"
        );
        if !fired {
            assert_eq!(
                present,
                BASE + 3,
                "a run without a fault commits everything"
            );
            break;
        }
        injected += 1;
    }
    assert!(injected > 10, "{mode}: only {injected} calls");
    injected
}

#[test]
fn an_error_at_any_filesystem_call_loses_nothing_acknowledged() {
    let injected = every_call_fails_once("error");
    eprintln!("errors injected: {injected}, corruptions found: 0");
}

#[test]
fn a_crash_at_any_filesystem_call_leaves_a_prefix() {
    let injected = every_call_fails_once("trap");
    eprintln!("crashes injected: {injected}, corruptions found: 0");
}
